"""Contract checks and toy teachers shared by the test suites (STYLE 20).

The checks run one implementation through what every implementation of its kind must do:
:func:`check_design` for samplers, :func:`check_executor` for executors. The toy teachers are
module-level (so they pickle by reference into worker processes and Dask workers) and fail in
controlled ways: raising, returning NaN, hanging, or killing the process they run in.
"""

from __future__ import annotations

import functools
import math
import os
import signal
import time
from typing import Any

import numpy as np
import pandas as pd

from surrogate.space import Real, Space
from surrogate.teacher import Simulator

__all__ = ["toy_simulator", "check_executor", "check_design", "TOY_SPACE"]

TOY_SPACE = Space([Real("x", 0.0, 1.0), Real("y", -1.0, 1.0)])


def _toy(x: float, y: float, *, kind: str, log: str | None = None, delay: float = 0.0) -> Any:
    if log is not None:
        # one line per call, appended atomically: lets tests count calls across processes
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{x!r} {y!r}\n".encode())
        finally:
            os.close(fd)
    if delay:
        time.sleep(delay)
    if kind == "flaky" and x > 0.8:
        raise RuntimeError(f"diverged at x={x:.3f}")
    if kind == "nan" and x < 0.1:
        return {"f": math.nan, "g": y}
    if kind == "sleepy" and x > 0.9:
        time.sleep(60)
    if kind == "killer" and 0.45 < x < 0.5:
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "wrong" and x > 0.5:
        return [x, y, x * y]
    return {"f": x * x + y, "g": math.sin(3 * x) * y}


def _toy_vectorized(X: pd.DataFrame, *, kind: str) -> np.ndarray:
    x, y = X["x"].to_numpy(), X["y"].to_numpy()
    if kind == "flaky" and (x > 0.8).any():
        raise RuntimeError("a point with x > 0.8 in the batch")
    out = np.column_stack([x * x + y, np.sin(3 * x) * y])
    if kind == "nan":
        out[x < 0.1] = np.nan
    return out


def toy_simulator(kind: str = "ok", *, vectorized: bool = False, log: str | None = None,
                  delay: float = 0.0) -> Simulator:
    """A two-output teacher on :data:`TOY_SPACE`: ``f = x^2 + y``, ``g = sin(3x) y``.

    ``kind`` makes some runs fail: ``"flaky"`` raises for x > 0.8, ``"nan"`` returns NaN for
    x < 0.1, ``"sleepy"`` hangs for x > 0.9, ``"killer"`` SIGKILLs its own process for
    0.45 < x < 0.5 (use only with worker processes), ``"wrong"`` returns three values for x > 0.5.
    ``log`` names a file that gets a line per call; ``delay`` adds seconds to every call.
    """
    kinds = ("ok", "flaky", "nan", "sleepy", "killer", "wrong")
    if kind not in kinds:
        raise ValueError(f"kind must be one of {kinds}, got {kind!r}")
    if vectorized:
        fn: Any = functools.partial(_toy_vectorized, kind=kind)
    else:
        fn = functools.partial(_toy, kind=kind, log=log, delay=delay)
    return Simulator(fn, TOY_SPACE, ["f", "g"], vectorized=vectorized, name=f"toy-{kind}")


def expected_toy(X: pd.DataFrame) -> np.ndarray:
    """The toy teacher's outputs, computed directly."""
    x, y = X["x"].to_numpy(), X["y"].to_numpy()
    return np.column_stack([x * x + y, np.sin(3 * x) * y])


def check_executor(executor: Any, n: int = 40, seed: int = 0) -> None:
    """Assert that ``executor`` gives the serial reference's results, failures included."""
    from surrogate.design import sample

    design = sample(TOY_SPACE, n, seed=seed)
    for kind in ("ok", "flaky", "nan"):
        sim = toy_simulator(kind)
        reference = sim.run(design, executor="serial")
        result = sim.run(design, executor=executor)
        assert result.status.tolist() == reference.status.tolist(), kind
        np.testing.assert_allclose(result.Y.to_numpy(), reference.Y.to_numpy(), equal_nan=True)
        assert result.error.tolist() == reference.error.tolist(), kind
    ok = toy_simulator("ok").run(design, executor=executor)
    np.testing.assert_allclose(ok.Y.to_numpy(), expected_toy(design))


def check_design(space: Space, design: pd.DataFrame, n: int) -> None:
    """Assert that a design has ``n`` valid points of ``space`` in its column order."""
    assert len(design) == n, f"{len(design)} points, expected {n}"
    assert list(design.columns) == space.names
    pd.testing.assert_frame_equal(space.validate(design), design.reset_index(drop=True),
                                  check_dtype=False)
