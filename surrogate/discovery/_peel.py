"""The PRIM core: peeling and pasting one box (Friedman & Fisher 1999), on encoded arrays.

This module follows EMA Workbench's ``Prim.find_box`` step by step (candidate order, the
sdtoolkit quantile, objective functions, tie-breaking, acceptance rules), so that the trajectory
is the same on the same data. Speed comes from the data layout, not from changing the algorithm:

* each numeric column is sorted once (on large data, lazily: only the value ranges peels
  reach); peeled points are skipped lazily and dropped in one pass when a third of the
  entries are dead (:mod:`surrogate.discovery._sorted`), so a peel candidate costs
  O(peel_alpha m) -- its quantile and removed points come from the ends of the sorted column;
* candidate statistics (number of points, sum of labels) are differences from the box's;
* pasting keeps per-point counts of broken restrictions up to date and looks only at the
  points that break at most one.

Memory is O(N p). One deliberate difference from EMA Workbench 2.5.3: its ``_paste`` returns
before trying integer or categorical pastes when no float column is restricted (an indentation
slip); we paste every restricted dimension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from surrogate.discovery._data import Domain
from surrogate.discovery._sorted import SortedColumns


@dataclass(frozen=True)
class Settings:
    peel_alpha: float
    paste_alpha: float
    mass_min: float
    objective: str


class Step(NamedTuple):
    """One box of the trajectory: raw limits and the box's point count and label sum."""

    low: np.ndarray
    high: np.ndarray
    allowed: list[np.ndarray]
    n_points: int
    sum_labels: float


class _Candidate(NamedTuple):
    objective: float
    n_unrestricted: int
    dim: int  # numeric column, or categorical column for kind "cat"
    kind: str  # "low", "high" or "cat"
    value: float  # new limit (numeric) or category code (categorical)
    n_points: int
    sum_labels: float


def sorted_quantile(values: np.ndarray, q: float) -> float:
    """The sdtoolkit / EMA Workbench quantile of already sorted ``values``.

    The midpoint between the two order statistics around ``(n - 1) q``; when they tie, the
    walk goes outwards (down for ``q > 0.5``, up otherwise) to the next distinct value, so the
    cut falls between two distinct data values.
    """
    m = len(values)
    position = (m - 1) * q
    lo, hi = int(math.floor(position)), int(math.ceil(position))
    if values[lo] == values[hi]:
        if q > 0.5 and lo > 0:
            lo = max(int(np.searchsorted(values, values[hi], side="left")) - 1, 0)
        elif q <= 0.5 and hi < m - 1:
            hi = min(int(np.searchsorted(values, values[lo], side="right")), m - 1)
    return (values[lo] + values[hi]) / 2


def objective(kind: str, n_old: int, s_old: float, n_new: Any, s_new: Any) -> Any:
    """EMA Workbench's objective functions (lenient1, lenient2, original), same arithmetic.

    ``n_new``/``s_new`` may be arrays (one entry per candidate box).
    """
    n_new = np.asarray(n_new, dtype=np.int64)
    s_new = np.asarray(s_new, dtype=np.float64)
    mean_old = s_old / n_old
    # an empty box has mean 0 (its label sum is 0): dividing by max(n, 1) gives that exactly
    mean_new = s_new / np.maximum(n_new, 1)
    if kind == "original":
        return np.where(n_new > 0, mean_new, -1.0)
    change = np.abs(n_old - n_new)
    gain = mean_new - mean_old
    safe = np.maximum(change, 1)
    score = gain / safe if kind == "lenient1" else n_new * gain / safe  # F&F eq. 14.6
    return np.where((mean_new == mean_old) | (change == 0), 0.0, score)


def _best(candidates: list[_Candidate]) -> _Candidate | None:
    # highest objective, then most unrestricted dimensions, then candidate order (stable)
    best = None
    for candidate in candidates:
        if best is None or (candidate.objective, candidate.n_unrestricted) > (
            best.objective,
            best.n_unrestricted,
        ):
            best = candidate
    return best


_VECTORIZE_BELOW = 50_000  # box size up to which all columns are peeled in one pass


