"""The ``"boundary"`` goal: runs along the edge of a case of interest, and its fidelity.

Part of the sequential-design stage. The case of interest is ``output op value`` (e.g.
``stab < 0``), or a 0/1 output. The student is a GP of the output; at a point ``x`` its
probability of the case is ``p(x) = Phi((value - mu(x)) / s(x))`` (for ``<``; mirrored for
``>``). :class:`Straddle` (Bryan et al. 2005) runs where ``kappa s(x) - |mu(x) - value|`` is
largest: near the predicted edge *and* uncertain, so the predicted edge is refined and the
regions where the student knows little (a second, disconnected region of the case among them)
are explored. :class:`UFunction` is AK-MCS's learning function ``U = |mu - value| / s``
(Echard, Gayton & Lemaire 2011), minimized over a finite candidate population as in AK-MCS
(its minimum over a continuum is the whole predicted edge).

The fidelity is the expected misclassification share over the space: the mean of
``min(p, 1 - p)`` over a fixed Sobol' sample of the space, i.e. the share of the space the
student is expected to put on the wrong side of the edge.

References
----------
.. [1] B. Bryan, J. Schneider, R. C. Nichol, C. J. Miller, C. R. Genovese, L. Wasserman,
   "Active learning for identifying function threshold boundaries", NIPS 2005.
.. [2] B. Echard, N. Gayton, M. Lemaire, "AK-MCS: an active learning reliability method
   combining Kriging and Monte Carlo simulation", Structural Safety 33 (2011) 145-154.
.. [3] V. Picheny, D. Ginsbourger, O. Roustant, R. T. Haftka, N.-H. Kim, "Adaptive designs of
   experiments for accurate approximation of a target region", J. Mech. Des. 132 (2010).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from surrogate._checks import check_flag, check_fraction, check_positive_float
from surrogate.sequential._acquisition import Acquisition, Observations, log_success
from surrogate.sequential._constraint import check_rule
from surrogate.sequential._student import Student

__all__ = ["TargetedVarianceReduction", "Straddle", "UFunction", "case_probability",
           "output_spread"]

_MIN_STD = 1e-12  # the least predictive std, as a share of the output's spread
N_ANCHORS = 5
STRADDLE_KAPPA = 1.96  # Straddle's default; also TargetedVarianceReduction's fallback


def case_probability(mean: torch.Tensor, var: torch.Tensor, op: str, value: float,
                     spread: float = 1.0) -> torch.Tensor:
    """``P(output op value)`` for a Gaussian output (strict and non-strict agree); the std is
    at least ``_MIN_STD * spread`` (the output's spread: a fixed floor of 1e-12 pulled every
    probability of an output of 1e-12 towards 0.5)."""
    std = var.clamp_min((_MIN_STD * spread) ** 2).sqrt()
    margin = (value - mean) if op in ("<=", "<") else (mean - value)
    return torch.special.ndtr(margin / std)


class _Edge(Acquisition):
    """What the boundary acquisitions share: the case, the anchors, the fidelity."""

    fidelity_name = "misclassified"
    higher_is_better = False
    n_reference = 4096

    def __init__(self, threshold: tuple[str, float], *, indicator: bool = False) -> None:
        op, value = check_rule("threshold", threshold)
        check_flag("indicator", indicator)
        self.op: str = op
        self.value: float = value
        self.indicator: bool = bool(indicator)

    def targets(self, values: np.ndarray) -> np.ndarray:
        """The output as it is; an indicator output must hold only 0 and 1. Checked on the
        first runs, the initial design's: a teacher's values show only once it has run."""
        if self.indicator:
            seen = values[np.isfinite(values)]
            if not np.isin(seen, (0.0, 1.0)).all():
                odd = seen[~np.isin(seen, (0.0, 1.0))][:3].tolist()
                raise ValueError(
                    "goal='boundary' without threshold= needs a 0/1 output (1 marking the "
                    f"case of interest); the output has values such as {odd} in its first "
                    f"{len(values)} runs (a teacher's values show only once it has run, so "
                    "this is checked on the initial design): pass threshold=(op, value), e.g. "
                    "threshold=('<', 0.0)")
        return values

    @property
    def threshold(self) -> tuple[str, float]:
        return self.op, self.value

    def context(self, student: Student, data: Observations) -> float:
        """The output's spread over the successful runs (the unit of the score)."""
        return output_spread(data)

    def anchors(self, data: Observations) -> np.ndarray:
        """The successful runs closest to the edge, where local candidates are drawn."""
        index = np.flatnonzero(data.ok)
        order = index[np.argsort(np.abs(data.values[index, 0] - self.value), kind="stable")]
        return data.unit[order[:N_ANCHORS]]

    def min_runs(self, dim: int) -> int:
        """As a leave-one-out Q²: MIN_RUNS_PER_INPUT successful runs per input. A GP on a
        dozen runs can be sure of a wrong edge: on a 0/1 output of a 2-input ellipse it
        claimed 0.014-0.019 misclassified after 12-18 runs, when 0.18-0.22 was (it had taken
        one input for irrelevant, length scale 793)."""
        from surrogate.sequential._acquisition import MIN_RUNS_PER_INPUT

        return MIN_RUNS_PER_INPUT * dim

    def ready(self, data: Observations) -> bool:
        """:meth:`min_runs` successful runs, N_ANCHORS of them on each side of the edge:
        before, the student's edge is extrapolated and its misclassification estimate far too
        low (on Branin, ``y < 10``, it claimed 0.02 after 8 runs, when 0.14 of the space was
        misclassified)."""
        return super().ready(data) and runs_each_side(data, self.threshold) >= N_ANCHORS

    def fidelity(self, student: Student, data: Observations) -> float:
        """Expected misclassification share over the reference sample of the space."""
        if data.reference is None:
            return float("nan")
        with torch.no_grad():
            reference = torch.as_tensor(data.reference, dtype=torch.float64)
            posterior = student.posterior(reference)
            p = case_probability(posterior.mean[:, 0], posterior.var[:, 0], self.op, self.value,
                                 output_spread(data))
        return float(torch.minimum(p, 1.0 - p).mean())

    def __repr__(self) -> str:
        # (as checkpoints' signatures record it: the exact threshold is in their settings)
        return f"{type(self).__name__}(({self.op!r}, {self.value:g}))"


