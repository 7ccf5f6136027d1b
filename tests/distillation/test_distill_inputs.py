"""distill() on unusual but legal students, data and generators: figures checked by hand."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import surrogate as sg
from surrogate.distillation import GMMGenerator, KDEGenerator, TransferGenerator, distill

SPACE = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])


def _frame(n, seed=0):
    return pd.DataFrame(np.random.default_rng(seed).random((n, 2)), columns=["a", "b"])


@pytest.mark.parametrize("classes", [[0, 1], [1, 2], ["no", "yes"], [0, 1, 2]])
def test_a_student_without_probabilities_is_measured_by_its_class(classes):
    """LinearSVC has no predict_proba: its probability of a class is 1 for the class it says,
    so the soft-label gap is the mean total variation to that one-hot vector."""
    X = _frame(300)
    cut = np.digitize(X.a + X.b, np.linspace(0, 2, len(classes) + 1)[1:-1])
    teacher = LogisticRegression().fit(X, np.asarray(classes, dtype=object)[cut].astype(
        type(classes[0])))
    result = distill(teacher, LinearSVC(), space=SPACE, n=400, holdout=0.5, seed=0)
    held = result.transfer_set_[result.transfer_set_.use == "holdout"]
    said = result.student_.predict(held[["a", "b"]])
    one_hot = (said[:, None] == teacher.classes_[None, :]).astype(float)
    gap = 0.5 * np.abs(teacher.predict_proba(held[["a", "b"]]) - one_hot).sum(axis=1).mean()
    assert result.fidelity_["holdout_gap"] == pytest.approx(gap, rel=1e-9)
    assert result.fidelity_["holdout"] == result.fidelity_["holdout_agreement"] == pytest.approx(
        np.mean(said == teacher.predict(held[["a", "b"]])))


def test_zero_one_labels_that_the_threshold_reads_otherwise_warn():
    """A teacher whose output is 0 or 1 (failures) with threshold '<' 0.5 (the case: no
    failure). A 0/1 y is read as the case itself, as documented; here it is the output, so
    the warning says so and how to pass it (the booleans y < 0.5), which then scores right."""
    def failures(p):
        return float(p["a"] > 0.5)

    X = sg.sample(SPACE, 60, seed=1)
    y = (X.a > 0.5).to_numpy(dtype=float)
    options = dict(space=SPACE, threshold=("<", 0.5), labels="hard", n=200, seed=0)
    with pytest.warns(UserWarning, match=r"y holds only 0 and 1.*would make y = 0 the case.*"
                                         r"pass the booleans y < 0.5"):
        result = distill(failures, DecisionTreeClassifier(max_depth=3), data=(X, y), **options)
    assert result.fidelity_["teacher_accuracy"] == 0.0  # y = 1 read as the case
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = distill(failures, DecisionTreeClassifier(max_depth=3), data=(X, y < 0.5),
                         **options)
        assert result.fidelity_["teacher_accuracy"] == 1.0
        # '>' 0.5 reads 0/1 as itself: nothing to warn of
        result = distill(failures, DecisionTreeClassifier(max_depth=3), data=(X, y),
                         **{**options, "threshold": (">", 0.5)})
    assert result.fidelity_["teacher_accuracy"] == 1.0


@pytest.mark.parametrize("generator", [KDEGenerator(bandwidth=0.5), GMMGenerator()])
def test_a_column_constant_in_data_stays_constant(generator):
    space = sg.Space([sg.Real("a", 0, 10), sg.Real("b", 0, 1)])
    X = pd.DataFrame({"a": np.full(80, 5.0), "b": np.random.default_rng(0).random(80)})
    sample = generator.set_params(space=space).fit(X).sample(500, seed=0)
    assert (sample.a == 5.0).all()
    assert sample.b.std() > 0.1


@pytest.mark.parametrize("transfer", ["munge", "kde", "gmm", "data"])
def test_infinite_data_is_refused_by_column(transfer):
    X = _frame(40)
    X.loc[3, "a"] = np.inf
    teacher = LogisticRegression().fit(_frame(40, 1), np.arange(40) % 2)
    with pytest.raises(ValueError, match="column 'a' has infinite values"):
        distill(teacher, DecisionTreeClassifier(), transfer=transfer, data=X, n=50, seed=0)


def test_missing_labels_are_refused():
    X = _frame(40)
    y = (X.a > 0.5).to_numpy(dtype=float, copy=True)
    y[3] = np.nan
    teacher = LogisticRegression().fit(X, X.a > 0.5)
    with pytest.raises(ValueError, match="y has 1 missing labels .* row 3"):
        distill(teacher, DecisionTreeClassifier(), transfer="munge", data=(X, y), n=50, seed=0)


def test_text_labels_where_numbers_are_read_are_refused_before_the_teacher_runs():
    X = _frame(40)
    text = np.where(X.a > 0.5, "high", "low")
    calls = []

    def teacher(p):
        calls.append(1)
        return p["a"]

    for settings, need in (({"threshold": (">", 0.5)}, "the teacher's output"),
                           ({"labels": "value"}, "numbers")):
        student = DecisionTreeRegressor() if "labels" in settings else DecisionTreeClassifier()
        with pytest.raises(ValueError, match=f"data: y must be {need}.*got '(high|low)' at row 0"):
            distill(teacher, student, space=SPACE, data=(X, text), transfer="munge", n=30,
                    seed=0, **settings)
    assert calls == []
    # as the teacher's classes, text is a label like any other
    result = distill(LogisticRegression().fit(X, text), DecisionTreeClassifier(), data=(X, text),
                     transfer="munge", n=30, seed=0)
    assert set(result.predict(X)) <= {"high", "low"}


def test_predict_on_an_array_reads_the_space_order():
    """Data 1's columns (b, a) differ from the space's (a, b): an array is in the space's
    order, a DataFrame by name; both give the same predictions."""
    X = _frame(200)[["b", "a"]]
    teacher = LogisticRegression().fit(X, (X.a > 0.6).astype(int))
    result = distill(teacher, DecisionTreeClassifier(max_depth=2), space=SPACE, data=X,
                     n=300, seed=0)
    points = pd.DataFrame({"a": [0.9, 0.1], "b": [0.5, 0.5]})
    assert result.predict(points).tolist() == [1, 0]
    assert result.predict(points.to_numpy()).tolist() == [1, 0]


def test_a_one_class_teacher_with_a_regressor_student():
    X = _frame(20)
    teacher = DummyClassifier().fit(X, np.zeros(20, int))
    result = distill(teacher, DecisionTreeRegressor(), transfer="munge", data=X, n=100, seed=0)
    assert result.fidelity_["holdout_gap"] == 0.0  # both say class 0 with probability 1
    assert result.fidelity_["holdout"] == 1.0
    assert result.predict(X).tolist() == [0] * 20


class _Wide(TransferGenerator):
    """Draws a up to 5, outside a space of [0, 1]."""

    def __init__(self, space=None):
        self.space = space

    def _fit(self, unit, codes):
        pass

    def _sample(self, n, rng):
        return pd.DataFrame({"a": rng.random(n) * 5, "b": rng.random(n)})


class _ArrayGenerator:
    def fit(self, X):
        return self

    def sample(self, n, seed=None):
        return np.random.default_rng(seed).random((n, 2))


def test_a_users_generator_is_checked():
    X = _frame(50)
    teacher = LogisticRegression().fit(X, (X.a > X.b).astype(int))
    with pytest.raises(ValueError, match=r"points of transfer=_Wide: column 'a'.*\[0.0, 1.0\]"):
        distill(teacher, DecisionTreeClassifier(), space=SPACE, transfer=_Wide(), data=X,
                n=100, seed=0)
    with pytest.raises(TypeError, match="_ArrayGenerator: its sample.*DataFrame.*got ndarray"):
        distill(teacher, DecisionTreeClassifier(), space=SPACE, transfer=_ArrayGenerator(),
                n=100, seed=0)
    with pytest.raises(ValueError, match=r"transfer=_Wide\(...\) learns from Data 1: pass data="):
        distill(teacher, DecisionTreeClassifier(), space=SPACE, transfer=_Wide(), n=100, seed=0)


class _InPlace:
    """A generator whose fit fits in place and returns None (not self)."""

    def fit(self, X):
        self.low_, self.high_ = X.min(), X.max()

    def sample(self, n, seed=None):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({c: rng.uniform(self.low_[c], self.high_[c], n)
                             for c in self.low_.index})


def test_a_generator_fitted_in_place_still_generates():
    # its None was taken for transfer="data": 20 runs of Data 1 and none of the 500 asked for
    X = _frame(20)
    teacher = LogisticRegression().fit(X, (X.a > X.b).astype(int))
    result = distill(teacher, DecisionTreeClassifier(), transfer=_InPlace(), data=X, n=500,
                     seed=0)
    assert result.transfer_set_["source"].value_counts().to_dict() == \
        {"generated": 500, "data": 20}
    with pytest.raises(TypeError, match=r"a generator instance, e.g. MUNGE\(\), not the class"):
        distill(teacher, DecisionTreeClassifier(), transfer=sg.MUNGE, data=X, n=50)


def test_data_columns_the_teacher_never_saw_are_refused():
    # the teacher dropped them, but the generator and the student learnt them: here the label
    # itself, which the student split on (fidelity 0.83, and predict then wanted a 'y')
    X = _frame(50)
    y = (X.a > X.b).astype(int)
    teacher = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"data= has column\(s\) \['y'\] the teacher was not "
                                         r"fitted on \(its inputs: \['a', 'b'\]\)"):
        distill(teacher, DecisionTreeClassifier(), transfer="munge", data=X.assign(y=y), n=50)


def test_a_teacher_that_answers_nothing_says_why():
    with pytest.raises(ValueError, match=r"answered none of the 50 .*first run: failed "
                                         r"\(KeyError: 'z'\)"):
        distill(lambda p: p["z"] + 1, DecisionTreeRegressor(), space=SPACE, labels="value",
                n=50, seed=0)


def _scale(point, k):
    return k * point["a"]


def test_a_checkpoint_tells_plain_function_teachers_apart(tmp_path):
    # every plain function was wrapped in one shared partial: a second teacher on the same
    # checkpoint got the first one's labels, without a word
    import functools

    def labels(teacher, name):
        result = distill(teacher, DecisionTreeRegressor(max_depth=2), space=SPACE,
                         labels="value", n=10, seed=0, checkpoint=tmp_path / name)
        return result.transfer_set_

    labels(lambda p: p["a"], "lambdas")
    with pytest.warns(UserWarning, match="the code of simulator '<lambda>' has changed"):
        labels(lambda p: 100.0 * p["b"], "lambdas")
    labels(functools.partial(_scale, k=1.0), "partials")
    with pytest.raises(ValueError, match=r"belongs to simulator '_scale\(k=1.0\)', not "
                                         r"'_scale\(k=-5.0\)'"):
        labels(functools.partial(_scale, k=-5.0), "partials")


@pytest.mark.parametrize("seed", [None, np.random.default_rng(0)])
def test_a_checkpoint_needs_an_int_seed(tmp_path, seed):
    # without one each call drew a fresh design: a rerun ran the teacher on every point again
    with pytest.raises(ValueError, match="checkpoint= needs seed= to be an int"):
        distill(lambda p: p["a"], DecisionTreeRegressor(), space=SPACE, labels="value", n=10,
                seed=seed, checkpoint=tmp_path / "ck")


def test_output_must_name_a_single_output_teachers_one_output():
    # a 2-output teacher refused output=7, a 1-output one took any output= without a word
    from sklearn.ensemble import RandomForestRegressor

    X = _frame(80)
    teacher = RandomForestRegressor(10, random_state=0).fit(X, 2 * X["a"])
    for output in ("no_such_output", 7):
        with pytest.raises(ValueError, match=rf"output={output!r} is not an output of "
                                             r"RandomForestRegressor; allowed: \[0\]"):
            distill(teacher, DecisionTreeRegressor(), data=X, transfer="munge",
                    labels="value", n=50, seed=0, output=output)
    result = distill(teacher, DecisionTreeRegressor(), data=X, transfer="munge",
                     labels="value", n=50, seed=0, output=0)
    assert result.fidelity_["holdout"] > 0.9


def test_predict_names_the_shape_an_array_must_have():
    X = _frame(80)
    teacher = LogisticRegression().fit(X, (X.a + X.b > 1).astype(int))
    result = distill(teacher, DecisionTreeClassifier(max_depth=3), data=X, transfer="munge",
                     n=50, seed=0)
    for bad, shape in ((np.ones((2, 3)), r"\(2, 3\)"), (np.ones(2), r"\(2,\)")):
        with pytest.raises(ValueError, match=r"X must have shape \(n, 2\), columns \['a', 'b'\];"
                                             rf" got shape {shape}"):
            result.predict(bad)
    assert result.predict(X.to_numpy()[:3]).shape == (3,)


def test_a_categorical_of_numbers_is_learnt_as_categories():
    """A Categorical of numbers comes from the space as an object column of numbers, which a
    model fitted on it directly reads as an ordered number (with a warning); distill knows the
    space and hands the student its levels: no warning, every declared level known."""
    space = sg.Space([sg.Real("x", 0, 1), sg.Categorical("mesh", [10, 20, 40])])
    shift = {10: 0.0, 20: 5.0, 40: -3.0}

    def teacher(p):
        return p["x"] + shift[p["mesh"]]

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = distill(teacher, sg.GPRegressor(seed=0), space=space, n=40, labels="value",
                         seed=0)
    assert result.student_.categories_ == {"mesh": [10, 20, 40]}
    points = sg.sample(space, 30, seed=1)
    truth = points["x"].to_numpy() + points["mesh"].map(shift).to_numpy(dtype=float)
    np.testing.assert_allclose(result.predict(points), truth, atol=0.05)
    with pytest.warns(UserWarning, match=r"column\(s\) \['mesh'\] hold numbers as objects.*"
                                         r"X.astype\(\{'mesh': 'category'\}\)"):
        direct = sg.GPRegressor(seed=0).fit(result.transfer_set_[["x", "mesh"]],
                                            result.transfer_set_["value"])
    assert direct.categories_ == {}


@pytest.mark.parametrize("transfer", ["munge", "kde", "gmm"])
def test_data_category_columns_stay_categories_in_the_transfer_set(transfer):
    """Data 1 without a space, its category of numbers a pandas ``category`` column (as the
    models' warning asks): the generated points kept its levels, not the ordered numbers an
    ``object`` column reads as (the student's ``categories_`` was empty, with a warning)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.random(60),
                      "mesh": pd.Categorical(rng.choice([10, 20, 40], 60), categories=[10, 20, 40])})
    y = X["x"].to_numpy() + np.where(X["mesh"].to_numpy(dtype=int) == 20, 1.0, 0.0)
    teacher = sg.GPRegressor(seed=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = distill(teacher, sg.GPRegressor(seed=0), transfer=transfer, data=X, n=60,
                         labels="value", seed=0)
    assert result.student_.categories_ == {"mesh": [10, 20, 40]}
    assert result.transfer_set_["mesh"].dtype == X["mesh"].dtype


def test_data_in_another_column_order_holds_out_the_same_points():
    """The held-out inputs are drawn in the order of the rows' keys, which do not depend on
    the order of the columns: Data 1 with its columns in another order (read by name through
    the space) generates, labels and holds out the same points."""
    X = _frame(60)
    teacher = sg.Simulator(lambda a, b: a + b, SPACE, ["y"])
    tables = [distill(teacher, DecisionTreeRegressor(random_state=0), transfer="munge",
                      data=data, labels="value", n=100, seed=0).transfer_set_
              for data in (X, X[["b", "a"]])]
    pd.testing.assert_frame_equal(tables[0][["a", "b"]], tables[1][["a", "b"]])
    assert tables[0]["use"].tolist() == tables[1]["use"].tolist()


def test_predict_checks_a_frames_rows_as_an_arrays():
    # a DataFrame's rows were only selected by name: an unknown level or NaN got an answer
    space = sg.Space([sg.Real("x", 0, 1), sg.Categorical("c", ["a", "b"])])
    result = distill(lambda p: p["x"] + (p["c"] == "a"), sg.CART(), space=space, n=60,
                     threshold=(">", 1.0), seed=0)
    X = sg.sample(space, 3, seed=1)
    assert result.predict(X).tolist() == result.predict(X.to_numpy()).tolist()
    for bad, message in ((X.assign(c="zzz"), r"X: column 'c': value 'zzz'.*one of \['a', 'b'\]"),
                         (X.assign(x=np.nan), "X: column 'x'"),
                         (X.assign(x=2.0), "X: column 'x'")):
        for rows in (bad, bad.to_numpy()):
            with pytest.raises(ValueError, match=message):
                result.predict(rows)
    data = _frame(60)  # no space: Data 1's columns
    plain = distill(LogisticRegression().fit(data, data.a > 0.5), DecisionTreeClassifier(),
                    data=data, transfer="munge", n=40, seed=0)
    with pytest.raises(ValueError, match="X: column 'a' has missing values"):
        plain.predict(data.assign(a=np.nan))
    with pytest.raises(ValueError, match="X: column 'b' has infinite values"):
        plain.predict(data.assign(b=np.inf))


def test_a_simulators_field_is_not_a_distillation_output():
    t = np.linspace(0.0, 5.0, 6)
    only = sg.Simulator(lambda a, b: {"I": np.exp(-a * t) * b}, SPACE, fields={"I": t})
    both = sg.Simulator(lambda a, b: {"I": np.exp(-a * t) * b, "peak": b}, SPACE, ["peak"],
                        fields={"I": t})
    with pytest.raises(ValueError, match=r"no scalar output, only the field\(s\) \['I'\]"):
        distill(only, DecisionTreeRegressor(), n=20, labels="value", seed=0)
    with pytest.raises(ValueError, match=r"output='I' is a field .* scalar outputs \['peak'\]"):
        distill(both, DecisionTreeRegressor(), n=20, labels="value", output="I", seed=0)
    result = distill(both, DecisionTreeRegressor(), n=20, labels="value", output="peak", seed=0)
    assert result.fidelity_["holdout"] is not None


def test_a_teacher_class_instead_of_a_fitted_instance_is_named():
    X = _frame(40)
    with pytest.raises(TypeError, match="teacher must be a fitted estimator instance .* got the "
                                        r"class LogisticRegression: fit LogisticRegression\(\)"):
        distill(LogisticRegression, DecisionTreeClassifier(), data=(X, X.a > 0.5),
                transfer="munge", n=30, seed=0)


def test_a_simulator_giving_values_for_classes_is_refused_after_its_first_runs():
    # all 500 runs were made before the refusal; without a checkpoint they were lost
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    calls = []

    def teacher(p):
        calls.append(1)
        return p["a"] + p["b"]

    with pytest.raises(ValueError, match="the teacher gives values: pass labels='value'"):
        sg.distill(teacher, DecisionTreeClassifier(), space=space, n=500, seed=0)
    assert len(calls) == 8

    def switch(p):  # 0/1 outputs are classes: every run is made, once
        calls.append(1)
        return float(p["a"] > 0.5)

    calls.clear()
    result = sg.distill(switch, DecisionTreeClassifier(), space=space, n=300, labels="hard",
                        seed=0)
    assert len(calls) == 300 and len(result.transfer_set_) == 300
    assert result.fidelity_["holdout"] > 0.95
