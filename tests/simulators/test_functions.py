"""Analytic test functions: published values, optima and Sobol' indices."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from simulators import functions
from surrogate.design import sample


def _value(sim, point):
    return float(sim([point])["y"].iloc[0])


def test_branin_has_its_three_global_minima():
    sim = functions.branin()
    values = sim(functions.BRANIN_MINIMIZERS)["y"].to_numpy()
    np.testing.assert_allclose(values, 0.397887, atol=1e-6)
    assert functions.BRANIN_MINIMUM == pytest.approx(0.397887, abs=1e-6)
    grid = sample(sim.space, 4096, method="sobol", seed=0)
    assert sim(grid)["y"].min() > functions.BRANIN_MINIMUM


@pytest.mark.parametrize(("name", "minimum", "minimizer"), [
    ("hartmann3", -3.86278, "HARTMANN3_MINIMIZER"),
    ("hartmann6", -3.32237, "HARTMANN6_MINIMIZER"),
])
def test_hartmann_minimizers_are_local_minima_with_the_published_value(name, minimum, minimizer):
    sim = getattr(functions, name)()
    x_star = getattr(functions, minimizer)
    assert _value(sim, x_star) == pytest.approx(minimum, abs=1e-5)
    assert getattr(functions, name.upper() + "_MINIMUM") == pytest.approx(_value(sim, x_star),
                                                                           abs=1e-12)
    result = minimize(lambda x: _value(sim, x), x_star, method="Nelder-Mead",
                      options={"xatol": 1e-10, "fatol": 1e-14})
    assert result.fun > _value(sim, x_star) - 1e-10
    grid = sample(sim.space, 4096, method="sobol", seed=0)
    assert sim(grid)["y"].min() > minimum


def test_ishigami_indices_match_the_published_values_and_a_monte_carlo_check():
    np.testing.assert_allclose(functions.ISHIGAMI_S1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(functions.ISHIGAMI_ST, [0.5576, 0.4424, 0.2437], atol=1e-4)
    # total variance a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2, checked by sampling
    sim = functions.ishigami()
    y = sim(sample(sim.space, 2**16, method="sobol", seed=1))["y"]
    a, b = functions.ISHIGAMI_A, functions.ISHIGAMI_B
    variance = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    assert y.var() == pytest.approx(variance, rel=0.01)
    assert y.mean() == pytest.approx(a / 2, abs=0.02)


def _pick_freeze(sim, n, seed):
    """First-order and total indices by the Saltelli/Jansen estimators (independent check)."""
    rng = np.random.default_rng(seed)
    d = sim.space.dim
    a, b = rng.random((n, d)), rng.random((n, d))
    f = lambda unit: sim(sim.space.from_unit(unit))["y"].to_numpy()  # noqa: E731
    fa, fb = f(a), f(b)
    variance = np.var(np.concatenate([fa, fb]))
    first, total = [], []
    for i in range(d):
        mixed = a.copy()
        mixed[:, i] = b[:, i]
        fab = f(mixed)
        first.append(np.mean(fb * (fab - fa)) / variance)
        total.append(0.5 * np.mean((fa - fab) ** 2) / variance)
    return np.array(first), np.array(total)


def test_sobol_g_indices_match_a_pick_freeze_estimate():
    first, total = _pick_freeze(functions.sobol_g(), 2**16, seed=0)
    np.testing.assert_allclose(first, functions.SOBOL_G_S1, atol=0.02)
    np.testing.assert_allclose(total, functions.SOBOL_G_ST, atol=0.02)
    assert list(functions.SOBOL_G_S1.index) == [f"x{i}" for i in range(1, 9)]


def test_sobol_g_with_custom_coefficients():
    sim = functions.sobol_g(a=[0.0, 0.0, 50.0])
    assert sim.space.names == ["x1", "x2", "x3"]
    assert _value(sim, [0.0, 1.0, 0.5]) == pytest.approx(2 * 2 * 50 / 51)
    indices = functions.sobol_g_indices([0.0, 0.0, 50.0])
    assert indices.loc["x1", "S1"] == pytest.approx(indices.loc["x2", "S1"])
    for bad in ([-1.0], 5, "ab", [[1, 2]], None):  # raw TypeErrors named no option before
        with pytest.raises(ValueError, match="a must be a non-empty sequence of non-negative"):
            functions.sobol_g(a=bad)


def _borehole(rw, r, tu, hu, tl, hl, length, kw):
    lr = math.log(r / rw)
    return 2 * math.pi * tu * (hu - hl) / (lr * (1 + 2 * length * tu / (lr * rw**2 * kw) + tu / tl))


def _wing(sw, wfw, a, sweep, q, lam, tc, nz, wdg, wp):
    c = math.cos(math.radians(sweep))
    return (0.036 * sw**0.758 * wfw**0.0035 * (a / c**2) ** 0.6 * q**0.006 * lam**0.04
            * (100 * tc / c) ** -0.3 * (nz * wdg) ** 0.49 + sw * wp)


def _otl(rb1, rb2, rf, rc1, rc2, beta):
    vb1 = 12 * rb2 / (rb1 + rb2)
    g = beta * (rc2 + 9)
    return (vb1 + 0.74) * g / (g + rf) + 11.35 * rf / (g + rf) + 0.74 * rf * g / ((g + rf) * rc1)


def _piston(m, s, v0, k, p0, ta, t0):
    a = p0 * s + 19.62 * m - k * v0 / s
    v = s / (2 * k) * (math.sqrt(a**2 + 4 * k * p0 * v0 * ta / t0) - a)
    return 2 * math.pi * math.sqrt(m / (k + s**2 * p0 * v0 * ta / (t0 * v**2)))


@pytest.mark.parametrize(("name", "scalar", "expected_centre"), [
    ("borehole", _borehole, 70.8729),
    ("wing_weight", _wing, 267.6247),
    ("otl_circuit", _otl, 5.3106),
    ("piston", _piston, 0.46440),
])
def test_engineering_functions_match_a_scalar_transcription(name, scalar, expected_centre):
    sim = getattr(functions, name)()
    design = sample(sim.space, 20, seed=0)
    expected = [scalar(*row) for row in design.itertuples(index=False)]
    np.testing.assert_allclose(sim(design)["y"], expected, rtol=1e-12)
    centre = [(p.low + p.high) / 2 for p in sim.space.parameters]
    assert _value(sim, centre) == pytest.approx(expected_centre, rel=1e-4)


def test_borehole_flow_grows_with_the_head_difference():
    sim = functions.borehole()
    centre = pd.DataFrame([[0.10, 25050, 89335, 1050, 89.55, 760, 1400, 10950]],
                          columns=sim.space.names)
    low, high = centre.copy(), centre.copy()
    low["Hu"], high["Hu"] = 1000.0, 1100.0
    # flow is proportional to Hu - Hl
    assert _value(sim, high.iloc[0].tolist()) / _value(sim, low.iloc[0].tolist()) == \
        pytest.approx((1100 - 760) / (1000 - 760))
