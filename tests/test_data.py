import json
import re

import numpy as np
import pandas as pd
import pytest

import surrogate as sg

SPACE = sg.Space([sg.Real("x", 0, 1), sg.Integer("n", 1, 3), sg.Categorical("c", ["a", "b"])])


def make(n=6, seed=0):
    X = sg.sample(SPACE, n, seed=seed)
    Y = np.column_stack([X["x"] * X["n"], X["x"]])
    Y[0] = np.nan
    status = ["timeout"] + ["ok"] * (n - 1)
    error = ["slow"] + [""] * (n - 1)
    return sg.TransferSet(SPACE, ["a", "b"], X, Y, status, error, np.arange(n, dtype=float), "toy")


def test_views_and_masks():
    ts = make()
    assert len(ts) == 6 and ts.outputs == ["a", "b"] and ts.space == SPACE
    assert ts.ok.tolist() == [False] + [True] * 5
    assert np.isnan(ts.Y.iloc[0]).all()
    valid = ts.valid()
    assert len(valid) == 5 and valid.status.eq("ok").all()
    view = ts.X
    view.loc[0, "x"] = 99.0  # views are copies: the set does not change
    assert ts.X.loc[0, "x"] != 99.0


def test_select_refuses_a_mask_of_another_length_and_positions_outside():
    ts = make()
    assert len(ts.select([1, -1])) == 2 and len(ts.select(np.zeros(6, dtype=bool))) == 0
    assert len(ts.select(ts.Y[["b"]] > 0.5)) == int((ts.Y["b"] > 0.5).sum())  # a one-column mask
    with pytest.raises(ValueError, match=r"one value per run \(6\), got shape \(3,\)"):
        ts.select(np.array([True, False, True]))  # took 2 runs before
    with pytest.raises(ValueError, match=r"position 6 is outside the 6 runs"):
        ts.select([0, 6])
    with pytest.raises(TypeError, match="booleans .* or integer positions"):
        ts.select(["a"])


def test_concat_names_an_item_that_is_not_a_transfer_set():
    ts = make()
    with pytest.raises(TypeError, match="got other items \\(1: DataFrame\\)"):
        sg.TransferSet.concat([ts, ts.X])
    with pytest.raises(TypeError, match="concat takes a list of transfer sets"):
        sg.TransferSet.concat(ts)


def test_save_load_round_trip(tmp_path):
    ts = make()
    ts.save(tmp_path / "set")
    meta = json.loads((tmp_path / "set" / "meta.json").read_text())
    assert meta["schema"] == "surrogate.transferset/1" and meta["simulator"] == "toy"
    assert "numpy" in meta["versions"]
    back = sg.TransferSet.load(tmp_path / "set")
    pd.testing.assert_frame_equal(back.X, ts.X)
    pd.testing.assert_frame_equal(back.Y, ts.Y)
    assert back.status.tolist() == ts.status.tolist() and back.error.tolist() == ts.error.tolist()
    assert back.space == ts.space and back.simulator == "toy"


