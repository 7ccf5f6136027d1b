import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.execute._checkpoint import JOURNAL, read_journal
from surrogate.testing import TOY_SPACE, expected_toy, toy_simulator


def calls(log):
    return pd.Series(log.read_text().splitlines()).value_counts() if log.exists() else pd.Series()


def test_rerun_recomputes_nothing(tmp_path):
    log, ckpt = tmp_path / "calls.txt", tmp_path / "ckpt"
    design = sg.sample(TOY_SPACE, 20, seed=0)
    sim = toy_simulator("flaky", log=str(log))
    first = sim.run(design, checkpoint=ckpt)
    assert len(log.read_text().splitlines()) == 20
    second = sim.run(design, checkpoint=ckpt)
    assert len(log.read_text().splitlines()) == 20  # nothing ran again, failures included
    pd.testing.assert_frame_equal(first.Y, second.Y)
    assert first.status.tolist() == second.status.tolist()
    loaded = sg.TransferSet.load(ckpt)
    pd.testing.assert_frame_equal(loaded.X, first.X)
    assert loaded.error.tolist() == first.error.tolist()


def point_key(design, i):
    """The line the toy teacher logs for design row ``i``."""
    return f"{float(design.x[i])!r} {float(design.y[i])!r}"


def test_refuses_other_space_outputs_or_simulator(tmp_path):
    ckpt = tmp_path / "ckpt"
    sim = toy_simulator()
    sim.run(sg.sample(TOY_SPACE, 5, seed=0), checkpoint=ckpt)
    other = sg.Simulator(lambda x: x, sg.Space([sg.Real("x", 0, 2)]), "f")
    with pytest.raises(ValueError, match="belongs to a different space"):
        other.run([[0.5]], checkpoint=ckpt)
    fewer = sg.Simulator(sim.fn, TOY_SPACE, ["f"], name=sim.name)
    with pytest.raises(ValueError, match=r"belongs to different outputs \['f', 'g'\]"):
        fewer.run([[0.5, 0.5]], checkpoint=ckpt)
    with pytest.raises(ValueError, match="belongs to simulator 'toy-ok', not 'toy-flaky'"):
        toy_simulator("flaky").run([[0.5, 0.5]], checkpoint=ckpt)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty and holds no checkpoint"):
        sim.run([[0.5, 0.5]], checkpoint=tmp_path / "junk")
    assert sorted(p.name for p in (tmp_path / "junk").iterdir()) == ["file.txt"]


def model(a, scenario):
    return a * {"low": 1.0, "high": 10.0}[scenario]


def test_partials_of_one_function_are_different_teachers(tmp_path):
    import functools

    space = sg.Space([sg.Real("a", 0, 1)])
    low = sg.Simulator(functools.partial(model, scenario="low"), space, ["y"])
    high = sg.Simulator(functools.partial(model, scenario="high"), space, ["y"])
    assert (low.name, high.name) == ("model(scenario='low')", "model(scenario='high')")
    low.run([[0.5]], checkpoint=tmp_path / "c", progress=False)
    with pytest.raises(ValueError, match="belongs to simulator \"model\\(scenario='low'\\)\""):
        high.run([[0.5]], checkpoint=tmp_path / "c", progress=False)
    long = sg.Simulator(functools.partial(model, scenario="x" * 100), space, ["y"])
    assert re.fullmatch(r"model\(#[0-9a-f]{12}\)", long.name)


class Settings:  # its repr holds a memory address: not a name another process would give
    pass


def test_partial_names_are_the_same_in_every_process_and_tell_arrays_apart(tmp_path):
    import functools

    space = sg.Space([sg.Real("a", 0, 1)])
    named = sg.Simulator(functools.partial(model, scenario=Settings()), space, ["y"])
    assert named.name == "model(scenario=Settings)"
    a, b = np.zeros(2000), np.zeros(2000)
    b[1000] = 1.0  # the same repr (numpy elides the middle), other values
    names = {sg.Simulator(functools.partial(model, scenario=x), space, ["y"]).name for x in (a, b)}
    assert len(names) == 2


