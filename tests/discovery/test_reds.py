"""REDS: PRIM on metamodel labels beats PRIM on the runs alone when runs are few."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.ensemble import RandomForestClassifier
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel

import surrogate as sg
from surrogate.discovery import PRIM, REDS, pr_auc
from surrogate.models import AutoClassifier

COLUMNS = [f"x{i}" for i in range(5)]


def planted(X):
    return ((X.x0 > 0.4) & (X.x1 < 0.6) & (X.x2 > 0.3)).to_numpy()


@pytest.mark.slow  # three fits of the default (automatic) metamodel: ~10-25 s
def test_reds_beats_prim_at_200_runs():
    rng = np.random.default_rng(0)
    X_test = pd.DataFrame(rng.uniform(size=(20000, 5)), columns=COLUMNS)
    y_test = planted(X_test)
    gains = []
    for rep in range(3):
        X = pd.DataFrame(rng.uniform(size=(200, 5)), columns=COLUMNS)
        y = planted(X)
        prim = pr_auc(PRIM().fit(X, y), X_test, y_test)
        reds = REDS(n_samples=10_000, cv=None, seed=rep).fit(X, y)
        gains.append(pr_auc(reds, X_test, y_test) - prim)
    assert np.mean(gains) > 0
    assert sum(g > 0 for g in gains) >= 2


def test_default_metamodel_is_the_automatic_student_and_gives_the_fidelity():
    # a smooth region (a ball): the GP wins the comparison; fidelity_ is its held-out accuracy
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.uniform(size=(120, 3)), columns=["a", "b", "c"])
    y = ((X.a - 0.5) ** 2 + (X.b - 0.5) ** 2 < 0.1).to_numpy()
    reds = REDS(n_samples=2000, seed=0).fit(X, y)
    auto = reds.metamodel_
    assert isinstance(auto, AutoClassifier)
    assert list(auto.scores_.index) == ["gp", "hgb", "ensemble"]
    assert auto.chosen_ in ("gp", "ensemble")
    assert reds.fidelity_ == auto.scores_.loc[auto.chosen_, "fidelity"] > 0.9


def test_attributes_soft_and_hard_labels():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(size=(150, 3)), columns=["a", "b", "c"])
    X["k"] = rng.integers(0, 5, 150)
    X["c2"] = rng.choice(["p", "q"], 150)
    y = (X.a > 0.5) & (X.k >= 2)
    reds = REDS(metamodel=RandomForestClassifier(50, random_state=0), n_samples=3000, seed=0).fit(X, y)
    assert 0.5 < reds.fidelity_ <= 1
    assert len(reds.sample_) == 3000 and list(reds.sample_.columns) == list(X.columns)
    assert reds.sample_.a.between(X.a.min(), X.a.max()).all()
    assert set(reds.sample_.k.unique()) <= set(range(5)) and set(reds.sample_.c2) == {"p", "q"}
    labels = reds.sample_labels_
    assert ((labels > 0) & (labels < 1)).any()  # probabilities, not classes
    assert reds.trajectory_ is reds.prim_.trajectory_ and reds.box() is reds.prim_.box()
    assert np.array_equal(reds.predict(X), reds.box().contains(X))
    assert {"a", "k"} <= set(reds.box().restricted)
    hard = REDS(metamodel=RandomForestClassifier(50, random_state=0), n_samples=3000, labels="hard",
                cv=None, seed=0).fit(X, y)
    assert set(np.unique(hard.sample_labels_)) <= {0.0, 1.0} and hard.fidelity_ is None
    again = REDS(metamodel=RandomForestClassifier(50, random_state=0), n_samples=3000, seed=0).fit(X, y)
    pd.testing.assert_frame_equal(again.trajectory_, reds.trajectory_)


def test_the_default_box_on_soft_labels_is_the_planted_one_not_the_last(tmp_path):
    # soft labels approach density 1 without reaching it: PRIM peeled on to mass_min, and the
    # default (last) box kept 11 % of the held-out cases and restricted the noise input x2
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(200, 3)), columns=COLUMNS[:3])
    X_test = pd.DataFrame(rng.uniform(size=(20000, 3)), columns=COLUMNS[:3])
    truth = ((X_test.x0 > 0.3) & (X_test.x1 < 0.7)).to_numpy()
    reds = REDS(n_samples=5000, cv=None, seed=0).fit(X, (X.x0 > 0.3) & (X.x1 < 0.7))
    box = reds.box()
    held_out = box.evaluate(X_test, truth)
    assert box.restricted == ("x0", "x1")
    assert held_out["coverage"] > 0.95 and held_out["density"] > 0.95
    assert box is not reds.prim_.boxes_[-1] and reds.prim_.boxes_[-1].coverage < 0.5
    top, base = reds.trajectory_.density.max(), reds.trajectory_.density[0]
    position = reds.prim_.boxes_.index(box)  # the first 95 % of the way to the densest
    assert reds.trajectory_.density[position] >= top - 0.05 * (top - base) > \
        reds.trajectory_.density[position - 1]
    np.testing.assert_array_equal(reds.predict(X_test), box.contains(X_test))
    reds.save(tmp_path / "reds")
    assert sg.load(tmp_path / "reds").box().rules() == box.rules()
    # hard labels reach their top: the last box, as before
    hard = PRIM().fit(reds.sample_, reds.sample_labels_ > 0.5)
    assert hard.box() is hard.boxes_[-1]


def test_resample_refits_a_reds_on_the_outcome_it_was_fitted_on():
    # it forced y through PRIM's 0/1 check: a continuous outcome (threshold=) was refused, and
    # its booleans refitted a REDS that compared 0/1 with the threshold
    from sklearn.ensemble import RandomForestRegressor

    from surrogate.discovery import resample

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(300, 3)), columns=["a", "b", "c"])
    stab = np.where((X.a > 0.3) & (X.b < 0.7), -1.0, 1.0) + rng.normal(0, 0.1, 300)
    space = sg.Space([sg.Real(name, 0.0, 1.0) for name in "abc"])
    reds = REDS(metamodel=RandomForestRegressor(20, random_state=0), threshold=("<", 0.0),
                n_samples=2000, seed=0).fit(X, stab, space=space)
    shares = resample(reds, X, stab, iterations=3, seed=0)
    assert shares.loc[["a", "b"], "reproduce_coverage"].tolist() == [1.0, 1.0]
    assert shares.loc["c", "reproduce_coverage"] < 1.0
    with pytest.raises(ValueError, match=r"y must be what the REDS was fitted on \(the "
                                         "continuous outcome of its threshold"):
        resample(reds, X, stab < 0, iterations=2, seed=0)


def test_continuous_outcome_with_threshold():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.uniform(size=(80, 2)), columns=["a", "b"])
    stab = X.a + 0.5 * X.b - 0.9  # case of interest: stab < 0
    gp = GaussianProcessRegressor(ConstantKernel() * RBF([0.5, 0.5]), normalize_y=True)
    reds = REDS(metamodel=gp, n_samples=4000, threshold=("<", 0.0), seed=0).fit(X, stab)
    assert reds.fidelity_ > 0.9
    labels = reds.sample_labels_
    truth = (reds.sample_.a + 0.5 * reds.sample_.b - 0.9 < 0).to_numpy()
    assert np.mean((labels >= 0.5) == truth) > 0.97
    mean, std = reds.metamodel_.predict(reds.sample_.to_numpy(), return_std=True)
    np.testing.assert_allclose(labels, norm.cdf(-mean / np.maximum(std, 1e-300)), atol=1e-12)
    hard = REDS(metamodel=gp, n_samples=4000, threshold=("<", 0.0), labels="hard", cv=None,
                seed=0).fit(X, stab)
    assert set(np.unique(hard.sample_labels_)) <= {0.0, 1.0}


@pytest.mark.parametrize(
    ("params", "match"),
    [({"labels": "fuzzy"}, "labels"), ({"n_samples": 1}, "n_samples"),
     ({"threshold": ("!=", 0)}, "threshold"), ({"cv": 1}, "cv")],
)
def test_bad_params(params, match):
    X = pd.DataFrame(np.random.default_rng(3).uniform(size=(40, 2)), columns=["a", "b"])
    with pytest.raises(ValueError, match=match):
        REDS(**params).fit(X, X.a > 0.5)


def test_bad_labels():
    X = pd.DataFrame(np.random.default_rng(4).uniform(size=(40, 2)), columns=["a", "b"])
    with pytest.raises(ValueError, match="threshold"):
        REDS().fit(X, X.a.to_numpy())  # continuous y without threshold
    with pytest.raises(ValueError, match="one class"):
        REDS().fit(X, np.ones(40))


def test_runs_outside_the_given_space_are_refused_by_column():
    # a space that misses the runs (another range; levels as numbers where the runs hold
    # strings) gave boxes over points the metamodel never saw, without a word
    from sklearn.ensemble import RandomForestClassifier

    from surrogate.design import sample
    from surrogate.space import Categorical, Real, Space

    space = Space([Real("u", 0, 1), Categorical("pol", ["1", "2", "3"])])
    X = sample(space, 200, seed=0)
    y = ((X.u < 0.5) & (X.pol == "2")).to_numpy()
    reds = REDS(metamodel=RandomForestClassifier(10, random_state=0), n_samples=500, seed=0)
    for wrong in (Space([Real("u", 5, 6), Categorical("pol", ["1", "2", "3"])]),
                  Space([Real("u", 0, 1), Categorical("pol", [1, 2, 3])])):
        with pytest.raises(ValueError, match=r"X does not fit space=.*column '(u|pol)'"):
            reds.fit(X, y, space=wrong)
    assert reds.fit(X, y, space=space).box().n_restricted >= 1


def test_a_metamodel_no_better_than_the_base_rate_is_warned_of():
    # 19 runs: gradient boosting (20 points per leaf) cannot split and predicts the base rate
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(19, 2)), columns=["a", "b"])
    y = (X.a > 0.2).to_numpy()
    with pytest.warns(UserWarning, match=r"no better than always answering their commoner"):
        REDS(metamodel=HistGradientBoostingClassifier(random_state=0), n_samples=500, cv=3,
             seed=0).fit(X, y)


def test_unfitted_boxes_and_a_classifier_with_a_threshold_are_clear_errors():
    from sklearn.exceptions import NotFittedError

    from surrogate.discovery import CART

    for model in (PRIM(), CART(), REDS()):
        with pytest.raises(NotFittedError):
            model.box()
    X = pd.DataFrame(np.random.default_rng(0).uniform(size=(50, 2)), columns=["u", "v"])
    with pytest.raises(ValueError, match="RandomForestClassifier is a classifier"):
        REDS(metamodel=RandomForestClassifier(), threshold=("<", 0.5)).fit(X, X.u)
    # a regressor without threshold= failed after its fit, on a missing predict_proba
    with pytest.raises(ValueError, match="GaussianProcessRegressor has no predict_proba: give "
                                         "threshold="):
        REDS(metamodel=GaussianProcessRegressor()).fit(X, X.u > 0.5)
    for given in ("gp", RandomForestClassifier):  # scikit-learn's clone TypeError before
        with pytest.raises(TypeError, match="metamodel must be an estimator instance"):
            REDS(metamodel=given).fit(X, X.u > 0.5)


def test_a_given_metamodel_left_unseeded_is_seeded_from_reds_seed():
    from surrogate import GPClassifier, Real, Space, sample

    space = Space([Real("x1", 0.0, 1.0), Real("x2", 0.0, 1.0)])
    X = sample(space, 30, seed=0)
    y = ((X["x1"] + X["x2"]) > 1).astype(int)
    rules = [REDS(metamodel=GPClassifier(max_iter=10), n_samples=500, seed=0)
             .fit(X, y, space=space).box().rules() for _ in range(2)]
    assert rules[0] == rules[1]


def test_reds_takes_an_array_in_the_spaces_order():
    from surrogate import Real, Space, sample

    space = Space([Real("a", 0.0, 1.0), Real("b", 0.0, 1.0)])
    X = sample(space, 120, seed=0)
    y = ((X["a"] < 0.5) & (X["b"] > 0.3)).to_numpy()
    forest = RandomForestClassifier(n_estimators=30, random_state=0)
    frame = REDS(metamodel=forest, n_samples=500, seed=0).fit(X, y, space=space)
    array = REDS(metamodel=forest, n_samples=500, seed=0).fit(X.to_numpy(), y, space=space)
    assert array.box().rules() == frame.box().rules()


def test_an_array_of_a_mixed_space_gives_reds_the_dataframes_box_and_resamples():
    import matplotlib

    from surrogate import Categorical, Real, Space, plot, resample, sample

    matplotlib.use("Agg")
    space = Space([Real("a", 0.0, 1.0), Categorical("k", [1, 2, 4]), Categorical("s", ["u", "v"])])
    X = sample(space, 300, seed=0)
    y = (X.a > 0.5).to_numpy() & (X.k.astype(int) != 2).to_numpy()
    forest = RandomForestClassifier(n_estimators=30, random_state=0)  # fast: the inputs count
    frame = REDS(metamodel=forest, n_samples=3000, seed=0, cv=None).fit(X, y, space=space)
    array = REDS(metamodel=forest, n_samples=3000, seed=0, cv=None).fit(X.to_numpy(), y,
                                                                        space=space)
    assert array.box().rules() == frame.box().rules()
    assert resample(array, X.to_numpy(), y, iterations=2, seed=0).equals(
        resample(frame, X, y, iterations=2, seed=0))
    assert len(plot.box(array.box(), X.to_numpy(), y).axes) == len(array.box().restricted) ** 2


def test_the_fresh_sample_leaves_out_the_space_parameters_x_leaves_out():
    # as `surrogate discover RUNS --drop c --reds` asks (it failed: "missing column(s) ['c']")
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1), sg.Real("c", 0, 1)])
    X = sg.sample(space, 200, seed=0)
    y = (X["a"] > 0.5) & (X["b"] < 0.5)
    reds = REDS(n_samples=2000, seed=0, cv=None).fit(X[["a", "b"]], y, space=space)
    assert list(reds.sample_.columns) == ["a", "b"]
    with pytest.raises(ValueError, match=r"X's columns \['u'\] are none of the space's"):
        REDS(n_samples=2000, seed=0, cv=None).fit(X[["a"]].rename(columns={"a": "u"}), y,
                                                  space=space)


def test_reds_given_the_space_reads_x_by_name_whatever_its_column_order():
    """The same runs with their columns in another order give the same trajectory: X is put
    in the space's order before the metamodel (a forest draws its features by position) and
    PRIM (whose ties go to the first column) see it."""
    from surrogate import Real, Space, sample

    space = Space([Real("a", 0.0, 1.0), Real("b", 0.0, 1.0), Real("c", 0.0, 1.0)])
    X = sample(space, 120, seed=0)
    y = ((X["a"] < 0.5) & (X["b"] > 0.3)).to_numpy()
    forest = RandomForestClassifier(n_estimators=30, random_state=0)
    fits = [REDS(metamodel=forest, n_samples=500, seed=0, cv=None).fit(runs, y, space=space)
            for runs in (X, X[["c", "b", "a"]])]
    pd.testing.assert_frame_equal(fits[0].trajectory_, fits[1].trajectory_)
    np.testing.assert_array_equal(fits[0].sample_labels_, fits[1].sample_labels_)
    assert fits[0].box().rules() == fits[1].box().rules()
