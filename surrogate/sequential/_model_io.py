"""Saving the model of a sequential design (``AdaptiveResult.model``,
``OptimizationResult.model``): a :class:`~surrogate.sequential._student.UnitCubeModel`, i.e. a
fitted GP on unit-cube coordinates and the space that maps the space's own coordinates there.

On disk: a directory with ``meta.json`` (the schema, the space, the outputs and their signs) and
``estimator/``, the GP saved by its own ``save``. :func:`surrogate.load` reads it back (it
imports this module only when a file's schema is :data:`SCHEMA`); nothing is pickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from surrogate.data import as_path, save_path, write_text_atomic
from surrogate.space import Space

__all__ = ["save", "load", "SCHEMA", "SCHEMA_VERSION"]

SCHEMA = "surrogate.sequential"
SCHEMA_VERSION = 1
META = "meta.json"
ESTIMATOR = "estimator"


def save(model: Any, path: str | Path) -> Path:
    """Write ``model`` (a UnitCubeModel) to the directory ``path``; return the path."""
    path = save_path(path, SCHEMA, "a sequential design's model", "a model")
    meta = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "class": "UnitCubeModel",
            "space": model.space_.to_dict(), "outputs": list(model.outputs_),
            "signs": [float(s) for s in model.signs_]}
    text = json.dumps(meta, indent=2)
    path.mkdir(parents=True, exist_ok=True)
    (path / META).unlink(missing_ok=True)  # the new meta.json comes last: a save cut short
    model.estimator_.save(path / ESTIMATOR)  # leaves no model that claims to be complete
    write_text_atomic(path / META, text)
    return path


def load(path: str | Path, *, device: str = "cpu") -> Any:
    """Read a model written by :func:`save` (through :func:`surrogate.load`)."""
    from surrogate.models import load as load_model
    from surrogate.sequential._student import UnitCubeModel

    path = as_path(path)
    meta = json.loads((path / META).read_text())
    if meta.get("schema_version") != SCHEMA_VERSION or meta.get("class") != "UnitCubeModel":
        raise ValueError(f"{path} was written with {SCHEMA} schema version "
                         f"{meta.get('schema_version')!r} ({meta.get('class')!r}); this version "
                         f"of surrogate reads version {SCHEMA_VERSION} only")
    try:
        space = Space.from_dict(meta["space"])
        outputs, signs = list(meta["outputs"]), [float(s) for s in meta["signs"]]
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path / META} is damaged: {err}") from None
    return UnitCubeModel(load_model(path / ESTIMATOR, device=device), space, outputs, signs)
