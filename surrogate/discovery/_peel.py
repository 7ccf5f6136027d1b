"""The PRIM core: peeling and pasting one box (Friedman & Fisher 1999), on encoded arrays.

This module follows EMA Workbench's ``Prim.find_box`` step by step (candidate order, the
sdtoolkit quantile, objective functions, tie-breaking, acceptance rules), so that the trajectory
is the same on the same data. Speed comes from the data layout, not from changing the algorithm:

* each numeric column is sorted once (on large data, lazily: only the value ranges peels
  reach); peeled points are skipped lazily and dropped in one pass when a third of the
  entries are dead (:mod:`surrogate.discovery._sorted`), so a peel candidate costs
  O(peel_alpha m) -- its quantile and removed points come from the ends of the sorted column;
* both edges of every column are read in one pass over a window at the rows' ends
  (:mod:`surrogate.discovery._edges`), and the chosen peel reuses that scan;
* candidate statistics (number of points, sum of labels) are differences from the box's;
  only the candidates with the best objective are turned into objects;
* pasting keeps per-point counts of broken restrictions up to date and looks only at the
  points that break exactly one, taking slab quantiles from order statistics.

Label sums add up in the same order as a plain implementation would, so soft labels give the
same bits; with 0/1 labels every sum is an exact integer and the order is free.

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
from surrogate.discovery._edges import both_edges, edges_by_column, lower_peel, upper_peel
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


def quantile(values: np.ndarray, q: float) -> float:
    """:func:`sorted_quantile` of unsorted ``values``, from order statistics (no full sort)."""
    m = len(values)
    position = (m - 1) * q
    lo, hi = int(math.floor(position)), int(math.ceil(position))
    part = np.partition(values, (lo, hi))
    low, high = part[lo], part[hi]
    if low == high:
        if q > 0.5 and lo > 0:  # the walk down: the largest value below the tie, if any
            below = values[values < high]
            low = below.max() if len(below) else part[0]
        elif q <= 0.5 and hi < m - 1:  # the walk up: the smallest value above the tie
            above = values[values > low]
            high = above.min() if len(above) else values.max()
    return (low + high) / 2


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
        # the last window scan of both edges (see both_edges)
        self.scanned: tuple[Any, Any, np.ndarray, np.ndarray] | None = None
        self.live_labels = y.copy()  # y inside the box, 0 outside (y * inside)
        # 0/1 labels: sums of labels are exact integers, so the order of adding does not matter
        self.integral = bool(np.all((y == 0) | (y == 1))) and len(y) < 2**53

    def remove(self, ids: np.ndarray) -> None:
        self.inside[ids] = False
        self.live_labels[ids] = 0.0

    def admit(self, ids: np.ndarray) -> None:
        self.inside[ids] = True
        self.live_labels[ids] = self.y[ids]

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


def _numeric_peels(box: _Box, cols: SortedColumns, settings: Settings) -> list[_Candidate]:
    p = len(cols.ids)
    if p == 0:
        return []
    if box.n_points <= _VECTORIZE_BELOW:
        limit, n_removed, s_removed = both_edges(box, cols, settings.peel_alpha)
    else:  # large boxes: the per-column path makes fewer passes over the data
        box.scanned = None
        high, low = edges_by_column(box, cols, settings.peel_alpha)
        limit, n_removed, s_removed = (np.concatenate(pair) for pair in zip(high, low, strict=True))
    # EMA order: per column, the upper edge first, then the lower edge
    order = np.arange(2 * p).reshape(2, p).T.ravel()
    limits = limit[order]
    n_new = box.n_points - n_removed[order]
    s_new = box.sum_labels - s_removed[order]
    scores = objective(settings.objective, box.n_points, box.sum_labels, n_new, s_new)
    # the first of the highest (objective, unrestricted) pairs, as _best would pick it
    count, best = box.n_restricted(), None
    for i in np.flatnonzero(scores == scores.max()).tolist():
        dim, kind = i // 2, "low" if i % 2 else "high"
        unrestricted = box.unrestricted_after(dim, kind, limits[i], count)
        if best is None or unrestricted > best[1]:
            best = (i, unrestricted, dim, kind)
    assert best is not None  # scores has a maximum
    i, unrestricted, dim, kind = best
    return [_Candidate(float(scores[i]), unrestricted, dim, kind, float(limits[i]),
                       int(n_new[i]), float(s_new[i]))]


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


def _apply_peel(box: _Box, cols: SortedColumns, best: _Candidate, alpha: float):
    """``lower_peel`` / ``upper_peel`` of the chosen edge, from the window scan if it holds it.

    A fast row of the scan removes its live entries up to the nearer order statistic; like
    :meth:`SortedColumns.end`, the row's end then skips the dead entries before its first
    live one.
    """
    top, j = best.kind == "high", best.dim
    if box.scanned is not None:
        chunk, near_at, slow, limit = box.scanned
        row = j if top else j + len(cols.ids)
        if not slow[row]:
            ids = chunk[row, : near_at[row] + 1]
            alive = box.inside[ids]
            # with 0/1 labels every label sum is an exact integer, whatever path adds it up:
            # the row's end may skip the entries peeled now, sparing the next step's window
            # the dead entries (and the one-column path)
            first = len(ids) if box.integral else int(np.argmax(alive))
            if top:
                cols.stop[j] -= first
            else:
                cols.start[j] += first
            return limit[row], ids[alive]
    return (upper_peel if top else lower_peel)(box, cols, j, alpha)


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
            box.remove(members[box.codes[members, c] == code])
        else:
            value, removed = _apply_peel(box, cols, best, settings.peel_alpha)
            (box.low if best.kind == "low" else box.high)[best.dim] = value
            box.remove(removed)
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
    """The best paste of a restricted dimension (EMA's order breaks ties) and the points it adds.

    Only the candidates of the highest objective get their unrestricted count, which ranks
    them next; the result is the candidate :func:`_best` would pick from all of them.
    """
    # a point enters by relaxing one restriction only if it breaks that one alone
    one = np.flatnonzero(violations.count == 1)
    found: list[tuple[int, str, float]] = []
    added_points, n_new, s_new = [], [], []

    def add(dim: int, kind: str, value: float, added: np.ndarray) -> None:
        found.append((dim, kind, value))
        added_points.append(added)
        n_new.append(box.n_points + len(added))
        s_new.append(box.sum_labels + float(box.y[added].sum()))

    dims = list(violations.numeric)
    if dims:  # the box's points on a limit belong to the slab beyond it too
        x_in = box.columns[dims][:, box.inside]
        on_low = np.count_nonzero(x_in == box.low[dims][:, None], axis=1).tolist()
        on_high = np.count_nonzero(x_in == box.high[dims][:, None], axis=1).tolist()
    for k, (u, breaks) in enumerate(violations.numeric.items()):
        only = one[breaks[one]]  # ascending ids, as the candidates' label sums need
        x = box.columns[u, only]
        low, high = box.low[u], box.high[u]
        below = x < low  # breaking u alone: below the box or above it
        value = _paste_quantile(x[below], on_low[k], low, 1 - settings.paste_alpha,
                                box.domain.low[u])
        add(u, "low", value, only[below & (x >= value)])
        above = ~below
        value = _paste_quantile(x[above], on_high[k], high, settings.paste_alpha,
                                box.domain.high[u])
        add(u, "high", value, only[above & (x <= value)])
    for c, breaks in violations.categorical.items():
        only = one[breaks[one]]
        codes = box.codes[only, c]
        for code in np.flatnonzero(~box.allowed[c]):
            add(c, "cat", float(code), only[codes == code])
    if not found:
        return None, None
    scores = objective(settings.objective, box.n_points, box.sum_labels, n_new, s_new)
    restricted, best = box.n_restricted(), None
    for i in np.flatnonzero(scores == scores.max()).tolist():
        dim, kind, value = found[i]
        unrestricted = box.unrestricted_after(dim, kind, value, restricted)
        if best is None or unrestricted > best.n_unrestricted:
            best = _Candidate(float(scores[i]), unrestricted, dim, kind, value, n_new[i],
                              s_new[i])
            entering = added_points[i]
    return best, entering


def _paste_quantile(
    outside: np.ndarray, on_limit: int, limit: float, q: float, default: float
) -> float:
    """The paste limit: the quantile of the slab next to the box, its points on the limit included.

    ``outside``: the slab's points that break this restriction alone; ``on_limit``: the
    number of the box's points on the limit.
    """
    if not len(outside) and not on_limit:
        return default
    values = np.concatenate([outside, np.full(on_limit, limit)]) if on_limit else outside
    return quantile(values, q)


def paste(box: _Box, settings: Settings, n_total: int, record: list[Step]) -> None:
    """Paste until the best candidate is refused (not larger, objective <= 0, lower mean)."""
    violations = _Violations(box)
    while violations.numeric or violations.categorical:
        best, entering = _paste_candidates(box, violations, settings)
        if best is None or not (
            best.n_points / n_total >= settings.mass_min
            and best.n_points > box.n_points
            and best.objective > 0
            and best.sum_labels / best.n_points > box.sum_labels / box.n_points
        ):
            return
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
        box.admit(entering)
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
