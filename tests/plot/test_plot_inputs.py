"""Plots on the inputs a user gets wrong: soft labels, objects where a box or runs belong,
outputs by name, axes of the wrong shape, a result with no teacher evaluation."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import surrogate as sg  # noqa: E402
from surrogate import plot  # noqa: E402

T = np.linspace(0.0, 1.0, 5)
SPACE = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])


def _field(X):
    return {"f": np.outer(X["a"].to_numpy(), T)}


@pytest.fixture(scope="module")
def runs():
    sim = sg.Simulator(_field, SPACE, fields={"f": T}, vectorized=True)
    return sim.run(sg.sample(SPACE, 30, seed=0), progress=False)


def test_trajectories_read_probabilities_at_one_half(runs):
    """np.asarray(p, dtype=bool) counted every nonzero probability as meeting the outcome."""
    p = runs.X["a"].to_numpy()
    axes = plot.trajectories(runs, "f", p)
    red = [line for line in axes[0].lines if line.get_color() in ("tab:red", "red", "C3")]
    assert len(red) == int((p >= 0.5).sum())
    with pytest.raises(ValueError, match="booleans, 0/1 or probabilities"):
        plot.trajectories(runs, "f", p * 3)
    with pytest.raises(TypeError, match="runs must be a TransferSet"):
        plot.trajectories(runs.X, "f", p)
    prim = sg.PRIM().fit(runs.X, p > 0.5)
    with pytest.raises(TypeError, match=r"box must be a Box, got a PRIM; .* prim.box\(\)"):
        plot.trajectories(runs, "f", p, box=prim)
    with pytest.raises(TypeError, match=r"box must be a Box, got a PRIM"):
        plot.box_limits(prim)
    with pytest.raises(ValueError, match="max_lines must be an int >= 1"):
        plot.trajectories(runs, "f", p, max_lines=-1)


def test_parity_takes_an_output_by_name_and_refuses_what_is_no_model():
    X = sg.sample(SPACE, 20, seed=0)
    Y = pd.DataFrame({"u": X.a + X.b, "v": X.a - X.b})
    gp = sg.GPRegressor(seed=0).fit(X, Y)
    ax = plot.parity(gp, X, Y, output="v")
    np.testing.assert_allclose(ax.lines[0].get_xdata()[:3] if ax.lines else
                               ax.collections[0].get_offsets()[:3, 0], Y["v"].to_numpy()[:3])
    with pytest.raises(ValueError, match=r"output='w' is not an output .* \['u', 'v'\]"):
        plot.parity(gp, X, Y, output="w")
    with pytest.raises(TypeError, match="model must be a fitted model with predict"):
        plot.parity("gp", X, Y)


def test_design_pairs_needs_a_square_grid_and_convergence_teacher_runs():
    import matplotlib.pyplot as plt

    space = sg.Space([sg.Real(n, 0, 1) for n in "abc"])
    X = sg.sample(space, 10, seed=0)
    _, axes = plt.subplots(2, 2)
    with pytest.raises(ValueError, match="axes must be a 3 x 3 grid .* got 4 object"):
        plot.design_pairs(X, axes=axes)
    gp = sg.GPRegressor(seed=0).fit(X, X.a)
    result = sg.minimize_surrogate(gp, space, seed=0)
    with pytest.raises(ValueError, match="convergence plots teacher evaluations; this result "
                                         "made none"):
        plot.convergence(result)
    plt.close("all")


def test_design_pairs_colours_by_the_finite_values_and_names_bad_colours():
    # one failed run's NaN set the colour scale to matplotlib's -0.1..0.1: two colours in all
    X = sg.sample(SPACE, 40, seed=0)
    values = 1.0 + 9.0 * X["a"].to_numpy()
    values[[3, 7]] = np.nan
    axes = plot.design_pairs(X, color=values)
    norm = next(c for a in axes.ravel() for c in a.collections if c.get_array() is not None).norm
    assert (norm.vmin, norm.vmax) == (np.nanmin(values), np.nanmax(values))
    with pytest.raises(ValueError, match="color must hold one number per point"):
        plot.design_pairs(X, color=["a"] * 40)
    with pytest.raises(ValueError, match="color holds no finite value"):
        plot.design_pairs(X, color=np.full(40, np.nan))


def test_parity_inputs_named_rather_than_numpy_errors():
    Y = pd.DataFrame({"u": np.arange(5.0), "v": -np.arange(5.0)})
    ax = plot.parity_predictions(Y, Y * 1.01, output="v")  # a column of y by name
    assert ax.get_title().startswith("Q² = ")
    assert ax.lines[-1].get_xdata()[0] < -4.0  # the y = x line spans v, not u (0 .. 4)
    with pytest.raises(ValueError, match="output='w' names no column of y"):
        plot.parity_predictions(Y, Y, output="w")
    X = sg.sample(sg.Space([sg.Real("x", 0, 1)]), 10, seed=0)
    gp = sg.GPRegressor(seed=0).fit(X, X.x)
    with pytest.raises(ValueError, match="X and y are empty"):
        plot.parity(gp, X.iloc[:0], X.x.iloc[:0])


def test_box_plots_refuse_what_there_is_nothing_to_draw_of():
    from surrogate.discovery import PRIM

    rng = np.random.default_rng(0)
    D = pd.DataFrame(rng.uniform(size=(200, 2)), columns=["a", "b"])
    prim = PRIM().fit(D, D.a > 0.5)
    with pytest.raises(ValueError, match="the trajectory is empty"):
        plot.tradeoff(prim.trajectory_.iloc[:0])
    with pytest.raises(ValueError, match="the box restricts no parameter"):
        plot.box_limits(prim.box(0))


def test_design_pairs_leaves_infinite_colours_out_of_the_scale():
    X = sg.sample(SPACE, 40, seed=0)
    values = 1.0 + 9.0 * X["a"].to_numpy()
    values[5] = np.inf
    axes = plot.design_pairs(X, color=values)
    norm = next(c for a in axes.ravel() for c in a.collections if c.get_array() is not None).norm
    finite = values[np.isfinite(values)]
    assert (norm.vmin, norm.vmax) == (finite.min(), finite.max())


def test_parity_refuses_a_classifier_by_name():
    # it failed with KeyError 'y_pred' (cv=), numpy's text conversion, or drew a "Q²" of 0/1
    # labels
    rng = np.random.default_rng(0)
    X = rng.random((30, 2))
    y = X[:, 0] > 0.5
    model = sg.GPClassifier(seed=0, max_iter=20)
    with pytest.raises(TypeError, match="GPClassifier is a classifier: measure it with "
                                        "surrogate.cross_validate"):
        plot.parity(model, X, y, cv=3)
    with pytest.raises(TypeError, match="is a classifier"):
        plot.parity(model.fit(X, y), X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_box_names_missing_or_infinite_inputs(bad):
    # one inf failed inside matplotlib's histogram; one NaN row was left out of the plot
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.random(200), "b": rng.random(200)})
    y = (X.a > 0.6) & (X.b < 0.5)
    box = sg.PRIM().fit(X, y).box()
    X.loc[0, "a"] = bad
    with pytest.raises(ValueError, match=r"X has 1 row\(s\) with missing or infinite values "
                                         r"\(columns \['a'\]\)"):
        plot.box(box, X, y)


@pytest.mark.parametrize("output", [1.5, True])
def test_parity_predictions_names_an_output_that_is_no_column_index(output):
    # 1.5 raised numpy's IndexError, True matplotlib's "no greater than 2D"
    y = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match=rf"output={output!r} is not an output of y; "
                                         r"allowed: \[0, 1\]"):
        plot.parity_predictions(y, y, output=output)
    assert plot.parity_predictions(y, y + 0.1, output=1).get_title().startswith("Q² = ")


def test_parity_reads_a_frames_outputs_by_name():
    # y's columns in another order than the model's outputs drew u's predictions against v
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((30, 2)), columns=["a", "b"])
    Y = pd.DataFrame({"u": X.a * 3.0, "v": np.sin(6.0 * X.b)})
    model = sg.GPRegressor(seed=0).fit(X, Y)
    assert list(model.outputs_) == ["u", "v"]
    ordered = plot.parity(model, X, Y, output="u").get_title()
    assert plot.parity(model, X, Y[["v", "u"]], output="u").get_title() == ordered
    predicted = pd.DataFrame(model.predict(X), columns=["u", "v"])
    assert plot.parity_predictions(Y[["v", "u"]], predicted, output="u").get_title() == \
        plot.parity_predictions(Y, predicted, output="u").get_title()


def test_plots_warn_that_a_pandas_y_is_read_by_position():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.random((40, 2)), columns=["a", "b"])
    y = (X.a > 0.5).sample(frac=1.0, random_state=0)  # the same labels, another index order
    box = sg.PRIM().fit(X, X.a > 0.5).box()
    with pytest.warns(UserWarning, match="y's index differs from X's"):
        plot.box(box, X, y)
    with pytest.warns(UserWarning, match="y's index differs from X's"):
        plot.parity(sg.GPRegressor(seed=0).fit(X, X.a), X, X.a.sample(frac=1.0, random_state=0))


def test_design_pairs_names_a_column_without_a_finite_value():
    with pytest.raises(ValueError, match=r"design column\(s\) \['q'\] hold no finite value"):
        plot.design_pairs(pd.DataFrame({"p": [1.0, 2.0, 3.0], "q": [np.nan] * 3}))
