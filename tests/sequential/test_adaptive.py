"""Adaptive transfer sets against known truth: planted boundaries, a localized feature,
held-out accuracy, teacher-call counts."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.tree import DecisionTreeClassifier

from surrogate.design import sample
from surrogate.discovery import PRIM
from surrogate.models import GPClassifier, GPRegressor, NNRegressor
from surrogate.sequential import (
    Acquisition,
    AdaptiveResult,
    Straddle,
    UFunction,
    VarianceReduction,
    adaptive_sample,
    log_success,
)
from surrogate.space import Categorical, Integer, Real, Space
from surrogate.teacher import Simulator

SQUARE = Space([Real("x", 0.0, 1.0), Real("y", 0.0, 1.0)])
CENTRES = np.array([[0.27, 0.3], [0.72, 0.68]])
RADIUS = 0.14


def two_discs(p):
    """Distance to the nearer of two disc centres minus the radius: < 0 inside either disc."""
    distance = np.sqrt(((np.array([p["x"], p["y"]]) - CENTRES) ** 2).sum(axis=1))
    return float(distance.min() - RADIUS)


def _held_out_q2(predict, f, n=4000):
    X = sample(SQUARE, n, method="random", seed=99)
    y = f(X.to_numpy())
    return 1.0 - np.mean((predict(X) - y) ** 2) / np.var(y)


def test_boundary_runs_concentrate_on_both_planted_discs():
    result = adaptive_sample(two_discs, space=SQUARE, goal="boundary", threshold=("<", 0.0),
                             budget=40, seed=0, progress=False)
    assert len(result.runs) == 40 and result.fidelity == "misclassified"
    X = result.runs.X.to_numpy()[5:]  # after the initial design of 2 * dim + 1
    distance = np.sqrt(((X[:, None, :] - CENTRES[None]) ** 2).sum(-1))  # (n, 2)
    near = np.abs(distance - RADIUS) < 0.04
    uniform = 2 * np.pi * ((RADIUS + 0.04) ** 2 - (RADIUS - 0.04) ** 2)  # band area: 0.141
    assert near.any(axis=1).mean() > 2.5 * uniform
    assert near[:, 0].sum() >= 4 and near[:, 1].sum() >= 4  # both regions found
    # the student's misclassification estimate is honest: small, as the true error is
    T = sample(SQUARE, 4000, method="random", seed=9)
    truth = np.array([two_discs(p) < 0 for p in T.to_dict("records")])
    error = np.mean((result.model.predict(T) < 0) != truth)
    assert error < 0.01 and result.history["misclassified"].iloc[-1] < 0.02
    assert result.cases().sum() == (result.runs.Y["y"] < 0).sum() > 0


def _bump(X):
    return X[:, 0] + 0.5 * X[:, 1] + 3 * np.exp(
        -((X[:, 0] - 0.8) ** 2 + (X[:, 1] - 0.75) ** 2) / (2 * 0.1**2))


def test_accuracy_beats_a_same_size_lhs_on_a_localized_feature():
    def teacher(p):
        return float(_bump(np.array([[p["x"], p["y"]]]))[0])

    adaptive, lhs = [], []
    for seed in range(4):
        result = adaptive_sample(teacher, space=SQUARE, budget=30, batch_size=3, seed=seed,
                                 progress=False)
        adaptive.append(_held_out_q2(result.model.predict, _bump))
        X = sample(SQUARE, 30, method="lhs", seed=seed).to_numpy()
        gp = GPRegressor(seed=seed).fit(X, _bump(X))
        lhs.append(_held_out_q2(lambda Z, gp=gp: gp.predict(Z.to_numpy()), _bump))
    adaptive, lhs = np.array(adaptive), np.array(lhs)
    assert adaptive.mean() > lhs.mean() + 0.05, (adaptive, lhs)
    assert (adaptive > lhs).sum() >= 3, (adaptive, lhs)


def _smooth(X):
    return np.sin(3 * X[:, 0]) + np.cos(2 * X[:, 1]) * X[:, 0]


def test_stopping_rule_stops_at_the_target_and_not_before():
    def teacher(p):
        return float(_smooth(np.array([[p["x"], p["y"]]]))[0])

    result = adaptive_sample(teacher, space=SQUARE, budget=60, target=0.999, seed=0,
                             progress=False)
    history = result.history
    q2 = history["q2_loo"].to_numpy()
    assert result.stopped == "target" and 20 <= len(result.runs) < 60  # >= 10 runs per input
    ready = history["n_runs"].to_numpy() >= 20
    assert q2[-1] >= 0.999 and (q2[ready][:-1] < 0.999).all()  # the first ready round at it
    assert result.history["n_runs"].iloc[-1] == len(result.runs)
    # the estimate is not optimistic: held-out Q² of the final student is at the target
    assert _held_out_q2(result.model.predict, _smooth) > 0.998
    # without a target the same seed spends the budget through the same runs
    longer = adaptive_sample(teacher, space=SQUARE, budget=len(result.runs) + 2, seed=0,
                             progress=False)
    assert longer.stopped == "budget"
    pd.testing.assert_frame_equal(longer.runs.X.iloc[:len(result.runs)], result.runs.X)


DRIVER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import numpy as np
    from surrogate.sequential import adaptive_sample
    from surrogate.space import Real, Space
    from surrogate.teacher import Simulator

    calls = Path(sys.argv[1])

    def circle(x, y):
        time.sleep(0.1)  # a run takes time: the kill lands inside one
        value = (x - 0.5) ** 2 + (y - 0.5) ** 2
        with open(calls, "a") as file:
            file.write(json.dumps([x, y]) + "\\n")
        return value

    space = Space([Real("x", 0.0, 1.0), Real("y", 0.0, 1.0)])
    result = adaptive_sample(Simulator(circle, space, ["r2"], name="circle"), goal="boundary",
                             threshold=("<", 0.09), budget=13, batch_size=2, seed=0,
                             checkpoint=sys.argv[2], progress=False)
    print(json.dumps(result.runs.X.to_numpy().tolist()))
""")


@pytest.mark.slow  # two driver processes each import torch: over ten seconds
def test_resume_after_sigkill_repeats_no_finished_run(tmp_path):
    script, calls = tmp_path / "driver.py", tmp_path / "calls.jsonl"
    script.write_text(DRIVER)
    command = [sys.executable, str(script), str(calls), str(tmp_path / "checkpoint")]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    driver = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill the driver after 8 finished runs
        if calls.exists() and len(calls.read_text().splitlines()) >= 8:
            break
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    killed_after = len(calls.read_text().splitlines())
    assert 8 <= killed_after < 13
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    runs = np.array(json.loads(done.stdout.splitlines()[-1]))
    called = [tuple(json.loads(line)) for line in calls.read_text().splitlines()]
    assert len(called) == 13 == len(runs)  # every run exactly once across both drivers
    assert len(set(called)) == 13
    np.testing.assert_array_equal(np.sort(runs, axis=0), np.sort(np.array(called), axis=0))


