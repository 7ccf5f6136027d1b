"""Mixed inputs of the students: which columns are categories, their levels and their codes.

Stage "models" of the pipeline. A space's design (``sg.sample``) holds numbers for
:class:`~surrogate.Real` and :class:`~surrogate.Integer` parameters and the categories
themselves for a :class:`~surrogate.Categorical`. At ``fit`` every model finds its categorical
columns, records their levels (kept by ``save``/``load``) and replaces each category by its
code ``0 .. L-1``; at ``predict`` the same levels give the same codes, and a value never seen
at ``fit`` is one clear error. Each model then uses the codes as suits it: the GP with a kernel
made for categories, the neural networks one-hot encoded.

Which columns are categorical
-----------------------------
In a DataFrame: pandas ``category`` and ``bool`` columns, and ``object``/string columns holding
strings or booleans. Numbers are numeric (ordered), also when held in an ``object`` column
(``sg.sample`` makes one for a ``Categorical`` whose categories are numbers: it is used as a
number; give the column the ``category`` dtype to have it treated as a category). In an array:
only ``object`` or string arrays are inspected; a column of a string array whose every value
reads as a number is numeric. A column mixing kinds of values (strings and numbers), or with
missing values among categories, is refused by name.
"""

from __future__ import annotations

import numbers
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surrogate._stack import user_stacklevel
from surrogate.space import python_scalar

__all__ = ["InputEncoding", "find_categories", "with_known_levels", "one_hot", "expand_width"]

_MAX_SHOWN = 5  # values listed in an error message


@dataclass(frozen=True)
class InputEncoding:
    """The categorical columns of a model's inputs and their levels (codes ``0 .. L-1``).

    Attributes
    ----------
    positions : tuple of int
        Position of each categorical column among the model's inputs.
    names : tuple
        Each one's name (the DataFrame column) or, for an array, its position.
    levels : tuple of tuples
        Each one's known categories, in code order.

    Examples
    --------
    >>> X = pd.DataFrame({"x": [0.5, 0.1], "policy": ["low", "high"]})
    >>> encoding = find_categories(X, "model")
    >>> encoding.levels
    (('high', 'low'),)
    >>> encoding.encode(X, "model")["policy"].tolist()
    [1.0, 0.0]
    """

    positions: tuple[int, ...] = ()
    names: tuple[Any, ...] = ()
    levels: tuple[tuple[Any, ...], ...] = ()

    def column_levels(self, n_features: int) -> tuple[int, ...]:
        """Per input column: 0 for a numeric column, else its number of levels."""
        out = [0] * n_features
        for position, levels in zip(self.positions, self.levels, strict=True):
            out[position] = len(levels)
        return tuple(out)

    def encode(self, X: Any, owner: str) -> Any:
        """``X`` with each categorical column replaced by float codes (a DataFrame stays one).

        Raises a ``ValueError`` naming the column, the unseen values and the known levels for
        a category not seen at ``fit``, and one naming the column for a numeric column that
        holds text.
        """
        _check_numeric_stay_numeric(X, self.positions, owner)
        if not self.positions:
            return X
        if isinstance(X, pd.DataFrame):
            out = X.copy()
            for name, levels in zip(self.names, self.levels, strict=True):
                out[name] = _codes(X[name].to_numpy(dtype=object), name, levels, owner)
            return out
        arr = np.array(X, dtype=object)
        for position, name, levels in zip(self.positions, self.names, self.levels, strict=True):
            arr[:, position] = _codes(arr[:, position], name, levels, owner)
        return arr.astype(np.float64)

    def to_json(self) -> list[dict[str, Any]]:
        """JSON-ready description (``meta.json`` of a saved model)."""
        return [{"position": int(p), "name": python_scalar(n),
                 "levels": [python_scalar(v) for v in lv]}
                for p, n, lv in zip(self.positions, self.names, self.levels, strict=True)]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]] | None) -> InputEncoding:
        """Inverse of :meth:`to_json` (``None``: a model saved before categories existed)."""
        data = data or []
        return cls(tuple(int(d["position"]) for d in data), tuple(d["name"] for d in data),
                   tuple(tuple(d["levels"]) for d in data))

    def as_dict(self) -> dict[Any, list[Any]]:
        """``{column: levels}`` (the models' public ``categories_``)."""
        return {name: list(levels) for name, levels in zip(self.names, self.levels, strict=True)}


