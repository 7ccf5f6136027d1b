import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.execute import _process
from surrogate.testing import TOY_SPACE, check_executor, toy_simulator


def test_serial_matches_reference():
    check_executor(sg.SerialExecutor())
    check_executor("serial")


def test_processes_match_serial():
    check_executor("processes")
    with sg.ProcessExecutor(2, chunksize=3) as pool:
        check_executor(pool)
        assert pool.n_workers == 2


def test_spawn_start_method():
    with sg.ProcessExecutor(2, start_method="spawn") as pool:
        check_executor(pool, n=12)


def test_vectorized_batch_failures_are_isolated():
    design = sg.sample(TOY_SPACE, 50, seed=2)
    ts = toy_simulator("flaky", vectorized=True).run(design)
    failed = design["x"].to_numpy() > 0.8
    assert (ts.status.to_numpy() == np.where(failed, "failed", "ok")).all()
    assert ts.error[failed].str.contains("x > 0.8").all()
    ts = toy_simulator("nan", vectorized=True).run(design, executor="processes", n_workers=2)
    assert (~ts.ok == (design["x"].to_numpy() < 0.1)).all()


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_timeouts_are_recorded(executor):
    design = pd.DataFrame({"x": [0.2, 0.95, 0.3, 0.99], "y": [0.0, 0.0, 0.5, 0.5]})
    workers = 2 if executor == "processes" else None
    ts = toy_simulator("sleepy").run(design, executor=executor, n_workers=workers, timeout=0.5)
    assert ts.status.tolist() == ["ok", "timeout", "ok", "timeout"]
    assert "timeout of 0.5 s" in ts.error.iloc[1]
    assert (ts.seconds.iloc[[1, 3]] < 5).all()


def _swallows_its_interruption(x):
    """Legacy code that catches everything: the timeout's interruption too."""
    try:
        time.sleep(2.0 if x > 0.5 else 0.0)
    except BaseException:  # noqa: BLE001 - what the test is about
        return -1.0
    return x


def _turns_its_interruption_into_an_error(x):
    try:
        time.sleep(2.0 if x > 0.5 else 0.0)
    except BaseException:  # noqa: BLE001 - what the test is about
        raise RuntimeError("solver interrupted") from None
    return x


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="interval timers are POSIX")
@pytest.mark.parametrize("executor", ["serial", "processes"])
@pytest.mark.parametrize("teacher", [_swallows_its_interruption,
                                     _turns_its_interruption_into_an_error])
def test_a_run_that_catches_its_timeout_is_still_timed_out(executor, teacher):
    # it returned -1.0 after the limit, which was recorded as its ok output
    sim = sg.Simulator(teacher, sg.Space([sg.Real("x", 0, 1)]), ["y"], name="catches")
    workers = {"n_workers": 1} if executor == "processes" else {}
    runs = sim.run(pd.DataFrame({"x": [0.2, 0.9, 0.3]}), executor=executor, timeout=0.3,
                   progress=False, **workers)
    assert runs.status.tolist() == ["ok", "timeout", "ok"], runs.error.tolist()
    np.testing.assert_allclose(runs.Y["y"][runs.ok], [0.2, 0.3])


_INNER = sg.Simulator(_swallows_its_interruption, sg.Space([sg.Real("x", 0, 1)]), ["z"],
                      name="inner")