def test_a_checkpoint_of_a_partial_from_before_partials_were_named_resumes(tmp_path):
    import functools

    space = sg.Space([sg.Real("a", 0, 1)])
    sg.Simulator(functools.partial(model, scenario="low"), space, ["y"]).run(
        [[0.5]], checkpoint=tmp_path / "c", progress=False)
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    (tmp_path / "c" / "meta.json").write_text(json.dumps({**meta, "simulator": "partial"}))
    with pytest.warns(UserWarning, match="before partial teachers were named"):
        again = sg.Simulator(functools.partial(model, scenario="low"), space, ["y"]).run(
            [[0.5]], checkpoint=tmp_path / "c", progress=False)
    assert again.Y["y"].tolist() == [0.5]


def test_a_bad_progress_is_refused_before_the_checkpoint_is_read_or_written(tmp_path):
    # checked only when some run was pending: a finished campaign took progress="yes", and a
    # new one wrote its checkpoint directory before refusing it
    sim, ckpt = toy_simulator(), tmp_path / "ckpt"
    design = sg.sample(TOY_SPACE, 3, seed=0)
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        sim.run(design, checkpoint=ckpt, progress="yes")
    assert not ckpt.exists()
    sim.run(design, checkpoint=ckpt, progress=False)
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        sim.run(design, checkpoint=ckpt, progress="yes")


def test_larger_design_extends_the_checkpoint(tmp_path):
    log, ckpt = tmp_path / "calls.txt", tmp_path / "ckpt"
    sim = toy_simulator(log=str(log))
    first = sg.sample(TOY_SPACE, 20, seed=0)
    sim.run(first, checkpoint=ckpt)
    assert len(log.read_text().splitlines()) == 20
    # 30 points holding the first 20 (in another order, one bit of float noise off)
    extra = sg.sample(TOY_SPACE, 10, seed=1)
    noisy = first.assign(x=np.nextafter(first.x.to_numpy(), 2.0))
    larger = pd.concat([extra, noisy], ignore_index=True).iloc[::-1].reset_index(drop=True)
    log.unlink()
    ts = sim.run(larger, checkpoint=ckpt)
    assert sorted(log.read_text().splitlines()) == sorted(point_key(extra, i) for i in range(10))
    assert ts.ok.all() and len(ts) == 30
    np.testing.assert_allclose(ts.Y.to_numpy(), expected_toy(larger), rtol=1e-12)
    pd.testing.assert_frame_equal(sg.TransferSet.load(ckpt).X, larger)
    # the first design again: nothing runs; the 10 extra points stay on disk, not returned
    log.unlink()
    again = sim.run(first, checkpoint=ckpt)
    assert not log.exists()
    pd.testing.assert_frame_equal(again.X, first)
    np.testing.assert_allclose(again.Y.to_numpy(), expected_toy(first), rtol=1e-12)
    assert len(pd.read_parquet(ckpt / "design.parquet")) == 30


def test_replicated_points_are_separate_runs(tmp_path):
    log, ckpt = tmp_path / "calls.txt", tmp_path / "ckpt"
    sim = toy_simulator(log=str(log))
    once = pd.DataFrame({"x": [0.1, 0.2], "y": [0.0, 0.5]})
    sim.run(once, checkpoint=ckpt)
    twice = pd.concat([once, once.iloc[[1]]], ignore_index=True)
    ts = sim.run(twice, checkpoint=ckpt)
    assert log.read_text().splitlines() == [point_key(once, 0), point_key(once, 1),
                                            point_key(once, 1)]
    assert ts.ok.all() and len(ts) == 3


def test_close_points_take_their_own_runs(tmp_path):
    # 50 apart on a range of 1e12 (5e-11 of the unit cube): distinct points, each with its own
    # run, in whatever order they are asked for again
    space = sg.Space([sg.Real("n", 0.0, 1e12)])
    sim = sg.Simulator(lambda n: n, space, ["y"], name="identity")
    sim.run(pd.DataFrame({"n": [1000.0, 1050.0]}), checkpoint=tmp_path / "c", progress=False)
    again = sim.run(pd.DataFrame({"n": [1050.0, 1000.0, 1050.0]}), checkpoint=tmp_path / "c",
                    progress=False)
    assert again.Y["y"].tolist() == [1050.0, 1000.0, 1050.0]


