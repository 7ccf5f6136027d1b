"""CART for scenario discovery: every leaf of a classification tree read as a box.

The tree is scikit-learn's ``DecisionTreeClassifier``; this module only encodes the experiments
(categorical parameters one-hot), limits leaf sizes by ``mass_min`` and turns each leaf's path
of splits into a :class:`~surrogate.discovery.Box` with statistics counted on the data.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from surrogate._checks import warn_if_misaligned
from surrogate._random import SeedLike, as_generator, child_seed
from surrogate.discovery._box import Box
from surrogate.discovery._data import Domain, check_labels, fit_domain
from surrogate.discovery._prim import select_box


def design_matrix(domain: Domain, numeric: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Numeric columns as they are, then one 0/1 column per category of each categorical one."""
    blocks = [numeric]
    for j, categories in enumerate(domain.categories):
        blocks.append((codes[:, [j]] == np.arange(len(categories))).astype(np.float64))
    return np.hstack(blocks)


def ranked_design(domain: Domain, numeric: np.ndarray, codes: np.ndarray
                  ) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`design_matrix` with each numeric column replaced by its values' ranks among its
    distinct values (exact in the float32 scikit-learn's trees split in), and those values."""
    design = design_matrix(domain, numeric, codes)
    values = [np.unique(column) for column in numeric.T]
    for j, distinct in enumerate(values):
        design[:, j] = np.searchsorted(distinct, numeric[:, j])
    return design, values


class CART(BaseEstimator):
    """Classification tree whose leaves are boxes (Breiman et al. 1984; Lempert et al. 2008).

    Parameters
    ----------
    mass_min : float, default 0.05
        Smallest share of the points a leaf may hold (``min_samples_leaf`` of the tree).
    max_depth : int, optional
        Largest depth of the tree.
    seed : int, Generator or None
        Tie-breaking between equally good splits.

    Attributes
    ----------
    boxes_ : list of Box
        One box per leaf (left to right), with coverage, density and mass counted on the data.
    tree_ : sklearn.tree.DecisionTreeClassifier or None
        The fitted tree (numeric parameters first, then categorical ones one-hot encoded);
        None after :meth:`save` and ``sg.load`` (the boxes are saved, the tree is not). It is
        grown on the ranks of the numeric values, whose splits are then moved halfway between
        neighbouring values: scikit-learn's trees split in float32, where a parameter of
        1 + 1e-7 u had two distinct values and was never split on. (Its ``predict`` still
        reads inputs in float32; the boxes are exact.)

    Notes
    -----
    Soft labels in [0, 1] are fitted as class probabilities: each point enters the tree twice,
    as a case of interest with weight ``y`` and as a non-case with weight ``1 - y``, and leaf
    sizes are limited by weight (``min_weight_fraction_leaf = mass_min``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(1000, 3)), columns=["a", "b", "c"])
    >>> y = (X.a > 0.5) & (X.b > 0.5)
    >>> cart = CART(max_depth=2, seed=0).fit(X, y)
    >>> best = cart.box()
    >>> best.restricted, round(best.density, 2)
    (('a', 'b'), 1.0)
    """

    accepts_categories = True  # categorical columns as they come (distill checks this)

    def __init__(
        self, *, mass_min: float = 0.05, max_depth: int | None = None, seed: SeedLike = None
    ) -> None:
        self.mass_min = mass_min
        self.max_depth = max_depth
        self.seed = seed

    def _check_params(self) -> None:
        if not isinstance(self.mass_min, numbers.Real) or not 0 < self.mass_min < 0.5:
            raise ValueError(f"mass_min must be a number in (0, 0.5), got {self.mass_min!r}")
        if self.max_depth is not None and (
            isinstance(self.max_depth, bool)
            or not isinstance(self.max_depth, numbers.Integral) or self.max_depth < 1
        ):
            raise ValueError(f"max_depth must be a positive int or None, got {self.max_depth!r}")

    def fit(self, X: Any, y: Any) -> CART:
        """Grow the tree on experiments ``X`` and labels ``y`` (as for PRIM); return self."""
        self._check_params()
        domain, frame = fit_domain(X)
        warn_if_misaligned(X, y)
        labels, binary = check_labels(y, len(frame))
        numeric, codes = domain.encode(frame, checked=True)
        design, values = ranked_design(domain, numeric, codes)
        seed = child_seed(as_generator(self.seed))
        if binary:
            tree = DecisionTreeClassifier(
                min_samples_leaf=max(1, math.ceil(self.mass_min * len(labels))),
                max_depth=self.max_depth,
                random_state=seed,
            ).fit(design, labels.astype(int))
        else:
            tree = DecisionTreeClassifier(
                min_weight_fraction_leaf=self.mass_min, max_depth=self.max_depth, random_state=seed
            ).fit(
                np.vstack([design, design]),
                np.r_[np.ones(len(labels), int), np.zeros(len(labels), int)],
                sample_weight=np.r_[labels, 1 - labels],
            )
        leaves = tree.apply(design)
        self.tree_ = _on_values(tree, values)
        data = (numeric, codes, labels)
        self.boxes_ = []
        for leaf, (low, high, allowed) in _leaf_limits(tree, domain).items():
            inside = leaves == leaf
            self.boxes_.append(
                Box._from_limits(
                    domain, low, high, allowed,
                    n_points=int(inside.sum()), sum_labels=float(labels[inside].sum()),
                    n_total=len(labels), sum_total=float(labels.sum()), data=data,
                )
            )
        self.feature_names_in_ = np.asarray(domain.names, dtype=object)
        self.n_features_in_ = len(domain.names)
        return self

    def box(self, *, min_density: float | None = None) -> Box:
        """The densest leaf (ties: higher coverage), or with ``min_density`` the leaf with the
        highest coverage among those at least that dense."""
        check_is_fitted(self, "boxes_")
        if min_density is not None:
            return select_box(self.boxes_, None, min_density)
        return max(self.boxes_, key=lambda b: (b.density, b.coverage))

    def save(self, path: Any) -> None:
        """Write the fitted CART to the directory ``path`` (``meta.json``, ``arrays.npz``).

        Nothing is pickled; read it back with ``sg.load(path)``. The boxes (with their
        statistics and quasi-p-values) and :meth:`box` come back identical; scikit-learn's tree
        is not saved: ``tree_`` is None after loading.
        """
        from surrogate.discovery._io import save

        save(self, path)


def _on_values(tree: DecisionTreeClassifier, values: list[np.ndarray]
               ) -> DecisionTreeClassifier:
    """``tree``, fitted on ranks (:func:`ranked_design`), with each numeric split (``k + 0.5``)
    moved halfway between the k-th distinct value and the next (float64 thresholds, as
    scikit-learn stores them): it then reads the data's own values, as a tree fitted on them
    would."""
    state = tree.tree_.__getstate__()
    nodes = state["nodes"]
    for node in np.flatnonzero(nodes["left_child"] != nodes["right_child"]):
        feature = int(nodes["feature"][node])
        if feature < len(values):
            k = int(math.floor(nodes["threshold"][node]))
            nodes["threshold"][node] = 0.5 * (values[feature][k] + values[feature][k + 1])
    tree.tree_.__setstate__(state)
    return tree


def _leaf_limits(tree: DecisionTreeClassifier, domain: Domain) -> dict[int, tuple]:
    """Leaf id -> (low, high, allowed masks) from the splits on the path to the leaf."""
    structure = tree.tree_
    p = len(domain.low)
    offsets = np.cumsum([p] + [len(c) for c in domain.categories])  # one-hot blocks start here
    result: dict[int, tuple] = {}
    stack = [(0, domain.low.copy(), domain.high.copy(), [np.ones(len(c), bool) for c in domain.categories])]
    while stack:
        node, low, high, allowed = stack.pop()
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # a leaf
            result[int(node)] = (low, high, allowed)
            continue
        feature, threshold = int(structure.feature[node]), float(structure.threshold[node])
        low_l, high_l, allowed_l = low.copy(), high.copy(), [a.copy() for a in allowed]
        low_r, high_r, allowed_r = low.copy(), high.copy(), [a.copy() for a in allowed]
        if feature < p:  # left: x <= threshold; right: x > threshold
            high_l[feature] = min(high[feature], threshold)
            low_r[feature] = max(low[feature], np.nextafter(threshold, np.inf))
        else:
            block = int(np.searchsorted(offsets, feature, side="right")) - 1
            category = feature - offsets[block]
            allowed_l[block][category] = False  # dummy <= 0.5: not this category
            keep = np.zeros_like(allowed_r[block])
            keep[category] = allowed_r[block][category]
            allowed_r[block] = keep
        stack.append((right, low_r, high_r, allowed_r))
        stack.append((left, low_l, high_l, allowed_l))
    return dict(sorted(result.items()))
