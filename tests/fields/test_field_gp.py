"""FieldGPRegressor: a reduced basis and one batched GP reproduce whole trajectories.

Oracle: the linear ODE ``dy/dt = -k y``, ``y(0) = a``, whose trajectory ``a exp(-k t)`` is known
in closed form, run through a real Simulator with a field output.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import surrogate as sg
from surrogate.models import FieldGPRegressor, GPRegressor, cross_validate, field_q2, load

SPACE = sg.Space([sg.Real("a", 0.5, 2.0), sg.Real("k", 0.1, 1.0)])
TIMES = np.linspace(0.0, 5.0, 21)


def decay(X):
    a, k = X["a"].to_numpy()[:, None], X["k"].to_numpy()[:, None]
    return a * np.exp(-k * TIMES[None, :])


TEACHER = sg.Simulator(decay, SPACE, fields={"y": TIMES}, vectorized=True, name="decay")


@pytest.fixture(scope="module")
def runs():
    return TEACHER.run(sg.sample(SPACE, 40, seed=1), progress=False)


@pytest.fixture(scope="module")
def held_out():
    X = sg.sample(SPACE, 400, method="random", seed=2)
    return X, decay(X)


@pytest.fixture(scope="module")
def model(runs):
    return FieldGPRegressor(seed=0).fit(runs.X, runs.field("y"))


def test_a_closed_form_trajectory_is_reproduced(model, held_out):
    X, Y = held_out
    assert model.score(X, Y) > 0.999
    assert model.field_ == "y"
    np.testing.assert_array_equal(model.grid_, TIMES)
    assert model.predict(X).shape == (400, 21)
    assert 1 <= model.n_components_ <= 5
    assert model.explained_variance_ratio_.sum() >= 0.999
    assert isinstance(model.gp_, GPRegressor) and model.gp_.n_outputs_ == model.n_components_


def test_the_band_covers_held_out_trajectories(model, held_out):
    X, Y = held_out
    mean, std = model.predict(X, return_std=True)
    coverage = np.mean(np.abs(Y - mean) <= 1.96 * std)
    assert 0.9 <= coverage <= 1.0


def test_the_std_includes_the_truncation_error(runs, held_out):
    # one component cannot represent a two-parameter family: the truncation error dominates
    model = FieldGPRegressor(n_components=1, seed=0).fit(runs.X, runs.field("y"))
    X, Y = held_out
    mean, std = model.predict(X, return_std=True)
    assert (std >= model.residual_std_ * (1 - 1e-12)).all()
    assert model.residual_std_.max() > 0.05
    # the truncation residual measured on fresh trajectories matches its estimate
    centred = Y - model.mean_
    residual = centred - (centred @ model.components_.T) @ model.components_
    observed = np.sqrt((residual**2).mean(axis=0))
    np.testing.assert_allclose(observed[1:], model.residual_std_[1:], rtol=0.5)
    assert 0.9 <= np.mean(np.abs(Y - mean) <= 1.96 * std) <= 1.0
    # without the truncation term the band would miss most trajectories
    gp_only = np.sqrt(np.maximum(std**2 - model.residual_std_**2, 0.0))
    assert np.mean(np.abs(Y - mean) <= 1.96 * gp_only) < 0.6


def test_posterior_draws_match_the_predictive_moments(model, held_out):
    X = held_out[0].iloc[:5]
    mean, std = model.predict(X, return_std=True)
    for joint in (True, False):
        draws = model.sample_posterior(X, 4000, seed=3, joint=joint)
        assert draws.shape == (4000, 5, 21)
        # Monte Carlo error of a mean of 4000 draws is std / 63
        assert (np.abs(draws.mean(axis=0) - mean) <= 5 * std / np.sqrt(4000)).all()
        np.testing.assert_allclose(draws.std(axis=0), std, rtol=0.1)
    np.testing.assert_array_equal(model.sample_posterior(X, 3, seed=1),
                                  model.sample_posterior(X, 3, seed=1))


def test_save_load_round_trip(model, held_out, tmp_path):
    X = held_out[0].iloc[:20]
    model.save(tmp_path / "field")
    meta = json.loads((tmp_path / "field" / "meta.json").read_text())
    assert meta["class"] == "FieldGPRegressor" and meta["state"]["gp"]["class"] == "GPRegressor"
    back = load(tmp_path / "field")
    assert type(back) is FieldGPRegressor and back.get_params() == model.get_params()
    assert back.field_ == "y" and list(back.feature_names_in_) == ["a", "k"]
    np.testing.assert_array_equal(back.grid_, model.grid_)
    for a, b in zip(back.predict(X, return_std=True), model.predict(X, return_std=True),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.sample_posterior(X, 4, seed=0),
                                  model.sample_posterior(X, 4, seed=0))


def test_cross_validate_reports_q2_over_the_field_and_band_coverage(runs):
    scores = cross_validate(FieldGPRegressor(seed=0), runs.X, runs.field("y"), cv=4, seed=0)
    assert scores["q2"] == pytest.approx(field_q2(runs.field("y"), scores["y_pred"]))
    assert scores["q2"] > 0.99
    assert scores["q2_time"].shape == (21,)
    assert np.isnan(scores["q2_time"][0]) == (np.ptp(runs.field("y").iloc[:, 0]) == 0)
    assert np.nanmin(scores["q2_time"]) > 0.9
    assert 0.85 <= scores["coverage95"] <= 1.0


def test_field_q2_is_the_share_of_variance_explained():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(30, 8))
    noise = rng.normal(size=(30, 8))
    sst = ((truth - truth.mean(axis=0)) ** 2).sum()
    assert field_q2(truth, truth + noise) == pytest.approx(1 - (noise**2).sum() / sst)
    assert field_q2(truth, truth) == 1.0
    assert np.isnan(field_q2(np.ones((3, 2)), np.zeros((3, 2))))


def test_bad_input_is_named(runs):
    Y = runs.field("y")
    with pytest.raises(ValueError, match="explained_variance must be a float in"):
        FieldGPRegressor(explained_variance=0.0).fit(runs.X, Y)
    with pytest.raises(ValueError, match=r"n_components=50 exceeds min\(n_runs, n_times\) = 21"):
        FieldGPRegressor(n_components=50).fit(runs.X, Y)
    with pytest.raises(ValueError, match="kernel must be one of"):
        FieldGPRegressor(kernel="linear").fit(runs.X, Y)
    bad = Y.copy()
    bad.iloc[3, 4] = np.nan
    with pytest.raises(ValueError, match="y contains NaN.*TransferSet.valid"):
        FieldGPRegressor().fit(runs.X, bad)


def test_a_field_on_another_grid_is_refused_not_misread(model, runs):
    """score compares trajectories point by point: columns naming other times (here the same
    grid reversed, or shifted) must be refused, not read by position."""
    Y = runs.field("y")
    assert model.score(runs.X, Y) == pytest.approx(model.score(runs.X, Y.to_numpy()))
    with pytest.raises(ValueError, match="y's columns are not those of the field the model "
                                         r"was fitted on \(21 points: 0, 0.25, 0.5, ...\); got "
                                         "21 points: 5,"):
        model.score(runs.X, Y[Y.columns[::-1]])
    shifted = Y.set_axis(Y.columns + 1.0, axis=1)
    with pytest.raises(ValueError, match="not those of the field the model was fitted on"):
        model.score(runs.X, shifted)


def test_a_numeric_grid_out_of_order_is_refused_at_fit(runs):
    """Numeric columns are the grid: times out of order were silently read as the
    positions 0 .. T-1, and predictions came back labelled with times they were not for."""
    Y = runs.field("y")
    with pytest.raises(ValueError, match=r"read as the field's grid: field 'y': the grid must "
                                         r"be strictly increasing \(1-D, finite\), but it falls "
                                         r"at position 1 \(5.0 -> 4.75\); sort the columns"):
        FieldGPRegressor(seed=0).fit(runs.X, Y[Y.columns[::-1]])
    swapped = Y[[Y.columns[0], Y.columns[2], Y.columns[1], *Y.columns[3:]]]
    with pytest.raises(ValueError, match=r"position 2 \(0.5 -> 0.25\); sort the columns"):
        FieldGPRegressor(seed=0).fit(runs.X, swapped)


def test_a_tiny_or_huge_field_keeps_its_components_score_and_band(runs, held_out):
    """Squares of a field of 1e-160 underflowed in field_q2 (Q² 1.0 for any fit); of 1e-300
    and 1e160 in the explained variance, which kept one component (held-out Q² 0.91), and in
    the pointwise std (0 or inf)."""
    X_test, Y_test = held_out
    plain = FieldGPRegressor(seed=0).fit(runs.X, runs.field("y"))
    q2 = plain.score(X_test, Y_test)
    assert field_q2(Y_test * 1e-160, plain.predict(X_test) * 1e-160) == pytest.approx(q2)
    _, std = plain.predict(X_test, return_std=True)
    for scale in (1e-300, 1e160):
        model = FieldGPRegressor(seed=0).fit(runs.X, runs.field("y") * scale)
        assert model.n_components_ == plain.n_components_
        assert model.score(X_test, Y_test * scale) == pytest.approx(q2, abs=1e-6)
        # the band too: the squares of the std overflowed to inf at 1e160, underflowed to 0
        np.testing.assert_allclose(model.predict(X_test, return_std=True)[1] / scale, std,
                                   rtol=0.01)  # the GP's fit itself differs in rounding


def test_clone_keeps_the_parameters():
    model = FieldGPRegressor(n_components=3, kernel="rbf", seed=4)
    assert clone(model).get_params() == model.get_params()


def test_a_numpy_field_gets_an_index_grid(runs):
    model = FieldGPRegressor(seed=0).fit(runs.X.to_numpy(), runs.field("y").to_numpy())
    np.testing.assert_array_equal(model.grid_, np.arange(21.0))
    assert model.field_ is None
    frame = pd.DataFrame(runs.field("y").to_numpy(), columns=[f"c{j}" for j in range(21)])
    assert FieldGPRegressor(seed=0).fit(runs.X, frame).grid_.tolist() == list(range(21))


@parametrize_with_checks([FieldGPRegressor(seed=0, n_restarts=1)])
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_q2_per_grid_point_is_nan_where_the_runs_only_differ_by_rounding():
    """After SIR's epidemics the runs spread by 4e-10 and the report's lowest Q² on the grid
    read -1.6e13: such points are flat, as for the field's Sobol' indices."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(0.5, 1.5, 40), "b": rng.uniform(1.0, 2.0, 40)})
    t = np.linspace(0.0, 40.0, 41)
    Y = X.a.to_numpy()[:, None] * np.exp(-X.b.to_numpy()[:, None] * t)  # < 1e-17 from t = 20
    Y[:, 20:] += rng.normal(scale=1e-12, size=(40, 21))  # rounding noise of a solver
    scores = cross_validate(FieldGPRegressor(seed=0), X, Y, cv=4, seed=0)
    assert np.isnan(scores["q2_time"][25:]).all()
    assert np.isfinite(scores["q2_time"][:10]).all() and scores["q2_time"][1] > 0.99


