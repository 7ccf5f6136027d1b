"""Where a warning points: the user's line, past the package's own frames."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["user_stacklevel"]

_ROOT = str(Path(__file__).resolve().parent) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` made by the caller of this function that
    points at the first frame outside the surrogate package (the user's line), however many
    of the package's frames (decorators, helpers) lie between."""
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and os.path.realpath(frame.f_code.co_filename).startswith(_ROOT):
        frame, level = frame.f_back, level + 1
    return level
