"""Labels for the transfer set: the teacher's answers turned into what the student learns.

``"soft"``: class probabilities, sharpened or flattened by a temperature ``T`` applied to the
teacher's log-probabilities (``softmax(log p / T)``; Hinton, Vinyals & Dean 2015), ``T = 1``
giving the teacher's probabilities exactly. ``"hard"``: the most probable class. ``"value"``:
the teacher's output, for a regression student. A continuous teacher output becomes a class
with a case of interest, ``threshold=("<", 0.0)``: its soft label is the probability of the
case under the teacher's predictive distribution where it has one (Gaussian:
``Phi((v - mean) / std)`` for ``"<"``), the 0/1 case otherwise.
"""

from __future__ import annotations

import numbers
import operator
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import norm

from surrogate._stack import user_stacklevel
from surrogate.distillation._teacher import TeacherAnswer

__all__ = ["Labels", "LABELS", "COMPARE", "make_labels", "tempered", "case_probability",
           "most_probable", "check_threshold", "check_temperature"]

LabelKind = Literal["soft", "hard", "value"]
LABELS: tuple[str, ...] = ("soft", "hard", "value")
COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
CASE_CLASSES = np.array([0, 1])  # a threshold's classes: 1 is the case of interest


def check_threshold(threshold: Any) -> tuple[str, float] | None:
    """``(op, value)`` with op in ``"<", "<=", ">", ">="`` and a finite value, or None."""
    if threshold is None:
        return None
    if (not isinstance(threshold, tuple | list) or len(threshold) != 2
            or threshold[0] not in COMPARE or isinstance(threshold[1], bool)
            or not isinstance(threshold[1], numbers.Real) or not np.isfinite(float(threshold[1]))):
        raise ValueError(f"threshold must be (op, value) with op in {list(COMPARE)} and a finite "
                         f"number, e.g. ('<', 0.0); got {threshold!r}")
    return str(threshold[0]), float(threshold[1])


def check_temperature(temperature: Any) -> float:
    """A finite number > 0."""
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not 0 < float(temperature) < np.inf:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return float(temperature)


def tempered(proba: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)`` per row; ``T = 1`` returns ``proba`` unchanged.

    Examples
    --------
    >>> tempered(np.array([[0.2, 0.8]]), 2.0).round(4).tolist()
    [[0.3333, 0.6667]]
    """
    proba = np.asarray(proba, dtype=float)
    if temperature == 1.0:
        return proba.copy()
    with np.errstate(divide="ignore"):  # log 0 = -inf: a class the teacher rules out stays out
        logits = np.log(proba) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def most_probable(proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The most probable class of each row. With two classes a tie (0.5) goes to the second,
    the case of interest (as PRIM and REDS read a probability >= 0.5); with more, to the
    first of the tied classes.

    Examples
    --------
    >>> most_probable(np.array([[0.5, 0.5], [0.7, 0.3]]), np.array([0, 1])).tolist()
    [1, 0]
    """
    if len(classes) == 2:
        return classes[(proba[:, 1] >= 0.5).astype(int)]
    return classes[np.argmax(proba, axis=1)]


def case_probability(mean: np.ndarray, std: np.ndarray, threshold: tuple[str, float]) -> np.ndarray:
    """P(output <op> value) under a Gaussian predictive distribution ``N(mean, std^2)``.

    Examples
    --------
    >>> case_probability(np.array([0.0, 1.0]), np.array([1.0, 1.0]), ("<", 0.0)).round(4).tolist()
    [0.5, 0.1587]
    >>> case_probability(np.array([0.0, 0.0]), np.array([0.0, 0.0]), ("<=", 0.0)).tolist()
    [1.0, 1.0]
    """
    op, value = threshold
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    below = norm.cdf((value - mean) / np.maximum(std, 1e-300))  # ties have probability 0
    proba = below if op in ("<", "<=") else 1.0 - below
    # a certain prediction (std 0) on the value itself is the case exactly when op allows ties
    certain = np.broadcast_to((std <= 0) & (mean == value), np.shape(proba))
    return np.where(certain, float(op in ("<=", ">=")), proba)


