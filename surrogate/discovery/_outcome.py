"""Outcome expressions: which runs are cases of interest, written over outputs and fields.

Scenario discovery (... -> transfer set -> **discovery**) needs a 0/1 label per run. An outcome
expression states it in the modeller's terms: a scalar output compared with a number
(``stab < 0``), or a trajectory reduced to a number first (``max(I) > 0.2``,
``time_above(I, 0.1) > 10``) or tested at every grid point (``any(prey < 1)``), combined with
``and`` / ``or`` / ``not``. The text is parsed with Python's :mod:`ast` and checked against a
strict whitelist -- numbers, names, ``+ - * /``, comparisons, the boolean operators and the
functions below -- and evaluated by walking the tree with numpy: nothing is ever passed to
``eval``. A name that is not a Python identifier (an output called ``final size``) is quoted
with backticks, as ``DataFrame.query`` and ``Box.rules`` quote it.

Functions (``F`` is a field, or arithmetic over fields and numbers, evaluated on its grid):

===================  ===========================================================================
``max(F)``           largest value on the grid: ``F.max(axis=1)``
``min(F)``           smallest value: ``F.min(axis=1)``
``final(F)``         value at the last grid point: ``F[:, -1]``
``mean(F)``          mean of the grid values (not weighted by the spacing): ``F.mean(axis=1)``
``time_above(F, v)`` time during which ``F > v``: ``numpy.trapezoid(F > v, grid)``, the
                     trapezoid rule on the 0/1 indicator
``any(C)``           ``C`` (a comparison on the grid, e.g. ``prey < 1``) holds at some grid point
``all(C)``           ``C`` holds at every grid point
===================  ===========================================================================
"""

from __future__ import annotations

import ast
import numbers
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["OutcomeExpression", "parse_outcome", "outcome", "REDUCTIONS", "FUNCTIONS"]

REDUCTIONS = ("max", "min", "final", "mean")
FUNCTIONS = (*REDUCTIONS, "time_above", "any", "all")
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_EXAMPLE = "e.g. 'max(I) > 0.2', 'any(prey < 1) and final(P) > 0.5' or 'stab < 0'"


class OutcomeError(ValueError):
    """An outcome expression that cannot be parsed or evaluated (one line, naming the problem)."""


@dataclass(frozen=True)
class _Values:
    """Values during evaluation: per run (n,), or per run and grid point (n, T) on ``grid``."""

    array: np.ndarray
    grid: np.ndarray | None  # None: one value per run (a scalar output or a number)


