"""Adaptive designs for a boundary: ours against UQpy's AK-MCS U-function loop (issue #15).

The boundary task of ``benchmarks/adaptive.py`` (part 1, "discovery"; part 3, "Peers" of issue
#15), with UQpy 4.1.6 side by side in one run. For each case of interest (borehole y > 100,
otl_circuit y < 4.5, piston y < 0.4, wing_weight y < 250, dsgc stab < 0) and repetition ``rep``
(0-4), two designs of 200 teacher runs each:

* **ours**: ``adaptive_sample(goal="boundary", threshold=..., budget=200, batch_size=20,
  seed=rep)``, exactly as in ``benchmarks.adaptive._discovery_rep``;
* **UQpy AK-MCS**: ``UQpy.sampling.AdaptiveKriging`` with the ``UFunction`` learning criterion
  (AK-MCS, Echard et al. 2011: the next run is the population point of least
  ``U = |mean - threshold| / sd``), one run per iteration (``n_add=1``), UQpy's own Kriging
  ``GaussianProcessRegression`` (Gaussian ``RBF`` kernel with one length scale per input,
  ``ConstantRegression`` trend, ``normalize=True``, hyperparameters by L-BFGS-B from
  ``MinimizeOptimizer``: 5 starts on the initial design, then one start from the previous
  hyperparameters after every run, as ``AdaptiveKriging`` does), over the unit cube
  (``Uniform(0, 1)`` for every input), the teacher evaluated at ``sim.space.from_unit(U)``.
  The limit state handed to UQpy is ``y - threshold``. The learning population is a fresh
  Latin hypercube of 1,000 points each iteration (``learning_nsamples``): UQpy's
  ``predict(return_std=True)`` builds the population's full n x n covariance (and an
  n x n x d difference array) to take its diagonal, so 10,000 points cost about 19 s and some
  13 GB per iteration here. ``u_stop`` is set out of reach so that the loop runs to the budget
  (AK-MCS's own rule stops at min U >= 2).

Shared by both designs of one (case, rep): the budget and the initial design, the Latin
hypercube of ``2 * dim + 1`` runs that ``adaptive_sample(seed=rep)`` starts from
(``surrogate.sequential._loop.initial_design``: the same points), and the 20,000 held-out
uniform runs of ``benchmarks.adaptive._test_set``. NumPy's global seed (UQpy's random restarts)
is ``rep``; UQpy's population draws take ``random_state=rep``. A design's first 100 runs are
its N = 100 design. Each design is scored at N = 100 and 200 by

* **PR AUC**: REDS with the GP metamodel fitted on the design's runs
  (``benchmarks.adaptive._score_boxes("REDS (GP)", ...)``), scored on the held-out runs;
* **misclassified**: the share of held-out runs whose case (in or out) differs from the one
  given by the sign of ``mean - threshold`` of our ``GPRegressor(seed=rep)`` fitted on the
  design's runs (the same student for both designs, so that only the choice of runs differs);
* **seconds**: wall seconds of the whole design loop (fits, acquisition, teacher runs; the
  teachers cost milliseconds). Informational: the machine is shared (its load is recorded).

Not run: UQpy's loop driving our GP (``AdaptiveKriging`` takes any ``fit``/``predict``
surrogate, but a full fit per run is 180 fits per design).

Why UQpy 4.1.6 and not 4.2.1: UQpy 4.2.1 (and 4.2.0, 4.1.7) pins ``numpy==1.26.4``,
``scikit-learn==1.4.2``, ``matplotlib==3.8.4`` (4.2.x also ``torch~=2.2.2``), so pip cannot
install it under ``constraints.txt`` (numpy 2.4.6). 4.1.6 declares the same dependencies
without pins and installs cleanly; its ``AdaptiveKriging``, ``UFunction`` and
``GaussianProcessRegression`` are the files of 4.2.1, byte for byte in size. trieste 4.6.1
(the other peer named in the issue) requires ``numpy<2`` and does not install either.

UQpy 4.1.6's ``__init__`` imports ``pkg_resources`` (for its version only), which setuptools 81
and later no longer ship; ``_import_uqpy`` puts a stand-in in ``sys.modules`` where it is missing.

``--quick``: borehole, one repetition.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import markdown_table
from benchmarks.adaptive import BATCH, DISCOVERY, _labels, _score_boxes, _test_set

DESCRIPTION = ("Adaptive designs for a boundary: ours (goal='boundary') vs UQpy's AK-MCS "
               "U-function loop (AdaptiveKriging, Kriging GP), same initial designs, budget "
               "200; REDS (GP) PR AUC and GP misclassification on 20,000 held-out runs")

PROBLEMS = ("borehole > 100", "otl_circuit < 4.5", "piston < 0.4", "wing_weight < 250",
            "dsgc stable")
BUDGET = 200
SIZES = (100, 200)
REPS = 5
POPULATION = 1_000  # UQpy's learning_nsamples (see the module docstring)
INITIAL_STARTS = 5
DESIGNS = ("ours", "UQpy AK-MCS")


# -- UQpy's loop ---------------------------------------------------------------------------------
def _import_uqpy() -> None:
    """Import UQpy 4.1.6, whose ``__init__`` reads its version through ``pkg_resources``,
    which setuptools no longer ships (81 and later; the lock has 84.2.1): where it is missing,
    a stand-in with the two names UQpy uses (``get_distribution``, ``DistributionNotFound``),
    read from ``importlib.metadata``."""
    import importlib.metadata as md
    import importlib.util
    import sys
    import types

    # sys.modules first: find_spec raises on the stand-in (no __spec__) once it is there
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        stand_in = types.ModuleType("pkg_resources")
        stand_in.DistributionNotFound = md.PackageNotFoundError  # type: ignore[attr-defined]
        stand_in.get_distribution = lambda name: types.SimpleNamespace(  # type: ignore[attr-defined]
            version=md.version(name))
        sys.modules["pkg_resources"] = stand_in
    import UQpy  # noqa: F401


class _Teacher:
    """A UQpy ``RunModel`` model (the interface of ``PythonModel``, without its script file):
    evaluates the simulator at unit-cube points and returns the limit state
    ``y - threshold``; keeps every output."""

    def __init__(self, sim: Any, output: str, threshold: float) -> None:
        self.sim, self.output, self.threshold = sim, output, threshold
        self.values: list[float] = []

    def initialize(self, samples: np.ndarray) -> None:
        pass

    def finalize(self) -> None:
        pass

    def preprocess_single_sample(self, index: int, sample: np.ndarray) -> np.ndarray:
        return np.atleast_2d(sample)

    def execute_single_sample(self, index: int, sample: np.ndarray) -> float:
        X = self.sim.space.from_unit(np.clip(sample, 0.0, 1.0))
        value = float(self.sim(X)[self.output].to_numpy(float)[0])
        if not np.isfinite(value):
            raise RuntimeError(f"teacher run {index} gave {value}: UQpy's loop cannot skip it")
        self.values.append(value)
        return value - self.threshold

    def postprocess_single_file(self, index: int, output: float) -> float:
        return output


def _uqpy_design(problem: str, rep: int, budget: int) -> tuple[pd.DataFrame, np.ndarray, float]:
    """UQpy's AK-MCS design: (runs in the simulator's space, outputs, wall seconds)."""
    _import_uqpy()
    from UQpy.distributions import Uniform
    from UQpy.run_model.RunModel import RunModel
    from UQpy.sampling import AdaptiveKriging
    from UQpy.sampling.adaptive_kriging_functions import UFunction
    from UQpy.surrogates import GaussianProcessRegression
    from UQpy.surrogates.gaussian_process.regression_models import ConstantRegression
    from UQpy.utilities.kernels.euclidean_kernels import RBF
    from UQpy.utilities.MinimizeOptimizer import MinimizeOptimizer

    import simulators
    from surrogate.sequential._loop import initial_design, root_seed

    name, output, (_, threshold) = DISCOVERY[problem]
    sim = simulators.load(name)
    dim = sim.space.dim
    np.random.seed(rep)  # noqa: NPY002 - UQpy's restarts draw from the global generator
    start = time.perf_counter()
    U0 = sim.space.to_unit(initial_design(sim.space, 2 * dim + 1, root_seed(rep)))
    teacher = _Teacher(sim, output, threshold)
    # bounds in the normalized inputs: length scales 1e-2..1e2, process sd 1e-2..1e2
    gp = GaussianProcessRegression(kernel=RBF(), hyperparameters=[1.0] * dim + [1.0],
                                   optimizer=MinimizeOptimizer(), bounds=[[1e-2, 1e2]] * (dim + 1),
                                   optimizations_number=INITIAL_STARTS, normalize=True,
                                   regression_model=ConstantRegression())
    design = AdaptiveKriging(distributions=[Uniform(0.0, 1.0) for _ in range(dim)],
                             runmodel_object=RunModel(model=teacher), surrogate=gp,
                             learning_function=UFunction(u_stop=10**9), samples=U0,
                             nsamples=budget, learning_nsamples=POPULATION, n_add=1,
                             random_state=rep)
    seconds = time.perf_counter() - start
    return sim.space.from_unit(design.samples), np.asarray(teacher.values), seconds


def _our_design(problem: str, rep: int, budget: int) -> tuple[pd.DataFrame, np.ndarray, float]:
    """``adaptive_sample(goal="boundary")`` as in ``_discovery_rep`` (finite runs only)."""
    import simulators
    from surrogate.sequential import adaptive_sample

    name, output, threshold = DISCOVERY[problem]
    start = time.perf_counter()
    design = adaptive_sample(simulators.load(name), output=output, goal="boundary",
                             threshold=threshold, budget=budget, batch_size=BATCH, seed=rep,
                             progress=False)
    seconds = time.perf_counter() - start
    runs = design.runs
    ok = np.asarray(runs.ok)
    return runs.X[ok].reset_index(drop=True), runs.Y[output].to_numpy(float)[ok], seconds


# -- scores --------------------------------------------------------------------------------------
def _misclassified(X: pd.DataFrame, values: np.ndarray, threshold: tuple[str, float], seed: int,
                   test: tuple[pd.DataFrame, np.ndarray]) -> float:
    """Share of the held-out runs our GP fitted on ``(X, values)`` puts on the wrong side."""
    from surrogate.models import GPRegressor

    gp = GPRegressor(seed=seed).fit(X, values)
    X_test, y_test = test
    return float(np.mean(_labels(np.ravel(gp.predict(X_test)), threshold) != y_test))


def _scores(problem: str, design: str, rep: int, runs: tuple[pd.DataFrame, np.ndarray, float],
            sizes: tuple[int, ...], test: tuple[pd.DataFrame, np.ndarray]
            ) -> list[dict[str, Any]]:
    threshold = DISCOVERY[problem][2]
    X, values, seconds = runs
    rows = []
    for n in sizes:
        Xn, vn = X.iloc[:n], values[:n]
        rows.append({"problem": problem, "design": design, "rep": rep, "N": n,
                     "runs": len(vn), "cases": int(_labels(vn, threshold).sum()),
                     "pr_auc": _score_boxes("REDS (GP)", Xn, vn, threshold, rep, test),
                     "misclassified": _misclassified(Xn, vn, threshold, rep, test),
                     "design_seconds": seconds})
    return rows


# -- the run -------------------------------------------------------------------------------------
def run(quick: bool) -> tuple[dict[str, Any], str]:
    problems = PROBLEMS[:1] if quick else PROBLEMS
    reps = 1 if quick else REPS
    rows: list[dict[str, Any]] = []
    for problem in problems:
        test = _test_set(problem)
        for rep in range(reps):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = _our_design(problem, rep, BUDGET)
                rows += _scores(problem, "ours", rep, ours, SIZES, test)
                peer = _uqpy_design(problem, rep, BUDGET)
                rows += _scores(problem, "UQpy AK-MCS", rep, peer, SIZES, test)
            print(f"{problem} rep {rep}: ours {ours[2]:.0f} s, UQpy {peer[2]:.0f} s; "
                  + ", ".join(f"{r['design']} N={r['N']} PR AUC {r['pr_auc']:.3f} "
                              f"miscl. {r['misclassified']:.4f}" for r in rows[-4:]),
                  flush=True)
    summary = _summary(rows)
    payload = {"rows": rows, "summary": summary, "budget": BUDGET, "reps": reps,
               "our_batch_size": BATCH, "uqpy_points_per_iteration": 1,
               "uqpy_population": POPULATION, "peer_versions": _versions()}
    return payload, _markdown(summary)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    return {dist: md.version(dist) for dist in ("UQpy", "beartype")}


def _summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    frame = pd.DataFrame(rows)
    out = []
    for (problem, n), cell in frame.groupby(["problem", "N"], sort=False):
        entry: dict[str, Any] = {"problem": problem, "N": n}
        for design in DESIGNS:
            mine = cell[cell.design == design]
            entry["reps"] = len(mine)
            entry[f"{design} PR AUC"] = float(mine.pr_auc.mean())
            entry[f"{design} PR AUC median"] = float(mine.pr_auc.median())
            entry[f"{design} miscl. %"] = 100 * float(mine.misclassified.mean())
            entry[f"{design} miscl. % median"] = 100 * float(mine.misclassified.median())
            entry[f"{design} s"] = float(mine.design_seconds.median())
        ours, peer = "ours", "UQpy AK-MCS"
        entry["PR AUC ours / UQpy"] = entry[f"{ours} PR AUC"] / entry[f"{peer} PR AUC"]
        entry["miscl. ours / UQpy"] = entry[f"{ours} miscl. %"] / entry[f"{peer} miscl. %"] \
            if entry[f"{peer} miscl. %"] > 0 else None
        entry["seconds ours / UQpy"] = entry[f"{ours} s"] / entry[f"{peer} s"]
        out.append(entry)
    return out


def _markdown(summary: list[dict[str, Any]]) -> str:
    text = ("## Boxes and boundary from each design (mean over repetitions; median in the "
            "JSON)\n\nPR AUC: REDS (GP metamodel) fitted on the design's first N runs, on "
            "20,000 held-out uniform runs (higher is better). Misclassified: share of those "
            "runs whose case our GP fitted on the same runs gets wrong (lower is better). "
            "Ratios: ours / UQpy (PR AUC above 1 and misclassification below 1 favour ours)."
            "\n\n")
    columns = ["problem", "N", "reps"] + [f"{d} PR AUC" for d in DESIGNS] + \
        ["PR AUC ours / UQpy"] + [f"{d} miscl. %" for d in DESIGNS] + ["miscl. ours / UQpy"]
    text += markdown_table(summary, columns)
    text += ("\n## Wall seconds of the design loop (median over repetitions; 200 runs)\n\n"
             "Ours: batches of 20 runs (10 rounds after the initial design); UQpy: one run per "
             f"iteration with a fresh population of {POPULATION:,} points and a refit of the "
             "hyperparameters after every run. The machine is shared: see its load above.\n\n")
    text += markdown_table([c for c in summary if c["N"] == max(SIZES)],
                           ["problem"] + [f"{d} s" for d in DESIGNS] + ["seconds ours / UQpy"])
    text += ("\nUQpy 4.1.6: `AdaptiveKriging` + `UFunction` (AK-MCS) on its "
             "`GaussianProcessRegression` (RBF kernel, constant trend); 4.2.1 pins numpy 1.26.4 "
             "and does not install beside numpy 2.4.6, nor does trieste 4.6.1 (numpy < 2). See "
             "the module docstring of `benchmarks/adaptive_boundary_peers.py`.\n")
    return text
