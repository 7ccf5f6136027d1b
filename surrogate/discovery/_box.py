"""The box: the result object of scenario discovery (per-parameter limits plus statistics).

PRIM, covering and CART all return :class:`Box` objects. A box is immutable; its statistics
(coverage, density, mass) refer to the data it was found on, :meth:`Box.evaluate` measures them
on other data, and :attr:`Box.qp` gives Bryant & Lempert's quasi-p-values for its restrictions.
"""

from __future__ import annotations

import keyword
import math
import numbers
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from surrogate._checks import warn_if_misaligned
from surrogate.discovery._data import CATEGORICAL, INTEGER, Domain, check_labels
from surrogate.space import python_scalar


class Box:
    """A hyper-rectangle in parameter space with its coverage, density and mass.

    Boxes are built by :class:`~surrogate.discovery.PRIM`, :func:`~surrogate.discovery.covering`
    and :class:`~surrogate.discovery.CART`; they are not meant to be constructed by hand.
    A numeric parameter is restricted on the lower side, the upper side or both (limits are
    inclusive); a categorical parameter is restricted to a set of allowed categories.

    Attributes
    ----------
    coverage : float
        Share of all cases of interest (sum of labels) that lie in the box.
    density : float
        Share of cases of interest among the points in the box (mean label in the box).
    mass : float
        Share of all points that lie in the box.
    n_points : int
        Number of points in the box.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from surrogate.discovery import PRIM
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(2000, 3)), columns=["a", "b", "c"])
    >>> y = (X.a > 0.6) & (X.b < 0.5)
    >>> box = PRIM().fit(X, y).box()
    >>> box.restricted
    ('a', 'b')
    >>> round(box.density, 2), round(box.evaluate(X, y)["coverage"], 2)
    (1.0, 0.95)
    """

    def __init__(
        self,
        *,
        domain: Domain,
        lower: np.ndarray,
        upper: np.ndarray,
        allowed: tuple[frozenset[int] | None, ...],
        n_points: int,
        sum_labels: float,
        n_total: int,
        sum_total: float,
        data: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self._domain = domain
        self._lower = _readonly(np.asarray(lower, dtype=np.float64))
        self._upper = _readonly(np.asarray(upper, dtype=np.float64))
        self._allowed = tuple(allowed)
        self.n_points = int(n_points)
        self._sum_labels = float(sum_labels)
        self._n_total, self._sum_total = int(n_total), float(sum_total)  # kept for save/load
        self.coverage = float(sum_labels / sum_total)
        self.density = float(sum_labels / n_points) if n_points else float("nan")
        self.mass = float(n_points / n_total)
        self._data = data  # the points the box was found on, for the quasi-p-values

    @classmethod
    def _from_limits(
        cls,
        domain: Domain,
        low: np.ndarray,
        high: np.ndarray,
        allowed_mask: list[np.ndarray],
        integer: np.ndarray | None = None,
        **stats: Any,
    ) -> Box:
        """A box from the algorithms' raw limits (data range = unrestricted side).

        Integer limits are tightened to the integers they admit (2.5 -> 3 for a lower limit),
        which keeps the same points and reads better. ``integer``: which numeric columns are
        integer (from :func:`integer_columns`), when already known.
        """
        lower = np.where(low != domain.low, low, -np.inf)
        upper = np.where(high != domain.high, high, np.inf)
        if integer is None:
            integer = integer_columns(domain)
        if integer.any():
            lower = np.where(integer, np.ceil(lower), lower)  # ceil/floor keep +-inf as they are
            upper = np.where(integer, np.floor(upper), upper)
        allowed = tuple(
            None if mask.all() else frozenset(np.flatnonzero(mask).tolist()) for mask in allowed_mask
        )
        return cls(domain=domain, lower=lower, upper=upper, allowed=allowed, **stats)

    # -- limits ------------------------------------------------------------------------
    @cached_property
    def restricted(self) -> tuple[str, ...]:
        """Names of the restricted parameters, in column order."""
        numeric = iter(np.isfinite(self._lower) | np.isfinite(self._upper))
        categorical = iter(a is not None for a in self._allowed)
        flags = [next(categorical) if k == CATEGORICAL else next(numeric) for k in self._domain.kinds]
        return tuple(n for n, f in zip(self._domain.names, flags, strict=True) if f)

    @property
    def n_restricted(self) -> int:
        """Number of restricted parameters."""
        return len(self.restricted)

    @property
    def limits(self) -> pd.DataFrame:
        """Limits of the restricted parameters (index) in columns ``lower, upper``.

        An unrestricted side is ``-inf`` / ``inf``; a categorical row holds the allowed set of
        categories in both columns.
        """
        rows = {name: self._limit(name) for name in self.restricted}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "upper"])
        frame.index.name = "parameter"
        return frame

    def _limit(self, name: str) -> tuple[Any, Any]:
        domain = self._domain
        if domain.kind(name) == CATEGORICAL:
            j = domain.categorical_names.index(name)
            allowed = self._allowed[j]
            values = frozenset(domain.categories[j][c] for c in sorted(allowed or ()))
            return values, values
        j = domain.numeric_names.index(name)
        return float(self._lower[j]), float(self._upper[j])

    # -- statistics ----------------------------------------------------------------------
    def contains(self, X: Any) -> np.ndarray:
        """Boolean mask: which rows of ``X`` (same columns as the fitted data) are in the box."""
        numeric, codes = self._domain.encode(X)
        return self._contains_encoded(numeric, codes)

    def _contains_encoded(self, numeric: np.ndarray, codes: np.ndarray) -> np.ndarray:
        inside = np.ones(len(numeric), dtype=bool)
        for j in np.flatnonzero(np.isfinite(self._lower) | np.isfinite(self._upper)):
            inside &= (numeric[:, j] >= self._lower[j]) & (numeric[:, j] <= self._upper[j])
        for c, allowed in enumerate(self._allowed):
            if allowed is not None:
                inside &= np.isin(codes[:, c], list(allowed))
        return inside

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """Coverage, density and mass of this box on other data ``(X, y)``.

        Returns
        -------
        dict
            ``coverage``, ``density`` (NaN when no point of ``X`` is in the box), ``mass`` and
            ``n_points``.
        """
        warn_if_misaligned(X, y)
        inside = self.contains(X)
        labels, _ = check_labels(y, len(inside))
        n_in = int(inside.sum())
        in_box = float(labels[inside].sum())
        return {
            "coverage": in_box / float(labels.sum()),
            "density": in_box / n_in if n_in else float("nan"),
            "mass": n_in / len(inside),
            "n_points": n_in,
        }

    @cached_property
    def qp(self) -> pd.DataFrame:
        """Quasi-p-values of the restrictions (Bryant & Lempert 2010), as EMA Workbench computes them.

        For each restricted bound, the bound is dropped and a one-sided binomial test asks how
        likely the box's density is if the points followed the density of the relaxed box.
        Index: restricted parameters; columns ``lower, upper`` (NaN for an unrestricted side;
        a categorical restriction is one test, reported in ``lower``). Computed on the points
        the box was found on (for a covering box: the points left after earlier boxes).
        With soft labels the number of cases in the box is the rounded sum of its labels.
        """
        from surrogate.discovery._quasi_p import quasi_p_values

        if self._data is None:
            raise ValueError("this box carries no data to compute quasi-p-values on")
        return quasi_p_values(self, *self._data)

    # -- text ----------------------------------------------------------------------------
    def rules(self, precision: int = 4) -> str:
        """The box as a readable rule, also valid for ``DataFrame.query``.

        Examples: ``"0.6 <= a and b <= 0.5"`` reads ``a >= 0.6 and b <= 0.5``; a categorical
        restriction reads ``"c in ['x', 'y']"``; a range of one value ``"k == 2"``. An
        unrestricted box gives ``""``. An integer column's limits are written exactly; a real
        column's to ``precision`` significant digits of its range in the data (more digits
        where the values are large next to their range: a time stamp of 1.7e9 spanning an
        hour), so a query of the rule may differ from :meth:`contains` only at points within
        that rounding of a limit (``year >= 2050.8`` for a limit of 2050.78 over a century);
        ``rules(17)`` is exact.
        """
        if isinstance(precision, bool) or not isinstance(precision, numbers.Integral) \
                or not 1 <= precision <= 17:
            raise ValueError(f"precision must be an int from 1 to 17 (significant digits), got "
                             f"{precision!r}")
        precision = int(precision)
        parts = []
        for name in self.restricted:
            label = name if name.isidentifier() and not keyword.iskeyword(name) else f"`{name}`"
            low, high = self._limit(name)
            if isinstance(low, frozenset):
                values = [v.item() if isinstance(v, np.generic) else v for v in _ordered(low)]
                parts.append(f"{label} in {values!r}")
                continue
            text = self._number_format(name, precision)
            if np.isfinite(low) and low == high:
                parts.append(f"{label} == {text(low)}")
            elif np.isfinite(low) and np.isfinite(high):
                parts.append(f"{text(low)} <= {label} <= {text(high)}")
            elif np.isfinite(low):
                parts.append(f"{label} >= {text(low)}")
            else:
                parts.append(f"{label} <= {text(high)}")
        return " and ".join(parts)

    def _number_format(self, name: str, precision: int) -> Any:
        """How a limit of numeric column ``name`` is written: an integer column's limits (whole
        numbers) exactly, as integers (``k <= 11872``, not ``1.187e+04``); a real column's to
        :meth:`_digits` significant digits."""
        if self._domain.kind(name) == INTEGER:
            return lambda value: str(int(value)) if float(value).is_integer() else f"{value!r}"
        fmt = f"{{:.{self._digits(name, precision)}g}}"
        return fmt.format

    def _digits(self, name: str, precision: int) -> int:
        """Significant digits that give ``precision`` digits of the parameter's data range."""
        j = self._domain.numeric_names.index(name)
        low, high = float(self._domain.low[j]), float(self._domain.high[j])
        span, size = high - low, max(abs(low), abs(high))
        if not (np.isfinite(span) and span > 0 and size > span):
            return precision
        return min(17, precision + math.floor(math.log10(size / span)))

    def __str__(self) -> str:
        return self.rules() or "(unrestricted)"

    def __repr__(self) -> str:
        return (
            f"Box({self}; coverage={self.coverage:.3g}, density={self.density:.3g}, "
            f"mass={self.mass:.3g})"
        )

    def save(self, path: Any) -> None:
        """Write the box to the directory ``path`` (``meta.json``, ``arrays.npz``); no pickle.

        The limits, statistics and the points it was found on (for :attr:`qp`) are saved; read
        it back with ``sg.load(path)``. Categories must be str, bool, int or float.

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> from surrogate.discovery import PRIM
        >>> from surrogate.models import load
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.uniform(size=(500, 2)), columns=["a", "b"])
        >>> box = PRIM().fit(X, X.a > 0.7).box()
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     box.save(tmp)
        ...     same = load(tmp)
        >>> same.rules() == box.rules(), same.density == box.density
        (True, True)
        """
        from surrogate.discovery._io import save

        save(self, path)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description: limits of the restricted parameters and statistics."""
        limits: dict[str, Any] = {}
        for name in self.restricted:
            low, high = self._limit(name)
            if isinstance(low, frozenset):
                limits[name] = {"categories": [python_scalar(v) for v in _ordered(low)]}
            else:
                entry = {}
                if np.isfinite(low):
                    entry["lower"] = low
                if np.isfinite(high):
                    entry["upper"] = high
                limits[name] = entry
        return {
            "limits": limits,
            "restricted": list(self.restricted),
            "coverage": self.coverage,
            "density": self.density,
            "mass": self.mass,
            "n_points": self.n_points,
            "n_restricted": self.n_restricted,
            "rules": self.rules(),
        }


def integer_columns(domain: Domain) -> np.ndarray:
    """Which numeric columns of ``domain`` hold integers."""
    return np.array([domain.kind(n) == INTEGER for n in domain.numeric_names], dtype=bool)


def _readonly(array: np.ndarray) -> np.ndarray:
    array = array.copy()
    array.flags.writeable = False
    return array


def _ordered(values: set[Any] | frozenset[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)