def output_spread(data: Observations) -> float:
    """The standard deviation of the output over the successful runs (1.0 when it is 0)."""
    return float(np.std(data.values[data.ok, 0])) or 1.0


def runs_each_side(data: Observations, threshold: tuple[str, float]) -> int:
    """The fewer of the successful runs inside and outside the case ``threshold``."""
    from surrogate.distillation._labels import is_case

    case = is_case(data.values[data.ok, 0], threshold)
    return min(int(case.sum()), int(len(case) - case.sum()))


class Straddle(_Edge):
    """``(kappa s(x) - |mu(x) - value|) / spread`` plus the log probability that the run
    succeeds (Bryan et al. 2005).

    Parameters
    ----------
    threshold : (op, value)
        The case of interest, ``output op value``.
    kappa : float, default 1.96
        Weight of exploration: the half-width, in standard deviations, of the band around the
        edge that counts as undecided.

    Examples
    --------
    >>> Straddle(("<", 0.0)).threshold
    ('<', 0.0)
    """

    def __init__(self, threshold: tuple[str, float], kappa: float = STRADDLE_KAPPA, *,
                 indicator: bool = False) -> None:
        super().__init__(threshold, indicator=indicator)
        self.kappa: float = check_positive_float("kappa", kappa)

    def _score(self, unit: torch.Tensor, student: Student, context: Any) -> torch.Tensor:
        return _straddle(unit, student, self.value, self.kappa, context)


