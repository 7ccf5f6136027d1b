"""The stages of a GP's hyperparameter fit, shared by the per-output kernels of
:class:`~surrogate.models.GPRegressor` and the shared tail kernel of the field GP
(:mod:`surrogate.models._gp_shared`): score initial guesses, race the best starts for a few
iterations, converge the leader on the explore subset, refine it on the larger subset.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from surrogate.models import _gp_hyper as hyp
from surrogate.models import _gp_optim as optim
from surrogate.models._base import DTYPE

__all__ = ["HyperSteps", "BatchedSteps", "fit_stages", "N_CANDIDATES", "RACE_ITERATIONS"]

RACE_ITERATIONS = 8  # L-BFGS-B iterations every start gets before the best one continues
N_CANDIDATES = 24  # initial guesses scored in one batch before the L-BFGS-B restarts
NOISY_START = 0.1  # the noise ratio of the noisy twins of the initial guesses (see fit_stages)
N_NOISY = 4  # the best initial guesses given a noisy twin, beside the isotropic one


class HyperSteps:
    """What :func:`fit_stages` scores and optimizes hyperparameters with, and the GP's settings
    it reads (``n_restarts``, ``fit_noise``, the noise floor as ``log_g_min``). A subclass
    decides how outputs map to rows of ``theta`` (each its own, or one shared)."""

    noisy_twins = False  # whether fit_stages also tries noisy starts (needs loo)

    def __init__(self, gp: Any, kernel: str) -> None:
        self.kernel, self.layout, self.prior = kernel, gp._layout, gp.lengthscale_prior
        self.fit_noise, self.log_g_min = gp.fit_noise, math.log(gp._floor)
        self.n_restarts = gp.n_restarts

    def score_candidates(self, cand: torch.Tensor, U: torch.Tensor, Y: torch.Tensor
                         ) -> torch.Tensor:
        """NLL per point of every candidate (q, d + 1) for every row of ``theta`` -> (G, q),
        NaN or failed as +inf."""
        raise NotImplementedError

    def score(self, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor, k: int
              ) -> torch.Tensor:
        """NLL per point of ``k`` consecutive rows of ``theta`` per row group -> (G, k)."""
        raise NotImplementedError

    def optimize(self, U: torch.Tensor, Y: torch.Tensor, start: torch.Tensor, k: int, *,
                 maxiter: int, tight: bool = False) -> torch.Tensor:
        """L-BFGS-B from ``k`` starts per row group (consecutive rows of ``start``)."""
        raise NotImplementedError

    def loo(self, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """Leave-one-out mean squared error of each row of ``theta`` -> (G,)."""
        raise NotImplementedError


class BatchedSteps(HyperSteps):
    """Each output its own row of ``theta``, batched over outputs and starts.

    Each output runs its own L-BFGS-B (``block``): joined, every output would iterate until
    the slowest converged (12 outputs took 3.4x as long as 12 single fits).
    """

    noisy_twins = True

    def score_candidates(self, cand: torch.Tensor, U: torch.Tensor, Y: torch.Tensor
                         ) -> torch.Tensor:
        """NLL of every candidate (q, d + 1) for every output -> (m, q)."""
        if Y.shape[0] == 1:
            return hyp.score(self.kernel, cand, U, Y.repeat_interleave(len(cand), 0),
                             self.layout, prior=self.prior)[None, :]
        return hyp.score_outputs(self.kernel, cand, U, Y, self.layout, prior=self.prior)

    def score(self, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor, k: int
              ) -> torch.Tensor:
        """NLL of ``k`` rows of ``theta`` per output (consecutive) -> (m, k)."""
        return hyp.score(self.kernel, theta, U, Y.repeat_interleave(k, 0), self.layout,
                         prior=self.prior).reshape(Y.shape[0], k)

    def optimize(self, U: torch.Tensor, Y: torch.Tensor, start: torch.Tensor, k: int, *,
                 maxiter: int, tight: bool = False) -> torch.Tensor:
        """L-BFGS-B from ``k`` starts per output (consecutive rows of ``start``)."""
        return optim.optimize_hyper(self.kernel, U, Y if k == 1 else Y.repeat_interleave(k, 0),
                                    start, log_g_min=self.log_g_min, maxiter=maxiter,
                                    fit_noise=self.fit_noise, tight=tight, layout=self.layout,
                                    block=k, prior=self.prior)

    def loo(self, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """Leave-one-out mean squared error of each output's ``theta`` -> (m,)."""
        return hyp.loo_mse(self.kernel, theta, U, Y, self.layout)


