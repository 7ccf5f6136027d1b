"""Transfer-set generators: where the teacher is asked (Data 1 -> **new inputs** -> teacher labels).

A distilled student learns the teacher's function only where the transfer set has points. One
small protocol serves every way of choosing them: ``fit(X)`` learns where Data 1 lies,
``sample(n, seed=None)`` draws ``n`` new inputs as a DataFrame. Here: a design over the space
(:class:`SpaceGenerator`), Data 1 itself (:class:`DataGenerator`, the baseline) and MUNGE
(:class:`MUNGE`); density models live in :mod:`surrogate.distillation._density`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted

from surrogate._checks import check_positive_int
from surrogate._random import SeedLike, as_generator
from surrogate.design import METHODS
from surrogate.design import sample as design_sample
from surrogate.distillation._columns import Columns
from surrogate.space import Space, as_space

__all__ = ["TransferGenerator", "SpaceGenerator", "DataGenerator", "MUNGE"]


class TransferGenerator(BaseEstimator):
    """Base class of the transfer-set generators: ``fit(X) -> self``, ``sample(n, seed)``.

    The public methods validate and post-process; private hooks compute (template method).

    Subclassing
    -----------
    Take every option as a keyword in ``__init__`` and store it unchanged (scikit-learn's rule,
    so :func:`sklearn.base.clone` and ``set_params`` work; :func:`surrogate.distillation.distill`
    clones the generator and sets ``space`` when it knows one). Implement

    * ``_fit(unit, codes)``: learn from Data 1 as :attr:`columns_` encodes it -- numeric
      columns in [0, 1], shape (n, p), and category codes, shape (n, q) -- and set attributes
      ending in ``_``;
    * ``_sample(n, rng) -> DataFrame``: ``n`` points; build them with
      ``self.columns_.decode(unit, codes)``, which clips to the bounds and snaps to the types.

    ``sample`` has already checked ``n`` (an int >= 1) and turned ``seed`` into ``rng``.

    Attributes
    ----------
    columns_ : Columns
        Data 1's columns (from ``space`` when one is given).
    n_data_ : int
        Points in Data 1.

    Examples
    --------
    A generator that draws Data 1's points again, with replacement:

    >>> import pandas as pd
    >>> class Bootstrap(TransferGenerator):
    ...     def __init__(self, space=None):
    ...         self.space = space
    ...     def _fit(self, unit, codes):
    ...         self.unit_, self.codes_ = unit, codes
    ...     def _sample(self, n, rng):
    ...         rows = rng.integers(0, len(self.unit_), n)
    ...         return self.columns_.decode(self.unit_[rows], self.codes_[rows])
    >>> X = pd.DataFrame({"a": [0.0, 0.5, 1.0], "b": [2.0, 3.0, 4.0]})
    >>> points = Bootstrap().fit(X).sample(5, seed=0)
    >>> points.shape, bool(points["a"].isin(X["a"]).all())
    ((5, 2), True)
    """

    space: Space | None

    def fit(self, X: Any) -> TransferGenerator:
        """Learn where Data 1 lies.

        Parameters
        ----------
        X : DataFrame or 2-D array
            Data 1's inputs (validated against ``space`` when the generator has one).

        Returns
        -------
        self
        """
        self._check_params()
        space = None if self.space is None else as_space(self.space)
        self.columns_ = Columns.fit(X, space)
        frame = self.columns_.frame(X, "X")
        unit, codes = self.columns_.encode(frame)
        self.n_data_ = len(frame)
        self._fit(unit, codes)
        return self

    def sample(self, n: int, seed: SeedLike = None) -> pd.DataFrame:
        """Draw ``n`` new inputs.

        Parameters
        ----------
        n : int
            Number of points, >= 1.
        seed : int, numpy.random.Generator or None
            Same seed, same points from the same fit (a generator that learns from Data 1
            with randomness, KDE's and GMM's, fixes its fit with its own ``seed``).

        Returns
        -------
        pandas.DataFrame
            ``n`` rows with Data 1's columns, inside the space's bounds and types when a space
            is known.
        """
        n = check_positive_int("n", n)
        rng = as_generator(seed)
        check_is_fitted(self, "columns_")
        frame = self._sample(n, rng)
        return frame.reset_index(drop=True)

    def _check_params(self) -> None:
        if self.space is not None:
            as_space(self.space)

    def _fit(self, unit: np.ndarray, codes: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:  # pragma: no cover
        raise NotImplementedError


class SpaceGenerator(TransferGenerator):
    """A design over the whole space (:func:`surrogate.sample`), blind to Data 1.

    Parameters
    ----------
    space : Space
        Where to draw.
    method : {"lhs", "sobol", "halton", "random"}, default "lhs"
        The design (see :func:`surrogate.sample`).

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> generator = SpaceGenerator(Space([Real("x", 0, 1), Real("y", 5, 6)])).fit(None)
    >>> generator.sample(4, seed=0).shape
    (4, 2)
    """

    def __init__(self, space: Space, method: str = "lhs") -> None:
        self.space = space
        self.method = method

    def _check_params(self) -> None:
        if self.space is None:
            raise ValueError("SpaceGenerator needs a space")
        as_space(self.space)
        allowed = [m for m in METHODS if m != "factorial"]
        if self.method not in allowed:
            raise ValueError(f"method must be one of {allowed}, got {self.method!r}")

    def fit(self, X: Any = None) -> SpaceGenerator:
        """Check ``X`` (if given) against the space; a design needs nothing from Data 1."""
        self._check_params()
        space = as_space(self.space)
        self.columns_ = Columns.fit(None, space)
        self.n_data_ = 0 if X is None else len(self.columns_.frame(X, "X"))
        return self

    def sample(self, n: int, seed: SeedLike = None) -> pd.DataFrame:
        """Draw ``n`` points of the design (see :meth:`TransferGenerator.sample`); a design
        needs no data, so an unfitted generator fits itself first."""
        if not hasattr(self, "columns_"):
            self.fit()
        return super().sample(n, seed)

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        method: Any = self.method  # checked against METHODS in fit
        return design_sample(as_space(self.space), n, method=method, seed=rng)


class DataGenerator(TransferGenerator):
    """Data 1's own points, in random order: the baseline a generator must beat.

    ``sample(n)`` draws without replacement while ``n`` <= the number of points, and repeats
    whole shuffled passes beyond that.

    Parameters
    ----------
    space : Space, optional
        Only checks Data 1.

    Examples
    --------
    >>> X = pd.DataFrame({"x": [0.1, 0.2, 0.3]})
    >>> sorted(DataGenerator().fit(X).sample(3, seed=0)["x"])
    [0.1, 0.2, 0.3]
    """

    def __init__(self, *, space: Space | None = None) -> None:
        self.space = space

    def fit(self, X: Any) -> DataGenerator:
        """Learn Data 1 (see :meth:`TransferGenerator.fit`), keeping its numeric values as
        they are: mapped to [0, 1] and back, most changed in their last digit."""
        super().fit(X)
        frame = self.columns_.frame(X, "X")
        space = self.columns_.space
        self.values_: dict[str, np.ndarray] = {}
        for name, integer in zip(self.columns_.numeric, self.columns_.integer, strict=True):
            values = frame[name].to_numpy(dtype=np.int64 if integer else float)
            if space is not None and not integer:  # validate lets a rounding past the bounds
                bounds: Any = space[name]
                values = np.clip(values, bounds.low, bounds.high)
            self.values_[name] = values
        return self

    def _fit(self, unit: np.ndarray, codes: np.ndarray) -> None:
        self.unit_, self.codes_ = unit, codes

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        order = _passes(self.n_data_, n, rng)
        points = self.columns_.decode(self.unit_[order], self.codes_[order])
        for name, values in self.values_.items():
            points[name] = values[order]
        return points


def _nearest_other(features: np.ndarray) -> np.ndarray:
    """The row index of each row's nearest other row (the rows distinct)."""
    _, index = NearestNeighbors(n_neighbors=2).fit(features).kneighbors(features)
    itself = index[:, 0] == np.arange(len(features))
    return np.where(itself, index[:, 1], index[:, 0])


