"""The Dask path on a real cluster: a LocalCluster of worker processes on 127.0.0.1."""

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.testing import TOY_SPACE, check_executor, expected_toy, toy_simulator

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.dask


def local_cluster():
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                    host="127.0.0.1", dashboard_address=None)


@pytest.fixture(scope="module")
def cluster():
    with local_cluster() as cluster:
        yield cluster


def test_dask_matches_serial(cluster):
    with distributed.Client(cluster) as client:
        check_executor(sg.DaskExecutor(client))
        assert sg.DaskExecutor(client).n_workers == 2


def test_dask_by_address(cluster):
    design = sg.sample(TOY_SPACE, 30, seed=3)
    ts = toy_simulator("flaky", vectorized=True).run(
        design, executor="dask", address=cluster.scheduler_address)
    assert (~ts.ok == (design["x"].to_numpy() > 0.8)).all()


@pytest.mark.slow  # restarting killed Dask workers takes tens of seconds and, rarely, stalls
def test_dask_worker_killed_costs_only_its_run():
    import dask

    design = sg.sample(TOY_SPACE, 24, seed=5)
    killers = ((design["x"] > 0.45) & (design["x"] < 0.5)).to_numpy()
    assert killers.sum() >= 1
    # a task whose worker dies is not retried by Dask itself: the test stays fast
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), local_cluster() as own:
        with distributed.Client(own) as client, sg.DaskExecutor(client, chunksize=4) as executor:
            ts = toy_simulator("killer").run(design, executor=executor)
    assert (ts.status.to_numpy() == np.where(killers, "failed", "ok")).all()
    assert "Dask task failed" in ts.error[killers].iloc[0]


def test_dask_timeout(cluster):
    with distributed.Client(cluster) as client:
        design = np.array([[0.2, 0.0], [0.95, 0.0]])
        ts = toy_simulator("sleepy").run(design, executor=sg.DaskExecutor(client), timeout=0.5)
    assert ts.status.tolist() == ["ok", "timeout"]


def _batch_that_hangs_at_2(X):
    if (X["x"] == 0.5).any():
        time.sleep(3.0)
    return pd.DataFrame({"f": X["x"] * 10.0})


def test_one_hanging_run_of_a_dask_vectorized_chunk_times_out_alone(cluster):
    """In Dask's worker threads (no SIGALRM) the whole chunk was recorded as timed out."""
    design = pd.DataFrame({"x": [0.1, 0.3, 0.5, 0.7], "y": 0.0})
    sim = sg.Simulator(_batch_that_hangs_at_2, TOY_SPACE, ["f"], vectorized=True, name="hang")
    with distributed.Client(cluster) as client:
        runs = sim.run(design, executor=sg.DaskExecutor(client, chunksize=4), timeout=0.2,
                       progress=False)
    assert runs.status.tolist() == ["ok", "ok", "timeout", "ok"]
    assert runs.Y["f"][runs.ok].tolist() == pytest.approx([1.0, 3.0, 7.0])


@pytest.mark.slow  # a cluster of its own, and a worker restarted by its nanny
def test_dask_worker_killed_recomputes_no_finished_run(tmp_path):
    log = tmp_path / "calls.txt"
    design = sg.sample(TOY_SPACE, 120, seed=6)
    sim = toy_simulator(log=str(log), delay=0.05)
    outcome = {}

    def count():
        return len(log.read_text().splitlines()) if log.exists() else 0

    with local_cluster() as own, distributed.Client(own) as client:
        victim = next(iter(client.run(os.getpid).values()))  # one worker process
        executor = sg.DaskExecutor(client, chunksize=3)
        campaign = threading.Thread(target=lambda: outcome.update(ts=sim.run(design,
                                                                             executor=executor)))
        campaign.start()
        deadline = time.monotonic() + 60
        while count() < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(victim, signal.SIGKILL)  # it holds the results of about 10 finished chunks
        campaign.join(120)
    ts = outcome["ts"]
    assert ts.ok.all()
    np.testing.assert_allclose(ts.Y.to_numpy(), expected_toy(design), rtol=1e-12)
    calls = pd.Series(log.read_text().splitlines()).value_counts()
    assert len(calls) == 120
    # only chunks in flight (or finished but not yet fetched) on the killed worker run again
    assert calls.sum() - 120 <= 9, calls.sum()


