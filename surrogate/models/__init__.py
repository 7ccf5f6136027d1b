"""Surrogates (students): Gaussian processes and neural-network ensembles, with validation
and safe persistence.

Stage "models" of the pipeline: fitted on a transfer set (design + teacher outputs), used by
optimization, sensitivity analysis and scenario discovery. Every model is a scikit-learn
estimator taking ``seed=`` and ``device=``; ``save(path)`` / :func:`load` write and read a
directory of JSON metadata and torch tensors, never a pickle.
"""

from surrogate.models._auto import AutoClassifier
from surrogate.models._auto_regressor import AutoRegressor
from surrogate.models._field import FieldGPRegressor
from surrogate.models._field_basis import field_q2
from surrogate.models._gp import GPRegressor
from surrogate.models._gpc import GPClassifier
from surrogate.models._io import load
from surrogate.models._metrics import (
    accuracy,
    brier,
    coverage95,
    cross_validate,
    log_loss,
    q2,
    rmse,
)
from surrogate.models._nn import NNClassifier, NNRegressor

__all__ = [
    "GPRegressor",
    "FieldGPRegressor",
    "GPClassifier",
    "NNRegressor",
    "NNClassifier",
    "AutoClassifier",
    "AutoRegressor",
    "cross_validate",
    "load",
    "q2",
    "field_q2",
    "rmse",
    "coverage95",
    "accuracy",
    "log_loss",
    "brier",
]
