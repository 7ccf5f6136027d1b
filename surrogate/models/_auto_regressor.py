"""The regressor chosen by cross-validation (see :mod:`surrogate.models._auto`): the
candidates' out-of-fold predictions scored by Q²."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import RegressorMixin
from sklearn.model_selection import KFold

from surrogate._threads import fitted_size, limits_threads
from surrogate.models._auto import _AutoBase
from surrogate.models._base import MultiOutputMixin, Q2ScoreMixin, SurrogateMixin, check_flag
from surrogate.models._metrics import _q2, rmse

__all__ = ["AutoRegressor"]


def _regressors(seed: int, device: str) -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

    from surrogate.models._gp import GPRegressor
    from surrogate.models._nn import NNRegressor

    return {"gp": GPRegressor(seed=seed, device=device),
            "nn": NNRegressor(seed=seed, device=device),
            "hgb": HistGradientBoostingRegressor(random_state=seed),
            "rf": RandomForestRegressor(n_estimators=500, random_state=seed)}


class AutoRegressor(MultiOutputMixin, Q2ScoreMixin, RegressorMixin, _AutoBase):
    """Regressor that picks its student by cross-validated Q².

    Every candidate is fitted on the same ``cv`` folds; the one whose out-of-fold predictions
    have the highest Q² (mean over outputs) is refitted on all points and used.

    Parameters
    ----------
    candidates : list, dict or None, default=None
        ``None``: ``["gp", "nn", "hgb", "rf"]``, i.e. :class:`GPRegressor`,
        :class:`NNRegressor`, scikit-learn's ``HistGradientBoostingRegressor`` (one per output
        for several outputs) and ``RandomForestRegressor(n_estimators=500)``. A list may mix
        these names and unfitted estimators; a dict names its estimators (not
        ``"ensemble"``, a name kept for the classifiers' pooled candidate). A given estimator
        is cloned, and a ``seed`` / ``random_state`` it leaves None is drawn from ``seed``.
        Our own estimators' options are checked before any fit; a candidate whose fit fails
        is left out, with a warning.
    cv : int, default=5
        Folds (at most one per point; at least 2).
    seed : int, numpy.random.Generator or None
        Seeds the folds and the candidates (the unseeded ones given too).
    device : str, default="cpu"

    Attributes
    ----------
    chosen_ : str
    scores_ : DataFrame
        One row per candidate: ``q2`` (held-out Q², the criterion), ``fidelity`` (the same
        figure, under the name the classifier's held-out agreement has), ``rmse``, ``fit_s``
        (and ``error`` for a candidate that failed).
    best_estimator_ : estimator
    n_outputs_ : int
    categories_, feature_names_in_, n_features_in_, data_min_, data_max_, n_samples_fit_

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((60, 2))
    >>> auto = AutoRegressor(candidates=["gp", "rf"], cv=3, seed=0).fit(X, X.sum(axis=1))
    >>> auto.chosen_
    'gp'
    """

    _kind = "regressor"

    @limits_threads()
    def fit(self, X: Any, y: Any) -> AutoRegressor:
        """Compare the candidates on ``X`` (n, d) and ``y`` (n,) or (n, m); return self."""
        self._fit_chosen(X, y, multi_output=True)
        return self

    def _target(self, y: np.ndarray) -> np.ndarray:
        self._y_1d = y.ndim == 1
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        # one output is one column for every candidate (scikit-learn's warn of (n, 1)); the
        # predictions take y's shape back (_shaped)
        return y.ravel() if self.n_outputs_ == 1 else y

    def _shaped(self, values: Any) -> np.ndarray:
        """Predictions (n,) or (n, m) in the shape of the fitted y: (n, 1) from (n, 1), whichever
        candidate was chosen (a tree gave (n,), a GP (n, 1))."""
        array = np.asarray(values)
        return array.reshape(len(array)) if self._y_1d else array.reshape(len(array), -1)

    def _defaults(self, seed: int) -> dict[str, Any]:
        table = _regressors(seed, self.device)
        if self.n_outputs_ > 1:
            from sklearn.multioutput import MultiOutputRegressor

            table["hgb"] = MultiOutputRegressor(table["hgb"])  # one model per output
        return table

    def _folds(self, target: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        splits = min(int(self.cv), len(target))
        if len(target) - math.ceil(len(target) / splits) < 2:  # as cross_validate refuses
            n = len(target)
            raise ValueError(f"AutoRegressor's cv={self.cv} folds of {n} points leave fewer "
                             "than 2 to fit a candidate on in a fold: " + (
                                 f"use cv={n}" if n >= 3 else "give at least 3 points"))
        splitter = KFold(splits, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros((len(target), 1))))

    def _predict_one(self, fitted: Any, inputs: Any) -> np.ndarray:
        return np.asarray(fitted.predict(inputs), dtype=float)

    def _scores(self, results: dict[str, dict[str, Any]], target: np.ndarray) -> pd.DataFrame:
        rows = {}
        t = target.reshape(len(target), -1)
        for name, result in results.items():
            if "error" in result:
                rows[name] = {"error": result["error"]}
                continue
            p = result["prediction"].reshape(t.shape)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # a constant output: NaN
                q2 = _q2(t, p, stacklevel=2)
                rows[name] = {"q2": q2, "fidelity": q2, "rmse": rmse(t, p),
                              "fit_s": result["fit_s"]}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "candidate"
        return frame

    def _best(self, scores: pd.DataFrame) -> Any:
        if scores["q2"].notna().any():
            return scores["q2"].idxmax()
        return scores["rmse"].idxmin()  # every output constant: Q² is undefined

    @limits_threads(fitted_size)
    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predictions of the chosen student (and its standard deviation, when it has one)."""
        check_flag("return_std", return_std)
        inputs = self._model_inputs(X)
        best, predict = self.best_estimator_, self.best_estimator_.predict
        if not return_std:
            return self._shaped(predict(inputs))
        if not isinstance(best, SurrogateMixin):
            raise ValueError(
                f"return_std=True: the chosen candidate {self.chosen_!r} "
                f"({type(best).__name__}) gives no standard deviation; use "
                "candidates=['gp', 'nn'] for a student that does")
        mean, std = predict(inputs, return_std=True)
        return self._shaped(mean), self._shaped(std)

    def _state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        meta, tensors = super()._state()
        meta.update(n_outputs_=int(self.n_outputs_), y_1d=bool(self._y_1d))
        return meta, tensors

    def _load_extra_state(self, meta: dict[str, Any]) -> None:
        self.n_outputs_ = int(meta["n_outputs_"])
        self._y_1d = bool(meta["y_1d"])
