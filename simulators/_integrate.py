"""Batched explicit Runge-Kutta integration for the ODE teachers.

A design of ``n`` points is integrated as one batch: the right-hand side is evaluated on an
``(n_active, d)`` state array, and every trajectory keeps its own time, step size and error
control (Dormand-Prince 5(4), the method of ``scipy.integrate.solve_ivp(method="RK45")``).
Trajectories that finish, or fail (non-finite state, step-size underflow, too many steps), leave
the active set, so one slow trajectory costs only its own work. A failed trajectory yields NaN
at the output times; nothing is raised for it.

Output values at the requested times come from the method's continuous extension (fourth-order
dense output), so the step size is never shortened to hit an output time.

References
----------
.. [1] J. R. Dormand, P. J. Prince, "A family of embedded Runge-Kutta formulae", Journal of
   Computational and Applied Mathematics 6(1), 19-26, 1980.
.. [2] E. Hairer, S. P. Norsett, G. Wanner, "Solving Ordinary Differential Equations I",
   2nd ed., Springer, 1993, Sec. II.4 (step-size control, initial step) and II.6 (dense output).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BatchSolution", "check_positive", "check_settings", "dopri5", "field_points",
           "solve_ivp_each", "teacher_name"]

# Right-hand side: f(t (n,), y (n, d), params (n, p)) -> dy/dt (n, d).
RHS = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

# Dormand-Prince 5(4) tableau [1, Table 1]; row i holds a_{i+1, j}.
_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
_A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
]
_A_MATRIX = np.array([row + [0.0] * (7 - len(row)) for row in _A])
# The fifth-order weights equal the last row (first same as last: k7 is the next step's k1).
_B = np.array(_A[6] + [0.0])
# Fifth-order minus embedded fourth-order weights: the local error estimate.
_E = np.array([71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40])
# Dense-output weights of the fourth-order continuous extension [2, Sec. II.6].
_D = np.array([
    -12715105075 / 11282082432, 0.0, 87487479700 / 32700410799, -10690763975 / 1880347072,
    701980252875 / 199316789632, -1453857185 / 822651844, 69997945 / 29380423,
])

_SAFETY, _MIN_FACTOR, _MAX_FACTOR = 0.9, 0.2, 10.0


@dataclass(frozen=True)
class BatchSolution:
    """States of a batch of trajectories at common output times.

    Attributes
    ----------
    t : ndarray, shape (k,)
        Output times.
    y : ndarray, shape (n, k, d)
        States; NaN for every time of a failed trajectory.
    ok : ndarray of bool, shape (n,)
        Whether each trajectory reached the final time.
    n_steps : ndarray of int, shape (n,)
        Steps attempted per trajectory (accepted and rejected).
    """

    t: np.ndarray
    y: np.ndarray
    ok: np.ndarray
    n_steps: np.ndarray


def dopri5(
    rhs: RHS,
    y0: np.ndarray,
    params: np.ndarray,
    t_eval: np.ndarray,
    *,
    t0: float = 0.0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 100_000,
) -> BatchSolution:
    """Integrate ``dy/dt = rhs(t, y, params)`` for a batch of initial states and parameters.

    Parameters
    ----------
    rhs : callable
        ``rhs(t, y, params)`` with ``t`` of shape (m,), ``y`` of shape (m, d) and ``params`` of
        shape (m, p), for any subset of m trajectories; returns dy/dt of shape (m, d).
    y0 : ndarray, shape (n, d)
        Initial states at ``t0``.
    params : ndarray, shape (n, p)
        Parameters of each trajectory.
    t_eval : ndarray, shape (k,)
        Increasing output times in ``[t0, t_end]``; the last one is the final time.
    t0 : float
        Initial time.
    rtol, atol : float
        Error tolerances, used as in ``solve_ivp``: the RMS over components of
        ``err / (atol + rtol * max(|y_old|, |y_new|))`` must stay below 1.
    max_steps : int
        Attempted steps allowed per trajectory before it counts as failed.

    Returns
    -------
    BatchSolution
    """
    y0 = np.asarray(y0, dtype=float)
    params = np.asarray(params, dtype=float)
    t_eval = np.asarray(t_eval, dtype=float)
    n, d = y0.shape
    out = np.full((n, t_eval.size, d), np.nan)
    ok = np.zeros(n, dtype=bool)
    n_steps = np.zeros(n, dtype=np.int64)
    if n == 0:
        return BatchSolution(t_eval, out, ok, n_steps)
    t_end = float(t_eval[-1])
    state = _State.start(rhs, y0, params, t0, t_end, t_eval, out, rtol, atol)
    padded = np.append(t_eval, np.inf)  # so "next output time" exists for finished rows too
    with np.errstate(all="ignore"):  # overflow marks a failed trajectory, handled below
        while state.rows.size:
            state.step(rhs, padded, out, t_end, rtol, atol)
            n_steps[state.rows] += 1
            done = state.t >= t_end
            ok[state.rows[done]] = True
            failed = state.failed(t_end) | (n_steps[state.rows] >= max_steps)
            failed &= ~done
            out[state.rows[failed]] = np.nan
            state.keep(~(done | failed))
    return BatchSolution(t_eval, out, ok, n_steps)


@dataclass
class _State:
    """Working arrays of the still-active trajectories (compacted as rows leave)."""

    rows: np.ndarray  # (m,) index into the batch
    t: np.ndarray  # (m,)
    y: np.ndarray  # (m, d)
    k1: np.ndarray  # (m, d) dy/dt at (t, y)
    h: np.ndarray  # (m,) next step size
    params: np.ndarray  # (m, p)
    next_out: np.ndarray  # (m,) index of the next output time to fill
    rejected: np.ndarray  # (m,) whether the current step was already rejected once

    @classmethod
    def start(cls, rhs: RHS, y0: np.ndarray, params: np.ndarray, t0: float, t_end: float,
              t_eval: np.ndarray, out: np.ndarray, rtol: float, atol: float) -> _State:
        n = y0.shape[0]
        t = np.full(n, float(t0))
        k1 = rhs(t, y0, params)
        h = _initial_step(rhs, t, y0, k1, params, t_end - t0, rtol, atol)
        next_out = np.zeros(n, dtype=np.int64)
        at_start = t_eval <= t0
        out[:, at_start] = y0[:, None, :]
        next_out[:] = int(at_start.sum())
        return cls(np.arange(n), t, y0.copy(), k1, h, params, next_out, np.zeros(n, dtype=bool))

    def step(self, rhs: RHS, t_eval: np.ndarray, out: np.ndarray, t_end: float,
             rtol: float, atol: float) -> None:
        """Attempt one step for every active trajectory; accept or shrink per row."""
        m, d = self.y.shape
        h = np.minimum(self.h, t_end - self.t)
        hcol = h[:, None]
        ks = np.empty((7, m, d))  # stage derivatives
        ks[0] = self.k1
        # each stage combined row by row with scalar coefficients: a matrix product over the
        # whole batch (A @ ks) rounded each row by the batch's size and the row's place, so a
        # point's steps, and a chaotic teacher's outputs, depended on the other points run
        # beside it (Lorenz's z_mean 23.34 in a batch of 3, 24.19 alone)
        for i in range(1, 7):
            increment = sum(_A_MATRIX[i, j] * ks[j] for j in range(i))
            ks[i] = rhs(self.t + _C[i] * h, self.y + hcol * increment, self.params)
        y_new = self.y + hcol * sum(_B[j] * ks[j] for j in range(7))
        error = hcol * sum(_E[j] * ks[j] for j in range(7))
        scale = atol + rtol * np.maximum(np.abs(self.y), np.abs(y_new))
        norm = np.sqrt(np.mean((error / scale) ** 2, axis=1))
        accept = norm <= 1.0  # False for NaN: a non-finite step is rejected and shrunk

        # step-size update [2, Eq. II.4.13]; no growth right after a rejection
        factor = np.where(norm == 0.0, _MAX_FACTOR, _SAFETY * norm ** -0.2)
        factor = np.where(np.isfinite(factor), factor, _MIN_FACTOR)
        grow = np.minimum(factor, np.where(self.rejected, 1.0, _MAX_FACTOR))
        shrink = np.clip(factor, _MIN_FACTOR, 1.0)
        t_new = np.where(h >= t_end - self.t, t_end, self.t + h)

        pending = accept & (t_eval[self.next_out] <= t_new)  # t_eval ends with +inf padding
        if pending.any():
            self._dense_output(np.flatnonzero(pending), h, t_new, y_new, ks, t_eval, out)
        self.t = np.where(accept, t_new, self.t)
        self.y = np.where(accept[:, None], y_new, self.y)
        self.k1 = np.where(accept[:, None], ks[6], self.k1)
        self.h = h * np.where(accept, grow, shrink)
        self.rejected = ~accept

    def _dense_output(self, idx: np.ndarray, h: np.ndarray, t_new: np.ndarray,
                      y_new: np.ndarray, ks: np.ndarray, t_eval: np.ndarray,
                      out: np.ndarray) -> None:
        """Fill the output times passed by this step (rows ``idx``) from the interpolant."""
        y0, hh = self.y[idx], h[idx][:, None]
        # Hermite-type form of the continuous extension [2, Sec. II.6]: r2..r5, (m, d) each
        r2 = y_new[idx] - y0
        r3 = hh * ks[0, idx] - r2
        r4 = r2 - hh * ks[6, idx] - r3
        r5 = hh * sum(_D[j] * ks[j, idx] for j in range(7))
        # every output time in (t_old, t_new] of every row, flattened: (total,)
        first = self.next_out[idx]
        counts = np.searchsorted(t_eval, t_new[idx], side="right") - first
        owner = np.repeat(np.arange(idx.size), counts)
        position = first[owner] + np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts,
                                                                    counts)
        theta = ((t_eval[position] - self.t[idx][owner]) / hh[owner, 0])[:, None]
        theta1 = 1.0 - theta
        out[self.rows[idx][owner], position] = y0[owner] + theta * (
            r2[owner] + theta1 * (r3[owner] + theta * (r4[owner] + theta1 * r5[owner])))
        self.next_out[idx] = first + counts

    def failed(self, t_end: float) -> np.ndarray:
        """Trajectories whose step size underflowed or whose state is no longer finite."""
        tiny = 10.0 * np.spacing(np.maximum(np.abs(self.t), abs(t_end)))
        return (self.h < tiny) | ~np.isfinite(self.h) | ~np.isfinite(self.y).all(axis=1)

    def keep(self, mask: np.ndarray) -> None:
        if mask.all():
            return
        for name in ("rows", "t", "y", "k1", "h", "params", "next_out", "rejected"):
            setattr(self, name, getattr(self, name)[mask])


def _initial_step(rhs: RHS, t: np.ndarray, y0: np.ndarray, f0: np.ndarray, params: np.ndarray,
                  span: float, rtol: float, atol: float) -> np.ndarray:
    """Per-row starting step from the size of y and its first two derivatives [2, Sec. II.4]."""
    scale = atol + np.abs(y0) * rtol
    with np.errstate(all="ignore"):
        d0 = np.sqrt(np.mean((y0 / scale) ** 2, axis=1))
        d1 = np.sqrt(np.mean((f0 / scale) ** 2, axis=1))
        h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / d1)
        h0 = np.minimum(np.nan_to_num(h0, nan=1e-6), span)
        f1 = rhs(t + h0, y0 + h0[:, None] * f0, params)
        d2 = np.sqrt(np.mean(((f1 - f0) / scale) ** 2, axis=1)) / h0
        big = np.maximum(d1, d2)
        h1 = np.where(big <= 1e-15, np.maximum(1e-6, h0 * 1e-3), (0.01 / big) ** 0.2)
        h1 = np.nan_to_num(h1, nan=1e-6)
    return np.minimum(np.minimum(100 * h0, h1), span)


def solve_ivp_each(
    rhs: RHS,
    y0: np.ndarray,
    params: np.ndarray,
    t_eval: np.ndarray,
    *,
    t0: float = 0.0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> BatchSolution:
    """The per-sample reference: one ``solve_ivp(method="RK45")`` call per trajectory.

    Same inputs and result as :func:`dopri5`; used by the tests and the benchmark to check
    and time the batched integrator against SciPy.
    """
    from scipy.integrate import solve_ivp

    y0 = np.asarray(y0, dtype=float)
    params = np.asarray(params, dtype=float)
    t_eval = np.asarray(t_eval, dtype=float)
    n, d = y0.shape
    out = np.full((n, t_eval.size, d), np.nan)
    ok = np.zeros(n, dtype=bool)
    n_steps = np.zeros(n, dtype=np.int64)
    for i in range(n):
        row = params[i : i + 1]

        def one(t: float, y: np.ndarray, row: np.ndarray = row) -> np.ndarray:
            return rhs(np.array([t]), y[None, :], row)[0]

        with np.errstate(all="ignore"):
            solution = solve_ivp(one, (t0, float(t_eval[-1])), y0[i], method="RK45",
                                 t_eval=t_eval, rtol=rtol, atol=atol)
        n_steps[i] = solution.nfev // 6
        if solution.success and np.isfinite(solution.y).all():
            out[i] = solution.y.T
            ok[i] = True
    return BatchSolution(t_eval, out, ok, n_steps)


def check_positive(**values: float) -> dict[str, float]:
    """Validate positive finite numbers given by keyword; return them as floats."""
    checked = {}
    for name, value in values.items():
        if (not isinstance(value, (int, float, np.floating, np.integer)) or isinstance(value, bool)
                or not np.isfinite(value) or value <= 0):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        checked[name] = float(value)
    return checked


def check_count(name: str, value: Any, minimum: int) -> int:
    """An int (numpy's too, not a bool) of at least ``minimum``, or one error naming it."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def check_settings(rtol: float, atol: float, max_steps: int) -> dict[str, Any]:
    """Validate the integrator settings a teacher's factory accepts (one place for all)."""
    check_positive(rtol=rtol, atol=atol)
    if rtol < 100 * np.finfo(float).eps:
        raise ValueError(f"rtol must be at least {100 * np.finfo(float).eps:.1e}, got {rtol!r}")
    if not isinstance(max_steps, (int, np.integer)) or isinstance(max_steps, bool) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
    return {"rtol": float(rtol), "atol": float(atol), "max_steps": int(max_steps)}


def teacher_name(name: str, factory: Callable[..., Any], **options: Any) -> str:
    """A bundled teacher's name: ``name`` with the options set away from ``factory``'s
    defaults, e.g. ``lake(seed=2)``. A checkpoint belongs to one name (and the code, which
    options do not change): with the bare name for every option, runs checkpointed with one
    seed or tolerance were resumed, without a word, by a teacher with another.

    Examples
    --------
    >>> def make(*, seed=0, rtol=1e-8): ...
    >>> teacher_name("toy", make, seed=2, rtol=1e-8), teacher_name("toy", make, seed=0)
    ('toy(seed=2)', 'toy')
    """
    from surrogate._identity import _stable_description  # the same text in every process

    defaults = {key: p.default for key, p in inspect.signature(factory).parameters.items()}
    described = {key: _stable_description(value) for key, value in options.items()}
    changed = ", ".join(f"{key}={text}" for key, text in described.items()
                        if text != _stable_description(defaults[key]))
    return f"{name}({changed})" if changed else name


MAX_GRID_POINTS = 10_000_000  # an output grid longer than this is a mistake (80 MB per run)


def grid_points(name: str, span: float, dt: float) -> int:
    """Points of an output grid of spacing ``dt`` over ``span`` (both ends included): ``span``
    must be a whole multiple of ``dt`` (else the grid's spacing would not be ``dt``, nor a
    field's ``field_dt``), and the grid at most MAX_GRID_POINTS long. ``name`` is the option
    that sets ``span``, for the message.

    Examples
    --------
    >>> grid_points("t_end", 10.0, 0.1)
    101
    """
    steps = span / dt
    if not np.isfinite(steps) or steps + 1 > MAX_GRID_POINTS:
        raise ValueError(f"{name}={span!r} and dt={dt!r} make {steps:.3g} grid steps; at most "
                         f"{MAX_GRID_POINTS - 1:,}: raise dt or shorten {name}")
    n = int(round(steps))
    if n < 1 or abs(n * dt - span) > 1e-9 * span:
        raise ValueError(f"{name} must be a whole multiple of dt={dt!r}, got {name}={span!r} "
                         f"({steps:.6g} steps): the grid's spacing would not be dt")
    return n + 1


def field_points(n_points: int, dt: float, field_dt: float) -> np.ndarray:
    """Indices of the output grid (``n_points`` times, spacing ``dt``) that form a field's grid.

    Every ``field_dt / dt``-th time, and the last one always (so ``final(F)`` is the value at
    the final time). ``field_dt`` must be a whole multiple of ``dt``: the fields are read off
    the integrator's output grid, never interpolated.

    Examples
    --------
    >>> field_points(11, 0.1, 0.4).tolist()
    [0, 4, 8, 10]
    """
    check_positive(field_dt=field_dt)
    ratio = field_dt / dt
    every = int(round(ratio)) if np.isfinite(ratio) else 0  # 1e300 / 1e-10 overflowed int()
    if every < 1 or abs(every * dt - field_dt) > 1e-9 * field_dt:
        raise ValueError(f"field_dt must be a whole multiple of dt={dt!r}, got {field_dt!r}")
    every = min(every, n_points)  # past the run: its ends only (a step past int64 raised)
    return np.unique(np.r_[np.arange(0, n_points, every), n_points - 1])
