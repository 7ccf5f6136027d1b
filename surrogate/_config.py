"""Study configuration: the TOML file behind ``surrogate study``, validated in one place.

Every key is checked when the file is read; a mistake is reported as one line naming the key and
what is allowed (:class:`ConfigError`). ``simulators/configs/`` holds a commented default per
bundled simulator; ``examples/configs/custom.toml`` is a commented study of your own function.

Field outputs (trajectories on a grid): ``[surrogate] fields = ["I"]`` names the simulator's
fields the study models (a :class:`~surrogate.models.FieldGPRegressor` each, whatever
``[surrogate] model``; default none: a bundled simulator's trajectories are still stored in the
runs, and ``[discover] outcome`` may be written over them, e.g. ``"max(I) > 0.1"``). A study of
your own ``"package.module:function"`` declares its fields' grids in a ``[fields]`` table, one
key per field: ``I = {start = 0.0, stop = 100.0, num = 101}`` (evenly spaced, ends included) or
``I = [0.0, 0.5, 2.0]`` (any increasing grid). ``[surrogate] align_fields = ["I"]`` registers
those of the modelled fields on their peak (``FieldGPRegressor(align="peak")``: for a wave that
moves in time, such as an epidemic curve).

``[run] timeout`` (seconds per run) is enforced by stopping the run; with ``executor = "serial"``
the study therefore runs the teacher in one worker process (``"processes"``, one worker): in this
process a run that hangs inside C code cannot be interrupted.
"""

from __future__ import annotations

import math
import operator
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from surrogate._checks import number_text

__all__ = ["ConfigError", "StudyConfig", "Outcome", "parse_outcome", "read_config"]

_OUTCOME_FORMS = ("write 'OUTPUT OP NUMBER' with OP one of <, <=, >, >= (e.g. 'stab < 0') or an "
                  "expression over outputs and fields (e.g. 'max(I) > 0.2')")


class ConfigError(ValueError):
    """An invalid study configuration (the message names the key and what is allowed)."""


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
}


@dataclass(frozen=True)
class Outcome:
    """A case of interest such as ``stab < 0``: an output, a comparison and a threshold."""

    output: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.output} {self.op} {number_text(self.value)}"

    def label(self, values: Any) -> np.ndarray:
        """Boolean labels (True where the case of interest holds); values that are not
        numbers are an error naming the output."""
        try:
            numbers = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            text = next((v for v in np.asarray(values, dtype=object).ravel()
                         if not isinstance(v, int | float | np.number)), None)
            raise ValueError(f"outcome {self}: {self.output!r} holds values that are not numbers "
                             f"(e.g. {text!r}); compare a numeric column, or name the rows "
                             f"of one text value as cases, e.g. \"{self.output} == "
                             f"{str(text)!r}\"") from None
        return np.asarray(_OPERATORS[self.op](numbers, self.value))

    @property
    def names(self) -> tuple[str, ...]:
        """The outputs it reads (as :attr:`surrogate.discovery.OutcomeExpression.names`)."""
        return (self.output,)

    def check_scalar(self, fields: Any, key: str) -> None:
        """A ConfigError naming ``key`` when the output is one of ``fields`` (a trajectory is
        not a number: its summary is)."""
        if self.output in fields:
            raise ConfigError(
                f"{key}: {self.output!r} is a field (a trajectory), not a number: compare a "
                f"summary of it, e.g. max({self.output}) {self.op} {number_text(self.value)}, "
                f"final({self.output}) {self.op} {number_text(self.value)} or "
                f"time_above({self.output}, {number_text(self.value)}) > 1")

    def evaluate(self, data: Any) -> np.ndarray:
        """Labels of the runs of a TransferSet (its scalar outputs) or a table of outputs."""
        values = data.Y[self.output] if hasattr(data, "Y") else data[self.output]
        return self.label(values)


