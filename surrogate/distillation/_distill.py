"""Distillation: Data 1 -> teacher (Model A) -> transfer set (Data 2) -> student (Model B).

:func:`distill` draws new inputs near Data 1 or over the space (a generator), lets the teacher
label them, fits a smaller, faster or more readable student on those labels, and measures the
student's fidelity to the teacher on labelled points it never saw. The result is a
:class:`Distillation`.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from surrogate._checks import (
    check_checkpoint_seed,
    check_flag,
    check_positive_int,
    warn_if_misaligned,
)
from surrogate._random import SeedLike, as_generator, child_seed, seed_unset, seeded_clone
from surrogate._stack import user_stacklevel
from surrogate.distillation._columns import as_frame
from surrogate.distillation._density import GMMGenerator, KDEGenerator
from surrogate.distillation._fidelity import METRICS, agreement, measure, q2, true_classes
from surrogate.distillation._generators import MUNGE, SpaceGenerator, TransferGenerator
from surrogate.distillation._labels import (
    LABELS,
    Labels,
    check_temperature,
    check_threshold,
    make_labels,
)
from surrogate.distillation._result import Distillation
from surrogate.distillation._student import (
    StudentView,
    check_categories,
    check_student,
    check_value_student,
    fit_student,
    student_features,
)
from surrogate.distillation._teacher import TeacherAnswer, as_teacher, warn_hard_only
from surrogate.space import Space, as_space

__all__ = ["distill", "Distillation", "TRANSFERS"]

TRANSFERS: tuple[str, ...] = ("space", "munge", "kde", "gmm", "data")


def distill(
    teacher: Any,
    student: Any,
    *,
    transfer: Any = "space",
    n: int = 10_000,
    data: Any = None,
    labels: str = "soft",
    temperature: float = 1.0,
    threshold: tuple[str, float] | None = None,
    space: Space | None = None,
    include_data: bool = True,
    holdout: float = 0.2,
    executor: Any = "serial",
    checkpoint: Any = None,
    seed: SeedLike = None,
    output: str | int | None = None,
) -> Distillation:
    """Distil ``teacher`` into ``student`` through a transfer set the teacher labels.

    Parameters
    ----------
    teacher : Simulator, fitted estimator or callable
        Model A. A :class:`~surrogate.Simulator` runs through :meth:`Simulator.run` with
        ``executor`` and ``checkpoint``; failed runs are dropped from the transfer set and
        counted. A fitted classifier gives class probabilities (``predict_proba``), a fitted
        regressor values (``predict``, with ``return_std`` where it has one). A callable takes
        one point as a dict of parameter values and returns a float (``space`` required); it
        runs as a one-output Simulator would.
    student : estimator
        Model B, unfitted (cloned, not modified): any scikit-learn-compatible estimator,
        :class:`surrogate.GPRegressor` and the other surrogates, or the boxes of
        :class:`surrogate.PRIM` and :class:`surrogate.CART` (a case of interest).
    transfer : {"space", "munge", "kde", "gmm", "data"} or generator, default "space"
        Where the teacher is asked: a Latin hypercube over the space, MUNGE around Data 1, a
        kernel density or Gaussian mixture fitted on Data 1, or Data 1 alone (the baseline;
        ``n`` and ``include_data`` do not apply). A generator object (``fit(X)``,
        ``sample(n, seed)``) is cloned and gets ``space`` when it has none.
    n : int, default 10_000
        New inputs drawn by the generator.
    data : DataFrame, 2-D array or (X, y), optional
        Data 1: the points the generators learn from, and with ``y`` their true labels (for
        :attr:`Distillation.fidelity_` ``["accuracy"]``). With ``threshold``, a boolean ``y``
        or one of 0 and 1 is the case of interest itself, other numbers the teacher's output
        (compared with the threshold).
    labels : {"soft", "hard", "value"}, default "soft"
        Class probabilities, classes, or the teacher's values (regression).
    temperature : float, default 1.0
        Soft labels are ``softmax(log p / temperature)`` of the teacher's probabilities ``p``.
    threshold : (str, float), optional
        Makes a continuous teacher output a case of interest, e.g. ``("<", 0.0)``; soft labels
        are then its probability under the teacher's predictive distribution where it has one.
    space : Space, optional
        Bounds and types of the inputs (a Simulator teacher carries its own).
    include_data : bool, default True
        Add Data 1's points, with the teacher's labels (the paper's practice), to what the
        student learns from. The teacher labels Data 1 either way (for a simulator teacher, a
        run per point): those labels also measure the student's fidelity on Data 1
        (``fidelity_["data"]``).
    holdout : float, default 0.2
        Share of the generated points kept from the student to measure fidelity, in [0, 1).
        Points are held out by distinct input, drawn among inputs Data 1 does not hold, so
        that no copy of a held-out point trains the student and Data 1 still does (a
        resampling of Data 1 has only Data 1's inputs: the rows its held-out points copy are
        then left unused).
    executor, checkpoint
        For a simulator or callable teacher, as in :meth:`Simulator.run`; a checkpoint needs
        an int ``seed`` (a rerun then draws the same transfer set and resumes).
    seed : int, Generator or None
        Seeds the generator, the holdout split, the generators' own fitting and the student
        (each of its ``seed`` / ``random_state`` parameters left None, a pipeline's steps'
        too; set ones stay). The first draw from it seeds the generator's ``sample``, so a
        Generator threaded through several steps gives the design
        ``sample(n, seed=child_seed(rng))`` would.
    output : str or int, optional
        The teacher's output, for a simulator or a regressor with several.

    Returns
    -------
    Distillation

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", 0, 1), Real("y", 0, 1)])
    >>> result = distill(lambda p: p["x"] + p["y"] ** 2, DecisionTreeRegressor(max_depth=6),
    ...                  space=space, n=400, labels="value", seed=0)
    >>> round(result.fidelity_["holdout"], 2) > 0.9
    True
    """
    options = _Options.check(labels, temperature, threshold, holdout, include_data, transfer)
    rng = as_generator(seed)
    student = check_student(student)
    model = as_teacher(teacher, space=space, output=output)
    if model.kind != "simulator" and (executor != "serial" or checkpoint is not None):
        raise ValueError("executor= and checkpoint= apply to a simulator or callable teacher "
                         f"only; the teacher is a fitted {type(teacher).__name__}, which labels "
                         "the transfer set in this process")
    check_checkpoint_seed(checkpoint, seed)  # else a rerun labels a fresh design in full
    space = model.space if model.space is not None else (
        None if space is None else as_space(space))
    X1, y1, named = _data(data, space)
    _check_true_labels(y1, options)  # before the teacher spends its runs
    fitted_on = getattr(model.model, "feature_names_in_", None)
    if data is not None and not named and fitted_on is not None:
        raise ValueError(f"the teacher was fitted on named columns {list(map(str, fitted_on))}, "
                         "but data= has no column names (an array): pass data as a DataFrame "
                         "with those columns, or space=")
    if named and fitted_on is not None and X1 is not None:
        extra = [str(c) for c in X1.columns if str(c) not in set(map(str, fitted_on))]
        if extra:  # the teacher would drop them, while the generator and student learnt them
            raise ValueError(f"data= has column(s) {extra} the teacher was not fitted on "
                             f"(its inputs: {list(map(str, fitted_on))}); drop them, e.g. "
                             "data[teacher.feature_names_in_]")
    clock = {"start": time.perf_counter()}
    # the design's seed is the first draw: a caller threading its own Generator through
    # gets the points that ``generator.sample(n, seed=child_seed(rng))`` gives (REDS relies
    # on it); the generator's fitting seed comes second
    sample_seed, fit_seed = child_seed(rng), child_seed(rng)
    generator = _generator(transfer, space, X1, fit_seed)
    generated = _generate(generator, n, sample_seed, space)
    inputs, source = _inputs(generated, X1)
    check_categories(student, inputs)  # before the teacher spends its runs
    if options.labels == "value":
        check_value_student(student)
    clock["generate"] = time.perf_counter()
    answer = model.answer(inputs, want_std=options.labels == "soft" and options.threshold
                          is not None, executor=executor, checkpoint=checkpoint,
                          probe=_label_probe(options))
    warn_hard_only(answer, options.labels)
    ok = answer.ok
    if not ok.any():
        raise ValueError(f"the teacher answered none of the {len(ok)} transfer-set inputs"
                         + _first_error(answer))
    answer = _restrict(answer, ok)
    inputs, source = inputs[ok].reset_index(drop=True), source[ok]
    label_set = make_labels(answer, options.labels, temperature=options.temperature,
                            threshold=options.threshold)
    clock["label"] = time.perf_counter()
    # the held-out inputs are drawn in the order of their rows' hashes, which depend on the
    # order of the columns: the space's, when known, so that Data 1 with its columns in
    # another order holds out the same points
    held, train = _split(source, options.holdout, options.include_data, rng,
                         _in_space_order(inputs, space))
    seed_unset(student, rng)  # the last draws: the split and all before stay as they were
    features: Any = student_features(student, inputs, space) if named else inputs.to_numpy()
    route = fit_student(student, _take(features, train), label_set.take(train))
    clock["fit"] = time.perf_counter()
    view = StudentView(student, label_set.classes)
    fidelity = _fidelity(view, features, label_set, source, held, y1, ok, options)
    fidelity["teacher_accuracy"] = _teacher_accuracy(label_set, source, y1, ok, options)
    clock["fidelity"] = time.perf_counter()
    return Distillation(
        student=student, teacher=teacher, model=model, generator=generator,
        transfer_set=_table(inputs, label_set, source, held, train), labels=label_set,
        fidelity=fidelity, route=route, n_failed=int((~ok).sum()), runs=answer.runs,
        options=options, transfer=transfer, n=len(generated), seconds=_seconds(clock),
        named=named, space=space, input_names=list(inputs.columns),
    )


class _Options:
    """The checked settings of one distillation (validated in one place, STYLE 10)."""

    def __init__(self, labels: str, temperature: float, threshold: tuple[str, float] | None,
                 holdout: float, include_data: bool) -> None:
        self.labels, self.temperature, self.threshold = labels, temperature, threshold
        self.holdout, self.include_data = holdout, include_data

    @classmethod
    def check(cls, labels: Any, temperature: Any, threshold: Any, holdout: Any,
              include_data: Any, transfer: Any) -> _Options:
        if not isinstance(labels, str) or labels not in LABELS:
            raise ValueError(f"labels must be one of {list(LABELS)}, got {labels!r}")
        if isinstance(transfer, type):
            raise TypeError(f"transfer must be a generator instance, e.g. {transfer.__name__}(),"
                            f" not the class {transfer.__name__}")
        if isinstance(transfer, str):
            if transfer not in TRANSFERS:
                raise ValueError(f"transfer must be one of {list(TRANSFERS)} or a generator with "
                                 f"fit(X) and sample(n, seed), got {transfer!r}")
        elif not (callable(getattr(transfer, "fit", None))
                  and callable(getattr(transfer, "sample", None))):
            raise TypeError(f"transfer must be one of {list(TRANSFERS)} or a generator with "
                            f"fit(X) and sample(n, seed), got {type(transfer).__name__}")
        if isinstance(holdout, bool) or not isinstance(holdout, int | float) \
                or not 0 <= holdout < 1:
            raise ValueError(f"holdout must be a share in [0, 1), got {holdout!r}")
        check_flag("include_data", include_data)
        return cls(labels, check_temperature(temperature), check_threshold(threshold),
                   float(holdout), include_data)


def _data(data: Any, space: Space | None) -> tuple[pd.DataFrame | None, np.ndarray | None, bool]:
    """Data 1 as (inputs, true labels or None), and whether inputs have column names (a space
    or a DataFrame: then teacher and student see DataFrames, else arrays)."""
    if data is None:
        return None, None, space is not None
    if isinstance(data, list) and len(data) == 2 and isinstance(data[0], pd.DataFrame | np.ndarray) \
            and np.ndim(data[0]) == 2:
        data = tuple(data)  # [X, y]: a pair written as a list (rows of X are not tables)
    if isinstance(data, tuple):
        if len(data) != 2:
            raise ValueError(f"data must be X or a pair (X, y), got a tuple of {len(data)}")
        X, y = data
    else:
        X, y = data, None
    frame = as_frame(X, space, "data")
    named = space is not None or isinstance(X, pd.DataFrame)
    if space is not None and isinstance(X, pd.DataFrame):
        own = [str(c) for c in X.columns]
        if sorted(own) == sorted(frame.columns):  # Data 1's order, which a teacher fitted on
            frame = frame[own]  # arrays of it reads by position (the space's may differ)
    if y is None:
        return frame, None, named
    warn_if_misaligned(X, y)
    y = np.asarray(y)
    if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ValueError(f"data: y must be one label per row, got shape {y.shape}")
    y = y.ravel()
    if len(y) != len(frame):
        raise ValueError(f"data: y has {len(y)} labels but X has {len(frame)} rows")
    missing = pd.isna(y)
    if missing.any():
        raise ValueError(f"data: y has {int(missing.sum())} missing labels (NaN or None), the "
                         f"first at row {int(np.argmax(missing))}; drop those rows")
    return frame, y, named


def _check_true_labels(y: np.ndarray | None, options: _Options) -> None:
    """Data 1's ``y`` is read as numbers for value labels (Q² on them) and with a threshold
    (the teacher's output, or the case as booleans or 0/1): text there is a ValueError."""
    if y is None or y.dtype == bool or (options.labels != "value" and options.threshold is None):
        return
    text = pd.to_numeric(pd.Series(y, dtype=object), errors="coerce").isna().to_numpy()
    if text.any():  # (no NaN in y: refused before)
        row = int(np.argmax(text))
        need = ("numbers (Data 1's true values of the output)" if options.labels == "value"
                else "the teacher's output (numbers) or the case of interest (booleans or 0/1)")
        raise ValueError(f"data: y must be {need}, got {y[row:row + 1].tolist()[0]!r} at row "
                         f"{row}")


def _generator(transfer: Any, space: Space | None, X1: pd.DataFrame | None, seed: int) -> Any:
    """The fitted generator (None for transfer="data"); ``seed`` for KDE's and GMM's fitting."""
    if transfer == "data":
        if X1 is None:
            raise ValueError("transfer='data' uses Data 1's points: pass data=")
        return None
    if isinstance(transfer, str):
        if transfer == "space":
            if space is None:
                raise ValueError("transfer='space' needs a space: pass space= or a Simulator "
                                 "teacher, or give data= with transfer='munge', 'kde', 'gmm' "
                                 "or 'data'")
            generator: Any = SpaceGenerator(space)
        elif X1 is None:
            raise ValueError(f"transfer={transfer!r} learns from Data 1: pass data=")
        elif transfer == "munge":
            generator = MUNGE(space=space)
        elif transfer == "kde":
            generator = KDEGenerator(space=space, seed=seed)
        else:
            generator = GMMGenerator(space=space, seed=seed)
    else:
        generator = _own_generator(transfer, space, seed)
        if X1 is None and isinstance(generator, TransferGenerator) \
                and not isinstance(generator, SpaceGenerator):
            raise ValueError(f"transfer={type(generator).__name__}(...) learns from Data 1: pass "
                             "data=")
    fitted = generator.fit(X1)
    # scikit-learn's fit returns self; one that returns None has fitted in place
    return generator if fitted is None else fitted


def _own_generator(transfer: Any, space: Space | None, seed: int) -> Any:
    """A clone of the user's generator, given ``space`` and a seed drawn from ``seed`` (for
    its fitting) where those options are left None, as the named ones get theirs."""
    generator = seeded_clone(transfer, np.random.default_rng(seed))
    if generator is transfer:  # not a scikit-learn style object (no clone): as it is
        return transfer
    if space is not None and generator.get_params().get("space", False) is None:
        generator.set_params(space=space)
    return generator


def _generate(generator: Any, n: int, seed: int, space: Space | None) -> pd.DataFrame:
    """The generator's ``n`` points, checked: a DataFrame, inside ``space`` when given."""
    n = check_positive_int("n", n)
    if generator is None:
        return pd.DataFrame()
    sample = generator.sample(n, seed=seed)
    name = type(generator).__name__
    if not isinstance(sample, pd.DataFrame):
        raise TypeError(f"transfer={name}: its sample(n, seed) must return a DataFrame with a "
                        f"column per input, got {type(sample).__name__}")
    if space is not None:  # ours draw inside the space; a user's generator may not
        ours = [c for c in space.names if c in sample.columns]  # beside others (constants)
        as_frame(sample[ours] if len(ours) == len(space.names) else sample, space,
                 f"the points of transfer={name}")
    return sample


def _inputs(generated: pd.DataFrame, X1: pd.DataFrame | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Generated points then Data 1's, and where each row comes from."""
    if X1 is not None and len(generated):
        if sorted(map(str, generated.columns)) == sorted(X1.columns):
            generated = generated[list(X1.columns)]  # Data 1's column order
        if list(generated.columns) != list(X1.columns):
            raise ValueError(f"the generator's columns {list(generated.columns)} differ from "
                             f"Data 1's {list(X1.columns)}")
    parts = [generated] if len(generated) else []
    if X1 is not None:
        parts.append(X1)
    inputs = pd.concat(parts, ignore_index=True)
    if X1 is not None and len(generated):  # the concatenation drops Data 1's category dtypes
        for name in X1.columns:  # (a category of numbers became ordered numbers)
            dtype = X1[name].dtype
            if isinstance(dtype, pd.CategoricalDtype):
                values = inputs[name].to_numpy(dtype=object)
                kept = pd.Categorical(values, dtype=dtype)
                if (kept.isna() & ~pd.isna(values)).any():  # a drawn value that is no level
                    raise RuntimeError(f"column {name!r}: the generator drew values that are "
                                       "not among Data 1's categories")
                inputs[name] = kept
    source = np.array(["generated"] * len(generated) + ["data"] * (len(inputs) - len(generated)),
                      dtype=object)
    return inputs, source


def _label_probe(options: Any) -> Any:
    """A check of a simulator's first values: classes without ``threshold=`` need outputs of
    0/1, and values that are not refuse the labels before every other run is spent."""
    if options.labels == "value" or options.threshold is not None:
        return None

    def probe(values: np.ndarray) -> None:
        with warnings.catch_warnings():  # the labels' own warnings come with the whole set
            warnings.simplefilter("ignore")
            make_labels(TeacherAnswer(ok=np.ones(len(values), dtype=bool), values=values),
                        options.labels, temperature=options.temperature, threshold=None)

    return probe


def _restrict(answer: Any, ok: np.ndarray) -> Any:
    from dataclasses import replace

    def part(array: np.ndarray | None) -> np.ndarray | None:
        return None if array is None else array[ok]

    return replace(answer, ok=answer.ok[ok], proba=part(answer.proba),
                   values=part(answer.values), std=part(answer.std))


def _split(source: np.ndarray, holdout: float, include_data: bool, rng: np.random.Generator,
           inputs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(held-out rows, training rows): a share of the generated rows is held out (of Data 1's
    when nothing was generated, transfer="data"); Data 1 trains when ``include_data``.

    Rows are held out by distinct input, so that no copy of a held-out point (a generator's
    repeat of a point, a MUNGE point left unchanged, a Data 1 row) trains the student: the
    held-out inputs are drawn among those no training Data 1 row has, whose rows come closest
    to the share; failing that (a bootstrap of Data 1 repeats only its rows) among all, the
    Data 1 rows they copy then left unused; with too few distinct inputs for either (every
    input the same, say) rows are held out one by one, with a warning that the held-out figure
    is then partly in sample."""
    generated = source == "generated"
    pool = generated if generated.any() else ~generated
    teaching = include_data & ~generated & ~pool  # Data 1 rows that train alongside the pool
    key = _row_keys(inputs)
    candidates = np.flatnonzero(pool)
    groups, inverse = np.unique(key[candidates], return_inverse=True)
    sizes = np.bincount(inverse.ravel(), minlength=len(groups))
    wanted = int(round(holdout * len(candidates)))
    order = rng.permutation(len(groups))
    clean = order[~np.isin(groups[order], key[teaching])]  # inputs Data 1 has not
    chosen = None
    if wanted:
        chosen = _closest(clean, sizes, wanted)
        if chosen is None:
            chosen = _closest(order, sizes, wanted)
    if wanted and chosen is None:
        warnings.warn(f"only {len(groups)} distinct input(s) among {len(candidates)} "
                      f"transfer-set points: a share of {holdout:g} cannot be held out by "
                      "distinct input, so rows are held out one by one, and held-out points "
                      "repeat training points (the holdout fidelity is partly in sample)",
                      UserWarning, stacklevel=3)
        held = np.zeros(len(source), dtype=bool)
        held[rng.permutation(candidates)[:wanted]] = True
        kept_out = held
    else:
        kept_out = np.isin(key, groups[chosen]) if chosen is not None else \
            np.zeros(len(source), dtype=bool)
        held = kept_out & pool
    train = ~kept_out & (pool | (include_data & ~generated))
    if train.sum() < 2:
        raise ValueError(f"only {int(train.sum())} labelled point(s) are left to fit the "
                         "student; raise n or lower holdout")
    return held, np.flatnonzero(train)


def _closest(order: np.ndarray, sizes: np.ndarray, wanted: int) -> np.ndarray | None:
    """The first groups of ``order`` whose rows add up closest to ``wanted`` (at least one,
    never all of ``sizes``' groups), or None when that is off by more than half of it."""
    reached = np.r_[0, np.cumsum(sizes[order])]
    count = min(int(np.argmin(np.abs(reached - wanted))), len(sizes) - 1, len(order))
    if count == 0 or abs(reached[count] - wanted) > max(0.5 * wanted, 1):
        return None
    return order[:count]


def _in_space_order(inputs: pd.DataFrame, space: Any) -> pd.DataFrame:
    """``inputs`` with the space's columns first, in its order (as they are without a space,
    or when a column of it is missing)."""
    if space is None or not set(space.names) <= set(inputs.columns):
        return inputs
    names = list(space.names)
    return inputs[names + [c for c in inputs.columns if c not in set(names)]]


def _row_keys(inputs: pd.DataFrame) -> np.ndarray:
    """One hash per row, equal for rows with equal inputs (numbers to 1e-9 of their column's
    range, so a value that went through a round trip to the unit cube still matches)."""
    frame = inputs.copy()
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            x = values.to_numpy(dtype=float)
            finite = x[np.isfinite(x)]
            low, span = (float(finite.min()), float(np.ptp(finite))) if len(finite) else (0, 0)
            with np.errstate(invalid="ignore"):  # inf and NaN stay as they are
                frame[column] = np.where(np.isfinite(x), np.round(
                    (x - low) / (span if span > 0 else 1.0) * 1e9), x)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _take(features: Any, index: np.ndarray) -> Any:
    return features.iloc[index].reset_index(drop=True) if isinstance(features, pd.DataFrame) \
        else features[index]


def _fidelity(view: StudentView, features: Any, labels: Labels, source: np.ndarray,
              held: np.ndarray, y1: np.ndarray | None, ok: np.ndarray,
              options: _Options) -> dict[str, Any]:
    """holdout / data fidelity (agreement or Q²), the soft labels' probability gap, and
    accuracy on Data 1."""
    result: dict[str, Any] = {"metric": METRICS[labels.kind], "n_holdout": int(held.sum())}
    held_idx = np.flatnonzero(held)
    nothing = {"value": None, "agreement": None, "gap": None}
    on_holdout = measure(view, _take(features, held_idx), labels.take(held_idx)) \
        if len(held_idx) else nothing
    data_idx = np.flatnonzero(source == "data")
    on_data = measure(view, _take(features, data_idx), labels.take(data_idx)) \
        if len(data_idx) else nothing
    result.update(holdout=on_holdout["value"], data=on_data["value"],
                  holdout_agreement=on_holdout["agreement"], data_agreement=on_data["agreement"],
                  holdout_gap=on_holdout["gap"], data_gap=on_data["gap"],
                  n_data=len(data_idx), accuracy=None)
    if y1 is not None and len(data_idx):
        truth = _answered(y1, ok)
        predicted = view.predict(_take(features, data_idx))
        result["accuracy"] = _score(truth, predicted, labels, options)
        if result["accuracy"] is None:
            _foreign_labels(truth, labels, options)
    return result


def _first_error(answer: Any) -> str:
    """The first failed run's status and message, for the error of a teacher that answered
    nothing (a simulator or function teacher's own exception, e.g. a KeyError)."""
    runs = answer.runs
    if runs is None or not len(runs):
        return ""
    status, error = runs.status.iloc[0], runs.error.iloc[0]
    return f"; the first run: {status}" + (f" ({error})" if error else "")


def _answered(y1: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Data 1's true labels where the teacher answered (Data 1 is last among the inputs)."""
    return y1[ok[len(ok) - len(y1):]]


def _score(truth: np.ndarray, predicted: np.ndarray, labels: Labels,
           options: _Options) -> float | None:
    """Agreement with (or Q² on) Data 1's true labels; None when they are not the teacher's
    classes (e.g. "s"/"u" where the teacher says True/False), which would read 0 agreement."""
    if labels.kind == "value":
        return q2(truth.astype(float), predicted)
    classes = true_classes(truth, labels, options.threshold)
    if labels.classes is not None and not set(classes.tolist()) <= set(labels.classes.tolist()):
        return None
    return agreement(predicted, classes)


def _foreign_labels(truth: np.ndarray, labels: Labels, options: _Options) -> None:
    """Warn that Data 1's labels are not the teacher's classes (the reason :func:`_score`
    gave no accuracy)."""
    seen = sorted(map(str, set(true_classes(truth, labels, options.threshold).tolist())))
    warnings.warn(
        f"Data 1's labels {seen[:5]} are not among the teacher's classes "
        f"{np.asarray(labels.classes).tolist()}; the accuracy on Data 1's true labels is not "
        "computed (encode them as the teacher does)", UserWarning, stacklevel=user_stacklevel())


def _teacher_accuracy(labels: Labels, source: np.ndarray, y1: np.ndarray | None,
                      ok: np.ndarray, options: _Options) -> float | None:
    """The teacher's own accuracy on Data 1's true labels (the student's ceiling, roughly)."""
    data_idx = np.flatnonzero(source == "data")
    if y1 is None or not len(data_idx):
        return None
    truth = _answered(y1, ok)
    teacher = labels.take(data_idx)
    said = teacher.values if labels.kind == "value" else teacher.hard
    return _score(truth, np.asarray(said), labels, options)


def _table(inputs: pd.DataFrame, labels: Labels, source: np.ndarray, held: np.ndarray,
           train: np.ndarray) -> pd.DataFrame:
    """The transfer set: inputs, the teacher's labels, where each row came from and its use."""
    columns = labels.columns()
    clash = sorted(set(columns) & set(map(str, inputs.columns)) | (
        {"source", "use"} & set(map(str, inputs.columns))))
    if clash:
        raise ValueError(f"input column(s) {clash} clash with the transfer set's label columns; "
                         "rename them")
    use = np.full(len(inputs), "unused", dtype=object)
    use[train] = "train"
    use[held] = "holdout"
    table = inputs.copy()
    for name, values in columns.items():
        table[name] = values
    table["source"] = source
    table["use"] = use
    return table


def _seconds(clock: dict[str, float]) -> dict[str, float]:
    steps = ["start", "generate", "label", "fit", "fidelity"]
    seconds = {step: clock[step] - clock[before] for before, step in zip(steps[:-1], steps[1:], strict=True)}
    seconds["total"] = clock["fidelity"] - clock["start"]
    return seconds
