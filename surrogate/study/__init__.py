"""The study: the whole pipeline as one job (``surrogate study``).

design -> teacher runs (checkpointed) -> a surrogate per output with cross-validated accuracy ->
Sobol indices on the surrogate -> optimization (when an objective is named) -> scenario discovery
(when an outcome of interest such as ``stab < 0`` is named) -> ``report.html`` and ``report.json``.
Every stage writes under the study directory; running the same study again resumes the teacher
runs from their checkpoint and recomputes nothing finished.

The teacher runs are the campaign's costly work: they are on disk (``runs/``) before any model is
fitted. A later stage that fails (an output the surrogate cannot fit, a sensitivity analysis, the
optimization, the discovery) does not lose them: its error is recorded in ``summary["failures"]``
(and ``report.json``/``report.html``, the traceback in ``failures.log``), the stages that can still
run do, and the report is written. A study whose teacher runs all fail records that as a failure
too; one where more than a fifth fail carries a warning (``summary["warnings"]``).

The surrogates (saved under ``models/``) see the inputs as :func:`model_inputs` makes them: a
log-scale parameter ``p`` as its log10, in a column ``log10_p`` (``model_space`` is the space
they were fitted on), so that ``load("models/y").predict(model_inputs(space, X))`` predicts at
the space's points ``X``.
"""


from surrogate.study._core import Study
from surrogate.study._run import _check_against, _plan_design, run_study
from surrogate.study._stages import model_inputs, model_space

__all__ = ["Study", "run_study", "model_inputs", "model_space"]
# private names the tests reach for
_ = (_check_against, _plan_design)
