"""Parity plot: a surrogate's predictions against the teacher's values."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
import pandas as pd

from surrogate._checks import warn_if_misaligned
from surrogate._target import _is_classifier, _output_index
from surrogate.plot._axes import single_axes

__all__ = ["parity", "parity_predictions"]

_Z95 = 1.959964  # two-sided 95% quantile of the standard normal


def parity(model: Any, X: Any, y: Any, *, ax: Any = None, output: int | str = 0, cv: Any = None,
           seed: Any = None) -> Any:
    """Predicted against true values, with 95% error bars when the model has a std.

    Parameters
    ----------
    model : regressor
        Anything with ``predict(X)`` (and optionally ``predict(X, return_std=True)``): fitted
        when ``cv`` is None; with ``cv`` a template that is cloned for every fold.
    X : DataFrame or array-like of shape (n_samples, n_features)
        Without ``cv``: points the model has not seen, for an honest picture (on its own
        training points a Gaussian process shows a near-perfect fit). With ``cv``: all the runs.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The teacher's values at ``X``.
    ax : matplotlib Axes, optional
        Drawn on a new figure when None.
    output : int or str, default=0
        Column of a multi-output model to show (or its name, for a model with ``outputs_``).
    cv : int or scikit-learn splitter, optional
        Plot the out-of-fold predictions of a ``cv``-fold cross-validation
        (:func:`surrogate.models.cross_validate`) instead of the fitted model's, titled with
        the cross-validated Q².
    seed : int, numpy.random.Generator or None
        Shuffles the folds (with ``cv``).

    Returns
    -------
    matplotlib.axes.Axes

    See Also
    --------
    parity_predictions : the same plot from predictions already made (e.g. by
        ``cross_validate``), without fitting anything.

    Examples
    --------
    >>> import numpy as np
    >>> from surrogate.models import GPRegressor
    >>> X = np.linspace(0, 1, 10)[:, None]
    >>> ax = parity(GPRegressor(seed=0).fit(X, X[:, 0] ** 2), X, X[:, 0] ** 2)
    >>> ax.get_xlabel()
    'true'
    >>> ax = parity(GPRegressor(seed=0), X, X[:, 0] ** 2, cv=5, seed=0)
    >>> ax.get_title().startswith("GPRegressor, 5-fold cross-validated Q² = ")
    True
    """
    if not hasattr(model, "predict") or isinstance(model, type):
        raise TypeError(f"model must be a fitted model with predict() (or an unfitted one with "
                        f"cv=), got {model!r:.60}")
    if _is_classifier(model):
        raise TypeError(f"parity plots a regressor's predictions against the truth; "
                        f"{type(model).__name__} is a classifier: measure it with "
                        "surrogate.cross_validate (accuracy, log loss)")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if len(X) == 0:
        raise ValueError("X and y are empty: parity needs at least one point")
    names = list(getattr(model, "outputs_", None) or []) or None  # by name, as sobol_indices
    if names and isinstance(y, pd.DataFrame):
        columns = list(map(str, y.columns))
        if set(names) <= set(columns):  # by name, in the model's order (others left out)
            y = y.set_axis(columns, axis=1)[names]
        elif len(columns) != len(names):  # position would pair another output with these
            raise ValueError(f"y's columns {columns} do not hold the model's outputs {names}; "
                             f"pass the teacher's values of those outputs")
    output = _output_index(names, output, np.asarray(y).reshape(len(y), -1).shape[1],
                           type(model).__name__)
    if cv is not None:
        from surrogate.models import cross_validate

        scores = cross_validate(model, X, y, cv=cv, seed=seed)
        folds = cv if isinstance(cv, int) else getattr(cv, "n_splits", "k")
        return parity_predictions(y, scores["y_pred"], scores.get("y_std"), ax=ax,
                                  output=output,
                                  label=f"{type(model).__name__}, {folds}-fold cross-validated")
    warn_if_misaligned(X, y)  # read by position (cross_validate warns on its own)
    if "return_std" in inspect.signature(model.predict).parameters:
        mean, std = model.predict(X, return_std=True)
    else:
        mean, std = model.predict(X), None
    return parity_predictions(y, mean, std, ax=ax, output=output,
                              label=f"{type(model).__name__}:")


def parity_predictions(y: Any, y_pred: Any, y_std: Any = None, *, ax: Any = None,
                       output: int = 0, label: str = "") -> Any:
    """Predictions made elsewhere against the true values, with 95% error bars given a std.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The teacher's values.
    y_pred, y_std : array-like of the shape of ``y``
        Predicted means and, optionally, standard deviations: e.g. the out-of-fold
        ``y_pred`` and ``y_std`` of :func:`surrogate.models.cross_validate`.
    ax : matplotlib Axes, optional
        Drawn on a new figure when None.
    output : int or str, default=0
        Column to show when ``y`` has several: its index, or its name when ``y`` is a
        DataFrame.
    label : str, default ""
        What the predictions are, put before the Q² in the title (e.g. ``"5-fold
        cross-validated"``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from surrogate.models import GPRegressor, cross_validate
    >>> X = np.linspace(0, 1, 12)[:, None]
    >>> scores = cross_validate(GPRegressor(seed=0), X, np.sin(4 * X[:, 0]), cv=4, seed=0)
    >>> ax = parity_predictions(np.sin(4 * X[:, 0]), scores["y_pred"], scores["y_std"],
    ...                         label="4-fold cross-validated")
    >>> ax.get_title() == f"4-fold cross-validated Q² = {scores['q2']:.4f}"
    True
    """

    for name, values in (("y", y), ("y_pred", y_pred)):
        if values is None:
            raise TypeError(f"{name} must be an array of numbers, got None")
    if isinstance(y, pd.DataFrame):  # predictions given by name: in y's order
        y_pred, y_std = (_in_order_of(y, values) for values in (y_pred, y_std))
    if isinstance(output, str):  # a column of y by name
        if not isinstance(y, pd.DataFrame) or output not in y.columns:
            raise ValueError(f"output={output!r} names no column of y; pass a column index "
                             "(int), or a name of y's columns when y is a DataFrame")
        output = list(y.columns).index(output)
    # an index as parity's: 1.5 raised numpy's IndexError, True drew a 3-D array's error
    output = _output_index(None, output, np.shape(y)[1] if np.ndim(y) == 2 else 1, "y")
    truth = _column(y, len(y), output, "y")
    mean = _column(y_pred, len(truth), output, "y_pred")
    widths = [np.asarray(v).reshape(len(truth), -1).shape[1] for v in (y, y_pred)]
    if widths[0] != widths[1]:  # column ``output`` of each would be two different outputs
        raise ValueError(f"y has {widths[0]} column(s) but y_pred {widths[1]}: give the "
                         "predictions of y's outputs, in its order")
    yerr = None if y_std is None else _Z95 * _column(y_std, len(truth), output, "y_std")
    known = np.isfinite(truth) & np.isfinite(mean)
    if not known.any():
        raise ValueError("parity: no pair of a finite true value and a finite prediction")
    if not known.all():  # a NaN drew no y = x line and made Q² NaN
        warnings.warn(f"parity: {int((~known).sum())} of {len(truth)} pairs with a missing "
                      "(NaN or infinite) true or predicted value are left out", UserWarning,
                      stacklevel=2)
        truth, mean = truth[known], mean[known]
        yerr = None if yerr is None else yerr[known]
    ax = single_axes(ax, figsize=(4.5, 4.5), layout="constrained")
    ax.errorbar(truth, mean, yerr=yerr, fmt="o", markersize=3, alpha=0.7, elinewidth=0.8,
                label="95% interval" if yerr is not None else "prediction")
    low, high = float(min(truth.min(), mean.min())), float(max(truth.max(), mean.max()))
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="y = x")
    ss_res = float(((truth - mean) ** 2).sum())
    ss_tot = float(((truth - truth.mean()) ** 2).sum())
    q2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    shown = "" if widths[0] == 1 else f" {y.columns[output]}" if isinstance(y, pd.DataFrame) \
        else f" (output {output})"  # which of several outputs
    ax.set_xlabel(f"true{shown}")
    ax.set_ylabel(f"predicted{shown}")
    ax.set_title(f"{label} Q² = {q2:.4f}".strip())
    ax.legend(loc="upper left")
    return ax


def _in_order_of(y: pd.DataFrame, values: Any) -> Any:
    """``values`` with its columns in ``y``'s order when it is a DataFrame of the same
    columns (matched by position it drew one output against another)."""
    if isinstance(values, pd.DataFrame) and list(values.columns) != list(y.columns) \
            and set(values.columns) == set(y.columns):
        return values[list(y.columns)]
    return values


def _column(values: Any, n: int, output: int, name: str) -> np.ndarray:
    """Column ``output`` of ``values`` (n,) or (n, m), as floats; a clear error on a mismatch."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, one per run (or one row per run)") from None
    if array.size == 0 or array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0] if array.ndim else 0} rows, expected {n}")
    array = array.reshape(n, -1)
    if not 0 <= output < array.shape[1]:
        raise ValueError(f"output={output} is out of range: {name} has {array.shape[1]} "
                         "column(s)")
    return array[:, output]
