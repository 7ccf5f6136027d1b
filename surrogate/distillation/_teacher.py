"""Teachers for distillation: one adapter over a simulator, a fitted model or a plain function.

Distillation asks its teacher (Model A) about the transfer set's inputs. :func:`as_teacher`
wraps each kind behind one method, :meth:`Teacher.answer`, returning class probabilities
(a classifier) or values with, where the teacher has one, a predictive standard deviation
(a regressor, a simulator, a callable). Simulators -- and callables, wrapped as one -- run
through :meth:`Simulator.run`, so executors and checkpoints work as usual and a failed run is
recorded, not raised.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from surrogate._identity import PointFunction
from surrogate._target import _is_classifier, _output_index
from surrogate.data import TransferSet
from surrogate.space import Space, as_space
from surrogate.teacher import Simulator, refuse_field_output

__all__ = ["Teacher", "TeacherAnswer", "as_teacher", "model_input"]


PROBE_RUNS = 8  # a simulator's first runs, checked before the others (see Teacher.answer)


@dataclass(frozen=True)
class TeacherAnswer:
    """What the teacher said about ``n`` inputs (rows where ``ok`` is False carry no answer)."""

    ok: np.ndarray  # (n,) bool
    proba: np.ndarray | None = None  # (n, k) class probabilities, classifier teachers
    classes: np.ndarray | None = None  # (k,)
    values: np.ndarray | None = None  # (n,) outputs or predicted means
    std: np.ndarray | None = None  # (n,) predictive standard deviations, where known
    runs: TransferSet | None = None  # every run, failed ones included (simulator teachers)
    hard_only: bool = False  # a classifier without predict_proba: proba is one-hot


def model_input(model: Any, frame: pd.DataFrame) -> Any:
    """``frame`` as ``model`` was fitted: by column name when it knows them, else as an array."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return frame.to_numpy()
    missing = [str(c) for c in names if c not in frame.columns]
    if missing:
        raise ValueError(f"{type(model).__name__} was fitted on columns {list(map(str, names))}; "
                         f"the transfer set lacks {missing}")
    return frame[list(names)]


class Teacher:
    """Model A behind one interface (built by :func:`as_teacher`; not public).

    Attributes
    ----------
    model : Simulator or estimator
        What answers (a callable teacher is wrapped in a :class:`Simulator`).
    kind : {"simulator", "classifier", "regressor"}
    space : Space or None
        The simulator's space (None for fitted models).
    output : str or int or None
        Which output of a simulator or multi-output regressor is the teacher's.
    """

    def __init__(self, model: Any, kind: str, space: Space | None, output: Any) -> None:
        self.model = model
        self.kind = kind
        self.space = space
        self.output = output

    def describe(self) -> str:
        if isinstance(self.model, Simulator):
            return f"Simulator {self.model.name!r}"
        return type(self.model).__name__

    def answer(self, X: pd.DataFrame, *, want_std: bool, executor: Any = "serial",
               checkpoint: Any = None, probe: Callable[[np.ndarray], Any] | None = None
               ) -> TeacherAnswer:
        """Ask the teacher about the inputs ``X`` (a DataFrame). ``probe``: a check of a
        simulator's first answers (their finite values) that raises when the rest cannot be
        used, so that a campaign without a checkpoint (whose runs would be lost) stops after
        PROBE_RUNS runs rather than all of them."""
        if self.kind == "simulator":
            runs = self._run(X, executor, checkpoint, probe)
            values = runs.Y[self.output].to_numpy(dtype=float)
            return TeacherAnswer(ok=runs.ok & np.isfinite(values), values=values, runs=runs)
        features = model_input(self.model, X)
        if self.kind == "classifier":
            return self._classify(features)
        return self._regress(features, want_std)

    def _run(self, X: pd.DataFrame, executor: Any, checkpoint: Any,
             probe: Callable[[np.ndarray], Any] | None) -> TransferSet:
        if probe is None or checkpoint is not None or len(X) <= 2 * PROBE_RUNS:
            return self.model.run(X, executor=executor, checkpoint=checkpoint)
        first = self.model.run(X.iloc[:PROBE_RUNS], executor=executor)
        values = first.Y[self.output].to_numpy(dtype=float)
        if np.isfinite(values).any():
            probe(values[np.isfinite(values)])
        rest = self.model.run(X.iloc[PROBE_RUNS:], executor=executor)
        return TransferSet.concat([first, rest])

    def _classify(self, features: Any) -> TeacherAnswer:
        model = self.model
        classes = getattr(model, "classes_", None)
        if hasattr(model, "predict_proba"):
            proba = np.asarray(model.predict_proba(features), dtype=float)
            if classes is None:
                classes = np.arange(proba.shape[1])
            hard_only = False
        else:  # e.g. SVC(probability=False): classes only
            predicted = np.asarray(model.predict(features))
            classes = np.unique(predicted) if classes is None else np.asarray(classes)
            proba = (predicted[:, None] == classes[None, :]).astype(float)
            hard_only = True
        ok = np.isfinite(proba).all(axis=1)
        return TeacherAnswer(ok=ok, proba=proba, classes=np.asarray(classes), hard_only=hard_only)

    def _regress(self, features: Any, want_std: bool) -> TeacherAnswer:
        model = self.model
        std = None
        if want_std and "return_std" in inspect.signature(model.predict).parameters:
            mean, std = model.predict(features, return_std=True)
        else:
            mean = model.predict(features)
        mean = self._column(np.asarray(mean, dtype=float))
        ok = np.isfinite(mean)
        if std is not None:
            std = self._column(np.asarray(std, dtype=float))
            ok &= np.isfinite(std)
        return TeacherAnswer(ok=ok, values=mean, std=std)

    def _column(self, array: np.ndarray) -> np.ndarray:
        names = getattr(self.model, "outputs_", None)
        names = list(names) if names is not None else None
        if array.ndim == 1:  # one output: an output= must still name it
            if self.output is not None:
                _output_index(names, self.output, 1, type(self.model).__name__)
            return array
        return array[:, _output_index(names, self.output, array.shape[1],
                                      type(self.model).__name__)]


