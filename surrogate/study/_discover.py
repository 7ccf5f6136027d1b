"""Scenario discovery in the study: PRIM on the teacher runs, REDS with a metamodel."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from surrogate.study._core import Study, _failed, _log
from surrogate.study._json import _frame_records, _jsonable


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

