"""Metrics against hand-computed values; cross-validation on a known function."""

from __future__ import annotations

import numpy as np
import pytest

from surrogate.models import (
    GPClassifier,
    GPRegressor,
    accuracy,
    brier,
    coverage95,
    cross_validate,
    log_loss,
    q2,
    rmse,
)


def test_regression_metrics_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.0, 2.0, 3.0, 6.0])
    assert q2(y, p) == pytest.approx(1 - 4 / 5)
    assert rmse(y, p) == pytest.approx(1.0)
    assert coverage95(y, p, np.array([1, 1, 1, 1.0])) == 0.75
    Y = np.column_stack([y, y])
    P = np.column_stack([y, p])
    assert q2(Y, P) == pytest.approx((1 + 0.2) / 2)  # mean over outputs
    with pytest.raises(ValueError, match="same shape"):
        q2(y, p[:3])


def test_classification_metrics_by_hand():
    y = np.array([1, 0, 1, 1])
    proba = np.array([0.9, 0.2, 0.6, 0.3])
    assert accuracy(y, proba > 0.5) == 0.75
    assert log_loss(y, proba) == pytest.approx(
        -np.mean(np.log([0.9, 0.8, 0.6, 0.3])))
    assert brier(y, np.column_stack([1 - proba, proba])) == pytest.approx(
        np.mean([0.01, 0.04, 0.16, 0.49]))
    with pytest.raises(ValueError, match="0/1"):
        brier(np.array([2, 0]), np.array([0.5, 0.5]))


def test_cross_validate_regressor():
    X = np.random.default_rng(0).random((40, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    out = cross_validate(GPRegressor(seed=0), X, y, cv=4, seed=0)
    assert out["q2"] > 0.99
    assert 0.8 <= out["coverage95"] <= 1.0
    assert out["y_pred"].shape == out["y_std"].shape == (40,)
    again = cross_validate(GPRegressor(seed=0), X, y, cv=4, seed=0)
    assert again["q2"] == out["q2"]


def test_cross_validate_classifier():
    X = np.random.default_rng(0).random((80, 2))
    y = np.where(X[:, 0] > 0.5, "hi", "lo")
    out = cross_validate(GPClassifier(n_inducing=32, max_iter=100, seed=0), X, y, cv=3, seed=0)
    assert out["accuracy"] > 0.9
    assert out["brier"] < 0.1 and out["log_loss"] < 0.4
    assert set(out) >= {"accuracy", "log_loss", "brier"}


@pytest.mark.parametrize("cv", [1, 2.5, "five"])
def test_bad_cv(cv):
    X = np.zeros((10, 1))
    with pytest.raises(ValueError, match="cv must be"):
        cross_validate(GPRegressor(), X, np.arange(10.0), cv=cv)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="rows"):
        cross_validate(GPRegressor(), np.zeros((10, 1)), np.arange(9.0))
