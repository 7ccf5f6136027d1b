"""The study's directory, design and teacher runs, and ``run_study`` that goes through the stages."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surrogate._config import ConfigError, StudyConfig
from surrogate._registry import load_simulator
from surrogate.data import TransferSet, write_text_atomic
from surrogate.design import sample
from surrogate.execute import checkpoint_design
from surrogate.space import python_scalar
from surrogate.study._adaptive import adaptive_case, adaptive_record, adaptive_runs
from surrogate.study._core import (
    FAILED_RUNS_WARNING,
    FAILURE_LOG,
    Study,
    _attempt,
    _log,
    _record,
    _report_warnings,
    study_executor,
)
from surrogate.study._discover import _discover
from surrogate.study._fields import field_sensitivity, fit_field_surrogates
from surrogate.study._json import _jsonable, _read_json
from surrogate.study._stages import _fit_surrogates, _optimize, _sensitivity
from surrogate.teacher import Simulator

__all__ = ["run_study"]


def run_study(config: StudyConfig, directory: str | Path, *, verbose: bool = True,
              progress: bool | None = None) -> Study:
    """Run a study and write its report into ``directory``; return the :class:`Study`.

    Mistakes in the configuration raise before any teacher run. Afterwards nothing raises: a
    stage that fails is recorded in :attr:`Study.failures` and the report, and the rest goes on.
    With a ``timeout`` and the serial executor the runs go to one worker process, which can be
    stopped when a run hangs (a serial run can only be interrupted between Python statements).
    """
    directory = Path(directory).expanduser()
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"study directory {directory}: exists and is not a directory")
    simulator = load_simulator(config.simulator, config.parameters, config.outputs,
                               config.vectorized, config.field_grids)
    _check_against(config, simulator)
    directory = _study_directory(directory)  # after the checks: a mistake leaves no directory
    started = time.perf_counter()
    executor, n_workers = study_executor(config)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:  # e.g. "the code has changed"
            warnings.simplefilter("always")
            runs, adaptive = _teacher_runs(config, simulator, directory, executor, n_workers,
                                           progress, verbose)
    except BaseException:  # the study stops: its warnings go to the terminal, not lost
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        raise
    study = Study(config, simulator, runs, directory, adaptive=adaptive)
    study.summary = {
        "simulator": simulator.name,
        "space": simulator.space.to_dict(),
        "outputs": list(simulator.outputs),
        "field_names": list(simulator.fields),
        "config": _jsonable(asdict(config)),
        "runs": {**_run_summary(runs), "executor": executor},
        "failures": [],
        "warnings": [],
    }
    (directory / FAILURE_LOG).unlink(missing_ok=True)  # a rerun reports its own failures
    _report_warnings(study, "runs", caught, verbose)
    if adaptive is not None:
        _attempt(study, "design", lambda s, v: adaptive_record(s, adaptive), verbose)
    if _check_runs(study, verbose):
        _attempt(study, "surrogates", _fit_surrogates, verbose)
        _attempt(study, "sensitivity", _sensitivity, verbose)
        _attempt(study, "field surrogates", fit_field_surrogates, verbose)
        _attempt(study, "field sensitivity", field_sensitivity, verbose)
        _attempt(study, "optimization", _optimize, verbose)
        _attempt(study, "discovery", _discover, verbose)
    study.summary["seconds"] = time.perf_counter() - started
    from surrogate.report import write_report

    write_report(study)
    _log(f"report written to {directory / 'report.html'}", verbose)
    return study


def _teacher_runs(config: StudyConfig, simulator: Simulator, directory: Path, executor: str,
                  n_workers: int | None, progress: Any, verbose: bool) -> tuple[TransferSet, Any]:
    """The study's teacher runs: an adaptive design (and its result), or the design run."""
    if config.method == "adaptive":
        _log(f"adaptive design ({config.adaptive_goal}) of {simulator.name}: budget "
             f"{config.adaptive_budget} runs ({executor})", verbose)
        adaptive = adaptive_runs(config, simulator, directory, progress)
        return adaptive.runs, adaptive
    from surrogate.sequential._adaptive import SIGNATURE_FILE

    if (directory / "runs" / SIGNATURE_FILE).exists():  # its rounds are not a design's runs
        raise ConfigError(f"design.method: {directory / 'runs'} holds the runs of an adaptive "
                          f"design; a {config.method} design goes in another directory "
                          "(--out), or keep method = \"adaptive\"")
    plan = _plan_design(config, simulator.space, directory)
    resumed = ", the checkpoint's finished runs are not repeated" \
        if (directory / "runs").is_dir() else ""  # it read as all of them running again
    _log(f"running {simulator.name} on {len(plan.design)} points ({executor}{resumed})", verbose)
    runs = simulator.run(
        plan.design, executor=executor, n_workers=n_workers, timeout=config.timeout,
        retries=config.retries, checkpoint=directory / "runs", progress=progress,
        address=config.address, rerun=config.rerun,
    )
    plan.write()  # the checkpoint took the design: record it
    return runs, None


