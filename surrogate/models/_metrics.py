"""Fidelity of a student: accuracy metrics and k-fold cross-validation.

Regression: Q² (= R², mean over outputs), RMSE and the coverage of 95% predictive intervals;
classification: accuracy, log-loss and Brier score of the probability of the positive class.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from surrogate._checks import is_int, warn_if_misaligned
from surrogate._fields import flat_points
from surrogate._random import as_generator, child_seed, seeded_clone
from surrogate.models._base import SurrogateMixin, check_input_columns, missing_x, missing_y
from surrogate.models._inputs import numbers_as_objects_once, with_known_levels
from surrogate.space import python_scalar

__all__ = ["q2", "rmse", "coverage95", "accuracy", "log_loss", "brier", "cross_validate",
           "CVResult"]


class CVResult(dict):
    """The scores of :func:`cross_validate`: a plain ``dict`` whose repr shows the metrics and
    only the shapes of the out-of-fold arrays (which would flood a ``print``).

    Examples
    --------
    >>> import numpy as np
    >>> CVResult(q2=0.5, y_pred=np.zeros(3))
    {'q2': 0.5, 'y_pred': <array of shape (3,)>}
    """

    def __repr__(self) -> str:
        parts = [f"{key!r}: <array of shape {value.shape}>" if isinstance(value, np.ndarray)
                 else f"{key!r}: {value!r}" for key, value in self.items()]
        return "{" + ", ".join(parts) + "}"


def _pair(y_true: Any, y_pred: Any, second: str = "y_pred") -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, values in (("y_true", y_true), (second, y_pred)):
        if values is None:
            raise TypeError(f"{name} must be an array of numbers, got None")
        array = np.asarray(values, dtype=float)
        if array.ndim == 0 or len(array) == 0:
            raise ValueError(f"{name} must hold one value (or row) per run, got "
                             f"{'a single number' if array.ndim == 0 else 'none'}")
        arrays.append(array.reshape(len(array), -1))
    t, p = arrays
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and {second} {p.shape} must have the same shape")
    return t, p


def q2(y_true: Any, y_pred: Any) -> float:
    """Q² = 1 - SSE / SST on held-out data (R²), averaged over outputs.

    Q² is undefined for an output whose true values are all equal (SST = 0): such outputs are
    left out of the mean with a ``UserWarning``, and Q² is NaN when every output is constant
    (judge those by :func:`rmse`).

    Examples
    --------
    >>> q2([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    1.0
    """
    t, p = _pair(y_true, y_pred)
    return _q2(t, p, stacklevel=3)


def _q2(t: np.ndarray, p: np.ndarray, *, stacklevel: int) -> float:
    """Q² of (n, m) arrays; warns (at ``stacklevel``) about outputs where it is undefined."""
    # a constant column: its sum of squares is rounding noise, not 0, so compare the values
    constant = np.ptp(t, axis=0) == 0 if len(t) else np.ones(t.shape[1], dtype=bool)
    if constant.all():
        warnings.warn(
            "Q² is undefined: every y_true value is the same (no variance to explain), so Q² "
            "is NaN; judge the predictions by rmse", UserWarning, stacklevel=stacklevel)
        return float("nan")
    if constant.any():
        warnings.warn(
            f"Q² is undefined for output(s) {np.flatnonzero(constant).tolist()} (all y_true "
            "values the same, no variance to explain); averaged over the other outputs only",
            UserWarning, stacklevel=stacklevel)
    t, p = t[:, ~constant], p[:, ~constant]
    # in units of each output's largest |value|: squares of values near 1e+-170 overflow or
    # underflow, which the fit itself survives (column_std); the ratio is unchanged
    unit = np.abs(t).max(axis=0)
    t, p = t / unit, p / unit
    sst = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    sse = ((t - p) ** 2).sum(axis=0)
    return float((1.0 - sse / sst).mean())


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root-mean-square error, averaged over outputs.

    Examples
    --------
    >>> rmse([0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0])
    1.0
    """
    t, p = _pair(y_true, y_pred)
    unit = np.abs(np.concatenate([t, p])).max(axis=0)  # no overflow in the squares (_q2)
    unit = np.where((unit > 0) & np.isfinite(unit), unit, 1.0)
    return float((unit * np.sqrt((((t - p) / unit) ** 2).mean(axis=0))).mean())


def coverage95(y_true: Any, y_pred: Any, y_std: Any) -> float:
    """Share of true values inside the central 95% interval ``y_pred +- 1.96 y_std`` (NaN
    where a standard deviation is unknown, NaN: no interval, no coverage).

    Examples
    --------
    >>> coverage95([0.0, 3.0], [0.0, 0.0], [1.0, 1.0])
    0.5
    """
    t, p = _pair(y_true, y_pred)
    _, s = _pair(y_true, y_std, "y_std")
    if np.isnan(s).any():
        return float("nan")
    return float(np.mean(np.abs(t - p) <= 1.959964 * s))


def _label_column(values: Any, name: str) -> np.ndarray:
    """Labels as one column: (n,) or (n, 1) (a one-column frame), else refused by ``name``.
    An (n, 1) array beside (n,) predictions compared as an (n, n) table."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be one column of labels, shape (n,) or (n, 1), got "
                         f"shape {array.shape}")
    return array


def _proba(y_true: Any, proba: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _label_column(y_true, "y_true")
    p = np.asarray(proba, dtype=float)
    if p.ndim == 2:
        p = p[:, -1]
    if p.shape != t.shape:
        raise ValueError(f"y_true {t.shape} and the probabilities {p.shape} must have one "
                         f"value per row")
    # 0/1 as numbers of any kind (the bundled teachers' yes/no outputs are 0.0 and 1.0)
    if t.dtype.kind not in "biuf" or not np.isin(t, [0, 1]).all():
        found = pd.unique(t.astype(object))[:4].tolist()
        raise ValueError(f"y_true must be 0/1 labels (the positive class is 1), got values "
                         f"such as {found}")
    return t.astype(float), np.clip(p, 1e-15, 1 - 1e-15)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of correct labels.

    Examples
    --------
    >>> accuracy([0, 1, 1], [0, 1, 0])
    0.6666666666666666
    """
    t, p = _label_column(y_true, "y_true"), _label_column(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} must have the same shape")
    return float(np.mean(t == p))


def log_loss(y_true: Any, proba: Any) -> float:
    """Mean negative log-likelihood of 0/1 labels under P(y = 1) (or an (n, 2) array).

    Examples
    --------
    >>> round(log_loss([1, 0], [0.5, 0.5]), 4)
    0.6931
    """
    t, p = _proba(y_true, proba)
    return float(-np.mean(t * np.log(p) + (1 - t) * np.log1p(-p)))


def brier(y_true: Any, proba: Any) -> float:
    """Mean squared difference between 0/1 labels and P(y = 1).

    Examples
    --------
    >>> brier([1, 0], [0.5, 0.5])
    0.25
    """
    t, p = _proba(y_true, proba)
    return float(np.mean((t - p) ** 2))


def _splitter(cv: Any, classifier: bool, seed: Any, grouped: bool = False) -> Any:
    if hasattr(cv, "split") and not isinstance(cv, str):
        return cv
    if isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or cv < 2:
        raise ValueError(f"cv must be an int >= 2 or a scikit-learn splitter, got {cv!r}")
    if grouped:  # each group's rows tested together (StratifiedGroupKFold's strata are
        return GroupKFold(n_splits=int(cv))  # rough for few groups: plain group folds)
    state = child_seed(as_generator(seed))
    kind = StratifiedKFold if classifier else KFold
    return kind(n_splits=int(cv), shuffle=True, random_state=state)


def _take(data: Any, idx: np.ndarray) -> Any:
    return data.iloc[idx] if isinstance(data, pd.DataFrame | pd.Series) else np.asarray(data)[idx]


def cross_validate(model: Any, X: Any, y: Any, *, cv: Any = 5, seed: Any = None,
                   groups: Any = None) -> dict[str, Any]:
    """k-fold cross-validated fidelity of an (unfitted) surrogate.

    Each fold fits a clone of ``model`` on the other folds and predicts the held-out fold; the
    metrics are computed on all out-of-fold predictions together.

    Parameters
    ----------
    model : estimator
        A regressor or classifier (scikit-learn API), or a scikit-learn ``Pipeline`` ending in
        one; it is cloned, never modified.
    X : DataFrame or array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    cv : int or scikit-learn splitter, default=5
    seed : int, numpy.random.Generator or None
        Shuffles the folds, and seeds a model whose ``seed`` / ``random_state`` is unset (the
        same seed in every fold), so that the same seed gives the same scores.
    groups : array-like of shape (n_samples,), optional
        A group label per row (replicated runs of one point, runs of one scenario): a group's
        rows are tested together, never beside each other. With an int ``cv``, the folds are
        :class:`~sklearn.model_selection.GroupKFold`'s; a splitter gets the groups (e.g.
        ``LeaveOneGroupOut()``).

    Returns
    -------
    dict
        Regressors: ``q2`` (NaN, with a warning, for a constant ``y``), ``rmse``,
        ``coverage95`` (when ``predict`` has ``return_std``; for a ``Pipeline``, when its final
        step's ``predict`` has it: the other steps transform ``X`` and the final step gives the
        std), ``y_pred`` and ``y_std`` (out-of-fold). ``y_std`` is the std of a held-out
        value: for a model with a fitted noise (``noise_``, a GP), the function's std and the
        noise together, so that a noisy teacher's band is not judged as the function's. Classifiers: ``accuracy``,
        ``log_loss``, ``brier`` (on labels encoded 0/1 with ``classes_[1]`` positive),
        ``proba``. A :class:`CVResult`: a ``dict`` whose repr shows the arrays' shapes only.
        A field model (:class:`~surrogate.models.FieldGPRegressor`, ``y`` of shape
        (n_runs, n_times)): ``q2`` over the whole field (:func:`field_q2`), ``q2_time`` (Q² at
        each grid point, NaN where every run agrees), and ``coverage95`` of the pointwise 95 %
        band over every run and grid point.

    Raises
    ------
    ValueError
        If one of this package's models is given columns that are neither numbers nor
        categories (e.g. strings mixed with numbers), before any fold is fitted. Categorical
        columns are accepted; each fold's model knows all their levels in ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from surrogate.models import GPRegressor
    >>> X = np.linspace(0, 1, 20)[:, None]
    >>> scores = cross_validate(GPRegressor(seed=0), X, np.sin(4 * X[:, 0]), cv=4, seed=0)
    >>> bool(scores["q2"] > 0.99), scores["y_pred"].shape
    (True, (20,))
    """
    if isinstance(model, type) or not (hasattr(model, "fit") and hasattr(model, "get_params")):
        raise TypeError(f"model must be an unfitted scikit-learn estimator instance (fit, "
                        f"get_params), e.g. GPRegressor(seed=0); got {model!r}")
    classifier = is_classifier(model)
    y_arr = np.asarray(y)
    n = len(y_arr)
    warn_if_misaligned(X, y)
    if isinstance(X, pd.DataFrame) and isinstance(y, pd.Series | pd.DataFrame) \
            and len(X) == n:
        y = y.set_axis(X.index)  # read by position (warned above), once, not in every fold
    if len(X) != n:
        raise ValueError(f"X has {len(X)} rows but y has {n}")
    if is_int(cv) and int(cv) > n:
        raise ValueError(f"cv={cv} folds need at least as many rows; X has {n}")
    if is_int(cv) and int(cv) >= 2 \
            and n - math.ceil(n / int(cv)) < 2:
        raise ValueError(f"cv={cv} on {n} rows leaves fewer than 2 rows to fit on in a fold: "
                         "give more rows or fewer folds")
    missing_y(y_arr)  # rows named in the whole of y and X, not in a fold's part
    if isinstance(model, SurrogateMixin):  # (a pipeline may impute missing inputs)
        missing_x(X)
        check_input_columns(X, type(model).__name__)
        # every fold's model knows every category of X, also one its training rows lack
        X = with_known_levels(X, type(model).__name__)
    # ``seed`` normalized once, so that seed=0 and seed=default_rng(0) give the same scores;
    # the model's seeds start from the folds' draw, as they always did for an int seed
    rng = as_generator(seed)
    model_rng = copy.deepcopy(rng)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(f"groups must hold one label per row of X ({n}), got shape "
                             f"{groups.shape}")
        n_groups = len(np.unique(groups))
        if is_int(cv) and n_groups < int(cv):
            raise ValueError(f"cv={cv} folds need at least as many groups; groups has "
                             f"{n_groups}")
    if classifier:  # before the folds are drawn (scikit-learn's words otherwise)
        _check_class_counts(y_arr, cv if groups is None else None)
    folds = _partition(_splitter(cv, classifier, rng, groups is not None), cv, y_arr, groups)
    if seed is not None:  # a model without a seed of its own: one from ``seed``, in every fold
        model = seeded_clone(model, model_rng)
    with numbers_as_objects_once():  # once, not in each fold
        if classifier:
            return _cv_classifier(model, X, y, folds)
        return _cv_regressor(model, X, y, y_arr, folds)


def _cv_regressor(model: Any, X: Any, y: Any, y_arr: np.ndarray,
                  folds: list[tuple[np.ndarray, np.ndarray]]) -> Any:
    has_std = _has_std(model)
    pred = np.zeros(y_arr.shape, dtype=float)
    std = np.zeros(y_arr.shape, dtype=float)
    for train, test in folds:
        fitted = clone(model).fit(_take(X, train), _take(y, train))
        if has_std and not _gives_std(fitted):
            has_std = False
            warnings.warn(f"cross_validate: no coverage95: in a fold the automatic student "
                          f"chose {fitted.chosen_!r}, which gives no standard deviation",
                          UserWarning, stacklevel=3)
        if has_std:
            pred[test], std[test] = _predict_std(fitted, _take(X, test))
        else:
            pred[test] = fitted.predict(_take(X, test))
    t, p = _pair(y_arr, pred)
    if getattr(model, "_field_model", False):  # one field: Q² over it, and at each grid point
        out = CVResult(q2=_field_q2(t, p), q2_time=_q2_each(t, p), rmse=rmse(y_arr, pred))
    else:
        out = CVResult(q2=_q2(t, p, stacklevel=4), rmse=rmse(y_arr, pred))
    if has_std:
        out["coverage95"] = coverage95(y_arr, pred, std)
    out["y_pred"] = pred
    if has_std:
        out["y_std"] = std
    return out


def _partition(splitter: Any, cv: Any, y: np.ndarray, groups: np.ndarray | None = None
               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds of ``splitter``, refusing one that does not test every row exactly once
    (``TimeSeriesSplit``, ``ShuffleSplit``): a row never tested kept a prediction of 0, and
    was scored as one."""
    n = len(y)
    try:
        folds = list(splitter.split(np.zeros((n, 1)), y, groups))
    except ValueError as exc:
        if groups is None and "groups" in str(exc):  # GroupKFold and the like
            raise ValueError(f"cv={cv!r} splits by groups: pass groups=, one label per "
                             "row") from None
        raise
    tested = np.bincount(np.concatenate([test for _, test in folds]).astype(np.int64),
                         minlength=n) if folds else np.zeros(n, dtype=np.int64)
    if not (tested == 1).all():
        never, twice = int((tested == 0).sum()), int((tested > 1).sum())
        raise ValueError(f"cv={cv!r} does not test every row exactly once ({never} row(s) "
                         f"never, {twice} more than once): cross_validate needs a partition "
                         "of the rows, e.g. an int, KFold or StratifiedKFold")
    return folds


def _check_class_counts(y: np.ndarray, cv: Any) -> None:
    """Each fold's training part must hold every class: refuse a class of a single row (the
    fold that tests it would train on the other class alone), naming it. Stratified folds
    spread a class of 2 or more rows so that every training part keeps one."""
    classes, counts = np.unique(y.ravel(), return_counts=True)
    if len(classes) < 2:
        return  # the classifier's own fit says what is wrong with one class
    rarest = int(np.argmin(counts))
    if counts[rarest] < 2:
        label = python_scalar(classes[rarest])
        raise ValueError(f"class {label!r} has a single row: the fold that holds it out would "
                         "train on the other class alone; cross-validation needs at least 2 "
                         "rows of each class")
    if is_int(cv) and int(cv) > counts.max():  # (scikit-learn's words otherwise)
        raise ValueError(f"cv={int(cv)} stratified folds need at least {int(cv)} rows of a "
                         f"class; the largest class has {int(counts.max())}: lower cv")


def _field_q2(t: np.ndarray, p: np.ndarray) -> float:
    from surrogate.models._field_basis import field_q2

    return field_q2(t, p)


def _q2_each(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Q² per column (grid point); NaN where the field is flat (:func:`flat_points`: the
    runs' spread is rounding, and a ratio of roundoffs is no measure of the model)."""
    sst = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    sse = ((t - p) ** 2).sum(axis=0)
    flat = flat_points(np.ptp(t, axis=0), float(np.abs(t).max()) if t.size else 0.0)
    return np.where(flat, np.nan, 1.0 - sse / np.where(flat, 1.0, sst))


def _has_std(model: Any) -> bool:
    """Whether ``model`` (or the final step of a Pipeline) predicts with ``return_std``."""
    while isinstance(model, Pipeline):
        model = model.steps[-1][1]
    predict = getattr(model, "predict", None)
    return predict is not None and "return_std" in inspect.signature(predict).parameters


def _gives_std(fitted: Any) -> bool:
    """Whether a fitted model predicts a std: an automatic student only when it chose one of
    ours (its ``predict`` takes ``return_std`` whatever it chose)."""
    while isinstance(fitted, Pipeline):
        fitted = fitted.steps[-1][1]
    best = getattr(fitted, "best_estimator_", None)
    return best is None or not hasattr(fitted, "chosen_") or isinstance(best, SurrogateMixin)


def _predict_std(fitted: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of a fitted model; a Pipeline's leading steps transform ``X`` first.

    ``Pipeline.predict(X, return_std=True)`` forwards the flag only while scikit-learn's
    metadata routing is off, so the final step is asked directly.
    """
    if isinstance(fitted, Pipeline):
        Xt = fitted[:-1].transform(X) if len(fitted) > 1 else X
        return _predict_std(fitted.steps[-1][1], Xt)
    mean, std = fitted.predict(X, return_std=True)
    # a GP's fitted noise variance per output (also the GP an automatic student chose)
    noise = getattr(getattr(fitted, "best_estimator_", fitted), "noise_", None)
    if noise is not None:  # a held-out value is the function plus that noise
        std = np.asarray(std, dtype=float)
        noise = np.asarray(noise, dtype=float).reshape(-1)
        std = np.sqrt(std**2 + (noise[0] if std.ndim == 1 else noise[None, :]))
    return mean, std


def _cv_classifier(model: Any, X: Any, y: Any, folds: list[tuple[np.ndarray, np.ndarray]]
                   ) -> dict[str, Any]:
    y_arr = _label_column(y, "y")
    y = y if isinstance(y, pd.Series) else y_arr  # a one-column frame or array: the labels
    classes = np.unique(y_arr)
    n = len(y_arr)
    proba = np.zeros(n)
    labels = np.empty(n, dtype=y_arr.dtype)
    for train, test in folds:
        fitted = clone(model).fit(_take(X, train), _take(y, train))
        p = fitted.predict_proba(_take(X, test))
        proba[test] = p[:, list(fitted.classes_).index(classes[-1])] if \
            classes[-1] in fitted.classes_ else 0.0
        labels[test] = fitted.predict(_take(X, test))
    positive = (y_arr == classes[-1]).astype(int)
    return CVResult(accuracy=accuracy(y_arr, labels), log_loss=log_loss(positive, proba),
                    brier=brier(positive, proba), proba=proba)
