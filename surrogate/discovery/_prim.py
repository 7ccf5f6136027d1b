"""PRIM, the Patient Rule Induction Method, as a scikit-learn style estimator.

Scenario discovery's main tool: from experiments ``X`` and labels ``y`` (cases of interest), find
a box of parameter limits where cases of interest are dense. The peeling/pasting core lives in
:mod:`surrogate.discovery._peel`; this module validates input and wraps the trajectory in
:class:`~surrogate.discovery.Box` objects.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from surrogate._checks import warn_if_misaligned
from surrogate._stack import user_stacklevel
from surrogate.discovery._box import Box, integer_columns
from surrogate.discovery._data import Domain, check_labels, fit_domain
from surrogate.discovery._peel import Settings, Step, find_box

Objective = Literal["lenient1", "lenient2", "original"]
OBJECTIVES = ("lenient1", "lenient2", "original")
FEW_CASES = 10  # cases of interest below which PRIM warns that its box rests on almost nothing


class PRIM(BaseEstimator):
    """Patient Rule Induction Method: find a dense box of cases of interest.

    Peeling repeatedly removes the slice of points (a ``peel_alpha`` quantile at either edge of
    a real or integer parameter, or one category of a categorical one) whose removal improves
    the objective most, while the box keeps at least ``mass_min`` of the points; pasting then
    re-adds ``paste_alpha`` slices along restricted parameters while that raises the density.
    Every box along the way is kept: the *trajectory* trades coverage for density.

    The trajectory is the same as EMA Workbench's ``Prim.find_box`` on the same data and
    settings (same quantiles, objective functions, tie-breaking and acceptance rules), with
    two differences: integer columns are handled like real ones (as EMA Workbench does on
    float columns; its integer code path fails under pandas 3), and pasting also runs when only
    integer or categorical parameters are restricted.

    Parameters
    ----------
    peel_alpha : float, default 0.05
        Share of the box's points considered for removal in one peel, in (0, 0.5).
    paste_alpha : float, default 0.05
        Share of the points next to the box considered for addition in one paste, in (0, 0.5).
    mass_min : float, default 0.05
        Smallest share of all points a box may hold, in [0, 1).
    objective : {"lenient1", "lenient2", "original"}, default "lenient1"
        ``"original"``: mean label of the candidate box (Friedman & Fisher 1999);
        ``"lenient1"``: gain in mean per point removed; ``"lenient2"``: that gain times the
        candidate's size (Friedman & Fisher eq. 14.6) -- the definitions of sdtoolkit and EMA
        Workbench.

    Attributes
    ----------
    boxes_ : list of Box
        The trajectory's boxes, in peeling then pasting order (the first holds all points).
    trajectory_ : DataFrame
        One row per box: ``coverage, density, mass, n_restricted``.
    feature_names_in_ : ndarray of str
    n_features_in_ : int

    Notes
    -----
    Labels may be booleans, 0/1, or soft labels in [0, 1] (e.g. a classifier's probabilities):
    density is then the mean label in the box and coverage the box's share of the label sum.
    A constant column is kept but can never be restricted (there is nothing to peel).
    ``predict`` and ``box()`` use the last box of the trajectory unless told otherwise; there
    is no hidden "current box".

    References
    ----------
    Friedman, J. H. & Fisher, N. I. (1999). Bump hunting in high-dimensional data.
    Statistics and Computing 9, 123-143.
    Bryant, B. P. & Lempert, R. J. (2010). Thinking inside the box. Technological Forecasting
    and Social Change 77, 34-49.
    Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. Environmental Modelling &
    Software 96, 239-250.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> X = pd.DataFrame(rng.uniform(size=(1000, 4)), columns=["a", "b", "c", "d"])
    >>> y = (X.a < 0.3) & (X.c > 0.5)
    >>> prim = PRIM().fit(X, y)
    >>> prim.box().restricted
    ('a', 'c')
    >>> prim.trajectory_.columns.tolist()
    ['coverage', 'density', 'mass', 'n_restricted']
    """

    accepts_categories = True  # categorical columns as they come (distill checks this)

    def __init__(
        self,
        *,
        peel_alpha: float = 0.05,
        paste_alpha: float = 0.05,
        mass_min: float = 0.05,
        objective: Objective = "lenient1",
    ) -> None:
        self.peel_alpha = peel_alpha
        self.paste_alpha = paste_alpha
        self.mass_min = mass_min
        self.objective = objective

    def _settings(self) -> Settings:
        for name in ("peel_alpha", "paste_alpha"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not 0 < float(value) < 0.5:
                raise ValueError(f"{name} must be a number in (0, 0.5), got {value!r}")
        if not isinstance(self.mass_min, numbers.Real) or not 0 <= float(self.mass_min) < 1:
            raise ValueError(f"mass_min must be a number in [0, 1), got {self.mass_min!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        return Settings(
            float(self.peel_alpha), float(self.paste_alpha), float(self.mass_min), self.objective
        )

    def fit(self, X: Any, y: Any) -> PRIM:
        """Peel and paste one box on experiments ``X`` with labels ``y``; return self.

        Parameters
        ----------
        X : DataFrame or array of shape (n, d)
            Real (float), integer and categorical (object, string, bool, pandas Categorical)
            columns; a 2-D array gets the names ``x0, x1, ...``. No missing values.
        y : array-like of shape (n,)
            Booleans, 0/1, or soft labels in [0, 1]; at least one case of interest.
        """
        settings = self._settings()
        domain, frame = fit_domain(X)
        warn_if_misaligned(X, y)
        labels, binary = check_labels(y, len(frame))
        if binary and labels.sum() < FEW_CASES:
            warnings.warn(
                f"PRIM on {int(labels.sum())} case(s) of interest among {len(labels)} runs: "
                "around so few cases a box's coverage and density (measured on these runs) "
                "hold for almost any box; box.qp gives its limits' significance, and more runs "
                "a box to trust", UserWarning, stacklevel=user_stacklevel())
        numeric, codes = domain.encode(frame, checked=True)
        steps = find_box(domain, numeric, codes, labels, settings, n_total=len(labels))
        self._set_result(domain, steps, (numeric, codes, labels), len(labels), labels.sum())
        return self

    def _set_result(
        self,
        domain: Domain,
        steps: list[Step],
        data: tuple[np.ndarray, np.ndarray, np.ndarray],
        n_total: int,
        sum_total: float,
    ) -> None:
        self.boxes_ = boxes_from_steps(domain, steps, data, n_total, sum_total)
        self.trajectory_ = trajectory_frame(self.boxes_)
        self.feature_names_in_ = np.asarray(domain.names, dtype=object)
        self.n_features_in_ = len(domain.names)

    def box(self, i: int | None = None, *, min_density: float | None = None) -> Box:
        """One box of the trajectory.

        Parameters
        ----------
        i : int, optional
            Position in :attr:`boxes_` (negative counts from the end).
        min_density : float, optional
            Instead of ``i``: the box with the highest coverage among those with density
            >= ``min_density`` (ties: the denser one).

        With neither, the last box of the trajectory (the final PRIM box); on soft labels
        (probabilities), which peel on for ever smaller gains, the first box that has made
        95 % of the trajectory's gain in density (see :func:`default_index`).
        """
        check_is_fitted(self, "boxes_")
        return select_box(self.boxes_, i, min_density)

    def predict(self, X: Any, *, i: int | None = None, min_density: float | None = None) -> np.ndarray:
        """Boolean mask: rows of ``X`` inside the box chosen as in :meth:`box`."""
        return self.box(i, min_density=min_density).contains(X)

    def save(self, path: Any) -> None:
        """Write the fitted PRIM to the directory ``path`` (``meta.json``, ``arrays.npz``).

        Nothing is pickled; read it back with ``sg.load(path)``. The boxes (limits, statistics,
        quasi-p-values), :attr:`trajectory_`, :meth:`box` and :meth:`predict` come back
        identical.

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> import surrogate as sg
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.uniform(size=(500, 2)), columns=["a", "b"])
        >>> prim = PRIM().fit(X, (X.a > 0.7) & (X.b < 0.5))
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     prim.save(tmp)
        ...     same = sg.load(tmp)
        >>> same.trajectory_.equals(prim.trajectory_), same.box().rules() == prim.box().rules()
        (True, True)
        """
        from surrogate.discovery._io import save

        save(self, path)


def boxes_from_steps(
    domain: Domain,
    steps: list[Step],
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_total: int,
    sum_total: float,
) -> list[Box]:
    """Wrap the core's raw trajectory in :class:`Box` objects (limits as ``Box._from_limits``)."""
    if not steps:
        return []
    low = np.array([step.low for step in steps], dtype=np.float64).reshape(len(steps), -1)
    high = np.array([step.high for step in steps], dtype=np.float64).reshape(len(steps), -1)
    # all boxes at once: the data range is the unrestricted side, integer limits tightened
    lower = np.where(low != domain.low, low, -np.inf)
    upper = np.where(high != domain.high, high, np.inf)
    integer = integer_columns(domain)
    if integer.any():
        lower = np.where(integer, np.ceil(lower), lower)
        upper = np.where(integer, np.floor(upper), upper)
    return [
        Box(
            domain=domain,
            lower=lower[i],
            upper=upper[i],
            allowed=tuple(
                None if mask.all() else frozenset(np.flatnonzero(mask).tolist())
                for mask in step.allowed
            ),
            n_points=step.n_points,
            sum_labels=step.sum_labels,
            n_total=n_total,
            sum_total=sum_total,
            data=data,
        )
        for i, step in enumerate(steps)
    ]


