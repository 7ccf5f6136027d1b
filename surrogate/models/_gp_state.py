"""GPRegressor <-> (JSON metadata, tensors) for :mod:`surrogate.models._io`.

The exact posterior is stored as its Cholesky factor and weights, so a loaded model predicts
bit-for-bit what the saved one did; the SVGP is stored as the gpytorch module's state dict.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from surrogate.models import _gp_hyper as hyp

__all__ = ["gp_state", "gp_from_state"]

_HYPER = ("lengthscale", "g", "mean", "signal_var", "nll")


def gp_state(model: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    meta = {
        "method_": model.method_,
        "kernel_": model.kernel_,
        "n_outputs_": model.n_outputs_,
        "y_1d": bool(model._y_1d),
        # categorical="latent": each such column's positions per level
        "latent": {str(j): np.asarray(v).tolist() for j, v in getattr(model, "_latent", {}).items()},
        # set by the sequential loop: columns holding unit-cube cells of categorical parameters
        "cells": {str(j): int(k) for j, k in (getattr(model, "_cells", None) or {}).items()},
        "scalers": {
            "x_low": model._x_low.tolist(), "x_scale": model._x_scale.tolist(),
            "y_mean": model._y_mean.tolist(), "y_std": model._y_std.tolist(),
        },
    }
    tensors = {f"hyper.{k}": getattr(model._hyper, k) for k in _HYPER}
    if model.method_ == "exact":
        tensors.update(U=model._U, L=model._L, alpha=model._alpha, a=model._a,
                       a_sum=model._a_sum)
    else:
        meta["n_inducing_"] = model._svgp.n_inducing
        tensors.update({f"svgp.{k}": v for k, v in model._svgp.state_dict().items()})
        tensors["svgp_noise"] = model._svgp.noise
    return meta, {k: v.detach().cpu().contiguous() for k, v in tensors.items()}


def gp_from_state(model: Any, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    model.method_ = meta["method_"]
    model.kernel_ = meta["kernel_"]
    model.n_outputs_ = int(meta["n_outputs_"])
    model._y_1d = bool(meta["y_1d"])
    scalers = meta["scalers"]
    for key in ("x_low", "x_scale", "y_mean", "y_std"):
        setattr(model, f"_{key}", np.asarray(scalers[key], dtype=np.float64))
    model._latent = {int(j): np.asarray(v, dtype=np.float64)
                     for j, v in meta.get("latent", {}).items()}
    model._cells = {int(j): int(k) for j, k in meta.get("cells", {}).items()}
    model._hyper = hyp.Hyper(*(tensors[f"hyper.{k}"] for k in _HYPER))
    if model.method_ == "exact":
        for key in ("U", "L", "alpha", "a", "a_sum"):
            setattr(model, f"_{key}", tensors[key])
    else:
        from surrogate.models._svgp import SVGP

        state = {k[len("svgp."):]: v for k, v in tensors.items() if k.startswith("svgp.")}
        svgp = SVGP(model.kernel_, state["variational_strategy.inducing_points"], model._layout)
        svgp.load_state_dict(state)
        svgp.noise = tensors["svgp_noise"]
        model._svgp = svgp
    model._set_public_attributes()
