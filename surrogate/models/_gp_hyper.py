"""Exact-GP hyperparameters: stationary correlations and the concentrated marginal likelihood.

Used by :class:`surrogate.models.GPRegressor`. The kernels are gpytorch's definitions
(``MaternKernel(nu)``, ``RBFKernel``; ``tests/models`` checks equality), written here as plain
batched torch so that one likelihood evaluation for every restart and output is a single batch
of Cholesky factorizations with an analytic gradient (autograd through a Cholesky costs ~3x more).

The constant mean and the signal variance have closed forms given the length scales and the
noise ratio ``g = noise / signal variance`` (the "concentrated" or profile likelihood, as in
Kriging: Jones, Schonlau & Welch 1998, eq. 4-6), so L-BFGS-B searches only
``theta = (log lengthscale_1..d, log g)``. ``g`` has a floor because simulators are
deterministic: the GP should interpolate, but never with a singular matrix.

Categorical inputs (a :class:`Layout` names them; they hold codes ``0 .. L-1``) get an
exchangeable kernel multiplied with the stationary one of the numeric inputs:
``k(x, x') = k_num(x, x') * prod_c T_c(x_c, x'_c)`` with ``T_c(a, b) = 1`` for ``a == b`` and
``rho_c`` otherwise: every two different levels of input ``c`` correlate alike (the
exchangeable or "compound symmetry" correlation of Qian, Wu & Wu 2008, Technometrics 50(3);
SMT's ``COMPOUND_SYMMETRY``). ``rho_c`` may be negative, down to ``-1 / (L_c - 1)`` where
``T_c`` stops being positive definite: a switch that turns a response around (a slope of one
sign or the other) is then one smooth function, which a positive-only kernel (BoTorch's
``CategoricalKernel``, SMT's Gower distance) cannot say. It is searched as a length scale, as
the numeric inputs are: ``rho = rho_min + (1 - rho_min) exp(-1 / (2 l^2))``, so that a long
``l`` means levels alike (rho -> 1) and a short one means levels opposed (rho -> rho_min).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["KERNELS", "LENGTHSCALE_PRIORS", "Layout", "correlation", "additive_correlation",
           "profile_nll", "profile_nll_np", "np_input_gradient", "concentrated_outputs",
           "loo_mse", "Hyper", "score_outputs", "lengthscale_log_prior"]

KERNELS = ("matern52", "matern32", "rbf")
SQRT5, SQRT3 = math.sqrt(5.0), math.sqrt(3.0)
LOG_LS_BOUNDS = (math.log(1e-3), math.log(1e3))  # length scales in unit-cube coordinates
LOG_G_MAX = math.log(10.0)
JITTERS = (0.0, 1e-10, 1e-8, 1e-6, 1e-4)  # added to g when a Cholesky fails (float64)
TORCH_INVERSE_FROM = 100  # matrices of at least this size are inverted by torch (_np_factor)
LENGTHSCALE_PRIORS = ("gamma", "lognormal")
GAMMA_PRIOR = (3.0, 6.0)  # shape, rate of the "gamma" prior on each unit-cube length scale


@dataclass(frozen=True)
class Layout:
    """Which columns of a GP's inputs are categorical (codes ``0 .. L-1``) and their levels.

    ``levels[j]`` is 0 for a numeric column, else the number of levels of column ``j``.

    Examples
    --------
    >>> layout = Layout.of((0, 3, 0))
    >>> layout.numeric, layout.categorical
    ([0, 2], [1])
    >>> layout.rho(np.array([[1.0, 1e-3, 1.0]])).round(3).tolist()  # short l: opposed levels
    [[-0.5]]
    >>> Layout.of((0, 0)) is None
    True
    """

    levels: tuple[int, ...]

    @staticmethod
    def of(levels: tuple[int, ...]) -> Layout | None:
        """The layout, or None when every column is numeric (the plain stationary kernel)."""
        return Layout(tuple(int(v) for v in levels)) if any(levels) else None

    @property
    def numeric(self) -> list[int]:
        return [j for j, n_levels in enumerate(self.levels) if not n_levels]

    @property
    def categorical(self) -> list[int]:
        return [j for j, n_levels in enumerate(self.levels) if n_levels]

    def _rho_min(self) -> np.ndarray:
        """The lowest correlation of two levels that keeps ``T_c`` positive semi-definite."""
        return np.array([-1.0 / (self.levels[j] - 1) if self.levels[j] > 1 else 0.0
                         for j in self.categorical])

    def rho(self, ls: Any) -> Any:
        """Correlation of two different levels (..., n_categorical) from length scales (..., d)."""
        low = self._rho_min()
        ls_cat = ls[..., self.categorical]
        if isinstance(ls, torch.Tensor):
            low_t = torch.as_tensor(low, dtype=ls.dtype, device=ls.device)
            return low_t + (1 - low_t) * torch.exp(-0.5 / ls_cat**2)
        return low + (1 - low) * np.exp(-0.5 / ls_cat**2)

    def drho(self, ls: np.ndarray) -> np.ndarray:
        """d rho / d log(l) (..., n_categorical)."""
        ls_cat = ls[..., self.categorical]
        return (1 - self._rho_min()) * np.exp(-0.5 / ls_cat**2) / ls_cat**2

    def gather(self, numeric: Any, categorical: Any) -> Any:
        """Per-input gradients (B, d) from those of the numeric and the categorical inputs."""
        out = np.zeros((numeric.shape[0], len(self.levels))) if isinstance(numeric, np.ndarray) \
            else numeric.new_zeros((numeric.shape[0], len(self.levels)))
        out[:, self.numeric] = numeric
        out[:, self.categorical] = categorical
        return out


def _sq_dist(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Squared distances between rows of ``A`` (..., n, d) and ``B`` (..., k, d) -> (..., n, k)."""
    # |a|^2 + |b|^2 - 2 a.b: memory n*k instead of n*k*d; clamped against rounding below 0
    r2 = (A * A).sum(-1)[..., :, None] + (B * B).sum(-1)[..., None, :] - 2 * A @ B.transpose(-1, -2)
    return r2.clamp_min(0.0)


