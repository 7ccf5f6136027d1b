"""The sequential-design loop shared by Bayesian optimization and the adaptive designs.

Part of the sequential-design stage: an initial Latin-hypercube design, then rounds of *fit the
student on every finished run -> assess it (the stopping rule) -> maximize the acquisition ->
run the teacher on the proposed points*, until the budget of teacher runs is spent or the
student's fidelity reaches the target. Every round goes through ``Simulator.run``, so the
executors run batches in parallel, failing runs are recorded rather than raised, and a
checkpoint directory makes a killed design resume without repeating runs.

Randomness: the seed gives a root; the initial design and every round draw from their own
stream ``default_rng([root, round])``, so a resumed design draws what an uninterrupted one
would have drawn.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from surrogate._checks import is_int
from surrogate._random import SeedLike, as_generator, child_seed
from surrogate._stack import user_stacklevel
from surrogate._threads import limited
from surrogate.data import TransferSet
from surrogate.design import sample
from surrogate.execute import Executor, resolve_executor
from surrogate.sequential._acquisition import (
    ROUND_COUNTS,
    ROUND_TIMES,
    Acquisition,
    Observations,
)
from surrogate.sequential._optimize_acqf import AcquisitionOptimizer, discrete_levels, snap
from surrogate.sequential._propose import propose
from surrogate.sequential._store import RoundStore
from surrogate.sequential._student import MIN_FIT_RUNS, Student, Trainer
from surrogate.space import Space
from surrogate.teacher import Simulator

__all__ = ["Plan", "Target", "Rounds", "run_rounds", "root_seed", "round_rng", "initial_design"]


def root_seed(seed: SeedLike) -> int:
    """The int every stream of one design derives from."""
    return child_seed(as_generator(seed))


def round_rng(root: int, round_index: int) -> np.random.Generator:
    """Each round's own stream: a resumed run draws what an uninterrupted one would."""
    return np.random.default_rng([root, round_index])


ENUMERATE_UP_TO = 100_000  # points of a finite space listed to replace repeated initial ones


def initial_design(space: Space, n_init: int, root: int) -> pd.DataFrame:
    """The Latin hypercube a design with root seed ``root`` starts from. In a space of
    integer and categorical parameters only, its repeated points are replaced by points it
    does not hold (drawn with the same seed), so no initial run is spent twice: from the
    list of every point the space holds, or, for a space past ENUMERATE_UP_TO points (and
    100 per initial run), from random draws that skip held points."""
    from surrogate.sequential._teacher import finite_size

    design = sample(space, n_init, method="lhs", seed=round_rng(root, 0))
    points = finite_size(space)
    if points is None or not design.duplicated().any():
        return design
    rng = np.random.default_rng([root, 0, 1])  # the initial round's second stream
    kept = design.drop_duplicates()
    if points > max(ENUMERATE_UP_TO, 100 * n_init):  # sparse: draw, keeping unseen points
        held = kept
        while len(held) < n_init:
            draw = sample(space, 2 * (n_init - len(held)), method="random", seed=rng)
            held = pd.concat([held, draw], ignore_index=True).drop_duplicates()
        return space.validate(held.iloc[:n_init].reset_index(drop=True))
    everything = sample(space, points, method="factorial")
    unseen = everything.merge(kept, how="left", indicator=True)
    unseen = unseen[unseen["_merge"] == "left_only"].drop(columns="_merge")
    fill = unseen.iloc[rng.permutation(len(unseen))[: n_init - len(kept)]]
    return space.validate(pd.concat([kept, fill], ignore_index=True))


@dataclass(frozen=True)
class Plan:
    """What one sequential design runs (validated by its client).

    ``outputs`` are the modelled outputs in the order the acquisition's targets expect;
    ``signature`` (with its schema) is what a checkpoint must match, stored in
    ``signature_file``; ``kind`` names the design in messages.
    """

    simulator: Simulator
    outputs: tuple[str, ...]
    budget: int
    n_init: int
    batch_size: int
    signature: dict[str, Any]
    signature_file: str
    kind: str
    record_rounds: bool = False  # a rounds table (and the last student), as designs return
    timeout: float | None = None  # seconds per teacher run (a run over it is recorded)
    retries: int = 0  # reruns of a failed run
    may_change: str = "the budget, timeout and retries"  # settings a resumption may change

    @property
    def space(self) -> Space:
        return self.simulator.space


