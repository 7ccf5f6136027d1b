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
    from surrogate.sequential._acquisition import STALL_TOLERANCE

    # improvements are scored in units of the objective's spread
    assert first.threshold == pytest.approx(math.log(STALL_TOLERANCE))


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



def test_the_stall_window_counts_only_runs_after_the_initial_design():
    from surrogate.sequential._acquisition import Improvement, Observations

    values = np.linspace(0.0, 1.0, 12)[:, None]  # the first run is the best; nothing improves
    data = Observations(np.linspace(0.0, 1.0, 12)[:, None], np.ones(12, dtype=bool), values)
    for n_init, stalled in ((0, True), (2, True), (3, False), (10, False)):
        acquisition = Improvement("logei", escape=True, n_init=n_init)
        context = acquisition.context(None, data)
        assert acquisition.stalled(data, context, 0.0) is stalled, n_init

def _wells(x, centres, depths, width=0.05):
    """Sum of Gaussian wells: a minimum of about ``-depth`` at each centre, hills between."""
    lib = torch if isinstance(x, torch.Tensor) else np
    return sum(-depth * lib.exp(-(((x - centre) / width) ** 2))
               for centre, depth in zip(centres, depths, strict=True))


def _landscape(unit, centres, depths):
    """Observations at ``unit`` (n,) and a student whose mean is the wells' landscape: a real
    GP interpolating it on a fine grid (its mean matches the landscape to about 1e-4, far
    below the differences the basin tests turn on)."""
    from surrogate.sequential._acquisition import Observations
    from surrogate.sequential._student import Student, fit_gp

    unit = np.asarray(unit, dtype=float)[:, None]
    values = _wells(unit[:, 0], centres, depths)
    data = Observations(unit, np.ones(len(unit), dtype=bool), values[:, None].copy())
    grid = np.linspace(0.0, 1.0, 201)[:, None]
    gp = fit_gp(grid, _wells(grid[:, 0], centres, depths), seed=0)
    probe = np.linspace(0.0, 1.0, 1001)
    assert np.abs(gp.predict(probe[:, None]) - _wells(probe, centres, depths)).max() < 1e-3
    return data, Student(gp)


def test_hill_valley_test_on_a_known_landscape():
    from surrogate.sequential._acquisition import _own_basin

    # deep well at 0.2, shallow one at 0.7, a hill between (about 0 at 0.45)
    data, student = _landscape([0.2, 0.25, 0.7], (0.2, 0.7), (2.0, 1.0))
    unit, values = data.unit, data.values[:, 0]
    points = np.array([[0.7], [0.23], [0.66], [0.2]])
    levels = _wells(points[:, 0], (0.2, 0.7), (2.0, 1.0))  # the mean at each point
    levels[3] = -5.0
    own = _own_basin(student, unit, values, points, levels)
    # 0.7: the mean rises to the hill on the way to the deep well's runs; 0.23: it falls all
    # the way to the run at 0.2 (no hill between); 0.66: its nearest better run is the one
    # at 0.7, downhill from it; a point better than every run is a basin of its own
    assert own.tolist() == [True, False, False, True]


def test_detours_skip_points_on_the_slopes_of_a_better_basin():
    from surrogate.sequential._acquisition import Improvement

    data, student = _landscape([0.05, 0.2, 0.24, 0.5, 0.7, 0.95], (0.2, 0.7), (2.0, 1.0))
    acquisition = Improvement("logei", escape=True)
    detours = list(acquisition.detours(student, data, acquisition.context(student, data),
                                       -np.inf))
    assert [float(d.anchor[0, 0]) for d in detours] == [0.7]  # 0.24 is in 0.2's basin
    # below the shallow basin's best (-1): points in its own well pass; points that the GP
    # believes as good but that lie on the deep well's slope do not
    accepted = detours[0].accept(np.array([[0.69], [0.72], [0.23], [0.21]]))
    assert accepted.tolist() == [True, True, False, False]


@pytest.mark.parametrize("idle_runs, first", [(9, 0.5), (10, 0.85)])
def test_a_basin_that_made_no_progress_in_its_ration_waits_its_turn(idle_runs, first):
    from surrogate.sequential._acquisition import BASIN_RATION, Improvement

    assert BASIN_RATION == 10
    # incumbent's well at 0.15, a basin at 0.5 (best -1.0) and a shallower one at 0.85
    # (-0.8); then runs on the 0.5 basin's slopes, none within a tenth of its gap to -2
    slopes = [0.40, 0.60, 0.42, 0.58, 0.44, 0.56, 0.46, 0.54, 0.45, 0.55][:idle_runs]
    data, student = _landscape([0.15, 0.5, 0.85, *slopes], (0.15, 0.5, 0.85),
                               (2.0, 1.0, 0.8))
    assert (data.values[3:, 0] > -1.0 + 0.1 * 1.0).all()
    acquisition = Improvement("logei", escape=True)
    detours = list(acquisition.detours(student, data, acquisition.context(student, data),
                                       -np.inf))
    anchors = [float(d.anchor[0, 0]) for d in detours]
    assert sorted(anchors) == [0.5, 0.85] and anchors[0] == first


