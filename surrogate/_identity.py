"""How a teacher is known across processes and versions: its default name (a partial's with
its bound arguments) and a fingerprint of its code. Checkpoints compare both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["default_name", "code_fingerprint", "settings_of", "PointFunction"]


def default_name(fn: Any) -> str:
    """A teacher's name when none is given: the function's name; a ``functools.partial``'s
    with its bound arguments (``model(scenario='high')``), so that two partials of one function
    are two teachers, whose checkpoints are not mixed up. The arguments are described the same
    way in every process (:func:`_stable_description`); a long description is digested."""
    import functools
    import hashlib

    if isinstance(fn, functools.partial):
        bound = ", ".join([*map(_stable_description, fn.args),
                           *(f"{k}={_stable_description(v)}" for k, v in fn.keywords.items())])
        if len(bound) > 60:
            bound = "#" + hashlib.sha256(bound.encode()).hexdigest()[:12]
        return f"{default_name(fn.func)}({bound})"
    return getattr(fn, "__name__", None) or type(fn).__name__


def _stable_description(value: Any) -> str:
    """``value`` as text that is the same in every process: ``repr`` for plain values and
    containers of them, an array's dtype, shape and the digest of its bytes (its repr elides
    big arrays), else the type's name with ``repr`` unless that holds a memory address."""
    import hashlib

    if value is None or isinstance(value, bool | int | float | complex | str | bytes):
        return repr(value)
    if isinstance(value, list | tuple):
        inner = ", ".join(map(_stable_description, value))
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, set | frozenset):  # in no hash-seed's order
        inner = ", ".join(sorted(map(_stable_description, value)))
        return f"{type(value).__name__}({{{inner}}})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_stable_description(k)}: {_stable_description(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, np.ndarray) and value.dtype != object:
        digest = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()[:12]
        return f"array({value.dtype}, {value.shape}, #{digest})"
    if isinstance(value, np.generic):
        return repr(value.item())
    if hasattr(value, "get_params") and not isinstance(value, type):
        return settings_of(value)
    text = repr(value)
    return type(value).__qualname__ if " at 0x" in text else text


def settings_of(obj: Any, *, private: bool = False) -> str:
    """An object's settings as text that is the same in every process, for a checkpoint's
    signature: its class and its parameters (an estimator's ``get_params``, else its public
    attributes), each described exactly (:func:`_stable_description`: every digit of a float,
    an estimator inside by its own parameters), where a display ``repr`` rounds or leaves
    settings out. An estimator lists only the parameters set away from their defaults, so a
    parameter that a later version adds (at a default that keeps the old behaviour) does not
    make its checkpoints another design's. ``private``: an object without ``get_params``
    also by its private attributes (those of a user's class hold its settings as often as
    the public ones), less the ``_warned...`` flags a run sets."""
    if hasattr(obj, "get_params"):
        params = _changed_params(obj, dict(obj.get_params(deep=False)))
    else:
        params = {k: v for k, v in sorted(getattr(obj, "__dict__", {}).items())
                  if not k.startswith("_warned") and (private or not k.startswith("_"))}
    return f"{type(obj).__qualname__}{_stable_description(params)}"


