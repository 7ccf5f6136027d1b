"""GPClassifier: a planted region, calibrated-looking probabilities, large batched prediction."""

from __future__ import annotations

import time

import numpy as np
import pytest

from surrogate.models import GPClassifier, accuracy, brier


def _disk(Z):
    return (Z[:, 0] - 0.4) ** 2 + (Z[:, 1] - 0.6) ** 2 < 0.08


def test_separates_a_planted_region_and_scales_to_many_points():
    rng = np.random.default_rng(0)
    X = rng.random((300, 3))
    clf = GPClassifier(n_inducing=64, seed=0).fit(X, _disk(X))
    Xt = rng.random((100_000, 3))
    start = time.perf_counter()
    proba = clf.predict_proba(Xt)
    assert time.perf_counter() - start < 20
    assert proba.shape == (100_000, 2)
    truth = _disk(Xt)
    assert accuracy(truth, clf.predict(Xt)) > 0.93
    assert brier(truth.astype(int), proba) < 0.06
    # the irrelevant third input gets the longest length scale
    assert np.argmax(clf.lengthscale_) == 2
    assert 10 < clf.n_iter_ <= 200  # L-BFGS evaluations, at most max_iter


def test_same_seed_same_probabilities():
    X = np.random.default_rng(1).random((80, 2))
    y = _disk(X)
    p1 = GPClassifier(seed=4, max_iter=50).fit(X, y).predict_proba(X)
    p2 = GPClassifier(seed=4, max_iter=50).fit(X, y).predict_proba(X)
    assert np.array_equal(p1, p2)


@pytest.mark.parametrize(("params", "match"), [
    ({"kernel": "linear"}, "kernel"),
    ({"n_inducing": 0}, "n_inducing"),
    ({"max_iter": 0}, "max_iter"),
    ({"learning_rate": 0.0}, "learning_rate"),
])
def test_bad_parameters_name_themselves(params, match):
    X = np.random.default_rng(1).random((20, 2))
    with pytest.raises(ValueError, match=match):
        GPClassifier(**params).fit(X, X[:, 0] > 0.5)


def test_one_class_is_a_clear_error():
    X = np.random.default_rng(1).random((20, 2))
    with pytest.raises(ValueError, match="binary"):
        GPClassifier().fit(X, np.ones(20, dtype=bool))


def test_a_0_1_column_that_splits_the_classes_does_not_break_the_fit():
    """The indicator of a level (as REDS one-hot encodes a categorical) that flips the class:
    its length scale heads to 0, which made Kmm indefinite through rounding alone."""
    rng = np.random.default_rng(0)
    x, level = rng.uniform(size=100), rng.integers(0, 3, 100)
    X = np.column_stack([x, np.eye(3)[level]])
    y = (x > 0.5) ^ (level == 2)
    clf = GPClassifier(seed=0).fit(X, y)
    assert clf.score(X, y) > 0.9 and (clf.lengthscale_ >= 1e-3 - 1e-12).all()
