"""Input handling for scenario discovery: one encoding of the experiments shared by all methods.

Discovery methods take experiments ``X`` (a DataFrame of real, integer and categorical
parameters, or a 2-D array) and labels ``y`` (cases of interest). This module validates both
once and turns ``X`` into two numpy arrays the algorithms work on:

* ``numeric`` ``(n, p)`` float64 -- the real and integer columns, in column order;
* ``codes`` ``(n, q)`` int64 -- the categorical columns as category codes (``-1`` for a
  category the fitted :class:`Domain` has not seen).

The :class:`Domain` remembers the parameters' kinds, their data range and the categories
present when a method was fitted, so that boxes can be applied to new data.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surrogate._stack import user_stacklevel
from surrogate.space import category_kind

REAL, INTEGER, CATEGORICAL = "real", "integer", "categorical"


@dataclass(frozen=True, eq=False)
class Domain:
    """Names, kinds and data ranges of the parameters a box is defined on.

    Attributes
    ----------
    names : tuple of str
        All parameters, in the order of ``X``'s columns.
    kinds : tuple of str
        ``"real"``, ``"integer"`` or ``"categorical"`` per parameter.
    low, high : ndarray of shape (p,)
        Smallest and largest value of each numeric parameter in the fitted data.
    categories : tuple of tuple
        Categories present in the fitted data, per categorical parameter.
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    categories: tuple[tuple[Any, ...], ...]

    @property
    def numeric_names(self) -> list[str]:
        return [n for n, k in zip(self.names, self.kinds, strict=True) if k != CATEGORICAL]

    @property
    def categorical_names(self) -> list[str]:
        return [n for n, k in zip(self.names, self.kinds, strict=True) if k == CATEGORICAL]

    def kind(self, name: str) -> str:
        return self.kinds[self.names.index(name)]

    def encode(
        self, X: Any, *, what: str = "X", checked: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(numeric, codes)`` for new data with the same columns (unknown categories -> -1;
        a column whose values are all of another type than the fitted levels, numbers for
        text, is refused).

        ``checked=True`` skips the missing-value and integer-size checks (for a frame
        :func:`fit_domain` made, which made them).
        """
        frame = X if checked else as_frame(X, what=what, names=self.names)
        missing = [n for n in self.names if n not in frame.columns]
        if missing:
            raise ValueError(f"{what} lacks the columns {missing}; expected {list(self.names)}, "
                             f"got {[str(c) for c in frame.columns]}")
        if not checked:
            _check_missing(frame[list(self.names)], what)
        # column-major: the algorithms read whole columns
        numeric = np.empty((len(frame), len(self.low)), dtype=np.float64, order="F")
        for j, name in enumerate(self.numeric_names):
            column = frame[name]
            if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(
                column.dtype
            ):
                raise TypeError(f"{what}[{name!r}] must be numeric, got dtype {column.dtype}")
            if not checked:  # fit_domain checked its own frame
                _check_exact(column, name, what)
            numeric[:, j] = column.to_numpy(dtype=np.float64)
        codes = np.empty((len(frame), len(self.categories)), dtype=np.int64)
        for j, name in enumerate(self.categorical_names):
            lookup = pd.Index(pd.Series(self.categories[j], dtype=object))
            codes[:, j] = lookup.get_indexer(pd.Index(frame[name].astype(object)))
            if len(frame) and (codes[:, j] < 0).all() and not (
                    {_category_kind(v) for v in frame[name]} & {_category_kind(v) for v in lookup}):
                value = frame[name].iloc[0]  # another type, not new levels of this one
                raise ValueError(
                    f"{what}[{name!r}] holds none of the levels fitted "
                    f"on ({list(self.categories[j])[:10]}), e.g. {value} "
                    f"({type(value).__name__}): pass the column with the fitted levels' type "
                    "(a column read back from a file may hold numbers for text)")
        return numeric, codes


# Integers the boxes tell apart: they are found in float64, whose cuts between integers fall
# on half-integers, exact up to 2**52 (past 2**53 neighbouring values merge as well)
EXACT_INTEGER = 2**52


def _check_exact(column: pd.Series, name: Any, what: str) -> None:
    """Refuse integers beyond EXACT_INTEGER in size, which the boxes cannot tell apart."""
    if pd.api.types.is_integer_dtype(column.dtype) and len(column):
        low, high = int(column.min()), int(column.max())
        if low < -EXACT_INTEGER or high > EXACT_INTEGER:
            raise ValueError(f"{what}[{name!r}] holds integers beyond 2**52 in size (e.g. "
                             f"{high if high > EXACT_INTEGER else low}), which the boxes' "
                             "float64 bounds cannot tell apart; convert the column (e.g. "
                             "subtract an offset, or pass it as text, a categorical "
                             "parameter)")


def _category_kind(value: Any) -> str:
    """A category's kind (:func:`surrogate.space.category_kind`; others by their type)."""
    return category_kind(value) or type(value).__name__


def as_frame(X: Any, *, what: str = "X", names: tuple[str, ...] | None = None) -> pd.DataFrame:
    """``X`` as a DataFrame with a fresh RangeIndex; a 2-D array gets names ``x0, x1, ...``."""
    if isinstance(X, pd.DataFrame):
        frame = X.reset_index(drop=True)
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            sparse = " (a sparse matrix: pass X.toarray())" if hasattr(X, "toarray") else ""
            raise ValueError(f"{what} must be a DataFrame or a 2-D array, got "
                             f"{type(X).__name__} of shape {array.shape}{sparse}")
        if names is not None and len(names) != array.shape[1]:  # read by position: no guess
            raise ValueError(f"{what} has {array.shape[1]} columns, but {len(names)} were "
                             f"fitted ({list(names)}): pass those columns in that order, or a "
                             "DataFrame that names them")
        columns = list(names) if names is not None else [f"x{i}" for i in range(array.shape[1])]
        # an object array (a DataFrame with a categorical column, as an array) keeps its
        # number columns numbers
        frame = pd.DataFrame(array, columns=columns).infer_objects()
    if len(frame) == 0 or frame.shape[1] == 0:
        raise ValueError(f"{what} is empty (shape {frame.shape})")
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.has_duplicates:
        raise ValueError(f"{what} has duplicate column names")
    return frame


def _check_missing(frame: pd.DataFrame, what: str) -> None:
    bad_rows = np.zeros(len(frame), dtype=bool)
    bad_columns = []
    for name in frame.columns:
        column = frame[name]
        dtype = column.dtype
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            bad = ~np.isfinite(column.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            bad = column.isna().to_numpy()
        if bad.any():
            bad_rows |= bad
            bad_columns.append(str(name))
    if bad_columns:
        raise ValueError(
            f"{what} has {int(bad_rows.sum())} row(s) with missing or infinite values "
            f"(columns {bad_columns}); drop or impute them first"
        )


def _kind_of(column: pd.Series) -> str:
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return CATEGORICAL
    if isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL
    if pd.api.types.is_integer_dtype(dtype):
        return INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return REAL
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return CATEGORICAL
    raise TypeError(
        f"column {column.name!r} has dtype {dtype}; use real, integer or categorical columns"
    )


def _categories_of(column: pd.Series) -> tuple[Any, ...]:
    present = pd.unique(column.astype(object))
    if isinstance(column.dtype, pd.CategoricalDtype):
        keep = set(present)
        return tuple(c for c in column.dtype.categories if c in keep)
    try:
        return tuple(sorted(present))
    except TypeError:  # mixed types: keep the order of first appearance
        return tuple(present)


ID_LEVELS = 20  # a categorical with more levels than this and than 90 % of the rows: an id?


def fit_domain(X: Any, *, what: str = "X", names: tuple[str, ...] | None = None
               ) -> tuple[Domain, pd.DataFrame]:
    """Build the :class:`Domain` of experiments ``X`` (validated); return it and the frame.
    ``names``: the columns of a 2-D array (default ``x0, x1, ...``)."""
    frame = as_frame(X, what=what, names=names)
    _check_missing(frame, what)
    kinds = tuple(_kind_of(frame[c]) for c in frame.columns)
    numeric = [c for c, k in zip(frame.columns, kinds, strict=True) if k != CATEGORICAL]
    for name in numeric:
        _check_exact(frame[name], name, what)
    columns = [frame[c].to_numpy(dtype=np.float64) for c in numeric]  # no copy for float64
    categorical = [c for c, k in zip(frame.columns, kinds, strict=True) if k == CATEGORICAL]
    categories = tuple(_categories_of(frame[c]) for c in categorical)
    for name, levels in zip(categorical, categories, strict=True):
        if len(levels) > max(ID_LEVELS, 0.9 * len(frame)):
            warnings.warn(f"{what}: column {name!r} has {len(levels)} distinct values in "
                          f"{len(frame)} rows and is read as a categorical parameter (an "
                          "identifier, or numbers stored as text?); drop it from X or convert "
                          "it, or the box may restrict it value by value", UserWarning,
                          stacklevel=user_stacklevel())
    domain = Domain(
        names=tuple(frame.columns),
        kinds=kinds,
        low=np.array([c.min() for c in columns], dtype=np.float64),
        high=np.array([c.max() for c in columns], dtype=np.float64),
        categories=categories,
    )
    return domain, frame


def check_labels(y: Any, n: int, *, what: str = "y") -> tuple[np.ndarray, bool]:
    """Validate labels: booleans, 0/1 or probabilities in [0, 1]; return (float64 array, binary)."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"{what} must be one column, got {y.shape[1]}")
        y = y.iloc[:, 0]
    array = np.asarray(y)
    if array.ndim == 2 and 1 in array.shape:
        array = array.ravel()
    if array.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {array.shape}")
    if len(array) != n:
        raise ValueError(f"{what} has {len(array)} values but X has {n} rows")
    if array.dtype == object:  # e.g. booleans left in an object column by read_csv + dropna
        inferred = pd.Series(array, dtype=object).infer_objects()
        if pd.api.types.is_bool_dtype(inferred.dtype) or \
                pd.api.types.is_numeric_dtype(inferred.dtype):
            array = inferred.to_numpy()
    if array.dtype == bool:
        values = array.astype(np.float64)
    elif np.issubdtype(array.dtype, np.number):
        values = array.astype(np.float64)
    else:
        missing = int(pd.isna(pd.Series(array, dtype=object)).sum())
        raise TypeError(
            f"{what} must be boolean, 0/1 or probabilities in [0, 1], got dtype {array.dtype}"
            + (f" with {missing} missing value(s); drop those rows" if missing else "")
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} has {int((~np.isfinite(values)).sum())} missing/infinite values")
    if not len(values):
        raise ValueError(f"{what} is empty: there is nothing to score")
    if values.min() < 0 or values.max() > 1:
        raise ValueError(
            f"{what} must be boolean, 0/1 or probabilities in [0, 1]; got values in "
            f"[{values.min():.10g}, {values.max():.10g}] (threshold a continuous outcome first)"
        )
    if values.sum() <= 0:
        raise ValueError(f"{what} has no case of interest (all labels are 0)")
    binary = bool(np.all((values == 0) | (values == 1)))
    return values, binary
