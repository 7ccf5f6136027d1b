"""REDS: scenario discovery on a metamodel's labels for a large fresh sample.

Arzamasov & Böhm (2021): with few simulator runs, PRIM finds better boxes when a metamodel
fitted on the runs labels many fresh points from the space and PRIM runs on those. The labels
may be the metamodel's probabilities of the case of interest ("soft") or its classes ("hard").
A continuous outcome with a threshold (e.g. ``stab < 0``) works too: a regression surrogate's
predictive distribution gives the probability that the outcome is on the interesting side.

REDS is a distillation (:func:`surrogate.distillation.distill`): the metamodel is the teacher, a
Latin hypercube over the space (:class:`~surrogate.distillation.SpaceGenerator`) the transfer set,
PRIM the student. :meth:`REDS.fit` fits the metamodel, then hands the rest to ``distill``.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from surrogate._checks import warn_if_misaligned
from surrogate._random import SeedLike, as_generator, child_seed, seed_unset, spawned
from surrogate._stack import user_stacklevel
from surrogate._target import _is_classifier, warn_beyond
from surrogate._threads import limits_threads
from surrogate.discovery._box import Box
from surrogate.discovery._cart import design_matrix
from surrogate.discovery._data import (
    CATEGORICAL,
    INTEGER,
    Domain,
    check_labels,
    fit_domain,
)
from surrogate.discovery._prim import PRIM
from surrogate.distillation import Distillation, SpaceGenerator, distill
from surrogate.distillation._labels import COMPARE, check_threshold


class REDS(BaseEstimator):
    """Rule Extraction for Discovering Scenarios: PRIM on metamodel-labelled fresh points.

    Fits ``metamodel`` on the teacher runs ``(X, y)``, draws ``n_samples`` Latin-hypercube
    points from the space, labels them with the metamodel, and runs PRIM on them.

    Parameters
    ----------
    metamodel : estimator, optional
        A classifier with ``predict_proba`` (scikit-learn's, or one of ``surrogate.models``);
        with ``threshold``, a regressor whose ``predict(X, return_std=True)`` gives a mean and
        a standard deviation (without ``return_std``, soft labels are the hard ones).
        Default, seeded with ``seed``: for classification an
        :class:`surrogate.AutoClassifier` choosing by 3-fold cross-validated log loss among
        :class:`surrogate.GPClassifier` (100 evaluations), scikit-learn's ``HistGradientBoostingClassifier`` and their pooled
        ensemble (better boxes than boosting alone on average, not lower in 26 of 27 cells, in
        ``benchmarks/reds.py``; seconds rather
        than a fraction of one); for a threshold :class:`surrogate.GPRegressor`. Categorical
        parameters reach it one-hot encoded. For an outcome over a
        trajectory, a :class:`~surrogate.discovery.FieldOutcomeClassifier` (e.g.
        ``FieldOutcomeClassifier("max(I) > 0.2")``) with ``y`` the trajectories
        (``runs.field("I")``): fresh points are labelled by the probability that their
        trajectory meets the outcome, from the field surrogate's posterior draws. A given
        metamodel is cloned; its ``seed`` / ``random_state`` parameters left None are drawn
        from ``seed`` (as :func:`~surrogate.distill` does a student's).
    n_samples : int, default 100_000
        Fresh points labelled by the metamodel.
    labels : {"soft", "hard"}, default "soft"
        Probabilities of the case of interest, or 0/1 classes (probability >= 0.5).
    prim : PRIM, optional
        PRIM with its settings (default ``PRIM()``); cloned, not modified.
    threshold : (str, float), optional
        For a continuous ``y``: the case of interest is ``y <op> value``, with ``op`` one of
        ``"<", "<=", ">", ">="`` -- e.g. ``("<", 0.0)`` for ``stab < 0``.
    cv : int or None, default 5
        Folds for :attr:`fidelity_`; None skips it.
    seed : int, Generator or None
        Seeds the default metamodel, the sample and the folds.

    Attributes
    ----------
    metamodel_ : estimator or None
        The metamodel fitted on all teacher runs (None after ``sg.load`` when it was not one of
        surrogate's models: see :meth:`save`). It reads the runs as REDS encodes them --
        numbers as they are, each categorical one-hot -- not ``X``'s own columns.
    fidelity_ : float or None
        Cross-validated agreement with the teacher: share of runs whose case-of-interest
        label the metamodel, fitted without them, predicts right (NaN with too few cases). For
        an automatic metamodel (``AutoClassifier``, the default) its chosen candidate's
        ``fidelity`` from its own cross-validation (its folds, not ``cv``'s).
    sample_ : DataFrame
        The fresh points; ``sample_labels_`` their labels.
    prim_ : PRIM
        PRIM fitted on the sample; ``boxes_``, ``trajectory_``, :meth:`box` and
        :meth:`predict` are its.
    distillation_ : Distillation
        The distillation of the metamodel into PRIM that made them (its ``transfer_set_`` is
        the sample with its labels; not kept by :meth:`save`).

    References
    ----------
    Arzamasov, V. & Böhm, K. (2021). REDS: Rule Extraction for Discovering Scenarios.
    SIGMOD '21, 115-128.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(200, 3)), columns=["a", "b", "c"])
    >>> y = (X.a > 0.5) & (X.b < 0.5)
    >>> reds = REDS(n_samples=5_000, seed=0).fit(X, y)
    >>> box = reds.box()  # the planted a > 0.5 and b < 0.5, c left alone
    >>> box.restricted, bool(box.coverage > 0.9 and box.density > 0.9)
    (('a', 'b'), True)
    """

    def __init__(
        self,
        *,
        metamodel: Any = None,
        n_samples: int = 100_000,
        labels: Literal["soft", "hard"] = "soft",
        prim: PRIM | None = None,
        threshold: tuple[str, float] | None = None,
        cv: int | None = 5,
        seed: SeedLike = None,
    ) -> None:
        self.metamodel = metamodel
        self.n_samples = n_samples
        self.labels = labels
        self.prim = prim
        self.threshold = threshold
        self.cv = cv
        self.seed = seed

    def _check_params(self) -> None:
        if not isinstance(self.n_samples, numbers.Integral) or self.n_samples < 10:
            raise ValueError(f"n_samples must be an int >= 10, got {self.n_samples!r}")
        if self.labels not in ("soft", "hard"):
            raise ValueError(f"labels must be 'soft' or 'hard', got {self.labels!r}")
        if self.prim is not None and not isinstance(self.prim, PRIM):
            raise TypeError(f"prim must be a PRIM or None, got {type(self.prim).__name__}")
        check_threshold(self.threshold)  # before the metamodel's fit, as distill does
        if self.cv is not None and (not isinstance(self.cv, numbers.Integral) or self.cv < 2):
            raise ValueError(f"cv must be an int >= 2 or None, got {self.cv!r}")

    @limits_threads()
    def fit(self, X: Any, y: Any, space: Any = None) -> REDS:
        """Fit the metamodel on the teacher runs, label a fresh sample, run PRIM; return self.

        Parameters
        ----------
        X : DataFrame or 2-D array
            Teacher inputs.
        y : array-like of shape (n,)
            Cases of interest (booleans/0-1); with ``threshold``, the continuous outcome; with
            a :class:`~surrogate.discovery.FieldOutcomeClassifier` metamodel, the trajectories
            (n, n_times), labelled by its outcome.
        space : surrogate.Space, optional
            Where to draw the sample. Default: each column's range (real, integer) or
            categories in ``X``. Parameters of the space that ``X`` leaves out (inputs dropped
            from the discovery) are left out of the sample too: the metamodel does not read
            them.
        """
        self._check_params()
        rng = as_generator(self.seed)
        from surrogate.space import Space, as_space

        space = None if space is None else as_space(space)
        if space is not None:
            X = _typed_by(space, X)
        domain, frame = fit_domain(X)
        if space is not None:
            kept = [p for p in space if p.name in domain.names]
            if not kept:
                raise ValueError(f"X's columns {list(domain.names)} are none of the space's "
                                 f"parameters {space.names}")
            if len(kept) < space.dim:  # inputs X leaves out
                space = Space(kept)
        self._space = space  # (resample refits on subsets of X drawn from it)
        sampled = _space(space, domain, frame)  # before the metamodel's fit: it checks X
        if space is not None:
            _warn_if_beyond_runs(space, domain, len(frame))
        features = design_matrix(domain, *domain.encode(frame, checked=True))
        warn_if_misaligned(X, y)
        target, teacher_labels = self._targets(y, len(frame))
        self.metamodel_ = clone(self._metamodel(rng)).fit(features, target)
        self.fidelity_ = self._fidelity(features, target, teacher_labels, rng)
        _warn_if_no_better_than_the_base_rate(self.fidelity_, teacher_labels)
        self.distillation_ = self._distill(sampled, domain, rng)
        table = self.distillation_.transfer_set_
        self.sample_ = table[list(domain.names)]
        self.sample_labels_ = table["p(1)"].to_numpy() if self.labels == "soft" else \
            (table["label"].to_numpy() == 1).astype(np.float64)
        self.prim_ = self.distillation_.student_
        self.boxes_ = self.prim_.boxes_
        self.trajectory_ = self.prim_.trajectory_
        self.feature_names_in_ = np.asarray(domain.names, dtype=object)
        self.n_features_in_ = len(domain.names)
        return self

    def _targets(self, y: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(what the metamodel is fitted on, the teacher's case-of-interest labels)."""
        given = self.metamodel
        if given is not None and (isinstance(given, type) or not hasattr(given, "fit")):
            raise TypeError(f"metamodel must be an estimator instance with fit, e.g. "
                            f"GPClassifier(seed=0) or GPRegressor(seed=0) with threshold=; got "
                            f"{given!r}")
        if given is not None and self.threshold is None and not hasattr(given, "predict_proba") \
                and not hasattr(given, "outcome_labels"):
            raise ValueError(f"metamodel {type(given).__name__} has no predict_proba: give "
                             "threshold=(op, value) to compare its predicted value, or use a "
                             "classifier on the 0/1 labels")
        if self.threshold is not None and self.metamodel is not None \
                and _is_classifier(self.metamodel):
            raise ValueError("threshold= compares a regressor metamodel's predicted value with "
                             f"the threshold; {type(self.metamodel).__name__} is a classifier: "
                             "give it the 0/1 labels instead (y <op> value) and no threshold=")
        if self.threshold is None and hasattr(self.metamodel, "outcome_labels"):
            # trajectories (e.g. runs.field("I")): the metamodel labels them by its outcome
            teacher = np.asarray(self.metamodel.outcome_labels(y), dtype=bool)
            if len(teacher) != n:
                raise ValueError(f"y holds {len(teacher)} trajectories for {n} rows of X")
            if teacher.all() or not teacher.any():
                raise ValueError(f"the outcome {self.metamodel.outcome!r} holds for none or all "
                                 "of the runs; the metamodel needs both")
            return y, teacher
        if self.threshold is None:
            labels, binary = check_labels(y, n)
            if not binary:
                raise ValueError("y must be 0/1 or boolean; for a continuous y give threshold=")
            if labels.min() == labels.max():
                raise ValueError("y has only one class; the metamodel needs both")
            return labels.astype(int), labels.astype(bool)
        try:
            values = np.asarray(y, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise ValueError("y must be numbers when threshold= is given (the metamodel is a "
                            "regressor of y); got values such as "
                            f"{list(np.asarray(y, dtype=object).ravel()[:3])}") from None
        if len(values) != n or not np.all(np.isfinite(values)):
            raise ValueError(f"y must be {n} finite numbers when threshold is given")
        op, value = self.threshold
        return values, COMPARE[op](values, value)

    def _metamodel(self, rng: np.random.Generator) -> Any:
        if self.metamodel is not None:  # its unset seeds drawn from ``seed``, as distill does,
            model = clone(self.metamodel)  # from a child stream: the sample REDS draws from
            seed_unset(model, spawned(rng))  # ``rng`` stays what it was
            return model
        if self.threshold is not None:
            from surrogate.models import GPRegressor

            return GPRegressor(seed=child_seed(rng))
        from surrogate.models import AutoClassifier, GPClassifier

        # benchmarks/reds.py: gradient boosting was the best single metamodel on average, our
        # GP far better on smooth problems (ishigami, otl_circuit...); choosing between them by
        # cross-validated log loss (3 folds; GP with 100 evaluations, to keep REDS fast) is
        # never far below either and well above boosting on average
        seed = child_seed(rng)
        return AutoClassifier(candidates={"gp": GPClassifier(max_iter=100, seed=seed),
                                          "hgb": "hgb", "ensemble": "ensemble"},
                              cv=3, seed=seed)

    def _distill(self, sampled: tuple[Any, dict[str, Any]], domain: Domain,
                 rng: np.random.Generator) -> Distillation:
        """The metamodel (teacher) labels a Latin hypercube over the space (the transfer set)
        for PRIM (the student): soft labels are its probability of the case of interest, hard
        ones that probability >= 0.5 (with a threshold: the predicted mean on the case's side).
        """
        space, constants = sampled
        threshold: Any = None if self.threshold is None else tuple(self.threshold)
        teacher: Any = _Classifier(self.metamodel_, domain) if self.threshold is None else \
            _Regressor(self.metamodel_, domain)
        design = _Design(space, constants=constants, columns=list(domain.names))
        try:
            # the whole sample trains PRIM (holdout=0); the design's seed is rng's next draw
            return distill(teacher, self.prim if self.prim is not None else PRIM(),
                           transfer=design, n=self.n_samples, labels=self.labels,
                           threshold=threshold,
                           space=space, include_data=False, holdout=0.0, seed=rng)
        except ValueError as exc:
            if "no case of interest" not in str(exc):  # PRIM's check of its labels
                raise
            raise ValueError("the metamodel predicts no case of interest anywhere in the "
                             "sample") from None

    def _fidelity(
        self, features: np.ndarray, target: np.ndarray, teacher: np.ndarray, rng: np.random.Generator
    ) -> float | None:
        if self.cv is None:
            return None
        scores = getattr(self.metamodel_, "scores_", None)
        if self.threshold is None and scores is not None and "fidelity" in scores:
            # an automatic student held out every run once to choose: no second round
            return float(scores.loc[self.metamodel_.chosen_, "fidelity"])
        if self.threshold is None or _is_classifier(self.metamodel_):
            smallest = int(min(teacher.sum(), (~teacher).sum()))
            folds = min(self.cv, smallest)
            if folds < 2:
                return float("nan")
            splitter = StratifiedKFold(folds, shuffle=True, random_state=child_seed(rng))
            # folds stratified by the teacher's labels (the target may be trajectories)
            predicted = cross_val_predict(clone(self.metamodel_), features, target,
                                          cv=list(splitter.split(features, teacher)))
            return float(np.mean(np.asarray(predicted).astype(bool) == teacher))
        splitter = KFold(self.cv, shuffle=True, random_state=child_seed(rng))
        mean = cross_val_predict(clone(self.metamodel_), features, target, cv=splitter)
        op, value = self.threshold
        return float(np.mean(COMPARE[op](np.asarray(mean).ravel(), value) == teacher))

    def box(self, i: int | None = None, *, min_density: float | None = None) -> Box:
        """A box of PRIM's trajectory on the sample (see :meth:`PRIM.box`)."""
        check_is_fitted(self, "prim_")
        return self.prim_.box(i, min_density=min_density)

    def predict(self, X: Any, *, i: int | None = None, min_density: float | None = None) -> np.ndarray:
        """Rows of ``X`` inside the chosen box (default: as :meth:`PRIM.box`'s)."""
        check_is_fitted(self, "prim_")
        return self.prim_.predict(X, i=i, min_density=min_density)

    def save(self, path: Any) -> None:
        """Write the fitted REDS to the directory ``path`` (``meta.json``, ``arrays.npz``).

        Nothing is pickled; read it back with ``sg.load(path)``. :attr:`prim_` (boxes,
        trajectory), :attr:`fidelity_`, :attr:`sample_` and :attr:`sample_labels_` come back
        identical. A metamodel that is one of surrogate's models is saved by its own ``save``
        into ``path/metamodel``; any other (e.g. scikit-learn's gradient boosting, the default
        for a boolean ``y``) is not saved -- a warning says so and ``metamodel_`` is None after
        loading. :attr:`distillation_` is not saved as such: its student and transfer set are
        (``prim_``, ``sample_``, ``sample_labels_``), and it is None after loading.
        """
        from surrogate.discovery._io import save

        save(self, path)


def _warn_if_no_better_than_the_base_rate(fidelity: float | None, labels: np.ndarray) -> None:
    """A metamodel that agrees with the runs no more often than always answering their commoner
    class labels the fresh points by little more than the base rate: its boxes say little."""
    if fidelity is None or not np.isfinite(fidelity) or not len(labels):
        return
    commoner = max(float(labels.mean()), 1.0 - float(labels.mean()))
    if fidelity <= commoner + 1e-9:
        warnings.warn(f"REDS: the metamodel's cross-validated agreement with the runs "
                      f"({fidelity:.3f}) is no better than always answering their commoner "
                      f"class ({commoner:.3f}); its boxes say little about the teacher. More "
                      f"runs ({len(labels)} now), or PRIM on the runs", UserWarning,
                      stacklevel=user_stacklevel())


class _Design(SpaceGenerator):
    """REDS's transfer set: a Latin hypercube over ``space``, plus the columns constant in the
    runs, in the runs' column order."""

    def __init__(self, space: Any, method: str = "lhs", *, constants: Any = None,
                 columns: Any = None) -> None:
        super().__init__(space, method)
        self.constants = constants
        self.columns = columns

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        drawn = super()._sample(n, rng)
        for name, value in (self.constants or {}).items():
            drawn[name] = value
        return drawn[list(self.columns)] if self.columns is not None else drawn


class _Encoded:
    """The fitted metamodel as a teacher over the sample's columns: encodes them as it was
    fitted (one-hot categories, see :func:`design_matrix`) before asking it."""

    def __init__(self, metamodel: Any, domain: Domain) -> None:
        self.metamodel = metamodel
        self.domain = domain
        self.feature_names_in_ = np.asarray(domain.names, dtype=object)  # DataFrames in

    def _features(self, X: pd.DataFrame) -> np.ndarray:
        return design_matrix(self.domain, *self.domain.encode(X))


class _Classifier(_Encoded):
    """Probabilities of (no case, case of interest): classes ``[0, 1]``."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        proba = np.asarray(self.metamodel.predict_proba(self._features(X)))
        classes = list(self.metamodel.classes_)
        return proba[:, [1 - classes.index(1), classes.index(1)]]


class _Regressor(_Encoded):
    """The continuous outcome: mean and, for soft labels, standard deviation."""

    def predict(self, X: pd.DataFrame, return_std: bool = False) -> Any:
        """The mean, and with ``return_std`` the standard deviation: None for a metamodel
        without one (its soft labels are then the case itself, as distill's)."""
        features = self._features(X)
        if not return_std:
            return np.asarray(self.metamodel.predict(features)).ravel()
        # the estimator that answers: a Pipeline's last step (its predict passes return_std on
        # through **params, which hides it from the Pipeline's own signature)
        final = getattr(self.metamodel, "_final_estimator", self.metamodel)
        if "return_std" not in inspect.signature(final.predict).parameters:
            return np.asarray(self.metamodel.predict(features)).ravel(), None  # no spread
        mean, std = self.metamodel.predict(features, return_std=True)
        return np.asarray(mean).ravel(), np.asarray(std).ravel()


def _space(space: Any, domain: Domain, frame: pd.DataFrame) -> tuple[Any, dict[str, Any]]:
    """The space to sample (given, or each column's range or categories in ``frame``) and the
    columns constant in ``frame`` (not parameters of that space)."""
    from surrogate.space import Categorical, Integer, Parameter, Real, Space, as_space

    constants = {}
    if space is None:
        parameters: list[Parameter] = []
        numeric = iter(range(len(domain.low)))
        categorical = iter(range(len(domain.categories)))
        for name, kind in zip(domain.names, domain.kinds, strict=True):
            if kind == CATEGORICAL:
                categories = domain.categories[next(categorical)]
                if len(categories) == 1:
                    constants[name] = categories[0]
                else:
                    parameters.append(Categorical(name, categories))
                continue
            j = next(numeric)
            low, high = domain.low[j], domain.high[j]
            if low == high:
                constants[name] = frame[name].iloc[0]
            elif kind == INTEGER:
                parameters.append(Integer(name, int(low), int(high)))
            else:
                parameters.append(Real(name, float(low), float(high)))
        if not parameters:
            raise ValueError(f"every column of X ({list(domain.names)}) holds one value: REDS "
                             "draws its fresh points over the columns' ranges, and there is "
                             "none to draw over; give space= or runs that vary")
        space = Space(parameters)
    space = as_space(space)
    missing = [name for name in domain.names if name not in space.names and name not in constants]
    if missing:
        raise ValueError(f"space lacks the columns {missing} of X")
    _check_runs_in(space, frame)
    return space, constants


def _typed_by(space: Any, X: Any) -> Any:
    """``X`` with the columns it shares with ``space`` typed as the space types them, in the
    space's order (an array too; other columns after them): a categorical of numbers read
    back from a CSV as ints is the space's levels, as the fresh sample holds them, not a
    numeric column; and the metamodel and PRIM (whose ties go to the first column) see the
    same columns in the same order whatever X's order, so the same seed gives the same boxes."""
    if not isinstance(X, pd.DataFrame):
        return space.validate(X) if np.ndim(X) == 2 and np.shape(X)[1] == space.dim else X
    typed = _check_runs_in(space, X)  # (a fresh index: assigned by position)
    X = X.assign(**{name: typed[name].to_numpy() for name in typed.columns})
    return X[list(typed.columns) + [c for c in X.columns if c not in set(typed.columns)]]


def _warn_if_beyond_runs(space: Any, domain: Domain, n_runs: int) -> None:
    """Warn where ``space`` (the fresh sample's) holds ranges or categories the runs never
    reached: the metamodel labels those points by extrapolation (an unseen level as no level
    at all), and PRIM peels on labels no run supports."""
    from surrogate.space import Categorical

    categorical = dict(zip(domain.categorical_names, domain.categories, strict=True))
    unseen = []
    for p in space:
        if isinstance(p, Categorical) and p.name in categorical:
            missing = [c for c in p.categories if c not in categorical[p.name]]
            if missing:
                unseen.append(f"{p.name} (levels {missing} never run)")
    warn_beyond(space, domain.low, domain.high, domain.numeric_names, n_runs, "REDS",
                "the runs the metamodel was fitted on", unseen)


def _check_runs_in(space: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """The runs lie in the space the fresh sample is drawn from: a range or categories that
    miss them (e.g. levels as strings where the runs hold numbers) would have the metamodel
    label points it never saw, and the boxes come out wrong without a word. Returns the
    columns ``frame`` shares with the space, typed by it."""
    from surrogate.space import Space

    kept = [p for p in space if p.name in frame.columns]  # others: not in the runs
    if not kept:
        return frame[[]]
    shared = Space(kept)
    try:
        return shared.validate(frame[shared.names])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"X does not fit space=, from which REDS draws its fresh points: "
                         f"{exc}") from None
