"""The result of :func:`~surrogate.distillation.distill`: the student, its transfer set and its
fidelity, predicting as the student does in the teacher's terms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.utils._available_if import available_if

from surrogate.distillation._columns import as_frame
from surrogate.distillation._labels import Labels
from surrogate.distillation._student import StudentView, student_size
from surrogate.distillation._teacher import Teacher
from surrogate.space import Space, python_scalar

if TYPE_CHECKING:
    from surrogate.distillation._distill import _Options

__all__ = ["Distillation"]


def _has_proba(self: Distillation) -> bool:
    return self._view.has_proba()


class Distillation:
    """The result of :func:`distill`: the student, its transfer set and its fidelity.

    Attributes
    ----------
    student_ : estimator
        The fitted student (Model B).
    teacher : object
        The teacher as given (Model A).
    transfer_set_ : DataFrame
        The inputs with the teacher's labels -- ``p(<class>)`` columns and ``label`` for soft
        labels, ``label`` for hard ones, ``value`` for values -- plus ``source``
        (``"generated"`` or ``"data"``) and ``use`` (``"train"``, ``"holdout"`` or ``"unused"``:
        Data 1 with ``include_data=False``, or a Data 1 row that a held-out point of a
        resampling of Data 1 copies).
        Failed teacher runs are left out.
    fidelity_ : dict
        ``metric``: the figure of ``holdout`` and ``data``, higher is better --
        ``"agreement"`` (classes, soft or hard labels: the share of points where the student
        predicts the teacher's class) or ``"q2"`` (values);
        ``holdout``: on the held-out points (``n_holdout``), which the student never saw;
        ``data``: on Data 1 (``n_data``; seen in training when ``include_data``);
        ``holdout_agreement``, ``data_agreement``: the agreement again (classes);
        ``holdout_gap``, ``data_gap``: for soft labels, the probability gap (half the summed
        absolute difference of the two probability vectors, averaged; lower is better);
        ``accuracy``: the student against Data 1's true labels (Q² for values),
        ``teacher_accuracy`` the teacher's; None where it does not apply.
    labels : str
        ``"soft"``, ``"hard"`` or ``"value"``.
    classes_ : ndarray or None
        The teacher's classes (``[0, 1]`` for a threshold's case of interest).
    route_ : str
        How the student learnt the labels (see :mod:`surrogate.distillation._student`).
    generator_ : generator or None
        The fitted transfer-set generator (None for ``transfer="data"``).
    runs_ : TransferSet or None
        Every teacher run, failed ones included, for a simulator or callable teacher.
    n_failed_ : int
        Teacher runs dropped from the transfer set.
    student_size_ : int or None
        Leaves of a tree, restricted parameters of a PRIM box, boxes of CART.
    seconds_ : dict
        Wall seconds to ``generate``, ``label``, ``fit``, measure ``fidelity``, and ``total``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from surrogate.distillation import distill
    >>> X = np.random.default_rng(0).random((200, 2))
    >>> y = (X[:, 0] + X[:, 1] > 1).astype(int)
    >>> teacher = LogisticRegression().fit(X, y)
    >>> result = distill(teacher, DecisionTreeClassifier(max_depth=3), transfer="munge",
    ...                  data=(X, y), n=2_000, seed=0)
    >>> sorted(result.fidelity_)[:3]
    ['accuracy', 'data', 'data_agreement']
    >>> result.fidelity_["holdout_agreement"] > 0.9
    True
    """

    def __init__(self, *, student: Any, teacher: Any, model: Teacher, generator: Any,
                 transfer_set: pd.DataFrame, labels: Labels, fidelity: dict[str, Any],
                 route: str, n_failed: int, runs: Any, options: _Options, transfer: Any,
                 n: int, seconds: dict[str, float], named: bool, space: Space | None,
                 input_names: list[str]) -> None:
        self.student_ = student
        self.teacher = teacher
        self.transfer_set_ = transfer_set
        self.fidelity_ = fidelity
        self.labels = labels.kind
        self._zero_one = labels.kind == "soft" and labels.proba is not None and bool(
            np.isin(labels.proba, (0.0, 1.0)).all())  # soft in name only: the teacher's 0/1
        self.classes_ = labels.classes
        self.route_ = route
        self.generator_ = generator
        self.runs_ = runs
        self.n_failed_ = n_failed
        self.student_size_ = student_size(student)
        self.seconds_ = seconds
        self._model, self._options, self._named, self._space = model, options, named, space
        self._input_names = input_names
        self._transfer = transfer if isinstance(transfer, str) else type(transfer).__name__
        self._n_generated = n
        self._view = StudentView(student, labels.classes)

    def _features(self, X: Any) -> Any:
        """``X`` as the student was fitted: a DataFrame with the input columns, or an array."""
        if not self._named:
            return X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
        if isinstance(X, pd.DataFrame):
            X = X.set_axis([str(c) for c in X.columns], axis=1)  # as Data 1's were named
            missing = [c for c in self._input_names if c not in X.columns]
            if missing:
                raise ValueError(f"X lacks the column(s) {missing}; the student was fitted on "
                                 f"{self._input_names}")
            # checked as an array's rows are: levels and ranges of the space, no NaN or inf
            return as_frame(X[self._input_names], self._space, "X")[self._input_names]
        if self._space is not None:  # an array's columns in the space's order
            return as_frame(X, self._space, "X")[self._input_names]
        values = np.asarray(X)
        if values.ndim != 2 or values.shape[1] != len(self._input_names):
            raise ValueError(f"X must have shape (n, {len(self._input_names)}), columns "
                             f"{self._input_names}; got shape {values.shape}")
        return pd.DataFrame(values, columns=self._input_names)

    def predict(self, X: Any) -> np.ndarray:
        """The student's prediction: the teacher's class (soft, hard labels) or value."""
        return np.asarray(self._view.predict(self._features(X)))

    @available_if(_has_proba)
    def predict_proba(self, X: Any) -> np.ndarray:
        """The student's probabilities of the teacher's classes, shape (n, k)."""
        return self._view.proba(self._features(X))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary: settings, sizes, fidelity, timings."""
        counts = self.transfer_set_["use"].value_counts()
        threshold = self._options.threshold
        return {
            "teacher": self._model.describe(), "teacher_kind": self._model.kind,
            "student": type(self.student_).__name__, "student_size": self.student_size_,
            "transfer": self._transfer, "labels": self.labels,
            "temperature": self._options.temperature,
            "threshold": None if threshold is None else [threshold[0], threshold[1]],
            "classes": None if self.classes_ is None else [_plain(c) for c in self.classes_],
            "route": self.route_, "n_generated": self._n_generated,
            "n_data": int(self.fidelity_["n_data"]), "n_failed": self.n_failed_,
            "n_train": int(counts.get("train", 0)), "n_holdout": int(counts.get("holdout", 0)),
            "n_unused": int(counts.get("unused", 0)),
            "fidelity": {k: _plain(v) for k, v in self.fidelity_.items()},
            "seconds": {k: round(float(v), 4) for k, v in self.seconds_.items()},
        }

    def __str__(self) -> str:
        d, f = self.to_dict(), self.fidelity_
        size = "" if d["student_size"] is None else f" (size {d['student_size']})"
        kind = self.labels + (" labels" if self.labels != "value" else "s")
        source = (f"{d['n_generated']} points from {d['transfer']!r} + {d['n_data']} of Data 1"
                  if d["n_generated"] else f"Data 1's {d['n_data']} points")
        if self.labels == "soft":
            kind += (" (all 0/1: the teacher gives no probability)" if self._zero_one
                     else f" (T = {d['temperature']:g})")
        lines = [
            f"Distillation of {d['teacher']} ({d['teacher_kind']}) into {d['student']}{size}",
            f"  transfer set: {source}, {kind}; {d['n_failed']} failed teacher run(s)",
            f"  student learnt by: {d['route']}",
        ]
        table = self.transfer_set_
        seen = bool(((table["source"] == "data") & (table["use"] == "train")).any())
        for part, label in (("holdout", f"{f['n_holdout']} held-out points"),
                            ("data", f"Data 1 ({f['n_data']} points"
                                     + (", most seen in training)" if seen else ")"))):
            if f[part] is None:
                continue
            line = f"  fidelity ({f['metric']}) on {label}: {f[part]:.4g}"
            if f.get(f"{part}_gap") is not None:
                line += f" (probability gap {f[f'{part}_gap']:.4g}, lower is better)"
            lines.append(line)
        if f["accuracy"] is not None:
            lines.append(f"  accuracy on Data 1's true labels: student {f['accuracy']:.4g}, "
                         f"teacher {f['teacher_accuracy']:.4g}"
                         + (" (in sample: the student learnt from Data 1, and a fitted teacher "
                            "usually did too)" if seen else ""))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Distillation {type(self.student_).__name__} from {self._model.describe()}: "
                f"{self.fidelity_['metric']} {self.fidelity_['holdout']}>")


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones (JSON-safe); NaN to None."""
    value = python_scalar(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value

