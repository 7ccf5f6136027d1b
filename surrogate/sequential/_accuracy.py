"""The ``"accuracy"`` goal: runs that make the student globally faithful, and its LOO fidelity.

Part of the sequential-design stage. :class:`VarianceReduction` scores a candidate run by how
much it would shrink the student's posterior variance integrated over the space (the
integrated-variance / IMSE criterion, Sacks et al. 1989; "ALC", Cohn 1996), with the integral
weighted towards where the student has been wrong: each reference point of the integral
weighs ``1 + e^2 / mean(e^2)``, with ``e`` the leave-one-out error of its nearest run, times
the probability that a run succeeds there once some have failed. A
stationary GP's variance does not depend on the values it has seen, so the weights are what
sends runs to a localized feature once a run has touched it (the expected-prediction-error idea
of Liu, Xu & Wang 2016). :class:`PosteriorVariance` is the plain maximum-variance rule.

The fidelity is the leave-one-out Q² of the student, in closed form for the exact GP: with
``Q = R^-1 - R^-1 1 1^T R^-1 / (1^T R^-1 1)`` the left-out residual is ``(Q y)_i / Q_ii``
(Dubrule 1983), and ``Q y`` is the GP's own ``alpha``.

References
----------
.. [1] J. Sacks, W. J. Welch, T. J. Mitchell, H. P. Wynn, "Design and analysis of computer
   experiments", Statistical Science 4 (1989) 409-423.
.. [2] D. A. Cohn, "Neural network exploration using optimal experiment design", Neural
   Networks 9 (1996) 1071-1083.
.. [3] H. Liu, S. Xu, X. Wang, "Sequential sampling designs based on space reduction", and
   "A sequential Kriging model based on maximizing the expected prediction error",
   Engineering Optimization 48 (2016).
.. [4] O. Dubrule, "Cross validation of kriging in a unique neighborhood", Math. Geol. 15 (1983).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from surrogate._checks import check_flag
from surrogate.models._gp_loo import exact_gp as _exact_gp
from surrogate.models._gp_loo import loo_residuals
from surrogate.sequential._acquisition import Acquisition, Observations, log_success
from surrogate.sequential._student import Student

__all__ = ["VarianceReduction", "PosteriorVariance", "loo_residuals", "loo_q2",
           "reference_state", "integrated_reduction"]

_TINY = 1e-300


def loo_q2(gp: Any, U: np.ndarray, Y: np.ndarray) -> float:
    """The smallest leave-one-out Q² over the outputs ``Y`` (n,) or (n, m) the GP was fitted on
    that vary (NaN where it cannot be computed, or when no output varies: runs that all gave
    the same value say nothing of how faithful the student is, and must not stop a design)."""
    residual = loo_residuals(gp)
    if residual is None:
        return float("nan")
    Y = np.asarray(Y, dtype=float).reshape(len(U), -1)
    variance = Y.var(axis=0)
    varies = variance > 0
    if not varies.any():
        return float("nan")
    mse = (residual**2).mean(axis=0)
    return float((1.0 - mse[varies] / variance[varies]).min())


@dataclass(frozen=True)
class _Reference:
    """The reference sample in the GP's own coordinates, with what the integral reuses."""

    points: torch.Tensor  # (r, d) scaled as the GP scales its inputs
    weights: torch.Tensor  # (r,) integral weights, mean 1
    V: torch.Tensor  # (m, n, r) L^-1 k(X, Z)
    u: torch.Tensor  # (m, r) ordinary-kriging mean correction 1 - 1^T R^-1 k(X, z)
    scale: torch.Tensor  # (m,) output spread: the outputs' variance reductions add up unitless


