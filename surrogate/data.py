"""Transfer sets: the fourth stage (... teacher -> **transfer set** -> models ...).

A :class:`TransferSet` holds what the teacher produced for a design: the inputs ``X``, the outputs
``Y`` (NaN where a run failed), each run's ``status`` (``"ok"``, ``"failed"`` or ``"timeout"``),
its ``error`` message and its wall ``seconds``; a teacher with field outputs adds one trajectory
per run and field (:meth:`TransferSet.field`). It is validated when built and never changes
afterwards; selections return new sets.

On disk a transfer set is a directory with ``runs.parquet`` (columns ``x.<parameter>``,
``y.<output>``, ``f.<field>.<k>`` for grid point ``k`` of each field, ``status``, ``error``,
``seconds``) and ``meta.json`` (schema version, space, outputs, the fields' grids, simulator
name, package versions).
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surrogate._checks import warn_if_reordered
from surrogate._fields import Grids, check_fields, check_grid, check_outputs, field_frame
from surrogate.space import Space, as_space, in_run_order

__all__ = ["TransferSet", "STATUSES", "SCHEMA"]

STATUSES = ("ok", "failed", "timeout")
SCHEMA = "surrogate.transferset/1"


def package_versions() -> dict[str, str]:
    """Versions recorded in files we write."""
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for dist in ("surrogate-discovery", "numpy", "pandas", "scipy", "torch", "gpytorch"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return versions


class TransferSet:
    """A design, the teacher's outputs for it, and the status of every run.

    Parameters
    ----------
    space : Space
    outputs : sequence of str
    X : DataFrame or array
        The design (validated against ``space``). Runs are numbered ``0 .. n-1`` in the
        design's row order: a DataFrame's own index is not kept, so join results to a design
        by position (``design.assign(y=runs.Y["y"].to_numpy())``), not by index.
    Y : DataFrame or array, shape (n, m)
        Outputs; forced to NaN on rows whose status is not ``"ok"``.
    status : sequence of {"ok", "failed", "timeout"}, optional
        Defaults to ``"ok"`` where every output is finite, else ``"failed"``.
    error : sequence of str, optional
    seconds : sequence of float, optional
    simulator : str, optional
        Name of the teacher that produced it.
    fields : mapping of str to DataFrame or (grid, values), optional
        Field outputs: per field, its trajectories as a DataFrame with one row per run and one
        column per grid point (the columns are the grid, as :meth:`field` returns them), or a
        pair ``(grid, values)`` with ``values`` of shape (n, len(grid)). A run whose
        trajectory is not finite anywhere cannot be ``"ok"``; rows of runs that are not
        ``"ok"`` are forced to NaN.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> ts = TransferSet(Space([Real("x", 0, 1)]), ["y"], [[0.1], [0.2]], [[1.0], [np.nan]])
    >>> ts.status.tolist(), len(ts.valid())
    (['ok', 'failed'], 1)

    With a field ``I`` on the grid 0, 1, 2 and no scalar outputs:

    >>> ts = TransferSet(Space([Real("x", 0, 1)]), [], [[0.1], [0.2]], np.empty((2, 0)),
    ...                  fields={"I": ([0, 1, 2], [[1, 2, 3], [4, np.nan, 6]])})
    >>> ts.fields, ts.status.tolist()
    (['I'], ['ok', 'failed'])
    >>> ts.field("I")
    I    0.0  1.0  2.0
    0    1.0  2.0  3.0
    1    NaN  NaN  NaN
    """

    def __init__(
        self,
        space: Space,
        outputs: Sequence[str],
        X: Any,
        Y: Any,
        status: Sequence[str] | None = None,
        error: Sequence[str] | None = None,
        seconds: Sequence[float] | np.ndarray | None = None,
        simulator: str | None = None,
        *,
        fields: Any = None,
    ) -> None:
        self._space = as_space(space)
        self._outputs = check_outputs(outputs, has_fields=True)  # none: runs of a design
        if not hasattr(X, "__len__") or isinstance(X, str | bytes):
            raise TypeError(f"X must be the runs' inputs (a DataFrame with columns "
                            f"{self._space.names}, or an array in that order), got {X!r:.60}")
        warn_if_reordered(X, {"Y": Y, "status": status})
        X = self._space.validate(X) if isinstance(X, pd.DataFrame) or len(X) \
            else self._space.from_unit(np.empty((0, len(space))))
        Y = self._as_outputs(Y, len(X))
        n = len(X)
        self._grids, trajectories = _as_fields(fields, self._outputs, n)
        finite = np.isfinite(Y.to_numpy()).all(axis=1)
        for values in trajectories.values():
            finite &= np.isfinite(values).all(axis=1)
        if status is None:
            status = np.where(finite, "ok", "failed").tolist()
        status_array = np.asarray(status, dtype=object)
        status_s = pd.Series(status_array, name="status")
        if len(status_s) != n:
            raise ValueError(f"status has {len(status_s)} entries for {n} runs")
        unknown = sorted(set(pd.unique(status_array)) - set(STATUSES))
        if unknown:
            raise ValueError(f"unknown status value(s) {unknown}; allowed: {list(STATUSES)}")
        error_s = pd.Series([""] * n if error is None else
                            ["" if e is None else str(e) for e in error],  # None: no error
                            name="error", dtype=object)
        try:
            seconds_s = pd.Series(np.full(n, np.nan) if seconds is None
                                  else np.asarray(seconds, float), name="seconds")
        except (TypeError, ValueError):
            some = np.ravel(np.asarray(seconds, dtype=object))[:3].tolist()
            raise TypeError("seconds must be numbers (each run's duration), got values such as "
                            f"{some!r}") from None
        if len(error_s) != n or len(seconds_s) != n:
            raise ValueError(f"error and seconds need {n} entries")
        ok = (status_s == "ok").to_numpy()
        if (ok & ~finite).any():
            first = int(np.flatnonzero(ok & ~finite)[0])
            raise ValueError(f"run {first} has status 'ok' but non-finite outputs or fields")
        Y.loc[~ok, :] = np.nan
        for values in trajectories.values():
            values[~ok] = np.nan
            values.setflags(write=False)
        self._trajectories = trajectories
        self._X: pd.DataFrame = X
        self._Y: pd.DataFrame = Y
        self._status: pd.Series = status_s
        # as text that parquet can hold: a lone surrogate (an undecodable byte of a file name
        # in a message) made every save, and so a checkpointed campaign, fail at its end
        self._error: pd.Series = error_s.map(
            lambda e: e.encode("utf-8", "backslashreplace").decode("utf-8"))
        self._seconds: pd.Series = seconds_s
        self.simulator = simulator

    def _as_outputs(self, Y: Any, n: int) -> pd.DataFrame:
        names = list(self._outputs)
        if isinstance(Y, pd.DataFrame):
            missing = [o for o in names if o not in Y.columns]
            if missing:
                raise ValueError(f"Y has no column(s) {missing}; outputs are {names}")
        try:  # a nullable or pyarrow column's <NA> is a failed run's NaN
            values = (Y.loc[:, names].to_numpy(dtype=float, na_value=np.nan)
                      if isinstance(Y, pd.DataFrame) else np.asarray(Y, dtype=float))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Y must hold numbers (outputs {names}); {exc}") from None
        if not isinstance(Y, pd.DataFrame) and values.ndim == 1 and len(names) == 1:
            values = values[:, None]
        if values.shape != (n, len(names)):
            raise ValueError(f"Y must have shape ({n}, {len(names)}), got {values.shape}")
        return pd.DataFrame(values.copy(), columns=names)

    # -- read-only views -----------------------------------------------------------------------
    @property
    def space(self) -> Space:
        return self._space

    @property
    def outputs(self) -> list[str]:
        return list(self._outputs)

    @property
    def fields(self) -> list[str]:
        """Names of the field outputs (empty when the teacher has none)."""
        return list(self._grids)

    @property
    def grids(self) -> Grids:
        """``{field name: grid}`` (read-only arrays)."""
        return dict(self._grids)

    def field(self, name: str) -> pd.DataFrame:
        """The trajectories of field ``name``: one row per run (NaN rows for failed runs), one
        column per grid point (the columns are the grid; the columns axis is named ``name``).
        """
        if not isinstance(name, str):  # a list was an unhashable-type TypeError of Python's
            raise TypeError(f"field takes one field name (a str), got {type(name).__name__} "
                            f"{name!r}; fields: {self.fields}")
        if name not in self._grids:
            raise KeyError(f"no field {name!r}; fields: {self.fields}, scalar outputs: "
                           f"{self.outputs} (a simulator keeps only the fields it declares: "
                           "Simulator(..., fields={name: grid}))")
        return field_frame(name, self._grids[name], self._trajectories[name])

    @property
    def X(self) -> pd.DataFrame:
        return self._X.copy()

    @property
    def Y(self) -> pd.DataFrame:
        return self._Y.copy()

    @property
    def status(self) -> pd.Series:
        return self._status.copy()

    @property
    def error(self) -> pd.Series:
        return self._error.copy()

    @property
    def seconds(self) -> pd.Series:
        return self._seconds.copy()

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the runs that succeeded."""
        return (self._status == "ok").to_numpy()

    def __len__(self) -> int:
        return len(self._X)

    def __repr__(self) -> str:
        counts = self._status.value_counts().to_dict()
        parts = ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES if counts.get(s))
        fields = f"; fields {self.fields}" if self._grids else ""
        return (f"TransferSet({len(self)} runs: {parts or 'none'}; parameters {self._space.names}; "
                f"outputs {list(self._outputs)}{fields})")

    def select(self, mask: Any) -> TransferSet:
        """A new transfer set with the runs where ``mask`` is true (or at the given indices).

        A boolean Series or one-column DataFrame is read by its index when that holds the run
        numbers ``0 .. n-1`` in another order (``ts.Y["y"].sort_values() > 1``), as pandas
        aligns it; other masks by position."""
        n = len(self._X)
        index = np.asarray(in_run_order(mask, n))
        if index.ndim == 2 and index.shape[1] == 1:  # e.g. ts.Y[["y"]] > 1
            index = index[:, 0]
        if index.dtype == bool:
            if index.shape != (n,):
                raise ValueError(f"a boolean mask must hold one value per run ({n}), got shape "
                                 f"{index.shape}")
            index = np.flatnonzero(index)
        elif index.dtype.kind not in "iu" and index.size:
            raise TypeError(f"mask must be booleans (one per run) or integer positions, got "
                            f"{index.dtype} values")
        index = index.astype(np.int64).reshape(-1)
        outside = (index < -n) | (index >= n)
        if outside.any():
            raise ValueError(f"position {int(index[outside][0])} is outside the {n} runs "
                             f"(allowed: {-n} .. {n - 1})")
        return TransferSet(
            self._space, self._outputs, self._X.iloc[index], self._Y.iloc[index],
            self._status.iloc[index].tolist(), self._error.iloc[index].tolist(),
            self._seconds.iloc[index].to_numpy(), self.simulator,
            fields={f: (g, self._trajectories[f][index]) for f, g in self._grids.items()},
        )

    def valid(self) -> TransferSet:
        """The runs that succeeded."""
        return self.select(self.ok)

    def to_frame(self) -> pd.DataFrame:
        """One flat DataFrame: parameters, outputs, fields (``f.<field>.<k>``), status, error,
        seconds."""
        trajectories = [pd.DataFrame(v, columns=field_columns(f, v.shape[1]))
                        for f, v in self._trajectories.items()]
        frame = pd.concat([self._X, self._Y, *trajectories], axis=1)
        frame.columns = ([f"x.{c}" for c in self._X.columns] + [f"y.{c}" for c in self._Y.columns]
                         + [c for t in trajectories for c in t.columns])
        frame["status"] = self._status.to_numpy()
        frame["error"] = self._error.to_numpy()
        frame["seconds"] = self._seconds.to_numpy()
        return frame

    # -- persistence ---------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        meta = {
            "schema": SCHEMA,
            "space": self._space.to_dict(),
            "outputs": list(self._outputs),
            "simulator": self.simulator,
            "n_runs": len(self),
            "versions": package_versions(),
        }
        if self._grids:
            meta["fields"] = grids_to_json(self._grids)
        return meta

    def save(self, path: str | Path) -> Path:
        """Write ``runs.parquet`` and ``meta.json`` into directory ``path`` (created if needed).

        A campaign's checkpoint directory (one holding ``design_rows`` in its ``meta.json``)
        is refused: its design would be overwritten by these runs, and growing the design on
        it later would attach outputs to the wrong inputs. Save into another directory.
        """
        path = save_path(path, SCHEMA, "runs", "a transfer set")
        path.mkdir(parents=True, exist_ok=True)
        # an earlier save's meta.json goes first and the new one comes last: a save cut short
        # leaves no meta.json over the runs of another save
        (path / "meta.json").unlink(missing_ok=True)
        write_runs(path, self)
        write_json(path / "meta.json", self.meta())
        return path

    @classmethod
    def load(cls, path: str | Path) -> TransferSet:
        """Read a transfer set written by :meth:`save` (or a checkpoint, finished or not).

        The checkpoint of an adaptive design or an optimization (``init/``, ``round-0001/``,
        ...) reads as the runs of its rounds in order, also of a design that was killed: the
        runs that finished (a round cut short gives those of its runs that had finished).

        Raises
        ------
        FileNotFoundError
            When ``path`` holds no ``meta.json`` (nor the rounds of a design).
        ValueError
            Naming the file, when a file is damaged (not JSON or Parquet, missing keys or
            columns, values the space does not allow).
        """
        path = as_path(path)
        if not (path / "meta.json").exists() and (path / "init" / "meta.json").exists():
            rounds = [path / "init"] + sorted(p for p in path.glob("round-*")
                                              if (p / "meta.json").exists())
            return cls.concat([cls.load(p) for p in rounds])
        meta = read_meta(path, SCHEMA)
        space, outputs = meta_space(path, meta)
        grids = meta_fields(path, meta, outputs)
        file = path / "runs.parquet"
        if not file.exists():
            from surrogate.execute._checkpoint import JOURNAL, load_partial

            if not (path / JOURNAL).exists():  # neither a saved set nor a campaign's journal
                raise ValueError(f"{file} is missing: {path} holds no runs (a saved transfer set "
                                 "has runs.parquet, a campaign's checkpoint its journal)")
            return load_partial(path)
        frame = read_parquet(file)
        columns = [f"x.{n}" for n in space.names] + [f"y.{o}" for o in outputs]
        field_cols = {f: field_columns(f, len(g)) for f, g in grids.items()}
        missing = [c for c in columns + [c for cs in field_cols.values() for c in cs]
                   + ["status", "error", "seconds"] if c not in frame.columns]
        if missing:
            raise ValueError(f"{file} is damaged: it lacks column(s) {missing} that the space and "
                             f"outputs in meta.json need")
        stated = meta.get("n_runs")
        if isinstance(stated, int) and stated != len(frame):
            raise ValueError(f"{file} holds {len(frame)} runs but {path / 'meta.json'} says "
                             f"{stated}: the files of two different saves (a save or a campaign "
                             "cut short); save the runs again, or run the campaign again")
        X = frame[columns[:len(space.names)]].set_axis(space.names, axis=1)
        Y = frame[columns[len(space.names):]].set_axis(outputs, axis=1)
        fields = {f: (grids[f], frame[cs].to_numpy(dtype=float)) for f, cs in field_cols.items()}
        try:
            return cls(space, outputs, X, Y, frame["status"].tolist(), frame["error"].tolist(),
                       frame["seconds"].to_numpy(), meta.get("simulator"), fields=fields)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{file} is damaged: {exc}") from None

    @classmethod
    def concat(cls, sets: Sequence[TransferSet]) -> TransferSet:
        """Stack transfer sets of the same space, outputs and fields (same grids)."""
        if isinstance(sets, TransferSet) or not isinstance(sets, Iterable):
            raise TypeError("concat takes a list of transfer sets, e.g. TransferSet.concat([a, b])")
        sets = list(sets)
        if not sets:
            raise ValueError("concat needs at least one TransferSet")
        odd = [f"{i}: {type(s).__name__}" for i, s in enumerate(sets) if not isinstance(s, cls)]
        if odd:
            raise TypeError(f"concat stacks transfer sets; got other items ({', '.join(odd)}); "
                            "run a design with simulator.run(X) to make one")
        first = sets[0]
        for i, other in enumerate(sets[1:], start=1):
            if other.outputs != first.outputs:
                raise ValueError(f"can only concat transfer sets with the same outputs: set {i} "
                                 f"has {other.outputs}, set 0 {first.outputs}")
            if other.space != first.space:
                raise ValueError(f"can only concat transfer sets with the same space: set {i} "
                                 f"has {other.space!r}, set 0 {first.space!r}")
            differ = grid_difference(first._grids, other._grids)
            if differ:
                raise ValueError("can only concat transfer sets with the same fields on the same "
                                 f"grids; got {differ}")
        names = {s.simulator for s in sets}
        return cls(
            first.space, first.outputs,
            pd.concat([s._X for s in sets], ignore_index=True),
            pd.concat([s._Y for s in sets], ignore_index=True),
            pd.concat([s._status for s in sets]).tolist(),
            pd.concat([s._error for s in sets]).tolist(),
            np.concatenate([s._seconds.to_numpy() for s in sets]),
            names.pop() if len(names) == 1 else None,
            fields={f: (g, np.concatenate([s._trajectories[f] for s in sets]))
                    for f, g in first._grids.items()},
        )


