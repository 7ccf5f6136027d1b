"""CART leaves as boxes: statistics equal direct counts, leaves partition the data."""

import numpy as np
import pandas as pd
import pytest

from surrogate.discovery import CART
from surrogate.discovery._cart import design_matrix


def data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"r": rng.uniform(size=n), "k": rng.integers(0, 8, n),
                      "c": rng.choice(["x", "y", "z"], n), "s": rng.normal(size=n)})
    y = ((X.r > 0.4) & (X.k <= 4) & (X.c != "z")) ^ (rng.uniform(size=n) < 0.05)
    return X, y


def test_leaf_statistics_match_direct_counts():
    X, y = data()
    cart = CART(seed=0).fit(X, y)
    domain = cart.boxes_[0]._domain
    leaves = cart.tree_.apply(design_matrix(domain, *domain.encode(X)))
    assert len(cart.boxes_) == len(np.unique(leaves))
    membership = np.zeros(len(X), dtype=int)
    for box, leaf in zip(cart.boxes_, np.unique(leaves), strict=True):
        inside = box.contains(X)
        assert np.array_equal(inside, leaves == leaf)  # the box's limits are the leaf's path
        membership += inside
        assert box.mass == inside.mean()
        assert box.density == pytest.approx(y[inside].mean())
        assert box.coverage == pytest.approx(y[inside].sum() / y.sum())
        assert box.mass >= 0.05 - 1e-12
    assert (membership == 1).all()  # leaves partition the data


def test_best_box_is_the_planted_one():
    X, y = data(seed=1)
    cart = CART(seed=0).fit(X, y)
    best = cart.box(min_density=0.85)
    assert set(best.restricted) >= {"r", "k", "c"}
    assert best.limits.loc["c", "lower"] <= frozenset({"x", "y"})
    assert cart.box().density == max(b.density for b in cart.boxes_)


def test_soft_labels_and_depth():
    X, y = data(seed=2)
    p = np.where(y, 0.8, 0.1)
    cart = CART(max_depth=2, seed=0).fit(X, p)
    assert len(cart.boxes_) <= 4
    total = sum(b.mass for b in cart.boxes_)
    assert total == pytest.approx(1.0)
    for box in cart.boxes_:
        inside = box.contains(X)
        assert box.density == pytest.approx(p[inside].mean())


@pytest.mark.parametrize("params", [{"mass_min": 0}, {"mass_min": 0.7}, {"max_depth": 0}])
def test_bad_params(params):
    X, y = data(200)
    with pytest.raises(ValueError, match=next(iter(params))):
        CART(**params).fit(X, y)


def test_a_parameter_of_tiny_range_next_to_its_size_is_split_on():
    # scikit-learn's float32 saw two values of 1 + 1e-7 u: CART found a box of density 0.6
    # where PRIM found the planted one
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": 1.0 + 1e-7 * rng.random(1000), "b": rng.random(1000)})
    y = ((X.a > 1.0 + 0.5e-7) & (X.b < 0.5)).to_numpy()
    best = CART(max_depth=2, seed=0).fit(X, y).box()
    assert best.density == 1.0 and best.coverage == 1.0
    assert abs(best.limits.loc["a", "lower"] - (1.0 + 0.5e-7)) < 2e-9