class _Interrupt(BaseException):
    """Stands for Ctrl-C / a killed driver: not an Exception, so the run is not recorded."""


class _CountingCircle:
    def __init__(self, stop_after=None):
        self.calls, self._stop_after = [], stop_after

    def __call__(self, x, y):
        if self._stop_after is not None and len(self.calls) == self._stop_after:
            raise _Interrupt
        self.calls.append((x, y))
        return (x - 0.5) ** 2 + (y - 0.5) ** 2


def test_resume_after_interruption_repeats_no_run_and_keeps_the_rounds(tmp_path):
    options = {"goal": "boundary", "threshold": ("<", 0.09), "budget": 13, "batch_size": 2,
               "seed": 0, "progress": False}
    reference = adaptive_sample(Simulator(_CountingCircle(), SQUARE, ["r2"], name="c"),
                                **options)
    teacher = _CountingCircle(stop_after=8)  # inside the second batch of two
    with pytest.raises(_Interrupt):
        adaptive_sample(Simulator(teacher, SQUARE, ["r2"], name="c"), checkpoint=tmp_path,
                        **options)
    # the killed design's finished runs read back from its checkpoint, in order
    from surrogate.data import TransferSet

    partial = TransferSet.load(tmp_path)
    assert len(partial) == len(teacher.calls) == 8 and partial.ok.all()
    pd.testing.assert_frame_equal(partial.X, reference.runs.X.iloc[:len(partial)])
    teacher._stop_after = None
    resumed = adaptive_sample(Simulator(teacher, SQUARE, ["r2"], name="c"),
                              checkpoint=tmp_path, **options)
    assert len(teacher.calls) == 13 == len(set(teacher.calls))  # every run exactly once
    pd.testing.assert_frame_equal(resumed.runs.X, reference.runs.X)
    pd.testing.assert_frame_equal(resumed.history.drop(columns=["seconds", "student_seconds"]),
                                  reference.history.drop(columns=["seconds", "student_seconds"]))
    # a finished design reloads without a teacher call; more budget continues it
    again = adaptive_sample(Simulator(teacher, SQUARE, ["r2"], name="c"), checkpoint=tmp_path,
                            **{**options, "budget": 15})
    assert len(teacher.calls) == 15 and len(again.runs) == 15
    # a stopping target, a timeout and retries may change too: the design goes on as it was
    later = adaptive_sample(Simulator(teacher, SQUARE, ["r2"], name="c"), checkpoint=tmp_path,
                            **{**options, "budget": 15, "target": 0.01, "timeout": 60.0,
                               "retries": 1})
    assert len(teacher.calls) == 15
    pd.testing.assert_frame_equal(later.runs.X, again.runs.X)
    with pytest.raises(ValueError, match=r"belongs to another adaptive design.*only the "
                                         r"budget, target, timeout and retries may change"):
        adaptive_sample(Simulator(teacher, SQUARE, ["r2"], name="c"), checkpoint=tmp_path,
                        **{**options, "batch_size": 3})
    for seed in (1, None):  # another seed would continue the runs of seed 0 as its own
        with pytest.raises(ValueError, match=r"differs in \['seed'\]"):
            adaptive_sample(Simulator(teacher, SQUARE, ["r2"], name="c"), checkpoint=tmp_path,
                            **{**options, "seed": seed})


def _wave(x, y):
    return {"v": 1e6 + 5 * np.sin(3 * x) + y * y}


class _PrivateLevel(Acquisition):
    """Runs where the student's mean is nearest a level, its setting kept private."""

    def __init__(self, level):
        self._level = level

    def _score(self, unit, student, context):
        posterior = student.posterior(unit)
        return -(posterior.mean[:, 0] - self._level) ** 2 / (posterior.var[:, 0] + 1e-9)


def test_a_custom_acquisitions_code_is_part_of_its_checkpoint(tmp_path):
    class Edited(_PrivateLevel):
        def _score(self, unit, student, context):  # another rule under the same settings
            return -super()._score(unit, student, context)

    sim = Simulator(_wave, SQUARE, ["v"], name="wave")
    adaptive_sample(sim, budget=6, seed=0, checkpoint=tmp_path, goal=_PrivateLevel(1.0))
    with pytest.raises(ValueError, match=r"differs in \[.*'acquisition_code'"):
        adaptive_sample(sim, budget=7, seed=0, checkpoint=tmp_path, goal=Edited(1.0))


@pytest.mark.parametrize(("first", "second"), [
    # thresholds past 6 significant digits, which the goal's repr rounds to one value
    ({"goal": "boundary", "threshold": ("<", 1000001.0)},
     {"goal": "boundary", "threshold": ("<", 1000004.0)}),
    # an acquisition's options its repr leaves out
    ({"goal": Straddle(("<", 1000001.0), kappa=0.5)},
     {"goal": Straddle(("<", 1000001.0), kappa=5.0)}),
    # the disagreement student's own parameters
    ({"goal": "disagreement", "threshold": ("<", 1000001.0),
      "student": DecisionTreeClassifier(max_depth=1, random_state=0)},
     {"goal": "disagreement", "threshold": ("<", 1000001.0),
      "student": DecisionTreeClassifier(max_depth=6, random_state=0)}),
    ({"model": GPRegressor(kernel="rbf", n_restarts=2)},
     {"model": GPRegressor(kernel="rbf", n_restarts=3)}),
    # a user's acquisition that keeps its setting private (it resumed, mixing two designs)
    ({"goal": _PrivateLevel(1.0)}, {"goal": _PrivateLevel(2.0)}),
])
def test_a_checkpoint_refuses_a_resume_with_other_settings(tmp_path, first, second):
    sim = Simulator(_wave, SQUARE, ["v"], name="wave")
    adaptive_sample(sim, budget=6, seed=0, checkpoint=tmp_path, **first)
    with pytest.raises(ValueError, match=r"differs in \[.*'settings'\]"):
        adaptive_sample(sim, budget=8, seed=0, checkpoint=tmp_path, **second)
    again = adaptive_sample(sim, budget=7, seed=0, checkpoint=tmp_path, **first)  # same: resumes
    assert len(again.runs) == 7


def _fragile(p):
    if p["x"] > 0.7:
        raise RuntimeError("solver diverged")
    return np.sin(5 * p["x"]) + p["y"]


