"""Serial executor: runs in this process, one after another (the reference)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from surrogate.execute._base import Executor
from surrogate.execute._evaluate import RunRecord, evaluate_chunk
from surrogate.teacher import Simulator


class SerialExecutor(Executor):
    """Run every simulation in this process, in design order.

    Timeouts use SIGALRM when called from the main thread (the run is interrupted), a watcher
    thread otherwise (the overrunning run is abandoned, not stopped). Python handles SIGALRM only
    between bytecodes, so a run hung inside C code (a compiled solver, a blocking system call)
    is not interrupted and the timeout is not enforced: use :class:`ProcessExecutor`, which kills
    and replaces a worker whose run overstays, when runs can hang. An external program a
    timed-out run started is not stopped here either (it is no child of a group of ours);
    :class:`ProcessExecutor` ends it with the run.

    Examples
    --------
    >>> from surrogate import Real, Space, Simulator
    >>> sim = Simulator(lambda x: 2 * x, Space([Real("x", 0, 1)]), "y")
    >>> with SerialExecutor() as ex:
    ...     records = list(ex.evaluate(sim, sim.space.validate([[0.5]])))
    >>> records[0].values
    (1.0,)
    """

    def _evaluate(
        self, simulator: Simulator, rows: list[int], points: list[dict[str, Any]],
        timeout: float | None,
    ) -> Iterator[RunRecord]:
        return evaluate_chunk(simulator, rows, points, timeout, in_driver=True)
