"""Scalable GP for large n: gpytorch's variational GP with inducing points (SVGP).

Used by :class:`surrogate.models.GPRegressor` when ``method_ == "svgp"``. The kernel
hyperparameters come from an exact fit on a subset (:mod:`surrogate.models._gp_hyper`); the
inducing points are a spread-out subset of the training inputs; and the variational
distribution is set to its optimum for a Gaussian likelihood in closed form (Titsias 2009,
eq. 10) — the maximizer of the SVGP evidence lower bound for fixed hyperparameters and inducing
points, so no stochastic optimization is needed. Cost O(n M^2) for n points, M inducing points.
"""

from __future__ import annotations

import math
from typing import Any

import gpytorch
import numpy as np
import torch

from surrogate.models import _gp_hyper as hyp
from surrogate.models._base import DTYPE

__all__ = ["SVGP", "fit_svgp"]

LS_MIN = math.exp(hyp.LOG_LS_BOUNDS[0])  # unit-cube coordinates
ADDITIVE_LS0 = 0.3  # first length scale of each input of an additive model (unit cube)
LOGIT_PRIOR_SD = 3.0  # N(0, sd^2) on the logit of the product's weight in an additive model
SVGP_NOISE_MIN = 1e-6  # relative noise: the inducing approximation is never exact to 1e-8
# Input warping (Snoek et al. 2014) by the Kumaraswamy CDF w(u) = 1 - (1 - u^a)^b per numeric
# input: log a and log b stay within +-WARP_LOG_BOUND (a, b in [0.05, 20]) and carry the prior
# of BoTorch's input-warping tutorial on each concentration, log-normal of log-variance 0.75
WARP_LOG_BOUND = 3.0
WARP_PRIOR_VAR = 0.75
# Both concentrations are held at 1 or more: a < 1 (b < 1) makes the warping's slope infinite at
# the range's low (high) edge, where the data are thinnest; on the planted ball that cost 0.6
# points of held-out accuracy with 200 and 800 runs, and barring it lost nothing on the box.
# log a = 3 tanh(softplus(raw) / 3), raw starting at WARP_RAW0: a = b = 1.13, near the identity
# with a gradient to move (softplus' slope there is 0.12; the identity itself would be a kink)
WARP_RAW0 = -2.0
WARP_EDGE = 1e-6  # inputs are held inside (0, 1) before warping: finite gradients at 0 and 1


class _Model(gpytorch.models.ApproximateGP):
    """Batched (one GP per output) SVGP with whitened inducing values."""

    def __init__(self, kernel: str, inducing: torch.Tensor, additive: bool = False,
                 warp: bool = False) -> None:
        m, n_inducing, d = inducing.shape
        batch = torch.Size([m])
        dist = gpytorch.variational.CholeskyVariationalDistribution(n_inducing, batch_shape=batch)
        strategy = gpytorch.variational.VariationalStrategy(
            self, inducing, dist, learn_inducing_locations=False)
        super().__init__(strategy)
        self.mean_module = gpytorch.means.ConstantMean(batch_shape=batch)
        if kernel == "rbf":
            base = gpytorch.kernels.RBFKernel(ard_num_dims=d, batch_shape=batch)
        else:
            nu = 2.5 if kernel == "matern52" else 1.5
            base = gpytorch.kernels.MaternKernel(nu=nu, ard_num_dims=d, batch_shape=batch)
        self.covar_module = gpytorch.kernels.ScaleKernel(base, batch_shape=batch)
        if additive:  # see SVGP.correlation: own length scales and the product's weight
            low, high = hyp.LOG_LS_BOUNDS  # raw: the logit of log l's place in the bounds
            start = math.log(ADDITIVE_LS0) - low
            self.additive_raw_ls = torch.nn.Parameter(torch.full(
                (m, d), math.log(start / (high - low - start)), dtype=inducing.dtype))
            self.additive_logit = torch.nn.Parameter(torch.zeros(m, dtype=inducing.dtype))
        if warp:  # see SVGP.warp and WARP_RAW0: raw -> -inf is the identity (a = b = 1)
            self.warp_raw = torch.nn.Parameter(torch.full((m, 2, d), WARP_RAW0,
                                                          dtype=inducing.dtype))

    def forward(self, x: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x),
                                                         self.covar_module(x))