def correlation(kernel: str, A: torch.Tensor, B: torch.Tensor,
                lengthscale: torch.Tensor, layout: Layout | None = None) -> torch.Tensor:
    """Correlation matrix ``k(A, B)`` with unit variance, batched over ``lengthscale`` (..., d).

    ``A`` (n, d) or (..., n, d), ``B`` (k, d) or (..., k, d) -> (..., n, k). Differentiable in
    all arguments (the distance is clamped away from 0 before the square root, as gpytorch does)
    but the categorical codes of a ``layout``.
    """
    if layout is not None:
        ls_num = lengthscale[..., None, layout.numeric]
        A_num, B_num = A[..., layout.numeric], B[..., layout.numeric]
        C = _stationary(kernel, _sq_dist(A_num / ls_num, B_num / ls_num))
        rho = layout.rho(lengthscale)  # (..., n_categorical)
        for k, j in enumerate(layout.categorical):
            differ = (A[..., :, None, j] != B[..., None, :, j]).to(C.dtype)  # (..., n, k)
            C = C * (1.0 - (1.0 - rho[..., k, None, None]) * differ)
        return C
    ls = lengthscale[..., None, :]
    return _stationary(kernel, _sq_dist(A / ls, B / ls))


def additive_correlation(kernel: str, A: torch.Tensor, B: torch.Tensor,
                         lengthscale: torch.Tensor, layout: Layout | None = None) -> torch.Tensor:
    """The first-order additive correlation: the mean over inputs of one-input correlations.

    ``k(a, b) = (1/d) sum_j k_j(a_j, b_j)`` (Duvenaud, Nickisch & Rasmussen 2011, order 1),
    each ``k_j`` the stationary correlation of input ``j`` alone with its own length scale, or
    the exchangeable ``T_c`` of a categorical input. Shapes as in :func:`correlation`. A latent
    function of this kernel is a sum of one-input functions, so a box (an "and" of one-input
    conditions) or a ball (a sum of squares) is one threshold of it.
    """
    d = A.shape[-1]
    categorical = set(layout.categorical) if layout is not None else set()
    rho = layout.rho(lengthscale) if layout is not None else None
    terms = []
    for j in range(d):
        diff = A[..., :, None, j] - B[..., None, :, j]
        if j in categorical:
            k = layout.categorical.index(j)  # type: ignore[union-attr]
            differ = (diff != 0).to(A.dtype)
            terms.append(1.0 - (1.0 - rho[..., k, None, None]) * differ)  # type: ignore[index]
        else:
            terms.append(_stationary(kernel, diff * diff / lengthscale[..., j, None, None] ** 2))
    return torch.stack(terms).sum(0) / d