def _as_fields(fields: Any, outputs: Sequence[str], n: int
               ) -> tuple[Grids, dict[str, np.ndarray]]:
    """Grids and (n, T) float copies of the trajectories given to :class:`TransferSet`."""
    if fields is None:
        return {}, {}
    if not isinstance(fields, Mapping):
        raise TypeError(f"fields must be a mapping {{name: DataFrame or (grid, values)}}, got "
                        f"{type(fields).__name__}")
    grids, trajectories = {}, {}
    for name, given in fields.items():
        if isinstance(given, pd.DataFrame):
            grid, values = given.columns.to_numpy(), given.to_numpy()
        elif isinstance(given, tuple) and len(given) == 2:
            grid, values = given
        else:
            raise TypeError(f"field {name!r}: give a DataFrame (columns: the grid) or a pair "
                            f"(grid, values), got {type(given).__name__}")
        grids[name] = grid
        try:
            values = np.array(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"field {name!r}: values must be numbers") from None
        trajectories[name] = values
    grids = check_fields(grids, outputs)
    for name, values in trajectories.items():
        if values.shape != (n, len(grids[name])):
            raise ValueError(f"field {name!r} must have shape ({n}, {len(grids[name])}) (runs, "
                             f"grid points), got {values.shape}")
    return grids, trajectories