@dataclass(frozen=True)
class Target:
    """The stopping rule: stop once the fidelity estimate reaches ``value``."""

    value: float
    higher_is_better: bool = True

    def reached(self, fidelity: float) -> bool:
        if not np.isfinite(fidelity):
            return False
        return fidelity >= self.value if self.higher_is_better else fidelity <= self.value


@dataclass(frozen=True)
class Rounds:
    """What the loop returns to its client.

    ``rounds``: one row per assessment (after each round, when the acquisition has a
    fidelity); ``student``: fitted on every run when the last round was assessed;
    ``final_seed``: a seed of the stream after the last round (for a final fit);
    ``reference``: the fixed Sobol' sample the acquisition saw.
    """

    history: TransferSet
    rounds: pd.DataFrame
    stopped: str
    student: Student | None
    final_seed: int
    reference: np.ndarray | None = None


@dataclass
class _Round:
    """One round's lazily fitted student (fitted at most once, only when needed)."""

    fit: Callable[[], Student | None]
    seconds: float = 0.0  # fitting and assessing the student, and proposing the next runs
    _done: bool = False
    _student: Student | None = field(default=None, repr=False)

    def student(self) -> Student | None:
        if not self._done:
            start = time.perf_counter()
            self._student, self._done = self.fit(), True
            self.seconds += time.perf_counter() - start
        return self._student

    def proposal(self, plan: Plan, acquisition: Acquisition, data: Observations, q: int,
                 rng: np.random.Generator, optimizer: AcquisitionOptimizer, trainer: Trainer
                 ) -> Callable[[], pd.DataFrame]:
        """The round's design, made only if the checkpoint does not already hold it."""

        def design() -> pd.DataFrame:
            with limited(len(data.unit)):  # the thread policy of the student's own fit
                student = self.student()  # (conditioning on new runs, too)
                start = time.perf_counter()
                points = propose(plan.space, acquisition, data, student, q, rng, optimizer,
                                 trainer)
            self.seconds += time.perf_counter() - start
            return points

        return design


def run_rounds(plan: Plan, acquisition: Acquisition, trainer: Trainer, *, executor: Any,
               checkpoint: Any, seed: SeedLike, target: Target | None = None,
               progress: bool | None = False, optimizer: AcquisitionOptimizer | None = None
               ) -> Rounds:
    """Run the loop (see the module docstring); ``plan`` and ``target`` already validated."""
    root = root_seed(seed)
    assess = plan.record_rounds
    optimizer = optimizer or AcquisitionOptimizer(plan.space)
    store: RoundStore | None = None
    runner: Any = None
    owned, bar = False, None
    rows: list[dict[str, Any]] = []
    try:  # from here on, whatever is refused or fails lets go of the checkpoint and the pool
        runner, owned = resolve_executor(executor)
        bar = _progress_bar(plan, progress)
        if checkpoint is not None:
            store = RoundStore(checkpoint, plan.signature, file=plan.signature_file,
                               kind=plan.kind, may_change=plan.may_change)
            if not is_int(seed):
                root = store.kept_root(root)  # a resumption goes on as the design it resumes
        reference = _reference(plan.space, acquisition.n_reference, root)
        recorded = store.recorded_rounds() if store is not None and assess else {}
        history = _run_round(plan, 0, runner, store, lambda: initial_design(
            plan.space, plan.n_init, root))
        _warn_if_all_failed(history)
        sizes, since, proposing = [len(history)], time.perf_counter(), 0.0
        _advance(bar, len(history))
        round_index = 1
        while True:
            data = Observations.from_history(plan.space, history, list(plan.outputs),
                                             acquisition, reference)
            rng = round_rng(root, round_index)
            cycle = _Round(_fitter(trainer, data, sizes, rng, root))
            if assess:
                rows.append(_row(acquisition, cycle, data, round_index, since, proposing,
                                 recorded, store))
                _show(bar, acquisition, rows[-1])
            if target is not None and acquisition.ready(data) \
                    and target.reached(rows[-1][str(acquisition.fidelity_name)]):
                stopped = "target"
                break
            if len(history) >= plan.budget:
                stopped = "budget"
                break
            q = min(plan.batch_size, plan.budget - len(history))
            since = time.perf_counter()
            before = cycle.seconds
            batch = _run_round(plan, round_index, runner, store, cycle.proposal(
                plan, acquisition, data, q, rng, optimizer, trainer), limit=q)
            proposing = cycle.seconds - before
            history = TransferSet.concat([history, batch])
            sizes.append(len(batch))
            _advance(bar, len(batch))
            round_index += 1
    finally:
        if owned and runner is not None:
            runner.close()
        if bar is not None:
            bar.close()
        if store is not None:
            store.close()
    student = cycle.student() if assess else None
    frame = pd.DataFrame(rows, columns=_columns(acquisition)) if assess else pd.DataFrame()
    return Rounds(history, frame, stopped, student, child_seed(round_rng(root, round_index)),
                  reference)