class OutcomeExpression:
    """A parsed outcome expression; :meth:`evaluate` labels runs.

    Build it with :func:`parse_outcome`. ``str()`` gives the text; :attr:`names` the outputs
    and fields it reads.

    Examples
    --------
    >>> expr = parse_outcome("max(I) > 0.2 and stab < 0")
    >>> expr.names
    ('I', 'stab')
    >>> expr.evaluate({"I": np.array([[0.1, 0.3], [0.1, 0.1]]), "stab": np.array([-1.0, -1.0])})
    array([ True, False])
    """

    def __init__(self, text: str, tree: ast.Expression, key: str) -> None:
        self.text = text
        self._tree = tree
        self._key = key
        # every name but a called function's: an output may be called "final" or "max"
        called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        self.names = tuple(sorted({node.id for node in ast.walk(tree)
                                   if isinstance(node, ast.Name) and id(node) not in called}))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"parse_outcome({self.text!r})"

    def evaluate(self, data: Any, grids: Mapping[str, Any] | None = None) -> np.ndarray:
        """Boolean labels, one per run: True where the outcome holds.

        Parameters
        ----------
        data : TransferSet, DataFrame or mapping
            A :class:`~surrogate.TransferSet` (its scalar outputs and fields; every run must
            have succeeded: pass ``runs.valid()``), a DataFrame of scalar outputs (e.g. a
            CSV; a Simulator call's result brings its fields along, in ``attrs["fields"]``),
            or a mapping of names to arrays: (n,) for a scalar output, (n, T) or a DataFrame
            (columns: the grid) for a field.
        grids : mapping of str to 1-D array, optional
            Grids of fields given as plain arrays (default: ``0 .. T-1``; only ``time_above``
            reads a grid).
        """
        values, field_grids = _collect(data, self._fail, set(self.names))
        unknown = sorted(str(k) for k in (grids or {}) if str(k) not in values)
        if unknown:  # a misspelt grid was ignored: time_above read 0 .. T-1 instead
            self._fail(f"grids= names {unknown}, which the data does not hold; "
                       + _known(values))
        field_grids.update({k: np.asarray(v, dtype=float) for k, v in (grids or {}).items()})
        used = {name: values[name] for name in self.names if name in values}
        sizes = {len(v) for v in used.values()}
        if len(sizes) > 1:
            self._fail(f"the names hold different numbers of runs: {sorted(sizes)}")
        for name, array in used.items():
            if array.ndim == 2 and array.shape[1] == 0 and len(array):
                self._fail(f"field {name!r} has no grid point")
            grid = field_grids.get(name)
            if grid is not None and array.ndim != 2:
                self._fail(f"a grid is given for {name!r}, which is a scalar output, not a field")
            if array.ndim == 2 and grid is not None:
                grid = np.asarray(grid, dtype=float)
                if grid.shape != (array.shape[1],) or not np.isfinite(grid).all() \
                        or (np.diff(grid) <= 0).any():
                    self._fail(f"the grid of field {name!r} (grids=, or the columns of its "
                               f"DataFrame) must be {array.shape[1]} increasing finite times, "
                               f"one per column; got {np.ravel(grid).tolist()[:6]}")
            if not array.size:
                continue
            missing = np.isnan(array).reshape(len(array), -1).any(axis=1)
            if missing.any():
                self._fail(f"{name!r} is missing (NaN) in {int(missing.sum())} of {len(array)} "
                           "runs, whose outcome is unknown (failed runs?): drop them first, "
                           f"e.g. runs.valid() or frame.dropna(subset=[{name!r}])")
        evaluator = _Evaluator(values, field_grids, self._fail)
        try:
            result = evaluator.condition(self._tree.body, pointwise=False)
        except RecursionError:
            self._fail("the expression is nested too deeply to evaluate; write it shorter")
        return np.array(result.array, dtype=bool)

    def _fail(self, problem: str) -> Any:
        raise OutcomeError(f"{self._key}: {self.text!r}: {problem}")


def parse_outcome(text: str, *, key: str = "outcome") -> OutcomeExpression:
    """Parse an outcome expression (see the module docstring for what it may contain).

    Raises
    ------
    ValueError
        One line naming the problem: bad syntax, an unknown function, a construct outside the
        whitelist (attributes, subscripts, strings, keywords ...), a condition that is not
        one. ``key`` starts the message (e.g. ``"--outcome"``). Unknown output and field names
        are found by :meth:`OutcomeExpression.evaluate`, which knows the data.

    Examples
    --------
    >>> str(parse_outcome("time_above(I, 0.1) > 10"))
    'time_above(I, 0.1) > 10'
    >>> parse_outcome("max(I) >")
    Traceback (most recent call last):
    ...
    surrogate.discovery._outcome.OutcomeError: outcome: 'max(I) >': not a valid expression (invalid syntax); write e.g. 'max(I) > 0.2', 'any(prey < 1) and final(P) > 0.5' or 'stab < 0' (a name that is not a Python identifier in backticks: `final size` > 0.5)
    >>> parse_outcome("`final size` > 0.5").names
    ('final size',)
    """
    if not isinstance(text, str) or not text.strip():
        raise OutcomeError(f"{key}: the outcome must be a non-empty expression, {_EXAMPLE}; "
                           f"got {text!r}")
    try:
        plain, quoted = _unquoted(text.strip())
        try:
            tree = ast.parse(plain, mode="eval")
        except SyntaxError as exc:
            raise OutcomeError(f"{key}: {text!r}: not a valid expression ({exc.msg}); write "
                               f"{_EXAMPLE} (a name that is not a Python identifier in "
                               "backticks: `final size` > 0.5)") from None
        for node in ast.walk(tree):  # the quoted names as they are
            if isinstance(node, ast.Name) and node.id in quoted:
                node.id = quoted[node.id]
        expression = OutcomeExpression(text.strip(), tree, key)
        _check_tree(tree.body, expression._fail)
        if not expression.names:
            expression._fail(f"names no output or field; write {_EXAMPLE}")
        _Evaluator({}, {}, expression._fail, dry=True).condition(tree.body, pointwise=False)
    except (RecursionError, MemoryError):
        raise OutcomeError(f"{key}: the expression ({len(text)} characters) is nested too "
                           f"deeply to read; write {_EXAMPLE}") from None
    return expression


