"""Optimization: Bayesian optimization with the teacher in the loop, and on a fitted surrogate.

Stage "uses" of the pipeline (... models -> **optimize**). :func:`minimize` / :func:`maximize`
spend a budget of teacher runs in the sequential-design loop of :mod:`surrogate.sequential`;
:func:`minimize_surrogate` searches a fitted model's mean without any teacher call. Both return
an :class:`OptimizationResult`.
"""

from surrogate.optimize._loop import maximize, minimize
from surrogate.optimize._result import Constraint, OptimizationResult
from surrogate.optimize._surrogate import minimize_surrogate
from surrogate.sequential._student import UnitCubeModel

__all__ = [
    "minimize", "maximize", "minimize_surrogate", "OptimizationResult", "Constraint",
    "UnitCubeModel",
]
