"""The student chosen by cross-validation: our GP and NN against scikit-learn's trees.

Stage "models" of the pipeline. :class:`AutoClassifier` and :class:`AutoRegressor` fit every
candidate on the same folds, score the out-of-fold predictions (log loss for classifiers, Q²
for regressors), keep the best and refit it on all points. ``scores_`` is the comparison, with
each candidate's fidelity (held-out agreement with the teacher). Our models take the inputs as
they come (categories included); scikit-learn's get the numeric columns and the categories
one-hot encoded.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from surrogate._random import child_seed, seeded_clone, spawned
from surrogate._threads import fitted_size, limits_threads
from surrogate.models._base import (
    BinaryClassifierMixin,
    SurrogateMixin,
    check_positive_int,
)
from surrogate.models._inputs import one_hot
from surrogate.models._nn import _binary_labels
from surrogate.models._pool import Ensemble, pool_weights
from surrogate.space import python_scalar

__all__ = ["AutoClassifier"]

NAMES = ("gp", "nn", "hgb", "rf")  # the default candidates, in order of preference on ties
ENSEMBLE = "ensemble"  # the classifiers' pooled candidate


def _classifiers(seed: int, device: str) -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    from surrogate.models._gpc import GPClassifier
    from surrogate.models._nn import NNClassifier

    return {"gp": GPClassifier(seed=seed, device=device),
            "nn": NNClassifier(seed=seed, device=device),
            "hgb": HistGradientBoostingClassifier(random_state=seed),
            "rf": RandomForestClassifier(n_estimators=500, random_state=seed)}


class _AutoBase(SurrogateMixin, BaseEstimator):
    """Candidates, folds and the comparison shared by the two automatic students."""

    _kind = ""  # "classifier" or "regressor"
    best_estimator_: Any  # a fitted candidate, or an Ensemble of them

    def __init__(self, *, candidates: Any = None, cv: int = 5, seed: Any = None,
                 device: str = "cpu") -> None:
        self.candidates = candidates
        self.cv = cv
        self.seed = seed
        self.device = device

    # -- candidates -------------------------------------------------------------------------
    def _defaults(self, seed: int) -> dict[str, Any]:
        raise NotImplementedError

    def _candidate_table(self, rng: np.random.Generator | None = None,
                         seed: int | None = None) -> dict[str, Any]:
        """``{name: unfitted estimator}`` from ``candidates`` (names of the defaults and/or
        estimators, or a dict name -> estimator), each default seeded from ``seed``, and each
        given estimator cloned, its unset ``seed`` / ``random_state`` drawn from ``seed`` too.
        ``rng`` and ``seed`` (its first draw) are the fit's (:meth:`_fit_chosen`); None: from
        a fresh generator."""
        rng = self._rng() if rng is None else rng
        seed = child_seed(rng) if seed is None else seed
        defaults = self._defaults(seed)
        given_seeds = spawned(rng)  # beside the defaults' seed: theirs stay what they were
        given = NAMES if self.candidates is None else self.candidates
        if isinstance(given, str) or not isinstance(given, dict | list | tuple) or not given:
            raise ValueError(
                f"candidates must be None, a non-empty list of names among {list(NAMES)} and/or "
                f"estimators, or a dict name -> estimator; got {given!r}")
        if not [c for c in (given.values() if isinstance(given, dict) else given)
                if not (isinstance(c, str) and c == ENSEMBLE)]:
            raise ValueError(f"candidates {given!r} name no model to compare")
        items = given.items() if isinstance(given, dict) else [(None, c) for c in given]
        table: dict[str, Any] = {}
        for name, candidate in items:
            if candidate == ENSEMBLE and self._kind == "classifier":
                continue  # pooled from the others' out-of-fold predictions, see _ensemble
            named = isinstance(candidate, str)
            if named:
                if candidate not in defaults:
                    raise ValueError(f"unknown candidate {candidate!r}; the named candidates are "
                                     f"{list(NAMES)}")
                name, candidate = name or candidate, defaults[candidate]
            method = "predict_proba" if self._kind == "classifier" else "predict"
            if not (hasattr(candidate, "fit") and hasattr(candidate, method)):
                raise TypeError(f"candidate {candidate!r} is not an estimator with fit and "
                                f"{method}")
            if not named:
                candidate = seeded_clone(candidate, given_seeds)  # same seed, same choice
            if isinstance(candidate, SurrogateMixin):  # its options are the user's to mend,
                clone(candidate)._check_params()  # not a failure to leave out with a warning
            name = str(name or type(candidate).__name__)
            if name == ENSEMBLE:  # taken for the pooled candidate when it won, then refitted
                raise ValueError(f"candidate name {ENSEMBLE!r} is kept for the pooled "
                                 f"candidate; give {type(candidate).__name__} another name")
            while name in table:  # two unnamed estimators of one class
                name += "'"
            table[name] = candidate
        return table

    def _check_params(self) -> None:
        self._check_common()
        check_positive_int("cv", self.cv, 2)

    # -- inputs: ours take categories, scikit-learn's one-hot codes -------------------------
    def _inputs_for(self, candidate: Any, X_codes: np.ndarray) -> Any:
        if isinstance(candidate, SurrogateMixin):
            return self._frame(X_codes)
        return one_hot(X_codes, self._column_levels())

    def _frame(self, X_codes: np.ndarray) -> pd.DataFrame:
        """The inputs as a DataFrame whose categorical columns declare every level seen at fit
        (so that a fold missing a level still knows it)."""
        names = getattr(self, "feature_names_in_", None)
        names = list(names) if names is not None else [f"x{j}" for j in range(X_codes.shape[1])]
        frame = pd.DataFrame(X_codes, columns=names)
        encoding = self._input_encoding
        for position, levels in zip(encoding.positions, encoding.levels, strict=True):
            frame[names[position]] = pd.Categorical.from_codes(
                np.rint(X_codes[:, position]).astype(np.int64), categories=pd.Index(levels))
        return frame

    # -- the comparison ----------------------------------------------------------------------
    def _compare(self, table: dict[str, Any], X_codes: np.ndarray, target: np.ndarray,
                 folds: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, Any]]:
        """Out-of-fold predictions and mean fit seconds of each candidate (or its error)."""
        results: dict[str, dict[str, Any]] = {}
        for name, candidate in table.items():
            inputs = self._inputs_for(candidate, X_codes)
            try:
                results[name] = self._out_of_fold(candidate, inputs, target, folds)
            except Exception as err:  # a failing candidate is a result, not a crash
                results[name] = {"error": f"{type(err).__name__}: {err}"}
                warnings.warn(f"{type(self).__name__}: candidate {name!r} failed in "
                              f"cross-validation and is left out ({results[name]['error']})",
                              UserWarning, stacklevel=4)
        if all("error" in r for r in results.values()):
            raise ValueError(f"{type(self).__name__}: every candidate failed: "
                             + "; ".join(f"{k}: {v['error']}" for k, v in results.items()))
        return results

    def _out_of_fold(self, candidate: Any, inputs: Any, target: np.ndarray,
                     folds: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
        predictions = np.zeros(target.shape, dtype=float)
        seconds = []
        for train, test in folds:
            start = time.perf_counter()
            fitted = clone(candidate).fit(_rows(inputs, train), target[train])
            seconds.append(time.perf_counter() - start)
            predictions[test] = self._predict_one(fitted, _rows(inputs, test)).reshape(
                predictions[test].shape)  # (k,) from a model given y of shape (n, 1)
        return {"prediction": predictions, "fit_s": float(np.mean(seconds))}

    def _predict_one(self, fitted: Any, inputs: Any) -> np.ndarray:
        raise NotImplementedError

    def _fit_chosen(self, X: Any, y: Any, *, multi_output: bool) -> np.ndarray:
        """Validate, compare, choose and refit; return the (encoded) target."""
        self._check_params()
        X_codes, y_arr = self._validate_fit(X, y, multi_output=multi_output)
        target = self._target(y_arr)
        # ``seed`` normalized once per fit, so that seed=0 and seed=default_rng(0) fit alike:
        # the folds take the defaults' seed (the first draw), as they always did for an int
        rng = self._rng()
        seed = child_seed(rng)
        table = self._candidate_table(rng, seed)
        folds = self._folds(target, seed)
        results = self._compare(table, X_codes, target, folds)
        results.update(self._pooled(results, target, folds))
        self.scores_ = self._scores(results, target)
        while True:  # the best candidate that also fits all the rows
            ok = self.scores_[self.scores_["error"].isna()] if "error" in self.scores_ else \
                self.scores_
            if ok.empty:
                raise ValueError(f"{type(self).__name__}: every candidate failed: " + "; ".join(
                    f"{k}: {v}" for k, v in self.scores_["error"].items()))
            self.chosen_ = str(self._best(ok))
            try:
                self.best_estimator_ = self._refit(table, results, X_codes, target)
                return target
            except Exception as err:  # as in cross-validation: left out, with a warning
                error = f"{type(err).__name__}: {err}"
                warnings.warn(f"{type(self).__name__}: candidate {self.chosen_!r} failed when "
                              f"refitted on all rows and is left out ({error})", UserWarning,
                              stacklevel=3)
                if "error" not in self.scores_:
                    self.scores_["error"] = None
                self.scores_.loc[self.chosen_, "error"] = error

    def _refit(self, table: dict[str, Any], results: dict[str, dict[str, Any]],
               X_codes: np.ndarray, target: np.ndarray) -> Any:
        """The chosen candidate (or the ensemble's members) fitted on every row."""
        if self.chosen_ == ENSEMBLE:
            weights = results[ENSEMBLE]["weights"]
            return Ensemble(
                {name: clone(table[name]).fit(self._inputs_for(table[name], X_codes), target)
                 for name in weights}, weights)
        best = table[self.chosen_]
        return clone(best).fit(self._inputs_for(best, X_codes), target)

    def _pooled(self, results: dict[str, dict[str, Any]], target: np.ndarray,
                folds: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, Any]]:
        """Further candidates made of the others' out-of-fold predictions (none here)."""
        return {}

    def _target(self, y: np.ndarray) -> np.ndarray:
        return y

    def _folds(self, target: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError

    def _scores(self, results: dict[str, dict[str, Any]], target: np.ndarray) -> pd.DataFrame:
        raise NotImplementedError

    def _best(self, scores: pd.DataFrame) -> Any:
        raise NotImplementedError

    def _model_inputs(self, X: Any) -> Any:
        check_is_fitted(self)
        return self._inputs_for(self.best_estimator_, self._validate_predict(X))

    # -- persistence -------------------------------------------------------------------------
    def _fitted_members(self) -> dict[str, Any]:
        """Name -> fitted model behind the predictions (the ensemble's members, or one)."""
        best = self.best_estimator_
        return dict(best.estimators_) if isinstance(best, Ensemble) else {self.chosen_: best}

    def save(self, path: Any) -> None:
        """Write the fitted student to the directory ``path`` when the chosen candidate is made
        of surrogate's models (JSON metadata + torch tensors; read with
        :func:`surrogate.models.load`).

        Raises
        ------
        TypeError
            When the chosen candidate is, or pools, another library's estimator (e.g.
            scikit-learn's gradient boosting), or ``candidates`` holds one (the candidates are
            saved, names as names and surrogate's models by class and options, so that a
            refit of the loaded student compares the same ones): nothing is pickled, so it
            cannot be saved. Nothing is written. (A REDS whose metamodel this is saves without
            it, with a warning.)
        """
        check_is_fitted(self)
        foreign = [f"{name!r} ({type(model).__name__})"
                   for name, model in self._fitted_members().items()
                   if not isinstance(model, SurrogateMixin)]
        if foreign:
            raise TypeError(
                f"{type(self).__name__}.save: the chosen candidate {self.chosen_!r} holds "
                f"{', '.join(foreign)}, not one of surrogate's models, which cannot be saved "
                "without pickling (surrogate never pickles). Refit with candidates=['gp', 'nn'] "
                "to get a saveable student")
        super().save(path)

    def _state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        from surrogate.models._io import model_meta

        weights = getattr(self.best_estimator_, "weights_", {})
        models, tensors = [], {}
        for i, (name, model) in enumerate(self._fitted_members().items()):
            extra, state = model._state()
            models.append({"name": name, "weight": weights.get(name),
                           "meta": {**model_meta(model), "state": extra}})
            tensors.update({f"model{i}.{k}": v for k, v in state.items()})
        scores = self.scores_.astype(object).where(self.scores_.notna(), None)
        meta = {"chosen_": self.chosen_, "models": models,
                "scores": {"index": [str(i) for i in scores.index],
                           "columns": list(scores.columns),
                           "data": [[python_scalar(v) for v in row] for row in scores.to_numpy()]}}
        return meta, tensors

    def _from_state(self, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        from surrogate.models._io import new_model, restore

        self.chosen_ = meta["chosen_"]
        scores = meta["scores"]
        self.scores_ = pd.DataFrame(scores["data"], index=pd.Index(scores["index"],
                                                                   name="candidate"),
                                    columns=scores["columns"]).astype(
            {c: float for c in scores["columns"] if c != "error"})
        members, weights = {}, {}
        for i, saved in enumerate(meta["models"]):
            model = new_model(saved["meta"], self.device)
            prefix = f"model{i}."
            restore(model, saved["meta"], {k[len(prefix):]: v for k, v in tensors.items()
                                           if k.startswith(prefix)})
            members[saved["name"]] = model
            weights[saved["name"]] = saved["weight"]
        self.best_estimator_ = Ensemble(members, weights) if self.chosen_ == ENSEMBLE else \
            members[self.chosen_]
        self._load_extra_state(meta)

    def _load_extra_state(self, meta: dict[str, Any]) -> None:
        pass


def _rows(inputs: Any, index: np.ndarray) -> Any:
    return inputs.iloc[index] if isinstance(inputs, pd.DataFrame) else inputs[index]


class AutoClassifier(BinaryClassifierMixin, ClassifierMixin, _AutoBase):
    """Binary classifier that picks its student by cross-validated log loss.

    Every candidate is fitted on the same ``cv`` stratified folds; the one whose out-of-fold
    probabilities have the lowest log loss is refitted on all points and used
    (``best_estimator_``). Categorical inputs are accepted: our models encode them
    themselves, scikit-learn's get them one-hot encoded.

    Parameters
    ----------
    candidates : list, dict or None, default=None
        ``None``: ``["gp", "nn", "hgb", "rf", "ensemble"]``, i.e. :class:`GPClassifier`,
        :class:`NNClassifier`, scikit-learn's ``HistGradientBoostingClassifier`` and
        ``RandomForestClassifier(n_estimators=500)``, each seeded from ``seed``, and
        ``"ensemble"``: their probabilities pooled with weights fitted to the out-of-fold
        predictions (see :class:`Ensemble`; scored by cross-validation like the others). A
        list may mix these names and unfitted estimators with ``fit`` and ``predict_proba``; a
        dict names its estimators (and may hold the value ``"ensemble"``; that name is kept
        for the pooled candidate, not an estimator's); a given estimator is
        cloned and a ``seed`` / ``random_state`` it leaves None is drawn from ``seed``. Our own
        estimators' options are checked before any fit (an invalid one is an error); a
        candidate whose fit fails is left out of the choice, with a warning.
    cv : int, default=5
        Folds (fewer when the rarer class has fewer points; at least 2).
    seed : int, numpy.random.Generator or None
        Seeds the folds and the candidates (the unseeded ones given too): the same seed gives
        the same choice.
    device : str, default="cpu"
        Passed to our default candidates.

    Attributes
    ----------
    chosen_ : str
        The name of the chosen candidate.
    scores_ : DataFrame
        One row per candidate (index ``candidate``): ``log_loss`` (the criterion),
        ``fidelity`` (share of held-out labels predicted right: the held-out agreement with
        the teacher), ``brier`` and ``fit_s`` (mean seconds per fold fit); ``error`` for a
        candidate that failed (left out of the choice, with a warning).
    best_estimator_ : estimator or Ensemble
        The chosen candidate fitted on all points (for ``"ensemble"``: its members, each
        fitted on all points, and their weights).
    classes_ : ndarray of shape (2,)
    categories_, feature_names_in_, n_features_in_, data_min_, data_max_, n_samples_fit_
        As for the other students.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((120, 2))
    >>> y = X[:, 0] + X[:, 1] > 1
    >>> auto = AutoClassifier(candidates=["hgb", "rf"], cv=3, seed=0).fit(X, y)
    >>> auto.chosen_ in ("hgb", "rf"), list(auto.scores_.columns)
    (True, ['log_loss', 'fidelity', 'brier', 'fit_s'])
    """

    _kind = "classifier"

    def _defaults(self, seed: int) -> dict[str, Any]:
        return _classifiers(seed, self.device)

    @limits_threads()
    def fit(self, X: Any, y: Any) -> AutoClassifier:
        """Compare the candidates on ``X`` (n, d) and binary labels ``y`` (n,); return self."""
        self._fit_chosen(X, y, multi_output=False)
        return self

    def _target(self, y: np.ndarray) -> np.ndarray:
        self.classes_, labels = _binary_labels(y)
        return labels

    def _folds(self, target: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        smallest = int(np.bincount(target, minlength=2).min())
        if smallest < 2:
            raise ValueError("AutoClassifier needs at least 2 points of each class for "
                             f"cross-validation; the rarer class has {smallest}")
        splitter = StratifiedKFold(min(int(self.cv), smallest), shuffle=True,
                                   random_state=seed)
        return list(splitter.split(np.zeros((len(target), 1)), target))

    def _predict_one(self, fitted: Any, inputs: Any) -> np.ndarray:
        proba = np.asarray(fitted.predict_proba(inputs), dtype=float)
        return proba[:, list(fitted.classes_).index(1)]

    def _pooled(self, results: dict[str, dict[str, Any]], target: np.ndarray,
                folds: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, Any]]:
        """The "ensemble" candidate: the others' out-of-fold probabilities pooled (see
        :class:`Ensemble`); its own score is cross-validated over the same folds (weights fit
        on the other folds' predictions), so it competes on equal terms."""
        given = NAMES + (ENSEMBLE,) if self.candidates is None else self.candidates
        values = given.values() if isinstance(given, dict) else given
        ok = [name for name, result in results.items() if "error" not in result]
        if not any(isinstance(v, str) and v == ENSEMBLE for v in values) or len(ok) < 2:
            return {}
        P = np.column_stack([results[name]["prediction"] for name in ok])
        pooled = np.zeros(len(target))
        for train, test in folds:
            pooled[test] = P[test] @ pool_weights(P[train], target[train])
        weights = pool_weights(P, target)
        members = {name: float(w) for name, w in zip(ok, weights, strict=True) if w > 0}
        return {ENSEMBLE: {"prediction": pooled, "weights": members,
                           "fit_s": float(sum(results[name]["fit_s"] for name in members))}}

    def _scores(self, results: dict[str, dict[str, Any]], target: np.ndarray) -> pd.DataFrame:
        rows = {}
        for name, result in results.items():
            if "error" in result:
                rows[name] = {"error": result["error"]}
                continue
            p = np.clip(result["prediction"], 1e-15, 1 - 1e-15)
            rows[name] = {
                "log_loss": float(-np.mean(target * np.log(p) + (1 - target) * np.log1p(-p))),
                "fidelity": float(np.mean((p > 0.5) == target)),
                "brier": float(np.mean((p - target) ** 2)),
                "fit_s": result["fit_s"]}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "candidate"
        return frame

    def _best(self, scores: pd.DataFrame) -> Any:
        return scores["log_loss"].idxmin()

    @limits_threads(fitted_size)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n, 2) of the chosen student, columns in ``classes_`` order."""
        check_is_fitted(self)
        X_codes = self._validate_predict(X)
        fitted = self.best_estimator_
        if isinstance(fitted, Ensemble):
            p = sum(weight * self._predict_one(fitted.estimators_[name],
                                               self._inputs_for(fitted.estimators_[name], X_codes))
                    for name, weight in fitted.weights_.items())
        else:
            p = self._predict_one(fitted, self._inputs_for(fitted, X_codes))
        p = np.asarray(p, dtype=float)
        return np.column_stack([1.0 - p, p])

    def _state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        meta, tensors = super()._state()
        meta.update(self._classes_state())
        return meta, tensors
