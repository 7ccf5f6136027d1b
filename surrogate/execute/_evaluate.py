"""Evaluating runs where they execute: one chunk of design rows, failures captured per run.

Every executor ships chunks of ``(row, point)`` pairs to wherever it runs them and calls
:func:`evaluate_chunk` there; the records it yields are what the campaign runner stores.
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import pandas as pd

from surrogate.teacher import Simulator, describe_exception

__all__ = ["RunRecord", "RunTimeout", "evaluate_chunk", "deadline"]


class RunRecord(NamedTuple):
    """The outcome of one run: design row, status, outputs (None unless ok), message, seconds."""

    row: int
    status: str
    values: tuple[float, ...] | None
    error: str
    seconds: float


class RunTimeout(BaseException):
    """Raised inside a run that exceeded its time limit.

    A ``BaseException`` so that a simulation's own ``except Exception`` cannot swallow it.
    """


# Set when the alarm fires: a run that swallows the RunTimeout (``except BaseException``, a
# bare ``except:``) and returns is still timed out, not recorded with what it returned late.
_ALARM_FIRED = [False]


def _on_alarm(signum: int, frame: Any) -> None:
    _ALARM_FIRED[0] = True
    raise RunTimeout()


def _alarm_usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def deadline(uses_alarm: bool) -> Iterator[None]:
    """Install the SIGALRM handler for the duration of a chunk (main thread only).

    A timer the caller had set (its own alarm, pytest-timeout's) is held for the chunk and set
    again afterwards, less the time the chunk took (at once when that is past): the runs' own
    timers cancelled it, and with it the caller's protection from a hang."""
    if not uses_alarm:
        yield
        return
    held, interval = signal.getitimer(signal.ITIMER_REAL)
    fired = _ALARM_FIRED[0]  # of a run this chunk runs inside (a campaign within a run)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, 0)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _ALARM_FIRED[0] = fired
        if held > 0:
            signal.setitimer(signal.ITIMER_REAL,
                             max(held - (time.monotonic() - start), 1e-6), interval)


def call_with_timeout(func: Callable[[], Any], timeout: float | None, uses_alarm: bool) -> Any:
    """Call ``func()``; raise :class:`RunTimeout` after ``timeout`` seconds.

    In the main thread a SIGALRM interrupts the run. Elsewhere (Dask worker threads) the run
    goes on in a daemon thread that is abandoned when it overruns: Python cannot stop a thread.
    """
    if timeout is None:
        return func()
    if uses_alarm:
        _ALARM_FIRED[0] = False
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            value = func()
        except Exception:
            if _ALARM_FIRED[0]:  # the run turned the interruption into an error of its own
                raise RunTimeout() from None
            raise
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if _ALARM_FIRED[0]:
            raise RunTimeout()
        return value
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="surrogate-run")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise RunTimeout()
    if "error" in box:
        raise box["error"]
    return box["value"]


class _Terminated(BaseException):
    """A SIGTERM that a user's handler turned into ``SystemExit`` while a run was in flight:
    neither an ``Exception`` nor a ``SystemExit`` inside the run, so that no failure handler
    (the run's own, the halving of a vectorized batch) takes it for a failed run;
    :func:`_terminations` raises it again as the ``SystemExit`` it was."""

    def __init__(self, code: Any) -> None:
        super().__init__(code)
        self.code = code


