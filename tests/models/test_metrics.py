"""Metrics against hand-computed values; cross-validation on a known function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import surrogate as sg
from surrogate.models import (
    GPClassifier,
    GPRegressor,
    accuracy,
    brier,
    coverage95,
    cross_validate,
    log_loss,
    q2,
    rmse,
)


def test_regression_metrics_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.0, 2.0, 3.0, 6.0])
    assert q2(y, p) == pytest.approx(1 - 4 / 5)
    assert rmse(y, p) == pytest.approx(1.0)
    assert coverage95(y, p, np.array([1, 1, 1, 1.0])) == 0.75
    Y = np.column_stack([y, y])
    P = np.column_stack([y, p])
    assert q2(Y, P) == pytest.approx((1 + 0.2) / 2)  # mean over outputs
    with pytest.raises(ValueError, match="same shape"):
        q2(y, p[:3])


def test_classification_metrics_by_hand():
    y = np.array([1, 0, 1, 1])
    proba = np.array([0.9, 0.2, 0.6, 0.3])
    assert accuracy(y, proba > 0.5) == 0.75
    assert log_loss(y, proba) == pytest.approx(
        -np.mean(np.log([0.9, 0.8, 0.6, 0.3])))
    assert brier(y, np.column_stack([1 - proba, proba])) == pytest.approx(
        np.mean([0.01, 0.04, 0.16, 0.49]))
    with pytest.raises(ValueError, match="0/1"):
        brier(np.array([2, 0]), np.array([0.5, 0.5]))


def test_cross_validate_regressor():
    X = np.random.default_rng(0).random((40, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    out = cross_validate(GPRegressor(seed=0), X, y, cv=4, seed=0)
    assert out["q2"] > 0.99
    assert 0.8 <= out["coverage95"] <= 1.0
    assert out["y_pred"].shape == out["y_std"].shape == (40,)
    again = cross_validate(GPRegressor(seed=0), X, y, cv=4, seed=0)
    assert again["q2"] == out["q2"]


def test_cross_validate_classifier():
    X = np.random.default_rng(0).random((80, 2))
    y = np.where(X[:, 0] > 0.5, "hi", "lo")
    out = cross_validate(GPClassifier(n_inducing=32, max_iter=100, seed=0), X, y, cv=3, seed=0)
    assert out["accuracy"] > 0.9
    assert out["brier"] < 0.1 and out["log_loss"] < 0.4
    assert set(out) >= {"accuracy", "log_loss", "brier"}


@pytest.mark.parametrize("cv", [1, 2.5, "five"])
def test_bad_cv(cv):
    X = np.zeros((10, 1))
    with pytest.raises(ValueError, match="cv must be"):
        cross_validate(GPRegressor(), X, np.arange(10.0), cv=cv)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="rows"):
        cross_validate(GPRegressor(), np.zeros((10, 1)), np.arange(9.0))


def test_q2_of_a_constant_target_is_nan_with_a_warning():
    flat = np.full(3, 0.1)  # its mean is not exactly 0.1: the sum of squares is not exactly 0
    for pred in (flat, np.array([0.0, 0.1, 0.2])):
        with pytest.warns(UserWarning, match="Q² is undefined.*same"):
            assert np.isnan(q2(flat, pred))
    # a constant output is left out of the mean over outputs, with a warning naming it
    varying = np.array([1.0, 2.0, 3.0])
    pred = np.array([1.0, 2.0, 4.0])
    with pytest.warns(UserWarning, match=r"output\(s\) \[0\]"):
        both = q2(np.column_stack([flat, varying]), np.column_stack([flat, pred]))
    assert both == q2(varying, pred) == pytest.approx(1.0 - 1.0 / 2.0)


def test_cross_validate_of_a_constant_target_reports_nan_q2():
    X = np.random.default_rng(0).random((20, 2))
    with pytest.warns(UserWarning, match="Q² is undefined") as record:
        out = cross_validate(GPRegressor(seed=0), X, np.full(20, 3.0), cv=4, seed=0)
    assert record[0].filename == __file__  # pointed at the caller
    assert np.isnan(out["q2"])
    assert out["rmse"] == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(out["y_pred"], 3.0)


def test_cross_validate_result_is_a_dict_with_a_short_repr():
    X = np.random.default_rng(0).random((40, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    out = cross_validate(GPRegressor(seed=0), X, y, cv=4, seed=0)
    assert isinstance(out, dict)
    assert list(out) == ["q2", "rmse", "coverage95", "y_pred", "y_std"]
    text = repr(out)
    assert text == (f"{{'q2': {out['q2']!r}, 'rmse': {out['rmse']!r}, "
                    f"'coverage95': {out['coverage95']!r}, 'y_pred': <array of shape (40,)>, "
                    "'y_std': <array of shape (40,)>}")
    assert str(out) == text and dict(out).keys() == out.keys()
    labels = X[:, 0] > 0.5
    scores = cross_validate(GPClassifier(n_inducing=8, max_iter=20, seed=0), X, labels, cv=3,
                            seed=0)
    assert repr(scores).endswith("'proba': <array of shape (40,)>}")


def test_cross_validate_pipeline_with_a_categorical_column_reports_coverage():
    space = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("policy", ["low", "high"])])
    X = sg.sample(space, 40, seed=0)
    y = np.sin(4 * X["x"]) + np.where(X["policy"] == "high", 1.0, 0.0)
    encoder = OneHotEncoder(categories=[["high", "low"]], sparse_output=False)
    pipeline = make_pipeline(make_column_transformer((encoder, ["policy"]),
                                                     remainder="passthrough"),
                             GPRegressor(seed=0))
    out = cross_validate(pipeline, X, y, cv=4, seed=0)
    # truth: the same folds on the design encoded up front (the encoding is fixed)
    encoded = np.column_stack([X["policy"] == "high", X["policy"] == "low", X["x"]]).astype(float)
    direct = cross_validate(GPRegressor(seed=0), encoded, y, cv=4, seed=0)
    assert np.allclose(out["y_pred"], direct["y_pred"], rtol=0, atol=1e-9)
    assert np.allclose(out["y_std"], direct["y_std"], rtol=1e-6, atol=1e-12)
    assert out["coverage95"] == direct["coverage95"]
    assert out["q2"] > 0.99


@pytest.mark.parametrize("make", [lambda: sg.GPRegressor(seed=0),
                                  lambda: sg.NNRegressor(seed=0, max_epochs=50)])
def test_score_is_q2_nan_with_a_warning_for_a_constant_target(make):
    X = np.random.default_rng(0).random((30, 2))
    model = make().fit(X, X[:, 0] + X[:, 1])
    assert model.score(X, X[:, 0] + X[:, 1]) == pytest.approx(
        q2(X[:, 0] + X[:, 1], model.predict(X)))
    with pytest.warns(UserWarning, match="Q² is undefined"):
        assert np.isnan(model.score(X, np.full(30, 2.0)))  # scikit-learn's R² said 0.0


def test_cross_validate_names_a_model_that_is_not_an_estimator_and_too_many_folds():
    X = np.random.default_rng(0).random((10, 2))
    with pytest.raises(TypeError, match="model must be an unfitted scikit-learn estimator"):
        cross_validate(lambda Z: Z[:, 0], X, X[:, 0])
    with pytest.raises(ValueError, match="cv=20 folds need at least as many rows; X has 10"):
        cross_validate(sg.GPRegressor(seed=0), X, X[:, 0], cv=20)
    with pytest.raises(ValueError, match="cv=2 on 3 rows leaves fewer than 2 rows to fit on"):
        cross_validate(sg.GPRegressor(seed=0), X[:3], X[:3, 0], cv=2)  # was scikit-learn's


def test_cross_validating_a_classifier_names_a_class_too_rare_for_the_folds():
    """One positive row: "target is binary with 1 class" from a fold's fit, though y has two.
    Three positive rows in five stratified folds train on both classes in every fold."""
    from sklearn.linear_model import LogisticRegression

    from surrogate.models import GPClassifier, cross_validate

    X = np.random.default_rng(0).random((30, 2))
    y = np.zeros(30, dtype=int)
    y[0] = 1
    with pytest.raises(ValueError, match=r"class 1 has a single row: the fold that holds it out"):
        cross_validate(GPClassifier(seed=0), X, y, cv=5, seed=0)
    y[:3] = 1
    scores = cross_validate(LogisticRegression(), X, y, cv=5, seed=0)
    assert 0.0 <= scores["accuracy"] <= 1.0


def test_more_stratified_folds_than_rows_of_any_class_are_refused_in_our_words():
    from surrogate.models import GPClassifier, cross_validate

    X = np.random.default_rng(0).random((6, 2))
    with pytest.raises(ValueError, match=r"^cv=4 stratified folds need at least 4 rows of a "
                                         r"class; the largest class has 3: lower cv$"):
        cross_validate(GPClassifier(seed=0), X, np.r_[0, 0, 0, 1, 1, 1], cv=4, seed=0)


def test_coverage_of_a_noisy_teacher_counts_the_fitted_noise():
    """The latent function's band against noisy held-out values covered 0.38; the band of a
    held-out value (function and noise, sd 0.3 here) covers about 0.95."""
    from surrogate.models import GPRegressor, cross_validate

    rng = np.random.default_rng(0)
    X = rng.random((200, 2))
    y = np.sin(6 * X[:, 0]) + X[:, 1] + rng.normal(0.0, 0.3, 200)
    scores = cross_validate(GPRegressor(seed=0), X, y, cv=5, seed=0)
    assert 0.88 < scores["coverage95"] < 1.0
    assert np.all(scores["y_std"] > 0.25)  # at least the noise's sd, 0.3, give or take its fit


def test_classifier_labels_as_one_column_score_as_labels():
    # (n, 1) labels beside (n,) predictions compared as an (n, n) table: accuracy 0.51, log
    # loss 6.5 for a forest that is right everywhere
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((60, 2)), columns=["a", "b"])
    y = pd.DataFrame({"stable": X.a > 0.5})
    forest = RandomForestClassifier(n_estimators=20, random_state=0)
    as_series = cross_validate(forest, X, y["stable"], cv=3, seed=0)
    for labels in (y, y.to_numpy()):
        result = cross_validate(forest, X, labels, cv=3, seed=0)
        for name in ("accuracy", "log_loss", "brier"):
            assert result[name] == as_series[name]
    t, p = np.array([1, 0, 1]), np.array([0.9, 0.2, 0.7])
    assert accuracy(t[:, None], t) == 1.0
    assert log_loss(t[:, None], p) == log_loss(t, p)
    with pytest.raises(ValueError, match=r"y_pred must be one column of labels.*\(3, 2\)"):
        accuracy(t, np.ones((3, 2)))


def test_float_0_1_labels_are_labels():
    # every bundled teacher's yes/no output is 0.0/1.0: refused as "must be 0/1 labels"
    t = np.array([0.0, 1.0, 1.0, 0.0])
    assert log_loss(t, [0.5] * 4) == pytest.approx(np.log(2))
    assert brier(t, [0.5] * 4) == 0.25
    with pytest.raises(ValueError, match=r"0/1 labels .*such as \[0.0, 2.0\]"):
        log_loss([0.0, 2.0], [0.5, 0.5])


def test_the_seed_fixes_the_scores_of_a_model_without_one():
    # the seed shuffled the folds only: an unseeded NN scored Q² 0.985 and then 0.950
    from surrogate.models import NNRegressor

    X = np.random.default_rng(0).random((40, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    model = NNRegressor(n_ensemble=2, max_epochs=3)
    first = cross_validate(model, X, y, cv=3, seed=0)
    assert cross_validate(model, X, y, cv=3, seed=0)["q2"] == first["q2"]
    assert model.seed is None  # the user's model is not changed


@pytest.mark.parametrize("scale", [1e-170, 1.0, 1e170])
def test_q2_and_rmse_do_not_overflow_at_extreme_scales(scale):
    """The squares of values near 1e+-170 under- or overflowed (Q² NaN, RMSE 0 or inf) though
    the GP fits such outputs; the scores are scale-free, RMSE in the output's units."""
    t = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.1, 1.9, 3.2, 3.9])
    expected_q2 = 1 - np.sum((t - p) ** 2) / np.sum((t - t.mean()) ** 2)
    assert q2(t * scale, p * scale) == pytest.approx(expected_q2, rel=1e-12)
    assert rmse(t * scale, p * scale) == pytest.approx(np.sqrt(np.mean((t - p) ** 2)) * scale,
                                                       rel=1e-12)


def test_cross_validate_takes_an_int_seed_or_a_generator_of_it_alike():
    """seed=0 and seed=np.random.default_rng(0) shuffle the folds and seed an unseeded model
    alike (the generator was drawn from twice: its model got another seed)."""
    from sklearn.ensemble import RandomForestRegressor

    X = np.random.default_rng(0).random((40, 2))
    y = np.sin(4 * X[:, 0]) + X[:, 1]
    runs = [cross_validate(RandomForestRegressor(10), X, y, cv=4, seed=seed)
            for seed in (0, np.random.default_rng(0))]
    np.testing.assert_array_equal(runs[0]["y_pred"], runs[1]["y_pred"])