def test_rerun_failed_runs(tmp_path):
    log, ckpt = tmp_path / "calls.txt", tmp_path / "ckpt"
    design = sg.sample(TOY_SPACE, 20, seed=0)
    failing = design.index[design.x > 0.8]
    assert 1 <= len(failing) < 20
    flaky = toy_simulator("flaky", log=str(log))
    assert (flaky.run(design, checkpoint=ckpt, retries=3).ok == (design.x <= 0.8)).all()
    flaky.run(design, checkpoint=ckpt, retries=3)
    assert len(log.read_text().splitlines()) == 20 + 3 * len(failing)  # second call ran nothing
    # the teacher was fixed: rerun="failed" runs the failed points again, and only those
    fixed = sg.Simulator(toy_simulator("ok", log=str(log)).fn, TOY_SPACE, ["f", "g"],
                         name=flaky.name)
    log.unlink()
    ts = fixed.run(design, checkpoint=ckpt, rerun="failed")
    assert sorted(log.read_text().splitlines()) == sorted(point_key(design, i) for i in failing)
    assert ts.ok.all()
    np.testing.assert_allclose(ts.Y.to_numpy(), expected_toy(design), rtol=1e-12)
    log.unlink()
    assert fixed.run(design, checkpoint=ckpt, rerun="failed").ok.all() and not log.exists()
    for bad in ("all", True, "FAILED"):
        with pytest.raises(ValueError, match="rerun must be None or 'failed'"):
            fixed.run(design, checkpoint=ckpt, rerun=bad)


def test_half_written_record_is_not_data(tmp_path):
    log, ckpt = tmp_path / "calls.txt", tmp_path / "ckpt"
    design = sg.sample(TOY_SPACE, 6, seed=0)
    sim = toy_simulator(log=str(log))
    sim.run(design, checkpoint=ckpt)
    (ckpt / "runs.parquet").unlink()  # as if the campaign never finished
    journal = ckpt / JOURNAL
    lines = journal.read_text().splitlines(keepends=True)
    # corrupt run 2's record (bad checksum) and cut run 5's record in half
    damaged = lines[2].replace('"status"', '"STATUS"')
    journal.write_text("".join(lines[:2] + [damaged] + lines[3:5] + [lines[5][:20]]))
    assert sorted(read_journal(ckpt)) == [0, 1, 3, 4]
    partial = sg.TransferSet.load(ckpt)
    assert len(partial) == 4
    log.unlink()
    # run 2's damaged line is said; run 5's cut last line is what a crash leaves, not damage
    with pytest.warns(UserWarning, match="1 line\\(s\\) of journal.jsonl cannot be read"):
        result = sim.run(design, checkpoint=ckpt)
    assert sorted(log.read_text().splitlines()) == sorted(
        f"{float(design.x[i])!r} {float(design.y[i])!r}" for i in (2, 5))
    assert result.ok.all() and len(result) == 6
    assert sorted(read_journal(ckpt)) == list(range(6))