def _straddle(unit: torch.Tensor, student: Student, value: float, kappa: float, spread: float
              ) -> torch.Tensor:
    """The straddle score of :class:`Straddle` at ``unit`` (n,), in units of ``spread``."""
    posterior = student.posterior(unit)
    mean = posterior.mean[:, 0]
    std = posterior.var[:, 0].clamp_min((_MIN_STD * spread) ** 2).sqrt()
    straddle = (kappa * std - (mean - value).abs()) / spread
    return straddle + log_success(posterior)


class UFunction(_Edge):
    """AK-MCS's learning function: ``-|mu(x) - value| / s(x)`` over the candidate population
    (no gradient polishing), plus the log probability that the run succeeds (Echard et al.
    2011)."""

    polish = False

    def _score(self, unit: torch.Tensor, student: Student, context: Any) -> torch.Tensor:
        posterior = student.posterior(unit)  # (context: the output's spread)
        mean = posterior.mean[:, 0]
        std = posterior.var[:, 0].clamp_min((_MIN_STD * context) ** 2).sqrt()
        return -(mean - self.value).abs() / std + log_success(posterior)


class TargetedVarianceReduction(_Edge):
    """Integrated variance reduction weighted towards the predicted edge (tIMSE, Picheny et al.
    2010), with a share of uniform weight for exploration.

    The weight of a reference point ``z`` is ``phi(d(z)) / sqrt(s(z)^2 + eps^2)`` with
    ``d = (mu(z) - value) / sqrt(s(z)^2 + eps^2)``: the density of the edge there, blurred by
    the student's uncertainty and by ``eps = tolerance * spread``; then
    ``w = (1 - explore) w / mean(w) + explore``. A student that is not an exact GP (e.g.
    ``GPRegressor(method="svgp")``) is scored by :class:`Straddle`'s rule instead (its default
    ``kappa``).

    Parameters
    ----------
    threshold : (op, value)
    tolerance : float, default 0.1
        Width of the band around the edge, as a share of the output's spread over the runs.
    explore : float, default 0.1
        Share of uniform weight: variance anywhere in the space counts this much.
    """

    n_reference = 4096
    N_INTEGRAL = 512  # the first points of the reference sample (a balanced Sobol' prefix)

    def __init__(self, threshold: tuple[str, float], tolerance: float = 0.1,
                 explore: float = 0.1, *, indicator: bool = False) -> None:
        super().__init__(threshold, indicator=indicator)
        self.tolerance: float = check_positive_float("tolerance", tolerance)
        self.explore: float = check_fraction("explore", explore)

    def context(self, student: Student, data: Observations) -> Any:
        from surrogate.sequential._accuracy import _exact_gp, reference_state, success_weighted

        spread = super().context(student, data)
        gp = student.outputs
        if not _exact_gp(gp) or data.reference is None:
            return spread
        reference = data.reference[: self.N_INTEGRAL]
        with torch.no_grad():
            posterior = student.posterior(torch.as_tensor(reference, dtype=torch.float64))
            total = (posterior.var[:, 0] + (self.tolerance * spread) ** 2).sqrt()
            density = torch.exp(-0.5 * ((posterior.mean[:, 0] - self.value) / total) ** 2) / total
        weights = density.numpy() / max(float(density.mean()), 1e-300)
        weights = (1.0 - self.explore) * weights + self.explore
        return reference_state(gp, reference, success_weighted(student, reference, weights))

    def _score(self, unit: torch.Tensor, student: Student, context: Any) -> torch.Tensor:
        from surrogate.sequential._accuracy import integrated_reduction

        if isinstance(context, float):  # not an exact GP: the straddle (default kappa) instead
            return _straddle(unit, student, self.value, STRADDLE_KAPPA, context)
        total = integrated_reduction(student.outputs, context, unit).clamp_min(1e-300).log()
        if student.success is None:
            return total
        return total + log_success(student.posterior(unit))
