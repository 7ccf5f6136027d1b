"""Parameter spaces: the first stage of the pipeline (space -> design -> teacher -> ...).

A :class:`Space` is an ordered, immutable set of typed parameters. It maps designs to and from the
unit cube (where samplers and surrogates work), validates user designs, and describes itself for
SALib and for files on disk.

Unit-cube conventions
---------------------
* ``Real``: affine map of ``[low, high]`` (or of ``[log low, log high]`` when ``log=True``).
* ``Integer`` with ``k = high - low + 1`` levels and ``Categorical`` with ``k`` categories: the unit
  interval is cut into ``k`` cells of equal width and level ``i`` owns cell ``[i/k, (i+1)/k)``. A
  uniform draw therefore hits every level with probability ``1/k`` (no edge bias, unlike rounding
  ``low + u (high - low)``), and ``to_unit`` returns the cell centre ``(i + 0.5) / k``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from surrogate._checks import check_savable_text

__all__ = ["Parameter", "Real", "Integer", "Categorical", "Space", "as_space"]

# Integer bounds: designs pass through float64, exact for integers up to 2**53 (past it
# 2**53 + 1 became 2**53, and a range of 11 levels there sampled one)
INT_EXACT = (-(2**53), 2**53)
# ... and a unit coordinate holds 2**52 levels exactly (over 2**53 of them, a design drew only
# even values and a round trip through the unit cube moved 3 to 4)
INT_LEVELS = 2**52
# a log-scale Real as a column of its log10 (a study's surrogates see it so, and a model given
# the raw column says so)
LOG_PREFIX = "log10_"


class Parameter:
    """Base class of the typed parameters; subclasses define the unit-cube map.

    Subclassing
    -----------
    Implement ``_from_unit(u) -> values``, ``_to_unit(values) -> u`` and ``_check(values)``
    (returns a message for the first bad value, or ``None``), plus ``to_dict``.
    """

    name: str

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval values ``u`` (any shape) to parameter values."""
        u = np.asarray(u, dtype=float)
        if np.isnan(u).any():  # an integer level of NaN was -2**63, a category an IndexError
            raise ValueError(f"parameter {self.name!r}: unit values hold NaN; each must be a "
                             f"number in [0, 1]")
        return self._from_unit(np.clip(u, 0.0, 1.0))

    def to_unit(self, values: Any) -> np.ndarray:
        """Map parameter values to the unit interval."""
        return self._to_unit(np.asarray(values))

    def _from_unit(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _to_unit(self, values: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check(self, values: np.ndarray) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def is_numeric(self) -> bool:
        """True for parameters with an order (Real, Integer)."""
        return True


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"parameter name must be a non-empty str, got {name!r}")
    return check_savable_text("parameter name", name)


def _check_bounds(name: str, low: Any, high: Any) -> tuple[float, float]:
    for label, value in (("low", low), ("high", high)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"parameter {name!r}: {label} must be a number, got {value!r}")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int past float's range
            raise ValueError(f"parameter {name!r}: {label} must be finite, got an int of "
                             f"{len(str(abs(value)))} digits, past float's range") from None
        if not finite:
            raise ValueError(f"parameter {name!r}: {label} must be finite, got {value}")
    if not low < high:
        raise ValueError(f"parameter {name!r}: low must be < high, got low={low}, high={high}")
    return float(low), float(high)


def _code(lookup: dict[Any, int], value: Any) -> int:
    """A category's index, -1 for a value that is none (an unhashable one, a list, included)."""
    try:
        return lookup.get(value, -1)
    except TypeError:
        return -1


def python_scalar(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for JSON and messages); others unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def in_run_order(value: Any, n: int) -> Any:
    """A pandas object of ``n`` rows in run order: by its index, when that holds the run
    numbers ``0 .. n-1`` in another order (a result sorted inside a vectorized teacher, a
    mask made from a sorted column), as pandas aligns it; anything else unchanged (rows by
    position)."""
    if isinstance(value, pd.Series | pd.DataFrame) and len(value) == n \
            and not value.index.equals(pd.RangeIndex(n)):
        index = value.index
        if index.is_unique and pd.api.types.is_integer_dtype(index.dtype) \
                and index.isin(range(n)).all():
            return value.reindex(range(n))
    return value


def repeated_names(columns: Any) -> list[str]:
    """The column names that appear more than once, each once, sorted (as text)."""
    index = pd.Index(columns)
    return sorted({str(c) for c in index[index.duplicated()]})


def _describe_bad(name: str, values: np.ndarray, bad: np.ndarray, allowed: str) -> str:
    first = int(np.flatnonzero(bad)[0])
    value = python_scalar(values[first])
    return (
        f"column {name!r}: value {value!r} at row {first} is not allowed "
        f"({int(bad.sum())} bad value(s)); allowed: {allowed}"
    )


@dataclass(frozen=True)
class Real(Parameter):
    """A real parameter in ``[low, high]``, optionally on a log scale.

    Examples
    --------
    >>> Real("k", 1e-3, 1e1, log=True).from_unit([0.0, 0.5, 1.0]).round(6).tolist()
    [0.001, 0.1, 10.0]
    """

    name: str
    low: float
    high: float
    log: bool = field(default=False, kw_only=True)  # SPEC: Real(name, low, high, *, log=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        low, high = _check_bounds(self.name, self.low, self.high)
        if not (isinstance(self.log, bool | np.bool_) or (
                isinstance(self.log, int | np.integer) and self.log in (0, 1))):
            raise TypeError(f"parameter {self.name!r}: log must be True or False, got "
                            f"{self.log!r}")  # 0/1: as spaces saved by older versions hold
        object.__setattr__(self, "log", bool(self.log))
        if self.log and low <= 0:
            raise ValueError(f"parameter {self.name!r}: log=True needs low > 0, got low={low}")
        if not math.isfinite(high - low):
            raise ValueError(f"parameter {self.name!r}: the range [{low}, {high}] is wider than "
                             "floating point holds (high - low overflows); use log=True or "
                             "rescale the parameter")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def _edges(self) -> tuple[float, float]:
        if self.log:
            return math.log(self.low), math.log(self.high)
        return self.low, self.high

    def _from_unit(self, u: np.ndarray) -> np.ndarray:
        a, b = self._edges()
        values = a + u * (b - a)
        if self.log:
            values = np.exp(values)
        # the ends are the bounds themselves (exp(log(1e-3)) is 0.0010000000000000002: a
        # factorial design missed its bounds), and exp/log round-off must not step outside
        values = np.where(u == 0.0, self.low, np.where(u == 1.0, self.high, values))
        return np.clip(values, self.low, self.high)

    def _to_unit(self, values: np.ndarray) -> np.ndarray:
        a, b = self._edges()
        values = values.astype(float)
        if self.log:
            values = np.log(values)
        return (values - a) / (b - a)

    def _check(self, values: np.ndarray) -> str | None:
        if values.dtype.kind == "c":  # astype(float) would drop the imaginary part
            return f"column {self.name!r}: values must be real numbers, got complex ones"
        try:
            numeric = values.astype(float)
        except OverflowError:  # ints past float's range
            return f"column {self.name!r}: values must be finite numbers, got one too large"
        except (TypeError, ValueError):
            return f"column {self.name!r}: values must be numbers, got {values[:3].tolist()!r}..."
        a, b = self._edges()
        if self.log:  # on the log scale, where the range's rounding lives
            with np.errstate(divide="ignore", invalid="ignore"):
                numeric_scaled = np.log(numeric)  # 0 and negatives: not finite, refused
        else:
            numeric_scaled = numeric
        tol = 1e-12 * (b - a)
        bad = ~np.isfinite(numeric_scaled) | (numeric_scaled < a - tol) \
            | (numeric_scaled > b + tol)
        if bad.any():
            return _describe_bad(self.name, numeric, bad, f"real numbers in [{self.low}, {self.high}]")
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "real", "name": self.name, "low": self.low, "high": self.high,
                "log": self.log}


