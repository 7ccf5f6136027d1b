"""The student inside the loop: one GP of the modelled outputs, plus one of run success.

Part of the sequential-design stage. The GPs are fitted on unit-cube coordinates
(``Space.to_unit``), the coordinates the acquisition optimizer moves, and queried through
``GPRegressor._predict_torch`` so gradients flow. When some runs failed, a further GP regresses
the success indicator (1 ok, 0 failed) on every run and its probability of exceeding 1/2 weights
the acquisition like a constraint: the search is steered away from where the teacher breaks,
without ever inventing output values there.

A :class:`Trainer` fits the student each round. Bayesian optimization refits every
hyperparameter every round (a few dozen runs: cheap, and the model is all it has); an adaptive
design may keep the hyperparameters between full fits and only condition the GP on the new runs
(``refit_growth``): at a thousand runs a full fit costs seconds, conditioning milliseconds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from surrogate._checks import check_flag
from surrogate.space import Categorical, Space

__all__ = ["Student", "Trainer", "UnitCubeModel", "fit_gp", "condition_gp", "categorical_cells",
           "SUCCESS_THRESHOLD"]

SUCCESS_THRESHOLD = 0.5
SUCCESS_MIN_LENGTHSCALE = 0.1  # of the unit cube, for the success GP of a scheduled trainer
MIN_FIT_RUNS = 2  # successful runs a student needs
ALWAYS_REFIT_BELOW = 60  # successful runs below which every round refits the hyperparameters


def categorical_cells(space: Space) -> dict[int, int]:
    """Column -> number of levels, for the space's categorical parameters (their unit-cube
    coordinates are cells, see :mod:`surrogate.space`)."""
    return {i: p.n_levels for i, p in enumerate(space) if isinstance(p, Categorical)}


def fit_gp(U: np.ndarray, Y: np.ndarray, seed: int, model: Any = None,
           cells: dict[int, int] | None = None) -> Any:
    """A GP fitted on unit-cube inputs ``U``: a clone of ``model``, or a default GPRegressor.

    ``Y`` (n,) or (n, m); a single column is passed as (n,) so that ``predict`` returns (n,).
    ``model`` (an unfitted regressor with the ``_predict_torch`` contract) gets ``seed``.
    ``cells`` (:func:`categorical_cells`): a :class:`~surrogate.GPRegressor` models those
    columns as categories, with its kernel made for them; another model sees the cells' unit
    coordinates as numbers.
    """
    from sklearn.base import clone

    from surrogate.models import GPRegressor

    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 2 and Y.shape[1] == 1:
        Y = Y[:, 0]
    estimator = GPRegressor() if model is None else clone(model)
    if "seed" in estimator.get_params():
        estimator.set_params(seed=seed)
    if cells and isinstance(estimator, GPRegressor):
        estimator._cells = dict(cells)
    return estimator.fit(U, Y)


def condition_gp(gp: Any, U: np.ndarray, Y: np.ndarray, *,
                 min_lengthscale: float | None = None) -> Any | None:
    """A copy of an exact :class:`~surrogate.GPRegressor` conditioned on ``(U, Y)`` with its
    hyperparameters (length scales, nugget) kept; None where the model cannot be conditioned.

    The input scaling of the first fit is kept (its length scales are in those units); the
    outputs are standardized afresh and the constant mean and signal variance re-profiled in
    closed form, as a fit does for given length scales. ``min_lengthscale`` (in the units of
    ``U``) raises shorter length scales to it.
    """
    try:
        if gp.method_ != "exact":
            return None
        from surrogate.models._base import column_scale, to_tensor

        Y2 = np.asarray(Y, dtype=float).reshape(len(U), -1)
        if Y2.shape[1] != gp._hyper.lengthscale.shape[0]:  # other outputs (a field's basis
            return None  # grew a component): only a fit can model them
        new = copy.copy(gp)
        new._y_mean = Y2.mean(axis=0)
        new._y_std = column_scale(Y2)
        device = gp._U.device
        with torch.no_grad():
            units = gp._coordinates(to_tensor(np.asarray(U, dtype=float), device))
        scaled = to_tensor(((Y2 - new._y_mean) / new._y_std).T, device)  # (m, n)
        h = gp._hyper
        lengthscale = h.lengthscale
        if min_lengthscale is not None:
            floor = torch.as_tensor(min_lengthscale / gp._x_scale, dtype=lengthscale.dtype,
                                    device=device)
            lengthscale = torch.maximum(lengthscale, floor)
        theta = torch.cat([lengthscale.log(), h.g.log()[:, None]], dim=1)
        new._condition(units, scaled, theta)
        new._set_public_attributes()
        new.n_samples_fit_ = len(U)
        new.data_min_, new.data_max_ = np.min(U, axis=0), np.max(U, axis=0)
        categorical = list(gp._input_encoding.positions)  # no range, as a fit records
        new.data_min_[categorical] = new.data_max_[categorical] = np.nan
        return new
    except AttributeError:  # a model without the exact GP's state: the caller refits
        return None


@dataclass(frozen=True)
class Posterior:
    """The student's posterior at a batch of unit-cube points (torch, float64).

    Attributes
    ----------
    mean, var : Tensor of shape (n, m)
        Of the modelled outputs (as the acquisition's ``targets`` transformed them).
    success_mean, success_var : Tensor of shape (n,) or None
        Of the run-success GP; None while no run has failed.
    success_is_probability : bool
        Read the success GP's mean as the probability that a run succeeds (a smoother of the
        0/1 indicator) rather than ``P(success GP >= 1/2)``.
    """

    mean: torch.Tensor
    var: torch.Tensor
    success_mean: torch.Tensor | None = None
    success_var: torch.Tensor | None = None
    success_is_probability: bool = False


@dataclass(frozen=True)
class Student:
    """Fitted GPs for the modelled outputs and, once a run has failed, for run success.

    ``outputs`` predicts an (n, m) array at unit-cube points, in the acquisition's target
    coordinates (e.g. the objective times ``sign`` for Bayesian optimization).
    """

    outputs: Any
    success: Any | None = None
    success_is_probability: bool = False

    def posterior(self, unit: torch.Tensor) -> Posterior:
        """Mean and variance (n, m) of the outputs, and (n,) of the success GP (or None)."""
        mean, var = self.outputs._predict_torch(unit)
        if self.success is None:
            return Posterior(mean, var)
        s_mean, s_var = self.success._predict_torch(unit)
        return Posterior(mean, var, s_mean[:, 0], s_var[:, 0], self.success_is_probability)


def fit_student(U_ok: np.ndarray, Y_ok: np.ndarray, U_all: np.ndarray, success: np.ndarray,
                seed: int, model: Any = None, cells: dict[int, int] | None = None) -> Student:
    """Fit the output GP on the successful runs and, if any run failed, the success GP.

    ``success`` holds 1 for a successful run and 0 for a failed one (believed batch points
    carry the success GP's own prediction).
    """
    outputs = fit_gp(U_ok, Y_ok, seed, model, cells)
    if (success >= 1.0).all():
        return Student(outputs)
    return Student(outputs, fit_gp(U_all, success, seed + 1, success_template(model), cells))


def success_template(model: Any) -> Any:
    """The success GP's template: a default GPRegressor, on the output model's device (None:
    the default one, on the CPU)."""
    from surrogate.models import GPRegressor

    device = getattr(model, "device", "cpu")
    return None if str(device) == "cpu" else GPRegressor(device=device)


@dataclass
class Trainer:
    """Fits the student of each round (see the module docstring).

    Parameters
    ----------
    model : regressor, optional
        Unfitted template of the output GP (cloned per fit); default ``GPRegressor``.
    refit_growth : float or None
        ``None``: every fit optimizes the hyperparameters. A number ``g > 1``: the
        hyperparameters are optimized when the successful runs have grown by the factor ``g``
        since the last full fit (and always below ALWAYS_REFIT_BELOW runs); other rounds, and
        believed batch points, condition the last full fit on the data. Which rounds refit
        depends only on the run counts, so a resumed design fits what an uninterrupted one
        did.
    cells : dict, optional
        The space's categorical columns (:func:`categorical_cells`), modelled as categories.
    """

    model: Any = None
    refit_growth: float | None = None
    cells: dict[int, int] | None = None
    _cache: dict[int, Any] = field(default_factory=dict, repr=False)

    def fit(self, U_ok: np.ndarray, Y_ok: np.ndarray, U_all: np.ndarray, success: np.ndarray,
            seed: int, *, counts: Sequence[int] = (), seed_at: Callable[[int], int] | None = None,
            prefix: Callable[[int], tuple[np.ndarray, np.ndarray]] | None = None) -> Student:
        """The student on the given runs.

        ``counts[t]`` is the number of successful runs the student of round ``t + 1`` saw (the
        last entry is this round's); ``seed_at(t)`` the seed round ``t`` fits with and
        ``prefix(t)`` its (U_ok, Y_ok). Only used with ``refit_growth``.
        """
        if self.refit_growth is None or seed_at is None or prefix is None or not counts:
            return fit_student(U_ok, Y_ok, U_all, success, seed, self.model, self.cells)
        last = self._last_full_fit(counts)
        if last == len(counts):  # this round refits
            outputs = self._full_fit(last, counts, seed_at, lambda t: (U_ok, Y_ok)
                                     if t == last else prefix(t))
        else:
            outputs = condition_gp(self._full_fit(last, counts, seed_at, prefix), U_ok, Y_ok)
            if outputs is None:
                outputs = fit_gp(U_ok, Y_ok, seed, self.model, self.cells)
        return Student(outputs, self._success(U_all, success, seed, self.model, self.cells), True)

    def _full_fit(self, t: int, counts: Sequence[int], seed_at: Callable[[int], int],
                  prefix: Callable[[int], tuple[np.ndarray, np.ndarray]]) -> Any:
        """The student GP of refit round ``t``: a fresh fit, unless the hyperparameters of the
        previous refit round, conditioned on round ``t``'s runs, have the higher likelihood
        there (summed over outputs) -- then those, carried over.

        The likelihood of a GP's hyperparameters often has two modes on smooth simulators: one
        that explains small effects of some inputs as noise (their length scales at the bound)
        and one that models them. The restarts of one fit may miss the better mode (it sometimes
        looks worse in the first iterations); carrying the best found so far means a design
        never falls back from it. A resumed design rebuilds the chain of refits from the run
        counts, so it fits what an uninterrupted one did.
        """
        if t in self._cache:
            return self._cache[t]
        U, Y = prefix(t)
        fresh = fit_gp(U, Y, seed_at(t), self.model, self.cells)
        before = self._last_full_fit(counts[:t - 1]) if t > 1 else None
        if before is not None and counts[before - 1] >= MIN_FIT_RUNS:  # else nothing to carry
            carried = condition_gp(self._full_fit(before, counts, seed_at, prefix), U, Y)
            if carried is not None and getattr(fresh, "method_", None) == "exact" \
                    and _nll(carried) < _nll(fresh):
                fresh = carried
        self._cache = {t: fresh}  # the chain only ever needs its last link
        return fresh

    def believe(self, student: Student, U_ok: np.ndarray, Y_ok: np.ndarray, U_all: np.ndarray,
                success: np.ndarray, seed: int) -> Student:
        """The student with believed batch points added (Kriging believer)."""
        if self.refit_growth is None:
            return fit_student(U_ok, Y_ok, U_all, success, seed, self.model, self.cells)
        outputs = condition_gp(student.outputs, U_ok, Y_ok)
        if outputs is None:
            return fit_student(U_ok, Y_ok, U_all, success, seed, self.model, self.cells)
        return Student(outputs, self._success(U_all, success, seed, self.model, self.cells), True)

    def impute_failures(self, student: Student, U_all: np.ndarray, ok: np.ndarray,
                        U_ok: np.ndarray, Y_ok: np.ndarray
                        ) -> tuple[Student, np.ndarray, np.ndarray]:
        """The student for choosing runs, and its data: the failed runs imputed at the
        student's own mean (Forrester, Sobester & Keane 2006), so that the variance there,
        which no run can reduce, stops attracting the design. Unchanged when every run
        succeeded. Optimization too: without it, beside an optimum that borders a region the
        teacher cannot run, the variance there kept drawing expected improvement (10-15 of 20
        runs failed where a quarter of the space fails)."""
        if ok.all():
            return student, U_ok, Y_ok
        failed = U_all[~ok]
        with torch.no_grad():
            believed = student.outputs._predict_torch(torch.as_tensor(failed))[0].numpy()
        U = np.vstack([U_ok, failed])
        Y = np.vstack([Y_ok.reshape(len(U_ok), -1), believed])
        outputs = condition_gp(student.outputs, U, Y)
        if outputs is None:
            return student, U_ok, Y_ok
        return Student(outputs, student.success, student.success_is_probability), U, Y

    @staticmethod
    def _success(U_all: np.ndarray, success: np.ndarray, seed: int, model: Any,
                 cells: dict[int, int] | None) -> Any:
        """The success GP of a scheduled trainer (None while every run succeeded), read as a
        smoother of the 0/1 indicator, its length scales at least SUCCESS_MIN_LENGTHSCALE.

        A GP fitted to the step between succeeding and failing runs shrinks its length scale
        to the gap between the two nearest, or takes the step for noise; either way
        ``P(GP >= 1/2)`` between failures stays near its prior, and a design that seeks
        variance (as the adaptive goals do; optimization seeks improvement, which a failing
        region rarely offers) would keep probing a region the teacher cannot run."""
        if (success >= 1.0).all():
            return None
        gp = fit_gp(U_all, success, seed + 1, success_template(model), cells)
        return condition_gp(gp, U_all, success, min_lengthscale=SUCCESS_MIN_LENGTHSCALE) or gp

    def _last_full_fit(self, counts: Sequence[int]) -> int:
        """The (1-based) round whose student last optimized its hyperparameters."""
        assert self.refit_growth is not None
        last = 1
        for t, n_ok in enumerate(counts, start=1):
            if n_ok < ALWAYS_REFIT_BELOW or n_ok >= self.refit_growth * counts[last - 1]:
                last = t
        return last


def _nll(gp: Any) -> float:
    """Negative log likelihood per point of a fitted exact GP, summed over its outputs (inf
    where the model does not have one)."""
    hyper = getattr(gp, "_hyper", None)
    nll = getattr(hyper, "nll", None)
    if nll is None:
        return float("inf")
    value = float(torch.as_tensor(nll).sum())
    return value if np.isfinite(value) else float("inf")


class UnitCubeModel:
    """A GP fitted on unit-cube coordinates, seen in the space's own coordinates.

    ``predict(X)`` takes a design (DataFrame with the space's columns, or an array in space
    order), maps it with ``space.to_unit`` and returns the GP's prediction of ``outputs_``
    (for an optimization: the objective first, then any constrained outputs) in their
    original sign.

    Parameters
    ----------
    estimator : GPRegressor
        Fitted on ``space.to_unit(X)``.
    space : Space
    outputs : list of str
    signs : sequence of float
        Multiplies each output's mean (``-1`` where the loop modelled a negated objective).

    Attributes
    ----------
    estimator_ : GPRegressor
    space_ : Space
    outputs_ : list of str

    Examples
    --------
    >>> import numpy as np
    >>> from surrogate.models import GPRegressor
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", 0.0, 10.0)])
    >>> U = np.linspace(0, 1, 9)[:, None]
    >>> model = UnitCubeModel(GPRegressor(seed=0).fit(U, U[:, 0]), space, ["y"], [1.0])
    >>> round(float(model.predict([[5.0]])[0]), 3)
    0.5
    """

    def __init__(self, estimator: Any, space: Space, outputs: list[str],
                 signs: Any) -> None:
        self.estimator_ = estimator
        self.space_ = space
        self.outputs_ = list(outputs)
        self.signs_ = np.asarray(signs, dtype=float)

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predicted outputs (n,) for one output or (n, m), and their std with ``return_std``."""
        check_flag("return_std", return_std)
        mean, std = self.estimator_.predict(self.space_.to_unit(X), return_std=True)
        mean = np.asarray(mean) * (self.signs_[0] if mean.ndim == 1 else self.signs_)
        return (mean, std) if return_std else mean

    def score(self, X: Any, y: Any) -> float:
        """Q² of the predictions at the design ``X`` against ``y`` (over the whole field for a
        field model), as the estimator's own ``score`` gives on unit-cube inputs. ``y`` may be
        a DataFrame of more outputs, such as a teacher's ``runs.Y``: the modelled ones
        (``outputs_``) are read from it."""
        if isinstance(y, pd.DataFrame) and not self._field_model \
                and set(self.outputs_) <= set(y.columns):
            y = y[self.outputs_[0]] if len(self.outputs_) == 1 else y[self.outputs_]
        if np.all(self.signs_ == 1.0):
            return float(self.estimator_.score(self.space_.to_unit(X), y))
        from surrogate.models import q2
        return float(q2(np.asarray(y, dtype=float), self.predict(X)))

    # a field model's description, read by sobol_indices, cross_validate and plot.fan
    @property
    def _field_model(self) -> bool:
        return bool(getattr(self.estimator_, "_field_model", False))

    @property
    def field_(self) -> Any:
        return self._field_attribute("field_")

    @property
    def grid_(self) -> Any:
        return self._field_attribute("grid_")

    def _field_attribute(self, name: str) -> Any:
        if not self._field_model:
            raise AttributeError(f"{name} belongs to a field model; this one models "
                                 f"{self.outputs_}")
        return getattr(self.estimator_, name)

    def save(self, path: Any) -> None:
        """Write the model to the directory ``path`` (the GP by its own ``save``, the space
        and outputs as JSON); read it back with :func:`surrogate.load`. Nothing is pickled."""
        from surrogate.sequential._model_io import save

        save(self, path)

    def predict_unit_torch(self, unit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance (n, m) at unit-cube points, differentiable, in original sign."""
        mean, var = self.estimator_._predict_torch(unit)
        signs = torch.as_tensor(self.signs_, dtype=mean.dtype)
        return mean * signs, var

    def __repr__(self) -> str:
        return f"UnitCubeModel({type(self.estimator_).__name__}, outputs={self.outputs_})"
