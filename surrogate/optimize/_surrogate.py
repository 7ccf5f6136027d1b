"""Optimization on a fitted surrogate alone: multi-start search of the model's mean, no teacher.

The model's prediction is turned into a torch function of unit-cube points and handed to the
same optimizer the Bayesian-optimization loop uses. Three kinds of model are recognized:

* a :class:`~surrogate.optimize.UnitCubeModel` (``OptimizationResult.model``): exact gradients;
* a model with the ``_predict_torch`` contract (:class:`~surrogate.GPRegressor`) over a space of
  real and integer parameters: exact gradients through the unit-cube -> parameter map;
* anything else with ``predict``: forward finite differences, batched in one ``predict`` call
  per gradient.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from surrogate._checks import is_int
from surrogate._random import SeedLike, as_generator
from surrogate._target import (
    _is_classifier,
    _output_index,
    is_fitted_model,
    warn_if_extrapolating,
)
from surrogate._threads import fitted_size, limited
from surrogate.data import TransferSet
from surrogate.optimize._result import OptimizationResult, point_of
from surrogate.sequential._optimize_acqf import AcquisitionOptimizer, evaluate
from surrogate.sequential._student import UnitCubeModel
from surrogate.space import Integer, Real, Space, as_space

__all__ = ["minimize_surrogate"]

_FD_STEP = 1e-6


def minimize_surrogate(
    model: Any,
    space: Space,
    *,
    output: str | int | None = None,
    n_starts: int = 20,
    seed: SeedLike = None,
) -> OptimizationResult:
    """Minimize a fitted model's prediction over a space, without calling any teacher.

    Parameters
    ----------
    model : fitted regressor
        Anything with ``predict`` taking a design of ``space`` (e.g. a fitted
        :class:`~surrogate.GPRegressor`, a fitted scikit-learn ``Pipeline`` or
        ``OptimizationResult.model``). A ``UserWarning`` names the parameters whose range in
        ``space`` reaches beyond the model's training data.
    space : Space
        Where to search: the model's inputs (in any order, for a model fitted on a
        DataFrame).
    output : str or int, optional
        Which output of a multi-output model (by name when the model has ``outputs_``).
    n_starts : int, default 20
        Local searches, started from the best of many Sobol' points.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    OptimizationResult
        ``x``, ``y`` (the model's prediction there), ``feasible`` (True), ``history`` (the
        local optima found, with the model's predictions), ``n_evaluations`` (0), ``model``.

    Notes
    -----
    The optimum is the model's prediction, and an optimizer seeks out where the model errs in
    its favour: a GP between or beyond its runs can dip below what the teacher can give (a
    negative population). Check ``x`` with the teacher (``model.predict(x, return_std=True)``
    shows how sure the model is there), or optimize with the teacher in the loop
    (:func:`surrogate.minimize`).

    Examples
    --------
    >>> import numpy as np
    >>> from surrogate.models import GPRegressor
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", -1.0, 2.0)])
    >>> X = np.linspace(-1, 2, 15)[:, None]
    >>> gp = GPRegressor(seed=0).fit(X, (X[:, 0] - 0.7) ** 2)
    >>> result = minimize_surrogate(gp, space, seed=0)
    >>> round(result.x["x"], 2), result.n_evaluations
    (0.7, 0)
    """
    space = as_space(space)
    if isinstance(n_starts, bool) or not isinstance(n_starts, numbers.Integral) or n_starts < 1:
        raise ValueError(f"n_starts must be an int >= 1, got {n_starts!r}")
    if not is_fitted_model(model):
        raise TypeError("model must be a fitted model with predict() (learned attributes ending "
                        f"in '_'); got {type(model).__name__}")
    rng = as_generator(seed)
    space = _in_model_order(model, space)
    mean, name = _mean_function(model, space, output)
    warn_if_extrapolating(model, space, "minimize_surrogate")
    optimizer = AcquisitionOptimizer(space, n_raw=max(1024, 64 * space.dim),
                                     n_restarts=int(n_starts))
    with limited(fitted_size(model)):  # the thread policy of the model's own predictions
        polished, _ = optimizer.local_optima(lambda unit: -mean(unit), rng)
        predicted = -evaluate(lambda unit: -mean(unit), polished)
    order = np.argsort(predicted, kind="stable")
    polished, predicted = polished[order], predicted[order]
    design = space.from_unit(polished)
    history = TransferSet(space, [name], design, predicted[:, None], simulator=None)
    point = point_of(design, 0)
    return OptimizationResult(x=point, y=float(predicted[0]), feasible=True, history=history,
                              n_evaluations=0, model=model, output=name, sense="minimize")


MeanFunction = Callable[[torch.Tensor], torch.Tensor]


def _mean_function(model: Any, space: Space, output: Any) -> tuple[MeanFunction, str]:
    """The model's mean as a function of unit-cube points (n, d) -> (n,), and its name."""
    if _is_classifier(model):  # its predict gives labels: a 0/1 step, not a surface
        raise TypeError(f"minimize_surrogate needs a regressor; the {type(model).__name__} is a "
                        "classifier, whose predict gives class labels. To find the inputs "
                        "least (or most) likely to be a case, minimize its probability: "
                        "sg.minimize(lambda p: model.predict_proba(pd.DataFrame([p]))[0, 1], "
                        "space=space, budget=...)")
    if not isinstance(model, UnitCubeModel):
        _check_features(model, space)
    elif model.space_ != space:
        raise ValueError("space differs from the space the model was fitted on")
    field = bool(getattr(model, "_field_model", False))  # one column per grid point
    names = None if field else getattr(model, "outputs_", None)
    names = [str(n) for n in names] if names is not None else None
    probe = np.asarray(model.predict(_design(model, space, np.full((1, space.dim), 0.5))))
    n_outputs = 1 if probe.ndim == 1 else probe.shape[1]
    if field and not (is_int(output) and 0 <= int(output) < n_outputs):
        raise ValueError(f"{type(model).__name__} predicts a field on {n_outputs} grid points, "
                         "not one output: pass output= the index of a grid point (0 to "
                         f"{n_outputs - 1}) to minimize the field there; got output={output!r}")
    column = _output_index(names, output, n_outputs, type(model).__name__)
    name = names[column] if names else (str(output) if output is not None else "y")
    if field:  # the field at one grid point: F[2]
        name = f"{getattr(model, 'field_', None) or 'field'}[{column}]"
    if isinstance(model, UnitCubeModel) and not field:
        return (lambda unit: model.predict_unit_torch(unit)[0][:, column]), name
    if hasattr(model, "_predict_torch") and all(isinstance(p, (Real, Integer)) for p in space):
        to_values = _unit_to_values(space)
        return (lambda unit: model._predict_torch(to_values(unit))[0][:, column]), name

    def predict(unit: np.ndarray) -> np.ndarray:
        y = np.asarray(model.predict(_design(model, space, unit)), dtype=float)
        return y if y.ndim == 1 else y[:, column]

    return (lambda unit: _FiniteDifference.apply(unit, predict)), name


def _design(model: Any, space: Space, unit: np.ndarray) -> Any:
    """Unit points as the model wants them: a DataFrame if it was fitted on one, else an array."""
    frame = space.from_unit(unit)
    if isinstance(model, UnitCubeModel) or hasattr(model, "feature_names_in_"):
        return frame
    return frame.to_numpy()


def _in_model_order(model: Any, space: Space) -> Space:
    """``space`` with its parameters in the order of the model's columns when they are the
    same names in another order (``sobol_indices`` and ``morris`` took such a model; this
    refused it)."""
    fitted_on = getattr(model, "feature_names_in_", None)
    names = [] if fitted_on is None else [str(n) for n in fitted_on]
    if names == space.names or sorted(names) != sorted(space.names):
        return space
    return Space([space[n] for n in names])


def _check_features(model: Any, space: Space) -> None:
    names = getattr(model, "feature_names_in_", None)
    if names is not None and [str(n) for n in names] != space.names:
        raise ValueError(f"the model was fitted on columns {list(names)}, the space has "
                         f"{space.names}; pass the space the model was fitted on")
    n_features = getattr(model, "n_features_in_", space.dim)
    if n_features != space.dim:
        raise ValueError(f"the model takes {n_features} inputs, the space has {space.dim}")


def _unit_to_values(space: Space) -> Callable[[torch.Tensor], torch.Tensor]:
    """Differentiable unit cube -> parameter values (integers relaxed between cell centres)."""
    offset, scale, logs = [], [], []
    for p in space:
        if isinstance(p, Real):
            low, high = (math.log(p.low), math.log(p.high)) if p.log else (p.low, p.high)
            offset.append(low)
            scale.append(high - low)
            logs.append(p.log)
        else:  # Integer: u = (v - low + 0.5) / k, so v = low - 0.5 + k u
            assert isinstance(p, Integer)
            offset.append(p.low - 0.5)
            scale.append(float(p.n_levels))
            logs.append(False)
    a = torch.tensor(offset, dtype=torch.float64)
    b = torch.tensor(scale, dtype=torch.float64)
    log = torch.tensor(logs)

    def to_values(unit: torch.Tensor) -> torch.Tensor:
        values = a + unit * b
        return torch.where(log, values.exp(), values)

    return to_values


class _FiniteDifference(torch.autograd.Function):
    """A numpy function of unit points (n, d) -> (n,) with a forward-difference gradient."""

    @staticmethod
    def forward(ctx: Any, unit: torch.Tensor, fn: Callable[[np.ndarray], np.ndarray]
                ) -> torch.Tensor:
        points = unit.detach().numpy()
        values = np.asarray(fn(points), dtype=float)
        ctx.fn, ctx.points, ctx.values = fn, points, values
        return torch.as_tensor(values, dtype=torch.float64)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        points, values = ctx.points, ctx.values
        n, d = points.shape
        # step inward at the upper bound so every probe stays in the unit cube
        step = np.where(points + _FD_STEP <= 1.0, _FD_STEP, -_FD_STEP)  # (n, d)
        probes = np.repeat(points[:, None, :], d, axis=1)
        probes[:, np.arange(d), np.arange(d)] += step
        shifted = np.asarray(ctx.fn(probes.reshape(n * d, d)), dtype=float).reshape(n, d)
        grad = torch.as_tensor((shifted - values[:, None]) / step, dtype=torch.float64)
        return grad * grad_output[:, None], None
