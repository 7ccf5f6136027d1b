"""Bad input across the public API gets a clear error naming the argument (found by a fuzz of
every public name): no raw traceback from a library, no truthy string taken for True."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate import plot

matplotlib.use("Agg")

SPACE = sg.Space([sg.Real("a", 0.0, 1.0), sg.Real("b", 0.0, 1.0)])


@pytest.fixture(scope="module")
def data():
    X = sg.sample(SPACE, 40, seed=0)
    return X, (X.a + X.b > 1).to_numpy()


@pytest.fixture(scope="module")
def prim(data):
    return sg.PRIM().fit(*data)


def test_yes_no_options_take_only_booleans(data, prim):
    X, y = data
    with pytest.raises(TypeError, match="vectorized must be True or False, got 'no'"):
        sg.Simulator(lambda X: X.sum(axis=1), SPACE, ["y"], vectorized="no")
    gp = sg.GPRegressor(seed=0).fit(X, X.a)
    with pytest.raises(TypeError, match="return_std must be True or False, got 'no'"):
        gp.predict(X, return_std="no")
    with pytest.raises(ValueError, match="max_depth"):
        sg.CART(max_depth=True).fit(X, y)
    with pytest.raises(ValueError, match="iterations must be a positive int, got True"):
        sg.resample(prim, X, y, iterations=True)


def test_resample_checks_what_it_is_given(data, prim):
    X, y = data
    with pytest.raises(TypeError, match="prim must be a fitted PRIM or REDS, got NoneType"):
        sg.resample(None, X, y)
    with pytest.raises(ValueError, match=r"X has the columns \['p', 'q'\], but the PRIM was "
                                         r"fitted on \['a', 'b'\]"):
        sg.resample(prim, X.set_axis(["p", "q"], axis=1), y)


def test_model_inputs_of_the_wrong_shape_are_named_before_scikit_learn(data):
    X, y = data
    with pytest.raises(ValueError, match="GPRegressor: X has 40 rows but y has 5"):
        sg.GPRegressor(seed=0).fit(X, X.a[:5])
    with pytest.raises(ValueError, match=r"GPRegressor: X must be 2-D.*X.reshape\(-1, 1\)"):
        sg.GPRegressor(seed=0).fit(X.a.to_numpy(), X.b)
    with pytest.raises(ValueError, match=r"FieldGPRegressor: X has 40 rows but y has 3"):
        sg.FieldGPRegressor(seed=0).fit(X, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"X has the column name\(s\) \['a'\] more than once"):
        sg.GPRegressor(seed=0).fit(X, X.a).predict(pd.concat([X, X[["a"]]], axis=1))
    with pytest.raises(ValueError, match="weight_decay must be a float >= 0, got nan"):
        sg.NNRegressor(weight_decay=float("nan")).fit(X, X.a)


def test_a_field_score_on_runs_with_a_failed_one_is_refused():
    X = np.linspace(0, 1, 12)[:, None]
    Y = np.exp(-np.outer(X[:, 0], np.linspace(0, 1, 5)))
    model = sg.FieldGPRegressor(seed=0).fit(X, Y)
    Y[3] = np.nan  # a failed run's row, as TransferSet.field keeps it
    with pytest.raises(ValueError, match=r"y contains NaN \(e.g. rows \[3\]\)"):
        model.score(X, Y)


def test_distill_refuses_executor_and_checkpoint_for_a_fitted_teacher(data, tmp_path):
    from sklearn.tree import DecisionTreeClassifier

    X, y = data
    teacher = DecisionTreeClassifier(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="executor= and checkpoint= apply to a simulator or "
                                         "callable teacher only"):
        sg.distill(teacher, DecisionTreeClassifier(), space=SPACE, n=50, seed=0,
                   checkpoint=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_a_factorial_grid_past_ten_million_points_is_refused_before_it_is_built():
    with pytest.raises(ValueError, match=r"has 1,000,000,000,000 points, more than 10,000,000"):
        sg.sample(SPACE, None, method="factorial", levels=10**6)


def test_box_rules_precision_and_plot_axes(prim):
    with pytest.raises(ValueError, match="precision must be an int from 1 to 17"):
        prim.box().rules(precision=1.5)
    from matplotlib.figure import Figure

    figure = Figure()
    assert plot.tradeoff(prim, ax=figure).figure is figure  # a Figure to draw in
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot.tradeoff(prim, ax="left")


def test_transfer_sets_refuse_text_durations_none_and_a_folder_without_runs(tmp_path):
    X = sg.sample(SPACE, 3, seed=0)
    with pytest.raises(TypeError, match="seconds must be numbers"):
        sg.TransferSet(SPACE, ["y"], X, pd.DataFrame({"y": [1.0, 2.0, 3.0]}),
                       seconds=["a", "b", "c"])
    with pytest.raises(TypeError, match="concat takes a list of transfer sets"):
        sg.TransferSet.concat(None)
    with pytest.raises(TypeError, match="path must be a file system path"):
        sg.TransferSet.load(None)
    with pytest.raises(TypeError, match="path must be a file system path"):
        sg.load(None)
    runs = sg.Simulator(lambda X: X.sum(axis=1).to_numpy(), SPACE, ["y"],
                        vectorized=True).run(X, progress=False)
    runs.save(tmp_path / "set")
    (tmp_path / "set" / "runs.parquet").unlink()
    with pytest.raises(ValueError, match=r"runs.parquet is missing: .* holds no runs"):
        sg.TransferSet.load(tmp_path / "set")


def test_every_plot_takes_a_figure_as_ax_and_refuses_what_is_no_axes(data, prim):
    from matplotlib.figure import Figure

    X, y = data
    figure = Figure()
    assert plot.design_pairs(X, ax=figure).shape == (2, 2) and len(figure.axes) == 4 + 1  # bar
    with pytest.raises(ValueError, match=r"axes must be a 2 x 2 grid .* or a Figure"):
        plot.design_pairs(X, ax="left")
    one = sg.PRIM().fit(X, X.a > 0.5).box()  # restricts a alone
    with pytest.raises(ValueError, match=r"ax must be an Axes, a Figure or 1x1 Axes"):
        plot.box(one, X, y, ax="left")
    root = Figure()
    assert plot.box(prim.box(), X, y, ax=root.subfigures(1, 2)[1]) is root  # the root Figure
    runs = sg.Simulator(lambda X: np.outer(X["a"], np.ones(3)), SPACE, fields={"f": [0, 1, 2]},
                        vectorized=True).run(X, progress=False)
    drawn = Figure()
    assert plot.trajectories(runs, "f", "final(f) > 0.5", ax=drawn)[0].figure is drawn
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot.trajectories(runs, "f", "final(f) > 0.5", ax="left")
