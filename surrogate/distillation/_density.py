"""Density-model generators: draw transfer-set inputs from a density fitted on Data 1.

Both work on Data 1's numeric columns (scaled to [0, 1] as :class:`~surrogate.distillation.Columns`
does, then standardized) with scikit-learn's estimators: a Gaussian kernel density
(:class:`KDEGenerator`) or a Gaussian mixture (:class:`GMMGenerator`). Categorical columns are
not modelled by the density; each new point takes them from a Data 1 point that the density
associates with it (the kernel's centre, a member of the mixture component).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.neighbors import KernelDensity

from surrogate._random import SeedLike, as_generator, child_seed
from surrogate.distillation._generators import TransferGenerator
from surrogate.space import Space

__all__ = ["KDEGenerator", "GMMGenerator"]

_RULES = ("scott", "silverman")
# bandwidths tried by cross-validation, in units of the standardized columns
_CV_GRID = np.geomspace(0.02, 2.0, 15)
CV_MAX_ROWS = 2000  # the bandwidth search's cost grows with the rows squared: a subsample past it


class _Standardized:
    """Zero mean, unit variance per column. A constant column is only centred, and comes back
    as its constant: the generators do not spread points along a direction Data 1 never
    varies (a KDE's noise there would make the teacher extrapolate)."""

    def __init__(self, unit: np.ndarray) -> None:
        self.varies = np.ptp(unit, axis=0) > 0
        # a constant column's own value, not its mean (which can be off by a rounding)
        self.mean = np.where(self.varies, unit.mean(axis=0), unit[0])
        self.spread = np.where(self.varies, unit.std(axis=0), 0.0)
        self.std = np.where(self.varies, self.spread, 1.0)

    def forward(self, unit: np.ndarray) -> np.ndarray:
        return (unit - self.mean) / self.std

    def back(self, z: np.ndarray) -> np.ndarray:
        return z * self.spread + self.mean


class KDEGenerator(TransferGenerator):
    """A Gaussian kernel density on standardized Data 1: each new point is a Data 1 point plus
    Gaussian noise of the bandwidth (what :meth:`sklearn.neighbors.KernelDensity.sample` does).

    Parameters
    ----------
    bandwidth : float or {"cv", "scott", "silverman"}, default "cv"
        Kernel width in standardized units. ``"cv"``: the best of 15 widths from 0.02 to 2
        (log-spaced) by 5-fold cross-validated log-likelihood (on a random 2,000 rows of a
        larger Data 1, then narrowed by ``(2000 / n) ** (1 / (d + 4))``, the optimal rate;
        the search's cost grows with the rows squared: 51 s at 8,000 rows, 8 columns);
        ``"scott"``, ``"silverman"``: the rules of thumb (scikit-learn's).
    space : Space, optional
        Bounds and types of the generated points.
    seed : int, Generator or None
        Shuffles the cross-validation folds of the bandwidth, so fixes the fit (None: they
        differ from fit to fit, and so may the bandwidth and the points ``sample(n, seed)``
        draws).

    Attributes
    ----------
    bandwidth_ : float
        The width used.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    >>> kde = KDEGenerator(bandwidth=0.3).fit(X)
    >>> kde.bandwidth_, kde.sample(5, seed=0).shape
    (0.3, (5, 2))
    """

    def __init__(
        self,
        *,
        bandwidth: float | str = "cv",
        space: Space | None = None,
        seed: SeedLike = None,
    ) -> None:
        self.bandwidth = bandwidth
        self.space = space
        self.seed = seed

    def _check_params(self) -> None:
        super()._check_params()
        width = self.bandwidth
        if isinstance(width, str):
            if width not in ("cv", *_RULES):
                raise ValueError(f"bandwidth must be a number > 0, 'cv', 'scott' or "
                                 f"'silverman', got {width!r}")
        elif isinstance(width, bool) or not isinstance(width, numbers.Real) \
                or not 0 < width < np.inf:
            raise ValueError(f"bandwidth must be a number > 0, 'cv', 'scott' or "
                             f"'silverman', got {width!r}")

    def _fit(self, unit: np.ndarray, codes: np.ndarray) -> None:
        if len(unit) < 2:
            raise ValueError(f"KDEGenerator needs at least 2 points in Data 1, got {len(unit)}")
        self.scale_ = _Standardized(unit)
        self.z_, self.codes_ = self.scale_.forward(unit), codes
        self.bandwidth_ = self._bandwidth(self.z_)

    def _bandwidth(self, z: np.ndarray) -> float:
        # chosen on the columns Data 1 varies along: a constant column (all zeros here) would
        # reward ever narrower kernels and count in the narrowing exponent
        z = z[:, self.scale_.varies]
        if z.shape[1] == 0:
            return 0.0  # only categorical or constant columns: nothing to smooth
        if self.bandwidth == "cv":
            rng = as_generator(self.seed)
            folds: Any = KFold(min(5, len(z)), shuffle=True, random_state=child_seed(rng))
            rows = z if len(z) <= CV_MAX_ROWS else \
                z[rng.choice(len(z), CV_MAX_ROWS, replace=False)]
            # a repeated row (replicated runs) held out beside its twin rewards ever narrower
            # kernels: the copies of a point are held out together
            groups = np.unique(rows, axis=0, return_inverse=True)[1].ravel()
            n_distinct = int(groups.max()) + 1
            if n_distinct < len(rows):
                if n_distinct < 2:
                    return 0.0  # one point, repeated: nothing to smooth
                folds = GroupKFold(min(5, n_distinct))
            search = GridSearchCV(KernelDensity(), {"bandwidth": _CV_GRID}, cv=folds)
            grouped = {"groups": groups} if isinstance(folds, GroupKFold) else {}
            width = float(search.fit(rows, **grouped).best_params_["bandwidth"])
            # chosen on fewer rows: narrowed to all of them at the optimal rate n^(-1/(d + 4))
            return width * (len(rows) / len(z)) ** (1.0 / (z.shape[1] + 4))
        return float(KernelDensity(bandwidth=self.bandwidth).fit(z).bandwidth_)

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        centre = rng.integers(0, self.n_data_, size=n)
        z = self.z_[centre] + rng.normal(0.0, 1.0, (n, self.z_.shape[1])) * self.bandwidth_
        return self.columns_.decode(self.scale_.back(z), self.codes_[centre])


class GMMGenerator(TransferGenerator):
    """A Gaussian mixture on standardized Data 1, its number of components chosen by BIC.

    Parameters
    ----------
    n_components : int, optional
        Fixed number of components (at most the number of points); by default the one of
        ``1 .. max_components`` with the lowest Bayesian information criterion.
    max_components : int, default 10
        Largest number tried (never more than the number of points).
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
        As in :class:`sklearn.mixture.GaussianMixture`.
    space : Space, optional
        Bounds and types of the generated points.
    seed : int, Generator or None
        Seeds the mixture's initialization, so fixes the fit (None: it may differ from fit to
        fit, and so may the points ``sample(n, seed)`` draws).

    Attributes
    ----------
    mixture_ : sklearn.mixture.GaussianMixture
        The chosen mixture; ``bic_`` maps each tried number of components to its BIC.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": np.r_[rng.normal(-3, 0.3, 100), rng.normal(3, 0.3, 100)]})
    >>> gmm = GMMGenerator(max_components=4, seed=0).fit(X)
    >>> gmm.mixture_.n_components
    2
    """

    def __init__(
        self,
        *,
        n_components: int | None = None,
        max_components: int = 10,
        covariance_type: str = "full",
        space: Space | None = None,
        seed: SeedLike = None,
    ) -> None:
        self.n_components = n_components
        self.max_components = max_components
        self.covariance_type = covariance_type
        self.space = space
        self.seed = seed

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("n_components", "max_components"):
            value = getattr(self, name)
            if value is None and name == "n_components":
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        kinds = ("full", "tied", "diag", "spherical")
        if self.covariance_type not in kinds:
            raise ValueError(f"covariance_type must be one of {list(kinds)}, "
                             f"got {self.covariance_type!r}")

    def _fit(self, unit: np.ndarray, codes: np.ndarray) -> None:
        if len(unit) < 2:
            raise ValueError(f"GMMGenerator needs at least 2 points in Data 1, got {len(unit)}")
        self.scale_ = _Standardized(unit)
        z = self.scale_.forward(unit) if unit.shape[1] else np.zeros((len(unit), 1))
        rng = as_generator(self.seed)
        if not self.scale_.varies.any():  # nothing to cluster: one component
            tried = [1]
        elif self.n_components is not None:
            if self.n_components > len(z):
                raise ValueError(f"n_components={self.n_components} is more than the {len(z)} "
                                 "points of Data 1; a mixture needs at most one component per "
                                 "point (leave n_components=None to choose it by BIC)")
            tried = [int(self.n_components)]
        else:
            tried = list(range(1, min(int(self.max_components), len(z)) + 1))
        mixtures = {k: GaussianMixture(k, covariance_type=self.covariance_type,
                                       random_state=child_seed(rng)).fit(z) for k in tried}
        self.bic_ = {k: float(mixture.bic(z)) for k, mixture in mixtures.items()}
        self.mixture_ = mixtures[min(self.bic_, key=self.bic_.__getitem__)]
        self.component_ = self.mixture_.predict(z)  # the component of each Data 1 point
        self.codes_ = codes

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        mixture = self.mixture_
        counts = rng.multinomial(n, mixture.weights_)
        z_parts, code_parts = [], []
        for k, count in enumerate(counts):
            if count == 0:
                continue
            z_parts.append(rng.multivariate_normal(mixture.means_[k], _covariance(mixture, k),
                                                   size=count, method="cholesky"))
            members = np.flatnonzero(self.component_ == k)
            if len(members) == 0:  # a component no Data 1 point prefers: any point's categories
                members = np.arange(self.n_data_)
            code_parts.append(self.codes_[rng.choice(members, size=count)])
        order = rng.permutation(n)  # not sorted by component
        z = np.vstack(z_parts)[order]
        codes = np.vstack(code_parts)[order]
        unit = self.scale_.back(z) if self.columns_.n_numeric else np.empty((n, 0))
        return self.columns_.decode(unit, codes)


def _covariance(mixture: Any, k: int) -> np.ndarray:
    """Component ``k``'s full covariance matrix, whatever the mixture's covariance type."""
    d = mixture.means_.shape[1]
    kind = mixture.covariance_type
    if kind == "full":
        return mixture.covariances_[k]
    if kind == "tied":
        return mixture.covariances_
    if kind == "diag":
        return np.diag(mixture.covariances_[k])
    return np.eye(d) * mixture.covariances_[k]
