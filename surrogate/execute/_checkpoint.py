"""Checkpoints: every finished run is appended to disk as it completes, so no run is ever lost.

A checkpoint is a directory that becomes a saved :class:`~surrogate.TransferSet` when the campaign
finishes. It holds:

* ``design.parquet`` -- every design point the checkpoint has been asked to run, in the order
  they were first asked for (it only grows);
* ``meta.json`` -- the transfer-set metadata plus how many rows of ``design.parquet`` count
  (``design_rows``) and their fingerprint (``design_sha256``);
* ``journal.jsonl`` -- one line per finished run: ``JSON<TAB>crc32``, the JSON naming the run's
  row of ``design.parquet``. A line that was cut short by a crash, whose checksum does not match
  or that is not UTF-8 is skipped when read back: a damaged record is never taken as data, and
  the readable lines around it are kept. Lines are flushed to the operating system as they are
  written (they survive the driver being killed) and synced to disk at least every second;
* ``runs.parquet`` -- once a campaign finishes, the transfer set it returned.

Runs are keyed by their design point, not by their position in a design: ``run`` called again
with the same checkpoint reuses every point that finished and runs only points not seen before,
which are added to ``design.parquet``. Points within ``_MATCH_TOLERANCE`` of each other on the
unit cube are the same point (the same design recomputed elsewhere differs in the last bits); a
point repeated k times in a design matches its first k copies in the checkpoint, so replicates
stay separate runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import time
import warnings
import zlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from surrogate._identity import code_fingerprint
from surrogate.data import (
    SCHEMA,
    STATUSES,
    TransferSet,
    grid_difference,
    grids_to_json,
    meta_fields,
    meta_space,
    package_versions,
    read_meta,
    read_parquet,
    write_json,
    write_runs,
)
from surrogate.execute._evaluate import RunRecord
from surrogate.space import Categorical, Integer, Space
from surrogate.teacher import Simulator

JOURNAL = "journal.jsonl"
LEGACY_PARTIAL_NAME = "partial"  # every functools.partial teacher's name before 2026-11-30
DESIGN = "design.parquet"
_SYNC_SECONDS = 1.0
_TAIL_BLOCK = 1 << 16  # bytes read at a time, from the end, to find a torn last line
_MATCH_TOLERANCE = 1e-12  # of the unit cube: float noise of a round trip, not a neighbour
# what a creation cut short by a crash leaves behind: safe to overwrite
_CREATION_LEFTOVERS = {DESIGN, DESIGN + ".tmp", "meta.json.tmp"}


class CheckpointMismatch(ValueError):
    """A checkpoint directory this campaign cannot resume: it belongs to other runs (another
    teacher, space, outputs or grids), is damaged, or holds something else. The remedy is
    another directory (or restoring the damaged file), which a caller that chose the
    directory itself (``surrogate study``) can name."""


def design_fingerprint(space: Space, design: pd.DataFrame) -> str:
    """SHA-256 of the design's unit-cube coordinates (rounded, so float noise does not count)."""
    unit = np.round(space.to_unit(design), 12)
    digest = hashlib.sha256(np.ascontiguousarray(unit).tobytes())
    digest.update(str(unit.shape).encode())
    return digest.hexdigest()


def match_rows(space: Space, stored: pd.DataFrame, design: pd.DataFrame) -> np.ndarray:
    """For each row of ``design``, the row of ``stored`` holding the same point, else -1.

    The k-th copy of a point in ``design`` takes the k-th copy in ``stored``; where several
    stored points lie within the tolerance, the nearest first. Copies are grouped before the
    tree is asked, so a design of many repeated points (a space of switches, replicates)
    matches in O(n log n), not in time and memory that grow with the copies squared.
    """
    found = np.full(len(design), -1, dtype=np.int64)
    if len(stored) == 0 or len(design) == 0:
        return found
    from scipy.spatial import cKDTree

    points, group_of = np.unique(_match_coordinates(space, stored), axis=0,
                                 return_inverse=True)
    group_of = group_of.ravel()
    members = np.argsort(group_of, kind="stable")  # each group's rows, in row order
    starts = np.searchsorted(group_of[members], np.arange(len(points)))
    ends = np.append(starts[1:], len(members))
    asked, asked_of = np.unique(_match_coordinates(space, design), axis=0, return_inverse=True)
    near = cKDTree(points).query_ball_point(asked, r=_MATCH_TOLERANCE, p=np.inf)
    ordered = [_nearest_first(points, asked[k], groups, members[starts[groups]])
               for k, groups in enumerate(near)]
    following = starts.copy()  # the next untaken row of each group
    for i, k in enumerate(asked_of.ravel()):
        for g in ordered[k]:
            if following[g] < ends[g]:
                found[i] = members[following[g]]
                following[g] += 1
                break
    return found