@contextmanager
def _terminations(watch: bool) -> Iterator[list[bool]]:
    """While runs go on in the driver's process (``watch``, main thread only) and the SIGTERM
    handler is a Python function (a batch job's ``sys.exit``): its ``SystemExit`` during a
    run (while the yielded flag is set) comes out of the run as :class:`_Terminated`, so the
    run is not recorded, and leaves as ``SystemExit``. The default action (the process ends
    at once, also inside C code) and an ignored signal are left alone: the journal holds
    every finished run either way."""
    in_run = [False]
    previous = signal.getsignal(signal.SIGTERM) if watch else None
    if not callable(previous) or threading.current_thread() is not threading.main_thread():
        yield in_run
        return
    handler_of_user = previous

    def handler(signum: int, frame: Any) -> None:
        try:
            handler_of_user(signum, frame)
        except SystemExit as exc:
            if in_run[0]:
                raise _Terminated(exc.code) from None
            raise

    signal.signal(signal.SIGTERM, handler)
    try:
        yield in_run
    except _Terminated as exc:
        raise SystemExit(exc.code) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def evaluate_chunk(
    simulator: Simulator,
    rows: Sequence[int],
    points: Sequence[dict[str, Any]],
    timeout: float | None = None,
    on_start: Callable[[int], None] | None = None,
    in_driver: bool = False,
) -> Iterator[RunRecord]:
    """Evaluate ``points`` (design rows ``rows``) and yield one :class:`RunRecord` per run.

    ``on_start(position)`` is called before each run of a scalar simulator (the process
    executor uses it to know which run is in flight if its worker dies). A ``SystemExit`` in a
    run is recorded as its failure (legacy code calling ``sys.exit``) and the campaign goes
    on -- unless a SIGTERM caused it in the driver's own process (``in_driver``: a batch
    system ending the job, through its handler or the default action): then the run is not
    recorded, the campaign stops, and a resumption runs it again.
    """
    uses_alarm = timeout is not None and _alarm_usable()
    with deadline(uses_alarm), _terminations(in_driver) as in_run:
        if simulator.vectorized:
            yield from _evaluate_batch(simulator, rows, points, timeout, uses_alarm, in_run,
                                       on_start)
            return
        clock = time.perf_counter
        evaluate = simulator.evaluate_point
        for position, (row, point) in enumerate(zip(rows, points, strict=True)):
            if on_start is not None:
                on_start(position)
            start = clock()
            try:
                in_run[0] = True
                try:
                    if timeout is None:
                        values = evaluate(point)
                    else:
                        values = call_with_timeout(functools.partial(evaluate, point), timeout,
                                                   uses_alarm)
                finally:
                    in_run[0] = False
            except RunTimeout:
                yield RunRecord(row, "timeout", None, f"run exceeded the timeout of {timeout} s",
                                clock() - start)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - user code failed (sys.exit too)
                # (other BaseExceptions, as KeyboardInterrupt, end the campaign: not a failure)
                yield RunRecord(row, "failed", None, describe_exception(exc), clock() - start)
            else:
                yield RunRecord(row, "ok", values, "", clock() - start)


def _evaluate_batch(
    simulator: Simulator,
    rows: Sequence[int],
    points: Sequence[dict[str, Any]],
    timeout: float | None,
    uses_alarm: bool,
    in_run: list[bool],
    on_start: Callable[[int], None] | None = None,
) -> Iterator[RunRecord]:
    frame = pd.DataFrame(list(points), columns=simulator.space.names)
    start = time.perf_counter()
    limit = None if timeout is None else timeout * len(rows)
    try:
        in_run[0] = True
        try:
            values, errors = call_with_timeout(
                lambda: simulator.evaluate_design(frame), limit, uses_alarm
            )
        finally:
            in_run[0] = False
    except RunTimeout:
        # one hanging run must not time out the others: each on its own, with its own limit
        # (SIGALRM stops an overrunning one; in a thread, only the calls that hang are left
        # running behind). on_start tells the process executor's driver that a retry began,
        # so that it does not kill the worker for the batch's time.
        if len(rows) > 1:
            for position, (row, point) in enumerate(zip(rows, points, strict=True)):
                if on_start is not None:
                    on_start(position)
                yield from _evaluate_batch(simulator, [row], [point], timeout, uses_alarm,
                                           in_run)
            return
        yield RunRecord(rows[0], "timeout", None, f"run exceeded the timeout of {timeout} s",
                        time.perf_counter() - start)
        return
    each = (time.perf_counter() - start) / len(rows)
    for row, vals, err in zip(rows, values, errors, strict=True):
        if err:
            yield RunRecord(row, "failed", None, err, each)
        else:
            yield RunRecord(row, "ok", tuple(vals.tolist()), "", each)  # floats, fast
