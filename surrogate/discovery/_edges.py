"""Peel candidates at the edges of the sorted numeric columns (see :mod:`surrogate.discovery._peel`).

Each candidate is EMA Workbench's quantile of the box's points at one end of one column, the
points it removes and their label sum. Small boxes read a window at both ends of every row in
one pass (:func:`both_edges`); a row whose window cannot settle the cut (tied order statistics,
too few live entries) goes through the one-column path (:func:`lower_peel`, :func:`upper_peel`),
whose label sums add up in the same order as before, so trajectories do not change.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from surrogate.discovery._sorted import SortedColumns

if TYPE_CHECKING:
    from surrogate.discovery._peel import _Box


def window(box: _Box, cols: SortedColumns, alpha: float, top: bool):
    """Ranks and window width of one edge's peel (see :func:`_edges`)."""
    m = box.n_points
    position = (m - 1) * (1 - alpha if top else alpha)
    lo, hi = int(math.floor(position)), int(math.ceil(position))
    near, far = (m - 1 - hi, m - 1 - lo) if top else (lo, hi)  # ranks counted from that end
    span_max = int((cols.stop - cols.start).max())
    width = int(min(span_max, math.ceil((far + 2) * span_max / m * 1.2) + 32))
    return near, far, width


def _edges(box: _Box, cols: SortedColumns, alpha: float, top: bool):
    """Peel at one edge of every numeric column at once: (limits, points removed, labels removed).

    Works on a window of ``width`` entries at that end of each sorted row. Rows where the
    quantile's order statistics tie (the sdtoolkit walk) or the window holds too few live
    points go through the one-column path.
    """
    near, far, width = window(box, cols, alpha, top)
    p = len(cols.ids)
    first = (cols.stop - width) if top else cols.start
    if not cols.all_sorted:
        for j in range(p):
            cols.ensure_sorted(j, max(int(first[j]), int(cols.start[j])),
                               min(int(first[j]) + width, int(cols.stop[j])))
    scan = _scan(box, cols, first, width, top)
    return _finish(box, cols, alpha, (top, near, far, width), scan)


def both_edges(box: _Box, cols: SortedColumns, alpha: float):
    """``_edges(top=True), _edges(top=False)`` concatenated, in one pass over ``(2p, width)``.

    The arithmetic per row is the same as two calls: a row's prefix sums do not depend on
    the window's length, and each edge tests "too short a window" at its own width. A slow
    upper row may move the row's end past dead entries, which the lower edge's width depends
    on; the window's live entries stay the same, so only a wider window means a new scan.
    """
    box.scanned = None
    if not cols.all_sorted:  # buckets get sorted in the order two calls would sort them
        return [np.concatenate(parts) for parts in zip(
            _edges(box, cols, alpha, top=True), _edges(box, cols, alpha, top=False),
            strict=True)]
    p = len(cols.ids)
    near_top, far_top, width_top = window(box, cols, alpha, True)
    near_low, far_low, width_low = window(box, cols, alpha, False)
    width = max(width_top, width_low)
    chunk, counted, valid = _scan_both(box, cols, width)
    near = np.repeat(np.array([near_top, near_low]), p)
    near_at = np.argmax(counted > near[:, None], axis=1)
    # running label sums of the live entries, as far as the cuts need them
    reach = int(near_at.max()) + 1
    weights = box.live_labels[chunk[:, :reach]]
    if valid is not None:
        weights = weights * valid[:, :reach]
    labels = np.cumsum(weights, axis=1)
    far_at = np.argmax(counted > np.repeat(np.array([far_top, far_low]), p)[:, None], axis=1)
    index = np.arange(2 * p)
    dims = np.concatenate([index[:p], index[:p]])
    near_value = box.columns[dims, chunk[index, near_at]]
    far_value = box.columns[dims, chunk[index, far_at]]
    limit = (near_value + far_value) / 2
    n_removed = near + 1
    s_removed = labels[index, near_at]
    tie = (limit == near_value) | (limit == far_value)  # see _finish
    stop = cols.stop.copy()
    slow = tie[:p] | (counted[:p, width_top - 1] < far_top + 2) & (width_top < stop - cols.start)
    for row in np.flatnonzero(slow):
        limit[row], ids = upper_peel(box, cols, int(row), alpha)
        n_removed[row], s_removed[row] = len(ids), box.y[ids].sum()
    if not np.array_equal(stop, cols.stop):
        width_low = window(box, cols, alpha, False)[2]
        if width_low > width:
            low = _edges(box, cols, alpha, top=False)
            return [np.concatenate([a[:p], b]) for a, b in zip(
                (limit, n_removed, s_removed), low, strict=True)]
    spans = cols.stop - cols.start
    slow_low = tie[p:] | (counted[p:, width_low - 1] < far_low + 2) & (width_low < spans)
    for row in np.flatnonzero(slow_low):
        limit[p + row], ids = lower_peel(box, cols, int(row), alpha)
        n_removed[p + row], s_removed[p + row] = len(ids), box.y[ids].sum()
    box.scanned = (chunk, near_at, np.concatenate([slow, slow_low]), limit)
    return limit, n_removed, s_removed


