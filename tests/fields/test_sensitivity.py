"""Sobol' indices over time against an analytic case and against SALib, column by column.

Oracle: ``y(t) = a t + b sin(t)`` with ``a, b`` independent and uniform on [0, 1] (variance 1/12
each). The model is additive, so ``S1 = ST`` and
``S_a(t) = t^2 Var(a) / (t^2 Var(a) + sin(t)^2 Var(b))``; the generalized (aggregated) index is
``sum_t t^2 / sum_t (t^2 + sin(t)^2)`` over the grid (Gamboa et al. 2014).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from SALib.analyze import sobol as salib_sobol_analyze
from SALib.sample import sobol as salib_sobol_sample

import surrogate as sg
from surrogate._sensitivity_fields import saltelli_field_indices
from surrogate.models import FieldGPRegressor
from surrogate.sensitivity import sobol_indices

SPACE = sg.Space([sg.Real("a", 0.0, 1.0), sg.Real("b", 0.0, 1.0)])
TIMES = np.linspace(0.0, 6.0, 25)


def trajectory(X):
    return np.outer(X["a"], TIMES) + np.outer(X["b"], np.sin(TIMES))


def with_scalar(X):
    return {"y": trajectory(X), "sum": X["a"].to_numpy() + 0.1 * X["b"].to_numpy()}


TEACHER = sg.Simulator(trajectory, SPACE, fields={"y": TIMES}, vectorized=True, name="linear")
with np.errstate(invalid="ignore"):
    S_A = TIMES**2 / (TIMES**2 + np.sin(TIMES) ** 2)  # NaN at t = 0, where y is always 0


@pytest.fixture(scope="module")
def indices():
    return sobol_indices(TEACHER, n=2048, output="y", seed=0)


def test_indices_per_time_match_the_analytic_ones(indices):
    assert indices.index.names == ["time", "parameter"]
    assert list(indices.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    s1 = indices["S1"].unstack("parameter")
    st = indices["ST"].unstack("parameter")
    np.testing.assert_array_equal(s1.index.to_numpy(), TIMES)
    assert s1.iloc[0].isna().all()  # t = 0: every trajectory is 0, no variance to share
    inner = slice(1, None)
    np.testing.assert_allclose(s1["a"].to_numpy()[inner], S_A[inner], atol=0.04)
    np.testing.assert_allclose(s1["b"].to_numpy()[inner], 1 - S_A[inner], atol=0.04)
    np.testing.assert_allclose(st["a"].to_numpy()[inner], S_A[inner], atol=0.04)
    # the 95 % intervals hold the truth at most grid points
    conf = indices["S1_conf"].unstack("parameter")["a"].to_numpy()[inner]
    assert np.mean(np.abs(s1["a"].to_numpy()[inner] - S_A[inner]) <= conf) >= 0.8


def test_aggregated_indices_are_the_variance_weighted_ones(indices):
    aggregated = indices.attrs["aggregated"]
    truth_a = (TIMES**2).sum() / (TIMES**2 + np.sin(TIMES) ** 2).sum()
    assert aggregated.loc["a", "S1"] == pytest.approx(truth_a, abs=0.02)
    assert aggregated.loc["b", "ST"] == pytest.approx(1 - truth_a, abs=0.02)
    # SALib's bootstrap: as wide as the per-time intervals (about 0.1 for S1 at n = 2048)
    per_time = indices["S1_conf"].unstack("parameter")
    assert (aggregated["S1_conf"] > 0).all()
    assert (aggregated["S1_conf"] <= per_time.max() * 1.01).all()
    # the definition: per-time indices weighted by the per-time variance
    weights = indices.attrs["variance"].to_numpy()
    s1 = indices["S1"].unstack("parameter")["a"].to_numpy()
    assert aggregated.loc["a", "S1"] == pytest.approx(
        np.nansum(weights * s1) / weights[1:].sum(), rel=1e-12)
    assert indices.attrs["n_evaluations"] == 2048 * 4 and indices.attrs["field"] == "y"


def test_every_grid_point_gets_salib_own_numbers():
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1]] * 2}
    unit = salib_sobol_sample.sample(problem, 256, calc_second_order=False, seed=3)
    Y = trajectory(pd.DataFrame(unit, columns=["a", "b"]))
    ours = saltelli_field_indices(Y, 2, seed=11)
    for t in (3, 12, 24):
        salib = salib_sobol_analyze.analyze(problem, Y[:, t], calc_second_order=False, seed=11)
        for key in ("S1", "S1_conf", "ST", "ST_conf"):
            np.testing.assert_allclose(ours[key][:, t], salib[key], rtol=1e-9, atol=1e-12)


def test_a_tiny_or_huge_field_gets_the_same_indices():
    # the squares underflowed for a field of 1e-300 (every index NaN) and overflowed past 1e154
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1]] * 2}
    unit = salib_sobol_sample.sample(problem, 64, calc_second_order=False, seed=3)
    Y = trajectory(pd.DataFrame(unit, columns=["a", "b"]))
    plain = saltelli_field_indices(Y, 2, seed=11, num_resamples=20)
    for scale in (1e-300, 1e160, 2.0**-900):
        scaled = saltelli_field_indices(Y * scale, 2, seed=11, num_resamples=20)
        for key in ("S1", "ST", "S1_conf", "S1_aggregated", "ST_aggregated"):
            np.testing.assert_allclose(scaled[key], plain[key], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(saltelli_field_indices(Y * 2.0**-400, 2, seed=11,
                                                         num_resamples=20)["variance"],
                                  plain["variance"] * 2.0**-800)


def test_a_field_surrogate_gives_the_same_indices():
    runs = TEACHER.run(sg.sample(SPACE, 30, seed=1), progress=False)
    model = FieldGPRegressor(seed=0).fit(runs.X, runs.field("y"))
    indices = sobol_indices(model, SPACE, n=1024, seed=0)
    s1 = indices["S1"].unstack("parameter")["a"].to_numpy()
    np.testing.assert_allclose(s1[1:], S_A[1:], atol=0.05)
    assert indices.attrs["field"] == "y"
    with pytest.raises(ValueError, match="output='z' is not the field.*models 'y'"):
        sobol_indices(model, SPACE, n=64, output="z")


def test_scalar_outputs_of_a_field_teacher_keep_the_scalar_indices():
    sim = sg.Simulator(with_scalar, SPACE, ["sum"], fields={"y": TIMES}, vectorized=True)
    scalar = sobol_indices(sim, n=256, output="sum", seed=0)
    assert scalar.index.tolist() == ["a", "b"] and scalar["S1"]["a"] > 0.9
    field = sobol_indices(sim, n=256, output="y", seed=0)
    assert field.index.nlevels == 2


def test_field_refusals_are_one_clear_line():
    with pytest.raises(ValueError, match="second_order=True is not available for a field"):
        sobol_indices(TEACHER, n=64, output="y", second_order=True)

    def failing(X):
        out = trajectory(X)
        out[X["a"].to_numpy() > 0.9, 4] = np.nan
        return out

    sim = sg.Simulator(failing, SPACE, fields={"y": TIMES}, vectorized=True, name="failing")
    with pytest.raises(sg.SimulationError, match="runs of 'failing' failed.*field 'y' not finite"):
        sobol_indices(sim, n=64, output="y", seed=0)


def test_a_field_surrogate_where_every_run_agrees_gets_no_invented_indices():
    # at t = 0 every trajectory is 0; the surrogate's predictions there differ by roundoff
    # (1e-15), and its indices there came out 0.55 / 0.45 while the simulator's were NaN
    t = np.linspace(0, 10, 41)
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    sim = sg.Simulator(lambda a, b: {"F": a * t + b * np.sin(t)}, space, [], fields={"F": t})
    runs = sim.run(sg.sample(space, 40, seed=0), progress=False)
    model = sg.FieldGPRegressor(seed=0).fit(runs.X, runs.field("F"))
    indices = sg.sobol_indices(model, space, output="F", n=256, seed=0)
    assert indices.xs(0.0, level=0)[["S1", "ST"]].isna().all().all()
    truth = 25 / (25 + np.sin(5.0) ** 2)  # S1 of a at t = 5: var(5 a) / var(5 a + b sin 5)
    assert abs(indices.xs(5.0, level=0).loc["a", "S1"] - truth) < 0.05


@pytest.mark.parametrize("offset", [0.0, 1e10])
def test_an_offset_field_keeps_its_indices(offset):
    # a grid point counted as flat when its spread was under 1e-9 of the field's magnitude:
    # under an offset of 1e10 every index came out NaN although every point varies
    t = np.linspace(0.5, 3.0, 6)
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    sim = sg.Simulator(lambda a, b: {"y": offset + a * t + b}, space, [], fields={"y": t})
    indices = sobol_indices(sim, output="y", n=256, seed=0)
    s1 = indices.xs("a", level="parameter")["S1"].to_numpy()
    np.testing.assert_allclose(s1, t**2 / (t**2 + 1), atol=0.1)


def test_a_field_that_never_varies_gets_zero_indices_and_a_warning():
    t = np.linspace(0.0, 1.0, 4)
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    sim = sg.Simulator(lambda a, b: {"y": 2.0 + 0 * t}, space, [], fields={"y": t})
    with pytest.warns(UserWarning, match="the field is the same in every run"):
        indices = sobol_indices(sim, output="y", n=64, seed=0)
    assert (indices.attrs["aggregated"][["S1", "ST"]] == 0).all().all()