def _runs_a_campaign_of_its_own(x):
    inner = _INNER.run(pd.DataFrame({"x": [0.1, 0.9]}), timeout=0.1, progress=False)
    assert inner.status.tolist() == ["ok", "timeout"]
    return x


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="interval timers are POSIX")
def test_an_inner_campaigns_timeout_is_not_its_outer_runs():
    # the inner run's alarm marked the outer run, which ended well in time, as timed out
    outer = sg.Simulator(_runs_a_campaign_of_its_own, sg.Space([sg.Real("x", 0, 1)]), ["y"],
                         name="outer")
    runs = outer.run(pd.DataFrame({"x": [0.2]}), timeout=30.0, progress=False)
    assert runs.status.tolist() == ["ok"], runs.error.tolist()


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="interval timers are POSIX")
def test_a_serial_campaign_with_a_timeout_keeps_the_callers_own_timer():
    # the runs' timers cancelled the caller's (pytest-timeout's: a hang after such a campaign
    # was no longer stopped); it is set again, less the campaign's time, or fired at once
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(time.monotonic()))
    design = pd.DataFrame({"x": [0.2, 0.3, 0.4], "y": [0.0, 0.0, 0.0]})
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        toy_simulator("ok").run(design, timeout=5.0)
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 20.0 < left <= 30.0 and not fired
        signal.setitimer(signal.ITIMER_REAL, 0.05)  # due while the runs go on
        toy_simulator("ok", delay=0.05).run(design, timeout=5.0)  # 0.15 s of runs
        ended = time.monotonic()
        deadline = ended + 5
        while not fired and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fired and fired[0] - ended < 1.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_fresh_workers_start_up_is_no_runs_time(tmp_path, monkeypatch):
    # the driver started the chunk's clock when it sent it: a spawned worker importing a
    # module that takes 1.5 s was killed as hung, and its quick runs recorded as timeouts
    (tmp_path / "heavy_teacher.py").write_text(
        "import time\ntime.sleep(1.5)\n\ndef double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from heavy_teacher import double

    sim = sg.Simulator(double, sg.Space([sg.Real("x", 0, 1)]), ["y"], name="double")
    with sg.ProcessExecutor(1, start_method="spawn") as pool:
        runs = sim.run(pd.DataFrame({"x": [0.1, 0.2]}), executor=pool, timeout=0.2,
                       progress=False)
    assert runs.status.tolist() == ["ok", "ok"], runs.error.tolist()


def test_worker_killed_costs_only_its_run(tmp_path):
    log = tmp_path / "calls.txt"
    design = sg.sample(TOY_SPACE, 60, seed=5)
    killers = ((design["x"] > 0.45) & (design["x"] < 0.5)).to_numpy()
    assert killers.sum() >= 1
    # runs of 5 ms are reported as soon as they finish, so a dying worker loses none of them
    sim = toy_simulator("killer", log=str(log), delay=0.005)
    with sg.ProcessExecutor(2, chunksize=7) as pool:
        ts = sim.run(design, executor=pool, retries=1)
    assert (ts.status.to_numpy() == np.where(killers, "failed", "ok")).all()
    assert ts.error[killers].str.contains("killed by SIGKILL").all()
    # each killer run was tried twice (retries=1), every other run exactly once
    calls = pd.Series(log.read_text().split("\n")[:-1]).value_counts()
    assert len(calls) == 60
    assert calls.sum() == 60 + killers.sum()


def test_retries_count(tmp_path):
    log = tmp_path / "calls.txt"
    design = pd.DataFrame({"x": [0.1, 0.9], "y": [0.0, 0.0]})
    ts = toy_simulator("flaky", log=str(log)).run(design, retries=2)
    assert ts.status.tolist() == ["ok", "failed"]
    assert len(log.read_text().splitlines()) == 1 + 3


def test_bad_options():
    sim = toy_simulator()
    design = sg.sample(TOY_SPACE, 3, seed=0)
    with pytest.raises(ValueError, match="executor must be one of"):
        sim.run(design, executor="threads")
    with pytest.raises(ValueError, match="needs address="):
        sim.run(design, executor="dask")
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        sim.run(design, timeout=0)
    for endless in (float("inf"), 1e12):  # every run failed: the alarm clock overflowed
        with pytest.raises(ValueError, match=r"up to .* \(a year\), or None for none"):
            sim.run(design, timeout=endless)
    with pytest.raises(ValueError, match="retries must be an int >= 0"):
        sim.run(design, retries=-1)
    for bad in (np.bool_(True), np.float64("nan"), "5"):
        with pytest.raises(ValueError, match="timeout must be a positive number"):
            sim.run(design, timeout=bad)
    for numpy_number in (np.int64(5), np.float32(5.0)):  # were refused as not numbers
        assert sim.run(design, timeout=numpy_number, retries=np.int64(1)).ok.all()
    with pytest.raises(ValueError, match="n_workers must be a positive int"):
        sg.ProcessExecutor(0)
    with pytest.raises(ValueError, match="chunksize must be a positive int"):
        sg.ProcessExecutor(1, chunksize=2.0)
    with sg.ProcessExecutor(np.int64(2), chunksize=np.int64(3)) as pool:  # as run() takes them
        assert pool.n_workers == 2 and type(pool.n_workers) is int


def test_progress_bar(capsys):
    design = sg.sample(TOY_SPACE, 5, seed=0)
    toy_simulator().run(design, progress=False)
    assert capsys.readouterr().err == ""
    toy_simulator().run(design, progress=True)
    assert "5/5" in capsys.readouterr().err


ORPHAN_DRIVER = textwrap.dedent("""
    import os
    import sys
    import time
    import surrogate as sg
    from surrogate.testing import TOY_SPACE

    def teacher(x, y):
        # one line per call naming the worker: the test finds the workers by these pids
        fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{os.getpid()}\\n".encode())
        os.close(fd)
        BUSY
        return x * x + y

    sim = sg.Simulator(teacher, TOY_SPACE, "f")
    with sg.ProcessExecutor(2, start_method="fork", chunksize=50) as pool:
        sim.run(sg.sample(TOY_SPACE, 400, seed=0), executor=pool)
""")


def _alive(pid):
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _kill_left(pids):
    """SIGKILL what a failed test left running of ``pids``."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _exited(pids, seconds=5.0):
    """Wait until none of ``pids`` runs, at most ``seconds``; whether none does."""
    deadline = time.monotonic() + seconds
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


@pytest.mark.parametrize("busy", [
    "time.sleep(0.05)",
    # C code that holds the GIL for hours (a regular expression backtracking, as a compiled
    # solver may): the worker's own watcher thread never ran, and the worker ran on
    pytest.param('import re; re.match(r"(a+)+$", "a" * 40 + "b")',
                 marks=pytest.mark.skipif(os.name != "posix", reason="the watchdog is POSIX")),
], ids=["python", "holding-the-gil"])
def test_workers_exit_when_the_driver_is_killed(tmp_path, busy):
    pytest.importorskip("psutil")
    log, script = tmp_path / "calls.txt", tmp_path / "driver.py"
    script.write_text(ORPHAN_DRIVER.replace("BUSY", busy))
    driver = subprocess.Popen([sys.executable, str(script), str(log)], start_new_session=True)

    def workers():
        return set(log.read_text().split()) if log.exists() else set()

    pids = []
    try:
        deadline = time.monotonic() + 60
        while len(workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = [int(p) for p in workers()]
        assert len(pids) == 2
        os.kill(driver.pid, signal.SIGKILL)  # the driver alone: no cleanup runs
        driver.wait()
        _exited(pids)
        assert not [p for p in pids if _alive(p)]
        calls = len(log.read_text().split())
        time.sleep(0.3)
        assert len(log.read_text().split()) == calls < 400  # no run after the workers exited
    finally:
        # whatever a failure left behind: the driver's group, and the workers, which lead
        # groups of their own (spinning in C code they would load the machine for hours)
        for pid, kill in [(driver.pid, os.killpg), *((p, os.kill) for p in pids if _alive(p))]:
            try:
                kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.skipif(os.name != "posix", reason="the watchdog is POSIX")
def test_the_watchdog_kills_the_workers_of_a_driver_dead_before_it_started():
    # the driver was SIGKILLed while the watchdog's interpreter was still starting: the pids it
    # had written were never read, and the workers ran on
    pytest.importorskip("psutil")
    from surrogate.execute._process import _WATCHDOG

    victim = subprocess.Popen(["sleep", "30"], start_new_session=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that is nobody's parent: the driver is already gone
    read_end, write_end = os.pipe()  # the write end stays open, as in a forked worker
    os.write(write_end, f"{victim.pid}\n".encode())
    try:
        watchdog = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(gone.pid), "0.05"],
            stdin=read_end)
        watchdog.wait(10)
        assert _exited([victim.pid])
    finally:
        victim.kill()
        os.close(read_end)
        os.close(write_end)


ANNOUNCING_DRIVER = textwrap.dedent("""
    import os, subprocess, sys, time
    from surrogate.execute._process import _WATCHDOG
    watchdog = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(os.getpid()), "0.05"],
        stdin=subprocess.PIPE)
    worker = os.fork()  # forked after the watchdog, as a replacement worker is: it holds the
    if worker == 0:     # pipe's write end, so the driver's death is no end-of-file there
        time.sleep(60)
        os._exit(0)
    time.sleep(1.0)  # the watchdog now waits on its pipe
    watchdog.stdin.write(f"{sys.argv[1]}\\n{worker}\\n".encode())  # two lines, one write
    watchdog.stdin.flush()
    print(watchdog.pid, worker, flush=True)
    time.sleep(60)
