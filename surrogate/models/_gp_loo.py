"""Leave-one-out residuals of a fitted exact GP, in closed form.

With ``Q = R^-1 - R^-1 1 1^T R^-1 / (1^T R^-1 1)`` the left-out residual of run ``i`` is
``(Q y)_i / Q_ii`` (Dubrule 1983), and ``Q y`` is the GP's own ``alpha``: no refit. Used by the
adaptive designs' fidelity (``surrogate.sequential``) and by the field GP's choice of a timing
target (``FieldGPRegressor(align="peak")``).

References
----------
.. [1] O. Dubrule, "Cross validation of kriging in a unique neighborhood", Math. Geol. 15 (1983).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["exact_gp", "loo_residuals"]


def exact_gp(model: Any) -> bool:
    return getattr(model, "method_", None) == "exact" and hasattr(model, "_L")


def loo_residuals(gp: Any) -> np.ndarray | None:
    """Leave-one-out residuals ``y_i - mu_{-i}(x_i)`` (n, m) of a fitted exact GPRegressor,
    with its hyperparameters held (None for a model without the exact GP's state)."""
    if not exact_gp(gp):
        return None
    with torch.no_grad():
        eye = torch.eye(gp._L.shape[-1], dtype=gp._L.dtype, device=gp._L.device)
        L_inv = torch.linalg.solve_triangular(gp._L, eye.expand_as(gp._L), upper=False)
        diag = (L_inv * L_inv).sum(-2) - gp._a**2 / gp._a_sum[:, None]  # diag(Q)  (m, n)
        residual = (gp._alpha / diag).T.cpu().numpy()  # standardized units (n, m)
    return residual * gp._y_std