def _warn_if_all_failed(history: TransferSet) -> None:
    """Warn, naming the first error, when no run of the initial design succeeded: usually a
    teacher that cannot run at all (a misspelt parameter), which would spend the budget."""
    if len(history) and not history.ok.any():
        errors = [e for e in history.error if e]
        first = f" (the first: {errors[0]})" if errors else ""
        warnings.warn(f"all {len(history)} runs of the initial design failed{first}; the "
                      "design goes on with random points until a run succeeds. Check the "
                      "teacher if it should run here", RuntimeWarning,
                      stacklevel=user_stacklevel())


def _fitter(trainer: Trainer, data: Observations, sizes: list[int], rng: np.random.Generator,
            root: int) -> Callable[[], Student | None]:
    """The fit of this round's student: on every successful run, seeded from ``rng``."""
    ok = data.ok
    boundaries = np.cumsum(sizes)  # runs seen by the student of round t: boundaries[t - 1]
    counts = [int(ok[:b].sum()) for b in boundaries]

    def prefix(t: int) -> tuple[np.ndarray, np.ndarray]:
        head = slice(0, int(boundaries[t - 1]))
        return data.unit[head][ok[head]], data.values[head][ok[head]]

    def fit() -> Student | None:
        if ok.sum() < MIN_FIT_RUNS:  # nothing to model: the round proposes random points
            return None
        seed = child_seed(rng)
        try:
            return trainer.fit(data.unit[ok], data.values[ok], data.unit, ok.astype(float),
                               seed, counts=counts,
                               seed_at=lambda t: child_seed(round_rng(root, t)), prefix=prefix)
        except (ValueError, RuntimeError) as exc:  # a GP that cannot be fitted must not end
            warnings.warn(f"the surrogate could not be fitted ({exc}); proposing random "
                          "points this round", RuntimeWarning, stacklevel=2)
            return None

    return fit


def _row(acquisition: Acquisition, cycle: _Round, data: Observations, round_index: int,
         since: float, proposing: float, recorded: dict[int, dict[str, Any]],
         store: RoundStore | None) -> dict[str, Any]:
    """The rounds-table row for the runs so far: from the checkpoint, or assessed and stored."""
    row = recorded.get(round_index - 1)
    if row is not None and row.get("n_runs") == len(data.ok):
        return row
    fresh = _assess(acquisition, cycle, data, round_index, since, proposing)
    if store is not None and row is None:  # a row of more runs (a larger budget's) is kept
        store.record_round(fresh)
    return fresh


