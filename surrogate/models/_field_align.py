"""Peak alignment of field outputs: a timing model and a reduced basis of aligned trajectories.

Part of the "models" stage, behind ``FieldGPRegressor(align="peak")``. A family of trajectories
whose bump moves in time (an epidemic peaking on day 40 or day 200) is a poor fit for a fixed
reduced basis: the principal components of shifted bumps are many, and their scores vary
sharply with the inputs. Registered on their peak, the same trajectories differ mostly in
height and width, which few components hold.

The fit: each training trajectory's peak time (the vertex of the parabola through its largest
grid value and the two neighbours) is found; a :class:`~surrogate.models.GPRegressor` learns
``log(peak time - grid start)`` -- or its inverse, the *rate* ``1 / (peak - start)``, whichever
predicts the log peak time better by leave-one-out -- from the runs with a clear interior peak
(one rising at least ``PEAK_SHARE`` of the largest rise above both ends of its trajectory; a
process that grows exponentially at a rate set by its inputs, such as an epidemic, peaks at a
time inversely proportional to that rate, which is smooth where the time is not); the
trajectories are
shifted to start their time axis at the peak (``s = t - peak``; the others by the timing
model's prediction, as a new point will be) and an inner field GP is fitted to them.

A prediction mixes over the timing's uncertainty: with ``log(peak) ~ N(m, s^2)`` from the
timing GP, the aligned mean and standard deviation are read at ``t - peak`` for the
``ALIGN_NODES`` Gauss-Hermite nodes of that normal, and combined as a mixture (its mean, and its
variance: the mean of the variances plus the variance of the means). Posterior draws shift each
draw of the aligned field by a draw of the timing.

References
----------
.. [1] J. O. Ramsay, B. W. Silverman, "Functional Data Analysis", 2nd ed., Springer 2005,
   ch. 7 (registration and landmarks).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PEAK_SHARE", "ALIGN_NODES", "MIN_PEAKED", "TIMING_TARGETS", "peak_times", "PeakGrid"]

PEAK_SHARE = 0.05  # a run's rise above its ends, as a share of the largest, to count as peaked
ALIGN_NODES = 9  # Gauss-Hermite nodes of the timing's uncertainty in a prediction
MIN_PEAKED = 3  # runs with a clear peak needed to fit the timing model
TIMING_TARGETS = ("log", "rate")  # what the timing GP models: log(peak - start) or its inverse


def peak_times(Y: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak time of each trajectory (n, T) on ``grid`` (T,), and whether it has a clear
    interior peak (n,): the vertex of the parabola through the largest value and its two
    neighbours (the grid point itself at an end of the grid)."""
    k = np.argmax(Y, axis=1)
    tau = grid[k].astype(np.float64)
    interior = (k > 0) & (k < len(grid) - 1)
    i = np.flatnonzero(interior)
    x1, x2, x3 = grid[k[i] - 1], grid[k[i]], grid[k[i] + 1]
    y1, y2, y3 = Y[i, k[i] - 1], Y[i, k[i]], Y[i, k[i] + 1]
    denom = (x1 - x2) * (x1 - x3) * (x2 - x3)
    a = (x3 * (y2 - y1) + x2 * (y1 - y3) + x1 * (y3 - y2)) / denom
    b = (x3**2 * (y1 - y2) + x2**2 * (y3 - y1) + x1**2 * (y2 - y3)) / denom
    curved = a < 0
    vertex = np.where(curved, -b / (2.0 * np.where(curved, a, -1.0)), x2)
    tau[i] = np.clip(vertex, x1, x3)
    rise = Y.max(axis=1) - np.maximum(Y[:, 0], Y[:, -1])
    largest = float(rise.max()) if len(rise) else 0.0
    peaked = interior & (rise > 0) & (rise >= PEAK_SHARE * largest)
    return tau, peaked


