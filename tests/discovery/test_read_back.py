"""Discovery on data as users get it back from files and other estimators: categorical levels
with another type, booleans in an object column, integer limits, a regressor metamodel
without a predictive spread, a box student with no case of interest."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

import surrogate as sg
from surrogate.discovery import CART, PRIM, REDS


def test_a_box_refuses_a_categorical_column_none_of_whose_values_it_knows():
    # fitted on text levels, given the same rows as numbers (a CSV read back): every row read
    # "outside", coverage 0, without a word
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(size=1000), "c": rng.choice(["1", "2", "3"], 1000)})
    y = (X.a > 0.5) & (X.c == "2")
    box = PRIM().fit(X, y).box()
    assert "c in ['2']" in box.rules()
    with pytest.raises(ValueError, match=r"X\['c'\] holds none of the levels fitted on "
                                         r"\(\['1', '2', '3'\]\), e.g. 3 \(int64\)"):
        box.contains(X.assign(c=X.c.astype(int)))
    # a level the fit never met, among known ones, is simply outside a box restricting it
    new = X.assign(c=X.c.where(X.index % 2 == 0, "4"))
    assert box.contains(new).sum() == box.contains(X)[X.index % 2 == 0].sum()


def test_booleans_in_an_object_column_are_labels():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.uniform(size=400), "b": rng.uniform(size=400)})
    y = pd.Series((X.a > 0.5).to_numpy(), dtype=object)  # as read_csv + dropna leaves them
    for method in (PRIM(), CART()):
        assert list(method.fit(X, y).box().restricted) == ["a"]


def test_integer_limits_are_written_exactly():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"k": rng.integers(0, 100_000, 5000), "a": rng.uniform(size=5000)})
    box = PRIM().fit(X, (X.k <= 12345) & (X.a > 0.5)).box()
    upper = int(box.limits.loc["k", "upper"])
    assert f"k <= {upper}" in box.rules()  # was "k <= 1.187e+04": the query moved the limit
    assert len(X.query(box.rules())) == box.contains(X).sum()


def test_reds_with_a_regressor_metamodel_without_a_spread_takes_soft_labels():
    # the default labels='soft' failed after the fit with RandomForestRegressor's TypeError
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(200, 2)), columns=["a", "b"])
    reds = REDS(metamodel=RandomForestRegressor(n_estimators=20, random_state=0),
                n_samples=2000, threshold=(">", 0.3), seed=0).fit(X, X.a - X.b)
    hard = REDS(metamodel=RandomForestRegressor(n_estimators=20, random_state=0),
                n_samples=2000, threshold=(">", 0.3), labels="hard", seed=0).fit(X, X.a - X.b)
    assert reds.box().rules() == hard.box().rules()  # no spread: the soft labels are 0/1


def test_reds_types_a_numbered_categorical_by_the_space():
    # Categorical("c", [1, 2, 3]) read back as ints: "X['c'] must be numeric, got dtype object"
    space = sg.Space([sg.Real("a", 0, 1), sg.Categorical("c", [1, 2, 3])])
    X = sg.sample(space, 300, seed=0)
    y = (X.a > 0.5) & (X.c == 2)
    as_ints = X.assign(c=X.c.astype(int))
    boxes = [REDS(metamodel=RandomForestClassifier(20, random_state=0), n_samples=2000,
                  seed=0).fit(data, y, space=space).box() for data in (X, as_ints)]
    assert boxes[0].rules() == boxes[1].rules()
    assert "c in [2]" in boxes[1].rules()


def test_a_new_level_of_the_fitted_type_is_outside_the_box_not_refused():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.uniform(size=300), "c": rng.choice(list("abc"), 300)})
    box = PRIM().fit(X, (X.x > 0.5) & (X.c == "a")).box()
    assert box.contains(pd.DataFrame({"x": [0.9], "c": ["d"]})).tolist() == [False]


def test_reds_reads_x_by_position_whatever_its_index():
    # the space's typing came back with a fresh index and was assigned by label: a shuffled
    # or filtered X was scrambled against y
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    X = sg.sample(space, 300, seed=0)
    y = (X.a > 0.7) & (X.b > 0.5)
    order = np.random.default_rng(1).permutation(300)
    boxes = [REDS(metamodel=RandomForestClassifier(30, random_state=0), n_samples=2000, seed=0)
             .fit(data, labels, space=space).box()
             for data, labels in ((X, y), (X.iloc[order], y.iloc[order].to_numpy()))]
    for box in boxes:
        assert 0.6 < box.limits.loc["a", "lower"] < 0.9 and box.limits.loc["b", "lower"] > 0.4


def test_reds_asks_a_pipeline_metamodel_for_its_spread():
    # a Pipeline's predict takes return_std through **params: its signature hid it
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(60, 2)), columns=["a", "b"])
    y = X.a + 0.3 * rng.normal(size=60)
    reds = REDS(metamodel=make_pipeline(StandardScaler(), sg.GPRegressor(seed=0)),
                n_samples=500, threshold=(">", 0.8), seed=0).fit(X, y)
    soft = reds.sample_labels_
    assert ((soft > 0) & (soft < 1)).sum() > 100


def test_reds_takes_regressors_whose_predict_passes_keywords_on_without_a_spread():
    # asking every metamodel for return_std failed for BaggingRegressor (metadata routing) and
    # TransformedTargetRegressor; a TypeError inside a metamodel was taken for "no spread"
    from sklearn.ensemble import BaggingRegressor

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(80, 2)), columns=["a", "b"])
    reds = REDS(metamodel=BaggingRegressor(n_estimators=5, random_state=0), n_samples=500,
                threshold=(">", 0.5), seed=0).fit(X, X.a)
    assert set(np.unique(reds.sample_labels_)) <= {0.0, 1.0}  # no spread: the hard labels
