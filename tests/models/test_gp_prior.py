"""GPRegressor's length-scale prior (``lengthscale_prior``): the log density against scipy's,
its gradient against finite differences, and the maximum a posteriori fit against the
maximum-likelihood one where the likelihood runs a length scale to its bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from surrogate.models import GPRegressor
from surrogate.models import _gp_hyper as hyp
from surrogate.models import _gp_optim as optim

# prior modes of log l: gamma(3, 6) in log l peaks at l = 3 / 6; the lognormal's log l is normal
MODES = {"gamma": math.log(0.5), "lognormal": math.sqrt(2.0) + 0.5 * math.log(2)}


@pytest.fixture
def tiny():
    """Five points in 2-d where y ignores x1: maximum likelihood runs l_1 to its bound."""
    X = np.array([[0.0, 0.1], [0.5, 0.9], [1.0, 0.4], [0.25, 0.6], [0.75, 0.2]])
    return X, np.sin(3 * X[:, 0])


@pytest.mark.parametrize("prior", hyp.LENGTHSCALE_PRIORS)
def test_log_prior_is_scipys_density_of_log_lengthscale(prior):
    log_ls = np.array([[-2.0, 0.3, 1.5], [0.0, -0.7, 3.0]])  # (B, p), p = 3
    got, _ = hyp.lengthscale_log_prior(prior, log_ls)
    if prior == "gamma":  # density of t = log l: gamma pdf of e^t times the Jacobian e^t
        want = (scipy.stats.gamma(3.0, scale=1 / 6.0).logpdf(np.exp(log_ls)) + log_ls).sum(1)
    else:
        mu = math.sqrt(2.0) + 0.5 * math.log(3)
        want = scipy.stats.norm(mu, math.sqrt(3.0)).logpdf(log_ls).sum(1)
    # equal up to the constant the optimizer does not need
    assert np.allclose(got - got[0], want - want[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("prior", hyp.LENGTHSCALE_PRIORS)
def test_log_prior_gradient_matches_finite_differences(prior):
    log_ls = np.random.default_rng(0).uniform(-3, 3, (4, 5))
    _, grad = hyp.lengthscale_log_prior(prior, log_ls)
    h = 1e-6
    for k in range(log_ls.shape[1]):
        step = np.zeros_like(log_ls)
        step[:, k] = h
        fd = (hyp.lengthscale_log_prior(prior, log_ls + step)[0]
              - hyp.lengthscale_log_prior(prior, log_ls - step)[0]) / (2 * h)
        assert np.allclose(grad[:, k], fd, rtol=1e-6, atol=1e-8)


def test_penalty_skips_categorical_inputs_and_the_noise():
    layout = hyp.Layout.of((0, 3, 0))
    theta = np.array([[0.2, -1.0, 1.1, -9.0]])  # log l (3 inputs), log g
    nll, grad = np.array([0.5]), np.zeros((1, 4))
    nll_p, grad_p = hyp._penalize("gamma", theta, 10, layout, nll, grad)
    log_p, dlog_p = hyp.lengthscale_log_prior("gamma", theta[:, [0, 2]])
    assert np.allclose(nll_p, nll - log_p / 10)
    assert np.allclose(grad_p[:, [0, 2]], -dlog_p / 10)
    assert np.all(grad_p[:, [1, 3]] == 0.0) and np.all(grad == 0.0)  # input not modified
    assert hyp._penalize(None, theta, 10, layout, nll, grad) == (nll, grad)


def test_penalized_objective_gradient_matches_finite_differences(tiny):
    X, y = tiny
    U, Y = torch.as_tensor(X), torch.as_tensor(((y - y.mean()) / y.std())[None, :])
    theta = np.array([[-0.4, 1.2, math.log(1e-6)]])

    def objective(t):
        nll, grad = hyp.profile_nll_np("matern52", t, U.numpy(), Y.numpy())
        return hyp._penalize("gamma", t, len(X), None, nll, grad)

    _, grad = objective(theta)
    h = 1e-6
    for k in range(theta.shape[1]):
        step = np.zeros_like(theta)
        step[0, k] = h
        fd = (objective(theta + step)[0] - objective(theta - step)[0]) / (2 * h)
        assert grad[0, k] == pytest.approx(fd[0], rel=1e-4, abs=1e-7)


@pytest.mark.parametrize("prior", hyp.LENGTHSCALE_PRIORS)
def test_prior_pulls_an_unidentified_lengthscale_toward_its_mode(tiny, prior):
    X, y = tiny
    ml = GPRegressor(seed=0).fit(X, y)
    assert ml._hyper.lengthscale[0, 1] == pytest.approx(math.exp(hyp.LOG_LS_BOUNDS[1]))
    gp = GPRegressor(lengthscale_prior=prior, seed=0).fit(X, y)
    log_l1 = math.log(float(gp._hyper.lengthscale[0, 1]))  # unit-cube coordinates
    assert abs(log_l1 - MODES[prior]) < math.log(2.5)
    # the relevant input stays informed by the data: the model still fits them
    assert np.allclose(gp.predict(X), y, atol=1e-3)


def test_no_prior_is_the_maximum_likelihood_fit_unchanged(tiny):
    X, y = tiny
    a = GPRegressor(seed=0).fit(X, y)
    b = GPRegressor(lengthscale_prior=None, seed=0).fit(X, y)
    assert np.array_equal(a.lengthscale_, b.lengthscale_)
    assert np.array_equal(a.predict(X), b.predict(X))


def test_score_outputs_adds_the_same_prior_term_as_score():
    rng = np.random.default_rng(1)
    U = torch.as_tensor(rng.random((12, 2)))
    Y = torch.as_tensor(rng.standard_normal((3, 12)))
    theta = torch.as_tensor(optim.initial_candidates(2, 4, math.log(1e-6), rng))
    joint = hyp.score_outputs("matern52", theta, U, Y, prior="lognormal")
    for j in range(3):
        single = hyp.score("matern52", theta, U, Y[j].repeat(4, 1), prior="lognormal")
        assert torch.allclose(joint[j], single, rtol=1e-10)


def test_unknown_prior_is_rejected(tiny):
    with pytest.raises(ValueError, match="lengthscale_prior"):
        GPRegressor(lengthscale_prior="cauchy").fit(*tiny)
