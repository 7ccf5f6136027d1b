"""PrunedTree: the pruning is the best subtree, refinement never loses agreement, soft labels
count as the teacher's probabilities, and it reads as a scikit-learn tree."""

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, export_text

import surrogate as sg
from surrogate.distillation import PrunedTree, distill
from surrogate.distillation._tree import _grow, _node_rewards, _prune
from surrogate.models._weights import class_shares


def _noisy(seed, n=400):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 3))
    y = ((X[:, 0] > 0.4) & (X[:, 1] < 0.7)) ^ (rng.uniform(size=n) < 0.15)
    return X, y.astype(int)


def _subtree_costs(tree, at_node, node=0):
    """Every subtree of ``tree`` under ``node``: (leaves, misclassified weight), by brute force."""
    as_leaf = at_node[node].sum() - at_node[node].max()
    options = {(1, as_leaf)}
    left, right = tree.children_left[node], tree.children_right[node]
    if left != -1:
        for (a, ca), (b, cb) in itertools.product(_subtree_costs(tree, at_node, left),
                                                  _subtree_costs(tree, at_node, right)):
            options.add((a + b, ca + cb))
    return options


@pytest.mark.parametrize("max_leaves", [2, 3, 5, 8])
def test_pruning_finds_the_best_subtree(max_leaves):
    X, y = _noisy(0, 150)
    points, reward = class_shares(X, y, np.ones(len(y)), 2, np.float32)
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(points, y)  # small enough
    at_node = _node_rewards(tree, points, reward)
    kept = _prune(tree.tree_, at_node, max_leaves)
    cost = sum(at_node[i].sum() - at_node[i].max() for i in kept)
    best = min(c for k, c in _subtree_costs(tree.tree_, at_node) if k <= max_leaves)
    assert len(kept) <= max_leaves
    assert cost == pytest.approx(best)


def test_refinement_never_lowers_the_training_agreement():
    for seed in range(3):
        X, y = _noisy(seed)
        pruned = PrunedTree(6, max_passes=0).fit(X, y)
        refined = PrunedTree(6).fit(X, y)
        assert refined.training_agreement_ >= pruned.training_agreement_ - 1e-12
        assert refined.training_agreement_ == pytest.approx(np.mean(refined.predict(X) == y))
        assert refined.get_n_leaves() <= 6


def test_planted_boxes_are_found_exactly():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(size=(3000, 3)), columns=["a", "b", "c"])
    y = np.where(X.a < 0.3, "low", np.where(X.b > 0.6, "high", "mid"))
    tree = PrunedTree(3).fit(X, y)
    assert tree.training_agreement_ == 1.0 and tree.get_n_leaves() == 3
    assert list(tree.classes_) == ["high", "low", "mid"]
    test = pd.DataFrame(rng.uniform(size=(2000, 3)), columns=["a", "b", "c"])
    truth = np.where(test.a < 0.3, "low", np.where(test.b > 0.6, "high", "mid"))
    assert np.mean(tree.predict(test) == truth) > 0.99
    rules = export_text(tree.estimator_, feature_names=["a", "b", "c"])
    assert "a <= 0.30" in rules and "b >  0.60" in rules and "c <=" not in rules
    np.testing.assert_allclose(tree.predict_proba(test).sum(axis=1), 1.0)


def test_gini_growth_matches_the_duplicates_gini_tree():
    # squared error of the class shares = Gini impurity up to a constant: same splits
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(300, 3))
    proba = np.clip(X[:, [0]] * 0.8 + rng.uniform(0, 0.2, (300, 1)), 0, 1)
    reward = np.hstack([1 - proba, proba])
    grown = _grow(X, reward, "gini", 1, 0)
    rows = np.tile(np.arange(300), 2)
    classic = DecisionTreeClassifier(max_depth=3, random_state=0).fit(
        X[rows], np.repeat([0, 1], 300), sample_weight=reward.T.ravel())
    for node in range(3):  # the root and its children
        assert grown.tree_.feature[node] == classic.tree_.feature[node]
        assert grown.tree_.threshold[node] == pytest.approx(classic.tree_.threshold[node])


