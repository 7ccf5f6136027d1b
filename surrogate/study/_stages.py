"""The stages on the teacher runs: a surrogate per output, Sobol indices, optimization."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surrogate._config import StudyConfig
from surrogate._target import warn_if_extrapolating
from surrogate.data import TransferSet
from surrogate.space import LOG_PREFIX, Categorical, Real, Space
from surrogate.study._core import Study, _failed, _log, stage_runner
from surrogate.study._json import _frame_records, _jsonable, _scalar
from surrogate.teacher import describe_exception


def _model_outputs(study: Study) -> list[str]:
    return list(study.config.model_outputs) or list(study.simulator.outputs)


def _new_model(config: StudyConfig) -> Any:
    """The study's (unfitted) surrogate; it takes categorical parameters itself."""
    from surrogate.models import GPRegressor, NNRegressor

    # kernel="auto": Matern-5/2 or RBF, noise fitted or at the floor, by leave-one-out error
    return (GPRegressor(kernel="auto", seed=config.seed) if config.model == "gp"
            else NNRegressor(seed=config.seed))




def model_space(space: Space) -> Space:
    """The space the study's surrogates are fitted on: each log-scale real parameter ``p`` as
    ``log10_p``, uniform over ``[log10 low, log10 high]`` (the same distribution); the others
    as they are. A GP's stationary kernel then sees the scale the modeller declared (SIR's
    population over 1e3-1e6: held-out Q² of peak_infected 0.97 instead of 0.67 at 60 runs),
    and a saved surrogate names the column it expects."""
    if not any(isinstance(p, Real) and p.log for p in space):
        return space
    return Space([Real(LOG_PREFIX + p.name, math.log10(p.low), math.log10(p.high))
                  if isinstance(p, Real) and p.log else p for p in space])


def model_inputs(space: Space, X: pd.DataFrame) -> pd.DataFrame:
    """``X`` (the space's columns) as the study's surrogates see it: log-scale parameters as
    their log10 (see :func:`model_space`), and each categorical parameter a pandas
    ``category`` column of all the space's categories, so that a model (or a cross-validation
    fold) knows every one of them, also one the runs lack; it then treats the column as a
    category, also where the categories are numbers (an ``object`` column of numbers would be
    taken as an ordered number)."""
    X = X.copy()
    for p in space:
        if isinstance(p, Categorical):
            X[p.name] = pd.Categorical(X[p.name].to_numpy(dtype=object),
                                       categories=list(p.categories))
        elif isinstance(p, Real) and p.log:
            X[p.name] = np.log10(X[p.name].to_numpy(dtype=float))
            X = X.rename(columns={p.name: LOG_PREFIX + p.name})
    return X


def space_point(space: Space, x: dict[str, Any]) -> dict[str, Any]:
    """A point of :func:`model_space` (e.g. an optimum on a surrogate) in the space's own
    parameters."""
    out = {}
    for p in space:
        if isinstance(p, Real) and p.log:
            out[p.name] = float(min(max(10.0 ** float(x[LOG_PREFIX + p.name]), p.low), p.high))
        else:
            out[p.name] = x[p.name]
    return out


def too_few_runs(n_valid: int, cv: int) -> str | None:
    """Why ``n_valid`` successful runs are too few for a surrogate and its ``cv``-fold
    fidelity (at least 5, and at least ``cv``), or None when they are enough."""
    if n_valid >= max(cv, 5):
        return None
    return f"only {n_valid} successful runs" + (
        f", fewer than surrogate.cv = {cv} folds" if n_valid < cv else "")


def _fit_surrogates(study: Study, verbose: bool) -> None:
    valid = study.runs.valid()
    why = too_few_runs(len(valid), study.config.cv)
    if why is not None:
        study.summary["surrogates"] = {"skipped": why}
        warnings.warn(f"surrogates skipped: {why}", UserWarning, stacklevel=2)
        return
    results: dict[str, Any] = {}
    study.summary["surrogates"] = results
    for output in _model_outputs(study):
        y = valid.Y[output].to_numpy()
        if np.ptp(y) == 0:
            results[output] = {"skipped": "constant output"}
            continue
        _log(f"fitting a {study.config.model.upper()} surrogate of {output!r} "
             f"({study.config.cv}-fold cross-validation)", verbose)
        try:
            _fit_surrogate(study, valid, output, y, results)
        except Exception as exc:  # noqa: BLE001 - recorded; the other outputs go on
            results[output] = {**results.get(output, {}), "failed": describe_exception(exc)}
            _failed(study, "surrogates", exc, verbose, output)