def _match_coordinates(space: Space, frame: pd.DataFrame) -> np.ndarray:
    """Unit-cube coordinates in which the tolerance tells float noise from another point: a
    discrete column scaled by its number of levels, so that two levels lie a whole unit apart
    (on the unit cube, seeds 1000 and 1001 of ``Integer("seed", 0, 2**50)`` lay 1e-15 apart,
    and one took the other's outputs)."""
    unit = space.to_unit(frame)
    for j, parameter in enumerate(space):
        if isinstance(parameter, Integer | Categorical):
            unit[:, j] *= parameter.n_levels
    return unit


def _nearest_first(points: np.ndarray, point: np.ndarray, groups: list[int],
                   first_rows: np.ndarray) -> list[int]:
    """``groups`` of stored points within the tolerance of ``point``, the nearest first (an
    exact copy before a close neighbour), then by their first row."""
    if len(groups) < 2:
        return groups
    gap = np.abs(points[groups] - point).max(axis=1)
    return [groups[j] for j in np.lexsort((first_rows, gap))]


def _line(payload: str) -> str:
    """A journal line: ``payload`` (JSON) and its checksum."""
    return f"{payload}\t{zlib.crc32(payload.encode()):08x}\n"


def _payload(raw: bytes) -> Any:
    """The JSON a journal line holds, or None for a line that cannot be trusted: cut short by
    a crash, a damaged byte (not UTF-8, or a checksum that does not match)."""
    if not raw.endswith(b"\n"):
        return None  # cut short by a crash
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None  # a damaged byte: the checksum cannot match either
    payload, _, crc = line.rstrip("\n").rpartition("\t")
    if not payload or crc != f"{zlib.crc32(payload.encode()):08x}":
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


def _encode(record: RunRecord) -> str:
    return _line(json.dumps({"row": record.row, "status": record.status,
                             "values": record.values, "error": record.error,
                             "seconds": record.seconds}, allow_nan=True))


def _decode(data: Any) -> RunRecord | None:
    """The record a journal line's JSON holds, or None when it holds no valid one."""
    try:
        values = None if data["values"] is None else tuple(float(v) for v in data["values"])
        record = RunRecord(int(data["row"]), str(data["status"]), values, str(data["error"]),
                           float(data["seconds"]))
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    ok = record.status == "ok"
    if (record.row < 0 or record.status not in STATUSES or ok != (values is not None)
            or (ok and not all(math.isfinite(v) for v in values or ()))):
        return None
    return record


def read_journal(path: Path) -> dict[int, RunRecord]:
    """Finished runs by row of ``design.parquet`` (the last record of a row wins)."""
    return _read_journal(path)[0]


# The line a resumption appends once it has told of the journal's damaged lines (their
# numbers): a later one tells only of lines damaged since, not of these at every resumption.
_TOLD = "damaged_lines_told"


def _told(data: Any) -> list[int] | None:
    """The damaged lines' numbers a journal line's JSON holds as told of, or None when it is
    no such line."""
    try:
        return [int(n) for n in data[_TOLD]]
    except (KeyError, TypeError, ValueError):
        return None


def _read_journal(path: Path) -> tuple[dict[int, RunRecord], list[int], int]:
    """:func:`read_journal`, the numbers of the whole lines that could not be read, and how
    many of them no resumption has told of yet (see ``_TOLD``). A last line cut short by a
    crash is not counted: it is what a killed driver leaves."""
    records: dict[int, RunRecord] = {}
    damaged: list[int] = []
    told: set[int] = set()
    file = Path(path) / JOURNAL
    if not file.exists():
        return records, damaged, 0
    with open(file, "rb") as handle:
        for number, raw in enumerate(handle):
            data = _payload(raw)
            if data is not None and (record := _decode(data)) is not None:
                records[record.row] = record
            elif data is not None and (numbers := _told(data)) is not None:
                told.update(numbers)
            elif raw.endswith(b"\n") and raw.strip():
                damaged.append(number)
    return records, damaged, sum(n not in told for n in damaged)


