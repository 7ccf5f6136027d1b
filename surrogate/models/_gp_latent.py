"""Latent positions of categorical levels: ``GPRegressor(categorical="latent")``.

Each categorical input of ``L`` levels is mapped to one real number per level (the first level
at 0), and the GP then treats the column as numeric: two levels correlate as two points at the
distance of their positions (Zhang, Tao, Chen & Apley 2020, "A latent variable approach to
Gaussian process modeling with qualitative and quantitative factors", Technometrics 62, with
one latent dimension instead of two). Levels that act alike come to lie close together, and
a level whose effect is intermediate lies in between (e.g. a policy that scales a rate by 1,
0.6 or 0.35), which the exchangeable kernel (one correlation for every pair of levels) cannot
express. The positions maximize the GP's concentrated likelihood jointly with the numeric
inputs' length scales (the latent length scale is 1: the positions carry the scale), by
L-BFGS-B with analytic gradients from each level's mean response; the GP is then fitted as usual
on the encoded inputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from surrogate.models import _gp_hyper as hyp
from surrogate.models import _gp_optim as optim

__all__ = ["fit_positions", "encode_latent", "place_unseen"]

POSITION_BOUND = 5.0  # positions within +-5 (in units of the latent length scale, 1)
SEARCH_NUGGET = 1e-6  # the noise ratio held during the search (the fit after fits its own)
UNSEEN_DISTANCE = 100.0  # a level no run holds lies this far past the others' positions


def encode_latent(U: Any, positions: dict[int, Any]) -> Any:
    """``U`` (n, d; numpy or torch) with each latent column's codes replaced by positions."""
    if not positions:
        return U
    if isinstance(U, torch.Tensor):
        columns = [U[:, j] for j in range(U.shape[1])]
        for j, table in positions.items():
            t = torch.as_tensor(table, dtype=U.dtype, device=U.device)
            columns[j] = t[U[:, j].detach().round().long().clamp(0, len(t) - 1)]
        return torch.stack(columns, dim=1)
    out = np.array(U, dtype=float, copy=True)
    for j, table in positions.items():
        out[:, j] = np.asarray(table)[_level_codes(out[:, j], len(table))]
    return out


def _level_codes(column: np.ndarray, n_levels: int) -> np.ndarray:
    """A latent column's codes (floats) as level indices ``0 .. n_levels - 1``."""
    return np.clip(np.rint(column).astype(int), 0, n_levels - 1)


def _split(x: np.ndarray, levels: dict[int, int]) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """The parameter vector ``x`` as position tables per latent column (the first level at 0)
    and the numeric inputs' log length scales."""
    tables, k = {}, 0
    for j, n_levels in levels.items():
        tables[j] = np.concatenate([[0.0], x[k:k + n_levels - 1]])
        k += n_levels - 1
    return tables, x[k:]


def _nll(kernel: str, U: np.ndarray, Y: np.ndarray, numeric: list[int],
         levels: dict[int, int], x: np.ndarray) -> tuple[float, np.ndarray]:
    """Summed concentrated NLL per point of the outputs ``Y`` (m, n) for the parameter vector
    ``x`` (the free positions of every latent column, then the numeric log length scales), and
    its gradient (analytic: the chain rule through :func:`~._gp_hyper.np_input_gradient`)."""
    tables, log_ls = _split(x, levels)
    n, m = len(U), len(Y)
    # the positions carry their own scale; the numeric inputs are divided by theirs
    S = encode_latent(U, tables)
    S[:, numeric] /= np.exp(log_ls)
    C, H = hyp._np_corr_and_dlog(kernel, S[None])
    C[0][np.diag_indices(n)] += SEARCH_NUGGET
    logdet_half, F = hyp._np_factor(C, inverse=True)
    nll, W = hyp.concentrated_outputs(F[0], float(logdet_half[0]), Y)
    dS = hyp.np_input_gradient(S, m * W * H[0], n)  # of the sum over the outputs
    grad = [np.bincount(_level_codes(U[:, j], n_levels), weights=dS[:, j],
                        minlength=n_levels)[1:] for j, n_levels in levels.items()]
    grad.append(-(dS[:, numeric] * S[:, numeric]).sum(0))  # d S / d log l = -S
    return float(nll.sum()), np.concatenate(grad)


def _mean_positions(U: np.ndarray, Ys: np.ndarray, levels: dict[int, int]) -> np.ndarray:
    """The free positions (all levels but each column's first) at the levels' mean
    standardized response, averaged over the outputs, relative to the first level's."""
    y = Ys.mean(axis=0)
    parts = []
    for j, n_levels in levels.items():
        codes = _level_codes(U[:, j], n_levels)
        means = np.array([y[codes == level].mean() if (codes == level).any() else 0.0
                          for level in range(n_levels)])
        parts.append(means[1:] - means[0])
    return np.concatenate(parts) if parts else np.zeros(0)


def fit_positions(kernel: str, U: np.ndarray, Ys: np.ndarray, levels: dict[int, int],
                  rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Positions per level of each latent column ``j`` (``levels[j]`` levels) that maximize the
    likelihood of the standardized outputs ``Ys`` (m, n) on the unit inputs ``U`` (n, d; codes
    in the latent columns), from the levels' mean responses."""
    numeric = [j for j in range(U.shape[1]) if j not in levels]
    n_free = sum(n_levels - 1 for n_levels in levels.values())
    bounds = [(-POSITION_BOUND, POSITION_BOUND)] * n_free + [hyp.LOG_LS_BOUNDS] * len(numeric)
    U = np.asarray(U, dtype=float)
    Ys = np.asarray(Ys, dtype=float)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            return _nll(kernel, U, Ys, numeric, levels, x)
        except ValueError:  # positions on top of one another: steer back
            return math.inf, np.zeros_like(x)

    # start each level at its mean response: levels that act alike on average start close
    # together (on the mixed-input benchmark this start beat four random ones on every cell)
    x0 = np.concatenate([_mean_positions(U, Ys, levels),
                         np.log(rng.uniform(0.2, 1.0, len(numeric)))])
    result = optim.lbfgsb(objective, x0, bounds, optim.lbfgs_options(200))
    return _split(result.x, levels)[0]


def place_unseen(positions: dict[int, np.ndarray], U: np.ndarray) -> dict[int, np.ndarray]:
    """``positions`` with each level that no row of ``U`` (n, d; codes in the latent columns)
    holds moved :data:`UNSEEN_DISTANCE` past the others: it correlates with none of them, and
    its predictions fall back to the GP's prior (a level declared but never run kept the start
    of the search, an arbitrary point between the others: a prediction there with the
    confidence of a level with runs)."""
    placed = {}
    for j, table in positions.items():
        seen = np.zeros(len(table), dtype=bool)
        seen[_level_codes(U[:, j], len(table))] = True
        table = np.array(table, dtype=float)
        if not seen.all() and seen.any():
            table[~seen] = table[seen].max() + UNSEEN_DISTANCE
        placed[j] = table
    return placed
