"""Test functions with analytic Sobol' indices (defined here until ``simulators`` has them)."""

import math

import numpy as np
import pytest

import surrogate as sg

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def ishigami_frame(X):
    """Ishigami & Homma (1990), vectorized over a design DataFrame."""
    x1, x2, x3 = (X[name].to_numpy() for name in ("x1", "x2", "x3"))
    return np.sin(x1) + ISHIGAMI_A * np.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * np.sin(x1)


def ishigami_analytic():
    """S1, ST for x uniform on [-pi, pi]^3 (Sobol' & Levitan 1999)."""
    a, b = ISHIGAMI_A, ISHIGAMI_B
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / total, np.array([v1 + v13, v2, v13]) / total


def g_function_analytic(a):
    """Sobol' G-function: V_i = 1 / (3 (1 + a_i)^2), V = prod(1 + V_i) - 1."""
    a = np.asarray(a, dtype=float)
    partial = 1.0 / (3.0 * (1.0 + a) ** 2)
    total = np.prod(1.0 + partial) - 1.0
    s1 = partial / total
    st = partial * np.prod(1.0 + partial) / (1.0 + partial) / total
    return s1, st


@pytest.fixture
def ishigami_space():
    return sg.Space([sg.Real(name, -math.pi, math.pi) for name in ("x1", "x2", "x3")])


@pytest.fixture
def ishigami_sim(ishigami_space):
    return sg.Simulator(ishigami_frame, ishigami_space, "y", vectorized=True, name="ishigami")



@pytest.fixture
def ishigami_indices():
    return ishigami_analytic()


@pytest.fixture
def g_indices():
    return g_function_analytic
