"""REDS behaviour a review found missing: each test failed before its fix."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

import surrogate as sg
from surrogate.discovery import REDS


def _runs() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(size=300), "c": rng.choice(["u", "v"], 300)})
    return X, ((X.c == "u") & (X.a > 0.5)).astype(int)


@pytest.mark.parametrize("space, named", [
    (sg.Space([sg.Real("a", 0, 1), sg.Categorical("c", ["u", "v", "w"])]),
     r"c \(levels \['w'\] never run\)"),
    (sg.Space([sg.Real("a", -5, 5), sg.Categorical("c", ["u", "v"])]),
     r"a \(trained on \[0.00030069, 0.99721\], space \[-5, 5\]\)"),
])
def test_a_space_beyond_the_runs_is_named(space, named):
    # the fresh sample's points there were labelled by extrapolation, without a word
    X, y = _runs()
    with pytest.warns(UserWarning, match=r"REDS: the space reaches beyond the runs the "
                                         r"metamodel was fitted on for " + named):
        REDS(metamodel=LogisticRegression(), n_samples=2000, seed=0).fit(X, y, space=space)


def test_a_space_the_runs_cover_gives_no_warning():
    X, y = _runs()
    space = sg.Space([sg.Real("a", 0, 1), sg.Categorical("c", ["u", "v"])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        REDS(metamodel=LogisticRegression(), n_samples=2000, seed=0).fit(X, y, space=space)


def test_predict_before_fit_is_not_fitted_error():
    X, _ = _runs()
    with pytest.raises(NotFittedError):  # was AttributeError: no attribute 'prim_'
        REDS().predict(X)


def test_loading_says_a_given_metamodel_that_was_not_saved_is_reset(tmp_path):
    X, y = _runs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        REDS(metamodel=RandomForestClassifier(n_estimators=20, random_state=0), n_samples=2000,
             seed=0).fit(X, y).save(tmp_path)
    with pytest.warns(UserWarning, match=r"its metamodel option is the default \(None\): "
                                         r"set_params\(metamodel=RandomForestClassifier"):
        loaded = sg.load(tmp_path)
    assert loaded.get_params()["metamodel"] is None
