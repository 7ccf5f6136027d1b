"""Process executor: a pool of local worker processes that survives its workers dying.

Why not ``concurrent.futures.ProcessPoolExecutor``: one worker killed (SIGKILL, segfault, out of
memory) breaks that whole pool, and it cannot stop a run that hangs. Here each worker serves chunks
of runs over a pipe and publishes, in shared memory, which run of its chunk is in flight and since
when. When a worker dies, only that run is marked failed; the rest of its chunk goes back in the
queue and a fresh worker takes its place. A run that outlives its timeout is interrupted inside the
worker (SIGALRM); if the worker does not answer, it is killed and replaced. Workers watch their
driver and exit within a fraction of a second when it dies, even when it was SIGKILLed; a small
watchdog process (POSIX) ends those whose run holds the GIL in C code, where their own watcher
thread cannot run.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing as mp
import os
import pickle
import signal
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from surrogate._checks import is_int
from surrogate.execute._base import Executor, default_chunksize, paired_chunks
from surrogate.execute._evaluate import RunRecord, evaluate_chunk
from surrogate.teacher import Simulator, square_sizes

# Workers send finished runs at least every _FLUSH_SECONDS, and at once after any run that took
# _SLOW_RUN_SECONDS or more: a worker that dies loses at most a few milliseconds of cheap runs
# (they are run again), never an expensive one.
_FLUSH_SECONDS = 0.02
_SLOW_RUN_SECONDS = 0.001
_POLL_SECONDS = 0.05
_PARENT_POLL_SECONDS = 0.2
_STARTUP_SECONDS = 120.0  # a worker that has not taken its chunk by then is taken for hung


_CONTROLLER: Any = None  # threadpoolctl's view of the loaded BLAS/OpenMP libraries

# Pools still open when the interpreter exits are closed first: multiprocessing's own exit
# handler (registered before this one, so run after it) only terminates the workers, which left
# an external program a run had started running on. Weak: a pool is not kept alive for this.
_OPEN_POOLS: weakref.WeakSet[Any] = weakref.WeakSet()


@atexit.register
def _close_open_pools() -> None:
    for pool in list(_OPEN_POOLS):
        try:
            pool.close()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass


def _thread_controller() -> Any:
    """Scanning the loaded libraries costs ~0.1 s: do it once per process, before forking, so
    forked workers inherit the result."""
    global _CONTROLLER
    if _CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        except Exception:  # noqa: BLE001 - best effort: no threadpoolctl, no limits
            _CONTROLLER = False
    return _CONTROLLER


def limit_threads() -> None:
    """Single-threaded numerics in worker processes: n workers must not start n x cores threads."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    controller = _thread_controller()
    if controller:
        controller.limit(limits=1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _driver_pid(ctx: Any) -> int | None:
    """The parent a new worker will have: this process, or (None) a fork server we do not know."""
    return None if ctx.get_start_method() == "forkserver" else os.getpid()


def _exit_with_parent(driver: int | None) -> None:
    """End this worker as soon as the driver is gone (SIGKILLed drivers run no cleanup).

    Waiting for end-of-file on the pipe is not enough: forked workers inherit the driver's ends
    of their own and earlier workers' pipes, so the pipe never reads as closed, and a worker
    would go on running its chunk and then wait forever. When the driver dies this process is
    reparented, which ``os.getppid`` shows. (``prctl(PR_SET_PDEATHSIG)`` would tie the worker
    to the driver *thread* that started it, not the process, and is Linux only.)
    """
    parent = os.getppid() if driver is None else driver  # a fork server ends with its driver

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_SECONDS)
        _end_group()  # the simulation's own subprocesses too (an external program)
        os._exit(1)  # mid-run included: nobody is left to receive the results

    threading.Thread(target=watch, daemon=True, name="surrogate-parent-watch").start()


