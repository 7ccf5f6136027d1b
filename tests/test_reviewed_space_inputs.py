"""Space, generator and teacher inputs a review found mishandled: each failed before its fix."""

from __future__ import annotations

import tempfile
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import surrogate as sg


def test_kde_bandwidth_is_the_same_for_replicated_rows():
    # the same data repeated r times is the same distribution; cross-validation held a row
    # out beside its twin and narrowed the kernel to the grid's bottom (0.54 -> 0.02 at r = 5)
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(150, 2)), columns=["a", "b"])
    widths = [sg.KDEGenerator(seed=0).fit(pd.concat([X] * r, ignore_index=True)).bandwidth_
              for r in (1, 2, 5)]
    assert widths[1] == pytest.approx(widths[0], rel=0.3)
    assert widths[2] == pytest.approx(widths[0], rel=0.3)


def test_munge_perturbs_replicated_rows_towards_their_nearest_distinct_point():
    X = pd.DataFrame(np.random.default_rng(0).uniform(size=(100, 2)), columns=["a", "b"])
    once = sg.MUNGE().fit(X).sample(1000, seed=0)
    twice = sg.MUNGE().fit(pd.concat([X] * 2, ignore_index=True)).sample(1000, seed=0)

    def new_share(points: pd.DataFrame) -> float:
        seen = points.merge(X.assign(seen=1), how="left", on=["a", "b"])["seen"].eq(1)
        return float((~seen).mean())

    assert new_share(once) > 0.7
    assert new_share(twice) > 0.7  # was 0: each row's twin was its neighbour
    with pytest.raises(ValueError, match="MUNGE needs at least 2 distinct points in Data 1; "
                                         "its 3 rows are one point repeated"):
        sg.MUNGE().fit(pd.concat([X.iloc[:1]] * 3))


def test_validate_clips_a_round_off_past_a_bound():
    space = sg.Space([sg.Real("x", 0, 1), sg.Real("k", 1e-3, 1e3, log=True)])
    X = pd.DataFrame({"x": [1 + 5e-13, -5e-13], "k": [1e3 * (1 + 1e-12), 1e-3 * (1 - 1e-12)]})
    assert space.validate(X).to_numpy().tolist() == [[1.0, 1e3], [0.0, 1e-3]]
    unit = space.to_unit(X)
    assert unit.min() >= 0.0 and unit.max() <= 1.0
    sim = sg.Simulator(lambda x, k: np.sqrt(x), space, "y")  # sqrt(-5e-13) failed the run
    assert sim(X)["y"].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("levels", [[Fraction(1, 3), Fraction(2, 3)],
                                    [np.longdouble(0.5), np.longdouble(1.5)]])
def test_number_categories_that_runs_cannot_save_are_refused(levels):
    with pytest.raises(TypeError, match="parameter 'c': number categories must be int or float"):
        sg.Categorical("c", levels)


def test_text_that_cannot_be_saved_is_refused_where_it_is_given():
    with pytest.raises(ValueError, match=r"parameter 'c': category 'mesh\\udcff.msh' holds a "
                                         "character that cannot be saved as UTF-8"):
        sg.Categorical("c", ["mesh\udcff.msh", "b"])
    with pytest.raises(ValueError, match="parameter name"):
        sg.Real("x\udcff", 0, 1)
    space = sg.Space([sg.Real("x", 0, 1)])
    with pytest.raises(ValueError, match="output name"):
        sg.Simulator(lambda x: x, space, ["y\udcff"])
    with pytest.raises(ValueError, match="field name"):
        sg.Simulator(lambda x: {"I": [x]}, space, fields={"I\udcff": [0.0]})


def test_number_categories_of_numpy_types_still_save_and_load():
    space = sg.Space([sg.Categorical("c", [np.float32(0.5), 1.5, np.int64(3)])])
    runs = sg.TransferSet(space, ["y"], sg.sample(space, 6, seed=0), np.ones((6, 1)))
    with tempfile.TemporaryDirectory() as folder:
        runs.save(folder)
        back = sg.TransferSet.load(folder)
    assert back.X["c"].tolist() == runs.X["c"].tolist()


def test_an_unlabelled_series_result_is_read_by_position():
    space = sg.Space([sg.Real("x", 0, 1)])
    result = sg.Simulator(lambda x: pd.Series([x, 2 * x]), space, ["a", "b"])([[0.5]])
    assert result.to_numpy().tolist() == [[0.5, 1.0]]


def test_integer_ranges_are_those_a_unit_coordinate_holds_exactly():
    # Integer(-2**53, 2**53) moved 3 to 4 through the unit cube and never drew an odd value
    with pytest.raises(ValueError, match=r"parameter 'n': at most 2\*\*52 values"):
        sg.Integer("n", -(2**53), 2**53)
    widest = sg.Integer("n", 2**53 - 2**52 + 1, 2**53)
    values = np.random.default_rng(0).integers(widest.low, widest.high + 1, 20_000)
    np.testing.assert_array_equal(widest.from_unit(widest.to_unit(values)), values)
    drawn = sg.sample(sg.Space([widest]), 2000, method="random", seed=0)["n"]
    assert 0.4 < (drawn % 2).mean() < 0.6


def test_a_transfer_set_warns_when_y_holds_xs_labels_in_another_order():
    # y = 10 x, its rows reordered: x = 1 was paired with y = 30 without a word
    space = sg.Space([sg.Real("x", 0, 10)])
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=[10, 11, 12])
    Y = pd.DataFrame({"y": [30.0, 20.0, 10.0]}, index=[12, 11, 10])
    with pytest.warns(UserWarning, match=r"Y holds X's index labels in another order"):
        sg.TransferSet(space, ["y"], X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = sg.TransferSet(space, ["y"], X, Y.loc[X.index])
    assert runs.Y["y"].tolist() == [10.0, 20.0, 30.0]


def test_loading_a_model_as_runs_says_what_the_directory_holds(tmp_path):
    X = np.random.default_rng(0).random((20, 2))
    sg.GPRegressor(seed=0).fit(X, X.sum(1)).save(tmp_path)
    with pytest.raises(ValueError, match=r"holds another kind of save \(surrogate.models\): "
                                         r"read it with sg.load\(path\)"):
        sg.TransferSet.load(tmp_path)