def fit_stages(steps: HyperSteps, U: torch.Tensor, Ys: torch.Tensor,
               subsets: tuple[torch.Tensor, torch.Tensor], rng: np.random.Generator,
               *, tight: bool = True) -> torch.Tensor:
    """The stages of a hyperparameter fit: score N_CANDIDATES initial guesses, race the best
    ``n_restarts`` per row of ``theta`` for RACE_ITERATIONS, converge the leader on the explore
    subset (fully with ``tight``); where the data look noisy, the same from noisy starts
    (:func:`_noisy_twins`); refine it on the larger subset. ``steps`` scores and
    optimizes (:class:`BatchedSteps`: each output its own row; a shared kernel: one row for
    all, see :mod:`surrogate.models._gp_shared`)."""
    explore, refine = subsets
    U_e, Y_e = U[explore], Ys[:, explore]
    cand = torch.as_tensor(
        optim.initial_candidates(
            U.shape[1], N_CANDIDATES,
            steps.log_g_min + (math.log(1e4) if steps.fit_noise else 0.0), rng),
        dtype=DTYPE, device=U.device)
    nll = steps.score_candidates(cand, U_e, Y_e)  # (G, q)
    theta = _race(steps, U_e, Y_e, cand, nll, tight)
    if steps.fit_noise and steps.noisy_twins:
        theta = _noisy_twins(steps, U_e, Y_e, cand, nll, theta)
    if len(refine) > len(explore):
        theta = steps.optimize(U[refine], Ys[:, refine], theta, 1, maxiter=60)
    return theta


def _race(steps: HyperSteps, U: torch.Tensor, Y: torch.Tensor, cand: torch.Tensor,
          nll: torch.Tensor, tight: bool) -> torch.Tensor:
    """Race the ``n_restarts`` best candidates (by ``nll`` (G, q)) of each row of ``theta`` for
    RACE_ITERATIONS; converge the leader (fully with ``tight``) -> (G, d + 1)."""
    G, p = nll.shape[0], cand.shape[1]
    r = min(steps.n_restarts, len(cand))
    start = cand[torch.argsort(nll, dim=1)[:, :r]].reshape(G * r, p)
    if r > 1:  # only the leader runs to convergence
        theta = steps.optimize(U, Y, start, r, maxiter=RACE_ITERATIONS)
        nll = steps.score(theta, U, Y, r)
        start = theta.reshape(G, r, p)[torch.arange(G), torch.argmin(nll, dim=1)]
    return steps.optimize(U, Y, start, 1, maxiter=200, tight=tight)


def _noisy_twins(steps: HyperSteps, U: torch.Tensor, Y: torch.Tensor, cand: torch.Tensor,
                 nll: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """``theta`` (G, d + 1), or for the rows where the candidates with a noise ratio of
    NOISY_START score better than the nearly interpolating ones, the noisy fit when its
    leave-one-out error is lower (converged from the best noisy guess where that guess, after
    RACE_ITERATIONS, already has the lower error).

    The candidates start just above the noise floor so that deterministic simulators are
    interpolated; there the likelihood's gradient in ``log g`` is about ``g``, too small to
    climb to the noise of noisy data (50 noisy points ended at the floor with 3.5 times the
    error). Cross-validation, not the likelihood, settles between the two: the likelihood of
    a few points of a deterministic simulator can prefer noise that predicts worse."""
    # the isotropic guess and the N_NOISY best guesses of any row, each with noise
    best = torch.unique(torch.argsort(nll, dim=1)[:, :N_NOISY].reshape(-1))
    noisy = cand[torch.unique(torch.cat([best.new_zeros(1), best]))].clone()
    noisy[:, -1] = max(math.log(NOISY_START), float(cand[0, -1]))
    nll_noisy = steps.score_candidates(noisy, U, Y)
    rows = torch.nonzero(nll_noisy.min(dim=1).values < nll.min(dim=1).values)[:, 0]
    if not len(rows):
        return theta
    # converged only where the best noisy guess, after RACE_ITERATIONS, already predicts
    # better (cost: on rough deterministic components of a field most stay interpolating)
    start = steps.optimize(U, Y[rows], noisy[torch.argmin(nll_noisy[rows], dim=1)], 1,
                           maxiter=RACE_ITERATIONS)
    loo = steps.loo(theta[rows], U, Y[rows])
    promising = steps.loo(start, U, Y[rows]) < loo
    rows, loo = rows[promising], loo[promising]
    if not len(rows):
        return theta
    alt = steps.optimize(U, Y[rows], start[promising], 1, maxiter=200)
    better = steps.loo(alt, U, Y[rows]) < loo
    theta = theta.clone()
    theta[rows[better]] = alt[better]
    return theta