def _fit_surrogate(study: Study, valid: TransferSet, output: str, y: np.ndarray,
                   results: dict[str, Any]) -> None:
    """Cross-validate, fit and save the surrogate of one output; its scores go to ``results``.

    The model is saved last: if saving fails, the later stages still use it.
    """
    from surrogate.models import cross_validate
    from surrogate.plot import parity_predictions

    config = study.config
    X = model_inputs(study.simulator.space, valid.X)
    scores = cross_validate(_new_model(config), X, y, cv=config.cv, seed=config.seed)
    results[output] = {k: _scalar(v) for k, v in scores.items()
                       if k in ("q2", "rmse", "coverage95")}
    warn_if_poor(output, results[output].get("q2"), _uses(config, output))
    model = _new_model(config).fit(X, y)
    study.models[output] = model
    # the out-of-fold predictions: the accuracy the table reports, not the training fit
    drawn = parity_predictions(y, scores["y_pred"], scores.get("y_std"),
                               label=f"{config.cv}-fold cross-validated")
    study.add_figure(f"Parity: {output} ({config.cv}-fold cross-validation)", drawn.figure)
    model.save(study.directory / "models" / output)


POOR_Q2 = 0.5  # a surrogate below this cross-validated Q² explains too little to lean on


def _uses(config: StudyConfig, output: str) -> str:
    """What the study makes of the surrogate of ``output``: its Sobol indices, its optimum."""
    uses = ["its Sobol indices"] if config.sobol_n > 0 else []
    if config.objective == output and config.mode == "surrogate":
        uses.append("its optimum")
    return " and ".join(uses) or "its predictions"


def warn_if_poor(name: str, q2: Any, uses: str) -> None:
    """Warn that the surrogate of ``name`` is too poor for the ``uses`` made of it."""
    if q2 is not None and math.isfinite(float(q2)) and float(q2) < POOR_Q2:
        verb = "says" if uses == "its optimum" else "say"
        warnings.warn(f"the surrogate of {name!r} explains little (cross-validated Q² "
                      f"{float(q2):.3g} < {POOR_Q2}): {uses} {verb} little; more runs, or a "
                      "summary output, may help", UserWarning, stacklevel=3)


def _sensitivity(study: Study, verbose: bool) -> None:
    if study.config.sobol_n == 0 or not study.models:
        return
    from surrogate.plot import sobol
    from surrogate.sensitivity import sobol_indices

    results: dict[str, Any] = {}
    study.summary["sensitivity"] = results
    for output, model in study.models.items():
        _log(f"Sobol indices of {output!r} on its surrogate", verbose)
        try:
            indices = sobol_indices(model, model_space(study.simulator.space),
                                    n=study.config.sobol_n, seed=study.config.seed)
        except Exception as exc:  # noqa: BLE001 - recorded; the other outputs go on
            results[output] = {"failed": describe_exception(exc)}
            _failed(study, "sensitivity", exc, verbose, output)
            continue
        study.indices[output] = indices
        results[output] = _frame_records(indices)
        study.add_figure(f"Sobol indices: {output}", sobol(indices).figure)


def _optimize(study: Study, verbose: bool) -> None:
    config = study.config
    if config.objective is None:
        return
    from surrogate.optimize import maximize, minimize, minimize_surrogate
    from surrogate.plot import convergence

    if config.mode == "teacher":
        _log(f"{config.sense} {config.objective!r} with the teacher in the loop "
             f"(budget {config.budget})", verbose)
        run = minimize if config.sense == "minimize" else maximize
        runner, owned = stage_runner(config)
        options: dict[str, Any] = {
            "output": config.objective, "budget": config.budget,
            "constraints": config.constraints or None, "executor": runner,
            "seed": _optimization_seed(config), "timeout": config.timeout,
            "retries": config.retries}
        try:
            result = _optimize_resuming(run, study.simulator, study.directory / "optimize",
                                        options)
        finally:
            if owned:
                runner.close()
        if not result.feasible:
            warnings.warn(f"no evaluation met the constraints {config.constraints}: the point "
                          "reported is the best infeasible one", UserWarning, stacklevel=2)
        study.add_figure(f"Optimization: {config.objective}", convergence(result).figure)
    else:
        if config.objective not in study.models:
            surrogates = study.summary.get("surrogates", {})  # why there is none, when known:
            own = surrogates.get(config.objective)  # this output's record, or all skipped
            record = own if isinstance(own, dict) else surrogates
            why = record.get("skipped") or record.get("failed")
            study.summary["optimization"] = {"skipped": f"no surrogate of {config.objective!r}"
                                             + (f" ({why})" if why else "")}
            return
        _log(f"{config.sense} {config.objective!r} on its surrogate", verbose)
        model = study.models[config.objective]
        space = study.simulator.space
        bounds = model_space(space)  # the space the models take (log-scale inputs as logs)
        if config.sense == "maximize":  # (the negated model has no training range to warn of)
            warn_if_extrapolating(model, bounds, "the surrogate's maximum")
            model = _Negated(model)
        result = minimize_surrogate(model, bounds, seed=config.seed)
        result_y = -float(result.y) if config.sense == "maximize" else float(result.y)
        study.optimization = result
        study.summary["optimization"] = {
            "mode": "surrogate", "sense": config.sense, "output": config.objective,
            "x": _jsonable(space_point(space, result.x)), "y": result_y,
            "teacher_evaluations": 0,
            "beyond_the_runs": _beyond_the_runs(study, config.objective, config.sense, result_y),
        }
        return
    study.optimization = result
    study.summary["optimization"] = {
        "mode": "teacher", "sense": config.sense, "output": config.objective,
        "x": _jsonable(result.x), "y": _scalar(result.y), "feasible": bool(result.feasible),
        "teacher_evaluations": int(result.n_evaluations),
        "constraints": {k: list(v) for k, v in config.constraints.items()},
    }