def test_failing_runs_are_recorded_and_the_design_steers_away():
    result = adaptive_sample(_fragile, space=SQUARE, budget=30, seed=0, progress=False)
    runs = result.runs
    failed = (runs.status == "failed").to_numpy()
    assert len(runs) == 30 and failed.any()
    assert runs.error[failed].str.contains("solver diverged").all()
    assert runs.Y["y"][failed].isna().all()
    # 30 % of the square fails; after the initial design the success GP keeps runs out of it
    assert failed[5:].sum() <= 3
    assert result.history["n_ok"].tolist() == [int((~failed)[:n].sum())
                                               for n in result.history["n_runs"]]


def test_integer_and_categorical_parameters():
    space = Space([Real("x", 0.0, 1.0), Integer("n", 0, 5), Categorical("c", ["a", "b"])])

    def f(p):
        return (p["x"] - 0.3) ** 2 + 0.2 * p["n"] + (1.0 if p["c"] == "b" else 0.0)

    result = adaptive_sample(f, space=space, goal="boundary", threshold=("<", 0.5), budget=20,
                             seed=0, progress=False)
    X = result.runs.X
    assert X["n"].dtype.kind == "i" and X["n"].between(0, 5).all()
    assert set(X["c"]) <= {"a", "b"} and not X.duplicated().any()
    truth = np.array([f(p) < 0.5 for p in X.to_dict("records")])
    np.testing.assert_array_equal(result.cases(), truth)
    assert result.model.predict(X).shape == (20,)


def test_batches_run_on_the_process_executor():
    result = adaptive_sample(two_discs, space=SQUARE, goal="boundary", threshold=("<", 0.0),
                             budget=17, batch_size=4, executor="processes", seed=0,
                             progress=False)
    assert len(result.runs) == 17 and result.runs.ok.all()
    assert result.history["n_runs"].tolist() == [5, 9, 13, 17]
    X = result.runs.X.to_numpy()
    for start in (5, 9, 13):  # each batch holds distinct points (Kriging believer)
        batch = X[start:start + 4]
        gaps = np.linalg.norm(batch[:, None] - batch[None], axis=-1)[np.triu_indices(4, 1)]
        assert gaps.min() > 1e-3


@pytest.mark.dask
@pytest.mark.slow  # a cluster takes seconds to start
def test_batches_run_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        from surrogate.execute import DaskExecutor

        result = adaptive_sample(two_discs, space=SQUARE, budget=11, batch_size=3,
                                 executor=DaskExecutor(client), seed=0, progress=False)
    serial = adaptive_sample(two_discs, space=SQUARE, budget=11, batch_size=3, seed=0,
                             progress=False)
    assert result.runs.ok.all()
    pd.testing.assert_frame_equal(result.runs.X, serial.runs.X)


def test_a_0_1_output_is_a_case_of_interest_without_threshold():
    def inside(p):
        return 1.0 if two_discs(p) < 0 else 0.0

    result = adaptive_sample(inside, space=SQUARE, goal="boundary", budget=20, seed=0,
                             progress=False)
    assert result.threshold.op == ">=" and result.cases().sum() > 0
    with pytest.raises(ValueError, match="needs a 0/1 output.*threshold="):
        adaptive_sample(two_discs, space=SQUARE, goal="boundary", budget=8, seed=0,
                        progress=False)


def test_an_output_that_is_not_0_1_is_refused_on_the_initial_design_and_says_so():
    """Whether a callable's output is 0/1 shows only in its runs: the refusal comes right after
    the initial design (2 * dim + 1 runs, none more) and says how many runs it saw and why
    it could not come before them (it read as if no run had been made)."""
    calls = []

    def teacher(p):
        calls.append(p)
        return two_discs(p)

    with pytest.raises(ValueError, match=r"needs a 0/1 output .* in its first 5 runs \(a "
                       r"teacher's values show only once it has run, so this is checked on "
                       r"the initial design\): pass threshold="):
        adaptive_sample(teacher, space=SQUARE, goal="boundary", budget=20, seed=0,
                        progress=False)
    assert len(calls) == 2 * SQUARE.dim + 1


class _TowardsCorner(Acquisition):
    """Prefers points near (0.9, 0.9): a custom goal through the documented protocol."""

    fidelity_name = None

    def _score(self, unit, student, context):
        posterior = student.posterior(unit)
        return -((unit - 0.9) ** 2).sum(1) + 0.0 * posterior.mean[:, 0] + log_success(posterior)


class _BadShape(Acquisition):
    def _score(self, unit, student, context):
        return unit


def test_custom_acquisitions_through_the_protocol():
    result = adaptive_sample(two_discs, space=SQUARE, goal=_TowardsCorner(), budget=9, seed=0,
                             progress=False)
    X = result.runs.X.to_numpy()[5:]
    assert np.abs(X - 0.9).max() < 0.1
    # no fidelity: the rounds table still counts the runs, and the last student is returned
    assert list(result.history.columns) == ["round", "n_runs", "n_ok", "seconds",
                                            "student_seconds"]
    assert result.history["n_runs"].iloc[-1] == len(result.runs)
    assert result.model is not None and result.model.predict(result.runs.X).shape == (9,)
    assert result.goal.startswith("_TowardsCorner")
    with pytest.raises(ValueError, match=r"_BadShape._score returned shape \(\d+, 2\)"):
        adaptive_sample(two_discs, space=SQUARE, goal=_BadShape(), budget=7, seed=0,
                        progress=False)
    with pytest.raises(ValueError, match="target= needs a fidelity estimate"):
        adaptive_sample(two_discs, space=SQUARE, goal=_TowardsCorner(), budget=7, target=0.5)

    class _OutsideTorch(Acquisition):
        def _score(self, unit, student, context):
            return torch.as_tensor(-((unit.detach().numpy() - 0.9) ** 2).sum(1))

    with pytest.raises(TypeError, match="without a gradient .* or set polish = False"):
        adaptive_sample(two_discs, space=SQUARE, goal=_OutsideTorch(), budget=7, seed=0,
                        progress=False)
    _OutsideTorch.polish = False
    assert len(adaptive_sample(two_discs, space=SQUARE, goal=_OutsideTorch(), budget=7, seed=0,
                               progress=False).runs) == 7