""")


@pytest.mark.skipif(os.name != "posix", reason="the watchdog is POSIX")
def test_the_watchdog_reads_every_line_of_one_write(tmp_path):
    # a buffered readline returned the first line and the select on the pipe then saw nothing
    # more: the watchdog kept the stale pids and, the driver gone, left the worker running
    pytest.importorskip("psutil")
    stale = subprocess.Popen([sys.executable, "-c", "pass"])
    stale.wait()
    script = tmp_path / "driver.py"
    script.write_text(ANNOUNCING_DRIVER)
    driver = subprocess.Popen([sys.executable, str(script), str(stale.pid)],
                              stdout=subprocess.PIPE, text=True)
    pids = []
    try:
        pids = [int(p) for p in driver.stdout.readline().split()]
        time.sleep(0.3)  # both lines reach the watchdog
        driver.kill()
        driver.wait()
        _exited(pids[1:])
        assert not _alive(pids[1])
    finally:
        driver.kill()
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


EXTERNAL_DRIVER = textwrap.dedent("""
    import os
    import subprocess
    import sys
    import surrogate as sg
    from surrogate.testing import TOY_SPACE

    def teacher(x, y):
        # an external program, as slow simulators are; its pid goes to the log
        child = subprocess.Popen(["sleep", "30"])
        fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{child.pid}\\n".encode())
        os.close(fd)
        child.wait()
        return x + y

    sim = sg.Simulator(teacher, TOY_SPACE, "f")
    sim.run(sg.sample(TOY_SPACE, 4, seed=0), executor="processes", n_workers=2)
