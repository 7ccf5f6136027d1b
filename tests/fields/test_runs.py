"""Field outputs through the teacher, the executors, checkpoints and transfer sets.

The toy teacher has a closed-form trajectory: ``y(t) = a exp(-k t)`` (the linear ODE
``dy/dt = -k y``, ``y(0) = a``) on a fixed grid, plus the scalar output ``half = ln(2) / k``.
"""

from __future__ import annotations

import functools
import json
import math
import os

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.teacher import SimulationError

SPACE = sg.Space([sg.Real("a", 0.5, 2.0), sg.Real("k", 0.1, 1.0)])
TIMES = np.linspace(0.0, 5.0, 21)


def decay_point(a, k, *, kind="ok", log=None):
    """Scalar form: a mapping with the scalar output and the trajectory."""
    if log is not None:  # one line per call, appended atomically: counts calls across processes
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"x\n")
        finally:
            os.close(fd)
    y = a * np.exp(-k * TIMES)
    if kind == "nan" and k > 0.8:
        y[7] = np.nan
    if kind == "short" and k > 0.8:
        y = y[:-1]
    return {"half": math.log(2) / k, "y": y}


def decay_batch(X, *, kind="ok"):
    """Vectorized form: a mapping of (n,) outputs and (n, T) fields."""
    a, k = X["a"].to_numpy()[:, None], X["k"].to_numpy()[:, None]
    y = a * np.exp(-k * TIMES[None, :])
    if kind == "nan":
        y[k[:, 0] > 0.8, 3] = np.inf
    if kind == "short" and (k > 0.8).any():
        y = y[:, :-1]
    return {"half": np.log(2) / k[:, 0], "y": y}


def decay_only(X):
    """Vectorized, one field and no scalar output: the bare (n, T) array."""
    return X["a"].to_numpy()[:, None] * np.exp(-X["k"].to_numpy()[:, None] * TIMES[None, :])


def decay(kind="ok", *, vectorized=False, log=None):
    fn = (functools.partial(decay_batch, kind=kind) if vectorized
          else functools.partial(decay_point, kind=kind, log=log))
    return sg.Simulator(fn, SPACE, ["half"], fields={"y": TIMES}, vectorized=vectorized,
                        name="decay")


def truth(X):
    return X["a"].to_numpy()[:, None] * np.exp(-X["k"].to_numpy()[:, None] * TIMES[None, :])


@pytest.fixture(scope="module")
def design():
    return sg.sample(SPACE, 24, seed=0)


# -- the teacher ---------------------------------------------------------------------------------
@pytest.mark.parametrize("vectorized", [False, True])
def test_runs_carry_the_trajectories(design, vectorized):
    runs = decay(vectorized=vectorized).run(design, progress=False)
    assert runs.fields == ["y"] and runs.outputs == ["half"] and runs.ok.all()
    field = runs.field("y")
    assert field.shape == (24, 21) and field.columns.name == "y"
    np.testing.assert_array_equal(field.columns.to_numpy(), TIMES)
    np.testing.assert_allclose(field.to_numpy(), truth(design), rtol=1e-14)
    np.testing.assert_allclose(runs.Y["half"], np.log(2) / design["k"], rtol=1e-14)


def test_a_bare_array_serves_a_single_field(design):
    sim = sg.Simulator(decay_only, SPACE, fields={"y": TIMES}, vectorized=True)
    assert sim.outputs == () and sim.n_values == 21
    runs = sim.run(design, progress=False)
    assert runs.Y.shape == (24, 0)
    np.testing.assert_allclose(runs.field("y").to_numpy(), truth(design), rtol=1e-14)


def test_calling_returns_scalars_and_the_fields_in_attrs(design):
    out = decay()(design.iloc[:3])
    assert list(out.columns) == ["half"]
    np.testing.assert_allclose(out.attrs["fields"]["y"].to_numpy(), truth(design.iloc[:3]))


