"""Fidelity: how well the student (Model B) agrees with its teacher (Model A), always measured.

Three figures, by the kind of label: **agreement** (share of points where the student predicts
the teacher's class) for classes, **Q²** (``1 - SSE / SST`` against the teacher's values) for
values, and the **probability gap** (mean total-variation distance between the student's and
the teacher's class probabilities, ``0.5 sum_c |p_c - q_c|``: for two classes the mean absolute
difference of the case-of-interest probability) for soft labels.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from surrogate._checks import number_text
from surrogate._stack import user_stacklevel
from surrogate.distillation._labels import COMPARE, Labels
from surrogate.distillation._student import StudentView

__all__ = ["agreement", "q2", "probability_gap", "measure", "true_classes", "METRICS"]

# the figure reported as ``holdout`` / ``data`` for each kind of label
METRICS = {"soft": "agreement", "hard": "agreement", "value": "q2"}  # higher is better


def agreement(a: Any, b: Any) -> float:
    """Share of positions where ``a`` and ``b`` are equal.

    Examples
    --------
    >>> agreement([0, 1, 1, 2], [0, 1, 2, 2])
    0.75
    """
    a, b = np.asarray(a), np.asarray(b)
    return float(np.mean(a == b))


def q2(truth: Any, predicted: Any) -> float:
    """``1 - SSE / SST`` (NaN when the truth is constant).

    Examples
    --------
    >>> q2([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    truth = np.asarray(truth, dtype=float).ravel()
    predicted = np.asarray(predicted, dtype=float).ravel()
    total = float(((truth - truth.mean()) ** 2).sum())
    if total == 0.0:
        return float("nan")
    return 1.0 - float(((truth - predicted) ** 2).sum()) / total


def probability_gap(teacher: Any, student: Any) -> float:
    """Mean over rows of ``0.5 * sum_c |teacher_c - student_c|`` for (n, k) probabilities.

    Examples
    --------
    >>> probability_gap([[0.25, 0.75], [1.0, 0.0]], [[0.5, 0.5], [1.0, 0.0]])
    0.125
    """
    teacher, student = np.asarray(teacher, dtype=float), np.asarray(student, dtype=float)
    return float(np.mean(0.5 * np.abs(teacher - student).sum(axis=1)))


def measure(view: StudentView, X: Any, labels: Labels) -> dict[str, float | None]:
    """The student's fidelity to the teacher's ``labels`` at ``X``: ``"value"``, the figure of
    their kind (Q² for values, the agreement for classes), ``"agreement"`` (classes) and, for
    soft labels, ``"gap"`` (the probability gap, lower is better)."""
    if len(labels) == 0:
        return {"value": None, "agreement": None, "gap": None}
    if labels.kind == "value":
        return {"value": q2(labels.values, view.values(X)), "agreement": None, "gap": None}
    agree = agreement(view.predict(X), labels.hard)
    gap = probability_gap(labels.proba, view.proba(X)) if labels.kind == "soft" else None
    return {"value": agree, "agreement": agree, "gap": gap}


def true_classes(y: Any, labels: Labels, threshold: tuple[str, float] | None) -> np.ndarray:
    """Data 1's true labels in the teacher's classes. With a threshold, a boolean ``y``, or a
    numeric one of only 0 and 1, is the case of interest itself (1: the case); other numbers
    are the teacher's output, compared with the threshold. A 0/1 ``y`` that the threshold
    would read otherwise (``("<", 0.5)`` makes 0 the case) may be either: it is read as the
    case, with a warning saying how to give it as an output."""
    y = np.asarray(y).ravel()
    if threshold is None or y.dtype == bool:
        return y
    values = y.astype(float)
    op, value = threshold
    if not np.isin(values, (0.0, 1.0)).all():
        return COMPARE[op](values, value).astype(np.int64)
    met = [v for v in (0, 1) if COMPARE[op](float(v), value)]
    if met != [1]:
        warnings.warn(
            f"Data 1's y holds only 0 and 1, read as the case of interest (1) or not (0); as "
            f"the teacher's output, the threshold {op} {number_text(value)} would make "
            f"{' and '.join(f'y = {v}' for v in met) or 'neither'} the case: if y is that "
            f"output, pass the booleans y {op} {number_text(value)} instead", UserWarning,
            stacklevel=user_stacklevel())
    return values.astype(np.int64)
