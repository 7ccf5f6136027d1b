"""GPRegressor against oracles: interpolation, known length scales, analytic test functions,
gpytorch's own likelihood and posterior, and every bad input."""

from __future__ import annotations

import math
import warnings

import gpytorch
import numpy as np
import pandas as pd
import pytest
import torch

from surrogate.models import GPRegressor, coverage95, q2
from surrogate.models import _gp_hyper as hyp


def _wavy(X):
    return np.sin(5 * X[:, 0]) + X[:, 1] ** 2


@pytest.fixture
def small():
    X = np.random.default_rng(0).random((30, 2))
    return X, _wavy(X)


def test_interpolates_noiseless_training_points(small):
    X, y = small
    gp = GPRegressor(seed=0).fit(X, y)
    mean, std = gp.predict(X, return_std=True)
    assert np.max(np.abs(mean - y)) < 1e-4 * np.ptp(y)
    assert np.max(std) < 1e-3 * np.std(y)
    assert gp.method_ == "exact"


def test_irrelevant_input_gets_the_longest_lengthscale():
    X = np.random.default_rng(1).random((60, 3))
    y = np.sin(6 * X[:, 0]) + 0.5 * X[:, 1]  # x2 plays no role; x0 varies fastest
    ls = GPRegressor(seed=0).fit(X, y).lengthscale_[0]
    assert ls[0] < ls[1] < ls[2]
    assert ls[2] > 30 * ls[0]


def test_borehole_q2_at_n80(borehole_data):
    X, y, Xt, yt = borehole_data
    gp = GPRegressor(seed=0).fit(X, y)
    mean, std = gp.predict(Xt, return_std=True)
    assert q2(yt, mean) >= 0.999
    assert 0.85 <= coverage95(yt, mean, std) <= 1.0  # calibrated on held-out points


def test_ishigami_q2_at_n200(ishigami_data):
    X, y, Xt, yt = ishigami_data
    auto = GPRegressor(kernel="auto", seed=0).fit(X, y)
    assert auto.kernel_ == "rbf"  # the smooth kernel predicts the left-out points better
    assert q2(yt, auto.predict(Xt)) >= 0.99
    # the Matérn-5/2 default is less smooth than Ishigami but still close and calibrated
    mean, std = GPRegressor(seed=0).fit(X, y).predict(Xt, return_std=True)
    assert q2(yt, mean) >= 0.96
    assert 0.9 <= coverage95(yt, mean, std) <= 1.0


def test_multi_output_is_one_batched_model_matching_separate_fits(small):
    X, y = small
    Y = np.column_stack([y, 3 * X[:, 0] - X[:, 1]])
    both = GPRegressor(seed=0).fit(X, Y)
    assert both.predict(X).shape == (30, 2)
    Xt = np.random.default_rng(5).random((50, 2))
    for j in range(2):
        alone = GPRegressor(seed=0).fit(X, Y[:, j]).predict(Xt)
        assert np.allclose(both.predict(Xt)[:, j], alone, atol=1e-4 * np.std(Y[:, j]))
    mean, std = both.predict(Xt, return_std=True)
    assert std.shape == (50, 2)
    assert both.score(X, Y) == pytest.approx(1.0, abs=1e-6)


def test_same_seed_same_model(small):
    X, y = small
    Xt = np.random.default_rng(9).random((20, 2))
    first = GPRegressor(seed=3).fit(X, y).predict(Xt)
    assert np.array_equal(first, GPRegressor(seed=3).fit(X, y).predict(Xt))