def stored_design(path: Path, meta: dict[str, Any], space: Space) -> pd.DataFrame:
    """The checkpoint's design points, checked against ``meta.json``."""
    file = Path(path) / DESIGN
    if not file.exists():
        raise CheckpointMismatch(f"{file} is missing: without it the checkpoint's runs cannot be "
                                 "matched to design points; restore it or use a new checkpoint "
                                 "directory")
    frame = read_parquet(file)
    n = meta.get("design_rows", meta.get("n_runs"))
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{Path(path) / 'meta.json'} is damaged: 'design_rows' must be a "
                         f"count of rows, got {n!r}")
    if len(frame) < n:
        raise ValueError(f"{file} is damaged: it holds {len(frame)} rows, meta.json records {n}")
    # rows past n were written by a run stopped before it updated meta.json: none of them ran
    try:
        design = space.validate(frame.iloc[:n].reset_index(drop=True))
    except ValueError as exc:
        raise ValueError(f"{file} is damaged: {exc}") from None
    expected = meta.get("design_sha256")
    if expected is not None and expected != design_fingerprint(space, design):
        raise CheckpointMismatch(f"{file} does not match the fingerprint in meta.json: it was "
                                 "changed after the checkpoint wrote it; restore it or use a new "
                                 "checkpoint directory")
    return design


def _usable(record: RunRecord, n_rows: int, n_values: int) -> bool:
    """A journal record of a row the design holds, with a value per output and grid point."""
    return record.row < n_rows and (record.values is None or len(record.values) == n_values)


def checkpoint_path(path: Any) -> Path:
    """A checkpoint argument as a directory path: a TypeError for anything but a non-empty
    path (``""`` would be the current directory), a ValueError for an existing file."""
    if not isinstance(path, str | os.PathLike) or not str(path):
        raise TypeError(f"checkpoint must be a directory path (str or pathlib.Path), got "
                        f"{path!r}")
    path = Path(path).expanduser()  # as pandas does: unexpanded, "~/ck" was made in ./~
    if path.exists() and not path.is_dir():
        raise CheckpointMismatch(f"checkpoint {path} is a file; name a new or empty directory, "
                                 "or one holding a checkpoint (a checkpoint is a directory)")
    return path


