"""Models on inputs a user meets: folds choosing a tree, bad rows named in the whole data,
missing labels, levels that cannot be saved, a device this machine lacks."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import surrogate as sg


def test_cross_validate_an_automatic_student_that_picks_a_tree_in_a_fold():
    """On a step, a fold's comparison picks the random forest, which gives no std: the
    scores come without coverage (it raised inside the fold)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(80, 2))
    y = np.where(X[:, 0] > 0.5, 1.0, 0.0) + 0.1 * X[:, 1]
    auto = sg.AutoRegressor(candidates=["gp", "rf"], cv=3, seed=0)
    with pytest.warns(UserWarning, match="no coverage95: in a fold the automatic student "
                                         "chose 'rf'"):
        scores = sg.cross_validate(auto, X, y, cv=3, seed=0)
    assert "coverage95" not in scores and "y_std" not in scores
    assert scores["q2"] > 0.8
    with warnings.catch_warnings():  # a GP in every fold: coverage as usual
        warnings.simplefilter("error", UserWarning)
        scores = sg.cross_validate(sg.AutoRegressor(candidates=["gp"], cv=3, seed=0), X,
                                   X.sum(axis=1), cv=3, seed=0)
    assert 0.0 <= scores["coverage95"] <= 1.0


def test_cross_validate_names_bad_rows_of_the_whole_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(30, 2))
    y = X.sum(axis=1)
    y[[5, 17]] = np.nan
    with pytest.raises(ValueError, match=r"y contains NaN \(e.g. rows \[5, 17\]\)"):
        sg.cross_validate(sg.GPRegressor(seed=0), X, y, cv=3, seed=0)
    X[[4, 21], 1] = np.inf
    frame = pd.DataFrame(X, columns=["a", "b"])
    with pytest.raises(ValueError, match=r"X column 'b' holds NaN or inf \(e.g. rows \[4, 21\]"):
        sg.cross_validate(sg.GPRegressor(seed=0), frame, X.sum(axis=1), cv=3, seed=0)


@pytest.mark.parametrize("model", [sg.GPClassifier, sg.NNClassifier])
def test_missing_class_labels_are_named(model):
    X = np.random.default_rng(0).uniform(size=(20, 2))
    y = np.array(["a", "b"] * 10, dtype=object)
    y[4] = None
    with pytest.raises(ValueError, match=r"y contains missing values \(NaN or None\) "
                                         r"\(e.g. rows \[4\]\)"):
        model(seed=0).fit(X, y)


@pytest.mark.parametrize("levels", [
    pd.cut(np.random.default_rng(1).uniform(size=30), 3),
    pd.Categorical(pd.to_datetime(["2020-01-01", "2021-01-01"] * 15))])
def test_levels_that_cannot_be_saved_are_refused_at_fit(levels):
    a = np.random.default_rng(0).uniform(size=30)
    X = pd.DataFrame({"a": a, "z": levels})
    with pytest.raises(ValueError, match=r"GPRegressor: categorical column 'z' has levels of "
                                         r"type (Interval|Timestamp).*astype\(str\)"):
        sg.GPRegressor(seed=0).fit(X, np.sin(3 * a))
    X["z"] = X["z"].astype(str)
    assert sg.GPRegressor(seed=0).fit(X, np.sin(3 * a)).categories_["z"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_loading_onto_a_missing_gpu_blames_the_device_not_the_file(tmp_path):
    X = np.random.default_rng(0).uniform(size=(10, 1))
    sg.GPRegressor(seed=0).fit(X, X[:, 0]).save(tmp_path / "gp")
    with pytest.raises(ValueError) as info:
        sg.load(tmp_path / "gp", device="cuda")
    assert str(info.value).startswith("device='cuda' was requested but")


def test_cross_validate_leaves_missing_inputs_to_a_pipeline_that_imputes_them():
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    X = np.random.default_rng(0).uniform(size=(40, 2))
    y = X.sum(axis=1)
    X[3, 0] = np.nan
    scores = sg.cross_validate(make_pipeline(SimpleImputer(), LinearRegression()), X, y, cv=4,
                               seed=0)
    assert scores["q2"] > 0.9


def test_a_model_fitted_with_a_torch_device_or_a_fraction_saves_and_loads(tmp_path):
    from fractions import Fraction

    X = np.random.default_rng(0).uniform(size=(10, 1))
    model = sg.GPRegressor(seed=0, device=torch.device("cpu"),
                           noise_floor=Fraction(1, 1000)).fit(X, X[:, 0])
    model.save(tmp_path / "gp")
    loaded = sg.load(tmp_path / "gp")
    assert loaded.device == "cpu" and loaded.noise_floor == 0.001
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-12)


