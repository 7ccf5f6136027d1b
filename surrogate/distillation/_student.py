"""Students for distillation: how each kind of estimator learns the transfer set's labels.

Soft labels reach every student (Model B), by the route its ``fit`` allows:

* a **classifier** (scikit-learn's estimator type) cannot take probabilities as ``y``: it gets
  them as class-weighted duplicates -- each point once per class, with ``sample_weight`` the
  teacher's probability of that class -- when its ``fit`` takes ``sample_weight``; otherwise
  the hard labels, with a warning;
* a **regressor** fits them as targets: the probability of the positive class for two classes,
  the (n, k) probability matrix for more; its prediction is read back as the most probable
  class. A (multi-output) ``DecisionTreeRegressor`` on the probabilities grows the same splits
  as a Gini ``DecisionTreeClassifier`` on the class-weighted duplicates (the squared error of
  the probabilities is their Gini impurity up to a constant), from a k-th of the rows;
* :class:`~surrogate.distillation.PrunedTree` -- a classifier with ``sample_weight`` -- takes the
  duplicates back to one point with the teacher's probabilities and fits its leaf budget for
  the most probability mass classified right (the route for a small readable tree);
* anything else (the boxes of :class:`surrogate.PRIM` and :class:`surrogate.CART`, whose
  ``fit`` takes floats in [0, 1]) gets the probability of the positive class (two classes
  only).

Hard labels go to classifiers as classes and to the others as 0/1; values (``labels="value"``)
to any student but a classifier. :class:`StudentView` reads a fitted student's predictions back
in the teacher's terms (class probabilities, classes, values) for fidelity.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils.validation import has_fit_parameter

from surrogate.distillation._labels import Labels, most_probable
from surrogate.space import numbered_categories

__all__ = ["check_student", "fit_student", "StudentView", "student_size"]


def check_student(student: Any) -> Any:
    """An unfitted copy of ``student`` (scikit-learn's ``clone``, else a deep copy)."""
    if isinstance(student, type):
        raise TypeError(f"student must be an estimator instance, e.g. {student.__name__}(), "
                        "not the class")
    if not callable(getattr(student, "fit", None)):
        raise TypeError(f"student must be an estimator with fit(X, y), got "
                        f"{type(student).__name__}")
    try:
        return clone(student)
    except TypeError:  # not a scikit-learn estimator (no get_params): copy it as it is
        return copy.deepcopy(student)


def learns_a_case(student: Any) -> bool:
    """Whether ``student`` learns a case of interest rather than values: a classifier, or a
    box finder (PRIM, CART: it has ``box()``)."""
    return is_classifier(student) or callable(getattr(student, "box", None))


def check_value_student(student: Any) -> None:
    """Refuse, before the teacher runs, to fit values (``labels='value'``) to a student that
    learns a case of interest."""
    if learns_a_case(student):
        raise ValueError(f"labels='value' fits the teacher's values, and student "
                         f"{type(student).__name__} learns a case of interest (classes or "
                         "boxes): pass labels='soft' or 'hard' with threshold=(op, value), or "
                         "a regressor student")


def check_categories(student: Any, X: Any) -> None:
    """Refuse a student that would meet categorical columns it cannot read (strings): ours
    (``accepts_categories``) and pipelines (whose own encoder is the user's) take them."""
    from sklearn.pipeline import Pipeline

    if not isinstance(X, pd.DataFrame) or getattr(student, "accepts_categories", False) \
            or isinstance(student, Pipeline):
        return
    columns = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if columns:
        raise ValueError(
            f"student {type(student).__name__} cannot take the categorical input(s) {columns}: "
            f"{type(student).__name__} reads numbers only; use PRIM, CART or one of "
            "surrogate's GP or NN models, or a scikit-learn pipeline that encodes them, e.g. "
            "make_pipeline(make_column_transformer((OneHotEncoder(), "
            f"{columns}), remainder='passthrough'), {type(student).__name__}())")


def student_features(student: Any, X: pd.DataFrame, space: Any) -> pd.DataFrame:
    """The design as ``student`` should read it: for a student that takes categories
    (``accepts_categories``), each ``Categorical`` of numbers of ``space`` as categories of its
    declared levels, not the ordered numbers of an ``object`` column (see
    :func:`~surrogate.space.numbered_categories`); else ``X`` as it is."""
    if space is None or not getattr(student, "accepts_categories", False):
        return X
    return numbered_categories(space, X)


def _kind(student: Any) -> str:
    if is_classifier(student):
        return "classifier"
    if is_regressor(student):
        return "regressor"
    return "other"


def _rows(X: Any, index: np.ndarray) -> Any:
    return X.iloc[index].reset_index(drop=True) if isinstance(X, pd.DataFrame) else X[index]


def fit_student(student: Any, X: Any, labels: Labels) -> str:
    """Fit ``student`` on ``(X, labels)`` in place; return the route taken (for the record)."""
    kind, name = _kind(student), type(student).__name__
    if labels.kind == "value":
        if kind == "classifier":
            raise ValueError(f"labels='value' needs a regressor student; {name} is a classifier")
        student.fit(X, labels.values)
        return "values"
    classes = np.asarray(labels.classes)
    if kind == "classifier":
        if labels.kind == "hard":
            student.fit(X, labels.hard)
            return "classes"
        weight_key = _sample_weight_key(student)
        if weight_key is not None:
            rows = np.tile(np.arange(len(labels)), len(classes))
            weight = labels.proba.T.ravel()  # type: ignore[union-attr]  # class by class
            keep = weight > 0
            student.fit(_rows(X, rows[keep]), np.repeat(classes, len(labels))[keep],
                        **{weight_key: weight[keep]})
            return "class-weighted duplicates"
        warnings.warn(f"{name}.fit takes no sample_weight, so it cannot learn soft labels; it "
                      "is fitted on the teacher's hard labels", UserWarning, stacklevel=3)
        student.fit(X, labels.hard)
        return "classes (no sample_weight)"
    if len(classes) != 2 and (kind == "other" or labels.kind == "hard"):
        raise ValueError(f"student {name} learns a case of interest (two classes) from "
                         f"{labels.kind} labels; the teacher has {len(classes)} classes")
    if labels.kind == "hard":
        student.fit(X, (labels.hard == classes[1]).astype(float))
        return "0/1 labels"
    proba = labels.proba
    student.fit(X, proba[:, 1] if len(classes) == 2 else proba)  # type: ignore[index]
    return "probabilities"


def _sample_weight_key(student: Any) -> str | None:
    """The fit argument that takes sample weights: ``sample_weight``, or for a Pipeline its
    last step's (``<step>__sample_weight``, a pipeline's own routing); None without one."""
    from sklearn.pipeline import Pipeline

    if isinstance(student, Pipeline):
        name, last = student.steps[-1]
        if last is not None and last != "passthrough" and has_fit_parameter(last, "sample_weight"):
            return f"{name}__sample_weight"
        return None
    return "sample_weight" if has_fit_parameter(student, "sample_weight") else None


class StudentView:
    """A fitted student's predictions in the teacher's terms.

    Parameters
    ----------
    student : fitted estimator
    classes : ndarray or None
        The teacher's classes (None for values).
    """

    def __init__(self, student: Any, classes: np.ndarray | None) -> None:
        self.student = student
        self.classes = classes
        self.kind = _kind(student)

    def values(self, X: Any) -> np.ndarray:
        return np.asarray(self.student.predict(X), dtype=float)

    def has_proba(self) -> bool:
        return self.classes is not None and (
            hasattr(self.student, "predict_proba") or self.kind != "classifier")

    def proba(self, X: Any) -> np.ndarray:
        """(n, k) probabilities of the teacher's classes."""
        classes = np.asarray(self.classes)
        student = self.student
        if hasattr(student, "predict_proba"):
            given = np.asarray(student.predict_proba(X), dtype=float)
            own = list(getattr(student, "classes_", classes))
            proba = np.zeros((len(given), len(classes)))
            for j, c in enumerate(own):  # a class the student never saw keeps probability 0
                proba[:, list(classes).index(c)] = given[:, j]
            return proba
        if self.kind == "classifier":  # no probabilities (LinearSVC): its class, one-hot
            said = np.asarray(student.predict(X))
            return (said[:, None] == classes[None, :]).astype(float)
        if len(classes) == 1:  # a teacher that labels every point alike
            return np.ones((X.shape[0] if hasattr(X, "shape") else len(X), 1))
        if self.kind == "other" and hasattr(student, "boxes_"):
            positive = _box_probability(student, X)
        else:
            positive = self.values(X)
            if positive.ndim == 2:  # a regressor fitted on the (n, k) probability matrix
                proba = np.clip(positive, 0.0, None)
                total = proba.sum(axis=1, keepdims=True)
                return np.where(total > 0, proba / np.where(total > 0, total, 1.0),
                                1.0 / len(classes))
        positive = np.clip(positive, 0.0, 1.0)
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class of each row (or value, without classes)."""
        if self.classes is None:
            return self.student.predict(X)
        classes = np.asarray(self.classes)
        if self.kind == "classifier":
            return np.asarray(self.student.predict(X))
        if self.kind == "other" and hasattr(self.student, "boxes_") \
                and hasattr(self.student, "predict"):
            # a PRIM box reads "inside the box: case of interest"
            return classes[np.asarray(self.student.predict(X)).astype(bool).astype(int)]
        return most_probable(self.proba(X), classes)


def _box_probability(student: Any, X: Any) -> np.ndarray:
    """Case-of-interest probability from boxes: the density of the box a point falls in."""
    if hasattr(student, "predict"):  # PRIM: one box; inside its density, outside the rest's
        box = student.box()
        inside = np.asarray(student.predict(X)).astype(bool)
        # from coverage = s_in / S, mass = n_in / N, density = s_in / n_in:
        # outside density (S - s_in) / (N - n_in) = density mass (1 - coverage) / (coverage (1 - mass))
        if box.mass >= 1.0 or box.coverage <= 0.0:
            outside = box.density
        else:
            outside = box.density * box.mass * (1 - box.coverage) / (box.coverage * (1 - box.mass))
        return np.where(inside, box.density, outside)
    boxes = student.boxes_  # CART: the leaves cover the space
    probability = np.full(len(X), np.nan)
    for box in boxes:
        probability[np.asarray(box.contains(X), dtype=bool)] = box.density
    overall = np.mean([b.density for b in boxes])  # beyond every leaf (should not happen)
    return np.where(np.isnan(probability), overall, probability)


def student_size(student: Any) -> int | None:
    """Leaves of a tree, restricted parameters of a PRIM box, boxes of CART; else None."""
    last = student.steps[-1][1] if hasattr(student, "steps") else student
    if hasattr(last, "get_n_leaves"):
        return int(last.get_n_leaves())
    if hasattr(last, "boxes_"):
        if hasattr(last, "predict") and hasattr(last, "box"):
            return int(last.box().n_restricted)
        return len(last.boxes_)
    return None
