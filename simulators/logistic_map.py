"""Logistic map teacher: a difference equation iterated for a whole design at once.

Equation (May 1976)::

    x_{t+1} = r x_t (1 - x_t),    x_0 = x0

iterated ``n_transient`` times (default 1,000) to forget the start, then ``n_average`` more
times (default 1,000) over which the outputs are measured.

Parameters (uniform ranges)
---------------------------
==  =============  ===========================
r   [1, 4]         growth rate
x0  [0.01, 0.99]   initial state (share of the carrying capacity)
==  =============  ===========================

Outputs
-------
==========  ===================================================================================
mean        mean of x_t over the measured iterations
converges   1.0 when the orbit has reached a fixed point: every step over the measured
            iterations moves less than ``tolerance`` (default 1e-8), ``|x_{t+1} - x_t| < tol``;
            else 0.0
lyapunov    Lyapunov exponent estimate: mean of ``ln |r (1 - 2 x_t)|`` over the measured
            iterations (a factor exactly 0, at a superstable point, counts as the smallest
            normal double, ``np.finfo(float).tiny``, ``ln`` = -708)
==========  ===================================================================================

Oracles: for ``1 < r < 3`` the orbit converges to ``x* = 1 - 1/r`` with Lyapunov exponent
``ln |2 - r|`` and mean ``x*``; for ``r > 3`` the fixed point is unstable (period doubling,
then chaos from ``r ~ 3.5699``); at ``r = 4`` the exponent is ``ln 2``. Close to ``r = 1`` and
``r = 3`` convergence is slow (rate ``|2 - r|`` per step), so ``converges`` matches the oracle
only away from these boundaries. The map is deterministic: no seed.

References
----------
.. [1] R. M. May, "Simple mathematical models with very complicated dynamics", Nature 261,
   459-467, 1976.

Examples
--------
>>> import simulators
>>> out = simulators.load("logistic_map")([[2.5, 0.1], [4.0, 0.1]])
>>> out["converges"].tolist(), round(float(out["mean"].iloc[0]), 6)
([1.0, 0.0], 0.6)
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from simulators._integrate import check_count, teacher_name
from surrogate.space import Real, Space
from surrogate.teacher import Simulator

__all__ = ["SPACE", "OUTPUTS", "simulator", "simulate"]

SPACE = Space([Real("r", 1.0, 4.0), Real("x0", 0.01, 0.99)])
OUTPUTS = ("mean", "converges", "lyapunov")


def simulator(*, n_transient: int = 1000, n_average: int = 1000,
              tolerance: float = 1e-8) -> Simulator:
    """The logistic-map teacher as a vectorized :class:`~surrogate.Simulator`.

    Parameters
    ----------
    n_transient : int, default 1000
        Iterations discarded before measuring.
    n_average : int, default 1000
        Iterations the outputs are measured on.
    tolerance : float, default 1e-8
        Largest step ``|x_{t+1} - x_t|`` of an orbit that counts as converged.

    Returns
    -------
    surrogate.Simulator

    Examples
    --------
    >>> simulator(n_transient=100, n_average=100).outputs
    ('mean', 'converges', 'lyapunov')
    """
    n_transient = check_count("n_transient", n_transient, 0)
    n_average = check_count("n_average", n_average, 1)
    if not isinstance(tolerance, (int, float, np.integer, np.floating)) \
            or isinstance(tolerance, bool) or not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be a number in (0, 1), got {tolerance!r}")
    fn = functools.partial(simulate, n_transient=n_transient, n_average=n_average,
                           tolerance=float(tolerance))
    return Simulator(fn, SPACE, OUTPUTS, vectorized=True,
                     name=teacher_name("logistic_map", simulator, **fn.keywords))


def simulate(X: pd.DataFrame, *, n_transient: int = 1000, n_average: int = 1000,
             tolerance: float = 1e-8) -> np.ndarray:
    """Iterate every design point at once; return outputs of shape (n, 3).

    Examples
    --------
    >>> import pandas as pd
    >>> simulate(pd.DataFrame({"r": [2.5], "x0": [0.3]})).round(6).tolist()  # x* = 0.6, ln 0.5
    [[0.6, 1.0, -0.693147]]
    """
    frame = pd.DataFrame(X)
    r = frame["r"].to_numpy(dtype=float)
    x = frame["x0"].to_numpy(dtype=float).copy()
    for _ in range(n_transient):
        x = r * x * (1.0 - x)
    total = np.zeros_like(x)
    largest_move = np.zeros_like(x)
    log_slope = np.zeros_like(x)
    tiny = np.finfo(float).tiny
    for _ in range(n_average):
        total += x
        log_slope += np.log(np.maximum(np.abs(r * (1.0 - 2.0 * x)), tiny))
        following = r * x * (1.0 - x)
        largest_move = np.maximum(largest_move, np.abs(following - x))
        x = following
    converges = (largest_move < tolerance).astype(float)
    return np.column_stack([total / n_average, converges, log_slope / n_average])
