import pickle

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.testing import TOY_SPACE, expected_toy, toy_simulator

SPACE = sg.Space([sg.Real("x", 0, 1), sg.Integer("n", 1, 3)])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, n: {"a": x * n, "b": x + n},
        lambda x, n: (x * n, x + n),
        lambda x, n: np.array([x * n, x + n]),
    ],
    ids=["mapping", "tuple", "array"],
)
def test_scalar_result_forms(fn):
    sim = sg.Simulator(fn, SPACE, ["a", "b"])
    out = sim(pd.DataFrame({"x": [0.5, 0.25], "n": [2, 3]}))
    assert list(out.columns) == ["a", "b"]
    np.testing.assert_allclose(out.to_numpy(), [[1.0, 2.5], [0.75, 3.25]])


def test_single_number_and_vectorized_forms():
    single = sg.Simulator(lambda x, n: x * n, SPACE, "a")
    assert single([[0.5, 2]])["a"].tolist() == [1.0]
    frame = sg.Simulator(lambda X: pd.DataFrame({"b": X["x"], "a": X["n"]}), SPACE, ["a", "b"],
                         vectorized=True)
    assert frame([[0.5, 2]]).to_numpy().tolist() == [[2.0, 0.5]]
    design = sg.sample(TOY_SPACE, 20, seed=0)
    np.testing.assert_allclose(toy_simulator(vectorized=True)(design), expected_toy(design))


def test_call_raises_on_failure_naming_row():
    sim = toy_simulator("flaky")
    design = pd.DataFrame({"x": [0.1, 0.9], "y": [0.0, 0.0]})
    with pytest.raises(sg.SimulationError, match=r"the run at row 1 failed .*RuntimeError: diverged"):
        sim(design)
    vectorized = toy_simulator("flaky", vectorized=True)
    with pytest.raises(sg.SimulationError, match=r"1 of 2 run\(s\) failed; first at row 1 .*"
                                                 r"RuntimeError: a point with x > 0.8"):
        vectorized(design)


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda x, n: {"a": 1.0}, r"no output\(s\) \['b'\]"),
        (lambda x, n: (1.0, 2.0, 3.0), r"3 value\(s\), expected 2"),
        (lambda x, n: 1.0, "single float, expected 2 outputs"),
        (lambda x, n: (1.0, float("inf")), "output 'b' is inf"),
        (lambda x, n: (1.0, "high"), "output 'b' is not a number"),
        (lambda x, n: (1.0, "1.5"), r"output 'b' is not a number: '1.5' \(str\)"),
        (lambda x, n: (1.0, 2j), "output 'b' is not a number"),
    ],
)
def test_outputs_that_do_not_match_are_failed_runs(fn, message):
    sim = sg.Simulator(fn, SPACE, ["a", "b"])
    ts = sim.run([[0.5, 1]], progress=False)
    assert ts.status.tolist() == ["failed"]
    assert ts.error.iloc[0].startswith("OutputError") and pytest.importorskip("re").search(
        message, ts.error.iloc[0])
    with pytest.raises(sg.SimulationError, match=message):
        sim([[0.5, 1]])


@pytest.mark.parametrize("value, message", [
    ("1.5", r"output 'a' is not a number: '1.5'"),
    ("hello", r"output 'a' is not a number: 'hello'"),
])
def test_single_output_must_be_a_real_number(value, message):
    sim = sg.Simulator(lambda x, n: value, SPACE, "a")
    ts = sim.run([[0.5, 1]], progress=False)
    assert ts.status.tolist() == ["failed"]
    assert pytest.importorskip("re").search(message, ts.error.iloc[0])


def test_boolean_outputs_are_one_and_zero():
    # SPEC's own outputs are such (stable = stab < 0): every run failed with "not a real number"
    scalar = sg.Simulator(lambda x, n: {"a": x > 0.3, "b": np.bool_(n > 1)}, SPACE, ["a", "b"])
    vectorized = sg.Simulator(lambda X: pd.DataFrame({"a": X["x"] > 0.3, "b": X["n"] > 1}),
                              SPACE, ["a", "b"], vectorized=True)
    as_array = sg.Simulator(lambda x, n: np.array([x > 0.3, n > 1]), SPACE, ["a", "b"])
    design = pd.DataFrame({"x": [0.5, 0.25], "n": [1, 2]})
    for sim in (scalar, vectorized, as_array):
        ts = sim.run(design, progress=False)
        assert ts.status.tolist() == ["ok", "ok"]
        assert ts.Y.to_numpy().tolist() == [[1.0, 0.0], [0.0, 1.0]]
    single = sg.Simulator(lambda x, n: np.array(x > 0.3), SPACE, "a")
    assert single.run(design, progress=False).Y["a"].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("value", [3, np.float32(0.5), np.int64(-2), np.array(1.25), 0.5])
