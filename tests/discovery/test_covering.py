"""Sequential covering and the resampling check."""

import numpy as np
import pandas as pd
import pytest

from surrogate.discovery import PRIM, covering, resample


def two_regions(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, 4)), columns=["a", "b", "c", "d"])
    y = ((X.a < 0.5) & (X.b < 0.5)) | ((X.a > 0.8) & (X.c > 0.7))
    return X, y


def test_covering_finds_both_planted_regions():
    X, y = two_regions()
    boxes = covering(X, y, min_density=0.9, max_boxes=3)
    assert len(boxes) >= 2
    assert set(boxes[0].restricted) >= {"a", "b"}
    assert set(boxes[1].restricted) >= {"a", "c"}
    first = boxes[0].contains(X)
    second = boxes[1].contains(X) & ~first
    # statistics of later boxes count only points not in earlier boxes
    assert boxes[1].mass == pytest.approx(second.mean())
    assert boxes[1].coverage == pytest.approx(y[second].sum() / y.sum())
    assert boxes[0].coverage + boxes[1].coverage > 0.9


def test_covering_first_box_is_prims_box():
    X, y = two_regions(seed=1)
    prim_box = PRIM().fit(X, y).box(min_density=0.9)
    first = covering(X, y, min_density=0.9, max_boxes=1)[0]
    assert first.rules() == prim_box.rules() and first.coverage == prim_box.coverage


def test_covering_stops_without_dense_box():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.uniform(size=(500, 2)), columns=["a", "b"])
    assert covering(X, rng.uniform(size=500) < 0.3, min_density=0.95) == []


@pytest.mark.parametrize(("options", "match"), [({"min_density": 2}, "min_density"),
                                                 ({"min_density": 0.5, "max_boxes": 0}, "max_boxes"),
                                                 ({"min_density": 0.5, "peel_alpha": 0.9}, "peel_alpha")])
def test_covering_bad_options(options, match):
    X, y = two_regions(200)
    with pytest.raises(ValueError, match=match):
        covering(X, y, **options)


def test_resample_reproduces_planted_dimensions_only():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.uniform(size=(2000, 4)), columns=["a", "b", "c", "d"])
    y = (X.a > 0.4) & (X.b < 0.6)
    prim = PRIM().fit(X, y)
    scores = resample(prim, X, y, iterations=5, seed=0)
    assert list(scores.columns) == ["reproduce_coverage", "reproduce_density"]
    assert set(scores.index) == {"a", "b", "c", "d"}
    assert scores.loc["a"].tolist() == [1.0, 1.0] and scores.loc["b"].tolist() == [1.0, 1.0]
    assert list(scores.index[:2]) == ["a", "b"] or list(scores.index[:2]) == ["b", "a"]
    # same seed, same result
    pd.testing.assert_frame_equal(scores, resample(prim, X, y, iterations=5, seed=0))
    with pytest.raises(ValueError, match="fraction"):
        resample(prim, X, y, fraction=1.5)
