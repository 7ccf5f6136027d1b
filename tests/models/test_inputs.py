"""Inputs the surrogates cannot use get one clear error; the training range is recorded."""

from __future__ import annotations

import time

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
)

SPACE = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("policy", ["low", "high"]),
                  sg.Integer("k", 1, 5)])
MODELS = [GPRegressor(seed=0), NNRegressor(n_ensemble=2, max_epochs=5, seed=0),
          GPClassifier(n_inducing=8, max_iter=5, seed=0),
          NNClassifier(n_ensemble=2, max_epochs=5, seed=0)]


def _design(n=30):
    X = sg.sample(SPACE, n, seed=0)
    y = X["x"] + (X["policy"] == "high") + 0.1 * X["k"]
    return X, y


def _target(model, y):
    return y > y.median() if hasattr(model, "predict_proba") else y


# one line naming the column and the way out; never pandas' "could not convert string"
CATEGORY_ERROR = (r"takes numeric columns only; X has non-numeric column\(s\) \['policy'\] "
                  r"\(values such as '(low|high)'\)\. Encode categories first.*OneHotEncoder")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_categorical_column_is_refused_by_name(model):
    X, y = _design()
    with pytest.raises(ValueError, match=CATEGORY_ERROR) as info:
        model.fit(X, _target(model, y))
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(type(model).__name__)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_categorical_column_of_an_array_is_refused_by_position(model):
    X, y = _design()
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \[1\]"):
        model.fit(X.to_numpy(), _target(model, y))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_categorical_column_in_cross_validate_is_refused_before_any_fold(model):
    X, y = _design()
    start = time.perf_counter()
    with pytest.raises(ValueError, match=CATEGORY_ERROR):
        cross_validate(model, X, _target(model, y), cv=3, seed=0)
    assert time.perf_counter() - start < 5.0  # no fold was fitted


def test_categorical_column_at_predict_is_refused_by_name():
    X, y = _design()
    numeric = X.assign(policy=(X["policy"] == "high").astype(float))
    gp = GPRegressor(seed=0).fit(numeric, y)
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['policy'\]"):
        gp.predict(X)


def test_numbers_held_as_objects_are_still_accepted():
    X, y = _design()
    numeric = X[["x", "k"]].to_numpy().astype(object)  # numbers, object dtype
    gp = GPRegressor(seed=0).fit(numeric, y)
    assert np.allclose(gp.predict(numeric.astype(float)), y, atol=1e-3)
    frame = X[["x", "k"]].astype(object)
    assert np.array_equal(GPRegressor(seed=0).fit(frame, y).predict(frame), gp.predict(numeric))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_training_range_is_recorded_and_survives_save_load(tmp_path, model):
    X, y = _design()
    numeric = X[["x", "k"]]
    model.fit(numeric, _target(model, y))
    assert np.array_equal(model.data_min_, numeric.min().to_numpy())
    assert np.array_equal(model.data_max_, numeric.max().to_numpy())
    assert model.n_samples_fit_ == len(numeric)
    model.save(tmp_path)
    loaded = load(tmp_path)
    assert np.array_equal(loaded.data_min_, model.data_min_)
    assert np.array_equal(loaded.data_max_, model.data_max_)
    assert loaded.n_samples_fit_ == model.n_samples_fit_


def test_training_range_of_a_frame_with_awkward_values(tmp_path):
    # values whose decimal form needs all 17 digits still round-trip exactly through JSON
    X = pd.DataFrame({"a": [0.1 + 0.2, 1 / 3, 2.0 / 7.0], "b": [1e-300, 5.0, -1e30]})
    gp = GPRegressor(seed=0).fit(X, [0.0, 1.0, 2.0])
    gp.save(tmp_path)
    loaded = load(tmp_path)
    assert np.array_equal(loaded.data_min_, X.min().to_numpy())
    assert np.array_equal(loaded.data_max_, X.max().to_numpy())
