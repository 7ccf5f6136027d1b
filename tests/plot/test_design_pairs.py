"""plot.design_pairs: the scatter matrix draws every pair of the design's columns as given."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from surrogate import plot  # noqa: E402


def test_design_pairs_draws_each_pair_coloured_by_round():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.uniform(size=9), "y": rng.uniform(-5, 5, size=9),
                          "level": ["a", "b", "a", "c", "b", "a", "c", "c", "b"]})
    rounds = np.array([0, 0, 0, 1, 1, 2, 2, 3, 3])
    axes = plot.design_pairs(frame, rounds, label="round")
    assert axes.shape == (3, 3)
    codes = {"a": 0.0, "b": 1.0, "c": 2.0}  # categories in order of first appearance
    numbers = {"x": frame["x"].to_numpy(), "y": frame["y"].to_numpy(),
               "level": frame["level"].map(codes).to_numpy()}
    names = list(frame.columns)
    for i, row in enumerate(names):
        for j, col in enumerate(names):
            ax = axes[i, j]
            if i == j:
                assert sum(p.get_height() for p in ax.patches) == 9  # histogram of all points
                continue
            [points] = ax.collections
            assert np.allclose(points.get_offsets(), np.column_stack([numbers[col],
                                                                      numbers[row]]))
            assert np.array_equal(points.get_array(), rounds)
    assert [t.get_text() for t in axes[2, 0].get_yticklabels()] == ["a", "b", "c"]
    assert axes[2, 1].get_xlabel() == "y" and axes[1, 0].get_ylabel() == "y"
    assert axes[0, 0].figure.axes[-1].get_ylabel() == "round"  # the colour bar


def test_design_pairs_default_colour_is_run_order_and_bad_input_is_named():
    frame = pd.DataFrame({"x": [0.1, 0.4, 0.2], "y": [1.0, 2.0, 3.0]})
    axes = plot.design_pairs(frame)
    assert np.array_equal(axes[0, 1].collections[0].get_array(), [0, 1, 2])
    with pytest.raises(ValueError, match=r"color must hold one number per point \(3\)"):
        plot.design_pairs(frame, [1, 2])
    with pytest.raises(TypeError, match="design must be a DataFrame"):
        plot.design_pairs(np.zeros((3, 2)))


def test_ax_is_the_other_name_of_axes():
    import matplotlib.pyplot as plt
    import pandas as pd

    from surrogate.plot import design_pairs

    frame = pd.DataFrame({"x": [0.1, 0.5, 0.9], "y": [1.0, 3.0, 2.0]})
    _, grid = plt.subplots(2, 2)
    assert design_pairs(frame, ax=grid)[1, 0] is grid[1, 0]
    with pytest.raises(TypeError, match="not both"):
        design_pairs(frame, ax=grid, axes=grid)


def test_a_result_object_gives_its_runs():
    from surrogate.optimize import minimize
    from surrogate.plot import design_pairs
    from surrogate.sequential import adaptive_sample
    from surrogate.space import Real, Space

    space = Space([Real("x", 0, 1), Real("y", 0, 1)])
    for result in (adaptive_sample(lambda p: p["x"], space=space, budget=6, seed=0,
                                   progress=False),
                   minimize(lambda p: p["x"], space=space, budget=6, seed=0)):
        axes = design_pairs(result)
        assert len(axes[1, 0].collections[0].get_offsets()) == 6


def test_many_points_are_scattered_as_a_fixed_subset_with_every_point_in_the_histograms():
    import matplotlib

    matplotlib.use("Agg")
    from surrogate.plot._design import MAX_POINTS, design_pairs

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((MAX_POINTS * 3, 2)), columns=["a", "b"])
    axes = design_pairs(frame)
    assert len(axes[1, 0].collections[0].get_offsets()) == MAX_POINTS
    assert sum(patch.get_height() for patch in axes[0, 0].patches) == MAX_POINTS * 3
    assert axes[1, 0].collections[0].get_clim() == (0.0, MAX_POINTS * 3 - 1.0)


def test_a_transfer_sets_space_orders_the_levels_and_scales_the_log_axes():
    # from a study's adaptive design: levels in order of appearance, a log-scale rate on a
    # linear axis
    import surrogate as sg

    space = sg.Space([sg.Real("rate", 1e-3, 1e1, log=True),
                      sg.Categorical("kind", ["a", "b", "c"])])
    X = pd.DataFrame({"rate": [1e-2, 1.0, 5.0, 1e-3], "kind": ["c", "a", "b", "c"]})
    runs = sg.TransferSet(space, ["y"], X, np.zeros((4, 1)))
    axes = plot.design_pairs(runs)
    assert axes[1, 0].get_xscale() == "log" and axes[0, 1].get_yscale() == "log"
    assert axes[0, 0].get_xscale() == "log"  # the histogram's axis too
    assert [t.get_text() for t in axes[1, 1].get_xticklabels()] == ["a", "b", "c"]
    # kind c is code 2 (the space's order), not 0 (first seen)
    assert axes[0, 1].collections[0].get_offsets()[0].tolist() == [2.0, 1e-2]
    # a plain DataFrame keeps the order of appearance and linear axes
    plain = plot.design_pairs(X)
    assert plain[1, 0].get_xscale() == "linear"
    assert [t.get_text() for t in plain[1, 1].get_xticklabels()] == ["c", "a", "b"]