@pytest.mark.parametrize("kernel", ["matern52", "matern32", "rbf"])
def test_kernels_and_likelihood_equal_gpytorch(kernel):
    rng = np.random.default_rng(2)
    U = torch.as_tensor(rng.random((25, 2)))
    Y = torch.as_tensor(np.sin(4 * U[:, 0].numpy()) + U[:, 1].numpy())[None]
    theta = torch.tensor([[math.log(0.4), math.log(0.9), math.log(1e-3)]], dtype=torch.float64)
    nll, grad, h = hyp.profile_nll(kernel, theta, U, Y)
    # the same GP written with gpytorch modules, at the profiled mean and signal variance
    if kernel == "rbf":
        base = gpytorch.kernels.RBFKernel(ard_num_dims=2)
    else:
        base = gpytorch.kernels.MaternKernel(nu=2.5 if kernel == "matern52" else 1.5,
                                             ard_num_dims=2)
    covar = gpytorch.kernels.ScaleKernel(base).double()
    covar.base_kernel.lengthscale = h.lengthscale
    covar.outputscale = h.signal_var
    K = covar(U).to_dense()
    assert torch.allclose(K / h.signal_var, hyp.correlation(kernel, U, U, h.lengthscale)[0],
                          atol=1e-12)
    noise = h.g * h.signal_var
    dist = torch.distributions.MultivariateNormal(
        h.mean.expand(25), K + noise * torch.eye(25, dtype=torch.float64))
    full = -dist.log_prob(Y[0]).detach() / 25
    assert float(full) == pytest.approx(float(nll[0].detach()) + 0.5 * math.log(2 * math.pi) + 0.5,
                                        rel=1e-9)
    # analytic gradient against autograd through a plain Cholesky
    th = theta.clone().requires_grad_(True)
    ls, g = th[:, :2].exp(), th[:, 2].exp()
    R = hyp.correlation(kernel, U, U, ls)[0] + g * torch.eye(25, dtype=torch.float64)
    L = torch.linalg.cholesky(R)
    ones = torch.ones(25, 1, dtype=torch.float64)
    a = torch.cholesky_solve(ones, L)
    b = torch.cholesky_solve(Y[0][:, None], L)
    mu = (ones.T @ b) / (ones.T @ a)
    r = Y[0][:, None] - mu
    s2 = (r.T @ torch.cholesky_solve(r, L)) / 25
    value = 0.5 * torch.log(s2) + torch.log(torch.diagonal(L)).sum() / 25
    value.sum().backward()
    assert torch.allclose(grad, th.grad, rtol=1e-6, atol=1e-9)


def test_posterior_mean_equals_gpytorch_exact_gp(small):
    X, y = small
    gp = GPRegressor(seed=0).fit(X, y)
    h = gp._hyper
    U = gp._U

    class Exact(gpytorch.models.ExactGP):
        def __init__(self, x, t, likelihood):
            super().__init__(x, t, likelihood)
            self.mean_module = gpytorch.means.ConstantMean()
            self.covar_module = gpytorch.kernels.ScaleKernel(
                gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=2))

        def forward(self, x):
            return gpytorch.distributions.MultivariateNormal(self.mean_module(x),
                                                             self.covar_module(x))

    likelihood = gpytorch.likelihoods.GaussianLikelihood(
        noise_constraint=gpytorch.constraints.GreaterThan(1e-12)).double()
    Ys = torch.as_tensor((y - gp._y_mean[0]) / gp._y_std[0])
    ref = Exact(U, Ys, likelihood).double()
    ref.covar_module.base_kernel.lengthscale = h.lengthscale
    ref.covar_module.outputscale = h.signal_var
    ref.mean_module.constant.data.fill_(float(h.mean[0]))
    likelihood.noise = h.g * h.signal_var
    ref.eval()
    Xt = np.random.default_rng(4).random((40, 2))
    Ut = torch.as_tensor((Xt - gp._x_low) / gp._x_scale)
    with torch.no_grad(), gpytorch.settings.fast_pred_var(False):
        post = ref(Ut)
    ours_mean, ours_var = gp._predict_std_units(Ut)
    assert np.allclose(ours_mean[0].numpy(), post.mean.numpy(), atol=1e-8)
    # ours adds the (non-negative) uncertainty of the estimated constant mean
    assert np.all(ours_var[0].numpy() >= post.variance.numpy() - 1e-10)


def test_predict_torch_is_differentiable_in_original_units(small):
    X, y = small
    gp = GPRegressor(seed=0).fit(X * 10 + 5, y * 100)
    x = torch.tensor([[7.0, 9.0]], dtype=torch.float64, requires_grad=True)
    mean, var = gp._predict_torch(x)
    assert mean.shape == var.shape == (1, 1)
    mean.sum().backward()
    # Central differences with Richardson extrapolation (error O(h^4)) at a step that is small
    # against the inputs' span of 10 but large against rounding: a 1e-6 step divides the exact
    # GP's ~1e-8 prediction noise (1e-10 nugget, BLAS-kernel dependent) by 2e-6 and left the
    # estimate wrong in the 4th digit on some machines; here rounding and truncation both stay
    # below 1e-7 relative.
    x0 = x.detach().numpy()

    def central(h):
        step = np.array([[h, 0.0]])
        return float((gp.predict(x0 + step) - gp.predict(x0 - step))[0]) / (2 * h)

    h = 0.05
    richardson = (4 * central(h / 2) - central(h)) / 3
    assert float(x.grad[0, 0]) == pytest.approx(richardson, rel=1e-6)
    np_mean, np_std = gp.predict(x.detach().numpy(), return_std=True)
    assert float(mean.detach()) == pytest.approx(float(np_mean[0]), rel=1e-12)
    assert float(var.detach().sqrt()) == pytest.approx(float(np_std[0]), rel=1e-9)