class _Box:
    """Mutable state of the box being peeled and pasted (limits and membership)."""

    def __init__(self, domain: Domain, numeric: np.ndarray, codes: np.ndarray, y: np.ndarray):
        self.domain, self.codes, self.y = domain, codes, y
        self.columns = np.ascontiguousarray(numeric.T)  # (p, n): whole columns are contiguous
        self.low = domain.low.copy()
        self.high = domain.high.copy()
        self.allowed = [np.ones(len(c), dtype=bool) for c in domain.categories]
        self.inside = np.ones(len(y), dtype=bool)
        self.n_points = len(y)
        self.sum_labels = float(y.sum())
        self.n_columns = len(domain.names)

    def members(self) -> np.ndarray:
        return np.flatnonzero(self.inside)

    def restricted_numeric(self) -> np.ndarray:
        return (self.low != self.domain.low) | (self.high != self.domain.high)

    def n_restricted(self) -> int:
        return int(self.restricted_numeric().sum()) + sum(not a.all() for a in self.allowed)

    def unrestricted_after(
        self, dim: int, kind: str, value: float, count: int | None = None
    ) -> int:
        """Number of unrestricted dimensions if one limit of ``dim`` changed to ``value``.

        ``count``: the box's number of restricted dimensions, when already known.
        """
        count = self.n_restricted() if count is None else count
        if kind == "cat":
            was = not self.allowed[dim].all()
            mask = self.allowed[dim].copy()
            mask[int(value)] = not mask[int(value)]
            now = not mask.all()
        else:
            low, high = self.low[dim], self.high[dim]
            was = low != self.domain.low[dim] or high != self.domain.high[dim]
            low, high = (value, high) if kind == "low" else (low, value)
            now = low != self.domain.low[dim] or high != self.domain.high[dim]
        return self.n_columns - (count - int(was) + int(now))

    def update(self, n_points: int, sum_labels: float) -> Step:
        self.n_points, self.sum_labels = n_points, sum_labels
        return Step(
            self.low.copy(), self.high.copy(), [a.copy() for a in self.allowed], n_points, sum_labels
        )


def _edges(box: _Box, cols: SortedColumns, alpha: float, top: bool):
    """Peel at one edge of every numeric column at once: (limits, points removed, labels removed).

    Works on a window of ``width`` entries at that end of each sorted row. Rows where the
    quantile's order statistics tie (the sdtoolkit walk) or the window holds too few live
    points go through the one-column path.
    """
    m, p = box.n_points, len(cols.ids)
    position = (m - 1) * (1 - alpha if top else alpha)
    lo, hi = int(math.floor(position)), int(math.ceil(position))
    near, far = (m - 1 - hi, m - 1 - lo) if top else (lo, hi)  # ranks counted from that end
    spans = cols.stop - cols.start
    width = int(min(spans.max(), math.ceil((far + 2) * spans.max() / m * 1.2) + 32))
    first = (cols.stop - width) if top else cols.start
    if not cols.all_sorted:
        for j in range(p):
            cols.ensure_sorted(j, max(int(first[j]), int(cols.start[j])),
                               min(int(first[j]) + width, int(cols.stop[j])))
    rows = np.arange(p)[:, None]
    row_length = cols.ids.shape[1]
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
    near_at, far_at = np.argmax(counted > near, axis=1), np.argmax(counted > far, axis=1)
    index = rows[:, 0]
    near_value = box.columns[index, chunk[index, near_at]]
    far_value = box.columns[index, chunk[index, far_at]]
    limit = (near_value + far_value) / 2
    # the cut falls strictly between the two order statistics: the nearer one and every live
    # entry before it go. Otherwise (ties and the sdtoolkit walk, a midpoint that rounds onto
    # a value, too short a window) the row takes the one-column path.
    n_removed = np.full(p, near + 1, dtype=np.int64)
    s_removed = labels[index, near_at]
    slow = (limit == near_value) | (limit == far_value)
    slow |= (counted[:, -1] < far + 2) & (width < spans)
    for row in np.flatnonzero(slow):
        limit[row], ids = (_upper_peel if top else _lower_peel)(box, cols, int(row), alpha)
        n_removed[row], s_removed[row] = len(ids), box.y[ids].sum()
    return limit, n_removed, s_removed


def _edges_by_column(box: _Box, cols: SortedColumns, alpha: float):
    """What two calls of :func:`_edges` return, one column at a time."""
    edges = []
    for edge in (_upper_peel, _lower_peel):
        limit, n_removed, s_removed = (np.empty(len(cols.ids)) for _ in range(3))
        for j in range(len(cols.ids)):
            limit[j], ids = edge(box, cols, j, alpha)
            n_removed[j], s_removed[j] = len(ids), box.y[ids].sum()
        edges.append((limit, n_removed.astype(np.int64), s_removed))
    return edges


def _lower_peel(box: _Box, cols: SortedColumns, j: int, alpha: float):
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


def _upper_peel(box: _Box, cols: SortedColumns, j: int, alpha: float):
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