def parse_outcome(text: str, key: str = "discover.outcome") -> Any:
    """Parse a case of interest.

    ``"OUTPUT OP NUMBER"`` with OP one of <, <=, >, >= gives an :class:`Outcome`, as before
    field outputs existed; anything else is parsed by :func:`surrogate.discovery.parse_outcome`
    (an expression over outputs and fields such as ``"max(I) > 0.2 and stab < 0"``). Both
    have ``names`` and ``evaluate(runs)``. Whether the names exist is checked against the
    simulator (or the data) later. Raises :class:`ConfigError` in one line naming ``key``.

    Examples
    --------
    >>> parse_outcome("stab < 0")
    Outcome(output='stab', op='<', value=0.0)
    >>> parse_outcome("max(I) > 0.2").names
    ('I',)
    """
    match = re.fullmatch(r"\s*([A-Za-z_][\w.]*)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*", str(text))
    if match:
        try:
            value = float(match.group(3))
        except ValueError:
            pass  # not a number: the expression parser says what is wrong
        else:
            if not math.isfinite(value):  # 1e999 reads as inf
                raise ConfigError(f"{key}: {text!r}: the threshold must be a finite number, "
                                  f"got {match.group(3)}")
            return Outcome(match.group(1), match.group(2), value)
    from surrogate.discovery import parse_outcome as parse_expression

    try:
        return parse_expression(str(text), key=key)
    except ValueError as exc:
        problem = str(exc)
        prefix = f"{key}: {str(text).strip()!r}: "
        problem = problem[len(prefix):] if problem.startswith(prefix) else problem
        problem = problem.split("; write e.g.")[0]  # the forms follow, once
        raise ConfigError(f"{key}: {text!r} is not an outcome ({problem}); "
                          f"{_OUTCOME_FORMS}") from None


