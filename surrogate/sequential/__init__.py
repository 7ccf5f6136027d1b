"""Sequential design: the loop shared by Bayesian optimization and the adaptive transfer sets.

Stage "uses" of the pipeline (... models -> **sequential** -> optimize). One loop: an initial
space-filling design, then rounds of *fit the student -> assess it -> maximize an acquisition ->
run the teacher* until the budget is spent or the stopping rule holds, with batches for parallel
executors, failed runs recorded and avoided, and per-round checkpoints. The acquisition says
what the runs are for: expected improvement (:func:`surrogate.minimize`), a globally faithful
student (:func:`adaptive_sample` with ``goal="accuracy"``), the edge of a case of interest
(``goal="boundary"``), or an :class:`Acquisition` of your own.
"""

from surrogate.sequential._accuracy import PosteriorVariance, VarianceReduction
from surrogate.sequential._acquisition import (
    Acquisition,
    Improvement,
    Observations,
    log_success,
    warp_objective,
)
from surrogate.sequential._adaptive import AdaptiveResult, adaptive_sample
from surrogate.sequential._boundary import Straddle, TargetedVarianceReduction, UFunction
from surrogate.sequential._disagreement import Disagreement
from surrogate.sequential._field import FieldVarianceReduction
from surrogate.sequential._student import Posterior, Student

__all__ = [
    "adaptive_sample", "AdaptiveResult", "Acquisition", "Observations", "Posterior", "Student",
    "log_success", "Improvement", "VarianceReduction", "PosteriorVariance",
    "TargetedVarianceReduction", "Straddle", "UFunction", "Disagreement",
    "FieldVarianceReduction", "warp_objective",
]
