"""Plain JSON out of numpy/pandas values, for ``report.json`` and the study's records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surrogate.discovery._box import _ordered


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # unreadable: draw a new design, as on a first run



def _frame_records(frame: pd.DataFrame) -> dict[str, Any]:
    return {str(k): {str(c): _jsonable(v) for c, v in row.items()}
            for k, row in frame.to_dict("index").items()}


def _scalar(value: Any) -> Any:
    array = np.asarray(value)
    if array.size == 1:
        return float(array.ravel()[0])
    return array.tolist()


def _jsonable(value: Any) -> Any:
    """Plain JSON types all the way down."""
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, pd.Series)):
        return value.tolist()
    if isinstance(value, (set, frozenset)):  # sorted: a set's own order follows the hash seed
        return _ordered(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)
