"""AutoClassifier / AutoRegressor: the comparison is exposed and right, the choice is
reproducible with a seed, categories reach every candidate, and only our models are saved."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

import surrogate as sg
from surrogate.models import (
    AutoClassifier,
    AutoRegressor,
    GPClassifier,
    GPRegressor,
    NNClassifier,
    load,
)
from surrogate.models._pool import Ensemble, pool_weights

SPACE = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("policy", ["low", "mid", "high"]),
                  sg.Real("z", 0.0, 1.0)])


def _design(n=100, seed=0):
    X = sg.sample(SPACE, n, seed=seed)
    y = X["x"] + X["policy"].map({"low": 0.0, "mid": 0.4, "high": 0.8}) - 0.1 * X["z"]
    return X, y.to_numpy()


def _labels(n=100, positives=30, seed=0):
    """n points, exactly ``positives`` of them positive (x above its quantile)."""
    X, _ = _design(n, seed)
    order = np.argsort(-X["x"].to_numpy())
    y = np.zeros(n, dtype=int)
    y[order[:positives]] = 1
    return X, y


def test_scores_hold_the_known_log_loss_of_a_prior_and_the_better_candidate_wins():
    # stratified folds of 100 points with 30 positives: every training fold has 24 of 80, so
    # the prior's out-of-fold probability is 0.3 everywhere: log loss H(0.3), fidelity 0.7
    X, y = _labels()
    auto = AutoClassifier(candidates={"prior": DummyClassifier(strategy="prior"),
                                      "logistic": LogisticRegression()}, seed=0).fit(X, y)
    scores = auto.scores_
    assert list(scores.index) == ["prior", "logistic"] and scores.index.name == "candidate"
    assert list(scores.columns) == ["log_loss", "fidelity", "brier", "fit_s"]
    assert scores.loc["prior", "log_loss"] == pytest.approx(
        -(0.3 * math.log(0.3) + 0.7 * math.log(0.7)), rel=1e-12)
    assert scores.loc["prior", "fidelity"] == pytest.approx(0.7)
    assert scores.loc["prior", "brier"] == pytest.approx(0.21)
    assert auto.chosen_ == "logistic" and scores.loc["logistic", "fidelity"] > 0.9
    assert isinstance(auto.best_estimator_, LogisticRegression)


def test_the_choice_is_reproducible_with_a_seed():
    X, y = _labels(120, 50, seed=1)
    candidates = ["hgb", RandomForestClassifier(50, random_state=0), "ensemble"]
    make = lambda seed: AutoClassifier(candidates=candidates, cv=3,  # noqa: E731
                                       seed=seed).fit(X, y)
    first, again, other = make(7), make(7), make(8)
    columns = ["log_loss", "fidelity", "brier"]  # fit_s is a timing
    pd.testing.assert_frame_equal(first.scores_[columns], again.scores_[columns])
    assert first.chosen_ == again.chosen_
    Xt = sg.sample(SPACE, 300, method="random", seed=3)
    assert np.array_equal(first.predict_proba(Xt), again.predict_proba(Xt))
    # the seed draws the folds: another seed scores differently
    assert not np.allclose(first.scores_["log_loss"], other.scores_["log_loss"])
    # and seeds the default candidates
    forests = [AutoClassifier(seed=seed)._candidate_table()["rf"].random_state
               for seed in (7, 7, 8)]
    assert forests[0] == forests[1] != forests[2]
    # and a given candidate left unseeded (it drew a fresh seed each fit: probabilities
    # differed by up to 0.04); one the user seeded keeps its seed, and the user's is untouched
    given, seeded = RandomForestClassifier(20), RandomForestClassifier(20, random_state=3)
    tables = [AutoClassifier(candidates=["rf", given, seeded], seed=seed)._candidate_table()
              for seed in (7, 7, 8)]
    drawn = [table["RandomForestClassifier"].random_state for table in tables]
    assert drawn[0] == drawn[1] != drawn[2] and drawn[0] is not None
    assert tables[0]["rf"].random_state != drawn[0]  # beside the defaults' seeds
    assert all(table["RandomForestClassifier'"].random_state == 3 for table in tables)
    assert given.random_state is None


def test_categories_reach_our_models_as_categories_and_others_one_hot():
    # the label is the category alone: a linear model on the one-hot columns separates it
    X, _ = _design(90, seed=2)
    y = (X["policy"] == "mid").to_numpy()
    auto = AutoClassifier(candidates={"logistic": LogisticRegression(C=100.0),
                                      "nn": NNClassifier(n_ensemble=2, max_epochs=50, seed=0)},
                          cv=3, seed=0).fit(X, y)
    assert auto.categories_ == {"policy": ["high", "low", "mid"]}
    assert (auto.scores_["fidelity"] == 1.0).all()
    with pytest.raises(ValueError, match="column 'policy' has categories not seen at fit"):
        auto.predict(X.assign(policy="extreme"))


def test_regressor_choice_std_and_a_constant_competitor():
    X, y = _design(60, seed=3)
    auto = AutoRegressor(candidates=["gp", DummyRegressor()], cv=4, seed=0).fit(X, y)
    assert list(auto.scores_.index) == ["gp", "DummyRegressor"]
    assert list(auto.scores_.columns) == ["q2", "fidelity", "rmse", "fit_s"]
    assert auto.chosen_ == "gp" and auto.scores_.loc["gp", "q2"] > 0.99
    assert auto.scores_.loc["DummyRegressor", "q2"] < 0  # the fold means miss
    assert auto.scores_["fidelity"].equals(auto.scores_["q2"])
    mean, std = auto.predict(X, return_std=True)
    np.testing.assert_allclose(mean, y, atol=1e-3)
    assert std.shape == y.shape
    linear = AutoRegressor(candidates=[LinearRegression()], cv=3, seed=0).fit(X, y)
    with pytest.raises(ValueError, match="'LinearRegression' .* gives no standard deviation"):
        linear.predict(X, return_std=True)


def test_pool_weights_minimize_the_log_loss():
    # a sharp, right candidate and a constant one: all weight on the first; two equally good
    # candidates with independent errors: both kept
    rng = np.random.default_rng(0)
    t = rng.integers(0, 2, 400)
    sharp = np.clip(np.where(t == 1, 0.9, 0.1) + rng.normal(0, 0.05, 400), 0.01, 0.99)
    np.testing.assert_allclose(pool_weights(np.column_stack([sharp, np.full(400, 0.5)]), t),
                               [1.0, 0.0])
    noisy = [np.where(rng.random(400) < 0.8, t, 1 - t) * 0.8 + 0.1 for _ in range(2)]
    weights = pool_weights(np.column_stack(noisy), t)
    assert weights.sum() == pytest.approx(1.0) and (weights > 0.3).all()


def test_an_ensemble_of_our_models_is_chosen_and_round_trips(tmp_path):
    # noisy labels; an underconfident GP (5 evaluations) and an overconfident net: their pool
    # has a lower out-of-fold log loss than either
    X, _ = _design(90, seed=0)
    rng = np.random.default_rng(0)
    y = (rng.random(90) < 1 / (1 + np.exp(-10 * (X["x"] + X["z"] - 1)))).astype(int)
    candidates = {"gp": GPClassifier(max_iter=5, n_inducing=16, seed=0),
                  "nn": NNClassifier(n_ensemble=1, max_epochs=300, patience=300,
                                     validation_fraction=0.05, seed=0), "pooled": "ensemble"}
    auto = AutoClassifier(candidates=candidates, cv=3, seed=0).fit(X, y)
    assert auto.chosen_ == "ensemble"
    assert auto.scores_.loc["ensemble", "log_loss"] < auto.scores_["log_loss"].drop(
        "ensemble").min()
    ensemble = auto.best_estimator_
    assert isinstance(ensemble, Ensemble) and set(ensemble.weights_) == {"gp", "nn"}
    assert sum(ensemble.weights_.values()) == pytest.approx(1.0)
    Xt = sg.sample(SPACE, 200, method="random", seed=5)
    pooled = sum(w * ensemble.estimators_[name].predict_proba(Xt)[:, 1]
                 for name, w in ensemble.weights_.items())
    np.testing.assert_allclose(auto.predict_proba(Xt)[:, 1], pooled, rtol=1e-12)
    auto.save(tmp_path)
    loaded = load(tmp_path)
    assert loaded.chosen_ == "ensemble" and loaded.best_estimator_.weights_ == ensemble.weights_
    pd.testing.assert_frame_equal(loaded.scores_, auto.scores_)
    assert np.array_equal(loaded.predict_proba(Xt), auto.predict_proba(Xt))
    assert np.array_equal(loaded.classes_, auto.classes_)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["class"] == "AutoClassifier"
    assert meta["params"]["candidates"]["gp"]["class"] == "GPClassifier"
    # the candidates come back (they were None: a refit compared the defaults instead)
    given = loaded.get_params()["candidates"]
    assert given["pooled"] == "ensemble" and set(given) == set(candidates)
    for name in ("gp", "nn"):
        assert type(given[name]) is type(candidates[name])
        assert given[name].get_params() == candidates[name].get_params()


def test_a_chosen_scikit_learn_model_is_not_saved(tmp_path):
    X, y = _labels(60, 20, seed=5)
    auto = AutoClassifier(candidates=[RandomForestClassifier(20, random_state=0)], cv=3,
                          seed=0).fit(X, y)
    with pytest.raises(TypeError, match=r"'RandomForestClassifier' \(RandomForestClassifier\), "
                                        r"not one of surrogate's models.*never pickles"):
        auto.save(tmp_path / "auto")
    assert not (tmp_path / "auto").exists()


def test_a_scikit_learn_candidate_that_was_not_chosen_is_not_saved_either(tmp_path):
    # it was dropped at save (candidates None): the loaded model's refit compared others
    X, y = _design(40, seed=6)
    auto = AutoRegressor(candidates={"gp": "gp", "rf": RandomForestRegressor(10, random_state=0)},
                         cv=2, seed=0).fit(X, y)
    assert auto.chosen_ == "gp"  # a smooth function: the saveable model was chosen
    with pytest.raises(TypeError, match=r"its candidates holds a RandomForestRegressor, "
                                        r"which surrogate cannot write without pickling"):
        auto.save(tmp_path / "auto")


def test_regressor_round_trip_with_named_candidates(tmp_path):
    X, y = _design(50, seed=6)
    auto = AutoRegressor(candidates=["gp", "hgb"], cv=3, seed=0).fit(X, y)
    auto.save(tmp_path)
    loaded = load(tmp_path)
    assert loaded.get_params()["candidates"] == ("gp", "hgb")
    assert isinstance(loaded.best_estimator_, GPRegressor)
    for a, b in zip(loaded.predict(X, return_std=True), auto.predict(X, return_std=True),
                    strict=True):
        assert np.array_equal(a, b)


class _AlwaysFails(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("the solver diverged")


def test_a_failing_candidate_is_left_out_with_a_warning():
    X, y = _labels(60, 30, seed=7)
    broken = _AlwaysFails()
    with pytest.warns(UserWarning, match="candidate 'broken' failed in cross-validation"):
        auto = AutoClassifier(candidates={"broken": broken, "hgb": "hgb"}, cv=3,
                              seed=0).fit(X, y)
    assert auto.chosen_ == "hgb"
    assert "the solver diverged" in auto.scores_.loc["broken", "error"]
    assert np.isnan(auto.scores_.loc["broken", "log_loss"])
    with pytest.raises(ValueError, match="every candidate failed"), \
            pytest.warns(UserWarning):
        AutoClassifier(candidates=[broken], cv=3, seed=0).fit(X, y)


def test_a_candidate_of_ours_with_an_invalid_option_is_an_error_before_any_fit():
    X, y = _labels(60, 30, seed=7)
    with pytest.raises(ValueError, match="kernel must be one of"):
        AutoClassifier(candidates={"broken": GPClassifier(kernel="linear"), "hgb": "hgb"},
                       cv=3, seed=0).fit(X, y)


@pytest.mark.parametrize("auto", [AutoClassifier, AutoRegressor])
def test_the_pooled_candidates_name_is_refused_for_an_estimator(auto):
    # a forest named "ensemble" won and was taken for the pooled candidate at the refit: it
    # failed with a KeyError, and the next best was used with only a warning
    X, y = _labels(60, 30, seed=7)
    forest = (RandomForestClassifier if auto is AutoClassifier else RandomForestRegressor)()
    with pytest.raises(ValueError, match="candidate name 'ensemble' is kept for the pooled"):
        auto(candidates={"ensemble": forest, "hgb": "hgb"}, cv=3, seed=0).fit(X, y)


class _FailsOnAllRows(LogisticRegression):
    """Fits the cross-validation folds (40 rows) but not all 60 rows."""

    def fit(self, X, y, sample_weight=None):
        if len(X) > 50:
            raise RuntimeError("out of memory")
        return super().fit(X, y, sample_weight)


def test_a_candidate_that_fails_its_refit_is_left_out_and_the_next_best_refitted():
    X, y = _labels(60, 30, seed=7)
    candidates = {"fragile": _FailsOnAllRows(), "dummy": DummyClassifier()}
    with pytest.warns(UserWarning, match="candidate 'fragile' failed when refitted on all rows "
                                         r"and is left out \(RuntimeError: out of memory\)"):
        auto = AutoClassifier(candidates=candidates, cv=3, seed=0).fit(X, y)
    assert auto.chosen_ == "dummy"
    assert auto.scores_.loc["fragile", "error"] == "RuntimeError: out of memory"
    assert np.isfinite(auto.scores_.loc["fragile", "log_loss"])  # its comparison is kept
    with pytest.raises(ValueError, match="every candidate failed: _FailsOnAllRows: RuntimeError"), \
            pytest.warns(UserWarning):
        AutoClassifier(candidates=[_FailsOnAllRows()], cv=3, seed=0).fit(X, y)


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"cv": 1}, ValueError, "cv must be an int >= 2"),
    ({"candidates": "gp"}, ValueError, "candidates must be None, a non-empty list"),
    ({"candidates": []}, ValueError, "candidates must be None, a non-empty list"),
    ({"candidates": ["gp", "svm"]}, ValueError, r"unknown candidate 'svm'.*\['gp', 'nn', "),
    ({"candidates": ["ensemble"]}, ValueError, "name no model to compare"),
    ({"candidates": [object()]}, TypeError, "is not an estimator with fit and predict_proba"),
    ({"seed": "zero"}, TypeError, "seed must be"),
])
def test_bad_parameters_name_themselves(params, error, match):
    X, y = _labels(30, 10)
    with pytest.raises(error, match=match):
        AutoClassifier(**params).fit(X, y)


def test_too_few_of_a_class_is_a_clear_error():
    X, y = _labels(30, 1)
    with pytest.raises(ValueError, match="at least 2 points of each class"):
        AutoClassifier(candidates=["hgb"]).fit(X, y)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_seed_as_an_int_or_a_generator_of_it_chooses_alike(kind):
    """seed=0 and seed=np.random.default_rng(0) are one seed (as_generator): the fit draws
    the candidates' seeds and the folds from one generator, not from a fresh one each time
    (a generator given as seed was drawn from twice, so its folds differed)."""
    X, y = _design(60, seed=1)
    if kind == "classifier":
        y = (y > np.median(y)).astype(int)
        make = lambda seed: AutoClassifier(  # noqa: E731
            candidates=[LogisticRegression(), RandomForestClassifier(10)], cv=3, seed=seed)
    else:
        make = lambda seed: AutoRegressor(  # noqa: E731
            candidates=[LinearRegression(), RandomForestRegressor(10)], cv=3, seed=seed)
    fits = [make(seed).fit(X, y) for seed in (0, np.random.default_rng(0))]
    scores = [fit.scores_.drop(columns="fit_s") for fit in fits]
    pd.testing.assert_frame_equal(scores[0], scores[1])
    assert fits[0].chosen_ == fits[1].chosen_


def test_an_automatic_regressor_on_two_points_is_refused_not_chosen_from_one_row_folds():
    # two folds of one training row each: gp and nn failed in scikit-learn's words and rf
    # was "chosen" on a Q² of -3
    X = pd.DataFrame(np.random.default_rng(0).random((2, 2)), columns=["a", "b"])
    with pytest.raises(ValueError, match=r"cv=3 folds of 2 points .* give at least 3 points"):
        sg.AutoRegressor(seed=0, cv=3).fit(X, X["a"].to_numpy())
    X = pd.DataFrame(np.random.default_rng(0).random((3, 2)), columns=["a", "b"])
    with pytest.raises(ValueError, match=r"cv=2 folds of 3 points .*: use cv=3$"):
        sg.AutoRegressor(seed=0, cv=2).fit(X, X["a"].to_numpy())
