"""Inputs read silently wrong or refused with a raw error: a trajectory's labelled columns, a
categorical of booleans against one of 0/1, numbers past float's range, unhashable cells,
output names as an array, the boundary acquisitions' options, a refined grid aligned on peaks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.models._field_align import PeakGrid
from surrogate.sequential import Straddle, TargetedVarianceReduction, UFunction

SPACE = sg.Space([sg.Real("k", 0.0, 1.0)])
GRID = [0.0, 0.5, 2.0]


def test_a_trajectory_labelled_by_its_times_is_read_by_them():
    """The value labelled t = 2.0 was stored at t = 0.0 and the other way round."""
    X = pd.DataFrame({"k": [0.5, 1.0]})
    expected = np.outer(X.k, [3.0, 2.0, 1.0])

    def vectorized(D):
        return {"I": pd.DataFrame(np.outer(D.k, [1.0, 2.0, 3.0]), columns=[2.0, 0.5, 0.0])}

    def one(k):
        return {"I": pd.Series(np.array([1.0, 2.0, 3.0]) * k, index=[2.0, 0.5, 0.0])}

    for sim in (sg.Simulator(vectorized, SPACE, fields={"I": GRID}, vectorized=True),
                sg.Simulator(one, SPACE, fields={"I": GRID})):
        np.testing.assert_array_equal(sim.run(X).field("I").to_numpy(), expected)

    def positional(D):  # unlabelled columns: by position, as before
        return {"I": pd.DataFrame(np.outer(D.k, [3.0, 2.0, 1.0]))}

    sim = sg.Simulator(positional, SPACE, fields={"I": GRID}, vectorized=True)
    np.testing.assert_array_equal(sim.run(X).field("I").to_numpy(), expected)


def test_a_trajectory_labelled_by_other_numbers_is_refused():
    """Labelled by steps 10, 20, 30 (not the grid 0, 0.5, 2), each trajectory was stored by
    position as if labelled by the grid; positions 0 .. T-1 (a RangeIndex) still read by
    position."""
    X = pd.DataFrame({"k": [0.5, 1.0]})
    labels = [10, 20, 30]

    def vectorized(D):
        return {"I": pd.DataFrame(np.outer(D.k, [1.0, 2.0, 3.0]), columns=labels)}

    def one(k):
        return {"I": pd.Series(np.array([1.0, 2.0, 3.0]) * k, index=labels)}

    message = ("OutputError: field 'I' is labelled [10, 20, 30], neither its grid "
               "[0.0, 0.5, 2.0] nor the positions 0 .. 2")
    for sim in (sg.Simulator(vectorized, SPACE, fields={"I": GRID}, vectorized=True),
                sg.Simulator(one, SPACE, fields={"I": GRID})):
        runs = sim.run(X, progress=False)
        assert not runs.ok.any()
        assert all(error.startswith(message) for error in runs.error)

    def positions(k):  # labelled 0 .. T-1: by position
        return {"I": pd.Series(np.array([1.0, 2.0, 3.0]) * k, index=pd.RangeIndex(3))}

    runs = sg.Simulator(positions, SPACE, fields={"I": GRID}).run(X, progress=False)
    np.testing.assert_array_equal(runs.field("I").to_numpy(), np.outer(X.k, [1.0, 2.0, 3.0]))


def test_a_categorical_of_booleans_is_not_one_of_zero_and_one():
    zero_one = sg.Space([sg.Categorical("c", [0, 1])])
    booleans = sg.Space([sg.Categorical("c", [False, True])])
    assert zero_one != booleans and zero_one == sg.Space([sg.Categorical("c", [0, 1])])
    a = sg.TransferSet(zero_one, ["y"], pd.DataFrame({"c": [0, 1]}), [[1.0], [2.0]])
    b = sg.TransferSet(booleans, ["y"], pd.DataFrame({"c": [False, True]}), [[1.0], [2.0]])
    with pytest.raises(ValueError, match="same space"):  # True and False became 1 and 0
        sg.TransferSet.concat([a, b])
    assert sg.TransferSet.concat([a, a]).X["c"].tolist() == [0, 1, 0, 1]


def test_numbers_past_floats_range_and_unhashable_cells_are_named():
    with pytest.raises(ValueError, match="'x': high must be finite, got an int of 401 digits"):
        sg.Real("x", 0, 10**400)
    space = sg.Space([sg.Real("x", 0, 1), sg.Integer("n", 0, 3), sg.Categorical("c", ["a", "b"])])
    good = {"x": [0.5], "n": [1], "c": ["a"]}
    for column, value, match in (("x", 10**400, "column 'x': values must be finite numbers"),
                                 ("n", 10**400, "column 'n': values must be finite numbers"),
                                 ("c", ["a"], r"column 'c': value \['a'\] at row 0 is not")):
        with pytest.raises(ValueError, match=match):
            space.validate(pd.DataFrame({**good, column: [value]}))


def test_output_names_may_be_an_index_or_an_array():
    for names in (pd.Index(["y"]), np.array(["y"])):
        assert sg.TransferSet(SPACE, names, [[0.1]], [[1.0]]).outputs == ["y"]
        assert sg.Simulator(lambda k: k, SPACE, names).outputs == ("y",)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Straddle(("<", 0.0), kappa=None), "kappa must be a positive float"),
    (lambda: Straddle(("<", 0.0), kappa=-1.0), "kappa must be a finite float > 0"),
    (lambda: TargetedVarianceReduction(("<", 0.0), tolerance=None),
     "tolerance must be a positive float"),
    (lambda: TargetedVarianceReduction(("<", 0.0), explore="0.1"),
     r"explore must be a number in \[0, 1\]"),
    (lambda: UFunction(("<", "abc")), "threshold: value must be a finite number, got 'abc'"),
    (lambda: UFunction(("<", float("nan"))), "threshold: value must be a finite number"),
    (lambda: UFunction(("<", 0.0), indicator="yes"), "indicator must be True or False"),
])
def test_the_boundary_acquisitions_name_a_bad_option(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def test_a_grid_refined_in_part_keeps_a_small_aligned_axis():
    """The median step of 200 points in [0, 1] over a span of 1,000 made 398,001 points."""
    refined = np.r_[np.linspace(0.0, 1.0, 200), np.linspace(2.0, 1000.0, 20)]
    assert len(PeakGrid(refined).s) <= 4 * len(refined) + 1
    uniform = np.linspace(0.0, 10.0, 101)
    np.testing.assert_allclose(np.diff(PeakGrid(uniform).s), 0.1)  # as before