def test_real_numbers_of_any_type_are_accepted(value):
    ts = sg.Simulator(lambda x, n: (value, n), SPACE, ["a", "b"]).run([[0.5, 2]])
    assert ts.status.tolist() == ["ok"]
    assert ts.Y.to_numpy().tolist() == [[float(value), 2.0]]


@pytest.mark.parametrize("fn, message", [
    (lambda X: pd.DataFrame({"a": X["x"], "b": X["x"].astype(str)}),
     "output 'b' is not a number: '0.5' \\(str\\)"),
    (lambda X: X.to_numpy().astype(str), "output 'a' has <U"),
])
def test_vectorized_outputs_must_be_real_numbers(fn, message):
    sim = sg.Simulator(fn, SPACE, ["a", "b"], vectorized=True)
    ts = sim.run(pd.DataFrame({"x": [0.5, 0.25], "n": [1, 2]}))
    assert ts.status.tolist() == ["failed", "failed"]
    assert pytest.importorskip("re").search(message, ts.error.iloc[0]), ts.error.iloc[0]


def test_a_repeated_output_column_fails_the_runs_by_name():
    # result["a"] of a frame with two 'a' columns is two columns: run() crashed in a reshape
    sim = sg.Simulator(lambda X: pd.DataFrame(np.ones((len(X), 3)), columns=["a", "a", "b"]),
                       SPACE, ["a", "b"], vectorized=True)
    ts = sim.run([[0.5, 1], [0.2, 2]], progress=False)
    assert ts.status.tolist() == ["failed", "failed"]
    assert "result has repeated column(s) ['a']; return each output once" in ts.error.iloc[0]


def test_a_wrong_column_count_fails_the_batch_in_one_call():
    # it was halved down to single rows: 1,535 calls and 10x the rows for 1,024 runs
    calls = []

    def three_columns(X):
        calls.append(len(X))
        return np.zeros((len(X), 3))

    sim = sg.Simulator(three_columns, SPACE, ["a", "b"], vectorized=True)
    ts = sim.run(sg.sample(SPACE, 256, seed=0), progress=False)
    assert calls == [256]
    assert set(ts.status) == {"failed"}
    assert "vectorized result has shape (256, 3), expected (256, 2)" in ts.error.iloc[0]


def test_vectorized_wrong_shape_is_failed():
    sim = sg.Simulator(lambda X: np.zeros((len(X), 3)), SPACE, ["a", "b"], vectorized=True)
    ts = sim.run([[0.5, 1], [0.2, 2]])
    assert ts.status.tolist() == ["failed", "failed"]
    assert "shape (1, 3), expected (1, 2)" in ts.error.iloc[0]


def test_a_transposed_vectorized_result_fails_every_run_of_its_batch():
    """(outputs, runs) where (runs, outputs) is meant: halving the batch reached 2-run pieces
    whose (2, 2) result passed the shape check, so 4 of 6 runs stored wrong values as ok."""
    sim = sg.Simulator(lambda X: np.vstack([X.x, X.n]), SPACE, ["a", "b"], vectorized=True)
    ts = sim.run(pd.DataFrame({"x": np.linspace(0.1, 0.6, 6), "n": [1, 2, 3, 1, 2, 3]}))
    assert ts.status.tolist() == ["failed"] * 6
    assert "shape (2, 6), expected (6, 2)" in ts.error.iloc[0] and "transposed" in ts.error.iloc[0]
    fields = sg.Simulator(lambda X: {"a": X.x.to_numpy(), "f": np.zeros((3, len(X)))}, SPACE,
                          ["a"], fields={"f": [0.0, 1.0, 2.0]}, vectorized=True)
    ts = fields.run(pd.DataFrame({"x": [0.1, 0.2], "n": [1, 2]}))
    assert ts.status.tolist() == ["failed"] * 2 and "field 'f'" in ts.error.iloc[0]


def test_bad_parameters_rejected_by_simulator():
    sim = toy_simulator()
    with pytest.raises(ValueError, match=r"column 'x': value 2.0 at row 0 .* \[0.0, 1.0\]"):
        sim(pd.DataFrame({"x": [2.0], "y": [0.0]}))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['y'\]"):
        sim.run(pd.DataFrame({"x": [0.5]}))
    with pytest.raises(ValueError, match="design is empty"):
        sim.run(pd.DataFrame({"x": [], "y": []}))


