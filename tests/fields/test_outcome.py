"""Outcome expressions over fields: they evaluate as numpy does and refuse anything else clearly.

And REDS on a field surrogate: fresh points labelled by the probability, from posterior draws of
whole trajectories, that their trajectory meets the outcome.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.discovery import (
    PRIM,
    REDS,
    FieldOutcomeClassifier,
    outcome,
    parse_outcome,
    pr_auc,
)
from surrogate.discovery._outcome import OutcomeError

RNG = np.random.default_rng(0)
GRID = np.linspace(0.0, 10.0, 11)
DATA = {
    "I": RNG.uniform(0, 0.4, size=(50, 11)),
    "R": RNG.uniform(0, 1.0, size=(50, 11)),
    "stab": RNG.normal(size=50),
    "cost": RNG.uniform(1, 2, size=50),
}


def evaluate(text):
    return outcome(text, DATA).to_numpy()


@pytest.mark.parametrize(("text", "expected"), [
    ("max(I) > 0.3", DATA["I"].max(axis=1) > 0.3),
    ("min(I) <= 0.05", DATA["I"].min(axis=1) <= 0.05),
    ("final(R) > 0.5", DATA["R"][:, -1] > 0.5),
    ("mean(I) >= 0.2", DATA["I"].mean(axis=1) >= 0.2),
    ("any(I > 0.38)", (DATA["I"] > 0.38).any(axis=1)),
    ("all(R < 0.9)", (DATA["R"] < 0.9).all(axis=1)),
    ("any(I > 0.3 and R < 0.2)", ((DATA["I"] > 0.3) & (DATA["R"] < 0.2)).any(axis=1)),
    ("any(I + R > 1.2)", (DATA["I"] + DATA["R"] > 1.2).any(axis=1)),
    ("any(I > cost / 5)", (DATA["I"] > DATA["cost"][:, None] / 5).any(axis=1)),
    ("time_above(I, 0.2) > 5",
     np.trapezoid((DATA["I"] > 0.2).astype(float), np.arange(11.0), axis=1) > 5),
    ("stab < 0", DATA["stab"] < 0),
    ("stab < 0 and max(I) > 0.3", (DATA["stab"] < 0) & (DATA["I"].max(axis=1) > 0.3)),
    ("stab < 0 or not final(R) > 0.5", (DATA["stab"] < 0) | ~(DATA["R"][:, -1] > 0.5)),
    ("0.1 < mean(I) < 0.2", (0.1 < DATA["I"].mean(axis=1)) & (DATA["I"].mean(axis=1) < 0.2)),
    ("max(I) - min(I) > 2 * 0.15", DATA["I"].max(axis=1) - DATA["I"].min(axis=1) > 0.3),
    ("-stab > 1", -DATA["stab"] > 1),
    ("max(I * 2) != 0.5", DATA["I"].max(axis=1) * 2 != 0.5),
])
def test_expressions_evaluate_as_numpy_does(text, expected):
    result = evaluate(text)
    assert result.dtype == bool
    np.testing.assert_array_equal(result, expected)
    assert 0 < expected.sum() < 50 or text.startswith("max(I * 2)")  # the cases discriminate


def test_time_above_integrates_over_the_grid():
    infected = pd.DataFrame(DATA["I"], columns=pd.Index(GRID * 2, name="I"))
    result = outcome("time_above(I, 0.2) > 10", {"I": infected})
    expected = np.trapezoid((DATA["I"] > 0.2).astype(float), GRID * 2, axis=1) > 10
    np.testing.assert_array_equal(result.to_numpy(), expected)
    assert result.name == "time_above(I, 0.2) > 10"


@pytest.mark.parametrize(("text", "problem"), [
    ("max(I) >", "not a valid expression"),
    ("max(I) > 0.2 )", "not a valid expression"),
    ("", "non-empty expression"),
    ("maxx(I) > 0.2", "unknown function 'maxx'; allowed: max, min, final"),
    ("__import__('os').system('ls') > 0", "unknown function"),
    ("I.max() > 0.2", "unknown function 'I.max'"),
    ("I.shape > 0", "'I.shape' is not allowed in an outcome"),
    ("I[0] > 0.2", "is not allowed in an outcome"),
    ("max(I) > 'a'", "'a' is not a number"),
    ("max(I) > True", "True is not a number"),
    ("stab < 0 & max(I) > 0.2", "use 'and', 'or', 'not'"),
    ("max(I) >> 3", "'>>' is not allowed in an outcome"),
    ("I ** 2 > 1", "'\\*\\*' is not allowed"),
    ("max(I)", "is not a condition; compare it with a number"),
    ("stab", "is not a condition"),
    ("1 < 2", "names no output or field"),
    ("max(I, 2) > 0", r"max\(\) takes 1 argument"),
    ("time_above(I) > 0", r"time_above\(\) takes 2 argument"),
    ("any(I > 0.1, R) ", r"any\(\) takes one condition"),
    ("any(max(I) > 0.1)", r"max\(\) cannot be used inside any\(\)"),
    ("max(I, key=abs) > 0", "is not allowed|takes no keyword"),
    ("(lambda: 1)() > 0", "unknown function"),
    ("max([1, 2]) > 0", "is not allowed in an outcome"),
])
def test_bad_expressions_are_refused_in_one_line(text, problem):
    with pytest.raises(ValueError, match=problem) as info:
        parse_outcome(text, key="--outcome")
    assert "\n" not in str(info.value) and str(info.value).startswith("--outcome:")


@pytest.mark.parametrize(("text", "problem"), [
    ("max(J) > 0.2", r"unknown name 'J'; fields: \['I', 'R'\], outputs: \['cost', 'stab'\]"),
    ("I > 0.2", r"'I' is a field \(a trajectory\): reduce it to a number first, e.g. max\(I\)"),
    ("max(stab) > 0", r"max\(\) takes a field .* 'stab' is one number per run"),
    ("any(stab > 0)", r"any\(stab > 0\) involves no field"),
])
def test_names_are_checked_against_the_data(text, problem):
    with pytest.raises(ValueError, match=problem) as info:
        outcome(text, DATA)
    assert "\n" not in str(info.value)


def test_fields_on_different_grids_are_not_combined_point_by_point():
    data = {"I": pd.DataFrame(DATA["I"], columns=GRID),
            "R": pd.DataFrame(DATA["R"], columns=GRID + 0.5)}
    for text in ("any(I > R)", "max(I + R) > 0"):  # both say which expression
        with pytest.raises(ValueError, match=rf"^outcome: '{re.escape(text)}': fields on "
                                             "different grids"):
            outcome(text, data)
    assert outcome("max(I) > final(R)", data).dtype == bool  # reduced first: fine


def _decay(X):
    t = np.linspace(0.0, 5.0, 26)
    return {"y": X["a"].to_numpy()[:, None] * np.exp(-np.outer(X["k"], t)),
            "half": np.log(2) / X["k"].to_numpy()}


SPACE = sg.Space([sg.Real("a", 0.5, 2.0), sg.Real("k", 0.1, 1.0)])
TEACHER = sg.Simulator(_decay, SPACE, ["half"], fields={"y": np.linspace(0.0, 5.0, 26)},
                       vectorized=True, name="decay")


def test_outcome_of_a_transfer_set_reads_fields_and_outputs():
    runs = TEACHER.run(sg.sample(SPACE, 40, seed=0), progress=False)
    result = outcome("final(y) > 0.3 or half > 5", runs)
    y = runs.field("y").to_numpy()
    np.testing.assert_array_equal(result, (y[:, -1] > 0.3) | (runs.Y["half"] > 5))
    failed = sg.TransferSet(SPACE, ["half"], runs.X.iloc[:2], [[1.0], [np.nan]],
                            fields={"y": (runs.grids["y"], y[:2])})
    with pytest.raises(ValueError, match=r"1 failed run\(s\).*runs.valid\(\)"):
        outcome("final(y) > 0.3", failed)


def test_a_simulator_calls_frame_brings_its_fields():
    X = sg.sample(SPACE, 20, seed=1)
    called, runs = TEACHER(X), TEACHER.run(X, progress=False)  # fields: in attrs / the set
    expected = outcome("time_above(y, 0.2) > 1 or half > 5", runs).to_numpy()
    np.testing.assert_array_equal(outcome("time_above(y, 0.2) > 1 or half > 5", called),
                                  expected)
    with pytest.raises(ValueError, match=r"unknown name 'z'; fields: \['y'\]"):
        outcome("max(z) > 0", called)


@pytest.mark.parametrize(("text", "problem"), [
    ("max(max(I)) > 0.2", r"max\(\) cannot be used inside max\(\); max\(\) takes a field itself"),
    ("time_above(mean(I), 0.1) > 1", r"mean\(\) cannot be used inside time_above\(\); "
                                     r"time_above\(\) takes a field itself, e.g. time_above\(I, v\)"),
    ("any(min(I) > 0.1)", r"min\(\) cannot be used inside any\(\); compare its result"),
])
def test_a_reduction_inside_another_names_the_one_it_is_in(text, problem):
    with pytest.raises(ValueError, match=problem):
        outcome(text, {"I": np.array([[0.1, 0.3, 0.2], [0.0, 0.1, 0.05]])})


def test_a_dataframe_of_scalar_outputs_works_as_before():
    frame = pd.DataFrame({"stab": [-1.0, 0.5, -0.1]}, index=[10, 11, 12])
    result = outcome("stab < 0", frame)
    assert result.tolist() == [True, False, True] and result.index.tolist() == [10, 11, 12]


# -- REDS on a field surrogate -------------------------------------------------------------------
OUTCOME = "final(y) > 0.3"  # a exp(-5 k) > 0.3


def _truth(X):
    return (X["a"] * np.exp(-5 * X["k"]) > 0.3).to_numpy()


def test_the_classifier_probability_follows_the_truth():
    runs = TEACHER.run(sg.sample(SPACE, 40, seed=1), progress=False)
    clf = FieldOutcomeClassifier(OUTCOME, seed=0).fit(runs.X, runs.field("y"))
    assert clf.field_ == "y" and list(clf.classes_) == [0, 1]
    np.testing.assert_array_equal(clf.outcome_labels(runs.field("y")), _truth(runs.X))
    fresh = sg.sample(SPACE, 500, method="random", seed=2)
    proba = clf.predict_proba(fresh)[:, 1]
    assert np.mean((proba >= 0.5) == _truth(fresh)) > 0.97
    np.testing.assert_array_equal(proba, clf.predict_proba(fresh)[:, 1])  # seeded draws
    # a point's probability is its own, whatever is predicted with it
    order = np.random.default_rng(3).permutation(len(fresh))
    np.testing.assert_array_equal(clf.predict_proba(fresh.iloc[order])[:, 1], proba[order])
    np.testing.assert_array_equal(clf.predict_proba(fresh.iloc[[7]])[:, 1], proba[[7]])
    # far from the boundary the probability is sure; near it, it is not
    margin = np.abs(np.log(fresh["a"] * np.exp(-5 * fresh["k"]) / 0.3)).to_numpy()
    assert np.all((proba[margin > 0.5] < 0.02) | (proba[margin > 0.5] > 0.98))
    with pytest.raises(ValueError, match=r"names \['half', 'y'\].*name only 'y'"):
        FieldOutcomeClassifier("final(y) > 0.3 and half > 1").fit(runs.X, runs.field("y"))


def test_reds_on_the_field_surrogate_finds_the_box():
    runs = TEACHER.run(sg.sample(SPACE, 60, seed=3), progress=False)
    reds = REDS(metamodel=FieldOutcomeClassifier(OUTCOME, n_draws=64, seed=0),
                n_samples=4000, seed=0).fit(runs.X, runs.field("y"), space=SPACE)
    assert reds.fidelity_ > 0.9
    labels = reds.sample_labels_
    assert labels.min() >= 0.0 and labels.max() <= 1.0
    assert ((labels > 0.05) & (labels < 0.95)).any()  # soft labels near the boundary
    test = sg.sample(SPACE, 4000, method="random", seed=9)
    prim = PRIM().fit(runs.X, _truth(runs.X))
    assert pr_auc(reds, test, _truth(test)) > pr_auc(prim, test, _truth(test)) - 0.02
    assert "k" in reds.box(min_density=0.9).restricted


def test_a_missing_value_is_refused_and_unread_columns_may_hold_anything():
    frame = pd.DataFrame({"out": [1.0, np.nan, -1.0], "policy": ["a", "b", "c"]})
    with pytest.raises(OutcomeError, match=r"'out' is missing \(NaN\) in 1 of 3 runs"):
        outcome("out > 0", frame)  # NaN > 0 was False, and True under "not"
    assert outcome("out > 0", frame.dropna()).tolist() == [True, False]  # 'policy' not read
    with pytest.raises(OutcomeError, match="'policy' holds values that are not numbers"):
        outcome("policy > 0", frame.dropna())


def test_the_classifier_scores_on_trajectories_and_works_in_model_selection():
    # score took the trajectories fit takes as 0/1 labels: a raw scikit-learn error, and
    # cross_val_score gave NaN for every fold
    from sklearn.exceptions import NotFittedError
    from sklearn.model_selection import cross_val_score

    from surrogate.models import GPRegressor

    runs = TEACHER.run(sg.sample(SPACE, 40, seed=1), progress=False)
    X, Y = runs.X, runs.field("y")
    clf = FieldOutcomeClassifier(OUTCOME, n_draws=16, seed=0)
    with pytest.raises(NotFittedError):
        clf.predict_proba(X)
    clf.fit(X, Y)
    labels = clf.outcome_labels(Y)
    assert clf.score(X, Y) == clf.score(X, labels) == np.mean(clf.predict(X) == labels)
    scores = cross_val_score(clf, X, Y, cv=2)
    assert np.isfinite(scores).all() and (scores > 0.8).all()
    with pytest.raises(TypeError, match="model must be a field surrogate.*GPRegressor"):
        FieldOutcomeClassifier(OUTCOME, model=GPRegressor()).fit(X, Y)
    # trajectories as an array are labelled on the fitted grid, not on 0, 1, 2 ...
    timed = FieldOutcomeClassifier("time_above(y, 0.5) > 1.0", n_draws=16, seed=0).fit(X, Y)
    np.testing.assert_array_equal(timed.outcome_labels(Y.to_numpy()), timed.outcome_labels(Y))
    assert timed.score(X, Y.to_numpy()) == timed.score(X, Y)
    with pytest.raises(ValueError, match="Y has 3 columns, but the trajectories were fitted"):
        timed.outcome_labels(Y.to_numpy()[:, :3])


def test_the_classifier_refuses_trajectories_of_another_grid_and_scores_a_one_point_grid():
    # columns out of order were read on 0 .. T-1 before fit, and on the fitted grid after it:
    # final() of the first time, and a score of 0.27 for a perfect classifier
    runs = TEACHER.run(sg.sample(SPACE, 40, seed=1), progress=False)
    X, Y = runs.X, runs.field("y")
    backwards = Y[Y.columns[::-1]]
    clf = FieldOutcomeClassifier(OUTCOME, n_draws=16, seed=0)
    with pytest.raises(OutcomeError, match=r"the grid of field 'y' .* must be 26 increasing"):
        clf.outcome_labels(backwards)
    clf.fit(X, Y)
    with pytest.raises(ValueError, match="Y's columns are not those of the field the model was "
                       "fitted on .*: pass the field on the fitted grid, in its order"):
        clf.score(X, backwards)
    # a grid of one point: its trajectories, (n, 1), were read as 0/1 labels (0.3 -> 0)
    last = Y[Y.columns[-1:]]
    one = FieldOutcomeClassifier(OUTCOME, n_draws=16, seed=0).fit(X, last)
    assert one.score(X, last) == one.score(X, one.outcome_labels(last)) == 1.0
    with pytest.raises(ValueError, match=r"y must be trajectories \(n, n_times\), as fit takes "
                       "them, or 0/1 labels of the outcome"):
        one.score(X, last.to_numpy())


def test_an_output_named_like_a_function_is_a_name():
    # "final" was dropped from the names: numpy's broadcast error, or "names no output"
    data = pd.DataFrame({"stab": [-1.0, -1.0, 1.0], "final": [2.0, 0.0, 2.0]})
    expr = parse_outcome("stab < 0 and final > 1")
    assert expr.names == ("final", "stab")
    assert outcome(expr, data).tolist() == [True, False, False]
    field = {"max": np.array([[0.1, 0.3], [0.1, 0.1]])}
    assert parse_outcome("max(max) > 0.2").evaluate(field).tolist() == [True, False]


def test_grids_that_do_not_fit_the_field_and_deep_nesting_are_named():
    F = np.array([[0.0, 2.0, 2.0, 0.0, 0.0], [5.0] * 5])
    expr = parse_outcome("time_above(F, 1) > 3")
    assert expr.evaluate({"F": F}, grids={"F": [0, 1, 2, 3, 4]}).tolist() == [False, True]
    for grid in ([0, 10], [0, 1, 2, 3, np.nan], [4, 3, 2, 1, 0]):
        with pytest.raises(OutcomeError, match=r"the grid of field 'F' .* must be 5 increasing"):
            expr.evaluate({"F": F}, grids={"F": grid})
    with pytest.raises(OutcomeError, match="field 'F' has no grid point"):
        parse_outcome("max(F) > 0").evaluate({"F": np.zeros((2, 0))})
    with pytest.raises(OutcomeError, match="nested too deeply"):
        parse_outcome("not " * 3000 + "x > 0")


def test_a_data_frame_field_reads_its_columns_as_the_grid_and_refuses_them_out_of_order():
    # the columns were read as 0 .. T-1 when not increasing: time_above on the wrong axis
    infected = pd.DataFrame([[0.0, 0.3, 0.1], [0.0, 0.1, 0.05]], columns=[0.0, 5.0, 10.0])
    assert outcome("time_above(I, 0.05) >= 5", {"I": infected}).tolist() == [True, True]
    with pytest.raises(OutcomeError, match=r"the grid of field 'I' \(grids=, or the columns of "
                       r"its DataFrame\) must be 3 increasing finite times.*\[10.0, 5.0, 0.0\]"):
        outcome("time_above(I, 0.05) >= 5", {"I": infected[[10.0, 5.0, 0.0]]})
    named = pd.DataFrame(infected.to_numpy(), columns=["a", "b", "c"])  # not times: 0 .. T-1
    assert outcome("time_above(I, 0.05) >= 1", {"I": named}).tolist() == [True, True]


def test_a_grid_for_a_scalar_and_an_expression_too_deep_to_evaluate_are_named():
    s = np.array([-1.0, 1.0])
    with pytest.raises(OutcomeError, match="a grid is given for 's', which is a scalar"):
        parse_outcome("s < 0").evaluate({"s": s}, grids={"s": [1.0, np.nan]})
    with pytest.raises(OutcomeError, match=r"must be 2 increasing finite times.*got \[5.0\]"):
        parse_outcome("max(I) > 0").evaluate({"I": np.ones((2, 2))}, grids={"I": 5.0})
    deep = "+".join(["s"] * 900) + " > 0"
    try:
        expr = parse_outcome(deep)
    except OutcomeError:
        return  # refused at parse on this interpreter's stack: the same one line
    import sys

    def deeper(k):  # evaluate from deeper in the stack than the parse ran
        return deeper(k - 1) if k else expr.evaluate({"s": s})

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        with pytest.raises(OutcomeError, match="nested too deeply"):
            deeper(150)
    finally:
        sys.setrecursionlimit(limit)


def test_a_grid_for_a_name_the_data_lacks_is_refused_not_ignored():
    # grids={"i": t} for the field "I" was ignored: time_above integrated over 0 .. T-1
    infected = np.array([[0.0, 0.3, 0.3, 0.0]])
    times = [0.0, 10.0, 20.0, 30.0]
    expr = parse_outcome("time_above(I, 0.1) > 5")
    assert expr.evaluate({"I": infected}, grids={"I": times}).tolist() == [True]
    with pytest.raises(OutcomeError, match=r"grids= names \['i'\], which the data does not "
                       r"hold; fields: \['I'\]"):
        expr.evaluate({"I": infected}, grids={"i": times})


def test_repeated_columns_are_named_not_taken_for_a_field():
    # two 'stab' columns made data['stab'] a frame, refused as "'stab' is a field"
    frame = pd.DataFrame(np.ones((3, 3)), columns=["stab", "stab", "other"])
    with pytest.raises(OutcomeError, match=r"repeated column\(s\) \['stab'\]"):
        parse_outcome("other < 0").evaluate(frame)


def test_a_name_that_is_not_an_identifier_is_quoted_with_backticks_as_box_rules_write_it():
    # Box.rules() writes `final size` >= 0.5; the outcome parser read it as invalid syntax
    space = sg.Space([sg.Real("a", 0, 1)])
    runs = sg.Simulator(lambda a: {"final size": a}, space, ["final size"]).run(
        sg.sample(space, 8, seed=0), progress=False)
    labels = sg.outcome("`final size` > 0.5 and not `final size` > 0.9", runs)
    np.testing.assert_array_equal(labels, (runs.Y["final size"] > 0.5)
                                  & ~(runs.Y["final size"] > 0.9))
    with pytest.raises(ValueError, match="in backticks: `final size` > 0.5"):
        sg.outcome("final size > 0.5", runs)
