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
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone

from surrogate._config import StudyConfig
from surrogate._registry import load_simulator
from surrogate.data import TransferSet
from surrogate.design import sample
from surrogate.execute import checkpoint_design
from surrogate.space import Categorical, Space
from surrogate.teacher import Simulator, describe_exception

__all__ = ["Study", "run_study"]

# more failed teacher runs than this share earns the study a warning
FAILED_RUNS_WARNING = 0.2


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

    @property
    def failures(self) -> list[dict[str, str]]:
        """The stages that failed: ``{"stage", "error"}``, ``"output"`` where one output failed
        and ``"traceback_in"`` (the file under the study directory that holds the traceback)."""
        return list(self.summary.get("failures", []))

    @property
    def warnings(self) -> list[str]:
        """Warnings about the study's results (e.g. many failed teacher runs)."""
        return list(self.summary.get("warnings", []))


def _log(message: str, verbose: bool) -> None:
    if verbose:
        print(f"[surrogate study] {message}", flush=True)


def run_study(config: StudyConfig, directory: str | Path, *, verbose: bool = True,
              progress: bool | None = None) -> Study:
    """Run a study and write its report into ``directory``; return the :class:`Study`.

    Mistakes in the configuration raise before any teacher run. Afterwards nothing raises: a
    stage that fails is recorded in :attr:`Study.failures` and the report, and the rest goes on.
    With a ``timeout`` and the serial executor the runs go to one worker process, which can be
    stopped when a run hangs (a serial run can only be interrupted between Python statements).
    """
    directory = _study_directory(directory)
    simulator = load_simulator(config.simulator, config.parameters, config.outputs,
                               config.vectorized)
    _check_against(config, simulator)
    started = time.perf_counter()
    design = _study_design(config, simulator.space, directory)
    executor, n_workers = _executor(config)
    _log(f"running {simulator.name} on {len(design)} points ({executor})", verbose)
    runs = simulator.run(
        design, executor=executor, n_workers=n_workers, timeout=config.timeout,
        retries=config.retries, checkpoint=directory / "runs", progress=progress,
        address=config.address,
    )
    study = Study(config, simulator, runs, directory)
    study.summary = {
        "simulator": simulator.name,
        "space": simulator.space.to_dict(),
        "outputs": list(simulator.outputs),
        "config": _jsonable(asdict(config)),
        "runs": {**_run_summary(runs), "executor": executor},
        "failures": [],
        "warnings": [],
    }
    (directory / _FAILURE_LOG).unlink(missing_ok=True)  # a rerun reports its own failures
    if _check_runs(study, verbose):
        _attempt(study, "surrogates", _fit_surrogates, verbose)
        _attempt(study, "sensitivity", _sensitivity, verbose)
        _attempt(study, "optimization", _optimize, verbose)
        _attempt(study, "discovery", _discover, verbose)
    study.summary["seconds"] = time.perf_counter() - started
    from surrogate.report import write_report

    write_report(study)
    _log(f"report written to {directory / 'report.html'}", verbose)
    return study


_DESIGN_RECORD = "design.json"  # how the study drew its design (method, seed, space)
_FAILURE_LOG = "failures.log"


