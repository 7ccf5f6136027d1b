"""Executor overhead and parallel speed-up, side by side with EMA Workbench's evaluators.

1. Overhead per run on a trivially cheap teacher (the sum of three inputs), 10,000 runs: ours
   (serial; processes with 2 workers) against EMA Workbench's ``perform_experiments`` with its
   sequential and multiprocessing (2 processes) evaluators, and a plain Python loop as the floor.
2. Speed-up of our process executor with 2 workers on a teacher that sleeps 0.1 s per run.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

import surrogate as sg
from benchmarks._common import markdown_table

DESCRIPTION = ("Executor overhead per run (cheap teacher, 10,000 runs) vs EMA Workbench's "
               "sequential and multiprocessing evaluators; process speed-up on a 0.1 s teacher.")

SPACE = sg.Space([sg.Real(f"x{i}", 0.0, 1.0) for i in range(1, 4)])


def cheap(x1: float, x2: float, x3: float) -> float:
    return x1 + x2 + x3


def cheap_dict(x1: float, x2: float, x3: float) -> dict[str, float]:
    """The same teacher in the form EMA Workbench expects (a dict of outcomes)."""
    return {"y": x1 + x2 + x3}


def slow(x1: float, x2: float, x3: float) -> float:
    time.sleep(0.1)
    return x1 + x2 + x3


def _ema_seconds(n: int, parallel: bool) -> float:
    from ema_workbench import (
        Model,
        MultiprocessingEvaluator,
        RealParameter,
        ScalarOutcome,
        SequentialEvaluator,
    )

    logging.getLogger("EMA").setLevel(logging.WARNING)
    model = Model("sum", function=cheap_dict)
    model.uncertainties = [RealParameter(f"x{i}", 0.0, 1.0) for i in range(1, 4)]
    model.outcomes = [ScalarOutcome("y")]
    start = time.perf_counter()
    if parallel:
        with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
            evaluator.perform_experiments(scenarios=n)
    else:
        with SequentialEvaluator(model) as evaluator:
            evaluator.perform_experiments(scenarios=n)
    return time.perf_counter() - start


def _ours_seconds(design: Any, executor: str, fn: Any = cheap) -> float:
    sim = sg.Simulator(fn, SPACE, "y")
    start = time.perf_counter()
    ts = sim.run(design, executor=executor, n_workers=2, progress=False)
    seconds = time.perf_counter() - start
    assert ts.ok.all()
    return seconds


def _plain_loop_seconds(design: Any) -> float:
    rows = design.to_dict("records")
    start = time.perf_counter()
    out = np.array([cheap(**row) for row in rows])
    seconds = time.perf_counter() - start
    assert out.shape == (len(rows),)
    return seconds


def run(quick: bool) -> tuple[dict[str, Any], str]:
    n = 1_000 if quick else 10_000
    design = sg.sample(SPACE, n, seed=0)
    per_run = {}  # microseconds per run, best of 3 for ours (EMA once per repeat too)
    repeats = 1 if quick else 3
    for label, measure in [
        ("plain loop", lambda: _plain_loop_seconds(design)),
        ("surrogate serial", lambda: _ours_seconds(design, "serial")),
        ("EMA sequential", lambda: _ema_seconds(n, parallel=False)),
        ("surrogate processes (2)", lambda: _ours_seconds(design, "processes")),
        ("EMA multiprocessing (2)", lambda: _ema_seconds(n, parallel=True)),
    ]:
        per_run[label] = min(measure() for _ in range(repeats)) / n * 1e6
    rows = [
        {"executor": "sequential", "surrogate us/run": per_run["surrogate serial"],
         "EMA us/run": per_run["EMA sequential"],
         "ours / EMA": per_run["surrogate serial"] / per_run["EMA sequential"],
         "target": "<= 0.1"},
        {"executor": "2 processes", "surrogate us/run": per_run["surrogate processes (2)"],
         "EMA us/run": per_run["EMA multiprocessing (2)"],
         "ours / EMA": per_run["surrogate processes (2)"] / per_run["EMA multiprocessing (2)"],
         "target": "<= 0.1"},
    ]
    n_slow = 8 if quick else 40
    slow_design = sg.sample(SPACE, n_slow, seed=1)
    serial = _ours_seconds(slow_design, "serial", slow)
    processes = _ours_seconds(slow_design, "processes", slow)
    speedup = {"runs": n_slow, "serial_s": serial, "processes_s": processes,
               "speedup": serial / processes, "target": ">= 1.8"}
    table = (
        markdown_table(rows)
        + f"\nPlain Python loop (the floor): {per_run['plain loop']:.2f} us/run; n = {n} runs.\n\n"
        + markdown_table([speedup])
    )
    return {"n_runs": n, "us_per_run": per_run, "overhead": rows, "speedup": speedup}, table
