"""The study: the whole pipeline as one job (``surrogate study``).

design -> teacher runs (checkpointed) -> a surrogate per output with cross-validated accuracy ->
Sobol indices on the surrogate -> optimization (when an objective is named) -> scenario discovery
(when an outcome of interest such as ``stab < 0`` is named) -> ``report.html`` and ``report.json``.
Every stage writes under the study directory; running the same study again resumes the teacher
runs from their checkpoint and recomputes nothing finished.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surrogate._config import StudyConfig
from surrogate._registry import load_simulator
from surrogate.data import TransferSet
from surrogate.design import sample
from surrogate.teacher import Simulator

__all__ = ["Study", "run_study"]


@dataclass
class Study:
    """What a study found: the numbers (``summary``, as in ``report.json``) and the objects."""

    config: StudyConfig
    simulator: Simulator
    runs: TransferSet
    directory: Path
    summary: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    indices: dict[str, pd.DataFrame] = field(default_factory=dict)
    optimization: Any = None
    prim: Any = None
    reds: Any = None
    figures: list[tuple[str, Any]] = field(default_factory=list)  # (title, matplotlib Figure)


def _log(message: str, verbose: bool) -> None:
    if verbose:
        print(f"[surrogate study] {message}", flush=True)


def run_study(config: StudyConfig, directory: str | Path, *, verbose: bool = True,
              progress: bool | None = None) -> Study:
    """Run a study and write its report into ``directory``; return the :class:`Study`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    simulator = load_simulator(config.simulator, config.parameters, config.outputs,
                               config.vectorized)
    _check_against(config, simulator)
    started = time.perf_counter()
    design = sample(simulator.space, config.n, method=config.method, seed=config.seed)  # type: ignore[arg-type]
    _log(f"running {simulator.name} on {len(design)} points ({config.executor})", verbose)
    runs = simulator.run(
        design, executor=config.executor, n_workers=config.n_workers, timeout=config.timeout,
        retries=config.retries, checkpoint=directory / "runs", progress=progress,
        address=config.address,
    )
    study = Study(config, simulator, runs, directory)
    study.summary = {
        "simulator": simulator.name,
        "space": simulator.space.to_dict(),
        "outputs": list(simulator.outputs),
        "config": _jsonable(asdict(config)),
        "runs": _run_summary(runs),
    }
    _fit_surrogates(study, verbose)
    _sensitivity(study, verbose)
    _optimize(study, verbose)
    _discover(study, verbose)
    study.summary["seconds"] = time.perf_counter() - started
    from surrogate.report import write_report

    write_report(study)
    _log(f"report written to {directory / 'report.html'}", verbose)
    return study


def _check_against(config: StudyConfig, simulator: Simulator) -> None:
    """Configuration keys that name outputs, checked before any teacher run."""
    outputs = list(simulator.outputs)
    named = [("surrogate.outputs", o) for o in config.model_outputs]
    if config.objective is not None:
        named.append(("optimize.output", config.objective))
    named += [(f"optimize.constraints.{o}", o) for o in config.constraints]
    if config.outcome is not None:
        named.append(("discover.outcome", config.outcome.output))
    for key, output in named:
        if output not in outputs:
            raise ValueError(f"{key}: {output!r} is not an output of {simulator.name}; "
                             f"outputs: {outputs}")
    if config.objective is not None and config.mode == "surrogate":
        if config.constraints:
            raise ValueError('optimize.constraints: need mode = "teacher" (the surrogate-only '
                             "search optimizes one model's mean)")
        if config.model_outputs and config.objective not in config.model_outputs:
            raise ValueError(f"optimize.output: {config.objective!r} has no surrogate; add it "
                             "to surrogate.outputs or use mode = \"teacher\"")
    if config.executor == "dask" and not config.address:
        raise ValueError('run.address: executor = "dask" needs address = "tcp://HOST:PORT"')


