"""Global sensitivity analysis: a use of the pipeline (... -> models -> **sensitivity** -> plots).

Which inputs matter? :func:`sobol_indices` estimates variance-based (Sobol') indices and
:func:`morris` screens inputs by elementary effects. Both draw their design with SALib in the unit
cube (SALib's problem has ``[0, 1]`` bounds), decode it with :meth:`surrogate.Space.from_unit` --
so log-scale reals, integers and categories follow the space's own conventions -- evaluate any
*target* (a :class:`~surrogate.Simulator` through the executors, optionally checkpointed; a fitted
surrogate or a plain callable through :func:`surrogate._target.as_batch_function`) and analyse
the outputs with SALib.

Surrogate uncertainty
---------------------
A fitted Gaussian process is a distribution over functions. Drawing functions from it and
computing the indices of each shows how far the teacher runs pin the indices down, which the Monte
Carlo confidence intervals of the posterior mean cannot tell (Marrel et al. 2009 do the same with
conditional simulations).

Each function must be evaluated jointly: the same function at every point of one Saltelli
design. The draws come from the model's public ``sample_posterior(X, n_samples, seed=)`` (exact
joint Gaussian draws), whose cost is cubic in the number of points; the design is therefore kept
to at most :data:`MAX_JOINT_POINTS` points. On such a design each function's indices also carry
the Monte Carlo error of the design, and the part of that error that differs between functions
adds to their spread: the reported spread errs on the high side (measured on Ishigami with a GP
fitted to 200 runs: about 2x the spread on a 4x larger design at 256 base samples, 1.3x at 512).
The spread is only as honest as the GP's posterior, whose hyperparameters are plugged in: in
``benchmarks/sensitivity.py`` the truth lay within two combined standard deviations
(``sqrt(gp_std^2 + (conf / 1.96)^2)``) for 60-87 % of Ishigami's indices with 50-100 teacher runs
(over-confident), for all of them from 200 runs on, and for 87-99 % of borehole's.

Alternatives tried: random-Fourier-feature (pathwise, Matheron's rule) samples reach any design
size, but with features shared by the samples they biased the small posterior variance of a
well-trained GP (pointwise std 0.3-0.8 of the exact one), and with 1,024 features per sample they
inflated the spread of a Matérn GP's indices 1.5-3x at a cost comparable to the exact draw.
Drawing in independent batches breaks the joint structure the pick-freeze estimators rely on.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as salib_morris_analyze
from SALib.analyze import sobol as salib_sobol_analyze
from SALib.sample import morris as salib_morris_sample
from SALib.sample import sobol as salib_sobol_sample

from surrogate._checks import check_checkpoint_seed, check_flag, is_int
from surrogate._fields import flat_points
from surrogate._random import SeedLike, as_generator, child_seed
from surrogate._scale import binary_exponent
from surrogate._sensitivity_fields import (
    CONF_LEVEL,
    check_scalar_output,
    field_sobol_indices,
    is_field_target,
    saltelli_field_indices,
)
from surrogate._target import (
    _output_index,
    as_batch_function,
    complete_runs,
    in_fitted_order,
    is_fitted_model,
    warn_if_extrapolating,
)
from surrogate.space import Categorical, Integer, Space
from surrogate.teacher import Simulator

__all__ = ["sobol_indices", "morris", "MIN_SOBOL_N", "MAX_JOINT_POINTS"]

#: Smallest number of base samples :func:`sobol_indices` accepts (below it the bootstrap
#: confidence intervals of SALib are meaningless).
MIN_SOBOL_N = 16
#: Largest design on which posterior functions are drawn jointly (an exact joint draw
#: factorizes a matrix of this size).
MAX_JOINT_POINTS = 2_048
_MIN_POSTERIOR_N = 32  # base samples of the posterior design, whatever the dimension
_DEFAULT_POSTERIOR_SAMPLES = 64
_CONF_LEVEL = CONF_LEVEL  # 0.95

#: ``evaluate(design, caller) -> y`` of shape (n,); ``caller`` names the function in errors.
Evaluate = Callable[[pd.DataFrame, str], np.ndarray]


# -- public functions ----------------------------------------------------------------------------
def _flat(y: np.ndarray) -> bool:
    """Whether a scalar output's spread over a sample is nil or roundoff of its magnitude (the
    test :func:`~surrogate._fields.flat_points` makes of each grid point of a field)."""
    y = np.asarray(y, dtype=float)
    magnitude = float(np.abs(y).max()) if y.size else 0.0
    return bool(flat_points(np.atleast_1d(np.ptp(y) if y.size else 0.0), magnitude)[0])


def _analyze(problem: dict[str, Any], y: np.ndarray, second_order: bool, seed: int
             ) -> dict[str, Any]:
    """SALib's Sobol' analysis of ``y`` on its Saltelli design: its own ``analyze`` with second
    order (or an output that does not vary), else the same estimators and bootstrap resamples
    vectorized over the resamples (the same numbers to 1e-15; 7x faster with 65,536 base
    points, where SALib's loop over 100 resamples took most of a surrogate's analysis)."""
    d = problem["num_vars"]
    y = np.asarray(y, dtype=float)
    if second_order or _flat(y):  # the indices are ratios: y rescaled by a power of two
        # (exactly), else outputs of 1e-170 or 1e155 gave all-zero indices
        return salib_sobol_analyze.analyze(problem, np.ldexp(y, -binary_exponent(y)),
                                           calc_second_order=second_order,
                                           conf_level=_CONF_LEVEL, seed=seed)
    out = saltelli_field_indices(y[:, None], d, seed=seed)
    return {key: out[key][:, 0] for key in ("S1", "S1_conf", "ST", "ST_conf")}


def sobol_indices(
    target: Any,
    space: Space | None = None,
    *,
    n: int = 1024,
    output: str | int | None = None,
    seed: SeedLike = None,
    second_order: bool = False,
    posterior_samples: int | None = None,
    executor: Any = "serial",
    checkpoint: Any = None,
) -> pd.DataFrame:
    """First-order and total Sobol' indices of a target, with confidence intervals.

    A Saltelli design of ``n`` base samples (Sobol' sequence, ``n (d + 2)`` points, or
    ``n (2 d + 2)`` with ``second_order``) is drawn by SALib in the unit cube, decoded with
    :meth:`Space.from_unit`, evaluated on the target and analysed by SALib (Saltelli et al. 2010
    estimators; bootstrap confidence intervals at 95 %).

    The indices refer to independent inputs, each uniform on its range: real parameters on
    ``[low, high]`` (log-scale ones uniform in the logarithm), integer parameters uniform on their
    levels, categorical parameters uniform on their categories (variance-based indices need no
    order, so categorical inputs are handled). A fitted surrogate receives the design as the
    space defines it -- categories as the categories themselves, as ``sg.sample`` makes them --
    so one fitted on such a design (every model of :mod:`surrogate.models` takes categorical
    columns) is evaluated as it was trained; a category it never saw is its clear error.

    Parameters
    ----------
    target : Simulator, fitted surrogate or callable
        A :class:`~surrogate.Simulator` (run through ``executor``; every run must succeed), a
        fitted model with ``predict`` (``space`` required; a ``UserWarning`` names the
        parameters whose range in ``space`` reaches beyond the model's training data, where
        the surrogate extrapolates), or a function taking one point as a dict of parameter
        values and returning a float (``space`` required).
    space : Space, optional
        Required unless ``target`` is a Simulator.
    n : int, default 1024
        Base samples; a power of two (others are rounded up, with a warning), at least
        :data:`MIN_SOBOL_N`. The target is evaluated ``n (d + 2)`` times.
    output : str or int, optional
        Which output, for a target with several. A field of a Simulator (or a fitted
        :class:`~surrogate.models.FieldGPRegressor` as target) gives indices over time: a
        DataFrame indexed by (``time``, ``parameter``) with ``attrs["aggregated"]``, the
        generalized indices over the whole field (see
        :func:`surrogate._sensitivity_fields.field_sobol_indices`).
    seed : int, numpy.random.Generator or None
        Seeds the design, the bootstrap and the posterior draws.
    second_order : bool, default False
        Also estimate the second-order indices (needs at least two parameters; doubles the
        cost). They are stored in ``result.attrs["S2"]`` and ``result.attrs["S2_conf"]`` as dicts
        ``{(name_i, name_j): value}`` for every pair in space order
        (``pd.Series(result.attrs["S2"]).unstack()`` gives the matrix).
    posterior_samples : int, optional
        Posterior functions to draw from a surrogate that has ``sample_posterior`` (default 64;
        0 turns the draw off). Ignored for other targets; refused for a field output.
    executor : {"serial", "processes", "dask"} or Executor, default "serial"
        Where a Simulator's runs execute (see :meth:`Simulator.run`).
    checkpoint : path, optional
        A Simulator's runs are appended there as they finish; calling again with the same
        ``seed`` (an int) resumes.

    Returns
    -------
    pandas.DataFrame
        Index: parameter names. Columns ``S1, S1_conf, ST, ST_conf`` (``*_conf``: half-width of the
        95 % bootstrap interval). For a surrogate with ``sample_posterior`` also ``S1_gp_std,
        ST_gp_std``: the standard deviation of the indices over posterior functions (see Notes).
        ``attrs`` holds ``n`` (base samples used), ``n_evaluations``, ``conf_level`` and, when
        asked, ``S2``, ``S2_conf`` (and ``S2_gp_std``).

    Notes
    -----
    *Surrogate uncertainty.* The indices are those of the posterior mean; ``*_gp_std`` is the
    standard deviation of the indices of ``posterior_samples`` functions drawn jointly from the
    posterior (``model.sample_posterior``) on one common Saltelli design. An exact joint draw over
    the full design (``n (d + 2)`` points) would cost a cubic factorisation, so that design is
    smaller: the largest power of two ``n_post <= n`` base samples with at most 2,048 points (at
    least 32 base samples; ``attrs["posterior_n"]``). On it, each function's indices also carry
    some Monte Carlo error that does not cancel between functions, so the spread errs on the high
    side of the GP's own posterior (which may itself be over-confident with few runs). It measures what the teacher runs leave unknown, not the sampling error of the
    estimators (that is ``*_conf``): more teacher runs shrink the first, a larger ``n`` the second.
    The module docstring gives the measured bias and the alternatives that were tried.

    References
    ----------
    .. [1] Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010).
       Variance based sensitivity analysis of model output. Design and estimator for the total
       sensitivity index. Computer Physics Communications 181(2), 259-270.
    .. [2] Marrel, A., Iooss, B., Laurent, B., Roustant, O. (2009). Calculations of Sobol indices
       for the Gaussian process metamodel. Reliability Engineering & System Safety 94(3), 742-751.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", 0, 1), Real("y", 0, 1)])
    >>> indices = sobol_indices(lambda p: p["x"] + 0.1 * p["y"], space, n=256, seed=0)
    >>> indices["S1"].round(2).tolist()
    [0.99, 0.01]
    """
    options = _check_sobol_options(n, second_order, posterior_samples, checkpoint, seed)
    if is_field_target(target, output):  # a trajectory: indices per grid point and aggregated
        if posterior_samples:
            raise ValueError("posterior_samples is not available for a field output: its "
                             "indices per grid point are those of the posterior mean; leave "
                             "posterior_samples out")
        return field_sobol_indices(target, space, n=options["n"], output=output, seed=seed,
                                   second_order=second_order, executor=executor,
                                   checkpoint=checkpoint)
    check_scalar_output(target, output, "sobol_indices")
    space, evaluate, model = _target_evaluator(target, space, output, executor, checkpoint)
    if model is not None:
        warn_if_extrapolating(model, space, "sobol_indices")
    n = options["n"]
    if second_order and space.dim < 2:
        raise ValueError(f"second_order=True needs at least 2 parameters; the space has "
                         f"{space.dim} ({space.names})")
    rng = as_generator(seed)
    problem = _unit_problem(space)
    unit = salib_sobol_sample.sample(problem, n, calc_second_order=second_order,
                                     seed=child_seed(rng))
    y = evaluate(space.from_unit(unit), "sobol_indices")
    constant = _flat(y)
    if constant:
        warnings.warn("sobol_indices: the output does not vary over the sample (beyond "
                      "roundoff): no input moves it, and every index is 0", UserWarning,
                      stacklevel=2)
    # SALib treats seed=0 as "no seed": keep the bootstrap seed positive
    with np.errstate(invalid="ignore", divide="ignore") if constant else nullcontext():
        analysis = _analyze(problem, y, second_order, child_seed(rng) + 1)
    result = pd.DataFrame(
        {key: np.asarray(analysis[key], dtype=float) for key in ("S1", "S1_conf", "ST", "ST_conf")},
        index=pd.Index(space.names, name="parameter"),
    )
    if constant:  # no input moves the output: every index 0 (SALib's 0/0 arithmetic aside)
        result.loc[:, :] = 0.0
        if second_order:
            analysis["S2"] = np.zeros_like(np.asarray(analysis["S2"], dtype=float))
            analysis["S2_conf"] = np.zeros_like(np.asarray(analysis["S2_conf"], dtype=float))
    result.attrs.update(n=n, n_evaluations=len(unit), conf_level=_CONF_LEVEL)
    if second_order:
        result.attrs["S2"] = _pairs(space, analysis["S2"])
        result.attrs["S2_conf"] = _pairs(space, analysis["S2_conf"])
    samples = options["posterior_samples"]
    if model is not None and hasattr(model, "sample_posterior") and samples != 0:
        samples = samples or _DEFAULT_POSTERIOR_SAMPLES
        spread = _posterior_spread(model, space, output, n, second_order, samples, rng)
        result["S1_gp_std"] = spread["S1"]
        result["ST_gp_std"] = spread["ST"]
        result.attrs.update(posterior_samples=samples, posterior_n=spread["n"])
        if second_order:
            result.attrs["S2_gp_std"] = _pairs(space, spread["S2"])
    return result


def _check_sobol_options(n: Any, second_order: Any, posterior_samples: Any, checkpoint: Any,
                         seed: Any) -> dict[str, Any]:
    if not is_int(n):
        raise TypeError(f"n must be an int (base samples), got {n!r}")
    if n < MIN_SOBOL_N:
        raise ValueError(f"n must be >= {MIN_SOBOL_N} base samples (a power of two such as 1024), "
                         f"got {n}")
    power = 1 << (int(n) - 1).bit_length()
    if power != n:
        warnings.warn(f"n={n} is not a power of two, which breaks the balance of the Sobol' "
                      f"sequence; using n={power}", UserWarning, stacklevel=3)
    check_flag("second_order", second_order)
    if posterior_samples is not None and (not is_int(posterior_samples)
                                          or posterior_samples < 0
                                          or posterior_samples == 1):
        raise ValueError("posterior_samples must be None, 0 (off) or an int >= 2, got "
                         f"{posterior_samples!r}")
    check_checkpoint_seed(checkpoint, seed)
    return {"n": power, "posterior_samples": posterior_samples}


def _pairs(space: Space, matrix: np.ndarray) -> dict[tuple[str, str], float]:
    names = space.names
    return {(names[i], names[j]): float(matrix[i, j])
            for i in range(space.dim) for j in range(i + 1, space.dim)}


def morris(
    target: Any,
    space: Space | None = None,
    *,
    trajectories: int = 20,
    levels: int = 4,
    seed: SeedLike = None,
    output: str | int | None = None,
    executor: Any = "serial",
    checkpoint: Any = None,
) -> pd.DataFrame:
    """Morris screening: elementary effects of each input along random one-at-a-time trajectories.

    SALib draws ``trajectories`` trajectories of ``d + 1`` points on a ``levels``-level grid of the
    unit cube (Morris 1991); they are decoded with :meth:`Space.from_unit`, evaluated on the
    target and analysed by SALib (``mu_star`` of Campolongo et al. 2007).

    Effects are measured per whole range of each input (the unit cube's scale): an input whose
    full range moves the output by 1 has ``mu_star`` 1, whatever its units, so the inputs compare
    directly. Log-scale reals are stepped in the logarithm. Integer parameters are stepped to the
    level whose cell holds the grid point, so the step actually taken can differ from the grid's
    (with ``levels=4`` the grid steps 2/3 of the range, an integer of two levels its whole
    range): each integer's effect is the output's change over the step it took, as a share
    of its range, so that it too reads per whole range. Categorical parameters
    have no order, hence no elementary effect: they are refused (use
    :func:`~surrogate.sensitivity.sobol_indices`, which handles them).

    Parameters
    ----------
    target : Simulator, fitted surrogate or callable
        A :class:`~surrogate.Simulator` (run through ``executor``; every run must succeed), a
        fitted model with ``predict`` (``space`` required; a ``UserWarning`` names the
        parameters whose range in ``space`` reaches beyond the model's training data, where
        the surrogate extrapolates), or a function taking one point as a dict of parameter
        values and returning a float (``space`` required).
    space : Space, optional
        Required unless ``target`` is a Simulator.
    trajectories : int, default 20
        Number of trajectories (at least 2); the target is evaluated ``trajectories (d + 1)``
        times.
    levels : int, default 4
        Grid levels per input; even, at least 2.
    seed : int, numpy.random.Generator or None
        Seeds the trajectories and the bootstrap.
    output : str or int, optional
        Which output, for a target with several.
    executor : {"serial", "processes", "dask"} or Executor, default "serial"
        Where a Simulator's runs execute (see :meth:`Simulator.run`).
    checkpoint : path, optional
        A Simulator's runs are appended there as they finish; calling again with the same
        ``seed`` (an int) resumes.

    Returns
    -------
    pandas.DataFrame
        Index: parameter names. Columns ``mu_star`` (mean absolute elementary effect),
        ``mu_star_conf`` (half-width of its 95 % bootstrap interval), ``sigma`` (standard deviation
        of the effects: interactions and non-linearity) and ``mu`` (their signed mean).
        ``attrs["n_evaluations"]`` counts the target calls.

    References
    ----------
    .. [1] Morris, M. D. (1991). Factorial sampling plans for preliminary computational
       experiments. Technometrics 33(2), 161-174.
    .. [2] Campolongo, F., Cariboni, J., Saltelli, A. (2007). An effective screening design for
       sensitivity analysis of large models. Environmental Modelling & Software 22(10), 1509-1518.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", 0, 2), Real("unused", 0, 1)])
    >>> effects = morris(lambda p: 3 * p["x"], space, trajectories=10, seed=0)
    >>> effects["mu_star"].round(6).tolist()
    [6.0, 0.0]
    """
    _check_morris_options(trajectories, levels, checkpoint, seed)
    if is_field_target(target, output):
        raise ValueError("morris screens scalar outputs; this target's output is a field (a "
                         "trajectory): use sobol_indices, which gives indices per grid point "
                         "and over the whole field, or a scalar summary of the field")
    check_scalar_output(target, output, "morris")
    space, evaluate, model = _target_evaluator(target, space, output, executor, checkpoint)
    if model is not None:
        warn_if_extrapolating(model, space, "morris")
    categorical = [p.name for p in space if isinstance(p, Categorical)]
    if categorical:
        raise ValueError(f"morris cannot screen categorical parameter(s) {categorical}: they have "
                         "no order, hence no elementary effect; use sobol_indices instead")
    rng = as_generator(seed)
    problem = _unit_problem(space)
    unit = salib_morris_sample.sample(problem, trajectories, num_levels=levels,
                                      seed=child_seed(rng))
    points = space.from_unit(unit)
    y = _integer_steps_rescaled(space, unit, points, evaluate(points, "morris"), levels)
    # computed on y rescaled by a power of two and scaled back, exactly: sigma of outputs of
    # 1e-170 underflowed to 0, of 1e155 overflowed to inf
    exponent = binary_exponent(y)
    analysis = salib_morris_analyze.analyze(problem, unit, np.ldexp(y, -exponent),
                                            conf_level=_CONF_LEVEL, num_levels=levels,
                                            seed=child_seed(rng))
    result = pd.DataFrame(
        {key: np.ldexp(np.asarray(analysis[key], dtype=float), exponent)
         for key in ("mu_star", "mu_star_conf", "sigma", "mu")},
        index=pd.Index(space.names, name="parameter"),
    )
    result.attrs.update(n_evaluations=len(unit), conf_level=_CONF_LEVEL)
    return result


def _integer_steps_rescaled(space: Space, unit: np.ndarray, points: pd.DataFrame, y: np.ndarray,
                            levels: int) -> np.ndarray:
    """``y`` (trajectories x (d + 1),) with each step along an Integer parameter scaled by the
    grid's step over the step the integer took (as a share of its range): SALib divides every
    output change by the grid's step, which for an integer of two levels is 2/3 of the range
    it crossed whole (its ``mu_star`` read 1.5 for an output that its range moves by 1)."""
    integers = [(j, p) for j, p in enumerate(space) if isinstance(p, Integer)]
    y = np.asarray(y, dtype=float)
    if not integers:
        return y
    d = space.dim
    grid_step = levels / (2.0 * (levels - 1))  # SALib's delta
    runs = y.reshape(-1, d + 1)
    moved = np.argmax(np.abs(np.diff(unit.reshape(-1, d + 1, d), axis=1)), axis=2)  # (r, d)
    factor = np.ones(moved.shape)
    for j, parameter in integers:
        share = (points[parameter.name].to_numpy(dtype=float) - parameter.low) \
            / (parameter.high - parameter.low)
        taken = np.abs(np.diff(share.reshape(-1, d + 1), axis=1))  # never 0: the grid's step
        along = moved == j  # exceeds 1/2, an integer's cell is at most 1/2 wide
        factor[along] = grid_step / taken[along]
    steps = np.diff(runs, axis=1) * factor
    return np.concatenate([runs[:, :1], runs[:, :1] + np.cumsum(steps, axis=1)], axis=1).ravel()


def _check_morris_options(trajectories: Any, levels: Any, checkpoint: Any, seed: Any) -> None:
    if not is_int(trajectories) or trajectories < 2:
        raise ValueError(f"trajectories must be an int >= 2, got {trajectories!r}")
    if not is_int(levels) or levels < 2 or levels % 2:
        raise ValueError(f"levels must be an even int >= 2 (grid levels per input), got {levels!r}")
    check_checkpoint_seed(checkpoint, seed)


# -- evaluation and shared checks ---------------------------------------------------------------
def _unit_problem(space: Space) -> dict[str, Any]:
    """SALib's problem in the unit cube; ``from_unit`` decodes (log, integer, categorical)."""
    return {"num_vars": space.dim, "names": space.names, "bounds": [[0.0, 1.0]] * space.dim}


def _output_column(model: Any, output: Any, n_outputs: int) -> int:
    """Index of ``output`` among a model's outputs (by name when it has ``outputs_``)."""
    names = getattr(model, "outputs_", None)
    names = list(names) if names is not None else None
    return _output_index(names, output, n_outputs, type(model).__name__)


def _target_evaluator(target: Any, space: Space | None, output: Any, executor: Any,
                     checkpoint: Any) -> tuple[Space, Evaluate, Any]:
    """The space, ``evaluate(design, caller)`` and the model (None unless a fitted model)."""
    if hasattr(target, "predict") and not isinstance(target, Simulator) \
            and not is_fitted_model(target):
        raise ValueError(f"target is an unfitted {type(target).__name__}; call fit() first")
    space, function = as_batch_function(target, space, output)
    if isinstance(target, Simulator):
        column = target.outputs[_output_index(list(target.outputs), output, len(target.outputs),
                                              f"simulator {target.name!r}")]
        return space, _simulator_runs(target, column, executor, checkpoint), None
    if executor != "serial" or checkpoint is not None:
        raise ValueError("executor= and checkpoint= apply to a Simulator target only; got a "
                         f"{type(target).__name__}")

    def call(design: pd.DataFrame, caller: str) -> np.ndarray:
        y = np.asarray(function(design), dtype=float).reshape(-1)
        bad = ~np.isfinite(y)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{caller}: the target returned {int(bad.sum())} non-finite "
                             f"value(s) (first {y[first]} at {design.iloc[first].to_dict()})")
        return y

    return space, call, target if is_fitted_model(target) else None