""")


@pytest.mark.skipif(shutil.which("sleep") is None or not hasattr(os, "killpg"),
                    reason="needs POSIX process groups and sleep(1)")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_driver_ends_the_external_programs_its_runs_started(tmp_path, sig):
    pytest.importorskip("psutil")
    log, script = tmp_path / "children.txt", tmp_path / "driver.py"
    script.write_text(EXTERNAL_DRIVER)
    driver = subprocess.Popen([sys.executable, str(script), str(log)], start_new_session=True)

    children: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(children) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            children = [int(p) for p in log.read_text().split()] if log.exists() else []
        assert len(children) == 2
        os.kill(driver.pid, sig)
        driver.wait()
        _exited(children)
        assert not [p for p in children if _alive(p)]  # they ran on, reparented, for 30 s
    finally:
        _kill_left(children)


LINE = sg.Space([sg.Integer("i", 0, 99)])


def _batch_of_slow_runs(X):
    time.sleep(0.2 * len(X))  # 0.2 s per run, under a 0.3 s per-run timeout
    return pd.DataFrame({"y": X["i"] * 10.0})


def _batch_that_kills_its_worker_at_5(X):
    if (X["i"] == 5).any():
        os.kill(os.getpid(), signal.SIGKILL)  # a crash in C code on one point
    return pd.DataFrame({"y": X["i"] * 10.0})


def test_a_vectorized_chunk_gets_its_runs_timeouts_and_only_the_crashing_run_fails():
    design = pd.DataFrame({"i": range(8)})
    slow = sg.Simulator(_batch_of_slow_runs, LINE, ["y"], vectorized=True, name="slow")
    with sg.ProcessExecutor(1, chunksize=8) as pool:  # the batch takes 1.6 s, 8 x 0.2 s
        runs = slow.run(design, executor=pool, timeout=0.3, progress=False)
    assert (runs.status == "ok").all()  # it was killed after 1.5 timeouts + 1 s, as one run
    crash = sg.Simulator(_batch_that_kills_its_worker_at_5, LINE, ["y"], vectorized=True,
                         name="crash")
    with sg.ProcessExecutor(1, chunksize=8) as pool:
        runs = crash.run(design, executor=pool, progress=False)
    assert runs.status.tolist() == ["ok"] * 5 + ["failed"] + ["ok"] * 2  # rows 0-5 failed
    assert "worker process died" in runs.error[5]
    np.testing.assert_allclose(runs.Y["y"][runs.ok], design.i[runs.ok] * 10.0)


def _batch_that_hangs_in_c_code_past_half(X):
    if (X["x"] > 0.5).any():
        sum(range(10**11))  # holds the GIL: no alarm stops it, only killing the worker
    return pd.DataFrame({"y": X["x"] * 10.0})


def test_a_vectorized_chunk_killed_for_its_time_is_retried_run_by_run(monkeypatch):
    # every run of the chunk was recorded as timed out, the quick one too. The driver's limit
    # is raised: a fresh worker (a fork of this large process) on a loaded machine must not
    # be killed as a hang before its quick run ends
    monkeypatch.setattr(_process, "_hard_limit", lambda timeout: timeout + 2.0)
    sim = sg.Simulator(_batch_that_hangs_in_c_code_past_half, sg.Space([sg.Real("x", 0, 1)]),
                       ["y"], vectorized=True, name="hang_c")
    with sg.ProcessExecutor(1, chunksize=2) as pool:
        runs = sim.run(pd.DataFrame({"x": [0.1, 0.9]}), executor=pool, timeout=0.3,
                       progress=False)
    assert runs.status.tolist() == ["ok", "timeout"]
    assert runs.Y["y"][0] == pytest.approx(1.0)


def _batch_that_hangs_at_3(X):
    if (X["i"] == 3).any():
        time.sleep(30)
    return pd.DataFrame({"y": X["i"] * 10.0})


def _slow_calls_hanging_at_6(X):
    time.sleep(0.1)  # each call, however many rows
    if (X["i"] == 6).any():
        time.sleep(30)
    return pd.DataFrame({"y": X["i"] * 10.0})


def test_retrying_the_runs_of_a_timed_out_batch_one_by_one_is_not_killed_as_a_hang(
        monkeypatch):
    """The driver measured the batch's limit from the chunk's start: the one-by-one retries
    after the batch timed out ran past it, and the worker was killed with 4 innocent runs
    marked timed out (serial: only the hanging one). The statuses alone do not show it (the
    killed chunk's runs are requeued one by one): no worker may be replaced. The driver's
    limit is the batch's plus 0.8 s, which the 13 retries of 0.1 s (5.4 s from the chunk's
    start) pass unless each retry's start is reported."""
    monkeypatch.setattr(_process, "_hard_limit", lambda timeout: timeout + 0.8)
    replaced = []
    replace = _process.ProcessExecutor._replace

    def spy(self, worker, *args, **kwargs):
        replaced.append(worker)
        return replace(self, worker, *args, **kwargs)

    monkeypatch.setattr(_process.ProcessExecutor, "_replace", spy)
    sim = sg.Simulator(_slow_calls_hanging_at_6, LINE, ["y"], vectorized=True, name="slow6")
    design = pd.DataFrame({"i": range(13)})
    with sg.ProcessExecutor(1, chunksize=13) as pool:
        runs = sim.run(design, executor=pool, timeout=0.3, progress=False)
    assert runs.status.tolist() == ["ok"] * 6 + ["timeout"] + ["ok"] * 6
    assert runs.error[6] == "run exceeded the timeout of 0.3 s"
    assert replaced == []