def _study_directory(directory: str | Path) -> Path:
    """The study directory, created; a clear error when it cannot be."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"study directory {directory}: exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"study directory {directory}: cannot be created "
                         f"({exc.strerror or exc})") from None
    return directory


def _executor(config: StudyConfig) -> tuple[str, int | None]:
    """The executor the runs use: with a timeout, never in this process.

    The serial executor enforces a timeout with SIGALRM, which Python handles only between
    bytecodes: a run stuck inside C code (a solver, a foreign library) would hang the study. A
    worker process can be killed.
    """
    if config.timeout is not None and config.executor == "serial":
        return "processes", 1
    return config.executor, config.n_workers


def _check_runs(study: Study, verbose: bool) -> bool:
    """Record a failure when no teacher run succeeded, a warning when many failed.

    Returns whether any run succeeded (else the later stages have nothing to work on).
    """
    runs = study.runs
    failed = ~np.asarray(runs.ok, dtype=bool)
    n, n_failed = len(runs), int(failed.sum())
    if n_failed == 0:
        return True
    first = str(runs.error[failed].iloc[0])
    if n_failed == n:
        _record(study, "teacher runs", f"all {n} teacher runs failed; first error: {first}",
                verbose)
        return False
    if n_failed > FAILED_RUNS_WARNING * n:
        message = (f"{n_failed} of {n} teacher runs failed ({n_failed / n:.0%}); "
                   f"first error: {first}")
        study.summary["warnings"].append(message)
        _log(f"warning: {message}", verbose)
    return True


def _attempt(study: Study, stage: str, step: Callable[[Study, bool], None],
             verbose: bool) -> None:
    """Run one stage; a failure is recorded and the study goes on."""
    try:
        step(study, verbose)
    except Exception as exc:  # noqa: BLE001 - recorded and reported, never swallowed
        _failed(study, stage, exc, verbose)


def _failed(study: Study, stage: str, exc: Exception, verbose: bool,
            output: str | None = None) -> None:
    """Record an exception of ``stage`` and append its traceback to ``failures.log``."""
    where = stage if output is None else f"{stage} ({output})"
    with open(study.directory / _FAILURE_LOG, "a") as log:
        log.write(f"--- {where}\n{traceback.format_exc()}\n")
    _record(study, stage, describe_exception(exc), verbose, output, traceback_in=_FAILURE_LOG)


def _record(study: Study, stage: str, error: str, verbose: bool, output: str | None = None,
            traceback_in: str | None = None) -> None:
    entry = {"stage": stage, "error": error}
    if output is not None:
        entry["output"] = output
    if traceback_in is not None:
        entry["traceback_in"] = traceback_in
    study.summary["failures"].append(entry)
    _log(f"{stage}{'' if output is None else f' ({output})'} failed: {error}", verbose)


def _study_design(config: StudyConfig, space: Any, directory: Path) -> pd.DataFrame:
    """The study's design, reusing the runs of an earlier, smaller or larger ``--n``.

    A first run draws ``config.n`` points and records how (``design.json``: method, seed,
    space). A rerun with the same method, seed and space keeps the checkpoint's points in the
    order they were first asked for: the first ``config.n`` of them when shrinking; all of them
    plus fresh ones (the same method, a seed derived from the study's) when growing, so finished
    runs are never repeated. Sobol', Halton and random designs of a larger ``n`` already start
    with the smaller one and are used as drawn; a grown Latin hypercube is the old one plus a new
    one. Another method, seed or space draws a new design (points that coincide still reuse
    their runs).
    """
    fresh = sample(space, config.n, method=config.method, seed=config.seed)  # type: ignore[arg-type]
    how = json.loads(json.dumps(
        {"method": config.method, "seed": config.seed, "space": space.to_dict()}))
    record = directory / _DESIGN_RECORD
    old = checkpoint_design(directory / "runs")
    design = fresh
    if old is not None and record.exists() and _read_json(record) == how:
        if config.n <= len(old):
            design = old.iloc[: config.n].reset_index(drop=True)
        elif not _same_points(old, fresh.iloc[: len(old)]):
            seed = int(np.random.SeedSequence([config.seed, len(old)]).generate_state(1)[0])
            extra = sample(space, config.n - len(old), method=config.method,  # type: ignore[arg-type]
                           seed=seed)
            design = pd.concat([old, extra], ignore_index=True)
    record.write_text(json.dumps(how, indent=1) + "\n")
    return design


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # unreadable: draw a new design, as on a first run


def _same_points(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a.shape != b.shape:
        return False
    return all(
        np.allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-12, atol=0.0)
        if pd.api.types.is_numeric_dtype(a[c]) and pd.api.types.is_numeric_dtype(b[c])
        else bool((a[c].astype(str).to_numpy() == b[c].astype(str).to_numpy()).all())
        for c in a.columns)


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


def _new_model(config: StudyConfig, space: Space) -> Any:
    """The study's (unfitted) surrogate; categorical parameters are one-hot encoded for it."""
    from surrogate.models import GPRegressor, NNRegressor

    # kernel="auto": Matern-5/2 or RBF, noise fitted or at the floor, by leave-one-out error
    model = (GPRegressor(kernel="auto", seed=config.seed) if config.model == "gp"
             else NNRegressor(seed=config.seed))
    categories = {p.name: list(p.categories) for p in space if isinstance(p, Categorical)}
    return _OneHotRegressor(model, categories) if categories else model


def _fit_surrogates(study: Study, verbose: bool) -> None:
    valid = study.runs.valid()
    if len(valid) < max(study.config.cv, 5):
        study.summary["surrogates"] = {"skipped": f"only {len(valid)} successful runs"}
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
    scores = cross_validate(_new_model(config, study.simulator.space), valid.X, y, cv=config.cv,
                            seed=config.seed)
    results[output] = {k: _scalar(v) for k, v in scores.items()
                       if k in ("q2", "rmse", "coverage95")}
    model = _new_model(config, study.simulator.space).fit(valid.X, y)
    study.models[output] = model
    # the out-of-fold predictions: the accuracy the table reports, not the training fit
    drawn = parity_predictions(y, scores["y_pred"], scores.get("y_std"),
                               label=f"{config.cv}-fold cross-validated")
    study.figures.append((f"Parity: {output} ({config.cv}-fold cross-validation)", drawn.figure))
    model.save(study.directory / "models" / output)


class _OneHotRegressor(RegressorMixin, BaseEstimator):
    """The study's surrogate on a space with categorical parameters.

    The surrogates take numbers only: each categorical column becomes one 0/1 column per
    category of the space (named ``name=category``) in front of the numeric ``model``. The
    categories come from the space, not the data, so a cross-validation fold that lacks one
    still encodes it (as a constant column). scikit-learn's ``OneHotEncoder`` is not used: it
    refuses unsorted numeric and mixed categories, which a Categorical parameter allows.
    """

    def __init__(self, model: Any = None, categories: dict[str, list[Any]] | None = None
                 ) -> None:
        self.model = model
        self.categories = categories

    def fit(self, X: pd.DataFrame, y: Any) -> _OneHotRegressor:
        frame = self._frame(X, list(X.columns) if isinstance(X, pd.DataFrame) else None)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.model_ = clone(self.model).fit(self._encode(frame), y)
        return self

    def predict(self, X: pd.DataFrame, return_std: bool = False) -> Any:
        encoded = self._encode(self._frame(X, list(self.feature_names_in_)))
        if return_std:
            return self.model_.predict(encoded, return_std=True)
        return self.model_.predict(encoded)

    @property
    def sample_posterior(self) -> Callable[..., np.ndarray]:
        """Joint posterior draws of the numeric model (an AttributeError where it has none)."""
        draw = self.model_.sample_posterior

        def sample_posterior(X: pd.DataFrame, n_samples: int, *, seed: Any = None
                             ) -> np.ndarray:
            encoded = self._encode(self._frame(X, list(self.feature_names_in_)))
            return draw(encoded, n_samples, seed=seed)

        return sample_posterior

    def save(self, path: str | Path) -> None:
        """The numeric model (on the one-hot columns) and ``one_hot.json``, its encoding."""
        path = Path(path)
        self.model_.save(path)
        (path / "one_hot.json").write_text(json.dumps(_jsonable({
            "columns": list(self.feature_names_in_), "categories": self.categories,
            "encoded_as": "one column NAME=CATEGORY per category, 1.0 where it holds"}),
            indent=2) + "\n")

    def _frame(self, X: Any, columns: list[str] | None) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            if columns is None:
                raise TypeError("X must be a DataFrame with the space's columns (categorical "
                                f"parameters {list(self.categories or {})})")
            X = pd.DataFrame(np.asarray(X, dtype=object), columns=columns)
        missing = [c for c in (columns or list(self.categories or {})) if c not in X.columns]
        if missing:
            raise ValueError(f"X is missing the column(s) {missing}")
        return X if columns is None else X[columns]

    def _encode(self, X: pd.DataFrame) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for name in X.columns:
            if name not in (self.categories or {}):
                columns[name] = pd.to_numeric(X[name])
                continue
            allowed = list(self.categories[name])  # type: ignore[index]
            values = X[name]
            unknown = ~values.isin(allowed)
            if unknown.any():
                raise ValueError(f"column {name!r}: value(s) {values[unknown].unique()[:5].tolist()}"
                                 f" are not among its categories {allowed}")
            for category in allowed:
                columns[f"{name}={category}"] = (values == category).to_numpy(dtype=float)
        return pd.DataFrame(columns, index=X.index)


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
            indices = sobol_indices(model, study.simulator.space, n=study.config.sobol_n,
                                    seed=study.config.seed)
        except Exception as exc:  # noqa: BLE001 - recorded; the other outputs go on
            results[output] = {"failed": describe_exception(exc)}
            _failed(study, "sensitivity", exc, verbose, output)
            continue
        study.indices[output] = indices
        results[output] = _frame_records(indices)
        study.figures.append((f"Sobol indices: {output}", sobol(indices).figure))


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

    valid = study.runs.valid()
    X = valid.X
    y = np.asarray(outcome.label(valid.Y[outcome.output].to_numpy()), dtype=float)
    result: dict[str, Any] = {"outcome": str(outcome), "n_runs": len(y),
                              "cases_of_interest": int(y.sum()),
                              "base_rate": float(y.mean()) if len(y) else None}
    study.summary["discovery"] = result  # filled in as the methods finish
    if y.sum() == 0 or y.sum() == len(y):
        result["skipped"] = "the outcome holds for none or all of the runs"
        return
    _log(f"PRIM boxes for {outcome}", verbose)
    study.prim = PRIM().fit(X, y)
    chosen = _choose_box(study.prim, X, y, study.config.min_density)
    result["prim"] = _box_summary(study.prim, chosen, X, y)
    _box_figures(study, "PRIM", study.prim, chosen, X, y)
    if study.config.reds:
        _log(f"REDS: a metamodel labels {study.config.n_samples} fresh points", verbose)
        try:
            reds = REDS(n_samples=study.config.n_samples, seed=study.config.seed).fit(
                X, y, space=study.simulator.space)
        except Exception as exc:  # noqa: BLE001 - recorded; PRIM's box stands
            _failed(study, "discovery", exc, verbose, "REDS")
            return
        study.reds = reds
        chosen = _choose_box(reds, X, y, study.config.min_density)
        result["reds"] = _box_summary(reds, chosen, X, y)
        result["reds"]["fidelity"] = _jsonable(reds.fidelity_)
        _box_figures(study, "REDS", reds, chosen, X, y)


def _box_figures(study: Study, method: str, model: Any, chosen: Any, X: pd.DataFrame,
                 y: np.ndarray) -> None:
    from surrogate.plot import box as box_plot
    from surrogate.plot import tradeoff

    outcome = study.config.outcome
    study.figures.append((f"{method} trade-off: {outcome}", tradeoff(model).figure))
    if chosen.n_restricted > 0:  # a box that restricts nothing is the whole space: no picture
        study.figures.append((f"{method} box: {outcome}", _figure_of(box_plot(chosen, X, y))))


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