def _simulator_runs(simulator: Simulator, column: str, executor: Any,
                    checkpoint: Any) -> Evaluate:
    def run(design: pd.DataFrame, caller: str) -> np.ndarray:
        runs = complete_runs(simulator, design, executor=executor, checkpoint=checkpoint,
                             caller=caller, instead="a surrogate")
        return runs.Y[column].to_numpy(dtype=float)

    return run


# -- surrogate uncertainty ---------------------------------------------------------------------
def _posterior_spread(model: Any, space: Space, output: Any, n: int, second_order: bool,
                     n_samples: int, rng: np.random.Generator) -> dict[str, Any]:
    """Standard deviation of S1, ST (and S2) over ``n_samples`` posterior functions.

    Returns ``{"S1": (d,), "ST": (d,), "S2": (d, d) or None, "n": int}``, where ``n`` is the
    base sample size of the design the functions were drawn on.
    """
    per_base = 2 * space.dim + 2 if second_order else space.dim + 2
    n_post = _posterior_base_samples(n, per_base)
    problem = _unit_problem(space)
    unit = salib_sobol_sample.sample(problem, n_post, calc_second_order=second_order,
                                     seed=child_seed(rng))
    draws = np.asarray(model.sample_posterior(in_fitted_order(model, space.from_unit(unit)),
                                              n_samples, seed=child_seed(rng)), dtype=float)
    draws = draws[..., None] if draws.ndim == 2 else draws  # (S, k, m)
    draws = draws[..., _output_column(model, output, draws.shape[-1])]
    keys = ("S1", "ST", "S2") if second_order else ("S1", "ST")
    indices: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for y in draws:  # one posterior function at a time: (n_post * per_base,)
            # the indices do not depend on the bootstrap: keep it minimal
            analysis = salib_sobol_analyze.analyze(problem, np.ldexp(y, -binary_exponent(y)),
                                                   calc_second_order=second_order,
                                                   num_resamples=2, seed=1)
            for key in keys:
                indices[key].append(np.asarray(analysis[key], dtype=float))
    spread = {key: np.std(values, axis=0, ddof=1) for key, values in indices.items()}
    return {"S1": spread["S1"], "ST": spread["ST"], "S2": spread.get("S2"), "n": n_post}


def _posterior_base_samples(n: int, points_per_base: int) -> int:
    """Largest power of two <= n whose design has at most MAX_JOINT_POINTS points.

    Never below ``_MIN_POSTERIOR_N`` (nor above ``n``): in high dimension the design may then
    exceed MAX_JOINT_POINTS, and the draw costs more.
    """
    fit = max(MAX_JOINT_POINTS // points_per_base, 1)
    return min(n, max(1 << (fit.bit_length() - 1), _MIN_POSTERIOR_N))
