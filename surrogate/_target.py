"""One callable shape (STYLE 2): a simulator, a fitted surrogate or a plain function as ``f(X) -> y``.

Optimization, sensitivity analysis and discovery accept any *target*; :func:`as_batch_function`
turns it into a function of a design DataFrame returning a float array of shape (n,).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from surrogate._identity import PointFunction
from surrogate._stack import user_stacklevel
from surrogate.space import Integer, Real, Space, as_space
from surrogate.teacher import SimulationError, Simulator

__all__ = ["as_batch_function", "BatchFunction", "is_fitted_model", "warn_if_extrapolating"]

BatchFunction = Callable[[pd.DataFrame], np.ndarray]

#: Share of the training range by which a space may exceed it without a warning, at least.
RANGE_TOLERANCE = 0.01
#: ... or this many average gaps between training points (the edge gap of a space-filling or
#: random design of the space itself: beyond 5 gaps is rarer than 1 in 100 per edge).
RANGE_GAPS = 5.0


def is_fitted_model(target: Any) -> bool:
    """A fitted model with ``predict``.

    Estimators (anything with ``fit``, e.g. a scikit-learn ``Pipeline``) are asked with
    scikit-learn's ``check_is_fitted``; other objects with ``predict`` count as fitted when
    they hold learned attributes (public names ending in ``_``).
    """
    if not hasattr(target, "predict") or isinstance(target, Simulator):
        return False
    if hasattr(target, "fit"):
        try:
            check_is_fitted(target)
        except NotFittedError:
            return False
        return True
    return any(k.endswith("_") and not k.startswith("_") for k in vars(target))


def warn_if_extrapolating(model: Any, space: Space, caller: str) -> None:
    """Warn when ``space`` reaches beyond the inputs ``model`` was trained on.

    Uses the training range a model records (``data_min_``, ``data_max_``, ``n_samples_fit_``,
    as the models of :mod:`surrogate.models` do; models without them are not checked).
    Columns are matched by ``feature_names_in_``, else by position; categorical parameters are
    skipped. A parameter counts when either end lies outside the training range by more than
    ``max(RANGE_TOLERANCE, RANGE_GAPS / n_samples_fit_)`` of that range (in the logarithm for
    a log-scale parameter).
    """
    low, high = getattr(model, "data_min_", None), getattr(model, "data_max_", None)
    if low is None or high is None:
        return
    names = getattr(model, "feature_names_in_", None)
    names = [str(c) for c in names] if names is not None else None
    if names is None and len(low) != space.dim:
        return
    warn_beyond(space, low, high, names, int(getattr(model, "n_samples_fit_", 2)), caller,
                f"the data the {type(model).__name__} was trained on")


def warn_beyond(space: Space, low: Any, high: Any, names: list[str] | None, n_fit: int,
                caller: str, trained: str, others: list[str] | None = None) -> None:
    """The check of :func:`warn_if_extrapolating` on a training range ``low``/``high`` per
    column (``names``, else by position); ``others``: further parts of the space the training
    data miss (e.g. categories), named in the same warning."""
    share = max(RANGE_TOLERANCE, RANGE_GAPS / max(n_fit, 2))
    outside = list(others or [])
    for position, parameter in enumerate(space):
        if not isinstance(parameter, Real | Integer):  # categorical: no range to leave
            continue
        if names is not None and parameter.name not in names:
            continue
        j = names.index(parameter.name) if names is not None else position
        # a log-scale parameter is compared on its scale, where designs are uniform
        scale = np.log10 if getattr(parameter, "log", False) and low[j] > 0 else float
        fitted, wanted = (scale(low[j]), scale(high[j])), (scale(parameter.low),
                                                           scale(parameter.high))
        span = fitted[1] - fitted[0]
        tolerance = share * (span if span > 0 else wanted[1] - wanted[0])
        if wanted[0] < fitted[0] - tolerance or wanted[1] > fitted[1] + tolerance:
            outside.append(f"{parameter.name} (trained on [{low[j]:.6g}, {high[j]:.6g}], "
                           f"space [{parameter.low:.6g}, {parameter.high:.6g}])")
    if outside:
        warnings.warn(
            f"{caller}: the space reaches beyond {trained} for {', '.join(outside)}; the "
            "surrogate extrapolates there and the results may be meaningless: use the space "
            "the training design covers, or add runs that cover this space", UserWarning,
            stacklevel=user_stacklevel())


def _output_index(names: list[str] | None, output: Any, n_outputs: int, what: str) -> int:
    if n_outputs == 1 and output is None:
        return 0
    if output is None:
        choices = names if names else list(range(n_outputs))
        raise ValueError(f"{what} has {n_outputs} outputs; pass output= one of {choices}")
    if names and output in names:
        return names.index(output)
    if isinstance(output, (int, np.integer)) and not isinstance(output, bool) \
            and 0 <= output < n_outputs:
        return int(output)
    allowed = names if names else list(range(n_outputs))
    raise ValueError(f"output={output!r} is not an output of {what}; allowed: {allowed}")


def as_batch_function(
    target: Any, space: Space | None = None, output: Any = None
) -> tuple[Space, BatchFunction]:
    """The space and a batch function ``f(X: DataFrame) -> ndarray (n,)`` for ``target``.

    Parameters
    ----------
    target : Simulator, fitted surrogate, or callable
        A :class:`~surrogate.Simulator` (its space is used; ``output`` names the output when it
        has several); a fitted model with ``predict`` (``space`` required, its parameters all
        inputs of the model; ``output`` selects a column of a multi-output model, by index or
        by name when the model has ``outputs_``; a classifier gives the probability of
        ``classes_[1]``, or of the class ``output`` names); or
        a callable taking one point as a dict of parameter values (or, when it cannot take
        one argument, the parameters by keyword) and returning a float (``space``
        required).
    space : Space, optional
    output : str or int, optional

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> space, f = as_batch_function(lambda p: p["x"] ** 2, Space([Real("x", 0, 2)]))
    >>> f(pd.DataFrame({"x": [1.0, 2.0]})).tolist()
    [1.0, 4.0]
    """
    if isinstance(target, Simulator):
        if space is not None and as_space(space) != target.space:
            raise ValueError("space= differs from the simulator's own space; leave it out")
        column = list(target.outputs)[
            _output_index(list(target.outputs), output, len(target.outputs),
                          f"simulator {target.name!r}")
        ]

        def simulate(X: pd.DataFrame) -> np.ndarray:
            return target(X)[column].to_numpy(dtype=float)

        return target.space, simulate
    if space is None:
        raise ValueError("space= is required when the target is a fitted model or a plain "
                         "function (a Simulator carries its own)")
    space = as_space(space)
    if is_fitted_model(target):
        return space, _model_function(target, space, output)
    if callable(target):
        if output is not None:
            raise ValueError(f"output={output!r} names an output of a Simulator or a model; a "
                             "plain function gives one number per point: leave output out")

        point_function = PointFunction(target, space.names)  # a dict, or keywords

        def call(X: pd.DataFrame) -> np.ndarray:
            return np.array([_number(point_function(**{str(k): v for k, v in point.items()}))
                             for point in X.to_dict("records")])

        return space, call
    raise TypeError(
        "target must be a surrogate.Simulator, a fitted model with predict(), or a callable "
        f"taking a dict of parameters; got {type(target).__name__}"
    )


def _number(value: Any) -> float:
    """A plain function's answer as a float, or a clear error saying what it must return."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"the target function returned {type(value).__name__} {value!r:.60}; it "
                        "must return one number per point (for several outputs, wrap it as "
                        "a surrogate.Simulator and pass output=)") from None