DRIVER = textwrap.dedent("""
    import sys
    import surrogate as sg
    from surrogate.testing import TOY_SPACE, expected_toy, toy_simulator
    design = sg.sample(TOY_SPACE, 40, seed=7)
    sim = toy_simulator(log=sys.argv[1], delay=float(sys.argv[4]))
    sim.run(design, checkpoint=sys.argv[2], executor=sys.argv[3], n_workers=2)
""")


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_resume_after_driver_killed(tmp_path, executor):
    log, ckpt = tmp_path / "calls.txt", tmp_path / "ckpt"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    # runs of 0.3 s: the kill lands long before the last of them, even on a loaded machine
    proc = subprocess.Popen([sys.executable, str(script), str(log), str(ckpt), executor, "0.3"],
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(read_journal(ckpt)) >= 10:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers die at once
    proc.wait()
    finished = read_journal(ckpt)
    assert 10 <= len(finished) < 40
    before = calls(log)
    design = sg.sample(TOY_SPACE, 40, seed=7)
    sim = toy_simulator(log=str(log), delay=0.0)
    result = sim.run(design, checkpoint=ckpt)
    assert result.ok.all() and len(result) == 40
    after = calls(log) - before.reindex(calls(log).index, fill_value=0)
    rerun = set(after[after > 0].index)
    done = {f"{float(design.x[i])!r} {float(design.y[i])!r}" for i in finished}
    assert not rerun & done  # no finished run was computed again
    assert len(rerun) == 40 - len(finished)
    np.testing.assert_allclose(result.Y["f"], design.x ** 2 + design.y)


def test_a_second_campaign_on_a_checkpoint_in_use_is_refused(tmp_path):
    # two drivers on one checkpoint ran 19 teacher calls for 10 points
    log, ckpt = tmp_path / "calls.txt", tmp_path / "ckpt"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    # runs of 0.5 s: the campaign is still going when the second one tries the checkpoint
    proc = subprocess.Popen([sys.executable, str(script), str(log), str(ckpt), "processes",
                             "0.5"], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(read_journal(ckpt)) < 2:
            time.sleep(0.05)
        with pytest.raises(ValueError, match="is in use by another run"):
            toy_simulator(log=str(log)).run(sg.sample(TOY_SPACE, 40, seed=7), checkpoint=ckpt)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # the lock went with the driver (its forked workers closed their copies at once)
    result = toy_simulator(log=str(log)).run(sg.sample(TOY_SPACE, 40, seed=7), checkpoint=ckpt)
    assert result.ok.all()


TERMINATED = textwrap.dedent("""
    import signal, sys, time
    import surrogate as sg
    from pathlib import Path
    if sys.argv[2] == "handler":
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))  # as batch jobs often do
    space = sg.Space([sg.Real("x", 0, 1)])
    def slow(x):
        with open(Path(sys.argv[1]).with_name("calls.txt"), "a") as calls:
            calls.write(f"{x}\\n")
        time.sleep(30 if x == 0.3 else 0.3)  # the signal lands in the third run, however late
        return x
    sg.Simulator(slow, space, ["y"]).run([[0.1], [0.2], [0.3], [0.4], [0.5], [0.6]],
                                         checkpoint=sys.argv[1], progress=False)
""")


def _terminated(tmp_path, script_text, how, ready):
    """Run ``script_text`` as a driver on checkpoint ``tmp_path / "ckpt"``, send it SIGTERM
    once ``ready()``; its exit status."""
    script = tmp_path / "driver.py"
    script.write_text(script_text)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "ckpt"), how])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ready():
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60)


@pytest.mark.parametrize("how", ["handler", "default"])
def test_a_run_ended_by_sigterm_runs_again_on_resumption(tmp_path, how):
    # a SIGTERM handler's SystemExit recorded the run in flight as failed, which a
    # resumption skips: the run was lost
    ckpt = tmp_path / "ckpt"
    calls_file = tmp_path / "calls.txt"

    def third_run_started():  # the signal then lands inside it, not between two runs
        started = calls_file.read_text().count("\n") if calls_file.exists() else 0
        return started >= 3 and len(read_journal(ckpt)) >= 2

    status = _terminated(tmp_path, TERMINATED, how, third_run_started)
    # the handler's exit status; the default action ends the process at once, as before
    assert status == (143 if how == "handler" else -signal.SIGTERM)
    journal = read_journal(ckpt)
    assert all(record.status == "ok" for record in journal.values())  # none recorded failed
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    space = sg.Space([sg.Real("x", 0, 1)])
    result = sg.Simulator(lambda x: x, space, ["y"], name="slow").run(
        [[0.1], [0.2], [0.3], [0.4], [0.5], [0.6]], checkpoint=ckpt, progress=False)
    assert result.ok.all() and len(calls) == len(journal) + 1  # the one in flight was cut


