"""FieldGPRegressor(align="peak"): a bump that travels in time, registered on its peak.

Oracle: ``y(t) = h exp(-((t - c) / w)^2)`` on ``t`` in [0, 10] with the peak time
``c = 2 + 6 x`` travelling across the grid, the height ``h = 0.5 + z`` and the width
``w = 0.5 + 0.3 z``. Shifted bumps need many principal components whose scores swing sharply
with ``x``; on the axis ``s = t - c`` the family has two smooth degrees of freedom.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.models import FieldGPRegressor, field_q2, load
from surrogate.models._field_align import PeakGrid, peak_times

SPACE = sg.Space([sg.Real("x", 0.0, 1.0), sg.Real("z", 0.0, 1.0)])
TIMES = np.linspace(0.0, 10.0, 101)


def peak_of(X):
    return 2.0 + 6.0 * X["x"].to_numpy()


def bump(X):
    c, z = peak_of(X)[:, None], X["z"].to_numpy()[:, None]
    values = (0.5 + z) * np.exp(-(((TIMES[None, :] - c) / (0.5 + 0.3 * z)) ** 2))
    return pd.DataFrame(values, columns=pd.Index(TIMES, name="y"))


@pytest.fixture(scope="module")
def train():
    X = sg.sample(SPACE, 40, seed=3)
    return X, bump(X)


@pytest.fixture(scope="module")
def held_out():
    X = sg.sample(SPACE, 400, method="random", seed=4)
    return X, bump(X).to_numpy()


@pytest.fixture(scope="module")
def aligned(train):
    return FieldGPRegressor(align="peak", seed=0).fit(*train)


def test_peak_times_find_the_vertex_between_grid_points():
    X = sg.sample(SPACE, 50, method="random", seed=5)
    tau, peaked = peak_times(bump(X).to_numpy(), TIMES)
    assert peaked.all()
    # the parabola through three points of a Gaussian of width >= 0.5, spaced 0.1 apart
    np.testing.assert_allclose(tau, peak_of(X), atol=0.01)
    # a monotone trajectory has no interior peak; a flat one rises nowhere
    tau, peaked = peak_times(np.vstack([np.exp(-TIMES), np.zeros_like(TIMES)]), TIMES)
    assert not peaked.any() and tau[0] == 0.0


def test_alignment_round_trips_on_the_grid():
    grid = PeakGrid(TIMES)
    Y = bump(sg.sample(SPACE, 5, seed=6)).to_numpy()
    tau = np.array([2.0, 3.3, 5.0, 7.9, 8.0])  # whole grid steps: interpolation is exact
    back = grid.unalign(grid.align(Y, tau), tau)
    np.testing.assert_allclose(back, Y, atol=1e-9)
    # between grid points: two cubic interpolations of bumps 5-8 grid steps wide
    tau = np.array([2.05, 3.33, 5.01, 7.97, 8.5])
    np.testing.assert_allclose(grid.unalign(grid.align(Y, tau), tau), Y, atol=6e-3)


def test_aligned_basis_beats_the_plain_one_on_a_travelling_bump(train, aligned, held_out):
    X, Y = held_out
    plain = FieldGPRegressor(seed=0).fit(*train)
    q2_plain, q2_aligned = field_q2(Y, plain.predict(X)), field_q2(Y, aligned.predict(X))
    assert q2_aligned > 0.9999, q2_aligned  # 0.999995 measured
    # the same 40 runs without registration: 1 - Q² about 200x larger (1.2e-3 measured)
    assert 1.0 - q2_aligned < (1.0 - q2_plain) / 20.0, (q2_aligned, q2_plain)
    assert aligned.n_components_ < plain.n_components_
    # the timing model learns the peak time
    grid = aligned._peaks  # the timing GP's target (log or rate) back to peak times
    predicted = grid.peak(grid.log_offset(aligned.timing_target_, aligned.timing_.predict(X))[0])
    np.testing.assert_allclose(predicted, peak_of(X), rtol=0.01)


def test_the_band_covers_held_out_trajectories(aligned, held_out):
    X, Y = held_out
    mean, std = aligned.predict(X, return_std=True)
    assert mean.shape == std.shape == Y.shape and (std >= 0).all()
    signal = Y > 0.05  # where the bump is (elsewhere both error and std vanish)
    covered = np.abs(Y - mean) <= 1.959963984540054 * std
    assert 0.85 <= covered[signal].mean() <= 1.0, covered[signal].mean()
    lower, upper = aligned.predict_band(X[:20], level=0.95)
    np.testing.assert_allclose((lower + upper) / 2, mean[:20], atol=1e-12)


@pytest.mark.parametrize("joint", [True, False])
def test_posterior_draws_average_to_the_prediction(aligned, held_out, joint):
    X = held_out[0].iloc[:6]
    draws = aligned.sample_posterior(X, 2000, seed=7, joint=joint)
    assert draws.shape == (2000, 6, len(TIMES))
    mean, std = aligned.predict(X, return_std=True)
    # Monte Carlo error of the draws' mean: std / sqrt(2000) < 0.03 std
    assert np.abs(draws.mean(axis=0) - mean).max() <= 0.1 * std.max() + 1e-6
    np.testing.assert_array_equal(draws, aligned.sample_posterior(X, 2000, seed=7, joint=joint))


def test_save_and_load_keep_the_alignment(aligned, held_out, tmp_path):
    X = held_out[0].iloc[:30]
    aligned.save(tmp_path / "aligned")
    loaded = load(tmp_path / "aligned")
    assert loaded.align == "peak" and loaded.field_ == "y"
    np.testing.assert_array_equal(loaded.grid_, TIMES)
    for got, want in zip(loaded.predict(X, return_std=True), aligned.predict(X, return_std=True),
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_runs_without_a_peak_are_aligned_by_the_timing_model(train, held_out):
    X, Y = train
    flat = X["z"].to_numpy() < 0.2  # these runs' bumps are removed: zero trajectories
    Y = Y.copy()
    Y.loc[flat, :] = 0.0
    model = FieldGPRegressor(align="peak", seed=0).fit(X, Y)
    Xt, Yt = held_out
    Yt = np.where(Xt["z"].to_numpy()[:, None] < 0.2, 0.0, Yt)
    assert field_q2(Yt, model.predict(Xt)) > 0.95


def test_bad_alignments_are_named(train):
    X, Y = train
    with pytest.raises(ValueError, match="align must be one of"):
        FieldGPRegressor(align="valley").fit(X, Y)
    decays = pd.DataFrame(np.exp(-np.outer(X["x"].to_numpy() + 0.1, TIMES)), columns=TIMES)
    with pytest.raises(ValueError, match="align='peak' needs at least 3 runs"):
        FieldGPRegressor(align="peak").fit(X, decays)
    with pytest.raises(ValueError, match=r"align='peak' needs Y of shape \(n_runs, n_times\)"):
        FieldGPRegressor(align="peak").fit(X, Y.iloc[:, 0])


def test_a_peak_inversely_proportional_to_a_rate_is_modelled_as_a_rate(tmp_path):
    # peak at 1 / (0.12 + 0.5 x): linear in x as a rate, sharply curved as a time or its log
    X = sg.sample(SPACE, 30, seed=8)
    Xt = sg.sample(SPACE, 300, method="random", seed=9)

    def wave(X):
        c = 1.0 / (0.12 + 0.5 * X["x"].to_numpy()[:, None])
        return pd.DataFrame((0.5 + X["z"].to_numpy()[:, None])
                            * np.exp(-(((TIMES - c) / 0.6) ** 2)), columns=TIMES)

    model = FieldGPRegressor(align="peak", seed=0).fit(X, wave(X))
    assert model.timing_target_ == "rate"
    assert field_q2(wave(Xt).to_numpy(), model.predict(Xt)) > 0.999
    model.save(tmp_path / "rate")
    loaded = load(tmp_path / "rate")
    assert loaded.timing_target_ == "rate"
    np.testing.assert_allclose(loaded.predict(Xt), model.predict(Xt), rtol=1e-12, atol=1e-14)


def test_an_aligned_band_of_a_log_field_stays_positive():
    """With align="peak" the band is the mixture's mean -/+ z std: 0.7 % of its lower ends were
    below 0 for a positive field modelled on its log."""
    rng = np.random.default_rng(2)
    t = np.linspace(0, 100, 101)
    low, high = np.array([0.5, 20, 5]), np.array([1.5, 80, 12])

    def bumps(U):
        P = low + (high - low) * U
        return P[:, [0]] * np.exp(-(t - P[:, [1]]) ** 2 / (2 * P[:, [2]] ** 2)) + 1e-3

    U, U_test = rng.uniform(size=(30, 3)), rng.uniform(size=(200, 3))
    model = FieldGPRegressor(seed=0, y_transform="log", align="peak").fit(
        U, pd.DataFrame(bumps(U), columns=t))
    lower, upper = model.predict_band(U_test)
    assert (lower >= 0).all() and (upper >= lower).all()
    assert ((bumps(U_test) >= lower) & (bumps(U_test) <= upper)).mean() > 0.9


def test_the_aligned_band_does_not_depend_on_a_baseline_added_to_every_trajectory():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 10, 40)

    def bump(X):
        return (0.5 + X[:, [1]]) * np.exp(-0.5 * ((t - (2 + 6 * X[:, [0]])) / 1.0) ** 2) + 1e-3

    X, X_test = rng.uniform(0, 1, (30, 2)), rng.uniform(0, 1, (20, 2))
    stds = [FieldGPRegressor(align="peak", seed=0).fit(X, offset + bump(X)).predict(
        X_test, return_std=True)[1] for offset in (0.0, 1e6)]
    assert (stds[0] > 0).all()
    np.testing.assert_allclose(stds[1], stds[0], rtol=1e-3)


def test_a_subset_of_the_runs_fits_without_a_misaligned_index_warning(train, recwarn):
    # a training split keeps its rows' labels (X.iloc[5:], Y.iloc[5:], as cross_validate's
    # folds do): the aligned trajectories were built with index 0..n-1, and the inner fit
    # warned "y's index differs from X's" on every align="peak" fit of such a split
    X, Y = train
    FieldGPRegressor(align="peak", seed=0).fit(X.iloc[5:], Y.iloc[5:])
    assert not [w for w in recwarn if "index differs" in str(w.message)]