def _numeric_peels(box: _Box, cols: SortedColumns, settings: Settings) -> list[_Candidate]:
    p = len(cols.ids)
    if p == 0:
        return []
    if box.n_points <= _VECTORIZE_BELOW:
        high = _edges(box, cols, settings.peel_alpha, top=True)
        low = _edges(box, cols, settings.peel_alpha, top=False)
    else:  # large boxes: the per-column path makes fewer passes over the data
        high, low = _edges_by_column(box, cols, settings.peel_alpha)
    # EMA order: per column, the upper edge first, then the lower edge
    limits = np.column_stack([high[0], low[0]]).ravel()
    n_new = box.n_points - np.column_stack([high[1], low[1]]).ravel()
    s_new = box.sum_labels - np.column_stack([high[2], low[2]]).ravel()
    scores = objective(settings.objective, box.n_points, box.sum_labels, n_new, s_new)
    dims = np.repeat(np.arange(p), 2)
    is_high = np.tile([True, False], p)
    dom_low, dom_high = box.domain.low[dims], box.domain.high[dims]
    new_low = np.where(is_high, box.low[dims], limits)
    new_high = np.where(is_high, limits, box.high[dims])
    was = (box.low[dims] != dom_low) | (box.high[dims] != dom_high)
    now = (new_low != dom_low) | (new_high != dom_high)
    unrestricted = box.n_columns - (box.n_restricted() - was + now)
    return [
        _Candidate(float(scores[i]), int(unrestricted[i]), int(dims[i]),
                   "high" if is_high[i] else "low", float(limits[i]), int(n_new[i]),
                   float(s_new[i]))
        for i in range(2 * p)
    ]


def _candidate(
    box: _Box, settings: Settings, dim: int, kind: str, value: float, n_new: int, s_new: float
) -> _Candidate:
    score = float(objective(settings.objective, box.n_points, box.sum_labels, n_new, s_new))
    return _Candidate(
        score, box.unrestricted_after(dim, kind, value), dim, kind, value, n_new, s_new
    )


def _categorical_peels(box: _Box, settings: Settings):
    candidates, removed = [], []
    members = box.members() if box.allowed else None
    for c, allowed in enumerate(box.allowed):
        if allowed.sum() <= 1:
            continue
        codes = box.codes[members, c]
        counts = np.bincount(codes, minlength=len(allowed))
        sums = np.bincount(codes, weights=box.y[members], minlength=len(allowed))
        for code in np.flatnonzero(allowed):
            n_new = box.n_points - int(counts[code])
            s_new = box.sum_labels - float(sums[code])
            candidates.append(_candidate(box, settings, c, "cat", float(code), n_new, s_new))
            removed.append((members, c, code))
    return candidates, removed


def _index_of(candidates: list[_Candidate], best: _Candidate) -> int:
    return next(i for i, c in enumerate(candidates) if c is best)


def peel(box: _Box, settings: Settings, n_total: int, record: list[Step]) -> None:
    """Peel until the best candidate is refused (mass < mass_min, not smaller, objective <= 0)."""
    cols = SortedColumns(box.columns)
    while True:
        numeric = _numeric_peels(box, cols, settings)
        categorical, categorical_removed = _categorical_peels(box, settings)
        candidates = numeric + categorical
        best = _best(candidates)
        if best is None or not (
            best.n_points / n_total >= settings.mass_min
            and best.n_points < box.n_points
            and best.objective > 0
        ):
            return
        if best.kind == "cat":
            members, c, code = categorical_removed[_index_of(candidates, best) - len(numeric)]
            box.allowed[c][code] = False
            box.inside[members[box.codes[members, c] == code]] = False
        else:
            edge = _lower_peel if best.kind == "low" else _upper_peel
            value, removed = edge(box, cols, best.dim, settings.peel_alpha)
            (box.low if best.kind == "low" else box.high)[best.dim] = value
            box.inside[removed] = False
        record.append(box.update(best.n_points, best.sum_labels))
        cols.compact(box.inside, box.n_points)


class _Violations:
    """Which points break each restriction of the box, and how many each point breaks."""

    def __init__(self, box: _Box):
        self.numeric = {
            int(u): (box.columns[u] < box.low[u]) | (box.columns[u] > box.high[u])
            for u in np.flatnonzero(box.restricted_numeric())
        }
        self.categorical = {
            c: ~allowed[box.codes[:, c]] for c, allowed in enumerate(box.allowed) if not allowed.all()
        }
        self.count = np.zeros(len(box.y), dtype=np.int32)
        for mask in (*self.numeric.values(), *self.categorical.values()):
            self.count += mask

    def admit(self, restrictions: dict[int, np.ndarray], dim: int, slab: np.ndarray) -> None:
        """The points of ``slab`` no longer break the restriction on ``dim``."""
        breaks = restrictions[dim]
        self.count -= breaks & slab
        breaks &= ~slab
        if not breaks.any():  # the dimension is no longer restricted
            del restrictions[dim]


