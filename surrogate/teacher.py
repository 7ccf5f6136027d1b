"""Teachers: the third stage (space -> design -> **teacher** -> transfer set ...).

A :class:`Simulator` wraps a user's simulation function over a typed :class:`~surrogate.Space`
with named outputs. Calling it (``sim(X)``) evaluates a design in this process and raises on any
failure; :meth:`Simulator.run` evaluates it through an executor into a
:class:`~surrogate.TransferSet`, recording failures per run instead of raising.
"""

from __future__ import annotations

import importlib
import inspect
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from surrogate._checks import check_flag
from surrogate._fields import Grids, check_fields, check_outputs, field_frame, field_slices
from surrogate._identity import default_name
from surrogate.space import Space, as_space, in_run_order, python_scalar, repeated_names

if TYPE_CHECKING:  # pragma: no cover
    from surrogate.data import TransferSet

__all__ = ["Simulator", "simulator", "SimulationError", "OutputError"]


class SimulationError(RuntimeError):
    """Raised by ``Simulator.__call__`` when a run fails (``run`` records failures instead).

    Examples
    --------
    >>> import pandas as pd
    >>> from surrogate import Real, Space, SimulationError, simulator
    >>> @simulator(Space([Real("x", 0, 1)]), outputs=["y"])
    ... def fragile(x):
    ...     raise ValueError("no convergence")
    >>> try:
    ...     fragile(pd.DataFrame({"x": [0.5]}))
    ... except SimulationError as error:
    ...     print("failed:", "no convergence" in str(error))
    failed: True
    >>> fragile.run(pd.DataFrame({"x": [0.5]})).status.tolist()
    ['failed']
    """


class OutputError(ValueError):
    """A simulation returned something that does not match the declared outputs."""


