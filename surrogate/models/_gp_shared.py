"""A batched GP whose trailing outputs share one kernel: the component scores of a field.

:class:`~surrogate.models.FieldGPRegressor` models each principal component of a field by its
own GP output. The leading components carry most of the variance and get their own length
scales; the many trailing ones each carry little, and fitting a kernel to each costs as much as
fitting a leading one. Here the trailing outputs share one kernel (length scales and noise
ratio; each keeps its own constant mean and signal variance): their joint likelihood is the
sum of their concentrated likelihoods, and one Cholesky factor per evaluation serves all of
them. After fitting, the model is an ordinary :class:`~surrogate.models.GPRegressor` (one
hyperparameter row per output, some rows equal): it predicts, samples and is saved as one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.optimize
import torch

from surrogate.models import _gp_hyper as hyp
from surrogate.models._gp import N_CANDIDATES, RACE_ITERATIONS, GPRegressor

__all__ = ["SharedTailGP", "shared_nll"]


def shared_nll(kernel: str, theta: np.ndarray, U: np.ndarray, Y: np.ndarray,
               layout: hyp.Layout | None = None, *, grad: bool = True
               ) -> tuple[float, np.ndarray | None]:
    """Mean over the outputs ``Y`` (m, n) of their concentrated NLLs per point under one
    ``theta`` (d + 1,) and its gradient: the likelihood of independent outputs with a common
    correlation, each with its own GLS constant and profiled signal variance (see
    :func:`surrogate.models._gp_hyper.profile_nll`, of which this is the sum over outputs).
    """
    n, m = len(U), len(Y)
    gradient, R, g = hyp._np_correlation(kernel, theta[None, :], U, layout)
    logdet_half, F = hyp._np_factor(R, inverse=True)  # F = R^-1
    R_inv = F[0]
    a = R_inv.sum(-1)  # R^-1 1
    B = R_inv @ Y.T  # R^-1 y_j  (n, m)
    mean = B.sum(0) / a.sum()  # GLS constants (m,)
    beta = B - a[:, None] * mean[None, :]  # R^-1 (y_j - mean_j)
    s2 = np.maximum(((Y.T - mean[None, :]) * beta).sum(0), 1e-300) / n
    nll = 0.5 * float(np.log(s2).mean()) + float(logdet_half[0]) / n
    if not grad:
        return nll, None
    # the mean over outputs of each output's W = R^-1 - beta beta^T / s2 (profile_nll)
    W = R_inv - (beta / (m * s2)[None, :]) @ beta.T
    idx = np.arange(n)
    g_g = g[0] * W[idx, idx].sum() / (2 * n)
    return nll, np.concatenate([gradient(W[None])[0], [g_g]])


def _minimize(kernel: str, theta0: np.ndarray, U: np.ndarray, Y: np.ndarray,
              layout: hyp.Layout | None, prior: str | None, bounds: list[tuple[float, float]],
              options: dict[str, Any]) -> scipy.optimize.OptimizeResult:
    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = shared_nll(kernel, x, U, Y, layout)
        assert gradient is not None
        nll, grad = hyp._penalize(prior, x[None, :], len(U), layout, np.array([value]),
                                  gradient[None, :])
        assert grad is not None
        return float(nll[0]), grad[0]

    return hyp.lbfgsb(objective, theta0, bounds, options)


class SharedTailGP(GPRegressor):
    """:class:`~surrogate.models.GPRegressor` whose outputs after the first ``n_own`` share one
    kernel (see the module). ``n_own`` is set on the instance before ``fit`` (``None``: every
    output its own kernel, as the parent). Used by :class:`~surrogate.models.FieldGPRegressor`.
    """

    n_own: int | None = None

    def _fit_hyper(self, kernel: str, U: torch.Tensor, Ys: torch.Tensor,
                   subsets: tuple[torch.Tensor, torch.Tensor], rng: np.random.Generator,
                   *, tight: bool = True) -> torch.Tensor:
        m = Ys.shape[0]
        own = m if self.n_own is None else min(max(int(self.n_own), 0), m)
        if m - own < 2:  # nothing to share
            return super()._fit_hyper(kernel, U, Ys, subsets, rng, tight=tight)
        parts = [super()._fit_hyper(kernel, U, Ys[:own], subsets, rng, tight=tight)] \
            if own else []
        theta = self._fit_shared(kernel, U, Ys[own:], subsets, rng, tight=tight)
        parts.append(theta.expand(m - own, -1))
        return torch.cat(parts).contiguous()

    def _fit_shared(self, kernel: str, U: torch.Tensor, Ys: torch.Tensor,
                    subsets: tuple[torch.Tensor, torch.Tensor], rng: np.random.Generator,
                    *, tight: bool) -> torch.Tensor:
        """The steps of the parent's fit, for one shared kernel: score the candidates, race
        the best ``n_restarts`` for a few iterations, converge the leader on the explore
        subset, refine it on the larger one (on the CPU in numpy, whatever the device)."""
        d = U.shape[1]
        layout = self._layout
        log_g_min = math.log(self._floor)
        explore, refine = subsets
        U_np, Y_np = U.cpu().numpy(), Ys.cpu().numpy()
        U_e, Y_e = U_np[explore.numpy()], Y_np[:, explore.numpy()]
        cand = hyp.initial_candidates(
            d, N_CANDIDATES, log_g_min + (math.log(1e4) if self.fit_noise else 0.0), rng)
        prior = self.lengthscale_prior
        scores = hyp._penalize(prior, cand, len(U_e), layout, np.array(
            [shared_nll(kernel, c, U_e, Y_e, layout, grad=False)[0] for c in cand]))[0]
        starts = cand[np.argsort(np.nan_to_num(scores, nan=math.inf))[:self.n_restarts]]
        bounds = hyp.hyper_bounds(d, log_g_min, self.fit_noise)
        loose = {"maxiter": RACE_ITERATIONS, "ftol": 1e-8, "gtol": 1e-6}
        if len(starts) > 1:
            raced = [_minimize(kernel, s, U_e, Y_e, layout, prior, bounds, loose) for s in starts]
            leader = min(raced, key=lambda r: r.fun if math.isfinite(r.fun) else math.inf).x
        else:
            leader = starts[0]
        converge = {"maxiter": 200, "ftol": 1e-12 if tight else 1e-8,
                    "gtol": 1e-9 if tight else 1e-6}
        theta = _minimize(kernel, leader, U_e, Y_e, layout, prior, bounds, converge).x
        if len(refine) > len(explore):
            theta = _minimize(kernel, theta, U_np[refine.numpy()], Y_np[:, refine.numpy()],
                              layout, prior, bounds,
                              {"maxiter": 60, "ftol": 1e-8, "gtol": 1e-6}).x
        return torch.as_tensor(theta[None, :], dtype=U.dtype, device=U.device)
