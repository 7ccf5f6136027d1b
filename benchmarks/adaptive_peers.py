"""Adaptive designs for accuracy: ours against Emukit's experimental-design loop (issue #15).

The accuracy task of ``benchmarks/adaptive.py`` (part 2, "Peers" of issue #15), with Emukit
0.5.1 side by side in one run. For each function (borehole, ishigami, otl_circuit, wing_weight,
piston: output ``y``; dsgc: output ``stab``) and repetition ``rep`` (0, 1), every design counts
the teacher runs until its GP's Q² on the same 5,000 held-out uniform runs (seed 4242,
non-finite outputs dropped) reaches 0.99 and 0.999, with a budget of 200 runs ("> 200"):

* **ours adaptive** and **LHS**: ``benchmarks.adaptive._accuracy_rep`` (imported, not copied):
  ``adaptive_sample(goal=<held-out acquisition>, batch_size=10, seed=rep)``, the error-weighted
  integrated variance reduction with Kriging-believer batches, and GPs on Latin hypercubes at
  the sizes that function scores;
* **Emukit ModelVariance** and **Emukit IVR**: ``emukit.experimental_design
  .ExperimentalDesignLoop(space, model, acquisition, batch_size=10)`` with ``ModelVariance`` or
  ``IntegratedVarianceReduction``, over the unit cube (``ContinuousParameter(f"x{i}", 0, 1)``),
  the teacher evaluated at ``sim.space.from_unit(U)``, driving *our* GP so that only the design
  loop differs;
* **Emukit+GPy ModelVariance**: the same loop on Emukit's own ``GPyModelWrapper`` around a GPy
  1.15 ``GPRegression`` (Matérn-5/2 ARD kernel, ``normalizer=True``, Gaussian noise fitted),
  Emukit as usually set up; once with the wrapper's default ``n_restarts=1`` (each fit starts
  from the previous hyperparameters) and once with 5 restarts (4 of them random).

Our GP in Emukit: ``_OurGP`` implements ``IModel``, ``IDifferentiable`` and
``ICalculateVarianceReduction`` around ``surrogate.models.GPRegressor(seed=rep)`` fitted on
unit-cube inputs. As the GPy wrapper does, ``optimize()`` fits the hyperparameters (a full
``fit``) and ``set_data()`` keeps them and conditions the GP on the data
(``surrogate.sequential._student.condition_gp``). Emukit's ``FixedIntervalUpdater``
(``update_interval=1``) calls both after every batch, so Emukit's GP is refitted every batch
(ours refits at every batch below 60 runs, then whenever the runs have grown by 20 %).
Predictive gradients for ``ModelVariance`` come from torch autograd through
``GPRegressor._predict_torch``; ``calculate_variance_reduction(x, Z)`` is the exact reduction
``cov(z, x)^2 / (var(x) + noise)`` of the ordinary-kriging posterior (the cross terms of
``surrogate.sequential._accuracy.reference_state``), the formula of Emukit's GPy wrapper.
``IntegratedVarianceReduction`` gets 2,000 uniform Monte-Carlo points (seed ``rep``) instead of
its default 100,000: Emukit evaluates it one candidate at a time, with finite-difference
L-BFGS-B gradients, so 100,000 points would cost minutes per batch point. IVR on the GPy model
is not run: in the quick run it cost about 3x our GP's IVR (GPy's
``posterior_covariance_between_points`` per candidate), some 30 minutes more in the full run.

Shared by all designs of one (function, rep): the held-out set, the budget, the batch size
(the last batch shrinks to fit the budget) and the initial design, the Latin hypercube of
``2 * dim + 1`` runs that ``adaptive_sample(seed=rep)`` starts from
(``surrogate.sequential._loop.initial_design``: the same points). Emukit's batches are its
``GreedyBatchPointCalculator``: each point maximizes the acquisition
(``GradientAcquisitionOptimizer``: the best of 1,000 uniform points, then L-BFGS-B) and joins
the model as a fake observation at its predicted mean (a Kriging believer, as ours; not local
penalization). Emukit's loop stops at held-out Q² 0.999 or at the budget; Q² is scored after
every batch on the GP refitted to all runs. NumPy's global seed (Emukit's random anchor points,
GPy's random restarts) is ``rep``. Reported: runs to each target (median over repetitions) and
their ratio to LHS's, the last Q², the wall seconds of each design loop and the largest ARD
length scales of each Emukit design's last fit (how many inputs it switched off).

``--quick``: borehole, one repetition, budget 60.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from benchmarks._common import markdown_table
from benchmarks.adaptive import ACCURACY, N_HOLDOUT, Q2_TARGETS, _accuracy_rep

DESCRIPTION = ("Adaptive designs for accuracy: runs to held-out Q² 0.99 / 0.999, ours vs LHS vs "
               "Emukit's ExperimentalDesignLoop (ModelVariance, IntegratedVarianceReduction) on "
               "our GP, same initial designs, budget 200, batches of 10")

BUDGET = 200
REPS = 2
N_MONTE_CARLO = 2_000
SWITCHED_OFF = 100.0  # an ARD length scale above this many unit cubes ignores its input
QUICK_BUDGET = 60
PEER_BATCH = 10  # runs per round, ours and Emukit's (the batch of the committed results)
GPY_RESTARTS = {"Emukit+GPy ModelVariance": 1, "Emukit+GPy ModelVariance, 5 restarts": 5}
EMUKIT = ("Emukit ModelVariance", "Emukit IVR", *GPY_RESTARTS)


# -- Emukit's model interface around our GP ------------------------------------------------------
def _model_class() -> type:
    """``_OurGP`` (defined here so that importing the module does not need Emukit)."""
    import torch
    from emukit.core.interfaces import IDifferentiable, IModel
    from emukit.experimental_design.interfaces import ICalculateVarianceReduction

    from surrogate.models import GPRegressor
    from surrogate.sequential._accuracy import reference_state
    from surrogate.sequential._student import condition_gp

    class _OurGP(IModel, IDifferentiable, ICalculateVarianceReduction):
        """Our exact GP as an Emukit model on unit-cube inputs (one output).

        ``on_fit(model)`` is called after every full fit (the held-out scoring)."""

        def __init__(self, X: np.ndarray, Y: np.ndarray, seed: int, on_fit: Any = None) -> None:
            self.seed = seed
            self.on_fit = on_fit
            self._full: Any = None
            self._full_data: tuple[np.ndarray, np.ndarray] | None = None
            self._reference: tuple[Any, int, Any] | None = None
            self._X, self._Y = np.asarray(X, float), np.asarray(Y, float)
            self.optimize()

        # IModel
        @property
        def X(self) -> np.ndarray:
            return self._X

        @property
        def Y(self) -> np.ndarray:
            return self._Y

        def _finite(self) -> tuple[np.ndarray, np.ndarray]:
            ok = np.isfinite(self._Y[:, 0])
            return self._X[ok], self._Y[ok, 0]

        def set_data(self, X: np.ndarray, Y: np.ndarray) -> None:
            """New data, hyperparameters kept (as Emukit's GPy wrapper does)."""
            self._X, self._Y = np.asarray(X, float), np.asarray(Y, float)
            if self._is_full_data():
                self.gp = self._full
                return
            conditioned = condition_gp(self._full, *self._finite())
            self.gp = conditioned if conditioned is not None else \
                GPRegressor(seed=self.seed).fit(*self._finite())

        def _is_full_data(self) -> bool:
            data = self._full_data
            return data is not None and data[0].shape == self._X.shape and \
                np.array_equal(data[0], self._X) and np.array_equal(data[1], self._Y,
                                                                     equal_nan=True)

        def optimize(self) -> None:
            """Fit the hyperparameters on the current data (once per data set)."""
            if self._is_full_data():
                self.gp = self._full
                return
            self._full = GPRegressor(seed=self.seed).fit(*self._finite())
            self._full_data = (self._X.copy(), self._Y.copy())
            self.gp = self._full
            if self.on_fit is not None:
                self.on_fit(self)

        def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            with torch.no_grad():
                mean, var = self.gp._predict_torch(torch.as_tensor(np.asarray(X, float)))
            return mean.numpy(), var.numpy()

        # IDifferentiable
        def get_prediction_gradients(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            x = torch.as_tensor(np.asarray(X, float)).requires_grad_(True)
            mean, var = self.gp._predict_torch(x)
            dmean = torch.autograd.grad(mean.sum(), x, retain_graph=True)[0]
            dvar = torch.autograd.grad(var.sum(), x)[0]
            return dmean.numpy(), dvar.numpy()

        # ICalculateVarianceReduction
        def calculate_variance_reduction(self, x_train_new: np.ndarray,
                                         x_test: np.ndarray) -> np.ndarray:
            """Posterior variance at each ``x_test`` removed by a run at ``x_train_new``
            (n_test, 1): ``cov(z, x)^2 / (var(x) + noise)``, hyperparameters held."""
            from surrogate.models._gp_hyper import correlation

            gp = self.gp
            cached = self._reference
            if cached is None or cached[0] is not gp or cached[1] != id(x_test):
                cached = (gp, id(x_test), reference_state(gp, np.asarray(x_test, float), None))
                self._reference = cached
            ref = cached[2]
            h = gp._hyper
            with torch.no_grad():
                x = (torch.as_tensor(np.asarray(x_train_new, float)) -
                     torch.as_tensor(gp._x_low)) / torch.as_tensor(gp._x_scale)
                K = correlation(gp.kernel_, x, gp._U, h.lengthscale)  # (1, 1, n)
                V = torch.linalg.solve_triangular(gp._L, K.transpose(-1, -2), upper=False)
                u = 1.0 - (K @ gp._a[..., None])[..., 0]  # (1, 1)
                var = 1.0 - (V * V).sum(-2) + u * u / gp._a_sum[:, None]  # (1, 1)
                k_zx = correlation(gp.kernel_, ref.points, x, h.lengthscale)  # (1, r, 1)
                cov = k_zx - ref.V.transpose(-1, -2) @ V + \
                    ref.u[..., None] * u[:, None, :] / gp._a_sum[:, None, None]
                reduction = cov[0, :, 0] ** 2 / (var[0, 0].clamp_min(0.0) + h.g[0])
            scale = float(h.signal_var[0]) * float(np.atleast_1d(gp._y_std)[0]) ** 2
            return (scale * reduction).numpy()[:, None]

    return _OurGP


def _gpy_model(X: np.ndarray, Y: np.ndarray, on_fit: Any, n_restarts: int) -> Any:
    """Emukit's own GPy wrapper on a GPy GP (Matérn-5/2 ARD, normalized outputs, Gaussian noise
    fitted; ``optimize()`` is GPy's ``optimize_restarts(n_restarts, robust=True)``: the first
    start from the current hyperparameters, the others random), fitted on ``X``.
    ``optimize()`` runs once per data set and then calls ``on_fit(model)``."""
    import GPy
    from emukit.model_wrappers import GPyModelWrapper

    class _Wrapper(GPyModelWrapper):
        _fitted: tuple[np.ndarray, np.ndarray] | None = None

        def optimize(self, verbose: bool = False) -> None:
            data = self._fitted
            if data is not None and data[0].shape == self.X.shape and \
                    np.array_equal(data[0], self.X) and np.array_equal(data[1], self.Y):
                return
            super().optimize(verbose)
            self._fitted = (self.X.copy(), self.Y.copy())
            on_fit(self)

    gp = GPy.models.GPRegression(X, Y, GPy.kern.Matern52(X.shape[1], ARD=True),
                                 normalizer=True)
    model = _Wrapper(gp, n_restarts=n_restarts)
    model.optimize()
    return model


# -- one Emukit design ---------------------------------------------------------------------------
def _held_out(sim: Any, output: str) -> tuple[np.ndarray, np.ndarray]:
    """The held-out set of ``_accuracy_rep``, in unit-cube coordinates."""
    from surrogate.design import sample

    X_test = sample(sim.space, N_HOLDOUT, method="random", seed=4242)
    y_test = sim(X_test)[output].to_numpy(dtype=float)
    keep = np.isfinite(y_test)
    return sim.space.to_unit(X_test[keep]), y_test[keep]


def _emukit_rep(name: str, output: str, rep: int, cap: int, acquisition: str,
                held_out: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    from emukit.core import ContinuousParameter, ParameterSpace
    from emukit.core.loop import StoppingCondition
    from emukit.experimental_design import ExperimentalDesignLoop
    from emukit.experimental_design.acquisitions import IntegratedVarianceReduction, ModelVariance

    import simulators
    from surrogate.sequential._loop import initial_design, root_seed

    sim = simulators.load(name)
    unit_test, y_test = held_out
    variance = float(np.var(y_test))
    space = ParameterSpace([ContinuousParameter(f"x{i}", 0.0, 1.0)
                            for i in range(sim.space.dim)])

    def teacher(U: np.ndarray) -> np.ndarray:
        return sim(sim.space.from_unit(np.clip(U, 0.0, 1.0)))[output].to_numpy(float)[:, None]

    curve: list[list[float]] = []
    switched_off: list[int] = []  # inputs of each fit with an ARD length scale > SWITCHED_OFF

    def score(model: Any) -> None:
        mean = model.predict(unit_test)[0][:, 0]
        curve.append([float(len(model.X)),
                      1.0 - float(np.mean((mean - y_test) ** 2)) / variance])
        scales = model.model.kern.lengthscale.values if hasattr(model, "model") else \
            model.gp.lengthscale_
        switched_off.append(int(np.sum(np.asarray(scales) > SWITCHED_OFF)))

    np.random.seed(rep)  # noqa: NPY002 - Emukit draws its anchors from the global generator
    start = time.perf_counter()
    U0 = sim.space.to_unit(initial_design(sim.space, 2 * sim.space.dim + 1, root_seed(rep)))
    if acquisition in GPY_RESTARTS:
        model = _gpy_model(U0, teacher(U0), on_fit=score, n_restarts=GPY_RESTARTS[acquisition])
    else:
        model = _model_class()(U0, teacher(U0), seed=rep, on_fit=score)
    if acquisition.endswith("IVR"):
        mc = np.random.default_rng(rep).random((N_MONTE_CARLO, sim.space.dim))
        acq: Any = IntegratedVarianceReduction(model, space, x_monte_carlo=mc)
    else:
        acq = ModelVariance(model)
    loop = ExperimentalDesignLoop(space, model, acq, batch_size=PEER_BATCH)
    target = max(Q2_TARGETS)

    class UntilTarget(StoppingCondition):
        """Stop at the budget or once the GP on every run reaches the held-out target; the
        last batch shrinks to fit the budget."""

        def should_stop(self, loop_state: Any) -> bool:
            n = len(loop_state.X)
            model.set_data(loop_state.X, loop_state.Y)
            model.optimize()  # scores the GP on these runs (the loop's update then reuses it)
            if n >= cap or curve[-1][1] >= target:
                return True
            loop.candidate_point_calculator.batch_size = min(PEER_BATCH, cap - n)
            return False

    loop.run_loop(teacher, UntilTarget())
    seconds = time.perf_counter() - start
    row: dict[str, Any] = {"function": name, "rep": rep, "design": acquisition,
                           "seconds": seconds, "curve": curve,
                           "inputs_switched_off": switched_off[-1]}
    points = np.array(curve)
    for t in Q2_TARGETS:
        hits = points[points[:, 1] >= t, 0]
        row[str(t)] = float(hits.min()) if len(hits) else float("inf")
    return row


# -- the run -------------------------------------------------------------------------------------
def run(quick: bool) -> tuple[dict[str, Any], str]:
    import simulators

    functions = {"borehole": "y"} if quick else dict(ACCURACY)
    reps, cap = (1, QUICK_BUDGET) if quick else (REPS, BUDGET)
    rows: list[dict[str, Any]] = []
    for name, output in functions.items():
        held_out = _held_out(simulators.load(name), output)
        for rep in range(reps):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = _accuracy_rep(name, output, rep, cap, PEER_BATCH)
                rows.append({"function": name, "rep": rep, "design": "ours adaptive",
                             "seconds": ours["adaptive_seconds"],
                             "curve": ours["adaptive_curve"],
                             **{str(t): ours[f"adaptive {t}"] for t in Q2_TARGETS}})
                rows.append({"function": name, "rep": rep, "design": "LHS", "seconds": None,
                             "curve": ours["lhs_curve"],
                             **{str(t): ours[f"lhs {t}"] for t in Q2_TARGETS}})
                for acquisition in EMUKIT:
                    rows.append(_emukit_rep(name, output, rep, cap, acquisition, held_out))
            timed = [r for r in rows[-2 - len(EMUKIT):] if r["seconds"] is not None]
            print(f"{name} rep {rep}: " + ", ".join(
                f"{r['design']} {r['seconds']:.0f} s" for r in timed), flush=True)
    summary = _summary(rows, list(functions), cap)
    payload = {"rows": rows, "summary": summary, "cap": cap, "reps": reps,
               "batch_size": PEER_BATCH, "n_monte_carlo": N_MONTE_CARLO,
               "emukit_batch": "GreedyBatchPointCalculator (Kriging believer)",
               "peer_versions": _versions()}
    return payload, _markdown(summary, cap)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    return {dist: md.version(dist) for dist in ("emukit", "emcee", "gpy", "paramz")}


def _summary(rows: list[dict[str, Any]], functions: list[str], cap: int
             ) -> list[dict[str, Any]]:
    import simulators

    designs = ("ours adaptive", "LHS", *EMUKIT)
    out = []
    for name in functions:
        for t in Q2_TARGETS:
            cell: dict[str, Any] = {"function": name, "target Q²": t,
                                    "dim": simulators.load(name).space.dim}
            medians = {}
            for design in designs:
                mine = [r for r in rows if r["function"] == name and r["design"] == design]
                medians[design] = float(np.median([r[str(t)] for r in mine]))
                cell[f"{design} runs"] = _fmt(medians[design], cap)
            lhs = medians["LHS"]
            for design in designs:
                if design != "LHS":
                    ratio = medians[design] / lhs
                    cell[f"{design} / LHS"] = ratio if np.isfinite(ratio) else None
            out.append(cell)
        for design in designs:
            mine = [r for r in rows if r["function"] == name and r["design"] == design]
            out_seconds = [r["seconds"] for r in mine if r["seconds"] is not None]
            off = [r["inputs_switched_off"] for r in mine if "inputs_switched_off" in r]
            for cell in out[-len(Q2_TARGETS):]:
                cell[f"{design} last Q²"] = float(np.median([r["curve"][-1][1] for r in mine]))
                if out_seconds:
                    cell[f"{design} s"] = float(np.median(out_seconds))
                if off:
                    cell[f"{design} inputs off"] = "/".join(str(n) for n in off)
    return out


def _fmt(value: float, cap: int) -> Any:
    return f"> {cap}" if not np.isfinite(value) else value


def _markdown(summary: list[dict[str, Any]], cap: int) -> str:
    designs = ("ours adaptive", "LHS", *EMUKIT)
    text = ("## Teacher runs to reach held-out Q² (median over repetitions)\n\n"
            "Runs counted after each batch of 10 (the initial design: 2 d + 1 runs); "
            f"\"> {cap}\": not reached within the budget. Ratios are against LHS (below 1: "
            "fewer runs).\n\n")
    columns = ["function", "target Q²"] + [f"{d} runs" for d in designs] + \
        [f"{d} / LHS" for d in designs if d != "LHS"]
    text += markdown_table(summary, columns)
    text += ("\n## Last held-out Q² and wall seconds per design loop (median over repetitions)"
             "\n\nSeconds: the whole design (fits, acquisition, teacher runs; the teachers "
             "cost milliseconds), stopping at Q² 0.999 or the budget; LHS fits are not timed.\n\n")
    last = [c for c in summary if c["target Q²"] == max(Q2_TARGETS)]
    columns = ["function"] + [f"{d} last Q²" for d in designs] + \
        [f"{d} s" for d in designs if d != "LHS"]
    text += markdown_table(last, columns)
    text += ("\n## Inputs switched off in the last fit (per repetition)\n\nInputs whose ARD "
             f"length scale exceeds {SWITCHED_OFF:g} (unit cube): the GP ignores them.\n\n")
    columns = ["function", "dim"] + [f"{d} inputs off" for d in EMUKIT]
    text += markdown_table(last, columns)
    text += ("\n\"Emukit ModelVariance\" and \"Emukit IVR\" drive our GPRegressor through an "
             "`IModel` wrapper (hyperparameters refitted every batch); \"Emukit+GPy\" is "
             "Emukit's `GPyModelWrapper` on a GPy GP (Matérn-5/2 ARD, `normalizer=True`), with "
             "the wrapper's default single restart (from the previous hyperparameters) or 5 "
             "restarts. Emukit's batches are `GreedyBatchPointCalculator` (Kriging believer); "
             f"IVR integrates over {N_MONTE_CARLO:,} uniform Monte-Carlo points. Not run: "
             "IVR on GPy (its `calculate_variance_reduction` cost about 3x our GP's in the "
             "quick run, some 30 minutes more here). See the module docstring of "
             "`benchmarks/adaptive_peers.py`.\n")
    return text
