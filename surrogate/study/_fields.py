"""Field outputs in the study (``[surrogate] fields``): a field surrogate per trajectory with its
cross-validated accuracy over the grid, and Sobol indices over time on it.

Each named field gets a :class:`~surrogate.models.FieldGPRegressor` fitted on the successful
runs (saved in ``models/<field>/``), whatever ``[surrogate] model`` says: the scalar students do
not take trajectories. ``summary["fields"][name]`` holds the grid, the accuracy (``q2`` over the
whole field, ``coverage95`` of the pointwise 95 % band, ``q2_time``: Q² at each grid point) and
the indices (``aggregated``: the variance-weighted indices over the field; ``S1``/``ST``: one
list per parameter over the grid). A field that fails is recorded as the scalar stages do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from surrogate.study._core import Study, _failed, _log
from surrogate.study._json import _frame_records, _jsonable, _scalar
from surrogate.study._stages import model_inputs, model_space, too_few_runs, warn_if_poor
from surrogate.teacher import describe_exception

__all__ = ["fit_field_surrogates", "field_sensitivity"]

# teacher runs shown in the fan chart (the plot takes at most 12; four stay readable)
FAN_RUNS = 4


def fit_field_surrogates(study: Study, verbose: bool) -> None:
    """Cross-validate, fit and save a field surrogate per ``[surrogate] fields`` entry."""
    names = study.config.model_fields
    if not names:
        return
    valid = study.runs.valid()
    why = too_few_runs(len(valid), study.config.cv)
    records: dict[str, Any] = {}
    study.summary["fields"] = records
    for name in names:
        record = records[name] = {"grid": _jsonable(study.runs.grids[name])}
        if why is not None:
            record["surrogate"] = {"skipped": why}
            continue
        trajectories = valid.field(name)
        if np.ptp(trajectories.to_numpy()) == 0:
            record["surrogate"] = {"skipped": "constant field"}
            continue
        _log(f"fitting a field surrogate of {name!r} ({study.config.cv}-fold "
             "cross-validation)", verbose)
        try:
            _fit_field(study, valid, name, trajectories, record)
        except Exception as exc:  # noqa: BLE001 - recorded; the other fields go on
            record["surrogate"] = {**record.get("surrogate", {}),
                                   "failed": describe_exception(exc)}
            _failed(study, "field surrogates", exc, verbose, name)


def _fit_field(study: Study, valid: Any, name: str, trajectories: Any,
               record: dict[str, Any]) -> None:
    """One field: scores into ``record["surrogate"]``, the model, its figures; saved last (a
    model that cannot be saved is still used by the later stages)."""
    from sklearn.base import clone

    from surrogate.models import FieldGPRegressor, cross_validate
    from surrogate.plot import fan

    config = study.config
    X = model_inputs(study.simulator.space, valid.X)
    template = FieldGPRegressor(seed=config.seed,
                                align="peak" if name in config.align_fields else None)
    scores = cross_validate(template, X, trajectories, cv=config.cv, seed=config.seed)
    accuracy: dict[str, Any] = {k: _scalar(scores[k]) for k in ("q2", "rmse", "coverage95")
                                 if k in scores}
    accuracy["q2_time"] = _jsonable(np.asarray(scores["q2_time"], dtype=float))
    accuracy["cv"] = config.cv
    record["surrogate"] = accuracy
    warn_if_poor(name, accuracy.get("q2"), "its Sobol indices over time and fan chart")
    model = clone(template).fit(X, trajectories)
    accuracy["n_components"] = int(model.n_components_)
    accuracy["align"] = model.align
    study.field_models[name] = model
    shown = min(FAN_RUNS, len(X))
    ax = fan(model, X.iloc[:shown], trajectories.iloc[:shown])
    study.add_figure(f"Fan chart: {name} (surrogate mean and 95% band; dots: {shown} "
                     "teacher runs it was fitted on)", ax.figure)
    study.add_figure(f"Accuracy over the grid: {name} ({config.cv}-fold cross-validated "
                     "Q²)", _q2_over_grid(study.runs.grids[name], scores["q2_time"],
                                          accuracy["q2"], name))
    model.save(study.directory / "models" / name)


def _q2_over_grid(grid: Any, q2_time: Any, q2: float, name: str) -> Any:
    """A small line plot of Q² at each grid point, the whole field's Q² as a dashed line."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(5.5, 3.0))
    ax.plot(np.asarray(grid, dtype=float), np.asarray(q2_time, dtype=float), color="C0",
            label="Q² at each grid point")
    ax.axhline(q2, color="C1", linestyle="--", label=f"over the field: {q2:.3f}")
    ax.set_xlabel(f"grid of {name}")
    ax.set_ylabel("cross-validated Q²")
    low = np.nanmin(np.append(np.asarray(q2_time, dtype=float), q2))
    ax.set_ylim(max(min(low, 0.9) - 0.02, -1.0), 1.01)  # Q² far below 0 would hide the rest
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    return figure


def field_sensitivity(study: Study, verbose: bool) -> None:
    """Sobol indices over the grid (and aggregated) on each field surrogate."""
    if study.config.sobol_n == 0 or not study.field_models:
        return
    from surrogate.plot import sobol_over_time
    from surrogate.sensitivity import sobol_indices

    for name, model in study.field_models.items():
        record = study.summary["fields"][name]
        _log(f"Sobol indices over the grid of {name!r} on its surrogate", verbose)
        try:
            indices = sobol_indices(model, model_space(study.simulator.space),
                                    n=study.config.sobol_n, seed=study.config.seed)
        except Exception as exc:  # noqa: BLE001 - recorded; the other fields go on
            record["sensitivity"] = {"failed": describe_exception(exc)}
            _failed(study, "field sensitivity", exc, verbose, name)
            continue
        study.field_indices[name] = indices
        record["sensitivity"] = _indices_record(indices)
        study.add_figure(f"Sobol indices over the grid: {name}",
                         sobol_over_time(indices).figure)


def _indices_record(indices: Any) -> dict[str, Any]:
    """The aggregated indices, and per parameter the indices at each grid point (lists in the
    order of the grid)."""
    by_parameter = {
        str(parameter): frame.droplevel("parameter")
        for parameter, frame in indices.groupby(level="parameter", sort=False)}
    return {
        "aggregated": _frame_records(indices.attrs["aggregated"]),
        **{column: {p: _jsonable(frame[column].to_numpy(dtype=float))
                    for p, frame in by_parameter.items()}
           for column in ("S1", "S1_conf", "ST", "ST_conf")},
        "n": int(indices.attrs.get("n", 0)),
    }
