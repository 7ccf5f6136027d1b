"""Models at the edges of their inputs: splitters that are no partition, an automatic student
given y of one column, booleans as a regression target, values below 1e-154, a table of the
wrong width, a declared level no run holds."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import ShuffleSplit, TimeSeriesSplit

import surrogate as sg
from surrogate.models import AutoRegressor, GPRegressor, NNRegressor, cross_validate


def _data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, 2))
    return X, np.sin(3 * X[:, 0]) + X[:, 1]


@pytest.mark.parametrize("cv", [TimeSeriesSplit(3), ShuffleSplit(3, test_size=0.2,
                                                                  random_state=0)])
def test_cross_validation_refuses_splitters_that_do_not_test_each_row_once(cv):
    # rows never tested kept a "prediction" of 0 and were scored: Q² of -91
    X, y = _data()
    with pytest.raises(ValueError, match=r"does not test every row exactly once"):
        cross_validate(GPRegressor(seed=0), X, y, cv=cv)
    with pytest.raises(ValueError, match=r"does not test every row exactly once"):
        cross_validate(sg.GPClassifier(seed=0), X, y > 1.0, cv=cv)


def test_cross_validated_coverage_counts_the_noise_of_a_gp_an_automatic_student_chose():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (60, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] + rng.normal(0, 0.2, 60)
    alone = cross_validate(GPRegressor(seed=0, n_restarts=1), X, y, cv=5, seed=0)
    auto = cross_validate(AutoRegressor(candidates=[GPRegressor(seed=0, n_restarts=1)], cv=3,
                                        seed=0), X, y, cv=5, seed=0)
    np.testing.assert_allclose(auto["y_pred"], alone["y_pred"])
    assert auto["coverage95"] == alone["coverage95"]


@pytest.mark.parametrize("candidate", ["gp", "hgb", "rf"])
def test_an_automatic_student_predicts_in_the_shape_of_its_y(candidate):
    # (n, 1) from a GP, (n,) from a tree: p - y broadcast to (n, n)
    X, y = _data()
    Y = pd.DataFrame({"y": y})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no DataConversionWarning from the trees
        auto = AutoRegressor(candidates=[candidate], cv=3, seed=0).fit(X, Y)
    assert auto.predict(X).shape == (30, 1)
    assert AutoRegressor(candidates=[candidate], cv=3, seed=0).fit(X, y).predict(X).shape == (30,)
    if candidate == "gp":
        mean, std = auto.predict(X, return_std=True)
        assert mean.shape == std.shape == (30, 1)


@pytest.mark.parametrize("model", [GPRegressor(seed=0), NNRegressor(seed=0, n_ensemble=1,
                                                                    max_epochs=20)])
def test_a_boolean_target_is_regressed_as_one_and_zero(model):
    X, y = _data()
    flag = y > 1.0
    fitted = model.fit(X, flag)
    assert fitted.predict(X).dtype == np.float64
    if isinstance(model, GPRegressor):
        np.testing.assert_allclose(fitted.predict(X), flag.astype(float), atol=1e-4)


@pytest.mark.parametrize("scale", [1e-170, 1e-200])
def test_values_below_1e_154_are_standardized(scale):
    # their squares underflow: a std of 0, and predictions of NaN
    X, y = _data(20)
    gp = GPRegressor(seed=0, n_restarts=1).fit(X, scale * y)
    np.testing.assert_allclose(gp.predict(X[:5]) / scale, y[:5], atol=1e-3)  # interpolates
    Xs = X.copy()
    Xs[:, 0] *= scale
    nn = NNRegressor(seed=0, n_ensemble=1, max_epochs=30).fit(Xs, y)
    assert np.isfinite(nn.predict(Xs[:5])).all()


def test_a_table_of_the_wrong_width_is_named_before_its_columns_are_read():
    X, y = _data()
    gp = GPRegressor(seed=0, n_restarts=1).fit(np.column_stack([X, X[:, 0]]), y)
    with pytest.raises(ValueError, match="X has 2 features, but GPRegressor is expecting 3"):
        gp.predict(pd.DataFrame({"x": [0.5], "policy": ["low"]}))


def test_a_declared_level_no_run_holds_gets_the_prior_not_a_confident_guess():
    # latent positions kept the level's start of the search, between the others: 0.05 std
    rng = np.random.default_rng(1)
    levels = ["low", "mid", "high", "extreme"]
    x, c = rng.uniform(0, 1, 40), rng.choice(levels[:3], 40)
    rate = pd.Series(c).map({"low": 0.35, "mid": 0.6, "high": 1.0}).to_numpy()
    X = pd.DataFrame({"x": x, "c": pd.Categorical(c, categories=levels)})
    y = np.exp(-2 * rate * x) + rate
    gp = GPRegressor(seed=0, categorical="latent").fit(X, y)
    ask = pd.DataFrame({"x": [0.5], "c": pd.Categorical(["extreme"], categories=levels)})
    _, std = gp.predict(ask, return_std=True)
    assert std[0] > 0.5 * y.std()  # as unsure as the prior, not as a level with runs
    positions = gp.level_positions_["c"]
    assert positions[3] - positions[:3].max() >= 100.0


def test_predictions_far_beyond_the_data_are_the_prior_not_nan():
    """A column in tiny units (1e-150 wide): a point at 1e10 lies ~1e160 unit-cube widths
    away, where the squared distance overflowed to inf - inf = NaN (mean and std). Far away a
    GP reverts to its prior: the same prediction as at a merely distant point."""
    rng = np.random.default_rng(0)
    X = rng.random((20, 2)) * 1e-150
    gp = sg.GPRegressor(seed=0).fit(X, X.sum(axis=1) * 1e150)
    mean, std = gp.predict(np.array([[1e-140, 1e-150], [1e10, 1e-150]]), return_std=True)
    assert np.isfinite(mean).all() and np.isfinite(std).all()
    np.testing.assert_allclose(mean[1], mean[0], rtol=1e-12)
    np.testing.assert_allclose(std[1], std[0], rtol=1e-12)
    # the torch path (the sequential designs' and minimize_surrogate's) likewise
    torch_mean, torch_var = gp._predict_torch(torch.tensor([[1e10, 1e-150]], dtype=torch.float64))
    assert torch.isfinite(torch_mean).all() and torch.isfinite(torch_var).all()
    # far points are not merged into one: beyond the data, draws at two far points are only
    # as correlated as the prior makes them (a clip at 1e6 widths made them one point)
    X2 = rng.random((20, 1))
    wide = sg.GPRegressor(seed=0).fit(X2, np.sin(3 * X2[:, 0]))
    draws = wide.sample_posterior(np.array([[2e6], [5e7]]), 200, seed=0)
    assert abs(np.corrcoef(draws[:, 0, 0], draws[:, 1, 0])[0, 1]) < 0.5
