"""The optimization problem: every option of ``minimize``/``maximize`` validated in one place.

A plain callable target is wrapped into a one-output :class:`~surrogate.Simulator` (see
:mod:`surrogate.sequential`), so every target runs through the same executors, failure records
and checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from surrogate._checks import check_flag
from surrogate.sequential._constraint import Constraint, check_condition
from surrogate.sequential._functions import ACQUISITIONS
from surrogate.sequential._teacher import as_simulator, check_sizes
from surrogate.space import Space
from surrogate.teacher import Simulator

__all__ = ["Problem", "build_problem"]


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
    escape: bool = True
    warp: bool = True

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
        """What must not change between a run and its resumption (the budget may grow).

        ``escape`` and ``warp`` are recorded only when on, so checkpoints written before an
        option existed (which ran without it) resume with it off (``escape=False``,
        ``warp=False``); with it on they are refused, naming it."""
        signature = {
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
        if self.escape:
            signature["escape"] = True
        if self.warp:
            signature["warp"] = True
        return signature


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
        checked.append(check_condition(f"constraint on {name!r}", name, rule))
    return tuple(checked)


def build_problem(
    target: Any, *, sense: Literal["minimize", "maximize"], output: Any, budget: Any,
    n_init: Any, batch_size: Any, acquisition: Any, constraints: Any, space: Any,
    escape: Any = True, warp: Any = True,
) -> Problem:
    """Validate every option and return the :class:`Problem` (raises naming the bad option)."""
    simulator, name = as_simulator(target, space, output)
    if name is None:
        raise ValueError(f"simulator {simulator.name!r} has outputs {list(simulator.outputs)}; "
                         "pass output= naming the objective")
    budget, n_init, batch_size = check_sizes(simulator.space, budget, n_init, batch_size)
    if acquisition not in ACQUISITIONS:
        raise ValueError(f"acquisition must be one of {list(ACQUISITIONS)}, got {acquisition!r}")
    check_flag("escape", escape)
    check_flag("warp", warp)
    if constraints and not isinstance(target, Simulator):
        raise ValueError("constraints name outputs of a Simulator; a plain function target has "
                         "only its return value")
    return Problem(simulator, name, sense, _check_constraints(constraints, simulator),
                   budget, n_init, batch_size, acquisition, escape, warp)
