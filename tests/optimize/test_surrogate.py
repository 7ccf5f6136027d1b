"""Optimization of a fitted model's mean, without teacher calls."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import simulators
from surrogate.design import sample
from surrogate.models import GPRegressor
from surrogate.optimize import minimize, minimize_surrogate
from surrogate.space import Categorical, Integer, Real, Space

BRANIN_MINIMIZERS = np.array([[-np.pi, 12.275], [np.pi, 2.275], [3 * np.pi, 2.475]])


def _branin_data(n=60, seed=0):
    branin = simulators.load("branin")
    X = sample(branin.space, n, seed=seed)
    return branin, X, branin(X)["y"].to_numpy()


def test_gp_fitted_on_branin_has_its_minimum_at_a_branin_minimizer():
    branin, X, y = _branin_data()
    gp = GPRegressor(seed=0).fit(X, y)
    result = minimize_surrogate(gp, branin.space, seed=0)
    point = np.array([result.x["x1"], result.x["x2"]])
    assert np.min(np.linalg.norm(BRANIN_MINIMIZERS - point, axis=1)) < 0.15
    assert result.y == pytest.approx(0.397887, abs=0.05)
    assert result.n_evaluations == 0 and result.feasible and result.model is gp
    # the reported value is the model's own prediction there, and the best of the local optima
    assert result.y == pytest.approx(float(gp.predict(pd.DataFrame([result.x]))[0]))
    assert result.history.Y[result.output].min() == pytest.approx(result.y)


def test_any_model_with_predict_works_through_finite_differences():
    space = Space([Real("a", -1.0, 1.0), Real("b", 0.0, 2.0)])
    X = sample(space, 40, seed=1)
    y = (X["a"] - 0.3) ** 2 + (X["b"] - 1.2) ** 2
    model = GaussianProcessRegressor(ConstantKernel() * RBF([1.0, 1.0]), normalize_y=True)
    model.fit(X.to_numpy(), y.to_numpy())
    result = minimize_surrogate(model, space, n_starts=5, seed=0)
    assert result.x["a"] == pytest.approx(0.3, abs=0.02)
    assert result.x["b"] == pytest.approx(1.2, abs=0.02)


def test_result_model_of_an_optimization_and_integer_parameters():
    space = Space([Real("x", 0.0, 1.0), Integer("n", 1, 6)])
    result = minimize(lambda p: (p["x"] - 0.6) ** 2 + 0.05 * (p["n"] - 4) ** 2, space=space,
                      budget=15, seed=0)
    found = minimize_surrogate(result.model, space, seed=0)
    assert found.x["n"] == 4 and isinstance(found.x["n"], int)
    assert found.x["x"] == pytest.approx(0.6, abs=0.05)
    # a GPRegressor over the same integer space goes through the exact-gradient path
    X = sample(space, 30, seed=2)
    gp = GPRegressor(seed=0).fit(X, (X["x"] - 0.6) ** 2 + 0.05 * (X["n"] - 4) ** 2)
    direct = minimize_surrogate(gp, space, seed=0)
    assert direct.x["n"] == 4 and direct.x["x"] == pytest.approx(0.6, abs=0.05)


def test_multi_output_models_need_an_output():
    space = Space([Real("x", 0.0, 1.0)])
    X = np.linspace(0, 1, 12)[:, None]
    gp = GPRegressor(seed=0).fit(X, np.column_stack([(X[:, 0] - 0.2) ** 2,
                                                    (X[:, 0] - 0.8) ** 2]))
    with pytest.raises(ValueError, match="pass output="):
        minimize_surrogate(gp, space)
    assert minimize_surrogate(gp, space, output=1, seed=0).x["x"] == pytest.approx(0.8, abs=0.02)


def test_bad_input():
    space = Space([Real("x", 0.0, 1.0)])
    with pytest.raises(TypeError, match="fitted model"):
        minimize_surrogate(GPRegressor(), space)
    gp = GPRegressor(seed=0).fit(np.linspace(0, 1, 5)[:, None], np.arange(5.0))
    with pytest.raises(ValueError, match="n_starts"):
        minimize_surrogate(gp, space, n_starts=0)
    with pytest.raises(ValueError, match="takes 1 inputs, the space has 2"):
        minimize_surrogate(gp, Space([Real("x", 0, 1), Real("z", 0, 1)]))


def test_fitted_pipeline_with_a_categorical_column():
    # minimum 0 at x = 0.3 with policy "high"; "low" costs 0.5 more
    space = Space([Real("x", 0.0, 1.0), Categorical("policy", ["low", "high"])])
    X = sample(space, 40, seed=0)
    y = (X["x"] - 0.3) ** 2 + np.where(X["policy"] == "low", 0.5, 0.0)
    encode = make_column_transformer((OneHotEncoder(sparse_output=False), ["policy"]),
                                     remainder="passthrough")
    pipeline = make_pipeline(encode, GPRegressor(seed=0))
    with pytest.raises(TypeError, match="fitted model"):
        minimize_surrogate(pipeline, space)
    pipeline.fit(X, y)
    result = minimize_surrogate(pipeline, space, n_starts=5, seed=0)
    assert result.x["policy"] == "high"
    assert result.x["x"] == pytest.approx(0.3, abs=0.01)
    assert result.y == pytest.approx(0.0, abs=1e-3)


def test_warns_when_the_space_is_wider_than_the_training_data():
    narrow = Space([Real("x", 0.0, 0.5)])
    X = sample(narrow, 20, seed=0)
    gp = GPRegressor(seed=0).fit(X, (X["x"] - 0.3) ** 2)
    with pytest.warns(UserWarning, match="minimize_surrogate: the space reaches beyond") as record:
        minimize_surrogate(gp, Space([Real("x", 0.0, 1.0)]), n_starts=2, seed=0)
    trained = f"[{gp.data_min_[0]:.6g}, {gp.data_max_[0]:.6g}]"
    assert f"for x (trained on {trained}, space [0, 1])" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert minimize_surrogate(gp, narrow, n_starts=2, seed=0).x["x"] == pytest.approx(
            0.3, abs=0.01)


def test_a_classifier_is_refused_with_the_way_to_minimize_its_probability():
    from sklearn.linear_model import LogisticRegression

    space = Space([Real("a", 0.0, 1.0), Real("b", 0.0, 1.0)])
    X = sample(space, 30, seed=0)
    classifier = LogisticRegression().fit(X, (X.a + X.b > 1).astype(int))
    with pytest.raises(TypeError, match=r"minimize_surrogate needs a regressor; the "
                                        r"LogisticRegression is a classifier.*predict_proba"):
        minimize_surrogate(classifier, space, seed=0)


def test_a_model_fitted_on_the_spaces_columns_in_another_order_is_optimized_by_name():
    # sobol_indices and morris took such a model; minimize_surrogate refused it
    space = Space([Real("a", 0, 1), Real("b", 0, 1), Real("c", 0, 1)])
    X = sample(space, 60, seed=0)
    y = (X["a"] - 0.3) ** 2 + 0.1 * X["c"]
    result = minimize_surrogate(GPRegressor(seed=0).fit(X[["c", "b", "a"]], y), space, seed=0)
    assert abs(result.x["a"] - 0.3) < 0.02 and result.x["c"] < 0.02