@dataclass(frozen=True)
class Integer(Parameter):
    """An integer parameter taking every value in ``low, low + 1, ..., high``.

    Examples
    --------
    >>> Integer("n", 1, 3).from_unit([0.0, 0.34, 0.99]).tolist()
    [1, 2, 3]
    """

    name: str
    low: int
    high: int

    def __post_init__(self) -> None:
        _check_name(self.name)
        for label, value in (("low", self.low), ("high", self.high)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise TypeError(f"parameter {self.name!r}: {label} must be an int, got {value!r}")
            if not INT_EXACT[0] <= int(value) <= INT_EXACT[1]:
                raise ValueError(f"parameter {self.name!r}: {label}={value} is beyond the "
                                 f"integers designs hold exactly (|{label}| <= 2**53); use a "
                                 "Real or a Categorical for larger values")
        if not self.low < self.high:
            raise ValueError(
                f"parameter {self.name!r}: low must be < high, got low={self.low}, high={self.high}"
            )
        if int(self.high) - int(self.low) >= INT_LEVELS:
            raise ValueError(f"parameter {self.name!r}: at most 2**52 values (high - low < "
                             f"2**52): designs place integers at float64 unit coordinates, "
                             f"exact for that many; got {int(self.high) - int(self.low) + 1}. "
                             "Use a Real or a log-scale Real for wider ranges")
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))

    @property
    def n_levels(self) -> int:
        return self.high - self.low + 1

    def _from_unit(self, u: np.ndarray) -> np.ndarray:
        cell = np.minimum(np.floor(u * self.n_levels), self.n_levels - 1)
        return (self.low + cell).astype(np.int64)

    def _to_unit(self, values: np.ndarray) -> np.ndarray:
        return (values.astype(float) - self.low + 0.5) / self.n_levels

    def _check(self, values: np.ndarray) -> str | None:
        if values.dtype.kind == "c":  # astype(float) would drop the imaginary part
            return f"column {self.name!r}: values must be integers, got complex ones"
        try:
            numeric = values.astype(float)
        except OverflowError:  # ints past float's range
            return f"column {self.name!r}: values must be finite numbers, got one too large"
        except (TypeError, ValueError):
            return f"column {self.name!r}: values must be integers, got {values[:3].tolist()!r}..."
        bad = (
            ~np.isfinite(numeric)
            | (numeric != np.round(numeric))
            | (numeric < self.low)
            | (numeric > self.high)
        )
        if bad.any():
            return _describe_bad(self.name, numeric, bad, f"integers in [{self.low}, {self.high}]")
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "integer", "name": self.name, "low": self.low, "high": self.high}