def test_concat():
    both = sg.TransferSet.concat([make(4, 0), make(3, 1)])
    assert len(both) == 7 and both.status.tolist().count("timeout") == 2
    other = sg.TransferSet(sg.Space([sg.Real("z", 0, 1)]), ["a", "b"], [[0.5]], [[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"same space: set 1 has Space\(\[Real\(name='z'"):
        sg.TransferSet.concat([make(), other])
    # what differs is named (it said only "the same space and outputs")
    renamed = sg.TransferSet(SPACE, ["b", "a"], make().X, make().Y[["b", "a"]])
    with pytest.raises(ValueError, match=r"same outputs: set 1 has \['b', 'a'\], set 0 "
                                         r"\['a', 'b'\]"):
        sg.TransferSet.concat([make(), renamed])


def test_bad_input(tmp_path):
    X = sg.sample(SPACE, 2, seed=0)
    with pytest.raises(ValueError, match="unknown status"):
        sg.TransferSet(SPACE, ["a"], X, [[1.0], [2.0]], ["ok", "broken"])
    with pytest.raises(ValueError, match="status 'ok' but non-finite"):
        sg.TransferSet(SPACE, ["a"], X, [[1.0], [np.nan]], ["ok", "ok"])
    with pytest.raises(ValueError, match=r"Y must have shape \(2, 1\)"):
        sg.TransferSet(SPACE, ["a"], X, [[1.0, 2.0]])
    (tmp_path / "meta.json").write_text(json.dumps({"schema": "other/9"}))
    with pytest.raises(ValueError, match="schema 'other/9' is not supported"):
        sg.TransferSet.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="no meta.json"):
        sg.TransferSet.load(tmp_path / "missing")


@pytest.mark.parametrize(
    "damage, name, problem",
    [
        (lambda d: (d / "meta.json").write_text(""), "meta.json", "not valid JSON"),
        (lambda d: (d / "meta.json").write_text('{"schema": "surrogate.transfer'),
         "meta.json", "not valid JSON"),
        (lambda d: (d / "meta.json").write_bytes(b'{"schema": "\xff"}'), "meta.json",
         "not valid JSON"),
        (lambda d: (d / "meta.json").write_text("[1, 2]"), "meta.json",
         "expected a JSON object, got list"),
        (lambda d: (d / "meta.json").write_text('{"schema": "surrogate.transferset/1"}'),
         "meta.json", r"lacks the key\(s\) \['space', 'outputs'\]"),
        (lambda d: (d / "meta.json").write_text(json.dumps(
            {"schema": "surrogate.transferset/1", "space": {"parameters": [{"kind": "?"}]},
             "outputs": ["a", "b"]})), "meta.json", "its 'space' is not a valid space"),
        (lambda d: (d / "runs.parquet").write_bytes(b"garbage"), "runs.parquet",
         "cannot be read as Parquet"),
        (lambda d: pd.read_parquet(d / "runs.parquet").drop(columns=["y.b"]).to_parquet(
            d / "runs.parquet"), "runs.parquet", r"lacks column\(s\) \['y.b'\]"),
        (lambda d: pd.read_parquet(d / "runs.parquet").assign(status="done").to_parquet(
            d / "runs.parquet"), "runs.parquet", "unknown status value"),
    ],
    ids=["empty-meta", "cut-meta", "non-utf8-meta", "meta-list", "meta-keys", "meta-space",
         "runs-garbage", "runs-column", "runs-status"],
)
def test_damaged_files_name_the_file(tmp_path, damage, name, problem):
    path = make().save(tmp_path / "set")
    damage(path)
    with pytest.raises(ValueError, match=f"{re.escape(str(path / name))}.*{problem}"):
        sg.TransferSet.load(path)


def test_output_names_are_checked_as_a_simulator_checks_them():
    """A set it accepted could not be loaded (outputs [0, 1]); a str was split into letters."""
    space = sg.Space([sg.Real("a", 0, 1)])
    X = pd.DataFrame({"a": [0.1, 0.2]})
    with pytest.raises(TypeError, match="output names must be non-empty str, got 0"):
        sg.TransferSet(space, [0, 1], X, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"duplicate output names: \['y'\]"):
        sg.TransferSet(space, ["y", "y"], X, np.zeros((2, 2)))
    assert sg.TransferSet(space, "out", X, np.array([1.0, 2.0])).outputs == ["out"]


def test_select_reads_a_reordered_boolean_series_by_its_index():
    space = sg.Space([sg.Real("a", 0, 1)])
    ts = sg.TransferSet(space, ["y"], pd.DataFrame({"a": [0.1, 0.2, 0.3]}),
                     np.array([[3.0], [1.0], [2.0]]))
    mask = ts.Y["y"].sort_values() >= 2  # index [1, 2, 0]
    assert ts.select(mask).Y["y"].tolist() == [3.0, 2.0]
    assert ts.select(mask.to_numpy()).Y["y"].tolist() == [1.0, 2.0]  # an array: by position


def test_runs_and_meta_of_two_saves_are_refused_not_mixed(tmp_path):
    import shutil

    space = sg.Space([sg.Real("a", 0.0, 1.0)])
    sim = sg.Simulator(lambda X: X["a"].to_numpy(), space, ["y"], vectorized=True)
    small = sim.run(sg.sample(space, 3, seed=0), progress=False)
    large = sim.run(sg.sample(space, 5, seed=1), progress=False)
    small.save(tmp_path / "small")
    large.save(tmp_path / "large")
    shutil.copy(tmp_path / "large" / "runs.parquet", tmp_path / "small" / "runs.parquet")
    with pytest.raises(ValueError, match=r"holds 5 runs but .*meta.json says 3: the files of "
                                         r"two different saves"):
        sg.TransferSet.load(tmp_path / "small")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=r"file is a file; a transfer set is saved into a "
                                         r"directory"):
        small.save(tmp_path / "file")