def test_bad_construction():
    with pytest.raises(ValueError, match=r"duplicate output names: \['a'\]"):
        sg.Simulator(lambda x: x, SPACE, ["a", "a"])
    with pytest.raises(TypeError, match="fn must be callable"):
        sg.Simulator(3, SPACE, "a")
    with pytest.raises(TypeError, match="expected a surrogate.Space"):
        sg.Simulator(lambda x: x, "space", "a")


def test_decorator_and_pickling():
    @sg.simulator(SPACE, ["a"])
    def double(x, n):
        return 2 * x * n

    assert isinstance(double, sg.Simulator) and double.name == "double"
    assert double([[0.25, 2]])["a"].tolist() == [1.0]
    sim = toy_simulator("nan")
    clone = pickle.loads(pickle.dumps(sim))
    assert clone.outputs == sim.outputs and clone.space == sim.space and clone.name == sim.name


def test_a_function_whose_arguments_do_not_match_the_space_is_refused():
    space = sg.Space([sg.Real("x", 0, 1), sg.Real("y", 0, 1)])
    with pytest.raises(ValueError, match=r"takes \['a', 'b'\] but is called with the space's "
                                         r"parameters \['x', 'y'\]"):
        sg.Simulator(lambda a, b: a + b, space, ["f"])
    sg.Simulator(lambda **params: params["x"], space, ["f"])  # **params takes any names
    sg.Simulator(lambda x, y, scale=1.0: scale * x, space, ["f"])  # extra defaulted arguments
    sg.Simulator(lambda X: X["x"].to_numpy(), space, ["f"], vectorized=True)  # not checked


def test_a_vectorized_result_in_another_row_order_is_taken_by_its_index():
    """A function that sorts its result keeps the design's row numbers as the index: the rows
    go back to their points (they were taken by position, so y landed on the wrong x)."""
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    design = sg.sample(space, 8, seed=2)

    def sorted_result(X):
        return pd.DataFrame({"y": X["a"], "z": X["b"]}).sort_values("y", ascending=False)

    sim = sg.Simulator(sorted_result, space, ["y", "z"], vectorized=True)
    runs = sim.run(design, progress=False)
    np.testing.assert_array_equal(runs.Y["y"].to_numpy(), design["a"].to_numpy())
    np.testing.assert_array_equal(sim(design)["z"].to_numpy(), design["b"].to_numpy())
    grid = np.array([0.0, 1.0])
    fields = sg.Simulator(lambda X: {"y": pd.Series(X["a"]).sort_values(),
                                     "f": np.outer(X["a"], grid)},
                          space, ["y"], fields={"f": grid}, vectorized=True)
    np.testing.assert_array_equal(fields(design)["y"].to_numpy(), design["a"].to_numpy())


def test_calling_a_simulator_keeps_the_index_of_a_dataframe_design():
    """A filtered design: the outputs line up with its rows, not with 0..n-1."""
    sim = toy_simulator()
    X = pd.DataFrame({"x": [0.1, 0.5, 0.9, 0.3], "y": [0.0, 1.0, 0.5, 0.2]})
    part = X[X.x > 0.2]
    out = sim(part)
    assert list(out.index) == [1, 2, 3]
    joined = part.assign(**{name: out[name] for name in out.columns})
    assert not joined.isna().any().any()
    assert np.allclose(joined[out.columns].to_numpy(), sim(part.to_numpy()).to_numpy())


def test_calling_a_scalar_simulator_stops_at_the_first_failure():
    """As the guide says: a slow teacher is not run on the rest of the design first."""
    calls = []

    def fn(x, y):
        calls.append(x)
        if x > 0.15:
            raise RuntimeError("boom")
        return x + y

    sim = sg.Simulator(fn, TOY_SPACE, ["z"])
    with pytest.raises(sg.SimulationError, match=r"the run at row 1 failed \(\{'x': 0.2, 'y': "
                                                 r"0.0\}\): RuntimeError: boom; the runs stop"):
        sim(pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4], "y": [0.0] * 4}))
    assert calls == [0.1, 0.2]