def category_kind(value: Any) -> str | None:
    """The kind of a category value: "text", "bool" or "number"; None for anything else."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    return None


@dataclass(frozen=True)
class Categorical(Parameter):
    """A categorical parameter with a fixed, ordered tuple of categories.

    Categories may be strings, numbers or booleans, all of one kind; they must be distinct.

    Examples
    --------
    >>> Categorical("scheme", ["a", "b"]).from_unit([0.2, 0.7]).tolist()
    ['a', 'b']
    """

    name: str
    categories: tuple[Any, ...]

    def __post_init__(self) -> None:
        _check_name(self.name)
        if isinstance(self.categories, str) or not isinstance(self.categories, Iterable):
            raise TypeError(
                f"parameter {self.name!r}: categories must be a sequence, got {self.categories!r}"
            )
        if isinstance(self.categories, set | frozenset):  # its order changes between runs
            raise TypeError(f"parameter {self.name!r}: categories must be an ordered sequence "
                            f"(a list or tuple), got a {type(self.categories).__name__}: its "
                            "order, and so the designs drawn, would differ from run to run; "
                            "give sorted(...) for the sorted order")
        categories = tuple(self.categories)
        try:
            hash(categories)
        except TypeError:
            raise TypeError(f"parameter {self.name!r}: categories must be numbers or text, got "
                            f"{categories!r}") from None
        if len(categories) < 2:
            raise ValueError(f"parameter {self.name!r}: needs at least 2 categories, got {categories}")
        # c != c: NaN of any float type (numpy's float32 NaN is no Python float)
        missing = [c for c in categories if c is None
                   or (category_kind(c) == "number" and c != c)]
        if missing:
            raise ValueError(f"parameter {self.name!r}: a category may not be None or NaN (a "
                             f"missing value), got {categories}")
        if len(set(categories)) != len(categories):
            raise ValueError(f"parameter {self.name!r}: categories must be distinct, got {categories}")
        kinds = {category_kind(c) for c in categories}
        if None in kinds or len(kinds) > 1:
            raise TypeError(f"parameter {self.name!r}: categories must be all text, all numbers "
                            f"or all booleans (so that runs save and load as they were), got "
                            f"{categories}")
        for c in categories:
            if isinstance(c, str):
                check_savable_text(f"parameter {self.name!r}: category", c)
        exotic = [c for c in categories if category_kind(c) == "number" and not isinstance(
            c, numbers.Integral | float | np.float32 | np.float16)]  # np.float64 is a float
        if exotic:  # a Fraction, a Decimal, a long double: saved runs hold int64 or float64
            raise TypeError(f"parameter {self.name!r}: number categories must be int or float "
                            f"(runs save them as 64-bit numbers), got {exotic[0]!r} of type "
                            f"{type(exotic[0]).__name__}; give float(...) or text")
        huge = [c for c in categories if isinstance(c, numbers.Integral)
                and not isinstance(c, bool) and not -2**63 <= int(c) < 2**63]
        if huge:  # saved runs store integers as int64
            raise ValueError(f"parameter {self.name!r}: integer categories must fit in 64 bits "
                             f"(-2**63 .. 2**63 - 1), got {huge[0]}; give them as text")
        integers = [c for c in categories if isinstance(c, numbers.Integral)]
        if integers and len(integers) < len(categories):  # with floats: saved as float64
            inexact = [c for c in integers if int(float(c)) != int(c)]
            if inexact:
                raise ValueError(f"parameter {self.name!r}: with float categories, integer ones "
                                 f"are saved as floats, which cannot hold {inexact[0]} exactly "
                                 f"(|value| <= 2**53 can); give them as text")
        object.__setattr__(self, "categories", categories)

    def __eq__(self, other: object) -> bool:
        # booleans equal 0 and 1 in Python, but a space of [False, True] is not one of [0, 1]:
        # runs of one would be written as the other's (TransferSet.concat, resume)
        return isinstance(other, Categorical) and self.name == other.name \
            and self.categories == other.categories \
            and category_kind(self.categories[0]) == category_kind(other.categories[0])

    def __hash__(self) -> int:
        return hash((self.name, self.categories, category_kind(self.categories[0])))

    @property
    def is_numeric(self) -> bool:
        return False

    @property
    def n_levels(self) -> int:
        return len(self.categories)

    def _from_unit(self, u: np.ndarray) -> np.ndarray:
        cell = np.minimum(np.floor(u * self.n_levels), self.n_levels - 1).astype(np.int64)
        return np.asarray(self.categories, dtype=object)[cell]

    def codes(self, values: Any) -> np.ndarray:
        """Index of each value in ``categories`` (-1 where it is not a category)."""
        lookup = {c: i for i, c in enumerate(self.categories)}
        flat = np.asarray(values, dtype=object).ravel()
        return np.array([_code(lookup, v) for v in flat],
                        dtype=np.int64).reshape(np.shape(values))

    def _to_unit(self, values: np.ndarray) -> np.ndarray:
        codes = self.codes(values)
        if (codes < 0).any():
            raise ValueError(self._check(np.asarray(values, dtype=object)) or "unknown category")
        return (codes + 0.5) / self.n_levels

    def _check(self, values: np.ndarray) -> str | None:
        bad = self.codes(values) < 0
        if bad.any():
            return _describe_bad(self.name, np.asarray(values, dtype=object), bad,
                                 f"one of {list(self.categories)}")
        return None

    def to_dict(self) -> dict[str, Any]:
        cats = [c.item() if isinstance(c, np.generic) else c for c in self.categories]
        return {"type": "categorical", "name": self.name, "categories": cats}


_PARAMETER_TYPES: dict[str, type[Parameter]] = {
    "real": Real, "integer": Integer, "categorical": Categorical,
}


def parameter_from_dict(data: dict[str, Any]) -> Parameter:
    """Rebuild a parameter from :meth:`Parameter.to_dict` output."""
    kind = data.get("type")
    if kind not in _PARAMETER_TYPES:
        raise ValueError(f"unknown parameter type {kind!r}; allowed: {sorted(_PARAMETER_TYPES)}")
    fields = {k: v for k, v in data.items() if k != "type"}
    return _PARAMETER_TYPES[kind](**fields)


class Space:
    """An ordered set of typed parameters.

    Parameters
    ----------
    parameters : sequence of Real, Integer or Categorical
        Names must be unique; their order is the column order of designs.

    Examples
    --------
    >>> space = Space([Real("x", 0, 1), Integer("n", 1, 4), Categorical("c", ["a", "b"])])
    >>> space.names, space.dim
    (['x', 'n', 'c'], 3)
    >>> space.from_unit([[0.5, 0.5, 0.5]]).to_dict("records")
    [{'x': 0.5, 'n': 3, 'c': 'b'}]
    """

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        if isinstance(parameters, Parameter):
            parameters = [parameters]
        if isinstance(parameters, str | bytes) or not isinstance(parameters, Iterable):
            raise TypeError("parameters must be a sequence of Real, Integer or Categorical, got "
                            f"{parameters!r}")
        parameters = tuple(parameters)
        if not parameters:
            raise ValueError("a Space needs at least one parameter")
        for p in parameters:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"Space takes Real, Integer or Categorical parameters, got {type(p).__name__}"
                )
        names = [p.name for p in parameters]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate parameter names: {dupes}")
        self._parameters = parameters
        self._index = {p.name: i for i, p in enumerate(parameters)}

    # -- container protocol -------------------------------------------------------------------
    @property
    def parameters(self) -> tuple[Parameter, ...]:
        return self._parameters

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._parameters]

    @property
    def dim(self) -> int:
        return len(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters)

    def __getitem__(self, key: str | int) -> Parameter:
        if isinstance(key, str):
            if key not in self._index:
                raise KeyError(f"no parameter named {key!r}; parameters: {self.names}")
            return self._parameters[self._index[key]]
        return self._parameters[key]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self._parameters == other._parameters

    def __hash__(self) -> int:
        return hash(self._parameters)

    def __repr__(self) -> str:
        return f"Space({list(self._parameters)!r})"

    @property
    def is_numeric(self) -> bool:
        """True when every parameter is Real or Integer."""
        return all(p.is_numeric for p in self._parameters)

    # -- maps ---------------------------------------------------------------------------------
    def from_unit(self, unit: Any) -> pd.DataFrame:
        """Map points of the unit cube, shape (n, dim), to a design DataFrame.

        A DataFrame is read by column name (its columns must be the space's), unless its
        columns are the default 0 .. dim-1; an array by position, in the space's order. Values
        are clipped to [0, 1].
        """
        if isinstance(unit, pd.DataFrame) and not unit.columns.equals(pd.RangeIndex(self.dim)):
            # named columns are read by name; default ones (0 .. dim-1) by position below
            missing, extra = self._unmatched(unit.columns)
            if missing or extra:
                raise ValueError(f"unit points' columns do not match the space: missing "
                                 f"{missing}, unknown {extra}; expected columns {self.names}")
            unit = unit.loc[:, self.names]
        try:
            unit = np.asarray(unit, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"unit points must be numbers in [0, 1], shape (n, {self.dim}); got "
                            f"{type(unit).__name__} {str(unit)[:60]!r}") from None
        if unit.ndim == 1 and self.dim == 1:
            unit = unit[:, None]
        if unit.ndim != 2 or unit.shape[1] != self.dim:
            raise ValueError(f"unit points must have shape (n, {self.dim}), got {unit.shape}")
        if np.isnan(unit).any():
            column = self.names[int(np.flatnonzero(np.isnan(unit).any(axis=0))[0])]
            raise ValueError(f"unit points hold NaN (column {column!r}); each value must be a "
                             "number in [0, 1]")
        columns = {p.name: p.from_unit(unit[:, i]) for i, p in enumerate(self._parameters)}
        return pd.DataFrame(columns, columns=self.names)

    def to_unit(self, X: Any) -> np.ndarray:
        """Map a design (DataFrame or array in space order) to the unit cube, shape (n, dim)."""
        frame = self.validate(X)
        if len(frame) == 0:
            return np.empty((0, self.dim))
        return np.column_stack(
            [p.to_unit(frame[p.name].to_numpy()) for p in self._parameters]
        ).astype(float)

    def validate(self, X: Any) -> pd.DataFrame:
        """Check a design and return it as a DataFrame with the space's columns and dtypes.

        The rows keep their order under a fresh index ``0 .. n-1`` (as a transfer set's do):
        assign a Series of ``X``'s index to the result by position (``.to_numpy()``), not by
        label.

        Raises
        ------
        ValueError
            Naming the column, the bad value and the allowed range, for missing or unknown
            columns, wrong shapes, NaN or out-of-range values and unknown categories.
        """
        frame = self._as_frame(X)
        for p in self._parameters:
            message = p._check(frame[p.name].to_numpy())
            if message:
                raise ValueError(message)
        return self._cast(frame)

    def _as_frame(self, X: Any) -> pd.DataFrame:
        if isinstance(X, (list, tuple)) and X and all(isinstance(r, dict) for r in X):
            X = pd.DataFrame(list(X))  # records: one dict of parameter values per point
        if isinstance(X, pd.DataFrame):
            repeated = repeated_names(X.columns)
            if repeated:
                raise ValueError(f"design has repeated column(s) {repeated}; each parameter "
                                 "takes one column")
            missing, extra = self._unmatched(X.columns)
            if missing or extra:
                detail = []
                if missing:
                    detail.append(f"missing column(s) {missing}")
                if extra:
                    detail.append(f"unknown column(s) {extra}")
                raise ValueError(f"design columns do not match the space: {'; '.join(detail)}; "
                                 f"expected columns {self.names}")
            return X.loc[:, self.names].reset_index(drop=True)
        if isinstance(X, pd.Series) or isinstance(X, dict):
            raise TypeError("a design must be a DataFrame or a 2-D array; wrap one point as "
                            "pd.DataFrame([point])")
        array = np.asarray(X, dtype=object if not self.is_numeric else None)
        if array.ndim == 1 and self.dim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise ValueError(
                f"a design array must have shape (n, {self.dim}) in the order {self.names}, "
                f"got shape {array.shape}"
            )
        return pd.DataFrame({n: array[:, i] for i, n in enumerate(self.names)}, columns=self.names)

    def _unmatched(self, columns: Any) -> tuple[list[str], list[str]]:
        """The space's names missing from ``columns``, and the columns it does not know."""
        return ([n for n in self.names if n not in columns],
                [str(c) for c in columns if c not in self._index])

    def _cast(self, frame: pd.DataFrame) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for p in self._parameters:
            values = frame[p.name].to_numpy()
            if isinstance(p, Real):  # _check let a round-off past a bound through: clipped
                columns[p.name] = np.clip(values.astype(float), p.low, p.high)
            elif isinstance(p, Integer):
                columns[p.name] = np.round(values.astype(float)).astype(np.int64)
            elif isinstance(p, Categorical):  # the declared categories: 1 for True gives True
                levels = np.empty(p.n_levels, dtype=object)
                levels[:] = list(p.categories)
                columns[p.name] = levels[p.codes(values)]
            else:  # pragma: no cover - the three kinds above are all there are
                columns[p.name] = values.astype(object)
        return pd.DataFrame(columns, columns=self.names)

    # -- descriptions -------------------------------------------------------------------------
    def to_salib(self) -> dict[str, Any]:
        """The SALib problem dict: linear Real parameters keep their bounds; log-scale Reals,
        Integer and Categorical parameters are ``[0, 1]`` unit intervals (where a uniform design
        is uniform). Turn a sample drawn from it into a design with :meth:`from_salib`.

        Examples
        --------
        >>> space = Space([Real("x", 10, 20), Real("a", 1, 100, log=True)])
        >>> space.to_salib()["bounds"]
        [[10.0, 20.0], [0.0, 1.0]]
        >>> space.from_salib([[15.0, 0.5]]).round(6).values.tolist()
        [[15.0, 10.0]]
        """
        bounds = []
        for p in self._parameters:
            if _salib_native(p):
                bounds.append([p.low, p.high])  # type: ignore[attr-defined]
            else:
                bounds.append([0.0, 1.0])
        return {"num_vars": self.dim, "names": self.names, "bounds": bounds}

    def from_salib(self, sample: Any) -> pd.DataFrame:
        """A design from a sample of :meth:`to_salib`'s problem (n, dim): linear Real columns
        as they are, the others decoded from their unit interval (as :meth:`from_unit`)."""
        values = np.asarray(sample, dtype=float)
        if values.ndim != 2 or values.shape[1] != self.dim:
            raise ValueError(f"a SALib sample must have shape (n, {self.dim}), got "
                             f"{values.shape}")
        unit = values.copy()
        for j, p in enumerate(self._parameters):
            if _salib_native(p):
                unit[:, j] = p.to_unit(values[:, j])
        return self.from_unit(unit)

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": [p.to_dict() for p in self._parameters]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Space:
        return cls([parameter_from_dict(p) for p in data["parameters"]])


def _salib_native(parameter: Parameter) -> bool:
    """A parameter :meth:`Space.to_salib` gives its own bounds (a linear Real)."""
    return isinstance(parameter, Real) and not parameter.log


def as_space(space: Any) -> Space:
    """Accept a Space or a sequence of parameters."""
    if isinstance(space, Space):
        return space
    if isinstance(space, Sequence) and not isinstance(space, str):
        return Space(space)
    raise TypeError(f"expected a surrogate.Space, got {type(space).__name__}")


def numbered_categories(space: Space, X: pd.DataFrame) -> pd.DataFrame:
    """``X`` with each ``Categorical`` of numbers among the space's parameters as a pandas
    ``category`` column of its declared levels, so that a model reads it as categories: as
    :meth:`Space.validate` makes it, an ``object`` column of numbers, it would be read as an
    ordered number. Other columns (and a frame without such parameters) are left as they are.

    Examples
    --------
    >>> space = Space([Categorical("mesh", [10, 20, 40])])
    >>> numbered_categories(space, space.validate([[20], [10]]))["mesh"].dtype.categories.tolist()
    [10, 20, 40]
    """
    numbered = [p for p in space if isinstance(p, Categorical) and p.name in X.columns
                and category_kind(p.categories[0]) == "number"]
    if not numbered:
        return X
    X = X.copy()
    for p in numbered:
        X[p.name] = pd.Categorical(X[p.name].to_numpy(dtype=object), categories=list(p.categories))
    return X
