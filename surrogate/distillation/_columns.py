"""How the transfer-set generators see Data 1: numeric columns on [0, 1], categorical ones as codes.

Generators (:mod:`surrogate.distillation._generators`) learn where Data 1 lies and draw new points
near it. They work on one numeric representation: with a known :class:`~surrogate.Space`, the
space's own unit-cube map (:meth:`Parameter.to_unit`, so log-scale reals are handled on their
log scale, integer levels sit at their cell centres); without one, each column's observed range
scaled to [0, 1]. :meth:`Columns.decode` maps generated points back, clipped to the bounds and
snapped to the types (the space's :meth:`Parameter.from_unit` does both; without a space,
integer columns are rounded and a column constant in Data 1 stays constant).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from surrogate.space import Categorical, Integer, Space, as_space, repeated_names

__all__ = ["Columns", "as_frame"]


def as_frame(X: Any, space: Space | None, what: str = "X") -> pd.DataFrame:
    """``X`` as a DataFrame: validated against ``space`` when given, else array columns ``x0..``.

    Raises
    ------
    ValueError
        Naming ``what`` and the column for bad values (through :meth:`Space.validate`), for an
        empty design or a wrong shape, and for missing values without a space.
    """
    if space is not None:
        try:
            frame = space.validate(X)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{what}: {exc}") from None
    elif isinstance(X, pd.DataFrame):
        frame = X.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        repeated = repeated_names(frame.columns)
        if repeated:
            raise ValueError(f"{what}: column names must differ (as text), got {repeated} "
                             f"more than once")
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            raise ValueError(f"{what} must be a DataFrame or a 2-D array (n, d), got shape "
                             f"{array.shape}")
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if space is None and not (isinstance(X, pd.DataFrame) and any(
            pd.api.types.is_numeric_dtype(t) for t in frame.dtypes)):
        # an object array (a mixed frame's to_numpy()), or a frame made of one, holds its
        # numeric columns as objects: numeric they are, not categories. A frame that has
        # numeric columns was typed on purpose: its object columns of numbers are
        # categories (a Categorical of numbers, as sg.sample writes it), which the teacher
        # was fitted on as such and the generators must draw among their levels
        frame = frame.infer_objects()
    if len(frame) == 0 or frame.shape[1] == 0:
        raise ValueError(f"{what} is empty (shape {frame.shape})")
    missing = frame.isna().any()
    if missing.any():
        column = str(missing.index[np.flatnonzero(missing.to_numpy())[0]])
        raise ValueError(f"{what}: column {column!r} has missing values (NaN); drop those rows")
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
                and np.isinf(values.to_numpy(dtype=float)).any():
            raise ValueError(f"{what}: column {column!r} has infinite values; drop those rows")
    return frame


class Columns:
    """The columns of Data 1 as a generator sees them (built by :meth:`fit`, then fixed).

    Attributes
    ----------
    names : list of str
        All columns, in order.
    numeric, categorical : list of str
        Real and integer columns (worked on in [0, 1]) and categorical ones (worked on as codes).
    space : Space or None
        The space the columns come from, when one is known.

    Examples
    --------
    >>> X = pd.DataFrame({"a": [0.0, 2.0, 4.0], "n": [1, 3, 2], "c": ["p", "q", "p"]})
    >>> columns = Columns.fit(X)
    >>> unit, codes = columns.encode(X)
    >>> unit.tolist(), codes.ravel().tolist()
    ([[0.0, 0.0], [0.5, 1.0], [1.0, 0.5]], [0, 1, 0])
    >>> columns.decode(np.array([[1.2, 0.26]]), np.array([[1]])).to_dict("records")
    [{'a': 4.0, 'n': 2, 'c': 'q'}]
    """

    def __init__(
        self,
        names: Sequence[str],
        numeric: Sequence[str],
        integer: Sequence[bool],
        low: np.ndarray,
        high: np.ndarray,
        categories: Sequence[tuple[Any, ...]],
        space: Space | None,
    ) -> None:
        self.names = list(names)
        self.numeric = list(numeric)
        self.categorical = [n for n in self.names if n not in set(self.numeric)]
        self.integer = np.asarray(integer, dtype=bool)
        self.low = np.asarray(low, dtype=float)
        self.high = np.asarray(high, dtype=float)
        self.categories = [tuple(c) for c in categories]
        self.space = space

    @classmethod
    def fit(cls, X: Any, space: Space | None = None) -> Columns:
        """Describe the columns of ``X`` (from ``space`` when given, else from the data)."""
        if space is not None:
            return cls._from_space(as_space(space))
        frame = as_frame(X, None)
        numeric, integer, low, high, categories = [], [], [], [], []
        for name in frame.columns:
            values = frame[name]
            if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
                categories.append(tuple(pd.unique(values.to_numpy(dtype=object))))
                continue
            if pd.api.types.is_complex_dtype(values):  # float() drops the imaginary part
                raise ValueError(f"X: column {name!r} holds complex numbers; the generators "
                                 "take real ones")
            numeric.append(name)
            integer.append(pd.api.types.is_integer_dtype(values))
            low.append(float(values.min()))
            high.append(float(values.max()))
            if not np.isfinite(high[-1] - low[-1]):  # as a Real's range: the scaling overflows
                raise ValueError(f"X: column {name!r} spans [{low[-1]:g}, {high[-1]:g}], wider "
                                 "than floating point holds (max - min overflows); rescale "
                                 "the column, or give a space")
        return cls(list(frame.columns), numeric, integer, np.array(low), np.array(high),
                   categories, None)

    @classmethod
    def _from_space(cls, space: Space) -> Columns:
        numeric = [p.name for p in space if p.is_numeric]
        categories = [p.categories for p in space if isinstance(p, Categorical)]
        integer = [isinstance(space[name], Integer) for name in numeric]
        zeros = np.zeros(len(numeric))
        return cls(space.names, numeric, integer, zeros, zeros + 1.0, categories, space)

    @property
    def n_numeric(self) -> int:
        return len(self.numeric)

    def frame(self, X: Any, what: str = "X") -> pd.DataFrame:
        """``X`` checked against these columns (and the space, when known)."""
        frame = as_frame(X, self.space, what)
        if self.space is None and list(frame.columns) != self.names:
            raise ValueError(f"{what} has columns {list(frame.columns)}; expected {self.names}")
        return frame

    def encode(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """(numeric columns in [0, 1], shape (n, p); category codes, shape (n, q))."""
        frame = self.frame(X)
        unit = np.empty((len(frame), self.n_numeric))
        for j, name in enumerate(self.numeric):
            if self.space is not None:
                unit[:, j] = self.space[name].to_unit(frame[name].to_numpy())
            else:
                span = self.high[j] - self.low[j]
                unit[:, j] = (frame[name].to_numpy(dtype=float) - self.low[j]) / (span or 1.0)
        codes = np.empty((len(frame), len(self.categorical)), dtype=np.int64)
        for j, name in enumerate(self.categorical):
            lookup = {c: i for i, c in enumerate(self.categories[j])}
            codes[:, j] = [lookup.get(v, -1) for v in frame[name].to_numpy(dtype=object)]
            if (codes[:, j] < 0).any():
                raise ValueError(f"column {name!r} has values outside {list(self.categories[j])}")
        return unit, codes

    def decode(self, unit: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
        """Generated points back to a DataFrame, clipped to the bounds and snapped to the types."""
        unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        columns: dict[str, Any] = {}
        for j, name in enumerate(self.numeric):
            if self.space is not None:
                columns[name] = self.space[name].from_unit(unit[:, j])
                continue
            # clip again: low + 1.0 * (high - low) can round past high
            values = np.clip(self.low[j] + unit[:, j] * (self.high[j] - self.low[j]),
                             self.low[j], self.high[j])
            columns[name] = np.round(values).astype(np.int64) if self.integer[j] else values
        for j, name in enumerate(self.categorical):
            values = np.asarray(self.categories[j], dtype=object)[codes[:, j]]
            if all(isinstance(c, bool | np.bool_) for c in self.categories[j]):
                values = values.astype(bool)  # a boolean column stays one (trees read it)
            columns[name] = values
        return pd.DataFrame(columns, columns=self.names)

    def one_hot(self, codes: np.ndarray) -> np.ndarray:
        """One 0/1 column per category of each categorical column, shape (n, sum of levels)."""
        blocks = [(codes[:, [j]] == np.arange(len(c))).astype(float)
                  for j, c in enumerate(self.categories)]
        return np.hstack(blocks) if blocks else np.empty((len(codes), 0))