def _run_summary(runs: TransferSet) -> dict[str, Any]:
    status = runs.status.value_counts().to_dict()
    return {"n": len(runs), "ok": int(status.get("ok", 0)), "failed": int(status.get("failed", 0)),
            "timeout": int(status.get("timeout", 0)),
            "teacher_seconds": float(np.nansum(runs.seconds.to_numpy())),
            "errors": runs.error[~runs.ok].value_counts().head(5).to_dict()}


def _model_outputs(study: Study) -> list[str]:
    return list(study.config.model_outputs) or list(study.simulator.outputs)


def _new_model(config: StudyConfig) -> Any:
    from surrogate.models import GPRegressor, NNRegressor

    # kernel="auto": Matern-5/2 or RBF, noise fitted or at the floor, by leave-one-out error
    return (GPRegressor(kernel="auto", seed=config.seed) if config.model == "gp"
            else NNRegressor(seed=config.seed))


def _fit_surrogates(study: Study, verbose: bool) -> None:
    from surrogate.models import cross_validate
    from surrogate.plot import parity

    valid = study.runs.valid()
    results: dict[str, Any] = {}
    if len(valid) < max(study.config.cv, 5):
        study.summary["surrogates"] = {"skipped": f"only {len(valid)} successful runs"}
        return
    for output in _model_outputs(study):
        y = valid.Y[output].to_numpy()
        if np.ptp(y) == 0:
            results[output] = {"skipped": "constant output"}
            continue
        _log(f"fitting a {study.config.model.upper()} surrogate of {output!r} "
             f"({study.config.cv}-fold cross-validation)", verbose)
        scores = cross_validate(_new_model(study.config), valid.X, y, cv=study.config.cv,
                                seed=study.config.seed)
        model = _new_model(study.config).fit(valid.X, y)
        model.save(study.directory / "models" / output)
        study.models[output] = model
        results[output] = {k: _scalar(v) for k, v in scores.items()
                           if k in ("q2", "rmse", "coverage95")}
        study.figures.append((f"Parity: {output} (training fit)",
                              parity(model, valid.X, y).figure))
    study.summary["surrogates"] = results


def _sensitivity(study: Study, verbose: bool) -> None:
    if study.config.sobol_n == 0 or not study.models:
        return
    if not study.simulator.space.is_numeric:
        study.summary["sensitivity"] = {"skipped": "categorical parameters"}
        return
    from surrogate.plot import sobol
    from surrogate.sensitivity import sobol_indices

    results = {}
    for output, model in study.models.items():
        _log(f"Sobol indices of {output!r} on its surrogate", verbose)
        indices = sobol_indices(model, study.simulator.space, n=study.config.sobol_n,
                                seed=study.config.seed)
        study.indices[output] = indices
        results[output] = _frame_records(indices)
        study.figures.append((f"Sobol indices: {output}", sobol(indices).figure))
    study.summary["sensitivity"] = results


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
        result = run(study.simulator, output=config.objective, budget=config.budget,
                     constraints=config.constraints or None, executor=config.executor,
                     checkpoint=study.directory / "optimize", seed=config.seed)
        study.figures.append((f"Optimization: {config.objective}", convergence(result).figure))
    else:
        if config.objective not in study.models:
            study.summary["optimization"] = {"skipped": f"no surrogate of {config.objective!r}"}
            return
        _log(f"{config.sense} {config.objective!r} on its surrogate", verbose)
        model = study.models[config.objective]
        if config.sense == "maximize":
            model = _Negated(model)
        result = minimize_surrogate(model, study.simulator.space, seed=config.seed)
        result_y = -float(result.y) if config.sense == "maximize" else float(result.y)
        study.optimization = result
        study.summary["optimization"] = {
            "mode": "surrogate", "sense": config.sense, "output": config.objective,
            "x": _jsonable(result.x), "y": result_y, "teacher_evaluations": 0,
        }
        return
    study.optimization = result
    study.summary["optimization"] = {
        "mode": "teacher", "sense": config.sense, "output": config.objective,
        "x": _jsonable(result.x), "y": _scalar(result.y), "feasible": bool(result.feasible),
        "teacher_evaluations": int(result.n_evaluations),
        "constraints": {k: list(v) for k, v in config.constraints.items()},
    }


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