VECTORIZED_TERMINATED = textwrap.dedent("""
    import signal, sys, time
    import surrogate as sg
    from pathlib import Path
    if sys.argv[2] == "handler":
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    def batch(X):
        Path(sys.argv[1]).with_name("started").write_text("")
        time.sleep(30)
        return X[["x"]].to_numpy()
    space = sg.Space([sg.Real("x", 0, 1)])
    sg.Simulator(batch, space, ["y"], vectorized=True).run(
        [[0.1], [0.2], [0.3], [0.4]], checkpoint=sys.argv[1], progress=False)
""")


@pytest.mark.parametrize("how", ["handler", "default"])
def test_a_sigterm_ends_a_vectorized_batch_without_failing_its_runs(tmp_path, how):
    # the batch's halving took the SystemExit for failing rows: the job ran on, twice over
    ckpt = tmp_path / "ckpt"
    status = _terminated(tmp_path, VECTORIZED_TERMINATED, how,
                         lambda: (tmp_path / "started").exists())
    assert status == (143 if how == "handler" else -signal.SIGTERM)
    assert read_journal(ckpt) == {}  # nothing recorded: a resumption runs all four


def damage_meta_empty(ckpt):
    (ckpt / "meta.json").write_text("")
    return "meta.json", r"is damaged \(empty, cut short or edited\): not valid JSON"


