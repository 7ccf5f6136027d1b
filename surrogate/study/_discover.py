"""Scenario discovery in the study: PRIM on the teacher runs, REDS with a metamodel."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from surrogate.discovery._box import _ordered
from surrogate.discovery._prim import best_covering
from surrogate.study._core import Study, _failed, _log
from surrogate.study._json import _jsonable


def _discover(study: Study, verbose: bool) -> None:
    outcome = study.config.outcome
    if outcome is None:
        return
    from surrogate.discovery import PRIM

    valid = study.runs.valid()
    X = valid.X
    # a scalar 'OUTPUT OP NUMBER' or an expression over outputs and fields (max(I) > 0.1)
    y = np.asarray(outcome.evaluate(valid), dtype=float)
    result: dict[str, Any] = {"outcome": str(outcome), "n_runs": len(y),
                              "cases_of_interest": int(y.sum()),
                              "base_rate": float(y.mean()) if len(y) else None,
                              "adaptive_runs": study.config.method == "adaptive",
                              "min_density": study.config.min_density}
    study.summary["discovery"] = result  # filled in as the methods finish
    if y.sum() == 0 or y.sum() == len(y):
        result["skipped"] = "the outcome holds for none or all of the runs"
        return
    _log(f"PRIM boxes for {outcome}", verbose)
    study.prim = PRIM().fit(X, y)
    chosen = _choose_box(study.prim, X, y, study.config.min_density)
    result["prim"] = _box_summary(study.prim, chosen, X, y, study.config.min_density)
    _box_figures(study, "PRIM", study.prim, chosen, X, y)
    _trajectory_figure(study, valid, y, chosen)
    if study.config.reds:
        _log(f"REDS: a metamodel labels {study.config.n_samples} fresh points", verbose)
        try:
            reds = _reds(study, valid, y)
        except Exception as exc:  # noqa: BLE001 - recorded; PRIM's box stands
            _failed(study, "discovery", exc, verbose, "REDS")
            return
        study.reds = reds
        chosen = _choose_box(reds, X, y, study.config.min_density)
        result["reds"] = _box_summary(reds, chosen, X, y, study.config.min_density)
        result["reds"]["fidelity"] = _jsonable(reds.fidelity_)
        result["reds"]["metamodel"] = type(reds.metamodel_).__name__
        _box_figures(study, "REDS", reds, chosen, X, y)


def _reds(study: Study, valid: Any, y: np.ndarray) -> Any:
    """REDS fitted on the runs. An outcome over exactly one field (``max(I) > 0.1``) has a
    field surrogate as metamodel, which labels fresh points by the share of its posterior
    trajectories meeting the outcome; otherwise the default metamodel learns the labels."""
    from surrogate.discovery import REDS, FieldOutcomeClassifier

    config = study.config
    name = _outcome_field(study)
    if name is not None:
        metamodel = FieldOutcomeClassifier(str(config.outcome), seed=config.seed)
        return REDS(metamodel=metamodel, n_samples=config.n_samples, seed=config.seed).fit(
            valid.X, valid.field(name), space=study.simulator.space)
    return REDS(n_samples=config.n_samples, seed=config.seed).fit(
        valid.X, y, space=study.simulator.space)


def _outcome_field(study: Study) -> str | None:
    """The field an outcome is written over, when it names exactly one name and that a field."""
    names = list(study.config.outcome.names)
    return names[0] if len(names) == 1 and names[0] in study.runs.fields else None


def _trajectory_figure(study: Study, valid: Any, y: np.ndarray, chosen: Any) -> None:
    """An outcome over a field: its trajectories coloured by the outcome, split by PRIM's box."""
    name = _outcome_field(study)
    if name is None:
        return
    from surrogate.plot import trajectories

    axes = trajectories(valid, name, y.astype(bool),
                        box=chosen if chosen.n_restricted > 0 else None)
    study.add_figure(f"Trajectories of {name}: {study.config.outcome} (red) inside and "
                     "outside PRIM's box", _figure_of(axes))


def _box_figures(study: Study, method: str, model: Any, chosen: Any, X: pd.DataFrame,
                 y: np.ndarray) -> None:
    from surrogate.plot import box as box_plot
    from surrogate.plot import tradeoff

    outcome = study.config.outcome
    study.add_figure(f"{method} trade-off: {outcome}", tradeoff(model).figure)
    if chosen.n_restricted > 0:  # a box that restricts nothing is the whole space: no picture
        study.add_figure(f"{method} box: {outcome}", _figure_of(box_plot(chosen, X, y)))


def _choose_box(model: Any, X: pd.DataFrame, y: np.ndarray, min_density: float) -> Any:
    """The box of the trajectory with the highest coverage of the teacher's cases of interest
    among those whose density on the teacher runs reaches ``min_density`` (the denser on a
    tie, as :meth:`PRIM.box` chooses; else the densest).

    Judging every box on the teacher runs puts PRIM and REDS on the same footing: REDS's own
    statistics are measured on its metamodel's (soft) labels.
    """
    scores = [box.evaluate(X, y) for box in model.boxes_]
    density = np.nan_to_num([s["density"] for s in scores], nan=0.0)
    coverage = np.array([s["coverage"] for s in scores])
    chosen = best_covering(coverage, density, min_density)
    return model.boxes_[int(np.argmax(density)) if chosen is None else chosen]


def _box_summary(model: Any, chosen: Any, X: pd.DataFrame, y: np.ndarray,
                 min_density: float) -> dict[str, Any]:
    on_runs = chosen.evaluate(X, y)
    density = float(on_runs["density"])
    return {
        "rules": chosen.rules(),
        "coverage": float(on_runs["coverage"]), "density": density,
        # False: no box of the trajectory reaches min_density on the runs (the densest shown)
        "reaches_min_density": bool(np.nan_to_num(density) >= min_density),
        "mass": float(on_runs["mass"]), "n_restricted": int(chosen.n_restricted),
        "box_statistics": {"coverage": float(chosen.coverage), "density": float(chosen.density),
                           "mass": float(chosen.mass)},
        "limits": _limits(chosen),
        "trajectory": _jsonable(model.trajectory_.to_dict("records")),
    }


def _limits(box: Any) -> dict[str, Any]:
    """Each parameter's limits: ``lower`` and ``upper`` (None where open), or, for a
    categorical one, its ``categories`` in sorted order (a set's own order changes with the
    hash seed: a rerun wrote another report.json)."""
    out: dict[str, Any] = {}
    for name, row in box.limits.astype(object).iterrows():
        low = row["lower"]
        if isinstance(low, frozenset):
            out[str(name)] = {"categories": _jsonable(_ordered(low))}
        else:
            out[str(name)] = {"lower": _jsonable(low), "upper": _jsonable(row["upper"])}
    return out


def _figure_of(drawn: Any) -> Any:
    if hasattr(drawn, "figure"):
        return drawn.figure
    return np.asarray(drawn).ravel()[0].figure