def test_soft_labels_reach_it_as_the_teachers_probabilities():
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    X = sg.sample(space, 300, seed=0)
    teacher = LogisticRegression(C=2.0).fit(X, (X.a + X.b > 1).astype(int))
    result = distill(teacher, PrunedTree(4), space=space, n=800, holdout=0.25, seed=0)
    assert result.route_ == "class-weighted duplicates" and result.student_size_ <= 4
    train = result.transfer_set_[result.transfer_set_.use == "train"]
    predicted = result.student_.predict(train[["a", "b"]])
    earned = np.where(predicted == 1, train["p(1)"], train["p(0)"])
    assert result.student_.training_agreement_ == pytest.approx(earned.mean())


@pytest.mark.parametrize(
    ("params", "match"),
    [({"max_leaves": 1}, "max_leaves"), ({"criterion": "mse"}, "criterion"),
     ({"min_samples_leaf": 0}, "min_samples_leaf"), ({"max_passes": -1}, "max_passes")],
)
def test_bad_params(params, match):
    X, y = _noisy(0, 50)
    with pytest.raises(ValueError, match=match):
        PrunedTree(**params).fit(X, y)


def test_bad_weights():
    X, y = _noisy(0, 50)
    with pytest.raises(ValueError, match="sample_weight"):
        PrunedTree().fit(X, y, sample_weight=-np.ones(50))
    with pytest.raises(ValueError, match="sample_weight"):
        PrunedTree().fit(X, y, sample_weight=np.ones(3))


def test_scikit_learn_estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(PrunedTree(), on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert not failed


def test_no_split_ends_in_two_leaves_of_one_class():
    # soft labels (class-weighted duplicates): refining left splits whose two leaves predict
    # the same class, spending the leaf budget on nothing (16 leaves, 4 distinct regions)
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(3000, 2))
    p = 1.0 / (1.0 + np.exp(-20.0 * np.minimum(X[:, 0] - 0.3, 0.7 - X[:, 1])))
    X2, y2 = np.vstack([X, X]), np.r_[np.ones(3000), np.zeros(3000)]
    tree = PrunedTree(16, seed=0).fit(X2, y2, sample_weight=np.r_[p, 1.0 - p])
    nodes = tree.estimator_.tree_
    left, right = nodes.children_left, nodes.children_right
    label = nodes.value[:, 0, :].argmax(axis=1)
    for i in np.flatnonzero(left != -1):
        if left[left[i]] == -1 and left[right[i]] == -1:
            assert label[left[i]] != label[right[i]], i
    assert tree.get_n_leaves() < 16
    unmerged = PrunedTree(16, merge=False, seed=0).fit(X2, y2, sample_weight=np.r_[p, 1.0 - p])
    assert unmerged.get_n_leaves() > tree.get_n_leaves()
    np.testing.assert_array_equal(unmerged.predict(X), tree.predict(X))  # same classes
    assert np.mean(tree.predict(X) == (p > 0.5)) > 0.97
    again = PrunedTree(16, seed=np.random.default_rng(0)).fit(X2, y2, sample_weight=np.r_[p, 1 - p])
    assert again.get_n_leaves() >= 2  # a Generator seeds it too


def test_any_int_seed_is_taken():
    X, y = _noisy(0)
    assert PrunedTree(4, seed=2**32).fit(X, y).get_n_leaves() <= 4  # past scikit-learn's range


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"max_leaves": 1}, ValueError, "max_leaves must be an int >= 2, got 1"),
    ({"max_leaves": 2.5}, TypeError, "max_leaves must be an int >= 2, got 2.5"),
    ({"min_samples_leaf": 0}, ValueError, "min_samples_leaf must be an int >= 1"),
    ({"max_passes": -1}, ValueError, "max_passes must be an int >= 0"),
    ({"merge": "no"}, TypeError, "merge must be True or False, got 'no'"),
])
def test_bad_options_name_themselves(params, error, match):
    X = np.random.default_rng(0).random((40, 2))
    with pytest.raises(error, match=match):
        PrunedTree(**params).fit(X, X[:, 0] > 0.5)
