"""Dask executor: runs on a ``distributed`` cluster when one machine is not enough.

Chunks of runs become Dask tasks. A task whose worker dies is retried by Dask itself; when Dask
gives up (``KilledWorker``) the chunk is split into single runs. A single run whose worker dies
is a suspect: it is tried again, up to ``_SINGLE_TRIES`` times in all, *alone* (once nothing else
is running), so that a worker that dies then died of it, and only the run that kills its worker
is marked failed (a run that shared a dying worker with another is failed by Dask too, though
innocent; retried beside the culprit, it could be hit every time). Each task's results are
fetched as soon as it finishes (in Dask's callback thread, not when the campaign gets to them)
and the task is then released, so a dying worker costs its unfinished work and the results
it finished but had not yet handed over: Dask recomputes those, as a client still holds their
futures (a run that kills its worker the moment the previous run on that thread ends can cost
that run again, up to Dask's ``allowed-failures`` times). Chunks hold about a second
of work (timed on one run per worker thread), since a chunk's finished runs reach the
checkpoint only with the whole chunk; a cluster left without workers mid-campaign is warned
of, as at the start, and the runs wait for one. Timeouts inside Dask's
worker threads abandon an overrunning run (Python cannot stop a thread); use the process
executor where a hung run must be killed.
"""

from __future__ import annotations

import os
import queue
import time
import warnings
from collections.abc import Iterator
from typing import Any

from surrogate._checks import is_int
from surrogate._stack import user_stacklevel
from surrogate.execute._base import Executor, default_chunksize, paired_chunks
from surrogate.execute._evaluate import RunRecord, evaluate_chunk
from surrogate.teacher import Simulator, exception_text, square_sizes

_SINGLE_TRIES = 3


def _run_chunk(simulator: Simulator, rows: list[int], points: list[dict[str, Any]],
               timeout: float | None, driver: int = -1) -> list[RunRecord]:
    """Run a chunk on a worker: single-threaded numerics in a worker process of its own; in
    the driver's process (a cluster of threads, ``LocalCluster(processes=False)``) the limits
    would stay on the user's own process for good (they set its environment), so none."""
    from surrogate.execute._process import limit_threads

    if os.getpid() != driver:
        limit_threads()
    return list(evaluate_chunk(simulator, rows, points, timeout))


class DaskExecutor(Executor):
    """Run simulations on a Dask ``distributed`` cluster.

    Parameters
    ----------
    address_or_client : str or distributed.Client
        A scheduler address such as ``"tcp://127.0.0.1:8786"`` (a client is opened and closed
        with the executor) or an existing client (left open).
    chunksize : int, optional
        Runs per Dask task. Default: one run per worker thread first, then chunks of about
        one second of work at the time those runs took (at most about 8 tasks per thread and
        256 runs): a chunk's finished runs reach the driver (and its checkpoint) when the
        whole chunk is done, so an interruption costs at most about a second per thread.

    Notes
    -----
    The simulator is pickled (cloudpickle) and sent to the workers, and ``surrogate`` must be
    importable there.

    Examples
    --------
    A cluster of one worker thread in this process; on real machines pass the scheduler's
    address instead, e.g. ``sg.DaskExecutor("tcp://10.0.0.5:8786")``.

    >>> import surrogate as sg
    >>> from distributed import Client, LocalCluster
    >>> sim = sg.Simulator(lambda x: 2 * x, sg.Space([sg.Real("x", 0.0, 1.0)]), ["y"])
    >>> with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
    ...                   dashboard_address=None) as cluster, Client(cluster) as client:
    ...     with sg.DaskExecutor(client) as executor:
    ...         runs = sim.run([[0.25], [0.5]], executor=executor, progress=False)
    >>> runs.Y["y"].tolist(), runs.status.tolist()
    ([0.5, 1.0], ['ok', 'ok'])
    """

    def __init__(self, address_or_client: Any, *, chunksize: int | None = None) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "the Dask executor needs the 'dask' extra: pip install 'surrogate-discovery[dask]'"
            ) from exc
        if isinstance(address_or_client, Client):
            self._client, self._owned = address_or_client, False
        elif isinstance(address_or_client, str):
            try:
                self._client, self._owned = Client(address_or_client, timeout=CONNECT_S), True
            except (OSError, ValueError, TypeError, MemoryError) as exc:
                # bad form, nobody there, or another service there (an HTTP dashboard's reply
                # read as a message length: MemoryError for an array of 3 EiB)
                why = ("what answers there does not speak Dask's protocol: the dashboard's "
                       "port?" if isinstance(exc, MemoryError) else " ".join(str(exc).split()))
                raise ValueError(f"address {address_or_client!r}: no Dask scheduler could be "
                                 f"reached ({why}); give its address as tcp://HOST:PORT, as "
                                 "`dask scheduler` prints it") from None
        else:
            raise TypeError(
                "DaskExecutor needs a scheduler address (str) or a distributed.Client, got "
                f"{type(address_or_client).__name__}"
            )
        if chunksize is not None and (not is_int(chunksize) or chunksize < 1):
            raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
        self._chunksize = None if chunksize is None else int(chunksize)

    @property
    def client(self) -> Any:
        return self._client

    @property
    def n_workers(self) -> int:
        threads = self._client.nthreads()
        return max(1, sum(threads.values()))

    def _await_a_worker(self) -> None:
        """Say so when no worker is connected (the runs would wait in silence): after
        WORKER_WAIT_S seconds a warning names the scheduler; the runs then go on waiting, as
        workers of a batch queue may start late."""
        if self._client.nthreads():
            return
        try:
            self._client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except Exception:  # noqa: BLE001 - distributed's TimeoutError differs by version
            address = _address(self._client)
            warnings.warn(f"no Dask worker is connected to {address} after {WORKER_WAIT_S:g} "
                          f"s: the runs wait for one (start one with `dask worker {address}`)",
                          UserWarning, stacklevel=user_stacklevel())

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def _evaluate(
        self, simulator: Simulator, rows: list[int], points: list[dict[str, Any]],
        timeout: float | None,
    ) -> Iterator[RunRecord]:
        self._await_a_worker()
        size = self._chunksize or default_chunksize(len(rows), self.n_workers)
        tasks = _Tasks(self._client, simulator, timeout)
        # A chunk's results come back when the whole chunk is done, so an interruption loses
        # its finished runs: unless chunksize= is given, one run per worker thread goes first,
        # and the rest go in chunks of about CHUNK_SECONDS of work at the time the first of
        # them to succeed took (the load-balancing size if none does). Not for a vectorized
        # simulator: a batch of one would time its cost per call as the cost per run.
        probe = self._chunksize is None and size > 1 and not simulator.vectorized
        tasks.start(list(rows), list(points), size, self.n_workers if probe else 0)
        lost = _LostWorkers(self._client)
        try:
            while tasks.chunks:
                try:
                    key, outcome = tasks.done.get(timeout=_POLL_S)
                except queue.Empty:
                    lost.check()  # a cluster left without workers: say so, then wait
                    continue
                yield from tasks.take(key, outcome)
        finally:
            tasks.cancel()


