"""plot.fidelity: rendered with Agg and checked for what was drawn."""

import io

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

import surrogate as sg  # noqa: E402
from surrogate.distillation import distill  # noqa: E402
from surrogate.plot import fidelity  # noqa: E402

SPACE = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def render(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def by_size():
    X = sg.sample(SPACE, 200, seed=0)
    y = ((X.a - 0.5) ** 2 + (X.b - 0.5) ** 2 < 0.1).astype(int)
    teacher = LogisticRegression().fit(np.column_stack([X, X ** 2]), y)
    features = sg.Space([*SPACE, sg.Real("a2", 0, 1), sg.Real("b2", 0, 1)])
    X4 = X.assign(a2=X.a ** 2, b2=X.b ** 2)
    return [distill(teacher, DecisionTreeClassifier(max_leaf_nodes=leaves, random_state=0),
                    transfer="munge", data=(X4, y), space=features, n=600, seed=1)
            for leaves in (16, 2, 4)]


def test_one_distillation_draws_a_bar_per_figure(by_size):
    result = by_size[0]
    ax = fidelity(result)
    heights = [patch.get_height() for patch in ax.patches]
    f = result.fidelity_
    np.testing.assert_allclose(heights, [f["holdout_agreement"], f["data_agreement"],
                                         f["accuracy"], f["teacher_accuracy"]])
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "fidelity (held out)"
    render(ax.figure)


def test_several_distillations_draw_lines_against_student_size(by_size):
    ax = fidelity(by_size)
    assert ax.get_xlabel() == "student size"
    held = ax.lines[0]
    assert held.get_xdata().tolist() == [2, 4, 16]  # sorted by size
    ordered = [by_size[1], by_size[2], by_size[0]]
    np.testing.assert_allclose(held.get_ydata(),
                               [d.fidelity_["holdout_agreement"] for d in ordered])
    np.testing.assert_allclose(ax.lines[2].get_ydata(), [d.fidelity_["accuracy"] for d in ordered])
    teacher = ax.lines[3]  # dashed: the teacher's own accuracy
    assert teacher.get_linestyle() == "--"
    assert teacher.get_ydata()[0] == pytest.approx(by_size[0].fidelity_["teacher_accuracy"])
    render(ax.figure)


def test_values_plot_q2_against_n_on_given_axes():
    runs = [distill(lambda p: p["a"] + p["b"], DecisionTreeRegressor(max_leaf_nodes=8), space=SPACE,
                    labels="value", n=n, seed=0) for n in (100, 50)]
    _, ax = plt.subplots()
    assert fidelity(runs, ax, label="tree") is ax
    assert ax.get_ylabel() == "Q²" and ax.get_xlabel() == "generated points (n)"
    assert ax.lines[0].get_xdata().tolist() == [50, 100]
    np.testing.assert_allclose(ax.lines[0].get_ydata(),
                               [runs[1].fidelity_["holdout"], runs[0].fidelity_["holdout"]])
    assert ax.get_legend().get_texts()[0].get_text() == "tree: fidelity (held out)"
    with pytest.raises(TypeError, match="expected a Distillation"):
        fidelity(object())
    with pytest.raises(ValueError, match="x must be 'n' or 'size'"):
        fidelity(runs, x="time")


def test_a_refused_input_leaves_no_empty_figure_open():
    plt.close("all")
    with pytest.raises((TypeError, ValueError)):
        fidelity("not a distillation")
    assert plt.get_fignums() == []