class VarianceReduction(Acquisition):
    """Error-weighted integrated variance reduction (the default of ``goal="accuracy"``).

    The score of a candidate ``x`` is ``log mean_z w(z) sum_j cov_j(z, x)^2 / (var_j(x) +
    noise_j)`` over a fixed Sobol' sample ``z`` of the space (the variance the run at ``x``
    would remove, Cohn 1996), per output in standardized units, plus the log probability that
    the run succeeds. See the module docstring for the weights ``w``. A student that is not an
    exact GP falls back to :class:`PosteriorVariance`.

    Parameters
    ----------
    error_weight : bool, default True
        Weight the integral by the leave-one-out errors of the nearest runs.
    """

    n_reference = 512
    standardized_errors: ClassVar[bool] = True  # error weights over standardized outputs

    def __init__(self, error_weight: bool = True) -> None:
        check_flag("error_weight", error_weight)
        self.error_weight = bool(error_weight)

    def context(self, student: Student, data: Observations) -> _Reference | None:
        gp = student.outputs
        if not _exact_gp(gp) or data.reference is None:
            return None
        weights = _error_weights(gp, data, self.standardized_errors) \
            if self.error_weight else None
        return reference_state(gp, data.reference, success_weighted(student, data.reference,
                                                                    weights))

    def _score(self, unit: torch.Tensor, student: Student, context: _Reference | None
               ) -> torch.Tensor:
        if context is None:
            return _variance_score(unit, student)
        total = integrated_reduction(student.outputs, context, unit)
        if student.success is None:
            return total.clamp_min(_TINY).log()
        return total.clamp_min(_TINY).log() + log_success(student.posterior(unit))


def success_weighted(student: Student, reference: np.ndarray, weights: np.ndarray | None
                     ) -> np.ndarray | None:
    """``weights`` times the probability that a run succeeds at each reference point: variance
    where the teacher fails cannot be reduced, so it does not count."""
    if student.success is None:
        return weights
    with torch.no_grad():
        p = log_success(student.posterior(torch.as_tensor(reference))).exp().numpy()
    return p if weights is None else weights * p


def reference_state(gp: Any, reference: np.ndarray, weights: np.ndarray | None) -> _Reference:
    """What :func:`integrated_reduction` reuses for every candidate: the reference sample (unit
    points) in the GP's coordinates, its weights and its cross terms with the training data."""
    from surrogate.models._gp_hyper import correlation

    with torch.no_grad():
        Z = gp._coordinates(torch.as_tensor(reference, dtype=gp._L.dtype))  # on the GP's device
        K = correlation(gp.kernel_, Z, gp._U, gp._hyper.lengthscale, gp._layout)  # (m, r, n)
        V = torch.linalg.solve_triangular(gp._L, K.transpose(-1, -2), upper=False)
        u = 1.0 - (K @ gp._a[..., None])[..., 0]
    w = torch.ones(len(Z), dtype=Z.dtype, device=Z.device) if weights is None else \
        torch.as_tensor(weights, dtype=Z.dtype, device=Z.device)
    return _Reference(Z, w, V, u, gp._hyper.signal_var)


def integrated_reduction(gp: Any, ref: _Reference, unit: torch.Tensor) -> torch.Tensor:
    """Weighted mean over the reference points of the posterior variance a run at each unit
    point would remove, summed over the outputs in standardized units: (b,), on ``unit``'s
    device (computed on the GP's)."""
    from surrogate.models._gp_hyper import correlation

    h = gp._hyper
    X = gp._coordinates(unit)
    K = correlation(gp.kernel_, X, gp._U, h.lengthscale, gp._layout)  # (m, b, n)
    V = torch.linalg.solve_triangular(gp._L, K.transpose(-1, -2), upper=False)  # (m, n, b)
    u = 1.0 - (K @ gp._a[..., None])[..., 0]  # (m, b)
    var = 1.0 - (V * V).sum(-2) + u * u / gp._a_sum[:, None]  # correlation units (m, b)
    k_zx = correlation(gp.kernel_, ref.points, X, h.lengthscale, gp._layout)  # (m, r, b)
    cov = k_zx - ref.V.transpose(-1, -2) @ V + \
        ref.u[..., None] * u[:, None, :] / gp._a_sum[:, None, None]
    reduction = (ref.weights[None, :, None] * cov**2).mean(1) / \
        (var.clamp_min(0.0) + h.g[:, None])  # (m, b)
    return (ref.scale[:, None] * reduction).sum(0).to(unit.device)


