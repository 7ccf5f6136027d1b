"""Analytic test functions with known answers: cheap teachers and oracles for the other stages.

Each factory (``branin()``, ``hartmann6()``, ...) returns a vectorized
:class:`~surrogate.Simulator` with one output ``y``; parameter names, order and ranges follow the
Virtual Library of Simulation Experiments (VLSE, Surjanovic & Bingham) [1]_.

Oracle convention
-----------------
Known answers are module constants named ``<FUNCTION>_<QUANTITY>``:

* ``<F>_MINIMUM`` (float) and ``<F>_MINIMIZER`` (1-D array) or ``<F>_MINIMIZERS`` (2-D array,
  one row per global minimizer), in parameter order: branin, hartmann3, hartmann6.
* ``<F>_S1`` and ``<F>_ST`` (pandas Series indexed by parameter name): analytic first-order and
  total Sobol' indices for independent uniform inputs on the stated ranges: ishigami, sobol_g
  (for the default ``SOBOL_G_A``; :func:`sobol_g_indices` gives them for any ``a``).

Examples
--------
>>> from simulators import functions
>>> sim = functions.branin()
>>> y = sim(functions.BRANIN_MINIMIZERS)["y"]
>>> bool(abs(y - functions.BRANIN_MINIMUM).max() < 1e-5)
True
>>> functions.ISHIGAMI_S1.round(4).tolist()
[0.3139, 0.4424, 0.0]

References
----------
.. [1] S. Surjanovic, D. Bingham, "Virtual Library of Simulation Experiments: Test Functions
   and Datasets", https://www.sfu.ca/~ssurjano/, 2013.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulators._integrate import teacher_name
from surrogate.space import Real, Space
from surrogate.teacher import Simulator

__all__ = [
    "branin", "hartmann3", "hartmann6", "borehole", "ishigami", "wing_weight", "otl_circuit",
    "piston", "sobol_g", "sobol_g_indices",
    "BRANIN_MINIMUM", "BRANIN_MINIMIZERS", "HARTMANN3_MINIMUM", "HARTMANN3_MINIMIZER",
    "HARTMANN6_MINIMUM", "HARTMANN6_MINIMIZER", "ISHIGAMI_A", "ISHIGAMI_B", "ISHIGAMI_S1",
    "ISHIGAMI_ST", "SOBOL_G_A", "SOBOL_G_S1", "SOBOL_G_ST",
]


def _columns(X: pd.DataFrame, names: Sequence[str]) -> list[np.ndarray]:
    frame = pd.DataFrame(X)
    return [frame[name].to_numpy(dtype=float) for name in names]


# -- Branin -----------------------------------------------------------------------------------
BRANIN_MINIMUM = 5.0 / (4.0 * math.pi)  # = s t = 0.397887...
BRANIN_MINIMIZERS = np.array([[-math.pi, 12.275], [math.pi, 2.275], [3 * math.pi, 2.475]])


def _branin(X: pd.DataFrame) -> np.ndarray:
    x1, x2 = _columns(X, ["x1", "x2"])
    b, c, t = 5.1 / (4 * math.pi**2), 5.0 / math.pi, 1.0 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6.0) ** 2 + 10.0 * (1 - t) * np.cos(x1) + 10.0


def branin() -> Simulator:
    """Branin(-Hoo) function, 2-D, three global minima.

    ``y = (x2 - b x1^2 + c x1 - r)^2 + s (1 - t) cos(x1) + s`` with ``b = 5.1 / (4 pi^2)``,
    ``c = 5 / pi``, ``r = 6``, ``s = 10``, ``t = 1 / (8 pi)``; ``x1 in [-5, 10]``,
    ``x2 in [0, 15]``. Minimum ``5 / (4 pi) = 0.397887`` at ``(-pi, 12.275)``, ``(pi, 2.275)``,
    ``(3 pi, 2.475)`` (``BRANIN_MINIMUM``, ``BRANIN_MINIMIZERS``).

    Examples
    --------
    >>> round(float(branin()([[0.0, 0.0]])["y"].iloc[0]), 4)
    55.6021
    """
    space = Space([Real("x1", -5.0, 10.0), Real("x2", 0.0, 15.0)])
    return Simulator(_branin, space, ["y"], vectorized=True, name="branin")


# -- Hartmann ---------------------------------------------------------------------------------
_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_HARTMANN3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547],
                                [381, 5743, 8828]])
_HARTMANN6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                         [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_HARTMANN6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886],
                                [2329, 4135, 8307, 3736, 1004, 9991],
                                [2348, 1451, 3522, 2883, 3047, 6650],
                                [4047, 8828, 8732, 5743, 1091, 381]])
HARTMANN3_MINIMUM = -3.862779787332663
HARTMANN3_MINIMIZER = np.array([0.1145888812, 0.5556488955, 0.8525469842])
HARTMANN6_MINIMUM = -3.3223680114155147
HARTMANN6_MINIMIZER = np.array([0.2016895091, 0.1500106935, 0.4768739729, 0.2753324275,
                                0.3116516172, 0.6573005346])


def _hartmann(X: pd.DataFrame, *, a: np.ndarray, p: np.ndarray) -> np.ndarray:
    x = np.column_stack(_columns(X, [f"x{i}" for i in range(1, a.shape[1] + 1)]))  # (n, d)
    exponent = (a[None, :, :] * (x[:, None, :] - p[None, :, :]) ** 2).sum(axis=2)  # (n, 4)
    return -(_HARTMANN_ALPHA * np.exp(-exponent)).sum(axis=1)


def hartmann3() -> Simulator:
    """Hartmann 3-D function on ``[0, 1]^3``.

    ``y = -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2)`` with the VLSE constants;
    minimum -3.86278 near (0.1146, 0.5556, 0.8525) (``HARTMANN3_MINIMUM``,
    ``HARTMANN3_MINIMIZER``).

    Examples
    --------
    >>> round(float(hartmann3()([HARTMANN3_MINIMIZER])["y"].iloc[0]), 5)
    -3.86278
    """
    space = Space([Real(f"x{i}", 0.0, 1.0) for i in range(1, 4)])
    fn = functools.partial(_hartmann, a=_HARTMANN3_A, p=_HARTMANN3_P)
    return Simulator(fn, space, ["y"], vectorized=True, name="hartmann3")


def hartmann6() -> Simulator:
    """Hartmann 6-D function on ``[0, 1]^6``.

    ``y = -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2)`` with the VLSE constants;
    minimum -3.32237 at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)
    (``HARTMANN6_MINIMUM``, ``HARTMANN6_MINIMIZER``).

    Examples
    --------
    >>> round(float(hartmann6()([HARTMANN6_MINIMIZER])["y"].iloc[0]), 5)
    -3.32237
    """
    space = Space([Real(f"x{i}", 0.0, 1.0) for i in range(1, 7)])
    fn = functools.partial(_hartmann, a=_HARTMANN6_A, p=_HARTMANN6_P)
    return Simulator(fn, space, ["y"], vectorized=True, name="hartmann6")


# -- Borehole ---------------------------------------------------------------------------------
def _borehole(X: pd.DataFrame) -> np.ndarray:
    rw, r, tu, hu, tl, hl, length, kw = _columns(X, ["rw", "r", "Tu", "Hu", "Tl", "Hl", "L",
                                                     "Kw"])
    log_ratio = np.log(r / rw)
    return (2 * math.pi * tu * (hu - hl)
            / (log_ratio * (1 + 2 * length * tu / (log_ratio * rw**2 * kw) + tu / tl)))


def borehole() -> Simulator:
    """Borehole function: water flow through a borehole, m^3/year (8-D).

    ``y = 2 pi Tu (Hu - Hl) / (ln(r/rw) (1 + 2 L Tu / (ln(r/rw) rw^2 Kw) + Tu / Tl))`` with
    rw in [0.05, 0.15] m (borehole radius), r in [100, 50000] m (radius of influence),
    Tu in [63070, 115600] m^2/yr and Tl in [63.1, 116] m^2/yr (transmissivities of the upper
    and lower aquifers), Hu in [990, 1110] m and Hl in [700, 820] m (potentiometric heads),
    L in [1120, 1680] m (borehole length), Kw in [9855, 12045] m/yr (hydraulic conductivity).
    Harper & Gupta (1983); Morris, Mitchell & Ylvisaker (1993).

    Examples
    --------
    >>> point = [[0.10, 25050, 89335, 1050, 89.55, 760, 1400, 10950]]
    >>> round(float(borehole()(point)["y"].iloc[0]), 3)
    70.873
    """
    space = Space([
        Real("rw", 0.05, 0.15), Real("r", 100.0, 50000.0), Real("Tu", 63070.0, 115600.0),
        Real("Hu", 990.0, 1110.0), Real("Tl", 63.1, 116.0), Real("Hl", 700.0, 820.0),
        Real("L", 1120.0, 1680.0), Real("Kw", 9855.0, 12045.0),
    ])
    return Simulator(_borehole, space, ["y"], vectorized=True, name="borehole")


# -- Ishigami ---------------------------------------------------------------------------------
ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def _ishigami_indices(a: float, b: float) -> tuple[pd.Series, pd.Series]:
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * math.pi**8 / 225  # b^2 pi^8 (1/18 - 1/50)
    total = v1 + v2 + v13
    names = ["x1", "x2", "x3"]
    first = pd.Series([v1 / total, v2 / total, 0.0], index=names, name="S1")
    return first, pd.Series([(v1 + v13) / total, v2 / total, v13 / total], index=names, name="ST")


ISHIGAMI_S1, ISHIGAMI_ST = _ishigami_indices(ISHIGAMI_A, ISHIGAMI_B)


def _ishigami(X: pd.DataFrame) -> np.ndarray:
    x1, x2, x3 = _columns(X, ["x1", "x2", "x3"])
    return np.sin(x1) + ISHIGAMI_A * np.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * np.sin(x1)


def ishigami() -> Simulator:
    """Ishigami function, 3-D on ``[-pi, pi]^3``, with a = 7, b = 0.1.

    ``y = sin(x1) + a sin(x2)^2 + b x3^4 sin(x1)``. Analytic Sobol' indices
    (Ishigami & Homma 1990; Sobol' & Levitan 1999): ``S1 = (0.3139, 0.4424, 0)``,
    ``ST = (0.5576, 0.4424, 0.2437)`` (``ISHIGAMI_S1``, ``ISHIGAMI_ST``).

    Examples
    --------
    >>> round(float(ishigami()([[1.0, 2.0, 3.0]])["y"].iloc[0]), 4)
    13.4451
    """
    space = Space([Real(f"x{i}", -math.pi, math.pi) for i in range(1, 4)])
    return Simulator(_ishigami, space, ["y"], vectorized=True, name="ishigami")


# -- Wing weight ------------------------------------------------------------------------------
def _wing_weight(X: pd.DataFrame) -> np.ndarray:
    sw, wfw, aspect, sweep, q, taper, tc, nz, wdg, wp = _columns(
        X, ["Sw", "Wfw", "A", "Lambda", "q", "lam", "tc", "Nz", "Wdg", "Wp"])
    cos_sweep = np.cos(np.deg2rad(sweep))
    return (0.036 * sw**0.758 * wfw**0.0035 * (aspect / cos_sweep**2) ** 0.6 * q**0.006
            * taper**0.04 * (100 * tc / cos_sweep) ** -0.3 * (nz * wdg) ** 0.49 + sw * wp)


def wing_weight() -> Simulator:
    """Light aircraft wing weight, lb (10-D; Forrester, Sobester & Keane 2008).

    ``y = 0.036 Sw^0.758 Wfw^0.0035 (A / cos^2 Lambda)^0.6 q^0.006 lam^0.04
    (100 tc / cos Lambda)^-0.3 (Nz Wdg)^0.49 + Sw Wp`` with Sw in [150, 200] ft^2 (wing area),
    Wfw in [220, 300] lb (fuel weight), A in [6, 10] (aspect ratio), Lambda in [-10, 10]
    degrees (quarter-chord sweep), q in [16, 45] lb/ft^2 (dynamic pressure), lam in [0.5, 1]
    (taper ratio), tc in [0.08, 0.18] (thickness to chord), Nz in [2.5, 6] (load factor),
    Wdg in [1700, 2500] lb (design gross weight), Wp in [0.025, 0.08] lb/ft^2 (paint weight).

    Examples
    --------
    >>> point = [[175, 260, 8, 0, 30.5, 0.75, 0.13, 4.25, 2100, 0.0525]]
    >>> round(float(wing_weight()(point)["y"].iloc[0]), 3)
    267.625
    """
    space = Space([
        Real("Sw", 150.0, 200.0), Real("Wfw", 220.0, 300.0), Real("A", 6.0, 10.0),
        Real("Lambda", -10.0, 10.0), Real("q", 16.0, 45.0), Real("lam", 0.5, 1.0),
        Real("tc", 0.08, 0.18), Real("Nz", 2.5, 6.0), Real("Wdg", 1700.0, 2500.0),
        Real("Wp", 0.025, 0.08),
    ])
    return Simulator(_wing_weight, space, ["y"], vectorized=True, name="wing_weight")


# -- OTL circuit ------------------------------------------------------------------------------
def _otl_circuit(X: pd.DataFrame) -> np.ndarray:
    rb1, rb2, rf, rc1, rc2, beta = _columns(X, ["Rb1", "Rb2", "Rf", "Rc1", "Rc2", "beta"])
    vb1 = 12 * rb2 / (rb1 + rb2)
    gain = beta * (rc2 + 9)
    denominator = gain + rf
    return ((vb1 + 0.74) * gain / denominator + 11.35 * rf / denominator
            + 0.74 * rf * gain / (denominator * rc1))


def otl_circuit() -> Simulator:
    """Midpoint voltage of an output-transformerless push-pull circuit, volts (6-D).

    ``Vb1 = 12 Rb2 / (Rb1 + Rb2)``; ``y = (Vb1 + 0.74) beta (Rc2 + 9) / (beta (Rc2 + 9) + Rf)
    + 11.35 Rf / (beta (Rc2 + 9) + Rf) + 0.74 Rf beta (Rc2 + 9) / ((beta (Rc2 + 9) + Rf) Rc1)``
    with resistances (kOhm) Rb1 in [50, 150], Rb2 in [25, 70], Rf in [0.5, 3], Rc1 in [1.2, 2.5],
    Rc2 in [0.25, 1.2] and current gain beta in [50, 300] (Ben-Ari & Steinberg 2007).

    Examples
    --------
    >>> round(float(otl_circuit()([[100, 47.5, 1.75, 1.85, 0.725, 175]])["y"].iloc[0]), 4)
    5.3106
    """
    space = Space([
        Real("Rb1", 50.0, 150.0), Real("Rb2", 25.0, 70.0), Real("Rf", 0.5, 3.0),
        Real("Rc1", 1.2, 2.5), Real("Rc2", 0.25, 1.2), Real("beta", 50.0, 300.0),
    ])
    return Simulator(_otl_circuit, space, ["y"], vectorized=True, name="otl_circuit")


# -- Piston -----------------------------------------------------------------------------------
def _piston(X: pd.DataFrame) -> np.ndarray:
    mass, area, volume0, spring, pressure0, ambient, gas = _columns(
        X, ["M", "S", "V0", "k", "P0", "Ta", "T0"])
    a = pressure0 * area + 19.62 * mass - spring * volume0 / area
    volume = area / (2 * spring) * (np.sqrt(a**2 + 4 * spring * pressure0 * volume0 * ambient / gas)
                                    - a)
    return 2 * math.pi * np.sqrt(
        mass / (spring + area**2 * pressure0 * volume0 * ambient / (gas * volume**2)))


def piston() -> Simulator:
    """Cycle time of a piston in a cylinder, seconds (7-D; Kenett & Zacks 1998).

    ``A = P0 S + 19.62 M - k V0 / S``, ``V = S / (2k) (sqrt(A^2 + 4 k P0 V0 Ta / T0) - A)``,
    ``y = 2 pi sqrt(M / (k + S^2 P0 V0 Ta / (T0 V^2)))`` with M in [30, 60] kg (piston mass),
    S in [0.005, 0.020] m^2 (surface area), V0 in [0.002, 0.010] m^3 (initial gas volume),
    k in [1000, 5000] N/m (spring), P0 in [90000, 110000] N/m^2 (atmospheric pressure),
    Ta in [290, 296] K (ambient) and T0 in [340, 360] K (filling gas temperature).

    Examples
    --------
    >>> point = [[45, 0.0125, 0.006, 3000, 100000, 293, 350]]
    >>> round(float(piston()(point)["y"].iloc[0]), 4)
    0.4644
    """
    space = Space([
        Real("M", 30.0, 60.0), Real("S", 0.005, 0.020), Real("V0", 0.002, 0.010),
        Real("k", 1000.0, 5000.0), Real("P0", 90000.0, 110000.0), Real("Ta", 290.0, 296.0),
        Real("T0", 340.0, 360.0),
    ])
    return Simulator(_piston, space, ["y"], vectorized=True, name="piston")


# -- Sobol' G ---------------------------------------------------------------------------------
SOBOL_G_A = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)


def _check_sobol_a(a: Sequence[float]) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in a) if not isinstance(a, str | bytes) else ()
    except (TypeError, ValueError):  # not a sequence, or not of numbers
        values = ()
    if not values or not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"a must be a non-empty sequence of non-negative numbers, got {a!r}")
    return values


def sobol_g_indices(a: Sequence[float] = SOBOL_G_A) -> pd.DataFrame:
    """Analytic first-order and total Sobol' indices of the G function for coefficients ``a``.

    With ``V_i = 1 / (3 (1 + a_i)^2)`` and ``V = prod(1 + V_i) - 1``:
    ``S1_i = V_i / V`` and ``ST_i = V_i prod_{j != i} (1 + V_j) / V``.

    Returns
    -------
    pandas.DataFrame
        Index ``x1..xd``, columns ``S1`` and ``ST``.

    Examples
    --------
    >>> sobol_g_indices([0.0, 99.0]).round(4)["S1"].tolist()
    [0.9999, 0.0001]
    """
    a_values = np.array(_check_sobol_a(a))
    partial = 1.0 / (3.0 * (1.0 + a_values) ** 2)
    total = np.prod(1.0 + partial) - 1.0
    others = np.prod(1.0 + partial) / (1.0 + partial)
    names = [f"x{i}" for i in range(1, a_values.size + 1)]
    return pd.DataFrame({"S1": partial / total, "ST": partial * others / total}, index=names)


SOBOL_G_S1 = sobol_g_indices()["S1"]
SOBOL_G_ST = sobol_g_indices()["ST"]


def _sobol_g(X: pd.DataFrame, *, a: tuple[float, ...]) -> np.ndarray:
    x = np.column_stack(_columns(X, [f"x{i}" for i in range(1, len(a) + 1)]))
    coefficients = np.asarray(a)
    return np.prod((np.abs(4 * x - 2) + coefficients) / (1 + coefficients), axis=1)


def sobol_g(a: Sequence[float] = SOBOL_G_A) -> Simulator:
    """Sobol' G function on ``[0, 1]^d``, ``d = len(a)`` (default 8).

    ``y = prod_i (|4 x_i - 2| + a_i) / (1 + a_i)``; small ``a_i`` makes ``x_i`` important.
    Default ``a = (0, 1, 4.5, 9, 99, 99, 99, 99)`` (Saltelli & Sobol' 1995); analytic indices
    ``SOBOL_G_S1``/``SOBOL_G_ST`` (default ``a``) or :func:`sobol_g_indices`.

    Examples
    --------
    >>> round(float(sobol_g()([[0.5] * 8])["y"].iloc[0]), 6)  # |4 x - 2| = 0 kills the a=0 factor
    0.0
    """
    values = _check_sobol_a(a)
    space = Space([Real(f"x{i}", 0.0, 1.0) for i in range(1, len(values) + 1)])
    fn = functools.partial(_sobol_g, a=values)
    return Simulator(fn, space, ["y"], vectorized=True,
                     name=teacher_name("sobol_g", sobol_g, a=values))
