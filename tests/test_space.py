import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import surrogate as sg


@pytest.fixture
def space():
    return sg.Space([
        sg.Real("x", -2.0, 3.0),
        sg.Real("k", 1e-3, 1e1, log=True),
        sg.Integer("n", 1, 4),
        sg.Categorical("c", ["a", "b", "c"]),
    ])


def test_names_dim_len_getitem(space):
    assert space.names == ["x", "k", "n", "c"]
    assert space.dim == len(space) == 4
    assert space["n"] == sg.Integer("n", 1, 4)
    assert space[0].name == "x"
    with pytest.raises(KeyError, match="no parameter named 'z'"):
        space["z"]


def test_unit_round_trip(space):
    unit = np.random.default_rng(0).random((50, 4))
    X = space.from_unit(unit)
    assert list(X.columns) == space.names
    assert X["n"].dtype == np.int64 and set(X["n"]) <= {1, 2, 3, 4}
    back = space.from_unit(space.to_unit(X))
    pd.testing.assert_frame_equal(back, X)
    # reals map back exactly (log scale included)
    np.testing.assert_allclose(space.to_unit(X)[:, :2], unit[:, :2], atol=1e-12)


def test_log_scale_is_uniform_in_log():
    p = sg.Real("k", 1e-3, 1e1, log=True)
    np.testing.assert_allclose(p.from_unit([0, 0.25, 0.5, 1]), [1e-3, 1e-2, 1e-1, 1e1])


@settings(max_examples=50, deadline=None)
@given(low=st.integers(-5, 5), width=st.integers(1, 6))
def test_integer_levels_equally_likely(low, width):
    p = sg.Integer("n", low, low + width)
    k = width + 1
    # a fine regular grid of the unit interval gives every level the same share: no edge bias
    u = (np.arange(k * 1000) + 0.5) / (k * 1000)
    counts = np.bincount(p.from_unit(u) - low, minlength=k)
    assert counts.tolist() == [1000] * k


def test_categorical_levels_equally_likely():
    p = sg.Categorical("c", ["a", "b", "c"])
    u = (np.arange(3000) + 0.5) / 3000
    values, counts = np.unique(p.from_unit(u), return_counts=True)
    assert values.tolist() == ["a", "b", "c"] and counts.tolist() == [1000] * 3


def test_validate_accepts_array_in_space_order(space):
    X = space.validate([[0.0, 0.1, 2, "b"]])
    assert X.iloc[0].tolist() == [0.0, 0.1, 2, "b"]


def test_validate_accepts_records(space):
    X = space.validate([{"c": "a", "n": 2, "k": 1.0, "x": 0.5}])
    assert X.iloc[0].tolist() == [0.5, 1.0, 2, "a"]


def test_validate_reorders_columns(space):
    frame = pd.DataFrame({"c": ["a"], "n": [1], "k": [1.0], "x": [0.0]})
    assert list(space.validate(frame).columns) == space.names


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("x", 3.5, r"column 'x': value 3.5 at row 0 .* real numbers in \[-2.0, 3.0\]"),
        ("x", np.nan, r"column 'x': value nan"),
        ("n", 2.5, r"column 'n': value 2.5 .* integers in \[1, 4\]"),
        ("n", 5, r"column 'n': value 5.0 .* integers in \[1, 4\]"),
        ("c", "z", r"column 'c': value 'z' .* one of \['a', 'b', 'c'\]"),
        ("k", 0.0, r"column 'k': value 0.0"),
    ],
)
def test_validate_names_column_value_and_range(space, column, value, message):
    frame = pd.DataFrame({"x": [0.0], "k": [1.0], "n": [1], "c": ["a"]})
    frame[column] = frame[column].astype(object)
    frame.loc[0, column] = value
    with pytest.raises(ValueError, match=message):
        space.validate(frame)


def test_validate_wrong_columns(space):
    frame = pd.DataFrame({"x": [0.0], "k": [1.0], "n": [1], "cc": ["a"]})
    with pytest.raises(ValueError, match=r"missing column\(s\) \['c'\]; unknown column\(s\) \['cc'\]"):
        space.validate(frame)
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        space.validate(np.zeros((3, 2)))


def test_bad_parameters():
    with pytest.raises(ValueError, match=r"duplicate parameter names: \['x'\]"):
        sg.Space([sg.Real("x", 0, 1), sg.Integer("x", 0, 3)])
    with pytest.raises(ValueError, match="low must be < high"):
        sg.Real("x", 1, 1)
    with pytest.raises(ValueError, match="log=True needs low > 0"):
        sg.Real("x", 0, 1, log=True)
    with pytest.raises(TypeError, match="low must be an int"):
        sg.Integer("n", 0.5, 3)
    with pytest.raises(ValueError, match="distinct"):
        sg.Categorical("c", ["a", "a"])
    with pytest.raises(ValueError, match="at least one parameter"):
        sg.Space([])
    with pytest.raises(TypeError, match="Real, Integer or Categorical"):
        sg.Space(["x"])