def _scan(box: _Box, cols: SortedColumns, first: np.ndarray, width: int, top: bool):
    """Ids, live counts and label prefix sums of a window per row, scanned from the end."""
    p, row_length = cols.ids.shape
    rows = np.arange(p)[:, None]
    positions = first[:, None] + np.arange(width) + rows * row_length  # (p, width), flat
    if first.min() >= 0 and first.max() + width <= row_length:
        chunk = cols.ids.ravel().take(positions)  # outside start:stop all entries are dead
        alive = box.inside[chunk]
    else:
        inner = first[:, None] + np.arange(width)
        valid = (inner >= cols.start[:, None]) & (inner < cols.stop[:, None])
        chunk = cols.ids.ravel().take(np.where(valid, positions, rows * row_length))
        alive = box.inside[chunk] & valid
    if top:  # scan from the end
        chunk, alive = chunk[:, ::-1], alive[:, ::-1]
    counted = np.cumsum(alive, axis=1)  # live entries so far
    labels = np.cumsum(box.y[chunk] * alive, axis=1)  # their label sum
    return chunk, counted, labels


def _finish(box: _Box, cols: SortedColumns, alpha: float, edge, scan):
    """Limits, points and labels removed at one edge from its rows of a window scan."""
    top, near, far, width = edge
    chunk, counted, labels = scan
    index = np.arange(len(chunk))
    near_at = np.argmax(counted > near, axis=1)
    far_at = np.argmax(counted > far, axis=1)
    near_value = box.columns[index, chunk[index, near_at]]
    far_value = box.columns[index, chunk[index, far_at]]
    limit = (near_value + far_value) / 2
    # the cut falls strictly between the two order statistics: the nearer one and every live
    # entry before it go. Otherwise (ties and the sdtoolkit walk, a midpoint that rounds onto
    # a value, too short a window) the row takes the one-column path.
    n_removed = np.full(len(chunk), near + 1, dtype=np.int64)
    s_removed = labels[index, near_at]
    slow = (limit == near_value) | (limit == far_value)
    slow |= (counted[:, width - 1] < far + 2) & (width < cols.stop - cols.start)
    for row in np.flatnonzero(slow):
        limit[row], ids = (upper_peel if top else lower_peel)(box, cols, int(row), alpha)
        n_removed[row], s_removed[row] = len(ids), box.y[ids].sum()
    return limit, n_removed, s_removed


def _scan_both(box: _Box, cols: SortedColumns, width: int):
    """Window ids and running live counts at both ends of every row, each read from its end.

    Upper rows first. Returns ``(chunk, counted, valid)``; ``valid`` (None when the windows
    fit in the rows) marks the entries inside the rows.
    """
    p, row_length = cols.ids.shape
    offsets = np.arange(p) * row_length
    if cols.stop.min() >= width and cols.start.max() + width <= row_length:
        # outside start:stop all entries are dead; windows are copied as whole rows
        windows = sliding_window_view(cols.ids.ravel(), width)
        chunk = np.empty((2 * p, width), dtype=cols.ids.dtype)
        chunk[:p] = windows[offsets + cols.stop - width, ::-1]
        chunk[p:] = windows[offsets + cols.start]
        counted = np.cumsum(box.inside[chunk], axis=1)  # live entries so far
        return chunk, counted, None
    steps = np.arange(width)
    inner = np.concatenate([cols.stop[:, None] - 1 - steps, cols.start[:, None] + steps])
    positions = inner + np.concatenate([offsets, offsets])[:, None]
    start = np.concatenate([cols.start, cols.start])[:, None]
    stop = np.concatenate([cols.stop, cols.stop])[:, None]
    valid = (inner >= start) & (inner < stop)
    chunk = cols.ids.ravel().take(np.where(valid, positions, 0))
    counted = np.cumsum(box.inside[chunk] & valid, axis=1)
    return chunk, counted, valid


def edges_by_column(box: _Box, cols: SortedColumns, alpha: float):
    """What two calls of :func:`_edges` return, one column at a time."""
    edges = []
    for edge in (upper_peel, lower_peel):
        limit, n_removed, s_removed = (np.empty(len(cols.ids)) for _ in range(3))
        for j in range(len(cols.ids)):
            limit[j], ids = edge(box, cols, j, alpha)
            n_removed[j], s_removed[j] = len(ids), box.y[ids].sum()
        edges.append((limit, n_removed.astype(np.int64), s_removed))
    return edges


def lower_peel(box: _Box, cols: SortedColumns, j: int, alpha: float):
    """Lower-edge peel of column ``j``: (new limit, removed ids), the quantile as EMA's."""
    m = box.n_points
    position = (m - 1) * alpha
    lo, hi = int(math.floor(position)), int(math.ceil(position))
    need = hi + 2
    while True:
        ids, _, exhausted = cols.end(j, box.inside, need, m, top=False)
        values = box.columns[j, ids]
        top = hi
        if values[lo] == values[hi] and hi < m - 1:
            walk = int(np.searchsorted(values, values[lo], side="right"))
            if walk >= len(values) and not exhausted:
                need *= 2
                continue
            top = min(walk, m - 1)
        value = (values[lo] + values[top]) / 2
        return value, ids[: int(np.searchsorted(values, value, side="left"))]


def upper_peel(box: _Box, cols: SortedColumns, j: int, alpha: float):
    """Upper-edge peel of column ``j``: (new limit, removed ids), the quantile as EMA's."""
    m = box.n_points
    position = (m - 1) * (1 - alpha)
    lo, hi = int(math.floor(position)), int(math.ceil(position))
    need = m - lo + 1
    while True:
        ids, _, exhausted = cols.end(j, box.inside, need, m, top=True)
        values = box.columns[j, ids]
        offset = m - len(values)  # rank of values[0] among the box's points
        low_at, high_at = lo - offset, hi - offset
        if values[low_at] == values[high_at] and lo > 0:
            walk = int(np.searchsorted(values, values[high_at], side="left"))
            if walk == 0 and not exhausted:
                need *= 2
                continue
            low_at = max(walk - 1, 0)
        value = (values[low_at] + values[high_at]) / 2
        return value, ids[int(np.searchsorted(values, value, side="right")) :]
