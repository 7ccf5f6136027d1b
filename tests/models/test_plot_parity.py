"""parity() and parity_predictions() draw one point per row, the y = x line and the 95% bars;
with cross-validation, the out-of-fold predictions titled with the cross-validated Q²."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

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


def test_parity_predictions_draws_out_of_fold_points_titled_with_cv_q2():
    from surrogate.models import cross_validate
    from surrogate.plot import parity_predictions

    X = np.linspace(0, 1, 16)[:, None]
    y = np.sin(5 * X[:, 0])
    scores = cross_validate(GPRegressor(seed=0), X, y, cv=4, seed=0)
    ax = parity_predictions(y, scores["y_pred"], scores["y_std"], label="4-fold cross-validated")
    points = ax.containers[0]
    x_drawn, y_drawn = points.lines[0].get_data()
    assert np.allclose(x_drawn, y) and np.allclose(y_drawn, scores["y_pred"])
    # the 95% bars: mean -/+ 1.96 std of each out-of-fold prediction
    segments = points.lines[2][0].get_segments()
    lows, highs = np.array([s[0][1] for s in segments]), np.array([s[1][1] for s in segments])
    assert np.allclose(highs - lows, 2 * 1.959964 * scores["y_std"])
    assert ax.get_title() == f"4-fold cross-validated Q² = {scores['q2']:.4f}"
    plt.close(ax.figure)


def test_parity_cv_plots_cross_validation_not_the_training_fit():
    from surrogate.models import cross_validate

    X = np.linspace(0, 1, 15)[:, None]
    y = np.sin(5 * X[:, 0])
    ax = parity(GPRegressor(seed=0), X, y, cv=5, seed=1)
    scores = cross_validate(GPRegressor(seed=0), X, y, cv=5, seed=1)
    _, y_drawn = ax.containers[0].lines[0].get_data()
    assert np.allclose(y_drawn, scores["y_pred"])
    assert ax.get_title() == f"GPRegressor, 5-fold cross-validated Q² = {scores['q2']:.4f}"
    # the training fit of a GP interpolates: Q² near 1, unlike the honest figure
    fitted = parity(GPRegressor(seed=0).fit(X, y), X, y)
    assert float(fitted.get_title().rsplit("= ", 1)[1]) > scores["q2"]
    plt.close("all")


def test_parity_predictions_names_mismatched_arrays():
    import pytest

    from surrogate.plot import parity_predictions

    with pytest.raises(ValueError, match="y_pred has 3 rows, expected 4"):
        parity_predictions([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"output=1 is not an output of y; allowed: \[0\]"):
        parity_predictions([1.0, 2.0], [1.0, 2.0], output=1)


def test_parity_leaves_missing_pairs_out_with_a_warning():
    from surrogate.plot import parity_predictions

    truth = np.r_[np.linspace(0, 1, 19), np.nan]
    with pytest.warns(UserWarning, match="1 of 20 pairs with a missing"):
        ax = parity_predictions(truth, np.linspace(0, 1, 20))
    assert "nan" not in ax.get_title()
    line = [x for x in ax.get_lines() if x.get_label() == "y = x"][0]
    assert np.isfinite(line.get_xdata()).all()
    with pytest.raises(ValueError, match="no pair of a finite"):
        parity_predictions(np.full(3, np.nan), np.zeros(3))