# The watchdog: a separate small process (the standard library only, no user code) that
# SIGKILLs every worker's process group once the driver is gone. A worker's own watcher
# thread needs the GIL, which a run inside C code can hold for its whole length (a compiled
# solver, a regular expression backtracking): that worker then ran on, reparented, after a
# SIGKILLed driver. It reads the workers' pids, one line per change, on its stdin, as raw
# bytes (a buffered readline would keep a second line unseen until a third arrived), and
# reads what is left in the pipe once the driver is gone: a driver killed while this
# interpreter was still starting had written its workers' pids, and nobody had read them.
_WATCHDOG = """
import os, select, signal, sys
driver, poll, pids, pending = int(sys.argv[1]), float(sys.argv[2]), [], b""
def read(timeout):
    global pids, pending
    while select.select([0], [], [], timeout)[0]:
        data = os.read(0, 65536)
        if not data:  # the pipe's end: the driver died (a closing driver says exit first)
            return False
        *lines, pending = (pending + data).split(b"\\n")
        for line in lines:
            if line.strip() == b"exit":  # the driver closed its pool
                sys.exit(0)
            pids = [int(p) for p in line.split()]
        timeout = 0
    return True
while os.getppid() == driver and read(poll):
    pass
read(0)
for pid in pids:
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
"""


class _Watchdog:
    """The driver's end of the watchdog process (POSIX only; elsewhere it does nothing)."""

    def __init__(self) -> None:
        import subprocess

        self.process: Any = None
        if os.name != "posix" or not sys.executable or getattr(sys, "frozen", False):
            return  # no interpreter to start (embedded), or one that is the application
        try:  # its own session: a Ctrl-C at the terminal is the driver's to handle
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(os.getpid()),
                 str(_PARENT_POLL_SECONDS)],
                stdin=subprocess.PIPE, text=True, start_new_session=True)
        except (OSError, TypeError, ValueError):  # best effort: the workers' own watchers
            self.process = None

    def announce(self, pids: list[int]) -> None:
        """The workers to kill should the driver die."""
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.stdin.write(" ".join(map(str, pids)) + "\n")
                self.process.stdin.flush()
            except OSError:
                pass

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.process.stdin.write("exit\n")
            self.process.stdin.close()
            self.process.wait(1.0)
        except Exception:  # noqa: BLE001 - closing anyway (a pipe gone, a slow exit)
            self.process.kill()
        self.process = None


def _own_group() -> None:
    """Lead a process group of this worker and the processes its runs start, so that ending the
    worker (driver gone, run killed) can end them too; an external program a simulation
    launches would otherwise run on, reparented, beside the resumed campaign's new runs."""
    if hasattr(os, "setpgid"):
        try:
            os.setpgid(0, 0)
        except OSError:  # already a session or group leader: keep it
            pass


def _end_group() -> None:
    """SIGKILL this worker's process group when it leads one (see :func:`_own_group`)."""
    if hasattr(os, "killpg") and os.getpgid(0) == os.getpid():
        try:
            os.killpg(os.getpid(), signal.SIGKILL)
        except OSError:
            pass