def damage_meta_cut(ckpt):
    text = (ckpt / "meta.json").read_text()
    (ckpt / "meta.json").write_text(text[:len(text) // 2])
    return "meta.json", "not valid JSON"


def damage_meta_key(ckpt):
    meta = json.loads((ckpt / "meta.json").read_text())
    del meta["space"]
    (ckpt / "meta.json").write_text(json.dumps(meta))
    return "meta.json", r"lacks the key\(s\) \['space'\]"


def damage_design_deleted(ckpt):
    (ckpt / "design.parquet").unlink()
    return "design.parquet", "is missing"


def damage_design_garbage(ckpt):
    (ckpt / "design.parquet").write_bytes(b"PAR1 not really")
    return "design.parquet", "cannot be read as Parquet"


def damage_design_replaced(ckpt):
    sg.sample(TOY_SPACE, 6, seed=99).to_parquet(ckpt / "design.parquet")
    return "design.parquet", "does not match the fingerprint in meta.json"


@pytest.mark.parametrize("damage", [damage_meta_empty, damage_meta_cut, damage_meta_key,
                                    damage_design_deleted, damage_design_garbage,
                                    damage_design_replaced])
def test_damaged_checkpoint_is_one_clear_error(tmp_path, damage):
    ckpt = tmp_path / "ckpt"
    design = sg.sample(TOY_SPACE, 6, seed=0)
    sim = toy_simulator()
    sim.run(design, checkpoint=ckpt)
    (ckpt / "runs.parquet").unlink()  # as if the campaign never finished
    name, problem = damage(ckpt)
    file = re.escape(str(ckpt / name))
    with pytest.raises(ValueError, match=f"{file}.*{problem}"):
        sg.TransferSet.load(ckpt)
    with pytest.raises(ValueError, match=f"{file}.*{problem}"):
        sim.run(design, checkpoint=ckpt)


def test_damaged_journal_line_is_skipped(tmp_path):
    log, ckpt = tmp_path / "calls.txt", tmp_path / "ckpt"
    design = sg.sample(TOY_SPACE, 6, seed=0)
    sim = toy_simulator(log=str(log))
    sim.run(design, checkpoint=ckpt)
    (ckpt / "runs.parquet").unlink()
    journal = ckpt / JOURNAL
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"status"', b'"st\xffatus"')  # not UTF-8 any more
    journal.write_bytes(b"".join(lines))
    assert sorted(read_journal(ckpt)) == [0, 1, 3, 4, 5]
    assert len(sg.TransferSet.load(ckpt)) == 5  # the readable part is kept
    log.unlink()
    with pytest.warns(UserWarning, match="1 line\\(s\\) of journal.jsonl cannot be read"):
        result = sim.run(design, checkpoint=ckpt)
    assert log.read_text().splitlines() == [point_key(design, 2)]
    assert result.ok.all() and len(result) == 6
    with warnings.catch_warnings():  # told once: no later resumption tells of that line
        warnings.simplefilter("error")
        again = sim.run(design, checkpoint=ckpt)
    assert log.read_text().splitlines() == [point_key(design, 2)] and again.ok.all()
    # a damage after that is told of: here two lines, one of them claiming another run (its
    # row's digit changed), whose line comes after it and would have cancelled it
    lines = journal.read_bytes().splitlines(keepends=True)
    four = max(i for i, line in enumerate(lines) if line.startswith(b'{"row": 4,'))
    lines[four] = lines[four].replace(b'"ok"', b'"OK"')
    one = min(i for i, line in enumerate(lines) if line.startswith(b'{"row": 1,'))
    assert one < max(i for i, line in enumerate(lines) if line.startswith(b'{"row": 5,'))
    lines[one] = lines[one].replace(b'{"row": 1,', b'{"row": 5,')
    journal.write_bytes(b"".join(lines))
    with pytest.warns(UserWarning, match="2 line\\(s\\) of journal.jsonl cannot be read"):
        sim.run(design, checkpoint=ckpt)
    assert log.read_text().splitlines() == [point_key(design, i) for i in (2, 1, 4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sim.run(design, checkpoint=ckpt).ok.all()
    assert sorted(read_journal(ckpt)) == list(range(6))  # the marker line is no run


def test_checkpoint_path_that_is_a_file(tmp_path):
    file = tmp_path / "ckpt"
    file.write_text("not a directory")
    with pytest.raises(ValueError, match=f"checkpoint {re.escape(str(file))} is a file"):
        toy_simulator().run([[0.5, 0.5]], checkpoint=file)
    with pytest.raises(ValueError, match=f"{re.escape(str(file))} is a file"):
        sg.TransferSet.load(file)
    assert file.read_text() == "not a directory"


def test_a_checkpoint_of_changed_simulator_code_is_kept_with_a_warning(tmp_path):
    space = sg.Space([sg.Real("x", 0, 1)])
    design = sg.sample(space, 4, seed=0)
    sg.Simulator(lambda x: x, space, ["y"], name="model").run(design, checkpoint=tmp_path,
                                                              progress=False)
    fixed = sg.Simulator(lambda x: x + 1.0, space, ["y"], name="model")
    with pytest.warns(UserWarning, match="the code of simulator 'model' has changed"):
        runs = fixed.run(design, checkpoint=tmp_path, progress=False)
    np.testing.assert_array_equal(runs.Y["y"], design["x"])  # the finished runs are kept
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same code: no warning
        sg.Simulator(lambda x: x, space, ["y"], name="model").run(design, checkpoint=tmp_path,
                                                                  progress=False)


def test_an_empty_checkpoint_path_is_refused_not_taken_as_the_current_directory():
    with pytest.raises(TypeError, match="checkpoint must be a directory path"):
        toy_simulator().run(sg.sample(TOY_SPACE, 3, seed=0), checkpoint="", progress=False)


def test_saving_runs_over_a_campaigns_checkpoint_is_refused(tmp_path):
    # meta.json lost its design record: growing the design then put outputs on wrong inputs
    sim = toy_simulator("flaky")
    runs = sim.run(sg.sample(TOY_SPACE, 10, seed=0), checkpoint=tmp_path / "ck", progress=False)
    with pytest.raises(ValueError, match="holds a campaign's checkpoint"):
        runs.valid().save(tmp_path / "ck")
    runs.valid().save(tmp_path / "elsewhere")  # another directory is fine


def test_a_save_over_another_kind_of_save_or_a_checkpoint_is_refused(tmp_path):
    """A model saved into a checkpoint or a transfer set's directory replaced its meta.json:
    neither the runs nor the model loaded again, and the campaign no longer resumed."""
    from surrogate.discovery import PRIM
    from surrogate.models import GPRegressor

    sim = toy_simulator()
    runs = sim.run(sg.sample(TOY_SPACE, 12, seed=0), checkpoint=tmp_path / "ck", progress=False)
    gp = GPRegressor(seed=0).fit(runs.X, runs.Y)
    prim = PRIM().fit(runs.X, runs.Y.iloc[:, 0] > runs.Y.iloc[:, 0].median())
    runs.save(tmp_path / "runs")
    gp.save(tmp_path / "model")
    prim.save(tmp_path / "prim")
    for kind, target in (("a campaign's checkpoint", "ck"), ("a transfer set", "runs"),
                         ("a saved model", "model"), ("a saved discovery result", "prim")):
        before = (tmp_path / target / "meta.json").read_bytes()
        for saved in (runs, gp, prim):
            if (target, saved) in (("runs", runs), ("model", gp), ("prim", prim)):
                continue  # a save replaces an earlier one of its own kind
            with pytest.raises(ValueError, match=f"holds {kind}.*; saving .* there would replace"):
                saved.save(tmp_path / target)
        assert (tmp_path / target / "meta.json").read_bytes() == before
    assert sg.TransferSet.load(tmp_path / "runs").X.equals(runs.X)
    assert sg.load(tmp_path / "model").predict(runs.X) == pytest.approx(gp.predict(runs.X))
    gp.save(tmp_path / "model")  # its own kind: replaced
    prim.save(tmp_path / "prim")
    runs.save(tmp_path / "runs")
    again = sim.run(sg.sample(TOY_SPACE, 12, seed=0), checkpoint=tmp_path / "ck",
                    progress=False)  # the campaign still resumes
    assert again.X.equals(runs.X)


def test_a_creation_cut_short_after_the_journal_was_opened_is_started_again(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / JOURNAL).write_text("")  # the journal is opened (and locked) before meta.json
    result = toy_simulator().run(sg.sample(TOY_SPACE, 3, seed=0), checkpoint=ckpt)
    assert result.ok.all() and len(read_journal(ckpt)) == 3


_POOL = []


def _uses_a_forked_pool(x, y):
    import multiprocessing

    if not _POOL:  # a teacher's own helper processes, forked while the journal is locked
        _POOL.append(multiprocessing.get_context("fork").Pool(1))
    return {"f": _POOL[0].apply(abs, (x,)), "g": y}


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_teachers_forked_helpers_do_not_keep_the_checkpoint_locked(tmp_path):
    sim = sg.Simulator(_uses_a_forked_pool, TOY_SPACE, ["f", "g"], name="pooled")
    design = sg.sample(TOY_SPACE, 4, seed=0)
    try:
        sim.run(design.iloc[:2], checkpoint=tmp_path / "c", progress=False)
        grown = sim.run(design, checkpoint=tmp_path / "c", progress=False)  # was "in use"
    finally:
        for pool in _POOL:
            pool.terminate()
        _POOL.clear()
    assert grown.ok.all()


def test_a_file_system_without_locks_runs_unlocked_with_a_warning(tmp_path, monkeypatch):
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.warns(UserWarning, match="the file system does not lock files"):
        result = toy_simulator().run(sg.sample(TOY_SPACE, 3, seed=0), checkpoint=tmp_path / "c")
    assert result.ok.all()


def test_a_torn_last_line_is_dropped_not_left_to_look_damaged_later(tmp_path):
    design = sg.sample(TOY_SPACE, 4, seed=0)
    sim = toy_simulator()
    sim.run(design, checkpoint=tmp_path / "c")
    (tmp_path / "c" / "runs.parquet").unlink()
    journal = tmp_path / "c" / JOURNAL
    journal.write_bytes(journal.read_bytes()[:-10])  # the last record cut by a crash
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither resumption calls anything damaged
        for _ in range(2):
            assert sim.run(design, checkpoint=tmp_path / "c").ok.all()
            (tmp_path / "c" / "runs.parquet").unlink()
    assert journal.read_bytes().endswith(b"\n") and len(read_journal(tmp_path / "c")) == 4


def test_repeated_points_match_copy_by_copy_and_the_nearest_first():
    from surrogate.execute._checkpoint import match_rows

    space = sg.Space([sg.Integer("a", 0, 3), sg.Real("b", 0.0, 1.0)])
    points = pd.DataFrame({"a": [0, 1, 2], "b": [0.25, 0.5, 0.75]})
    stored = points.iloc[[0, 1, 0, 2, 0, 1]].reset_index(drop=True)
    design = points.iloc[[1, 0, 0, 2, 0, 0, 1, 1]].reset_index(drop=True)
    # the k-th copy in the design takes the k-th copy stored; a fourth 0 and third 1: none
    np.testing.assert_array_equal(match_rows(space, stored, design),
                                  [1, 0, 2, 3, 4, -1, 5, -1])
    near = stored.copy()
    near.loc[2, "b"] = 0.25 + 2e-13  # float noise: a copy, but after the exact ones
    near.loc[4, "b"] = 0.25 + 1e-9  # another point
    design = points.iloc[[0, 0, 0]].reset_index(drop=True)
    np.testing.assert_array_equal(match_rows(space, near, design), [0, 2, -1])


def test_a_checkpoint_of_a_space_of_switches_resumes_every_repeated_run(tmp_path):
    space = sg.Space([sg.Categorical(f"c{i}", ["x", "y", "z"]) for i in range(2)])
    design = sg.sample(space, 200, method="random", seed=0)  # 9 points, each about 22 times
    calls = []

    def teacher(**p):
        calls.append(p)
        return float(p["c0"] == "x")

    sim = sg.Simulator(teacher, space, ["y"])
    first = sim.run(design, checkpoint=tmp_path / "runs", progress=False)
    again = sim.run(design, checkpoint=tmp_path / "runs", progress=False)
    assert len(calls) == 200
    pd.testing.assert_frame_equal(again.Y, first.Y)


@pytest.mark.parametrize("content, kept", [
    (b"first line\nsecond line\na torn line longer than a block", b"first line\nsecond line\n"),
    (b"first line\nsecond line\n", b"first line\nsecond line\n"),
    (b"no newline at all, longer than a block", b""),
    (b"", b""),
])
def test_a_torn_line_is_found_from_the_end_block_by_block(tmp_path, monkeypatch, content, kept):
    from surrogate.execute import _checkpoint

    monkeypatch.setattr(_checkpoint, "_TAIL_BLOCK", 7)
    path = tmp_path / "journal"
    path.write_bytes(content)
    with open(path, "a+b") as handle:
        _checkpoint._drop_torn_line(handle)
        assert handle.tell() == len(kept)
    assert path.read_bytes() == kept


def test_a_campaign_keeps_its_checkpoint_locked_until_its_last_file_is_written(tmp_path):
    # the first campaign is slow to write runs.parquet; one started meanwhile on a larger
    # design must be refused, not let in to have its runs overwritten by the first's files
    first = textwrap.dedent(f"""
        import sys
        import surrogate as sg
        import surrogate.execute._checkpoint as checkpoint
        from surrogate.testing import TOY_SPACE, toy_simulator
        write_runs = checkpoint.write_runs
        def slow(path, runs):
            print("writing", flush=True)
            sys.stdin.readline()  # until the test has tried the checkpoint
            write_runs(path, runs)
        checkpoint.write_runs = slow
        toy_simulator().run(sg.sample(TOY_SPACE, 5, seed=0), checkpoint={str(tmp_path)!r})
        print("done", flush=True)
    """)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-c", first], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout.readline().strip() == "writing"
        larger = pd.concat([sg.sample(TOY_SPACE, 5, seed=0), sg.sample(TOY_SPACE, 5, seed=1)],
                           ignore_index=True)
        with pytest.raises(ValueError, match="is in use by another run"):
            toy_simulator().run(larger, checkpoint=tmp_path)
    finally:
        out, _ = process.communicate("go\n", timeout=60)
    assert "done" in out
    again = toy_simulator().run(larger, checkpoint=tmp_path)  # now it runs: 5 new points
    np.testing.assert_allclose(again.Y.to_numpy(), expected_toy(larger), rtol=1e-12)
