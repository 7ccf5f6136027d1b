"""Field inputs a review found mishandled: each case failed (or answered wrongly) before."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate import plot
from surrogate.discovery._outcome import OutcomeError
from surrogate.space import Real, Space

matplotlib.use("Agg")

T = np.array([0.0, 1.0, 2.0])


def _runs() -> pd.DataFrame:
    sim = sg.Simulator(lambda a: {"peak": a, "I": a * np.array([0.0, 1.0, 0.0])},
                       Space([Real("a", 0, 1)]), ["peak"], fields={"I": T})
    return sim([[0.1], [0.9], [0.5], [0.7]])  # max(I) == peak in every run


def test_a_sorted_or_filtered_simulator_frame_reads_each_runs_own_trajectory():
    runs = _runs()
    truth = sg.outcome("peak > 0.6", runs)
    for frame in (runs.sort_values("peak", ascending=False), runs.iloc[::-1],
                  runs[runs["peak"] > 0.3]):
        expected = truth.loc[frame.index]
        for text in ("max(I) > 0.6", "max(I) > 0.6 and peak > 0.6"):
            # sorted: run 0 (max 0.1) came out True; filtered: a raw pandas length error
            pd.testing.assert_series_equal(sg.outcome(text, frame), expected,
                                           check_names=False)


def test_fields_attached_for_other_runs_are_refused():
    runs = _runs()
    runs.index = [10, 11, 12, 13]  # attrs still hold the fields of runs 0..3
    with pytest.raises(OutcomeError, match=r"the field 'I' attached to the data .* is for "
                                           r"other runs than the data's rows"):
        sg.outcome("max(I) > 0.6", runs)


def test_a_division_by_zero_in_an_outcome_is_an_error_not_a_run_in_neither_case():
    infected = pd.DataFrame([[0.0, 0.0, 0.0], [0.0, 0.5, 0.2]], columns=T)
    for text in ("max(I) / min(I) > 1", "max(I) / min(I) <= 1"):  # NaN: False both ways
        with pytest.raises(OutcomeError, match=r"'max\(I\) / min\(I\)' is not a finite number "
                                               r"\(a division by zero or an overflow\) in 2 of "
                                               r"2 runs \(first: run 0\)"):
            sg.outcome(text, {"I": infected})
    assert sg.outcome("any(I / 2 > 0.1)", {"I": infected}).tolist() == [False, True]


def test_fields_given_as_a_list_name_fields():
    with pytest.raises(TypeError, match=r"fields must be a mapping \{name: grid\}"):
        sg.Simulator(lambda a: {"I": a * np.ones(3)}, Space([Real("a", 0, 1)]), fields=["I"])


def test_bad_field_plot_and_fit_inputs_are_named():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 8)
    X = rng.uniform(size=(20, 2))
    Y = X[:, :1] * t + np.sin(t) * X[:, 1:]
    model = sg.FieldGPRegressor(seed=0, n_restarts=1).fit(X, Y)
    indices = sg.sobol_indices(model, sg.Space([sg.Real("x0", 0, 1), sg.Real("x1", 0, 1)]),
                               n=64, seed=0)
    with pytest.raises(ValueError, match=r"indexed by \(time, parameter\)"):
        plot.sobol_over_time(indices.swaplevel())
    with pytest.raises(ValueError, match=r"Y must be numbers: one trajectory per row of X on "
                                         r"the model's grid \(8 values each\)"):
        plot.fan(model, X[:2], [["a"] * 8] * 2)
    with pytest.raises(ValueError, match=r"y must be a rectangular array"):
        sg.FieldGPRegressor().fit(X[:2], [[1.0, 2.0], [1.0]])
