"""The stages on the teacher runs: a surrogate per output, Sobol indices, optimization."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone

from surrogate._config import StudyConfig
from surrogate.data import TransferSet
from surrogate.space import Categorical, Space
from surrogate.study._core import Study, _failed, _log
from surrogate.study._json import _frame_records, _jsonable, _scalar
from surrogate.teacher import describe_exception


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

