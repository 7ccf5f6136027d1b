"""L-BFGS-B for the exact GP's hyperparameters: starting points, bounds, batched runs.

Used by :class:`surrogate.models.GPRegressor` (its per-output kernels, :mod:`._gp_stages`), the
shared tail kernel of the field GP (:mod:`._gp_shared`) and the latent positions of
categorical levels (:mod:`._gp_latent`); the likelihood itself is in :mod:`._gp_hyper`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize
import torch

from surrogate.models._gp_hyper import (
    LOG_G_MAX,
    LOG_LS_BOUNDS,
    Layout,
    _penalize,
    profile_nll,
    profile_nll_np,
)

__all__ = ["initial_candidates", "optimize_hyper", "lbfgs_options", "hyper_bounds", "lbfgsb"]


def initial_candidates(d: int, n_candidates: int, log_g0: float,
                       rng: np.random.Generator) -> np.ndarray:
    """Starting points for ``theta``: scrambled Sobol length scales in [0.05, 5] (log), plus
    one isotropic guess; the noise ratio starts above its floor so it can fall."""
    from scipy.stats import qmc

    m = max(1, math.ceil(math.log2(max(n_candidates - 1, 2))))
    base = qmc.Sobol(d, seed=rng).random_base2(m)[: max(n_candidates - 1, 1)]
    log_ls = math.log(0.05) + base * (math.log(5.0) - math.log(0.05))
    iso = np.full((1, d), math.log(0.3 * math.sqrt(d)))
    log_ls = np.vstack([iso, log_ls])[:n_candidates]
    return np.hstack([log_ls, np.full((len(log_ls), 1), log_g0)])


def optimize_hyper(kernel: str, U: torch.Tensor, Y: torch.Tensor, theta0: torch.Tensor, *,
                   log_g_min: float | np.ndarray, maxiter: int,
                   fit_noise: bool | np.ndarray = True,
                   tight: bool = False, maxfun: int = 15000,
                   layout: Layout | None = None, block: int | None = None,
                   prior: str | None = None) -> torch.Tensor:
    """L-BFGS-B on the summed per-point NLL of a batch of independent problems.

    ``theta0`` (B, d + 1) starts each problem; ``Y`` (B, n). Returns the optimized theta. The
    problems are separable, so one batched evaluation gives every gradient. ``log_g_min``
    (one value or one per problem) bounds ``log g`` below; where ``fit_noise`` (one bool, or
    one per problem) is False the noise ratio stays at that bound (an interpolating GP).
    ``tight`` converges to a projected gradient of 1e-9 instead of 1e-6: near the floor the
    likelihood is so flat in ``log g`` that the looser test stops while the noise is still
    drifting down. ``maxfun`` caps the likelihood evaluations (line
    searches can take many where jitter makes the surface rough). ``block`` (None: all ``B``)
    runs one L-BFGS-B per block of that many consecutive members: one joint run makes every
    member iterate (and pay for its Cholesky) until the slowest has converged, and its
    stopping test and iteration cap apply to the sum, not to each problem. ``prior`` (None: a
    maximum-likelihood fit) adds a length-scale prior, a maximum a posteriori fit (see
    :func:`lengthscale_log_prior`).
    """
    B = theta0.shape[0]
    size = B if block is None else max(1, int(block))
    free = np.broadcast_to(np.asarray(fit_noise, dtype=bool), (B,))
    low = np.broadcast_to(np.asarray(log_g_min, dtype=float), (B,))
    parts = [_lbfgs(kernel, U, Y[i:i + size], theta0[i:i + size], low[i:i + size],
                    free[i:i + size], layout, prior,
                    lbfgs_options(maxiter, tight, maxfun))
             for i in range(0, B, size)]
    return torch.as_tensor(np.concatenate(parts), dtype=U.dtype, device=U.device)


def lbfgs_options(maxiter: int, tight: bool = False, maxfun: int = 15000) -> dict[str, Any]:
    """L-BFGS-B's options for a hyperparameter fit: ``tight`` converges to a projected gradient
    of 1e-9 (see :func:`optimize_hyper`), else 1e-6."""
    return {"maxiter": maxiter, "maxfun": maxfun, "ftol": 1e-12 if tight else 1e-8,
            "gtol": 1e-9 if tight else 1e-6}


def _lbfgs(kernel: str, U: torch.Tensor, Y: torch.Tensor, theta0: torch.Tensor,
           low: np.ndarray, free: np.ndarray, layout: Layout | None, prior: str | None,
           options: dict[str, Any]) -> np.ndarray:
    """One joint L-BFGS-B run of :func:`optimize_hyper` over the members of ``theta0``."""
    B, p = theta0.shape
    d = p - 1
    bounds = [bound for member in range(B)
              for bound in hyper_bounds(d, low[member], free[member])]
    use_numpy = U.device.type == "cpu"
    U_np, Y_np = U.cpu().numpy(), Y.cpu().numpy()

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        if use_numpy:
            nll, grad = profile_nll_np(kernel, x.reshape(B, p), U_np, Y_np, layout=layout)
        else:
            theta = torch.as_tensor(x.reshape(B, p), dtype=U.dtype, device=U.device)
            nll_t, grad_t, _ = profile_nll(kernel, theta, U, Y, layout=layout)
            assert grad_t is not None
            nll, grad = nll_t.cpu().numpy(), grad_t.cpu().numpy()
        assert grad is not None
        nll, grad = _penalize(prior, x.reshape(B, p), len(U_np), layout, nll, grad)
        assert grad is not None
        return float(nll.sum()), grad.ravel()

    res = lbfgsb(objective, theta0.detach().cpu().numpy().ravel(), bounds, options)
    return res.x.reshape(B, p)


def hyper_bounds(d: int, low: float, free: bool) -> list[tuple[float, float]]:
    """L-BFGS-B bounds of one ``theta``: ``d`` log length scales, then ``log g`` from ``low``
    (held there unless ``free``)."""
    return [LOG_LS_BOUNDS] * d + [(low, LOG_G_MAX if free else low)]


def lbfgsb(objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray,
           bounds: list[tuple[float, float]], options: dict[str, Any]
           ) -> scipy.optimize.OptimizeResult:
    """L-BFGS-B on ``objective(x) -> (value, gradient)`` from ``x0`` clipped into ``bounds``; a
    non-finite value steers the line search back (a large value, no gradient) instead of
    failing the fit."""
    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = objective(x)
        if not math.isfinite(value):
            return 1e10, np.zeros_like(x)
        return value, grad

    x0 = np.clip(x0, [b[0] for b in bounds], [b[1] for b in bounds])
    return scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                   options=options)
