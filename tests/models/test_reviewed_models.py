"""Model inputs a review found mishandled: each case failed (or answered wrongly) before."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

import surrogate as sg
from surrogate.models import coverage95, q2


def test_a_diverged_nn_training_is_an_error_not_a_nan_model():
    X = np.random.default_rng(0).random((60, 2))
    with pytest.raises(ValueError, match=r"training diverged: .* lower learning_rate \(got "
                                         r"1000000.0\)"):
        sg.NNRegressor(seed=0, learning_rate=1e6, max_epochs=50, n_ensemble=3).fit(X, X.sum(1))


def test_metrics_name_a_missing_std_and_empty_input():
    with pytest.raises(TypeError, match="y_std must be an array of numbers, got None"):
        coverage95([1.0, 2.0], [1.0, 2.0], None)
    with pytest.raises(ValueError, match="y_true must hold one value .* per run, got none"):
        q2([], [])


def test_cross_validate_keeps_a_groups_rows_together():
    rng = np.random.default_rng(0)
    X = np.repeat(rng.random((10, 2)), 3, axis=0)  # each point run three times
    y = X.sum(1) + 0.01 * rng.normal(size=30)
    groups = np.repeat(np.arange(10), 3)
    with pytest.raises(ValueError, match=r"splits by groups: pass groups="):
        sg.cross_validate(sg.GPRegressor(seed=0), X, y, cv=GroupKFold(3))
    for cv in (GroupKFold(5), 5, LeaveOneGroupOut()):
        scores = sg.cross_validate(sg.GPRegressor(seed=0), X, y, cv=cv, groups=groups, seed=0)
        assert scores["q2"] > 0.9
    with pytest.raises(ValueError, match="groups must hold one label per row of X"):
        sg.cross_validate(sg.GPRegressor(seed=0), X, y, groups=groups[:5])


def test_grouped_folds_test_a_groups_rows_together():
    # with the repeats in other folds, a noiseless interpolating GP would look perfect
    rng = np.random.default_rng(1)
    X = np.repeat(rng.random((12, 1)), 2, axis=0)
    y = np.sin(40 * X[:, 0])  # too wiggly to learn from 12 points
    apart = sg.cross_validate(sg.GPRegressor(seed=0), X, y, cv=4, seed=0)["q2"]
    together = sg.cross_validate(sg.GPRegressor(seed=0), X, y, cv=4, groups=X[:, 0],
                                 seed=0)["q2"]
    assert together < 0.5 < apart - 0.3
