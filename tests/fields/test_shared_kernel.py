"""FieldGPRegressor's trailing components share one kernel (surrogate/models/_gp_shared.py).

Oracles: the joint likelihood of outputs with a common kernel is, by definition, the mean of
their single-output concentrated likelihoods (checked against ``profile_nll_np`` and by finite
differences); the closed-form decay field ``a exp(-k t)`` is still reproduced when all but the
first component share a kernel.
"""

from __future__ import annotations

import numpy as np
import pytest

import surrogate as sg
from surrogate.models import FieldGPRegressor, field_q2, load
from surrogate.models import _gp_hyper as hyp
from surrogate.models._gp_shared import shared_nll

SPACE = sg.Space([sg.Real("a", 0.5, 2.0), sg.Real("k", 0.1, 1.0)])
TIMES = np.linspace(0.0, 5.0, 41)


def decay(X):
    a, k = X["a"].to_numpy()[:, None], X["k"].to_numpy()[:, None]
    return a * np.exp(-k * TIMES[None, :])


@pytest.fixture(scope="module")
def data():
    X = sg.sample(SPACE, 40, seed=1)
    X_test = sg.sample(SPACE, 300, method="random", seed=2)
    return X, decay(X), X_test, decay(X_test)


@pytest.mark.parametrize("kernel", ["matern52", "rbf"])
def test_the_shared_likelihood_is_the_mean_of_the_outputs_own(kernel):
    rng = np.random.default_rng(0)
    U = rng.uniform(size=(25, 3))
    Y = np.vstack([np.sin(3 * U[:, 0]) + U[:, 1], U[:, 2] ** 2, rng.normal(size=25)])
    theta = np.array([np.log(0.4), np.log(0.7), np.log(1.5), np.log(1e-3)])
    nll, grad = shared_nll(kernel, theta, U, Y)
    each, each_grad = hyp.profile_nll_np(kernel, np.tile(theta, (3, 1)), U, Y)
    np.testing.assert_allclose(nll, each.mean(), rtol=1e-10)
    np.testing.assert_allclose(grad, each_grad.mean(0), rtol=1e-7, atol=1e-12)
    step = 1e-6
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        numeric = (shared_nll(kernel, up, U, Y, grad=False)[0]
                   - shared_nll(kernel, down, U, Y, grad=False)[0]) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-4, abs=1e-7)


def test_components_below_the_share_get_one_kernel(data):
    X, Y, _, _ = data
    model = FieldGPRegressor(n_components=5, shared_kernel_below=0.5, seed=0).fit(X, Y)
    assert model.explained_variance_ratio_[0] >= 0.5 > model.explained_variance_ratio_[1]
    assert model.gp_.n_own == 1
    tail = model.gp_.lengthscale_[1:]
    np.testing.assert_array_equal(tail, np.broadcast_to(tail[0], tail.shape))
    assert not np.allclose(model.gp_.lengthscale_[0], tail[0])
    # one noise ratio for the tail, but each component its own signal variance
    hyper = model.gp_._hyper
    np.testing.assert_array_equal(hyper.g[1:].numpy(), np.full(4, float(hyper.g[1])))
    assert len(set(np.round(hyper.signal_var[1:].numpy(), 12))) == 4
    own = FieldGPRegressor(n_components=5, shared_kernel_below=0.0, seed=0).fit(X, Y)
    assert own.gp_.n_own == 5
    assert len({tuple(np.round(row, 6)) for row in own.gp_.lengthscale_}) == 5


def test_a_shared_tail_still_reproduces_the_closed_form_field(data):
    X, Y, X_test, Y_test = data
    model = FieldGPRegressor(shared_kernel_below=0.5, seed=0).fit(X, Y)
    assert model.n_components_ >= 3 and model.gp_.n_own == 1
    mean, std = model.predict(X_test, return_std=True)
    assert field_q2(Y_test, mean) > 0.999
    assert np.mean(np.abs(Y_test - mean) <= 1.96 * std) > 0.9


def test_components_past_the_numerical_rank_do_not_steer_the_shared_kernel():
    """25 decays on 25 times have a numerical rank near 12: asked for 20 components, the 8
    past it hold rounding (variance shares ~1e-32), which standardized look like unit noise.
    Fitted into the shared kernel they made it a noise fit that smoothed away the real second
    component (test RMSE 1e-2 against 1e-5, most errors beyond 3 std)."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2, 25)
    X, X_test = rng.uniform(0.5, 2, (25, 1)), rng.uniform(0.5, 2, (200, 1))
    Y, Y_test = np.exp(-X * t), np.exp(-X_test * t)
    model = FieldGPRegressor(seed=0, n_components=20).fit(X, Y)
    assert model.explained_variance_ratio_[-1] < 1e-25  # the request reaches past the rank
    mean, std = model.predict(X_test, return_std=True)
    assert np.sqrt(np.mean((mean - Y_test) ** 2)) < 1e-4
    assert np.mean(np.abs(mean - Y_test) > 3 * std) < 0.05
    assert model.gp_.n_fitted < 20


def test_a_shared_tail_saves_and_loads_as_a_plain_gp(data, tmp_path):
    X, Y, X_test, _ = data
    model = FieldGPRegressor(shared_kernel_below=0.5, seed=0).fit(X, Y)
    model.save(tmp_path / "field")
    again = load(tmp_path / "field")
    np.testing.assert_allclose(again.predict(X_test), model.predict(X_test), rtol=1e-10)
    assert type(again.gp_).__name__ == "GPRegressor"
    assert again.shared_kernel_below == 0.5


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half", True])
def test_a_bad_share_is_named(data, bad):
    X, Y, _, _ = data
    with pytest.raises(ValueError, match=r"shared_kernel_below must be a float in \[0, 1\]"):
        FieldGPRegressor(shared_kernel_below=bad).fit(X, Y)


def test_the_shared_kernel_is_fitted_under_the_gps_length_scale_prior(data):
    """A SharedTailGP with ``lengthscale_prior`` fits the shared kernel maximum a posteriori,
    as its own kernels are: the penalized joint objective is stationary at the fitted tail."""
    from surrogate.models._gp_shared import SharedTailGP

    X, Y, _, _ = data
    U = SPACE.to_unit(X)
    centred = Y - Y.mean(axis=0)
    scores = centred @ np.linalg.svd(centred, full_matrices=False)[2][:4].T
    Ys = ((scores - scores.mean(0)) / scores.std(0)).T[1:]  # the tail, as the GP sees it

    def gradient_at_fit(prior):
        gp = SharedTailGP(lengthscale_prior=prior, seed=0)
        gp.n_own = 1
        gp.fit(U, scores)
        theta = np.append(np.log(gp._hyper.lengthscale[1].numpy()),
                          np.log(float(gp._hyper.g[1])))
        inputs = gp._U.numpy()  # the GP's own unit-cube scaling of X
        value, grad = shared_nll("matern52", theta, inputs, Ys)
        _, grad = hyp._penalize("gamma", theta[None], len(U), None, np.array([value]),
                                grad[None])
        free = (theta[:-1] > hyp.LOG_LS_BOUNDS[0] + 1e-6) \
            & (theta[:-1] < hyp.LOG_LS_BOUNDS[1] - 1e-6)
        return np.abs(grad[0][:-1][free]).max()

    assert gradient_at_fit("gamma") < 1e-4
    assert gradient_at_fit(None) > 1e-3  # the maximum-likelihood tail is elsewhere
