"""Checks of options shared by every layer: each refuses a bad value with one error naming the
option and what is allowed (the layers above import them; of ours this module imports only
:mod:`surrogate._stack`)."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd

from surrogate._stack import user_stacklevel

__all__ = ["number_text", "check_flag", "check_positive_int", "check_positive_float",
           "check_choice", "check_share", "warn_if_misaligned"]


def number_text(value: Any) -> str:
    """A threshold as text that reads back as the same number (``repr`` of the float, less a
    trailing ``.0``): ``:g`` printed ``p > 1000000.5`` as ``p > 1e+06``.

    >>> number_text(1000000.5), number_text(-5.0), number_text(1.23456789e-9)
    ('1000000.5', '-5', '1.23456789e-09')
    """
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def is_int(value: Any) -> bool:
    """An integer (Python's or numpy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_flag(name: str, value: Any) -> None:
    """Refuse anything but True or False for a yes/no option (``"no"`` is truthy)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int ``>= minimum`` or raise naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def check_positive_float(name: str, value: Any, *, upper: float | None = None) -> float:
    """Return ``value`` as a float in (0, upper) or raise naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive float, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0 or (upper is not None and value >= upper):
        bound = f" and < {upper}" if upper is not None else ""
        raise ValueError(f"{name} must be a finite float > 0{bound}, got {value}")
    return value


def check_share(name: str, value: Any) -> float:
    """Return ``value`` as a float in (0, 1] or raise naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not 0.0 < float(value) <= 1.0:
        raise ValueError(f"{name} must be a float in (0, 1], got {value!r}")
    return float(value)


def check_fraction(name: str, value: Any) -> float:
    """Return ``value`` as a float in [0, 1] or raise naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices`` or raise naming the parameter."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_checkpoint_seed(checkpoint: Any, seed: Any) -> None:
    """A checkpoint resumes only the same design, and only an int seed draws it again: with
    another seed a rerun ran every point afresh beside the checkpoint's."""
    if checkpoint is not None and not is_int(seed):
        raise ValueError("checkpoint= needs seed= to be an int, so that a rerun draws the same "
                         f"design and resumes; got seed={seed!r}")


def warn_if_misaligned(X: Any, y: Any) -> None:
    """Labels are read by position: warn when ``y`` (a Series) and ``X`` (a DataFrame) carry
    different indexes, which a pandas user may expect to be aligned."""
    if isinstance(X, pd.DataFrame) and isinstance(y, pd.Series | pd.DataFrame) \
            and len(X) == len(y) and not X.index.equals(y.index):
        warnings.warn("y's index differs from X's: the labels are read by position, row for "
                      "row, not matched by index (if they match row for row, pass "
                      "y.to_numpy(); if by index label, y.loc[X.index])", UserWarning,
                      stacklevel=user_stacklevel())


def warn_if_reordered(X: Any, given: dict[str, Any]) -> None:
    """Values read by position, as ``X`` is (a TransferSet's Y and status): warn when one
    carries X's own index labels in another order, so that its rows would be paired with
    other runs' inputs."""
    if not isinstance(X, pd.DataFrame) or not X.index.is_unique:
        return
    for name, values in given.items():
        index = getattr(values, "index", None)
        if isinstance(index, pd.Index) and len(index) == len(X) and index.is_unique \
                and not index.equals(X.index) and set(index) == set(X.index):
            warnings.warn(f"{name} holds X's index labels in another order: it is read by "
                          f"position, row for row, not matched by label (pass "
                          f"{name}.loc[X.index] to pair them by label)", UserWarning,
                          stacklevel=user_stacklevel())


def check_savable_text(what: str, text: str) -> str:
    """``text`` (a name or a category) as runs can save it: encodable as UTF-8. A lone
    surrogate (a file name read with ``os.listdir`` on a file system that is not UTF-8) made
    every save of the runs fail inside pyarrow, after they were paid for."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {text!r} holds a character that cannot be saved as UTF-8 "
                         "(a lone surrogate, e.g. from a file name that is not UTF-8); "
                         "replace it first, e.g. text.encode('utf-8', 'surrogateescape')"
                         ".decode('utf-8', 'replace')") from None
    return text
