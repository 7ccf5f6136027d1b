"""The campaign runner: design -> executor -> checkpoint -> transfer set, with retries and progress."""

from __future__ import annotations

import numbers
import os
import sys
import warnings
from typing import Any

import numpy as np

from surrogate._fields import Grids, field_slices
from surrogate._stack import user_stacklevel
from surrogate.data import TransferSet
from surrogate.execute._base import Executor
from surrogate.execute._checkpoint import Checkpoint
from surrogate.execute._dask import DaskExecutor
from surrogate.execute._evaluate import RunRecord
from surrogate.execute._process import ProcessExecutor
from surrogate.execute._serial import SerialExecutor
from surrogate.teacher import Simulator

EXECUTORS = ("serial", "processes", "dask")
RERUN = (None, "failed")


def resolve_executor(executor: Any, n_workers: int | None = None,
                     address: Any = None) -> tuple[Executor, bool]:
    """An Executor for ``executor`` and whether the caller owns (must close) it."""
    _check_executor(executor, address, n_workers, warn=False)
    if isinstance(executor, Executor):
        return executor, False
    if executor == "serial":
        return SerialExecutor(), True
    if executor == "processes":
        return ProcessExecutor(None if n_workers is None else int(n_workers)), True
    return DaskExecutor(address), True


def _check_executor(executor: Any, address: Any, n_workers: Any = None, *,
                    warn: bool = True) -> None:
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(
            n_workers, (int, np.integer)) or n_workers < 1):
        raise ValueError(f"n_workers must be a positive int or None, got {n_workers!r}")
    if isinstance(executor, Executor):
        where = f"with an executor instance ({type(executor).__name__}): it has its own"
    else:
        if not isinstance(executor, str) or executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {list(EXECUTORS)} or an Executor "
                             f"instance, got {executor!r}")
        if executor == "dask" and address is None:
            raise ValueError('executor="dask" needs address= (a scheduler address such as '
                             '"tcp://127.0.0.1:8786" or a distributed.Client)')
        where = f"by executor={executor!r}"
    # each option is for one executor name; an instance takes neither
    unused = [name for name, value, user in (("n_workers", n_workers, "processes"),
                                             ("address", address, "dask"))
              if value is not None and executor != user]
    if unused and warn:
        warnings.warn(f"{' and '.join(unused)} {'is' if len(unused) == 1 else 'are'} not used "
                      f"{where}", UserWarning, stacklevel=user_stacklevel())


MAX_TIMEOUT = 365 * 24 * 3600.0  # longer is no limit: None (inf overflowed the alarm clock)


def _check_options(timeout: Any, retries: Any, rerun: Any) -> None:
    if not (rerun is None or (isinstance(rerun, str) and rerun in RERUN)):
        raise ValueError(f"rerun must be None or 'failed' (run failed and timed-out runs of the "
                         f"checkpoint again), got {rerun!r}")
    check_run_options(timeout, retries)


def check_run_options(timeout: Any, retries: Any) -> None:
    """``timeout`` (seconds per run, or None) and ``retries`` (an int >= 0), or a clear error."""
    if timeout is not None:
        if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool | np.bool_) \
                or not 0 < float(timeout) <= MAX_TIMEOUT:
            raise ValueError(f"timeout must be a positive number of seconds up to {MAX_TIMEOUT:g} "
                             f"(a year), or None for none, got {timeout!r}")
    if isinstance(retries, bool) or not isinstance(retries, (int, np.integer)) or retries < 0:
        raise ValueError(f"retries must be an int >= 0, got {retries!r}")


def show_progress(progress: bool | None) -> bool:
    """The default: a bar only on a terminal, never under CI."""
    if progress is None:
        return sys.stderr.isatty() and not os.environ.get("CI")
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be True, False or None (a bar on a terminal only), got "
                        f"{progress!r}")
    return bool(progress)


