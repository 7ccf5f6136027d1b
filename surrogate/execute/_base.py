"""The executor protocol: where runs execute. Serial is the default and the reference."""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Set
from typing import Any

import pandas as pd

from surrogate.execute._evaluate import RunRecord
from surrogate.teacher import Simulator


class Executor:
    """Base class of executors: evaluate design rows of a simulator, yielding records as runs finish.

    Executors are context managers; leaving the ``with`` block releases their workers.

    Subclassing
    -----------
    Implement ``_evaluate(simulator, rows, points, timeout) -> Iterator[RunRecord]`` yielding
    exactly one record per row, in any order, and never raising for a failing run; override
    ``close`` to release resources. The public :meth:`evaluate` validates and converts inputs.

    Examples
    --------
    >>> import surrogate as sg
    >>> sim = sg.Simulator(lambda x: 2 * x, sg.Space([sg.Real("x", 0.0, 1.0)]), ["y"])
    >>> with sg.SerialExecutor() as executor:
    ...     runs = sim.run([[0.25], [0.5]], executor=executor, progress=False)
    >>> isinstance(executor, sg.Executor), runs.Y["y"].tolist()
    (True, [0.5, 1.0])
    """

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release workers (a no-op for the serial executor)."""

    def evaluate(
        self,
        simulator: Simulator,
        design: pd.DataFrame,
        rows: Sequence[int] | None = None,
        *,
        timeout: float | None = None,
    ) -> Iterator[RunRecord]:
        """Evaluate ``design`` (validated, in the simulator's space) at ``rows`` (default: all)."""
        if not isinstance(simulator, Simulator):
            raise TypeError(f"expected a surrogate.Simulator, got {type(simulator).__name__}")
        if rows is None:
            rows = range(len(design))
        rows = [int(r) for r in rows]
        if not rows:
            return iter(())
        return self._evaluate(simulator, rows, design_records(design, rows), timeout)

    def _evaluate(
        self,
        simulator: Simulator,
        rows: list[int],
        points: list[dict[str, Any]],
        timeout: float | None,
    ) -> Iterator[RunRecord]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def n_workers(self) -> int:
        """How many runs can execute at once (batch sizes for optimization use it)."""
        return 1


def design_records(design: pd.DataFrame, rows: Sequence[int]) -> list[dict[str, Any]]:
    """One dict of Python-native parameter values per row (several times faster than
    ``DataFrame.to_dict("records")``, which matters for cheap teachers)."""
    subset = design.iloc[list(rows)]
    names = [str(c) for c in subset.columns]
    columns = [subset[c].tolist() for c in subset.columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def chunked(items: Sequence[Any], size: int, avoid: Set[int] = frozenset()
            ) -> list[Sequence[Any]]:
    """Split ``items`` into consecutive chunks of about ``size`` (the nearest size not in
    ``avoid`` that fits, larger first; 1 always fits)."""
    chunks, start = [], 0
    while start < len(items):
        left = len(items) - start
        wanted = min(size, left)
        nearby = (wanted + step * sign for step in range(left + 1) for sign in (1, -1))
        take = next(k for k in nearby if 1 <= k <= left and (k == 1 or k not in avoid))
        chunks.append(items[start:start + take])
        start += take
    return chunks


def paired_chunks(rows: Sequence[int], points: Sequence[dict[str, Any]], size: int,
                  avoid: Set[int] = frozenset()
                  ) -> list[tuple[Sequence[int], Sequence[dict[str, Any]]]]:
    """Design rows and their points in the same chunks (:func:`chunked`)."""
    return list(zip(chunked(rows, size, avoid), chunked(points, size, avoid), strict=True))


def default_chunksize(n_runs: int, n_workers: int, cap: int = 256) -> int:
    """Chunks small enough to balance load (about 8 per worker), large enough to amortize I/O."""
    return max(1, min(cap, -(-n_runs // (8 * n_workers))))
