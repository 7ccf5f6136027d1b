"""Shared plumbing for the surrogates (students): input checks, seeds, devices, tags.

Every model in :mod:`surrogate.models` is a scikit-learn estimator. This module holds what they
share: turning a DataFrame or array into a float64 matrix (remembering and re-applying column
names), checking targets, turning ``seed`` into torch generators without touching global state,
resolving ``device``, and the ``save`` method. Torch stays inside the model modules (STYLE 12).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted, validate_data

from surrogate._checks import (  # noqa: F401  (re-exported: the models' checks)
    check_choice,
    check_flag,
    check_positive_float,
    check_positive_int,
    is_int,
    warn_if_misaligned,
)
from surrogate._random import as_generator, child_seed
from surrogate.models._inputs import InputEncoding, find_categories, warn_numbers_as_objects
from surrogate.space import LOG_PREFIX, python_scalar, repeated_names

__all__ = ["SurrogateMixin", "check_positive_int", "check_choice", "check_positive_float",
           "check_input_columns"]

DTYPE = torch.float64


def check_input_columns(X: Any, owner: str) -> None:
    """Raise one clear ``ValueError`` for input columns that are neither numbers nor categories.

    Categories (strings, booleans, pandas ``category`` columns) are accepted: see
    :mod:`surrogate.models._inputs`. ``owner`` names the estimator in the message. Called
    before any fitting work (e.g. by ``cross_validate`` before its first fold).
    """
    find_categories(X, owner)


def _shape(values: Any) -> tuple[int, ...] | None:
    """The shape of array-like ``values`` (None where numpy cannot tell: ragged lists)."""
    shape = getattr(values, "shape", None)
    if shape is not None:
        return tuple(shape)
    try:
        return np.asarray(values, dtype=object).shape
    except (TypeError, ValueError):
        return None


def _check_shape(owner: str, X: Any, y: Any = None) -> None:
    """Refuse, in our words before scikit-learn's, an ``X`` that is not a table of rows and
    columns and a ``y`` of another length (an empty ``X``, and one of another width at
    predict, get scikit-learn's messages, which name them)."""
    shape = _shape(X)
    if shape is None:
        return
    if len(shape) != 2:
        raise ValueError(f"{owner}: X must be 2-D, one row per point and one column per input "
                         f"(a DataFrame or an array of shape (n, d)), got shape {shape}. "
                         "Reshape your data: X.reshape(-1, 1) for a single input, "
                         "X.reshape(1, -1) for a single point")
    y_shape = None if y is None else _shape(y)
    if y_shape and y_shape[0] != shape[0]:
        raise ValueError(f"{owner}: X has {shape[0]} rows but y has {y_shape[0]}; give one "
                         "target per row of X")


def _check_columns(X: Any) -> None:
    """Refuse, by name, DataFrame columns no model can take: repeated names, dates and times."""
    if not isinstance(X, pd.DataFrame):
        return
    repeated = repeated_names(X.columns)
    if repeated:
        raise ValueError(f"X has the column name(s) {repeated} more than once; name each "
                         "input once")
    dated = [str(c) for c in X.columns if X[c].dtype.kind in "mM"]
    if dated:
        raise ValueError(f"X column(s) {dated} hold dates or times; pass numbers instead (e.g. "
                         "days since a start)")


def column_std(values: np.ndarray) -> np.ndarray:
    """Per-column standard deviation of a 2-D array, also for values past 1e154 or below
    1e-154 (whose squares overflow to inf or underflow to 0: the GP then predicted NaN): those
    columns are scaled by their largest magnitude first. Other columns get numpy's own
    result, bit for bit."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        std = values.std(axis=0)
    # squares past 1e308 overflow; squares below 1e-308 underflow to 0 (values of 1e-170
    # got a std of 0 and predictions of NaN): both scaled by their largest magnitude first
    huge = ~np.isfinite(std) | ((std == 0) & (np.ptp(values, axis=0) > 0))
    if huge.any():
        part = values[:, huge]
        size = np.abs(part).max(axis=0)
        std[huge] = (part / size).std(axis=0) * size
    return std


def column_scale(values: np.ndarray) -> np.ndarray:
    """Per-column scale for standardizing a 2-D array: :func:`column_std`, and 1 for a
    constant column. Constant by its values, not by a zero std: the std of a column that is
    0.3 throughout is 5.6e-17 (rounding), and dividing by it put any other value of that
    input 1e14 standard deviations out (a network then predicted -6e13)."""
    return np.where(np.ptp(values, axis=0) > 0, column_std(values), 1.0)


def _column_labels(X: Any) -> list[Any] | None:
    """A DataFrame's column labels when they are not all strings (scikit-learn records only
    string names, as ``feature_names_in_``) and each is a string, a number or a tuple of them
    (a MultiIndex's; all saved as JSON); else None. Predictions put a DataFrame's columns back
    in this order. Number labels are the field grid's times of ``TransferSet.field``: unrecorded,
    a reordered frame was read by position. Bools are not recorded (a list of them selects
    columns as a mask)."""
    if not isinstance(X, pd.DataFrame) or all(isinstance(c, str) for c in X.columns):
        return None
    labels = [_label(c) for c in X.columns]
    return None if any(label is None for label in labels) else labels


def _label(c: Any) -> Any:
    """A column label as JSON holds it (a tuple as a tuple), or None for another kind."""
    if isinstance(c, bool | np.bool_):
        return None
    if isinstance(c, str):
        return c
    if isinstance(c, numbers.Integral):
        return int(c)
    if isinstance(c, numbers.Real):
        return float(c) if math.isfinite(c) else None
    if isinstance(c, tuple):
        parts = [_label(v) for v in c]
        return None if any(v is None for v in parts) else tuple(parts)
    return None


def _check_finite(X: np.ndarray, names: Any) -> None:
    """Inputs must be finite: name the first column holding NaN or inf, and some rows."""
    bad = ~np.isfinite(X)
    if bad.any():
        column = int(np.flatnonzero(bad.any(axis=0))[0])
        label = repr(str(names[column])) if names is not None else f"{column}"
        rows = np.flatnonzero(bad[:, column])[:5].tolist()
        raise ValueError(f"X column {label} holds NaN or inf (e.g. rows {rows}); the models "
                         "need finite inputs: drop or fill those rows")


def missing_y(y: Any) -> None:
    """Refuse targets with NaN (failed runs) or None (missing labels), naming some rows."""
    y = np.asarray(y)
    if y.dtype.kind != "f" and y.dtype != object:
        return
    bad = np.asarray(pd.isna(y), dtype=bool)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))[:5].tolist()
        what = "NaN" if y.dtype.kind == "f" else "missing values (NaN or None)"
        raise ValueError(f"y contains {what} (e.g. rows {rows}); drop failed runs first, e.g. "
                         "with TransferSet.valid()")


def missing_x(X: Any) -> None:
    """Refuse numeric inputs with NaN or inf, naming the first such column and some rows."""
    if isinstance(X, pd.DataFrame):
        for name in X.columns:
            column = X[name]
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                values = column.to_numpy(dtype=float, na_value=np.nan)
                _check_finite(values[:, None], [name])
        return
    array = np.asarray(X)
    if array.dtype.kind in "fiu":
        _check_finite(array.reshape(len(array), -1).astype(float), None)


class Q2ScoreMixin:
    """``score`` as the package's Q² (:func:`surrogate.models.q2`): NaN with a warning where
    the targets are constant, where scikit-learn's R² gives 0 or 1 silently."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Q² of the predictions of ``X`` against ``y`` (the mean over outputs);
        ``sample_weight`` gives scikit-learn's weighted R²."""
        warn_if_misaligned(X, y)
        outputs = getattr(self, "outputs_", None)
        if isinstance(y, pd.DataFrame) and outputs is not None:  # by name, as X's columns
            y = y.set_axis(list(map(str, y.columns)), axis=1)
            missing = [o for o in outputs if o not in y.columns]
            if missing:
                raise ValueError(f"y is missing the output column(s) {missing} seen in fit "
                                 f"(it has {list(y.columns)})")
            y = y[outputs]
        if sample_weight is not None:
            from sklearn.metrics import r2_score

            predicted = self.predict(X)  # type: ignore[attr-defined]
            return float(r2_score(y, predicted, sample_weight=sample_weight))
        from surrogate.models._metrics import _pair, _q2

        truth, predicted = _pair(y, self.predict(X))  # type: ignore[attr-defined]
        missing = np.isnan(truth).any(axis=1)
        if missing.any():  # as fit refuses them: a NaN score says nothing of the model
            raise ValueError(f"y contains NaN (e.g. rows {np.flatnonzero(missing)[:5].tolist()}); "
                             "score on runs that succeeded, e.g. runs.valid()")
        return _q2(truth, predicted, stacklevel=3)


class BinaryClassifierMixin:
    """Two classes: scikit-learn's tags say so, and a saved model gets ``classes_`` back from
    its ``meta["classes_"]`` (listed before the scikit-learn mixins)."""

    classes_: np.ndarray
    predict_proba: Any

    def predict(self, X: Any) -> np.ndarray:
        """The more probable class for each row of ``X``."""
        check_is_fitted(self)
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]

    def _classes_state(self) -> dict[str, Any]:
        """``classes_`` for ``meta.json``, with its dtype (text labels stay objects)."""
        return {"classes_": [python_scalar(c) for c in self.classes_],
                "classes_dtype": str(self.classes_.dtype)}

    def _load_extra_state(self, meta: dict[str, Any]) -> None:
        dtype = meta.get("classes_dtype")  # absent from files saved before it was kept
        self.classes_ = np.asarray(meta["classes_"], dtype=None if dtype is None else
                                   np.dtype(dtype))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.classifier_tags.multi_class = False
        return tags


