"""PR AUC of a trajectory on held-out data, against hand-computed areas."""

import numpy as np
import pandas as pd
import pytest

from surrogate.discovery import PRIM, pr_auc
from surrogate.discovery._box import Box
from surrogate.discovery._data import fit_domain


def make_box(domain, low, high, n_total=10):
    return Box._from_limits(domain, np.array([low]), np.array([high]), [], n_points=1,
                            sum_labels=1.0, n_total=n_total, sum_total=1.0)


def test_hand_computed_area():
    X = pd.DataFrame({"x": np.arange(10.0)})
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 0])  # base rate 0.3
    domain, _ = fit_domain(X)
    whole = make_box(domain, 0.0, 9.0)          # recall 1, precision 0.3
    middle = make_box(domain, 5.0, 9.0)         # 5 points, 3 cases: recall 1, precision 0.6
    tight = make_box(domain, 6.0, 7.0)          # 2 points, 2 cases: recall 2/3, precision 1
    # curve: (0, 1) (2/3, 1) (1, 0.6) (1, 0.3): area 2/3 + (1/3)(1 + 0.6)/2 + 0
    expected = 2 / 3 + (1 / 3) * 0.8 - 0.3
    assert pr_auc([whole, middle, tight], X, y) == pytest.approx(expected)


def test_perfect_box_scores_one_minus_base_rate():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(3000, 2)), columns=["a", "b"])
    y = X.a > 0.7
    prim = PRIM().fit(X[:1000], y[:1000])
    X_test, y_test = X[1000:], y[1000:]
    assert pr_auc(prim, X_test, y_test) == pytest.approx(1 - y_test.mean(), abs=0.02)
    # a useless model (only the starting box) scores 0
    assert pr_auc(prim.boxes_[:1], X_test, y_test) == pytest.approx(0.0)


def test_bad_model():
    with pytest.raises(TypeError, match="boxes_"):
        pr_auc(object(), np.zeros((3, 1)), [0, 1, 0])


def test_a_cart_is_scored_by_the_union_of_its_densest_leaves():
    # its leaves are disjoint: each alone as a point of the curve scored a perfect tree far
    # below its own perfect box (0.24 against 0.74)
    from surrogate.discovery import CART

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(4000, 2)), columns=["a", "b"])
    y = ((X.a > 0.5) & (X.b > 0.5)).to_numpy()
    cart = CART(max_depth=2, seed=0).fit(X[:2000], y[:2000])
    X_test, y_test = X[2000:], y[2000:]
    assert cart.box().density == pytest.approx(1.0)
    assert pr_auc(cart, X_test, y_test) == pytest.approx(pr_auc(cart.box(), X_test, y_test),
                                                         abs=0.01)
    assert pr_auc(cart, X_test, y_test) == pytest.approx(1 - y_test.mean(), abs=0.01)