def _unquoted(text: str) -> tuple[str, dict[str, str]]:
    """``text`` with each backtick-quoted name (``DataFrame.query``'s and ``Box.rules``'
    quoting, for a name such as ``final size``) replaced by a placeholder identifier, and the
    placeholders' names."""
    quoted: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        key = f"__quoted_{len(quoted)}__"
        quoted[key] = match.group(1)
        return key

    return re.sub(r"`([^`]+)`", placeholder, text), quoted


def outcome(expr: str | OutcomeExpression, runs: Any) -> pd.Series:
    """Whether each run meets an outcome expression, as a boolean Series.

    Parameters
    ----------
    expr : str or OutcomeExpression
        E.g. ``"max(I) > 0.2"``, ``"any(prey < 1)"``, ``"final(P) > 0.5 and utility > 1"``,
        ``"time_above(I, 0.1) > 10"``, ``"stab < 0"`` (see :mod:`surrogate.discovery._outcome`).
    runs : TransferSet, DataFrame or mapping
        As for :meth:`OutcomeExpression.evaluate`; a transfer set must hold no failed run. A
        Simulator call's DataFrame brings its fields along (in ``attrs["fields"]``).

    Returns
    -------
    pandas.Series of bool
        One entry per run (index of ``runs`` when it is a DataFrame, else ``0 .. n-1``), named
        after the expression.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> infected = pd.DataFrame([[0.0, 0.3, 0.1], [0.0, 0.1, 0.05]], columns=[0.0, 5.0, 10.0])
    >>> outcome("max(I) > 0.2", {"I": infected}).tolist()
    [True, False]
    >>> outcome("time_above(I, 0.05) >= 5", {"I": infected}).tolist()  # trapezoid of I > 0.05
    [True, True]
    """
    parsed = expr if isinstance(expr, OutcomeExpression) else parse_outcome(expr)
    labels = parsed.evaluate(runs)
    index = runs.index if isinstance(runs, pd.DataFrame) else None
    return pd.Series(labels, index=index, name=str(parsed), dtype=bool)


def _check_tree(node: ast.AST, fail: Callable[[str], Any]) -> None:
    """Refuse any node outside the whitelist, before anything is evaluated."""
    allowed = (ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
               ast.BinOp, ast.Compare, ast.Call, ast.Name, ast.Load, ast.Constant,
               *_COMPARE, *_ARITHMETIC)
    for child in ast.walk(node):
        if not isinstance(child, allowed):
            what = type(child).__name__
            hint = " (use 'and', 'or', 'not')" if isinstance(child, (ast.BitAnd, ast.BitOr,
                                                                      ast.Invert)) else ""
            fail(f"{_describe(child) or what} is not allowed in an outcome{hint}; write "
                 f"{_EXAMPLE}")
        if isinstance(child, ast.Constant) and (
                isinstance(child.value, bool) or not isinstance(child.value, numbers.Real)):
            fail(f"{child.value!r} is not a number; outcomes compare with numbers")
        if isinstance(child, ast.Call):
            if not isinstance(child.func, ast.Name) or child.func.id not in FUNCTIONS:
                name = child.func.id if isinstance(child.func, ast.Name) else ast.unparse(
                    child.func)
                fail(f"unknown function {name!r}; allowed: {', '.join(FUNCTIONS)}")
            if child.keywords:
                fail(f"{ast.unparse(child.func)}() takes no keyword arguments")


