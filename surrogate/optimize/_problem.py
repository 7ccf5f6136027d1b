"""The optimization problem: every option of ``minimize``/``maximize`` validated in one place.

A plain callable target is wrapped into a one-output :class:`~surrogate.Simulator`, so every
target runs through the same executors, failure records and checkpoints.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from surrogate.optimize._acquisition import ACQUISITIONS
from surrogate.optimize._result import OPERATORS, Constraint
from surrogate.space import Space, as_space
from surrogate.teacher import Simulator

__all__ = ["Problem", "build_problem"]

_DEFAULT_OUTPUT = "y"


class PointFunction:
    """``fn(dict) -> float`` seen as a scalar simulation function ``fn(**params)``.

    A class rather than a closure so that it pickles (process and Dask executors) whenever
    ``fn`` does.
    """

    def __init__(self, fn: Callable[[dict[str, Any]], float]) -> None:
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, **params: Any) -> float:
        return self.fn(params)


@dataclass(frozen=True)
class Problem:
    """A validated optimization problem (objective signed so that smaller is better)."""

    simulator: Simulator
    output: str
    sense: Literal["minimize", "maximize"]
    constraints: tuple[Constraint, ...]
    budget: int
    n_init: int
    batch_size: int
    acquisition: str

    @property
    def space(self) -> Space:
        return self.simulator.space

    @property
    def sign(self) -> float:
        return 1.0 if self.sense == "minimize" else -1.0

    @property
    def modelled_outputs(self) -> list[str]:
        """The objective, then each constrained output (in the order the constraints came)."""
        return [self.output] + [c.output for c in self.constraints]

    def signature(self) -> dict[str, Any]:
        """What must not change between a run and its resumption (the budget may grow)."""
        return {
            "simulator": self.simulator.name,
            "space": self.space.to_dict(),
            "outputs": list(self.simulator.outputs),
            "output": self.output,
            "sense": self.sense,
            "constraints": [[c.output, c.op, c.bound] for c in self.constraints],
            "n_init": self.n_init,
            "batch_size": self.batch_size,
            "acquisition": self.acquisition,
        }


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def _as_simulator(target: Any, space: Any, output: Any) -> tuple[Simulator, str]:
    if isinstance(target, Simulator):
        if space is not None and as_space(space) != target.space:
            raise ValueError("space= differs from the simulator's own space; leave it out")
        outputs = list(target.outputs)
        if output is None:
            if len(outputs) > 1:
                raise ValueError(f"simulator {target.name!r} has outputs {outputs}; pass "
                                 "output= naming the objective")
            return target, outputs[0]
        if output not in outputs:
            raise ValueError(f"output={output!r} is not an output of simulator {target.name!r}; "
                             f"allowed: {outputs}")
        return target, output
    if not callable(target):
        raise TypeError("target must be a surrogate.Simulator or a callable taking a dict of "
                        f"parameters and returning a float; got {type(target).__name__}")
    if space is None:
        raise ValueError("space= is required when the target is a plain function (a Simulator "
                         "carries its own)")
    if output is not None and not isinstance(output, str):
        raise TypeError(f"output must be a str naming the function's value, got {output!r}")
    name = output or _DEFAULT_OUTPUT
    return Simulator(PointFunction(target), as_space(space), [name]), name


def _check_constraints(constraints: Any, simulator: Simulator) -> tuple[Constraint, ...]:
    if constraints is None:
        return ()
    if not isinstance(constraints, Mapping):
        raise TypeError('constraints must be a dict {"output": ("<=", value), ...}, got '
                        f"{type(constraints).__name__}")
    outputs = list(simulator.outputs)
    checked = []
    for name, rule in constraints.items():
        if name not in outputs:
            raise ValueError(f"constraint on {name!r}, which is not an output of simulator "
                             f"{simulator.name!r}; allowed: {outputs}")
        if not (isinstance(rule, (tuple, list)) and len(rule) == 2):
            raise TypeError(f"constraint on {name!r} must be a pair (op, value) such as "
                            f'("<=", 0.0), got {rule!r}')
        op, bound = rule
        if op not in OPERATORS:
            raise ValueError(f"constraint on {name!r}: operator must be one of {list(OPERATORS)}, "
                             f"got {op!r}")
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real) \
                or not math.isfinite(bound):
            raise ValueError(f"constraint on {name!r}: value must be a finite number, "
                             f"got {bound!r}")
        checked.append(Constraint(name, op, float(bound)))
    return tuple(checked)


def build_problem(
    target: Any, *, sense: Literal["minimize", "maximize"], output: Any, budget: Any,
    n_init: Any, batch_size: Any, acquisition: Any, constraints: Any, space: Any,
) -> Problem:
    """Validate every option and return the :class:`Problem` (raises naming the bad option)."""
    simulator, output = _as_simulator(target, space, output)
    budget = _check_int("budget", budget, 1)
    default_init = n_init is None
    n_init = 2 * simulator.space.dim + 1 if default_init else _check_int("n_init", n_init, 1)
    if budget < n_init:
        why = f" (the default 2 * dim + 1 for dim={simulator.space.dim})" if default_init else ""
        raise ValueError(f"budget={budget} is smaller than n_init={n_init}{why}: the budget "
                         "counts every teacher evaluation, the initial design included")
    batch_size = _check_int("batch_size", batch_size, 1)
    if acquisition not in ACQUISITIONS:
        raise ValueError(f"acquisition must be one of {list(ACQUISITIONS)}, got {acquisition!r}")
    if constraints and not isinstance(target, Simulator):
        raise ValueError("constraints name outputs of a Simulator; a plain function target has "
                         "only its return value")
    return Problem(simulator, output, sense, _check_constraints(constraints, simulator),
                   budget, n_init, batch_size, acquisition)