def _paste_candidates(box: _Box, violations: _Violations, settings: Settings):
    """Every paste of a restricted dimension with the points it would add, in EMA's order."""
    near = np.flatnonzero(violations.count <= 1)  # only these can enter by relaxing one limit
    near_count, y_near = violations.count[near], box.y[near]
    found: list[tuple[int, str, float]] = []
    added_points, n_new, s_new = [], [], []

    def add(dim: int, kind: str, value: float, added: np.ndarray) -> None:
        found.append((dim, kind, value))
        added_points.append(near[added])
        n_new.append(box.n_points + int(added.sum()))
        s_new.append(box.sum_labels + float(y_near[added].sum()))

    for u, breaks in violations.numeric.items():
        others_ok = near_count - breaks[near] == 0  # (len(near),)
        x = box.columns[u, near]
        region = others_ok & (x <= box.low[u])  # the slab below the box: [data min, low]
        value = (
            sorted_quantile(np.sort(x[region]), 1 - settings.paste_alpha)
            if region.any()
            else box.domain.low[u]
        )
        add(u, "low", value, others_ok & (x >= value) & (x < box.low[u]))
        region = others_ok & (x >= box.high[u])  # the slab above the box: [high, data max]
        value = (
            sorted_quantile(np.sort(x[region]), settings.paste_alpha)
            if region.any()
            else box.domain.high[u]
        )
        add(u, "high", value, others_ok & (x > box.high[u]) & (x <= value))
    for c, breaks in violations.categorical.items():
        others_ok = near_count - breaks[near] == 0
        codes = box.codes[near, c]
        for code in np.flatnonzero(~box.allowed[c]):
            add(c, "cat", float(code), others_ok & (codes == code))
    scores = objective(settings.objective, box.n_points, box.sum_labels, n_new, s_new)
    restricted = box.n_restricted()
    candidates = [
        _Candidate(float(score), box.unrestricted_after(dim, kind, value, restricted), dim, kind,
                   value, n, s_)
        for score, (dim, kind, value), n, s_ in zip(scores, found, n_new, s_new, strict=True)
    ]
    return candidates, added_points


def paste(box: _Box, settings: Settings, n_total: int, record: list[Step]) -> None:
    """Paste until the best candidate is refused (not larger, objective <= 0, lower mean)."""
    violations = _Violations(box)
    while violations.numeric or violations.categorical:
        candidates, added_points = _paste_candidates(box, violations, settings)
        best = _best(candidates)
        if best is None or not (
            best.n_points / n_total >= settings.mass_min
            and best.n_points > box.n_points
            and best.objective > 0
            and best.sum_labels / best.n_points > box.sum_labels / box.n_points
        ):
            return
        entering = added_points[_index_of(candidates, best)]
        if best.kind == "cat":
            box.allowed[best.dim][int(best.value)] = True
            slab = box.codes[:, best.dim] == int(best.value)
            violations.admit(violations.categorical, best.dim, slab)
        else:
            column = box.columns[best.dim]
            if best.kind == "low":  # every point of the new slab, not just those entering
                slab = (column >= best.value) & (column < box.low[best.dim])
                box.low[best.dim] = best.value
            else:
                slab = (column > box.high[best.dim]) & (column <= best.value)
                box.high[best.dim] = best.value
            violations.admit(violations.numeric, best.dim, slab)
        box.inside[entering] = True
        record.append(box.update(best.n_points, best.sum_labels))


def find_box(
    domain: Domain,
    numeric: np.ndarray,
    codes: np.ndarray,
    y: np.ndarray,
    settings: Settings,
    n_total: int,
) -> list[Step]:
    """Peel then paste one box; return the trajectory (the starting box first).

    ``numeric``/``codes``/``y`` are the points still available (all points, or those left by
    earlier boxes of a covering); ``domain`` is the range of all points and ``n_total`` their
    number, which define restricted dimensions and mass.
    """
    box = _Box(domain, numeric, codes, y)
    record = [box.update(box.n_points, box.sum_labels)]
    peel(box, settings, n_total, record)
    paste(box, settings, n_total, record)
    return record