def test_one_hanging_run_of_a_serial_vectorized_batch_times_out_alone():
    # the serial executor sends every pending run as one batch; its timeout took them all
    sim = sg.Simulator(_batch_that_hangs_at_3, LINE, ["y"], vectorized=True, name="hangs")
    runs = sim.run(pd.DataFrame({"i": range(6)}), timeout=0.2, progress=False)
    assert runs.status.tolist() == ["ok"] * 3 + ["timeout"] + ["ok"] * 2
    assert runs.Y["y"][runs.ok].tolist() == [0.0, 10.0, 20.0, 40.0, 50.0]


def _gives_up_at_2(i):
    if i == 2:
        sys.exit("legacy code gave up")
    return float(i)


def test_sys_exit_in_a_run_is_a_recorded_failure(tmp_path):
    # on worker processes its message was lost; serially it ended the campaign, and every
    # resumption ran into it again
    sim = sg.Simulator(_gives_up_at_2, LINE, ["y"], name="legacy")
    design = pd.DataFrame({"i": range(5)})
    runs = sim.run(design, executor="processes", progress=False)
    assert runs.status.tolist() == ["ok", "ok", "failed", "ok", "ok"]
    assert runs.error[2] == "SystemExit: legacy code gave up"
    # in this process too (it stopped the campaign; a SIGTERM handler's SystemExit, which
    # does, is told apart: tests/execute/test_checkpoint.py)
    runs = sim.run(design, checkpoint=tmp_path / "ck", progress=False)
    assert runs.status.tolist() == ["ok", "ok", "failed", "ok", "ok"]
    assert runs.error[2] == "SystemExit: legacy code gave up"


