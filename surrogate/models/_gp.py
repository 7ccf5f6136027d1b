"""Gaussian-process regression surrogate: exact GP for small and medium n, SVGP for large n.

Stage "models" of the pipeline (transfer set -> student). Inputs are mapped to the unit cube
(training min/max) and each output is standardized; everything inside is float64 torch.
Hyperparameters come from :mod:`surrogate.models._gp_hyper` (concentrated marginal likelihood,
batched L-BFGS-B restarts); large data sets go to :mod:`surrogate.models._svgp`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin

from surrogate._threads import fitted_size, limits_threads
from surrogate.models import _gp_hyper as hyp
from surrogate.models import _gp_optim as optim
from surrogate.models._base import (
    DTYPE,
    MultiOutputMixin,
    Q2ScoreMixin,
    SurrogateMixin,
    _check_shape,
    check_choice,
    check_flag,
    check_positive_float,
    check_positive_int,
    column_scale,
    to_tensor,
)
from surrogate.models._gp_coords import cell_codes, clip_far, near_duplicates
from surrogate.models._gp_latent import encode_latent, fit_positions, place_unseen
from surrogate.models._gp_stages import BatchedSteps, fit_stages
from surrogate.models._inputs import InputEncoding

__all__ = ["GPRegressor"]

N_EXPLORE = 300  # restarts run on at most this many points, then the best is refined on more
N_HYPER = 1000  # hyperparameters are refined on at most this many points (exact Cholesky)
AUTO_KERNELS = ("matern52", "rbf")  # the candidates of kernel="auto"
DEFAULT_FLOOR = 1e-10  # the noise floor when noise_floor=None
AUTO_NUGGETS = (1e-10, 1e-12, 1e-14)  # interpolating nuggets of kernel="auto", noise_floor=None
NOISE_AT_FLOOR = 10.0  # a fitted noise within this factor of the floor counts as at the floor
CHUNK = 4_000_000  # elements of a (m, chunk, n) cross-covariance block at predict time


class GPRegressor(MultiOutputMixin, Q2ScoreMixin, SurrogateMixin, RegressorMixin, BaseEstimator):
    """Gaussian-process regressor for deterministic simulators (exact or scalable).

    A zero-noise-aware GP: constant mean, stationary ARD kernel, Gaussian likelihood whose
    noise is fitted but never below ``noise_floor`` times the signal variance (simulators are
    deterministic; a floor rather than a fixed value keeps ill-conditioned designs stable and
    lets noisy data raise it). Multi-output ``y`` (n, m) is one batched model with its own
    hyperparameters per output.

    Categorical inputs (strings, booleans or pandas ``category`` columns, as ``sg.sample``
    makes them for a ``sg.Categorical``) get one of two kernels (``categorical``). The
    exchangeable kernel multiplies the ARD kernel of the numeric inputs: any two different
    levels of an input correlate with one fitted ``rho`` (``level_correlation_``), which may
    be negative (a switch that turns the response around); see
    :mod:`surrogate.models._gp_hyper`. Latent positions put each level at a fitted point on a
    line (``level_positions_``) that the kernel then treats as a numeric input: levels that
    act alike lie close together (see :mod:`surrogate.models._gp_latent`). Integers are
    numeric (ordered). The levels seen at fit are ``categories_``; another level at predict
    is an error.

    Parameters
    ----------
    kernel : {"matern52", "matern32", "rbf", "auto"}, default="matern52"
        Correlation function, with one length scale per input. ``"auto"`` fits Matérn-5/2
        and RBF, each with the noise fitted and at the floor, and keeps the model with the
        lowest leave-one-out error (closed form; the kernel is recorded in ``kernel_``). It
        chooses for the mean, not the band: where it picks RBF, the 95 % band is often too
        narrow (held-out coverage 0.6-0.87 on otl_circuit and borehole with 30-120 runs,
        against 0.91-0.98 for Matérn-5/2, whose mean was as good); keep ``"matern52"`` where
        the standard deviation matters (adaptive designs, bands, REDS's probabilities).
    noise_floor : float or None, default=None
        Lower bound of the noise variance relative to the signal variance (the nugget).
        ``None``: 1e-10; with ``kernel="auto"`` the interpolating models may also take a
        nugget of 1e-12 or 1e-14 (numerically riskier, so kept only where it lowers the
        leave-one-out error, which is computed with the same arithmetic; not tried when two
        runs are closer than 1e-6 in the unit cube, where the predictive variance would lose
        its digits).
    fit_noise : bool, default=True
        Fit the noise by maximum likelihood (above the floor); ``False`` keeps it at the floor,
        an interpolating GP as in Kriging for deterministic simulators. With ``kernel="auto"``
        each output keeps the fitted noise or the floor, whichever has the lower
        leave-one-out error.
    n_restarts : int, default=3
        L-BFGS-B starts per output: the best of 24 scored initial guesses race for a few
        iterations and the leader is optimized to convergence. Restarts run on a subset of
        at most 300 points; the winner is then refined on up to 1,000 points.
    categorical : {"auto", "exchangeable", "latent"}, default="auto"
        The kernel of categorical inputs (see above). ``"auto"`` fits both and keeps the
        model of the higher likelihood on the refinement subset, the latent one penalized by
        BIC for its positions (``categorical_`` says which). On the mixed-input benchmark
        (``python -m benchmarks mixed``) the latent positions win where a category stands
        for a hidden quantity (a beam's section, a policy's strength) and the exchangeable
        kernel where a switch turns the response around. Without categorical inputs the
        option does nothing.
    method : {"auto", "exact", "svgp"}, default="auto"
        ``"exact"``: exact GP (Cholesky); ``"svgp"``: variational GP with inducing points
        (gpytorch), its variational distribution set to the closed-form optimum (Titsias 2009)
        for the hyperparameters of an exact fit on a subset; ``"auto"``: exact up to
        ``max_exact`` points.
    max_exact : int, default=6000
        Largest n fitted exactly when ``method="auto"``.
    n_inducing : int, default=1024
        Inducing points of the SVGP.
    lengthscale_prior : {"gamma", "lognormal"} or None, default=None
        ``None``: the hyperparameters maximize the likelihood. Otherwise a prior on each
        numeric input's length scale (in unit-cube coordinates, i.e. relative to the input's
        training range) makes the fit maximum a posteriori: ``"gamma"`` is ``Gamma(3, 6)``
        (mean 1/2), ``"lognormal"`` the dimension-scaled ``LogNormal(sqrt(2) + log(d) / 2,
        sqrt(3))`` of Hvarfner et al. (2024). With a few dozen points, maximum likelihood
        may run length scales to their bound (a near-flat direction); a prior keeps them
        where the data do not say otherwise. Bayesian optimization (``sg.minimize``) uses
        ``"gamma"`` (with its default ``escape=True``, one point per round).
    seed : int, numpy.random.Generator or None
        Seeds the restarts, subsets and SVGP training.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"`` (when torch sees a GPU).

    Attributes
    ----------
    method_ : str
        ``"exact"`` or ``"svgp"``.
    kernel_ : str
        The kernel used (resolves ``"auto"``).
    lengthscale_ : ndarray of shape (n_outputs, n_features)
        Length scales in the original input units; for a categorical input with ``L`` levels,
        the ``l`` of ``rho = rho_min + (1 - rho_min) exp(-1 / (2 l^2))``,
        ``rho_min = -1 / (L - 1)`` (exchangeable kernel), or the length scale along the line
        of its positions (latent positions).
    level_correlation_ : dict
        Per categorical input (by name, or position): the correlation of two different levels,
        ndarray of shape (n_outputs,) (exchangeable kernel; empty with latent positions).
    level_positions_ : dict
        Per categorical input: the positions of its levels (ndarray of shape (L,), the first
        at 0), in the units of that column's length scale (latent positions; else empty).
    categorical_ : {"exchangeable", "latent"} or None
        The kernel of the categorical inputs (resolves ``"auto"``; None without any).
    noise_ : ndarray of shape (n_outputs,)
        Noise variance in the original output units.
    n_outputs_ : int
    categories_ : dict
        The categorical inputs (by name, or position for an array) and their levels.
    feature_names_in_ : ndarray of str (only when X was a DataFrame)
    n_features_in_ : int
    data_min_, data_max_ : ndarray of shape (n_features,)
        The training inputs' range per column (uses of the model warn when they leave it;
        NaN for a categorical column).
    n_samples_fit_ : int
        Training points.

    Notes
    -----
    Internal contract for other stages (optimization, sensitivity):
    ``_predict_torch(X)`` takes a float64 tensor (n, d) in the original input coordinates and
    returns the posterior mean and variance, each (n, m), in original output units,
    differentiable with respect to ``X``; ``sample_posterior(X, n_samples, seed=None)`` draws
    joint posterior samples, shape (n_samples, n, m).

    The exact posterior includes the uncertainty of the constant mean (ordinary kriging), so
    95% intervals stay calibrated with few points.

    References
    ----------
    Rasmussen & Williams (2006), Gaussian Processes for Machine Learning, Alg. 2.1.
    Jones, Schonlau & Welch (1998), Efficient global optimization of expensive black-box
    functions, J. Global Optim. 13, eq. 4-6 (concentrated likelihood).
    Hensman, Fusi & Lawrence (2013), Gaussian processes for big data (SVGP).
    Hvarfner, Hellsten & Nardi (2024), Vanilla Bayesian optimization performs great in high
    dimensions, ICML (the dimension-scaled length-scale prior).
    Zhang, Tao, Chen & Apley (2020), A latent variable approach to Gaussian process modeling
    with qualitative and quantitative factors, Technometrics 62 (latent positions).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 12)[:, None]
    >>> gp = GPRegressor(seed=0).fit(X, np.sin(6 * X[:, 0]))
    >>> mean, std = gp.predict([[0.5]], return_std=True)
    >>> bool(abs(mean[0] - np.sin(3.0)) < 1e-3)
    True
    """

    def __init__(self, *, kernel: Literal["matern52", "matern32", "rbf", "auto"] = "matern52",
                 noise_floor: float | None = None, fit_noise: bool = True, n_restarts: int = 3,
                 method: Literal["auto", "exact", "svgp"] = "auto", max_exact: int = 6000,
                 n_inducing: int = 1024,
                 lengthscale_prior: Literal["gamma", "lognormal"] | None = None,
                 categorical: Literal["exchangeable", "latent", "auto"] = "auto",
                 seed: Any = None, device: str = "cpu") -> None:
        self.kernel = kernel
        self.noise_floor = noise_floor
        self.fit_noise = fit_noise
        self.n_restarts = n_restarts
        self.method = method
        self.max_exact = max_exact
        self.n_inducing = n_inducing
        self.lengthscale_prior = lengthscale_prior
        self.categorical = categorical
        self.seed = seed
        self.device = device

    # -- fit ----------------------------------------------------------------------------------
    def _check_params(self) -> None:
        self._check_common()
        check_choice("kernel", self.kernel, (*hyp.KERNELS, "auto"))
        if self.noise_floor is not None:
            check_positive_float("noise_floor", self.noise_floor, upper=1.0)
        check_flag("fit_noise", self.fit_noise)
        check_positive_int("n_restarts", self.n_restarts)
        check_choice("method", self.method, ("auto", "exact", "svgp"))
        check_positive_int("max_exact", self.max_exact, 2)
        check_positive_int("n_inducing", self.n_inducing, 2)
        if self.lengthscale_prior is not None:
            check_choice("lengthscale_prior", self.lengthscale_prior, hyp.LENGTHSCALE_PRIORS)
        check_choice("categorical", self.categorical, ("exchangeable", "latent", "auto"))

    @limits_threads()
    def fit(self, X: Any, y: Any) -> GPRegressor:
        """Fit the GP to inputs ``X`` (n, d) and targets ``y`` (n,) or (n, m).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Must be finite (drop failed runs first).

        Returns
        -------
        self
        """
        self._check_params()
        X, y = self._validate_fit(X, y, multi_output=True)
        X = self._take_cells(X)
        X, Y = _distinct_runs(X, y.reshape(len(y), -1))
        self._y_1d = y.ndim == 1
        self.n_outputs_ = Y.shape[1]
        self._set_scalers(X, Y)
        if not self.fit_noise:
            _warn_if_repeats_disagree(X, Y)
        dev = self._device
        rng = self._rng()
        n = len(X)
        self._latent: dict[int, np.ndarray] = {}
        Ys = to_tensor(((Y - self._y_mean) / self._y_std).T, dev)  # (m, n)
        self.method_ = self.method if self.method != "auto" else (
            "exact" if n <= self.max_exact else "svgp")
        # one pair of subsets for every kernel, so that their fits are comparable
        subsets = (_subset(n, N_EXPLORE, rng), _subset(n, N_HYPER, rng))
        levels = {j: n_levels for j, n_levels in enumerate(self._column_levels()) if n_levels}
        if self.categorical == "exchangeable" or not any(k > 1 for k in levels.values()):
            # (a categorical of one level is constant: no positions to place)
            U = to_tensor(self._to_unit(X), dev)
            self.kernel_, theta = self._fit_theta(U, Ys, subsets, rng)
        else:
            U, theta = self._fit_categorical(X, Ys, levels, subsets, rng)
        if self.method_ == "exact":
            self._condition(U, Ys, theta)
        else:
            from surrogate.models._svgp import fit_svgp

            with torch.no_grad():  # hyperparameters in closed form on the refinement subset
                sub = subsets[1]
                hyper = hyp.profile_nll(self.kernel_, theta, U[sub], Ys[:, sub], grad=False,
                                        layout=self._layout)[2]

            self._svgp = fit_svgp(self.kernel_, U, Ys, hyper, n_inducing=self.n_inducing,
                                  rng=rng, noise_floor=self._floor, layout=self._layout)
            self._hyper = hyper
        self._set_public_attributes()
        return self

    def _fit_theta(self, U: torch.Tensor, Ys: torch.Tensor,
                   subsets: tuple[torch.Tensor, torch.Tensor], rng: np.random.Generator
                   ) -> tuple[str, torch.Tensor]:
        """The kernel (``kernel="auto"`` chooses) and its hyperparameters on ``U``."""
        if self.kernel == "auto":
            return self._select(U, Ys, subsets, rng)
        return self.kernel, self._fit_hyper(self.kernel, U, Ys, subsets, rng)

    def _fit_categorical(self, X: np.ndarray, Ys: torch.Tensor, levels: dict[int, int],
                         subsets: tuple[torch.Tensor, torch.Tensor], rng: np.random.Generator
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        """``categorical="latent"`` or ``"auto"``: fit the levels' positions, then the GP on
        them; with ``"auto"`` also the exchangeable kernel, and keep the model of the higher
        likelihood on the refinement subset, less BIC's penalty for the positions."""
        dev = self._device
        codes = self._to_unit(X)  # no positions yet: categories as codes
        exchangeable = hyp.Layout.of(self._column_levels())
        candidates: list[tuple[dict[int, np.ndarray], torch.Tensor, str, torch.Tensor]] = []
        if self.categorical == "auto":
            U = to_tensor(codes, dev)
            candidates.append(({}, U, *self._fit_theta(U, Ys, subsets, rng)))
        search = subsets[0].numpy()
        positions = place_unseen(
            fit_positions("matern52" if self.kernel == "auto" else self.kernel, codes[search],
                          Ys[:, search].cpu().numpy(), levels, rng), codes)
        self._latent = positions  # the fit below sees the positions (and no layout)
        U = to_tensor(encode_latent(codes, positions), dev)
        candidates.append((positions, U, *self._fit_theta(U, Ys, subsets, rng)))
        refine = subsets[1]
        n_free = sum(n_levels - 1 for n_levels in levels.values())

        def penalized_nll(candidate: tuple[Any, ...]) -> float:
            latent, U_c, kernel, theta = candidate
            nll = hyp.profile_nll(kernel, theta, U_c[refine], Ys[:, refine], grad=False,
                                  layout=None if latent else exchangeable)[0]
            m = len(refine)
            return float(nll.sum()) + (0.5 * n_free * math.log(m) / m if latent else 0.0)

        scores = [penalized_nll(c) for c in candidates]
        latent, U, self.kernel_, theta = candidates[int(np.argmin(scores))]
        self._latent = latent
        return U, theta

    def _take_cells(self, X: np.ndarray) -> np.ndarray:
        """Inputs ``X`` (n, d) of a GP given ``_cells`` (``{column: levels}``, set by the
        sequential loop before ``fit``): those columns hold unit-cube coordinates of categorical
        parameters (see :mod:`surrogate.space`); they become categories, their codes the cell
        each point falls in, so that the kernel made for categories models them (not the
        continuous kernel over ordered cell centres). The same reading applies at predict."""
        cells = getattr(self, "_cells", None)
        if not cells:
            return X
        positions = tuple(sorted(cells))
        if self._input_encoding.positions or positions[-1] >= X.shape[1]:
            raise ValueError(f"_cells {cells} do not fit inputs of {X.shape[1]} numeric columns")
        self._encoding = InputEncoding(positions, positions,
                                       tuple(tuple(range(cells[j])) for j in positions))
        self.categories_ = self._encoding.as_dict()
        self.data_min_[list(positions)] = self.data_max_[list(positions)] = np.nan
        return cell_codes(X, cells)

    def _validate_predict(self, X: Any) -> np.ndarray:
        cells = getattr(self, "_cells", None)
        if cells:  # unit-cube coordinates of the cells -> their codes, then the usual checks
            _check_shape(type(self).__name__, X)
            X = cell_codes(np.asarray(X, dtype=np.float64), cells)
        return super()._validate_predict(X)

    @property
    def _floor(self) -> float:
        """The noise floor in force (``noise_floor``, or DEFAULT_FLOOR for None)."""
        return DEFAULT_FLOOR if self.noise_floor is None else float(self.noise_floor)

    @property
    def _layout(self) -> hyp.Layout | None:
        """The categorical inputs (None when all are numeric, or have latent positions)."""
        if getattr(self, "_latent", None):
            return None
        return hyp.Layout.of(self._column_levels())

    def _set_scalers(self, X: np.ndarray, Y: np.ndarray) -> None:
        categorical = np.asarray(self._column_levels()) > 0
        self._x_low = np.where(categorical, 0.0, X.min(axis=0))  # categories keep their codes
        span = X.max(axis=0) - self._x_low
        # a constant column stays at 0
        self._x_scale = np.where((span > 0) & ~categorical, span, 1.0)
        self._y_mean = Y.mean(axis=0)
        self._y_std = column_scale(Y)  # constant output: a flat GP at its value

    def _to_unit(self, X: np.ndarray) -> np.ndarray:
        """The GP's coordinates: numeric inputs scaled to the unit cube, categories as codes
        or, with ``categorical="latent"``, as their levels' positions."""
        return clip_far(encode_latent((X - self._x_low) / self._x_scale,
                                      getattr(self, "_latent", {})))

    def _fit_hyper(self, kernel: str, U: torch.Tensor, Ys: torch.Tensor,
                   subsets: tuple[torch.Tensor, torch.Tensor], rng: np.random.Generator,
                   *, tight: bool = True) -> torch.Tensor:
        """Candidates and restarts on the explore subset, refinement on the larger one, each
        output with its own hyperparameters (see :func:`fit_stages`)."""
        return fit_stages(BatchedSteps(self, kernel), U, Ys, subsets, rng, tight=tight)

    def _select(self, U: torch.Tensor, Ys: torch.Tensor,
                subsets: tuple[torch.Tensor, torch.Tensor], rng: np.random.Generator
                ) -> tuple[str, torch.Tensor]:
        """``kernel="auto"``: each kernel of AUTO_KERNELS with its noise fitted (if ``fit_noise``)
        and at the floor; per output the noise with the lower leave-one-out error, then the
        kernel with the lower summed error (on the refinement subset). With
        ``noise_floor=None`` the chosen kernel then also tries the smaller interpolating
        nuggets of AUTO_NUGGETS, each kept per output only where it lowers the error.

        Cross-validation rather than likelihood picks the model: on deterministic simulators
        the likelihood often prefers a little noise or a rougher kernel that predicts worse
        (Bachoc 2013 shows CV is the more robust choice when the kernel is misspecified).
        """
        refine = subsets[1]
        U_r, Y_r = U[refine], Ys[:, refine]
        # an output whose repeated points differ cannot be interpolated: the interpolating fit
        # ran its length scales off to the hundreds, and its leave-one-out error (each left-out
        # run's twins stay in) came out lower than the noisy fit's, which predicts 2.8x better
        noisy = torch.as_tensor(_repeats_disagree(U_r.cpu().numpy(), Y_r.T.cpu().numpy())
                                .any(axis=0), device=U.device)
        best: tuple[str, torch.Tensor, torch.Tensor] | None = None
        for kernel in AUTO_KERNELS:  # converged tightly below, once the choice is made
            theta = self._fit_hyper(kernel, U, Ys, subsets, rng, tight=False)
            loo = hyp.loo_mse(kernel, theta, U_r, Y_r, self._layout)
            self._try_nugget(kernel, self._floor, theta, loo, U_r, Y_r, maxiter=60, only=~noisy)
            if best is None or float(loo.sum()) < float(best[2].sum()):
                best = (kernel, theta, loo)
        assert best is not None
        kernel, theta, loo = best
        # outputs that interpolate at the floor (not those that kept a fitted noise); smaller
        # nuggets keep them so
        at_floor = theta[:, -1] <= math.log(self._floor * NOISE_AT_FLOOR)
        smaller = AUTO_NUGGETS[1:] if self.noise_floor is None and \
            not near_duplicates(U.cpu().numpy()) else ()
        for nugget in smaller:
            self._try_nugget(kernel, nugget, theta, loo, U_r, Y_r, maxiter=10, only=at_floor)
        if len(refine) <= N_EXPLORE:  # as _fit_hyper(tight=True) would: interpolating outputs
            # keep their nugget, the others their fitted noise above the floor
            fixed = at_floor.cpu().numpy()
            low = np.where(fixed, theta[:, -1].cpu().numpy(), math.log(self._floor))
            theta = optim.optimize_hyper(kernel, U_r, Y_r, theta, log_g_min=low, maxiter=200,
                                         fit_noise=~fixed & self.fit_noise, tight=True,
                                         layout=self._layout, block=1,
                                         prior=self.lengthscale_prior)
        return kernel, theta

    def _try_nugget(self, kernel: str, nugget: float, theta: torch.Tensor, loo: torch.Tensor,
                    U: torch.Tensor, Y: torch.Tensor, *, maxiter: int,
                    only: torch.Tensor | None = None) -> None:
        """Refit the outputs whose noise is above ``nugget`` (and in ``only``) as interpolating
        GPs with that nugget, from their length scales; where the leave-one-out error falls,
        update ``theta`` and ``loo`` in place."""
        log_g = math.log(nugget)
        above = theta[:, -1] > log_g + math.log(NOISE_AT_FLOOR)
        if only is not None:
            above &= only
        if not bool(above.any()):
            return
        start = theta[above].clone()
        start[:, -1] = log_g
        alt = optim.optimize_hyper(kernel, U, Y[above], start, log_g_min=log_g, maxiter=maxiter,
                                   maxfun=2 * maxiter, fit_noise=False, layout=self._layout,
                                   block=1, prior=self.lengthscale_prior)
        loo_alt = hyp.loo_mse(kernel, alt, U, Y[above], self._layout)
        better = loo_alt < loo[above]
        rows = torch.nonzero(above)[:, 0][better]
        theta[rows], loo[rows] = alt[better], loo_alt[better]

    def _condition(self, U: torch.Tensor, Ys: torch.Tensor, theta: torch.Tensor) -> None:
        """Cache the exact posterior on all n points (one batched Cholesky)."""
        with torch.no_grad():
            _, _, h = hyp.profile_nll(self.kernel_, theta, U, Ys, grad=False,
                                      layout=self._layout)
            C = hyp.correlation(self.kernel_, U, U, h.lengthscale, self._layout)
            eye = torch.eye(len(U), dtype=DTYPE, device=U.device)
            L, jitter = hyp.safe_cholesky(C + h.g[:, None, None] * eye, h.g)
            # row-major, as save/load stores it: the triangular solves round differently for
            # another memory layout, and a nearly interpolating GP's variance (1 - |v|^2, a
            # difference of nearly equal numbers) would then differ by percents after a load
            L = L.contiguous()
            ones = torch.ones_like(Ys)
            a = torch.cholesky_solve(ones[..., None], L)[..., 0]  # R^-1 1  (m, n)
            alpha = torch.cholesky_solve((Ys - h.mean[:, None])[..., None], L)[..., 0]
        self._U, self._L, self._alpha, self._a = U, L, alpha, a
        self._hyper = hyp.Hyper(*(t.contiguous() for t in (
            h.lengthscale, h.g + jitter, h.mean, h.signal_var, h.nll)))
        self._a_sum = a.sum(-1)  # 1^T R^-1 1  (m,)

    def _set_public_attributes(self) -> None:
        h = self._hyper
        self.lengthscale_ = h.lengthscale.cpu().numpy() * self._x_scale[None, :]
        self.noise_ = (h.g * h.signal_var).cpu().numpy() * self._y_std**2
        layout = self._layout
        self.level_correlation_ = {} if layout is None else dict(zip(
            self._input_encoding.names, layout.rho(h.lengthscale.cpu().numpy()).T, strict=True))
        latent = getattr(self, "_latent", {})
        self.categorical_ = None if not self._input_encoding.positions else (
            "latent" if latent else "exchangeable")
        self.level_positions_ = {name: latent[j] for name, j in zip(
            self._input_encoding.names, self._input_encoding.positions, strict=True)
            if j in latent}

    # -- predict ------------------------------------------------------------------------------
    def _predict_std_units(self, U: torch.Tensor, *, full_cov: bool = False,
                           mean_only: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Posterior mean (m, k) and variance (m, k) or covariance (m, k, k), standardized."""
        if self.method_ == "svgp":
            return self._svgp.posterior(U, full_cov=full_cov, mean_only=mean_only)
        h = self._hyper
        Ks = hyp.correlation(self.kernel_, U, self._U, h.lengthscale, self._layout)  # (m, k, n)
        mean = h.mean[:, None] + (Ks @ self._alpha[..., None])[..., 0]
        if mean_only:
            return mean, None
        V = torch.linalg.solve_triangular(self._L, Ks.transpose(-1, -2), upper=False)  # (m,n,k)
        u = 1.0 - (Ks @ self._a[..., None])[..., 0]  # ordinary-kriging mean correction (m, k)
        s2 = h.signal_var[:, None]
        if full_cov:
            Kss = hyp.correlation(self.kernel_, U, U, h.lengthscale, self._layout)
            cov = Kss - V.transpose(-1, -2) @ V + u[:, :, None] * u[:, None, :] / \
                self._a_sum[:, None, None]
            return mean, s2[..., None] * cov
        var = 1.0 - (V * V).sum(-2) + u * u / self._a_sum[:, None]
        return mean, s2 * var.clamp_min(0.0)

    def _coordinates(self, X: torch.Tensor) -> torch.Tensor:
        """``X`` (n, d) in the GP's own coordinates, on its device: :meth:`_to_unit` in torch
        (differentiable with respect to the numeric inputs)."""
        dev = self._hyper.lengthscale.device  # exact and SVGP alike
        low = torch.as_tensor(self._x_low, dtype=DTYPE, device=dev)
        scale = torch.as_tensor(self._x_scale, dtype=DTYPE, device=dev)
        X = cell_codes(X.to(dev), getattr(self, "_cells", None) or {})
        return clip_far(encode_latent((X - low) / scale, getattr(self, "_latent", {})))

    def _predict_torch(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and variance at ``X`` (n, d) in original units, each (n, m).

        Differentiable with respect to ``X`` (float64). ``X`` may live on any device: it is
        moved to the model's and the results come back on ``X``'s, so a caller (the sequential
        loop, the optimizers) works on the CPU whatever device the GP computes on.
        """
        dev = self._hyper.lengthscale.device  # exact and SVGP alike
        mean, var = self._predict_std_units(self._coordinates(X))
        assert var is not None
        ym = torch.as_tensor(self._y_mean, dtype=DTYPE, device=dev)
        ys = torch.as_tensor(self._y_std, dtype=DTYPE, device=dev)
        return (mean.T * ys + ym).to(X.device), (var.T * ys**2).to(X.device)

    @limits_threads(fitted_size)
    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Posterior mean (and standard deviation) at ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        return_std : bool, default=False

        Returns
        -------
        mean : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        std : ndarray of the same shape (only with ``return_std=True``)
            Of the latent (noise-free) function, as for a simulator's output; the interval of
            a new noisy observation is ``sqrt(std**2 + noise_)`` wide per unit of z.
        """
        check_flag("return_std", return_std)
        X = self._validate_predict(X)
        U = to_tensor(self._to_unit(X), self._device)
        n_train = self._U.shape[0] if self.method_ == "exact" else self._svgp.n_inducing
        step = max(1, CHUNK // (n_train * self.n_outputs_))
        # each chunk goes into arrays sized once: a list of chunks to concatenate fragmented
        # the heap (10^6 points at 2,000 runs ran out of 13 GB; a few hundred MB this way)
        mean = np.empty((len(U), self.n_outputs_))
        variance = np.zeros((len(U), self.n_outputs_)) if return_std else None
        with torch.no_grad():
            for start in range(0, len(U), step):
                part, var = self._predict_std_units(U[start:start + step],
                                                    mean_only=not return_std)
                mean[start:start + step] = part.T.cpu().numpy()
                if variance is not None and var is not None:
                    variance[start:start + step] = var.T.cpu().numpy()
        mean = mean * self._y_std + self._y_mean
        std = np.sqrt(variance) * self._y_std if variance is not None else np.zeros_like(mean)
        if self._y_1d:
            mean, std = mean[:, 0], std[:, 0]
        return (mean, std) if return_std else mean

    @limits_threads(fitted_size)
    def sample_posterior(self, X: Any, n_samples: int, *, seed: Any = None) -> np.ndarray:
        """Joint posterior function samples at ``X``.

        The joint covariance of all points is formed and factorized, so memory and time grow
        as the square and cube of ``len(X)``: a few thousand points at a time.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_points, n_features)
        n_samples : int
        seed : int, numpy.random.Generator or None

        Returns
        -------
        ndarray of shape (n_samples, n_points, n_outputs)
        """
        from surrogate._random import as_generator

        n_samples = check_positive_int("n_samples", n_samples)
        X = self._validate_predict(X)
        U = to_tensor(self._to_unit(X), self._device)
        with torch.no_grad():
            mean, cov = self._predict_std_units(U, full_cov=True)  # (m, k), (m, k, k)
            assert cov is not None
            L = _psd_root(cov)
            z = torch.as_tensor(
                as_generator(seed).standard_normal((n_samples, self.n_outputs_, len(U))),
                dtype=DTYPE, device=U.device)
            draws = mean + (L @ z[..., None])[..., 0]  # (s, m, k)
        return draws.transpose(1, 2).cpu().numpy() * self._y_std + self._y_mean

    # -- persistence hooks --------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        from surrogate.models._gp_state import gp_state

        return gp_state(self)

    def _from_state(self, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        from surrogate.models._gp_state import gp_from_state

        gp_from_state(self, meta, tensors)


def _psd_root(C: torch.Tensor) -> torch.Tensor:
    """A factor ``F`` with ``F F^T = C`` for covariance matrices ``C`` (B, k, k).

    The Cholesky factor of the correlation matrix with a 1e-10 jitter, scaled back by the
    standard deviations (so that the jitter is relative to each point's own variance, however
    small); where rounding has left a member indefinite (a posterior covariance is a
    difference of nearly equal matrices wherever the GP is nearly exact), the
    eigen-decomposition of its correlation with the negative eigenvalues set to 0 and the
    rows rescaled to unit length instead.
    """
    sd = C.diagonal(dim1=-2, dim2=-1).clamp_min(1e-300).sqrt()  # (B, k)
    R = C / (sd[..., :, None] * sd[..., None, :])
    eye = torch.eye(C.shape[-1], dtype=C.dtype, device=C.device)
    F, info = torch.linalg.cholesky_ex(R + 1e-10 * eye)
    bad = info > 0
    if bool(bad.any()):
        values, vectors = torch.linalg.eigh(R[bad])
        root = vectors * values.clamp_min(0.0).sqrt()[..., None, :]
        # dropping the negative part inflates the diagonal: rows back to unit length, so that
        # every point keeps its own variance (a valid correlation matrix again)
        F[bad] = root / root.norm(dim=-1, keepdim=True).clamp_min(1e-300)
    return sd[..., :, None] * F


def _subset(n: int, size: int, rng: np.random.Generator) -> torch.Tensor:
    """Indices of a random subset of ``size`` of ``range(n)`` (all of them if n <= size)."""
    if n <= size:
        return torch.arange(n)
    return torch.as_tensor(np.sort(rng.choice(n, size=size, replace=False)))


def _distinct_runs(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``(X, Y)`` less those that repeat an earlier row exactly (order kept). A
    simulator run again where it ran gives the same outputs and nothing new, but counted
    twice it doubled the data's weight against the prior: on borehole's 60 runs each given
    twice, length scales fell 6x and held-out error rose 2.3x. Where a point's repeats give
    other outputs too (a noisy or 0/1 output), all its rows stay: they are what the noise is
    fitted to, and how often each output came is the data (45 ones and 5 zeros at a point
    collapsed to one of each made its mean 0.5)."""
    rows = np.concatenate([X, Y], axis=1)
    _, first = np.unique(rows, axis=0, return_index=True)
    if len(first) == len(rows):
        return X, Y
    _, point = np.unique(X, axis=0, return_inverse=True)
    point = point.reshape(-1)
    outputs_per_point = np.bincount(point[first], minlength=point.max() + 1)
    keep = np.zeros(len(rows), dtype=bool)
    keep[first] = True
    keep |= outputs_per_point[point] > 1  # a point with several outputs keeps every row
    return X[keep], Y[keep]


def _repeats_disagree(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """(n, m): where a run repeats an earlier point of ``X`` (n, d) with another value of an
    output of ``Y`` (n, m); only noise explains such runs."""
    _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    if len(first) == len(X):
        return np.zeros(Y.shape, dtype=bool)
    return np.abs(Y - Y[first[inverse.reshape(-1)]]) > 0


def _warn_if_repeats_disagree(X: np.ndarray, Y: np.ndarray) -> None:
    """With ``fit_noise=False``, warn when a point is repeated with other outputs: only noise
    explains them, and without it the fit degenerates (length scales at their bound, a huge
    signal variance; held-out error three times the default's on a test case)."""
    differ = _repeats_disagree(X, Y).any(axis=1)
    if differ.any():
        warnings.warn(f"{int(differ.sum())} run(s) repeat a point of X with other outputs: "
                      "fit_noise=False cannot explain them; use the default fit_noise=True",
                      UserWarning, stacklevel=4)
