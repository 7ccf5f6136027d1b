"""Executors and the campaign runner: where teacher runs execute, and how they are recorded.

``serial`` (the reference), ``processes`` (a local pool that survives dying workers) and ``dask``
(a ``distributed`` cluster); :func:`run_campaign` adds retries, checkpoints and a progress bar.
"""

from surrogate.execute._base import Executor
from surrogate.execute._campaign import resolve_executor, run_campaign
from surrogate.execute._checkpoint import checkpoint_design
from surrogate.execute._dask import DaskExecutor
from surrogate.execute._evaluate import RunRecord
from surrogate.execute._process import ProcessExecutor, limit_threads
from surrogate.execute._serial import SerialExecutor

__all__ = [
    "Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "RunRecord",
    "run_campaign", "resolve_executor", "limit_threads", "checkpoint_design",
]
