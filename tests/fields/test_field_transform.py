"""FieldGPRegressor's output transform and the per-output convergence of its component GPs.

Oracle: ``y(t) = a exp(-k t)`` (the decay teacher of test_field_gp), whose logarithm
``log a - k t`` lies exactly in a two-component basis, so with ``y_transform="log"`` the only
error left is the GP's on two smooth scores.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import surrogate as sg
from surrogate.models import FieldGPRegressor, GPRegressor, field_q2, load
from surrogate.models import _gp_hyper as hyp
from surrogate.models import _gp_optim as optim

SPACE = sg.Space([sg.Real("a", 0.5, 2.0), sg.Real("k", 0.1, 1.0)])
TIMES = np.linspace(0.0, 5.0, 21)


def decay(X):
    a, k = X["a"].to_numpy()[:, None], X["k"].to_numpy()[:, None]
    return a * np.exp(-k * TIMES[None, :])


@pytest.fixture(scope="module")
def train():
    X = sg.sample(SPACE, 40, seed=1)
    return X, decay(X)


@pytest.fixture(scope="module")
def held_out():
    X = sg.sample(SPACE, 400, method="random", seed=2)
    return X, decay(X)


@pytest.fixture(scope="module")
def logged(train):
    return FieldGPRegressor(y_transform="log", seed=0).fit(*train)


def test_log_transform_is_exact_for_an_exponential_field(logged, held_out):
    X, Y = held_out
    assert logged.n_components_ == 2  # log a - k t: a constant and a linear direction
    mean = logged.predict(X)
    assert field_q2(Y, mean) > 0.9999  # on the original scale
    assert (mean > 0).all()


def test_the_band_is_mapped_back(logged, held_out):
    X, Y = held_out
    lower, upper = logged.predict_band(X, level=0.95)
    mean, std = logged.predict(X, return_std=True)
    assert (lower > 0).all() and (lower <= mean).all() and (mean <= upper).all()
    assert 0.9 <= np.mean((lower <= Y) & (Y <= upper)) <= 1.0
    # the delta-method std is half the width of the mapped band to first order
    half = (upper - lower) / (2 * 1.959963984540054)
    np.testing.assert_allclose(std, half, rtol=0.02)
    draws = logged.sample_posterior(X.iloc[:3], 200, seed=0, joint=False)
    assert (draws > 0).all()
    np.testing.assert_allclose(np.median(draws, axis=0), mean[:3], rtol=0.05)


def test_logit_keeps_a_share_in_the_unit_interval(train, held_out):
    X, Y = train
    share = Y / 2.5  # in (0, 1)
    model = FieldGPRegressor(y_transform="logit", seed=0).fit(X, share)
    mean = model.predict(held_out[0])
    assert ((mean > 0) & (mean < 1)).all()
    assert field_q2(held_out[1] / 2.5, mean) > 0.995  # not exact in logit space, but smooth


def test_save_load_round_trip_keeps_the_transform(logged, held_out, tmp_path):
    X = held_out[0].iloc[:20]
    logged.save(tmp_path / "logged")
    back = load(tmp_path / "logged")
    assert back.y_transform == "log" and back.get_params() == logged.get_params()
    for a, b in zip(back.predict(X, return_std=True), logged.predict(X, return_std=True),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(back.predict_band(X), logged.predict_band(X), strict=True):
        np.testing.assert_array_equal(a, b)


def test_values_outside_the_domain_are_named(train):
    X, Y = train
    with pytest.raises(ValueError, match=r"y_transform must be one of \(None, 'log', 'logit'\)"):
        FieldGPRegressor(y_transform="sqrt").fit(X, Y)
    bad = Y.copy()
    bad[3, 4] = -1e-12
    with pytest.raises(ValueError, match=r"y_transform='log' needs every value of Y > 0.*rows \[3\]"):
        FieldGPRegressor(y_transform="log").fit(X, bad)
    with pytest.raises(ValueError, match=r"y_transform='logit' needs every value of Y in \(0, 1\)"):
        FieldGPRegressor(y_transform="logit").fit(X, Y)  # a reaches 2
    model = FieldGPRegressor(seed=0, n_components=2).fit(X, Y)
    with pytest.raises(ValueError, match="level must be a float in"):
        model.predict_band(X, level=1.5)


def test_each_output_converges_as_a_single_output_fit(train):
    """A multi-output GP (the component scores) fits every output as its own GP would: one
    joint L-BFGS-B made all outputs iterate until the slowest converged and applied its stopping
    test to their sum, so the easy outputs' hyperparameters depended on the hard ones."""
    X, Y = train
    Y = np.column_stack([Y[:, 2], np.sin(8 * Y[:, 10]) + Y[:, 20], Y[:, 5] ** 3])
    joint = GPRegressor(seed=0).fit(X, Y)
    # rtol: the outputs' standardization rounds differently column-wise than for one column,
    # and near the noise floor the likelihood is flat enough to move that to ~1e-4 (the joint
    # run left the second output's noise 1e4 times off)
    for j in range(Y.shape[1]):
        single = GPRegressor(seed=0).fit(X, Y[:, j])
        np.testing.assert_allclose(joint.lengthscale_[j], single.lengthscale_[0], rtol=1e-3)
        np.testing.assert_allclose(joint.noise_[j], single.noise_[0], rtol=1e-3)


