"""Field surrogates: a whole trajectory per input point, from a reduced basis and one batched GP.

Stage "models" of the pipeline for field outputs (``TransferSet.field(name)``: one row per run,
one column per grid point). The trajectories are centred and reduced by principal component
analysis (an SVD), the component scores are modelled by one multi-output
:class:`~surrogate.models.GPRegressor` (a batched GP: the leading components each with their
own hyperparameters, the many small trailing ones sharing one kernel), and predictions are
mapped back to the grid. The uncertainty of a prediction has two parts: the GP's on the kept
components, and the *truncation error* -- the part of a new trajectory that the kept components
cannot represent -- estimated out of sample by k-fold cross-validation of the basis.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from surrogate._checks import check_share
from surrogate._random import as_generator, child_seed
from surrogate._scale import binary_exponent
from surrogate._threads import fitted_size, limits_threads
from surrogate.models._base import (
    MultiOutputMixin,
    SurrogateMixin,
    check_flag,
    check_positive_int,
    missing_y,
)
from surrogate.models._field_align import MIN_PEAKED, TIMING_TARGETS, PeakGrid, peak_times
from surrogate.models._field_basis import (
    check_field_columns,
    column_labels,
    column_norms,
    components_explaining,
    field_q2,
    grid_of,
    residual_basis,
    warn_if_most_kept,
)
from surrogate.models._gp_shared import SharedTailGP
from surrogate.models._inputs import numbers_as_objects_once

__all__ = ["FieldGPRegressor"]

# the fitted parts of one mode or the other (align=None: a basis and its GP; "peak": two models)
_FITTED = ("gp_", "mean_", "components_", "residual_std_", "_residual_basis", "timing_",
           "timing_target_", "aligned_", "_peaks")
# what both modes describe the fit with (kept by a refit, dropped by a refused one)
_DESCRIBED = ("grid_", "columns_", "field_", "n_components_", "explained_variance_ratio_", "_y_1d",
              "_fitted_transform", "_fitted_align", "n_features_in_", "feature_names_in_")

TRANSFORMS = (None, "log", "logit")
ALIGNMENTS = (None, "peak")


class FieldGPRegressor(MultiOutputMixin, SurrogateMixin, RegressorMixin, BaseEstimator):
    """Gaussian-process surrogate of a field output (a trajectory on a fixed grid).

    ``fit(X, Y)`` with ``Y`` of shape (n_runs, n_times): the centred trajectories are reduced to
    their first principal components (kept by ``explained_variance`` or ``n_components``) and
    one batched :class:`~surrogate.models.GPRegressor` models the component scores. A
    prediction is a whole trajectory; its pointwise standard deviation adds the GP's variance
    on the kept components and the variance of the truncation error at that grid point.

    Parameters
    ----------
    n_components : int, optional
        Components to keep (at most ``min(n_runs, n_times)``); overrides
        ``explained_variance``.
    explained_variance : float, default=0.999
        Keep the fewest components whose share of the training trajectories' variance reaches
        this (in (0, 1]).
    kernel, noise_floor, n_restarts, method : see :class:`~surrogate.models.GPRegressor`
        Passed to the GP of the component scores.
    shared_kernel_below : float, default=0.01
        Components whose share of the variance is below this share one kernel (length scales
        and noise ratio, fitted jointly; each keeps its own mean and variance), so that one
        Cholesky factor per likelihood evaluation serves them all; the others (at least the
        first) get their own. On SIR and Lotka-Volterra trajectories this fitted 1.3-1.7x
        faster with the same held-out Q² when it was introduced (a one-off comparison against
        ``0``; ``python -m benchmarks fields`` runs the default only). ``0`` gives every
        component its own kernel.
    y_transform : {None, "log", "logit"}, default=None
        Fit the basis and the GP to ``log(Y)`` (a positive field, e.g. a population) or
        ``logit(Y) = log(Y / (1 - Y))`` (a share in (0, 1)) and map predictions back, so they
        stay in the field's domain and multiplicative variation becomes additive. The
        predicted trajectory is then the back-transformed mean: the pointwise *median* of the
        predictive distribution (a monotone map keeps the median, not the mean); the std is
        the first-order (delta-method) one, ``|dY/dZ| * std_Z``; :meth:`predict_band` and
        :meth:`sample_posterior` map the Gaussian band and draws back exactly. ``Y`` outside
        the domain (0 or below for "log"; outside (0, 1) for "logit") is rejected.
    align : {None, "peak"}, default=None
        ``"peak"``: register the trajectories on their peak before the reduced basis, for a
        bump that moves in time (an epidemic curve): a second GP learns each run's peak time
        (after the grid's start; its log or its inverse, whichever predicts better by
        leave-one-out) from the runs with a clear interior peak, the
        trajectories are shifted to ``s = t - peak`` and an inner field GP (these same
        settings) models them there; a prediction is mixed over the peak time's uncertainty
        (``ALIGN_NODES`` Gauss-Hermite nodes). On SIR's infected share it raises the held-out
        Q² from 0.80 / 0.89 / 0.93 to 0.96 / 0.98 / 0.99 with 50 / 100 / 200 runs
        (``python -m benchmarks fields``, with inputs on the unit cube, e.g.
        ``space.to_unit(X)``, which puts the population on its log scale; on SIR's raw inputs
        the same 200-run fit scores about 0.89); on oscillations, whose highest peak jumps
        between cycles, it does worse than ``None``. Needs at least three such runs, numeric
        increasing grid values (or the column index) and a two-dimensional ``Y``.
    seed : int, numpy.random.Generator or None
        Seeds the fit: the GP and the folds of the truncation-error estimate. Posterior draws
        take their own: ``sample_posterior(X, n, seed=...)``.
    device : str, default="cpu"

    Attributes
    ----------
    grid_ : ndarray of shape (n_times,)
        The grid: ``Y``'s columns when ``Y`` was a DataFrame with numeric columns (as
        ``TransferSet.field`` gives it; they must be strictly increasing), else
        ``0 .. n_times - 1``.
    columns_ : list or None
        ``Y``'s column labels (None for an array): ``score`` and :func:`surrogate.plot.fan`
        refuse trajectories whose columns differ (another grid, or another order).
    field_ : str or None
        The field's name (the name of ``Y``'s columns axis, as ``TransferSet.field`` sets it).
    mean_ : ndarray of shape (n_times,)
        The mean training trajectory (of the transformed trajectories with a ``y_transform``, as
        are ``components_`` and ``residual_std_``).
    components_ : ndarray of shape (n_components, n_times)
        The kept principal directions (orthonormal rows).
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Share of the training variance of each kept component.
    n_components_ : int
    residual_std_ : ndarray of shape (n_times,)
        Standard deviation of the truncation error per grid point, from trajectories the basis
        was not fitted on (k-fold).
    gp_ : GPRegressor
        The GP of the component scores (inputs as given to ``fit``).
    timing_, timing_target_, aligned_ : GPRegressor, str, FieldGPRegressor
        With ``align="peak"`` only, in place of ``mean_``, ``components_``, ``residual_std_``
        and ``gp_`` (which are ``aligned_``'s, on its grid ``s = t - peak``): the GP of the
        peak time, what it models (``"log"``: ``log(peak - grid start)``; ``"rate"``:
        ``1 / (peak - grid start)``), and the field GP of the aligned trajectories.
    feature_names_in_, n_features_in_, data_min_, data_max_, n_samples_fit_
        As for the other models.

    Notes
    -----
    The truncation error of a new trajectory is estimated by refitting the basis (mean and
    components) on 4/5 of the runs and projecting the held-out fifth, five times; the held-out
    residuals give the variance per grid point, and their principal directions give the shape
    of the noise added to posterior draws (so drawn trajectories stay as smooth as real ones).
    Basis and GP errors are orthogonal, hence their variances add.

    References
    ----------
    Higdon, D., Gattiker, J., Williams, B., Rightley, M. (2008). Computer model calibration
    using high-dimensional output. J. Am. Stat. Assoc. 103(482), 570-583 (principal-component
    basis with independent GPs on the weights).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 2, 30)
    >>> X = np.random.default_rng(0).uniform(0.5, 2.0, size=(25, 1))
    >>> model = FieldGPRegressor(seed=0).fit(X, np.exp(-X * t))  # y(t) = exp(-k t)
    >>> mean, std = model.predict([[1.0]], return_std=True)
    >>> mean.shape, bool(np.abs(mean[0] - np.exp(-t)).max() < 3 * std.max())
    ((1, 30), True)

    A positive field modelled in log space (``log y = -k t`` is linear in the basis):

    >>> logged = FieldGPRegressor(y_transform="log", seed=0).fit(X, np.exp(-X * t))
    >>> bool(np.abs(logged.predict([[1.0]])[0] - np.exp(-t)).max() < 1e-4)
    True
    """

    _field_model = True  # read by cross_validate and sobol_indices: Q² and indices over a field

    def __init__(self, *, n_components: int | None = None, explained_variance: float = 0.999,
                 kernel: Literal["matern52", "matern32", "rbf", "auto"] = "matern52",
                 noise_floor: float | None = None, n_restarts: int = 3,
                 method: Literal["auto", "exact", "svgp"] = "auto",
                 shared_kernel_below: float = 0.01,
                 y_transform: Literal["log", "logit"] | None = None,
                 align: Literal["peak"] | None = None, seed: Any = None,
                 device: str = "cpu") -> None:
        self.n_components = n_components
        self.explained_variance = explained_variance
        self.kernel = kernel
        self.noise_floor = noise_floor
        self.n_restarts = n_restarts
        self.method = method
        self.shared_kernel_below = shared_kernel_below
        self.y_transform = y_transform
        self.align = align
        self.seed = seed
        self.device = device

    # -- fit ----------------------------------------------------------------------------------
    def _check_params(self) -> None:
        self._check_common()
        if self.n_components is not None:
            check_positive_int("n_components", self.n_components)
        check_share("explained_variance", self.explained_variance)
        share = self.shared_kernel_below
        if isinstance(share, bool) or not isinstance(share, numbers.Real) \
                or not 0.0 <= float(share) <= 1.0:
            raise ValueError(f"shared_kernel_below must be a float in [0, 1], got {share!r}")
        if self.y_transform not in TRANSFORMS:
            raise ValueError(f"y_transform must be one of {TRANSFORMS}, got {self.y_transform!r}")
        if self.align not in ALIGNMENTS:
            raise ValueError(f"align must be one of {ALIGNMENTS}, got {self.align!r}")

    def _gp_settings(self) -> dict[str, Any]:
        """The options this model passes to its GPs (of the scores, of the peak time)."""
        return {"kernel": self.kernel, "noise_floor": self.noise_floor,
                "n_restarts": self.n_restarts, "method": self.method, "device": self.device}

    def _new_gp(self, rng: np.random.Generator) -> SharedTailGP:
        gp = SharedTailGP(**self._gp_settings(), seed=child_seed(rng))
        gp._check_params()  # a bad GP option fails before any work
        # the sequential loop's unit-cube cells of categorical parameters (see GPRegressor)
        gp._cells = getattr(self, "_cells", None)
        return gp

    @limits_threads()
    def fit(self, X: Any, Y: Any) -> FieldGPRegressor:
        """Fit the basis and the GP of the component scores.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_runs, n_features)
        Y : DataFrame or array-like of shape (n_runs, n_times)
            The trajectories, e.g. ``runs.valid().field("I")``; must be finite.

        Returns
        -------
        self
        """
        self._check_params()
        rng = self._rng()
        for name in _FITTED:  # a refit in the other mode leaves none of the last fit's parts
            self.__dict__.pop(name, None)
        # what predict reads: the settings fitted with, not those set_params put in since
        self._fitted_transform, self._fitted_align = self.y_transform, self.align
        try:
            with numbers_as_objects_once():  # its inner GPs' fits do not say it again
                return self._fit_aligned(X, Y, rng) if self.align is not None else \
                    self._fit_basis(X, Y, rng)
        except BaseException:  # a refused refit leaves no half of a model: NotFittedError
            for name in (*_FITTED, *_DESCRIBED):
                self.__dict__.pop(name, None)
            raise

    def _fit_basis(self, X: Any, Y: Any, rng: np.random.Generator) -> FieldGPRegressor:
        """``align=None``: the basis of the trajectories and the GP of their scores."""
        gp = self._new_gp(rng)
        _, values = self._validate_fit(X, Y, multi_output=True)
        self._y_1d = values.ndim == 1
        trajectories = self._forward(values.reshape(len(values), -1))
        self.grid_, self.field_ = grid_of(Y, trajectories.shape[1])
        self.columns_ = column_labels(Y)
        self.mean_ = trajectories.mean(axis=0)
        _, singular, directions = np.linalg.svd(trajectories - self.mean_, full_matrices=False)
        # relative to the largest: the squares of a field of 1e-300 underflowed (one component)
        relative = singular / singular[0] if singular[0] > 0 else singular
        k = self._n_kept(relative)
        total = float((relative**2).sum())
        self.explained_variance_ratio_ = (relative[:k] ** 2 / total if total > 0
                                          else np.zeros(k))
        self.components_ = directions[:k]
        self.n_components_ = k
        scores = (trajectories - self.mean_) @ self.components_.T  # (n, k)
        self._residual_basis = residual_basis(trajectories, k, rng)  # (q, T)
        self.residual_std_ = column_norms(self._residual_basis)
        # components are in decreasing order of variance: the first n_own get their own kernel
        gp.n_own = max(1, int((self.explained_variance_ratio_
                               >= float(self.shared_kernel_below)).sum()))
        # components past the numerical rank (numpy's matrix_rank tolerance) hold rounding only
        gp.n_fitted = int((singular[:k] > singular[0] * max(trajectories.shape)
                           * np.finfo(float).eps).sum())
        self.gp_ = gp.fit(X, scores)
        return self

    def _fit_aligned(self, X: Any, Y: Any, rng: np.random.Generator) -> FieldGPRegressor:
        """``align="peak"``: the timing GP, then the inner field GP on the aligned axis."""
        _, values = self._validate_fit(X, Y, multi_output=True)
        if values.ndim == 1:
            raise ValueError("align='peak' needs Y of shape (n_runs, n_times), got one column")
        self._y_1d = False
        self.grid_, self.field_ = grid_of(Y, values.shape[1])
        self.columns_ = column_labels(Y)
        tau, peaked = peak_times(values, self.grid_)
        if peaked.sum() < MIN_PEAKED:
            raise ValueError(f"align='peak' needs at least {MIN_PEAKED} runs whose trajectory "
                             f"has a clear interior peak; got {int(peaked.sum())} of "
                             f"{len(values)}: use align=None")
        self._peaks = PeakGrid(self.grid_)
        rows = np.flatnonzero(peaked)
        X_peaked = X.iloc[rows] if isinstance(X, pd.DataFrame) else np.asarray(X)[rows]
        self.timing_, self.timing_target_ = self._fit_timing(
            X_peaked, tau[rows] - self._peaks.start, child_seed(rng))
        guess = self._peaks.peak(self._peaks.log_offset(
            self.timing_target_, np.asarray(self.timing_.predict(X)).reshape(-1))[0])
        aligned = self._peaks.align(values, np.where(peaked, tau, guess))
        inner = type(self)(**{**self.get_params(), "align": None, "seed": child_seed(rng)})
        index = X.index if isinstance(X, pd.DataFrame) else None  # read row for row, as Y
        self.aligned_ = inner.fit(X, pd.DataFrame(aligned, columns=self._peaks.s, index=index))
        self.n_components_ = self.aligned_.n_components_
        self.explained_variance_ratio_ = self.aligned_.explained_variance_ratio_
        return self

    def _fit_timing(self, X: Any, offset: np.ndarray, seed: int) -> tuple[Any, str]:
        """The timing GP of each target in TIMING_TARGETS; the one whose leave-one-out
        predictions of ``log(offset)`` err least is kept (the first when no LOO exists)."""
        from surrogate.models._gp import GPRegressor
        from surrogate.models._gp_loo import loo_residuals

        best: tuple[float, Any, str] | None = None
        for target in TIMING_TARGETS:
            values = self._peaks.target_values(target, offset)
            gp = GPRegressor(**self._gp_settings(), seed=seed).fit(X, values)
            residual = loo_residuals(gp)
            if residual is None:  # not an exact GP: the first target
                return gp, target
            left_out = self._peaks.log_offset(target, values - residual[:, 0])[0]
            error = float(np.mean((left_out - np.log(offset)) ** 2))
            if best is None or error < best[0]:
                best = (error, gp, target)
        assert best is not None
        return best[1], best[2]

    def _n_kept(self, singular: np.ndarray) -> int:
        rank_limit = len(singular)
        if self.n_components is not None:
            if self.n_components > rank_limit:
                raise ValueError(f"n_components={self.n_components} exceeds min(n_runs, n_times)"
                                 f" = {rank_limit}")
            return int(self.n_components)
        energy = singular**2
        if energy.sum() <= 0:  # every trajectory the same: one (empty) component
            return 1
        k = components_explaining(energy, float(self.explained_variance))
        warn_if_most_kept(k, rank_limit)
        return k

    def _forward(self, Y: np.ndarray) -> np.ndarray:
        """``Y`` in the modelled space (``y_transform``); values outside its domain are named."""
        if self.y_transform is None:
            return Y
        low, high = (0.0, np.inf) if self.y_transform == "log" else (0.0, 1.0)
        bad = ~((Y > low) & (Y < high))
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))[:5].tolist()
            allowed = "> 0" if self.y_transform == "log" else "in (0, 1)"
            raise ValueError(
                f"y_transform={self.y_transform!r} needs every value of Y {allowed}; got values "
                f"from {Y.min():.6g} to {Y.max():.6g} (e.g. rows {rows}); clip or shift the "
                "field, or use y_transform=None")
        return np.log(Y) if self.y_transform == "log" else np.log(Y) - np.log1p(-Y)

    def _inverse(self, Z: np.ndarray) -> np.ndarray:
        """Back from the modelled space (monotone: quantiles map to quantiles)."""
        if self._fitted_transform is None:
            return Z
        if self._fitted_transform == "log":
            return np.exp(Z)
        return 0.5 * (1.0 + np.tanh(0.5 * Z))  # the logistic, without overflow

    # -- predict ------------------------------------------------------------------------------
    @limits_threads(fitted_size)
    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predicted trajectories (and pointwise standard deviations) at ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_points, n_features)
        return_std : bool, default=False
            Also return the standard deviation at every grid point: the GP's uncertainty on the
            kept components and the truncation error, combined.

        Returns
        -------
        mean : ndarray of shape (n_points, n_times)
        std : ndarray of shape (n_points, n_times) (only with ``return_std=True``)
        """
        check_flag("return_std", return_std)
        check_is_fitted(self, "grid_")
        if self._fitted_align is not None:
            mean, std = self._predict_aligned(X)
            return (mean, std) if return_std else mean
        if not return_std:
            return self._shape(self._inverse(self._predict_z(X)[0]))
        mean_z, std_z = self._predict_z(X, return_std=True)
        mean = self._inverse(mean_z)
        if self._fitted_transform == "log":  # delta method: dY/dZ = Y
            std_z = mean * std_z
        elif self._fitted_transform == "logit":  # dY/dZ = Y (1 - Y)
            std_z = mean * (1.0 - mean) * std_z
        return self._shape(mean), self._shape(std_z)

    def _predict_aligned(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """``align="peak"``: the aligned prediction mixed over the peak time's uncertainty."""
        self._validate_predict(X)
        log_mean, log_std = self._peaks.log_offset(self.timing_target_, *self._timing(X))
        mean, std = self.aligned_.predict(X, return_std=True)
        return self._peaks.mixture(mean, std, log_mean, log_std)

    def _timing(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """The timing GP's mean and std at ``X`` (each (n,)), on its target's scale."""
        mean, std = self.timing_.predict(X, return_std=True)
        return np.asarray(mean).reshape(-1), np.asarray(std).reshape(-1)

    def _predict_z(self, X: Any, return_std: bool = False) -> tuple[np.ndarray, Any]:
        """Mean and (optionally) std of the field in the modelled (transformed) space."""
        self._validate_predict(X)
        if not return_std:
            scores = np.asarray(self.gp_.predict(X)).reshape(-1, self.n_components_)
            return self.mean_ + scores @ self.components_, None
        scores, score_std = (np.asarray(a).reshape(-1, self.n_components_)
                             for a in self.gp_.predict(X, return_std=True))
        # in units of the largest std (a power of two): the squares of a field of 1e160 overflowed
        unit = np.ldexp(1.0, binary_exponent(np.r_[score_std.ravel(), self.residual_std_]))
        variance = (score_std / unit) ** 2 @ self.components_**2 + (self.residual_std_ / unit) ** 2
        return self.mean_ + scores @ self.components_, np.sqrt(variance) * unit

    @limits_threads(fitted_size)
    def predict_band(self, X: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise central predictive band of probability ``level``: ``(lower, upper)``.

        The Gaussian band of the modelled space, mapped back through ``y_transform`` (exact for a
        monotone map; without a transform it is ``mean -/+ z * std``; with ``align="peak"``
        ``mean -/+ z * std`` of the mixture over peak times, cut to the transform's domain).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_points, n_features)
        level : float in (0, 1), default=0.95

        Returns
        -------
        lower, upper : ndarrays of shape (n_points, n_times)

        Examples
        --------
        >>> import numpy as np
        >>> t = np.linspace(0, 2, 30)
        >>> X = np.random.default_rng(0).uniform(0.5, 2.0, size=(25, 1))
        >>> model = FieldGPRegressor(y_transform="log", seed=0).fit(X, np.exp(-X * t))
        >>> lower, upper = model.predict_band([[1.0]])
        >>> bool((lower > 0).all() and (lower <= np.exp(-t)).all() and (np.exp(-t) <= upper).all())
        True
        """
        from scipy.stats import norm

        if isinstance(level, bool) or not isinstance(level, numbers.Real) \
                or not 0.0 < float(level) < 1.0:
            raise ValueError(f"level must be a float in (0, 1), got {level!r}")
        z = float(norm.ppf(0.5 + 0.5 * float(level)))
        check_is_fitted(self, "grid_")
        if self._fitted_align is not None:  # the mixture over peak times: its mean -/+ z std, kept
            mean, std = self._predict_aligned(X)  # in the transform's domain (log: above 0)
            with np.errstate(over="ignore"):
                low, high = self._inverse(np.array([-np.inf, np.inf]))
            return np.maximum(mean - z * std, low), np.minimum(mean + z * std, high)
        mean_z, std_z = self._predict_z(X, return_std=True)
        half = z * std_z
        return (self._shape(self._inverse(mean_z - half)),
                self._shape(self._inverse(mean_z + half)))

    def _shape(self, values: np.ndarray) -> np.ndarray:
        return values[:, 0] if self._y_1d else values

    @limits_threads(fitted_size)
    def sample_posterior(self, X: Any, n_samples: int, *, seed: Any = None,
                         joint: bool = True) -> np.ndarray:
        """Posterior draws of whole trajectories at ``X``.

        Each draw is the mean trajectory plus a draw of the component scores from the GP
        (:meth:`GPRegressor.sample_posterior`) mapped to the grid, plus a draw of the truncation
        error (a Gaussian with the covariance of the held-out residuals, independent between
        points); with a ``y_transform`` the draws are made in the modelled space and mapped back.
        With ``align="peak"``, draws of the aligned field shifted by draws of the peak time.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_points, n_features)
        n_samples : int
        seed : int, numpy.random.Generator or None
        joint : bool, default=True
            Draw the scores jointly over the points (one function per draw; cost cubic in
            ``n_points``) or independently per point (linear cost; enough for anything computed
            point by point, such as the probability that a point's trajectory meets an outcome).

        Returns
        -------
        ndarray of shape (n_samples, n_points, n_times)
        """
        n_samples = check_positive_int("n_samples", n_samples)
        return self._draws(X, n_samples, as_generator(seed), joint=joint)

    def _draws(self, X: Any, n_samples: int, rng: np.random.Generator, *, joint: bool,
               common: bool = False) -> np.ndarray:
        """:meth:`sample_posterior`'s draws; with ``common`` (and not ``joint``) every point
        takes the same standard normals, so that a point's draws do not depend on the other
        points drawn with it (their number and order)."""
        self._validate_predict(X)
        if self._fitted_align is not None:  # aligned draws, each shifted by a draw of its peak time
            draws = self.aligned_._draws(X, n_samples, as_generator(child_seed(rng)),
                                         joint=joint, common=common)
            if joint:
                timing = np.asarray(self.timing_.sample_posterior(
                    X, n_samples, seed=child_seed(rng))).reshape(n_samples, -1)
            else:
                t_mean, t_std = self._timing(X)
                timing = t_mean + t_std * rng.standard_normal(
                    (n_samples, 1 if common else len(t_mean)))
            logs = self._peaks.log_offset(self.timing_target_, timing)[0]
            return self._peaks.unalign(draws, self._peaks.peak(logs))
        if joint:
            scores = np.asarray(self.gp_.sample_posterior(X, n_samples, seed=child_seed(rng)))
            scores = scores.reshape(n_samples, -1, self.n_components_)  # (s, m, k)
        else:
            mean, std = (np.asarray(a).reshape(-1, self.n_components_)
                         for a in self.gp_.predict(X, return_std=True))
            scores = mean + std * rng.standard_normal(
                (n_samples, 1 if common else len(mean), self.n_components_))
        noise = rng.standard_normal(
            (n_samples, 1 if common else scores.shape[1], len(self._residual_basis)))
        return self._inverse(self.mean_ + scores @ self.components_ + noise @ self._residual_basis)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Q² over the whole field (see :func:`~surrogate.models.field_q2`); ``sample_weight`` is
        not supported. A DataFrame ``y`` whose columns name another grid than the fitted one
        (other times, or another order) is refused rather than compared point by point."""
        if sample_weight is not None:
            raise ValueError("FieldGPRegressor.score does not take sample_weight")
        missing_y(y)  # a failed run's NaN row (TransferSet.field keeps them) is no trajectory
        check_is_fitted(self, "grid_")
        check_field_columns(y, self.columns_, "y")
        return field_q2(np.asarray(y, dtype=float), self.predict(X))

    # -- persistence hooks --------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        from surrogate.models._io import model_meta

        meta: dict[str, Any] = {
            "grid": [float(t) for t in self.grid_],
            "columns": self.columns_,
            "field": self.field_,
            "n_components_": int(self.n_components_),
            "explained_variance_ratio": [float(v) for v in self.explained_variance_ratio_],
            "y_1d": bool(self._y_1d),
            # the settings it was fitted with (set_params may have changed the parameters)
            "fitted_transform": self._fitted_transform, "fitted_align": self._fitted_align,
        }
        if self._fitted_align is not None:  # the two inner models, each recorded as a model is
            meta["timing_target"] = self.timing_target_
            tensors = {}
            for name in ("timing", "aligned"):
                inner = getattr(self, f"{name}_")
                extra, inner_tensors = inner._state()
                meta[name] = {**model_meta(inner), "state": extra}
                tensors.update({f"{name}.{k}": v for k, v in inner_tensors.items()})
            return meta, tensors
        gp_extra, gp_tensors = self.gp_._state()
        # fitted, the shared-tail GP is a plain GPRegressor (SharedTailGP only fits)
        meta["gp"] = {**model_meta(self.gp_), "class": "GPRegressor", "state": gp_extra}
        tensors = {name: torch.as_tensor(np.ascontiguousarray(value), dtype=torch.float64)
                   for name, value in (("mean", self.mean_), ("components", self.components_),
                                       ("residual_basis", self._residual_basis))}
        tensors.update({f"gp.{k}": v for k, v in gp_tensors.items()})
        return meta, tensors

    def _from_state(self, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        from surrogate.models._io import new_model, restore

        self.grid_ = np.asarray(meta["grid"], dtype=np.float64)
        self.columns_ = meta.get("columns")  # None in a save from before it was recorded
        self.field_ = meta["field"]
        self.n_components_ = int(meta["n_components_"])
        self.explained_variance_ratio_ = np.asarray(meta["explained_variance_ratio"],
                                                    dtype=np.float64)
        self._y_1d = bool(meta["y_1d"])
        # files saved before the fitted settings were recorded: the parameters saved with them
        self._fitted_transform = meta.get("fitted_transform", self.y_transform)
        self._fitted_align = meta.get("fitted_align", self.align)
        if "timing" in meta:  # align="peak"
            for name in ("timing", "aligned"):
                inner = new_model(meta[name], self.device)
                restore(inner, meta[name], {k[len(name) + 1:]: v for k, v in tensors.items()
                                            if k.startswith(f"{name}.")})
                setattr(self, f"{name}_", inner)
            self._peaks = PeakGrid(self.grid_)
            self.timing_target_ = meta.get("timing_target", "log")
            return
        self.mean_ = tensors["mean"].cpu().numpy()
        self.components_ = tensors["components"].cpu().numpy()
        self._residual_basis = tensors["residual_basis"].cpu().numpy()
        self.residual_std_ = column_norms(self._residual_basis)
        gp = new_model(meta["gp"], self.device)
        restore(gp, meta["gp"], {k[3:]: v for k, v in tensors.items() if k.startswith("gp.")})
        self.gp_ = gp
