"""The teacher of a sequential design, and the checks every sequential design's options share.

Part of the sequential-design stage. A plain callable target is wrapped into a one-output
:class:`~surrogate.Simulator`, so every teacher runs through the same executors, failure records
and checkpoints.
"""

from __future__ import annotations

import warnings
from typing import Any

from surrogate._checks import check_positive_int
from surrogate._identity import PointFunction
from surrogate._stack import user_stacklevel
from surrogate.space import Space, as_space
from surrogate.teacher import Simulator, refuse_field_output

__all__ = ["as_simulator", "check_sizes"]

DEFAULT_OUTPUT = "y"


def check_sizes(space: Space, budget: Any, n_init: Any, batch_size: Any) -> tuple[int, int, int]:
    """Validated ``budget``, ``n_init`` (default ``2 * dim + 1``) and ``batch_size``."""
    budget = check_positive_int("budget", budget, 1)
    default_init = n_init is None
    n_init = 2 * space.dim + 1 if default_init else check_positive_int("n_init", n_init, 1)
    points = finite_size(space)
    if not default_init and budget < n_init:  # the user's n_init, before any cap below
        raise ValueError(f"budget={budget} is smaller than n_init={n_init}: the budget counts "
                         "every teacher evaluation, the initial design included")
    if points is not None and budget > points:  # past it every run would repeat one
        warnings.warn(f"the space holds only {points} distinct points (its parameters are all "
                      f"integer or categorical), fewer than budget={budget}: the budget is "
                      f"{points}", UserWarning, stacklevel=user_stacklevel())
        budget = points
    if points is not None and n_init > points:
        n_init = points
    if budget < n_init:
        raise ValueError(f"budget={budget} is smaller than n_init={n_init} (the default 2 * dim "
                         f"+ 1 for dim={space.dim}): the budget counts every teacher "
                         "evaluation, the initial design included")
    return budget, n_init, check_positive_int("batch_size", batch_size, 1)


def finite_size(space: Space) -> int | None:
    """How many distinct points a space of integer and categorical parameters holds (None
    with a real parameter)."""
    from surrogate.space import Categorical, Integer

    size = 1
    for parameter in space:
        if isinstance(parameter, Integer):
            size *= int(parameter.high) - int(parameter.low) + 1
        elif isinstance(parameter, Categorical):
            size *= len(parameter.categories)
        else:
            return None
    return size


def as_simulator(target: Any, space: Any, output: Any, *, role: str = "target"
                 ) -> tuple[Simulator, str | None]:
    """The teacher as a Simulator, and the output named by ``output``.

    For a Simulator with several outputs and ``output=None`` the name is None (the caller
    decides whether that is allowed).
    """
    if isinstance(target, Simulator):
        if space is not None and as_space(space) != target.space:
            raise ValueError("space= differs from the simulator's own space; leave it out")
        outputs = list(target.outputs)
        if output is None:
            return target, outputs[0] if len(outputs) == 1 else None
        if output not in outputs:
            refuse_field_output(target, output, role)
            fields = list(target.fields)
            also = f" (its fields: {fields})" if fields else ""
            raise ValueError(f"output={output!r} is not an output of simulator {target.name!r}; "
                             f"allowed: {outputs}{also}")
        return target, output
    if not callable(target):
        raise TypeError(f"{role} must be a surrogate.Simulator or a callable taking a dict of "
                        f"parameters and returning a float; got {type(target).__name__}")
    if space is None:
        raise ValueError(f"space= is required when the {role} is a plain function (a Simulator "
                         "carries its own)")
    if output is not None and (not isinstance(output, str) or not output):
        raise TypeError(f"output must be a non-empty str naming the function's value, got "
                        f"{output!r}")
    name = DEFAULT_OUTPUT if output is None else output
    space = as_space(space)
    return Simulator(PointFunction(target, space.names), space, [name]), name
