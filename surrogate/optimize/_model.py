"""Kept for :mod:`surrogate.optimize._surrogate`: the unit-cube model now lives in
:mod:`surrogate.sequential._student`."""

from surrogate.sequential._student import UnitCubeModel

__all__ = ["UnitCubeModel"]