class PosteriorVariance(Acquisition):
    """Run where the student is least sure: the largest posterior variance (summed over the
    outputs, each relative to its spread), plus the log probability that the run succeeds."""

    def _score(self, unit: torch.Tensor, student: Student, context: Any) -> torch.Tensor:
        return _variance_score(unit, student)


def _variance_score(unit: torch.Tensor, student: Student) -> torch.Tensor:
    posterior = student.posterior(unit)
    spread = _output_variance(student.outputs, posterior.var)
    total = (posterior.var / spread).sum(1)
    return total.clamp_min(_TINY).log() + log_success(posterior)


def _output_variance(gp: Any, var: torch.Tensor) -> torch.Tensor:
    """Each output's variance over the training data (1 where unknown), shape (m,)."""
    y_std = getattr(gp, "_y_std", None)
    if y_std is None:
        return torch.ones(var.shape[1], dtype=var.dtype)
    return torch.as_tensor(np.atleast_1d(y_std) ** 2, dtype=var.dtype)


def _error_weights(gp: Any, data: Observations, standardized: bool = True) -> np.ndarray:
    """``1 + e^2 / mean(e^2)`` at each reference point, ``e`` the leave-one-out error (summed
    over the outputs, standardized or in their own units) of the GP's nearest training point in
    its length-scale metric (geometric mean over the outputs)."""
    residual = loo_residuals(gp)
    assert residual is not None and data.reference is not None
    if standardized:
        residual = residual / gp._y_std
    error = (residual**2).sum(axis=1)  # (n,)
    mean = error.mean()
    if not np.isfinite(mean) or mean <= 0:
        return np.ones(len(data.reference))
    lengthscale = np.exp(np.log(gp._hyper.lengthscale.cpu().numpy()).mean(axis=0))  # (d,)
    layout = getattr(gp, "_layout", None)
    with torch.no_grad():
        reference = gp._coordinates(torch.as_tensor(data.reference)).cpu()
    if layout is not None:  # categorical codes: a level is another or not, not a distance
        return _weights(error, mean, _most_correlated(gp, reference, lengthscale, layout))
    runs = gp._U.cpu().numpy() / lengthscale
    reference = reference.numpy() / lengthscale
    nearest = np.empty(len(reference), dtype=int)
    for start in range(0, len(reference), 256):  # (256, n) distances at a time
        block = reference[start:start + 256]
        d2 = (block**2).sum(1)[:, None] + (runs**2).sum(1)[None, :] - 2 * block @ runs.T
        nearest[start:start + 256] = np.argmin(d2, axis=1)
    return _weights(error, mean, nearest)


def _weights(error: np.ndarray, mean: float, nearest: np.ndarray) -> np.ndarray:
    """The error weights of the reference points, each given its nearest run."""
    weights = 1.0 + error[nearest] / mean
    return weights / weights.mean()


def _most_correlated(gp: Any, reference: torch.Tensor, lengthscale: np.ndarray,
                     layout: Any) -> np.ndarray:
    """Per reference point (in the GP's coordinates), the training run of the highest
    correlation under the GP's kernel with ``lengthscale`` (d,): the nearest run, categorical
    inputs read as levels that differ or not (their codes are not ordered)."""
    from surrogate.models._gp_hyper import correlation

    runs = gp._U.cpu()
    scale = torch.as_tensor(lengthscale, dtype=runs.dtype)
    nearest = np.empty(len(reference), dtype=int)
    with torch.no_grad():
        for start in range(0, len(reference), 256):  # (256, n) correlations at a time
            C = correlation(gp.kernel_, reference[start:start + 256], runs, scale, layout)
            nearest[start:start + 256] = C.argmax(dim=1).numpy()
    return nearest
