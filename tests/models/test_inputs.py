"""Mixed inputs: every surrogate takes the space's integer and categorical columns as
``sg.sample`` makes them; unseen categories and junk columns get one clear error; the training
range and the levels are recorded and survive save/load."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.models import (
    GPClassifier,
    GPRegressor,
    NNClassifier,
    NNRegressor,
    cross_validate,
    load,
    q2,
)

SPACE = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("policy", ["low", "high"]),
                  sg.Integer("k", 1, 5)])
MODELS = [GPRegressor(seed=0), NNRegressor(n_ensemble=2, max_epochs=5, seed=0),
          GPClassifier(n_inducing=8, max_iter=5, seed=0),
          NNClassifier(n_ensemble=2, max_epochs=5, seed=0)]
ids = lambda m: type(m).__name__  # noqa: E731


def _design(n=30, seed=0):
    X = sg.sample(SPACE, n, seed=seed)
    y = X["x"] + (X["policy"] == "high") + 0.1 * X["k"]
    return X, y


def _target(model, y):
    return y > y.median() if hasattr(model, "predict_proba") else y


def _outputs(model, X):
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return np.column_stack(model.predict(X, return_std=True))


# -- a categorical switch, learned --------------------------------------------------------------
SWITCH = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("scheme", ["a", "b", "c"]),
                   sg.Real("z", 0.0, 1.0)])
SLOPES = {"a": 1.0, "b": -2.0, "c": 0.5}


def _switch(X):
    """Three categories change the slope in x; z adds a smooth term."""
    return X["scheme"].map(SLOPES).to_numpy(float) * X["x"].to_numpy() + np.sin(3 * X["z"])


@pytest.mark.parametrize(("model", "bar"), [(GPRegressor(seed=0), 0.99),
                                            (GPRegressor(kernel="auto", seed=0), 0.99),
                                            (NNRegressor(seed=0), 0.98)], ids=str)
def test_a_categorical_switch_is_learned_from_100_runs(model, bar):
    X = sg.sample(SWITCH, 100, seed=0)
    Xt = sg.sample(SWITCH, 2000, method="random", seed=1)
    model.fit(X, _switch(X))
    assert q2(_switch(Xt), model.predict(Xt)) > bar
    assert model.categories_ == {"scheme": ["a", "b", "c"]}


def test_gp_kernel_is_exchangeable_in_the_categories():
    # "a" and "c" share sin(6x), "b" is shifted; "c" has 4 runs. The exchangeable kernel
    # correlates every pair of levels alike: renaming the levels (which reorders their codes)
    # changes nothing, and "c" borrows the shape from all runs. (Codes used as numbers put "c"
    # next to "b" and predict it 0.3 off.)
    rng = np.random.default_rng(0)
    x = rng.random(44)
    scheme = np.array(["a"] * 20 + ["b"] * 20 + ["c"] * 4)
    X = pd.DataFrame({"x": x, "scheme": scheme})
    y = np.sin(6 * x) + 0.5 * (scheme == "b")
    Xt = pd.DataFrame({"x": np.linspace(0, 1, 50), "scheme": "c"})
    rename = {"a": "z", "b": "y", "c": "a"}
    gp = GPRegressor(seed=0).fit(X, y)
    renamed = GPRegressor(seed=0).fit(X.assign(scheme=X["scheme"].map(rename)), y)
    assert renamed.categories_ == {"scheme": ["a", "y", "z"]}
    prediction = gp.predict(Xt)
    np.testing.assert_allclose(
        renamed.predict(Xt.assign(scheme=Xt["scheme"].map(rename))), prediction, atol=1e-7)
    assert np.abs(prediction - np.sin(6 * Xt["x"])).max() < 0.05
    # a + b share the shape, so the fitted correlation of two levels is clearly positive, and
    # it is the one lengthscale_ gives: rho_min + (1 - rho_min) exp(-1 / (2 l^2))
    rho = gp.level_correlation_["scheme"]
    assert rho.shape == (1,) and 0.3 < rho[0] < 1.0
    assert rho[0] == pytest.approx(-0.5 + 1.5 * np.exp(-0.5 / gp.lengthscale_[0, 1] ** 2))


def test_a_switch_that_turns_the_response_around_gets_a_negative_correlation():
    # y = +sin(6x) for one level and -sin(6x) for the other: correlation -1 explains both
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.random(30), "sign": rng.choice(["up", "down"], 30)})
    y = np.where(X["sign"] == "up", 1.0, -1.0) * np.sin(6 * X["x"])
    gp = GPRegressor(seed=0).fit(X, y)
    assert gp.level_correlation_["sign"][0] < -0.9
    Xt = pd.DataFrame({"x": np.linspace(0, 1, 41), "sign": "down"})
    np.testing.assert_allclose(gp.predict(Xt), -np.sin(6 * Xt["x"]), atol=0.02)


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_every_model_takes_a_mixed_design(model):
    X, y = _design()
    model.fit(X, _target(model, y))
    assert model.categories_ == {"policy": ["high", "low"]}
    assert list(model.feature_names_in_) == ["x", "policy", "k"]
    out = _outputs(model, X.iloc[:5])
    assert out.shape[0] == 5 and np.isfinite(out).all()


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_an_object_array_is_read_by_position(model):
    X, y = _design()
    model.fit(X.to_numpy(), _target(model, y))
    assert model.categories_ == {1: ["high", "low"]}
    assert np.isfinite(_outputs(model, X.to_numpy()[:4])).all()
    # a DataFrame for a model fitted on an array: read by position too (was KeyError: 1)
    np.testing.assert_array_equal(_outputs(model, X.iloc[:4]), _outputs(model, X.to_numpy()[:4]))


def test_columns_labelled_by_numbers_are_put_back_in_order(tmp_path):
    # scikit-learn records only string names: with labels 0, 1, 2 the numeric columns were
    # read by position and the categorical one by label, silently mixing a reordered frame
    X, y = _design()
    X.columns = [0, 1, 2]
    gp = GPRegressor(seed=0).fit(X, y)
    expected = gp.predict(X.iloc[:6])
    np.testing.assert_array_equal(gp.predict(X.iloc[:6][[2, 0, 1]]), expected)
    gp.save(tmp_path / "gp")
    np.testing.assert_array_equal(load(tmp_path / "gp").predict(X.iloc[:6][[1, 2, 0]]),
                                  expected)
    with pytest.raises(ValueError, match=r"missing the columns \[2\]"):
        gp.predict(X.iloc[:6][[0, 1]])


@pytest.mark.parametrize("labels", [[0.0, 0.5], [("in", "a"), ("in", "b")]],
                         ids=["a field grid's times", "a MultiIndex"])
def test_columns_labelled_by_floats_or_tuples_are_put_back_in_order(tmp_path, labels):
    # only string and int labels were recorded: a frame of a field's grid (float labels) or
    # of a MultiIndex, reordered, was read by position (predictions off by 2.3)
    rng = np.random.default_rng(0)
    values = rng.uniform(size=(30, 2))
    X = pd.DataFrame(values, columns=pd.MultiIndex.from_tuples(labels)
                     if isinstance(labels[0], tuple) else labels)
    gp = GPRegressor(seed=0).fit(X, 3 * values[:, 0])
    expected = gp.predict(X.iloc[:6])
    np.testing.assert_array_equal(gp.predict(X.iloc[:6, [1, 0]]), expected)
    gp.save(tmp_path / "gp")
    np.testing.assert_array_equal(load(tmp_path / "gp").predict(X.iloc[:6, [1, 0]]), expected)
    with pytest.raises(ValueError, match="missing the columns"):
        gp.predict(pd.DataFrame(values, columns=[1.0, 2.0]))


def test_bool_category_and_declared_levels():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.random(30), "on": rng.random(30) > 0.5,
                      "kind": pd.Categorical(rng.choice(["p", "q"], 30),
                                             categories=["q", "p", "r"])})
    y = X["x"] + X["on"] + (X["kind"] == "p")
    gp = GPRegressor(seed=0).fit(X, y)
    # a declared level unseen in the rows is known (cross-validation folds rely on it)
    assert gp.categories_ == {"on": [False, True], "kind": ["q", "p", "r"]}
    assert np.isfinite(gp.predict(X.assign(kind="r"))).all()


# -- clear errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_unseen_category_names_column_value_and_levels(model):
    X, y = _design()
    model.fit(X, _target(model, y))
    with pytest.raises(ValueError, match=r"column 'policy' has categories not seen at fit: "
                                         r"'medium'; the known levels are \['high', 'low'\]"):
        _outputs(model, X.assign(policy="medium"))


JUNK = [
    (["a", 1.5, "b"] * 10, r"column 'bad' mixes kinds of values \(number 1\.5, str 'a'\)"),
    ([True, "yes", "no"] * 10, r"column 'bad' mixes kinds of values \(bool True, str 'yes'\)"),
    (["a", None, "b"] * 10, r"column 'bad' holds categories with missing values \(None/NaN\) "
                            r"at rows \[1, 4, 7, 10, 13\]"),
    # values no model takes: named with their type, not numpy's "setting an array element
    # with a sequence" or a dump of the whole frame
    ([(1, 2)] * 30, r"column 'bad' holds values of type tuple \(e\.g\. \(1, 2\)\)"),
    ([b"x", b"y"] * 15, r"column 'bad' holds values of type bytes \(e\.g\. b'x'\)"),
    (np.arange(30) + 1j, r"column 'bad' holds complex numbers, complex128 .*Complex data not "
                         r"supported"),
    (pd.period_range("2020-01", periods=30, freq="M"), r"column 'bad' holds values of type Period"),
    (pd.interval_range(0, 30), r"column 'bad' holds values of type Interval"),
]


@pytest.mark.parametrize(("values", "match"), JUNK)
@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_a_column_of_junk_is_refused_by_name(model, values, match):
    X, y = _design()
    X["bad"] = values
    with pytest.raises((ValueError, TypeError), match=match) as info:
        model.fit(X, _target(model, y))
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(type(model).__name__)


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_junk_in_cross_validate_is_refused_before_any_fold(model):
    X, y = _design()
    X["bad"] = JUNK[0][0]
    start = time.perf_counter()
    with pytest.raises(ValueError, match=JUNK[0][1]):
        cross_validate(model, X, _target(model, y), cv=3, seed=0)
    assert time.perf_counter() - start < 5.0  # no fold was fitted


def test_text_in_a_column_numeric_at_fit_is_refused_by_name():
    X, y = _design()
    numeric = X.assign(policy=(X["policy"] == "high").astype(float))
    gp = GPRegressor(seed=0).fit(numeric, y)
    with pytest.raises(ValueError, match=r"column 'policy' was numeric at fit but now holds "
                                         r"'(low|high)'"):
        gp.predict(X)


@pytest.mark.parametrize("values", [[(1, 2)] * 30, np.arange(30) + 1j])
def test_values_no_model_takes_are_refused_at_predict_by_name(values):
    X, y = _design()
    gp = GPRegressor(seed=0).fit(X, y)
    with pytest.raises((ValueError, TypeError),
                       match=r"GPRegressor: column 'x' holds (values of type|complex)"):
        gp.predict(X.assign(x=values[:len(X)]))
    with pytest.raises(ValueError, match=r"column 1 holds complex numbers"):
        GPRegressor(seed=0).fit(np.column_stack([np.ones(len(X)), np.arange(len(X)) + 1j]), y)


def test_numbers_of_other_kinds_held_as_objects_are_numbers():
    """0-d arrays and torch scalars in an object column fitted before values of other types
    were named, and must still (they are numbers to float())."""
    import torch

    X, y = _design()
    x = X["x"].to_numpy()
    gp = GPRegressor(seed=0).fit(pd.DataFrame({"x": x}), y)
    for wrap in (np.asarray, lambda v: torch.tensor(v, dtype=torch.float64)):
        column = pd.Series([wrap(v) for v in x], dtype=object)
        with pytest.warns(UserWarning, match=r"\['x'\] hold numbers as objects"):
            other = GPRegressor(seed=0).fit(pd.DataFrame({"x": column}), y)
        np.testing.assert_allclose(other.predict(pd.DataFrame({"x": x})),
                                   gp.predict(pd.DataFrame({"x": x})))


def test_numbers_held_as_objects_are_still_numbers():
    X, y = _design()
    numeric = X[["x", "k"]].to_numpy().astype(object)  # numbers, object dtype
    gp = GPRegressor(seed=0).fit(numeric, y)
    assert gp.categories_ == {}
    as_floats = GPRegressor(seed=0).fit(numeric.astype(float), y)  # (y depends on an input
    # not given here, so the GP fits noise rather than interpolating)
    assert np.array_equal(gp.predict(numeric.astype(float)), as_floats.predict(numeric))
    frame = X[["x", "k"]].astype(object)  # in a frame, said: sample() makes such columns of
    with pytest.warns(UserWarning, match=r"GPRegressor: column\(s\) \['x', 'k'\] hold numbers "
                      r"as objects.*read as ordered numbers"):  # a Categorical of numbers
        assert np.array_equal(GPRegressor(seed=0).fit(frame, y).predict(frame),
                              gp.predict(numeric))


def test_a_categorical_of_numbers_from_sample_is_warned_of_and_cast_on_request():
    space = sg.Space([sg.Real("x", 0, 1), sg.Categorical("mesh", [10, 20, 40])])
    X = sg.sample(space, 30, seed=0)
    y = X["x"].to_numpy() + X["mesh"].map({10: 0.0, 20: 5.0, 40: -3.0}).to_numpy(dtype=float)
    with pytest.warns(UserWarning, match=r"\['mesh'\] hold numbers as objects"):
        ordered = GPRegressor(seed=0).fit(X, y)
    assert ordered.categories_ == {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        levels = GPRegressor(seed=0).fit(X.astype({"mesh": "category"}), y)
    assert levels.categories_ == {"mesh": [10, 20, 40]}
    assert levels.categorical_ in {"exchangeable", "latent"}
    np.testing.assert_allclose(levels.predict(X), y, atol=0.05)  # sample()'s columns predict


def test_numbers_as_objects_are_told_once_by_a_cross_validation_and_a_field_model():
    # said once per fold, and twice by a field model, the second time as its private GP's
    from surrogate.models import FieldGPRegressor

    X = pd.DataFrame({"x": np.linspace(0, 1, 12), "k": [1, 2, 3] * 4}).astype({"k": object})
    y = X["x"].to_numpy() + X["k"].to_numpy(dtype=float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cross_validate(GPRegressor(seed=0, n_restarts=1), X, y, cv=3, seed=0)
        trajectories = np.outer(y, np.linspace(0, 1, 5))
        FieldGPRegressor(seed=0, n_restarts=1).fit(X, trajectories)
    told = [str(w.message) for w in caught if "hold numbers as objects" in str(w.message)]
    assert len(told) == 2, told
    assert told[0].startswith("GPRegressor: ") and told[1].startswith("FieldGPRegressor: ")
    assert all(w.filename == __file__ for w in caught if "hold numbers" in str(w.message))


# -- cross-validation and persistence -------------------------------------------------------------
def test_cross_validate_when_a_fold_lacks_a_rare_category():
    X = sg.sample(SWITCH, 60, seed=4)
    X.loc[X.index[0], "scheme"] = "rare"  # one row: the folds without it still know the level
    y = np.where(X["scheme"] == "rare", 0.0, _switch(X.assign(scheme=X["scheme"].replace(
        "rare", "a"))))
    scores = cross_validate(GPRegressor(seed=0), X, y, cv=5, seed=0)
    assert np.isfinite(scores["y_pred"]).all() and scores["q2"] > 0.9


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_cross_validate_on_an_object_array_when_a_fold_lacks_a_rare_category(model):
    """The same as an object array (by position): every fold's model knows every level too;
    a fold without the rare row refused it at predict ("categories not seen at fit")."""
    X, y = _design(30)
    X.loc[X.index[0], "policy"] = "rare"
    scores = cross_validate(model, X.to_numpy(), _target(model, y), cv=3, seed=0)
    framed = cross_validate(model, X, _target(model, y), cv=3, seed=0)
    key = "proba" if hasattr(model, "predict_proba") else "y_pred"
    np.testing.assert_allclose(scores[key], framed[key])


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_levels_and_training_range_survive_save_load(tmp_path, model):
    X, y = _design()
    model.fit(X, _target(model, y))
    np.testing.assert_array_equal(model.data_min_, [X["x"].min(), np.nan, X["k"].min()])
    np.testing.assert_array_equal(model.data_max_, [X["x"].max(), np.nan, X["k"].max()])
    assert model.n_samples_fit_ == len(X)
    model.save(tmp_path)
    assert "NaN" not in (tmp_path / "meta.json").read_text()  # strict JSON
    loaded = load(tmp_path)
    assert loaded.categories_ == model.categories_
    np.testing.assert_array_equal(loaded.data_min_, model.data_min_)
    np.testing.assert_array_equal(loaded.data_max_, model.data_max_)
    Xt = sg.sample(SPACE, 50, method="random", seed=9)[["k", "policy", "x"]]  # by name
    assert np.array_equal(_outputs(loaded, Xt), _outputs(model, Xt))
    with pytest.raises(ValueError, match="not seen at fit"):
        _outputs(loaded, Xt.assign(policy="medium"))


def test_training_range_of_a_frame_with_awkward_values(tmp_path):
    # values whose decimal form needs all 17 digits still round-trip exactly through JSON
    X = pd.DataFrame({"a": [0.1 + 0.2, 1 / 3, 2.0 / 7.0], "b": [1e-300, 5.0, -1e30]})
    gp = GPRegressor(seed=0).fit(X, [0.0, 1.0, 2.0])
    gp.save(tmp_path)
    loaded = load(tmp_path)
    assert np.array_equal(loaded.data_min_, X.min().to_numpy())
    assert np.array_equal(loaded.data_max_, X.max().to_numpy())


@pytest.mark.parametrize(("X", "y", "match"), [
    (pd.DataFrame({"a": [0.1, 0.5, 0.9, 0.3]}), ["a", "b", "c", "d"],
     r"y must be numbers; it holds values such as \['a'"),
    (pd.DataFrame({"a": [0.1, 0.5, 0.9, 0.3]}), [1.0, np.inf, 2.0, 3.0],
     r"y contains inf \(e.g. rows \[1\]\)"),
    (pd.DataFrame({"a": [0.1, np.nan, 0.9, 0.3]}), [1.0, 2.0, 3.0, 4.0],
     r"X column 'a' holds NaN or inf \(e.g. rows \[1\]\)"),
    (pd.DataFrame([[0.1, 0.2], [0.5, 0.1], [0.9, 0.3], [0.3, 0.7]], columns=["a", "a"]),
     [1.0, 2.0, 3.0, 4.0], r"column name\(s\) \['a'\] more than once"),
    (pd.DataFrame({"d": pd.date_range("2026-01-01", periods=4)}), [1.0, 2.0, 3.0, 4.0],
     r"X column\(s\) \['d'\] hold dates or times"),
])
def test_inputs_no_model_can_take_are_named(X, y, match):
    from surrogate.models import GPRegressor

    with pytest.raises(ValueError, match=match):
        GPRegressor(seed=0).fit(X, y)


def test_non_finite_inputs_at_predict_are_named():
    from surrogate.models import GPRegressor

    X = pd.DataFrame({"a": [0.1, 0.5, 0.9, 0.3], "b": [0.2, 0.4, 0.6, 0.8]})
    model = GPRegressor(seed=0).fit(X, X["a"] + X["b"])
    with pytest.raises(ValueError, match=r"X column 'b' holds NaN or inf \(e.g. rows \[0\]\)"):
        model.predict(X.assign(b=[np.inf, 0.1, 0.2, 0.3]))
