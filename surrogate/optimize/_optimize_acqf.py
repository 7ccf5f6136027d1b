"""Kept for :mod:`surrogate.optimize._surrogate`: the acquisition optimizer now lives in
:mod:`surrogate.sequential._optimize_acqf`."""

from surrogate.sequential._optimize_acqf import AcquisitionOptimizer, evaluate

__all__ = ["AcquisitionOptimizer", "evaluate"]
