"""Finding teachers by name for the command line and studies, without importing them here.

``surrogate`` never imports ``simulators`` (the data flow goes one way, STYLE 1). Packages that
bundle teachers announce a registry module under the entry-point group ``surrogate.simulators``;
the module offers ``available() -> list[str]``, ``load(name) -> Simulator`` and, optionally,
``study_config(name) -> str | None`` (a default study configuration in TOML). A user's own
teacher is named ``package.module:function``.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.metadata import entry_points
from typing import Any

import numpy as np

from surrogate.space import Categorical, Integer, Parameter, Real, Space
from surrogate.teacher import Simulator

GROUP = "surrogate.simulators"


def registries() -> list[Any]:
    """The registry modules announced by installed packages."""
    return [ep.load() for ep in entry_points(group=GROUP)]


def available() -> dict[str, Any]:
    """Teacher name -> registry module that provides it."""
    found: dict[str, Any] = {}
    for registry in registries():
        for name in registry.available():
            found.setdefault(name, registry)
    return found


def load_simulator(name: str, parameters: Any = (), outputs: Any = (),
                   vectorized: bool = False, fields: Any = None) -> Simulator:
    """A teacher by bundled name, or by ``package.module:function`` (with its space, outputs
    and ``fields``: ``{name: grid}``, the grids of its field outputs)."""
    if ":" in name:
        return _from_function(name, parameters, outputs, vectorized, fields or {})
    known = available()
    if name not in known:
        raise ValueError(f"unknown simulator {name!r}; bundled: {sorted(known)} "
                         "(or name your own as 'package.module:function')")
    return known[name].load(name)


def default_config(name: str) -> str | None:
    """The bundled default study configuration (TOML text) for a teacher, if any."""
    registry = available().get(name)
    getter = getattr(registry, "study_config", None)
    return getter(name) if getter else None


def _module_of_file(spec: str, path_text: str) -> str:
    """``path/file.py`` (relative to the working directory) as an importable module name: its
    directory goes on ``sys.path`` (worker processes then import it by the same name)."""
    from pathlib import Path

    path = Path(path_text).expanduser()
    if path.suffix != ".py" or not path.is_file():
        raise ValueError(f"simulator {spec!r}: {path_text!r} is not a Python file (name your "
                         "own as 'path/file.py:function' or 'package.module:function')")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return path.stem


def _from_function(spec: str, parameters: Any, outputs: Any, vectorized: bool,
                   fields: Any) -> Simulator:
    module_name, _, attr = spec.rpartition(":")  # rpartition: a Windows path holds C:
    if os.getcwd() not in sys.path:  # as `python -m` would: the user's own modules are found
        sys.path.insert(0, os.getcwd())
    if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
        module_name = _module_of_file(spec, module_name)
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        raise ValueError(f"simulator {spec!r} cannot be imported: {exc}") from None
    except Exception as exc:  # the user's module failed while loading: a syntax error, a raise
        raise ValueError(f"simulator {spec!r} cannot be imported: {type(exc).__name__}: "
                         f"{exc}") from None
    if isinstance(obj, Simulator):
        given = [key for key, value in (("space.parameters", parameters), ("outputs", outputs),
                                        ("fields", fields), ("vectorized", vectorized))
                 if value]
        if given:  # they would be ignored: the object carries its own
            raise ValueError(f"{given[0]}: only for a plain function; {spec!r} is a "
                             "surrogate.Simulator, which declares its own space, outputs, "
                             "fields and form")
        return obj
    if not callable(obj):
        raise ValueError(f"simulator {spec!r} is not callable")
    if not parameters or not (outputs or fields):
        raise ValueError(f"simulator {spec!r} is a plain function: the configuration needs "
                         "[[space.parameters]] and outputs (or [fields] grids)")
    grids = {name: np.asarray(grid, dtype=float) for name, grid in fields.items()}
    return Simulator(obj, space_from_config(parameters), list(outputs), fields=grids or None,
                     vectorized=vectorized, name=attr)


def space_from_config(parameters: Any) -> Space:
    """A Space from ``[[space.parameters]]`` tables (name, type, low/high/log or categories)."""
    built: list[Parameter] = []
    for item in parameters:
        kind = item["type"]
        try:
            if kind == "real":
                built.append(Real(item["name"], item["low"], item["high"],
                                  log=item.get("log", False)))
            elif kind == "integer":
                built.append(Integer(item["name"], item["low"], item["high"]))
            else:
                built.append(Categorical(item["name"], item["categories"]))
        except KeyError as exc:
            raise ValueError(f"space.parameters {item.get('name')!r}: missing key {exc}") from None
    return Space(built)
