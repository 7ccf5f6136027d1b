"""The study's surrogates see a log-scale parameter on its log scale, by a name of its own."""

import math

import numpy as np
import pytest

from surrogate.design import sample
from surrogate.models import GPRegressor, q2
from surrogate.space import Categorical, Real, Space
from surrogate.study import model_inputs, model_space
from surrogate.study._stages import space_point

SPACE = Space([Real("k", 1e-3, 1e1, log=True), Real("x", 0.0, 1.0),
               Categorical("c", ["a", "b"])])


def test_log_scale_parameters_become_log10_columns_and_back():
    space = model_space(SPACE)
    assert space.names == ["log10_k", "x", "c"]
    assert (space["log10_k"].low, space["log10_k"].high) == pytest.approx((-3.0, 1.0))
    X = sample(SPACE, 8, seed=0)
    inputs = model_inputs(SPACE, X)
    assert list(inputs.columns) == ["log10_k", "x", "c"]
    np.testing.assert_allclose(inputs["log10_k"], np.log10(X["k"]))
    assert str(inputs["c"].dtype) == "category"
    point = space_point(SPACE, inputs.iloc[0].to_dict())
    assert point["k"] == pytest.approx(X["k"].iloc[0]) and point["c"] == X["c"].iloc[0]
    unchanged = Space([Real("x", 0.0, 1.0)])
    assert model_space(unchanged) is unchanged


def test_the_log_scale_makes_the_sir_surrogate_accurate():
    import simulators

    sir = simulators.load("sir")
    X, test = sample(sir.space, 60, seed=0), sample(sir.space, 2000, method="random", seed=1)
    y, truth = sir(X)["peak_infected"].to_numpy(), sir(test)["peak_infected"].to_numpy()
    raw = GPRegressor(seed=0).fit(X, y).predict(test)
    logged = GPRegressor(seed=0).fit(model_inputs(sir.space, X), y).predict(
        model_inputs(sir.space, test))
    assert q2(truth, logged) > 0.9 and q2(truth, logged) > q2(truth, raw) + 0.1
    assert math.isclose(sir.space["population"].low, 1e3) and sir.space["population"].log