def test_executor_options_that_do_not_apply_are_warned_of_and_bad_workers_refused():
    sim = toy_simulator("ok")
    design = sg.sample(TOY_SPACE, 3, seed=0)
    with pytest.warns(UserWarning, match=r"^n_workers is not used by executor='serial'$"):
        sim.run(design, n_workers=2, progress=False)
    with pytest.warns(UserWarning, match="address is not used by executor='processes'"):
        sim.run(design, executor="processes", address="tcp://127.0.0.1:1", progress=False)
    with pytest.raises(ValueError, match="n_workers must be a positive int"):
        sim.run(design, executor="processes", n_workers=0)


def test_a_simulator_spawned_workers_cannot_receive_is_one_clear_error():
    sim = sg.Simulator(lambda x, y: x + y, TOY_SPACE, ["f"], name="lam")
    with sg.ProcessExecutor(1, start_method="spawn") as pool:
        with pytest.raises(ValueError, match="simulator 'lam' cannot be sent to worker "
                                             "processes .*pickle"):
            sim.run(sg.sample(TOY_SPACE, 3, seed=0), executor=pool, progress=False)


def _outputs_as_rows(X):
    """A vectorized teacher that returns its two outputs as rows: shape (2, n), transposed."""
    return np.vstack([X["x"].to_numpy(), X["y"].to_numpy()])