class Checkpoint:
    """An open checkpoint directory for one simulator and design (see the module docstring).

    ``records`` holds the finished runs of the design, by design row.
    """

    def __init__(self, path: str | os.PathLike[str], simulator: Simulator,
                 design: pd.DataFrame) -> None:
        self.path = checkpoint_path(path)
        self.simulator = simulator
        self.code = code_fingerprint(simulator.fn)  # of the runs' code: the first one's
        exists = (self.path / "meta.json").exists()
        if not exists:
            self._check_empty()
        self._journal = _Journal(self.path)
        self._handle = self._journal.handle
        try:
            self._load(design, self._open() if exists else design.iloc[:0])
        except BaseException:
            self._journal.close()  # releases the lock
            raise

    def _load(self, design: pd.DataFrame, stored: pd.DataFrame) -> None:
        """Match ``design`` to the ``stored`` points, add the new ones, read the journal."""
        simulator = self.simulator
        rows = match_rows(simulator.space, stored, design)
        new = np.flatnonzero(rows < 0)
        rows[new] = len(stored) + np.arange(len(new))
        self.rows = rows  # design row -> row of design.parquet
        self.stored = pd.concat([stored, design.iloc[new]], ignore_index=True)
        if len(new) or len(stored) == 0:
            self._write_design()
        journal, damaged, untold = _read_journal(self.path)
        self.records = {
            i: journal[s]._replace(row=i) for i, s in enumerate(rows.tolist())
            if s in journal and _usable(journal[s], len(self.stored), simulator.n_values)
        }
        if self._handle.tell() > 0 and not _ends_with_newline(self.path / JOURNAL):
            _drop_torn_line(self._handle)  # a crash cut the last line: it is no record
        if untold:
            warnings.warn(f"checkpoint {self.path}: {untold} line(s) of {JOURNAL} cannot be "
                          "read (damaged); the runs they held run again unless another line "
                          "records them", UserWarning, stacklevel=4)
            self._handle.write(_line(json.dumps({_TOLD: damaged})))  # told once, not again
            self._handle.flush()
        self._last_sync = time.monotonic()

    def _check_empty(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        names = {p.name for p in self.path.iterdir()} - _CREATION_LEFTOVERS
        if JOURNAL in names and (self.path / JOURNAL).stat().st_size == 0:
            names.discard(JOURNAL)  # opened (and locked) before a crash wrote meta.json
        if JOURNAL in names:
            raise CheckpointMismatch(f"checkpoint {self.path} holds {JOURNAL} but no meta.json: "
                                     "it is damaged; restore meta.json or use a new checkpoint "
                                     "directory")
        if names:
            raise CheckpointMismatch(f"checkpoint directory {self.path} is not empty and holds "
                                     "no checkpoint (meta.json); choose a new or empty directory")

    def _open(self) -> pd.DataFrame:
        """Check the checkpoint belongs to this simulator; return its design points."""
        meta = read_meta(self.path, SCHEMA)
        space, outputs = meta_space(self.path, meta)
        where = f"checkpoint {self.path}"
        if space != self.simulator.space:
            raise CheckpointMismatch(f"{where} belongs to a different space: it has parameters "
                                     f"{space.names} with other types or ranges; use a new "
                                     "checkpoint directory")
        if outputs != list(self.simulator.outputs):
            raise CheckpointMismatch(f"{where} belongs to different outputs {outputs}, not "
                                     f"{list(self.simulator.outputs)}; use a new checkpoint "
                                     "directory")
        grids = meta_fields(self.path, meta, outputs)
        differ = grid_difference(grids, self.simulator.fields)
        if differ:
            raise CheckpointMismatch(f"{where} belongs to other fields or grids than the "
                                     f"simulator's: {differ} (the checkpoint's first); use a new "
                                     "checkpoint directory")
        name = meta.get("simulator")
        if name == LEGACY_PARTIAL_NAME and isinstance(self.simulator.fn, functools.partial):
            warnings.warn(f"{where} was written before partial teachers were named with their "
                          f"bound arguments ('partial'): its runs are taken as those of "
                          f"{self.simulator.name!r}", UserWarning, stacklevel=4)
        elif name is not None and name != self.simulator.name:
            raise CheckpointMismatch(f"{where} belongs to simulator {name!r}, not "
                                     f"{self.simulator.name!r}; use a new checkpoint directory")
        code, now = meta.get("code"), self.code
        if code is not None:
            self.code = code
        if code is not None and now is not None and code != now:
            # a fixed bug is the usual reason (rerun="failed" is how its failed runs are
            # retried), so the runs are kept, but not silently
            warnings.warn(f"{where}: the code of simulator {self.simulator.name!r} has changed "
                          "since its runs were made; they are kept (a new checkpoint directory "
                          "starts afresh)", UserWarning, stacklevel=4)
        return stored_design(self.path, meta, space)

    def _meta(self, base: dict[str, Any] | None = None) -> dict[str, Any]:
        meta = base or {
            "schema": SCHEMA,
            "space": self.simulator.space.to_dict(),
            "outputs": list(self.simulator.outputs),
            "simulator": self.simulator.name,
            "n_runs": len(self.stored),
            "versions": package_versions(),
        }
        if self.simulator.fields:
            meta["fields"] = grids_to_json(self.simulator.fields)
        return {**meta, "code": self.code, "design_rows": len(self.stored),
                "design_sha256": design_fingerprint(self.simulator.space, self.stored)}

    def _write_design(self) -> None:
        # design.parquet first, then meta.json: a crash in between leaves extra rows that
        # meta.json does not count yet, which stored_design ignores
        tmp = self.path / (DESIGN + ".tmp")
        self.stored.to_parquet(tmp, index=False)
        tmp.replace(self.path / DESIGN)
        write_json(self.path / "meta.json", self._meta())

    def start(self) -> None:
        """Runs are about to be added: the last campaign's ``runs.parquet`` no longer tells the
        whole story, so it goes (loading the checkpoint then reads the journal)."""
        (self.path / "runs.parquet").unlink(missing_ok=True)

    def append(self, record: RunRecord) -> None:
        """Append a finished run (flushed now; synced to disk at least every second)."""
        self._handle.write(_encode(record._replace(row=int(self.rows[record.row]))))
        self._handle.flush()
        now = time.monotonic()
        if now - self._last_sync >= _SYNC_SECONDS:
            os.fsync(self._handle.fileno())
            self._last_sync = now

    def close(self) -> None:
        self._journal.close()

    def finish(self, transfer_set: TransferSet) -> None:
        """Write the campaign's transfer set (``runs.parquet``); meta.json keeps the design.
        Called with the journal still open, so still locked against another campaign; the
        caller closes it."""
        self._journal.flush()
        write_runs(self.path, transfer_set)
        write_json(self.path / "meta.json", self._meta(transfer_set.meta()))


class _Journal:
    """The journal of an open checkpoint, appended to and locked (``flock``) against a second
    campaign on the same checkpoint, which would run every pending run twice. The lock goes
    with :meth:`close` or the process. No lock where the OS has no ``flock`` (Windows), nor
    on a file system that refuses it (NFS without a lock daemon, some FUSE mounts: a warning).

    A forked process (a worker, a teacher's own pool) inherits the open file and with it the
    lock, which would outlive the driver: in a fork's child, :func:`forget_locks` points the
    inherited descriptors at ``/dev/null`` (registered with ``os.register_at_fork``).
    """

    open_fds: ClassVar[set[int]] = set()

    def __init__(self, path: Path, name: str = JOURNAL, what: str = "another run (a campaign "
                 "still running on it, or started twice)") -> None:
        self.handle = open(path / name, "a", encoding="utf-8", newline="\n")
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        try:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise ValueError(f"checkpoint {path} is in use by {what}: wait for it to finish, "
                             "or use another checkpoint directory") from None
        except OSError as exc:  # ENOLCK, ENOSYS, EOPNOTSUPP: no locks on this file system
            warnings.warn(f"checkpoint {path}: the file system does not lock files "
                          f"({exc.strerror}); make sure no other campaign runs on it at the "
                          "same time", UserWarning, stacklevel=5)
            return
        self.open_fds.add(self.handle.fileno())

    def flush(self) -> None:
        """Every record written so far on disk (the lock stays)."""
        if not self.handle.closed:
            self.handle.flush()
            os.fsync(self.handle.fileno())

    def close(self) -> None:
        if not self.handle.closed:
            self.open_fds.discard(self.handle.fileno())
            self.flush()
            self.handle.close()


def lock_directory(path: Path, name: str, what: str) -> Any:
    """Hold ``path / name`` locked against a second driver (as a campaign's journal is), until
    the returned lock's ``close()`` or the process's end; a ValueError names ``what`` holds
    it."""
    return _Journal(path, name, what)


def forget_locks() -> None:
    """In a forked child: point the copies of the parent's locked journals at ``/dev/null``
    (not closed: the child's copy of the file object may still close its descriptor, which
    must not be another file by then). The parent's locks stay; they end with it."""
    if not _Journal.open_fds:
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in _Journal.open_fds:
            try:
                os.dup2(null, fd)
            except OSError:
                pass
    finally:
        os.close(null)
    _Journal.open_fds.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=forget_locks)


