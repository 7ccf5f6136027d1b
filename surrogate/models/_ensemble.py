"""A deep ensemble of MLPs trained as one batched network (used by NNRegressor/NNClassifier).

Member ``e`` has its own weights (``W[e]``), its own random initialization and its own random
train/validation split; the batched loss is the sum of the members' losses and Adam is
elementwise, so training them together is exactly training them one by one (Lakshminarayanan,
Pritzel & Blundell 2017), only faster. Each member keeps the weights of its best validation
epoch (early stopping).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

__all__ = ["EnsembleMLP", "train_ensemble"]

ACTIVATIONS = ("silu", "relu", "tanh")
# Early stopping waits for this many optimizer steps first: with few rows an epoch is one or
# two steps, and ``patience`` epochs (60 steps) ended members still on the loss's first plateau
# (Ishigami, 150 rows: held-out Q² 0.43 or 0.93 by the seed alone)
MIN_STEPS = 1000


class EnsembleMLP(torch.nn.Module):
    """``n_members`` MLPs (d -> hidden... -> n_out) evaluated in one batched pass."""

    def __init__(self, n_members: int, sizes: list[int], activation: str,
                 generator: torch.Generator, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.activation = activation
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)  # torch.nn.Linear's default initialization
            w = (torch.rand(n_members, fan_in, fan_out, generator=generator, dtype=dtype)
                 * 2 - 1) * bound
            b = (torch.rand(n_members, 1, fan_out, generator=generator, dtype=dtype) * 2 - 1) \
                * bound
            self.weights.append(torch.nn.Parameter(w))
            self.biases.append(torch.nn.Parameter(b))

    def _act(self, h: torch.Tensor) -> torch.Tensor:
        if self.activation == "relu":
            return torch.relu(h)
        if self.activation == "tanh":
            return torch.tanh(h)
        return torch.nn.functional.silu(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (E, b, d) or (b, d) -> (E, b, n_out)."""
        h = x if x.dim() == 3 else x.unsqueeze(0).expand(len(self.weights[0]), *x.shape)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = self._act(h)
        return h


def train_ensemble(net: EnsembleMLP, X: torch.Tensor, Y: torch.Tensor,
                   loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *,
                   rng: np.random.Generator, generator: torch.Generator,
                   validation_fraction: float, batch_size: int, max_epochs: int, patience: int,
                   learning_rate: float, weight_decay: float
                   ) -> tuple[list[int], np.ndarray]:
    """Adam with early stopping per member; returns each member's best epoch and the rows it
    held out, (E, n_val) (none when fewer than 5 rows).

    ``loss_fn(pred, target)`` returns per-element losses; ``Y`` is (n, n_out).
    """
    n = len(X)
    E = len(net.weights[0])
    # at least one point to train on, whatever the share held out for early stopping
    n_val = min(max(1, int(round(validation_fraction * n))), n - 1) if n >= 5 else 0
    splits = [rng.permutation(n) for _ in range(E)]
    held_out = np.stack([s[:n_val] for s in splits])  # (E, n_val)
    val_idx = torch.as_tensor(held_out, device=X.device)
    tr_idx = torch.as_tensor(np.stack([s[n_val:] for s in splits]), device=X.device)  # (E, n_tr)
    n_tr = tr_idx.shape[1]
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate, weight_decay=weight_decay,
                           foreach=True)
    best = torch.full((E,), math.inf)
    best_epoch = [0] * E
    best_state = [p.detach().clone() for p in net.parameters()]
    stale = torch.zeros(E, dtype=torch.long)
    batch = min(batch_size, n_tr)
    steps = -(-n_tr // batch)  # optimizer steps per epoch
    for epoch in range(max_epochs):
        order = torch.argsort(torch.rand(E, n_tr, generator=generator), dim=1).to(X.device)
        perm = torch.gather(tr_idx, 1, order)
        for start in range(0, n_tr, batch):
            idx = perm[:, start:start + batch]  # (E, b)
            opt.zero_grad()
            loss = loss_fn(net(X[idx]), Y[idx]).mean(dim=(1, 2)).sum()
            loss.backward()
            opt.step()
        if n_val == 0:
            continue
        with torch.no_grad():
            val = loss_fn(net(X[val_idx]), Y[val_idx]).mean(dim=(1, 2)).cpu()
        # a non-finite loss (training diverged) is never an improvement
        improved = torch.isfinite(val) & (~torch.isfinite(best) | (val < best - 1e-7 * best.abs()))
        keep = improved.view(E, 1, 1).to(X.device)
        best_state = [torch.where(keep, p.detach(), saved)
                      for saved, p in zip(best_state, net.parameters(), strict=True)]
        best_epoch = [epoch if k else b for k, b in zip(improved.tolist(), best_epoch,
                                                        strict=True)]
        best = torch.where(improved, val, best)
        stale = torch.where(improved, torch.zeros_like(stale), stale + 1)
        if bool((stale >= patience).all()) and (epoch + 1) * steps >= MIN_STEPS:
            break
    if not n_val:  # nothing held out: every member keeps its last epoch
        _check_converged(all(bool(torch.isfinite(p).all()) for p in net.parameters()),
                         learning_rate)
        return [max_epochs - 1] * E, held_out
    _check_converged(bool(torch.isfinite(best).all()), learning_rate)
    with torch.no_grad():
        for saved, p in zip(best_state, net.parameters(), strict=True):
            p.copy_(saved)
    return best_epoch, held_out


def _check_converged(finite: bool, learning_rate: float) -> None:
    """Refuse a training whose loss never came out finite: its model predicts NaN."""
    if not finite:
        raise ValueError(f"training diverged: the loss was never finite in a member of the "
                         f"ensemble; lower learning_rate (got {learning_rate}) or scale the "
                         "data")
