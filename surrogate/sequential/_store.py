"""Checkpoints of a sequential design: one campaign checkpoint per round, so a killed run resumes.

Part of the sequential-design stage. Layout of ``checkpoint=DIR``::

    DIR/<signature file>    the design's signature (optimization.json, adaptive.json)
    DIR/init/               the initial design's campaign checkpoint
    DIR/round-0001/ ...     one per round of proposals
    DIR/rounds.jsonl        the student's fidelity after each round (adaptive designs only)
    DIR/root.json           with a seed that is not an int (None, a Generator): the root seed
                            its streams derive from, so that a resumption goes on as the
                            design it resumes, not on streams of its own
    DIR/design.lock         locked (flock) by the driver while the design runs: a second
                            driver on DIR is refused at once

A round whose directory holds a finished transfer set is reloaded without refitting anything.
The first unfinished round is rerun from the design stored in its directory (not recomputed, so
a resumption on another machine or thread count, whose floating-point results differ in the last
bits, still skips the runs that finished); only rounds never started are proposed afresh.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from surrogate._checks import is_int
from surrogate.data import TransferSet, write_json
from surrogate.execute import checkpoint_design
from surrogate.execute._checkpoint import (
    LEGACY_PARTIAL_NAME,
    CheckpointMismatch,
    checkpoint_path,
    lock_directory,
)

__all__ = ["RoundStore", "OtherDesignError"]

ROUNDS_FILE = "rounds.jsonl"
ROOT_FILE = "root.json"


LOCK = "design.lock"  # held by the driver of the design while it runs
LATER_KEYS = ("seed", "code", "settings")  # signature keys that older checkpoints lack


class OtherDesignError(CheckpointMismatch):
    """A checkpoint directory holds a design of other settings; ``changed`` names them."""

    def __init__(self, message: str, changed: list[str]) -> None:
        super().__init__(message)
        self.changed = changed


def run_identity(simulator: Any, seed: Any) -> dict[str, Any]:
    """The signature keys that tell one design's runs from another's on the same teacher name:
    an int seed (another seed would continue these runs as its own; None for an unseeded
    design, or one seeded by a Generator, which no int seed continues) and a digest of the
    teacher function's code (a name alone does not tell two lambdas, or an edited function,
    apart)."""
    from surrogate._identity import code_fingerprint

    identity: dict[str, Any] = {"seed": int(seed) if is_int(seed) else None}
    code = code_fingerprint(simulator.fn)
    if code is not None:
        identity["code"] = code
    return identity


def _read_signature(path: Path) -> dict[str, Any]:
    """The signature file of a checkpoint, or a ValueError naming it."""
    try:
        stored = json.loads(path.read_bytes())
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        stored = None
    if not isinstance(stored, dict):
        raise ValueError(f"{path} is damaged (not a JSON table): delete the checkpoint "
                         "directory to start the design again")
    return stored


class RoundStore:
    """The checkpoint directory of one sequential design (see the module docstring).

    Parameters
    ----------
    root : path
    signature : dict
        What must match on resumption (JSON-serializable; compared after a JSON round trip).
    file : str
        Name of the signature file, e.g. ``"optimization.json"``.
    kind : str
        What the design is, for messages (``"optimization"``, ``"adaptive design"``).
    may_change : str
        The settings outside ``signature`` (which a resumption may change), for messages.
    """

    def __init__(self, root: Any, signature: dict[str, Any], *, file: str, kind: str,
                 may_change: str = "the budget") -> None:
        self._may_change = may_change
        self.root = checkpoint_path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        made = not (self.root / LOCK).exists()
        # held for the design's whole life: a second driver on the directory is refused at
        # once, not let in to fit every model twice and fail one of the two at a round's lock
        self._lock: Any = lock_directory(self.root, LOCK, f"another {kind}")
        try:
            self._open(signature, self.root / file, kind)
        except BaseException:
            self.close()
            if made:  # a directory refused keeps nothing of ours
                (self.root / LOCK).unlink(missing_ok=True)
            raise

    def _open(self, signature: dict[str, Any], path: Path, kind: str) -> None:
        """Check the signature of an existing design, or write that of a new one."""
        if path.exists():
            stored = _read_signature(path)
            expected = json.loads(json.dumps(signature, default=str))
            for key in LATER_KEYS:  # a checkpoint written before the key existed resumes
                if key not in stored:
                    expected.pop(key, None)
            if stored.get("simulator") == LEGACY_PARTIAL_NAME \
                    and str(expected.get("simulator", "")).endswith(")"):
                stored["simulator"] = expected["simulator"]  # a partial, named before its args
            if stored != expected:
                changed = sorted(k for k in {*expected, *stored}
                                 if stored.get(k) != expected.get(k))
                what = " (the teacher's code, or a teacher object's settings)" \
                    if "code" in changed else ""
                raise OtherDesignError(
                    f"checkpoint {self.root} belongs to another {kind} (differs in "
                    f"{changed}{what}); resume with the same settings (only {self._may_change} "
                    "may change) or use a new checkpoint directory", changed)
            return
        if any(p.name != LOCK for p in self.root.iterdir()):
            raise CheckpointMismatch(f"checkpoint directory {self.root} is not empty and holds "
                                     f"no {path.name}; choose a new or empty directory")
        write_json(path, signature)

    def kept_root(self, root: int) -> int:
        """The root seed of the design in the directory: the one written there, else ``root``
        (written there now). For a seed that is not an int (a Generator's or None's root
        differs from call to call; an int seed gives its own, which the signature matches)."""
        path = self.root / ROOT_FILE
        if path.exists():
            try:
                return int(json.loads(path.read_bytes())["root"])
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{path} is damaged: delete the checkpoint directory to start "
                                 "the design again") from None
        write_json(path, {"root": int(root)})
        return root

    def close(self) -> None:
        """Let another driver use the directory."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def path(self, round_index: int) -> Path:
        """Directory of round ``round_index`` (0 is the initial design)."""
        return self.root / ("init" if round_index == 0 else f"round-{round_index:04d}")

    def finished(self, round_index: int) -> TransferSet | None:
        """The round's transfer set if all its runs finished, else None."""
        path = self.path(round_index)
        if (path / "runs.parquet").exists():
            try:
                return TransferSet.load(path)
            except FileNotFoundError as err:  # runs.parquet without its meta.json
                raise ValueError(f"{err}: the checkpoint is damaged; delete {path} to run that "
                                 "round again") from None
        return None

    def started_design(self, round_index: int) -> pd.DataFrame | None:
        """The design of a round that started but did not finish, else None."""
        return checkpoint_design(self.path(round_index))

    def recorded_rounds(self) -> dict[int, dict[str, Any]]:
        """The rows of :meth:`record_round` written so far, by round (a torn last line is
        dropped: the round is simply assessed again)."""
        path = self.root / ROUNDS_FILE
        rows: dict[int, dict[str, Any]] = {}
        if not path.exists():
            return rows
        for line in path.read_bytes().splitlines():
            try:
                row = json.loads(line)
                rows[int(row["round"])] = row
            except (ValueError, KeyError, TypeError):  # torn or damaged: assessed again
                continue
        return rows

    def record_round(self, row: dict[str, Any]) -> None:
        """Append one round's row (fidelity, counts, seconds) and flush it to disk."""
        path = self.root / ROUNDS_FILE
        torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        with open(path, "a") as file:
            file.write(("\n" if torn else "") + json.dumps(row) + "\n")
            file.flush()
            os.fsync(file.fileno())
