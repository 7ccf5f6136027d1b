"""Bundled teachers: ready :class:`surrogate.Simulator` objects for examples, tests and benchmarks.

Each module documents its equations, parameter ranges, outputs, units and source, and shows how
to wrap a simulation of your own: a module-level vectorized function over a design DataFrame,
a :class:`surrogate.Space`, output names, and a factory whose keyword options (tolerances,
horizons, Monte Carlo sizes, seeds) are bound with :func:`functools.partial` so the simulator
stays picklable for process and Dask executors.

:func:`available` lists the registry and :func:`load` builds a teacher with its default options;
call a module's ``simulator(...)`` factory for other options.

Examples
--------
>>> import simulators
>>> "lotka_volterra" in simulators.available()
True
>>> simulators.load("branin").space.names
['x1', 'x2']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from simulators import (
    dsgc,
    functions,
    lake,
    logistic_map,
    lorenz,
    lotka_volterra,
    sir,
)
from surrogate.teacher import Simulator

__all__ = ["available", "load", "study_config"]

# name -> factory called with its defaults; the one place a teacher is registered
_REGISTRY: dict[str, Callable[[], Simulator]] = {
    "lotka_volterra": lotka_volterra.simulator,
    "sir": sir.simulator,
    "lorenz": lorenz.simulator,
    "logistic_map": logistic_map.simulator,
    "lake": lake.simulator,
    "dsgc": dsgc.simulator,
    "branin": functions.branin,
    "hartmann3": functions.hartmann3,
    "hartmann6": functions.hartmann6,
    "borehole": functions.borehole,
    "ishigami": functions.ishigami,
    "wing_weight": functions.wing_weight,
    "otl_circuit": functions.otl_circuit,
    "piston": functions.piston,
    "sobol_g": functions.sobol_g,
}


def available() -> list[str]:
    """Names of the bundled teachers, sorted.

    Examples
    --------
    >>> import simulators
    >>> simulators.available()[:3]
    ['borehole', 'branin', 'dsgc']
    """
    return sorted(_REGISTRY)


def load(name: str) -> Simulator:
    """Build the bundled teacher ``name`` with its default options.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    surrogate.Simulator

    Raises
    ------
    ValueError
        For an unknown name; the message lists the available ones.

    Examples
    --------
    >>> import simulators
    >>> simulators.load("ishigami")(  # doctest: +NORMALIZE_WHITESPACE
    ...     [[0.0, 0.0, 0.0]])
         y
    0  0.0
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown simulator {name!r}; available: {available()}")
    return _REGISTRY[name]()


def study_config(name: str) -> str | None:
    """The default ``surrogate study`` configuration of teacher ``name`` (commented TOML).

    The files live in ``simulators/configs/``; each documents every key of the format.

    Examples
    --------
    >>> import simulators
    >>> 'outcome = "stab < 0"' in simulators.study_config("dsgc")
    True
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown simulator {name!r}; available: {available()}")
    path = Path(__file__).with_name("configs") / f"{name}.toml"
    return path.read_text() if path.exists() else None