def test_sample_posterior_matches_mean_and_std(small):
    X, y = small
    gp = GPRegressor(seed=0).fit(X, y)
    Xt = np.random.default_rng(6).random((4, 2)) * 1.3  # partly outside the data
    draws = gp.sample_posterior(Xt, 4000, seed=0)
    assert draws.shape == (4000, 4, 1)
    mean, std = gp.predict(Xt, return_std=True)
    assert np.all(np.abs(draws[:, :, 0].mean(axis=0) - mean) < 5 * std / np.sqrt(4000) + 1e-9)
    assert np.allclose(draws[:, :, 0].std(axis=0), std, rtol=0.1)
    assert np.array_equal(draws, gp.sample_posterior(Xt, 4000, seed=0))


def test_sample_posterior_where_the_gp_is_nearly_exact(borehole_sample):
    # borehole at n = 200 is fitted to ~1e-6 relative error: the joint posterior covariance
    # of 1,500 points is a difference of nearly equal matrices, indefinite by rounding
    X, y, Xt, _ = borehole_sample(200)
    gp = GPRegressor(kernel="auto", seed=0).fit(X, y)
    draws = gp.sample_posterior(Xt, 500, seed=0)[:, :, 0]
    mean, std = gp.predict(Xt, return_std=True)
    assert np.all(np.isfinite(draws))
    assert np.median(draws.std(axis=0) / std) == pytest.approx(1.0, abs=0.1)
    assert np.median(np.abs(draws.mean(axis=0) - mean) / std) < 0.2


def test_psd_root_of_a_matrix_made_indefinite_by_rounding():
    from surrogate.models._gp import _psd_root

    rng = np.random.default_rng(0)
    A = torch.as_tensor(rng.standard_normal((2, 30, 3)))
    C = A @ A.transpose(-1, -2)  # rank 3
    C[1] -= 1e-6 * torch.eye(30, dtype=torch.float64)  # indefinite beyond any jitter
    F = _psd_root(C)
    assert torch.allclose(F[0] @ F[0].T, C[0], atol=1e-8)
    sd = C[1].diagonal().sqrt()
    values, vectors = torch.linalg.eigh(C[1] / torch.outer(sd, sd))
    nearest = vectors @ torch.diag(values.clamp_min(0)) @ vectors.T  # PSD part, then unit
    nearest = nearest / torch.outer(nearest.diagonal().sqrt(), nearest.diagonal().sqrt())
    assert torch.allclose(F[1] @ F[1].T, torch.outer(sd, sd) * nearest, atol=1e-8)
    assert torch.allclose((F[1] @ F[1].T).diagonal(), C[1].diagonal(), rtol=1e-10)
    # a variance far below the others is reproduced, not swamped by the jitter
    D = torch.diag(torch.tensor([1.0, 1e-14, 1.0], dtype=torch.float64))
    G = _psd_root(D[None])[0]
    assert torch.allclose(G @ G.T, D, rtol=1e-6, atol=1e-20)


def test_dataframe_columns_are_matched_by_name(small):
    X, y = small
    df = pd.DataFrame(X, columns=["a", "b"])
    gp = GPRegressor(seed=0).fit(df, pd.DataFrame({"out": y}))
    assert gp.outputs_ == ["out"]
    assert GPRegressor(seed=0).fit(df, pd.Series(y, name="out")).outputs_ == ["out"]
    assert GPRegressor(seed=0).fit(df, pd.Series(y)).outputs_ is None
    assert list(gp.feature_names_in_) == ["a", "b"]
    assert np.array_equal(gp.predict(df[["b", "a"]]), gp.predict(df))
    with pytest.raises(ValueError, match="missing the columns"):
        gp.predict(df[["a"]])