def _codes(values: np.ndarray, name: Any, levels: tuple[Any, ...], owner: str) -> np.ndarray:
    lookup = {level: float(code) for code, level in enumerate(levels)}
    codes = np.empty(len(values))
    unseen: list[Any] = []
    for i, value in enumerate(values):
        try:
            codes[i] = lookup[value]
        except (KeyError, TypeError):  # TypeError: an unhashable value
            codes[i] = np.nan
            if not any(value is u or _same(value, u) for u in unseen):
                unseen.append(value)
    if unseen:
        shown = ", ".join(repr(python_scalar(v)) for v in unseen[:_MAX_SHOWN])
        more = f" and {len(unseen) - _MAX_SHOWN} more" if len(unseen) > _MAX_SHOWN else ""
        raise ValueError(
            f"{owner}: column {name!r} has categories not seen at fit: {shown}{more}; the "
            f"known levels are {[python_scalar(v) for v in levels]}. Refit with data that has them")
    return codes


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # e.g. arrays
        return False


def _kind(value: Any) -> str:
    """'number', 'str', 'bool', 'missing' or 'other' (left to scikit-learn's conversion)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "missing"
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, complex | np.complexfloating):
        return "other"
    if isinstance(value, numbers.Number):
        return "missing" if isinstance(value, numbers.Real) and value != value else "number"
    if isinstance(value, str):
        return "str"
    try:  # a number of another kind: a 0-d array or tensor, numeric bytes, a Decimal
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return "other"
    return "missing" if number != number else "number"


def _column_kind(values: np.ndarray, name: Any, owner: str, *, from_array: bool) -> bool:
    """Whether a column of ``object``/string values is categorical (raise on mixed kinds)."""
    kinds = {_kind(v) for v in values}
    if "other" in kinds:
        _refuse_kind(next(v for v in values if _kind(v) == "other"), name, owner)
    if kinds <= {"number", "missing"}:
        return False  # numbers (NaN among them is y's affair, or missing_x's)
    if from_array and kinds == {"str"} and _all_numbers(values):
        return False  # a string array made by numpy from numbers
    if "missing" in kinds:
        rows = [i for i, v in enumerate(values) if _kind(v) == "missing"][:_MAX_SHOWN]
        raise ValueError(
            f"{owner}: column {name!r} holds categories with missing values (None/NaN) at rows "
            f"{rows}; give every row a category, or drop those rows")
    if len(kinds) > 1:
        examples = {kind: next(v for v in values if _kind(v) == kind) for kind in sorted(kinds)}
        shown = ", ".join(f"{kind} {python_scalar(v)!r}" for kind, v in examples.items())
        raise ValueError(
            f"{owner}: column {name!r} mixes kinds of values ({shown}); a column holds numbers "
            "or categories of one kind (strings or booleans): convert it, e.g. with "
            "X[col].astype(str) for categories or pd.to_numeric(X[col]) for numbers")
    return True


def _refuse_kind(value: Any, name: Any, owner: str) -> None:
    """One error naming a column that holds values a model cannot take (tuples, bytes,
    complex numbers, periods, intervals): scikit-learn's own was "setting an array element
    with a sequence" or a dump of the whole frame. Complex numbers are a ValueError, other
    values a TypeError, with scikit-learn's wording for each (its estimator checks)."""
    shown = f"{type(value).__name__} (e.g. {python_scalar(value)!r})"
    if isinstance(value, complex | np.complexfloating):
        raise ValueError(f"{owner}: column {name!r} holds complex numbers, {shown}: Complex "
                         "data not supported; pass the real part, or the real and imaginary "
                         "parts as two columns")
    raise TypeError(
        f"{owner}: column {name!r} holds values of type {shown}; an input argument must be a "
        "string or a real number (a category or a number): convert it, e.g. with "
        "pd.to_numeric(X[col]) for numbers or X[col].astype(str) for categories")