_OPERATORS = {ast.RShift: ">>", ast.LShift: "<<", ast.Pow: "**", ast.Mod: "%",
              ast.FloorDiv: "//", ast.BitXor: "^", ast.MatMult: "@", ast.BitAnd: "&",
              ast.BitOr: "|", ast.Invert: "~", ast.Is: "is", ast.IsNot: "is not",
              ast.In: "in", ast.NotIn: "not in"}


def _describe(node: ast.AST) -> str:
    """The node as written, quoted ('' when it cannot be shown alone)."""
    if type(node) in _OPERATORS:
        return f"'{_OPERATORS[type(node)]}'"
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - operator nodes cannot be unparsed alone
        return ""
    return f"'{text}'" if text else ""


class _Evaluator:
    """Walks a checked tree with numpy. ``dry=True`` checks the structure only (no data)."""

    def __init__(self, values: Mapping[str, np.ndarray], grids: Mapping[str, np.ndarray],
                 fail: Callable[[str], Any], *, dry: bool = False) -> None:
        self.values, self.grids, self.fail, self.dry = values, grids, fail, dry
        self.within: list[str] = []  # the functions whose field argument is being read

    # -- conditions: boolean per run (pointwise=False) or per run and grid point ---------------
    def condition(self, node: ast.AST, *, pointwise: bool) -> Any:
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(v, pointwise=pointwise) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return _fold(combine, parts, self.fail)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return _map(np.logical_not, self.condition(node.operand, pointwise=pointwise))
        if isinstance(node, ast.Compare):
            return self._compare(node, pointwise)
        if isinstance(node, ast.Call) and node.func.id in ("any", "all"):  # type: ignore[attr-defined]
            return self._any_all(node, pointwise)
        return self.fail(f"{_describe(node)} is not a condition; compare it with a number, "
                         f"{_EXAMPLE}")

    def _compare(self, node: ast.Compare, pointwise: bool) -> Any:
        sides = [self.value(side, pointwise=pointwise) for side in (node.left, *node.comparators)]
        results = [_map2(_COMPARE[type(op)], left, right, self.fail)
                   for op, left, right in zip(node.ops, sides[:-1], sides[1:], strict=True)]
        return _fold(np.logical_and, results, self.fail)

    def _any_all(self, node: ast.Call, pointwise: bool) -> Any:
        name = node.func.id  # type: ignore[attr-defined]
        if pointwise:
            self.fail(f"{name}() cannot be nested inside any() or all()")
        if len(node.args) != 1:
            self.fail(f"{name}() takes one condition on a field, e.g. {name}(prey < 1)")
        self.within.append(name)
        try:
            inner = self.condition(node.args[0], pointwise=True)
        finally:
            self.within.pop()
        if self.dry:
            return None
        if inner.grid is None:
            self.fail(f"{name}({ast.unparse(node.args[0])}) involves no field; {name}() tests a "
                      "condition at every grid point of a field")
        reduce = np.any if name == "any" else np.all
        return _Values(reduce(inner.array, axis=1), None)

    # -- values: numbers per run, or per run and grid point -----------------------------------
    def value(self, node: ast.AST, *, pointwise: bool) -> Any:
        if isinstance(node, ast.Constant):
            # a real number: _check_tree refused every other constant
            return None if self.dry else _Values(np.asarray(node.value, dtype=float), None)
        if isinstance(node, ast.Name):
            return self._name(node.id, pointwise)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand, pointwise=pointwise)
            return _map(operator.neg, operand) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left = self.value(node.left, pointwise=pointwise)
            right = self.value(node.right, pointwise=pointwise)
            return self._arithmetic(_ARITHMETIC[type(node.op)], left, right, node)
        if isinstance(node, ast.Call) and node.func.id in (*REDUCTIONS, "time_above"):  # type: ignore[attr-defined]
            return self._reduce(node, pointwise)
        return self.fail(f"{_describe(node)} is not a number; a comparison needs a number on "
                         "each side")

    def _name(self, name: str, pointwise: bool) -> Any:
        if self.dry:
            return None
        if name not in self.values:
            self.fail(f"unknown name {name!r}; " + _known(self.values))
        array = self.values[name]
        if array.ndim == 1:
            return _Values(array[:, None] if pointwise else array, None)
        if not pointwise:
            self.fail(f"{name!r} is a field (a trajectory): reduce it to a number first, e.g. "
                      f"max({name}), min({name}), final({name}), mean({name}), "
                      f"time_above({name}, v), or test it with any({name} > v) / "
                      f"all({name} < v)")
        return _Values(array, self.grids[name])

    def _arithmetic(self, op: Callable[[Any, Any], Any], left: Any, right: Any,
                    node: ast.BinOp) -> Any:
        if self.dry:
            return None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            result = _map2(op, left, right, self.fail)
        # a NaN compares False both ways, so a run would be neither a case nor its opposite
        undefined = ~np.isfinite(result.array) & np.isfinite(left.array) & \
            np.isfinite(right.array)
        if undefined.any():
            runs = undefined.reshape(len(undefined), -1).any(axis=1) if undefined.ndim else \
                undefined[None]
            self.fail(f"{ast.unparse(node)!r} is not a finite number (a division by zero or an "
                      f"overflow) in {int(runs.sum())} of {len(runs)} runs (first: run "
                      f"{int(np.argmax(runs))}); write the condition without the division, "
                      "e.g. 'a > 2 * b' for 'a / b > 2'")
        return result

    def _reduce(self, node: ast.Call, pointwise: bool) -> Any:
        name = node.func.id  # type: ignore[attr-defined]
        expected = 2 if name == "time_above" else 1
        if len(node.args) != expected:
            usage = "time_above(F, v), a field and a number" if expected == 2 else f"{name}(F)"
            self.fail(f"{name}() takes {expected} argument(s): {usage}")
        if pointwise:
            outer = self.within[-1] if self.within else "any"
            self.fail(f"{name}() cannot be used inside {outer}(); " + (
                "compare its result with a number instead" if outer in ("any", "all") else
                f"{outer}() takes a field itself, e.g. "
                f"{'time_above(I, v)' if outer == 'time_above' else outer + '(I)'}, and "
                f"{name}() of a field is already one number per run"))
        self.within.append(name)
        try:
            field = self.value(node.args[0], pointwise=True)
        finally:
            self.within.pop()
        level = self.value(node.args[1], pointwise=False) if expected == 2 else None
        if self.dry:
            return None
        if field.grid is None:
            self.fail(f"{name}() takes a field (a trajectory), but "
                      f"{ast.unparse(node.args[0])!r} is one number per run")
        array = field.array
        if name == "time_above" and level is not None:
            above = (array > np.reshape(level.array, (-1, 1))).astype(float)
            return _Values(np.trapezoid(above, field.grid, axis=1), None)
        if name == "max":
            return _Values(array.max(axis=1), None)
        if name == "min":
            return _Values(array.min(axis=1), None)
        if name == "final":
            return _Values(array[:, -1], None)
        return _Values(array.mean(axis=1), None)  # mean