def trajectory_frame(boxes: list[Box]) -> pd.DataFrame:
    """``coverage, density, mass, n_restricted`` per box."""
    return pd.DataFrame(
        {
            "coverage": [b.coverage for b in boxes],
            "density": [b.density for b in boxes],
            "mass": [b.mass for b in boxes],
            "n_restricted": [_n_restricted(b) for b in boxes],
        }
    )


def _n_restricted(box: Box) -> int:
    # Box.n_restricted without building the names: restricted numeric sides plus categories
    numeric = np.isfinite(box._lower) | np.isfinite(box._upper)
    return int(numeric.sum()) + sum(a is not None for a in box._allowed)


def best_covering(coverage: Any, density: Any, min_density: float) -> int | None:
    """Position of the box with the highest coverage among those whose density reaches
    ``min_density``, the denser one on a tie of coverage (peeling keeps the coverage while
    it sheds non-cases: the later, denser box says the same more sharply); None when none
    reaches it. NaN densities (empty boxes) reach nothing."""
    eligible = [k for k, d in enumerate(density) if d == d and d >= min_density]
    if not eligible:
        return None
    return max(eligible, key=lambda k: (coverage[k], density[k]))


PLATEAU = 0.05  # soft labels: the default box is 95 % of the way to the densest


def default_index(boxes: list[Box]) -> int:
    """The default box of a trajectory: its last, the densest PRIM could peel. On soft labels
    (probabilities strictly between 0 and 1, e.g. REDS's metamodel's) densities only approach
    their top: PRIM peels on for ever smaller gains down to ``mass_min``, cutting coverage and
    restricting inputs that do not matter (on a box planted in 3 inputs, REDS's last box kept
    11 % of the cases and restricted the third input). There the default is the first box
    that has made 95 % of the trajectory's gain in density (``1 - PLATEAU``): on that box,
    held-out coverage 0.987 at density 1.0 (plain PRIM on the runs: 0.932).
    """
    data = boxes[0]._data if boxes else None
    labels = None if data is None else np.asarray(data[2])
    if labels is None or not np.any((labels > 0.0) & (labels < 1.0)):
        return len(boxes) - 1
    density = np.array([box.density for box in boxes])
    top = float(density.max())
    return int(np.argmax(density >= top - PLATEAU * (top - float(density[0]))))


def select_box(boxes: list[Box], i: int | None, min_density: float | None) -> Box:
    """The box at position ``i``, or the best-covering one reaching ``min_density``, or the
    default (:func:`default_index`)."""
    if i is not None and min_density is not None:
        raise ValueError("give either i or min_density, not both")
    if min_density is not None:
        if not isinstance(min_density, numbers.Real) or not 0 <= min_density <= 1:
            raise ValueError(f"min_density must be a number in [0, 1], got {min_density!r}")
        chosen = best_covering([b.coverage for b in boxes], [b.density for b in boxes],
                               min_density)
        if chosen is None:
            best = max(b.density for b in boxes)
            raise ValueError(
                f"no box reaches density {min_density}; the densest has {best:.4g}"
            )
        return boxes[chosen]
    if i is None:
        return boxes[default_index(boxes)]
    if not isinstance(i, numbers.Integral) or isinstance(i, bool):
        raise TypeError(f"i must be an int, got {type(i).__name__}")
    if not -len(boxes) <= i < len(boxes):
        raise IndexError(f"i={i} is out of range for {len(boxes)} boxes")
    return boxes[int(i)]