class PeakGrid:
    """The aligned time axis ``s = t - peak``: uniform, wide enough for any peak on ``grid``.

    Parameters
    ----------
    grid : ndarray of shape (T,)
        The field's grid, strictly increasing.
    """

    def __init__(self, grid: np.ndarray) -> None:
        self.grid = np.asarray(grid, dtype=np.float64)
        self.start = float(self.grid[0])
        self.span = span = max(float(self.grid[-1] - self.grid[0]), 1e-300)
        step = float(np.median(np.diff(self.grid))) if len(self.grid) > 1 else 1.0
        # at most about 4 T points: the median step of a grid refined in part (200 points in
        # [0, 1], 20 in [2, 1000]) made 398,001 (a uniform grid gets 2 T - 1)
        self.step = max(step, span / (2 * len(self.grid)))
        half = int(np.ceil(span / self.step))
        self.s = self.step * np.arange(-half, half + 1, dtype=np.float64)

    def align(self, Y: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """Trajectories (n, T) read at ``s + tau`` (n, S) by cubic-spline interpolation,
        kept within each trajectory's range (so a positive field stays positive); the values
        before the grid's start and after its end are the end values. (Linear
        interpolation's error, ``h^2 |y''| / 8``, was ten times a GP's uncertainty on a smooth
        bump; a monotone cubic flattens the peak itself.)"""
        from scipy.interpolate import CubicSpline

        out = np.empty((len(Y), len(self.s)))
        for i, (y, t) in enumerate(zip(Y, tau, strict=True)):
            where = np.clip(self.s + t, self.grid[0], self.grid[-1])
            out[i] = np.clip(CubicSpline(self.grid, y)(where), y.min(), y.max())
        return out

    def unalign(self, Z: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """Aligned fields ``Z`` (..., S) read back at ``grid - tau`` (tau of shape ``...``) by
        cubic (Catmull-Rom) interpolation on the uniform aligned axis, within each field's
        range; end values beyond the axis -> (..., T)."""
        where = (self.grid - tau[..., None] - self.s[0]) / self.step  # (..., T)
        where = np.clip(where, 0.0, len(self.s) - 1.0)
        left = np.minimum(np.floor(where).astype(np.int64), len(self.s) - 2)
        u = where - left
        slopes = _central_slopes(Z)  # per step of the aligned axis
        y0, y1 = np.take_along_axis(Z, left, axis=-1), np.take_along_axis(Z, left + 1, axis=-1)
        d0 = np.take_along_axis(slopes, left, axis=-1)
        d1 = np.take_along_axis(slopes, left + 1, axis=-1)
        u2, u3 = u * u, u * u * u
        values = ((2 * u3 - 3 * u2 + 1) * y0 + (u3 - 2 * u2 + u) * d0
                  + (-2 * u3 + 3 * u2) * y1 + (u3 - u2) * d1)
        return np.clip(values, Z.min(axis=-1, keepdims=True), Z.max(axis=-1, keepdims=True))

    def peak(self, log_offset: np.ndarray) -> np.ndarray:
        """Peak times from ``log(peak - grid start)``."""
        return self.start + np.exp(log_offset)

    def target_values(self, target: str, offset: np.ndarray) -> np.ndarray:
        """What the timing GP fits for peaks ``offset = peak - start`` (> 0)."""
        return np.log(offset) if target == "log" else 1.0 / offset

    def log_offset(self, target: str, mean: np.ndarray,
                   std: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``log(peak - start)``: mean and std (first order) from the timing GP's ``mean`` and
        ``std`` on its target's scale; a rate below a tenth of one per grid span (a peak ten
        spans out, or none) is held there."""
        std = np.zeros_like(mean) if std is None else std
        if target == "log":
            return mean, std
        rate = np.maximum(mean, 0.1 / self.span)
        return -np.log(rate), std / rate

    def mixture(self, mean: np.ndarray, std: np.ndarray, log_mean: np.ndarray,
                log_std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std on the grid (m, T) of the aligned prediction (``mean``, ``std``: (m, S))
        mixed over the timing ``log(peak - start) ~ N(log_mean, log_std^2)`` (m,)."""
        nodes, weights = np.polynomial.hermite.hermgauss(ALIGN_NODES)
        weights = weights / np.sqrt(np.pi)
        parts = []
        for node in nodes:
            tau = self.peak(log_mean + np.sqrt(2.0) * log_std * node)
            parts.append((self.unalign(mean, tau), np.maximum(self.unalign(std, tau), 0.0)))
        first = sum(weight * m for weight, (m, _) in zip(weights, parts, strict=True))
        # spread around the mixture's mean, not E[y^2] - E[y]^2: on a baseline of 1e6 that
        # difference kept nothing of a variance of 1e-6 and the band collapsed to zero
        variance = sum(weight * (s**2 + (m - first) ** 2)
                       for weight, (m, s) in zip(weights, parts, strict=True))
        return first, np.sqrt(variance)


def _central_slopes(Z: np.ndarray) -> np.ndarray:
    """Slopes (per unit step) of samples ``Z`` (..., S) on a uniform axis: central differences
    inside, one-sided at the ends (the cubic Hermite interpolant is then Catmull-Rom's)."""
    slopes = np.empty_like(Z)
    slopes[..., 1:-1] = 0.5 * (Z[..., 2:] - Z[..., :-2])
    slopes[..., 0], slopes[..., -1] = Z[..., 1] - Z[..., 0], Z[..., -1] - Z[..., -2]
    return slopes
