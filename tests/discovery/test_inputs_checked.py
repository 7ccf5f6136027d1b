"""Inputs that discovery and distillation read silently wrong or refused late: labels paired by
position although their index differs, integers float64 cannot hold, REDS's threshold and
y checked before the metamodel is fitted, a model of another width for sensitivity."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import surrogate as sg
from surrogate.distillation._labels import case_probability

MISALIGNED = "y's index differs from X's: the labels are read by position"


@pytest.fixture(scope="module")
def runs() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(size=200), "b": rng.uniform(size=200)})
    return X, (X.a > 0.5).astype(int), X.sample(frac=1, random_state=0)


def test_distill_data_with_a_shuffled_index_warns(runs):
    X, y, shuffled = runs
    teacher = LogisticRegression().fit(X, y)
    with pytest.warns(UserWarning, match=MISALIGNED):
        sg.distill(teacher, DecisionTreeClassifier(max_depth=3), transfer="munge",
                   data=(shuffled, y), n=100, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # aligned: no warning
        sg.distill(teacher, DecisionTreeClassifier(max_depth=3), transfer="munge",
                   data=(shuffled, y.loc[shuffled.index]), n=100, seed=0)


def test_box_scores_on_shuffled_labels_warn(runs):
    X, y, shuffled = runs
    prim = sg.PRIM().fit(X, y)
    aligned = prim.box().evaluate(shuffled, y.loc[shuffled.index])
    assert aligned["density"] == 1.0
    with pytest.warns(UserWarning, match=MISALIGNED):
        prim.box().evaluate(shuffled, y)
    with pytest.warns(UserWarning, match=MISALIGNED):
        sg.pr_auc(prim, shuffled, y)
    with pytest.warns(UserWarning, match=MISALIGNED):
        sg.covering(shuffled, y, min_density=0.9)
    with pytest.warns(UserWarning, match=MISALIGNED):
        sg.discovery.resample(prim, shuffled, y, iterations=2, seed=0)


def test_integers_float64_cannot_hold_are_refused_by_name():
    rng = np.random.default_rng(0)
    a, k = rng.uniform(size=100), rng.integers(0, 10, 100)
    big = pd.DataFrame({"a": a, "k": k + np.int64(2**60)})
    with pytest.raises(ValueError, match=r"X\['k'\] holds integers beyond 2\*\*52"):
        sg.PRIM().fit(big, k >= 5)  # all ten levels were one float: "k" looked constant
    with pytest.raises(ValueError, match=r"X\['k'\] holds integers beyond 2\*\*52"):
        sg.CART().fit(big, k >= 5)
    box = sg.PRIM().fit(pd.DataFrame({"a": a, "k": k}), k >= 5).box()
    with pytest.raises(ValueError, match=r"X\['k'\] holds integers beyond 2\*\*52"):
        box.evaluate(big, k >= 5)
    for offset in (2**52 - 9, -(2**52)):  # every cut between them exact
        edge = pd.DataFrame({"a": a, "k": k + np.int64(offset)})
        assert str(sg.PRIM().fit(edge, k >= 5).box()) == f"k >= {offset + 5}"
    with pytest.raises(ValueError, match=r"beyond 2\*\*52 in size \(e.g. -4503599627370497\)"):
        sg.PRIM().fit(pd.DataFrame({"a": a, "k": k - np.int64(2**52 + 1)}), k >= 5)


def test_reds_checks_threshold_and_y_before_fitting_its_metamodel():
    X = pd.DataFrame({"a": np.linspace(0, 1, 60), "b": np.linspace(1, 0, 60) ** 2})

    class Counted(RandomForestRegressor):
        fits = 0

        def fit(self, X, y, sample_weight=None):
            type(self).fits += 1
            return super().fit(X, y, sample_weight)

    for bad in ((">", float("nan")), (">", float("inf")), (">", True)):
        with pytest.raises(ValueError, match=r"threshold must be \(op, value\) .* finite"):
            sg.REDS(metamodel=Counted(n_estimators=5), threshold=bad, n_samples=100,
                    seed=0).fit(X, X.a)
    with pytest.raises(ValueError, match="y must be numbers when threshold= is given"):
        sg.REDS(metamodel=Counted(n_estimators=5), threshold=(">", 0.0), n_samples=100,
                seed=0).fit(X, np.array(["low"] * 60))
    constant = pd.DataFrame({"a": np.ones(40), "b": ["x"] * 40})
    with pytest.raises(ValueError, match=r"every column of X \(\['a', 'b'\]\) holds one value"):
        sg.REDS(metamodel=RandomForestClassifier(n_estimators=5), n_samples=50,
                seed=0).fit(constant, np.r_[np.ones(20), np.zeros(20)].astype(bool))
    assert Counted.fits == 0


def test_sensitivity_refuses_a_model_fitted_on_another_number_of_columns():
    space = sg.Space([sg.Real("x", 0, 1), sg.Real("z", 0, 1)])
    X = sg.sample(space, 20, seed=0)
    narrow = LinearRegression().fit(X.to_numpy()[:, :1], X.x)
    match = r"fitted on 1 input\(s\) \(an array, without names\), but the space has 2"
    with pytest.raises(ValueError, match=match):
        sg.sobol_indices(narrow, space, n=16, seed=0)
    with pytest.raises(ValueError, match=match):
        sg.morris(narrow, space, trajectories=4, seed=0)
    wide = LinearRegression().fit(X.to_numpy(), 2 * X.x)
    indices = sg.sobol_indices(wide, space, n=256, seed=0)
    assert indices.S1.iloc[0] == pytest.approx(1.0, abs=0.05)


def test_a_certain_prediction_on_the_threshold_counts_ties_as_the_op_says():
    mean, std = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])
    assert case_probability(mean, std, ("<", 0.0)).tolist() == [0.0, 0.5, 0.0]
    assert case_probability(mean, std, ("<=", 0.0)).tolist() == [1.0, 0.5, 0.0]
    assert case_probability(mean, std, (">", 0.0)).tolist() == [0.0, 0.5, 1.0]
    assert case_probability(mean, std, (">=", 0.0)).tolist() == [1.0, 0.5, 1.0]


def test_pr_auc_on_empty_test_data_says_so():
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    X = sg.sample(space, 30, seed=0)
    prim = sg.PRIM().fit(X, X["a"] > 0.5)
    with pytest.raises(ValueError, match="^y_test is empty: there is nothing to score$"):
        sg.pr_auc(prim, X[:0], [])