_DESIGN_RECORD = "design.json"  # how the study drew its design (method, seed, space) and which


def _study_directory(directory: Path) -> Path:
    """The study directory, created (run_study has refused a file there); a clear error when
    it cannot be."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"study directory {directory}: cannot be created "
                         f"({exc.strerror or exc})") from None
    return directory


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
    # a rerun keeps every finished run, failed ones too, unless asked to run those again
    hint = "" if study.config.method == "adaptive" else \
        " (once the cause is fixed, --rerun-failed runs them again)"
    if n_failed == n:
        _record(study, "teacher runs", f"all {n} teacher runs failed; first error: "
                f"{first}{hint}", verbose)
        return False
    if n_failed > FAILED_RUNS_WARNING * n:
        message = (f"{n_failed} of {n} teacher runs failed ({n_failed / n:.0%}); "
                   f"first error: {first}{hint}")
        study.summary["warnings"].append(message)
        _log(f"warning: {message}", verbose)
    return True



@dataclass(frozen=True)
class _DesignPlan:
    """A study's design and the record (``design.json``) that says how and which points."""

    design: pd.DataFrame
    path: Path
    record: dict[str, Any]

    def write(self) -> None:
        write_text_atomic(self.path, json.dumps(self.record) + "\n")


def _plan_design(config: StudyConfig, space: Any, directory: Path) -> _DesignPlan:
    """The study's design, reusing the runs of an earlier, smaller or larger ``--n``.

    A first run draws ``config.n`` points and records how and which in one file
    (``design.json``: method, seed, space and the points; one such record per method, seed and
    space the study has used). A rerun with the same method, seed
    and space keeps those points in their order: the first ``config.n`` of them when
    shrinking; all of them plus fresh ones (the same method, a seed derived from the study's)
    when growing, so finished runs are never repeated. (Not the checkpoint's points: after a
    switch of seed or method it also holds the other design's; only a record written before
    the points were kept falls back on them.) Sobol', Halton and random designs of a larger
    ``n`` already start with the smaller one and are used as drawn; a grown Latin hypercube is
    the old one plus a new one. Another method, seed or space, or an unreadable record, draws
    a new design (points that coincide still reuse their runs). The record is written by
    :meth:`_DesignPlan.write`, which the study calls only once the checkpoint has taken the
    runs (a command refused for another space had rewritten it, and the next correct rerun
    repeated every finished run).
    """
    fresh = sample(space, config.n, method=config.method, seed=config.seed)  # type: ignore[arg-type]
    how = json.loads(json.dumps(
        {"method": config.method, "seed": config.seed, "space": space.to_dict()}))
    path = directory / _DESIGN_RECORD
    records = _design_records(_read_json(path) if path.exists() else None)
    stored = next((r for r in records if {k: r.get(k) for k in how} == how), None)
    old = None
    if stored is not None:
        old = _recorded_points(stored.get("points"), space) if "points" in stored else \
            checkpoint_design(directory / "runs")  # a record from before the points
    design = fresh
    if old is not None:
        if config.n <= len(old):
            design = old.iloc[: config.n].reset_index(drop=True)
        elif not _same_points(old, fresh.iloc[: len(old)]):
            seed = int(np.random.SeedSequence([config.seed, len(old)]).generate_state(1)[0])
            extra = sample(space, config.n - len(old), method=config.method,  # type: ignore[arg-type]
                           seed=seed)
            design = pd.concat([old, extra], ignore_index=True)
    keep = design if old is None or len(design) > len(old) else old  # the larger one's points
    rows = [[python_scalar(v) for v in row] for row in keep.itertuples(index=False)]
    record = {**how, "points": {"columns": list(keep.columns), "rows": rows}}
    others = [r for r in records if r is not stored]
    return _DesignPlan(design, path, {"designs": [*others, record]})


def _design_records(stored: Any) -> list[dict[str, Any]]:
    """The designs ``design.json`` records, one per method, seed and space, so that a study
    switched to another seed and back finds its own design's points again (the record of
    earlier versions is one design, without the list)."""
    if isinstance(stored, dict) and isinstance(stored.get("designs"), list):
        return [r for r in stored["designs"] if isinstance(r, dict)]
    return [stored] if isinstance(stored, dict) else []


def _recorded_points(points: Any, space: Any) -> pd.DataFrame | None:
    """The design ``design.json`` records, or None (a new design is drawn) when it does not
    hold the space's columns."""
    try:
        if list(points["columns"]) != list(space.names):
            return None
        return space.validate(pd.DataFrame(points["rows"], columns=space.names))
    except (KeyError, TypeError, ValueError):
        return None


