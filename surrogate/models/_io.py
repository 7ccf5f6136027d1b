"""Safe persistence of fitted surrogates: a directory with ``meta.json`` and ``tensors.pt``.

``meta.json`` holds the schema version, the class, its parameters, package versions, feature
and output names and the fitted scalers; ``tensors.pt`` is a plain ``dict[str, Tensor]`` written
by ``torch.save`` and read with ``torch.load(weights_only=True)``. Nothing is ever unpickled, and
classes are looked up in a fixed table, never imported by name from the file.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata as md
import io
import json
import numbers
from pathlib import Path
from typing import Any

import numpy as np
import torch

from surrogate.data import SCHEMA as RUNS_SCHEMA
from surrogate.data import as_path, save_path, write_text_atomic
from surrogate.models._base import resolve_device

__all__ = ["save", "load", "model_meta", "new_model", "restore", "SCHEMA", "SCHEMA_VERSION"]

SCHEMA = "surrogate.models"
SCHEMA_VERSION = 1
META, TENSORS = "meta.json", "tensors.pt"
# Later stages' results saved in the same layout, by schema: the module that reads them is
# imported only when such a file is loaded (models never import a later stage at module level),
# and only from this fixed table, never by a name taken from the file.
LATER_STAGES = {"surrogate.discovery": "surrogate.discovery._io",
                "surrogate.sequential": "surrogate.sequential._model_io"}


def _classes() -> dict[str, type]:
    from surrogate.models._auto import AutoClassifier
    from surrogate.models._auto_regressor import AutoRegressor
    from surrogate.models._field import FieldGPRegressor
    from surrogate.models._gp import GPRegressor
    from surrogate.models._gpc import GPClassifier
    from surrogate.models._nn import NNClassifier, NNRegressor

    return {c.__name__: c for c in (GPRegressor, GPClassifier, NNRegressor, NNClassifier,
                                    FieldGPRegressor, AutoClassifier, AutoRegressor)}


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("surrogate-discovery", "torch", "gpytorch", "numpy", "scikit-learn"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:  # pragma: no cover - running from a source tree
            out[dist] = "unknown"
    return out


def _plain_number(value: Any) -> Any:
    """A numpy or other numeric scalar as the Python number JSON writes; others unchanged."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | int):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, int | float):
        return float(value)  # a Fraction: the fit read it as a float too
    return value


def _jsonable_params(model: Any) -> dict[str, Any]:
    params = {}
    for key, value in model.get_params(deep=False).items():
        if isinstance(value, np.random.Generator):
            value = None  # a generator's state is not part of the model; the fit is stored
        elif _holds_estimators(value):  # candidates: each as its class and options
            value = _encode_estimators(model, key, value)
        elif isinstance(value, tuple | list):  # hidden_layers=(np.int64(16), 16) included
            value = [_plain_number(v) for v in value]
        elif isinstance(value, torch.device):
            value = str(value)  # device=torch.device("cuda") is allowed as "cuda" is
        else:
            value = _plain_number(value)
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise TypeError(f"cannot save this {type(model).__name__}: its option {key}="
                            f"{value!r} cannot be written as JSON; give it as a number, a string, "
                            "a list or None") from None
        params[key] = value
    return params


def _encode_estimators(model: Any, key: str, value: Any) -> Any:
    """A list or dict of estimators and names (``candidates``) as JSON: a name as it is, one of
    our models as ``{"class", "params"}`` (rebuilt by :func:`_decode_estimators`); another
    estimator cannot be written without pickling, and is refused: a loaded model whose refit
    compared other candidates would not be the model saved."""
    classes = _classes()

    def encode(item: Any) -> Any:
        if not hasattr(item, "fit"):
            return item
        if classes.get(type(item).__name__) is not type(item):
            raise TypeError(f"cannot save this {type(model).__name__}: its {key} holds a "
                            f"{type(item).__name__}, which surrogate cannot write without "
                            "pickling (it never pickles); give it by name (e.g. 'rf', 'hgb') "
                            "or as one of surrogate's models")
        return {"class": type(item).__name__, "params": _jsonable_params(item)}

    if isinstance(value, dict):
        return {str(name): encode(item) for name, item in value.items()}
    return [encode(item) for item in value]


def _decode_estimators(value: Any) -> Any:
    """The inverse of :func:`_encode_estimators`: our models rebuilt, unfitted, from their
    class (in the fixed table of :func:`_classes`) and options."""
    classes = _classes()

    def decode(item: Any) -> Any:
        if not (isinstance(item, dict) and set(item) == {"class", "params"}):
            return item
        if item["class"] not in classes or not isinstance(item["params"], dict):
            raise ValueError(f"unknown candidate class {item.get('class')!r}")
        return classes[item["class"]](**_params_from_json(item["params"]))

    if isinstance(value, dict):
        return {name: decode(item) for name, item in value.items()}
    return tuple(decode(item) for item in value) if isinstance(value, list) else value