def _assess(acquisition: Acquisition, cycle: _Round, data: Observations, round_index: int,
            since: float, proposing: float) -> dict[str, Any]:
    """The row of the rounds table for the runs so far (the student fitted on all of them);
    ``proposing``: seconds the proposal of this round's runs took."""
    name = acquisition.fidelity_name
    with limited(len(data.unit)):  # the thread policy of the student's own fit
        student = cycle.student()
        row: dict[str, Any] = {"round": round_index - 1, "n_runs": len(data.ok),
                               "n_ok": int(data.ok.sum())}
        if name is not None:  # an acquisition may have no fidelity: the table is the runs'
            start = time.perf_counter()
            row[name] = float("nan") if student is None else \
                _fidelity_value(acquisition, acquisition.fidelity(student, data))
            cycle.seconds += time.perf_counter() - start
    return {**row, "seconds": time.perf_counter() - since,
            "student_seconds": proposing + cycle.seconds}


def _fidelity_value(acquisition: Acquisition, value: Any) -> float:
    """The fidelity an acquisition returned, as a float; anything else named."""
    refused = isinstance(value, bool | np.bool_ | str | bytes | complex) or (
        isinstance(value, np.ndarray | torch.Tensor) and (value.ndim or value.is_complex()
                                                          if isinstance(value, torch.Tensor)
                                                          else value.ndim))
    try:
        if refused:
            raise TypeError
        return float(value)  # any real number: float, int, numpy scalar, Decimal, 0-d tensor
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{type(acquisition).__name__}.fidelity must return a number, got "
                        f"{value!r}") from None


def _columns(acquisition: Acquisition) -> list[str]:
    name = acquisition.fidelity_name
    return [*ROUND_COUNTS, *([] if name is None else [name]), *ROUND_TIMES]


def _reference(space: Space, n: int, root: int) -> np.ndarray | None:
    """A fixed scrambled Sobol' sample of ``n`` unit points (discrete cells at their centres)."""
    if n <= 0:
        return None
    from scipy.stats import qmc

    power = max(int(np.ceil(np.log2(n))), 1)
    points = qmc.Sobol(space.dim, scramble=True, seed=np.random.default_rng([root, 0, 1]))
    return snap(points.random_base2(power), discrete_levels(space))


def _run_round(plan: Plan, round_index: int, runner: Executor, store: RoundStore | None,
               make_design: Callable[[], pd.DataFrame], limit: int | None = None
               ) -> TransferSet:
    """The round's runs: made, or read from the checkpoint. A checkpointed round of more runs
    than ``limit`` (a resumption with a smaller budget) gives its first ``limit`` runs, so a
    design never returns more runs than its budget; a round begun but not finished is
    finished first (its checkpoint then matches an uninterrupted design's), up to its first
    ``limit`` runs (the teacher never runs past the budget)."""
    simulator = plan.simulator
    options: dict[str, Any] = {"executor": runner, "timeout": plan.timeout,
                               "retries": plan.retries, "progress": False}
    if store is None:
        return simulator.run(make_design(), **options)
    runs = store.finished(round_index)
    if runs is None:
        design = store.started_design(round_index)
        if design is None:
            design = make_design()
        elif limit is not None and len(design) > limit:  # a smaller budget than it began with
            design = design.iloc[:limit].reset_index(drop=True)
        runs = simulator.run(design, checkpoint=store.path(round_index), **options)
    if limit is not None and len(runs) > limit:
        return runs.select(np.arange(len(runs)) < limit)
    return runs


def _progress_bar(plan: Plan, progress: bool | None) -> Any:
    from surrogate.execute._campaign import show_progress

    if not show_progress(progress):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=plan.budget, desc=f"{plan.simulator.name} ({plan.kind})", unit="run")


def _advance(bar: Any, n: int) -> None:
    if bar is not None:
        bar.update(n)


def _show(bar: Any, acquisition: Acquisition, row: dict[str, Any]) -> None:
    name = acquisition.fidelity_name
    if bar is not None and name is not None:
        bar.set_postfix({name: f"{row[name]:.4g}"}, refresh=True)
