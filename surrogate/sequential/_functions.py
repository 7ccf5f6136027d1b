"""Closed-form acquisition functions of a Gaussian posterior (the arithmetic of the acquisitions).

Part of the sequential-design stage (:mod:`surrogate.sequential`), used by Bayesian optimization
and by the adaptive designs. Everything here works in torch (float64) on posterior means and
variances, so the acquisition optimizer gets exact gradients. The convention for improvement is
*minimization*: improvement is ``best - f(x)``; :func:`surrogate.optimize.maximize` negates the
objective before it gets here.

Expected improvement of a Gaussian ``f(x) ~ N(mean, std^2)`` over ``best`` is
``EI = std * h(z)`` with ``z = (best - mean) / std`` and ``h(z) = phi(z) + z Phi(z)``
(Jones, Schonlau & Welch 1998, eq. 15). Far from the incumbent ``h(z)`` underflows to zero and
EI gives the optimizer no gradient; :func:`log_h` evaluates ``log h(z)`` accurately for every
``z`` (Ament et al. 2023 make the same point and call the result LogEI).

References
----------
.. [1] D. R. Jones, M. Schonlau, W. J. Welch, "Efficient global optimization of expensive
   black-box functions", J. Global Optim. 13 (1998) 455-492.
.. [2] S. Ament, S. Daulton, D. Eriksson, M. Balandat, E. Bakshy, "Unexpected improvements to
   expected improvement for Bayesian optimization", NeurIPS 2023.
.. [3] J. R. Gardner, M. J. Kusner, Z. Xu, K. Q. Weinberger, J. P. Cunningham, "Bayesian
   optimization with inequality constraints", ICML 2014.
.. [4] N. Srinivas, A. Krause, S. Kakade, M. Seeger, "Gaussian process optimization in the bandit
   setting: no regret and experimental design", ICML 2010.
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["ACQUISITIONS", "log_h", "log_expected_improvement", "expected_improvement",
           "upper_confidence_bound", "log_probability_of_feasibility"]

ACQUISITIONS = ("logei", "ei", "ucb")

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
# below this z the truncated asymptotic series is exact to ~1e-10 relative; above it the erfcx
# form loses at most ~z^2 * eps = 1e-13 to cancellation
_Z_ASYMPTOTIC = -25.0
_MIN_STD = 1e-12
# asymptotic series in 1/z^2: h(z) z^2 / phi(z) and Phi(z) (-z) / phi(z)
_H_SERIES = (1.0, -3.0, 15.0, -105.0, 945.0)
_MILLS_SERIES = (1.0, -1.0, 3.0, -15.0, 105.0)


def log_h(z: torch.Tensor) -> torch.Tensor:
    """``log(phi(z) + z * Phi(z))`` for any real ``z``, with finite gradients everywhere.

    Three regimes for the value (each branch is evaluated on inputs that are safe for it); the
    gradient is the closed form ``d log h / dz = Phi(z) / h(z)``:

    * ``z > -1``: the definition; ``h(z) >= h(-1) = 0.083`` so nothing cancels.
    * ``-25 <= z <= -1``: ``h(z) = phi(z) (1 + z sqrt(pi/2) erfcx(-z/sqrt(2)))`` because
      ``Phi(z) / phi(z) = sqrt(pi/2) erfcx(-z/sqrt(2))``; ``log1p`` keeps the small bracket.
    * ``z < -25``: ``h(z) = phi(z) / z^2 (1 - 3/z^2 + 15/z^4 - 105/z^6 + 945/z^8 ...)``, the
      asymptotic expansion of the Mills ratio.

    Examples
    --------
    >>> import torch
    >>> round(float(log_h(torch.tensor(0.0, dtype=torch.float64)).exp()), 6)  # phi(0)
    0.398942
    >>> bool(torch.isfinite(log_h(torch.tensor(-1e6, dtype=torch.float64))))
    True
    """
    return _LogH.apply(z)


def _log_h_value(z: torch.Tensor) -> torch.Tensor:
    """The three-branch evaluation of :func:`log_h` (a branch no element needs is skipped)."""
    upper = z > -1.0
    lower = z < _Z_ASYMPTOTIC
    middle = ~upper & ~lower
    value = torch.zeros_like(z)
    if bool(upper.any()):
        z_up = torch.where(upper, z, torch.zeros_like(z))
        phi_up = torch.exp(-0.5 * z_up**2 - _LOG_SQRT_2PI)
        value = torch.where(upper, torch.log(phi_up + z_up * torch.special.ndtr(z_up)), value)
    if bool(middle.any()):
        z_mid = torch.where(middle, z, torch.full_like(z, -2.0))
        ratio = z_mid * _SQRT_HALF_PI * torch.special.erfcx(-z_mid * _SQRT_HALF)
        value = torch.where(middle, -0.5 * z_mid**2 - _LOG_SQRT_2PI + torch.log1p(ratio), value)
    if bool(lower.any()):
        z_low = torch.where(lower, z, torch.full_like(z, 2.0 * _Z_ASYMPTOTIC))
        inv2 = 1.0 / z_low**2
        value = torch.where(lower, -0.5 * z_low**2 - _LOG_SQRT_2PI + torch.log(inv2)
                            + torch.log(_series(inv2, _H_SERIES)), value)
    return value


def _series(inv2: torch.Tensor, coefficients: tuple[float, ...]) -> torch.Tensor:
    """``sum_k c_k inv2^k`` by Horner's rule."""
    total = torch.full_like(inv2, coefficients[-1])
    for c in coefficients[-2::-1]:
        total = total * inv2 + c
    return total