def _all_numbers(values: np.ndarray) -> bool:
    try:
        np.asarray(values, dtype=np.float64)
    except ValueError:
        return False
    return True


def _sorted_levels(values: np.ndarray) -> tuple[Any, ...]:
    unique = {python_scalar(v) for v in values}
    return tuple(sorted(unique))


def find_categories(X: Any, owner: str) -> InputEncoding:
    """The categorical columns of ``X`` and their levels; raise on columns of mixed kinds.

    Levels are the categories of a pandas ``category`` column (all declared ones, in their
    order), else the values seen, sorted.
    """
    positions: list[int] = []
    names: list[Any] = []
    levels: list[tuple[Any, ...]] = []
    if isinstance(X, pd.DataFrame):
        for position, name in enumerate(X.columns):
            column = X[name]
            dtype = column.dtype
            if isinstance(dtype, pd.CategoricalDtype):
                if column.isna().any():
                    _column_kind(column.to_numpy(dtype=object), name, owner, from_array=False)
                found = tuple(python_scalar(v) for v in dtype.categories)
            elif pd.api.types.is_complex_dtype(dtype):
                _refuse_kind(column.iloc[0], name, owner)
            elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
                continue
            else:  # bool, object or string: booleans and strings are categories
                values = column.to_numpy(dtype=object)
                if not _column_kind(values, name, owner, from_array=False):
                    continue
                found = _sorted_levels(values)
            positions.append(position)
            names.append(name)
            levels.append(_plain_levels(found, name, owner))
        return InputEncoding(tuple(positions), tuple(names), tuple(levels))
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError):  # ragged input: scikit-learn reports it
        return InputEncoding()
    if arr.dtype.kind == "c" and arr.size:
        flat = arr.reshape(len(arr), -1)
        first = int(np.argmax((flat.imag != 0).any(axis=0)))
        _refuse_kind(flat[0, first], first, owner)
    if arr.dtype.kind not in "OUS" or arr.ndim != 2:
        return InputEncoding()
    for position in range(arr.shape[1]):
        values = arr[:, position].astype(object)
        if _column_kind(values, position, owner, from_array=arr.dtype.kind != "O"):
            positions.append(position)
            names.append(position)
            levels.append(_sorted_levels(values))
    return InputEncoding(tuple(positions), tuple(names), tuple(levels))


_OBJECTS_TOLD = threading.local()  # .once: within numbers_as_objects_once; .said: warned


@contextmanager
def numbers_as_objects_once() -> Iterator[None]:
    """Within it :func:`warn_numbers_as_objects` warns once at most: a fit made of inner fits
    (a field model's GPs) or a cross-validation (a fit per fold) says it once, not per fit.
    Nested, the outermost one counts."""
    if getattr(_OBJECTS_TOLD, "once", False):
        yield
        return
    _OBJECTS_TOLD.once, _OBJECTS_TOLD.said = True, False
    try:
        yield
    finally:
        _OBJECTS_TOLD.once = False


def warn_numbers_as_objects(X: Any, encoding: InputEncoding, owner: str) -> None:
    """Warn of the ``object`` columns of a DataFrame that hold only numbers: they are read as
    ordered numbers, though such a column is what :func:`surrogate.sample` makes of a
    ``Categorical`` of numbers (``[10, 20, 40]``), whose levels a model should not order."""
    if not isinstance(X, pd.DataFrame) or not len(X):
        return
    held = [name for position, name in enumerate(X.columns)
            if position not in encoding.positions and X[name].dtype == object]
    if held and getattr(_OBJECTS_TOLD, "once", False):
        if _OBJECTS_TOLD.said:
            return
        _OBJECTS_TOLD.said = True
    if held:
        shown = held[0]
        warnings.warn(
            f"{owner}: column(s) {[python_scalar(n) for n in held]} hold numbers as objects, as "
            "sample() makes a Categorical of numbers, and are read as ordered numbers; to read "
            f"one as categories, pass it as a pandas category column, e.g. "
            f"X.astype({{{python_scalar(shown)!r}: 'category'}}); for numbers, "
            f"X.astype({{{python_scalar(shown)!r}: float}}) says so without this warning",
            UserWarning, stacklevel=user_stacklevel())