class SVGP:
    """A fitted SVGP: gpytorch modules plus the closed-form predictive we use at predict time."""

    noise: torch.Tensor  # Gaussian noise variance per output, standardized units (set by fit)

    def __init__(self, kernel: str, inducing: torch.Tensor,
                 layout: hyp.Layout | None = None, additive: bool = False,
                 warp: bool = False) -> None:
        self.kernel = kernel
        self.layout = layout  # categorical inputs (see hyp.Layout)
        self.additive = additive
        self.warped = warp
        self.warp_at_least_one = True  # False: a, b in [0.05, 20] (files saved before)
        d = inducing.shape[-1]
        self._numeric = torch.as_tensor(
            [True] * d if layout is None else [not n for n in layout.levels])
        self.model = _Model(kernel, inducing, additive, warp).to(dtype=DTYPE,
                                                                 device=inducing.device)
        self.n_inducing = inducing.shape[1]

    def set_hyper(self, lengthscale: torch.Tensor, signal_var: torch.Tensor,
                  mean: torch.Tensor) -> None:
        cov = self.model.covar_module
        cov.base_kernel.lengthscale = lengthscale[:, None, :]
        cov.outputscale = signal_var
        self.model.mean_module.constant.data = mean.clone()

    def lengthscale(self) -> torch.Tensor:
        """The length scales (m, d) in use: at least the exact GP's lower bound. An optimizer
        that drives one towards 0 (a 0/1 column splitting the classes) would otherwise make
        the distances' rounding error, not the data, decide whether ``Kmm`` is positive
        definite."""
        return self.model.covar_module.base_kernel.lengthscale[:, 0, :].clamp_min(LS_MIN)

    def product_weight(self) -> torch.Tensor | None:
        """The weight (m,) of the product correlation in an additive model, else None."""
        return torch.sigmoid(self.model.additive_logit) if self.additive else None

    def additive_lengthscale(self) -> torch.Tensor | None:
        """The additive part's own length scales (m, d), else None."""
        if not self.additive:
            return None
        low, high = hyp.LOG_LS_BOUNDS  # a smooth map into the bounds: no clamp to stall on
        return (low + (high - low) * torch.sigmoid(self.model.additive_raw_ls)).exp()

    def warp_concentrations(self) -> torch.Tensor | None:
        """The warping's log concentrations (m, 2, d): log a, then log b, per input; None
        without warping. A smooth map into (0, WARP_LOG_BOUND): no clamp for L-BFGS to stall
        on."""
        if not self.warped:
            return None
        raw = self.model.warp_raw
        if self.warp_at_least_one:
            raw = torch.nn.functional.softplus(raw)  # a, b >= 1 (see WARP_RAW0)
        return WARP_LOG_BOUND * torch.tanh(raw / WARP_LOG_BOUND)

    def warp(self, U: torch.Tensor) -> torch.Tensor:
        """``U`` (unit-cube numeric inputs) through each input's Kumaraswamy CDF; categorical
        codes, and everything without warping, pass unchanged. Inputs outside the training
        range are held at its edge (the CDF is defined on [0, 1] only)."""
        logs = self.warp_concentrations()
        if logs is None:
            return U
        a, b = logs[..., 0, None, :].exp(), logs[..., 1, None, :].exp()  # (m, 1, d)
        inside = U.clamp(WARP_EDGE, 1.0 - WARP_EDGE)
        warped = 1.0 - (1.0 - inside**a).clamp_min(0.0) ** b
        return torch.where(self._numeric.to(U.device), warped, U)

    def prior_penalty(self) -> torch.Tensor:
        """``-log p`` of the product weight's logit (0 without the additive part): L-BFGS
        otherwise ran it to hundreds, where the weight is exactly 0 or 1 and its gradient
        vanishes for good; plus that of the warping's log concentrations, if any."""
        penalty = torch.zeros((), dtype=DTYPE, device=self.model.mean_module.constant.device)
        if self.additive:
            penalty = penalty + (self.model.additive_logit**2).sum() / (2.0 * LOGIT_PRIOR_SD**2)
        logs = self.warp_concentrations()
        if logs is not None:
            numeric = self._numeric.to(logs.device)
            penalty = penalty + (logs[..., numeric] ** 2).sum() / (2.0 * WARP_PRIOR_VAR)
        return penalty

    def correlation(self, A: torch.Tensor, B: torch.Tensor,
                    ls: torch.Tensor | None = None) -> torch.Tensor:
        """The prior correlation of the latent function between ``A`` and ``B``.

        The ARD correlation of all inputs at once or, for an additive model,
        ``w k_prod + (1 - w) k_add`` with the first-order additive correlation ``k_add``
        (:func:`~surrogate.models._gp_hyper.additive_correlation`) and a learnt weight
        ``w`` (orders 1 and d of Duvenaud, Nickisch & Rasmussen 2011). ``ls``: the ARD length
        scales when already at hand (one autograd path for all of a step's matrices).
        """
        ls = self.lengthscale() if ls is None else ls
        A, B = self.warp(A), self.warp(B)
        C = hyp.correlation(self.kernel, A, B, ls, self.layout)
        if not self.additive:
            return C
        w = self.product_weight()[..., None, None]  # type: ignore[index]
        add = hyp.additive_correlation(self.kernel, A, B,
                                       self.additive_lengthscale(),  # type: ignore[arg-type]
                                       self.layout)
        return w * C + (1.0 - w) * add

    def _parts(self) -> tuple[torch.Tensor, ...]:
        strategy = self.model.variational_strategy
        Z = strategy.inducing_points
        cov = self.model.covar_module
        ls = self.lengthscale()
        s2 = cov.outputscale
        Kmm = self.correlation(Z, Z, ls)
        Lmm, _ = hyp.safe_cholesky(Kmm + 1e-8 * torch.eye(Z.shape[1], dtype=DTYPE, device=Z.device),
                                   s2)
        dist = strategy._variational_distribution
        return Z, ls, s2, Lmm, dist.variational_mean, dist.chol_variational_covar

    def posterior(self, U: torch.Tensor, *, full_cov: bool = False, mean_only: bool = False
                  ) -> tuple[torch.Tensor, Any]:
        """Predictive mean (m, k) and variance (m, k) or covariance (m, k, k), standardized
        (None for the variance with ``mean_only``).

        Whitened SVGP (Hensman et al. 2015, eq. 7): with A = Lmm^-1 Kmk,
        mean = c + A^T m_v and cov = s2 (Kkk - A^T A + A^T S_v A), S_v = C C^T. The mean
        alone is c + Kmk^T (Lmm^-T m_v): a product with one vector rather than a triangular
        solve per point (2x10^5 points: 5.5 s rather than 29 s).
        """
        Z, ls, s2, Lmm, m_v, chol = self._parts()
        Kmk = self.correlation(Z, U, ls)  # (m, M, k)
        const = self.model.mean_module.constant
        if mean_only:
            w = torch.linalg.solve_triangular(Lmm.transpose(-1, -2), m_v[..., None], upper=True)
            return const[:, None] + (Kmk * w).sum(-2) * s2.sqrt()[:, None], None
        A = torch.linalg.solve_triangular(Lmm, Kmk, upper=False)
        mean = const[:, None] + (A * m_v[..., None]).sum(-2) * s2.sqrt()[:, None]
        B = torch.tril(chol).transpose(-1, -2) @ A  # (m, M, k)
        if full_cov:
            Kkk = self.correlation(U, U, ls)
            cov = Kkk - A.transpose(-1, -2) @ A + B.transpose(-1, -2) @ B
            return mean, s2[:, None, None] * cov
        var = 1.0 - (A * A).sum(-2) + (B * B).sum(-2)
        return mean, s2[:, None] * var.clamp_min(0.0)

    # persistence: plain state dict of the gpytorch modules
    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state)


