"""Acquisition functions against high-precision and closed-form references."""

import math

import mpmath
import numpy as np
import pytest
import torch
from scipy.stats import norm

from surrogate.sequential._functions import (
    expected_improvement,
    log_expected_improvement,
    log_h,
    log_probability_of_feasibility,
    upper_confidence_bound,
)

mpmath.mp.dps = 50


def _log_h_reference(z: float) -> float:
    z = mpmath.mpf(z)
    return float(mpmath.log(mpmath.npdf(z) + z * mpmath.ncdf(z)))


def _t(values):
    return torch.as_tensor(np.asarray(values, dtype=float), dtype=torch.float64)


def test_log_h_matches_50_digit_reference_from_the_tail_to_the_bulk():
    z = np.concatenate([-np.logspace(-3, 6, 80), np.linspace(-30, 8, 153)])
    value = log_h(_t(z)).numpy()
    reference = np.array([_log_h_reference(v) for v in z])
    np.testing.assert_allclose(value, reference, rtol=1e-9, atol=1e-12)


def test_log_h_gradient_is_finite_and_matches_the_reference_in_the_tails():
    z = _t([-1e5, -300.0, -40.0, -25.0, -24.9, -5.0, -1.0, 0.0, 3.0]).requires_grad_(True)
    log_h(z).sum().backward()
    # d/dz log h(z) = Phi(z) / h(z)
    reference = [float(mpmath.ncdf(v) / (mpmath.npdf(v) + v * mpmath.ncdf(v)))
                 for v in map(mpmath.mpf, z.detach().numpy())]
    assert torch.isfinite(z.grad).all()
    np.testing.assert_allclose(z.grad.numpy(), reference, rtol=1e-8)


def test_expected_improvement_matches_the_closed_form():
    mean, std, best = np.array([0.0, 1.0, -0.5, 2.0]), np.array([1.0, 0.3, 2.0, 0.5]), 0.4
    z = (best - mean) / std
    closed = std * (norm.pdf(z) + z * norm.cdf(z))
    ei = expected_improvement(_t(mean), _t(std**2), best).numpy()
    np.testing.assert_allclose(ei, closed, rtol=1e-12)
    log_ei = log_expected_improvement(_t(mean), _t(std**2), best).numpy()
    np.testing.assert_allclose(np.exp(log_ei), closed, rtol=1e-12)


def test_log_ei_still_ranks_points_where_ei_underflows():
    mean = _t([60.0, 80.0])  # 60 and 80 standard deviations above the incumbent
    ei = expected_improvement(mean, _t([1.0, 1.0]), 0.0)
    log_ei = log_expected_improvement(mean, _t([1.0, 1.0]), 0.0)
    assert (ei == 0).all()
    assert torch.isfinite(log_ei).all() and log_ei[0] > log_ei[1]


def test_probability_of_feasibility_and_ucb():
    mean, var = _t([0.0, 1.0, -2.0]), _t([1.0, 4.0, 0.25])
    std = np.sqrt(var.numpy())
    below = log_probability_of_feasibility(mean, var, "<=", 0.5).exp().numpy()
    np.testing.assert_allclose(below, norm.cdf((0.5 - mean.numpy()) / std), rtol=1e-12)
    above = log_probability_of_feasibility(mean, var, ">", 0.5).exp().numpy()
    np.testing.assert_allclose(above, norm.sf((0.5 - mean.numpy()) / std), rtol=1e-12)
    # far in the infeasible tail the log stays finite and ordered
    tail = log_probability_of_feasibility(_t([50.0, 60.0]), _t([1.0, 1.0]), "<=", 0.0)
    assert torch.isfinite(tail).all() and tail[0] > tail[1]
    ucb = upper_confidence_bound(mean, var, 4.0).numpy()
    np.testing.assert_allclose(ucb, -mean.numpy() + 2.0 * std)


@pytest.mark.parametrize("z", [-1e3, -26.0, -25.0, -2.0, 0.5])
def test_log_h_is_continuous_at_the_branch_points(z):
    eps = 1e-9 * max(1.0, abs(z))
    left, right = log_h(_t([z - eps, z + eps])).numpy()
    assert math.isclose(left, right, rel_tol=1e-6, abs_tol=1e-6)


def _two_basins():
    """Runs on a 1-D function with its best basin at 0.2 and a shallower one at 0.75; the
    incumbent's basin was refined by the last runs."""
    from surrogate.sequential._acquisition import Improvement, Observations
    from surrogate.sequential._student import Student, fit_gp

    unit = np.concatenate([np.linspace(0.05, 0.95, 10), [0.19, 0.2, 0.21]])[:, None]
    y = -np.exp(-((unit[:, 0] - 0.2) ** 2) / 0.01) \
        - 0.6 * np.exp(-((unit[:, 0] - 0.75) ** 2) / 0.01)
    data = Observations(unit, np.ones(len(y), dtype=bool), y[:, None].copy())
    student = Student(fit_gp(unit, y, 0))
    return Improvement, data, student


def test_a_stalled_search_detours_to_the_best_run_of_another_basin():
    Improvement, data, student = _two_basins()
    acquisition = Improvement("logei", escape=True)
    context = acquisition.context(student, data)
    # an acquisition maximum below the negligible gain counts as stalled
    detours = list(acquisition.detours(student, data, context, -np.inf))
    assert detours, "no other basin found"
    first = detours[0]
    lower, upper = first.box
    assert lower[0] < 0.75 < upper[0] and not lower[0] < 0.2 < upper[0]
    assert first.context.best == pytest.approx(float(data.values[7, 0]))  # run at 0.75
    assert first.threshold == pytest.approx(math.log(1e-3 * context.scale))


def test_no_detour_without_escape_or_while_the_search_progresses():
    Improvement, data, student = _two_basins()
    plain = Improvement("logei")
    assert not list(plain.detours(student, data, plain.context(student, data), -np.inf))
    # the incumbent improved within the last runs and improvement is still expected
    acquisition = Improvement("logei", escape=True)
    context = acquisition.context(student, data)
    assert not acquisition.stalled(data, context, 0.0)
    assert not list(acquisition.detours(student, data, context, 0.0))
    assert not list(Improvement("ucb", escape=True).detours(student, data, context, -np.inf))
