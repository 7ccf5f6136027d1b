"""A readable tree student: at most ``max_leaves`` leaves, fitted for agreement on a large
transfer set.

A distilled student of fixed size (Model B) can learn from as many teacher-labelled points as
one cares to generate, so the usual way to grow a small tree -- greedily, best split first,
until the leaf budget is spent -- leaves accuracy on the table: its first splits are chosen for
impurity, never revisited. :class:`PrunedTree` grows a full tree on the transfer set, keeps the
subtree of at most ``max_leaves`` leaves that misclassifies the least (weighted) training mass
(dynamic programming over the full tree), then refines every split and leaf by tree alternating
optimization (Carreira-Perpinan & Tavallali 2018). The result is an ordinary scikit-learn
decision tree (:attr:`PrunedTree.estimator_`), so ``export_text`` and ``plot_tree`` read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.tree._tree import Tree
from sklearn.utils.validation import check_is_fitted, validate_data

from surrogate._checks import check_flag, check_positive_int, is_int
from surrogate._random import as_generator, child_seed
from surrogate.models._weights import check_sample_weight, class_shares

__all__ = ["PrunedTree"]

CRITERIA = ("gini", "entropy")


class PrunedTree(ClassifierMixin, BaseEstimator):
    """A decision tree of at most ``max_leaves`` leaves: grown in full, pruned to the budget
    by dynamic programming, refined by tree alternating optimization.

    Fits like :class:`sklearn.tree.DecisionTreeClassifier` (``sample_weight`` included, so a
    distillation's soft labels reach it as class-weighted duplicates, see
    :mod:`surrogate.distillation._student`). For each criterion of ``criterion`` it grows a full
    tree (leaves of at least ``min_samples_leaf`` points), keeps its subtree of at most
    ``max_leaves`` leaves with the least misclassified training weight (exact, over all such
    subtrees of the full tree), and refines it: in turn, each split is moved to the feature
    and threshold that classify the most weight right given the rest of the tree, and each
    leaf takes its points' heaviest class, until nothing changes (or ``max_passes``). The
    tree with the most weight classified right is kept. Each step only raises that training
    agreement, which on a large transfer set is the agreement with the teacher. On a few
    hundred labelled points it overfits more than a greedy tree of the same size would.

    Parameters
    ----------
    max_leaves : int, default 16
        The leaf budget, >= 2.
    criterion : {"gini", "entropy", "both"}, default "both"
        Impurity of the full tree(s); ``"both"`` grows one of each and keeps the better.
    min_samples_leaf : int, default 5
        Smallest leaf of the full tree (limits its size; the pruned tree's leaves are larger).
    max_passes : int, default 10
        Refinement passes over the tree; 0 only prunes.
    merge : bool, default True
        Make every split whose two sides end in leaves of one class a leaf of that class: the
        rules read shorter and :meth:`predict` is unchanged, but :meth:`predict_proba` pools
        the merged leaves' class shares (coarser soft-label fidelity).
    seed : int, numpy.random.Generator or None, default 0
        Seeds scikit-learn's tie-breaking between equally good splits of the full tree(s).

    Attributes
    ----------
    estimator_ : DecisionTreeClassifier
        The fitted tree (its ``tree_`` holds the pruned, refined nodes).
    classes_ : ndarray
    criterion_ : str
        The criterion of the kept tree.
    training_agreement_ : float
        Share of the training weight the tree classifies right.

    References
    ----------
    Breiman, L., Friedman, J., Olshen, R. & Stone, C. (1984). Classification and Regression
    Trees, ch. 10 (pruning to a size). Carreira-Perpinan, M. A. & Tavallali, P. (2018).
    Alternating optimization of decision trees, with application to learning sparse oblique
    trees. NeurIPS 31.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(2000, 2))
    >>> y = (X[:, 0] > 0.3) & (X[:, 1] < 0.7)
    >>> tree = PrunedTree(max_leaves=3).fit(X, y)
    >>> tree.get_n_leaves(), tree.training_agreement_
    (3, 1.0)
    """

    def __init__(self, max_leaves: int = 16, *, criterion: str = "both",
                 min_samples_leaf: int = 5, max_passes: int = 10, merge: bool = True,
                 seed: Any = 0) -> None:
        self.max_leaves = max_leaves
        self.criterion = criterion
        self.min_samples_leaf = min_samples_leaf
        self.max_passes = max_passes
        self.merge = merge
        self.seed = seed

    def _check_params(self) -> None:
        for name, least in (("max_leaves", 2), ("min_samples_leaf", 1), ("max_passes", 0)):
            check_positive_int(name, getattr(self, name), least)
        check_flag("merge", self.merge)
        if self.criterion not in (*CRITERIA, "both"):
            raise ValueError(f"criterion must be one of {[*CRITERIA, 'both']}, got "
                             f"{self.criterion!r}")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PrunedTree:
        """Grow, prune and refine; return self.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Numeric inputs.
        y : array-like of shape (n,)
            Classes.
        sample_weight : array-like of shape (n,), optional
            Weights >= 0 (e.g. the teacher's probability of each duplicate's class).
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float32)
        self.classes_, codes = np.unique(y, return_inverse=True)
        weight = check_sample_weight(sample_weight, len(y))
        points, reward = class_shares(X, codes, weight, len(self.classes_), np.float32)
        # scikit-learn takes an int: an int seed goes as it is (the trees random_state=0 grew)
        whole = is_int(self.seed)
        state = int(self.seed) if whole and 0 <= int(self.seed) < 2**32 \
            else child_seed(as_generator(self.seed))
        best: tuple[float, _Nodes, str] | None = None
        for criterion in CRITERIA if self.criterion == "both" else (self.criterion,):
            full = _grow(points, reward, criterion, self.min_samples_leaf, state)
            at_node = _node_rewards(full, points, reward)
            nodes = _Nodes.from_pruned(full.tree_, _prune(full.tree_, at_node, self.max_leaves),
                                       at_node)
            nodes.refine(points, reward, self.max_passes)
            if self.merge:
                nodes = nodes.merged()
            right = nodes.agreement(points, reward)
            if best is None or right > best[0] * (1 + 1e-12):
                best = (right, nodes, criterion)
        assert best is not None  # at least one criterion ran
        right, nodes, self.criterion_ = best
        # an ordinary scikit-learn tree holds the nodes: fitted on one row per class (to know
        # the classes and the inputs), its nodes then replaced
        shell = DecisionTreeClassifier(criterion=self.criterion_)
        shell.fit(np.zeros((len(self.classes_), X.shape[1]), dtype=np.float32), self.classes_)
        shell.tree_ = nodes.to_tree(points, reward, X.shape[1], self.criterion_)
        self.estimator_ = shell
        self.training_agreement_ = float(right / reward.sum())
        return self

    def _inputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return validate_data(self, X, reset=False, dtype=np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """The class of each row."""
        X = self._inputs(X)  # checks fitted first
        return self.estimator_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class shares (by training weight) of the leaf each row falls in, shape (n, k)."""
        X = self._inputs(X)  # checks fitted first
        return self.estimator_.predict_proba(X)

    def apply(self, X: Any) -> np.ndarray:
        """The leaf of each row (node index in ``estimator_.tree_``)."""
        X = self._inputs(X)  # checks fitted first
        return self.estimator_.apply(X)

    def get_n_leaves(self) -> int:
        """Leaves of the fitted tree (<= ``max_leaves``)."""
        check_is_fitted(self, "estimator_")
        return int(self.estimator_.get_n_leaves())

    def get_depth(self) -> int:
        check_is_fitted(self, "estimator_")
        return int(self.estimator_.get_depth())

    @property
    def feature_importances_(self) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.feature_importances_


def _grow(points: np.ndarray, reward: np.ndarray, criterion: str, min_samples_leaf: int,
          random_state: int) -> Any:
    """The full tree. "gini": a regression tree on each point's class shares weighted by its
    total weight -- the same splits as a Gini tree on the class-weighted duplicates (the
    squared error of the shares is their Gini impurity up to a constant), at a k-th of the
    rows. "entropy": an entropy tree on each point's heaviest class."""
    total = reward.sum(axis=1)
    if criterion == "gini":
        tree: Any = DecisionTreeRegressor(min_samples_leaf=min_samples_leaf,
                                          random_state=random_state)
        return tree.fit(points, reward / total[:, None], sample_weight=total)
    tree = DecisionTreeClassifier(criterion="entropy", min_samples_leaf=min_samples_leaf,
                                  random_state=random_state)
    return tree.fit(points, np.argmax(reward, axis=1), sample_weight=total)


def _node_rewards(full: Any, points: np.ndarray, reward: np.ndarray) -> np.ndarray:
    """Weight per class of the points reaching each node of ``full``, shape (nodes, k)."""
    tree = full.tree_
    at_node = np.zeros((tree.node_count, reward.shape[1]))
    np.add.at(at_node, full.apply(points.astype(np.float32)), reward)
    parent = np.full(tree.node_count, -1)
    internal = np.flatnonzero(tree.children_left != -1)
    parent[tree.children_left[internal]] = internal
    parent[tree.children_right[internal]] = internal
    for i in range(tree.node_count - 1, 0, -1):  # children come after their parent
        at_node[parent[i]] += at_node[i]
    return at_node


def _prune(tree: Any, at_node: np.ndarray, max_leaves: int) -> list[int]:
    """The leaves (node ids of ``tree``) of its subtree with at most ``max_leaves`` leaves
    and the least misclassified weight; among equals, the fewest leaves."""
    left, right = tree.children_left, tree.children_right
    as_leaf = at_node.sum(axis=1) - at_node.max(axis=1)
    # cost[i][k - 1]: least misclassified weight under node i with exactly k leaves;
    # children have larger ids than their parent, so one backward sweep fills it
    cost: list[np.ndarray] = [np.empty(0)] * tree.node_count
    for i in range(tree.node_count - 1, -1, -1):
        if left[i] == -1:
            cost[i] = np.array([as_leaf[i]])
            continue
        cost[i] = np.concatenate([[as_leaf[i]], _split_costs(cost[left[i]], cost[right[i]],
                                                             max_leaves)])
    kept: list[int] = []
    _collect(0, int(np.argmin(cost[0])) + 1, cost, left, right, kept)
    return kept


def _split_costs(cost_left: np.ndarray, cost_right: np.ndarray, max_leaves: int) -> np.ndarray:
    """Least cost with k = 2.. leaves split between two subtrees (min-plus convolution)."""
    total = cost_left[:, None] + cost_right[None, :]  # (a, b): a + 1 and b + 1 leaves
    size = min(len(cost_left) + len(cost_right), max_leaves) - 1
    sums = np.add.outer(np.arange(len(cost_left)), np.arange(len(cost_right)))
    best = np.full(size, np.inf)
    keep = sums < size
    np.minimum.at(best, sums[keep], total[keep])
    return best


def _collect(node: int, k: int, cost: list[np.ndarray], left: np.ndarray, right: np.ndarray,
             kept: list[int]) -> None:
    """Walk down the optimal choices: node ``node`` with ``k`` leaves."""
    if k == 1 or left[node] == -1:
        kept.append(node)
        return
    a = np.arange(1, k)
    ok = (a <= len(cost[left[node]])) & (k - a <= len(cost[right[node]]))
    a = a[ok]
    split = cost[left[node]][a - 1] + cost[right[node]][k - a - 1]
    first = int(a[np.argmin(split)])
    _collect(int(left[node]), first, cost, left, right, kept)
    _collect(int(right[node]), k - first, cost, left, right, kept)


class _Nodes:
    """A small binary tree as arrays (node 0 the root; ``left == -1`` at leaves)."""

    def __init__(self, feature: list[int], threshold: list[float], left: list[int],
                 right: list[int], label: list[int]) -> None:
        self.feature, self.threshold = np.array(feature), np.array(threshold, dtype=float)
        self.left, self.right = np.array(left), np.array(right)
        self.label = np.array(label)

    @classmethod
    def from_pruned(cls, tree: Any, leaves: list[int], at_node: np.ndarray) -> _Nodes:
        """The nodes of ``tree`` above (and including) ``leaves``, renumbered depth first;
        each labelled with its heaviest class in ``at_node``."""
        keep = set(leaves)
        arrays: dict[str, list[Any]] = {k: [] for k in ("feature", "threshold", "left",
                                                         "right", "label")}

        def add(i: int) -> int:
            j = len(arrays["feature"])
            leaf = i in keep or tree.children_left[i] == -1
            arrays["feature"].append(-1 if leaf else int(tree.feature[i]))
            arrays["threshold"].append(0.0 if leaf else float(tree.threshold[i]))
            arrays["left"].append(-1)
            arrays["right"].append(-1)
            arrays["label"].append(int(np.argmax(at_node[i])))
            if not leaf:
                arrays["left"][j] = add(int(tree.children_left[i]))
                arrays["right"][j] = add(int(tree.children_right[i]))
            return j

        add(0)
        return cls(**arrays)

    def merged(self) -> _Nodes:
        """The same predictions with every split whose two sides end in leaves of one class
        made a leaf of that class (refinement can leave such splits, which spend the leaf
        budget on nothing), repeatedly, renumbered depth first."""
        label = self.label.copy()
        leaf = self.left == -1
        for i in range(len(self.left) - 1, -1, -1):  # children after their parent
            low, high = self.left[i], self.right[i]
            if not leaf[i] and leaf[low] and leaf[high] and label[low] == label[high]:
                leaf[i], label[i] = True, label[low]
        arrays: dict[str, list[Any]] = {k: [] for k in ("feature", "threshold", "left",
                                                         "right", "label")}

        def add(i: int) -> int:
            j = len(arrays["feature"])
            arrays["feature"].append(-1 if leaf[i] else int(self.feature[i]))
            arrays["threshold"].append(0.0 if leaf[i] else float(self.threshold[i]))
            arrays["left"].append(-1)
            arrays["right"].append(-1)
            arrays["label"].append(int(label[i]))
            if not leaf[i]:
                arrays["left"][j] = add(int(self.left[i]))
                arrays["right"][j] = add(int(self.right[i]))
            return j

        add(0)
        return _Nodes(**arrays)

    def reach(self, node: int, X: np.ndarray) -> np.ndarray:
        """The leaf each row of ``X`` reaches, starting at ``node``."""
        at = np.full(len(X), node)
        moving = np.flatnonzero(self.left[at] != -1)
        while len(moving):
            here = at[moving]
            go_left = X[moving, self.feature[here]] <= self.threshold[here]
            at[moving] = np.where(go_left, self.left[here], self.right[here])
            moving = moving[self.left[at[moving]] != -1]
        return at

    def members(self, X: np.ndarray) -> list[np.ndarray]:
        """Rows of ``X`` reaching each node."""
        rows = [np.empty(0, dtype=int)] * len(self.left)
        rows[0] = np.arange(len(X))
        for i in range(len(self.left)):  # parents come before their children
            if self.left[i] != -1:
                go_left = X[rows[i], self.feature[i]] <= self.threshold[i]
                rows[self.left[i]], rows[self.right[i]] = rows[i][go_left], rows[i][~go_left]
        return rows

    def depths(self) -> np.ndarray:
        depth = np.zeros(len(self.left), dtype=int)
        for i in range(len(self.left)):
            if self.left[i] != -1:
                depth[self.left[i]] = depth[self.right[i]] = depth[i] + 1
        return depth

    def agreement(self, X: np.ndarray, reward: np.ndarray) -> float:
        """Weight classified right: sum of ``reward[row, class predicted]``."""
        return float(reward[np.arange(len(X)), self.label[self.reach(0, X)]].sum())

    def refine(self, X: np.ndarray, reward: np.ndarray, max_passes: int) -> None:
        """Tree alternating optimization: nodes of one depth share no rows, so each depth,
        deepest first, is optimized node by node given the rest of the tree."""
        depth = self.depths()
        for _ in range(max_passes):
            changed = False
            for level in range(depth.max(), -1, -1):
                rows = self.members(X)
                for node in np.flatnonzero(depth == level):
                    if len(rows[node]):
                        changed |= self._improve(int(node), X[rows[node]], reward[rows[node]])
            if not changed:
                break
        rows = self.members(X)
        for node in np.flatnonzero(self.left == -1):  # the leaves' classes, last
            if len(rows[node]):
                self._improve(int(node), X[rows[node]], reward[rows[node]])

    def _improve(self, node: int, X: np.ndarray, reward: np.ndarray) -> bool:
        """Best class of a leaf, or best split of a node given its subtrees; True if changed."""
        if self.left[node] == -1:
            total = reward.sum(axis=0)
            heaviest = int(np.argmax(total))
            if total[heaviest] > total[self.label[node]] * (1 + 1e-12):
                self.label[node] = heaviest
                return True
            return False
        index = np.arange(len(X))
        # what each row earns if sent left, or right, with the subtrees as they are
        gain = reward[index, self.label[self.reach(self.left[node], X)]] \
            - reward[index, self.label[self.reach(self.right[node], X)]]
        care = gain != 0
        X, gain = X[care], gain[care]
        if len(gain) < 2:
            return False
        now = gain[X[:, self.feature[node]] <= self.threshold[node]].sum()
        feature, cut, best = _best_split(X, gain)
        if feature < 0 or best <= now + 1e-9 * max(1.0, abs(now)):
            return False
        self.feature[node], self.threshold[node] = feature, cut
        return True

    def to_tree(self, X: np.ndarray, reward: np.ndarray, n_features: int,
                criterion: str) -> Tree:
        """A scikit-learn ``Tree`` with these nodes; values are the class weights reaching
        each node (so ``predict`` gives :attr:`label` and ``predict_proba`` the shares)."""
        rows = self.members(X)
        n_classes = reward.shape[1]
        values = np.zeros((len(self.left), 1, n_classes))
        for i, members in enumerate(rows):
            total = reward[members].sum(axis=0)
            if total.sum() <= 0:  # a leaf no training point reaches keeps its class
                total = np.eye(n_classes)[self.label[i]]
            values[i, 0] = total / total.sum()
        tree = Tree(n_features, np.array([n_classes], dtype=np.intp), 1)
        nodes = np.zeros(len(self.left), dtype=tree.__getstate__()["nodes"].dtype)
        nodes["left_child"], nodes["right_child"] = self.left, self.right
        nodes["feature"] = np.where(self.left == -1, -2, self.feature)  # -2: scikit-learn's leaf
        nodes["threshold"] = np.where(self.left == -1, -2.0, self.threshold)
        nodes["impurity"] = [_impurity(v[0], criterion) for v in values]
        nodes["n_node_samples"] = [len(m) for m in rows]
        nodes["weighted_n_node_samples"] = [reward[m].sum() for m in rows]
        tree.__setstate__({"max_depth": int(self.depths().max()), "node_count": len(nodes),
                           "nodes": nodes, "values": values})
        return tree


def _best_split(X: np.ndarray, gain: np.ndarray) -> tuple[int, float, float]:
    """(feature, threshold, sum of ``gain`` over rows with x <= threshold), the largest over
    thresholds midway between distinct values; feature -1 when no column varies."""
    order = np.argsort(X, axis=0)  # ties: no threshold between equal values anyway
    values = np.take_along_axis(X, order, axis=0)  # (m, d), each column sorted
    running = np.cumsum(gain[order], axis=0)[:-1]
    running[values[:-1] >= values[1:]] = -np.inf  # no threshold between equal values
    row, feature = np.unravel_index(int(np.argmax(running)), running.shape)
    if not np.isfinite(running[row, feature]):
        return -1, 0.0, -np.inf
    threshold = (values[row, feature] + values[row + 1, feature]) / 2.0
    return int(feature), float(threshold), float(running[row, feature])


def _impurity(share: np.ndarray, criterion: str) -> float:
    if criterion == "gini":
        return float(1.0 - np.sum(share**2))
    positive = share[share > 0]
    return float(-np.sum(positive * np.log2(positive)))
