"""surrogate: turn slow simulations into fast, trustworthy models and readable rules.

The pipeline: space -> design -> teacher (executors) -> transfer set -> surrogates -> uses
(optimization, sensitivity, scenario discovery), distillation (teacher -> transfer set -> student,
fidelity measured) -> plots, report, command line.

The later stages (models, optimization, sensitivity, discovery) import torch and gpytorch; they
are loaded on first use (``sg.GPRegressor`` imports ``surrogate.models``), so that ``import
surrogate`` and the worker processes that run teachers stay light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from surrogate._threads import get_threads, set_threads, threads
from surrogate._version import __version__
from surrogate.data import TransferSet
from surrogate.design import sample
from surrogate.execute import DaskExecutor, Executor, ProcessExecutor, SerialExecutor
from surrogate.space import Categorical, Integer, Real, Space
from surrogate.teacher import SimulationError, Simulator, simulator

# public name -> the module that defines it, imported on first use
_LATER_STAGES = {
    "GPRegressor": "surrogate.models", "GPClassifier": "surrogate.models",
    "NNRegressor": "surrogate.models", "NNClassifier": "surrogate.models",
    "cross_validate": "surrogate.models", "load": "surrogate.models",
    "minimize": "surrogate.optimize", "maximize": "surrogate.optimize",
    "minimize_surrogate": "surrogate.optimize", "OptimizationResult": "surrogate.optimize",
    "sobol_indices": "surrogate.sensitivity", "morris": "surrogate.sensitivity",
    "PRIM": "surrogate.discovery", "Box": "surrogate.discovery", "CART": "surrogate.discovery",
    "REDS": "surrogate.discovery", "covering": "surrogate.discovery",
    "pr_auc": "surrogate.discovery", "resample": "surrogate.discovery",
    "FieldGPRegressor": "surrogate.models",
    "AutoClassifier": "surrogate.models", "AutoRegressor": "surrogate.models",
    "outcome": "surrogate.discovery",
    "adaptive_sample": "surrogate.sequential", "AdaptiveResult": "surrogate.sequential",
    "Acquisition": "surrogate.sequential",
    "distill": "surrogate.distillation", "Distillation": "surrogate.distillation",
    "MUNGE": "surrogate.distillation", "KDEGenerator": "surrogate.distillation",
    "GMMGenerator": "surrogate.distillation", "SpaceGenerator": "surrogate.distillation",
    "DataGenerator": "surrogate.distillation", "TransferGenerator": "surrogate.distillation",
    "PrunedTree": "surrogate.distillation",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from surrogate.discovery import CART, PRIM, REDS, Box, covering, outcome, pr_auc, resample
    from surrogate.distillation import (
        MUNGE,
        DataGenerator,
        Distillation,
        GMMGenerator,
        KDEGenerator,
        PrunedTree,
        SpaceGenerator,
        TransferGenerator,
        distill,
    )
    from surrogate.models import (
        AutoClassifier,
        AutoRegressor,
        FieldGPRegressor,
        GPClassifier,
        GPRegressor,
        NNClassifier,
        NNRegressor,
        cross_validate,
        load,
    )
    from surrogate.optimize import OptimizationResult, maximize, minimize, minimize_surrogate
    from surrogate.sensitivity import morris, sobol_indices
    from surrogate.sequential import Acquisition, AdaptiveResult, adaptive_sample

__all__ = [
    "__version__",
    # the driver's thread policy
    "set_threads", "get_threads", "threads",
    # space and design
    "Real", "Integer", "Categorical", "Space", "sample",
    # teacher and executors
    "Simulator", "simulator", "SimulationError",
    "Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor",
    # data
    "TransferSet",
    # later stages, loaded on first use (the keys of _LATER_STAGES)
    "GPRegressor", "GPClassifier", "NNRegressor", "NNClassifier", "cross_validate", "load",
    "FieldGPRegressor", "AutoClassifier", "AutoRegressor",
    "minimize", "maximize", "minimize_surrogate", "OptimizationResult",
    "sobol_indices", "morris",
    "PRIM", "Box", "CART", "REDS", "covering", "pr_auc", "resample", "outcome",
    # adaptive transfer sets
    "adaptive_sample", "AdaptiveResult", "Acquisition",
    # distillation
    "distill", "Distillation", "MUNGE", "KDEGenerator", "GMMGenerator", "SpaceGenerator",
    "DataGenerator", "TransferGenerator", "PrunedTree",
]


# subpackages reachable as attributes without their own import (``sg.plot.fan(...)``)
_SUBPACKAGES = ("plot", "models", "sequential", "optimize", "discovery", "distillation",
                "sensitivity", "study", "report")


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"surrogate.{name}")
    if name in _LATER_STAGES:
        value = getattr(importlib.import_module(_LATER_STAGES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'surrogate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