class _Tasks:
    """The Dask tasks of one campaign: the chunks in flight (future -> rows, points, tries),
    the single runs to retry alone, and the runs not yet sent until a probe has timed them.

    A future is kept only until its results are fetched: a future still referenced keeps its
    result wanted, and Dask recomputes every wanted result that a dying worker held (finished
    runs ran again). The results are fetched by a done-callback, in Dask's callback thread, as
    soon as the task ends, and wait in ``done`` for the campaign (which may be busy writing its
    checkpoint).
    """

    def __init__(self, client: Any, simulator: Simulator, timeout: float | None) -> None:
        self.client, self.simulator, self.timeout = client, simulator, timeout
        self.chunks: dict[str, tuple[list[int], list[dict[str, Any]], int]] = {}
        self.futures: dict[str, Any] = {}  # key -> future, until its results are fetched
        self.done: queue.SimpleQueue[tuple[str, list[RunRecord] | BaseException]] = \
            queue.SimpleQueue()
        self.suspects: list[tuple[list[int], list[dict[str, Any]], int]] = []
        self.avoid = square_sizes(simulator)
        self.rest: tuple[list[int], list[dict[str, Any]]] | None = None
        self.probes, self.size = 0, 1

    def start(self, rows: list[int], points: list[dict[str, Any]], size: int,
              probes: int) -> None:
        """Send the runs in chunks of ``size``, or ``probes`` single runs first (the rest once
        one of them has been timed)."""
        self.size, self.probes = size, min(probes, len(rows))
        if self.probes:
            self.rest = (rows[self.probes:], points[self.probes:])
            self._send(rows[:self.probes], points[:self.probes], 1)
        else:
            self._send(rows, points, size)

    def _fetch(self, future: Any) -> None:
        """Done-callback: fetch the task's results (or its failure) now, then let Dask forget
        it, and hand them to the campaign."""
        key = future.key
        try:
            outcome = _outcome(future)
        finally:
            self.futures.pop(key, None)
            future.release()  # its results are ours now (or lost): Dask may forget it
        self.done.put((key, outcome))

    def take(self, key: str, outcome: list[RunRecord] | BaseException) -> Iterator[RunRecord]:
        """The records of a finished task; a task its worker took down is split or retried."""
        if key not in self.chunks:  # cancelled at the end, or a stray callback
            return
        chunk_rows, chunk_points, tries = self.chunks.pop(key)
        self._after_probe(outcome)
        if isinstance(outcome, list):
            yield from outcome
        elif _cluster_fault(outcome):  # no run's fault: stop, record nothing for them
            raise RuntimeError(
                "the Dask cluster cannot load the simulator, so no run was made (its module "
                "must be importable on the scheduler and every worker, e.g. installed there or "
                f"on their PYTHONPATH): {_whole(outcome)}")
        elif len(chunk_rows) > 1:  # isolate the run that brought its worker down
            self._send(chunk_rows, chunk_points, 1)
        elif tries + 1 < _SINGLE_TRIES:
            self.suspects.append((chunk_rows, chunk_points, tries + 1))
        else:
            yield RunRecord(chunk_rows[0], "failed", None,
                            f"Dask task failed: {_whole(outcome)}", float("nan"))
        if self.suspects and not self.chunks:  # nothing else runs: the next suspect, alone
            self._submit(*self.suspects.pop(0))

    def cancel(self) -> None:
        self.chunks.clear()
        for future in list(self.futures.values()):
            future.cancel()

    def _after_probe(self, outcome: list[RunRecord] | BaseException) -> None:
        """Once a probe succeeds (or none is left), send the rest in chunks of its timing."""
        if self.rest is None:
            return
        self.probes -= 1
        timed = _timed_size(outcome, self.size)
        if timed is not None or self.probes <= 0:
            rest, self.rest = self.rest, None
            self._send(*rest, self.size if timed is None else timed)

    def _send(self, rows: list[int], points: list[dict[str, Any]], size: int) -> None:
        for chunk_rows, chunk_points in paired_chunks(rows, points, size, self.avoid):
            self._submit(list(chunk_rows), list(chunk_points))

    def _submit(self, rows: list[int], points: list[dict[str, Any]], tries: int = 0) -> None:
        # the simulator travels with each task: scattered data dies with its worker
        try:
            future = self.client.submit(_run_chunk, self.simulator, rows, points, self.timeout,
                                        os.getpid(), pure=False)
        except (TypeError, ValueError, AttributeError) as exc:  # not serializable
            if "serializ" not in str(exc).lower() and "pickl" not in str(exc).lower():
                raise
            raise ValueError(f"simulator {self.simulator.name!r} cannot be sent to Dask workers: "
                             f"{' '.join(str(exc).split())}; it must be picklable (a function "
                             "of an importable module, holding no lock, open file or "
                             "connection)") from None
        self.chunks[future.key] = (rows, points, tries)
        self.futures[future.key] = future
        future.add_done_callback(self._fetch)