def _stationary(kernel: str, r2: torch.Tensor) -> torch.Tensor:
    """The stationary correlation as a function of the squared scaled distance ``r2``."""
    if kernel == "rbf":
        return torch.exp(-0.5 * r2)
    r = r2.clamp_min(1e-30).sqrt()
    if kernel == "matern52":
        return (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * torch.exp(-SQRT5 * r)
    return (1.0 + SQRT3 * r) * torch.exp(-SQRT3 * r)


def _corr_and_dlog(kernel: str, S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Correlation C of the scaled inputs ``S`` (B, n, d) and H with dC/dlog(l_k) = H * D_k.

    D_k[i, j] = (S[i, k] - S[j, k])^2; H follows from dk/d(r^2) * (-2).
    """
    r2 = _sq_dist(S, S)
    if kernel == "rbf":
        C = torch.exp(-0.5 * r2)
        return C, C
    r = r2.clamp_min(1e-30).sqrt()
    if kernel == "matern52":
        e = torch.exp(-SQRT5 * r)
        return (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * e, (5.0 / 3.0) * (1.0 + SQRT5 * r) * e
    e = torch.exp(-SQRT3 * r)
    return (1.0 + SQRT3 * r) * e, 3.0 * e


def _level_factors(layout: Layout, U: Any, rho: Any) -> tuple[list[Any], list[Any]]:
    """Per categorical input: ``[a_i != a_j]`` (n, n) and ``T_c`` (B, n, n), torch or numpy."""
    differ, factors = [], []
    for k, j in enumerate(layout.categorical):
        mask = U[:, None, j] != U[None, :, j]
        mask = mask.to(U.dtype) if isinstance(mask, torch.Tensor) else mask.astype(U.dtype)
        differ.append(mask)
        factors.append(1.0 - (1.0 - rho[:, k, None, None]) * mask)
    return differ, factors


def _level_gradient(layout: Layout, W: Any, C_num: Any, differ: list[Any], factors: list[Any],
                    drho: Any, n: int) -> Any:
    """d nll / d log(l_c) for each categorical input c (B, n_categorical).

    dC/dlog(l_c) = drho_c [a != b] C_num prod_{c' != c} T_c', and d nll / dC = W / (2 n).
    """
    grads = []
    for k in range(len(differ)):
        others = C_num
        for k2, factor in enumerate(factors):
            if k2 != k:
                others = others * factor
        grads.append(drho[:, k] * (W * others * differ[k]).sum((-1, -2)) / (2 * n))
    stack = torch.stack if isinstance(W, torch.Tensor) else np.stack
    return stack(grads, -1)


def _ls_gradient(S: torch.Tensor, M: torch.Tensor, n: int) -> torch.Tensor:
    """``sum_ij M_ij (S_ik - S_jk)^2 / (2 n)`` per column k of ``S`` (B, n, p) -> (B, p)."""
    # = (sum_i S_ik^2 (M 1)_i - S_k^T M S_k) / n  (M symmetric)
    t1 = (S * S * M.sum(-1)[:, :, None]).sum(-2)
    t2 = (S * (M @ S)).sum(-2)
    return (t1 - t2) / n


def safe_cholesky(R: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cholesky of ``R`` (B, n, n), escalating a diagonal jitter where it fails.

    Returns the factor and the jitter added per batch member (0 where none was needed). Raises a
    ``ValueError`` (never a bare ``NotPSDError``/``LinAlgError``) if even the largest fails.
    """
    n = R.shape[-1]
    eye = torch.eye(n, dtype=R.dtype, device=R.device)
    L, info = torch.linalg.cholesky_ex(R)
    added = torch.zeros_like(g)
    if not bool((info > 0).any()):
        return L, added
    # find each failing member's jitter without autograd, then factor the whole batch once
    # more with it: writing into cholesky_ex's output (as this did) breaks the backward pass
    # of a likelihood that needed a jitter, and a failed factor's garbage must not reach it
    with torch.no_grad():
        for jitter in JITTERS[1:]:
            bad = info > 0
            if not bool(bad.any()):
                break
            _, info_bad = torch.linalg.cholesky_ex(R[bad] + jitter * eye)
            info[bad], added[bad] = info_bad, jitter
    if bool((info > 0).any()):
        raise ValueError(
            "the GP covariance matrix is not positive definite even with a jitter of "
            f"{JITTERS[-1]:g}; check X for non-finite or extreme values")
    L, _ = torch.linalg.cholesky_ex(R + added.to(R.dtype)[:, None, None] * eye)
    return L, added


@dataclass
class Hyper:
    """Fitted hyperparameters for a batch of GPs in standardized units."""

    lengthscale: torch.Tensor  # (B, d), unit-cube coordinates
    g: torch.Tensor  # (B,), noise / signal variance (nugget), jitter included
    mean: torch.Tensor  # (B,), constant mean (GLS estimate)
    signal_var: torch.Tensor  # (B,), ML estimate of the signal variance
    nll: torch.Tensor  # (B,), negative log marginal likelihood / n


def lengthscale_log_prior(prior: str, log_ls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log prior density of the length scales, as a density of ``t = log l``, and its gradient.

    ``log_ls`` (B, p): the log length scales (unit-cube coordinates) of the ``p`` numeric
    inputs. Returns ``(log p(t) (B,), d log p / dt (B, p))`` up to an additive constant.

    ``"gamma"``: ``l ~ Gamma(3, rate 6)`` per input (BoTorch's default until 2024; mean 1/2),
    so ``log p(t) = 3 t - 6 e^t`` (the Jacobian ``e^t`` included; mode ``l = 1/2``).
    ``"lognormal"``: ``l ~ LogNormal(sqrt(2) + log(p) / 2, sqrt(3))``, the dimension-scaled
    prior of Hvarfner, Hellsten & Nardi (2024), so ``t`` is normal:
    ``log p(t) = -(t - mu)^2 / (2 sigma^2)``.
    """
    if prior == "gamma":
        shape, rate = GAMMA_PRIOR
        e = np.exp(log_ls)
        return (shape * log_ls - rate * e).sum(-1), shape - rate * e
    mu, sigma2 = math.sqrt(2.0) + 0.5 * math.log(max(log_ls.shape[-1], 1)), 3.0
    z = log_ls - mu
    return -(z * z).sum(-1) / (2.0 * sigma2), -z / sigma2


def _penalize(prior: str | None, theta: np.ndarray, n: int, layout: Layout | None,
              nll: np.ndarray, grad: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """The NLL per point (B,) minus ``log prior / n`` (a MAP fit), and its gradient (B, d + 1)."""
    if prior is None:
        return nll, grad
    d = theta.shape[1] - 1
    cols = list(range(d)) if layout is None else layout.numeric
    log_p, dlog_p = lengthscale_log_prior(prior, theta[:, cols])
    nll = nll - log_p / n
    if grad is not None:
        grad = grad.copy()
        grad[:, cols] -= dlog_p / n
    return nll, grad


def profile_nll(kernel: str, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor,
                *, grad: bool = True, layout: Layout | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None, Hyper]:
    """Negative concentrated log marginal likelihood per point and its gradient in ``theta``.

    Parameters
    ----------
    theta : (B, d + 1) tensor of ``log lengthscale`` and ``log g``.
    U : (n, d) inputs in the unit cube (categorical ones as codes, see ``layout``);
    Y : (B, n) standardized targets.

    Returns ``(nll (B,), gradient (B, d + 1) or None, Hyper)`` where
    ``nll = 0.5 log s2 + sum(log diag L) / n`` up to a constant (Jones et al. 1998, eq. 6).
    """
    n, d = U.shape
    ls, g = theta[:, :d].exp(), theta[:, d].exp()
    if layout is None:
        S = U / ls[:, None, :]  # (B, n, d)
        C, H = _corr_and_dlog(kernel, S)
    else:
        S_num = U[:, layout.numeric] / ls[:, None, layout.numeric]
        C_num, H_num = _corr_and_dlog(kernel, S_num)
        differ, factors = _level_factors(layout, U, layout.rho(ls))
        levels = math.prod(factors)  # prod_c T_c  (B, n, n)
        C = C_num * levels
    eye = torch.eye(n, dtype=U.dtype, device=U.device)
    L, jitter = safe_cholesky(C + g[:, None, None] * eye, g)
    ones = torch.ones_like(Y)
    sol = torch.cholesky_solve(torch.stack([ones, Y], -1), L)  # R^-1 [1, y]  (B, n, 2)
    a11, a1y = sol[..., 0].sum(-1), (sol[..., 0] * Y).sum(-1)
    mean = a1y / a11  # generalized least squares constant
    beta = sol[..., 1] - mean[:, None] * sol[..., 0]  # R^-1 (y - mean)
    s2 = ((Y - mean[:, None]) * beta).sum(-1).clamp_min(1e-300) / n
    logdet_half = torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)
    nll = 0.5 * torch.log(s2) + logdet_half / n
    hyper = Hyper(ls, g + jitter, mean, s2, nll)
    if not grad:
        return nll, None, hyper
    # d nll / dR = W / (2n) with W = R^-1 - beta beta^T / s2 (mean term vanishes at the GLS mean)
    W = torch.cholesky_inverse(L) - beta[:, :, None] * beta[:, None, :] / s2[:, None, None]
    if layout is None:
        g_ls = _ls_gradient(S, W * H, n)
    else:
        drho = torch.as_tensor(layout.drho(ls.detach().cpu().numpy()), dtype=U.dtype,
                               device=U.device)
        g_ls = layout.gather(_ls_gradient(S_num, W * H_num * levels, n),
                             _level_gradient(layout, W, C_num, differ, factors, drho, n))
    g_g = g * torch.diagonal(W, dim1=-2, dim2=-1).sum(-1) / (2 * n)
    return nll, torch.cat([g_ls, g_g[:, None]], dim=1), hyper


def _np_corr_and_dlog(kernel: str, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NumPy twin of :func:`_corr_and_dlog` (small matrices: numpy's per-call cost is lower)."""
    sq = (S * S).sum(-1)
    r2 = np.maximum(sq[:, :, None] + sq[:, None, :] - 2.0 * S @ S.transpose(0, 2, 1), 0.0)
    if kernel == "rbf":
        C = np.exp(-0.5 * r2)
        return C, C
    r = np.sqrt(np.maximum(r2, 1e-30))
    if kernel == "matern52":
        e = np.exp(-SQRT5 * r)
        return (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * e, (5.0 / 3.0) * (1.0 + SQRT5 * r) * e
    e = np.exp(-SQRT3 * r)
    return (1.0 + SQRT3 * r) * e, 3.0 * e


def _np_factor(R: np.ndarray, *, inverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """Log-determinant halves (B,) and the Cholesky factors or the inverses of ``R`` (B, n, n).

    LAPACK ``potrf`` per member, with the same jitter escalation as :func:`safe_cholesky`.
    An inverse of ``n >= TORCH_INVERSE_FROM`` is torch's ``cholesky_inverse`` of the factors
    (its LAPACK, MKL in the CPU wheels), else SciPy's ``trtri`` and a product: on this
    project's 2-core machines SciPy's triangular inverse took longer than the factor itself,
    and torch's whole inverse took 0.4x SciPy's time at n = 200 and 0.3x at n = 500, while
    below about 100 points torch's per-call overhead outweighed the gain.
    """
    from scipy.linalg import lapack

    n = R.shape[-1]
    idx = np.arange(n)
    logdet_half = np.empty(len(R))
    out = np.empty_like(R)
    for b in range(len(R)):
        for jitter in JITTERS:
            L, info = lapack.dpotrf(R[b] + jitter * np.eye(n) if jitter else R[b], lower=1,
                                    clean=1)
            if info == 0:
                break
        else:
            raise ValueError(
                "the GP covariance matrix is not positive definite even with a jitter of "
                f"{JITTERS[-1]:g}; check X for non-finite or extreme values")
        logdet_half[b] = np.log(L[idx, idx]).sum()
        if inverse and n < TORCH_INVERSE_FROM:
            L_inv, _ = lapack.dtrtri(L, lower=1)
            out[b] = L_inv.T @ L_inv
        else:
            out[b] = L
    if inverse and n >= TORCH_INVERSE_FROM:
        out = torch.cholesky_inverse(torch.from_numpy(out)).numpy()
    return logdet_half, out


def _np_correlation(kernel: str, theta: np.ndarray, U: np.ndarray,
                    layout: Layout | None = None
                    ) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray, np.ndarray]:
    """``(gradient, R = C + g I, g)`` for ``theta``, where ``gradient(W)`` (B, d) is the
    length-scale part of the NLL gradient given ``W = 2 n d nll / dR`` (see
    :func:`profile_nll`)."""
    n, d = U.shape
    ls, g = np.exp(theta[:, :d]), np.exp(theta[:, d])
    idx = np.arange(n)
    if layout is None:
        S = U[None, :, :] / ls[:, None, :]
        R, H = _np_corr_and_dlog(kernel, S)
        R[:, idx, idx] += g[:, None]
        return lambda W: _np_ls_gradient(S, W * H, n), R, g
    S_num = U[None, :, layout.numeric] / ls[:, None, layout.numeric]
    C_num, H_num = _np_corr_and_dlog(kernel, S_num)
    differ, factors = _level_factors(layout, U, layout.rho(ls))
    levels = math.prod(factors)
    R = C_num * levels
    R[:, idx, idx] += g[:, None]

    def gradient(W: np.ndarray) -> np.ndarray:
        return layout.gather(
            _np_ls_gradient(S_num, W * H_num * levels, n),
            _level_gradient(layout, W, C_num, differ, factors, layout.drho(ls), n))

    return gradient, R, g


def _np_ls_gradient(S: np.ndarray, M: np.ndarray, n: int) -> np.ndarray:
    """NumPy twin of :func:`_ls_gradient`."""
    t1 = (S * S * M.sum(-1)[:, :, None]).sum(-2)
    t2 = (S * (M @ S)).sum(-2)
    return (t1 - t2) / n


def np_input_gradient(S: np.ndarray, M: np.ndarray, n: int) -> np.ndarray:
    """``d nll / d S`` (n, p) of an NLL whose ``d nll / dR`` is ``W / (2 n)``, for the scaled
    inputs ``S`` (n, p) of a stationary correlation and ``M = W * H`` (n, n; ``H`` from
    :func:`_np_corr_and_dlog`): ``dR_ij / dS_ik = -H_ij (S_ik - S_jk)``, so the derivative is
    ``-(S_ik (M 1)_i - (M S)_ik) / n``. (:func:`_np_ls_gradient` is minus its sum against
    ``S``.)"""
    return -(S * M.sum(-1)[:, None] - M @ S) / n


def concentrated_outputs(R_inv: np.ndarray, logdet_half: float, Y: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Concentrated NLL per point of each output ``Y`` (m, n) under one correlation matrix
    (given by its inverse ``R_inv`` and half log-determinant), each output with its own GLS
    constant and profiled signal variance, and ``W``, the mean over the outputs of
    ``R^-1 - beta beta^T / s2`` (``d mean nll / dR = W / (2 n)``; see :func:`profile_nll`):
    ``(nll (m,), W (n, n))``."""
    n, m = R_inv.shape[0], len(Y)
    a = R_inv.sum(-1)  # R^-1 1
    B = R_inv @ Y.T  # R^-1 y_j  (n, m)
    mean = B.sum(0) / a.sum()  # GLS constants (m,)
    beta = B - a[:, None] * mean[None, :]  # R^-1 (y_j - mean_j)
    s2 = np.maximum(((Y.T - mean[None, :]) * beta).sum(0), 1e-300) / n
    nll = 0.5 * np.log(s2) + logdet_half / n
    return nll, R_inv - (beta / (m * s2)[None, :]) @ beta.T


def profile_nll_np(kernel: str, theta: np.ndarray, U: np.ndarray, Y: np.ndarray,
                   *, grad: bool = True, layout: Layout | None = None
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """NumPy twin of :func:`profile_nll` on CPU (lower per-call cost): ``(nll, gradient)``."""
    from scipy.linalg import lapack

    n = len(U)
    gradient, R, g = _np_correlation(kernel, theta, U, layout)
    logdet_half, F = _np_factor(R, inverse=grad)
    rhs = np.stack([np.ones_like(Y), Y], -1)  # (B, n, 2)
    if grad:
        sol = F @ rhs  # F = R^-1
    else:  # F = L: two triangular solves per member
        sol = np.stack([lapack.dpotrs(F[b], rhs[b], lower=1)[0] for b in range(len(F))])
    a, b = sol[..., 0], sol[..., 1]  # R^-1 1, R^-1 y
    mean = b.sum(-1) / a.sum(-1)
    beta = b - mean[:, None] * a
    s2 = np.maximum(((Y - mean[:, None]) * beta).sum(-1), 1e-300) / n
    nll = 0.5 * np.log(s2) + logdet_half / n
    if not grad:
        return nll, None
    idx = np.arange(n)
    W = F - beta[:, :, None] * beta[:, None, :] / s2[:, None, None]
    g_g = g * W[:, idx, idx].sum(-1) / (2 * n)
    return nll, np.concatenate([gradient(W), g_g[:, None]], axis=1)


def score(kernel: str, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor,
          layout: Layout | None = None, *, prior: str | None = None) -> torch.Tensor:
    """NLL per point of a batch (no gradient), NaN/failed members as +inf; with a length-scale
    ``prior`` (see :func:`lengthscale_log_prior`), minus its log density / n."""
    if U.device.type == "cpu":
        nll = torch.as_tensor(profile_nll_np(kernel, theta.numpy(), U.numpy(), Y.numpy(),
                                             grad=False, layout=layout)[0])
    else:
        with torch.no_grad():
            nll = profile_nll(kernel, theta, U, Y, grad=False, layout=layout)[0]
    if prior is not None:
        nll = torch.as_tensor(_penalize(prior, theta.cpu().numpy(), len(U), layout,
                                        nll.cpu().numpy())[0], device=nll.device)
    return torch.nan_to_num(nll, nan=math.inf)


def score_outputs(kernel: str, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor,
                  layout: Layout | None = None, *, prior: str | None = None) -> torch.Tensor:
    """NLL per point of every candidate ``theta`` (q, d + 1) for every output ``Y`` (m, n)
    -> (m, q), as :func:`score` of each pair, NaN/failed pairs as +inf.

    On CPU each candidate's correlation matrix is built and factored once for all outputs
    (the outputs share the inputs), which is most of the cost of scoring: ``m`` times less work
    than scoring the ``m * q`` pairs one by one.
    """
    m, q = Y.shape[0], theta.shape[0]
    if U.device.type != "cpu":
        return score(kernel, theta.repeat(m, 1), U, Y.repeat_interleave(q, 0),
                     layout, prior=prior).reshape(m, q)
    from scipy.linalg import lapack

    n = len(U)
    Y_np = Y.numpy()
    logdet_half, L = _np_factor(_np_correlation(kernel, theta.numpy(), U.numpy(), layout)[1],
                                inverse=False)
    rhs = np.column_stack([np.ones(n), Y_np.T])  # (n, 1 + m)
    nll = np.empty((m, q))
    for c in range(q):
        sol = lapack.dpotrs(L[c], rhs, lower=1)[0]
        a, b = sol[:, :1], sol[:, 1:]  # R^-1 1, R^-1 y per output
        mean = b.sum(0) / a.sum()
        beta = b - mean * a
        s2 = np.maximum(((Y_np.T - mean) * beta).sum(0), 1e-300) / n
        nll[:, c] = 0.5 * np.log(s2) + logdet_half[c] / n
    if prior is not None:  # the same prior term (q,) for every output
        nll = nll + _penalize(prior, theta.numpy(), n, layout, np.zeros(q))[0]
    return torch.nan_to_num(torch.as_tensor(nll), nan=math.inf)


def loo_mse(kernel: str, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor,
            layout: Layout | None = None) -> torch.Tensor:
    """Mean squared leave-one-out error of each batch member, in closed form.

    With the GLS constant mean re-estimated at every left-out point, the residual at point
    ``i`` is ``(Q y)_i / Q_ii`` with ``Q = R^-1 - R^-1 1 1^T R^-1 / (1^T R^-1 1)``
    (Dubrule 1983), so all ``n`` refits cost one inverse. ``theta`` (B, d + 1), ``U`` (n, d),
    ``Y`` (B, n) -> (B,), NaN/failed members as +inf.
    """
    n = len(U)
    if U.device.type == "cpu":
        _, R_inv_np = _np_factor(_np_correlation(kernel, theta.numpy(), U.numpy(), layout)[1],
                                 inverse=True)
        R_inv = torch.as_tensor(R_inv_np)
    else:
        with torch.no_grad():
            g = theta[:, -1].exp()
            R = correlation(kernel, U, U, theta[:, :-1].exp(), layout) + \
                g[:, None, None] * torch.eye(n, dtype=U.dtype, device=U.device)
            R_inv = torch.cholesky_inverse(safe_cholesky(R, g)[0])
    a = R_inv.sum(-1)  # R^-1 1 (R symmetric)
    Q = R_inv - a[:, :, None] * a[:, None, :] / a.sum(-1)[:, None, None]
    e = (Q @ Y[..., None].to(Q))[..., 0] / torch.diagonal(Q, dim1=-2, dim2=-1)
    return torch.nan_to_num((e * e).mean(-1), nan=math.inf).to(U.device)