def _params_from_json(params: dict[str, Any]) -> dict[str, Any]:
    """A model's options as :func:`_jsonable_params` wrote them, back as the constructor takes
    them: lists as tuples, ``candidates`` rebuilt (:func:`_decode_estimators`)."""
    return {key: _decode_estimators(value) if key == "candidates" else
            tuple(value) if isinstance(value, list) else value
            for key, value in params.items()}


def _holds_estimators(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value \
        if isinstance(value, list | tuple) else []
    return any(hasattr(item, "fit") for item in items)


def _training_range(model: Any) -> dict[str, Any] | None:
    """``data_min_``, ``data_max_`` and ``n_samples_fit_`` (JSON floats round-trip exactly;
    the NaN of a categorical column is written as null)."""
    if getattr(model, "data_min_", None) is None:
        return None
    return {"min": [float(v) if np.isfinite(v) else None for v in model.data_min_],
            "max": [float(v) if np.isfinite(v) else None for v in model.data_max_],
            "n_samples": int(model.n_samples_fit_)}


def save(model: Any, path: str | Path) -> Path:
    """Write fitted ``model`` to the directory ``path`` (created if needed); return the path.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from surrogate.models import GPRegressor, load
    >>> X = np.linspace(0, 1, 8)[:, None]
    >>> gp = GPRegressor(seed=0).fit(X, X[:, 0] ** 2)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     gp.save(tmp)
    ...     same = load(tmp)
    >>> bool((same.predict(X) == gp.predict(X)).all())
    True
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    name = type(model).__name__
    if name not in _classes():
        raise TypeError(f"cannot save a {name}; supported: {sorted(_classes())}")
    path = save_path(path, SCHEMA, f"a {name}", "a model")
    extra, tensors = model._state()
    meta = {**model_meta(model), "state": extra}
    json.dumps(meta)  # a value JSON cannot hold fails here, before anything is written
    path.mkdir(parents=True, exist_ok=True)
    # an earlier save's meta.json goes first and the new one comes last, with the digest of
    # the tensors it belongs to: a save that fails half-way leaves no model that loads
    (path / META).unlink(missing_ok=True)
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in tensors.items()}, buffer)
    data = buffer.getvalue()
    meta["tensors_sha256"] = hashlib.sha256(data).hexdigest()
    tmp = path / (TENSORS + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path / TENSORS)
    write_text_atomic(path / META, json.dumps(meta, indent=2) + "\n")
    return path


def model_meta(model: Any) -> dict[str, Any]:
    """What ``meta.json`` records of a fitted model, its ``_state`` excepted (a model that holds
    another, e.g. :class:`~surrogate.models.FieldGPRegressor`'s GP, records it the same way)."""
    names = getattr(model, "feature_names_in_", None)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "class": type(model).__name__,
        "params": _jsonable_params(model),
        "versions": _versions(),
        "feature_names": None if names is None else [str(c) for c in names],
        "column_labels": getattr(model, "_column_labels", None),
        "n_features_in": int(model.n_features_in_),
        "outputs": getattr(model, "outputs_", None),
        "training_range": _training_range(model),
        # categorical columns and their levels (the codes the tensors were fitted on)
        "categories": _categories(model),
    }


def _categories(model: Any) -> list[dict[str, Any]]:
    encoding = getattr(model, "_input_encoding", None)
    if encoding is None:
        return []
    odd = [name for name in encoding.names if not isinstance(name, str | int | np.integer)]
    if odd:  # JSON would turn a tuple label into a list that no column matches after loading
        raise ValueError(f"cannot save a {type(model).__name__} whose categorical column(s) "
                         f"are labelled {odd}: name the columns with strings (or ints) and fit "
                         "it again to save it")
    return encoding.to_json()


def load(path: str | Path, *, device: str = "cpu") -> Any:
    """Read a model written by ``save``, or a discovery result (``PRIM.save``...); never unpickles.

    Parameters
    ----------
    path : str or Path
        The directory passed to ``save``.
    device : str, default="cpu"
        Where the loaded model lives (``"cuda"`` when torch sees a GPU).

    Raises
    ------
    ValueError
        If the directory is not a saved surrogate or its schema version is not supported.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import surrogate as sg
    >>> X = np.linspace(0, 1, 12)[:, None]
    >>> model = sg.GPRegressor(seed=0).fit(X, np.sin(6 * X[:, 0]))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     model.save(folder + "/gp")
    ...     again = sg.load(folder + "/gp")
    >>> bool(np.array_equal(again.predict(X), model.predict(X)))
    True
    """
    path = as_path(path)
    meta_file = path / META
    if not meta_file.is_file():
        if path.name == META and path.is_file():  # the file, not its directory
            raise ValueError(f"{path} is a save's {META}: pass the directory that holds it, "
                             f"{path.parent}")
        raise ValueError(f"{path} is not a saved surrogate or discovery result (no {META})")
    try:
        meta = json.loads(meta_file.read_text())
    except ValueError as err:  # JSONDecodeError, or bytes that are not text
        raise ValueError(f"{meta_file} is not valid JSON (truncated?): {err}") from None
    if isinstance(meta, dict) and meta.get("schema") in LATER_STAGES:
        return importlib.import_module(LATER_STAGES[meta["schema"]]).load(path, device=device)
    if isinstance(meta, dict) and meta.get("schema") == RUNS_SCHEMA:
        raise ValueError(f"{path} holds teacher runs (a transfer set or a campaign's "
                         "checkpoint), not a model: read it with surrogate.TransferSet.load")
    if not (path / TENSORS).is_file():
        raise ValueError(f"{path} is not a saved surrogate (expected {META} and {TENSORS})")
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise ValueError(f"{meta_file} is not a surrogate model file (schema != {SCHEMA!r})")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"{path} was written with model schema version {version!r}; this version of "
            f"surrogate reads version {SCHEMA_VERSION} only: refit and save the model again")
    if meta.get("class") not in _classes():
        raise ValueError(f"{path} holds an unknown model class {meta.get('class')!r}")
    data = (path / TENSORS).read_bytes()  # read once: checked, then loaded
    expected = meta.get("tensors_sha256")  # absent from files written before it was recorded
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise ValueError(f"{path}: {TENSORS} is not the file its {META} was saved with (an "
                         "interrupted save, or files of two different saves): save the model "
                         "again")
    model = new_model(meta, device, path)
    try:
        tensors = torch.load(io.BytesIO(data), map_location=model._device, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError/RuntimeError for foreign content
        raise ValueError(
            f"{path / TENSORS} cannot be read as plain tensors: damaged or truncated, or "
            f"holding other objects, which are refused (loaded with weights_only=True, never "
            f"unpickled): {type(err).__name__}") from None
    if not isinstance(tensors, dict) \
            or not all(isinstance(v, torch.Tensor) for v in tensors.values()):
        raise ValueError(f"{path / TENSORS} does not hold a dict of named tensors")
    try:
        restore(model, meta, tensors)
    except KeyError as err:  # files of two different saves, or a hand-edited meta.json
        raise ValueError(f"{path}: {TENSORS} lacks {err} that its {META} (a "
                         f"{meta.get('class')}) needs: the two files come from different saves "
                         "or one was changed; save the model again") from None
    except (TypeError, ValueError, IndexError, AttributeError, RuntimeError) as err:
        raise ValueError(f"{path}: {META} and {TENSORS} do not describe a valid "
                         f"{meta.get('class')} ({type(err).__name__}: {err}); save the model "
                         "again") from None
    return model


def new_model(meta: dict[str, Any], device: str, path: Path | str = "the file") -> Any:
    """An unfitted model of the class and parameters ``meta`` records (a fixed table of
    classes, never a name imported from the file). A parameter this version does not know
    (a file from a newer version) or a value it refuses is a ValueError naming ``path``."""
    classes = _classes()
    if meta.get("class") not in classes:
        raise ValueError(f"unknown model class {meta.get('class')!r}")
    cls = classes[meta["class"]]
    params = meta.get("params")
    if not isinstance(params, dict):
        raise ValueError(f"{path}: {META} has no 'params' table; save the model again")
    resolve_device(device)  # the caller's option, not the file's: its own error
    writer = (meta.get("versions") or {}).get("surrogate-discovery", "an unknown version")
    try:
        # an option a file predates takes the value that file was fitted with, which may not
        # be today's default (the class's _SAVED_DEFAULTS)
        params = {**getattr(cls, "_SAVED_DEFAULTS", {}), **_params_from_json(params),
                  "device": device}
        model = cls(**params)
        model._check_common()
        model._check_params()
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{path} holds a {meta['class']} with options this version of surrogate "
            f"({_versions()['surrogate-discovery']}) cannot build (written by {writer}): "
            f"{err}") from None
    return model


