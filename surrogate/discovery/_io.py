"""Saving scenario-discovery results: a directory with ``meta.json`` and ``arrays.npz``, no pickle.

The last stage of the pipeline saves its results (:class:`Box`, :class:`PRIM`, :class:`CART`,
:class:`REDS`) in the layout of the models (:mod:`surrogate.models._io`), and ``sg.load`` reads
them back: it imports this module only when a file's schema is :data:`SCHEMA`.

* ``meta.json`` -- strict JSON (written with ``allow_nan=False``): schema version, class,
  parameters, package versions, each domain (names, kinds, data ranges, categories) and each box
  (limits, allowed category codes, counts). Non-finite numbers are the strings ``"inf"``,
  ``"-inf"`` and ``"nan"``; an unrestricted side of a box is ``"-inf"`` / ``"inf"``.
* ``arrays.npz`` -- the points the boxes were found on (``numeric_k``, ``codes_k``,
  ``labels_k`` per data set ``k``), which :attr:`Box.qp` needs; read with
  ``allow_pickle=False``.
* ``metamodel/`` -- a REDS's metamodel, when it is one of surrogate's models, saved by the
  models' own ``save``. Any other metamodel (e.g. scikit-learn's) is not saved: a warning says
  so, and the loaded REDS has ``metamodel_ = None``. A CART's scikit-learn tree is not saved
  either (its boxes are; the loaded CART has ``tree_ = None``).
"""

from __future__ import annotations

import importlib.metadata as md
import json
import math
import numbers
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from surrogate.data import as_path, save_path, write_text_atomic
from surrogate.discovery._box import Box
from surrogate.discovery._cart import CART
from surrogate.discovery._data import CATEGORICAL, INTEGER, REAL, Domain
from surrogate.discovery._prim import PRIM, trajectory_frame
from surrogate.discovery._reds import REDS

__all__ = ["save", "load", "SCHEMA", "SCHEMA_VERSION"]

SCHEMA = "surrogate.discovery"
SCHEMA_VERSION = 1
META, ARRAYS, METAMODEL = "meta.json", "arrays.npz", "metamodel"
Data = tuple[np.ndarray, np.ndarray, np.ndarray]  # numeric (n, p), codes (n, q), labels (n,)


def save(result: Box | PRIM | CART | REDS, path: str | Path) -> Path:
    """Write a box or a fitted PRIM, CART or REDS to the directory ``path``; return the path.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from surrogate.discovery import PRIM
    >>> from surrogate.models import load
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(500, 2)), columns=["a", "b"])
    >>> prim = PRIM().fit(X, (X.a > 0.7) & (X.b < 0.5))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = save(prim, tmp)
    ...     same = load(tmp)
    >>> same.trajectory_.equals(prim.trajectory_)
    True
    """
    if not isinstance(result, Box | PRIM | CART | REDS):
        raise TypeError(f"cannot save a {type(result).__name__}; supported: Box, CART, PRIM, REDS")
    if not isinstance(result, Box) and not hasattr(result, "boxes_"):
        raise ValueError(f"this {type(result).__name__} is not fitted yet: call fit first")
    path = save_path(path, SCHEMA, f"a {type(result).__name__}", f"a {type(result).__name__}")
    path.mkdir(parents=True, exist_ok=True)
    # an earlier save's meta.json goes first, the new one comes last: a save that fails
    # half-way leaves no file that claims to be complete (nor an old one over new arrays)
    (path / META).unlink(missing_ok=True)
    writer = _Writer()
    state: dict[str, Any] = {}
    if isinstance(result, Box):
        boxes = [result]
    elif isinstance(result, REDS):
        boxes = result.prim_.boxes_
        state = _reds_state(result, path, writer)
    else:
        boxes = result.boxes_
    names = getattr(result, "feature_names_in_", None)
    meta = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "class": type(result).__name__,
        "versions": _versions(),
        "params": {} if isinstance(result, Box) else _params(result),
        "feature_names": None if names is None else [str(n) for n in names],
        "boxes": [writer.box(box) for box in boxes],
        "state": state,
        "domains": writer.domains,
        "n_data": len(writer.data),
    }
    if writer.data:
        arrays: dict[str, Any] = {}
        for k, (numeric, codes, labels) in enumerate(writer.data):
            arrays |= {f"numeric_{k}": numeric, f"codes_{k}": codes, f"labels_{k}": labels}
        np.savez(path / ARRAYS, **arrays)
    text = json.dumps(meta, indent=2, allow_nan=False, default=_plain_or_fail)
    write_text_atomic(path / META, text + "\n")
    return path


