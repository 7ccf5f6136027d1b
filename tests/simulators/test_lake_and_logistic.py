"""Difference-equation teachers: the shallow lake and the logistic map."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from simulators import lake, logistic_map
from surrogate.design import sample


def _lake_reference(point, n_samples, seed, threshold=0.02):
    """Plain loops over series and years, straight from the equations (independent check)."""
    b, q, mean, stdev, delta, release = point
    normals = np.random.default_rng(seed).standard_normal((n_samples, lake.YEARS - 1))
    spread = math.sqrt(math.log(1 + stdev**2 / mean**2))
    location = math.log(mean) - spread**2 / 2
    p_crit = brentq(lambda x: x**q / (1 + x**q) - b * x, 0.01, 1.5)
    states = np.zeros((n_samples, lake.YEARS))
    steady = 0
    for i in range(n_samples):
        for t in range(lake.YEARS - 1):
            x = states[i, t]
            inflow = math.exp(location + spread * normals[i, t])
            states[i, t + 1] = (1 - b) * x + x**q / (1 + x**q) + release + inflow
            steady += abs(states[i, t + 1] - x) < threshold
    utility = sum(lake.ALPHA * release * delta**t for t in range(lake.YEARS))
    return [states.mean(axis=0).max(), utility, steady / (n_samples * (lake.YEARS - 1)),
            (states < p_crit).mean()]


def test_lake_matches_a_loop_reference():
    design = sample(lake.SPACE, 4, seed=0)
    out = lake.simulator(n_samples=5, seed=3)(design).to_numpy()
    expected = [_lake_reference(row, 5, 3) for row in design.itertuples(index=False)]
    np.testing.assert_allclose(out, expected, rtol=1e-10)


def test_lake_critical_level_matches_brentq():
    design = sample(lake.SPACE, 50, seed=1)
    found = lake.critical_pollution(design["b"], design["q"])
    expected = [brentq(lambda x, b=b, q=q: x**q / (1 + x**q) - b * x, 0.01, 1.5, xtol=1e-14)
                for b, q in zip(design["b"], design["q"], strict=True)]
    np.testing.assert_allclose(found, expected, rtol=1e-10)


def test_lake_utility_is_the_discounted_release():
    design = sample(lake.SPACE, 10, seed=2)
    utility = lake.simulator(n_samples=3)(design)["utility"]
    closed = 0.4 * design["release"] * (1 - design["delta"] ** 100) / (1 - design["delta"])
    np.testing.assert_allclose(utility, closed, rtol=1e-12)


def test_lake_outputs_are_shares_and_the_seed_matters():
    design = sample(lake.SPACE, 20, seed=3)
    first = lake.simulator(seed=1)(design)
    assert first[["inertia", "reliability"]].apply(lambda c: c.between(0, 1).all()).all()
    pd.testing.assert_frame_equal(first, lake.simulator(seed=1)(design))
    other = lake.simulator(seed=2)(design)
    assert not np.allclose(first["max_P"], other["max_P"])
    np.testing.assert_array_equal(first["utility"], other["utility"])


def test_lake_a_generator_seed_is_fixed_when_the_simulator_is_built():
    sim = lake.simulator(n_samples=4, seed=np.random.default_rng(5))
    design = sample(lake.SPACE, 3, seed=4)
    pd.testing.assert_frame_equal(sim(design), sim(design))


def test_a_clean_lake_stays_clean_and_a_heavily_polluted_one_flips():
    clean = pd.DataFrame([[0.45, 4.5, 0.01, 0.001, 0.98, 0.0]], columns=lake.SPACE.names)
    dirty = pd.DataFrame([[0.1, 2.0, 0.05, 0.005, 0.98, 0.1]], columns=lake.SPACE.names)
    sim = lake.simulator(n_samples=20)
    assert sim(clean)["reliability"].iloc[0] == 1.0
    assert sim(dirty)["reliability"].iloc[0] < 0.2
    assert sim(dirty)["max_P"].iloc[0] > 1.5


def test_logistic_map_fixed_point_regime_matches_the_oracles():
    r = np.concatenate([np.linspace(1.1, 2.9, 10), np.linspace(3.1, 4.0, 10)])
    design = pd.DataFrame({"r": r, "x0": np.linspace(0.05, 0.95, 20)})
    out = logistic_map.simulator()(design)
    fixed = r < 3
    np.testing.assert_array_equal(out["converges"], fixed.astype(float))
    np.testing.assert_allclose(out["mean"][fixed], 1 - 1 / r[fixed], atol=1e-10)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(out["lyapunov"][fixed], np.log(np.abs(2 - r[fixed])),
                                   atol=1e-8)


def test_logistic_map_chaos_at_r_4_has_exponent_log_2():
    out = logistic_map.simulator(n_average=20_000)([[4.0, 0.2], [4.0, 0.7]])
    np.testing.assert_allclose(out["lyapunov"], math.log(2), atol=0.02)
    np.testing.assert_allclose(out["mean"], 0.5, atol=0.02)  # the invariant density's mean


def test_logistic_map_two_cycle_has_negative_exponent_and_no_fixed_point():
    out = logistic_map.simulator()([[3.2, 0.3]]).iloc[0]
    assert out["converges"] == 0.0 and out["lyapunov"] < 0