def test_candidates_are_scored_for_all_outputs_at_once(train):
    X, Y = train
    U = torch.as_tensor(np.asarray(SPACE.to_unit(X), dtype=float))
    Ys = torch.as_tensor(((Y - Y.mean(0)) / Y.std(0))[:, [3, 9, 15]].T.copy())
    cand = torch.as_tensor(optim.initial_candidates(2, 8, np.log(1e-2), np.random.default_rng(0)))
    shared = hyp.score_outputs("matern52", cand, U, Ys)
    pairs = hyp.score("matern52", cand.repeat(3, 1), U, Ys.repeat_interleave(8, 0)).reshape(3, 8)
    np.testing.assert_allclose(shared.numpy(), pairs.numpy(), rtol=1e-10)


def test_predictions_follow_the_settings_fitted_with_not_later_set_params(tmp_path):
    # set_params(y_transform=None) without a refit moved a prediction from 0.10 to -2.28, and a
    # refit with align="peak" after align=None kept the first fit's basis and GP
    X = np.random.default_rng(0).uniform(0.5, 2.0, size=(25, 1))
    t = np.linspace(0.0, 4.0, 21)
    model = FieldGPRegressor(y_transform="log", seed=0).fit(X, np.exp(-X * t))
    before = model.predict([[1.0]])
    model.set_params(y_transform=None)
    np.testing.assert_array_equal(model.predict([[1.0]]), before)
    # and so does the model saved after set_params, once loaded
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(load(tmp_path / "m").predict([[1.0]]), before)
    np.testing.assert_array_equal(model.predict_band([[1.0]])[0],
                                  model.set_params(y_transform="log").predict_band([[1.0]])[0])
    # a refit in the other mode keeps none of the last fit's parts
    s = np.linspace(0.0, 8.0, 41)
    bumps = np.exp(-((s - 2.0 * X) ** 2))
    model = FieldGPRegressor(seed=0).fit(X, bumps)
    assert hasattr(model, "gp_") and hasattr(model, "components_")
    model.set_params(align="peak").fit(X, bumps)
    assert not hasattr(model, "gp_") and not hasattr(model, "components_")
    assert hasattr(model, "aligned_")
    model.set_params(align=None).save(tmp_path / "peak")
    np.testing.assert_array_equal(load(tmp_path / "peak").predict(X[:3]), model.predict(X[:3]))
    # a refused refit leaves no half of a model: predict says it is not fitted
    from sklearn.exceptions import NotFittedError

    with pytest.raises(ValueError, match="needs every value of Y > 0"):
        model.set_params(y_transform="log").fit(X, bumps - 0.5)
    with pytest.raises(NotFittedError):
        model.predict(X[:3])
