"""Adaptive transfer sets: ``adaptive_sample`` spends each teacher run where the student needs it.

Stage "uses" of the pipeline, a client of the sequential-design loop: the runs it returns are a
transfer set like any other (for a surrogate, Sobol indices, PRIM/REDS boxes), chosen one
round at a time for a goal: a globally faithful student (``"accuracy"``), the edge of a case of
interest (``"boundary"``), or an :class:`~surrogate.sequential.Acquisition` of your own; it
stops at the budget or when the student's fidelity estimate reaches ``target``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surrogate._identity import code_fingerprint, settings_of
from surrogate._random import SeedLike
from surrogate.data import TransferSet
from surrogate.execute._campaign import check_run_options
from surrogate.sequential._accuracy import VarianceReduction
from surrogate.sequential._acquisition import Acquisition, Observations
from surrogate.sequential._boundary import TargetedVarianceReduction, _Edge
from surrogate.sequential._constraint import Constraint, check_condition
from surrogate.sequential._loop import Plan, Target, run_rounds
from surrogate.sequential._optimize_acqf import AcquisitionOptimizer
from surrogate.sequential._store import run_identity
from surrogate.sequential._student import Trainer, UnitCubeModel, categorical_cells
from surrogate.sequential._teacher import as_simulator, check_sizes
from surrogate.space import Space
from surrogate.teacher import Simulator

__all__ = ["adaptive_sample", "AdaptiveResult"]

GOALS = ("accuracy", "boundary", "disagreement")
SIGNATURE_FILE = "adaptive.json"
SCHEMA = "surrogate.adaptive/1"
REFIT_GROWTH = 1.2  # hyperparameters re-optimized when the runs have grown by 20 %
# a design needs a good point, not the exact optimum of its acquisition: fewer L-BFGS-B starts
# and iterations than optimization uses
ACQF_RESTARTS = 5
ACQF_MAXITER = 40


@dataclass(frozen=True)
class AdaptiveResult:
    """What an adaptive design ran, and the student it ended with.

    Attributes
    ----------
    runs : TransferSet
        Every teacher run in order (initial design first), failed runs included.
    model : UnitCubeModel, estimator or None
        The last student, fitted on every successful run: the GP
        (``model.predict(X, return_std=True)`` takes designs in the space's own coordinates;
        ``model.save(path)`` and :func:`surrogate.load` keep it), or for
        ``goal="disagreement"`` the distilled ``student``. None with fewer than two
        successful runs (or, distilling a case of interest, while the runs show one class).
    history : DataFrame
        One row per round: ``round``, ``n_runs``, ``n_ok``, the fidelity estimate (column
        named by ``fidelity``), ``seconds`` (wall time of the round) and ``student_seconds``
        (of which fitting, assessing and acquisition).
    stopped : {"budget", "target"}
    goal : str
    outputs : list of str
        The modelled outputs.
    threshold : Constraint or None
        The case of interest of a boundary design.
    fidelity : str or None
        ``"q2_loo"`` (leave-one-out Q², higher is better) or ``"misclassified"`` (expected
        misclassification share, lower is better).
    target : float or None

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> from surrogate.sequential import adaptive_sample
    >>> space = Space([Real("x", 0.0, 1.0)])
    >>> result = adaptive_sample(lambda p: p["x"] ** 2, space=space, budget=8, seed=0)
    >>> len(result.runs), result.stopped, list(result.history.columns[:3])
    (8, 'budget', ['round', 'n_runs', 'n_ok'])
    """

    runs: TransferSet
    model: UnitCubeModel | None
    history: pd.DataFrame
    stopped: str
    goal: str
    outputs: list[str]
    threshold: Constraint | None = None
    fidelity: str | None = None
    target: float | None = None

    def cases(self) -> np.ndarray:
        """Which runs are cases of interest (a boundary design; failed runs are not)."""
        if self.threshold is None:
            raise ValueError("cases() needs a case of interest: this design's goal is "
                             f"{self.goal!r}, not 'boundary'")
        return self.threshold.satisfied(self.runs.Y[self.threshold.output].to_numpy())

    def __repr__(self) -> str:
        last = ""
        if self.fidelity is not None and len(self.history):
            last = f", {self.fidelity}={self.history[self.fidelity].iloc[-1]:.4g}"
        return (f"AdaptiveResult(goal={self.goal!r}, {len(self.runs)} runs{last}, "
                f"stopped by {self.stopped})")


def adaptive_sample(
    teacher: Any,
    *,
    budget: int,
    goal: Any = "accuracy",
    output: str | None = None,
    threshold: tuple[str, float] | None = None,
    target: float | None = None,
    n_init: int | None = None,
    batch_size: int = 1,
    model: Any = None,
    executor: Any = "serial",
    checkpoint: Any = None,
    seed: SeedLike = None,
    space: Space | None = None,
    student: Any = None,
    progress: bool | None = None,
    timeout: float | None = None,
    retries: int = 0,
) -> AdaptiveResult:
    """Build a transfer set one round at a time, each run where the student needs it most.

    An initial Latin hypercube of ``n_init`` runs, then rounds: fit the student (a GP on every
    successful run), estimate its fidelity, stop if it reaches ``target``, else choose the
    next ``batch_size`` runs by the goal's acquisition and run the teacher on them.

    Parameters
    ----------
    teacher : Simulator or callable
        A :class:`~surrogate.Simulator`, or a function taking one point as a dict of parameter
        values and returning a float (then ``space`` is required).
    budget : int
        Teacher runs in all, the initial design and failed runs included.
    goal : {"accuracy", "boundary", "disagreement"} or Acquisition, default "accuracy"
        ``"accuracy"``: a globally faithful student (error-weighted integrated variance
        reduction, :class:`~surrogate.sequential.VarianceReduction`); fidelity: the
        leave-one-out Q². ``"boundary"``: the edge of the case of interest ``threshold``
        (variance reduction targeted at the predicted edge, with exploration,
        :class:`~surrogate.sequential.TargetedVarianceReduction`); fidelity: the expected
        share of the space on the wrong side of the edge. ``"disagreement"``: where ``student`` (being
        distilled from the teacher) and the teacher disagree, on ``threshold``'s case of
        interest or on the values (:class:`~surrogate.sequential.Disagreement`); fidelity:
        the expected share of the space where they disagree. Or an acquisition object
        (:class:`~surrogate.sequential.Acquisition`).
    output : str, optional
        The modelled output; for ``"accuracy"`` the default is every scalar output of the
        teacher. A field of the simulator (``Simulator(..., fields=...)``) with
        ``goal="accuracy"``: a faithful student of its whole trajectory (principal-component
        scores, variance reduction in the field's units,
        :class:`~surrogate.sequential.FieldVarianceReduction`); the fidelity is the
        leave-one-out Q² over the field, and ``model`` a ``UnitCubeModel`` wrapping a
        :class:`~surrogate.models.FieldGPRegressor` (``model.estimator_``): its ``predict``
        gives trajectories at designs in the space's own coordinates.
    threshold : (op, value), optional
        ``output op value`` with ``op`` one of ``"<", "<=", ">", ">="``: the case of interest
        of ``goal="boundary"`` (without it the output must be a 0/1 indicator of the case,
        checked on the initial design's runs: a design of another output stops there) or
        of ``goal="disagreement"`` (without it the student learns the values).
    target : float, optional
        Stop as soon as the fidelity estimate reaches it (Q² >= target for ``"accuracy"``,
        misclassified share <= target for ``"boundary"``); checked after every round once the
        acquisition is ready (:meth:`Acquisition.ready`: for a leave-one-out Q² and for
        ``"disagreement"``, 10 successful runs per input; for ``"boundary"``, 10 per input
        too, 5 of them on each side of the edge).
    n_init : int, optional
        Size of the initial Latin hypercube; default ``2 * dim + 1``.
    batch_size : int, default 1
        Runs per round (Kriging believer), run in parallel by the executor.
    model : regressor, optional
        An unfitted GP student to clone each round (e.g. ``GPRegressor(kernel="auto")``);
        default ``GPRegressor()``. It sees unit-cube inputs.
    executor : {"serial", "processes", "dask"} or Executor, default "serial"
    checkpoint : path, optional
        A directory; every finished run is saved as it completes and a rerun with the same
        arguments resumes without repeating a finished run (``budget``, ``target``, ``timeout``
        and ``retries`` may change; a larger budget continues as one uninterrupted design would
        have when the first ended a round, whereas a last batch cut short by the budget is kept
        as it is).
        Another int seed is refused; with a seed that is not an int (None, a Generator) the
        design goes on as it was first seeded. A custom acquisition is compared by its
        attributes (private ones too) and the code of its ``_score``.
    seed : int, numpy.random.Generator or None
        Same seed, same runs.
    space : Space, optional
        Required for a plain function teacher.
    student : estimator, optional
        The student whose disagreement with the teacher ``goal="disagreement"`` seeks
        (cloned each round; its ``seed`` / ``random_state`` left None are set from the
        design's reference sample and runs, so the same seed gives the same runs).
    progress : bool, optional
        A progress bar per round (default: when stderr is a terminal).
    timeout : float, optional
        Seconds a teacher run may take; one over it is stopped and recorded as ``"timeout"``
        (a failed run), as in :meth:`~surrogate.Simulator.run`.
    retries : int, default 0
        Reruns of a run that raised, before it is recorded as failed.

    Returns
    -------
    AdaptiveResult
        ``runs``, ``model``, ``history`` (one row per round), ``stopped``.

    Notes
    -----
    Failed runs count against the budget and stay in ``runs``; a GP of run success weights the
    acquisition by the probability that a run succeeds, so the design steers away from where
    the teacher breaks. Integer and categorical parameters are optimized on their levels.
    Hyperparameters are re-optimized whenever the successful runs have grown by 20 % (every
    round below 60 runs); in between the GP is conditioned on the new runs.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", -1.0, 1.0), Real("y", -1.0, 1.0)])
    >>> result = adaptive_sample(lambda p: p["x"] ** 2 + p["y"] ** 2, space=space,
    ...                          goal="boundary", threshold=("<", 0.5), budget=15, seed=0)
    >>> len(result.runs), result.fidelity, int(result.cases().sum()) > 0
    (15, 'misclassified', True)
    """
    simulator, outputs, acquisition, condition = _resolve(
        teacher, space, goal, output, threshold, student)
    budget, n_init, batch_size = check_sizes(simulator.space, budget, n_init, batch_size)
    target_rule = _check_target(target, acquisition)
    _warn_if_target_unreachable(target_rule, acquisition, budget, simulator.space.dim)
    _check_model(model)
    check_run_options(timeout, retries)
    goal_name = goal if isinstance(goal, str) else repr(goal)
    custom = not type(acquisition).__module__.startswith("surrogate.")
    signature = {
        "schema": SCHEMA, "simulator": simulator.name, "space": simulator.space.to_dict(),
        "outputs": list(simulator.outputs), "modelled": outputs, "goal": repr(acquisition),
        "n_init": n_init, "batch_size": batch_size,
        "model": None if model is None else repr(model),
        # every setting, exactly (the reprs above round numbers and leave settings out)
        "settings": [settings_of(acquisition, private=custom),
                     None if model is None else settings_of(model)],
    }
    if custom:  # a user's acquisition: its code too, as a teacher's
        signature["acquisition_code"] = code_fingerprint(type(acquisition)._score)
    signature.update(run_identity(simulator, seed))
    plan = Plan(simulator, tuple(outputs), budget, n_init, batch_size, signature,
                SIGNATURE_FILE, "adaptive design", record_rounds=True, timeout=timeout,
                retries=retries, may_change="the budget, target, timeout and retries")
    optimizer = AcquisitionOptimizer(simulator.space, n_restarts=ACQF_RESTARTS,
                                     maxiter=ACQF_MAXITER)
    trainer = Trainer(model, REFIT_GROWTH, categorical_cells(simulator.space))
    rounds = run_rounds(plan, acquisition, trainer, executor=executor,
                        checkpoint=checkpoint, seed=seed, target=target_rule,
                        progress=progress, optimizer=optimizer)
    _warn_if_target_unchecked(target_rule, acquisition, rounds, simulator.space.dim)
    _warn_if_target_above_the_noise(target_rule, acquisition, rounds, outputs)
    fitted = _final_model(acquisition, rounds, simulator.space, outputs, model)
    return AdaptiveResult(rounds.history, fitted, rounds.rounds, rounds.stopped, goal_name,
                          outputs, condition, acquisition.fidelity_name,
                          None if target is None else float(target))


def _final_model(acquisition: Acquisition, rounds: Any, space: Space, outputs: list[str],
                 template: Any = None) -> Any:
    """The last student: the GP in the space's coordinates, or the distilled student (a
    field's: a FieldGPRegressor with the design's basis rule and the GP settings of
    ``template``, the ``model=`` the rounds used)."""
    if rounds.student is None:
        return None
    from surrogate.sequential._disagreement import Disagreement
    from surrogate.sequential._field import FieldVarianceReduction

    if isinstance(acquisition, Disagreement):
        data = Observations.from_history(space, rounds.history, outputs, acquisition,
                                         rounds.reference)
        view = acquisition.fit_student(rounds.student, data)
        return None if view is None else view.student
    if isinstance(acquisition, FieldVarianceReduction):  # the field's own surrogate
        from surrogate.models import FieldGPRegressor

        runs = rounds.history
        trajectories = runs.field(acquisition.field)[runs.ok]
        shared = FieldGPRegressor().get_params()
        settings = {k: v for k, v in (template.get_params() if template is not None else {}
                                      ).items() if k in shared and k != "seed"}
        model = FieldGPRegressor(**settings, explained_variance=acquisition.explained_variance,
                                 seed=rounds.final_seed)
        model._cells = categorical_cells(space)  # its GP reads them as the loop's student does
        model.fit(space.to_unit(runs.X[runs.ok]), trajectories)
        return UnitCubeModel(model, space, outputs, np.ones(1))
    return UnitCubeModel(rounds.student.outputs, space, outputs, np.ones(len(outputs)))


def _resolve(teacher: Any, space: Any, goal: Any, output: Any, threshold: Any, student: Any
             ) -> tuple[Simulator, list[str], Acquisition, Constraint | None]:
    """The teacher, the modelled outputs, the acquisition and the case of interest."""
    from surrogate.sequential._field import FieldVarianceReduction

    if isinstance(goal, FieldVarianceReduction):  # it names its field: output= may too
        if output is not None and output != goal.field:
            raise ValueError(f"output={output!r} and goal={goal!r} name different fields; "
                             "the goal models its own field")
        if not (isinstance(teacher, Simulator) and goal.field in teacher.fields):
            raise ValueError(f"goal={goal!r} models the field {goal.field!r}, which the "
                             "teacher does not have (its fields: "
                             f"{list(getattr(teacher, 'fields', []))})")
        output = goal.field
    if isinstance(teacher, Simulator) and not teacher.outputs and output is None:
        fields = list(teacher.fields)  # fields only: the one field, as sobol_indices does
        if len(fields) != 1:
            raise ValueError(f"simulator {teacher.name!r} has no scalar outputs, only the fields "
                             f"{fields}: pass output= naming the field to model")
        output = fields[0]
    if isinstance(teacher, Simulator) and isinstance(output, str) and output in teacher.fields:
        return _resolve_field(teacher, space, goal, output, threshold, student)
    simulator, name = as_simulator(teacher, space, output, role="teacher")
    if isinstance(goal, Acquisition):
        goal._check_protocol()
        if threshold is not None:
            raise ValueError("threshold= is for goal='boundary'; an acquisition object carries "
                             "its own")
        outputs = [name] if name is not None else list(simulator.outputs)
        if isinstance(goal, _Edge) and len(outputs) != 1:
            raise ValueError(f"{goal!r} models one output; pass output= (one of "
                             f"{list(simulator.outputs)})")
        condition = check_condition("threshold", outputs[0], goal.threshold) \
            if isinstance(goal, _Edge) else None
        return simulator, outputs, goal, condition
    if not isinstance(goal, str) or goal not in GOALS:
        raise ValueError(f"goal must be one of {list(GOALS)} or an Acquisition object, "
                         f"got {goal!r}")
    if student is not None and goal != "disagreement":
        raise ValueError("student= is for goal='disagreement'")
    if threshold is not None and goal == "accuracy":
        raise ValueError("threshold= is for goal='boundary' or 'disagreement', not "
                         "goal='accuracy'")
    if goal == "accuracy":
        outputs = [name] if name is not None else list(simulator.outputs)
        return simulator, outputs, VarianceReduction(), None
    if name is None:
        raise ValueError(f"simulator {simulator.name!r} has outputs {list(simulator.outputs)}; "
                         f"pass output= naming the one goal={goal!r} is about")
    if goal == "disagreement":
        if student is None:
            raise ValueError("goal='disagreement' needs student=, the unfitted estimator being "
                             "distilled (e.g. surrogate.PRIM() or a scikit-learn tree)")
        from surrogate.sequential._disagreement import Disagreement

        condition = None if threshold is None else check_condition("threshold", name, threshold)
        rule = None if condition is None else (condition.op, condition.bound)
        return simulator, [name], Disagreement(student, simulator.space, rule), condition
    if threshold is None:
        condition = Constraint(name, ">=", 0.5)
        return simulator, [name], TargetedVarianceReduction((">=", 0.5), indicator=True), \
            condition
    condition = check_condition("threshold", name, threshold)
    return simulator, [name], TargetedVarianceReduction((condition.op, condition.bound)), \
        condition


def _resolve_field(simulator: Simulator, space: Any, goal: Any, field: str, threshold: Any,
                   student: Any) -> tuple[Simulator, list[str], Acquisition, None]:
    """``output=`` names a field: the accuracy goal over its whole trajectory."""
    from surrogate.sequential._field import FieldVarianceReduction

    as_simulator(simulator, space, None)  # the space check
    if isinstance(goal, FieldVarianceReduction) and threshold is None and student is None:
        return simulator, [field], goal, None  # its own explained_variance, error_weight
    if goal != "accuracy" or threshold is not None or student is not None:
        raise ValueError(
            f"output={field!r} is a field of simulator {simulator.name!r}: it takes "
            "goal='accuracy' (a faithful student of the whole trajectory) without threshold= "
            "or student=; for the edge of a case over a trajectory, add a scalar output that "
            "computes it (e.g. the peak) and use goal='boundary' on that")
    return simulator, [field], FieldVarianceReduction(field), None


def _warn_if_target_unreachable(target: Target | None, acquisition: Acquisition, budget: int,
                                dim: int) -> None:
    """The fidelity stops a design only from :meth:`Acquisition.min_runs` successful runs on
    (a leave-one-out Q², a disagreement): a smaller budget never lets ``target`` stop it."""
    needed = acquisition.min_runs(dim)
    if target is not None and budget < needed:
        per_input = f" ({needed // dim} per input)" if needed % dim == 0 else ""
        warnings.warn(f"target= stops the design only from {needed} successful runs on"
                      f"{per_input}, more than budget={budget}: the design will run its whole "
                      "budget", UserWarning, stacklevel=3)


def _warn_if_target_unchecked(target: Target | None, acquisition: Acquisition, rounds: Any,
                              dim: int) -> None:
    """A design that ran its budget with ``target`` whose fidelity was NaN in every round it
    could have stopped: say so rather than let the budget look like the reason."""
    table = rounds.rounds
    name = str(acquisition.fidelity_name)
    if target is None or rounds.stopped != "budget" or name not in table:
        return
    ready = table["n_ok"] >= acquisition.min_runs(dim)
    if ready.any() and table.loc[ready, name].isna().all():
        warnings.warn(f"target= was never checked: the fidelity {name} was NaN in every round "
                      "(a student that is not an exact GP, e.g. GPRegressor(method='svgp') or "
                      "the default past max_exact runs, gives no leave-one-out Q²; nor do "
                      "outputs that never vary); the design ran its whole budget",
                      UserWarning, stacklevel=3)


def _warn_if_target_above_the_noise(target: Target | None, acquisition: Acquisition,
                                    rounds: Any, outputs: list[str]) -> None:
    """A leave-one-out Q² target that ran the budget on a noisy teacher: against noisy runs
    no student passes ``1 - noise / var(y)`` (0.91 on a test case, where target=0.95 spent
    the budget while the student's Q² on the noise-free function was 0.98), so say so. The
    noise is not taken out of the estimate: on a deterministic teacher a GP's fitted noise is
    its misfit, and the estimate would then read high and stop the design too early."""
    if target is None or rounds.stopped != "budget" or acquisition.fidelity_name != "q2_loo" \
            or rounds.student is None:
        return
    noise = np.ravel(np.asarray(getattr(rounds.student.outputs, "noise_", []), dtype=float))
    runs = rounds.history
    if not set(outputs) <= set(runs.Y.columns):  # a field's design: its own fidelity
        return
    values = runs.Y.loc[np.asarray(runs.ok), outputs].to_numpy(dtype=float)
    if noise.shape != (values.shape[1],) or len(values) < 2:
        return
    variance = values.var(axis=0)
    ceiling = 1.0 - noise[variance > 0] / variance[variance > 0]  # (constant outputs: no Q²)
    if len(ceiling) and ceiling.min() < target.value:
        warnings.warn(
            f"target={target.value:g} is above what leave-one-out Q² can show on these runs: "
            f"the GP fits them with noise, and against noisy runs no student passes 1 - noise "
            f"/ var(y) = {ceiling.min():.3f}; if the teacher is stochastic, the student "
            "may be better than the estimate (check it against the teacher's mean), else "
            "the GP misfits it", UserWarning, stacklevel=3)


def _check_target(target: Any, acquisition: Acquisition) -> Target | None:
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, numbers.Real) \
            or not math.isfinite(target):
        raise ValueError(f"target must be a finite number, got {target!r}")
    target = float(target)
    if acquisition.fidelity_name is None:
        raise ValueError(f"target= needs a fidelity estimate; {acquisition!r} has none "
                         "(set fidelity_name and implement fidelity())")
    if acquisition.fidelity_name == "q2_loo" and not 0.0 < target < 1.0:
        raise ValueError(f"target is a leave-one-out Q² for this goal: a number in (0, 1) "
                         f"such as 0.99, got {target!r}")
    if acquisition.fidelity_name == "misclassified" and not 0.0 < target < 0.5:
        raise ValueError("target is the expected misclassified share of the space for this "
                         f"goal: a number in (0, 0.5) such as 0.01, got {target!r}")
    if acquisition.fidelity_name == "disagreement" and not 0.0 < target < 1.0:
        raise ValueError("target is the expected disagreement between student and teacher for "
                         f"this goal: a number in (0, 1) such as 0.02, got {target!r}")
    return Target(target, acquisition.higher_is_better)


def _check_model(model: Any) -> None:
    from sklearn.base import clone

    if model is None:
        return
    if isinstance(model, type) or not (hasattr(model, "fit") and hasattr(model, "get_params")
                                       and hasattr(model, "_predict_torch")):
        raise TypeError("model must be an unfitted GP regressor instance with a differentiable "
                        "posterior, such as surrogate.GPRegressor(kernel='auto'); got "
                        f"{model!r}")
    check = getattr(clone(model), "_check_params", None)
    if check is not None:  # bad options (a device without a GPU) fail before any teacher run,
        check()  # not as a student that could not be fitted, round after round
