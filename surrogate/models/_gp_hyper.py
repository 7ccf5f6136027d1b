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
``k(x, x') = k_num(x, x') * exp(-sum_c [x_c != x'_c] / (2 l_c^2))``, one length scale per
categorical input, so that two different levels correlate with ``exp(-1 / (2 l_c^2))``
whatever they are (the "exchangeable" or Hamming-distance kernel of Qian, Wu & Wu 2008 and of
BoTorch's ``CategoricalKernel``; SMT's Gower distance is the same form). The Hamming distance is
computed as the squared distance of one-hot codes scaled by ``1 / (sqrt(2) l_c)``, so the
batched Cholesky and the closed-form gradients work on it as on the numeric inputs; for the RBF
kernel the product equals the RBF of the numeric inputs and the scaled one-hot codes together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
import torch

__all__ = ["KERNELS", "Layout", "correlation", "profile_nll", "optimize_hyper", "loo_mse",
           "Hyper"]

KERNELS = ("matern52", "matern32", "rbf")
SQRT5, SQRT3, SQRT2 = math.sqrt(5.0), math.sqrt(3.0), math.sqrt(2.0)
LOG_LS_BOUNDS = (math.log(1e-3), math.log(1e3))  # length scales in unit-cube coordinates
LOG_G_MAX = math.log(10.0)
JITTERS = (0.0, 1e-10, 1e-8, 1e-6, 1e-4)  # added to g when a Cholesky fails (float64)


@dataclass(frozen=True)
class Layout:
    """Which columns of a GP's inputs are categorical (codes ``0 .. L-1``) and their levels.

    ``levels[j]`` is 0 for a numeric column, else the number of levels of column ``j``.

    Examples
    --------
    >>> layout = Layout.of((0, 3, 0))
    >>> layout.numeric, layout.hot_columns
    ([0, 2], [1, 1, 1])
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

    @property
    def hot_columns(self) -> list[int]:
        """For each one-hot column, the input column it encodes."""
        return [j for j, n_levels in enumerate(self.levels) for _ in range(n_levels)]

    def split(self, U: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Numeric columns (..., n, d_num) and one-hot codes (..., n, sum of levels)."""
        hot = [torch.nn.functional.one_hot(
            U[..., j].detach().round().long().clamp(0, self.levels[j] - 1), self.levels[j])
            for j in self.categorical]
        return U[..., self.numeric], torch.cat(hot, -1).to(U.dtype)

    def split_np(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """NumPy twin of :meth:`split`."""
        hot = [np.eye(self.levels[j])[np.clip(np.rint(U[:, j]).astype(np.int64), 0,
                                              self.levels[j] - 1)] for j in self.categorical]
        return U[:, self.numeric], np.hstack(hot)

    def scales(self, ls: Any) -> tuple[Any, Any]:
        """Length scales (..., d) -> those of the numeric columns and of the one-hot columns
        (``sqrt(2) l_c``, so that two levels differ by ``1 / l_c^2`` in squared distance)."""
        return ls[..., self.numeric], ls[..., self.hot_columns] * SQRT2

    def gather(self, numeric: Any, hot: Any) -> Any:
        """Per-input gradients (B, d) from those of the numeric and the one-hot columns."""
        out = np.zeros((numeric.shape[0], len(self.levels))) if isinstance(numeric, np.ndarray) \
            else numeric.new_zeros((numeric.shape[0], len(self.levels)))
        out[:, self.numeric] = numeric
        start = 0
        for j in self.categorical:
            out[:, j] = hot[:, start:start + self.levels[j]].sum(-1)
            start += self.levels[j]
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
        (A_num, A_hot), (B_num, B_hot) = layout.split(A), layout.split(B)
        ls_num, ls_hot = (s[..., None, :] for s in layout.scales(lengthscale))
        hamming = torch.exp(-0.5 * _sq_dist(A_hot / ls_hot, B_hot / ls_hot))
        return _stationary(kernel, _sq_dist(A_num / ls_num, B_num / ls_num)) * hamming
    ls = lengthscale[..., None, :]
    return _stationary(kernel, _sq_dist(A / ls, B / ls))


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


def _mixed_corr_and_dlog(kernel: str, S_num: torch.Tensor, S_hot: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Correlation C of scaled numeric inputs and one-hot codes, and the numeric inputs' H.

    ``C = C_num * E`` with ``E = exp(-r2_hot / 2)``: dC/dlog(l_k) = H_num E D_k for a numeric
    input and C D_c for a categorical one (D from the scaled one-hot codes), so the H of the
    one-hot columns is C itself.
    """
    C_num, H_num = _corr_and_dlog(kernel, S_num)
    hamming = torch.exp(-0.5 * _sq_dist(S_hot, S_hot))
    return C_num * hamming, H_num * hamming


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
    for jitter in JITTERS[1:]:
        bad = info > 0
        if not bool(bad.any()):
            return L, added
        L_bad, info_bad = torch.linalg.cholesky_ex(R[bad] + jitter * eye)
        L[bad], info[bad], added[bad] = L_bad, info_bad, jitter
    if bool((info > 0).any()):
        raise ValueError(
            "the GP covariance matrix is not positive definite even with a jitter of "
            f"{JITTERS[-1]:g}; check X for non-finite or extreme values")
    return L, added


@dataclass
class Hyper:
    """Fitted hyperparameters for a batch of GPs in standardized units."""

    lengthscale: torch.Tensor  # (B, d), unit-cube coordinates
    g: torch.Tensor  # (B,), noise / signal variance (nugget), jitter included
    mean: torch.Tensor  # (B,), constant mean (GLS estimate)
    signal_var: torch.Tensor  # (B,), ML estimate of the signal variance
    nll: torch.Tensor  # (B,), negative log marginal likelihood / n


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
        U_num, U_hot = layout.split(U)
        ls_num, ls_hot = layout.scales(ls)
        S_num, S_hot = U_num / ls_num[:, None, :], U_hot / ls_hot[:, None, :]
        C, H_num = _mixed_corr_and_dlog(kernel, S_num, S_hot)
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
        g_ls = layout.gather(_ls_gradient(S_num, W * H_num, n), _ls_gradient(S_hot, W * C, n))
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

    LAPACK ``potrf`` per member, then ``trtri`` for an inverse (a triangular inverse costs a
    quarter of a general one), with the same jitter escalation as :func:`safe_cholesky`.
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
        if inverse:
            L_inv, _ = lapack.dtrtri(L, lower=1)
            out[b] = L_inv.T @ L_inv
        else:
            out[b] = L
    return logdet_half, out


def _np_correlation(kernel: str, theta: np.ndarray, U: np.ndarray,
                    layout: Layout | None = None
                    ) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """``([(S, H), ...], R = C + g I, g)`` for ``theta``: scaled inputs and their H (see
    :func:`_corr_and_dlog`), one pair, or with a ``layout`` two: numeric and one-hot columns."""
    n, d = U.shape
    ls, g = np.exp(theta[:, :d]), np.exp(theta[:, d])
    idx = np.arange(n)
    if layout is None:
        S = U[None, :, :] / ls[:, None, :]
        R, H = _np_corr_and_dlog(kernel, S)
        R[:, idx, idx] += g[:, None]
        return [(S, H)], R, g
    (U_num, U_hot), (ls_num, ls_hot) = layout.split_np(U), layout.scales(ls)
    S_num, S_hot = U_num[None, :, :] / ls_num[:, None, :], U_hot[None, :, :] / ls_hot[:, None, :]
    C_num, H_num = _np_corr_and_dlog(kernel, S_num)
    sq = (S_hot * S_hot).sum(-1)
    hamming = np.exp(-0.5 * np.maximum(
        sq[:, :, None] + sq[:, None, :] - 2.0 * S_hot @ S_hot.transpose(0, 2, 1), 0.0))
    C = C_num * hamming
    R = C.copy()
    R[:, idx, idx] += g[:, None]
    return [(S_num, H_num * hamming), (S_hot, C)], R, g


def _np_ls_gradient(parts: list[tuple[np.ndarray, np.ndarray]], W: np.ndarray, n: int,
                    layout: Layout | None) -> np.ndarray:
    """NumPy twin of :func:`_ls_gradient` over the parts of :func:`_np_correlation`."""
    grads = []
    for S, H in parts:
        M = W * H
        t1 = (S * S * M.sum(-1)[:, :, None]).sum(-2)
        t2 = (S * (M @ S)).sum(-2)
        grads.append((t1 - t2) / n)
    return grads[0] if layout is None else layout.gather(*grads)


def profile_nll_np(kernel: str, theta: np.ndarray, U: np.ndarray, Y: np.ndarray,
                   *, grad: bool = True, layout: Layout | None = None
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """NumPy twin of :func:`profile_nll` on CPU (lower per-call cost): ``(nll, gradient)``."""
    from scipy.linalg import lapack

    n = len(U)
    parts, R, g = _np_correlation(kernel, theta, U, layout)
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
    return nll, np.concatenate([_np_ls_gradient(parts, W, n, layout), g_g[:, None]], axis=1)


def score(kernel: str, theta: torch.Tensor, U: torch.Tensor, Y: torch.Tensor,
          layout: Layout | None = None) -> torch.Tensor:
    """NLL per point of a batch (no gradient), NaN/failed members as +inf."""
    if U.device.type == "cpu":
        nll = torch.as_tensor(profile_nll_np(kernel, theta.numpy(), U.numpy(), Y.numpy(),
                                             grad=False, layout=layout)[0])
    else:
        with torch.no_grad():
            nll = profile_nll(kernel, theta, U, Y, grad=False, layout=layout)[0]
    return torch.nan_to_num(nll, nan=math.inf)


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
                   layout: Layout | None = None) -> torch.Tensor:
    """L-BFGS-B on the summed per-point NLL of a batch of independent problems.

    ``theta0`` (B, d + 1) starts each problem; ``Y`` (B, n). Returns the optimized theta. The
    problems are separable, so one batched evaluation gives every gradient. ``log_g_min``
    (one value or one per problem) bounds ``log g`` below; where ``fit_noise`` (one bool, or
    one per problem) is False the noise ratio stays at that bound (an interpolating GP). ``tight`` converges to a projected gradient of 1e-9 instead of
    1e-6: near the floor the likelihood is so flat in ``log g`` that the looser test stops
    while the noise is still drifting down. ``maxfun`` caps the likelihood evaluations (line
    searches can take many where jitter makes the surface rough).
    """
    B, p = theta0.shape
    d = p - 1
    free = np.broadcast_to(np.asarray(fit_noise, dtype=bool), (B,))
    low = np.broadcast_to(np.asarray(log_g_min, dtype=float), (B,))
    bounds = [bound for member in range(B) for bound in
              [LOG_LS_BOUNDS] * d + [(low[member], LOG_G_MAX if free[member] else low[member])]]
    x0 = np.clip(theta0.detach().cpu().numpy().ravel(),
                 [b[0] for b in bounds], [b[1] for b in bounds])

    use_numpy = U.device.type == "cpu"
    U_np, Y_np = U.cpu().numpy(), Y.cpu().numpy()

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        if use_numpy:
            nll, grad = profile_nll_np(kernel, x.reshape(B, p), U_np, Y_np, layout=layout)
        else:
            theta = torch.as_tensor(x.reshape(B, p), dtype=U.dtype, device=U.device)
            nll_t, grad_t, _ = profile_nll(kernel, theta, U, Y, layout=layout)
            assert grad_t is not None
            nll, grad = nll_t.cpu().numpy(), grad_t.cpu().numpy()
        assert grad is not None
        value = float(nll.sum())
        if not math.isfinite(value):  # steer the line search back, never crash
            return 1e10, np.zeros_like(x)
        return value, grad.ravel()

    res = scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                  options={"maxiter": maxiter, "maxfun": maxfun,
                                           "ftol": 1e-12 if tight else 1e-8,
                                           "gtol": 1e-9 if tight else 1e-6})
    return torch.as_tensor(res.x.reshape(B, p), dtype=U.dtype, device=U.device)