def run_campaign(
    simulator: Simulator,
    X: Any,
    *,
    executor: Any = "serial",
    n_workers: int | None = None,
    timeout: float | None = None,
    retries: int = 0,
    checkpoint: Any = None,
    progress: bool | None = None,
    address: Any = None,
    rerun: str | None = None,
) -> TransferSet:
    """Run ``simulator`` on design ``X``; see :meth:`surrogate.Simulator.run`."""
    _check_options(timeout, retries, rerun)
    if rerun is not None and checkpoint is None:  # a forgotten checkpoint=, most likely
        warnings.warn(f"rerun={rerun!r} is not used without checkpoint=: it reruns the failed "
                      "runs a checkpoint holds, and without one every run is made",
                      UserWarning, stacklevel=user_stacklevel())
    timeout = None if timeout is None else float(timeout)  # numpy numbers as Python's
    retries = int(retries)
    _check_executor(executor, address, n_workers)  # before a checkpoint directory is written
    show = show_progress(progress)  # checked here too, even when every run is already done
    design = simulator.space.validate(X)
    if len(design) == 0:
        raise ValueError("the design is empty: nothing to run")
    n = len(design)
    records: list[RunRecord | None] = [None] * n  # the final record of each run, by design row
    journal = Checkpoint(checkpoint, simulator, design) if checkpoint is not None else None
    runner, owned, bar = None, False, None
    try:
        if journal is not None:
            for record in journal.records.values():
                if record.status == "ok" or rerun != "failed":
                    records[record.row] = record
        pending = [i for i in range(n) if records[i] is None]
        if pending:
            if journal is not None:
                journal.start()
            runner, owned = resolve_executor(executor, n_workers, address)
            if show:
                from tqdm.auto import tqdm

                bar = tqdm(total=n, initial=n - len(pending), desc=simulator.name, unit="run")
            _execute(simulator, design, pending, runner, timeout, retries, records, journal, bar)
        result = _transfer_set(simulator, design, records)
        if journal is not None:  # while the journal is still locked: a campaign that took
            journal.finish(result)  # the lock in between grew the design, and this stale
    finally:  # runs.parquet and meta.json then gave its new runs another point's outputs
        if owned and runner is not None:
            runner.close()
        if bar is not None:
            bar.close()
        if journal is not None:
            journal.close()
    return result


def _execute(simulator: Simulator, design: Any, pending: list[int], runner: Executor,
             timeout: float | None, retries: int, records: list[RunRecord | None],
             journal: Checkpoint | None, bar: Any) -> None:
    """Run ``pending`` rows, retrying failures; store (and journal) each run's final record."""
    for attempt in range(retries + 1):
        if not pending:
            return
        last = attempt == retries
        again = []
        for record in runner.evaluate(simulator, design, pending, timeout=timeout):
            if record.status != "ok" and not last:
                again.append(record.row)
                continue
            records[record.row] = record
            if journal is not None:
                journal.append(record)
            if bar is not None:
                bar.update(1)
        pending = sorted(again)


def _transfer_set(simulator: Simulator, design: Any, records: list[RunRecord | None]
                  ) -> TransferSet:
    """Assemble the transfer set from one final record per design row."""
    nan_row = (np.nan,) * simulator.n_values
    done = [r for r in records if r is not None]
    if len(done) != len(records):  # pragma: no cover - every pending run yields a record
        raise RuntimeError(f"{len(records) - len(done)} run(s) produced no record")
    values = np.array([nan_row if r.values is None else r.values for r in done], dtype=float)
    return records_to_set(simulator.space, simulator.outputs, simulator.fields, design,
                          values.reshape(len(done), len(nan_row)), done, simulator.name)


def records_to_set(space: Any, outputs: Any, grids: Grids, design: Any, values: np.ndarray,
                   records: list[RunRecord], name: str | None) -> TransferSet:
    """A transfer set from flat run values (n, n_values): scalar outputs, then the fields."""
    m = len(outputs)
    fields = {f: (grids[f], values[:, where]) for f, where in field_slices(m, grids).items()}
    return TransferSet(space, outputs, design, values[:, :m], [r.status for r in records],
                       [r.error for r in records],
                       np.array([r.seconds for r in records], dtype=float), name, fields=fields)
