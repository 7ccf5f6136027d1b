"""The convergence plot draws the best feasible value so far."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from surrogate.optimize import minimize  # noqa: E402
from surrogate.plot import convergence  # noqa: E402
from surrogate.space import Real, Space  # noqa: E402
from surrogate.teacher import Simulator  # noqa: E402


def test_convergence_draws_best_feasible_so_far():
    import matplotlib.pyplot as plt

    space = Space([Real("x", -1.0, 1.0)])
    sim = Simulator(lambda x: {"f": (x - 0.2) ** 2, "g": x}, space, ["f", "g"])
    result = minimize(sim, output="f", constraints={"g": (">=", 0.0)}, budget=8, n_init=4,
                      seed=2)
    fig, ax = plt.subplots()
    assert convergence(result, ax=ax) is ax
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    np.testing.assert_array_equal(x, np.arange(1, 9))
    expected = result.best_so_far()
    np.testing.assert_allclose(y, expected, equal_nan=True)
    # infeasible evaluations are not drawn as points; the best so far never increases
    feasible = result.feasible_mask()
    assert len(ax.lines[1].get_xdata()) == feasible.sum()
    finite = expected[np.isfinite(expected)]
    assert np.all(np.diff(finite) <= 0) and finite[-1] == pytest.approx(result.y)
    assert ax.get_xlabel() == "teacher evaluations"
    plt.close(fig)


def test_convergence_refuses_other_objects():
    with pytest.raises(TypeError, match="OptimizationResult"):
        convergence(object())


def test_failed_evaluations_are_marked():
    space = Space([Real("x1", 0, 1), Real("x2", 0, 1)])
    result = minimize(lambda p: float("nan") if p["x1"] > 0.5 else p["x1"] + p["x2"],
                      space=space, budget=8, seed=0)
    failed = int((~np.asarray(result.history.ok, dtype=bool)).sum())
    assert failed > 0
    ax = convergence(result)
    [line] = [x for x in ax.lines if x.get_label().startswith("failed evaluations")]
    assert line.get_label() == f"failed evaluations ({failed})" and len(line.get_xdata()) == failed
