"""parity() draws one point per test row, the y = x line and the 95% bars."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from surrogate.models import GPRegressor, NNRegressor  # noqa: E402
from surrogate.plot._models import parity  # noqa: E402


def test_parity_draws_points_bars_and_diagonal():
    X = np.linspace(0, 1, 15)[:, None]
    y = np.sin(5 * X[:, 0])
    gp = GPRegressor(seed=0).fit(X[::2], y[::2])
    fig, ax = plt.subplots()
    out = parity(gp, X, y, ax=ax)
    assert out is ax
    points = ax.containers[0]  # ErrorbarContainer: (data line, caplines, barlinecols)
    x_drawn, y_drawn = points.lines[0].get_data()
    assert np.allclose(x_drawn, y)
    assert np.allclose(y_drawn, gp.predict(X))
    assert points.has_yerr
    diagonal = ax.lines[-1]
    assert np.allclose(diagonal.get_xdata(), diagonal.get_ydata())
    assert "Q²" in ax.get_title()
    plt.close(fig)


def test_parity_without_std():
    X = np.random.default_rng(0).random((40, 1))
    nn = NNRegressor(n_ensemble=1, max_epochs=5, seed=0).fit(X, X[:, 0])

    class MeanOnly:
        def predict(self, Z):
            return nn.predict(Z)

    ax = parity(MeanOnly(), X, X[:, 0])
    assert not ax.containers[0].has_yerr
    plt.close(ax.figure)