class Simulator:
    """A simulation function with a typed parameter space and named outputs (the teacher).

    Parameters
    ----------
    fn : callable
        Scalar form (``vectorized=False``): ``fn(**params)`` for one point, returning a mapping
        (output name -> number; a Series labelled by output names too), a sequence in
        ``outputs`` order, or a number when there is one output. Vectorized form: ``fn(X)``
        with ``X`` a DataFrame of points (the space's columns, index ``0 .. n-1``) returning a
        DataFrame with the output columns, a mapping (output name -> n values) or an array of
        shape (n, m): rows by position, or by index when a DataFrame's (or Series') index
        holds ``0 .. n-1`` in another order (a sorted result); a row of NaN marks a failed
        run. For the process and Dask executors ``fn`` must be picklable (a module-level
        function or a ``functools.partial`` of one). A mapping's other keys (or a
        DataFrame's other columns) are ignored. With ``fields``, see *Field outputs*
        below.
    space : Space
        The parameters.
    outputs : str or sequence of str, default ()
        Scalar output names, in order (may be empty when ``fields`` are declared).
    fields : mapping of str to 1-D array, optional
        Field outputs: ``{name: grid}``, each grid 1-D, finite and strictly increasing (e.g.
        ``{"I": times}``). Every run gives one value per grid point.
    vectorized : bool, default False
        Whether ``fn`` takes a whole design at once.
    name : str, optional
        Defaults to ``fn.__name__``; for a ``functools.partial``, the function's name with its
        bound arguments (``model(scenario='high')``). A checkpoint belongs to one name: give
        teachers that compute different things different names.

    Attributes
    ----------
    fields : dict of str to ndarray
        The declared grids (read-only arrays), empty without fields.

    Notes
    -----
    *Field outputs.* The scalar form returns a mapping holding each scalar output (a number)
    and each field (a sequence of ``len(grid)`` numbers). The vectorized form returns a
    mapping holding each scalar output as an array of shape (n,) and each field as an array of
    shape (n, len(grid)); a DataFrame of the scalar outputs unpacks into it, e.g.
    ``{**outputs_frame, "I": infected}``. With one field and no scalar outputs the bare array
    will do. A trajectory given as a Series (trajectories as a DataFrame) labelled by the
    grid's times is read by them, in any order; one labelled by its positions (a default
    RangeIndex) or by names, by position. A run fails (and is recorded as failed by
    :meth:`run`) when any value of a trajectory is not finite, a trajectory does not have its
    grid's length, or it is labelled by numbers that are neither its grid nor its positions.
    Calling the simulator returns the scalar outputs; the fields come in
    ``result.attrs["fields"]`` (``{name: DataFrame}``, one row per point, one column per grid
    point) and, for runs, in :meth:`TransferSet.field`.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> def f(x, y):
    ...     return {"sum": x + y, "prod": x * y}
    >>> sim = Simulator(f, Space([Real("x", 0, 1), Real("y", 0, 1)]), ["sum", "prod"])
    >>> sim([[0.5, 0.25]]).round(3).to_dict("records")
    [{'sum': 0.75, 'prod': 0.125}]

    A field output: an exponential decay ``y(t) = exp(-k t)`` on three times.

    >>> import numpy as np
    >>> times = [0.0, 1.0, 2.0]
    >>> decay = Simulator(lambda k: {"y": np.exp(-k * np.array(times)), "rate": k},
    ...                   Space([Real("k", 0, 1)]), ["rate"], fields={"y": times})
    >>> decay.run([[0.5]], progress=False).field("y").round(4).to_numpy().tolist()
    [[1.0, 0.6065, 0.3679]]
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        space: Space,
        outputs: str | Sequence[str] = (),
        *,
        fields: Mapping[str, Any] | None = None,
        vectorized: bool = False,
        name: str | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.space = as_space(space)
        if fields is not None and not isinstance(fields, Mapping):
            check_fields(fields)  # its error names fields=, not the outputs it leaves empty
        self.outputs = check_outputs(
            outputs, has_fields=isinstance(fields, Mapping) and len(fields) > 0)
        self.fields: Grids = check_fields(fields, self.outputs)
        check_flag("vectorized", vectorized)
        self.vectorized = bool(vectorized)
        if name is not None and not isinstance(name, str):  # a checkpoint compares it as text
            raise TypeError(f"name must be a str (or None for the function's name), got "
                            f"{type(name).__name__} {name!r}")
        self.name = name or default_name(fn)
        if not self.vectorized:
            _check_arguments(fn, self.space.names, self.name)

    @property
    def n_values(self) -> int:
        """Values per run: the scalar outputs plus every grid point of every field."""
        return len(self.outputs) + sum(len(grid) for grid in self.fields.values())

    def __repr__(self) -> str:
        kind = "vectorized " if self.vectorized else ""
        fields = f", fields {list(self.fields)}" if self.fields else ""
        return (f"Simulator({self.name!r}, {kind}{self.space.dim} parameters {self.space.names}, "
                f"outputs {list(self.outputs)}{fields})")

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
        state = {"vectorized": self.vectorized, "name": self.name,
                 "fields": {k: v.tolist() for k, v in self.fields.items()} or None}
        return (_rebuild, (self.fn, self.space, self.outputs, state))

    # -- evaluation ----------------------------------------------------------------------------
    def __call__(self, X: Any) -> pd.DataFrame:
        """Evaluate a design in this process; raise :class:`SimulationError` if any run fails.

        Returns the scalar outputs, one row per point (with the index of a DataFrame ``X``);
        with fields, ``result.attrs["fields"]`` holds ``{name: DataFrame}`` (one column per grid
        point, one row per point, on the same index). pandas carries ``attrs`` unchanged through
        filtering and concatenation, so the fields of a filtered result are still every
        point's: select them by the kept index (``fields["I"].loc[kept.index]``), or use
        :meth:`run`, whose :class:`~surrogate.TransferSet` keeps fields and outputs together.
        """
        design = self.space.validate(X)
        # one run at a time stops at the first failure, as a slow teacher deserves
        values, errors = self.evaluate_design(design, stop_at_failure=True)
        failed = [i for i, e in enumerate(errors) if e]
        if failed:
            first = failed[0]
            point, error = design.iloc[first].to_dict(), errors[first]
            label = python_scalar(X.index[first]) if isinstance(X, pd.DataFrame) else first
            row = f"row {first}" + (f" (index {label!r})" if label != first else "")
            raise SimulationError(
                f"{self.name}: {len(failed)} of {len(design)} run(s) failed; first at {row} "
                f"({point}): {error}" if self.vectorized else
                f"{self.name}: the run at {row} failed ({point}): {error}; the runs stop "
                "at the first failure (teacher.run records every failure and goes on)")
        # a DataFrame design keeps its index, so that X.assign(y=sim(X)["y"]) lines up
        index = X.index if isinstance(X, pd.DataFrame) else design.index
        result = pd.DataFrame(values[:, :len(self.outputs)], columns=list(self.outputs),
                              index=index)
        if self.fields:
            result.attrs["fields"] = {
                name: field_frame(name, self.fields[name], values[:, where]).set_axis(index)
                for name, where in field_slices(len(self.outputs), self.fields).items()}
        return result

    def evaluate_design(self, design: pd.DataFrame, *, stop_at_failure: bool = False
                        ) -> tuple[np.ndarray, list[str]]:
        """Evaluate a validated design; return values (n, n_values) and one message per row.

        A row holds the scalar outputs, then each field's trajectory (see :attr:`n_values`).
        Rows that fail hold NaN and a non-empty message; nothing is raised for a failing run.
        ``stop_at_failure``: a scalar function runs no point after the first that fails (their
        rows stay NaN with no message); a vectorized one runs the whole design as one call.
        """
        n = len(design)
        if n == 0:  # no run, no call: a vectorized function failing on an empty frame was
            return np.empty((0, self.n_values)), []  # halved into empty halves without end
        if self.vectorized:
            return self._evaluate_batch(design)
        values = np.full((n, self.n_values), np.nan)
        errors = [""] * n
        for i, params in enumerate(design.to_dict("records")):
            try:
                values[i] = self.evaluate_point(params)  # type: ignore[arg-type]
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - sys.exit() too: recorded
                errors[i] = describe_exception(exc)
                if stop_at_failure:
                    break
        return values, errors

    def evaluate_point(self, params: Mapping[str, Any]) -> tuple[float, ...]:
        """Run the scalar function on one point and check its outputs (raises on failure)."""
        return self.coerce(self.fn(**params))

    def coerce(self, result: Any) -> tuple[float, ...]:
        """Turn one run's raw result into a tuple of finite floats: the scalar outputs in
        ``outputs`` order, then each field's trajectory."""
        if self.fields:
            return self._coerce_with_fields(result)
        outputs = self.outputs
        result = unmasked(result)
        if type(result) is float and len(outputs) == 1:  # the common fast path
            if math.isfinite(result):
                return (result,)
            raise OutputError(f"output {outputs[0]!r} is {result}")
        if isinstance(result, pd.Series):  # labelled by output name: a mapping; else values
            result = result.to_dict() if not isinstance(result.index, pd.RangeIndex) \
                else result.to_numpy()
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
        return tuple(_finite_number(name, value) for name, value in zip(outputs, raw, strict=True))

    def _coerce_with_fields(self, result: Any) -> tuple[float, ...]:
        """One run's mapping of scalar outputs and trajectories -> the flat value tuple."""
        result = self._as_mapping(result)
        parts = [np.array([_finite_number(o, result[o]) for o in self.outputs])]
        for name, grid in self.fields.items():
            trajectory = _field_values(name, _on_grid(name, result[name], grid), (len(grid),))
            bad = ~np.isfinite(trajectory)
            if bad.any():
                raise OutputError(_not_finite(name, grid, trajectory, bad))
            parts.append(trajectory)
        return tuple(np.concatenate(parts).tolist())

    def _as_mapping(self, result: Any) -> Mapping[str, Any]:
        """The result as ``{name: value}``; one bare field (no scalar outputs) may come alone."""
        names = [*self.outputs, *self.fields]
        if not isinstance(result, Mapping):
            if len(names) == 1:
                return {names[0]: result}
            raise OutputError(
                f"result is a {type(result).__name__}; a simulator with fields returns a mapping "
                f"holding the outputs {list(self.outputs)} and the fields {list(self.fields)}")
        missing = [o for o in names if o not in result]
        if missing:
            raise _WholeBatch(f"result has no output(s)/field(s) {missing}; expected outputs "
                              f"{list(self.outputs)} and fields {list(self.fields)}")
        return result

    def _evaluate_batch(self, design: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        n = len(design)
        square = square_sizes(self)
        if n in square:  # a sideways result of this many runs would pass every shape check
            # two calls, each of a size where sideways is caught; where no two such sizes add
            # up to n (3 runs, 2 outputs and a 3-point grid), one run and the rest, which is
            # split again: a whole batch of n runs read a sideways field as its trajectories
            k = next((k for k in range(1, n) if k not in square and n - k not in square), 1)
            top, top_err = self._evaluate_batch(design.iloc[:n - k])
            bottom, bottom_err = self._evaluate_batch(design.iloc[n - k:])
            return np.vstack([top, bottom]), top_err + bottom_err
        try:
            values = self._coerce_batch(self.fn(design.reset_index(drop=True)), n)
        except (_Transposed, _WholeBatch) as exc:  # every row fails: halves could be square
            # and read wrongly (transposed), or repeat the same layout fault down to single rows
            return np.full((n, self.n_values), np.nan), [f"OutputError: {exc}"] * n
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - isolate failing rows by halving
            if n == 1:
                return np.full((1, self.n_values), np.nan), [describe_exception(exc)]
            half = n // 2
            top, top_err = self._evaluate_batch(design.iloc[:half])
            bottom, bottom_err = self._evaluate_batch(design.iloc[half:])
            return np.vstack([top, bottom]), top_err + bottom_err
        bad = ~np.isfinite(values)
        errors = [""] * n
        m = len(self.outputs)
        slices = field_slices(m, self.fields)
        for i in np.flatnonzero(bad.any(axis=1)):
            problems = []
            names = [o for o, b in zip(self.outputs, bad[i, :m], strict=True) if b]
            if names:
                problems.append(f"output(s) {names} not finite ({values[i, :m][bad[i, :m]].tolist()})")
            problems += [_not_finite(f, self.fields[f], values[i, where], bad[i, where])
                         for f, where in slices.items() if bad[i, where].any()]
            errors[i] = "; ".join(problems)
            values[i] = np.nan
        return values, errors

    def _coerce_batch(self, result: Any, n: int) -> np.ndarray:
        if isinstance(result, pd.DataFrame):
            wanted = {*map(str, self.outputs), *map(str, self.fields)}
            repeated = [c for c in repeated_names(result.columns) if c in wanted]
            if repeated:  # which of the two is the output?
                raise _WholeBatch(f"result has repeated column(s) {repeated}; return each "
                                  "output once")
        if self.fields:
            result = self._as_mapping(result)
            parts = [_real_column(o, _column(o, result[o], n)) for o in self.outputs]
            scalars = np.column_stack(parts) if parts else np.empty((n, 0))
            trajectories = [_field_values(f, _on_grid(f, in_run_order(result[f], n), grid),
                                          (n, len(grid)))
                            for f, grid in self.fields.items()]
            return np.hstack([scalars, *trajectories])
        names = list(self.outputs)
        result = in_run_order(result, n)
        if isinstance(result, pd.DataFrame):
            missing = [o for o in names if o not in result.columns]
            if missing:
                raise _WholeBatch(f"result has no output column(s) {missing}; expected {names}")
            columns = [result[o].to_numpy() for o in names]
        elif isinstance(result, Mapping):  # {output: n values}, as with fields
            missing = [o for o in names if o not in result]
            if missing:
                raise _WholeBatch(f"result has no output(s) {missing}; expected {names}")
            columns = [_column(o, result[o], n) for o in names]
        else:
            try:
                values = np.asarray(unmasked(result))
            except (TypeError, ValueError):  # ragged nesting
                raise OutputError("vectorized result must be numeric") from None
            if values.ndim == 1 and len(names) == 1:
                values = values[:, None]
            if len(names) == 1 and values.shape == (1, n):  # one output as one row: no doubt
                values = values.T
            _check_not_transposed("vectorized result", values.shape, (n, len(names)))
            if values.ndim == 2 and values.shape[0] == n and values.shape[1] != len(names):
                raise _WholeBatch(  # the columns, not a row, are wrong: halving cannot help
                    f"vectorized result has shape {values.shape}, expected ({n}, {len(names)})")
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

        Never raises for a failing run: exceptions, non-finite or malformed outputs (strings
        included: outputs must be numbers; booleans count as 1.0 and 0.0) and timeouts are
        recorded per run (``status`` and ``error``) and the campaign goes on; so is a run that
        calls ``sys.exit``, in every executor. (A SIGTERM ends the campaign: the run in flight
        is not recorded, and a resumption from a checkpoint runs it again.)

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


def refuse_field_output(simulator: Simulator, output: Any, role: str, *,
                        scalar_only: bool = False) -> None:
    """Where a scalar output of ``simulator`` is needed: a ValueError naming ``role`` when
    ``output`` is one of its fields (a trajectory), or (``scalar_only``) when it has no scalar
    output at all."""
    fields, outputs = list(simulator.fields), list(simulator.outputs)
    summarize = "add a scalar output that summarizes the field (e.g. its peak)"
    if isinstance(output, str) and output in fields and output not in outputs:
        raise ValueError(f"output={output!r} is a field (a trajectory) of simulator "
                         f"{simulator.name!r}; the {role}'s output must be one of its scalar "
                         f"outputs {outputs}: {summarize}")
    if scalar_only and not outputs:
        raise ValueError(f"simulator {simulator.name!r} has no scalar output, only the field(s) "
                         f"{fields}; the {role} learns one scalar output: {summarize}")


def unmasked(value: Any) -> Any:
    """A numpy masked array (or ``np.ma.masked``) as floats with NaN where masked, so that a
    masked value fails its run: ``float()`` and ``np.asarray`` read what the mask hides (0.0
    for ``np.ma.masked``). Anything else unchanged."""
    if isinstance(value, np.ma.MaskedArray):
        try:
            return np.ma.asarray(value, dtype=float).filled(np.nan)
        except (TypeError, ValueError):
            raise OutputError(f"a masked array of {value.dtype} values, not real numbers") \
                from None
    return value


def real_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a real number (int, float, numpy number), else OutputError.

    A boolean is 1.0 or 0.0 (an output such as ``stable = stab < 0``). Strings are refused
    although ``float()`` takes them: a teacher returning ``"1.5"`` has a bug that a silent
    conversion would hide. A masked value is NaN.
    """
    value = unmasked(value)
    if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, np.ndarray) and value.dtype.kind == "b" and value.ndim == 0):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind not in "iuf":
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
    if kind in "iufb":  # booleans as 1.0 / 0.0
        return column.astype(float)
    if kind == "O":  # mixed Python objects: each value must be a real number or missing
        return np.array([np.nan if v is None or v is pd.NA else real_number(name, v)
                         for v in column], dtype=float)
    raise OutputError(f"output {name!r} has {column.dtype} values, not real numbers "
                      "(int or float)")


def _finite_number(name: str, value: Any) -> float:
    number = real_number(name, value)
    if not math.isfinite(number):
        raise OutputError(f"output {name!r} is {number}")
    return number


class _Transposed(OutputError):
    """A vectorized result laid out (values, runs) instead of (runs, values)."""


class _WholeBatch(OutputError):
    """A vectorized result whose layout is wrong whatever its rows (missing or repeated output
    columns, a wrong number of columns): every run of the batch fails with it at once, instead
    of the batch being halved down to single rows (1.5 n calls for n runs)."""


def _check_not_transposed(what: str, shape: tuple[int, ...], expected: tuple[int, int]) -> None:
    """A result of shape (m, n) where (n, m) is expected, n != m, is a transposed array: raise
    :class:`_Transposed` (halving the batch could reach square pieces read the wrong way)."""
    if len(shape) == 2 and shape == expected[::-1] and shape != expected:
        raise _Transposed(
            f"{what} has shape {shape}, expected {expected}: one row per run; it looks "
            "transposed (e.g. np.vstack of the outputs where np.column_stack was meant)")


def _column(name: str, value: Any, n: int) -> np.ndarray:
    """One scalar output of a vectorized result given as a mapping: n values."""
    column = np.asarray(unmasked(in_run_order(value, n)))
    if column.ndim == 2 and column.shape[1] == 1:
        column = column[:, 0]
    if column.shape != (n,):
        raise OutputError(f"output {name!r} has shape {column.shape}, expected ({n},)")
    return column


def _on_grid(name: str, value: Any, grid: np.ndarray) -> Any:
    """A DataFrame (Series) of trajectories whose columns (index) are the grid's times in
    another order, as the grid orders them, as ``TransferSet`` reads a field's columns; one
    labelled by the positions 0 .. T-1 (a default RangeIndex) or by names, or of another
    length (refused by its shape), as it is (read by position). Labels that are numbers but
    neither the grid nor the positions are refused: read by position, a trajectory labelled
    by other times (steps 10, 20, ... or another grid) was stored silently on this one."""
    labels = value.columns if isinstance(value, pd.DataFrame) else \
        value.index if isinstance(value, pd.Series) else None
    if labels is None or len(labels) != len(grid) or labels.equals(pd.RangeIndex(len(grid))):
        return value
    try:
        times = pd.Index(np.asarray(labels, dtype=float))
    except (TypeError, ValueError):
        return value
    order = times.get_indexer(np.asarray(grid, dtype=float)) if times.is_unique \
        else np.full(len(grid), -1)
    if (order < 0).any():  # the whole batch's labels: every run's
        raise _WholeBatch(
            f"field {name!r} is labelled {_some(labels)}, neither its grid {_some(grid)} nor "
            f"the positions 0 .. {len(grid) - 1}: label the trajectory by the grid's times "
            "(in any order), or by its positions (a default RangeIndex) to read it by position")
    if (order == np.arange(len(grid))).all():
        return value
    return value.iloc[:, order] if isinstance(value, pd.DataFrame) else value.iloc[order]


def _some(values: Any, k: int = 4) -> str:
    """The first ``k`` of ``values`` as a list, ``...`` marking the rest."""
    shown = ", ".join(repr(python_scalar(v)) for v in list(values)[:k])
    return f"[{shown}{', ...' if len(values) > k else ''}]"


def _field_values(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A trajectory (shape (T,)) or a batch of them ((n, T)) as floats (NaN kept), else one
    clear OutputError naming the field and the shape its grid asks for."""
    try:
        values = np.asarray(unmasked(value))
    except (TypeError, ValueError):  # ragged nesting
        raise OutputError(f"field {name!r} is not an array of numbers") from None
    if values.dtype.kind == "O":
        try:
            values = values.astype(float)
        except (TypeError, ValueError):
            raise OutputError(f"field {name!r} holds values that are not numbers") from None
    elif values.dtype.kind not in "iuf":
        raise OutputError(f"field {name!r} has {values.dtype} values, not real numbers")
    if len(shape) == 2:
        _check_not_transposed(f"field {name!r}", values.shape, shape)
    if values.shape != shape:
        length = shape[-1]
        raise OutputError(f"field {name!r} has shape {values.shape}, expected {shape}: one value "
                          f"per point of its grid of {length}")
    return values.astype(float)


def _not_finite(name: str, grid: np.ndarray, trajectory: np.ndarray, bad: np.ndarray) -> str:
    first = int(np.flatnonzero(bad)[0])
    return (f"field {name!r} not finite at {int(bad.sum())} of {len(grid)} grid point(s) "
            f"(first at {grid[first]:g}: {trajectory[first]})")


def describe_exception(exc: BaseException) -> str:
    """A one-line description of a failure: type and message."""
    message = exception_text(exc).strip().splitlines()
    text = message[0] if message else ""
    name = _public_name(type(exc))
    return f"{name}: {text}" if text else name


def exception_text(exc: BaseException) -> str:
    """``str(exc)``, or what can be said of it when a user's exception cannot be printed (its
    ``__str__`` raises or returns no string): one bad message must not stop a campaign."""
    try:
        text = str(exc)
    except Exception as err:  # noqa: BLE001 - any failure of user code
        return f"(its message could not be read: {type(err).__name__} in __str__)"
    return text


def _public_name(kind: type) -> str:
    """The name of an exception class, or of this package's private ones (``_WholeBatch``) the
    public class they refine (``OutputError``): a user never meets the private name."""
    for cls in kind.__mro__:
        ours = cls.__module__ == "surrogate" or cls.__module__.startswith("surrogate.")
        if not (cls.__name__.startswith("_") and ours):
            return cls.__name__
    return kind.__name__  # pragma: no cover - every exception has a public base


def _resolve(module: str, qualname: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _check_arguments(fn: Callable[..., Any], names: Sequence[str], label: str) -> None:
    """Refuse a scalar-form function that cannot be called as ``fn(**params)``: a misnamed
    argument would otherwise fail every run."""
    try:
        signature = inspect.signature(fn, follow_wrapped=False)
    except (TypeError, ValueError):  # a builtin or extension without one: found out at a run
        return
    try:
        signature.bind(**dict.fromkeys(names))
    except TypeError as exc:
        arguments = [p for p in signature.parameters]
        raise ValueError(f"simulator {label!r}: its function takes {arguments} but is called "
                         f"with the space's parameters {list(names)} as keywords ({exc}); "
                         "name its arguments after the parameters, or take **params") from None


def _rebuild(fn: Callable[..., Any], space: Space, outputs: tuple[str, ...],
             state: dict[str, Any]) -> Simulator:
    return Simulator(fn, space, outputs, **state)


def simulator(
    space: Space, outputs: str | Sequence[str] = (), vectorized: bool = False, *,
    fields: Mapping[str, Any] | None = None, name: str | None = None,
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
        return Simulator(fn, space, outputs, fields=fields, vectorized=vectorized, name=name)

    return wrap


def square_sizes(simulator: Simulator) -> frozenset[int]:
    """Batch sizes at which a vectorized simulator's result could be read either way: as many
    runs as outputs, or as a field's grid points. A transposed result of such a batch passes
    every shape check, so no batch of these sizes is evaluated (a whole batch of another size
    is caught as transposed; chunks of 2 runs for 2 outputs were read with runs and outputs
    swapped, and a design of 11 runs on an 11-point grid stored its fields sideways)."""
    if not simulator.vectorized:
        return frozenset()
    sizes = {len(simulator.outputs)} | {len(grid) for grid in simulator.fields.values()}
    return frozenset(sizes - {0, 1})