def test_one_output_as_one_row_is_read_and_sys_exit_stops_a_direct_call_with_its_index():
    """(1, n) for one output is no transposition to refuse; sys.exit() in a run called directly
    is a SimulationError (it ended the process), naming the design's own index."""
    import sys

    one = sg.Simulator(lambda X: np.array([X.x + X.y]), TOY_SPACE, ["z"], vectorized=True)
    design = pd.DataFrame({"x": [0.1, 0.2, 0.3], "y": [0.0, 0.5, 1.0]})
    ts = one.run(design)
    assert ts.status.tolist() == ["ok"] * 3
    np.testing.assert_allclose(ts.Y["z"], design.x + design.y)

    def quits(x, y):
        if x > 0.5:
            sys.exit(3)
        return x

    with pytest.raises(sg.SimulationError, match=r"row 1 \(index 20\) failed .*SystemExit: 3"):
        sg.Simulator(quits, TOY_SPACE, ["z"])(pd.DataFrame({"x": [0.1, 0.9], "y": [0.0, 0.0]},
                                                           index=[10, 20]))


@pytest.mark.parametrize("value", [
    np.ma.masked,  # np.ma.masked_invalid(all NaN).max(): a diverged solver
    np.ma.masked_invalid([np.nan, 1.0])[:1],
    [np.ma.masked],
])
def test_a_masked_value_fails_its_run_instead_of_reading_as_zero(value):
    space = sg.Space([sg.Real("x", 0, 1)])
    ts = sg.Simulator(lambda x: value, space, ["y"]).run([[0.5]], progress=False)
    assert ts.status.tolist() == ["failed"]
    vectorized = sg.Simulator(lambda X: np.ma.masked_invalid([[np.nan], [2.0]]), space, ["y"],
                              vectorized=True).run([[0.1], [0.2]], progress=False)
    assert vectorized.status.tolist() == ["failed", "ok"]
    fields = sg.Simulator(lambda x: {"y": 1.0, "I": np.ma.masked_invalid([1.0, np.nan])},
                          space, ["y"], fields={"I": [0.0, 1.0]}).run([[0.5]], progress=False)
    assert fields.status.tolist() == ["failed"]


def test_the_decorator_takes_vectorized_as_its_third_argument():
    # SPEC.md: @sg.simulator(space, outputs, vectorized=False)
    space = sg.Space([sg.Real("x", 0, 1)])

    @sg.simulator(space, ["y"], True)
    def double(X):
        return 2 * X[["x"]].to_numpy()

    assert double.vectorized and double([[0.25]])["y"].tolist() == [0.5]


def test_a_labelled_series_and_a_mapping_of_columns_are_results():
    """A scalar teacher's Series (labelled by outputs) failed every run; a vectorized
    teacher's {output: values} failed with "shape ()"."""
    space = sg.Space([sg.Real("x", 0, 1)])
    two = sg.Simulator(lambda x: pd.Series({"b": 2 * x, "a": x}), space, ["a", "b"])
    assert two.run([[0.5]], progress=False).Y.iloc[0].tolist() == [0.5, 1.0]
    columns = sg.Simulator(lambda D: {"b": 2 * D["x"].to_numpy(), "a": D["x"]}, space,
                           ["a", "b"], vectorized=True)
    runs = columns.run([[0.5], [0.25]], progress=False)
    assert runs.Y.to_numpy().tolist() == [[0.5, 1.0], [0.25, 0.5]]
    missing = sg.Simulator(lambda D: {"a": D["x"]}, space, ["a", "b"], vectorized=True)
    assert "result has no output(s) ['b']" in missing.run([[0.5]], progress=False).error.iloc[0]


def test_a_name_that_is_not_text_is_refused():
    # name=5 was kept as an int, which a checkpoint's meta.json then held as text
    import surrogate as sg

    space = sg.Space([sg.Real("a", 0.0, 1.0)])
    with pytest.raises(TypeError, match=r"name must be a str \(or None for the function's "
                                        r"name\), got int 5"):
        sg.Simulator(lambda a: a, space, ["y"], name=5)
    assert sg.Simulator(lambda a: a, space, ["y"], name="m").name == "m"


def test_an_empty_design_calls_no_function_and_gives_no_rows():
    # a vectorized function that fails on an empty frame (it reads a first row) was halved
    # into empty halves without end: RecursionError instead of an empty result
    calls = []

    def first_row(X):
        calls.append(len(X))
        return np.full(len(X), X["x"].iloc[0])

    sim = sg.Simulator(first_row, SPACE, "a", vectorized=True)
    out = sim(pd.DataFrame({"x": [], "n": []}))
    assert list(out.columns) == ["a"] and len(out) == 0 and calls == []
    fields = sg.Simulator(first_row, SPACE, fields={"I": [0.0, 1.0]}, vectorized=True)
    assert fields(pd.DataFrame({"x": [], "n": []})).attrs["fields"]["I"].shape == (0, 2)
