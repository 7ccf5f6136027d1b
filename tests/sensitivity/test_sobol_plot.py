"""The Sobol' bar chart draws what the indices say."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from surrogate.plot._sensitivity import sobol

matplotlib.use("Agg")


@pytest.fixture
def indices():
    frame = pd.DataFrame({"S1": [0.31, 0.44, 0.0], "S1_conf": [0.02, 0.03, 0.01],
                          "ST": [0.56, 0.44, 0.24], "ST_conf": [0.04, 0.02, 0.01]},
                         index=pd.Index(["x1", "x2", "x3"], name="parameter"))
    return frame


def _bars(ax):
    heights = [patch.get_height() for patch in ax.patches]
    return np.array(heights[:3]), np.array(heights[3:])


def _error_segments(container):
    # ErrorbarContainer: (data line, caplines, (LineCollection of the bars,))
    segments = container.lines[2][0].get_segments()
    return np.array([[s[0][1], s[1][1]] for s in segments])


def test_bars_and_intervals(indices):
    import matplotlib.pyplot as plt

    _, given = plt.subplots()
    ax = sobol(indices, ax=given)
    assert ax is given
    s1, st = _bars(ax)
    np.testing.assert_allclose(s1, indices["S1"])
    np.testing.assert_allclose(st, indices["ST"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x1", "x2", "x3"]
    s1_bars, st_bars = ax.containers[1], ax.containers[3]
    np.testing.assert_allclose(_error_segments(s1_bars)[:, 1] - _error_segments(s1_bars)[:, 0],
                               2 * indices["S1_conf"])
    np.testing.assert_allclose(_error_segments(st_bars)[:, 0], indices["ST"] - indices["ST_conf"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["S1", "ST", "bootstrap 95 %"]
    plt.close("all")


def test_surrogate_uncertainty_is_drawn(indices):
    import matplotlib.pyplot as plt

    indices = indices.assign(S1_gp_std=[0.01, 0.02, 0.005], ST_gp_std=[0.02, 0.01, 0.01])
    ax = sobol(indices)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["S1", "ST", "surrogate 95 %", "bootstrap 95 %"]
    gp_s1 = _error_segments(ax.containers[1])
    np.testing.assert_allclose(gp_s1[:, 1] - gp_s1[:, 0], 2 * 1.96 * indices["S1_gp_std"],
                               rtol=1e-3)
    plt.close("all")


def test_rejects_other_frames():
    with pytest.raises(ValueError, match="missing \\['S1_conf', 'ST', 'ST_conf'\\]"):
        sobol(pd.DataFrame({"S1": [0.1]}))


def test_public_name(indices):
    import matplotlib.pyplot as plt

    import surrogate.plot

    ax = surrogate.plot.sobol(indices)
    assert len(ax.patches) == 6
    plt.close("all")


def test_a_fields_indices_are_sent_to_sobol_over_time():
    import pandas as pd

    from surrogate.plot import sobol

    index = pd.MultiIndex.from_product([[0.0, 1.0], ["a", "b"]], names=["time", "parameter"])
    frame = pd.DataFrame({"S1": 0.1, "S1_conf": 0.0, "ST": 0.2, "ST_conf": 0.0}, index=index)
    with pytest.raises(ValueError, match="plot.sobol_over_time"):
        sobol(frame)