def test_the_constructor_names_bad_inputs_and_outputs():
    # text in Y and X=None gave numpy's and Python's own words; an empty X of other columns
    # was taken
    space = sg.Space([sg.Real("a", 0, 1), sg.Integer("k", 0, 3)])
    X = pd.DataFrame({"a": [0.1], "k": [1]})
    with pytest.raises(TypeError, match=r"Y must hold numbers \(outputs \['y'\]\)"):
        sg.TransferSet(space, ["y"], X, [["a"]])
    for bad in (None, 5, iter([[0.1, 1]])):
        with pytest.raises(TypeError, match=r"X must be the runs' inputs .*\['a', 'k'\]"):
            sg.TransferSet(space, ["y"], bad, [[1.0]])
    with pytest.raises(ValueError, match=r"missing column\(s\) \['a', 'k'\]"):
        sg.TransferSet(space, ["y"], pd.DataFrame(columns=["zz"]), np.empty((0, 1)))
    empty = sg.TransferSet(space, ["y"], [], np.empty((0, 1)))
    assert len(empty) == 0 and list(empty.X.columns) == ["a", "k"]


def test_none_in_error_means_no_error():
    space = sg.Space([sg.Real("x", 0, 1)])
    ts = sg.TransferSet(space, ["y"], pd.DataFrame({"x": [0.1, 0.2]}),
                        pd.DataFrame({"y": [1.0, np.nan]}), error=[None, "boom"])
    assert ts.error.tolist() == ["", "boom"]


def test_a_path_starting_with_a_tilde_means_the_home_directory(tmp_path, monkeypatch):
    # pathlib does not expand "~" (pandas does): a model went into a folder named "~" in the
    # working directory, and a transfer set's save made ./~ and then failed in pandas
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    space = sg.Space([sg.Real("a", 0, 1)])
    X = sg.sample(space, 6, seed=0)
    sg.TransferSet(space, ["y"], X, X["a"].to_numpy()).save("~/runs")
    sg.GPRegressor(seed=0).fit(X, X["a"]).save("~/model")
    sg.Simulator(lambda a: a, space, ["y"]).run(X, checkpoint="~/ck", progress=False)
    assert sorted(p.name for p in home.iterdir()) == ["ck", "model", "runs"]
    assert not list(work.iterdir())
    assert len(sg.TransferSet.load("~/runs")) == 6
    from surrogate.execute import checkpoint_design

    assert len(checkpoint_design("~/ck")) == 6  # it found no checkpoint there
    assert sg.load("~/model").n_features_in_ == 1


def test_missing_values_of_nullable_and_pyarrow_columns_are_failed_runs():
    import io

    space = sg.Space([sg.Real("a", 0, 1)])
    X = sg.sample(space, 4, seed=0)
    for backend in ("numpy_nullable", "pyarrow"):  # what read_csv gives for a failed run
        Y = pd.read_csv(io.StringIO("y,z\n1,2\n,3\n4,5\n6,7"), dtype_backend=backend)
        assert sg.TransferSet(space, ["y", "z"], X, Y).status.tolist() == \
            ["ok", "failed", "ok", "ok"]
    y = pd.DataFrame({"f": pd.array([1.0, None, 3.0, 4.0], dtype="Float64"), "g": range(4)})
    with pytest.raises(ValueError, match=r"y contains NaN \(e.g. rows \[1\]\); drop failed"):
        sg.GPRegressor(seed=0).fit(X, y)