def load(path: str | Path, *, device: str = "cpu") -> Box | PRIM | CART | REDS:
    """Read a result written by :func:`save` (``sg.load`` calls this for discovery results).

    Parameters
    ----------
    path : str or Path
        The directory passed to ``save``.
    device : str, default="cpu"
        Where a REDS's metamodel lives (see :func:`surrogate.models.load`).

    Raises
    ------
    ValueError
        Naming the file, if a file is missing, truncated, from another schema version or does
        not describe a valid result.
    """
    path = as_path(path)
    meta_file = path / META
    meta = _read_meta(meta_file)
    name = meta["class"]
    try:
        arrays = _read_arrays(path / ARRAYS, meta["n_data"])
        reader = _Reader(meta["domains"], arrays)
        boxes = [reader.box(state) for state in meta["boxes"]]
        result = _build(name, meta, boxes, reader)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        if isinstance(err, _FileError):
            raise
        raise ValueError(
            f"{meta_file} does not describe a valid saved {name} "
            f"({type(err).__name__}: {err})") from None
    if isinstance(result, REDS):
        _load_metamodel(result, meta, path, device)
    return result


class _FileError(ValueError):
    """A file of the saved result is missing or unreadable (the message names it)."""


def _read_meta(meta_file: Path) -> dict[str, Any]:
    if not meta_file.is_file():
        raise _FileError(f"{meta_file.parent} is not a saved discovery result (no {META})")
    try:
        meta = json.loads(meta_file.read_text())
    except ValueError as err:  # JSONDecodeError, or bytes that are not text
        raise _FileError(f"{meta_file} is not valid JSON (truncated?): {err}") from None
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise _FileError(f"{meta_file} is not a discovery result file (schema != {SCHEMA!r})")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise _FileError(
            f"{meta_file} was written with discovery schema version {version!r}; this version "
            f"of surrogate reads version {SCHEMA_VERSION} only: fit and save the result again")
    if meta.get("class") not in ("Box", "PRIM", "CART", "REDS"):
        raise _FileError(f"{meta_file} holds an unknown class {meta.get('class')!r}")
    return meta