CONNECT_S = "10s"  # how long to try reaching a scheduler
WORKER_WAIT_S = 10.0  # seconds without a worker before the warning
CHUNK_SECONDS = 1.0  # work per chunk: what an interruption may cost per worker thread
_POLL_S = 0.05


def _address(client: Any) -> str:
    """The scheduler's address, for messages."""
    return str(getattr(client.scheduler, "address", "the scheduler"))


def _timed_size(outcome: list[RunRecord] | BaseException, size: int) -> int | None:
    """Runs per chunk for about CHUNK_SECONDS of work, at most ``size``, from a probe's
    successful runs (None without one: a run that fails at once says nothing of the others)."""
    if not isinstance(outcome, list):
        return None
    seconds = [r.seconds for r in outcome
               if r.status == "ok" and r.seconds == r.seconds and r.seconds >= 0]
    if not seconds:
        return None
    per_run = max(float(sum(seconds)) / len(seconds), 1e-9)
    return max(1, min(size, int(CHUNK_SECONDS / per_run)))


class _LostWorkers:
    """Warns once when a cluster has had no worker for WORKER_WAIT_S seconds mid-campaign (the
    runs would wait in silence: a nanny that gave up restarting a worker, a scaled-down
    cluster); the runs go on waiting, as at the start, for workers that may come back."""

    def __init__(self, client: Any) -> None:
        self.client, self.warned = client, False
        self.since: float | None = None

    def check(self) -> None:
        if self.warned:
            return
        if self.client.nthreads():
            self.since = None
            return
        now = time.monotonic()
        if self.since is None:
            self.since = now
        elif now - self.since >= WORKER_WAIT_S:
            self.warned = True
            address = _address(self.client)
            warnings.warn(f"the Dask cluster at {address} has had no worker for "
                          f"{WORKER_WAIT_S:g} s: the runs left wait for one (start one with "
                          f"`dask worker {address}`, or stop and resume from the checkpoint)",
                          UserWarning, stacklevel=user_stacklevel())


def _outcome(future: Any) -> list[RunRecord] | BaseException:
    """The records of a finished future, or the exception that cost them."""
    if future.status == "finished":
        try:
            return list(future.result())
        except Exception as exc:  # noqa: BLE001 - result lost with its worker
            return exc
    return _failure(future)


def _failure(future: Any) -> BaseException:
    """The exception of a failed or cancelled future."""
    if future.status == "cancelled":
        return RuntimeError("task cancelled (its worker was lost)")
    try:
        return future.exception()
    except Exception as exc:  # noqa: BLE001 - the future may be gone with its worker
        return exc


def _cluster_fault(exc: BaseException) -> bool:
    """Whether a task failed before the simulator ran: the scheduler or a worker could not
    deserialize it (typically its module cannot be imported there)."""
    text = _whole(exc)
    return "Error during deserialization" in text or "Could not deserialize" in text


def _whole(exc: BaseException) -> str:
    """A Dask failure on one line, all of its message and its causes: Dask's own messages run
    over several lines (the first of a task graph the scheduler could not deserialize ends in
    mid-sentence), and the cause, e.g. a module the scheduler or a worker cannot import, is
    what the user must fix."""
    parts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = " ".join(exception_text(exc).split())
        parts.append(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return "; caused by ".join(parts)