def test_a_transposed_vectorized_result_fails_in_chunks_as_in_one_batch():
    """Chunks of 2 runs for 2 outputs are square: their transposed results passed every shape
    check and the process executor stored outputs and runs swapped."""
    space = sg.Space([sg.Real("x", 0, 1), sg.Real("y", 0, 1)])
    sim = sg.Simulator(_outputs_as_rows, space, ["a", "b"], vectorized=True)
    X = sg.sample(space, 32, seed=0)
    for executor in ("serial", "processes"):
        runs = sim.run(X, executor=executor, n_workers=2, progress=False)
        assert (runs.status == "failed").all(), executor
        assert "looks transposed" in runs.error.iloc[0]


def test_chunks_avoid_square_sizes():
    from surrogate.execute._base import chunked

    sizes = [len(c) for c in chunked(list(range(32)), 2, frozenset({2}))]
    assert sum(sizes) == 32 and 2 not in sizes
    sizes = [len(c) for c in chunked(list(range(10)), 4, frozenset({4, 2}))]
    assert sum(sizes) == 10 and not {2, 4} & set(sizes)
    assert [len(c) for c in chunked(list(range(7)), 3)] == [3, 3, 1]


def test_the_watchdog_forgets_workers_that_are_gone_and_is_optional(monkeypatch):
    """After a campaign stopped early, the watchdog kept the killed workers' pids, and would
    have SIGKILLed whatever process reused them once the driver died; without an interpreter
    to start it (sys.executable None, embedded Python) the executor failed."""
    from surrogate.execute import _process

    announced = []
    real = _process._Watchdog.announce

    def spy(self, pids):
        announced.append(list(pids))
        real(self, pids)

    monkeypatch.setattr(_process._Watchdog, "announce", spy)
    sim = sg.Simulator(_slow_double, sg.Space([sg.Real("x", 0.0, 1.0)]), ["y"], name="slow")
    with sg.ProcessExecutor(1) as pool:
        runs = pool.evaluate(sim, sim.space.validate([[0.1], [0.2], [0.3]]))
        next(runs)
        runs.close()  # stopped early: the workers are killed
        assert announced[0] and announced[-1] == []
    monkeypatch.setattr(sys, "executable", None)
    with sg.ProcessExecutor(1) as pool:
        assert sim.run([[0.5]], executor=pool, progress=False).Y["y"].tolist() == [1.0]
        assert pool._watchdog.process is None


def _slow_double(x):
    time.sleep(0.05)
    return 2 * x


def test_a_step_of_the_wall_clock_times_no_run_out(monkeypatch):
    import threading

    def slow(x, y):
        time.sleep(1.5)
        return {"f": x, "g": y}

    sim = sg.Simulator(slow, TOY_SPACE, ["f", "g"], name="slow")
    real = time.time

    def step():  # the driver's wall clock jumps two minutes ahead while the runs are going
        time.sleep(0.7)
        monkeypatch.setattr(time, "time", lambda: real() + 120.0)

    stepper = threading.Thread(target=step, daemon=True)
    stepper.start()
    with sg.ProcessExecutor(2) as executor:
        runs = sim.run(sg.sample(TOY_SPACE, 2, seed=0), executor=executor, timeout=10,
                       progress=False)
    stepper.join()  # its patch is undone with the test's, not left for the next test
    assert runs.status.tolist() == ["ok", "ok"]