def _plain_levels(levels: tuple[Any, ...], name: Any, owner: str) -> tuple[Any, ...]:
    """Levels a model can save (JSON): text, numbers, booleans; else one error naming the
    column (intervals of ``pd.cut``, dates as categories)."""
    odd = [v for v in levels if not isinstance(v, str | bool | int | float)]
    if odd:
        raise ValueError(f"{owner}: categorical column {str(name)!r} has levels of type "
                         f"{type(odd[0]).__name__} (e.g. {odd[0]!s}); categories must be text, "
                         "numbers or booleans: convert them, e.g. with .astype(str)")
    return levels


def _check_numeric_stay_numeric(X: Any, categorical: tuple[int, ...], owner: str) -> None:
    """A column numeric at fit that holds text now: one error naming it."""
    pairs: list[tuple[Any, np.ndarray]]
    if isinstance(X, pd.DataFrame):
        pairs = [(name, X[name].to_numpy(dtype=object)) for position, name in enumerate(X.columns)
                 if position not in categorical
                 and (not pd.api.types.is_numeric_dtype(X[name].dtype)
                      or pd.api.types.is_complex_dtype(X[name].dtype))]
    else:
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError):
            return
        if arr.dtype.kind not in "OUSc" or arr.ndim != 2:
            return
        pairs = [(j, arr[:, j]) for j in range(arr.shape[1]) if j not in categorical]
    for name, values in pairs:
        kinds = [_kind(v) for v in values]  # once per value: a float() try for some
        if "other" in kinds:
            _refuse_kind(values[kinds.index("other")], name, owner)
        text = [i for i, kind in enumerate(kinds) if kind in ("str", "bool")]
        if text and not _all_numbers(values):
            example = values[text[0]]
            raise ValueError(
                f"{owner}: column {name!r} was numeric at fit but now holds {python_scalar(example)!r}; "
                "give it numbers, as at fit")


def with_known_levels(X: Any, owner: str) -> Any:
    """``X`` whose categorical columns are pandas ``category`` columns declaring every level
    of ``X``; a model fitted on any subset of rows then knows all of them (cross-validation).

    An array with categories (``object`` or string values) becomes such a frame, its columns
    labelled by position ``0 .. d-1`` and its other columns floats (a fold's model lacking a
    level refused it at predict). Inputs without categories are returned unchanged.
    """
    encoding = find_categories(X, owner)
    if not encoding.positions:
        return X
    if not isinstance(X, pd.DataFrame):
        arr = np.asarray(X)
        levels_at = dict(zip(encoding.positions, encoding.levels, strict=True))
        return pd.DataFrame({j: pd.Categorical(arr[:, j].astype(object),
                                               categories=list(levels_at[j]))
                             if j in levels_at else arr[:, j].astype(np.float64)
                             for j in range(arr.shape[1])})
    out = X.copy()
    for name, levels in zip(encoding.names, encoding.levels, strict=True):
        out[name] = pd.Categorical(X[name].to_numpy(dtype=object), categories=list(levels))
    return out


def one_hot(X: np.ndarray, column_levels: tuple[int, ...]) -> np.ndarray:
    """Numeric columns of ``X`` (n, d) as they are, then each categorical column's codes as
    one-hot columns (n, d_numeric + sum of levels).

    Examples
    --------
    >>> one_hot(np.array([[0.5, 1.0], [0.2, 0.0]]), (0, 2)).tolist()
    [[0.5, 0.0, 1.0], [0.2, 1.0, 0.0]]
    """
    numeric = [j for j, levels in enumerate(column_levels) if not levels]
    parts = [X[:, numeric]]
    for j, levels in enumerate(column_levels):
        if levels:
            codes = np.clip(np.rint(X[:, j]).astype(np.int64), 0, levels - 1)
            parts.append(np.eye(levels)[codes])
    return np.hstack(parts)


def expand_width(column_levels: tuple[int, ...]) -> int:
    """Number of columns :func:`one_hot` makes."""
    return sum(levels if levels else 1 for levels in column_levels)