def test_dask_carries_field_outputs(cluster):
    from simulators import sir

    sim = sir.simulator(t_end=60.0)
    design = sg.sample(sim.space, 16, seed=4)
    serial = sim.run(design, progress=False)
    remote = sim.run(design, executor="dask", address=cluster.scheduler_address, progress=False)
    assert remote.fields == ["S", "I", "R"] and remote.ok.all()
    for field in sim.fields:
        pd.testing.assert_frame_equal(remote.field(field), serial.field(field))
    pd.testing.assert_frame_equal(remote.Y, serial.Y)


def test_a_dask_failure_reads_whole_with_its_cause():
    from surrogate.execute._dask import _whole

    try:
        try:
            raise ModuleNotFoundError("No module named 'toypkg'")
        except ModuleNotFoundError as cause:
            raise RuntimeError("Error during deserialization of the task graph. This frequently\n"
                               "occurs if the Scheduler and Client have different environments."
                               ) from cause
    except RuntimeError as exc:
        text = _whole(exc)
    assert text == ("RuntimeError: Error during deserialization of the task graph. This "
                    "frequently occurs if the Scheduler and Client have different environments.; "
                    "caused by ModuleNotFoundError: No module named 'toypkg'")


def _gives_up_at_2(i):
    import sys

    if i == 2:
        sys.exit("legacy code gave up")
    return float(i)


def test_dask_records_sys_exit_in_a_run(cluster):
    # it killed worker after worker (KilledWorker), the cause nowhere
    sim = sg.Simulator(_gives_up_at_2, sg.Space([sg.Integer("i", 0, 9)]), ["y"], name="legacy")
    with distributed.Client(cluster) as client:
        runs = sim.run(pd.DataFrame({"i": range(5)}), executor=sg.DaskExecutor(client),
                       progress=False)
    assert runs.status.tolist() == ["ok", "ok", "failed", "ok", "ok"]
    assert runs.error[2] == "SystemExit: legacy code gave up"