def _is_classifier(model: Any) -> bool:
    """scikit-learn's ``is_classifier``, False for a model without its tags."""
    from sklearn.base import is_classifier

    try:
        return bool(is_classifier(model))
    except AttributeError:  # not a scikit-learn estimator (no __sklearn_tags__)
        return False


def check_model_inputs(model: Any, space: Space) -> None:
    """Refuse a space whose parameters are not the inputs ``model`` was fitted on (by
    ``feature_names_in_``; a model without names is not checked): one the model never saw would
    be ignored, and its sensitivity index read 0, silently."""
    fitted_on = getattr(model, "feature_names_in_", None)
    if fitted_on is None:
        width = getattr(model, "n_features_in_", None)
        if isinstance(width, numbers.Integral) and width != space.dim:
            raise ValueError(f"the {type(model).__name__} was fitted on {int(width)} input(s) "
                             f"(an array, without names), but the space has {space.dim} "
                             f"parameters ({space.names}); pass the space of the model's "
                             "inputs, in the order of its columns")
        return
    unseen = [n for n in space.names if n not in {str(c) for c in fitted_on}]
    if unseen:
        raise ValueError(f"the space's parameter(s) {unseen} are not inputs of the "
                         f"{type(model).__name__} (fitted on {list(map(str, fitted_on))}); "
                         "pass the space of the model's inputs")
    lacking = [str(c) for c in fitted_on if str(c) not in space.names]
    if lacking:
        raise ValueError(f"the {type(model).__name__} was fitted on input(s) {lacking} that "
                         f"the space lacks (its parameters: {space.names}); pass the space "
                         "of the model's inputs")


