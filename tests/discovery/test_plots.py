"""Discovery plots: rendered to PNG with the Agg backend and checked for what was drawn."""

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from surrogate.discovery import PRIM  # noqa: E402
from surrogate.plot._discovery import box, box_limits, tradeoff  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def render(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    n = 800
    X = pd.DataFrame({"a": rng.uniform(size=n), "b": rng.uniform(size=n),
                      "c": rng.choice(["p", "q", "r"], n), "d": rng.uniform(size=n)})
    y = (X.a > 0.5) & (X.b < 0.6) & X.c.isin(["p", "r"])
    return X, y, PRIM().fit(X, y)


def test_tradeoff_draws_one_point_per_box(fitted):
    _, _, prim = fitted
    ax = tradeoff(prim)
    points = ax.collections[0]
    assert len(points.get_offsets()) == len(prim.trajectory_)
    np.testing.assert_allclose(points.get_offsets()[:, 0], prim.trajectory_.coverage)
    np.testing.assert_allclose(points.get_offsets()[:, 1], prim.trajectory_.density)
    np.testing.assert_array_equal(points.get_array(), prim.trajectory_.n_restricted)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("coverage", "density")
    assert ax.figure.axes[-1].get_ylabel() == "restricted dimensions"  # colour bar
    render(ax.figure)


def test_tradeoff_on_given_axes(fitted):
    _, _, prim = fitted
    _, ax = plt.subplots()
    assert tradeoff(prim.trajectory_, ax=ax) is ax
    with pytest.raises(TypeError):
        tradeoff(object())


def test_box_pairs_plot(fitted):
    X, y, prim = fitted
    chosen = prim.box()
    names = list(chosen.restricted)
    figure = box(chosen, X, y)
    k = len(names)
    assert len(figure.axes) == k * k
    axes = np.reshape(figure.axes, (k, k))
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            if j > i:
                assert not ax.axison
            elif i == j:
                # histogram bars (stacked: 2 x 20, or 2 per category) and shaded spans
                numeric = names[i] in chosen._domain.numeric_names
                assert len(ax.patches) > (20 if numeric else 3)
            else:
                assert len(ax.collections[0].get_offsets()) == len(X)
                rectangles = [p for p in ax.patches if isinstance(p, Rectangle)]
                categorical = "c" in (names[i], names[j])
                assert len(rectangles) == (2 if categorical else 1)  # one per allowed category
    assert [axes[-1, j].get_xlabel() for j in range(k)] == names
    render(axes[0, 0].figure)


def test_box_pairs_plot_takes_an_axes_a_figure_or_a_grid(fitted):
    X, y, prim = fitted
    k = len(prim.box().restricted)
    assert k > 1
    figure, (left, right) = plt.subplots(1, 2)
    assert box(prim.box(), X, y, ax=right) is figure  # the grid takes the right one's place
    assert len(figure.axes) == 1 + k * k and left in figure.axes and right not in figure.axes
    other = plt.figure()
    assert box(prim.box(), X, y, ax=other) is other and len(other.axes) == k * k
    grid_figure, grid = plt.subplots(k, k)
    assert box(prim.box(), X, y, ax=grid) is grid_figure
    with pytest.raises(ValueError, match=f"ax must be an Axes, a Figure or {k}x{k} Axes"):
        box(prim.box(), X, y, ax=grid[0])
    with pytest.raises(ValueError, match="needs an Axes of a subplot grid"):
        box(prim.box(), X, y, ax=plt.figure().add_axes((0.1, 0.1, 0.8, 0.8)))
    with pytest.raises(ValueError, match="restricts no parameter"):
        box(prim.box(0), X, y)


def test_box_limits_plot(fitted):
    _, _, prim = fitted
    chosen = prim.box()
    ax = box_limits(chosen)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [label.split(" ")[0] for label in labels] == list(chosen.restricted)
    qp_a = chosen.qp.loc["a"].dropna().tolist()
    assert f"{qp_a[0]:.2g}" in labels[list(chosen.restricted).index("a")]
    numeric = [n for n in chosen.restricted if n != "c"]
    assert len([line for line in ax.lines if len(line.get_xdata()) == 2]) == len(numeric)
    texts = [t.get_text() for t in ax.texts]
    assert "p" in texts and "r" in texts and "q" not in texts  # allowed categories
    assert ax.get_title().startswith("coverage")
    render(ax.figure)



def test_box_plot_of_a_categorical_has_one_bar_per_category_and_refuses_nan_labels():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(size=400), "c": rng.choice(["u", "v", "w"], 400)})
    y = ((X.a > 0.5) & (X.c != "v")).to_numpy()
    chosen = PRIM().fit(X, y).box()
    assert "c" in chosen.restricted
    axes = np.reshape(box(chosen, X, y).axes, (len(chosen.restricted),) * 2)
    k = list(chosen.restricted).index("c")
    widths = [p.get_width() for p in axes[k, k].patches if isinstance(p, Rectangle)]
    bars = [w for w in widths if abs(w - 1.0) < 1e-9]  # one unit-wide bin per category
    assert len(bars) == 6 and len(widths) <= 6 + 3  # two stacked sets, and the shaded spans
    with pytest.raises(ValueError, match="missing"):
        box(chosen, X, np.where(y, 1.0, np.nan))


def test_box_names_the_mistake_rather_than_failing_inside():
    """A PRIM for its box, X without a restricted column, text labels: AttributeError,
    KeyError and a float conversion error before."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(300, 3)), columns=["a", "b", "c"])
    y = (X.a > 0.5) & (X.b > 0.5)
    prim = PRIM().fit(X, y)
    with pytest.raises(TypeError, match=r"box must be a Box, got a PRIM; take one of its boxes, "
                                        r"e.g. prim.box\(\)"):
        box(prim, X, y)
    with pytest.raises(ValueError, match=r"X lacks the box's restricted column\(s\) \['b'\]"):
        box(prim.box(), X.drop(columns="b"), y)
    with pytest.raises(TypeError, match="y must be booleans, 0/1 or probabilities"):
        box(prim.box(), X, np.where(y, "yes", "no"))


def test_box_plot_of_two_categoricals_jitters_them_independently():
    # both categorical columns got the same jitter: their panel drew the points of each pair
    # of categories on one diagonal line, a correlation the data does not have
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"a": rng.uniform(size=n), "c": rng.choice(["p", "q", "r"], n),
                      "e": rng.choice(["u", "v", "w"], n)})
    y = (X.a > 0.4) & X.c.isin(["p", "q"]) & X.e.isin(["u", "v"])
    chosen = PRIM().fit(X, y).box()
    assert {"c", "e"} <= set(chosen.restricted)
    figure = box(chosen, X, y)
    k = chosen.n_restricted
    axes = np.reshape(figure.axes[-k * k:], (k, k))
    names = list(chosen.restricted)
    i, j = names.index("e"), names.index("c")
    i, j = max(i, j), min(i, j)  # the lower triangle holds the scatter
    offsets = axes[i, j].collections[0].get_offsets()
    jitter_x = offsets[:, 0] - np.round(offsets[:, 0])
    jitter_y = offsets[:, 1] - np.round(offsets[:, 1])
    assert abs(np.corrcoef(jitter_x, jitter_y)[0, 1]) < 0.2
