"""Acquisitions: what a further teacher run is worth, given the student fitted on the runs so far.

Part of the sequential-design stage. The loop (:mod:`surrogate.sequential._loop`) is the same
for every goal; an :class:`Acquisition` says what the student models (``targets``), how a
candidate point is scored (``_score``, larger is better, a torch function so that the optimizer
gets gradients) and how good the student is (``fidelity``, for the stopping rule). Bayesian
optimization's expected improvement is one (:class:`Improvement`); the adaptive designs' goals
are others (:mod:`surrogate.sequential._accuracy`, :mod:`surrogate.sequential._boundary`).

References
----------
.. [1] D. R. Jones, M. Schonlau, W. J. Welch, "Efficient global optimization of expensive
   black-box functions", J. Global Optim. 13 (1998) 455-492.
.. [2] S. Ament et al., "Unexpected improvements to expected improvement for Bayesian
   optimization", NeurIPS 2023.
.. [3] R. K. Ursem, "Multinational evolutionary algorithms", Proc. CEC 1999 (the hill-valley
   test).
.. [4] M. Preuss, "Improved topological niching for real-valued global optimization",
   EvoApplications 2012 (nearest-better clustering).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch

from surrogate._scale import binary_exponent
from surrogate.data import TransferSet
from surrogate.models._base import column_scale
from surrogate.sequential._constraint import Constraint
from surrogate.sequential._functions import (
    ACQUISITIONS,
    expected_improvement,
    log_expected_improvement,
    log_probability_of_feasibility,
    upper_confidence_bound,
)
from surrogate.sequential._student import SUCCESS_THRESHOLD, Student
from surrogate.space import Space

__all__ = ["Acquisition", "Observations", "Improvement", "Detour", "log_success",
           "warp_objective"]

_MIN_SUCCESS = 1e-6  # a run the success model rules out still has a finite log score
UCB_BETA = 4.0  # sqrt(beta) = 2 standard deviations of optimism
N_ANCHORS = 5
MIN_RUNS_PER_INPUT = 10  # successful runs per input before a leave-one-out Q² may stop a design
STALL_WINDOW = 10  # runs after which an incumbent that has not moved counts as stalled
# Of the objective's spread: smaller gains count as none. 5e-3, not 1e-3: on Hartmann-6 the
# runs crept down its second basin (regret 0.125 -> 0.119, gains above 1e-3) for 25-35 runs
# before the escape began; with 5e-3, 29 of seeds 0-29 reach regret < 0.1 in 80 runs (27 with
# 1e-3), the median run count 37 (43.5) on seeds 0-9 and 32 (32) on the held-out seeds 10-29
# (measured before the objective's warp).
STALL_TOLERANCE = 5e-3
# Bounds of the Yeo-Johnson exponent of the objective's warp (Improvement's ``warp``). 1 is the
# identity: only a long tail of good values (rare, deep minima) is compressed. A long tail of
# bad values is left as it is: Branin's (exponents down to -2.5 by likelihood) warped kept its
# runs to regret < 0.01 (median 21) but cost its final precision (median final regret 8.8e-4
# against 3.2e-5 unwarped). The upper bound keeps a few outlying runs from driving the exponent
# to one that overflows.
WARP_LAMBDA = (1.0, 3.0)
BASIN_HALF_WIDTH = 0.25  # of the unit cube: the box around another basin's best run
BASIN_RATION = 10  # runs in its box without progress after which a basin waits its turn
BASIN_PROGRESS = 0.1  # of a basin's gap to the incumbent: smaller gains count as none
# the columns of the rounds table (AdaptiveResult.history): the fidelity's goes between them
ROUND_COUNTS = ("round", "n_runs", "n_ok")
ROUND_TIMES = ("seconds", "student_seconds")
_SEGMENT = np.linspace(0.1, 0.9, 9)[:, None]  # where the hill test reads the GP mean


@dataclass(frozen=True)
class Observations:
    """The runs so far in the loop's terms.

    Attributes
    ----------
    unit : ndarray of shape (n, d)
        Every run's inputs in the unit cube (``Space.to_unit``).
    ok : ndarray of shape (n,)
        Whether the run succeeded.
    values : ndarray of shape (n, m)
        The modelled outputs after the acquisition's ``targets``; NaN where a run failed.
    reference : ndarray of shape (r, d) or None
        A fixed scrambled Sobol' sample of the unit cube (the same every round), for
        acquisitions and fidelity estimates that integrate over the space.
    """

    unit: np.ndarray
    ok: np.ndarray
    values: np.ndarray
    reference: np.ndarray | None = None

    @classmethod
    def from_history(cls, space: Space, history: TransferSet, outputs: list[str],
                     acquisition: Acquisition, reference: np.ndarray | None = None
                     ) -> Observations:
        values = np.asarray(acquisition.observe(history, outputs), dtype=float)
        return cls(space.to_unit(history.X), history.ok, acquisition.targets(values), reference)


def log_success(posterior: Any) -> torch.Tensor:
    """``log P(run succeeds)`` from the success GP (zeros while no run has failed)."""
    if posterior.success_mean is None:
        return torch.zeros_like(posterior.mean[:, 0])
    if posterior.success_is_probability:
        return posterior.success_mean.clamp(_MIN_SUCCESS, 1.0).log()
    return log_probability_of_feasibility(posterior.success_mean, posterior.success_var, ">=",
                                          SUCCESS_THRESHOLD)


@dataclass(frozen=True)
class Detour:
    """A search the round tries after the acquisition's own: maximize the acquisition with
    ``context`` inside ``box`` (lower, upper unit-cube corners) around ``anchor`` over the
    points that ``accept`` passes (all when None; unit-cube points (k, d) -> bool (k,)), and
    run the point found if its value reaches ``threshold``."""

    context: Any
    box: tuple[np.ndarray, np.ndarray]
    anchor: np.ndarray
    threshold: float
    accept: Callable[[np.ndarray], np.ndarray] | None = None


class Acquisition:
    """Base class of the acquisitions of the sequential-design loop (custom goals included).

    Each round the loop fits the student (a GP of the modelled outputs on unit-cube inputs,
    plus a GP of run success once a run has failed), calls :meth:`context` once, and maximizes
    :meth:`function` over the unit cube; a batch is chosen point by point, the student
    believing its own prediction at the points already chosen (Kriging believer).

    Subclassing
    -----------
    Implement ``_score(unit, student, context) -> Tensor (n,)``: the value of running the
    teacher at each unit-cube point of ``unit`` (n, d), larger is better, differentiable in
    ``unit`` where ``polish`` is True. ``student.posterior(unit)`` gives the posterior mean
    and variance (n, m) and the success GP's (see :class:`~surrogate.sequential.Posterior`);
    :func:`log_success` is the log probability that a run succeeds, to add to a log-scale
    score so that the search avoids where the teacher fails. Optionally override
    :meth:`context` (per-round quantities, computed once), :meth:`observe` (what the runs
    gave, e.g. a field's trajectories), :meth:`targets`, :meth:`anchors`, :meth:`detours`
    (boxed searches that may replace the round's point), :meth:`fidelity` (with
    ``fidelity_name`` and ``higher_is_better``; the default is the student's leave-one-out
    Q²), :meth:`min_runs` and :meth:`ready` (whether the runs so far let the fidelity stop the
    design) and ``n_reference`` (size of the fixed Sobol' sample that
    ``Observations.reference`` holds).

    Examples
    --------
    >>> import torch
    >>> from surrogate.sequential import Acquisition, log_success
    >>> class MaxStd(Acquisition):
    ...     "Run where the student is least sure (the posterior standard deviation)."
    ...     def _score(self, unit, student, context):
    ...         posterior = student.posterior(unit)
    ...         return 0.5 * posterior.var.clamp_min(1e-300).log().sum(1) + log_success(posterior)
    >>> MaxStd().fidelity_name
    'q2_loo'
    """

    polish: ClassVar[bool] = True  # L-BFGS-B polishing of the best candidates
    fidelity_name: ClassVar[str | None] = "q2_loo"
    higher_is_better: ClassVar[bool] = True
    n_reference: ClassVar[int] = 0

    def observe(self, history: TransferSet, outputs: list[str]) -> np.ndarray:
        """What the runs gave, (n, m), NaN where a run failed (default: the scalar ``outputs``;
        a field's acquisition reads its trajectories)."""
        return history.Y[outputs].to_numpy(dtype=float, copy=True)

    def targets(self, values: np.ndarray) -> np.ndarray:
        """The modelled outputs (n, m) as the student should see them (default: as they are)."""
        return values

    def context(self, student: Student, data: Observations) -> Any:
        """Per-round quantities for :meth:`_score` (default None)."""
        return None

    def anchors(self, data: Observations) -> np.ndarray | None:
        """Unit points around which extra local candidates are drawn (default none)."""
        return None

    def detours(self, student: Student, data: Observations, context: Any,
                value: float) -> Iterator[Detour]:
        """Searches tried, in order, after the whole-space one found a maximum of ``value``;
        the first that succeeds replaces its point (default none)."""
        return iter(())

    def fidelity(self, student: Student, data: Observations) -> float:
        """How good the student is: the smallest leave-one-out Q² over its outputs."""
        from surrogate.sequential._accuracy import loo_q2

        return loo_q2(student.outputs, data.unit[data.ok], data.values[data.ok])

    def min_runs(self, dim: int) -> int:
        """Successful runs the fidelity needs before it may stop a design: for the default
        leave-one-out Q², MIN_RUNS_PER_INPUT per input (the 10 d of Loeppky, Sacks & Welch
        2009); before, a smooth-looking handful of runs gives a leave-one-out Q² far above the
        student's true one (0.99 after 9 runs of a 3-input logistic growth model whose held-out
        Q² was 0.61). Otherwise none."""
        return MIN_RUNS_PER_INPUT * dim if self.fidelity_name == "q2_loo" else 0

    def ready(self, data: Observations) -> bool:
        """Whether the runs so far let :meth:`fidelity` stop the design: :meth:`min_runs`
        successful runs."""
        return int(np.count_nonzero(data.ok)) >= self.min_runs(data.unit.shape[1])

    def function(self, student: Student, context: Any) -> Callable[[torch.Tensor], torch.Tensor]:
        """The acquisition as a torch function of unit-cube points ``(n, d) -> (n,)``."""

        def acquisition(unit: torch.Tensor) -> torch.Tensor:
            value = self._score(unit, student, context)
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"{type(self).__name__}._score must return a torch Tensor of "
                                f"shape ({unit.shape[0]},), differentiable in unit; got "
                                f"{type(value).__name__}")
            if value.shape != (unit.shape[0],):
                raise ValueError(f"{type(self).__name__}._score returned shape "
                                 f"{tuple(value.shape)} for {unit.shape[0]} points; expected "
                                 f"({unit.shape[0]},)")
            if value.dtype != unit.dtype:
                value = value.to(unit.dtype)  # float32, ints: the optimizer works in float64
            if len(value) > 1 and not getattr(self, "_warned_nan", False) \
                    and bool(torch.isnan(value).all()) \
                    and not type(self).__module__.startswith("surrogate."):
                object.__setattr__(self, "_warned_nan", True)  # once a design
                warnings.warn(f"{type(self).__name__}._score returned NaN at every point it "
                              "scored: the design's next runs are then arbitrary points",
                              UserWarning, stacklevel=2)
            return value

        return acquisition

    def _score(self, unit: torch.Tensor, student: Student, context: Any) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement _score(unit, student, "
                                  "context)")

    def _check_protocol(self) -> None:
        """Refuse, before any teacher run, an acquisition that scores nothing (one that
        overrides neither ``_score`` nor ``function``), or whose ``fidelity_name`` would
        overwrite a column of the rounds table; called once a design, it also lets the design
        warn of all-NaN scores again (an instance used for a second design stayed silent)."""
        kind = type(self)
        object.__setattr__(self, "_warned_nan", False)  # a new design: warn again
        if kind._score is Acquisition._score and kind.function is Acquisition.function:
            raise TypeError(f"{kind.__name__} must implement _score(unit, student, context), "
                            "returning a torch Tensor of shape (n,)")
        name = kind.fidelity_name
        if name is not None and (not isinstance(name, str) or not name
                                 or name in ROUND_COUNTS + ROUND_TIMES):
            raise ValueError(f"{kind.__name__}.fidelity_name must be None or a non-empty str "
                             "naming the fidelity's column of the rounds table, other than its "
                             f"own columns {[*ROUND_COUNTS, *ROUND_TIMES]}; got {name!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@dataclass(frozen=True)
class _Incumbent:
    best: float | None  # smallest signed objective among the feasible runs
    scale: float  # spread of the objective, the unit of UCB and of the improvement
    constraint_scales: tuple[float, ...]  # spread of each constrained output, their unit
    # constrained outputs whose successful runs all gave one value: the GP is then sure of it
    # everywhere, and its probability of feasibility says nothing about where to look
    uninformed: tuple[bool, ...] = ()


def _own_basin(student: Student, unit: np.ndarray, values: np.ndarray, points: np.ndarray,
               levels: np.ndarray) -> np.ndarray:
    """Whether each of ``points`` (k, d), at objective ``levels`` (k,), lies in a basin of its
    own (k,): the GP mean rises above its level between it and the nearest run better than
    it (the hill-valley test on the nearest-better pair; no hill: the same basin as a better
    run). ``unit`` (n, d) and ``values`` (n,) are the feasible runs."""
    own = np.ones(len(points), dtype=bool)
    better = values[None, :] < levels[:, None]  # (k, n)
    tested = np.flatnonzero(better.any(axis=1))  # a point better than every run: its own
    if not len(tested):
        return own
    distance = np.linalg.norm(points[tested, None, :] - unit[None, :, :], axis=2)
    j = np.argmin(np.where(better[tested], distance, np.inf), axis=1)
    # segments between each point and its nearest better run  (t, 9, d)
    segment = unit[j][:, None, :] + _SEGMENT[None] * (points[tested] - unit[j])[:, None, :]
    with torch.no_grad():
        mean = student.posterior(torch.as_tensor(segment.reshape(-1, points.shape[1]))).mean
    hill = mean[:, 0].numpy().reshape(len(tested), -1).max(axis=1)
    own[tested] = hill > levels[tested]
    return own


def warp_objective(values: np.ndarray) -> np.ndarray:
    """The objective's values (NaN where a run failed), standardized, through the Yeo-Johnson
    power transform whose exponent maximizes the likelihood of the successful runs' values
    being normal, within WARP_LAMBDA; unchanged below three distinct values.

    A monotone map, so the best run stays the best; it compresses a long tail of good values
    for the GP's stationary kernel. Hartmann-6's runs are skewed towards its deep, narrow
    basins: the GP then misjudged the global basin's depth (mean -2.65 at the optimum, -3.32
    true) and spent 9-14 runs in it before beating the second basin. Warped, the median
    number of runs to regret < 0.1 of the 80-run searches fell from 38.5 to 31.5 on seeds 0-9
    (10 of 10 reach it, as unwarped) and from 33 to 27.5 on seeds 0-29, where 28 of 30 reach
    it (30 unwarped: seeds 21 and 29, which got there at runs 76 and 77 unwarped, do not).
    The output warping of HEBO (Cowen-Rivers et al., JAIR 74, 2022) is the same idea.
    """
    from scipy import optimize, stats

    try:  # a float copy: an int array would take the warped values back as ints
        values = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("values must be an array of numbers (NaN where a run failed), got "
                        f"{type(values).__name__}") from None
    ok = np.isfinite(values)
    if len(np.unique(values[ok])) < 3:
        return values
    # scaled by a power of two first (exact: the same z), so that the squares of the
    # standard deviation neither overflow (values past 1e154) nor underflow (below 1e-154)
    good = np.ldexp(values[ok], -binary_exponent(values[ok]))
    z = (good - good.mean()) / good.std()
    best = optimize.minimize_scalar(lambda lam: -stats.yeojohnson_llf(lam, z),
                                    bounds=WARP_LAMBDA, method="bounded",
                                    options={"xatol": 1e-9})
    warped = values.copy()
    warped[ok] = stats.yeojohnson(z, lmbda=float(best.x))
    return warped


class Improvement(Acquisition):
    """Bayesian optimization's acquisition: log EI, EI or UCB, weighted by feasibility.

    Column 0 of the targets is the objective times ``sign`` (smaller is better), columns 1..
    the constrained outputs. Constraints and run success enter as log probabilities of
    feasibility, added to log EI (multiplied into EI; added to UCB in units of the
    objective's spread). Before any feasible run exists, the probability of feasibility alone
    is maximized.

    Parameters
    ----------
    kind : {"logei", "ei", "ucb"}
    constraints : tuple of Constraint
    sign : float
        1 to minimize, -1 to maximize.
    escape : bool
        When the incumbent stalls, improve the best run of another basin instead (see
        :meth:`detours`).
    n_init : int, default 0
        Runs of the initial design: the stall window counts only the runs after them (a
        design whose best run happens to come early is not a stalled search).
    warp : bool, default False
        Model the objective through a monotone warp of its values (:func:`warp_objective`),
        refitted every round; the incumbent, the improvement and the stall tests are then in
        warped units, and the best run is the same.
    rescale : bool, default True
        Without ``warp``, model the objective in units of the power of two above its largest
        magnitude over the runs (exact, so every choice is the one made on the objective
        itself): the GP's variance of an objective past 1e154 overflowed (the expected
        improvement raised OverflowError) and below 1e-154 underflowed. ``False``: the
        objective's own units (a model of the objective itself, as the result's).
    """

    fidelity_name = None

    def __init__(self, kind: str = "logei", constraints: tuple[Constraint, ...] = (),
                 sign: float = 1.0, *, escape: bool = False, n_init: int = 0,
                 warp: bool = False, rescale: bool = True) -> None:
        if kind not in ACQUISITIONS:
            raise ValueError(f"acquisition must be one of {list(ACQUISITIONS)}, got {kind!r}")
        self.kind = kind
        self.constraints = tuple(constraints)
        self.sign = sign
        self.escape = escape
        self.n_init = n_init
        self.warp = warp
        self.rescale = rescale

    def targets(self, values: np.ndarray) -> np.ndarray:
        values[:, 0] *= self.sign
        if self.warp:  # standardized: nothing left to rescale
            values[:, 0] = warp_objective(values[:, 0])
        elif self.rescale:
            ok = np.isfinite(values[:, 0])
            values[:, 0] = np.ldexp(values[:, 0], -binary_exponent(values[ok, 0]))
        return values

    def feasible(self, data: Observations) -> np.ndarray:
        """Runs that succeeded and satisfy every constraint."""
        feasible = data.ok.copy()
        for j, constraint in enumerate(self.constraints, start=1):
            feasible &= constraint.satisfied(data.values[:, j])
        return feasible

    def context(self, student: Student, data: Observations) -> _Incumbent:
        feasible = self.feasible(data)
        best = float(data.values[feasible, 0].min()) if feasible.any() else None
        ok = data.values[data.ok]  # each output's spread (1 if constant or no run succeeded)
        spreads = tuple(map(float, column_scale(ok) if len(ok) else np.ones(ok.shape[1])))
        uninformed = tuple(bool(len(ok) and np.ptp(ok[:, j]) == 0)
                           for j in range(1, ok.shape[1]))
        return _Incumbent(best, spreads[0], spreads[1:], uninformed)  # column 0: the objective

    def anchors(self, data: Observations) -> np.ndarray:
        """Unit-cube points of the best feasible runs, where local candidates are drawn."""
        index = np.flatnonzero(self.feasible(data))
        order = index[np.argsort(data.values[index, 0], kind="stable")]
        return data.unit[order[:N_ANCHORS]]

    def stalled(self, data: Observations, context: _Incumbent, value: float) -> bool:
        """The incumbent is stuck: the best feasible value has not improved by
        STALL_TOLERANCE of the objective's spread over the last STALL_WINDOW runs (all of them
        after the ``n_init`` runs of the initial design), or the acquisition's maximum
        ``value`` expects no more than that, or the last run left the incumbent's box (a
        detour) without improving it: once escaping, the search keeps escaping until the
        incumbent moves or the window judges, rather than going back to the incumbent's basin
        whenever its expected improvement flickers just above negligible."""
        if value < self._negligible():
            return True
        feasible = self.feasible(data)
        n = len(feasible)
        if n < max(STALL_WINDOW + 2, self.n_init + STALL_WINDOW) \
                or not feasible[:n - STALL_WINDOW].any():
            return False
        values = data.values[:, 0]
        best = int(np.flatnonzero(feasible)[np.argmin(values[feasible])])
        if best != n - 1 and np.any(np.abs(data.unit[-1] - data.unit[best]) > BASIN_HALF_WIDTH):
            return True  # the last round escaped and the incumbent has not improved since
        before = float(values[:n - STALL_WINDOW][feasible[:n - STALL_WINDOW]].min())
        return before - float(values[feasible].min()) < STALL_TOLERANCE * context.scale

    def detours(self, student: Student, data: Observations, context: Any,
                value: float) -> Iterator[Detour]:
        """With ``escape``, once the incumbent stalls: improve the best run of another basin.

        Expected improvement over the incumbent cannot leave a basin that the GP believes it
        has mapped: far from the runs the posterior reverts to its mean, so a deeper basin
        that no run has entered scores no better than the flat parts of the space (on
        Hartmann-6 the runs then refine the second-best minimum to the last digit). A run is
        the best of its own basin when the GP mean rises between it and the nearest better
        run (the hill-valley test of Ursem 1999, on nearest-better pairs as in Preuss 2012);
        for those runs, best first, the round maximizes the expected improvement over that
        run's value in a box around it, and runs the point if the improvement expected is
        not negligible (STALL_TOLERANCE of the spread). Points on the slopes of a better
        run's basin (by the same test) are not candidates: the box would otherwise let the
        search slide down into the incumbent's basin from its edge. Each basin so found is
        searched like the incumbent's until it overtakes the incumbent, or until BASIN_RATION
        runs in its box have not brought its best BASIN_PROGRESS of its gap to the incumbent
        closer; then the basins that have had fewer such runs go first, so that a shallow
        basin that keeps improving a little does not hold the rest of the budget.
        """
        if not self.escape or self.kind == "ucb" or context.best is None:
            return
        feasible = self.feasible(data)
        unit, values = data.unit[feasible], data.values[feasible, 0]
        advancing = self._advancing(student, data, feasible)
        if advancing is None and not self.stalled(data, context, value):
            return
        basins = []  # (turn, best run) per basin other than the incumbent's
        order = np.argsort(values, kind="stable")
        others = order[1:]
        own = _own_basin(student, unit, values, unit[others], values[others])  # one GP call
        for i in others[own]:
            # runs in the box since the first that came within BASIN_PROGRESS of the gap to
            # the incumbent of its best
            in_box = np.flatnonzero(np.all(np.abs(unit - unit[i]) <= BASIN_HALF_WIDTH, axis=1))
            gap = values[i] - values[order[0]]
            close = in_box[values[in_box] <= values[i] + BASIN_PROGRESS * gap]
            basins.append((int((in_box > close.min()).sum()) // BASIN_RATION, i))

        def off_slopes(best: float) -> Callable[[np.ndarray], np.ndarray]:
            """Points below ``best`` not on the slopes of a basin of the runs below them."""
            def accept(points: np.ndarray) -> np.ndarray:
                with torch.no_grad():
                    levels = student.posterior(torch.as_tensor(points)).mean[:, 0].numpy()
                return _own_basin(student, unit, values, points, np.minimum(levels, best))
            return accept

        if advancing is not None:  # the basin its last run advanced goes first, alone if the
            # incumbent has not stalled
            rest = [basin for basin in basins if basin[1] != advancing]
            basins = [(-1, i) for _, i in basins if i == advancing] + \
                (rest if self.stalled(data, context, value) else [])
        for _, i in sorted(basins, key=lambda basin: basin[0]):  # stable: best first per turn
            box = (np.clip(unit[i] - BASIN_HALF_WIDTH, 0.0, 1.0),
                   np.clip(unit[i] + BASIN_HALF_WIDTH, 0.0, 1.0))
            yield Detour(replace(context, best=float(values[i])), box, unit[i][None, :],
                         self._negligible(), off_slopes(float(values[i])))

    def _advancing(self, student: Student, data: Observations,
                   feasible: np.ndarray) -> int | None:
        """Index among the feasible runs of the last run when it advanced another basin than
        the incumbent's: it is the best of a basin of its own (the hill-valley test), runs were
        in its box before it, and it brought the best of them BASIN_PROGRESS of their gap to
        the incumbent closer. Such a basin keeps the next round's turn even when the
        incumbent's own search no longer counts as stalled (a trust region that succeeds is
        kept, as in TuRBO): otherwise the round after a detour's first success often goes back
        to the incumbent's basin, whose improvement the acquisition expects to be just above
        negligible, and the basin that is closing its gap waits for the next stall. None when
        the last run did not."""
        if len(data.ok) <= self.n_init or not feasible[-1]:
            return None
        unit, values = data.unit[feasible], data.values[feasible, 0]
        last, best = len(values) - 1, int(np.argmin(values))
        if best == last:
            return None
        in_box = np.flatnonzero(np.all(np.abs(unit[:last] - unit[last]) <= BASIN_HALF_WIDTH,
                                       axis=1))
        if not len(in_box):
            return None
        before = float(values[in_box].min())
        if before - values[last] < BASIN_PROGRESS * (before - values[best]):
            return None
        own = _own_basin(student, unit, values, unit[last][None, :], values[last][None])
        return last if bool(own[0]) else None

    def _negligible(self) -> float:
        """The acquisition value of an improvement of STALL_TOLERANCE of the spread (in whose
        units :meth:`_score` scores the improvement)."""
        return float(np.log(STALL_TOLERANCE)) if self.kind == "logei" else STALL_TOLERANCE

    def _score(self, unit: torch.Tensor, student: Student, context: _Incumbent) -> torch.Tensor:
        posterior = student.posterior(unit)
        mean, var = posterior.mean, posterior.var
        log_pof = torch.zeros_like(mean[:, 0])
        for j, constraint in enumerate(self.constraints, start=1):
            if context.best is None and context.uninformed[j - 1]:
                # every run gave this output one (infeasible) value: its GP has no spread, and
                # the feasibility it gives is one number everywhere (a pass/fail output whose
                # runs all failed kept the search where it was); go where the objective's
                # model knows least, as far from the runs as it can, until a value differs
                log_pof = log_pof + 0.5 * torch.log(var[:, 0].clamp_min(1e-300))
                continue
            # in units of the output's spread, as the improvement: the std floor is relative
            c = context.constraint_scales[j - 1]
            log_pof = log_pof + log_probability_of_feasibility(
                mean[:, j] / c, var[:, j] / c**2, constraint.op, constraint.bound / c)
        if posterior.success_mean is not None and posterior.success_var is not None:
            log_pof = log_pof + log_probability_of_feasibility(
                posterior.success_mean, posterior.success_var, ">=", SUCCESS_THRESHOLD)
        if context.best is None:
            return log_pof
        # the improvement in units of the objective's spread: the standard deviation's floor
        # (_MIN_STD) is then relative, and an objective of 1e-30 is searched as one of 1
        scale = context.scale
        if self.kind == "logei":
            return log_expected_improvement(mean[:, 0] / scale, var[:, 0] / scale**2,
                                            context.best / scale) + log_pof
        if self.kind == "ei":
            return expected_improvement(mean[:, 0] / scale, var[:, 0] / scale**2,
                                        context.best / scale) * log_pof.exp()
        return upper_confidence_bound(mean[:, 0], var[:, 0], UCB_BETA) / context.scale + log_pof

    def __repr__(self) -> str:
        return f"Improvement({self.kind!r}, constraints={list(map(str, self.constraints))})"