def as_teacher(teacher: Any, *, space: Any = None, output: Any = None) -> Teacher:
    """Wrap ``teacher`` (Simulator, fitted estimator, or callable with ``space``).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        For an estimator that has not been fitted.
    ValueError, TypeError
        For a callable without ``space``, an unknown ``output`` or an unusable object.
    """
    if isinstance(teacher, Simulator):
        if space is not None and as_space(space) != teacher.space:
            raise ValueError("space= differs from the simulator teacher's own space; leave it out")
        refuse_field_output(teacher, output, "distillation", scalar_only=True)
        names = list(teacher.outputs)
        column = names[_output_index(names, output, len(names), f"teacher {teacher.name!r}")]
        return Teacher(teacher, "simulator", teacher.space, column)
    if isinstance(teacher, type):
        raise TypeError(f"teacher must be a fitted estimator instance (or a Simulator or a "
                        f"function), got the class {teacher.__name__}: fit {teacher.__name__}() "
                        "on Data 1 first")
    if hasattr(teacher, "predict_proba") or hasattr(teacher, "predict"):
        _check_fitted(teacher)
        if hasattr(teacher, "predict_proba") or _is_classifier(teacher):
            if output is not None:
                raise ValueError("output= selects an output of a simulator or a multi-output "
                                 "regressor; a classifier teacher has none")
            return Teacher(teacher, "classifier", None, None)
        return Teacher(teacher, "regressor", None, output)
    if callable(teacher):
        if space is None:
            raise ValueError("space= is required when the teacher is a plain function (it is "
                             "called with one point as a dict of parameter values)")
        # its own name and code (a partial of one shared wrapper made every function look
        # alike to a checkpoint: another teacher's labels came back)
        space = as_space(space)
        wrapped = Simulator(PointFunction(teacher, space.names), space, "y")
        return Teacher(wrapped, "simulator", wrapped.space, "y")
    raise TypeError(
        "teacher must be a surrogate.Simulator, a fitted estimator with predict_proba or "
        f"predict, or a callable taking a dict of parameters; got {type(teacher).__name__}"
    )


def _check_fitted(teacher: Any) -> None:
    if not hasattr(teacher, "fit"):
        return  # a ready-made predictor (no fit method): nothing to check
    try:
        check_is_fitted(teacher)
    except NotFittedError:
        raise NotFittedError(
            f"the teacher {type(teacher).__name__} is not fitted; fit it on Data 1 first "
            "(distill uses a fitted model as it is)"
        ) from None


def warn_hard_only(answer: TeacherAnswer, labels: str) -> None:
    """Soft labels asked of a classifier that gives classes only: they are one-hot. (A teacher
    whose predict gives 0/1 is warned of where its labels are made, ``make_labels``; a value
    teacher with a threshold and no standard deviation -- a simulator -- can only give 0/1:
    ``str()`` of the result says so.)"""
    if answer.hard_only and labels == "soft":
        warnings.warn("the teacher has no predict_proba (e.g. SVC without probability=True): "
                      "its soft labels are its classes, one-hot", UserWarning, stacklevel=3)