BEYOND_SHARE = 0.05  # of the runs' range: a surrogate optimum further out is extrapolated


def _beyond_the_runs(study: Study, output: str, sense: str, value: float) -> bool:
    """Whether the surrogate's optimum ``value`` lies past every run's value by more than
    BEYOND_SHARE of their range, or past them and of a sign no run had, with a warning:
    SIR's surrogate put the smallest ``peak_infected`` at -76,947 people, below every run
    (lowest 3.3) and below zero; with 30 runs at -12,000, within BEYOND_SHARE of the runs'
    range of 424,655 but below zero all the same."""
    observed = study.runs.valid().Y[output].to_numpy(dtype=float)
    if not len(observed):
        return False
    low, high = float(observed.min()), float(observed.max())
    best = low if sense == "minimize" else high
    past = best - value if sense == "minimize" else value - best
    signed = low >= 0.0 > value if sense == "minimize" else high <= 0.0 < value
    if past <= BEYOND_SHARE * (high - low) and not signed:
        return False
    word = "below" if sense == "minimize" else "above"
    zero = f", and {word} zero as no run is" if signed else ""
    warnings.warn(f"the surrogate's {sense[:3]}imum of {output!r}, {value:.6g}, lies {word} "
                  f"every run's value{zero} (the runs span {low:.6g} to {high:.6g}): it is the "
                  "surrogate's extrapolation, which no run checks; check the point with the "
                  "teacher (optimize mode = \"teacher\") before trusting it", UserWarning,
                  stacklevel=2)
    return True


def _optimization_seed(config: StudyConfig) -> int:
    """The teacher-mode optimization's seed: the study's, or, after an adaptive design (whose
    loop starts from the same Latin hypercube for the same seed), one derived from it: the
    optimization ran its first 2 * dim + 1 points again."""
    if config.method != "adaptive":
        return config.seed
    return int(np.random.SeedSequence([config.seed, 1]).generate_state(1)[0])


def _optimize_resuming(run: Any, simulator: Any, checkpoint: Path,
                       options: dict[str, Any]) -> Any:
    """``run`` (minimize or maximize) on its checkpoint. A checkpoint of other settings
    (another sense, seed, simulator code...) is set aside, and one set aside earlier with
    these settings resumes in its place: going back to settings used before repeated every
    one of their runs."""
    from surrogate.sequential._store import OtherDesignError

    try:
        return run(simulator, checkpoint=checkpoint, **options)
    except OtherDesignError as exc:
        changed = exc.changed
    kept = _set_aside(checkpoint)
    said = (f"the optimization's settings changed since its checkpoint (differs in "
            f"{changed}): the old one kept in {kept.name}/")
    for earlier in sorted(checkpoint.parent.glob(f"{checkpoint.name}-previous-*")):
        if earlier == kept:
            continue
        try:
            result = run(simulator, checkpoint=earlier, **options)
        except OtherDesignError:
            continue
        earlier.rename(checkpoint)
        warnings.warn(f"{said}; the earlier one of these settings, {earlier.name}/, resumed",
                      UserWarning, stacklevel=3)
        return result
    warnings.warn(f"{said}; it starts afresh", UserWarning, stacklevel=3)
    return run(simulator, checkpoint=checkpoint, **options)


def _set_aside(directory: Path) -> Path:
    """Rename ``directory`` to the first free ``<name>-previous-<k>``; return the new path."""
    k = 1
    while (target := directory.with_name(f"{directory.name}-previous-{k}")).exists():
        k += 1
    directory.rename(target)
    return target


class _Negated:
    """A fitted model whose mean is negated, so that minimizing it maximizes the original."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.fitted_ = True
        self.feature_names_in_ = getattr(model, "feature_names_in_", None)

    def predict(self, X: Any, return_std: bool = False) -> Any:
        if return_std:
            mean, std = self.model.predict(X, return_std=True)
            return -mean, std
        return -self.model.predict(X)

