"""Shared plumbing for benchmarks: thread pinning, timing, machine info, result writing."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def pin_threads(n: int = 1) -> int:
    """Pin BLAS/OpenMP/torch threads to ``n`` (call before heavy imports where possible)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:  # pragma: no cover
        pass
    return n


def machine_info(threads: int) -> dict[str, Any]:
    """What the figures were measured on."""
    import importlib.metadata as md

    versions = {}
    for dist in ("surrogate-discovery", "numpy", "scipy", "torch", "gpytorch", "scikit-learn",
                 "SALib", "ema_workbench", "prim", "smt", "botorch", "scikit-optimize", "dask"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "threads": threads,
        "load_avg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "versions": versions,
    }


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """``with timer() as t: ...`` then ``t["s"]`` holds the wall seconds."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["s"] = time.perf_counter() - start


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Run ``fn`` ``repeat`` times; return the shortest wall time and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A GitHub-style table of ``rows`` (dicts); floats get 4 significant digits."""
    if not rows:
        return "(no rows)\n"
    columns = list(columns or rows[0].keys())

    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_results(name: str, payload: dict[str, Any], table: str) -> Path:
    """Write ``results/NAME.json`` (payload) and ``results/NAME.md`` (title, machine, table)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    info = payload.get("machine", {})
    header = (
        f"# {name}\n\n{payload.get('description', '')}\n\n"
        f"Measured {info.get('date', '?')} on {info.get('cpus', '?')} CPUs, "
        f"{info.get('threads', '?')} numerical thread(s), load {info.get('load_avg', '?')}.\n"
        f"Reproduce: `{payload.get('command', 'python -m benchmarks ' + name)}`\n\n"
    )
    (RESULTS / f"{name}.md").write_text(header + table)
    return path


def _jsonable(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(value)
