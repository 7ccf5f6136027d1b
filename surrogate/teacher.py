"""Teachers: the third stage (space -> design -> **teacher** -> transfer set ...).

A :class:`Simulator` wraps a user's simulation function over a typed :class:`~surrogate.Space`
with named outputs. Calling it (``sim(X)``) evaluates a design in this process and raises on any
failure; :meth:`Simulator.run` evaluates it through an executor into a
:class:`~surrogate.TransferSet`, recording failures per run instead of raising.
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from surrogate.space import Space, as_space

if TYPE_CHECKING:  # pragma: no cover
    from surrogate.data import TransferSet

__all__ = ["Simulator", "simulator", "SimulationError", "OutputError"]


class SimulationError(RuntimeError):
    """Raised by ``Simulator.__call__`` when a run fails (``run`` records failures instead)."""


class OutputError(ValueError):
    """A simulation returned something that does not match the declared outputs."""


def _check_outputs(outputs: Any) -> tuple[str, ...]:
    if isinstance(outputs, str):
        outputs = (outputs,)
    if not isinstance(outputs, Sequence) or not outputs:
        raise ValueError(f"outputs must be a non-empty sequence of names, got {outputs!r}")
    for name in outputs:
        if not isinstance(name, str) or not name:
            raise TypeError(f"output names must be non-empty str, got {name!r}")
    dupes = sorted({o for o in outputs if list(outputs).count(o) > 1})
    if dupes:
        raise ValueError(f"duplicate output names: {dupes}")
    return tuple(outputs)


class Simulator:
    """A simulation function with a typed parameter space and named outputs (the teacher).

    Parameters
    ----------
    fn : callable
        Scalar form (``vectorized=False``): ``fn(**params)`` for one point, returning a mapping
        (output name -> number), a sequence in ``outputs`` order, or a number when there is one
        output. Vectorized form: ``fn(X)`` with ``X`` a DataFrame of points (the space's
        columns) returning a DataFrame with the output columns or an array of shape (n, m);
        a row of NaN marks a failed run. For the process and Dask executors ``fn`` must be
        picklable (a module-level function or a ``functools.partial`` of one).
    space : Space
        The parameters.
    outputs : str or sequence of str
        Output names, in order.
    vectorized : bool, default False
        Whether ``fn`` takes a whole design at once.
    name : str, optional
        Defaults to ``fn.__name__``.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> def f(x, y):
    ...     return {"sum": x + y, "prod": x * y}
    >>> sim = Simulator(f, Space([Real("x", 0, 1), Real("y", 0, 1)]), ["sum", "prod"])
    >>> sim([[0.5, 0.25]]).round(3).to_dict("records")
    [{'sum': 0.75, 'prod': 0.125}]
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        space: Space,
        outputs: str | Sequence[str],
        *,
        vectorized: bool = False,
        name: str | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.space = as_space(space)
        self.outputs = _check_outputs(outputs)
        self.vectorized = bool(vectorized)
        self.name = name or getattr(fn, "__name__", None) or type(fn).__name__

    def __repr__(self) -> str:
        kind = "vectorized " if self.vectorized else ""
        return (f"Simulator({self.name!r}, {kind}{self.space.dim} parameters {self.space.names}, "
                f"outputs {list(self.outputs)})")

    # -- pickling: a @simulator-decorated function shadows itself in its module ----------------
    def __reduce__(self) -> Any:
        module = getattr(self.fn, "__module__", None)
        qualname = getattr(self.fn, "__qualname__", None)
        if module and qualname and module != "__main__" and "<" not in qualname:
            try:
                target = _resolve(module, qualname)
            except (ImportError, AttributeError):
                target = None
            if target is self:
                return (_resolve, (module, qualname))
        state = {"vectorized": self.vectorized, "name": self.name}
        return (_rebuild, (self.fn, self.space, self.outputs, state))

    # -- evaluation ----------------------------------------------------------------------------
    def __call__(self, X: Any) -> pd.DataFrame:
        """Evaluate a design in this process; raise :class:`SimulationError` if any run fails."""
        design = self.space.validate(X)
        values, errors = self.evaluate_design(design)
        failed = [i for i, e in enumerate(errors) if e]
        if failed:
            first = failed[0]
            raise SimulationError(
                f"{self.name}: {len(failed)} of {len(design)} run(s) failed; first at row {first} "
                f"({design.iloc[first].to_dict()}): {errors[first]}"
            )
        return pd.DataFrame(values, columns=list(self.outputs))

    def evaluate_design(self, design: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """Evaluate a validated design; return outputs (n, m) and one error message per row.

        Rows that fail hold NaN and a non-empty message; nothing is raised for a failing run.
        """
        n, m = len(design), len(self.outputs)
        if self.vectorized:
            return self._evaluate_batch(design)
        values = np.full((n, m), np.nan)
        errors = [""] * n
        for i, params in enumerate(design.to_dict("records")):
            try:
                values[i] = self.evaluate_point(params)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - any failure of user code is recorded
                errors[i] = describe_exception(exc)
        return values, errors

    def evaluate_point(self, params: Mapping[str, Any]) -> tuple[float, ...]:
        """Run the scalar function on one point and check its outputs (raises on failure)."""
        return self.coerce(self.fn(**params))

    def coerce(self, result: Any) -> tuple[float, ...]:
        """Turn one run's raw result into a tuple of finite floats in ``outputs`` order."""
        outputs = self.outputs
        if type(result) is float and len(outputs) == 1:  # the common fast path
            if math.isfinite(result):
                return (result,)
            raise OutputError(f"output {outputs[0]!r} is {result}")
        if isinstance(result, (dict, Mapping)):
            missing = [o for o in outputs if o not in result]
            if missing:
                raise OutputError(f"result has no output(s) {missing}; expected {list(outputs)}")
            raw = [result[o] for o in outputs]
        elif isinstance(result, (Sequence, np.ndarray)) and not isinstance(result, (str, bytes)):
            raw = list(np.ravel(np.asarray(result, dtype=object)))
            if len(raw) != len(outputs):
                raise OutputError(
                    f"result has {len(raw)} value(s), expected {len(outputs)} ({list(outputs)})"
                )
        elif len(outputs) == 1:
            raw = [result]
        else:
            raise OutputError(
                f"result is a single {type(result).__name__}, expected {len(outputs)} outputs "
                f"{list(outputs)} as a mapping or sequence"
            )
        values = []
        for name, value in zip(outputs, raw, strict=True):
            number = real_number(name, value)
            if not math.isfinite(number):
                raise OutputError(f"output {name!r} is {number}")
            values.append(number)
        return tuple(values)

    def _evaluate_batch(self, design: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        n, m = len(design), len(self.outputs)
        try:
            values = self._coerce_batch(self.fn(design.reset_index(drop=True)), n)
        except Exception as exc:  # noqa: BLE001 - isolate the failing rows by halving
            if n == 1:
                return np.full((1, m), np.nan), [describe_exception(exc)]
            half = n // 2
            top, top_err = self._evaluate_batch(design.iloc[:half])
            bottom, bottom_err = self._evaluate_batch(design.iloc[half:])
            return np.vstack([top, bottom]), top_err + bottom_err
        bad = ~np.isfinite(values)
        errors = [""] * n
        for i in np.flatnonzero(bad.any(axis=1)):
            names = [o for o, b in zip(self.outputs, bad[i], strict=True) if b]
            errors[i] = f"output(s) {names} not finite ({values[i][bad[i]].tolist()})"
            values[i] = np.nan
        return values, errors

    def _coerce_batch(self, result: Any, n: int) -> np.ndarray:
        names = list(self.outputs)
        if isinstance(result, pd.DataFrame):
            missing = [o for o in names if o not in result.columns]
            if missing:
                raise OutputError(f"result has no output column(s) {missing}; expected {names}")
            columns = [result[o].to_numpy() for o in names]
        else:
            try:
                values = np.asarray(result)
            except (TypeError, ValueError):  # ragged nesting
                raise OutputError("vectorized result must be numeric") from None
            if values.ndim == 1 and len(names) == 1:
                values = values[:, None]
            if values.shape != (n, len(names)):
                raise OutputError(
                    f"vectorized result has shape {values.shape}, expected ({n}, {len(names)})"
                )
            columns = [values[:, j] for j in range(len(names))]
        if any(len(c) != n for c in columns):
            raise OutputError(f"vectorized result has {len(columns[0])} rows, expected {n}")
        return np.column_stack([_real_column(o, c) for o, c in zip(names, columns, strict=True)])

    def run(
        self,
        X: Any,
        *,
        executor: Any = "serial",
        n_workers: int | None = None,
        timeout: float | None = None,
        retries: int = 0,
        checkpoint: Any = None,
        progress: bool | None = None,
        address: Any = None,
        rerun: str | None = None,
    ) -> TransferSet:
        """Run the teacher on a design and return the :class:`~surrogate.TransferSet`.

        Never raises for a failing run: exceptions, non-finite or malformed outputs (strings and
        booleans included: outputs must be ints or floats) and timeouts are recorded per run
        (``status`` and ``error``) and the campaign goes on.

        Parameters
        ----------
        X : DataFrame or 2-D array
            The design.
        executor : {"serial", "processes", "dask"} or Executor
            Where runs execute. ``"dask"`` needs ``address`` (a scheduler address or a
            ``distributed.Client``).
        n_workers : int, optional
            Worker processes for ``"processes"`` (default: the number of CPUs).
        timeout : float, optional
            Seconds allowed per run (a vectorized simulator gets it per row of a batch). The
            ``"serial"`` executor interrupts a run with SIGALRM, which Python handles only
            between bytecodes: a run hung inside C code (a solver, a blocking call) is not
            stopped. Use ``executor="processes"`` when runs can hang: its workers are killed
            and replaced when a run overstays.
        retries : int, default 0
            How often a failed or timed-out run is tried again.
        checkpoint : path, optional
            A directory: every finished run is appended to it as it completes, keyed by its
            design point. Calling ``run`` again with the same checkpoint skips the points that
            already finished (failed ones included, unless ``rerun="failed"``); a design with
            new points extends the checkpoint (e.g. a larger study that contains the first),
            and checkpointed points that are not in the design are kept on disk but not
            returned. The space, outputs and simulator name must match the checkpoint's.
        progress : bool, optional
            Show a progress bar; default: only when stderr is a terminal and not under CI.
        address : str or distributed.Client, optional
            The Dask scheduler for ``executor="dask"``.
        rerun : {None, "failed"}, optional
            ``"failed"`` runs again the checkpointed runs whose status is not ``"ok"`` (finished
            ``"ok"`` runs are never repeated). No effect without ``checkpoint``.

        Examples
        --------
        >>> from surrogate.space import Real, Space
        >>> sim = Simulator(lambda x: 2 * x, Space([Real("x", 0, 1)]), "y")
        >>> sim.run([[0.25], [0.5]], progress=False).Y["y"].tolist()
        [0.5, 1.0]
        """
        from surrogate.execute import run_campaign

        return run_campaign(
            self, X, executor=executor, n_workers=n_workers, timeout=timeout, retries=retries,
            checkpoint=checkpoint, progress=progress, address=address, rerun=rerun,
        )


def real_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a real number (int, float, numpy number), else OutputError.

    Strings and booleans are refused although ``float()`` takes them: a teacher returning
    ``"1.5"`` or ``True`` has a bug that a silent conversion would hide.
    """
    if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, np.ndarray) and value.dtype.kind not in "iuf"):
        raise OutputError(f"output {name!r} is {value!r} ({type(value).__name__}), "
                          "not a real number (int or float)")
    if isinstance(value, numbers.Real) or (
            hasattr(type(value), "__float__")  # 0-d arrays, tensors
            and not isinstance(value, (str, bytes, numbers.Complex))):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise OutputError(f"output {name!r} is not a number: {value!r} ({type(value).__name__}); "
                      "return ints or floats")


def _real_column(name: str, column: np.ndarray) -> np.ndarray:
    """One output column of a vectorized result as floats (NaN kept: it marks a failed run)."""
    kind = column.dtype.kind
    if kind in "iuf":
        return column.astype(float)
    if kind == "O":  # mixed Python objects: each value must be a real number or missing
        return np.array([np.nan if v is None or v is pd.NA else real_number(name, v)
                         for v in column], dtype=float)
    raise OutputError(f"output {name!r} has {column.dtype} values, not real numbers "
                      "(int or float)")


def describe_exception(exc: BaseException) -> str:
    """A one-line description of a failure: type and message."""
    message = str(exc).strip().splitlines()
    text = message[0] if message else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _resolve(module: str, qualname: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _rebuild(fn: Callable[..., Any], space: Space, outputs: tuple[str, ...],
             state: dict[str, Any]) -> Simulator:
    return Simulator(fn, space, outputs, **state)


def simulator(
    space: Space, outputs: str | Sequence[str], *, vectorized: bool = False,
    name: str | None = None,
) -> Callable[[Callable[..., Any]], Simulator]:
    """Decorator form of :class:`Simulator`.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> @simulator(Space([Real("x", -1, 1)]), "y")
    ... def square(x):
    ...     return x * x
    >>> square([[0.5]])["y"].tolist()
    [0.25]
    """

    def wrap(fn: Callable[..., Any]) -> Simulator:
        return Simulator(fn, space, outputs, vectorized=vectorized, name=name)

    return wrap
