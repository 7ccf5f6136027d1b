"""The field plots draw what the model, the indices and the runs say."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

import surrogate as sg
from surrogate import plot
from surrogate.models import FieldGPRegressor
from surrogate.sensitivity import sobol_indices

matplotlib.use("Agg")

SPACE = sg.Space([sg.Real("a", 0.5, 2.0), sg.Real("k", 0.1, 1.0)])
TIMES = np.linspace(0.0, 5.0, 21)


def decay(X):
    return X["a"].to_numpy()[:, None] * np.exp(-np.outer(X["k"], TIMES))


TEACHER = sg.Simulator(decay, SPACE, fields={"y": TIMES}, vectorized=True, name="decay")


@pytest.fixture(scope="module")
def runs():
    return TEACHER.run(sg.sample(SPACE, 30, seed=0), progress=False)


@pytest.fixture(scope="module")
def model(runs):
    return FieldGPRegressor(seed=0).fit(runs.X, runs.field("y"))


def test_fan_draws_mean_band_and_teacher(model):
    import matplotlib.pyplot as plt

    X = sg.sample(SPACE, 3, method="random", seed=5)
    _, given = plt.subplots()
    ax = plot.fan(model, X, decay(X), ax=given)
    assert ax is given
    mean, std = model.predict(X, return_std=True)
    means = [line for line in ax.lines if line.get_linestyle() == "-"]
    dots = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(means) == 3 and len(dots) == 3 and len(ax.collections) == 3
    for i in range(3):
        np.testing.assert_allclose(means[i].get_xdata(), TIMES)
        np.testing.assert_allclose(means[i].get_ydata(), mean[i])
        np.testing.assert_allclose(dots[i].get_ydata(), decay(X)[i])
        assert means[i].get_color() == dots[i].get_color()
        band = ax.collections[i].get_paths()[0].vertices[:, 1]
        assert band.min() == pytest.approx((mean[i] - 1.959963984540054 * std[i]).min())
        assert band.max() == pytest.approx((mean[i] + 1.959963984540054 * std[i]).max())
    assert ax.get_ylabel() == "y"


def test_fan_refuses_teacher_trajectories_on_another_grid(model):
    import pandas as pd

    X = sg.sample(SPACE, 2, method="random", seed=5)
    reversed_grid = pd.DataFrame(decay(X)[:, ::-1], columns=TIMES[::-1])
    with pytest.raises(ValueError, match="Y's columns are not those of the field the model"):
        plot.fan(model, X, reversed_grid)


def test_fan_refuses_what_it_cannot_draw(model, runs):
    with pytest.raises(ValueError, match="at most 12 points"):
        plot.fan(model, runs.X)
    with pytest.raises(ValueError, match=r"at most 12 points \(one band each\), got 5000"):  # before predicting
        plot.fan(model, np.zeros((5000, 99)))  # (its 99 columns would fail in predict)
    with pytest.raises(ValueError, match="fitted field surrogate"):
        plot.fan(sg.GPRegressor(), runs.X.iloc[:2])
    n_grid = len(model.grid_)
    with pytest.raises(ValueError, match=rf"one trajectory per row of X .* shape \(3, {n_grid}\); "
                                         rf"got \(2, {n_grid}\)"):
        plot.fan(model, runs.X.iloc[:3], runs.field("y").iloc[:2])


def test_fan_takes_one_value_per_point_for_a_field_of_one_grid_point(runs):
    # a 1-D Y was read as one trajectory: "shape (2, 1); got (1, 2)" for two points
    last = runs.field("y").iloc[:, -1]
    model = FieldGPRegressor(seed=0).fit(runs.X, last)
    ax = plot.fan(model, runs.X.iloc[:2], last.iloc[:2])
    dots = [line for line in ax.lines if line.get_marker() == "o"]
    assert [float(line.get_ydata()[0]) for line in dots] == last.iloc[:2].tolist()


def test_sobol_over_time_draws_each_index_on_the_grid():
    indices = sobol_indices(TEACHER, n=128, output="y", seed=0)
    ax = plot.sobol_over_time(indices)
    by_label = {line.get_label().split(" (")[0]: line for line in ax.lines}
    assert sorted(by_label) == ["a: S1", "a: ST", "k: S1", "k: ST"]
    for parameter in ("a", "k"):
        rows = indices.xs(parameter, level="parameter")
        np.testing.assert_allclose(by_label[f"{parameter}: S1"].get_xdata(), TIMES)
        np.testing.assert_allclose(by_label[f"{parameter}: S1"].get_ydata(), rows["S1"],
                                   equal_nan=True)
        np.testing.assert_allclose(by_label[f"{parameter}: ST"].get_ydata(), rows["ST"],
                                   equal_nan=True)
        assert by_label[f"{parameter}: ST"].get_linestyle() == "--"
    aggregated = indices.attrs["aggregated"].loc["a", "S1"]
    assert any(f"{aggregated:.2f}" in line.get_label() for line in ax.lines)
    with pytest.raises(ValueError, match="indexed by \\(time, parameter\\)"):
        plot.sobol_over_time(indices.droplevel("time"))


def test_trajectories_split_by_a_box_and_coloured_by_the_outcome(runs):
    box = sg.PRIM().fit(runs.X, runs.field("y").iloc[:, -1] > 0.3).box()
    axes = plot.trajectories(runs, "y", "final(y) > 0.3", box=box)
    assert len(axes) == 2
    inside = box.contains(runs.X)
    meets = runs.field("y").iloc[:, -1].to_numpy() > 0.3
    for axis, members in zip(axes, (inside, ~inside), strict=True):
        red = [line for line in axis.lines if line.get_color() == "tab:red"]
        grey = [line for line in axis.lines if line.get_color() == "0.6"]
        assert len(red) == int((members & meets).sum())
        assert len(grey) == int((members & ~meets).sum())
        drawn = sorted(tuple(np.round(line.get_ydata(), 12)) for line in red)
        expected = sorted(tuple(np.round(row, 12))
                          for row in runs.field("y").to_numpy()[members & meets])
        assert drawn == expected
    single = plot.trajectories(runs, "y", meets, max_lines=10)
    assert len(single) == 1 and len(single[0].lines) == 10
    with pytest.raises(ValueError, match="2 Axes here"):
        import matplotlib.pyplot as plt

        plot.trajectories(runs, "y", meets, box=box, ax=plt.subplots()[1])


def test_fan_draws_the_band_of_a_transformed_field_mapped_back():
    # mean -/+ 1.96 std of the delta method: below 0 for a log field, its top far too low
    import pandas as pd

    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 20)
    X = rng.uniform(0.2, 3, size=(8, 1))
    Y = pd.DataFrame(np.exp(-X * t + 0.8 * np.sin(7 * X) * np.sin(t)), columns=t)
    model = FieldGPRegressor(y_transform="log", seed=0).fit(X, Y)
    ask = np.array([[1.0], [8.0]])
    low, high = model.predict_band(ask, 0.95)
    ax = plot.fan(model, ask)
    for i, band in enumerate(ax.collections):
        edges = band.get_paths()[0].vertices[:, 1]
        assert edges.min() > 0.0
        np.testing.assert_allclose([edges.min(), edges.max()], [low[i].min(), high[i].max()])
