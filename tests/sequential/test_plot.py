"""The learning curve draws the fidelity estimate of every round, and the target."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from surrogate.plot import learning_curve  # noqa: E402
from surrogate.sequential import Acquisition, adaptive_sample  # noqa: E402
from surrogate.space import Real, Space  # noqa: E402

SPACE = Space([Real("x", -1.0, 1.0)])


def test_learning_curve_draws_each_round_and_the_target():
    import matplotlib.pyplot as plt

    result = adaptive_sample(lambda p: np.sin(3 * p["x"]), space=SPACE, budget=12,
                             target=0.9999, seed=0, progress=False)
    fig, ax = plt.subplots()
    assert learning_curve(result, ax=ax) is ax
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    np.testing.assert_array_equal(x, result.history["n_runs"])
    np.testing.assert_array_equal(y, result.history["q2_loo"])
    assert ax.lines[1].get_ydata()[0] == pytest.approx(0.9999)  # the target line
    assert ax.get_xlabel() == "teacher runs" and ax.get_yscale() == "linear"
    assert result.stopped in ax.get_title()
    plt.close(fig)


def test_boundary_curve_is_on_a_log_scale_that_keeps_a_share_of_zero():
    import matplotlib.pyplot as plt

    result = adaptive_sample(lambda p: p["x"], space=SPACE, goal="boundary",
                             threshold=("<", 0.2), budget=7, seed=0, progress=False)
    ax = learning_curve(result)
    assert ax.get_yscale() == "symlog" and len(ax.lines) == 1  # no target, no target line
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), result.history["misclassified"])
    plt.close(ax.figure)
    # every run on one side: the share is exactly 0, which a log axis left out (a blank plot)
    flat = adaptive_sample(lambda p: p["x"], space=SPACE, goal="boundary",
                           threshold=("<", -5.0), budget=7, seed=0, progress=False)
    assert (flat.history["misclassified"] == 0).all()
    ax = learning_curve(flat)
    low, high = ax.get_ylim()
    assert low <= 0.0 <= high
    plt.close(ax.figure)


class _NoFidelity(Acquisition):
    fidelity_name = None

    def _score(self, unit, student, context):
        return student.posterior(unit).var[:, 0]


def test_learning_curve_refuses_what_it_cannot_draw():
    with pytest.raises(TypeError, match="AdaptiveResult"):
        learning_curve(object())
    result = adaptive_sample(lambda p: p["x"], space=SPACE, goal=_NoFidelity(), budget=5,
                             seed=0, progress=False)
    with pytest.raises(ValueError, match="no fidelity estimate"):
        learning_curve(result)


def test_a_custom_acquisition_that_scores_nothing_or_not_in_torch_is_named():
    calls = []

    def teacher(p):
        calls.append(1)
        return p["x"]

    class Forgot(Acquisition):
        pass

    with pytest.raises(TypeError, match="Forgot must implement _score"):
        adaptive_sample(teacher, space=SPACE, goal=Forgot(), budget=8, seed=0, progress=False)
    assert calls == []  # before the initial design

    class InNumpy(Acquisition):
        def _score(self, unit, student, context):
            return student.posterior(unit).var[:, 0].detach().numpy()

    with pytest.raises(TypeError, match=r"InNumpy._score must return a torch Tensor"):
        adaptive_sample(teacher, space=SPACE, goal=InNumpy(), budget=8, seed=0, progress=False)