class _LogH(torch.autograd.Function):
    """``log h`` with its closed-form derivative ``Phi(z) / h(z) = exp(log Phi(z) - log h(z))``.

    Half the cost of differentiating through the branches (the acquisition optimizer evaluates
    it thousands of times per round) and exact in every regime.
    """

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            value = _log_h_value(z)
        ctx.save_for_backward(z, value)
        return value

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        z, value = ctx.saved_tensors
        lower = z < _Z_ASYMPTOTIC
        if not bool(lower.any()):
            return grad_output * torch.exp(torch.special.log_ndtr(z) - value)
        # far in the tail log Phi and log h are both ~ -z^2/2 and their difference cancels:
        # use the ratio of the two asymptotic series, -z (1 - 1/z^2 + 3/z^4 ...) / (1 - 3/z^2 ...)
        z_low = torch.where(lower, z, torch.full_like(z, 2.0 * _Z_ASYMPTOTIC))
        inv2 = 1.0 / z_low**2
        ratio_low = -z_low * _series(inv2, _MILLS_SERIES) / _series(inv2, _H_SERIES)
        ratio = torch.exp(torch.special.log_ndtr(torch.where(lower, -z_low, z)) - value)
        return grad_output * torch.where(lower, ratio_low, ratio)


def _standardize(mean: torch.Tensor, var: torch.Tensor, best: float) -> tuple[torch.Tensor,
                                                                              torch.Tensor]:
    std = var.clamp_min(_MIN_STD**2).sqrt()
    return (best - mean) / std, std


def log_expected_improvement(mean: torch.Tensor, var: torch.Tensor, best: float) -> torch.Tensor:
    """``log EI`` of minimizing below ``best`` (finite even where EI underflows).

    Examples
    --------
    >>> import torch
    >>> mean = torch.tensor([0.0, 50.0], dtype=torch.float64)
    >>> value = log_expected_improvement(mean, torch.ones(2, dtype=torch.float64), 0.0)
    >>> round(float(value[0].exp()), 6), bool(torch.isfinite(value[1]))
    (0.398942, True)
    """
    z, std = _standardize(mean, var, best)
    return log_h(z) + std.log()


def expected_improvement(mean: torch.Tensor, var: torch.Tensor, best: float) -> torch.Tensor:
    """``EI`` of minimizing below ``best``: ``std * (phi(z) + z Phi(z))``, ``z = (best-mean)/std``."""
    return log_expected_improvement(mean, var, best).exp()


def upper_confidence_bound(mean: torch.Tensor, var: torch.Tensor, beta: float) -> torch.Tensor:
    """Optimistic bound for minimization, ``-(mean - sqrt(beta) std)`` (larger is better) [4]_."""
    return -mean + math.sqrt(beta) * var.clamp_min(0.0).sqrt()


def log_probability_of_feasibility(mean: torch.Tensor, var: torch.Tensor, op: str,
                                   bound: float) -> torch.Tensor:
    """``log P(c(x) op bound)`` for a Gaussian ``c(x)`` (strict and non-strict agree) [3]_."""
    std = var.clamp_min(_MIN_STD**2).sqrt()
    margin = (bound - mean) if op in ("<=", "<") else (mean - bound)
    return torch.special.log_ndtr(margin / std)