@pytest.mark.parametrize("vectorized", [False, True])
def test_a_non_finite_value_anywhere_fails_only_that_run(design, vectorized):
    runs = decay("nan", vectorized=vectorized).run(design, progress=False)
    bad = design["k"].to_numpy() > 0.8
    assert bad.any() and (~bad).any()
    assert (runs.status.to_numpy() == np.where(bad, "failed", "ok")).all()
    assert runs.error[bad].str.contains(r"field 'y' not finite at 1 of 21 grid point").all()
    field = runs.field("y").to_numpy()
    assert np.isnan(field[bad]).all() and np.isnan(runs.Y["half"].to_numpy()[bad]).all()
    np.testing.assert_allclose(field[~bad], truth(design)[~bad])
    with pytest.raises(SimulationError, match="field 'y' not finite"):
        decay("nan", vectorized=vectorized)(design)


@pytest.mark.parametrize("vectorized", [False, True])
def test_a_trajectory_of_the_wrong_length_fails_with_a_clear_message(design, vectorized):
    runs = decay("short", vectorized=vectorized).run(design, progress=False)
    bad = design["k"].to_numpy() > 0.8
    assert (runs.ok == ~bad).all()
    assert runs.error[bad].str.contains(r"field 'y' has shape .*20.*expected .*21").all()


def test_missing_fields_and_wrong_types_are_named():
    sim = sg.Simulator(lambda a, k: {"half": 1.0}, SPACE, ["half"], fields={"y": TIMES})
    runs = sim.run([[1.0, 0.5]], progress=False)
    assert "no output(s)/field(s) ['y']" in runs.error[0]
    assert runs.error[0].startswith("OutputError: ")  # the public class, not a private one
    vectorized = sg.Simulator(lambda X: {"half": X["a"].to_numpy()}, SPACE, ["half"],
                              fields={"y": TIMES}, vectorized=True)
    assert vectorized.run([[1.0, 0.5]], progress=False).error[0].startswith("OutputError: ")
    sim = sg.Simulator(lambda a, k: 1.0, SPACE, ["half"], fields={"y": TIMES})
    assert "returns a mapping" in sim.run([[1.0, 0.5]], progress=False).error[0]
    sim = sg.Simulator(lambda a, k: {"half": 1.0, "y": ["a"] * 21}, SPACE, ["half"],
                       fields={"y": TIMES})
    assert "field 'y'" in sim.run([[1.0, 0.5]], progress=False).error[0]


@pytest.mark.parametrize(("grid", "problem"), [
    ([0.0, 2.0, 1.0], "strictly increasing"),
    ([0.0, 1.0, 1.0], "strictly increasing"),
    ([[0.0, 1.0]], "1-D"),
    ([], "non-empty"),
    ([0.0, np.nan], "non-finite"),
    ("abc", "sequence of numbers"),
    # dates were read as µs (days for datetime64[D]) since 1970, by their resolution
    (pd.date_range("2020-01-01", periods=3), "numbers, got dates"),
    (np.array([1, 2], dtype="timedelta64[h]"), "numbers, got dates or durations"),
    (np.array([False, True]), "numbers.*got booleans"),
])
def test_bad_grids_are_refused_naming_the_field(grid, problem):
    with pytest.raises(ValueError, match=f"field 'y'.*{problem}"):
        sg.Simulator(decay_point, SPACE, ["half"], fields={"y": grid})


def test_field_names_must_differ_from_outputs_and_something_must_be_declared():
    with pytest.raises(ValueError, match="both a scalar output and a field"):
        sg.Simulator(decay_point, SPACE, ["y"], fields={"y": TIMES})
    with pytest.raises(ValueError, match="non-empty sequence of names"):
        sg.Simulator(decay_point, SPACE)
    with pytest.raises(TypeError, match="fields must be a mapping"):
        sg.Simulator(decay_point, SPACE, ["half"], fields=[TIMES])


# -- executors -----------------------------------------------------------------------------------
def test_the_process_executor_gives_the_serial_result(design):
    serial = decay("nan").run(design, progress=False)
    with sg.ProcessExecutor(2) as executor:
        pooled = decay("nan").run(design, executor=executor, progress=False)
    assert pooled.status.tolist() == serial.status.tolist()
    assert pooled.error.tolist() == serial.error.tolist()
    pd.testing.assert_frame_equal(pooled.field("y"), serial.field("y"))