def _discover(study: Study, verbose: bool) -> None:
    outcome = study.config.outcome
    if outcome is None:
        return
    from surrogate.discovery import PRIM, REDS
    from surrogate.plot import box as box_plot
    from surrogate.plot import tradeoff

    valid = study.runs.valid()
    X = valid.X
    y = np.asarray(outcome.label(valid.Y[outcome.output].to_numpy()), dtype=float)
    result: dict[str, Any] = {"outcome": str(outcome), "n_runs": len(y),
                              "cases_of_interest": int(y.sum()),
                              "base_rate": float(y.mean()) if len(y) else None}
    if y.sum() == 0 or y.sum() == len(y):
        result["skipped"] = "the outcome holds for none or all of the runs"
        study.summary["discovery"] = result
        return
    _log(f"PRIM boxes for {outcome}", verbose)
    study.prim = PRIM().fit(X, y)
    chosen = _choose_box(study.prim, X, y, study.config.min_density)
    result["prim"] = _box_summary(study.prim, chosen, X, y)
    study.figures.append((f"PRIM trade-off: {outcome}", tradeoff(study.prim).figure))
    study.figures.append((f"PRIM box: {outcome}", _figure_of(box_plot(chosen, X, y))))
    if study.config.reds:
        _log(f"REDS: a metamodel labels {study.config.n_samples} fresh points", verbose)
        study.reds = REDS(n_samples=study.config.n_samples, seed=study.config.seed).fit(
            X, y, space=study.simulator.space)
        chosen = _choose_box(study.reds, X, y, study.config.min_density)
        result["reds"] = _box_summary(study.reds, chosen, X, y)
        result["reds"]["fidelity"] = _jsonable(study.reds.fidelity_)
        study.figures.append((f"REDS trade-off: {outcome}", tradeoff(study.reds).figure))
        study.figures.append((f"REDS box: {outcome}", _figure_of(box_plot(chosen, X, y))))
    study.summary["discovery"] = result


def _choose_box(model: Any, X: pd.DataFrame, y: np.ndarray, min_density: float) -> Any:
    """The box of the trajectory with the highest coverage of the teacher's cases of interest
    among those whose density on the teacher runs reaches ``min_density`` (else the densest).

    Judging every box on the teacher runs puts PRIM and REDS on the same footing: REDS's own
    statistics are measured on its metamodel's (soft) labels.
    """
    scores = [box.evaluate(X, y) for box in model.boxes_]
    density = np.nan_to_num([s["density"] for s in scores], nan=0.0)
    coverage = np.array([s["coverage"] for s in scores])
    eligible = density >= min_density
    if not eligible.any():
        return model.boxes_[int(np.argmax(density))]
    return model.boxes_[int(np.argmax(np.where(eligible, coverage, -1.0)))]


def _box_summary(model: Any, chosen: Any, X: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    on_runs = chosen.evaluate(X, y)
    return {
        "rules": chosen.rules(),
        "coverage": float(on_runs["coverage"]), "density": float(on_runs["density"]),
        "mass": float(on_runs["mass"]), "n_restricted": int(chosen.n_restricted),
        "box_statistics": {"coverage": float(chosen.coverage), "density": float(chosen.density),
                           "mass": float(chosen.mass)},
        "limits": _frame_records(chosen.limits.astype(object)),
        "trajectory": _jsonable(model.trajectory_.to_dict("records")),
    }


def _figure_of(drawn: Any) -> Any:
    if hasattr(drawn, "figure"):
        return drawn.figure
    return np.asarray(drawn).ravel()[0].figure


def _frame_records(frame: pd.DataFrame) -> dict[str, Any]:
    return {str(k): {str(c): _jsonable(v) for c, v in row.items()}
            for k, row in frame.to_dict("index").items()}


def _scalar(value: Any) -> Any:
    array = np.asarray(value)
    if array.size == 1:
        return float(array.ravel()[0])
    return array.tolist()


def _jsonable(value: Any) -> Any:
    """Plain JSON types all the way down."""
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, pd.Series)):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)