def field_columns(name: str, length: int) -> list[str]:
    """The ``runs.parquet`` columns of a field: ``f.<name>.<k>`` for grid point k."""
    return [f"f.{name}.{k}" for k in range(length)]


def grids_to_json(grids: Grids) -> dict[str, list[float]]:
    """Grids for ``meta.json`` (JSON floats round-trip exactly)."""
    return {name: [float(t) for t in grid] for name, grid in grids.items()}


def grid_difference(first: Grids, second: Grids) -> str:
    """What differs between two sets of field grids, in words ("" when nothing does): the
    fields, or the first field whose grid differs, each grid by its size and ends."""
    if list(first) != list(second):
        return f"fields {list(first)} and {list(second)}"
    for name in first:
        a, b = first[name], second[name]
        if len(a) != len(b) or not np.array_equal(a, b):
            same = " (the same size and ends, other points)" if _brief(a) == _brief(b) else ""
            return f"field {name!r} on grids of {_brief(a)} and {_brief(b)}{same}"
    return ""


def _brief(grid: np.ndarray) -> str:
    """A grid in a few words: its size and ends."""
    return f"{len(grid)} points from {grid[0]:g} to {grid[-1]:g}" if len(grid) else "no points"


def meta_fields(path: Path, meta: dict[str, Any], outputs: Sequence[str]) -> Grids:
    """The field grids recorded in ``meta`` (none in files written without fields)."""
    raw = meta.get("fields")
    if raw is None:
        return {}
    file = Path(path) / "meta.json"
    if not isinstance(raw, dict):
        raise ValueError(f"{file} is damaged: 'fields' must map field names to grids, got "
                         f"{type(raw).__name__}")
    try:
        return check_fields({name: check_grid(name, grid) for name, grid in raw.items()},
                            outputs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{file} is damaged: {exc}") from None


def write_runs(path: Path, transfer_set: TransferSet) -> None:
    """Write ``runs.parquet`` into ``path`` atomically: never a half-written file."""
    tmp = path / "runs.parquet.tmp"
    transfer_set.to_frame().to_parquet(tmp, index=False)
    tmp.replace(path / "runs.parquet")


_SAVED_KINDS = {"surrogate.transferset": "a transfer set", "surrogate.models": "a saved model",
                "surrogate.discovery": "a saved discovery result",
                "surrogate.sequential": "a saved model of a sequential design"}


def as_path(path: Any) -> Path:
    """``path`` as a Path, ``~`` expanded (pandas expands it, pathlib does not: a save went into
    a folder named ``~`` here); what is not a file system path (None, a number) is refused by
    name."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a file system path (a str or pathlib.Path), got {path!r}")
    return Path(path).expanduser()


def save_path(path: Any, schema: str, what: str, kind: str) -> Path:
    """The directory a save of ``kind`` (e.g. "a model") writes ``what`` into, checked before
    anything is touched: a file path, and a directory holding another kind of save
    (:func:`refuse_other_save`), are refused."""
    path = as_path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file; {kind} is saved into a directory: name a new or "
                         "existing directory")
    refuse_other_save(path, schema, what)
    return path


def refuse_other_save(path: Path, schema: str, what: str) -> None:
    """Refuse, before anything in ``path`` is touched, to save ``what`` (schema ``schema``) into
    a directory whose ``meta.json`` belongs to something else: a campaign's checkpoint, or
    another kind of save (a model saved over a transfer set replaced its ``meta.json``, and
    neither loaded again). The same kind (a save replacing an earlier one) and a damaged
    ``meta.json`` pass."""
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        return
    try:
        stored = json.loads(meta_file.read_bytes())
    except (OSError, ValueError):  # damaged: the new save replaces it
        return
    if not isinstance(stored, dict):
        return
    found = str(stored.get("schema", "")).split("/")[0]
    if "design_rows" in stored:
        kind = "a campaign's checkpoint (its design and journal)"
    elif found == schema.split("/")[0]:
        return
    else:
        kind = _SAVED_KINDS.get(found, "a meta.json of another program")
    raise ValueError(f"{path} holds {kind}; saving {what} there would replace its meta.json "
                     "and lose it: save into another directory")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (see :func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file synced to disk and renamed: a crash
    leaves the old file or the new one, never an empty or truncated one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def read_meta(path: Path, schema: str) -> dict[str, Any]:
    """Read ``meta.json`` from directory ``path``; check its schema and its keys.

    Every problem is one ``ValueError`` (``FileNotFoundError`` when there is no ``meta.json``)
    naming the file and what is wrong, never a bare JSON or key error.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file; a saved transfer set or checkpoint is a directory")
    file = path / "meta.json"
    if not file.exists():
        raise FileNotFoundError(f"{path} holds no meta.json: not a saved transfer set")
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file} is damaged (empty, cut short or edited): not valid JSON "
                         f"({exc}); restore it or start afresh in a new directory") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{file} is damaged: expected a JSON object, got "
                         f"{type(meta).__name__}")
    found = meta.get("schema")
    if found != schema:
        kind = str(found).split("/")[0]
        other = kind in ("surrogate.models", "surrogate.discovery")  # what sg.load reads
        raise ValueError(f"{file}: schema {found!r} is not supported (expected {schema!r})"
                         + (f"; {path} holds another kind of save ({kind}): read it with "
                            "sg.load(path)" if other else ""))
    missing = [key for key in ("space", "outputs") if key not in meta]
    if missing:
        raise ValueError(f"{file} is damaged: it lacks the key(s) {missing}")
    return meta


def meta_space(path: Path, meta: dict[str, Any]) -> tuple[Space, list[str]]:
    """The space and outputs recorded in ``meta`` (read from ``path/meta.json``)."""
    file = Path(path) / "meta.json"
    try:
        space = Space.from_dict(meta["space"])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{file} is damaged: its 'space' is not a valid space "
                         f"({type(exc).__name__}: {exc})") from None
    outputs = meta["outputs"]
    fields = meta.get("fields") or {}
    if (not isinstance(outputs, list) or (not outputs and not fields)
            or not all(isinstance(o, str) and o for o in outputs)):
        raise ValueError(f"{file} is damaged: 'outputs' must be a list of output names (empty "
                         f"only beside fields), got {outputs!r}")
    return space, outputs


def read_parquet(file: Path) -> pd.DataFrame:
    """Read a Parquet file we wrote; a damaged one is a ValueError naming it."""
    try:
        return pd.read_parquet(file)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises its own types for damaged files
        raise ValueError(f"{file} is damaged: it cannot be read as Parquet "
                         f"({type(exc).__name__}: {exc}); restore it or start afresh in a new "
                         "directory") from None
