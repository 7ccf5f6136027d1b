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

import numpy as np
import torch

from surrogate.models import _gp_hyper as hyp
from surrogate.models import _gp_optim as optim
from surrogate.models._gp import GPRegressor
from surrogate.models._gp_stages import HyperSteps, fit_stages

__all__ = ["SharedTailGP", "SharedSteps", "shared_nll"]


def shared_nll(kernel: str, theta: np.ndarray, U: np.ndarray, Y: np.ndarray,
               layout: hyp.Layout | None = None, *, grad: bool = True
               ) -> tuple[float, np.ndarray | None]:
    """Mean over the outputs ``Y`` (m, n) of their concentrated NLLs per point under one
    ``theta`` (d + 1,) and its gradient: the likelihood of independent outputs with a common
    correlation, each with its own GLS constant and profiled signal variance (see
    :func:`surrogate.models._gp_hyper.profile_nll`, of which this is the sum over outputs).
    """
    n = len(U)
    gradient, R, g = hyp._np_correlation(kernel, theta[None, :], U, layout)
    logdet_half, F = hyp._np_factor(R, inverse=True)  # F = R^-1
    nlls, W = hyp.concentrated_outputs(F[0], float(logdet_half[0]), Y)
    nll = float(nlls.mean())
    if not grad:
        return nll, None
    idx = np.arange(n)
    g_g = g[0] * W[idx, idx].sum() / (2 * n)
    return nll, np.concatenate([gradient(W[None])[0], [g_g]])


class SharedSteps(HyperSteps):
    """What :func:`~surrogate.models._gp.fit_stages` scores and optimizes with for outputs
    that share one kernel: one row of ``theta`` for all of them, the objective
    :func:`shared_nll` under the GP's length-scale prior (in numpy on the CPU, whatever the
    GP's device)."""

    def _nll(self, theta: np.ndarray, U: np.ndarray, Y: np.ndarray, *, grad: bool
             ) -> tuple[float, np.ndarray | None]:
        value, gradient = shared_nll(self.kernel, theta, U, Y, self.layout, grad=grad)
        nll, g = hyp._penalize(self.prior, theta[None, :], len(U), self.layout,
                               np.array([value]), None if gradient is None else gradient[None])
        return float(nll[0]), None if g is None else g[0]

    def score_candidates(self, cand: torch.Tensor, U: torch.Tensor, Y: torch.Tensor
                         ) -> torch.Tensor:
        """NLL of every candidate (q, d + 1) for the outputs together -> (1, q); NaN as inf."""
        return self.score(cand, U, Y, len(cand))

    def score(self, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor, k: int
              ) -> torch.Tensor:
        """NLL of each of the ``k`` rows of ``theta`` for the outputs together -> (1, k)."""
        U_np, Y_np = U.cpu().numpy(), Y.cpu().numpy()
        nll = [self._nll(row, U_np, Y_np, grad=False)[0] for row in theta.cpu().numpy()]
        return torch.as_tensor(np.nan_to_num(nll, nan=math.inf), dtype=U.dtype,
                               device=U.device).reshape(1, k)

    def optimize(self, U: torch.Tensor, Y: torch.Tensor, start: torch.Tensor, k: int, *,
                 maxiter: int, tight: bool = False) -> torch.Tensor:
        """L-BFGS-B from each of the ``k`` rows of ``start``, one run each."""
        U_np, Y_np = U.cpu().numpy(), Y.cpu().numpy()
        bounds = optim.hyper_bounds(U.shape[1], self.log_g_min, self.fit_noise)

        def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
            nll, g = self._nll(x, U_np, Y_np, grad=True)
            assert g is not None
            return nll, g

        rows = [optim.lbfgsb(objective, row, bounds, optim.lbfgs_options(maxiter, tight)).x
                for row in start.detach().cpu().numpy()]
        return torch.as_tensor(np.stack(rows), dtype=U.dtype, device=U.device)


class SharedTailGP(GPRegressor):
    """:class:`~surrogate.models.GPRegressor` whose outputs after the first ``n_own`` share one
    kernel (see the module). ``n_own`` and ``n_fitted`` are set on the instance before ``fit``
    (``None``: every output its own kernel, as the parent; see :meth:`_fit_hyper`). Used by
    :class:`~surrogate.models.FieldGPRegressor`.
    """

    n_own: int | None = None
    n_fitted: int | None = None

    def _fit_hyper(self, kernel: str, U: torch.Tensor, Ys: torch.Tensor,
                   subsets: tuple[torch.Tensor, torch.Tensor], rng: np.random.Generator,
                   *, tight: bool = True) -> torch.Tensor:
        """The first ``n_own`` outputs each their own kernel, the rest one shared kernel, fitted
        to the tail outputs before ``n_fitted`` (None: all): those after it carry nothing but
        rounding (components past the numerical rank), and standardized like the others they
        would look like unit-variance noise and pull the shared kernel to a noise fit."""
        m = Ys.shape[0]
        own = m if self.n_own is None else min(max(int(self.n_own), 0), m)
        fitted = m if self.n_fitted is None else min(max(int(self.n_fitted), own, 1), m)
        if m - own < 2 and fitted == m:  # nothing to share
            return super()._fit_hyper(kernel, U, Ys, subsets, rng, tight=tight)
        parts = [super()._fit_hyper(kernel, U, Ys[:own], subsets, rng, tight=tight)] \
            if own else []
        if fitted > own:
            theta = fit_stages(SharedSteps(self, kernel), U, Ys[own:fitted], subsets, rng,
                               tight=tight)
        else:  # no tail output above rounding: the last own kernel serves them
            theta = parts[-1][-1:]
        parts.append(theta.expand(m - own, -1))
        return torch.cat(parts).contiguous()