def test_scalable_path_on_request():
    rng = np.random.default_rng(0)
    X = rng.random((1500, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2]
    gp = GPRegressor(method="svgp", n_inducing=200, seed=0).fit(X, y)
    assert gp.method_ == "svgp"
    Xt = rng.random((500, 3))
    yt = np.sin(3 * Xt[:, 0]) + Xt[:, 1] * Xt[:, 2]
    mean, std = gp.predict(Xt, return_std=True)
    assert q2(yt, mean) > 0.999
    assert coverage95(yt, mean, std) > 0.85
    auto = GPRegressor(max_exact=1000, n_inducing=100, seed=0).fit(X, y)
    assert auto.method_ == "svgp"
    # the differentiable posterior the optimizers and the sequential loop call
    X_torch = torch.as_tensor(Xt[:50], dtype=torch.float64).requires_grad_()
    mean_t, var_t = gp._predict_torch(X_torch)
    np.testing.assert_allclose(mean_t[:, 0].detach().numpy(), mean[:50], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(var_t[:, 0].detach().numpy(), std[:50] ** 2, rtol=1e-6,
                               atol=1e-12)
    mean_t.sum().backward()
    assert X_torch.grad is not None and torch.isfinite(X_torch.grad).all()


# -- robustness ------------------------------------------------------------------------------

def test_duplicate_inputs_with_equal_targets(small):
    X, y = small
    Xd, yd = np.vstack([X, X[:10]]), np.concatenate([y, y[:10]])
    gp = GPRegressor(fit_noise=False, seed=0).fit(Xd, yd)
    assert np.max(np.abs(gp.predict(X) - y)) < 1e-3 * np.ptp(y)


def test_duplicate_inputs_with_conflicting_targets_raise_the_noise(small):
    X, y = small
    Xd = np.vstack([X, X])
    yd = np.concatenate([y + 0.05, y - 0.05])
    gp = GPRegressor(seed=0).fit(Xd, yd)
    assert gp.noise_[0] == pytest.approx(0.05**2, rel=0.5)
    assert np.max(np.abs(gp.predict(X) - y)) < 0.05


def test_near_singular_kernel_is_handled(small):
    X, y = small
    Xn = np.vstack([X, X[:5] + 1e-13])  # nearly identical rows, smooth kernel, no noise fit
    yn = np.concatenate([y, y[:5]])
    gp = GPRegressor(kernel="rbf", fit_noise=False, noise_floor=1e-12, seed=0).fit(Xn, yn)
    assert np.all(np.isfinite(gp.predict(X, return_std=True)))
    assert q2(y, gp.predict(X)) > 0.999


def test_a_run_repeated_exactly_is_fitted_once():
    # counted again, it weighed the data against the prior: borehole's runs given twice fitted
    # length scales 6x shorter and predicted 2.3x worse
    rng = np.random.default_rng(2)
    X = rng.random((30, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    grid = rng.random((50, 3))
    once = GPRegressor(seed=0).fit(X, y)
    repeated = GPRegressor(seed=0).fit(np.vstack([X, X[:12], X[:5]]), np.r_[y, y[:12], y[:5]])
    for a, b in zip(once.predict(grid, return_std=True), repeated.predict(grid, return_std=True),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    # a repeat with another output is data for the noise: kept
    noisy = GPRegressor(seed=0).fit(np.vstack([X, X[:1]]), np.r_[y, y[0] + 0.1])
    assert not np.array_equal(noisy.predict(grid), once.predict(grid))


def test_how_often_each_output_came_at_a_repeated_point_is_kept():
    # a 0/1 output run 50 times at each of two points: one row per distinct (x, y) was kept,
    # so the GP predicted 0.5 at both instead of the shares 0.9 and 0.1
    X = np.repeat([[0.0], [1.0]], 50, axis=0)
    y = np.r_[np.ones(45), np.zeros(5), np.ones(5), np.zeros(45)]
    np.testing.assert_allclose(GPRegressor(seed=0).fit(X, y).predict([[0.0], [1.0]]),
                               [0.9, 0.1], atol=0.02)


def test_constant_output_and_constant_column():
    X = np.random.default_rng(0).random((20, 2))
    X[:, 1] = 3.0
    gp = GPRegressor(seed=0).fit(X, np.full(20, 7.0))
    mean, std = gp.predict(np.random.default_rng(1).random((5, 2)), return_std=True)
    assert np.allclose(mean, 7.0)
    assert np.all(std < 1e-6)


def test_nan_target_is_a_clear_error(small):
    X, y = small
    y = y.copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN.*rows \\[3\\]"):
        GPRegressor().fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_are_a_clear_error(small, bad):
    X, y = small
    X = X.copy()
    X[0, 0] = bad
    with pytest.raises(ValueError, match="(?i)nan|infinity"):
        GPRegressor().fit(X, y)


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"kernel": "cubic"}, ValueError, "kernel must be one of"),
    ({"noise_floor": 0.0}, ValueError, "noise_floor"),
    ({"noise_floor": "small"}, TypeError, "noise_floor"),
    ({"fit_noise": "yes"}, TypeError, "fit_noise"),
    ({"n_restarts": 0}, ValueError, "n_restarts"),
    ({"method": "sparse"}, ValueError, "method must be one of"),
    ({"n_inducing": 1}, ValueError, "n_inducing"),
    ({"seed": "zero"}, TypeError, "seed"),
    ({"device": "tpu"}, ValueError, "device"),
])
def test_bad_parameters_name_themselves(small, params, error, match):
    X, y = small
    with pytest.raises(error, match=match):
        GPRegressor(**params).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without a GPU")
def test_cuda_without_gpu_is_a_clear_error(small):
    X, y = small
    with pytest.raises(ValueError, match="cuda"):
        GPRegressor(device="cuda").fit(X, y)


def test_wrong_number_of_features_at_predict(small):
    X, y = small
    gp = GPRegressor(seed=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        gp.predict(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n_samples"):
        gp.sample_posterior(X[:2], 0)


def test_y_with_a_repeated_column_name_is_refused():
    import pandas as pd

    X = np.random.default_rng(0).random((10, 2))
    Y = pd.DataFrame(np.column_stack([X[:, 0], X[:, 1]]), columns=["y", "y"])
    with pytest.raises(ValueError, match=r"y has repeated column\(s\) \['y'\]"):
        GPRegressor(seed=0).fit(X, Y)


def test_score_refuses_nan_targets_as_fit_does():
    X = np.random.default_rng(0).random((10, 2))
    model = GPRegressor(seed=0).fit(X, X[:, 0])
    y = X[:, 0].copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match=r"y contains NaN \(e.g. rows \[3\]\)"):
        model.score(X, y)


def test_score_reads_a_frame_of_outputs_by_name_as_predict_reads_inputs():
    # y's columns in another order were scored by position: Q² of -18,000 for a perfect fit
    import pandas as pd

    X = pd.DataFrame(np.random.default_rng(0).random((20, 2)), columns=["a", "b"])
    Y = pd.DataFrame({"u": np.sin(3 * X["a"]), "v": 100 * X["b"]})
    model = GPRegressor(seed=0).fit(X, Y)
    assert model.score(X, Y[["v", "u"]]) == model.score(X, Y) > 0.99
    with pytest.raises(ValueError, match=r"y is missing the output column\(s\) \['v'\]"):
        model.score(X, Y.rename(columns={"v": "w"}))


def test_svgp_mean_alone_equals_the_mean_given_with_the_std():
    """predict(X) takes the SVGP's mean by one vector product (c + Kmk^T Lmm^-T m_v), not the
    triangular solve per point that the std needs; the two means agree."""
    rng = np.random.default_rng(0)
    X = rng.random((300, 2))
    Y = np.column_stack([np.sin(3 * X.sum(1)), X[:, 0] ** 2])
    model = GPRegressor(method="svgp", n_inducing=64, seed=0).fit(X, Y)
    Xt = rng.random((500, 2))
    mean, _ = model.predict(Xt, return_std=True)
    np.testing.assert_allclose(model.predict(Xt), mean, rtol=0, atol=1e-8)


def test_outputs_whose_squares_overflow_are_still_predicted():
    # np.std of values of 1e160 overflows: the output scale was inf and predictions NaN
    from surrogate.models import NNRegressor

    X = np.random.default_rng(0).random((30, 2))
    y = (1.0 + X[:, 0] + X[:, 1] ** 2) * 1e160
    with np.errstate(over="ignore"):
        mean = GPRegressor(seed=0).fit(X, y).predict(X[:5])
        nn = NNRegressor(n_ensemble=1, max_epochs=5, seed=0).fit(X, y).predict(X[:5])
    np.testing.assert_allclose(mean, y[:5], rtol=1e-4)
    assert np.isfinite(nn).all()


def test_repeated_points_with_other_outputs_warn_without_a_fitted_noise():
    # fit_noise=False cannot explain them: length scales ran to ~970, held-out error tripled
    rng = np.random.default_rng(0)
    X = rng.random((20, 2))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2
    X2, y2 = np.r_[X, X[:5]], np.r_[y, y[:5] + 0.5]
    with pytest.warns(UserWarning, match="5 run\\(s\\) repeat a point of X with other outputs") \
            as caught:
        GPRegressor(seed=0, fit_noise=False).fit(X2, y2)
    assert caught[0].filename == __file__  # the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GPRegressor(seed=0, fit_noise=False).fit(np.r_[X, X[:5]], np.r_[y, y[:5]])  # agree
        GPRegressor(seed=0).fit(X2, y2)  # a fitted noise explains them