def test_custom_acquisitions_slips_are_named_or_taken():
    """float32 scores overflowed the optimizer's -1e300 filler (a raw torch RuntimeError);
    a fidelity that is no number failed in float(); NaN everywhere went on without a word."""

    class _Float32(_TowardsCorner):
        def _score(self, unit, student, context):
            return super()._score(unit, student, context).float()

    float32 = adaptive_sample(two_discs, space=SQUARE, goal=_Float32(), budget=8, seed=0,
                              progress=False)
    as_float64 = adaptive_sample(two_discs, space=SQUARE, goal=_TowardsCorner(), budget=8,
                                 seed=0, progress=False)
    np.testing.assert_allclose(float32.runs.X.to_numpy(), as_float64.runs.X.to_numpy(),
                               atol=1e-3)

    class _Judged(_TowardsCorner):
        fidelity_name = "judged"

        def fidelity(self, student, data):
            return "good"

    with pytest.raises(TypeError, match="_Judged.fidelity must return a number, got 'good'"):
        adaptive_sample(two_discs, space=SQUARE, goal=_Judged(), budget=7, seed=0,
                        progress=False)

    class _AllNaN(Acquisition):
        fidelity_name = None

        def _score(self, unit, student, context):
            return unit[:, 0] * float("nan")

    with pytest.warns(UserWarning, match="_AllNaN._score returned NaN at every point") as seen:
        adaptive_sample(two_discs, space=SQUARE, goal=_AllNaN(), budget=7, seed=0,
                        progress=False)
    assert sum("returned NaN" in str(w.message) for w in seen) == 1  # once a design
    same = _AllNaN()
    for _ in range(2):  # the same instance in a second design warns again
        with pytest.warns(UserWarning, match="_AllNaN._score returned NaN at every point"):
            adaptive_sample(two_discs, space=SQUARE, goal=same, budget=7, seed=0,
                            progress=False)

    class _Ranks(_TowardsCorner):  # integer scores: no gradient, so no polish
        polish = False

        def _score(self, unit, student, context):
            return torch.argsort(torch.argsort(super()._score(unit, student, context)))

    assert len(adaptive_sample(two_discs, space=SQUARE, goal=_Ranks(), budget=7, seed=0,
                               progress=False).runs) == 7
    from decimal import Decimal

    from surrogate.sequential._loop import _fidelity_value

    for number in (0.5, 1, np.float32(0.5), Decimal("0.5"), torch.tensor(0.5)):
        assert _fidelity_value(_Judged(), number) == 0.5 or number == 1
    for wrong in (True, np.bool_(True), "0.5", None, np.array([0.5]), torch.tensor([0.5, 0.6]),
                  torch.tensor(1 + 1j)):
        with pytest.raises(TypeError, match="_Judged.fidelity must return a number"):
            _fidelity_value(_Judged(), wrong)


def test_disagreement_distils_a_better_tree_than_one_fitted_on_a_same_size_lhs():
    from sklearn.tree import DecisionTreeClassifier

    def diagonal(p):
        return p["x"] + p["y"]

    T = sample(SQUARE, 2000, method="random", seed=2)
    truth = (T.sum(axis=1) > 1.2).to_numpy()
    for seed in (0, 1):
        tree = DecisionTreeClassifier(max_depth=3, random_state=0)
        result = adaptive_sample(diagonal, space=SQUARE, goal="disagreement", student=tree,
                                 threshold=(">", 1.2), budget=25, seed=seed, progress=False)
        assert isinstance(result.model, DecisionTreeClassifier)
        assert result.fidelity == "disagreement" and len(result.history) == 21
        X = sample(SQUARE, 25, method="lhs", seed=seed)
        one_shot = DecisionTreeClassifier(max_depth=3, random_state=0).fit(
            X, X.sum(axis=1) > 1.2)
        accuracy = np.mean(result.model.predict(T) == truth)
        assert accuracy > 0.9 and accuracy > np.mean(one_shot.predict(T) == truth)
        # the runs went to the edge, where the teacher's class is in question
        runs = result.runs.X.to_numpy()[5:]
        assert np.abs(runs.sum(axis=1) - 1.2).mean() < 0.5 * np.abs(T.sum(axis=1) - 1.2).mean()