def test_a_field_on_integer_or_text_columns_is_checked_too(runs):
    """Columns 0..T-1 (days, or pandas' default labels) and text labels: a reversed field was
    scored by position (Q² -18) because such a grid looked like no grid at all."""
    values = runs.field("y").to_numpy()
    for labels in (list(range(21)), [f"d{j}" for j in range(21)]):
        Y = pd.DataFrame(values, columns=labels)
        model = FieldGPRegressor(seed=0).fit(runs.X, Y)
        assert model.columns_ == labels
        assert model.score(runs.X, Y) > 0.99
        with pytest.raises(ValueError, match="not those of the field the model was fitted on"):
            model.score(runs.X, Y[Y.columns[::-1]])
    assert FieldGPRegressor(seed=0).fit(runs.X, values).columns_ is None


def test_the_fitted_columns_are_saved(model, runs, tmp_path):
    model.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert loaded.columns_ == model.columns_
    Y = runs.field("y")
    with pytest.raises(ValueError, match="not those of the field"):
        loaded.score(runs.X, Y[Y.columns[::-1]])


def test_the_truncation_band_does_not_depend_on_the_order_of_the_grid():
    # a fold with fewer runs than components took SVD directions past its rank, which are
    # arbitrary: four identical grid columns got stds 0.55 / 1.05 / 1.05 / 1.05, and
    # reordering the columns changed residual_std_ by up to 0.9
    rng = np.random.default_rng(0)
    X = rng.random((2, 2))
    a = rng.standard_normal(2)
    model = FieldGPRegressor(seed=0).fit(X, np.c_[a, a, a, a])
    std = model.predict(np.array([[0.5, 0.5]]), return_std=True)[1]
    np.testing.assert_allclose(std, std[0, 0], rtol=1e-9)
    for n, T in [(3, 6), (5, 8), (12, 12)]:
        X, Y, order = rng.random((n, 2)), rng.standard_normal((n, T)), rng.permutation(T)
        one = FieldGPRegressor(seed=0).fit(X, Y).residual_std_
        other = FieldGPRegressor(seed=0).fit(X, Y[:, order]).residual_std_
        np.testing.assert_allclose(other, one[order], rtol=1e-6, atol=1e-9)


def test_a_noisy_field_that_keeps_most_components_is_warned_of():
    # white noise spreads over every component: 37 of 40 were kept and modelled as signal
    t = np.linspace(0, 3, 50)
    rng = np.random.default_rng(0)
    X = rng.uniform([0.5, 0.5], [2, 1.5], (40, 2))
    clean = np.exp(-X[:, [0]] * t) * X[:, [1]]
    with pytest.warns(UserWarning, match=r"kept 3\d components of at most 40: if the field is noisy"):
        FieldGPRegressor(seed=0).fit(X, clean + 0.1 * rng.standard_normal(clean.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert FieldGPRegressor(seed=0).fit(X, clean).n_components_ <= 3
        FieldGPRegressor(n_components=3, seed=0).fit(X, clean + 0.1 * rng.standard_normal(
            clean.shape))
