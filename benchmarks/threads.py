"""The driver's thread policy: the libraries' default threads vs the package's default ("auto").

Each cell runs in a fresh Python process whose environment has no thread variables (so torch and
OpenBLAS start with their own defaults, one thread per core), on an idle machine and on a loaded
one (one busy process per core beside it, as when workers or other jobs share the machine).
Policies: ``set_threads(None)`` (never touch the libraries' settings: what the package did before)
and the default ``"auto"`` (one thread below 5,000 training points). Timings are the median of 3.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks._common import markdown_table

DESCRIPTION = "Driver thread policy: library-default threads vs surrogate's default, idle and loaded"

_CHILD = r"""
import json, statistics, sys, time
import numpy as np
import surrogate as sg
import simulators
policy = json.loads(sys.argv[1]); task = sys.argv[2]; quick = sys.argv[3] == "1"
sg.set_threads(policy)
grid = simulators.load("dsgc")
n = 200 if task == "gp_fit" else (200 if quick else 800)
runs = grid.run(sg.sample(grid.space, n, seed=0)).valid()
X = runs.X.iloc[:, :7] if task == "gp_fit" else runs.X
y = runs.Y["stab"].to_numpy()
def once():
    if task == "gp_fit":
        sg.GPRegressor(seed=0).fit(X, y)
    else:
        sg.REDS(seed=0, n_samples=20_000 if quick else 100_000).fit(X, y < 0, space=grid.space)
times = []
for _ in range(3):
    start = time.perf_counter(); once(); times.append(time.perf_counter() - start)
print(json.dumps({"seconds": statistics.median(times)}))
"""


def _burn(stop: Any) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def _clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                        "SURROGATE_NUM_THREADS")}
    return env


def _cell(task: str, policy: Any, quick: bool) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(policy), task, "1" if quick else "0"],
        env=_clean_environment(), capture_output=True, text=True, timeout=1800, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def run(quick: bool = False) -> tuple[dict[str, Any], str]:
    rows = []
    for load in ("idle", "loaded"):
        stop = mp.Event()
        burners = [mp.Process(target=_burn, args=(stop,), daemon=True)
                   for _ in range((os.cpu_count() or 1) if load == "loaded" else 0)]
        for burner in burners:
            burner.start()
        time.sleep(0.5 if burners else 0)
        try:
            for task in ("gp_fit", "reds"):
                library = _cell(task, None, quick)
                ours = _cell(task, "auto", quick)
                rows.append({"task": task, "machine": load, "library_threads_s": library,
                             "auto_s": ours, "ratio_auto_over_library": ours / library})
        finally:
            stop.set()
            for burner in burners:
                burner.join()
    table = markdown_table(rows)
    return {"rows": rows}, table