def test_dict_round_trip_and_salib(space):
    assert sg.Space.from_dict(space.to_dict()) == space
    problem = space.to_salib()
    assert problem["names"] == space.names and problem["num_vars"] == 4
    assert problem["bounds"][0] == [-2.0, 3.0]


def test_a_salib_sample_decodes_into_the_space_with_from_salib():
    """Linear reals keep their bounds in SALib's problem, the others are unit intervals:
    decoding all with from_unit clipped x to 20 and gave S1 = [0, 1] for x + 5 log10(a)."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sobol_sample

    space = sg.Space([sg.Real("x", 10, 20), sg.Real("a", 1, 100, log=True)])
    problem = space.to_salib()
    X = space.from_salib(sobol_sample.sample(problem, 1024, calc_second_order=False, seed=1))
    assert X["x"].between(10, 20).all() and X["x"].std() > 2 and X["a"].between(1, 100).all()
    y = (X["x"] + 5 * np.log10(X["a"])).to_numpy()
    indices = analyze.analyze(problem, y, calc_second_order=False)
    np.testing.assert_allclose(indices["S1"], [0.5, 0.5], atol=0.05)  # equal variances


def test_from_unit_reads_a_dataframe_by_column_name_and_refuses_nan():
    space = sg.Space([sg.Real("a", 0, 1), sg.Integer("k", 1, 5),
                      sg.Categorical("c", ["x", "y", "z"])])
    frame = pd.DataFrame({"c": [0.9], "k": [0.1], "a": [0.5]})
    point = space.from_unit(frame).iloc[0]
    assert (point["a"], point["k"], point["c"]) == (0.5, 1, "z")
    with pytest.raises(ValueError, match=r"missing \['a'\]"):
        space.from_unit(frame.drop(columns="a"))
    with pytest.raises(ValueError, match="NaN \\(column 'c'\\)"):
        space.from_unit([[0.5, 0.5, np.nan]])
    positional = space.from_unit(pd.DataFrame([[0.5, 0.1, 0.9]]))  # default columns: by position
    assert positional.iloc[0].tolist() == [0.5, 1, "z"]


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: sg.Real("a", 1, 1000, log="false"), TypeError, "log must be True or False"),
    (lambda: sg.Real("a", 1, 1000, log=2), TypeError, "log must be True or False"),
    (lambda: sg.Categorical("c", ["u", None]), ValueError, "may not be None or NaN"),
    (lambda: sg.Categorical("c", ["u", float("nan")]), ValueError, "may not be None or NaN"),
    # a float32 NaN (of a column's unique values) was sampled, and the saved runs did not load
    (lambda: sg.Categorical("c", np.array([1.0, np.nan], dtype=np.float32)), ValueError,
     "may not be None or NaN"),
    (lambda: sg.Integer("k", 0, 10**30), ValueError, "high=10+ is beyond the integers"),
    # past 2**53 designs (computed in floats) changed values and collapsed levels
    (lambda: sg.Integer("k", 0, 2**53 + 1), ValueError, r"beyond the integers designs hold "
                                                          r"exactly \(\|high\| <= 2\*\*53\)"),
    (lambda: sg.Real("x", -1e308, 1e308), ValueError, "wider than floating point holds"),
    (lambda: sg.Categorical("c", ["auto", 1, 2]), TypeError, "all text, all numbers or all "
                                                             "booleans"),
    (lambda: sg.Categorical("c", [(1, 2), (3, 4)]), TypeError, "all text, all numbers"),
    # saved as float64 beside the floats: every save and checkpoint failed in pyarrow
    (lambda: sg.Categorical("c", [0.5, 2**53 + 1]), ValueError, "cannot hold 9007199254740993"),
])
def test_parameters_refuse_values_that_would_mislead_later(make, error, match):
    """A truthy string turned the log scale on; a None category was sampled as NaN that the
    space then refused; 10**30 sampled as -2**63 in every row."""
    with pytest.raises(error, match=match):
        make()


def test_mixed_int_and_float_categories_save_and_load(tmp_path):
    space = sg.Space([sg.Categorical("c", [0.5, 2**53, -3])])
    X = sg.sample(space, 6, seed=0)
    sg.TransferSet(space, ["y"], X, np.zeros((6, 1))).save(tmp_path / "runs")
    loaded = sg.TransferSet.load(tmp_path / "runs")
    assert loaded.X["c"].tolist() == X["c"].tolist()


def test_a_design_with_a_repeated_column_is_refused_by_name():
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    X = pd.DataFrame([[0.1, 0.2, 0.3]], columns=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"repeated column\(s\) \['a'\]"):
        space.validate(X)


def test_a_space_saved_with_log_as_0_or_1_still_loads():
    """Older versions stored ``"log": 1``."""
    loaded = sg.Space.from_dict({"parameters": [
        {"type": "real", "name": "a", "low": 1.0, "high": 10.0, "log": 1}]})
    assert loaded["a"].log is True


def test_a_log_parameter_refuses_zero_negative_and_far_below_low():
    """A linear tolerance of 1e-12 of the range (1e-6 here: 1000 times low) let 1e-12, 0
    and -1e-7 through; to_unit then gave -0.2, -inf and NaN."""
    space = sg.Space([sg.Real("conc", 1e-9, 1e6, log=True)])
    for value in (1e-12, 0.0, -1e-7, 2e6):
        with pytest.raises(ValueError, match=r"column 'conc': value .* \[1e-09, 1000000.0\]"):
            space.validate([[value]])
    edge = space.validate([[1e-9 * (1 + 1e-13)], [1e6]])  # rounding at the ends is kept
    assert len(edge) == 2


def test_lloyd_needs_a_point_more_than_dimensions():
    space = sg.Space([sg.Real(f"x{i}", 0, 1) for i in range(5)])
    with pytest.raises(ValueError, match=r"lloyd' needs at least dim \+ 1 = 6 points"):
        sg.sample(space, 5, optimization="lloyd", seed=0)
    assert len(sg.sample(space, 6, optimization="lloyd", seed=0)) == 6


def test_a_factorial_design_of_discrete_parameters_stops_at_their_levels():
    space = sg.Space([sg.Integer("k", 0, 2), sg.Categorical("c", ["a", "b"])])
    assert len(sg.sample(space, 10**9, method="factorial")) == 6  # looped up to n
    with pytest.raises(TypeError, match=r"'factorial' takes no option\(s\) \['optimization'\]"):
        sg.sample(space, 6, method="factorial", optimization="lloyd")


def test_complex_values_are_refused_and_categories_reach_the_teacher_as_declared():
    """Complex values lost their imaginary part; 1/0 for a [False, True] categorical reached
    the simulator as ints."""
    space = sg.Space([sg.Real("x", 0, 1), sg.Integer("k", 0, 3),
                      sg.Categorical("flag", [False, True])])
    with pytest.raises(ValueError, match="column 'x': values must be real numbers, got complex"):
        space.validate(pd.DataFrame({"x": [0.2 + 0.9j], "k": [1], "flag": [True]}))
    with pytest.raises(ValueError, match="column 'k': values must be integers, got complex"):
        space.validate(pd.DataFrame({"x": [0.2], "k": [1 + 1j], "flag": [True]}))
    design = space.validate(pd.DataFrame({"x": [0.2, 0.5], "k": [1, 2], "flag": [1, 0]}))
    assert [type(v) for v in design["flag"]] == [bool, bool]
    assert design["flag"].tolist() == [True, False]


@pytest.mark.parametrize("call, error, match", [
    (lambda: sg.Categorical("p", {"low", "mid", "high"}), TypeError,
     r"parameter 'p': categories must be an ordered sequence \(a list or tuple\), got a set"),
    (lambda: sg.Categorical("p", [[1], [2]]), TypeError,
     r"parameter 'p': categories must be numbers or text"),
    (lambda: sg.Space(None), TypeError, r"parameters must be a sequence of Real, Integer or"),
    (lambda: sg.Space([sg.Real("x", 0, 1)]).from_unit("abc"), TypeError,
     r"unit points must be numbers in \[0, 1\], shape \(n, 1\)"),
])
def test_unordered_or_malformed_parameters_are_refused_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()
    assert sg.Categorical("p", {"b": 1, "a": 2}.keys()).categories == ("b", "a")  # ordered


@pytest.mark.parametrize("parameter", [sg.Real("p", 0, 1), sg.Integer("p", 0, 5),
                                       sg.Categorical("p", ["u", "v"])])
def test_a_parameter_refuses_nan_unit_values_by_name(parameter):
    # Integer gave -2**63 without a word, Categorical a raw IndexError
    with pytest.raises(ValueError, match="parameter 'p': unit values hold NaN"):
        parameter.from_unit(np.array([0.5, np.nan]))