def test_an_option_json_cannot_hold_is_named_and_nothing_is_written(tmp_path):
    X = np.random.default_rng(0).uniform(size=(10, 1))
    model = sg.GPRegressor(seed=0).fit(X, X[:, 0])
    model.kernel = object()  # an option set after the fit, as set_params would
    with pytest.raises(TypeError, match=r"cannot save this GPRegressor: its option kernel="):
        model.save(tmp_path / "gp")
    assert not (tmp_path / "gp").exists()


def test_a_gpu_index_past_the_gpus_torch_sees_is_refused(monkeypatch):
    from surrogate.models._base import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ValueError, match=r"device='cuda:7' was requested but torch sees 1 GPU"):
        resolve_device("cuda:7")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_an_adaptive_design_with_a_student_on_a_missing_gpu_stops_before_any_run():
    calls = []

    def teacher(p):
        calls.append(p)
        return p["x"] ** 2

    space = sg.Space([sg.Real("x", 0.0, 1.0)])
    with pytest.raises(ValueError, match=r"device='cuda' was requested"):
        sg.adaptive_sample(teacher, space=space, budget=8, seed=0,
                           model=sg.GPRegressor(device="cuda"), progress=False)
    assert calls == []


def test_the_success_gp_of_a_sequential_design_follows_the_students_device():
    from surrogate.sequential._student import success_template

    assert success_template(None) is None
    assert success_template(sg.GPRegressor(device="cpu")) is None
    assert success_template(sg.GPRegressor(device="cuda:0")).device == "cuda:0"



def test_numeric_text_outputs_fit_as_the_numbers_they_hold():
    """y read from a text file as strings ('<U' dtype): fitted as its numbers, as the same
    strings in an object array were (they reached numpy's mean as text and crashed)."""
    X = np.random.default_rng(0).random((20, 2))
    y = X.sum(axis=1).round(6)
    as_text = np.array([f"{v:.6f}" for v in y])
    assert as_text.dtype.kind == "U"
    expected = sg.GPRegressor(seed=0).fit(X, y).predict(X[:5])
    np.testing.assert_array_equal(sg.GPRegressor(seed=0).fit(X, as_text).predict(X[:5]),
                                  expected)
    np.testing.assert_array_equal(sg.NNRegressor(seed=0, max_epochs=5).fit(X, as_text)
                                  .predict(X[:5]),
                                  sg.NNRegressor(seed=0, max_epochs=5).fit(X, y).predict(X[:5]))


def test_a_y_whose_index_differs_from_xs_is_read_by_position_with_a_warning():
    """As PRIM, CART and REDS warn: a shuffled y (e.g. sorted) is no longer X's row for row,
    which fit, score and cross_validate read in silence (Q² ~0)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((30, 2)), columns=["a", "b"])
    y = X["a"] + X["b"]
    shuffled = y.sort_values()
    match = "y's index differs from X's: the labels are read by position"
    with pytest.warns(UserWarning, match=match):
        model = sg.GPRegressor(seed=0).fit(X, shuffled)
    with pytest.warns(UserWarning, match=match):
        model.score(X, shuffled)
    with pytest.warns(UserWarning, match=match) as seen:
        sg.cross_validate(sg.GPRegressor(seed=0), X, shuffled, cv=3, seed=0)
    assert sum(match in str(w.message) for w in seen) == 1  # once, not in every fold
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        sg.GPRegressor(seed=0).fit(X, y).score(X, y)
        sg.cross_validate(sg.GPRegressor(seed=0), X, y, cv=3, seed=0)
