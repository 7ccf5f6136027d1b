"""Latent positions of categorical levels (``GPRegressor(categorical=...)``): a switch whose
levels act in order is learned better than by the exchangeable kernel, and the positions put
the middle level in the middle; a switch that turns the response around keeps the exchangeable
kernel; positions survive save/load; the differentiable posterior encodes them too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr

import surrogate as sg
from surrogate.models import GPRegressor, load, q2
from surrogate.models._gp_latent import encode_latent

SECTIONS = [f"s{i}" for i in range(8)]
# each level stands for a hidden number (e.g. a beam section's stiffness), in shuffled order
HIDDEN = dict(zip(SECTIONS, np.random.default_rng(5).permutation(np.linspace(0.0, 1.0, 8)),
                  strict=True))
SPACE = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("section", SECTIONS),
                  sg.Real("z", 0.0, 1.0)])


def _hidden(X):
    h = X["section"].map(HIDDEN).to_numpy(float)
    return np.exp(-3.0 * h * X["x"].to_numpy()) * (1.0 + h) + 0.2 * X["z"].to_numpy()


@pytest.fixture(scope="module")
def ordered():
    X = sg.sample(SPACE, 40, seed=0)
    Xt = sg.sample(SPACE, 2000, method="random", seed=9)
    return X, _hidden(X), Xt, _hidden(Xt)


def test_levels_that_stand_for_a_hidden_number_are_learned_better_with_positions():
    # 8 levels, 40 runs (5 per level): the exchangeable kernel gives every pair of levels one
    # correlation; positions let similar levels borrow from each other
    Xt = sg.sample(SPACE, 2000, method="random", seed=9)
    gains = []
    for seed in (0, 1, 2):
        X = sg.sample(SPACE, 40, seed=seed)
        auto = GPRegressor(seed=0).fit(X, _hidden(X))  # categorical="auto" by default
        exchangeable = GPRegressor(seed=0, categorical="exchangeable").fit(X, _hidden(X))
        assert auto.categorical_ == "latent" and exchangeable.categorical_ == "exchangeable"
        assert q2(_hidden(Xt), auto.predict(Xt)) > 0.99
        gains.append(q2(_hidden(Xt), auto.predict(Xt)) - q2(_hidden(Xt), exchangeable.predict(Xt)))
        assert auto.level_correlation_ == {} and auto.level_positions_["section"][0] == 0.0
    assert np.mean(gains) > 0.005


def test_positions_follow_the_hidden_number():
    ranked = []
    for seed in (0, 1, 2):
        X = sg.sample(SPACE, 60, seed=seed)
        positions = GPRegressor(seed=0, categorical="latent").fit(X, _hidden(X)) \
            .level_positions_["section"]
        ranked.append(abs(spearmanr(positions, [HIDDEN[s] for s in SECTIONS])[0]))
    assert sum(r > 0.7 for r in ranked) >= 2  # the order of the levels, up to a flip


def test_a_switch_that_turns_the_response_around_keeps_the_exchangeable_kernel():
    # a negative correlation of the two levels explains the data; positions cannot give one
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.random(30), "sign": rng.choice(["up", "down"], 30)})
    y = np.where(X["sign"] == "up", 1.0, -1.0) * np.sin(6 * X["x"])
    gp = GPRegressor(seed=0).fit(X, y)
    assert gp.categorical_ == "exchangeable" and gp.level_positions_ == {}
    assert gp.level_correlation_["sign"][0] < -0.9


def test_positions_are_saved_and_loaded(ordered, tmp_path):
    X, y, Xt, _ = ordered
    gp = GPRegressor(seed=0, categorical="latent").fit(X, y)
    gp.save(tmp_path / "gp")
    back = load(tmp_path / "gp")
    assert back.categorical_ == "latent"
    np.testing.assert_array_equal(back.level_positions_["section"],
                                  gp.level_positions_["section"])
    np.testing.assert_array_equal(back.predict(Xt), gp.predict(Xt))


def test_the_differentiable_posterior_uses_the_positions(ordered):
    X, y, Xt, _ = ordered
    gp = GPRegressor(seed=0, categorical="latent").fit(X, y)
    codes = gp._validate_predict(Xt.iloc[:30])  # categories as codes, as the loops pass them
    X_torch = torch.as_tensor(codes).requires_grad_()
    mean, var = gp._predict_torch(X_torch)
    p_mean, p_std = gp.predict(Xt.iloc[:30], return_std=True)
    np.testing.assert_allclose(mean[:, 0].detach().numpy(), p_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(var[:, 0].detach().numpy(), p_std**2, rtol=1e-7, atol=1e-12)
    mean.sum().backward()
    assert torch.isfinite(X_torch.grad).all()


def test_encoding_in_numpy_and_torch_agree():
    U = np.array([[0.5, 2.0], [0.1, 0.0], [0.9, 1.0]])
    positions = {1: np.array([0.0, -1.5, 0.7])}
    expected = np.array([[0.5, 0.7], [0.1, 0.0], [0.9, -1.5]])
    np.testing.assert_array_equal(encode_latent(U, positions), expected)
    np.testing.assert_array_equal(encode_latent(torch.as_tensor(U), positions).numpy(), expected)
    assert encode_latent(U, {}) is U


def test_bad_categorical_option_is_named():
    with pytest.raises(ValueError, match="categorical"):
        GPRegressor(categorical="onehot").fit(np.random.default_rng(0).random((10, 2)),
                                              np.arange(10.0))


def test_a_categorical_of_one_level_is_a_constant_input():
    # its latent positions had nothing to place: scipy's 'not enough values to unpack'
    y = np.arange(10.0)
    alone = GPRegressor(seed=0).fit(pd.DataFrame({"c": ["a"] * 10}), y)
    assert alone.categorical_ == "exchangeable"
    np.testing.assert_allclose(alone.predict(pd.DataFrame({"c": ["a"]})), [4.5], atol=1e-6)
    X = pd.DataFrame({"c": ["a"] * 10, "x": np.linspace(0, 1, 10)})
    beside = GPRegressor(seed=0).fit(X, 2 * X.x)
    np.testing.assert_allclose(beside.predict(X), 2 * X.x, atol=1e-3)


@pytest.mark.parametrize("kernel", ["matern52", "matern32", "rbf"])
def test_the_position_search_gradient_is_the_derivative_of_its_likelihood(kernel):
    # two latent columns (4 and 3 levels) between numeric ones, two outputs: the analytic
    # gradient of positions and length scales against central differences
    from surrogate.models._gp_latent import _nll

    rng = np.random.default_rng(0)
    n = 60
    U = np.column_stack([rng.integers(0, 4, n), rng.random(n), rng.integers(0, 3, n),
                         rng.random(n)]).astype(float)
    Y = np.vstack([np.sin(3 * U[:, 1]) + U[:, 0] * U[:, 3], U[:, 2] ** 2 + U[:, 1]])
    levels, numeric = {0: 4, 2: 3}, [1, 3]
    x = rng.normal(size=3 + 2 + 2) * 0.5
    value, grad = _nll(kernel, U, Y, numeric, levels, x)
    step = 1e-5
    numeric_grad = [(_nll(kernel, U, Y, numeric, levels, x + step * e)[0]
                     - _nll(kernel, U, Y, numeric, levels, x - step * e)[0]) / (2 * step)
                    for e in np.eye(len(x))]
    assert np.isfinite(value)
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-4, atol=1e-5)