def test_same_seed_same_runs_and_the_result_reads_plainly():
    first = adaptive_sample(two_discs, space=SQUARE, budget=9, seed=3, progress=False)
    second = adaptive_sample(two_discs, space=SQUARE, budget=9, seed=3, progress=False)
    pd.testing.assert_frame_equal(first.runs.X, second.runs.X)
    assert isinstance(first, AdaptiveResult)
    assert repr(first).startswith("AdaptiveResult(goal='accuracy', 9 runs, q2_loo=")
    with pytest.raises(ValueError, match="cases\\(\\) needs a case of interest"):
        first.cases()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"goal": "nope"}, ValueError, "goal must be one of"),
        ({"goal": "accuracy", "threshold": ("<", 0)}, ValueError, "threshold= is for"),
        ({"goal": "disagreement"}, ValueError, "needs student="),
        ({"student": GPRegressor()}, ValueError, "student= is for goal='disagreement'"),
        ({"goal": "disagreement", "student": GPClassifier()}, ValueError,
         r"learns a case of interest \(GPClassifier: classes or boxes\) needs threshold="),
        ({"goal": "disagreement", "student": PRIM()}, ValueError,
         r"learns a case of interest \(PRIM: classes or boxes\) needs threshold="),
        ({"target": 1.5}, ValueError, r"Q² for this goal: a number in \(0, 1\)"),
        ({"target": float("nan")}, ValueError, "target must be a finite number"),
        ({"goal": "boundary", "threshold": ("<", 0), "target": 0.7}, ValueError,
         "misclassified share"),
        ({"goal": "boundary", "threshold": ("==", 0)}, ValueError, "operator must be one of"),
        ({"goal": "boundary", "threshold": "< 0"}, TypeError, "pair"),
        ({"model": GPRegressor}, TypeError, "model must be an unfitted GP regressor instance"),
        ({"model": object()}, TypeError, "model must be an unfitted GP regressor instance"),
        ({"budget": 3}, ValueError, r"budget=3 is smaller than n_init=5"),
        ({"batch_size": 0}, ValueError, "batch_size must be"),
        ({"executor": "threads"}, ValueError, "executor must be one of"),
        ({"progress": "yes"}, TypeError, "progress must be True, False or None"),
        ({"checkpoint": 5}, TypeError, r"checkpoint must be a directory path"),
        ({"checkpoint": ""}, TypeError, r"checkpoint must be a directory path"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(kwargs, error, match):
    options = {"space": SQUARE, "budget": 10, **kwargs}
    with pytest.raises(error, match=match):
        adaptive_sample(two_discs, **options)


def test_bad_objects_are_refused_by_their_own_names(tmp_path):
    with pytest.raises(TypeError, match=r"^teacher must be a surrogate.Simulator or a callable"):
        adaptive_sample(5, space=SQUARE, budget=10)
    with pytest.raises(TypeError, match=r"threshold must be a pair \(op, value\)"):
        UFunction(10.0)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file; name a new or empty directory"):
        adaptive_sample(two_discs, space=SQUARE, budget=10, checkpoint=tmp_path / "file")


def test_a_disagreement_student_that_cannot_read_categories_is_refused_before_any_run():
    from sklearn.tree import DecisionTreeRegressor

    space = Space([Real("x", 0, 1), Categorical("c", ["a", "b", "c"])])
    calls = []

    def teacher(p):
        calls.append(1)
        return p["x"] + {"a": 0, "b": 1, "c": 2}[p["c"]]

    with pytest.raises(ValueError, match=r"student DecisionTreeRegressor cannot take the "
                                         r"categorical input\(s\) \['c'\]"):
        adaptive_sample(teacher, space=space, budget=10, seed=0, goal="disagreement",
                        student=DecisionTreeRegressor())
    assert calls == []  # the initial design ran in full, then pandas failed


def test_a_multi_output_teacher_needs_output_for_a_boundary():
    two = Simulator(lambda x, y: (x, y), SQUARE, ["a", "b"], name="two")
    with pytest.raises(ValueError, match="pass output= naming the one goal='boundary'"):
        adaptive_sample(two, goal="boundary", threshold=("<", 0.5), budget=10)
    result = adaptive_sample(two, budget=7, seed=0, progress=False)  # accuracy: every output
    assert result.outputs == ["a", "b"] and result.model.predict(result.runs.X).shape == (7, 2)


def test_a_boundary_target_waits_for_runs_on_both_sides_of_the_edge():
    """With a few runs on one side the student's edge is extrapolated and its
    misclassification estimate far too low: the target must not stop the design then."""
    import simulators

    branin = simulators.load("branin")
    grid = sample(branin.space, 4000, method="random", seed=3)
    truth = branin(grid)["y"].to_numpy() < 10.0
    result = adaptive_sample(branin, goal="boundary", threshold=("<", 10.0), budget=60,
                             target=0.05, seed=0, progress=False)
    case = result.runs.Y["y"].to_numpy() < 10.0
    assert result.stopped == "target"
    assert min(case.sum(), (~case).sum()) >= 5
    error = np.mean((result.model.predict(grid) < 10.0) != truth)
    assert error < 0.08, error  # was 0.14 when it stopped after 7 runs


def test_a_boundary_target_on_a_0_1_output_waits_for_ten_runs_per_input():
    # a GP on a dozen 0/1 runs was sure of a wrong edge (one input taken for irrelevant) and
    # stopped by target at 0.014-0.019 misclassified when 0.18-0.22 of the space was
    def inside(p):
        return float(p["a"] ** 2 + 2 * p["b"] ** 2 < 0.5)

    space = Space([Real("a", -1, 1), Real("b", -1, 1)])
    for seed in (1, 4):  # seeds that stopped after 18 and 12 runs
        result = adaptive_sample(inside, space=space, goal="boundary", budget=40, target=0.02,
                                 seed=seed, progress=False)
        assert result.stopped == "budget" or len(result.runs) >= 20


def test_a_disagreement_target_does_not_stop_while_every_run_is_on_one_side():
    from sklearn.tree import DecisionTreeClassifier

    space = Space([Real("a", -1, 1), Real("b", -1, 1)])
    result = adaptive_sample(lambda p: p["a"] ** 2 + p["b"] ** 2, space=space,
                             goal="disagreement", threshold=("<", -1.0),
                             student=DecisionTreeClassifier(max_leaf_nodes=8, random_state=0),
                             budget=30, target=0.05, seed=0, progress=False)
    assert result.stopped == "budget"  # it stopped "by target" with no student at all


def test_one_initial_run_still_gets_a_student_and_a_target_on_the_last_round_counts():
    def teacher(p):
        return float(_smooth(np.array([[p["x"], p["y"]]]))[0])

    result = adaptive_sample(teacher, space=SQUARE, budget=22, n_init=1, seed=0,
                             progress=False)
    assert result.model is not None and np.isfinite(result.history["q2_loo"].iloc[-1])
    assert result.history["q2_loo"].iloc[1:].notna().all()  # from the second round on
    reached = adaptive_sample(teacher, space=SQUARE, budget=22, n_init=1, seed=0,
                              target=result.history["q2_loo"].iloc[-1] - 1e-9,
                              progress=False)
    assert len(reached.runs) <= 22 and reached.stopped == "target"


def test_an_initial_design_that_fails_entirely_is_reported_with_its_error():
    def misspelt(p):
        return p["X"] ** 2

    with pytest.warns(RuntimeWarning, match=r"all 5 runs of the initial design failed "
                                            r"\(the first: KeyError: 'X'\)"):
        result = adaptive_sample(misspelt, space=SQUARE, budget=7, seed=0, progress=False)
    assert not result.runs.ok.any() and len(result.runs) == 7


def test_a_checkpoint_refuses_another_function_of_the_same_name(tmp_path):
    options = {"space": SQUARE, "budget": 7, "seed": 0, "progress": False,
               "checkpoint": tmp_path}
    adaptive_sample(lambda p: p["x"], **options)
    with pytest.raises(ValueError, match=r"differs in \['code'\]"):
        adaptive_sample(lambda p: p["x"] + 100.0, **options)  # also named '<lambda>'
    assert len(adaptive_sample(lambda p: p["x"], **options).runs) == 7  # the same code resumes


def test_a_resumption_seeded_by_a_generator_goes_on_as_the_design_it_resumes(tmp_path):
    # each call drew a new root seed from its generator: the resumed design's initial rows came
    # from the first generator and its later rounds from the second, so it was neither design
    from surrogate.optimize import minimize

    def f(p):
        return (p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2

    for design, runs_of in ((adaptive_sample, lambda r: r.runs),
                            (minimize, lambda r: r.history)):
        whole = runs_of(design(f, space=SQUARE, budget=10, seed=np.random.default_rng(0)))
        options = {"space": SQUARE, "checkpoint": tmp_path / design.__name__}
        design(f, budget=7, seed=np.random.default_rng(0), **options)
        resumed = runs_of(design(f, budget=10, seed=np.random.default_rng(1), **options))
        pd.testing.assert_frame_equal(resumed.X, whole.X)


def test_a_budget_too_small_for_the_target_is_warned_of():
    with pytest.warns(UserWarning, match=r"only from 20 successful runs on .* budget=12"):
        result = adaptive_sample(lambda p: p["x"] + p["y"], space=SQUARE, budget=12,
                                 target=0.5, seed=0, progress=False)
    assert result.stopped == "budget"

    class Seven(VarianceReduction):  # a custom rule: no whole number of runs per input
        def min_runs(self, dim):
            return 7

    with pytest.warns(UserWarning, match=r"only from 7 successful runs on, more than budget=6"):
        adaptive_sample(lambda p: p["x"] + p["y"], space=SQUARE, budget=6, goal=Seven(),
                        target=0.5, seed=0, progress=False)


def test_a_target_that_could_never_be_checked_is_warned_of():
    # an SVGP student gives no leave-one-out Q²: the NaN fidelity never stopped the design,
    # and the result said only that the budget ran out
    with pytest.warns(UserWarning, match="target= was never checked: the fidelity q2_loo was "
                                         "NaN in every round"):
        result = adaptive_sample(lambda p: p["x"] ** 2 + p["y"], space=SQUARE, budget=22,
                                 target=0.5, seed=0, model=GPRegressor(method="svgp"),
                                 progress=False)
    assert result.stopped == "budget" and result.history["q2_loo"].isna().all()


def test_a_fidelity_named_as_a_rounds_column_is_refused():
    # fidelity_name="n_ok" overwrote the rounds table's n_ok with the fidelity; "seconds"
    # replaced the fidelity by the wall time, and target= then stopped on the time
    for name in ("round", "n_runs", "n_ok", "seconds", "student_seconds", ""):
        named = type("_Named", (_TowardsCorner,), {"fidelity_name": name,
                                                   "fidelity": lambda self, s, d: 0.25})
        with pytest.raises(ValueError, match=f"_Named.fidelity_name must be None or a "
                                             f"non-empty str .* got '{name}'"):
            adaptive_sample(two_discs, space=SQUARE, goal=named(), budget=7, seed=0,
                            progress=False)
    fine = type("_Named", (_TowardsCorner,), {"fidelity_name": "corner",
                                              "fidelity": lambda self, s, d: 0.25})
    history = adaptive_sample(two_discs, space=SQUARE, goal=fine(), budget=7, seed=0,
                              progress=False).history
    assert list(history.columns) == ["round", "n_runs", "n_ok", "corner", "seconds",
                                     "student_seconds"]
    assert history["n_ok"].tolist() == history["n_runs"].tolist() == [5, 6, 7]


def test_a_finite_space_caps_the_budget_at_its_points():
    # 6 points: past them every run repeated one (runs 6-9 were all k=1, c=a)
    from surrogate.optimize import minimize

    space = Space([Integer("k", 0, 2), Categorical("c", ["a", "b"])])

    def teacher(p):
        return float((p["k"] - 1) ** 2 + (p["c"] == "b"))

    for design in (lambda: minimize(teacher, space=space, budget=10, seed=0).history.X,
                   lambda: adaptive_sample(teacher, space=space, budget=10, seed=0,
                                           progress=False).runs.X):
        with pytest.warns(UserWarning, match="holds only 6 distinct points"):
            X = design()
        assert len(X) == 6 and not X.duplicated().any()


def test_random_rounds_of_a_finite_space_do_not_repeat_runs():
    # before two runs succeed the rounds are random draws, which repeated points already run:
    # with a teacher that works at one point of 12, seeds 1 and 3 never ran it
    from surrogate.optimize import minimize

    space = Space([Integer("n", 0, 3), Categorical("c", ["a", "b", "c"])])

    def teacher(p):
        if not (p["n"] == 3 and p["c"] == "c"):
            raise RuntimeError("diverged")
        return 1.0

    for seed in (1, 3):
        runs = adaptive_sample(teacher, space=space, budget=12, seed=seed, progress=False).runs
        assert not runs.X.duplicated().any() and int(runs.ok.sum()) == 1
        assert minimize(teacher, space=space, budget=12, seed=seed).y == 1.0
    six = Space([Integer("n", 0, 2), Categorical("c", ["a", "b"])])
    batch = adaptive_sample(lambda p: float(p["n"]), space=six, budget=6, n_init=1,
                            batch_size=5, seed=0, progress=False).runs.X
    assert len(batch) == 6 and not batch.duplicated().any()


def test_random_rounds_run_the_last_points_of_a_finite_space_the_draws_miss():
    # 100 random redraws could miss the one point of 40 left unrun: seed 3 ran a=32 twice and
    # never a=9, though the budget is capped at the space's 40 points so that none repeats
    space = Space([Integer("a", 0, 39)])

    def teacher(p):
        raise RuntimeError("diverged")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # every run fails, as meant
        runs = adaptive_sample(teacher, space=space, budget=40, batch_size=4, seed=3,
                               progress=False).runs
    assert len(runs) == 40 and sorted(runs.X["a"]) == list(range(40))


def test_a_plain_function_output_name_must_be_a_name():
    with pytest.raises(TypeError, match="output must be a non-empty str"):
        adaptive_sample(lambda p: p["x"], space=SQUARE, output="", budget=8, progress=False)


def test_resuming_with_a_smaller_budget_returns_at_most_the_budget(tmp_path):
    from surrogate.optimize import minimize

    def bowl(p):
        return float((p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2)

    options = {"space": SQUARE, "batch_size": 3, "seed": 0}
    minimize(bowl, budget=14, checkpoint=tmp_path / "bo", **options)
    assert minimize(bowl, budget=9, checkpoint=tmp_path / "bo", **options).n_evaluations == 9
    adaptive_sample(bowl, budget=16, checkpoint=tmp_path / "ad", progress=False, **options)
    shorter = adaptive_sample(bowl, budget=10, checkpoint=tmp_path / "ad", progress=False,
                              **options)
    assert len(shorter.runs) == 10 and shorter.stopped == "budget"


def test_a_finite_space_initial_design_holds_no_repeat_and_may_be_the_whole_space():
    space = Space([Integer("a", 0, 3), Categorical("c", ["x", "y"])])  # 8 points

    def teacher(p):
        return float(p["a"] + (p["c"] == "y"))

    for n_init in (None, 8):
        with pytest.warns(UserWarning, match="holds only 8 distinct points"):
            result = adaptive_sample(teacher, space=space, budget=20, n_init=n_init, seed=0,
                                     progress=False)
        assert len(result.runs) == 8 and not result.runs.X.duplicated().any()
    small = Space([Categorical("p", ["u", "v"]), Categorical("q", ["u", "v"])])  # 4 points
    exact = adaptive_sample(lambda p: float(p["p"] == "u"), space=small, budget=4, seed=0,
                            progress=False)  # the default n_init (5) is cut to the space
    assert len(exact.runs) == 4 and not exact.runs.X.duplicated().any()
    # the n_init the user gave is the one named, not the space's 8 it would be cut to
    with pytest.raises(ValueError, match=r"budget=6 is smaller than n_init=10: "):
        adaptive_sample(teacher, space=space, budget=6, n_init=10, seed=0, progress=False)


def test_a_large_space_of_switches_replaces_repeats_without_listing_the_space():
    from surrogate.sequential._loop import ENUMERATE_UP_TO, initial_design

    space = Space([Integer(f"b{i}", 0, 1) for i in range(18)])  # 262,144 points
    assert 2 ** 18 > ENUMERATE_UP_TO
    for root in range(6):
        design = initial_design(space, 1600, root)
        assert len(design) == 1600 and not design.duplicated().any()
        assert design.equals(initial_design(space, 1600, root))  # same seed, same design


def test_a_smaller_budget_resumption_assesses_its_own_runs(tmp_path):
    def bowl(p):
        return float((p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2)

    options = {"space": SQUARE, "batch_size": 4, "seed": 0, "progress": False,
               "checkpoint": tmp_path}
    adaptive_sample(bowl, budget=13, **options)
    shorter = adaptive_sample(bowl, budget=11, **options)
    assert shorter.history["n_runs"].iloc[-1] == len(shorter.runs) == 11


def _hangs_high(p):
    """x^2, but a run with x > 0.8 hangs (outlasts any timeout the test sets)."""
    if p["x"] > 0.8:
        time.sleep(60)
    return p["x"] ** 2


@pytest.mark.parametrize("loop", ["adaptive_sample", "minimize"])
def test_a_hanging_run_times_out_and_the_loop_goes_on(loop):
    """timeout= stops an overrunning run, records it as "timeout", and the design goes on
    (the loop had no per-run timeout: a hanging teacher hung it)."""
    from surrogate.optimize import minimize

    space = Space([Real("x", 0.0, 1.0)])
    run = adaptive_sample if loop == "adaptive_sample" else minimize
    extra = {"progress": False} if loop == "adaptive_sample" else {}
    start = time.perf_counter()
    result = run(_hangs_high, space=space, budget=6, n_init=5, seed=0, timeout=0.5,
                 **extra)
    runs = result.runs if loop == "adaptive_sample" else result.history
    assert time.perf_counter() - start < 30
    high = runs.X["x"].to_numpy() > 0.8
    assert high.any() and len(runs) == 6
    assert (runs.status[high] == "timeout").all() and (runs.status[~high] == "ok").all()
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        run(_hangs_high, space=space, budget=6, timeout=-1, **extra)
    with pytest.raises(ValueError, match="retries must be an int >= 0"):
        run(_hangs_high, space=space, budget=6, retries=1.5, **extra)


def test_settings_are_described_alike_in_every_process():
    """A set's repr follows the hash seed: a goal holding one was refused its own resume in a
    new process ('differs in settings')."""
    code = ("from surrogate._identity import settings_of\n"
            "from sklearn.ensemble import HistGradientBoostingRegressor as H\n"
            "print(settings_of(H(categorical_features=frozenset('cdefgh'))))\n"
            "class Goal:\n    def __init__(self):\n        self.tags = {'alpha', 'beta', 'gamma'}\n"
            "print(settings_of(Goal()))")
    texts = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONHASHSEED": str(seed)}, check=True).stdout
             for seed in (1, 2, 3)}
    assert len(texts) == 1, texts
    assert "frozenset({'c', 'd', 'e', 'f', 'g', 'h'})" in texts.pop()


def test_a_disagreement_student_left_unseeded_is_seeded_from_the_design():
    from sklearn.ensemble import RandomForestClassifier

    space = Space([Real("x1", -5.0, 10.0), Real("x2", 0.0, 15.0)])

    def branin(p):
        return (p["x2"] - 0.129 * p["x1"] ** 2 + 1.59 * p["x1"] - 6) ** 2 \
            + 9.6 * np.cos(p["x1"]) + 10

    designs = [adaptive_sample(branin, space=space, goal="disagreement",
                               threshold=("<", 30), budget=10, n_init=5, seed=0,
                               student=RandomForestClassifier(n_estimators=5),
                               progress=False).runs.X for _ in range(2)]
    pd.testing.assert_frame_equal(designs[0], designs[1])


def test_a_second_driver_on_a_running_designs_checkpoint_is_refused_at_once(tmp_path,
                                                                             monkeypatch):
    # one teacher for both drivers (the same code): it logs each call; only the first sleeps
    (tmp_path / "teacher_module.py").write_text(textwrap.dedent("""
        import os
        import time

        def slow(p):
            with open(os.environ["TEACHER_LOG"], "a") as log:
                log.write("call\\n")
            time.sleep(float(os.environ.get("TEACHER_SLEEP", "0")))
            return p["x"] ** 2
    """))
    log, checkpoint = tmp_path / "calls.log", tmp_path / "design"
    run = textwrap.dedent(f"""
        from teacher_module import slow
        from surrogate.sequential import adaptive_sample
        from surrogate.space import Real, Space
        print("started", flush=True)
        adaptive_sample(slow, space=Space([Real("x", 0.0, 1.0)]), budget=7, seed=0,
                        checkpoint={str(checkpoint)!r}, progress=False)
        print("done", flush=True)
    """)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TEACHER_LOG": str(log), "TEACHER_SLEEP": "0.25",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-c", run], stdout=subprocess.PIPE, text=True,
                               env=env)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TEACHER_LOG", str(log))
    from teacher_module import slow

    try:
        assert process.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 60
        while not (checkpoint / "init").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(ValueError, match="is in use by another adaptive design"):
            adaptive_sample(slow, space=Space([Real("x", 0.0, 1.0)]), budget=7, seed=0,
                            checkpoint=checkpoint, progress=False)
    finally:
        out, _ = process.communicate(timeout=120)
    assert "done" in out and log.read_text().count("call") == 7
    again = adaptive_sample(slow, space=Space([Real("x", 0.0, 1.0)]), budget=7, seed=0,
                            checkpoint=checkpoint, progress=False)  # the lock went with it
    assert len(again.runs) == 7 and log.read_text().count("call") == 7


def test_a_design_refused_at_start_lets_go_of_its_checkpoint(tmp_path):
    from surrogate.execute._checkpoint import _Journal

    def bowl(p):
        return float((p["x"] - 0.3) ** 2)

    options = {"space": Space([Real("x", 0.0, 1.0)]), "budget": 6, "seed": 0,
               "checkpoint": tmp_path, "progress": False}
    with pytest.raises(ValueError, match="executor must be one of") as refused:
        adaptive_sample(bowl, executor="bogus", **options)
    assert refused.value is not None and not _Journal.open_fds  # kept alive, as a notebook does
    assert len(adaptive_sample(bowl, **options).runs) == 6


def test_a_disagreement_student_reads_a_categorical_of_numbers_as_categories():
    # the GP student was handed the object column of mesh sizes: it read them as ordered
    # numbers and warned so at each of the design's rounds
    space = Space([Real("x", 0, 1), Categorical("mesh", [10, 20, 40])])

    def teacher(p):
        return p["x"] + {10: 0.0, 20: 2.0, 40: 1.0}[p["mesh"]]

    with warnings.catch_warnings():  # "read as ordered numbers" was warned 40 times
        warnings.filterwarnings("error", ".* hold numbers as objects", UserWarning)
        student = NNRegressor(hidden_layers=(8,), n_ensemble=2, max_epochs=5)
        result = adaptive_sample(teacher, space=space, budget=8, seed=0, goal="disagreement",
                                 student=student, progress=False)
    assert result.runs.ok.all() and len(result.runs) == 8


def test_a_boundary_design_on_a_student_that_is_not_an_exact_gp_runs_on_the_straddle():
    # an SVGP student (or method="auto" past max_exact runs) fell back to Straddle's score,
    # which read a kappa the targeted variance reduction does not have: AttributeError
    def bowl(p):
        return float(p["x"] ** 2 + p["y"] ** 2)

    result = adaptive_sample(bowl, space=SQUARE, goal="boundary", threshold=("<", 0.5),
                             budget=8, seed=0, model=GPRegressor(method="svgp"),
                             progress=False)
    assert len(result.runs) == 8 and result.history["misclassified"].notna().all()


def test_a_round_resumed_with_a_smaller_budget_runs_the_teacher_no_further(tmp_path):
    # the round begun with four runs was finished whole, then cut to the budget: two teacher
    # runs past a budget of 7
    options = {"goal": "boundary", "threshold": ("<", 0.09), "batch_size": 4, "seed": 0,
               "progress": False}
    teacher = _CountingCircle(stop_after=6)  # the initial 5, then 1 of the batch of 4
    with pytest.raises(_Interrupt):
        adaptive_sample(Simulator(teacher, SQUARE, ["r2"], name="c"), checkpoint=tmp_path,
                        budget=13, **options)
    teacher._stop_after = None
    resumed = adaptive_sample(Simulator(teacher, SQUARE, ["r2"], name="c"),
                              checkpoint=tmp_path, budget=7, **options)
    assert len(teacher.calls) == len(resumed.runs) == 7
    fresh = adaptive_sample(Simulator(_CountingCircle(), SQUARE, ["r2"], name="c"), budget=7,
                            **options)
    pd.testing.assert_frame_equal(resumed.runs.X, fresh.runs.X)


def test_a_disagreement_design_explores_beyond_the_case_it_found_first():
    # its runs stayed in one of Branin's three basins of y < 20, where the teacher's GP
    # was sure of the wrong class elsewhere, and it stopped on an estimate of 0.047 for a
    # true disagreement of 0.215
    import simulators
    from surrogate.distillation import PrunedTree

    branin = simulators.load("branin")
    centres = np.array([[-np.pi, 12.275], [np.pi, 2.275], [9.42478, 2.475]])
    for seed in (0, 1):
        result = adaptive_sample(branin, goal="disagreement", output="y",
                                 threshold=("<", 20.0), student=PrunedTree(8), budget=40,
                                 target=0.05, seed=seed, progress=False)
        X, y = result.runs.X.to_numpy(), result.runs.Y["y"].to_numpy()
        visited = [bool(((np.abs(X - c) < [2.5, 3.5]).all(axis=1) & (y < 20)).any())
                   for c in centres]
        assert sum(visited) >= 2, visited


def test_a_boundary_design_reads_the_same_in_any_units_of_the_output():
    # the std floor was 1e-12 in the output's units: an output of 1e-12 (a rate, a current)
    # had every case probability pulled towards 0.5 and reported 0.30 misclassified for 0.001
    def teacher(scale):
        return Simulator(lambda X: pd.DataFrame(
            {"y": scale * (np.sin(4 * X["x"]) + X["y"] ** 2 - 0.5)}), SQUARE, ["y"],
            vectorized=True)

    shares = [adaptive_sample(teacher(scale), budget=16, goal="boundary",
                              threshold=(">", 0.0), n_init=10, batch_size=2, seed=0)
              .history["misclassified"].to_numpy() for scale in (1.0, 1e-12)]
    assert shares[0][-1] < 0.05
    np.testing.assert_allclose(shares[1], shares[0], rtol=1e-3, atol=1e-6)


def test_an_accuracy_target_above_what_noisy_runs_can_show_is_warned_of():
    # leave-one-out Q² against noisy runs is capped at 1 - noise / var(y) (0.91 here): a target
    # of 0.95 spent the whole budget without a word while the student's Q² on the function was
    # 0.98 (the noise is not taken out: on a deterministic teacher it is the GP's misfit)
    def f(x, y):
        return np.sin(3 * x) + 0.5 * y**2

    space = Space([Real("x", 0.0, 2.0), Real("y", 0.0, 2.0)])
    rng = np.random.default_rng(0)
    with pytest.warns(UserWarning, match=r"target=0.95 is above what leave-one-out Q² can show "
                                         r"on these runs: .* 1 - noise / var\(y\) = 0\.9"):
        result = adaptive_sample(
            lambda p: float(f(p["x"], p["y"]) + 0.3 * rng.standard_normal()), space=space,
            budget=36, target=0.95, seed=0, progress=False)
    assert result.stopped == "budget"
    with warnings.catch_warnings():  # a deterministic teacher that meets its target: no word
        warnings.simplefilter("error", UserWarning)
        assert adaptive_sample(lambda p: float(f(p["x"], p["y"])), space=space, budget=36,
                               target=0.95, seed=0, progress=False).stopped == "target"
        # nor beside a constant output (its ceiling was "1 - noise / var(y) = -inf")
        teacher = Simulator(lambda x, y: {"f": float(f(x, y)), "c": 1.0}, space, ["f", "c"])
        assert adaptive_sample(teacher, budget=24, target=0.9999999,
                               seed=0, progress=False).stopped == "budget"


def test_a_boundary_goal_is_recorded_in_a_checkpoint_as_before():
    # the checkpoint's signature holds the goal's repr (the exact threshold is in its
    # settings): printed with every digit, checkpoints made before were refused on resume
    assert repr(UFunction(("<", 0.123456789))) == "UFunction(('<', 0.123457))"