# -- transfer sets -------------------------------------------------------------------------------
def test_valid_select_concat_save_load_keep_the_fields(design, tmp_path):
    runs = decay("nan").run(design, progress=False)
    valid = runs.valid()
    assert len(valid) == int(runs.ok.sum())
    np.testing.assert_array_equal(valid.field("y").to_numpy(), runs.field("y").to_numpy()[runs.ok])
    both = sg.TransferSet.concat([runs.select(np.arange(10)), runs.select(np.arange(10, 24))])
    pd.testing.assert_frame_equal(both.field("y"), runs.field("y"))
    runs.save(tmp_path / "set")
    meta = json.loads((tmp_path / "set" / "meta.json").read_text())
    assert meta["fields"]["y"] == TIMES.tolist()
    back = sg.TransferSet.load(tmp_path / "set")
    assert back.fields == ["y"] and back.status.tolist() == runs.status.tolist()
    pd.testing.assert_frame_equal(back.field("y"), runs.field("y"))
    np.testing.assert_array_equal(back.grids["y"], TIMES)


def test_a_field_is_asked_for_by_one_name():
    runs = decay().run([[1.0, 0.5]], progress=False)
    with pytest.raises(TypeError, match=r"one field name \(a str\), got list \['y'\]"):
        runs.field(["y"])  # a raw "unhashable type: 'list'"
    with pytest.raises(KeyError, match="no field 'z'"):
        runs.field("z")


def test_concat_refuses_other_grids(design):
    runs = decay().run(design.iloc[:3], progress=False)
    other = sg.TransferSet(SPACE, ["half"], runs.X, runs.Y,
                           fields={"y": (TIMES + 1.0, runs.field("y").to_numpy())})
    # the message says which field and how its grids differ (it listed ['y'] and ['y'])
    with pytest.raises(ValueError, match=r"same fields on the same grids; got field 'y' on grids "
                                         r"of 21 points from 0 to 5 and 21 points from 1 to 6"):
        sg.TransferSet.concat([runs, other])


def test_building_a_transfer_set_checks_the_field_shapes():
    X = [[1.0, 0.5], [1.5, 0.2]]
    with pytest.raises(ValueError, match=r"field 'y' must have shape \(2, 3\)"):
        sg.TransferSet(SPACE, [], X, np.empty((2, 0)), fields={"y": ([0, 1, 2], np.ones((2, 4)))})
    with pytest.raises(ValueError, match="status 'ok' but non-finite outputs or fields"):
        sg.TransferSet(SPACE, [], X, np.empty((2, 0)), ["ok", "ok"],
                       fields={"y": ([0, 1], [[1.0, np.nan], [1.0, 2.0]])})
    with pytest.raises(KeyError, match="no field 'z'; fields: \\['y'\\]"):
        sg.TransferSet(SPACE, [], X, np.empty((2, 0)), fields={"y": ([0], [[1.0], [2.0]])}
                       ).field("z")


def test_a_damaged_grid_in_meta_json_is_named(design, tmp_path):
    decay().run(design.iloc[:2], progress=False).save(tmp_path / "set")
    meta = json.loads((tmp_path / "set" / "meta.json").read_text())
    meta["fields"]["y"] = [1.0, 0.0]
    (tmp_path / "set" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"meta.json is damaged: field 'y'.*increasing"):
        sg.TransferSet.load(tmp_path / "set")


# -- checkpoints and resume ----------------------------------------------------------------------
@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_checkpoint_and_resume_with_fields(design, tmp_path, executor):
    log = str(tmp_path / "calls.log")
    sim = decay(log=log)
    options = dict(checkpoint=tmp_path / "ckpt", executor=executor, progress=False)
    if executor == "processes":
        options["n_workers"] = 2
    first = sim.run(design.iloc[:10], **options)
    # an unfinished campaign leaves only the journal: loading it reads the trajectories back
    (tmp_path / "ckpt" / "runs.parquet").unlink()
    partial = sg.TransferSet.load(tmp_path / "ckpt")
    pd.testing.assert_frame_equal(partial.field("y"), first.field("y"))
    full = sim.run(design, **options)
    with open(log) as handle:
        assert len(handle.readlines()) == 24  # the first ten ran once only
    np.testing.assert_allclose(full.field("y").to_numpy(), truth(design), rtol=1e-14)
    back = sg.TransferSet.load(tmp_path / "ckpt")
    pd.testing.assert_frame_equal(back.field("y"), full.field("y"))