def _same_points(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a.shape != b.shape:
        return False
    return all(
        np.allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-12, atol=0.0)
        if pd.api.types.is_numeric_dtype(a[c]) and pd.api.types.is_numeric_dtype(b[c])
        else bool((a[c].astype(str).to_numpy() == b[c].astype(str).to_numpy()).all())
        for c in a.columns)


def _probe_outcome(outcome: Any, simulator: Simulator) -> None:
    """Evaluate an outcome expression on one made-up run, so that a name used as the wrong
    kind (``max(y)`` of a scalar output, a bare field compared as a number) is a configuration
    error now, not a failed discovery after the runs."""
    from surrogate.discovery._outcome import OutcomeExpression

    if not isinstance(outcome, OutcomeExpression):  # "output op value": of an output
        outcome.check_scalar(simulator.fields, "discover.outcome")
        return
    probe: dict[str, Any] = {name: np.ones(1) for name in simulator.outputs}
    probe.update({name: np.ones((1, len(grid))) for name, grid in simulator.fields.items()})
    with np.errstate(all="ignore"):
        outcome.evaluate(probe, grids=dict(simulator.fields))


def _check_adaptive(config: StudyConfig, simulator: Simulator) -> None:
    """An adaptive design's budget against its initial design, and the output a boundary or
    disagreement goal is about."""
    _check_budget(simulator, config.adaptive_budget, "design.budget (--n)")
    outputs = list(simulator.outputs)
    if config.adaptive_goal != "accuracy" and adaptive_case(config)[0] is None \
            and len(outputs) > 1:
        raise ConfigError(f"design.output: goal = \"{config.adaptive_goal}\" is about one output "
                          f"of {simulator.name}: name it; outputs: {outputs}")


def _check_budget(simulator: Simulator, budget: int | None, key: str) -> None:
    """A sequential loop's budget (an adaptive design's, a teacher-mode optimization's)
    against its initial design of 2 * dim + 1 runs, before any run: the optimization's failed
    only after the study's design had run."""
    from surrogate.sequential._teacher import check_sizes

    try:
        with warnings.catch_warnings():  # said again when the loop runs
            warnings.simplefilter("ignore")
            check_sizes(simulator.space, budget, None, 1)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _check_against(config: StudyConfig, simulator: Simulator) -> None:
    """Configuration keys that name outputs, checked before any teacher run."""
    outputs = list(simulator.outputs)
    for name in [*(config.model_outputs or outputs), *config.model_fields]:
        if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
            raise ValueError(f"output {name!r} of {simulator.name} cannot name the folder its "
                             f"surrogate is saved in (models/{name}): rename it without "
                             "path separators")
    named = [("surrogate.outputs", o) for o in config.model_outputs]
    if config.objective is not None:
        named.append(("optimize.output", config.objective))
    named += [(f"optimize.constraints.{o}", o) for o in config.constraints]
    fields = list(simulator.fields)
    for name in config.model_fields:
        if name not in fields:
            raise ValueError(f"surrogate.fields: {name!r} is not a field of {simulator.name}; "
                             f"fields: {fields}")
    for name in config.align_fields:
        if name not in config.model_fields:
            raise ValueError(f"surrogate.align_fields: {name!r} is not among the modelled "
                             f"fields (surrogate.fields = {list(config.model_fields)})")
    if config.outcome is not None:
        for name in config.outcome.names:
            if name not in outputs and name not in fields:
                raise ValueError(f"discover.outcome: {name!r} is not an output or field of "
                                 f"{simulator.name}; outputs: {outputs}, fields: {fields}")
        _probe_outcome(config.outcome, simulator)
    if config.method == "adaptive":  # before the study's directory exists
        _check_adaptive(config, simulator)
    if config.objective is not None and config.mode == "teacher":
        _check_budget(simulator, config.budget, "optimize.budget")
    if config.adaptive_output is not None:
        if config.adaptive_output in fields:  # a field takes the accuracy goal only
            if config.adaptive_goal != "accuracy":
                raise ValueError(f"design.output: {config.adaptive_output!r} is a field of "
                                 f"{simulator.name}; a field takes goal = \"accuracy\"")
        else:
            named.append(("design.output", config.adaptive_output))
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
            "errors": _error_counts(runs.error[~runs.ok])}


def _error_counts(errors: pd.Series, shown: int = 5) -> dict[str, int]:
    """Runs per error message, the commonest first; past ``shown`` messages the rest are one
    row, so that the counts add up to every failed run."""
    counts = errors.fillna("(no message)").value_counts()
    if len(counts) <= shown:
        return {str(k): int(v) for k, v in counts.items()}
    table = {str(k): int(v) for k, v in counts.iloc[:shown - 1].items()}
    table[f"({len(counts) - shown + 1} other messages)"] = int(counts.iloc[shown - 1:].sum())
    return table

