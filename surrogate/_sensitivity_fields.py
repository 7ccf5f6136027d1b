"""Sensitivity over time: Sobol' indices of a field output, per grid point and aggregated.

Part of the sensitivity stage (... -> models -> **sensitivity** -> plots) for field outputs:
:func:`surrogate.sensitivity.sobol_indices` hands a field target (a Simulator with
``output=FIELD``, or a fitted :class:`~surrogate.models.FieldGPRegressor`) to
:func:`field_sobol_indices`. One Saltelli design is evaluated once; every grid point's column of
trajectories is analysed with the estimators SALib uses (Saltelli et al. 2010 for S1, Jansen
for ST), vectorized over the grid, with SALib's bootstrap (the same resamples for every grid
point). The aggregated indices of Gamboa et al. (2014) weigh each grid point by its variance:
``S_i = sum_t V_t S_i(t) / sum_t V_t``, the share of the field's total variance due to input
``i``; their confidence intervals come from the same bootstrap resamples.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from SALib.sample import sobol as salib_sobol_sample
from scipy.stats import norm

from surrogate._fields import flat_points
from surrogate._random import SeedLike, as_generator, child_seed
from surrogate._scale import binary_exponent
from surrogate._target import (
    check_model_inputs,
    complete_runs,
    in_fitted_order,
    is_fitted_model,
    warn_if_extrapolating,
)
from surrogate.space import Space, as_space
from surrogate.teacher import Simulator

__all__ = ["field_sobol_indices", "is_field_target", "saltelli_field_indices"]

N_RESAMPLES = 100  # SALib's default number of bootstrap resamples
CONF_LEVEL = 0.95
_BLOCK_ELEMENTS = 4_000_000  # elements of one (N, resamples, grid points) bootstrap block




def is_field_target(target: Any, output: Any) -> bool:
    """Whether ``sobol_indices(target, output=output)`` asks for indices over a field."""
    if isinstance(target, Simulator):
        fields = list(target.fields)
        return output in fields or (output is None and not target.outputs and len(fields) == 1)
    return bool(getattr(target, "_field_model", False))


def check_scalar_output(target: Any, output: Any, caller: str) -> None:
    """For a Simulator with fields, when ``output`` names none of its scalar outputs: one
    error that names the outputs and the fields (the generic one offered outputs only, and
    "one of []" where the simulator has fields only)."""
    if not isinstance(target, Simulator) or not target.fields:
        return
    outputs = list(target.outputs)
    if (output is None and len(outputs) == 1) or output in outputs \
            or (isinstance(output, int | np.integer) and not isinstance(output, bool)
                and 0 <= output < len(outputs)):
        return
    fields = list(target.fields)
    wanted = "" if output is None else f"output={output!r} is none of them; "
    if not outputs:
        where = ("pass output= one of them for indices over time" if caller == "sobol_indices"
                 else "morris screens scalar outputs: use sobol_indices(output=...), which "
                 "gives indices over time")
        raise ValueError(f"{caller}: simulator {target.name!r} has no scalar outputs, only the "
                         f"fields {fields}; {wanted}{where}")
    over = (f"or, for indices over time, a field: one of {fields}" if caller == "sobol_indices"
            else f"its fields {fields} get indices over time from sobol_indices")
    raise ValueError(f"{caller}: simulator {target.name!r} has scalar outputs {outputs} and "
                     f"fields {fields}; {wanted}pass output= one of {outputs} ({over})")


def field_sobol_indices(target: Any, space: Space | None = None, *, n: int, output: Any = None,
                        seed: SeedLike = None, second_order: bool = False,
                        executor: Any = "serial", checkpoint: Any = None) -> pd.DataFrame:
    """Sobol' indices of a field at every grid point, and aggregated over the field.

    Called by :func:`surrogate.sensitivity.sobol_indices` (which checks ``n`` and the seed);
    see there for the design and the parameters.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``time``, ``parameter``): one row per grid point and parameter, columns
        ``S1, S1_conf, ST, ST_conf``; NaN at grid points where the trajectories spread less
        than 1e-9 of the field's widest spread, or than roundoff of its largest value (no
        variance to share that is not rounding or negligible: a field that grows by twelve
        orders of magnitude is NaN at its early points). ``attrs["aggregated"]`` is a
        DataFrame indexed by parameter with the same columns: the generalized
        (variance-weighted) indices over the whole field.
        ``attrs["variance"]`` holds the field's variance at each grid point (the weights);
        ``attrs`` also holds ``field``, ``n``, ``n_evaluations`` and ``conf_level``.

    References
    ----------
    .. [1] Gamboa, F., Janon, A., Klein, T., Lagnoux, A. (2014). Sensitivity analysis for
       multidimensional and functional outputs. Electronic Journal of Statistics 8, 575-603.
    .. [2] Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S.
       (2010). Variance based sensitivity analysis of model output. Computer Physics
       Communications 181(2), 259-270.

    Examples
    --------
    >>> import numpy as np
    >>> from surrogate.space import Real, Space
    >>> times = np.linspace(0.5, 3.0, 6)
    >>> def trajectory(X):  # y(t) = a t + b: a matters more as t grows
    ...     return np.outer(X["a"], times) + X["b"].to_numpy()[:, None]
    >>> sim = Simulator(trajectory, Space([Real("a", 0, 1), Real("b", 0, 1)]),
    ...                 fields={"y": times}, vectorized=True)
    >>> indices = field_sobol_indices(sim, n=256, output="y", seed=0)
    >>> indices.loc[(3.0, "a"), "S1"].round(1), indices.attrs["aggregated"].index.tolist()
    (np.float64(0.9), ['a', 'b'])
    """
    if second_order:
        raise ValueError("second_order=True is not available for a field output; the indices "
                         "per grid point are first and total order")
    space, grid, name, evaluate = _field_evaluator(target, space, output, executor, checkpoint)
    rng = as_generator(seed)
    problem = {"num_vars": space.dim, "names": space.names, "bounds": [[0.0, 1.0]] * space.dim}
    unit = salib_sobol_sample.sample(problem, n, calc_second_order=False, seed=child_seed(rng))
    trajectories = evaluate(space.from_unit(unit))
    if trajectories.shape != (len(unit), len(grid)):  # pragma: no cover - guarded above
        raise RuntimeError(f"expected trajectories of shape {(len(unit), len(grid))}, got "
                           f"{trajectories.shape}")
    # SALib treats seed=0 as "no seed": keep the bootstrap seed positive
    indices = saltelli_field_indices(trajectories, space.dim, seed=child_seed(rng) + 1)
    index = pd.MultiIndex.from_product([grid, space.names], names=["time", "parameter"])
    result = pd.DataFrame({key: indices[key].T.reshape(-1)
                           for key in ("S1", "S1_conf", "ST", "ST_conf")}, index=index)
    result.attrs.update(
        field=name, n=n, n_evaluations=len(unit), conf_level=CONF_LEVEL,
        aggregated=pd.DataFrame({key: indices[f"{key}_aggregated"]
                                 for key in ("S1", "S1_conf", "ST", "ST_conf")},
                                index=pd.Index(space.names, name="parameter")),
        variance=pd.Series(indices["variance"], index=pd.Index(grid, name="time"),
                           name="variance"))
    return result


def _field_evaluator(target: Any, space: Space | None, output: Any, executor: Any,
                     checkpoint: Any) -> tuple[Space, np.ndarray, str | None, Any]:
    """The space, grid, field name and ``evaluate(design) -> (n, T)`` of a field target."""
    if isinstance(target, Simulator):
        if space is not None and as_space(space) != target.space:
            raise ValueError("space= differs from the simulator's own space; leave it out")
        name = output if output is not None else next(iter(target.fields))
        return target.space, target.fields[name], name, _simulator_field(
            target, name, executor, checkpoint)
    if not is_fitted_model(target):
        raise ValueError(f"target is an unfitted {type(target).__name__}; call fit() first")
    if executor != "serial" or checkpoint is not None:
        raise ValueError("executor= and checkpoint= apply to a Simulator target only; got a "
                         f"{type(target).__name__}")
    if space is None:
        raise ValueError("space= is required when the target is a fitted model")
    field = getattr(target, "field_", None)
    if output is not None and output != field:
        raise ValueError(f"output={output!r} is not the field of this {type(target).__name__} "
                         f"(it models {field!r}); leave output out or pass {field!r}")
    space = as_space(space)
    check_model_inputs(target, space)
    warn_if_extrapolating(target, space, "sobol_indices")

    def predict(design: pd.DataFrame) -> np.ndarray:
        return np.asarray(target.predict(in_fitted_order(target, design)),
                          dtype=float).reshape(len(design), -1)

    return space, np.asarray(target.grid_, dtype=float), field, predict


def _simulator_field(simulator: Simulator, name: str, executor: Any, checkpoint: Any) -> Any:
    def run(design: pd.DataFrame) -> np.ndarray:
        runs = complete_runs(simulator, design, executor=executor, checkpoint=checkpoint,
                             caller="sobol_indices", instead="a FieldGPRegressor")
        return runs.field(name).to_numpy(dtype=float)

    return run


def saltelli_field_indices(trajectories: np.ndarray, d: int, *, seed: int,
                           num_resamples: int = N_RESAMPLES) -> dict[str, np.ndarray]:
    """S1, ST and their bootstrap half-widths at every grid point, and aggregated.

    ``trajectories`` (N (d + 2), T) are the outputs on SALib's Saltelli design without second
    order (rows in blocks ``A, AB_1 .. AB_d, B``). The estimators and the bootstrap are SALib's
    (``SALib.analyze.sobol``: the resamples ``default_rng(seed).integers(N, size=(N, R))``), so
    each grid point gets SALib's numbers; here they run on all grid points at once. Returns
    ``S1, S1_conf, ST, ST_conf`` of shape (d, T), the same keys with ``_aggregated`` of shape
    (d,), and ``variance`` (T,).
    """
    step = d + 2
    # centred per grid point, as SALib centres each output: the S1 estimator mean(B (AB - A))
    # is not invariant to a shift of the output in a finite sample
    magnitude = float(np.abs(trajectories).max()) if trajectories.size else 0.0
    # scaled by a power of two (exact: the same indices) so that the squares neither underflow
    # (a field of 1e-300 gave NaN indices) nor overflow (past 1e154)
    exponent = binary_exponent(magnitude)
    magnitude = float(np.ldexp(magnitude, -exponent))
    trajectories = np.ldexp(trajectories, -exponent)
    trajectories = trajectories - trajectories.mean(axis=0)
    A, B = trajectories[0::step], trajectories[step - 1::step]  # (N, T)
    AB = np.stack([trajectories[j + 1::step] for j in range(d)])  # (d, N, T)
    variance = np.var(np.r_[A, B], axis=0)  # (T,)
    flat = flat_points(np.ptp(np.r_[A, B], axis=0), magnitude)
    weight = np.where(flat, 0.0, variance)
    first = np.mean(B * (AB - A), axis=1)  # (d, T) numerators
    total = 0.5 * np.mean((A - AB) ** 2, axis=1)
    out = {"variance": np.ldexp(variance, 2 * exponent)}  # in the field's own units
    with np.errstate(divide="ignore", invalid="ignore"):
        out["S1"] = np.where(flat, np.nan, first / variance)
        out["ST"] = np.where(flat, np.nan, total / variance)
    if flat.all():  # as for a constant scalar output: nothing to share out, all zeros
        warnings.warn("the field is the same in every run at every grid point: no variance "
                      "to attribute; its indices are 0", UserWarning, stacklevel=4)
        zeros = np.zeros(d)
        return {**out, "S1_aggregated": zeros, "ST_aggregated": zeros,
                "S1_conf": np.full((d, A.shape[1]), np.nan), "ST_conf":
                np.full((d, A.shape[1]), np.nan), "S1_conf_aggregated": zeros,
                "ST_conf_aggregated": zeros}
    out["S1_aggregated"] = first[:, ~flat].sum(axis=1) / weight.sum()
    out["ST_aggregated"] = total[:, ~flat].sum(axis=1) / weight.sum()
    out.update(_bootstrap(A, B, AB, flat, seed, num_resamples))
    return out


def _bootstrap(A: np.ndarray, B: np.ndarray, AB: np.ndarray, flat: np.ndarray, seed: int,
               num_resamples: int) -> dict[str, np.ndarray]:
    """Half-widths of the 95 % bootstrap intervals, per grid point and aggregated.

    The grid is processed in blocks of columns so that a (N, resamples, columns) array stays
    small; sums over the grid of the resampled numerators and variances give the aggregated
    indices of each resample.
    """
    n, T = A.shape
    d = len(AB)
    r = np.random.default_rng(seed).integers(n, size=(n, num_resamples))
    z = norm.ppf(0.5 + CONF_LEVEL / 2)
    s1_conf, st_conf = np.full((d, T), np.nan), np.full((d, T), np.nan)
    sums = {"S1": np.zeros((d, num_resamples)), "ST": np.zeros((d, num_resamples)),
            "V": np.zeros(num_resamples)}
    width = max(1, _BLOCK_ELEMENTS // (n * num_resamples))
    columns = np.flatnonzero(~flat)
    for start in range(0, len(columns), width):
        block = columns[start:start + width]
        Ar, Br = A[:, block][r], B[:, block][r]  # (N, R, c)
        variance = np.var(np.r_[Ar, Br], axis=0)  # (R, c)
        sums["V"] += variance.sum(axis=1)
        for j in range(d):
            ABr = AB[j][:, block][r]
            first = np.mean(Br * (ABr - Ar), axis=0)  # (R, c)
            total = 0.5 * np.mean((Ar - ABr) ** 2, axis=0)
            sums["S1"][j] += first.sum(axis=1)
            sums["ST"][j] += total.sum(axis=1)
            with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                s1_conf[j, block] = z * np.std(first / variance, axis=0, ddof=1)
                st_conf[j, block] = z * np.std(total / variance, axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        aggregated = {key: z * np.std(sums[key] / sums["V"], axis=1, ddof=1)
                      for key in ("S1", "ST")}
    return {"S1_conf": s1_conf, "ST_conf": st_conf,
            "S1_conf_aggregated": aggregated["S1"], "ST_conf_aggregated": aggregated["ST"]}
