"""Checkpoints: every finished run is appended to disk as it completes, so no run is ever lost.

A checkpoint is a directory that becomes a saved :class:`~surrogate.TransferSet` when the campaign
finishes. While it runs it holds:

* ``meta.json`` -- the transfer-set metadata plus the design's fingerprint (``design_sha256``);
* ``design.parquet`` -- the design;
* ``journal.jsonl`` -- one line per finished run: ``JSON<TAB>crc32``. A line that was cut short
  by a crash, or whose checksum does not match, is skipped when read back: a half-written
  record is never taken as data. Lines are flushed to the operating system as they are written
  (they survive the driver being killed) and synced to disk at least every second.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surrogate.data import SCHEMA, TransferSet, package_versions, read_meta, write_json
from surrogate.execute._evaluate import RunRecord
from surrogate.space import Space
from surrogate.teacher import Simulator

JOURNAL = "journal.jsonl"
_SYNC_SECONDS = 1.0


def design_fingerprint(space: Space, design: pd.DataFrame) -> str:
    """SHA-256 of the design's unit-cube coordinates (rounded, so float noise does not count)."""
    unit = np.round(space.to_unit(design), 12)
    digest = hashlib.sha256(np.ascontiguousarray(unit).tobytes())
    digest.update(str(unit.shape).encode())
    return digest.hexdigest()


def _encode(record: RunRecord) -> str:
    payload = json.dumps({"row": record.row, "status": record.status,
                          "values": record.values, "error": record.error,
                          "seconds": record.seconds}, allow_nan=True)
    return f"{payload}\t{zlib.crc32(payload.encode()):08x}\n"


def _decode(line: str) -> RunRecord | None:
    if not line.endswith("\n"):
        return None  # cut short by a crash
    payload, _, crc = line.rstrip("\n").rpartition("\t")
    if not payload or crc != f"{zlib.crc32(payload.encode()):08x}":
        return None
    data = json.loads(payload)
    values = None if data["values"] is None else tuple(data["values"])
    return RunRecord(int(data["row"]), data["status"], values, data["error"], data["seconds"])


def read_journal(path: Path) -> dict[int, RunRecord]:
    """Finished runs by design row (the last record of a row wins)."""
    records: dict[int, RunRecord] = {}
    file = path / JOURNAL
    if not file.exists():
        return records
    with open(file, encoding="utf-8", newline="\n") as handle:
        for line in handle:
            record = _decode(line)
            if record is not None:
                records[record.row] = record
    return records


class Checkpoint:
    """An open checkpoint directory for one simulator and design (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], simulator: Simulator,
                 design: pd.DataFrame) -> None:
        self.path = Path(path)
        self.simulator = simulator
        self.design = design
        self.fingerprint = design_fingerprint(simulator.space, design)
        if (self.path / "meta.json").exists():
            self._check_matches(self.fingerprint)
        else:
            self._create(self.fingerprint)
        self.records = read_journal(self.path)
        self._handle = open(self.path / JOURNAL, "a", encoding="utf-8", newline="\n")
        if self._handle.tell() > 0 and not _ends_with_newline(self.path / JOURNAL):
            self._handle.write("\n")  # a crash cut the last line: start the next one afresh
        self._last_sync = time.monotonic()

    def _create(self, fingerprint: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        if any(self.path.iterdir()):
            raise ValueError(f"checkpoint directory {self.path} is not empty and holds no "
                             "checkpoint (meta.json); choose a new or empty directory")
        self.design.to_parquet(self.path / "design.parquet", index=False)
        write_json(self.path / "meta.json", self._meta(fingerprint))

    def _meta(self, fingerprint: str) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "space": self.simulator.space.to_dict(),
            "outputs": list(self.simulator.outputs),
            "simulator": self.simulator.name,
            "n_runs": len(self.design),
            "design_sha256": fingerprint,
            "versions": package_versions(),
        }

    def _check_matches(self, fingerprint: str) -> None:
        meta = read_meta(self.path, SCHEMA)
        where = f"checkpoint {self.path}"
        if Space.from_dict(meta["space"]) != self.simulator.space:
            raise ValueError(f"{where} belongs to a different space: it has parameters "
                             f"{[p['name'] for p in meta['space']['parameters']]} with other "
                             "types or ranges; use a new checkpoint directory")
        if list(meta["outputs"]) != list(self.simulator.outputs):
            raise ValueError(f"{where} belongs to different outputs {meta['outputs']}, "
                             f"not {list(self.simulator.outputs)}")
        if meta.get("design_sha256") != fingerprint:
            raise ValueError(f"{where} belongs to a different design ({meta.get('n_runs')} runs "
                             f"with another fingerprint); pass the same design to resume, or use "
                             "a new checkpoint directory")

    def append(self, record: RunRecord) -> None:
        """Append a finished run (flushed now; synced to disk at least every second)."""
        self._handle.write(_encode(record))
        self._handle.flush()
        now = time.monotonic()
        if now - self._last_sync >= _SYNC_SECONDS:
            os.fsync(self._handle.fileno())
            self._last_sync = now

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()

    def finish(self, transfer_set: TransferSet) -> None:
        """Write the complete transfer set (``runs.parquet``) and keep the fingerprint in meta."""
        self.close()
        transfer_set.save(self.path)
        write_json(self.path / "meta.json",
                   {**transfer_set.meta(), "design_sha256": self.fingerprint})


def _ends_with_newline(file: Path) -> bool:
    with open(file, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def checkpoint_design(path: str | os.PathLike[str]) -> pd.DataFrame | None:
    """The design of the checkpoint in ``path`` (written before its first run), else None."""
    file = Path(path) / "design.parquet"
    return pd.read_parquet(file) if file.exists() else None


def load_partial(path: Path) -> TransferSet:
    """The finished runs of an unfinished checkpoint, as a transfer set."""
    meta = read_meta(path, SCHEMA)
    space = Space.from_dict(meta["space"])
    outputs = meta["outputs"]
    design = checkpoint_design(path)
    records = read_journal(path)
    rows = sorted(records)
    Y = np.full((len(rows), len(outputs)), np.nan)
    for i, row in enumerate(rows):
        if records[row].values is not None:
            Y[i] = records[row].values
    return TransferSet(
        space, outputs, design.iloc[rows].reset_index(drop=True), Y,
        [records[r].status for r in rows], [records[r].error for r in rows],
        [records[r].seconds for r in rows], meta.get("simulator"),
    )