def _as_tuple(label: list[Any]) -> tuple[Any, ...]:
    return tuple(_as_tuple(v) if isinstance(v, list) else v for v in label)


def restore(model: Any, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Give ``model`` (from :func:`new_model`) the fitted state ``meta`` and ``tensors`` hold."""
    model.n_features_in_ = int(meta["n_features_in"])
    if meta.get("feature_names") is not None:
        model.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
        if len(model.feature_names_in_) != model.n_features_in_:
            raise ValueError(f"{len(model.feature_names_in_)} feature names for "
                             f"n_features_in = {model.n_features_in_}")
    model.outputs_ = meta.get("outputs")
    labels = meta.get("column_labels")  # a MultiIndex's tuples come back from JSON as lists
    model._column_labels = None if labels is None else [
        _as_tuple(c) if isinstance(c, list) else c for c in labels]
    training = meta.get("training_range")
    if training is not None:  # absent from files written before it was recorded
        model.data_min_ = np.asarray([np.nan if v is None else v for v in training["min"]],
                                     dtype=np.float64)
        model.data_max_ = np.asarray([np.nan if v is None else v for v in training["max"]],
                                     dtype=np.float64)
        model.n_samples_fit_ = int(training["n_samples"])
    from surrogate.models._inputs import InputEncoding

    model._encoding = InputEncoding.from_json(meta.get("categories"))
    model.categories_ = model._encoding.as_dict()
    model._from_state(meta["state"], tensors)
