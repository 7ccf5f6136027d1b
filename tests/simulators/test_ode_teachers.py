"""Lotka-Volterra, SIR and Lorenz: batched runs against per-sample solve_ivp and analytic oracles.

Stated accuracy: with the default tolerances (rtol=1e-8, atol=1e-10) every output of a
non-chaotic trajectory agrees with the per-sample ``solve_ivp(method="RK45", rtol=1e-8,
atol=1e-10)`` reference to a relative 1e-6 (observed: ~1e-12, as both run the same method and
step control), and the 0/1 outputs agree exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from simulators import lorenz, lotka_volterra, sir
from surrogate.design import sample

STATED_RTOL = 1e-6


def test_lotka_volterra_batch_matches_solve_ivp_reference():
    design = sample(lotka_volterra.SPACE, 16, seed=0)
    batch = lotka_volterra.simulator()(design).to_numpy()
    reference = lotka_volterra.reference(design)
    np.testing.assert_allclose(batch, reference, rtol=STATED_RTOL, atol=1e-9)
    assert set(np.unique(batch[:, 4])) <= {0.0, 1.0}


def test_lotka_volterra_conserves_its_first_integral():
    point = pd.DataFrame([{"alpha": 1.2, "beta": 0.05, "gamma": 0.6, "delta": 0.02,
                           "prey0": 20.0, "predator0": 5.0}])
    y0, params, t_eval = lotka_volterra._setup(point, 50.0, 0.1)
    solution = lotka_volterra.dopri5(lotka_volterra._rhs, y0, params, t_eval)
    prey, predator = solution.y[0, :, 0], solution.y[0, :, 1]
    invariant = 0.02 * prey - 0.6 * np.log(prey) + 0.05 * predator - 1.2 * np.log(predator)
    assert np.ptp(invariant) < 1e-6 * abs(invariant[0])


def test_lotka_volterra_extinction_flag_follows_the_threshold():
    design = sample(lotka_volterra.SPACE, 40, seed=1)
    loose = lotka_volterra.simulator(extinction_threshold=1e-12)(design)["extinct"]
    strict = lotka_volterra.simulator(extinction_threshold=5.0)(design)["extinct"]
    assert loose.sum() == 0 and strict.sum() > 0
    assert (strict >= loose).all()


def _sir_point(beta, gamma, infected, population):
    return pd.DataFrame([{"beta": beta, "gamma": gamma, "initial_infected": infected,
                          "population": population}])


@pytest.mark.parametrize(("beta", "gamma", "infected", "population"),
                         [(0.5, 0.1, 10.0, 1e4), (0.9, 0.3, 1.0, 1e6), (0.3, 0.2, 50.0, 5e3)])
def test_sir_peak_and_final_size_match_the_analytic_formulas(beta, gamma, infected, population):
    out = sir.simulator()(_sir_point(beta, gamma, infected, population)).iloc[0]
    r0, s0 = beta / gamma, (population - infected) / population
    peak = population - infected + infected - population / r0 * (1 + np.log(r0 * s0))
    final = brentq(lambda z: 1 - z - s0 * np.exp(-r0 * z), 1 - 1 / r0, 1.0)
    assert out["peak_infected"] == pytest.approx(peak, rel=5e-5)  # parabola through the grid
    assert out["final_size"] == pytest.approx(final, rel=1e-6)
    assert 0 < out["peak_time"] < 365


def test_sir_without_an_outbreak_peaks_at_day_zero():
    out = sir.simulator()(_sir_point(0.1, 0.5, 20.0, 1e4)).iloc[0]  # R0 = 0.2
    assert out["peak_time"] == 0.0 and out["peak_infected"] == pytest.approx(20.0)


def test_sir_peak_time_is_where_infections_stop_growing():
    # at the peak dI/dt = 0, i.e. S = N / R0; find that day on a very fine grid
    point = _sir_point(0.6, 0.2, 5.0, 1e5)
    y0, params, t_eval = sir._setup(point, 120.0, 0.002)
    solution = sir.dopri5(sir._rhs, y0, params, t_eval, rtol=1e-10, atol=1e-10)
    day = t_eval[np.argmax(solution.y[0, :, 0] < 1e5 / 3.0)]
    assert sir.simulator()(point)["peak_time"].iloc[0] == pytest.approx(day, abs=0.005)


def test_sir_batch_matches_solve_ivp_reference():
    design = sample(sir.SPACE, 8, seed=2)
    np.testing.assert_allclose(sir.simulator()(design).to_numpy(), sir.reference(design),
                               rtol=STATED_RTOL, atol=1e-9)


def _lorenz_design():
    """Points on both sides of the Hopf boundary, with margins, over the (sigma, beta) box."""
    rows = []
    for sigma, beta in ((8.0, 1.5), (8.0, 3.5), (12.0, 2.5), (16.0, 1.5), (16.0, 3.5)):
        boundary = float(lorenz.hopf_rho(sigma, beta))
        for fraction in (0.1, 0.5, 0.8, 1.1, 1.5):
            rho = float(np.clip(fraction * boundary, 2.0, 50.0))
            rows.append({"sigma": sigma, "rho": rho, "beta": beta})
    return pd.DataFrame(rows)


def test_lorenz_settles_exactly_where_the_hopf_oracle_says():
    design = _lorenz_design()
    settled = lorenz.simulator()(design)["settled"].to_numpy()
    ratio = design["rho"] / lorenz.hopf_rho(design["sigma"], design["beta"])
    clear = (ratio < 0.85) | (ratio > 1.0)
    assert clear.sum() == len(design)
    np.testing.assert_array_equal(settled, (ratio < 1.0).astype(float))


def test_lorenz_settled_state_is_the_fixed_point():
    point = pd.DataFrame([{"sigma": 10.0, "rho": 10.0, "beta": 8 / 3}])
    out = lorenz.simulator(t_end=40.0)(point).iloc[0]
    assert out["settled"] == 1.0
    assert out["z_mean"] == pytest.approx(9.0, abs=1e-6)  # z* = rho - 1
    assert out["x_amplitude"] < 1e-6


def test_lorenz_batch_matches_solve_ivp_reference():
    design = pd.DataFrame({"sigma": [10.0, 14.0, 9.0], "rho": [5.0, 8.0, 45.0],
                           "beta": [8 / 3, 2.0, 3.0]})
    options = {"t_end": 30.0, "window": 5.0}
    batch = lorenz.simulator(**options)(design).to_numpy()
    reference = lorenz.reference(design, **options)
    np.testing.assert_array_equal(batch[:, 0], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(batch[:, 0], reference[:, 0])
    # settled trajectories agree to the stated tolerance; the chaotic one only statistically
    np.testing.assert_allclose(batch[:2], reference[:2], rtol=STATED_RTOL, atol=1e-7)
    assert batch[2, 1] == pytest.approx(reference[2, 1], rel=0.2)


@pytest.mark.slow
def test_lorenz_oracle_holds_on_a_large_lhs_design():
    design = sample(lorenz.SPACE, 2000, seed=0)
    settled = lorenz.simulator()(design)["settled"].to_numpy()
    ratio = (design["rho"] / lorenz.hopf_rho(design["sigma"], design["beta"])).to_numpy()
    clear = (ratio < 0.85) | (ratio > 1.0)
    np.testing.assert_array_equal(settled[clear], (ratio[clear] < 1.0).astype(float))


def test_sir_fields_are_shares_in_the_unit_interval():
    """The integration error left I at -1e-13 in 129 of 200 runs: shares are clipped."""
    runs = sir.simulator().run(sample(sir.SPACE, 200, seed=0), progress=False)
    for name in ("S", "I", "R"):
        field = runs.field(name).to_numpy()
        assert field.min() >= 0.0 and field.max() <= 1.0
    total = sum(runs.field(name).to_numpy() for name in ("S", "I", "R"))
    np.testing.assert_allclose(total, 1.0, atol=1e-9)