def test_a_checkpoint_of_other_grids_is_refused(design, tmp_path):
    decay().run(design.iloc[:3], checkpoint=tmp_path / "ckpt", progress=False)
    other = sg.Simulator(decay_point, SPACE, ["half"], fields={"y": TIMES * 2}, name="decay")
    with pytest.raises(ValueError, match=r"other fields or grids than the simulator's: field "
                                         r"'y' on grids of 21 points from 0 to 5 and 21 points "
                                         r"from 0 to 10"):
        other.run(design.iloc[:3], checkpoint=tmp_path / "ckpt", progress=False)


def test_a_simulator_of_fields_only_resumes_and_its_runs_load(tmp_path):
    # outputs=() beside fields is allowed (SPEC 6.3); its checkpoint read as damaged on resume
    space = sg.Space([sg.Real("x", 0, 1)])
    calls = []

    def rising(x):
        calls.append(x)
        return {"I": np.array([x, 2 * x, 3 * x])}

    sim = sg.Simulator(rising, space, (), fields={"I": [0.0, 1.0, 2.0]})
    design = sg.sample(space, 5, seed=0)
    first = sim.run(design, checkpoint=tmp_path / "ck", progress=False)
    again = sim.run(design, checkpoint=tmp_path / "ck", progress=False)
    assert len(calls) == 5 and again.outputs == [] and again.field("I").shape == (5, 3)
    first.save(tmp_path / "saved")
    pd.testing.assert_frame_equal(sg.TransferSet.load(tmp_path / "saved").field("I"),
                                  first.field("I"))


def test_a_sideways_field_is_caught_when_the_design_has_as_many_runs_as_grid_points():
    # 11 runs on an 11-point grid: the transposed trajectories passed every shape check in the
    # serial executor and teacher(X), and were stored as the runs' fields
    grid = np.linspace(0.0, 1.0, 11)
    space = sg.Space([sg.Real("a", 0.5, 2.0)])

    def right(X):
        return {"I": np.exp(-np.outer(X["a"], grid))}

    def sideways(X):
        return {"I": right(X)["I"].T}

    design = sg.sample(space, 11, seed=0)
    good = sg.Simulator(right, space, fields={"I": grid}, vectorized=True)
    runs = good.run(design, progress=False)
    assert runs.ok.all()
    np.testing.assert_allclose(runs.field("I").to_numpy(), right(design)["I"])
    bad = sg.Simulator(sideways, space, fields={"I": grid}, vectorized=True)
    runs = bad.run(design, progress=False)
    assert not runs.ok.any() and all("expected" in e for e in runs.error)
    with pytest.raises(SimulationError):
        bad(design)


@pytest.mark.parametrize("outputs, fields", [
    (["a2", "a3"], {"I": [0.0, 1.0, 2.0]}),  # 3 runs: 2 outputs and a 3-point grid
    ([], {"S": [0.0, 1.0], "I": [0.0, 1.0, 2.0]}),  # 3 runs: grids of 2 and 3 points
])
def test_a_sideways_field_is_caught_when_no_two_batch_sizes_avoid_the_square_ones(outputs,
                                                                                  fields):
    # as many runs as grid points, and no split in two pieces of safe sizes: the whole batch
    # was evaluated at once and the transposed trajectories stored as the runs' fields
    space = sg.Space([sg.Real("a", 0.5, 2.0)])
    grid = np.asarray(fields["I"])

    def sideways(X):
        a = X["a"].to_numpy()
        result = {name: a * (j + 2) for j, name in enumerate(outputs)}
        if "S" in fields:
            result["S"] = np.outer(a, fields["S"])
        return {**result, "I": np.outer(grid, a)}  # (T, n): odeint's layout

    bad = sg.Simulator(sideways, space, outputs, fields=fields, vectorized=True)
    design = pd.DataFrame({"a": [0.6, 1.0, 1.5]})
    runs = bad.run(design, progress=False)
    assert not runs.ok.any() and all("transposed" in e for e in runs.error)
    with pytest.raises(SimulationError):
        bad(design)
