"""Checkpoints of an optimization: one campaign checkpoint per round, so a killed run resumes.

Layout of ``checkpoint=DIR``::

    DIR/optimization.json   the problem's signature (objective, constraints, sizes, ...)
    DIR/init/               the initial design's campaign checkpoint
    DIR/round-0001/ ...     one per round of proposals

A round whose directory holds a finished transfer set is reloaded without refitting anything.
The first unfinished round is rerun from the design stored in its directory (not recomputed, so
a resumption on another machine or thread count, whose floating-point results differ in the last
bits, still skips the runs that finished); only rounds never started are proposed afresh.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from surrogate.data import TransferSet, write_json
from surrogate.execute import checkpoint_design
from surrogate.optimize._problem import Problem

__all__ = ["RoundStore"]

SIGNATURE_FILE = "optimization.json"
SCHEMA = "surrogate.optimization/1"


class RoundStore:
    """The checkpoint directory of one optimization (see the module docstring)."""

    def __init__(self, root: Any, problem: Problem) -> None:
        self.root = Path(root)
        signature = {"schema": SCHEMA, **problem.signature()}
        file = self.root / SIGNATURE_FILE
        if file.exists():
            stored = json.loads(file.read_text())
            expected = json.loads(json.dumps(signature, default=str))
            if stored != expected:
                changed = sorted(k for k in expected if stored.get(k) != expected.get(k))
                raise ValueError(
                    f"checkpoint {self.root} belongs to another optimization (differs in "
                    f"{changed}); resume with the same settings (only budget may change) or "
                    "use a new checkpoint directory")
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if any(self.root.iterdir()):
            raise ValueError(f"checkpoint directory {self.root} is not empty and holds no "
                             f"{SIGNATURE_FILE}; choose a new or empty directory")
        write_json(file, signature)

    def path(self, round_index: int) -> Path:
        """Directory of round ``round_index`` (0 is the initial design)."""
        return self.root / ("init" if round_index == 0 else f"round-{round_index:04d}")

    def finished(self, round_index: int) -> TransferSet | None:
        """The round's transfer set if all its runs finished, else None."""
        path = self.path(round_index)
        if (path / "runs.parquet").exists():
            return TransferSet.load(path)
        return None

    def started_design(self, round_index: int) -> pd.DataFrame | None:
        """The design of a round that started but did not finish, else None."""
        return checkpoint_design(self.path(round_index))