def _passes(n_data: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices: shuffled passes over ``range(n_data)``, each point once per pass."""
    n_passes = -(-n // n_data)
    return np.concatenate([rng.permutation(n_data) for _ in range(n_passes)])[:n]


class MUNGE(TransferGenerator):
    """MUNGE (Bucilua, Caruana & Niculescu-Mizil 2006): perturb each example towards its
    nearest neighbour.

    For an example ``e`` and its nearest neighbour ``e'`` in Data 1, each attribute ``a`` is
    changed with probability ``p``: a continuous value is drawn from a normal centred at the
    neighbour's value ``e'_a`` with standard deviation ``|e_a - e'_a| / s``; a categorical value
    is replaced by the neighbour's. Integer values are then rounded, and everything is clipped
    to the bounds. Distances are Euclidean on numeric columns scaled to [0, 1] (by the space,
    or by Data 1's range) plus 1 for each categorical mismatch, as in the paper.

    ``sample(n)`` makes one new point per example per pass over Data 1 (examples in random
    order), until ``n``. The paper's loop also alters the neighbour in the same step and
    works on the altered set; here Data 1 stays fixed, so passes are independent draws and the
    result does not depend on the order of the data.

    Parameters
    ----------
    p : float, default 0.5
        Probability of changing each attribute, in [0, 1].
    s : float, default 1.0
        Local variance parameter: larger ``s`` keeps new values closer to the neighbour's.
    space : Space, optional
        Bounds and types of the generated points (and the scale of the distance).

    References
    ----------
    Bucilua, C., Caruana, R. & Niculescu-Mizil, A. (2006). Model compression. KDD '06,
    535-541.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=50), "c": rng.choice(["p", "q"], 50)})
    >>> new = MUNGE(p=0.5, s=1.0).fit(X).sample(200, seed=0)
    >>> new.shape, set(new["c"]) <= {"p", "q"}
    ((200, 2), True)
    """

    def __init__(self, p: float = 0.5, s: float = 1.0, *, space: Space | None = None) -> None:
        self.p = p
        self.s = s
        self.space = space

    def _check_params(self) -> None:
        super()._check_params()
        if isinstance(self.p, bool) or not isinstance(self.p, numbers.Real) \
                or not 0 <= self.p <= 1:
            raise ValueError(f"p must be a probability in [0, 1], got {self.p!r}")
        if isinstance(self.s, bool) or not isinstance(self.s, numbers.Real) \
                or not 0 < self.s < np.inf:
            raise ValueError(f"s must be a finite number > 0, got {self.s!r}")

    def _fit(self, unit: np.ndarray, codes: np.ndarray) -> None:
        if len(unit) < 2:
            raise ValueError(f"MUNGE needs at least 2 points in Data 1, got {len(unit)}")
        # a categorical mismatch differs in two one-hot columns: scale so it counts 1
        features = np.hstack([unit, self.columns_.one_hot(codes) / np.sqrt(2.0)])
        distinct, first, copy_of = np.unique(features, axis=0, return_index=True,
                                             return_inverse=True)
        if len(distinct) < 2:
            raise ValueError(f"MUNGE needs at least 2 distinct points in Data 1; its "
                             f"{len(unit)} rows are one point repeated")
        if len(distinct) == len(features):
            self.neighbour_ = _nearest_other(features)
        else:  # a repeated row's twin would be its neighbour, and MUNGE would copy it:
            # each row's neighbour is the nearest distinct point (replicated runs)
            self.neighbour_ = first[_nearest_other(distinct)][copy_of.ravel()]
        self.unit_, self.codes_ = unit, codes

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        example = _passes(self.n_data_, n, rng)
        neighbour = self.neighbour_[example]
        a, b = self.unit_[example], self.unit_[neighbour]  # (n, p) each
        change = rng.random(a.shape) < self.p
        spread = np.abs(a - b) / self.s
        unit = np.where(change, rng.normal(b, spread), a)
        swap = rng.random(self.codes_[example].shape) < self.p
        codes = np.where(swap, self.codes_[neighbour], self.codes_[example])
        return self.columns_.decode(unit, codes)