def _fold(combine: Callable[[Any, Any], Any], parts: list[Any],
          fail: Callable[[str], Any]) -> Any:
    if any(p is None for p in parts):
        return None
    result = parts[0]
    for part in parts[1:]:
        result = _map2(combine, result, part, fail)
    return result


def _map(function: Callable[[Any], Any], values: Any) -> Any:
    return None if values is None else _Values(function(values.array), values.grid)


def _map2(function: Callable[[Any, Any], Any], left: Any, right: Any,
          fail: Callable[[str], Any]) -> Any:
    """Apply ``function`` elementwise; fields must share their grid."""
    if left is None or right is None:
        return None
    grids = [v.grid for v in (left, right) if v.grid is not None]
    if len(grids) == 2 and (len(grids[0]) != len(grids[1])
                            or not np.array_equal(grids[0], grids[1])):
        fail("fields on different grids cannot be combined point by point")
    return _Values(function(left.array, right.array), grids[0] if grids else None)


def _known(values: Mapping[str, np.ndarray]) -> str:
    fields = sorted(k for k, v in values.items() if v.ndim == 2)
    outputs = sorted(k for k, v in values.items() if v.ndim == 1)
    return f"fields: {fields}, outputs: {outputs}"


def _add_named(values: dict[str, np.ndarray], grids: dict[str, np.ndarray], name: str,
               given: Any, names: set[str], fail: Callable[[str], Any]) -> None:
    """``given`` as ``values[name]`` (and a 2-D one's grid), converted when the expression
    reads it; else its kind only: a field (2-D) or an output."""
    if name not in names:
        values[name] = np.empty((0, 0) if np.ndim(given) == 2 else 0)
        return
    array = _numeric(name, given, fail)
    if array.ndim == 2:
        grids[name] = _frame_grid(given, array.shape[1])
    elif array.ndim != 1:
        fail(f"{name!r} must be one value per run (1-D) or one trajectory per run (2-D), "
             f"got shape {array.shape}")
    values[name] = array