def test_a_scheduler_without_workers_is_warned_of_and_the_runs_wait(monkeypatch):
    from surrogate.execute import _dask

    monkeypatch.setattr(_dask, "WORKER_WAIT_S", 1.0)
    design = sg.sample(TOY_SPACE, 6, seed=0)
    with distributed.LocalCluster(n_workers=0, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        late = threading.Timer(3.0, lambda: cluster.scale(1))  # a worker of a batch queue
        late.start()
        try:
            with pytest.warns(UserWarning, match="no Dask worker is connected to tcp://"):
                runs = toy_simulator("ok").run(design, executor=sg.DaskExecutor(client),
                                               progress=False)
        finally:
            late.join()
    assert runs.ok.all()


def test_a_cluster_that_cannot_load_the_simulator_stops_the_campaign(tmp_path, monkeypatch):
    # the scheduler cannot import the simulator's module: every run was recorded as failed
    import socket
    import subprocess
    import sys

    (tmp_path / "drv").mkdir()
    (tmp_path / "drv" / "only_here_sim.py").write_text("def f(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path / "drv"))
    from only_here_sim import f

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    (tmp_path / "cluster").mkdir()
    bin_dir = os.path.dirname(sys.executable)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    started = [subprocess.Popen([os.path.join(bin_dir, "dask"), "scheduler", "--host",
                                 "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                cwd=tmp_path / "cluster", env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60  # until the scheduler listens (seconds when loaded)
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        started.append(subprocess.Popen([os.path.join(bin_dir, "dask"), "worker", address,
                                         "--nthreads", "1", "--no-dashboard"],
                                        cwd=tmp_path / "cluster", env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        sim = sg.Simulator(f, sg.Space([sg.Real("x", 0, 1)]), ["y"], name="f")
        with pytest.raises(RuntimeError, match="the Dask cluster cannot load the simulator"):
            sim.run(sg.sample(sim.space, 4, seed=0), executor="dask", address=address,
                    checkpoint=tmp_path / "ck", progress=False)
        assert not (tmp_path / "ck" / "journal.jsonl").exists() or \
            not (tmp_path / "ck" / "journal.jsonl").read_text().strip()  # nothing recorded
    finally:
        for process in started:
            process.kill()
            process.wait(10)


def test_a_simulator_holding_a_lock_is_one_clear_error(cluster):
    lock = threading.Lock()

    def guarded(x, y):
        with lock:
            return x + y

    sim = sg.Simulator(guarded, TOY_SPACE, ["f"], name="guarded")
    with distributed.Client(cluster) as client:
        with pytest.raises(ValueError, match="simulator 'guarded' cannot be sent to Dask "
                                             "workers"):
            sim.run(sg.sample(TOY_SPACE, 3, seed=0), executor=sg.DaskExecutor(client),
                    progress=False)


def test_an_address_where_a_web_server_answers_is_one_clear_error():
    """The dashboard's port given for the scheduler's: its HTTP reply was read as a message
    length and the study ended in a MemoryError traceback (3 EiB)."""
    import socket

    from surrogate.execute import DaskExecutor

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    stop = threading.Event()

    def answer():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            try:
                connection.settimeout(2)
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            except OSError:
                pass
            finally:
                connection.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        with pytest.raises(ValueError, match="no Dask scheduler could be reached"):
            DaskExecutor(f"tcp://127.0.0.1:{server.getsockname()[1]}")
    finally:
        stop.set()
        thread.join()
        server.close()


def test_chunks_hold_about_a_second_of_work_after_one_run_per_thread():
    """Chunks of up to n / (8 threads) runs, 256 at most, came back whole: an interruption
    lost every finished run of the unfinished chunks (32 one-minute runs per chunk for 1,000
    runs on 4 threads), and a resumption ran them again."""
    from surrogate.execute._dask import CHUNK_SECONDS, _timed_size
    from surrogate.execute._evaluate import RunRecord

    def probe(seconds):
        return [RunRecord(0, "ok", (1.0,), "", seconds)]

    assert _timed_size(probe(60.0), 32) == 1  # one-minute runs: one per task
    assert _timed_size(probe(CHUNK_SECONDS / 10), 32) == 10
    assert _timed_size(probe(1e-4), 32) == 32  # cheap runs: the load-balancing size
    # nothing timed: None, the next probe decides (a run that fails at once set the size)
    assert _timed_size(probe(float("nan")), 32) is None
    assert _timed_size([RunRecord(0, "failed", None, "boom", 1e-4)], 32) is None
    assert _timed_size(RuntimeError("worker died"), 32) is None


def test_a_cluster_left_without_workers_says_so_and_goes_on_when_one_returns(monkeypatch):
    """The runs waited in silence, for ever, once the last worker was gone mid-campaign."""
    from surrogate.execute import _dask

    monkeypatch.setattr(_dask, "WORKER_WAIT_S", 0.5)
    space = sg.Space([sg.Real("x", 0.0, 1.0)])
    sim = sg.Simulator(_slow_double, space, "y", name="slow")
    # 4 s of runs: the worker is gone long before they are done, however slowly it retires
    # on a loaded machine (12 runs, 1.2 s, were all done before it had left: no wait, no
    # warning)
    design = sg.sample(space, 40, seed=0)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as own, distributed.Client(own) as client:
        def lose_then_return():
            time.sleep(0.3)
            own.scale(0)
            time.sleep(2.0)
            own.scale(1)

        mover = threading.Thread(target=lose_then_return, daemon=True)
        mover.start()
        with pytest.warns(UserWarning, match=r"has had no worker for 0.5 s: the runs left wait"):
            runs = sim.run(design, executor=sg.DaskExecutor(client, chunksize=1),
                           progress=False)
        mover.join()
    assert runs.ok.all()
    np.testing.assert_allclose(runs.Y["y"], 2 * design["x"])


def _slow_double(x):
    time.sleep(0.1)
    return 2 * x


def _slow_calls(X, log):
    with open(log, "a") as handle:
        handle.write(f"{len(X)}\n")
    time.sleep(0.3)  # per call, however many rows: the cost of starting a model
    return pd.DataFrame({"f": X["x"] + X["y"]})


def test_a_vectorized_simulator_keeps_the_load_balancing_chunks(cluster, tmp_path):
    """A batch of one timed the cost per call as the cost per run: chunks of 3 runs, about
    80 times as many calls for 10,000 runs."""
    import functools

    log = tmp_path / "calls.txt"
    sim = sg.Simulator(functools.partial(_slow_calls, log=str(log)), TOY_SPACE, ["f"],
                       vectorized=True, name="calls")
    design = sg.sample(TOY_SPACE, 64, seed=0)
    with distributed.Client(cluster) as client:
        runs = sim.run(design, executor=sg.DaskExecutor(client), progress=False)
    assert runs.ok.all()
    sizes = [int(n) for n in log.read_text().split()]
    assert sum(sizes) == 64 and max(sizes) == 4 and len(sizes) <= 17  # 64 / (8 x 2 threads)
