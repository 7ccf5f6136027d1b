"""Plots a review found drawing the wrong data or failing unclearly: each failed before."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import surrogate as sg
from surrogate import plot

matplotlib.use("Agg")


def _two_outputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(size=20)})
    return X, pd.DataFrame({"p": 100 + 50 * X.a, "q": np.sin(3 * X.a)})


def test_parity_reads_the_models_output_from_y_by_name():
    X, Y = _two_outputs()
    model = sg.GPRegressor(seed=0).fit(X, Y["q"])  # outputs_ == ["q"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = plot.parity(model, X, Y)  # drew Y["p"] against q's predictions, Q² = -60
    np.testing.assert_array_equal(ax.lines[0].get_xydata()[:, 0], Y["q"].to_numpy())
    assert float(ax.get_title().split("= ")[1]) > 0.99
    with pytest.raises(ValueError, match=r"y's columns \['p', 'r'\] do not hold the model's "
                                         r"outputs \['q'\]"):
        plot.parity(model, X, Y.rename(columns={"q": "r"}))


def test_parity_names_the_output_it_shows_and_refuses_misfit_predictions():
    X, Y = _two_outputs()
    ax = plot.parity_predictions(Y, Y, output="q")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("true q", "predicted q")
    with pytest.raises(ValueError, match=r"y has 2 column\(s\) but y_pred 3"):
        plot.parity_predictions(np.ones((4, 2)), np.ones((4, 3)), output=1)
    with pytest.raises(TypeError, match="y_pred must be an array of numbers, got None"):
        plot.parity_predictions([1.0, 2.0], None)
    with pytest.raises(ValueError, match="y must be numbers"):
        plot.parity_predictions(["a", "b"], [1.0, 2.0])


def test_fan_warns_when_x_and_y_rows_differ():
    space = sg.Space([sg.Real("k", 0.1, 1.0), sg.Real("a", 1, 2)])
    t = np.linspace(0, 3, 8)
    sim = sg.Simulator(lambda X: np.exp(-np.outer(X["k"], t)) * X["a"].to_numpy()[:, None],
                       space, fields={"y": t}, vectorized=True)
    runs = sim.run(sg.sample(space, 20, seed=0), progress=False)
    model = sg.FieldGPRegressor(seed=0).fit(runs.X, runs.field("y"))
    with pytest.warns(UserWarning, match="read by position"):  # run 2 was drawn with run 5's
        plot.fan(model, runs.X.iloc[[2, 5]], runs.field("y").iloc[[5, 2]])


def test_box_refuses_labels_outside_zero_one():
    space = sg.Space([sg.Real("x", 0, 1), sg.Real("z", 0, 1)])
    X = sg.sample(space, 200, seed=0)
    box = sg.PRIM().fit(X, X.x > 0.5).box()
    with pytest.raises(ValueError, match=r"y must be booleans, 0/1 or probabilities in \[0, 1\]"):
        plot.box(box, X, X.x.to_numpy() * 5)  # the raw output: drawn as nearly all cases


def test_fidelity_refuses_to_mix_q2_and_agreement():
    space = sg.Space([sg.Real("x", -1, 1), sg.Real("w", -1, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regression = sg.distill(lambda p: p["x"] ** 2, DecisionTreeRegressor(max_depth=2),
                                space=space, labels="value", n=60, seed=0)
        classes = sg.distill(lambda p: p["x"], DecisionTreeClassifier(max_depth=2), space=space,
                             threshold=("<", 0.0), n=80, seed=0)
    with pytest.raises(ValueError, match="the distillations measure fidelity differently"):
        plot.fidelity([regression, classes], x="n")