@dataclass(frozen=True)
class StudyConfig:
    """Everything a study does; defaults give a small, complete study."""

    simulator: str
    parameters: tuple[dict[str, Any], ...] = ()  # only for "module:function" teachers
    outputs: tuple[str, ...] = ()
    field_grids: dict[str, tuple[float, ...]] = field(default_factory=dict)  # [fields] table
    vectorized: bool = False
    n: int = 200
    method: str = "lhs"  # or "adaptive": adaptive_sample, with the adaptive_* keys below
    adaptive_goal: str = "accuracy"
    adaptive_budget: int | None = None
    adaptive_target: float | None = None
    adaptive_output: str | None = None
    adaptive_threshold: tuple[str, float] | None = None
    seed: int = 0
    executor: str = "serial"
    n_workers: int | None = None
    address: str | None = None
    timeout: float | None = None
    retries: int = 0
    rerun: str | None = None  # "failed": the checkpoint's failed runs again (CLI --rerun-failed)
    model: str = "gp"
    model_outputs: tuple[str, ...] = ()  # default: every output
    model_fields: tuple[str, ...] = ()  # default: none
    align_fields: tuple[str, ...] = ()  # modelled fields registered on their peak
    cv: int = 5
    sobol_n: int = 1024
    objective: str | None = None
    sense: str = "minimize"
    mode: str = "surrogate"
    budget: int = 30
    constraints: dict[str, tuple[str, float]] = field(default_factory=dict)
    outcome: Any = None  # Outcome, or surrogate.discovery.OutcomeExpression
    reds: bool = True
    n_samples: int = 20_000
    min_density: float = 0.8

    def with_overrides(self, **changes: Any) -> StudyConfig:
        """A copy with command-line overrides (``None`` leaves a value as it is)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# section -> key -> (StudyConfig field, checker)
def _int(low: int) -> Callable[[str, Any], int]:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{key}: must be an integer >= {low}, got {value!r}")
        return value
    return check


def _sobol_n(key: str, value: Any) -> int:
    from surrogate.sensitivity import MIN_SOBOL_N

    if isinstance(value, bool) or not isinstance(value, int) or 0 < value < MIN_SOBOL_N \
            or value < 0:
        raise ConfigError(f"{key}: must be 0 (skip) or an integer >= {MIN_SOBOL_N} (Sobol base "
                          f"samples, best a power of two such as 1024), got {value!r}")
    return value


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ConfigError(f"{key}: must be a positive (finite) number, got {value!r}")
    return float(value)


def _seconds(key: str, value: Any) -> float:
    from surrogate.execute._campaign import MAX_TIMEOUT

    seconds = _number(key, value)
    if seconds > MAX_TIMEOUT:
        raise ConfigError(f"{key}: at most {MAX_TIMEOUT:g} seconds (a year); leave it out for "
                          f"no limit, got {value!r}")
    return seconds


def _fraction(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ConfigError(f"{key}: must be a number in (0, 1], got {value!r}")
    return float(value)


def _choice(*choices: str) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        if value not in choices:
            raise ConfigError(f"{key}: must be one of {list(choices)}, got {value!r}")
        return str(value)
    return check


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: must be a non-empty string, got {value!r}")
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: must be true or false, got {value!r}")
    return value


def _names(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key}: must be a list of names, got {value!r}")
    return tuple(value)


def _parameters(key: str, value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{key}: must be a non-empty array of tables "
                          "([[space.parameters]] with name, type, low/high or categories)")
    allowed = {"name", "type", "low", "high", "log", "categories"}
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: must be a table, got {item!r}")
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        if item.get("type") not in ("real", "integer", "categorical"):
            raise ConfigError(f"{where}.type: must be one of ['real', 'integer', 'categorical'], "
                              f"got {item.get('type')!r}")
        misplaced = sorted(set(item) - _PARAMETER_KEYS[item["type"]])
        if misplaced:  # e.g. log on an integer: it was dropped without a word
            kind = item["type"]
            raise ConfigError(f"{where}: {misplaced} not for {'an' if kind == 'integer' else 'a'}"
                              f" {kind} parameter; it takes {sorted(_PARAMETER_KEYS[kind])}")
        absent = sorted(_PARAMETER_KEYS[item["type"]] - {"log"} - set(item))
        if absent:  # else found only when the space is built, without the table's place
            raise ConfigError(f"{where}: missing key(s) {absent}; a {item['type']} parameter "
                              f"takes {sorted(_PARAMETER_KEYS[item['type']])}")
        if "log" in item and not isinstance(item["log"], bool):
            raise ConfigError(f"{where}.log: must be true or false, got {item['log']!r}")
    return tuple(value)


_PARAMETER_KEYS = {"real": {"name", "type", "low", "high", "log"},
                   "integer": {"name", "type", "low", "high"},
                   "categorical": {"name", "type", "categories"}}


def _field_grids(key: str, value: Any) -> dict[str, tuple[float, ...]]:
    """``[fields]``: one grid per field, ``{start, stop, num}`` or an increasing list."""
    example = "e.g. [fields] I = {start = 0.0, stop = 100.0, num = 101}"
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{key}: must be a table with one grid per field, {example}")
    grids = {}
    for name, spec in value.items():
        where = f"{key}.{name}"
        if isinstance(spec, dict):
            unknown = sorted(set(spec) - {"start", "stop", "num"})
            if unknown or len(spec) != 3:
                raise ConfigError(f"{where}: a grid is {{start, stop, num}} or a list of numbers "
                                  f"({example}), got {spec!r}")
            start, stop = (_real(f"{where}.{k}", spec[k]) for k in ("start", "stop"))
            num = _int(2)(f"{where}.num", spec["num"])
            if stop <= start:
                raise ConfigError(f"{where}: stop must be greater than start, got {spec!r}")
            grid = np.linspace(start, stop, num)
        elif isinstance(spec, list):
            grid = np.array([_real(f"{where}[{i}]", v) for i, v in enumerate(spec)])
            if len(grid) < 2 or not (np.diff(grid) > 0).all():
                raise ConfigError(f"{where}: a grid needs at least two increasing numbers, "
                                  f"got {spec!r}")
        else:
            raise ConfigError(f"{where}: a grid is {{start, stop, num}} or a list of numbers "
                              f"({example}), got {spec!r}")
        grids[name] = tuple(float(t) for t in grid)
    return grids


def _real(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ConfigError(f"{key}: must be a finite number, got {value!r}")
    return float(value)


def _op(key: str, value: Any) -> tuple[str, float]:
    if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], str)
            or value[0] not in _OPERATORS
            or isinstance(value[1], bool) or not isinstance(value[1], (int, float))
            or not np.isfinite(value[1])):
        raise ConfigError(f"{key}: must be [OP, NUMBER] with OP one of {list(_OPERATORS)} and "
                          f"a finite NUMBER, got {value!r}")
    return (value[0], float(value[1]))


def _constraints(key: str, value: Any) -> dict[str, tuple[str, float]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be a table such as {{ stab = [\"<=\", 0.0] }}")
    return {name: _op(f"{key}.{name}", spec) for name, spec in value.items()}


_SCHEMA: dict[str, dict[str, tuple[str, Callable[[str, Any], Any]]]] = {
    "": {"simulator": ("simulator", _text), "outputs": ("outputs", _names),
         "fields": ("field_grids", _field_grids), "vectorized": ("vectorized", _bool)},
    "space": {"parameters": ("parameters", _parameters)},
    "design": {"n": ("n", _int(2)),
               "method": ("method", _choice("lhs", "sobol", "halton", "random", "adaptive")),
               "seed": ("seed", _int(0)),
               "goal": ("adaptive_goal", _choice("accuracy", "boundary")),
               "budget": ("adaptive_budget", _int(2)), "target": ("adaptive_target", _fraction),
               "output": ("adaptive_output", _text), "threshold": ("adaptive_threshold", _op)},
    "run": {"executor": ("executor", _choice("serial", "processes", "dask")),
            "n_workers": ("n_workers", _int(1)), "address": ("address", _text),
            "timeout": ("timeout", _seconds), "retries": ("retries", _int(0))},
    "surrogate": {"model": ("model", _choice("gp", "nn")), "outputs": ("model_outputs", _names),
                  "fields": ("model_fields", _names), "cv": ("cv", _int(2)),
                  "align_fields": ("align_fields", _names)},
    "sensitivity": {"n": ("sobol_n", _sobol_n)},
    "optimize": {"output": ("objective", _text),
                 "sense": ("sense", _choice("minimize", "maximize")),
                 "mode": ("mode", _choice("surrogate", "teacher")),
                 "budget": ("budget", _int(2)), "constraints": ("constraints", _constraints)},
    "discover": {"outcome": ("outcome", lambda k, v: parse_outcome(_text(k, v), k)),
                 "reds": ("reds", _bool), "n_samples": ("n_samples", _int(100)),
                 "min_density": ("min_density", _fraction)},
}


def config_from_dict(data: dict[str, Any], where: str = "config") -> StudyConfig:
    """Validate a parsed TOML document into a :class:`StudyConfig`."""
    values: dict[str, Any] = {}
    sections = sorted(s for s in _SCHEMA if s)
    for key, value in data.items():
        if key in _SCHEMA[""]:
            name, check = _SCHEMA[""][key]
            values[name] = check(key, value)
        elif key in _SCHEMA and isinstance(value, dict):
            for sub, item in value.items():
                if sub not in _SCHEMA[key]:
                    raise ConfigError(f"{key}.{sub}: unknown key; allowed in [{key}]: "
                                      f"{sorted(_SCHEMA[key])}")
                name, check = _SCHEMA[key][sub]
                values[name] = check(f"{key}.{sub}", item)
        elif key in _SCHEMA:
            raise ConfigError(f"{key}: must be a table ([{key}] with keys "
                              f"{sorted(_SCHEMA[key])}), got {value!r}")
        else:
            raise ConfigError(f"{key}: unknown key; allowed: top-level keys "
                              f"{sorted(_SCHEMA[''])} and sections {sections}")
    if "simulator" not in values:
        raise ConfigError(f"simulator: missing in {where}; name a bundled simulator or "
                          "'package.module:function'")
    if ":" not in values["simulator"]:  # bundled: its own space, outputs and fields
        _refuse_own_keys(values, f"{values['simulator']!r} declares its own")
    _check_design(values, data.get("design") or {})
    _check_uses(values, data)
    runs = values.get("adaptive_budget") if values.get("method") == "adaptive" \
        else values.get("n", StudyConfig.n)
    if runs is not None and "cv" in values and values["cv"] > runs:  # the default adapts
        raise ConfigError(f"surrogate.cv: {values['cv']} folds need at least as many runs; the "
                          f"design has {runs}")
    return StudyConfig(**values)


def _check_uses(values: dict[str, Any], data: dict[str, Any]) -> None:
    """Keys that would be ignored: an ``[optimize]`` or ``[discover]`` table without what it
    is about, a teacher-loop option for a search on the surrogate, an empty list of outputs
    to model (which would read as every output)."""
    optimize, discover = data.get("optimize") or {}, data.get("discover") or {}
    if optimize and "output" not in optimize:
        raise ConfigError(f"optimize.output: missing; [optimize] ({', '.join(optimize)}) needs "
                          "output = NAME, the output to optimize")
    if discover and "outcome" not in discover:
        raise ConfigError(f"discover.outcome: missing; [discover] ({', '.join(discover)}) needs "
                          'outcome = "OUTPUT < NUMBER" (or an expression), the case to explain')
    if values.get("reds") is False and "n_samples" in discover:
        raise ConfigError("discover.n_samples: only for reds = true (REDS's fresh sample); "
                          "with reds = false PRIM runs on the teacher runs alone")
    if values.get("mode", StudyConfig.mode) == "surrogate" and "budget" in optimize:
        raise ConfigError('optimize.budget: only for mode = "teacher" (teacher runs in the '
                          "loop); the search on the surrogate runs the teacher no more")
    if values.get("model_outputs") == ():
        raise ConfigError("surrogate.outputs: an empty list; leave the key out to model every "
                          "output, or name the ones to model")


_ADAPTIVE_KEYS = ("goal", "budget", "target", "output", "threshold")
# the keys that define a plain function's teacher, and what a simulator declares instead
_TEACHER_KEYS = (("fields", "field_grids", "fields (choose among them with [surrogate] fields)"),
                 ("space.parameters", "parameters", "space"),
                 ("outputs", "outputs", "outputs (choose among them with [surrogate] outputs)"),
                 ("vectorized", "vectorized", "form"))


def _refuse_own_keys(values: dict[str, Any], whose: str) -> None:
    """Refuse the keys that define a plain function's teacher for a simulator that declares
    its own (a bundled one, or a ``surrogate.Simulator`` object): they would be ignored, and
    a study of a zoomed-in space would run on the whole one."""
    for key, name, what in _TEACHER_KEYS:
        if name in values:
            raise ConfigError(f"{key}: only for your own 'package.module:function' simulator; "
                              f"{whose} {what}")


def _check_design(values: dict[str, Any], design: dict[str, Any]) -> None:
    """The keys of ``[design]`` that go together: an adaptive design has a budget, not an n."""
    if values.get("method") != "adaptive":
        given = [k for k in _ADAPTIVE_KEYS if k in design]
        if given:
            raise ConfigError(f"design.{given[0]}: only for method = \"adaptive\"; a "
                              f"{values.get('method', 'lhs')!r} design takes n, method and seed")
        return
    if "n" in design:
        raise ConfigError('design.n: an adaptive design takes budget (teacher runs in all, the '
                          "initial design included), not n")
    if "budget" not in design:
        raise ConfigError('design.budget: missing; method = "adaptive" needs budget = RUNS '
                          "(an integer >= 2)")
    if values.get("adaptive_goal") == "boundary" and "threshold" not in design:
        outcome = values.get("outcome")
        if outcome is None:
            raise ConfigError('design.threshold: goal = "boundary" needs a case of interest: '
                              'threshold = ["<", NUMBER] (with output), or [discover] outcome')
        if not isinstance(outcome, Outcome):
            raise ConfigError(f'design.threshold: goal = "boundary" follows one scalar output; '
                              f"discover.outcome {str(outcome)!r} is an expression: give "
                              'output and threshold = ["<", NUMBER]')
        if "output" in design and design["output"] != outcome.output:
            raise ConfigError(f"design.output: {design['output']!r} is not the output of "
                              f"discover.outcome ({outcome}); give design.threshold too")
    goal = values.get("adaptive_goal", "accuracy")
    if "threshold" in design and goal != "boundary":
        raise ConfigError(f'design.threshold: only for goal = "boundary" (the edge of a case of '
                          f'interest); goal = "{goal}" models the outputs themselves')
    if "target" in design and goal == "boundary" and values["adaptive_target"] >= 0.5:
        raise ConfigError("design.target: a boundary design's target is an expected "
                          "misclassified share of the space, in (0, 0.5) (e.g. 0.02), got "
                          f"{values['adaptive_target']!r}")
    if "target" in design and goal != "boundary" and values["adaptive_target"] >= 1:
        raise ConfigError("design.target: an accuracy design's target is a leave-one-out Q² "
                          f"in (0, 1) (e.g. 0.99), got {values['adaptive_target']!r}")


def read_config(path: str | Path) -> StudyConfig:
    """Read and validate a study TOML file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigError(f"{path}: no such configuration file")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a configuration file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text (TOML files are UTF-8)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return config_from_text(text, str(path))


def config_from_text(text: str, where: str = "config") -> StudyConfig:
    """Validate a TOML document given as text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
    return config_from_dict(data, where)
