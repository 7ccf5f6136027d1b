"""Sobol' indices against analytic values, on every kind of target and parameter."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import surrogate as sg
from surrogate.sensitivity import sobol_indices
from surrogate.teacher import SimulationError


def test_literature_values(ishigami_indices):
    s1, st = ishigami_indices
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)


def test_ishigami_true_function_within_002(ishigami_sim, ishigami_indices):
    result = sobol_indices(ishigami_sim, n=8192, seed=0)
    s1, st = ishigami_indices
    assert list(result.index) == ["x1", "x2", "x3"]
    assert list(result.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    np.testing.assert_allclose(result["S1"], s1, atol=0.02)
    np.testing.assert_allclose(result["ST"], st, atol=0.02)
    assert result.attrs["n"] == 8192 and result.attrs["n_evaluations"] == 8192 * 5
    assert (result["S1_conf"] > 0).all() and (result["ST_conf"] < 0.05).all()


def test_second_order_ishigami(ishigami_sim, ishigami_indices):
    result = sobol_indices(ishigami_sim, n=4096, seed=1, second_order=True)
    assert result.attrs["n_evaluations"] == 4096 * 8
    s2 = result.attrs["S2"]
    assert set(s2) == {("x1", "x2"), ("x1", "x3"), ("x2", "x3")}
    # the only interaction is x1-x3: S13 = ST3 (x3 acts only through it)
    assert s2[("x1", "x3")] == pytest.approx(ishigami_indices[1][2], abs=0.04)
    assert abs(s2[("x1", "x2")]) < 0.04 and abs(s2[("x2", "x3")]) < 0.04
    matrix = pd.Series(s2).unstack()
    assert matrix.loc["x1", "x3"] == s2[("x1", "x3")]
    assert set(result.attrs["S2_conf"]) == set(s2)


@pytest.mark.parametrize("a", [(0.0, 1.0, 4.5, 9.0, 99.0, 99.0), (0.0, 0.0, 0.5, 3.0)])
def test_g_function(a, g_indices):
    a = np.asarray(a)
    space = sg.Space([sg.Real(f"x{i}", 0, 1) for i in range(len(a))])

    def g(X):
        return np.prod((np.abs(4 * X.to_numpy() - 2) + a) / (1 + a), axis=1)

    result = sobol_indices(sg.Simulator(g, space, "g", vectorized=True), n=2048, seed=3)
    s1, st = g_indices(a)
    np.testing.assert_allclose(result["S1"], s1, atol=0.02)
    np.testing.assert_allclose(result["ST"], st, atol=0.02)


def test_callable_and_simulator_agree_on_the_same_design(ishigami_space, ishigami_sim):
    def point(p):
        return (math.sin(p["x1"]) + 7 * math.sin(p["x2"]) ** 2
                + 0.1 * p["x3"] ** 4 * math.sin(p["x1"]))

    from_callable = sobol_indices(point, ishigami_space, n=256, seed=5)
    from_simulator = sobol_indices(ishigami_sim, n=256, seed=5)
    pd.testing.assert_frame_equal(from_callable, from_simulator, atol=1e-10)
    again = sobol_indices(point, ishigami_space, n=256, seed=5)
    pd.testing.assert_frame_equal(from_callable, again)


def test_fitted_model_target():
    # a fitted linear model y = 2 x1 + x2 on uniform [0, 1]^2: S1 = ST = (4/5, 1/5)
    space = sg.Space([sg.Real("x1", 0, 1), sg.Real("x2", 0, 1)])
    X = sg.sample(space, 30, seed=0)
    model = LinearRegression().fit(X, 2 * X["x1"] + X["x2"])
    result = sobol_indices(model, space, n=1024, seed=0)
    np.testing.assert_allclose(result["S1"], [0.8, 0.2], atol=0.01)
    np.testing.assert_allclose(result["ST"], [0.8, 0.2], atol=0.01)
    assert "S1_gp_std" not in result.columns  # no posterior to sample


def test_log_integer_and_categorical_parameters_are_decoded():
    # each term has the same variance, so every S1 = ST = 1/3:
    # ln k is uniform on [ln 1e-3, ln 10] (variance L^2/12); n uniform on {1..4} (variance 1.25);
    # c uniform on {0, 1, 2} scaled to variance 1.25
    width = math.log(1e4)
    code = {"a": 0.0, "b": 1.0, "c": 2.0}
    space = sg.Space([sg.Real("k", 1e-3, 10, log=True), sg.Integer("n", 1, 4),
                      sg.Categorical("c", ["a", "b", "c"])])

    def f(p):
        return (math.log(p["k"]) / width * math.sqrt(15.0)
                + p["n"] + code[p["c"]] * math.sqrt(1.25 * 1.5))

    result = sobol_indices(f, space, n=2048, seed=0)
    np.testing.assert_allclose(result["S1"], [1 / 3] * 3, atol=0.02)
    np.testing.assert_allclose(result["ST"], [1 / 3] * 3, atol=0.02)


def test_multi_output_simulator_needs_output():
    space = sg.Space([sg.Real("x", 0, 1), sg.Real("y", 0, 1)])
    sim = sg.Simulator(lambda x, y: {"a": x, "b": y}, space, ["a", "b"])
    with pytest.raises(ValueError, match="output"):
        sobol_indices(sim, n=16, seed=0)
    result = sobol_indices(sim, n=64, output="b", seed=0)
    np.testing.assert_allclose(result["ST"], [0.0, 1.0], atol=0.01)


def test_simulator_checkpoint_resumes_without_new_runs(tmp_path):
    calls = []

    def f(x, y):
        calls.append(1)
        return x + 2 * y

    sim = sg.Simulator(f, sg.Space([sg.Real("x", 0, 1), sg.Real("y", 0, 1)]), "out")
    first = sobol_indices(sim, n=16, seed=4, checkpoint=tmp_path / "runs")
    assert len(calls) == 16 * 4
    second = sobol_indices(sim, n=16, seed=4, checkpoint=tmp_path / "runs")
    assert len(calls) == 16 * 4  # every run came from the checkpoint
    pd.testing.assert_frame_equal(first, second)
    with pytest.raises(ValueError, match="seed"):
        sobol_indices(sim, n=16, checkpoint=tmp_path / "other")


def test_failing_simulator_runs_are_reported():
    def f(x):
        if x > 0.9:
            raise RuntimeError("diverged")
        return x

    sim = sg.Simulator(f, sg.Space([sg.Real("x", 0, 1)]), "y")
    with pytest.raises(SimulationError, match="failed .*diverged"):
        sobol_indices(sim, n=16, seed=0)


def test_non_finite_callable_values_are_reported():
    space = sg.Space([sg.Real("x", 0, 1)])
    with pytest.raises(ValueError, match="non-finite"):
        sobol_indices(lambda p: math.nan if p["x"] > 0.5 else p["x"], space, n=16, seed=0)


def test_n_not_a_power_of_two_is_rounded_up_with_a_warning(ishigami_sim):
    with pytest.warns(UserWarning, match="n=1000 is not a power of two.*using n=1024"):
        result = sobol_indices(ishigami_sim, n=1000, seed=0)
    assert result.attrs["n"] == 1024


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"n": 8}, ValueError, "n must be >= 16"),
    ({"n": 64.0}, TypeError, "n must be an int"),
    ({"second_order": "yes"}, TypeError, "second_order"),
    ({"posterior_samples": 1}, ValueError, "posterior_samples"),
    ({"output": "nope"}, ValueError, "output='nope'"),
])
def test_bad_options(ishigami_sim, kwargs, error, match):
    with pytest.raises(error, match=match):
        sobol_indices(ishigami_sim, **kwargs)


def test_bad_targets(ishigami_space):
    with pytest.raises(TypeError, match="target must be"):
        sobol_indices(42, ishigami_space)
    with pytest.raises(ValueError, match="space= is required"):
        sobol_indices(lambda p: 0.0)
    with pytest.raises(ValueError, match="unfitted LinearRegression"):
        sobol_indices(LinearRegression(), ishigami_space)
    with pytest.raises(ValueError, match="Simulator target only"):
        sobol_indices(lambda p: p["x1"], ishigami_space, executor="processes")


def test_second_order_needs_two_parameters():
    space = sg.Space([sg.Real("x", 0, 1)])
    with pytest.raises(ValueError, match="second_order=True needs at least 2 parameters"):
        sobol_indices(lambda p: p["x"], space, second_order=True)


def test_constant_target_gives_zero_indices_and_one_warning():
    space = sg.Space([sg.Real("x", 0, 1), sg.Real("y", 0, 1)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sobol_indices(lambda p: 1.0, space, n=16, second_order=True, seed=0)
    assert [str(w.message) for w in caught] == [  # and no numpy 'invalid value' warning
        "sobol_indices: the output does not vary over the sample (beyond roundoff): no input "
        "moves it, and every index is 0"]
    assert (result[["S1", "ST"]] == 0).all().all()
    assert result.attrs["S2"] == {("x", "y"): 0.0}


def test_an_output_constant_up_to_roundoff_is_constant():
    # S + I + R of one SIR step: 1 analytically, 1 +- 1e-16 in floats. Its "indices" would be
    # the roundoff's, as confident as real ones; a field flat to roundoff already gave NaN
    space = sg.Space([sg.Real("beta", 0.1, 1.0), sg.Real("gamma", 0.1, 1.0)])

    def total(p):
        s, i = 0.99, 0.01
        new, recovered = p["beta"] * s * i, p["gamma"] * i
        return (s - new) + (i + new - recovered) + recovered

    with pytest.warns(UserWarning, match="does not vary over the sample"):
        result = sobol_indices(total, space, n=64, seed=0)
    assert (result[["S1", "ST"]] == 0).all().all()
    # a real, small spread on a large offset is not roundoff
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small = sobol_indices(lambda p: 1e6 + 1e-3 * p["beta"], space, n=64, seed=0)
    assert small.loc["beta", "S1"] > 0.9


def test_a_spread_float64_resolves_is_not_roundoff():
    # 1e-3 on 1e10 is 1e-13 of the magnitude, some 500 ulps: float64 resolves it, but a spread
    # under 1e-12 of the magnitude counted as roundoff and every index read 0
    space = sg.Space([sg.Real("a", 0.0, 1.0), sg.Real("b", 0.0, 1.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        offset = sobol_indices(lambda p: 1e10 + 1e-3 * p["a"], space, n=256, seed=0)
    plain = sobol_indices(lambda p: 1e-3 * p["a"], space, n=256, seed=0)
    np.testing.assert_allclose(offset[["S1", "ST"]], plain[["S1", "ST"]], atol=1e-3)
    assert offset.loc["a", "S1"] == pytest.approx(1.0, abs=0.01)
    assert offset.loc["b", "ST"] == 0.0
    # a few ulps of 1e10 (1 = sin^2 + cos^2 in floats) are still roundoff
    with pytest.warns(UserWarning, match="does not vary over the sample"):
        rounded = sobol_indices(lambda p: 1e10 * (np.sin(p["a"]) ** 2 + np.cos(p["a"]) ** 2),
                                space, n=256, seed=0)
    assert (rounded[["S1", "ST"]] == 0).all().all()


def test_bundled_teacher():
    simulators = pytest.importorskip("simulators")
    from simulators import functions

    result = sobol_indices(simulators.load("ishigami"), n=4096, seed=2)
    np.testing.assert_allclose(result["S1"], functions.ISHIGAMI_S1, atol=0.02)
    np.testing.assert_allclose(result["ST"], functions.ISHIGAMI_ST, atol=0.02)



def test_a_plain_function_must_give_one_number_and_takes_no_output():
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    with pytest.raises(TypeError, match="target function returned dict .* one number per point"):
        sobol_indices(lambda p: {"y": p["a"]}, space, n=64, seed=0)
    with pytest.raises(ValueError, match="output='y' names an output of a Simulator"):
        sobol_indices(lambda p: p["a"], space, output="y", n=64, seed=0)
    field_sim = sg.Simulator(lambda a, b: {"F": np.array([a, a + b])}, space, [],
                             fields={"F": [0.0, 1.0]})
    with pytest.raises(ValueError, match="morris screens scalar outputs"):
        sg.morris(field_sim, trajectories=4, seed=0)



@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_the_vectorized_first_and_total_analysis_gives_salibs_numbers(offset):
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    from surrogate.sensitivity import _analyze

    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0.0, 1.0]] * 4}
    U = salib_sample.sample(problem, 256, calc_second_order=False, seed=3)
    y = np.sin(6 * U[:, 0]) + 3 * U[:, 1] ** 2 + U[:, 2] * U[:, 3] + offset
    ours = _analyze(problem, y, False, 11)
    reference = salib_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95,
                                      seed=11)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        np.testing.assert_allclose(ours[key], reference[key], rtol=1e-9, atol=1e-12)
