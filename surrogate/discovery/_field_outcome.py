"""The probability that a trajectory meets an outcome, from a field surrogate's posterior draws.

REDS on trajectories (models -> **discovery**): the metamodel is fitted on the teacher's
trajectories, and a fresh point is labelled by the probability that *its* trajectory meets the
outcome expression (e.g. ``max(I) > 0.2``). A Gaussian posterior over the trajectory gives no
closed form for that probability (the maximum of a correlated Gaussian vector, a time above a
level ...), so it is estimated from posterior draws of whole trajectories
(:meth:`FieldGPRegressor.sample_posterior`): the share of draws meeting the outcome.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from surrogate._random import SeedLike, as_generator, child_seed
from surrogate.discovery._data import check_labels
from surrogate.discovery._outcome import OutcomeExpression, parse_outcome

__all__ = ["FieldOutcomeClassifier"]

_BLOCK_ELEMENTS = 4_000_000  # elements of one (draws, points, grid) block of posterior draws


class FieldOutcomeClassifier(ClassifierMixin, BaseEstimator):
    """A classifier of "the trajectory meets the outcome", built on a field surrogate.

    ``fit(X, Y)`` takes the teacher's trajectories of one field (``runs.field("I")``), fits a
    clone of ``model`` to them, and labels the runs by the outcome. ``predict_proba(X)`` is the
    share of ``n_draws`` posterior trajectories at each point that meet the outcome: the soft
    label :class:`~surrogate.REDS` gives PRIM. Pass it to REDS as ``metamodel`` and the
    trajectories as ``y``: ``REDS(metamodel=FieldOutcomeClassifier("max(I) > 0.2")).fit(X,
    runs.field("I"))``.

    Parameters
    ----------
    outcome : str
        An outcome expression over one field (see :func:`~surrogate.discovery.outcome`), e.g.
        ``"max(I) > 0.2"`` or ``"time_above(I, 0.1) > 10"``; numbers aside, it names only
        the field it is fitted on.
    model : estimator, optional
        A field surrogate with ``sample_posterior(X, n, seed=, joint=False)``; default
        :class:`~surrogate.models.FieldGPRegressor` seeded from ``seed``. Cloned, not modified.
    n_draws : int, default 128
        Posterior trajectories per point (the probability's Monte Carlo error is at most
        ``0.5 / sqrt(n_draws)``).
    seed : int, Generator or None
        Seeds the default model and the draws.

    Attributes
    ----------
    model_ : estimator
        The fitted field surrogate.
    field_ : str
        The field the outcome is evaluated on.
    grid_ : ndarray
        Its grid.
    classes_ : ndarray, ``[0, 1]``
        1: the outcome holds.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.linspace(0, 4, 21)
    >>> X = pd.DataFrame({"k": np.linspace(0.1, 2.0, 30)})
    >>> Y = pd.DataFrame(np.exp(-np.outer(X["k"], t)), columns=pd.Index(t, name="y"))
    >>> clf = FieldOutcomeClassifier("final(y) > 0.1", seed=0).fit(X, Y)  # k < ln(10) / 4
    >>> clf.predict_proba(pd.DataFrame({"k": [0.2, 1.5]}))[:, 1].round(2).tolist()
    [1.0, 0.0]
    """

    model_: Any
    field_: str
    grid_: np.ndarray
    classes_: np.ndarray
    _parsed: OutcomeExpression
    _draw_seed: int

    def __init__(self, outcome: str, *, model: Any = None, n_draws: int = 128,
                 seed: SeedLike = None) -> None:
        self.outcome = outcome
        self.model = model
        self.n_draws = n_draws
        self.seed = seed

    def _expression(self, field: str | None) -> tuple[OutcomeExpression, str]:
        expression = parse_outcome(self.outcome)
        names = list(expression.names)
        if field is None:
            if len(names) != 1:
                raise ValueError(f"outcome {self.outcome!r} names {names}; a "
                                 "FieldOutcomeClassifier evaluates it on one field: name only "
                                 "that field, and pass its trajectories as a DataFrame from "
                                 "TransferSet.field")
            field = names[0]
        if names != [field]:
            raise ValueError(f"outcome {self.outcome!r} names {names}, but the trajectories are "
                             f"of field {field!r}: name only {field!r}")
        return expression, field

    def fit(self, X: Any, Y: Any) -> FieldOutcomeClassifier:
        """Fit the field surrogate to trajectories ``Y`` (n_runs, n_times); return self."""
        if not isinstance(self.n_draws, numbers.Integral) or self.n_draws < 2:
            raise ValueError(f"n_draws must be an int >= 2, got {self.n_draws!r}")
        name = Y.columns.name if isinstance(Y, pd.DataFrame) else None
        self._parsed, self.field_ = self._expression(name if isinstance(name, str) else None)
        rng = as_generator(self.seed)
        if self.model is None:
            from surrogate.models import FieldGPRegressor

            model: Any = FieldGPRegressor(seed=child_seed(rng))
        else:
            model = clone(self.model)
        if not hasattr(model, "sample_posterior") or not getattr(model, "_field_model", True):
            # (a GPRegressor has draws too, but of one output per grid point, and no grid)
            raise TypeError(f"model must be a field surrogate with sample_posterior (e.g. "
                            f"FieldGPRegressor()), got {type(model).__name__}")
        self.model_ = model.fit(X, Y)
        if getattr(self.model_, "grid_", None) is None:
            raise TypeError(f"model must be a field surrogate, which records the grid it was "
                            f"fitted on (grid_); {type(model).__name__} did not")
        self.grid_ = np.asarray(self.model_.grid_, dtype=float)
        self.classes_ = np.array([0, 1])
        self._draw_seed = child_seed(rng)
        self.n_features_in_ = getattr(self.model_, "n_features_in_", None)
        return self

    def outcome_labels(self, Y: Any) -> np.ndarray:
        """Whether each trajectory of ``Y`` (n, n_times) meets the outcome (the teacher's
        labels, for REDS's fidelity)."""
        name = Y.columns.name if isinstance(Y, pd.DataFrame) else None
        expression, field = self._expression(name if isinstance(name, str) else None)
        grid = getattr(self, "grid_", None)
        if grid is None:  # not fitted: a DataFrame's columns are the grid (evaluate checks it)
            given = Y if isinstance(Y, pd.DataFrame) else \
                np.asarray(Y, dtype=float).reshape(len(Y), -1)
            return expression.evaluate({field: given})
        values = np.asarray(Y, dtype=float).reshape(len(Y), -1)
        if values.shape[1] != len(grid):
            raise ValueError(f"Y has {values.shape[1]} columns, but the trajectories were "
                             f"fitted on a grid of {len(grid)} points")
        from surrogate.models._field_basis import check_field_columns  # loaded on first use

        # another grid or order of the columns would be read on the fitted grid: refused
        check_field_columns(Y, getattr(self.model_, "columns_", None))
        return expression.evaluate({field: values}, grids={field: grid})

    def predict_proba(self, X: Any) -> np.ndarray:
        """``[1 - p, p]`` per point, ``p`` the share of posterior trajectories meeting the
        outcome; the same draws for the same ``seed``, and a point's probability does not
        depend on the other points predicted with it (the field GP's draws use the same
        standard normals at every point)."""
        check_is_fitted(self, "model_")
        frame = X if isinstance(X, pd.DataFrame) else np.asarray(X)
        step = max(1, _BLOCK_ELEMENTS // (self.n_draws * len(self.grid_)))
        share = np.empty(len(frame))
        common = hasattr(self.model_, "_draws")  # a FieldGPRegressor; else its own draws
        rng = np.random.default_rng(self._draw_seed)  # one stream over the blocks (not common)
        for start in range(0, len(frame), step):
            block = (frame.iloc[start:start + step] if isinstance(frame, pd.DataFrame)
                     else frame[start:start + step])
            if common:  # every block starts from the seed: the same normals at every point
                draws = self.model_._draws(block, self.n_draws,
                                           np.random.default_rng(self._draw_seed),
                                           joint=False, common=True)
            else:
                draws = self.model_.sample_posterior(block, self.n_draws, seed=rng, joint=False)
            meets = self._parsed.evaluate({self.field_: draws.reshape(-1, draws.shape[-1])},
                                          grids={self.field_: self.grid_})
            share[start:start + step] = meets.reshape(self.n_draws, -1).mean(axis=0)
        return np.column_stack([1.0 - share, share])

    def predict(self, X: Any) -> np.ndarray:
        """1 where the outcome is more likely than not."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy on ``y``: trajectories (n, n_times), labelled by the outcome as at fit
        (what ``cross_val_score`` and ``GridSearchCV`` pass), or 0/1 labels (n,)."""
        from sklearn.metrics import accuracy_score

        values = np.asarray(y)
        # trajectories: more than one column, or the field's own frame (a grid of one point)
        field_frame = isinstance(y, pd.DataFrame) and y.columns.name == self.field_
        if values.ndim == 2 and (values.shape[1] > 1 or field_frame):
            labels = self.outcome_labels(y)
        else:
            labels, binary = check_labels(y, len(values))
            if not binary:
                raise ValueError("y must be trajectories (n, n_times), as fit takes them, or "
                                 "0/1 labels of the outcome; got values other than 0 and 1")
        return float(accuracy_score(labels.astype(int), self.predict(X),
                                    sample_weight=sample_weight))