def in_fitted_order(model: Any, X: pd.DataFrame) -> Any:
    """``X`` with its columns in the order ``model`` was fitted on (by ``feature_names_in_``;
    scikit-learn refuses the same columns in another order); for a model fitted on an array
    (``n_features_in_`` but no names), its values, in the space's order, which scikit-learn
    would otherwise warn about at every call."""
    fitted_on = getattr(model, "feature_names_in_", None)
    if fitted_on is None:
        return X.to_numpy() if hasattr(model, "n_features_in_") else X
    if list(X.columns) == [str(c) for c in fitted_on]:
        return X
    return X[[str(c) for c in fitted_on]]


def _model_function(model: Any, space: Space, output: Any) -> BatchFunction:
    """A fitted model's prediction as a batch function (for sensitivity analysis); a
    classifier's is the probability of its positive class (``classes_[1]``; of the class
    ``output`` names among more), not its 0/1 label."""
    check_model_inputs(model, space)
    names = getattr(model, "outputs_", None)
    names = list(names) if names is not None else None
    if _is_classifier(model) and hasattr(model, "predict_proba"):
        classes = [str(c) for c in getattr(model, "classes_", [])]

        def probability(X: pd.DataFrame) -> np.ndarray:
            p = np.asarray(model.predict_proba(in_fitted_order(model, X)), dtype=float)
            if p.shape[1] == 2 and output is None:
                return p[:, 1]
            key = str(output) if output is not None and str(output) in classes else output
            return p[:, _output_index(classes or None, key, p.shape[1],
                                      f"{type(model).__name__} (one output per class)")]

        return probability

    def predict(X: pd.DataFrame) -> np.ndarray:
        y = np.asarray(model.predict(in_fitted_order(model, X)), dtype=float)
        if y.ndim == 1:
            _output_index(names, output, 1, type(model).__name__)
            return y
        return y[:, _output_index(names, output, y.shape[1], type(model).__name__)]

    return predict


def complete_runs(simulator: Simulator, design: pd.DataFrame, *, executor: Any, checkpoint: Any,
                  caller: str, instead: str) -> Any:
    """Run ``design`` and return the transfer set, raising if any run failed: an estimator that
    needs every point (Sobol', Morris) cannot skip one. ``instead`` names the model to fit to the
    runs that succeeded (e.g. ``"a surrogate"``)."""
    runs = simulator.run(design, executor=executor, checkpoint=checkpoint)
    ok = np.asarray(runs.ok, dtype=bool)
    if not ok.all():
        first = int(np.flatnonzero(~ok)[0])
        raise SimulationError(
            f"{caller}: {int((~ok).sum())} of {len(runs)} runs of {simulator.name!r} failed "
            f"(first: {runs.error.iloc[first]}); the estimators need every run. Fix the "
            f"simulator, or fit {instead} to the runs that succeeded and analyse that")
    return runs
