"""The study's record: :class:`Study`, and how a stage's failure is kept without stopping it."""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from surrogate._config import StudyConfig
from surrogate.data import TransferSet
from surrogate.teacher import Simulator, describe_exception

__all__ = ["Study"]

# more failed teacher runs than this share earns the study a warning
FAILED_RUNS_WARNING = 0.2
MAX_STAGE_WARNINGS = 5  # distinct warnings of one stage carried to the report


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
    field_models: dict[str, Any] = field(default_factory=dict)  # FieldGPRegressor per field
    field_indices: dict[str, pd.DataFrame] = field(default_factory=dict)  # (time, parameter)
    optimization: Any = None
    prim: Any = None
    reds: Any = None
    adaptive: Any = None  # the AdaptiveResult of an adaptive design
    figures: list[tuple[str, Any]] = field(default_factory=list)  # (title, matplotlib Figure)

    def add_figure(self, title: str, figure: Any) -> None:
        """Keep a figure for the report, let go by pyplot: it still saves, and a study of many
        outputs no longer holds them all open (matplotlib's "More than 20 figures" warning
        ended up among the study's warnings)."""
        import matplotlib.pyplot as plt

        plt.close(figure)
        self.figures.append((title, figure))

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


FAILURE_LOG = "failures.log"


def _attempt(study: Study, stage: str, step: Callable[[Study, bool], None],
             verbose: bool) -> None:
    """Run one stage; a failure is recorded and the study goes on. Its warnings (the user's
    and runtime kinds, once per message, at most MAX_STAGE_WARNINGS) go to the report's
    warnings instead of the terminal's raw Python form."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            step(study, verbose)
        except Exception as exc:  # noqa: BLE001 - recorded and reported, never swallowed
            _failed(study, stage, exc, verbose)
    _report_warnings(study, stage, caught, verbose)


def _report_warnings(study: Study, stage: str, caught: list[warnings.WarningMessage],
                     verbose: bool) -> None:
    """The user's and runtime warnings of ``stage`` into the report (once per message, at most
    MAX_STAGE_WARNINGS), logged in the study's own form; other kinds are warned again."""
    for w in caught:
        if not issubclass(w.category, UserWarning | RuntimeWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    kept = [w for w in caught if issubclass(w.category, UserWarning | RuntimeWarning)]
    messages = list(dict.fromkeys(f"{stage}: {w.message}" for w in kept))
    for message in messages[:MAX_STAGE_WARNINGS]:
        study.summary["warnings"].append(message)
        _log(f"warning: {message}", verbose)
    if len(messages) > MAX_STAGE_WARNINGS:
        study.summary["warnings"].append(
            f"{stage}: {len(messages) - MAX_STAGE_WARNINGS} more warning(s) not shown")


def _failed(study: Study, stage: str, exc: Exception, verbose: bool,
            output: str | None = None) -> None:
    """Record an exception of ``stage`` and append its traceback to ``failures.log``."""
    where = stage if output is None else f"{stage} ({output})"
    with open(study.directory / FAILURE_LOG, "a") as log:
        log.write(f"--- {where}\n{traceback.format_exc()}\n")
    _record(study, stage, describe_exception(exc), verbose, output, traceback_in=FAILURE_LOG)


def _record(study: Study, stage: str, error: str, verbose: bool, output: str | None = None,
            traceback_in: str | None = None) -> None:
    entry = {"stage": stage, "error": error}
    if output is not None:
        entry["output"] = output
    if traceback_in is not None:
        entry["traceback_in"] = traceback_in
    study.summary["failures"].append(entry)
    _log(f"{stage}{'' if output is None else f' ({output})'} failed: {error}", verbose)


def study_executor(config: StudyConfig) -> tuple[str, int | None]:
    """The executor every stage's teacher runs use: with a timeout, never in this process.

    The serial executor enforces a timeout with SIGALRM, which Python handles only between
    bytecodes: a run stuck inside C code (a solver, a foreign library) would hang the study. A
    worker process can be killed.
    """
    if config.timeout is not None and config.executor == "serial":
        return "processes", 1
    return config.executor, config.n_workers


def stage_runner(config: StudyConfig) -> tuple[Any, bool]:
    """The executor of a stage's teacher runs (:func:`study_executor`, at ``[run] address``),
    and whether the stage must close it."""
    from surrogate.execute import resolve_executor

    executor, n_workers = study_executor(config)
    return resolve_executor(executor, n_workers, config.address)