def _spread_subset(U: torch.Tensor, size: int, rng: np.random.Generator) -> torch.Tensor:
    """Indices of ``size`` well-spread rows of U: k-means++ seeding on a random pool."""
    n = len(U)
    pool = torch.as_tensor(rng.choice(n, size=min(n, 4 * size), replace=False))
    P = U[pool]
    chosen = [int(rng.integers(len(P)))]
    dist = ((P - P[chosen[0]]) ** 2).sum(-1)
    uniforms = rng.random(size)
    for step in range(1, size):
        # D^2 sampling (Arthur & Vassilvitskii 2007): far points are likelier inducing points
        cdf = torch.cumsum(dist, 0)
        pick = int(torch.searchsorted(cdf, uniforms[step] * cdf[-1]).clamp_max(len(P) - 1))
        chosen.append(pick)
        dist = torch.minimum(dist, ((P - P[pick]) ** 2).sum(-1))
    return pool[torch.as_tensor(chosen)]


def fit_svgp(kernel: str, U: torch.Tensor, Ys: torch.Tensor, hyper: Any, *, n_inducing: int,
             rng: np.random.Generator, noise_floor: float,
             layout: hyp.Layout | None = None) -> SVGP:
    """An SVGP on all of (U, Ys) with the given hyperparameters (standardized units)."""
    n, d = U.shape
    m = Ys.shape[0]
    M = min(n_inducing, n)
    idx = _spread_subset(U, M, rng)
    inducing = U[idx].unsqueeze(0).expand(m, M, d).contiguous()
    svgp = SVGP(kernel, inducing, layout)
    svgp.set_hyper(hyper.lengthscale, hyper.signal_var, hyper.mean)
    noise = torch.clamp(hyper.g, min=max(noise_floor, SVGP_NOISE_MIN))  # relative to s2
    with torch.no_grad():
        Z, ls, s2, Lmm, _, _ = svgp._parts()
        # Titsias (2009) optimum in whitened form: S_v = g (g I + A A^T)^-1,
        # m_v = (g I + A A^T)^-1 A r / sqrt(s2), A = Lmm^-1 Kmn (in correlation units)
        AAt = torch.zeros(m, M, M, dtype=DTYPE, device=U.device)
        Ar = torch.zeros(m, M, dtype=DTYPE, device=U.device)
        resid = Ys - hyper.mean[:, None]
        step = max(1, 4_000_000 // (M * m))
        for start in range(0, n, step):
            A = torch.linalg.solve_triangular(
                Lmm, svgp.correlation(Z, U[start:start + step], ls), upper=False)
            AAt += A @ A.transpose(-1, -2)
            Ar += (A * resid[:, None, start:start + step]).sum(-1)
        eye = torch.eye(M, dtype=DTYPE, device=U.device)
        Lp, _ = hyp.safe_cholesky(AAt + noise[:, None, None] * eye, noise)
        m_v = torch.cholesky_solve(Ar[..., None], Lp)[..., 0] / s2.sqrt()[:, None]
        S_v = noise[:, None, None] * torch.cholesky_inverse(Lp)
        chol, _ = hyp.safe_cholesky(S_v, noise)
        dist = svgp.model.variational_strategy._variational_distribution
        dist.variational_mean.copy_(m_v)
        dist.chol_variational_covar.copy_(chol)
        svgp.model.variational_strategy.variational_params_initialized.fill_(1)
    svgp.noise = noise * s2
    return svgp