def _read_arrays(file: Path, n_data: int) -> list[Data]:
    if not isinstance(n_data, int) or n_data < 0:
        raise ValueError(f"n_data must be a non-negative int, got {n_data!r}")
    if n_data == 0:
        return []
    if not file.is_file():
        raise _FileError(f"{file} is missing; it holds the points the boxes were found on")
    try:
        with np.load(file, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise _FileError(
            f"{file} is not a readable array file (truncated, or holds objects, which are never "
            f"unpickled): {type(err).__name__}: {err}") from None
    data = []
    for k in range(n_data):
        keys = (f"numeric_{k}", f"codes_{k}", f"labels_{k}")
        if any(key not in arrays for key in keys):
            raise _FileError(f"{file} lacks the arrays {list(keys)}")
        data.append(tuple(arrays[key] for key in keys))
    return data


# -- writing -----------------------------------------------------------------------------------
class _Writer:
    """Collects the domains and data sets the boxes share, each written once."""

    def __init__(self) -> None:
        self.domains: list[dict[str, Any]] = []
        self.data: list[Data] = []
        self._domain_ids: dict[int, int] = {}
        self._data_ids: dict[int, int] = {}

    def box(self, box: Box) -> dict[str, Any]:
        return {
            "domain": self.domain(box._domain),
            "data": None if box._data is None else self.data_set(box._data),
            "lower": [_float(v) for v in box._lower],
            "upper": [_float(v) for v in box._upper],
            "allowed": [None if a is None else sorted(int(c) for c in a) for a in box._allowed],
            "n_points": box.n_points,
            "sum_labels": _float(box._sum_labels),
            "n_total": box._n_total,
            "sum_total": _float(box._sum_total),
        }

    def domain(self, domain: Domain) -> int:
        if id(domain) not in self._domain_ids:
            self._domain_ids[id(domain)] = len(self.domains)
            self.domains.append({
                "names": list(domain.names),
                "kinds": list(domain.kinds),
                "low": [_float(v) for v in domain.low],
                "high": [_float(v) for v in domain.high],
                "categories": [
                    [_category(name, value) for value in values]
                    for name, values in zip(domain.categorical_names, domain.categories, strict=True)
                ],
            })
        return self._domain_ids[id(domain)]

    def data_set(self, data: Data) -> int:
        if id(data) not in self._data_ids:
            self._data_ids[id(data)] = len(self.data)
            numeric, codes, labels = data
            self.data.append((
                np.asarray(numeric, dtype=np.float64),
                np.asarray(codes, dtype=np.int64),
                np.asarray(labels, dtype=np.float64),
            ))
        return self._data_ids[id(data)]


def _params(estimator: PRIM | CART | REDS) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in estimator.get_params(deep=False).items():
        if key == "metamodel":  # an estimator object: recorded by class only
            value = None if value is None else _class_path(value)
        elif key == "prim":
            value = None if value is None else _params(value)
        elif key == "threshold" and value is not None:
            value = [str(value[0]), _float(value[1])]
        elif isinstance(value, np.random.Generator):
            value = None  # a generator's state is not part of the result; the fit is stored
        else:
            value = _plain_or_fail(value) if isinstance(value, np.generic) else value
        params[key] = value
    return params


def _reds_state(reds: REDS, path: Path, writer: _Writer) -> dict[str, Any]:
    boxes = reds.prim_.boxes_
    sample_data = boxes[0]._data if boxes else None
    return {
        "fidelity": None if reds.fidelity_ is None else _float(reds.fidelity_),
        "prim": _params(reds.prim_),
        "metamodel": _save_metamodel(reds.metamodel_, path / METAMODEL),
        # the sample is PRIM's data; only the dtypes of its columns are needed to rebuild it
        "sample_data": None if sample_data is None else writer.data_set(sample_data),
        "sample_columns": [_column_dtype(reds.sample_[name]) for name in reds.sample_.columns],
    }


def _save_metamodel(model: Any, directory: Path) -> dict[str, Any]:
    """Save one of surrogate's models by its own ``save``; anything else is left out, with a warning."""
    name = _class_path(model)
    if type(model).__module__.startswith("surrogate.models") and hasattr(model, "save"):
        try:
            model.save(directory)
            return {"class": name, "saved": True}
        except TypeError:  # a surrogate model that the models' save does not support
            pass
    warnings.warn(
        f"REDS.save: the metamodel {name} is not one of surrogate's saveable models and is not "
        f"saved (nothing is pickled); after sg.load, metamodel_ is None. The boxes, trajectory, "
        f"sample, labels and fidelity are saved.",
        UserWarning,
        stacklevel=5,  # the caller of REDS.save
    )
    return {"class": name, "saved": False}


def _column_dtype(column: pd.Series) -> dict[str, Any]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return {
            "dtype": "category",
            "categories": [_category(str(column.name), c) for c in column.dtype.categories],
            "ordered": bool(column.dtype.ordered),
        }
    return {"dtype": str(column.dtype)}


# -- reading -----------------------------------------------------------------------------------
class _Reader:
    """Rebuilds the shared domains and data sets, checking that the boxes fit them."""

    def __init__(self, domains: list[dict[str, Any]], data: list[Data]) -> None:
        self.domains = [_domain(state) for state in domains]
        self.data = data
        for numeric, codes, labels in data:
            if (numeric.dtype != np.float64 or codes.dtype != np.int64 or labels.dtype != np.float64
                    or numeric.ndim != 2 or codes.ndim != 2 or labels.shape != (len(numeric),)
                    or len(codes) != len(numeric)):
                raise ValueError("a data set's arrays have the wrong dtypes or shapes")

    def box(self, state: dict[str, Any]) -> Box:
        domain = self.domains[_index(state["domain"], len(self.domains), "domain")]
        data = None
        if state["data"] is not None:
            data = self.data[_index(state["data"], len(self.data), "data")]
            if data[0].shape[1] != len(domain.low) or data[1].shape[1] != len(domain.categories):
                raise ValueError("a box's data set does not match its domain")
        lower, upper = _floats(state["lower"]), _floats(state["upper"])
        if not len(lower) == len(upper) == len(domain.low):
            raise ValueError(f"a box has {len(lower)} limits for {len(domain.low)} numeric columns")
        allowed = state["allowed"]
        if len(allowed) != len(domain.categories):
            raise ValueError("a box's allowed categories do not match its domain")
        sets = []
        for codes, categories in zip(allowed, domain.categories, strict=True):
            if codes is not None:
                codes = frozenset(_index(c, len(categories), "category code") for c in codes)
            sets.append(codes)
        return Box(
            domain=domain, lower=lower, upper=upper, allowed=tuple(sets),
            n_points=_count(state["n_points"]), sum_labels=_unfloat(state["sum_labels"]),
            n_total=_count(state["n_total"]), sum_total=_unfloat(state["sum_total"]), data=data,
        )


def _domain(state: dict[str, Any]) -> Domain:
    names, kinds = [str(n) for n in state["names"]], tuple(state["kinds"])
    if len(names) != len(kinds) or any(k not in (REAL, INTEGER, CATEGORICAL) for k in kinds):
        raise ValueError(f"a domain's kinds {list(kinds)} do not match its names {names}")
    low, high = _floats(state["low"]), _floats(state["high"])
    n_categorical = kinds.count(CATEGORICAL)
    if not len(low) == len(high) == len(kinds) - n_categorical:
        raise ValueError("a domain's data ranges do not match its numeric columns")
    categories = tuple(tuple(values) for values in state["categories"])
    if len(categories) != n_categorical or not all(
        isinstance(v, str | bool | int | float) for values in categories for v in values
    ):
        raise ValueError("a domain's categories do not match its categorical columns")
    return Domain(names=tuple(names), kinds=kinds, low=low, high=high, categories=categories)


def _build(name: str, meta: dict[str, Any], boxes: list[Box], reader: _Reader) -> Any:
    """The result object of class ``name`` from its parameters and boxes."""
    if name == "Box":
        if len(boxes) != 1:
            raise ValueError(f"a saved Box holds one box, not {len(boxes)}")
        return boxes[0]
    params = dict(meta["params"])
    if name == "CART":
        result = CART(**params)
        result.tree_ = None  # scikit-learn's tree is not saved: the boxes are the result
    elif name == "PRIM":
        result = PRIM(**params)
        result.trajectory_ = trajectory_frame(boxes)
    else:
        result = _build_reds(params, meta["state"], boxes, reader)
    result.boxes_ = boxes
    result.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
    result.n_features_in_ = len(result.feature_names_in_)
    return result


def _build_reds(
    params: dict[str, Any], state: dict[str, Any], boxes: list[Box], reader: _Reader
) -> REDS:
    saved = state["metamodel"]
    if not isinstance(saved["saved"], bool) or not isinstance(saved["class"], str):
        raise ValueError(f"state.metamodel must give 'saved' (bool) and 'class', got {saved!r}")
    params["metamodel"] = None  # set from the loaded metamodel_ by _load_metamodel
    if params["prim"] is not None:
        params["prim"] = PRIM(**params["prim"])
    if params["threshold"] is not None:
        op, value = params["threshold"]
        params["threshold"] = (op, _unfloat(value))
    reds = REDS(**params)
    prim = PRIM(**state["prim"])
    prim.boxes_, prim.trajectory_ = boxes, trajectory_frame(boxes)
    prim.feature_names_in_ = np.asarray(boxes[0]._domain.names if boxes else (), dtype=object)
    prim.n_features_in_ = len(prim.feature_names_in_)
    reds.prim_, reds.trajectory_ = prim, prim.trajectory_
    fidelity = state["fidelity"]
    reds.fidelity_ = None if fidelity is None else _unfloat(fidelity)
    reds.sample_ = reds.sample_labels_ = None  # type: ignore[assignment]
    reds.distillation_ = None  # type: ignore[assignment]  # see REDS.save
    if state["sample_data"] is not None:
        data = reader.data[_index(state["sample_data"], len(reader.data), "data")]
        domain = boxes[0]._domain
        reds.sample_ = _sample_frame(state["sample_columns"], domain, data)
        reds.sample_labels_ = data[2].copy()
    return reds


def _sample_frame(columns: list[dict[str, Any]], domain: Domain, data: Data) -> pd.DataFrame:
    """REDS's sample rebuilt from PRIM's encoding of it, with the columns' original dtypes."""
    numeric, codes, _ = data
    if len(columns) != len(domain.names):
        raise ValueError("sample_columns does not match the sample's domain")
    numeric_j = {name: j for j, name in enumerate(domain.numeric_names)}
    categorical_j = {name: j for j, name in enumerate(domain.categorical_names)}
    frame = {}
    for name, column in zip(domain.names, columns, strict=True):
        if name in categorical_j:
            j = categorical_j[name]
            values = pd.Series(domain.categories[j], dtype=object).to_numpy()[codes[:, j]]
        else:
            values = numeric[:, numeric_j[name]]
        if column["dtype"] == "category":
            dtype = pd.CategoricalDtype(column["categories"], ordered=column["ordered"])
            frame[name] = pd.Series(values, dtype=object).astype(dtype)
        else:
            frame[name] = pd.Series(values).astype(column["dtype"])
    return pd.DataFrame(frame)


def _load_metamodel(reds: REDS, meta: dict[str, Any], path: Path, device: str) -> None:
    saved = meta["state"]["metamodel"]
    reds.metamodel_ = None
    if saved["saved"]:
        from surrogate.models import load as load_model

        reds.metamodel_ = load_model(path / METAMODEL, device=device)
        if meta["params"].get("metamodel") is not None:  # given by the user: metamodel_ is its clone
            reds.metamodel = clone(reds.metamodel_)
        return
    given = meta["params"].get("metamodel") is not None
    warnings.warn(
        f"{path}: this REDS's metamodel ({saved['class']}) was not saved; metamodel_ is None "
        f"(boxes, trajectory, sample, labels and fidelity are loaded)" + (
            f", and its metamodel option is the default (None): set_params(metamodel="
            f"{saved['class'].rsplit('.', 1)[-1]}(...)) before refitting it, or a fit uses the "
            "default metamodel" if given else ""),
        UserWarning,
        stacklevel=4,  # the caller of sg.load
    )


# -- scalars -----------------------------------------------------------------------------------
def _float(value: Any) -> float | str:
    """A float for strict JSON: non-finite values become ``"inf"``, ``"-inf"`` or ``"nan"``."""
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _unfloat(value: Any) -> float:
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"expected a number or 'inf', '-inf', 'nan', got {value!r}")


def _floats(values: list[Any]) -> np.ndarray:
    return np.array([_unfloat(v) for v in values], dtype=np.float64)


def _index(value: Any, size: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < size:
        raise ValueError(f"{what} index {value!r} is not in [0, {size})")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a count, got {value!r}")
    return value


def _category(name: str, value: Any) -> str | bool | int | float:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, str | bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise TypeError(
        f"cannot save the category {value!r} of parameter {name!r} to JSON: categories must be "
        f"str, bool, int or finite float (got {type(value).__name__})")


def _plain_or_fail(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} {value!r} cannot be saved to JSON")


def _class_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("surrogate-discovery", "numpy", "pandas", "scikit-learn"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:  # pragma: no cover - running from a source tree
            out[dist] = "unknown"
    return out