def _collect(data: Any, fail: Callable[[str], Any], names: set[str]
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``{name: (n,) or (n, T) float array}`` and the fields' grids, from any accepted data;
    only ``names`` (those the expression reads) are converted to numbers, the others are
    listed (empty) so that an unknown name's message can name them."""
    from surrogate.data import TransferSet
    from surrogate.space import repeated_names

    values: dict[str, np.ndarray] = {}
    grids: dict[str, np.ndarray] = {}
    if isinstance(data, TransferSet):
        failed = int((~data.ok).sum())
        if failed:
            fail(f"the runs hold {failed} failed run(s), whose outcome is unknown; pass "
                 "runs.valid()")
        frame = data.Y
        for name in frame.columns:
            values[str(name)] = frame[name].to_numpy(dtype=float)
        for name in data.fields:
            values[name], grids[name] = data.field(name).to_numpy(dtype=float), data.grids[name]
        return values, grids
    if isinstance(data, pd.DataFrame):
        repeated = repeated_names([str(c) for c in data.columns])
        if repeated:  # data[c] is then a frame, which read as a field
            fail(f"the data has repeated column(s) {repeated}; name each output once")
        values = {str(c): _numeric(str(c), data[c], fail) if str(c) in names else np.empty(0)
                  for c in data.columns}
        attached = data.attrs.get("fields")  # a Simulator call's fields ride in its attrs
        for name, given in (attached.items() if isinstance(attached, Mapping) else ()):
            if str(name) not in values:
                given = _rows_of(str(name), given, data.index, fail)
                _add_named(values, grids, str(name), given, names, fail)
        return values, grids
    if not isinstance(data, Mapping):
        fail(f"expected a TransferSet, a DataFrame or a mapping of names to arrays, got "
             f"{type(data).__name__}")
    for name, given in data.items():
        _add_named(values, grids, str(name), given, names, fail)
    return values, grids


def _rows_of(name: str, given: Any, index: pd.Index, fail: Callable[[str], Any]) -> Any:
    """A field attached to a DataFrame's ``attrs``, its rows taken by the frame's labels: pandas
    keeps ``attrs`` through a sort or a filter, which leave the attached fields as they were."""
    if not isinstance(given, pd.DataFrame) or given.index.equals(index):
        return given
    if not given.index.is_unique or not index.isin(given.index).all():
        fail(f"the field {name!r} attached to the data (attrs['fields']) is for other runs "
             "than the data's rows; pass the fields as a mapping, e.g. {'" + name + "': "
             "runs.field('" + name + "')}, or the TransferSet")
    return given.loc[index]


def _numeric(name: str, given: Any, fail: Callable[[str], Any]) -> np.ndarray:
    try:
        return np.asarray(given, dtype=float)
    except (TypeError, ValueError):
        return fail(f"{name!r} holds values that are not numbers")


def _frame_grid(given: Any, length: int) -> np.ndarray:
    """A DataFrame's numeric columns (as ``TransferSet.field`` gives; the caller refuses them
    unless increasing and finite), else 0..T-1."""
    if isinstance(given, pd.DataFrame):
        try:
            grid = np.asarray(given.columns, dtype=float)
        except (TypeError, ValueError):
            grid = None
        if grid is not None and len(grid) == length:
            return grid
    return np.arange(length, dtype=float)
