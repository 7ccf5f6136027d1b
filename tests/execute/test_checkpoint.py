import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.execute._checkpoint import JOURNAL, read_journal
from surrogate.testing import TOY_SPACE, toy_simulator


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


def test_refuses_other_design_or_space(tmp_path):
    ckpt = tmp_path / "ckpt"
    sim = toy_simulator()
    sim.run(sg.sample(TOY_SPACE, 5, seed=0), checkpoint=ckpt)
    with pytest.raises(ValueError, match="belongs to a different design"):
        sim.run(sg.sample(TOY_SPACE, 5, seed=1), checkpoint=ckpt)
    other = sg.Simulator(lambda x: x, sg.Space([sg.Real("x", 0, 2)]), "f")
    with pytest.raises(ValueError, match="belongs to a different space"):
        other.run([[0.5]], checkpoint=ckpt)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty and holds no checkpoint"):
        sim.run([[0.5, 0.5]], checkpoint=tmp_path / "junk")


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
    result = sim.run(design, checkpoint=ckpt)
    assert sorted(log.read_text().splitlines()) == sorted(
        f"{float(design.x[i])!r} {float(design.y[i])!r}" for i in (2, 5))
    assert result.ok.all() and len(result) == 6
    assert sorted(read_journal(ckpt)) == list(range(6))


DRIVER = textwrap.dedent("""
    import sys
    import surrogate as sg
    from surrogate.testing import TOY_SPACE, toy_simulator
    design = sg.sample(TOY_SPACE, 40, seed=7)
    sim = toy_simulator(log=sys.argv[1], delay=0.1)
    sim.run(design, checkpoint=sys.argv[2], executor=sys.argv[3], n_workers=2)
""")


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_resume_after_driver_killed(tmp_path, executor):
    log, ckpt = tmp_path / "calls.txt", tmp_path / "ckpt"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    proc = subprocess.Popen([sys.executable, str(script), str(log), str(ckpt), executor],
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
