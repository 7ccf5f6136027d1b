"""A condition on one output, ``output op bound``: a constraint of an optimization, the case of
interest of a boundary design.

Part of the sequential-design stage; :mod:`surrogate.optimize` re-exports :class:`Constraint`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from surrogate._checks import number_text

__all__ = ["Constraint", "OPERATORS", "check_condition", "check_rule"]

OPERATORS = ("<=", ">=", "<", ">")


@dataclass(frozen=True)
class Constraint:
    """``output op bound``, e.g. ``Constraint("stab", "<=", 0.0)``.

    Examples
    --------
    >>> import numpy as np
    >>> rule = Constraint("stab", "<", 0.0)
    >>> rule.satisfied(np.array([-1.0, 0.0, np.nan])).tolist(), str(rule)
    ([True, False, False], 'stab < 0')
    """

    output: str
    op: Literal["<=", ">=", "<", ">"]
    bound: float

    def satisfied(self, values: np.ndarray) -> np.ndarray:
        """Which values satisfy the constraint (NaN never does)."""
        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            if self.op == "<=":
                return values <= self.bound
            if self.op == "<":
                return values < self.bound
            if self.op == ">=":
                return values >= self.bound
            return values > self.bound

    def __str__(self) -> str:
        return f"{self.output} {self.op} {number_text(self.bound)}"


def check_condition(what: str, output: str, rule: Any) -> Constraint:
    """``rule = (op, value)`` on ``output`` as a :class:`Constraint`, or an error naming ``what``.

    ``what`` says where the rule came from in the message, e.g. ``"constraint on 'g'"``.
    """
    return Constraint(output, *check_rule(what, rule))


def check_rule(what: str, rule: Any) -> tuple[Literal["<=", ">=", "<", ">"], float]:
    """``rule = (op, value)`` as ``(op, float(value))``, or an error naming ``what``."""
    if not (isinstance(rule, (tuple, list)) and len(rule) == 2):
        raise TypeError(f"{what} must be a pair (op, value) such as (\"<=\", 0.0), got {rule!r}")
    op, bound = rule
    if op not in OPERATORS:
        raise ValueError(f"{what}: operator must be one of {list(OPERATORS)}, got {op!r}")
    if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or not math.isfinite(bound):
        raise ValueError(f"{what}: value must be a finite number, got {bound!r}")
    return op, float(bound)