def _drop_torn_line(handle: Any) -> None:
    """Truncate the journal open in ``handle`` (locked) after its last newline: a line a
    crash cut short, which a later resumption would otherwise count as damaged."""
    handle.flush()
    with open(handle.name, "rb") as file:  # read back from the end, a block at a time
        end = file.seek(0, os.SEEK_END)
        keep = 0
        while end > 0:
            start = max(0, end - _TAIL_BLOCK)
            file.seek(start)
            newline = file.read(end - start).rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
    os.truncate(handle.fileno(), keep)
    handle.seek(0, os.SEEK_END)


def _ends_with_newline(file: Path) -> bool:
    with open(file, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def checkpoint_design(path: str | os.PathLike[str]) -> pd.DataFrame | None:
    """The design points of the checkpoint in ``path``, else None (no run started there)."""
    path = Path(path).expanduser()
    if not (path / DESIGN).exists() or not (path / "meta.json").exists():
        return None
    meta = read_meta(path, SCHEMA)
    space, _ = meta_space(path, meta)
    return stored_design(path, meta, space)


def load_partial(path: Path) -> TransferSet:
    """The finished runs of an unfinished checkpoint, as a transfer set."""
    from surrogate.execute._campaign import records_to_set

    meta = read_meta(path, SCHEMA)
    space, outputs = meta_space(path, meta)
    grids = meta_fields(path, meta, outputs)
    n_values = len(outputs) + sum(len(g) for g in grids.values())
    design = stored_design(path, meta, space)
    records = read_journal(path)
    rows = sorted(r for r in records if _usable(records[r], len(design), n_values))
    values = np.full((len(rows), n_values), np.nan)
    for i, row in enumerate(rows):
        if records[row].values is not None:
            values[i] = records[row].values
    return records_to_set(space, outputs, grids, design.iloc[rows].reset_index(drop=True),
                          values, [records[r] for r in rows], meta.get("simulator"))
