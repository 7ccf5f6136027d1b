"""Test functions with known answers (local copies; the simulators package has its own)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import qmc

BOREHOLE_LOW = np.array([0.05, 100, 63070, 990, 63.1, 700, 1120, 9855.0])
BOREHOLE_HIGH = np.array([0.15, 50000, 115600, 1110, 116, 820, 1680, 12045.0])


def borehole(X: np.ndarray) -> np.ndarray:
    """Water flow through a borehole (m^3/yr); inputs rw, r, Tu, Hu, Tl, Hl, L, Kw."""
    rw, r, Tu, Hu, Tl, Hl, L, Kw = np.asarray(X, dtype=float).T
    log_ratio = np.log(r / rw)
    return 2 * np.pi * Tu * (Hu - Hl) / (
        log_ratio * (1 + 2 * L * Tu / (log_ratio * rw**2 * Kw) + Tu / Tl))


def ishigami(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def lhs(low: np.ndarray, high: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    return low + (high - low) * qmc.LatinHypercube(len(low), seed=seed).random(n)


def uniform(low: np.ndarray, high: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    return low + (high - low) * np.random.default_rng(seed).random((n, len(low)))


ISHIGAMI_LOW, ISHIGAMI_HIGH = np.full(3, -np.pi), np.full(3, np.pi)


def _sample(f, low: np.ndarray, high: np.ndarray, n: int, n_test: int) -> tuple[np.ndarray, ...]:
    """n LHS training points and n_test random test points of ``f``: X, y, Xt, yt."""
    X, Xt = lhs(low, high, n), uniform(low, high, n_test)
    return X, f(X), Xt, f(Xt)


@pytest.fixture
def borehole_data():
    """n = 80 LHS training points and 2,000 random test points."""
    return _sample(borehole, BOREHOLE_LOW, BOREHOLE_HIGH, 80, 2000)


@pytest.fixture
def ishigami_data():
    return _sample(ishigami, ISHIGAMI_LOW, ISHIGAMI_HIGH, 200, 2000)


@pytest.fixture
def ishigami_sample():
    """``sample(n)`` -> n LHS training points and 4,000 random test points of Ishigami."""
    return lambda n: _sample(ishigami, ISHIGAMI_LOW, ISHIGAMI_HIGH, n, 4000)


@pytest.fixture
def borehole_sample():
    """``sample(n)`` -> n LHS training points and 1,500 random test points of borehole."""
    return lambda n: _sample(borehole, BOREHOLE_LOW, BOREHOLE_HIGH, n, 1500)


def _soft_label_duplicates(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A known probability p(x) = 0.2 + 0.6 x on n points of [0, 1], given as a teacher's soft
    labels reach a classifier in distill: each point once per class, weighted by p(x) (class
    1) and 1 - p(x) (class 0). Returns (X (2n, 1), y (2n,), sample_weight (2n,))."""
    x = np.random.default_rng(seed).random(n)
    p = 0.2 + 0.6 * x
    return np.concatenate([x, x])[:, None], np.r_[np.zeros(n), np.ones(n)], np.r_[1 - p, p]


@pytest.fixture
def soft_label_duplicates():
    """:func:`_soft_label_duplicates`, to call with the number of points."""
    return _soft_label_duplicates