class MultiOutputMixin:
    """Regressors fitted on ``y`` of shape (n,) or (n, m): scikit-learn's tags say so."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class SurrogateMixin:
    """Input handling shared by the regressors and classifiers (not public).

    Subclassing
    -----------
    Call :meth:`_check_common` at the start of ``fit`` and :meth:`_validate_fit` /
    :meth:`_validate_predict` for inputs; implement ``_state`` / ``_from_state`` (see
    :mod:`surrogate.models._io`) so that ``save``/``load`` work.
    """

    accepts_categories = True  # categorical columns as they come (distill checks this)
    _field_model = False  # a surrogate of whole trajectories (FieldGPRegressor) says True

    seed: Any  # the estimator's constructor parameter
    n_features_in_: int  # set by fit (scikit-learn's validate_data) or load

    def _check_common(self) -> None:
        """Validate ``seed`` and ``device`` (the options every model has)."""
        seed = getattr(self, "seed", None)
        if not (seed is None or isinstance(seed, np.random.Generator) or is_int(seed)):
            raise TypeError(
                f"seed must be an int, a numpy.random.Generator or None, got {seed!r}")
        self._device = resolve_device(getattr(self, "device", "cpu"))

    def _rng(self) -> np.random.Generator:
        return as_generator(self.seed)

    # -- inputs -------------------------------------------------------------------------------
    def _validate_fit(self, X: Any, y: Any, *, multi_output: bool) -> tuple[np.ndarray, Any]:
        """Checked float inputs (categories as codes ``0 .. L-1``) and targets.

        Records ``categories_`` (see :mod:`surrogate.models._inputs`), the feature names and
        the training range of the numeric columns (NaN for categorical ones).
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None")
        owner = type(self).__name__
        warn_if_misaligned(X, y)
        _check_shape(owner, X, y)
        _check_columns(X)
        self._column_labels = _column_labels(X)
        self._encoding = find_categories(X, owner)
        warn_numbers_as_objects(X, self._encoding, owner)
        X = self._encoding.encode(X, owner)
        if isinstance(y, pd.DataFrame) and (repeated := repeated_names(y.columns)):
            raise ValueError(f"y has repeated column(s) {repeated}; name each output once")
        # the output names: a DataFrame's columns, a named Series' name (e.g. ts.Y["f"])
        self.outputs_ = list(map(str, y.columns)) if isinstance(y, pd.DataFrame) else (
            [str(y.name)] if isinstance(y, pd.Series) and y.name is not None else None)
        try:
            y_arr = np.asarray(y)
        except ValueError:  # rows of different lengths
            raise ValueError("y must be a rectangular array: one value (or one row of equal "
                             "length) per row of X") from None
        if multi_output and y_arr.dtype.kind == "b":  # a regressor's 0/1 output
            y_arr = y_arr.astype(np.float64)
            y = y_arr
        if multi_output and y_arr.dtype.kind not in "fiub":  # a regressor's y: numbers
            try:
                y_arr = np.asarray(y_arr, dtype=float)
            except (TypeError, ValueError):
                missing_y(np.where(pd.isna(y_arr), np.nan, 0.0))  # <NA>: a failed run
                odd = [v.item() if isinstance(v, np.generic) else v for v in y_arr.ravel()[:50]
                       if not isinstance(v, numbers.Number)][:3]
                raise ValueError(f"y must be numbers; it holds values such as {odd}") from None
            y = y_arr  # numeric text (e.g. read from a file) goes on as the numbers it holds
        missing_y(y_arr)  # a clear message for failed runs before sklearn's generic one
        if multi_output and np.isinf(np.asarray(y_arr, dtype=float)).any():
            bad = np.isinf(np.asarray(y_arr, dtype=float)).reshape(len(y_arr), -1).any(axis=1)
            raise ValueError(f"y contains inf (e.g. rows {np.flatnonzero(bad)[:5].tolist()}); "
                             "drop those runs, or transform the output")
        X_arr, y_arr = validate_data(
            self, X, y, dtype=np.float64, multi_output=multi_output,
            y_numeric=multi_output, ensure_min_samples=2, ensure_all_finite=False)
        _check_finite(X_arr, getattr(self, "feature_names_in_", None))
        self.categories_ = self._encoding.as_dict()
        # the training range, so that uses of the model can tell when they extrapolate
        self.data_min_, self.data_max_ = X_arr.min(axis=0), X_arr.max(axis=0)
        categorical = list(self._encoding.positions)
        self.data_min_[categorical] = self.data_max_[categorical] = np.nan
        self.n_samples_fit_ = len(X_arr)
        return X_arr, y_arr

    def _validate_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        _check_shape(type(self).__name__, X)
        _check_columns(X)
        names = getattr(self, "feature_names_in_", None)
        if isinstance(X, pd.DataFrame):
            # the columns seen in fit: string names, else labels such as 0, 1, 2 (None: fitted
            # on an array); a frame's columns are put in their order
            labels = list(names) if names is not None else getattr(self, "_column_labels", None)
            if labels is not None:
                missing = [c for c in labels if c not in X.columns]
                if missing:
                    logs = [c for c in missing if isinstance(c, str) and c.startswith(LOG_PREFIX)
                            and c[len(LOG_PREFIX):] in X.columns]  # a study's log-scale inputs
                    hint = (" (the model reads the log10 of log-scale parameters, as a study's "
                            "models do: surrogate.study.model_inputs(space, X) makes them)"
                            if logs else "")
                    raise ValueError(f"X is missing the columns {missing} seen in fit{hint}")
                X = X[labels]
            if names is None and self._input_encoding.positions:
                X = X.to_numpy(dtype=object)  # categories by position, as they were found
        if isinstance(X, pd.DataFrame | np.ndarray) and X.ndim == 2 \
                and X.shape[1] != self.n_features_in_:  # before reading any column
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input")
        X = self._input_encoding.encode(X, type(self).__name__)
        X_arr = validate_data(self, X, dtype=np.float64, reset=False, ensure_all_finite=False)
        _check_finite(X_arr, getattr(self, "feature_names_in_", None))
        return X_arr

    @property
    def _input_encoding(self) -> InputEncoding:
        """The categorical columns seen at fit (none for a model saved before they existed)."""
        return getattr(self, "_encoding", None) or InputEncoding()

    def _column_levels(self) -> tuple[int, ...]:
        """Per input column: 0 when numeric, else the number of levels of the category."""
        return self._input_encoding.column_levels(int(self.n_features_in_))

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: Any) -> None:
        """Write the fitted model to the directory ``path`` (JSON metadata + torch tensors).

        Read it back with :func:`surrogate.models.load`; nothing is pickled.
        """
        from surrogate.models._io import save

        save(self, path)


def resolve_device(device: Any) -> torch.device:
    """``"cpu"`` or ``"cuda"``/``"cuda:N"`` (only when torch sees a GPU)."""
    if not isinstance(device, str | torch.device):
        raise TypeError(f"device must be 'cpu' or 'cuda', got {device!r}")
    try:
        dev = torch.device(device)
    except RuntimeError:
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} was requested but torch.cuda.is_available() "
                         "is False")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device={str(device)!r} was requested but torch sees "
                         f"{torch.cuda.device_count()} GPU(s): use cuda:0 .. "
                         f"cuda:{torch.cuda.device_count() - 1}")
    return dev


def torch_generator(rng: np.random.Generator, device: torch.device | None = None) -> torch.Generator:
    """A torch generator seeded from ``rng`` (no global torch state is touched)."""
    gen = torch.Generator(device=device or "cpu")
    gen.manual_seed(child_seed(rng))
    return gen


def to_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array), dtype=DTYPE, device=device)
