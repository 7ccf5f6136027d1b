"""Morris screening: exact effects of linear terms, zero for irrelevant inputs, planted ranking."""

import math

import numpy as np
import pytest

import surrogate as sg
from surrogate.sensitivity import morris


def test_linear_effects_are_exact_and_irrelevant_input_is_zero():
    # effects are per whole range: 3 x on [0, 2] moves the output by 6; log10 k over four
    # decades by 4 (stepped in log space); "unused" by nothing
    space = sg.Space([sg.Real("x", 0, 2), sg.Real("k", 1e-3, 10, log=True),
                      sg.Real("unused", -5, 5)])
    result = morris(lambda p: 3 * p["x"] - math.log10(p["k"]), space, trajectories=12, seed=0)
    assert list(result.columns[:3]) == ["mu_star", "mu_star_conf", "sigma"]
    np.testing.assert_allclose(result["mu_star"], [6.0, 4.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(result["sigma"], [0.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(result["mu"], [6.0, -4.0, 0.0], atol=1e-9)
    assert result.attrs["n_evaluations"] == 12 * 4


def test_g_function_ranking():
    # G-function: the smaller a_i, the more important x_i; a = 99 is nearly irrelevant
    a = np.array([0.0, 1.0, 9.0, 99.0])
    space = sg.Space([sg.Real(f"x{i}", 0, 1) for i in range(len(a))])

    def g(X):
        return np.prod((np.abs(4 * X.to_numpy() - 2) + a) / (1 + a), axis=1)

    result = morris(sg.Simulator(g, space, "g", vectorized=True), trajectories=50, seed=1)
    assert list(result["mu_star"].rank(ascending=False)) == [1.0, 2.0, 3.0, 4.0]
    assert result["mu_star"].iloc[3] < 0.05 * result["mu_star"].iloc[0]


def test_ishigami_x3_matters_only_through_interaction(ishigami_sim):
    result = morris(ishigami_sim, trajectories=40, seed=2)
    # x3 has no main effect (mu near 0 relative to mu_star) but interacts with x1 (sigma > 0)
    assert result.loc["x3", "sigma"] > 1.0
    assert (result["mu_star_conf"] >= 0).all()
    again = morris(ishigami_sim, trajectories=40, seed=2)
    assert result.equals(again)


def test_integer_parameter_is_screened():
    space = sg.Space([sg.Integer("n", 0, 3), sg.Real("x", 0, 1)])
    result = morris(lambda p: float(p["n"]), space, trajectories=10, seed=0)
    assert result.loc["n", "mu_star"] > 0 and result.loc["x", "mu_star"] == 0


@pytest.mark.parametrize("top", [1, 2, 3, 10])
@pytest.mark.parametrize("levels", [4, 6])
def test_an_integer_reads_per_whole_range_as_a_real_does(top, levels):
    # SALib divides by the grid's step (2/3 of the range with levels=4), while an integer of
    # two levels steps its whole range: its mu_star read 1.5, not 1
    space = sg.Space([sg.Integer("k", 5, 5 + top), sg.Real("x", 0, 1)])
    result = morris(lambda p: (p["k"] - 5) / top - 2 * p["x"], space, trajectories=10,
                    levels=levels, seed=0)
    np.testing.assert_allclose(result["mu_star"], [1.0, 2.0], rtol=1e-12)
    np.testing.assert_allclose(result["mu"], [1.0, -2.0], rtol=1e-12)
    np.testing.assert_allclose(result["sigma"], [0.0, 0.0], atol=1e-12)


def test_categorical_is_refused_by_name():
    space = sg.Space([sg.Real("x", 0, 1), sg.Categorical("scheme", ["a", "b"])])
    with pytest.raises(ValueError, match=r"categorical parameter\(s\) \['scheme'\]"):
        morris(lambda p: p["x"], space)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"levels": 3}, "levels must be an even int"),
    ({"levels": 0}, "levels must be an even int"),
    ({"trajectories": 1}, "trajectories must be an int >= 2"),
    ({"trajectories": 2.5}, "trajectories must be an int >= 2"),
    ({"checkpoint": "somewhere"}, "needs seed= to be an int"),
])
def test_bad_options(ishigami_sim, kwargs, match):
    with pytest.raises(ValueError, match=match):
        morris(ishigami_sim, **kwargs)


def test_bad_target(ishigami_space):
    with pytest.raises(TypeError, match="target must be"):
        morris("not a function", ishigami_space)


@pytest.mark.parametrize("scale", [1e-170, 1e155])
def test_indices_of_outputs_of_extreme_magnitude_are_those_of_the_output_in_plain_units(
        ishigami_space, scale):
    # second-order Sobol' indices came out all 0, Morris's sigma 0 or inf: their sums of
    # squares under- or overflowed (the first-order path already rescaled by a power of two)
    def ishigami(point, factor):
        return factor * (math.sin(point["x1"]) + 7 * math.sin(point["x2"]) ** 2
                         + 0.1 * point["x3"] ** 4 * math.sin(point["x1"]))

    plain = morris(lambda p: ishigami(p, 1.0), ishigami_space, seed=0)
    scaled = morris(lambda p: ishigami(p, scale), ishigami_space, seed=0)
    np.testing.assert_allclose(scaled.to_numpy() / scale, plain.to_numpy(), rtol=1e-9, atol=1e-9)
    plain = sg.sobol_indices(lambda p: ishigami(p, 1.0), ishigami_space, n=64, seed=0,
                             second_order=True)
    scaled = sg.sobol_indices(lambda p: ishigami(p, scale), ishigami_space, n=64, seed=0,
                              second_order=True)
    np.testing.assert_allclose(scaled[["S1", "ST"]].to_numpy(),
                               plain[["S1", "ST"]].to_numpy(), rtol=1e-9, atol=1e-12)
    assert plain["S1"].abs().sum() > 0.5
