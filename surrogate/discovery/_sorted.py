"""Numeric columns sorted for peeling: ids in value order, sorted lazily, dead ids skipped lazily.

PRIM's peels only look at the ends of each column's live values (and, as a box shrinks, at the
region next to its limits), so a full sort of every column is mostly wasted on large data. For
more than ``LAZY_ABOVE`` points each column is first split into ``BUCKETS`` equal-width value
ranges (a cheap integer sort) and a bucket is sorted only when a peel first reads it. Rows keep peeled
points until a third of their entries are dead, then drop them in one pass (compaction).
"""

from __future__ import annotations

import numpy as np

LAZY_ABOVE = 200_000  # points above which columns are bucketed and sorted on demand
BUCKETS = 64


class SortedColumns:
    """Point ids ordered by each numeric column, ``(p, width)`` (see the module docstring).

    ``start[j]:stop[j]`` is the part of row ``j`` that may still hold live points;
    ``bounds[j]`` the positions where the row's buckets start (and its end), ``ready[j]``
    which buckets are sorted. Within a row, buckets follow each other in value order.
    """

    def __init__(self, columns: np.ndarray):
        self.columns = columns
        p, n = columns.shape
        self.start = np.zeros(p, dtype=np.int64)
        self.stop = np.full(p, n, dtype=np.int64)
        if n <= LAZY_ABOVE:
            self.ids = np.argsort(columns, axis=1)
            self.bounds = np.tile(np.array([0, n], dtype=np.int64), (p, 1))
            self.ready = np.ones((p, 1), dtype=bool)
            self.all_sorted = True
            return
        self.ids = np.empty((p, n), dtype=np.int64)
        self.bounds = np.empty((p, BUCKETS + 1), dtype=np.int64)
        for j, column in enumerate(columns):
            # equal-width value ranges: a monotone map of the value, computed in one pass
            low, high = column.min(), column.max()
            scale = BUCKETS / (high - low) if high > low else 0.0
            bucket = np.minimum((column - low) * scale, BUCKETS - 1).astype(np.int16)
            self.ids[j] = np.argsort(bucket, kind="stable")  # radix sort of small ints
            self.bounds[j] = np.r_[0, np.cumsum(np.bincount(bucket, minlength=BUCKETS))]
        self.ready = np.zeros((p, BUCKETS), dtype=bool)
        self.all_sorted = False

    def ensure_sorted(self, j: int, begin: int, end: int) -> None:
        """Sort the buckets of row ``j`` that overlap positions ``begin:end``."""
        if self.all_sorted:
            return
        ready = self.ready[j]
        if end <= begin or ready.all():
            return
        bounds = self.bounds[j]
        first = int(np.searchsorted(bounds, begin, side="right")) - 1
        last = int(np.searchsorted(bounds, end - 1, side="right")) - 1
        for k in range(max(first, 0), min(last, len(ready) - 1) + 1):
            if not ready[k]:
                segment = self.ids[j, bounds[k] : bounds[k + 1]]
                segment[:] = segment[np.argsort(self.columns[j, segment])]
                ready[k] = True

    def compact(self, inside: np.ndarray, n_alive: int) -> None:
        """Drop dead ids when more than a third of the entries are dead."""
        if self.ids.shape[1] <= 1.5 * n_alive or len(self.ids) == 0:
            return
        if self.all_sorted:  # every row holds exactly n_alive live ids, in order
            self.ids = self.ids[inside[self.ids]].reshape(len(self.ids), n_alive)
            self.bounds[:, -1] = n_alive
            self.start[:] = 0
            self.stop[:] = n_alive
            return
        for j in range(len(self.ids)):  # in place: every row keeps exactly n_alive ids
            start, stop = self.start[j], self.stop[j]
            row = self.ids[j, start:stop]
            keep = inside[row]
            if not self.all_sorted:
                relative = np.clip(self.bounds[j] - start, 0, stop - start)
                self.bounds[j] = _kept_bounds(keep, relative)
            self.ids[j, :n_alive] = row[keep]
        self.ids = self.ids[:, :n_alive]
        if self.all_sorted:
            self.bounds[:, -1] = n_alive
        self.start[:] = 0
        self.stop[:] = n_alive

    def end(self, j: int, inside: np.ndarray, count: int, n_alive: int, top: bool):
        """The ``count`` (or more) live ids at the low (or ``top``) end of column ``j``.

        Returns the live ids in ascending value order, their positions in the row, and
        whether the whole live part of the row was scanned.
        """
        start, stop = int(self.start[j]), int(self.stop[j])
        span = stop - start
        width = min(span, int(count * span / max(n_alive, 1) * 1.2) + 32)
        while True:
            offset = stop - width if top else start
            self.ensure_sorted(j, offset, offset + width)
            chunk = self.ids[j, offset : offset + width]
            positions = np.flatnonzero(inside[chunk])
            if len(positions) >= count or width == span:
                break
            width = min(span, 2 * width)
        if len(positions):  # skip the dead entries at the row's end next time
            if top:
                self.stop[j] = offset + positions[-1] + 1
            else:
                self.start[j] = offset + positions[0]
        return chunk[positions], offset + positions, width == span


def _kept_bounds(keep: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Bucket start positions after dropping the entries where ``keep`` is False."""
    counts = np.zeros(len(bounds) - 1, dtype=np.int64)
    filled = bounds[1:] > bounds[:-1]
    if filled.any():
        counts[filled] = np.add.reduceat(keep, bounds[:-1][filled], dtype=np.int64)
    return np.r_[0, np.cumsum(counts)]