def is_case(values: np.ndarray, threshold: tuple[str, float]) -> np.ndarray:
    """Whether each value is a case of interest, as 0/1 ints."""
    op, value = threshold
    return COMPARE[op](np.asarray(values, dtype=float), value).astype(np.int64)


@dataclass(frozen=True)
class Labels:
    """The transfer set's labels: soft (``proba``, with ``hard`` the most probable class),
    hard (``hard``) or values (``values``)."""

    kind: str
    classes: np.ndarray | None = None  # (k,)
    proba: np.ndarray | None = None  # (n, k)
    hard: np.ndarray | None = None  # (n,)
    values: np.ndarray | None = None  # (n,)

    def __len__(self) -> int:
        return len(self.values if self.kind == "value" else self.hard)  # type: ignore[arg-type]

    def take(self, index: np.ndarray) -> Labels:
        """The labels of the rows ``index`` (integer positions or a mask)."""
        def part(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[index]

        return Labels(self.kind, self.classes, part(self.proba), part(self.hard),
                      part(self.values))

    def columns(self) -> dict[str, np.ndarray]:
        """Label columns for the transfer-set table: ``p(<class>)`` and ``label``, or ``value``."""
        if self.kind == "value":
            return {"value": self.values}  # type: ignore[dict-item]
        columns: dict[str, Any] = {}
        if self.proba is not None:
            for i, c in enumerate(self.classes):  # type: ignore[arg-type]
                columns[f"p({c})"] = self.proba[:, i]
        columns["label"] = self.hard
        return columns


def make_labels(answer: TeacherAnswer, kind: str, *, temperature: float,
                threshold: tuple[str, float] | None) -> Labels:
    """The labels of the rows the teacher answered (``answer`` restricted to them)."""
    if answer.proba is not None:
        if threshold is not None:
            raise ValueError("threshold= turns a continuous teacher output into a case of "
                             "interest; a classifier teacher already gives classes")
        if kind == "value":
            raise ValueError("labels='value' is for a teacher that gives values (regression); "
                             "a classifier teacher gives 'soft' or 'hard' labels")
        classes = np.asarray(answer.classes)
        hard = most_probable(answer.proba, classes)
        if kind == "hard":
            return Labels("hard", classes, hard=hard)
        return Labels("soft", classes, proba=tempered(answer.proba, temperature), hard=hard)
    values = np.asarray(answer.values, dtype=float)
    if threshold is None:
        if kind != "value" and len(values) and np.isin(values, (0.0, 1.0)).all():
            # a fitted object whose predict gives 0/1 or booleans (a PRIM box, a rule set):
            # classes, one-hot as soft labels
            hard = values.astype(np.int64)
            if kind == "hard":
                return Labels("hard", CASE_CLASSES, hard=hard)
            warnings.warn("the teacher's predict gives 0/1 (classes) and no predict_proba: its "
                          "soft labels are its classes, one-hot", UserWarning,
                          stacklevel=user_stacklevel())
            proba = np.column_stack([1.0 - values, values])
            return Labels("soft", CASE_CLASSES, proba=proba, hard=hard)
        if kind != "value":
            raise ValueError(f"the teacher gives values: pass labels='value' (regression), or "
                             f"threshold=(op, value) to make {kind!r} labels of a case of "
                             "interest, e.g. threshold=('<', 0.0)")
        return Labels("value", values=values)
    if kind == "value":
        raise ValueError("labels='value' fits the teacher's values and threshold= makes a case "
                         "of interest for 'soft' or 'hard' labels; give one or the other")
    case = is_case(values, threshold)
    if kind == "hard":
        return Labels("hard", CASE_CLASSES, hard=case)
    if answer.std is not None:
        positive = case_probability(values, answer.std, threshold)
    else:  # no predictive distribution: the case itself
        positive = case.astype(float)
    proba = tempered(np.column_stack([1.0 - positive, positive]), temperature)
    return Labels("soft", CASE_CLASSES, proba=proba, hard=most_probable(proba, CASE_CLASSES))
