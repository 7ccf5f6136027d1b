"""Surrogate targets: scikit-learn pipelines are fitted models, and a space wider than the
training data is flagged (the indices of an extrapolating surrogate mean nothing)."""

import warnings

import numpy as np
import pytest
from sklearn.compose import make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import surrogate as sg
from surrogate.models import load

SPACE = sg.Space([sg.Real("x1", 0.0, 1.0), sg.Real("x2", 0.0, 1.0)])
# trained on half of x1's range only
NARROW = sg.Space([sg.Real("x1", 0.0, 0.5), sg.Real("x2", 0.0, 1.0)])
BEYOND = "reaches beyond the data"


def _function(X):
    return np.sin(2 * np.pi * X["x1"]) + X["x2"] ** 2


def _gp(space, n=60):
    X = sg.sample(space, n, seed=0)
    return sg.GPRegressor(seed=0).fit(X, _function(X))


def _no_range_warning(call):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = call()
    assert not [w for w in record if BEYOND in str(w.message)]
    return result


def test_sobol_warns_when_the_space_is_wider_than_the_training_data():
    gp = _gp(NARROW)
    with pytest.warns(UserWarning, match=BEYOND) as record:
        sg.sobol_indices(gp, SPACE, n=64, seed=0, posterior_samples=0)
    low, high = gp.data_min_[0], gp.data_max_[0]
    assert str(record[0].message).startswith(
        f"sobol_indices: the space reaches beyond the data the GPRegressor was trained on for "
        f"x1 (trained on [{low:.6g}, {high:.6g}], space [0, 1]); the surrogate extrapolates")
    assert "x2" not in str(record[0].message)  # x2 was covered
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="morris: the space reaches beyond"):
        sg.morris(gp, SPACE, trajectories=4, seed=0)


def test_no_warning_on_the_space_the_training_design_was_drawn_from():
    # a small design leaves gaps at the edges (up to 1/n of the range for LHS): no warning
    for n in (12, 60):
        gp = _gp(SPACE, n)
        assert gp.data_min_.max() > 0.0 and gp.data_max_.min() < 1.0  # it does not reach them
        _no_range_warning(lambda gp=gp: sg.sobol_indices(gp, SPACE, n=64, seed=0,
                                                         posterior_samples=0))
        _no_range_warning(lambda gp=gp: sg.morris(gp, SPACE, trajectories=4, seed=0))
    # the narrow model over its own space
    _no_range_warning(lambda: sg.sobol_indices(_gp(NARROW), NARROW, n=64, seed=0,
                                               posterior_samples=0))


def test_a_loaded_model_still_warns(tmp_path):
    _gp(NARROW).save(tmp_path)
    with pytest.warns(UserWarning, match=BEYOND):
        sg.sobol_indices(load(tmp_path), SPACE, n=64, seed=0, posterior_samples=0)


def _policy_pipeline():
    """y = x + [policy == "high"]: S1 = (1/12, 1/4) / (1/3) = (0.25, 0.75), no interaction."""
    space = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("policy", ["low", "high"])])
    X = sg.sample(space, 40, seed=0)
    y = X["x"] + (X["policy"] == "high")
    encode = make_column_transformer((OneHotEncoder(sparse_output=False), ["policy"]),
                                     remainder="passthrough")
    return space, make_pipeline(encode, sg.GPRegressor(seed=0)), X, y


def test_sobol_of_a_fitted_pipeline_with_a_categorical_column():
    space, pipeline, X, y = _policy_pipeline()
    with pytest.raises(ValueError, match="unfitted Pipeline"):
        sg.sobol_indices(pipeline, space, n=64, seed=0)
    pipeline.fit(X, y)
    indices = sg.sobol_indices(pipeline, space, n=1024, seed=0)
    assert indices["S1"].to_numpy() == pytest.approx([0.25, 0.75], abs=0.03)
    assert indices["ST"].to_numpy() == pytest.approx([0.25, 0.75], abs=0.03)


def test_a_space_parameter_the_model_never_saw_is_refused():
    space = sg.Space([sg.Real("x1", 0, 1), sg.Real("x2", 0, 1)])
    X = sg.sample(space, 30, seed=0)
    model = sg.GPRegressor(seed=0).fit(X, X["x1"] + X["x2"])
    wider = sg.Space([*space, sg.Real("x4", 0, 1)])
    with pytest.raises(ValueError, match=r"parameter\(s\) \['x4'\] are not inputs of the "
                                         r"GPRegressor \(fitted on \['x1', 'x2'\]\)"):
        sg.sobol_indices(model, wider, n=64, seed=0)  # its indices were silently 0


def test_a_classifier_is_analysed_through_its_probability():
    from sklearn.linear_model import LogisticRegression

    from surrogate._target import as_batch_function

    space = sg.Space([sg.Real("x1", -1, 1), sg.Real("x2", -1, 1)])
    X = sg.sample(space, 200, seed=0)
    clf = LogisticRegression().fit(X, X["x1"] + 0.1 * X["x2"] > 0)
    _, f = as_batch_function(clf, space)
    grid = sg.sample(space, 50, method="random", seed=1)
    np.testing.assert_allclose(f(grid), clf.predict_proba(grid)[:, 1])  # not the 0/1 label
    indices = sg.sobol_indices(clf, space, n=1024, seed=0)
    assert indices.loc["x1", "ST"] > 0.8 > indices.loc["x2", "ST"]
