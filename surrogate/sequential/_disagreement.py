"""The ``"disagreement"`` goal: runs where the student being distilled and the teacher disagree.

Part of the sequential-design stage, on the distillation stage (:mod:`surrogate.distillation`):
active learning for rule extraction (de Fortuny & Martens 2015). Each round a GP of the
teacher (the loop's own model) labels a fixed Sobol' sample of the space, and the student given
as ``student=`` (boxes, a tree, any estimator) is distilled from those labels and the teacher's
own runs, by the routes of :func:`surrogate.distill` (soft labels of the case of interest, or
values); the runs then go where the student is probably wrong: for a case of
interest, the probability that the teacher's class differs from the student's,
``p (1 - q) + (1 - p) q`` with ``p`` the GP's probability of the case and ``q`` the student's;
for values, the expected squared difference ``(mu - s)^2 + var``. The scores are computed on
the candidate population only (the student has no gradient).

The fidelity is the same quantity averaged over the other half of the Sobol' sample (points
the student did not learn from): the expected share of the space where student and teacher
disagree (for values: the expected squared difference relative to the teacher's variance).

References
----------
.. [1] E. J. de Fortuny, D. Martens, "Active learning-based pedagogical rule extraction",
   IEEE Trans. Neural Netw. Learn. Syst. 26 (2015) 2664-2677.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import torch

from surrogate._checks import check_fraction
from surrogate._random import seed_unset
from surrogate.distillation._student import student_features
from surrogate.sequential._acquisition import Acquisition, Observations, log_success
from surrogate.sequential._boundary import case_probability, output_spread, runs_each_side
from surrogate.sequential._student import Student
from surrogate.space import Space

__all__ = ["Disagreement"]

_TINY = 1e-300


class Disagreement(Acquisition):
    """Where the distilled student and the teacher (through its GP) disagree.

    Parameters
    ----------
    student : estimator
        Unfitted; cloned and fitted on the runs each round.
    space : Space
        The teacher's space: the student sees designs in its coordinates.
    threshold : (op, value), optional
        The case of interest on the output; without it the student learns the values.
    explore : float, default 0.1
        With a case of interest, the share of runs that go where the teacher's GP is least
        sure of the output (its largest variance; one run in ``1 / explore``). Where no run
        has been the GP can be sure of the wrong class, and student and teacher then agree
        there on nothing but extrapolation (on Branin's three basins of ``y < 20``, the runs
        stayed in one and the design stopped at an estimate of 0.047 for a true
        disagreement of 0.215).
    """

    polish = False
    fidelity_name = "disagreement"
    higher_is_better = False
    n_reference = 4096  # the first half labelled for the student, the second for fidelity

    def __init__(self, student: Any, space: Space, threshold: tuple[str, float] | None = None,
                 explore: float = 0.1) -> None:
        from surrogate.design import sample
        from surrogate.distillation._student import check_categories, check_student, learns_a_case

        check_student(student)  # a clear error now, not after the initial design
        check_categories(student, sample(space, 2, method="random", seed=0))
        if threshold is None and learns_a_case(student):
            raise ValueError(
                f"goal='disagreement' with a student that learns a case of interest "
                f"({type(student).__name__}: classes or boxes) needs threshold=(op, value), "
                "the case; without one the student learns the output's values and must be a "
                "regressor")
        self.student: Any = student
        self.space: Space = space
        self.threshold: tuple[str, float] | None = threshold
        self.explore: float = check_fraction("explore", explore)

    def min_runs(self, dim: int) -> int:
        """As a leave-one-out Q²: MIN_RUNS_PER_INPUT successful runs per input. The
        disagreement is the student's with the teacher's GP, which a handful of runs make
        smooth and easy to agree with (0.046 after 7 runs of a function with a bump, when the
        student's true relative squared error was 0.56)."""
        from surrogate.sequential._acquisition import MIN_RUNS_PER_INPUT

        return MIN_RUNS_PER_INPUT * dim

    def ready(self, data: Observations) -> bool:
        """:meth:`min_runs` successful runs, and with a case of interest runs on both sides
        of it: while every run is on one side there is no student (nothing to distil), and
        the teacher's GP alone, sure of one class everywhere, reads as no disagreement."""
        return super().ready(data) and (
            self.threshold is None or runs_each_side(data, self.threshold) > 0)

    def fit_student(self, student: Student, data: Observations) -> Any:
        """The student distilled from the GP's labels of the first half of the reference
        sample and the teacher's successful runs (in the space's coordinates)."""
        from surrogate.distillation._labels import Labels, is_case
        from surrogate.distillation._student import (
            StudentView,
            check_student,
            fit_student,
        )

        assert data.reference is not None
        learner = check_student(self.student)
        seed_unset(learner, np.random.default_rng(_runs_seed(data)))
        sample = data.reference[: len(data.reference) // 2]
        design = self.space.from_unit(np.vstack([sample, data.unit[data.ok]]))
        X = student_features(learner, design, self.space)
        runs = data.values[data.ok, 0]
        with torch.no_grad():
            posterior = student.posterior(torch.as_tensor(sample, dtype=torch.float64))
        if self.threshold is None:
            values = np.concatenate([posterior.mean[:, 0].numpy(), runs])
            fit_student(learner, X, Labels("value", values=values))
            return StudentView(learner, None)
        op, value = self.threshold
        p = np.concatenate([case_probability(posterior.mean[:, 0], posterior.var[:, 0], op,
                                             value, output_spread(data)).numpy(),
                            is_case(runs, self.threshold)])
        hard = (p >= 0.5).astype(np.int64)
        if hard.min() == hard.max():  # one class everywhere so far: nothing to distil yet
            return None
        proba = np.column_stack([1.0 - p, p])
        fit_student(learner, X, Labels("soft", classes=np.array([0, 1]), proba=proba,
                                       hard=hard))
        return StudentView(learner, np.array([0, 1]))

    def context(self, student: Student, data: Observations) -> Any:
        """The fitted student, the output's spread and whether this round explores (with a
        case of interest, one run in ``1 / explore``)."""
        view = self.fit_student(student, data)
        spread = float(np.var(data.values[data.ok, 0])) or 1.0
        n = len(data.ok)
        explore_now = self.threshold is not None and int(n * self.explore) < int(
            (n + 1) * self.explore)
        return view, spread, explore_now

    def _expected(self, unit: torch.Tensor, student: Student, view: Any, spread: float
                  ) -> torch.Tensor:
        posterior = student.posterior(unit)
        mean, var = posterior.mean[:, 0], posterior.var[:, 0]
        design = self.space.from_unit(unit.detach().numpy())
        if view is not None:
            design = student_features(view.student, design, self.space)
        if self.threshold is None:
            own = torch.as_tensor(view.values(design), dtype=mean.dtype)
            return ((mean - own) ** 2 + var) / spread
        op, value = self.threshold
        p = case_probability(mean, var, op, value, math.sqrt(spread))
        if view is None:  # one class seen: the teacher's own uncertainty about the case
            return torch.minimum(p, 1.0 - p)
        q = torch.as_tensor(view.proba(design)[:, 1], dtype=mean.dtype)
        return p * (1.0 - q) + (1.0 - p) * q

    def _score(self, unit: torch.Tensor, student: Student, context: Any) -> torch.Tensor:
        view, spread, explore_now = context
        posterior = student.posterior(unit)
        if explore_now:  # this round's run goes where the teacher's GP knows least
            return posterior.var[:, 0].clamp_min(_TINY).log() + log_success(posterior)
        expected = self._expected(unit, student, view, spread)
        return expected.clamp_min(_TINY).log() + log_success(posterior)

    def fidelity(self, student: Student, data: Observations) -> float:
        """Expected disagreement over the second half of the reference sample."""
        if data.reference is None:
            return float("nan")
        view, spread, _ = self.context(student, data)
        held_out = data.reference[len(data.reference) // 2:]
        with torch.no_grad():
            expected = self._expected(torch.as_tensor(held_out, dtype=torch.float64),
                                      student, view, spread)
        return float(expected.mean())

    def __repr__(self) -> str:
        return f"Disagreement({type(self.student).__name__}, threshold={self.threshold})"


def _runs_seed(data: Observations) -> int:
    """A seed for the student's unset ``seed`` / ``random_state``, from what it learns from:
    the design's reference sample (drawn from the design's seed) and the runs so far. The
    same seed gives the same runs, and a resumed design refits the student it had."""
    assert data.reference is not None
    digest = zlib.crc32(np.ascontiguousarray(data.reference).tobytes())
    return zlib.crc32(np.ascontiguousarray(data.unit).tobytes(), digest)