def _teacher_starting_a_program(x, y, wait=True):
    """Starts an external program and waits for it (past any short timeout) or leaves it
    running; its pid is logged."""
    child = subprocess.Popen(["sleep", "30"])
    fd = os.open(os.environ["SURROGATE_TEST_CHILD_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, f"{child.pid}\n".encode())
    os.close(fd)
    if wait:
        child.wait()
    return x + y


def _teacher_leaving_a_program(x, y):
    return _teacher_starting_a_program(x, y, wait=False)


_HELPER = []  # a co-process started once per worker and reused by its later runs


def _teacher_with_a_helper(x):
    if not _HELPER:
        _HELPER.append(subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    if x > 0.5:
        time.sleep(2.0)  # past the timeout
    _HELPER[0].stdin.write(f"{x!r}\n".encode())
    _HELPER[0].stdin.flush()
    return float(_HELPER[0].stdout.readline())


@pytest.mark.skipif(shutil.which("cat") is None or not sys.platform.startswith("linux"),
                    reason="needs Linux and cat(1)")
def test_a_timeout_leaves_alone_the_helper_an_earlier_run_started():
    # every member of the worker's group was killed: the later runs failed on a broken pipe
    sim = sg.Simulator(_teacher_with_a_helper, sg.Space([sg.Real("x", 0, 1)]), ["y"],
                       name="helper")
    with sg.ProcessExecutor(1, chunksize=4) as pool:
        runs = sim.run(pd.DataFrame({"x": [0.1, 0.9, 0.2, 0.3]}), executor=pool, timeout=0.5,
                       progress=False)
    assert runs.status.tolist() == ["ok", "timeout", "ok", "ok"], runs.error.tolist()
    np.testing.assert_allclose(runs.Y["y"][runs.ok], [0.1, 0.2, 0.3])


@pytest.mark.skipif(shutil.which("sleep") is None or not sys.platform.startswith("linux"),
                    reason="needs Linux process groups and sleep(1)")
def test_a_timed_out_run_or_a_closed_pool_ends_the_programs_runs_started(tmp_path, monkeypatch):
    pytest.importorskip("psutil")
    log = tmp_path / "children.txt"
    monkeypatch.setenv("SURROGATE_TEST_CHILD_LOG", str(log))
    sim = sg.Simulator(_teacher_starting_a_program, TOY_SPACE, "f", name="external")
    children: list[int] = []
    try:
        with sg.ProcessExecutor(1) as pool:
            runs = sim.run(sg.sample(TOY_SPACE, 2, seed=0), executor=pool, timeout=0.5,
                           progress=False)
            assert runs.status.tolist() == ["timeout", "timeout"]
            children = [int(p) for p in log.read_text().split()]
            assert len(children) == 2
            # each ended when its run timed out, while the worker went on (not at close)
            assert _exited(children, 2.0), "a timed-out run's program ran on in the pool"
        log.unlink()
        leaving = sg.Simulator(_teacher_leaving_a_program, TOY_SPACE, "f", name="leaving")
        with sg.ProcessExecutor(1) as pool:
            assert (leaving.run(sg.sample(TOY_SPACE, 2, seed=0), executor=pool,
                                progress=False).status == "ok").all()
            children = [int(p) for p in log.read_text().split()]
        assert _exited(children, 2.0), "a program a run left behind outlived the closed pool"
    finally:
        _kill_left(children)


def _draws_from_numpys_global_generator(a):
    """A stochastic teacher as many are written: np.random's global state."""
    return a + np.random.standard_normal()  # noqa: NPY002 - what the test is about


def test_forked_workers_do_not_share_numpys_global_random_state():
    sim = sg.Simulator(_draws_from_numpys_global_generator, sg.Space([sg.Real("a", 0, 1)]), ["y"])
    X = pd.DataFrame({"a": np.zeros(8)})  # replicates of one point: independent draws
    with sg.ProcessExecutor(2, start_method="fork", chunksize=1) as pool:
        first = sim.run(X, executor=pool, progress=False).Y["y"].to_numpy()
    with sg.ProcessExecutor(2, start_method="fork", chunksize=1) as pool:
        second = sim.run(X, executor=pool, progress=False).Y["y"].to_numpy()
    assert len(np.unique(first)) == 8  # forked workers once repeated each other's draws
    assert not np.intersect1d(first, second).size  # and a new pool repeated the last one's