@pytest.mark.parametrize("new_best, first", [(-1.2, 0.501), (-1.05, 0.85)])
def test_progress_of_a_tenth_of_the_gap_restarts_the_ration(new_best, first):
    from surrogate.sequential._acquisition import Improvement

    # ten idle runs in the 0.5 basin's box, then a better one: when it closes a tenth of the
    # basin's gap to the incumbent (-1.0 -> -1.2, gap 0.8), the runs before it no longer
    # count; a smaller gain (-1.05) leaves the basin's ration spent
    slopes = [0.40, 0.60, 0.42, 0.58, 0.44, 0.56, 0.46, 0.54, 0.45, 0.55]
    data, student = _landscape([0.15, 0.5, 0.85, *slopes], (0.15, 0.5, 0.85),
                               (2.0, 1.0, 0.8))
    deeper = np.vstack([data.values, [[new_best]]])
    data = type(data)(np.vstack([data.unit, [[0.501]]]), np.ones(len(deeper), dtype=bool),
                      deeper)
    acquisition = Improvement("logei", escape=True)
    detours = list(acquisition.detours(student, data, acquisition.context(student, data),
                                       -np.inf))
    assert float(detours[0].anchor[0, 0]) == first


def test_the_objective_warp_is_scipys_maximum_likelihood_yeo_johnson_and_keeps_the_order():
    from scipy import stats

    from surrogate.sequential import warp_objective

    rng = np.random.default_rng(0)
    values = -np.exp(rng.normal(0.0, 0.8, 60))  # a long tail of good values (deep minima)
    values[[3, 17]] = np.nan  # failed runs
    warped = warp_objective(values)
    ok = np.isfinite(values)
    assert np.array_equal(np.isfinite(warped), ok)
    assert (np.argsort(warped[ok]) == np.argsort(values[ok])).all()  # monotone
    z = (values[ok] - values[ok].mean()) / values[ok].std()
    reference, lam = stats.yeojohnson(z)  # the reference maximum-likelihood exponent
    assert 1.0 < lam < 3.0
    np.testing.assert_allclose(warped[ok], reference, rtol=1e-5, atol=1e-6)
    assert abs(stats.skew(warped[ok])) < 0.25 * abs(stats.skew(values[ok]))


def test_the_objective_warp_leaves_a_tail_of_bad_values_and_too_few_values_alone():
    from surrogate.sequential import warp_objective

    rng = np.random.default_rng(1)
    for values in (np.exp(rng.normal(0.0, 0.8, 60)), np.r_[np.zeros(30), 1e-3, 5e-3, 1e6]):
        # a long tail of bad values (its exponent would be below 1): only standardized
        z = (values - values.mean()) / values.std()
        np.testing.assert_allclose(warp_objective(values), z, rtol=1e-6, atol=1e-6)
    for values in (np.array([1.0, 2.0, np.nan]), np.array([5.0, 5.0, 7.0, 7.0]), np.ones(4)):
        np.testing.assert_array_equal(warp_objective(values), values)


def test_the_objective_warp_takes_any_scale_and_ints_and_names_bad_values():
    from surrogate.sequential import warp_objective

    rng = np.random.default_rng(2)
    values = -np.exp(rng.normal(0.0, 0.8, 40))
    warped = warp_objective(values)
    # the standardization overflowed past 1e154 (every value warped to 0) and underflowed
    # below 1e-154 (to +-inf): a scaled objective is warped as itself
    for scale in (1e160, 1e-160, 1e300):
        np.testing.assert_allclose(warp_objective(values * scale), warped, rtol=1e-8)
    for power in (-600, 600):  # exactly, where the scaling is exact
        np.testing.assert_array_equal(warp_objective(values * 2.0**power), warped)
    # an int array took the warped values back as ints ([0, 0, 0, 1]); a list was a raw error
    as_floats = warp_objective(np.array([1.0, 2.0, 3.0, 10.0]))
    np.testing.assert_array_equal(warp_objective(np.array([1, 2, 3, 10])), as_floats)
    np.testing.assert_array_equal(warp_objective([1.0, 2.0, 3.0, 10.0]), as_floats)
    with pytest.raises(TypeError, match="values must be an array of numbers"):
        warp_objective(["a", "b", "c"])
