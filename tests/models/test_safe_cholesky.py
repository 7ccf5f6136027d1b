"""The jittered Cholesky that every GP likelihood goes through: correct factors, and gradients
that survive a jitter (a study's REDS once failed with torch's "modified by an inplace
operation" when the GP classifier's likelihood needed one)."""

import pytest
import torch

from surrogate.models._gp_hyper import safe_cholesky


def _batch(scale):
    good = torch.eye(3, dtype=torch.float64)
    singular = torch.ones(3, 3, dtype=torch.float64)  # rank one: needs a jitter
    return torch.stack([good, singular]) * scale


def test_gradient_flows_through_a_jittered_member():
    scale = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    L, added = safe_cholesky(_batch(scale), torch.zeros(2, dtype=torch.float64))
    assert added[0] == 0 and added[1] > 0
    L.diagonal(dim1=-2, dim2=-1).log().sum().backward()
    # sum log diag L = log det / 2: 1.5 log(s) for s I, 0.5 log(eps^2 (3 s + eps)) for s 11'
    # (the jittered member's pivots are ~1e-5, so its backward pass carries ~1e-16 / 1e-10
    # relative rounding: 1e-5 is what float64 supports here)
    eps = float(added[1])
    assert float(scale.grad) == pytest.approx(1.5 / 2.0 + 1.5 / (3 * 2.0 + eps), rel=1e-5)


def test_factors_are_those_of_the_matrix_plus_its_jitter():
    R = _batch(torch.tensor(2.0, dtype=torch.float64))
    L, added = safe_cholesky(R, torch.zeros(2, dtype=torch.float64))
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.equal(L[0], torch.linalg.cholesky(R[0]))
    assert torch.allclose(L[1] @ L[1].T, R[1] + added[1] * eye, rtol=0, atol=1e-12)


def test_a_matrix_no_jitter_can_fix_is_refused():
    R = torch.full((1, 2, 2), float("nan"), dtype=torch.float64)
    with pytest.raises(ValueError, match="not positive definite even with a jitter"):
        safe_cholesky(R, torch.zeros(1, dtype=torch.float64))
