import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import surrogate as sg
from surrogate.testing import check_design

REALS = sg.Space([sg.Real(f"x{i}", 0.0, 1.0) for i in range(4)])


@pytest.mark.parametrize("method", ["lhs", "sobol", "halton", "random"])
def test_shape_bounds_and_seed(method):
    a = sg.sample(REALS, 64, method=method, seed=3)
    b = sg.sample(REALS, 64, method=method, seed=3)
    c = sg.sample(REALS, 64, method=method, seed=4)
    assert a.shape == (64, 4) and list(a.columns) == REALS.names
    assert ((a >= 0) & (a <= 1)).all().all()
    assert a.equals(b) and not a.equals(c)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 200), seed=st.integers(0, 10_000),
       optimization=st.sampled_from([None, "random-cd"]))
def test_lhs_one_point_per_stratum(n, seed, optimization):
    design = sg.sample(REALS, n, method="lhs", seed=seed, optimization=optimization)
    check_design(REALS, design, n)
    X = design.to_numpy()
    strata = np.floor(X * n).astype(int)
    for column in strata.T:
        assert sorted(column.tolist()) == list(range(n))


def test_sobol_balance_and_warning():
    X = sg.sample(REALS, 256, method="sobol", seed=0).to_numpy()
    # a scrambled Sobol' net of 2^8 points: every dyadic interval of length 1/256 holds one point
    for column in X.T:
        assert sorted(np.floor(column * 256).astype(int).tolist()) == list(range(256))
    with pytest.warns(UserWarning, match="power of two"):
        sg.sample(REALS, 100, method="sobol", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.sample(REALS, 128, method="sobol", seed=0)


@pytest.mark.parametrize("method", ["lhs", "sobol", "halton", "random"])
def test_integer_and_categorical_frequencies_uniform(method):
    space = sg.Space([sg.Integer("n", 0, 4), sg.Categorical("c", ["a", "b", "c", "d"])])
    X = sg.sample(space, 4096, method=method, seed=1)
    for column, k in (("n", 5), ("c", 4)):
        counts = X[column].value_counts().to_numpy()
        assert len(counts) == k
        expected = 4096 / k
        # chi-square at 4-5 levels: far below the 0.1% critical value (~18.5)
        assert ((counts - expected) ** 2 / expected).sum() < 18.5


def test_factorial():
    space = sg.Space([sg.Real("x", 0, 1), sg.Integer("n", 1, 3), sg.Categorical("c", ["a", "b"])])
    X = sg.sample(space, 0, method="factorial", levels=3)
    assert len(X) == 3 * 3 * 2
    assert sorted(set(X["x"])) == [0.0, 0.5, 1.0]
    assert sorted(set(X["n"])) == [1, 2, 3]
    grid = sg.sample(sg.Space([sg.Real("x", 0, 1), sg.Real("y", 0, 1)]), 20, method="factorial")
    assert len(grid) == 16  # 4 x 4 is the largest square grid within 20
    X = sg.sample(space, 0, method="factorial", levels={"x": 5})
    assert len(X) == 5 * 3 * 2
    # one per parameter, in space order (a TypeError deep in the grid before)
    assert len(sg.sample(space, 0, method="factorial", levels=(4, 2, 2))) == 4 * 2 * 2
    with pytest.raises(ValueError, match="levels has 2 values for the 3 parameters"):
        sg.sample(space, 0, method="factorial", levels=[4, 2])
    with pytest.raises(TypeError, match="levels must be an int, one int per parameter"):
        sg.sample(space, 0, method="factorial", levels="3")



def test_a_factorial_design_holds_the_bounds_of_a_log_scale_parameter_exactly():
    # its ends were exp(log(1e-3)) = 0.0010000000000000002 and 999.9999999999998: a
    # design "including both bounds" had neither, and design["k"] == 1e-3 found no row
    space = sg.Space([sg.Real("k", 1e-3, 1e3, log=True), sg.Real("x", 0.1, 0.7)])
    X = sg.sample(space, 0, method="factorial", levels={"k": 3, "x": 2})
    assert sorted(set(X["k"])) == [1e-3, pytest.approx(1.0), 1e3]
    assert X["k"].min() == 1e-3 and X["k"].max() == 1e3
    assert sorted(set(X["x"])) == [0.1, 0.7]
    assert space["k"].from_unit([0.0, 1.0]).tolist() == [1e-3, 1e3]


def test_factorial_levels_past_a_discrete_parameters_own_are_its_levels():
    # levels={"c": 5} of 2 categories made a grid of 4 points, warned of "a grid of 10
    # points, more than n=4", and levels={"c": 10**8} refused a grid of 4 points as too large
    space = sg.Space([sg.Categorical("c", ["a", "b"]), sg.Real("x", 0, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(sg.sample(space, 4, method="factorial", levels={"c": 5, "x": 2})) == 4
    assert len(sg.sample(space, 0, method="factorial", levels=[10**8, 2])) == 4
    with pytest.warns(UserWarning, match="makes a grid of 6 points, more than n=4"):
        assert len(sg.sample(space, 4, method="factorial", levels={"c": 5, "x": 3})) == 6

def test_bad_input():
    with pytest.raises(ValueError, match="method must be one of"):
        sg.sample(REALS, 10, method="grid")
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        sg.sample(REALS, 0)
    with pytest.raises(TypeError, match="n must be an int"):
        sg.sample(REALS, 2.5)
    with pytest.raises(ValueError, match="optimization must be one of"):
        sg.sample(REALS, 10, optimization="maximin")
    with pytest.raises(TypeError, match="takes no option"):
        sg.sample(REALS, 10, method="sobol", levels=3)
    with pytest.raises(ValueError, match="too small for a factorial"):
        sg.sample(REALS, 10, method="factorial")
    with pytest.raises(TypeError, match="seed must be"):
        sg.sample(REALS, 10, seed="zero")


def test_lloyd_past_five_dimensions_warns_of_its_cost():
    space = sg.Space([sg.Real(f"x{i}", 0, 1) for i in range(6)])
    with pytest.warns(UserWarning, match="optimization='lloyd' in 6 dimensions"):
        sg.sample(space, 10, optimization="lloyd", seed=0)


def test_a_factorial_design_names_a_bad_n_or_seed():
    # with levels= both were accepted unchecked ('ten', -5, 'not a seed')
    space = sg.Space([sg.Real("x", 0, 1), sg.Real("y", 0, 1)])
    for bad in ("ten", -5, 2.5):
        with pytest.raises(ValueError, match=r"n must be an int >= 0 or None for a factorial design"):
            sg.sample(space, bad, method="factorial", levels=3)
    with pytest.raises(TypeError, match="seed must be an int"):
        sg.sample(space, 0, method="factorial", levels=3, seed="not a seed")
    assert len(sg.sample(space, 0, method="factorial", levels=3)) == 9


def test_a_factorial_grid_larger_than_n_is_warned_of():
    Space, Real, sample = sg.Space, sg.Real, sg.sample
    # n=9 with levels=3 in 4 dimensions ran 81 points without a word
    space = Space([Real(f"x{i}", 0, 1) for i in range(4)])
    with pytest.warns(UserWarning, match=r"levels=3 makes a grid of 81 points, more than n=9; "
                                         r"with levels, n is not read"):
        assert len(sample(space, 9, method="factorial", levels=3)) == 81
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the documented forms say nothing
        for n in (0, None, 81, 100):
            assert len(sample(space, n, method="factorial", levels=3)) == 81