def _changed_params(obj: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters whose value differs from the constructor's default."""
    import inspect

    try:
        signature = inspect.signature(type(obj))
    except (TypeError, ValueError):
        return params
    defaults = {name: p.default for name, p in signature.parameters.items()
                if p.default is not inspect.Parameter.empty}
    return {k: v for k, v in params.items() if k not in defaults
            or _stable_description(v) != _stable_description(defaults[k])}


def code_fingerprint(fn: Any) -> str | None:
    """A digest of the Python code behind a teacher function (its bytecode, constants and
    names, nested functions included, and the numbers and text a closure captured), or None
    where there is none to read (a builtin, an extension). Two functions of one name (two
    lambdas) differ; an edit of a comment does not count. Stable across processes and runs of
    the same Python version."""
    import dis
    import functools
    import hashlib
    import types

    while isinstance(fn, functools.partial) or hasattr(fn, "__wrapped__"):
        fn = fn.func if isinstance(fn, functools.partial) else fn.__wrapped__
    method = vars(type(fn)).get("__call__")  # a callable object: its class's __call__
    code = getattr(fn, "__code__", None) or getattr(method, "__code__", None)
    if not isinstance(code, types.CodeType):
        return None
    digest = hashlib.sha256()

    def add(c: types.CodeType) -> None:
        digest.update(c.co_code)
        digest.update(repr(c.co_names).encode())
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                add(const)
            elif isinstance(const, frozenset):  # its order follows the per-process hash seed
                digest.update(repr(sorted(map(repr, const))).encode())
            else:
                digest.update(repr(const).encode())

    add(code)
    _add_instance_state(digest, fn, code)
    # the plain values a closure captured: make(0.5) and make(-1.5) are two teachers; not a
    # list, dict or object, nor a variable the function sets (nonlocal): a teacher may count
    # its calls in one, and its resumption is the same teacher
    written = {i.argval for i in dis.get_instructions(code)
               if i.opname in ("STORE_DEREF", "DELETE_DEREF")}
    cells = getattr(fn, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars, cells, strict=False):
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not yet filled
            continue
        if name not in written and _plain(value):
            digest.update(_stable_description(value).encode())
    return digest.hexdigest()[:16]


# methods that set an object's settings rather than its running state
_CONSTRUCTORS = ("__init__", "__new__", "__post_init__", "__setstate__")


def _add_instance_state(digest: Any, fn: Any, code: Any) -> None:
    """The settings of the object behind a callable object or a bound method: its public plain
    attributes (numbers, text, tuples of them) that no method of its class sets outside its
    constructor. ``Model(1.0)`` and ``Model(100.0)`` are two teachers, whose checkpoints were
    taken for one; a counter of calls that ``__call__`` keeps is running state, and its
    resumption is the same teacher."""
    import dis
    import inspect
    import types

    owner = getattr(fn, "__self__", None)  # a bound method's object
    if owner is None and getattr(vars(type(fn)).get("__call__"), "__code__", None) is code:
        owner = fn  # a callable object
    if owner is None or isinstance(owner, type | types.ModuleType) \
            or not hasattr(owner, "__dict__"):
        return
    written: set[str] = set()
    for cls in type(owner).__mro__:
        for name, member in vars(cls).items():
            if isinstance(member, classmethod | staticmethod):
                member = member.__func__
            elif isinstance(member, property):
                member = member.fset
            method_code = getattr(inspect.unwrap(member), "__code__", None) \
                if callable(member) else None
            if name not in _CONSTRUCTORS and isinstance(method_code, types.CodeType):
                written |= {i.argval for i in dis.get_instructions(method_code)
                            if i.opname in ("STORE_ATTR", "DELETE_ATTR")}
    for name, value in sorted(vars(owner).items()):
        if not name.startswith("_") and name not in written and _plain(value):
            digest.update(f"{name}={_stable_description(value)}".encode())


def _plain(value: Any) -> bool:
    """Numbers, text, None and tuples of them: values that stay as they are."""
    if isinstance(value, tuple):
        return all(map(_plain, value))
    return value is None or isinstance(value, bool | int | float | complex | str | bytes
                                       | np.generic)


class PointFunction:
    """``fn(dict) -> float`` seen as a scalar simulation function ``fn(**params)``: the plain
    function teachers of the sequential designs and of ``distill``, and the plain function
    targets of sensitivity and optimization.

    A function whose first argument is named after one of the space's parameters ``names``
    and that takes them all as keywords (``def f(x, z)`` or ``def f(x, z=1)``, as a
    :class:`~surrogate.Simulator`'s function) gets them so; any other that can take one
    positional argument gets the point as one dict (``def f(p): ... p["x"]``); one that can
    only take the keywords gets them; any other is a TypeError saying how it is called.

    A class rather than a closure so that it pickles (process and Dask executors) whenever
    ``fn`` does; it carries ``fn``'s name and code, so that a checkpoint tells two such
    teachers apart (a shared wrapper's code made every function look alike).
    """

    def __init__(self, fn: Callable[..., float], names: Any = ()) -> None:
        self.fn = self.__wrapped__ = fn  # __wrapped__: the code behind it (code_fingerprint)
        self.__name__ = default_name(fn)  # a partial's with its bound arguments
        self.keywords = _takes_keywords(fn, [str(name) for name in names])

    def __call__(self, **params: Any) -> float:
        return self.fn(**params) if self.keywords else self.fn(params)


def _takes_keywords(fn: Callable[..., Any], names: list[str]) -> bool:
    """Whether ``fn`` is called with the parameters as keywords (see :class:`PointFunction`)."""
    import inspect

    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without one: called with the dict
        return False
    attempts = [((None,), {}, False), ((), dict.fromkeys(names), True)]
    if next(iter(signature.parameters), None) in names:  # def f(x, z=1): the parameters
        attempts.reverse()
    for args, kwargs, keywords in attempts:
        try:
            signature.bind(*args, **kwargs)
        except TypeError:
            continue
        return keywords
    arguments = list(signature.parameters)
    how = (f"either as a dict (def f(p): ... p[{names[0]!r}] ...) or as the parameters "
           f"{names} by keyword" if names else "as a dict of parameter values")
    raise TypeError(f"the function {default_name(fn)!r} takes {arguments}: a plain function "
                    f"is called with one point, {how}")