def _end_group_members(kept: set[int]) -> None:
    """SIGKILL the other processes of this worker's group that a timed-out run started (its
    run was interrupted, the program it launched was not). Those in ``kept`` (the worker's
    children when that run began: see :func:`_children`) and their descendants are left
    alone: a helper an earlier run started and later ones reuse (a solver server, an engine
    kept in a global). The group's members are found in ``/proc`` (Linux); elsewhere, and
    for what a run left behind, they end with the group when the pool closes
    (:meth:`_Worker.kill`)."""
    me = os.getpid()
    if not hasattr(os, "killpg") or os.getpgid(0) != me:
        return
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    parents: dict[int, int] = {}  # the group's members -> their parents
    for entry in entries:
        if entry.isdigit() and int(entry) != me:
            try:
                if os.getpgid(int(entry)) == me:
                    parents[int(entry)] = _parent(int(entry))
            except (OSError, ValueError, IndexError):  # gone meanwhile
                pass
    for pid in parents:
        if not _descends(pid, kept, parents):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _parent(pid: int) -> int:
    """The parent of process ``pid`` (``/proc/PID/stat``, counted after the command name,
    which may hold spaces and parentheses)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return int(stat.read().rsplit(b")", 1)[1].split()[1])


def _descends(pid: int, kept: set[int], parents: dict[int, int]) -> bool:
    """Whether ``pid`` is one of ``kept`` or a descendant of one, through the group."""
    seen: set[int] = set()
    while pid in parents and pid not in seen:
        if pid in kept:
            return True
        seen.add(pid)
        pid = parents[pid]
    return pid in kept


def _children() -> set[int] | None:
    """The pids of this process's children (Linux's ``/proc/self/task/*/children``, a few
    microseconds), or None where that cannot be read."""
    try:
        children: set[int] = set()
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children", "rb") as listed:
                children.update(int(pid) for pid in listed.read().split())
        return children
    except (OSError, ValueError):
        return None


def _fresh_random_state() -> None:
    """Reseed NumPy's and torch's global generators from the operating system's entropy: a
    forked worker inherits the driver's state, so a stochastic teacher drawing from them gave
    every worker, and every new pool, the same draws (replicates came back as copies). Python's
    ``random`` reseeds itself at a fork; spawned workers start fresh anyway."""
    np.random.seed()  # noqa: NPY002 - the legacy global state is what such teachers draw from
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


def _worker_main(simulator: Simulator, conn: Connection, state: Any,
                 driver: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    _own_group()
    _exit_with_parent(driver)
    limit_threads()
    _fresh_random_state()

    kept: list[set[int] | None] = [None]  # the children a timed-out run did not start

    def on_start(position: int) -> None:
        state[0] = position
        state[1] = time.monotonic()
        if timeout is not None:
            kept[0] = _children()

    timeout = None
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        rows, points, timeout = task
        on_start(0)  # the chunk's clock starts here, after this worker's own start-up
        buffer: list[RunRecord] = []
        last_flush = time.monotonic()
        for record in evaluate_chunk(simulator, rows, points, timeout, on_start):
            buffer.append(record)
            if record.status == "timeout" and kept[0] is not None:
                _end_group_members(kept[0])  # what its run started, not an earlier helper
            now = time.monotonic()
            if now - last_flush >= _FLUSH_SECONDS or record.seconds >= _SLOW_RUN_SECONDS:
                conn.send(("runs", buffer))
                buffer, last_flush = [], now
        conn.send(("done", buffer))


class _Worker:
    def __init__(self, ctx: Any, simulator: Simulator) -> None:
        # [position in chunk, start of the run in flight (NaN until the worker has taken the
        # chunk), time the chunk was sent]: time.monotonic(), one clock for every process on
        # the machine, so that a step of the wall clock times nothing out
        self.state = ctx.Array("d", 3, lock=False)
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main,
                                   args=(simulator, child, self.state, _driver_pid(ctx)),
                                   daemon=True, name="surrogate-worker")
        try:
            self.process.start()  # spawn and forkserver pickle the simulator here
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            child.close()
            self.conn.close()
            raise ValueError(f"simulator {simulator.name!r} cannot be sent to worker processes "
                             f"({type(exc).__name__}: {' '.join(str(exc).split())}); with "
                             "start_method='spawn' or 'forkserver' its function must be "
                             "importable by name (defined at the top of a module, not in "
                             "__main__ under a decorator that replaces it, nor a lambda)") from None
        child.close()
        self.rows: list[int] = []
        self.points: list[dict[str, Any]] = []
        self.reported = 0

    @property
    def busy(self) -> bool:
        return bool(self.rows)

    def assign(self, rows: list[int], points: list[dict[str, Any]], timeout: float | None) -> None:
        self.rows, self.points, self.reported = list(rows), list(points), 0
        self.state[0], self.state[1], self.state[2] = 0.0, math.nan, time.monotonic()
        self.conn.send((self.rows, self.points, timeout))

    def overdue(self, limit: float) -> bool:
        """Whether the run in flight has taken more than ``limit`` seconds, or the worker has
        not taken its chunk within a generous start-up time: a fresh worker's start (spawn
        imports the package and the simulator's module, seconds on a loaded machine) is no
        run's time."""
        now = time.monotonic()
        if math.isnan(self.state[1]):
            return now - self.state[2] > max(limit, _STARTUP_SECONDS)
        return now - self.state[1] > limit

    def elapsed(self) -> float:
        """Seconds since the run in flight started (since the chunk was sent, if not yet)."""
        start = self.state[2] if math.isnan(self.state[1]) else self.state[1]
        return time.monotonic() - start

    def kill(self) -> None:
        """End the worker and its group: its runs' own subprocesses too (see _own_group),
        also when the worker itself has exited and left them (a group outlives its leader, and
        its id is not given to a new process while it has members)."""
        pid = self.process.pid
        if pid is not None and hasattr(os, "killpg"):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:  # no such group: the worker did not lead one, or all are gone
                pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join(1.0)
        self.conn.close()


class ProcessExecutor(Executor):
    """Run simulations on a pool of local worker processes.

    Parameters
    ----------
    n_workers : int, optional
        Number of worker processes (default: the CPUs this process may run on, its affinity).
    start_method : {"fork", "spawn", "forkserver"}, optional
        Default ``"fork"`` where available (no pickling of the simulator; fast start), else
        ``"spawn"``. With ``"spawn"``/``"forkserver"`` the simulator must be picklable.
    chunksize : int, optional
        Runs sent to a worker at once (default: about 8 chunks per worker, at most 256).

    Notes
    -----
    Workers are started on first use and kept for later calls with the same simulator; leave a
    ``with`` block or call :meth:`close` to stop them. Workers run single-threaded numerics.

    Examples
    --------
    >>> with ProcessExecutor(2) as pool:  # doctest: +SKIP
    ...     ts = sim.run(design, executor=pool)
    """

    def __init__(self, n_workers: int | None = None, *, start_method: str | None = None,
                 chunksize: int | None = None) -> None:
        if n_workers is None:
            n_workers = _usable_cpus()
        if not is_int(n_workers) or n_workers < 1:
            raise ValueError(f"n_workers must be a positive int, got {n_workers!r}")
        methods = mp.get_all_start_methods()
        if start_method is None:
            start_method = "fork" if "fork" in methods else "spawn"
        if start_method not in methods:
            raise ValueError(f"start_method must be one of {methods}, got {start_method!r}")
        if chunksize is not None and (not is_int(chunksize) or chunksize < 1):
            raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
        self._n_workers = int(n_workers)
        self._ctx = mp.get_context(start_method)
        self._chunksize = None if chunksize is None else int(chunksize)
        self._workers: list[_Worker] = []
        self._simulator: Simulator | None = None
        self._watchdog: _Watchdog | None = None
        _OPEN_POOLS.add(self)

    @property
    def n_workers(self) -> int:
        return self._n_workers

    def close(self) -> None:
        """Stop the workers (they finish nothing further)."""
        for worker in self._workers:
            try:
                worker.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for worker in self._workers:
            worker.process.join(2.0)
            worker.kill()
        self._workers = []
        self._simulator = None
        if self._watchdog is not None:  # told "exit": it kills nobody
            self._watchdog.stop()
            self._watchdog = None

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    def _start_workers(self, simulator: Simulator) -> None:
        if self._simulator is not simulator:
            self.close()
            self._simulator = simulator
        if self._ctx.get_start_method() == "fork":
            _thread_controller()  # scanned once here, inherited by every forked worker
        self._workers = [w for w in self._workers if w.process.is_alive()]
        while len(self._workers) < self._n_workers:
            self._workers.append(_Worker(self._ctx, simulator))
        self._announce()

    def _announce(self) -> None:
        """Tell the watchdog (started with the first workers) which workers are alive."""
        if self._watchdog is None:
            self._watchdog = _Watchdog()
        self._watchdog.announce([w.process.pid for w in self._workers
                                 if w.process.pid is not None])

    def _swap(self, worker: _Worker, simulator: Simulator) -> None:
        """A fresh worker in the place of ``worker`` (killed)."""
        self._workers[self._workers.index(worker)] = _Worker(self._ctx, simulator)
        self._announce()

    def _evaluate(
        self, simulator: Simulator, rows: list[int], points: list[dict[str, Any]],
        timeout: float | None,
    ) -> Iterator[RunRecord]:
        size = self._chunksize or default_chunksize(len(rows), self._n_workers)
        queue = deque(paired_chunks(rows, points, size, square_sizes(simulator)))
        self._start_workers(simulator)
        finished = False
        try:
            while queue or any(w.busy for w in self._workers):
                for worker in self._workers:
                    if queue and not worker.busy:
                        chunk_rows, chunk_points = queue.popleft()
                        worker.assign(list(chunk_rows), list(chunk_points), timeout)
                yield from self._collect(simulator, queue, timeout)
            finished = True
        finally:
            if not finished:  # the caller stopped early or failed: workers are mid-chunk
                for worker in self._workers:
                    worker.kill()
                self._workers = []
                self._announce()  # none: their pids may go to other processes

    def _collect(self, simulator: Simulator, queue: deque[Any],
                 timeout: float | None) -> Iterator[RunRecord]:
        busy = [w for w in self._workers if w.busy]
        handles: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        ready = set(wait(handles, timeout=_POLL_SECONDS))
        for worker in busy:
            if worker.conn in ready or worker.process.sentinel in ready:
                yield from self._drain(worker)
            if not worker.busy:
                continue
            if not worker.process.is_alive():
                yield from self._replace(worker, simulator, queue, "failed",
                                         f"worker process died ({_exit_reason(worker.process)})")
            elif timeout is not None and worker.overdue(_hard_limit(
                    timeout * (len(worker.rows) if simulator.vectorized else 1))):
                yield from self._replace(worker, simulator, queue, "timeout",
                                         f"run exceeded the timeout of {timeout} s "
                                         "(worker did not respond and was killed)")

    def _drain(self, worker: _Worker) -> Iterator[RunRecord]:
        try:
            while worker.busy and worker.conn.poll():
                kind, records = worker.conn.recv()
                worker.reported += len(records)
                yield from records
                if kind == "done":
                    worker.rows, worker.points = [], []
        except (EOFError, OSError):
            return  # the worker died; _collect notices

    def _replace(self, worker: _Worker, simulator: Simulator, queue: deque[Any], status: str,
                 message: str) -> Iterator[RunRecord]:
        """Blame the run in flight, requeue the rest of the chunk, start a fresh worker.

        A vectorized simulator's chunk runs as one call, so no run in it is the one in flight:
        after a death or a timeout its runs are requeued one per chunk, so that the next death
        or timeout names the run that causes it (the serial executor, too, runs a batch that
        timed out one run at a time: one run hung in C code timed out its whole chunk)."""
        worker.kill()
        if simulator.vectorized and len(worker.rows) - worker.reported > 0:
            rows = worker.rows[worker.reported:]
            points = worker.points[worker.reported:]
            elapsed = worker.elapsed() / len(rows)
            self._swap(worker, simulator)
            if len(rows) > 1:
                for row, point in reversed(list(zip(rows, points, strict=True))):
                    queue.appendleft(([row], [point]))
                return
            yield RunRecord(rows[0], status, None, message, elapsed)
            return
        in_flight = min(max(int(worker.state[0]), worker.reported), len(worker.rows) - 1)
        elapsed = worker.elapsed()
        # runs finished but not yet sent before in_flight, and every run after it, go back
        rest = list(range(worker.reported, in_flight)) + list(range(in_flight + 1, len(worker.rows)))
        if rest:
            queue.appendleft(([worker.rows[i] for i in rest], [worker.points[i] for i in rest]))
        blamed = worker.rows[in_flight]
        self._swap(worker, simulator)
        yield RunRecord(blamed, status, None, message, elapsed)


def _hard_limit(timeout: float) -> float:
    """When to kill a worker whose run ignores SIGALRM (stuck in C code)."""
    return timeout * 1.5 + 1.0


def _exit_reason(process: Any) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: a batch job's allocation, taskset, a
    container), not the machine's: a worker per machine CPU oversubscribed a small share."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform
        return os.cpu_count() or 1
