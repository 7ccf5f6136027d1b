"""The ``device="cuda"`` paths against the CPU ones: the same data give students of the same
accuracy whose predictions agree, models move between devices through save/load, and the
adaptive loop runs with a GPU student. Skipped where torch sees no GPU (CI has none); run on a
GPU machine with ``pytest tests/models/test_cuda.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import surrogate as sg
from surrogate.models import (
    AutoRegressor,
    FieldGPRegressor,
    GPClassifier,
    GPRegressor,
    NNClassifier,
    NNRegressor,
    load,
    q2,
)
from surrogate.sequential import adaptive_sample

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

MIXED = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("scheme", ["a", "b", "c"]),
                  sg.Real("z", 0.0, 1.0)])
SLOPE = {"a": 1.0, "b": -2.0, "c": 0.5}


def _wavy(X):
    return np.sin(5 * X[:, 0]) + X[:, 1] ** 2 + 0.3 * X[:, 2]


def _switch(X):
    return X["scheme"].map(SLOPE).to_numpy(float) * X["x"] + np.sin(3 * X["z"])


@pytest.fixture(scope="module")
def wavy():
    rng = np.random.default_rng(0)
    X, Xt = rng.random((80, 3)), rng.random((2000, 3))
    return X, _wavy(X), Xt, _wavy(Xt)


@pytest.mark.parametrize("kwargs", [{}, {"kernel": "auto"}, {"lengthscale_prior": "gamma"}])
def test_gp_on_the_gpu_matches_the_cpu(wavy, kwargs):
    X, y, Xt, yt = wavy
    cpu = GPRegressor(seed=0, **kwargs).fit(X, y)
    gpu = GPRegressor(seed=0, device="cuda", **kwargs).fit(X, y)
    assert gpu._U.device.type == "cuda"
    mean_c, std_c = cpu.predict(Xt, return_std=True)
    mean_g, std_g = gpu.predict(Xt, return_std=True)
    assert isinstance(mean_g, np.ndarray) and mean_g.dtype == np.float64
    assert q2(yt, mean_g) > 0.999 and q2(yt, mean_c) > 0.999
    # the hyperparameter search runs in torch on the GPU and in numpy on the CPU: both land
    # in the same mode, so the predictions agree far inside the model's own uncertainty
    assert np.max(np.abs(mean_g - mean_c)) < 0.05 * np.std(yt)
    assert np.allclose(gpu.lengthscale_, cpu.lengthscale_, rtol=0.1)
    assert np.median(np.abs(std_g / std_c - 1)) < 0.1


def test_batched_outputs_and_mixed_inputs_on_the_gpu():
    X = sg.sample(MIXED, 100, seed=0)
    Xt = sg.sample(MIXED, 1000, method="random", seed=1)
    Y = np.column_stack([_switch(X), np.cos(4 * X["z"].to_numpy())])
    gpu = GPRegressor(seed=0, device="cuda").fit(X, Y)
    cpu = GPRegressor(seed=0).fit(X, Y)
    mean = gpu.predict(Xt)
    assert mean.shape == (1000, 2)
    assert q2(_switch(Xt), mean[:, 0]) > 0.99
    assert np.max(np.abs(mean - cpu.predict(Xt))) < 0.05


def test_save_on_the_gpu_load_on_the_cpu_and_back(wavy, tmp_path):
    X, y, Xt, _ = wavy
    gpu = GPRegressor(seed=0, device="cuda").fit(X, y)
    gpu.save(tmp_path / "gp")
    cpu = load(tmp_path / "gp")
    assert cpu._device.type == "cpu"
    np.testing.assert_allclose(cpu.predict(Xt), gpu.predict(Xt), rtol=1e-9, atol=1e-9)
    back = load(tmp_path / "gp", device="cuda")
    assert back._U.device.type == "cuda"
    np.testing.assert_allclose(back.predict(Xt), gpu.predict(Xt), rtol=1e-9, atol=1e-9)


def test_field_gp_with_a_shared_tail_on_the_gpu(tmp_path):
    times = np.linspace(0.0, 5.0, 41)
    space = sg.Space([sg.Real("a", 0.5, 2.0), sg.Real("k", 0.1, 1.0), sg.Real("w", 1.0, 3.0)])

    def field(X):
        a, k, w = (X[c].to_numpy()[:, None] for c in ("a", "k", "w"))
        return a * np.exp(-k * times) * (1 + 0.2 * np.sin(w * times))

    X = sg.sample(space, 80, seed=0)
    Xt = sg.sample(space, 500, method="random", seed=1)
    gpu = FieldGPRegressor(seed=0, device="cuda").fit(X, field(X))
    cpu = FieldGPRegressor(seed=0).fit(X, field(X))
    assert gpu.n_components_ == cpu.n_components_ >= 3
    assert gpu.score(Xt, field(Xt)) > 0.995
    assert abs(gpu.score(Xt, field(Xt)) - cpu.score(Xt, field(Xt))) < 2e-3
    gpu.save(tmp_path / "field")
    np.testing.assert_allclose(load(tmp_path / "field").predict(Xt), gpu.predict(Xt),
                               rtol=1e-8, atol=1e-8)


def test_peak_aligned_field_gp_on_the_gpu():
    rng = np.random.default_rng(2)
    t = np.linspace(0.0, 10.0, 101)
    X, Xt = rng.random((40, 2)), rng.random((300, 2))

    def bump(A):  # a peak travelling from t = 2 to t = 8
        return (0.5 + A[:, 1:]) * np.exp(-((t - 2.0 - 6.0 * A[:, :1]) / 0.6) ** 2)

    gpu = FieldGPRegressor(align="peak", seed=0, device="cuda").fit(X, bump(X))
    cpu = FieldGPRegressor(align="peak", seed=0).fit(X, bump(X))
    assert gpu.score(Xt, bump(Xt)) > 0.999
    np.testing.assert_allclose(gpu.predict(Xt), cpu.predict(Xt), atol=5e-3)


def test_classifiers_and_networks_on_the_gpu():
    rng = np.random.default_rng(0)
    X, Xt = rng.random((400, 2)), rng.random((2000, 2))
    inside = lambda A: ((A - 0.5) ** 2).sum(1) < 0.09  # noqa: E731 - a planted disc
    for model in (GPClassifier(seed=0, device="cuda"),
                  GPClassifier(additive=True, warp=True, seed=0, device="cuda"),
                  NNClassifier(n_ensemble=3, max_epochs=200, seed=0, device="cuda")):
        model.fit(X, inside(X))
        proba = model.predict_proba(Xt)
        assert proba.shape == (2000, 2) and np.all((proba >= 0) & (proba <= 1))
        assert np.mean((proba[:, 1] > 0.5) == inside(Xt)) > 0.93, type(model).__name__
    nn = NNRegressor(n_ensemble=3, max_epochs=300, seed=0, device="cuda")
    nn.fit(X, np.sin(4 * X[:, 0]) + X[:, 1])
    assert q2(np.sin(4 * Xt[:, 0]) + Xt[:, 1], nn.predict(Xt)) > 0.98


def test_auto_regressor_on_the_gpu_compares_gpu_candidates():
    X = sg.sample(MIXED, 100, seed=0)
    Xt = sg.sample(MIXED, 1000, method="random", seed=1)
    auto = AutoRegressor(seed=0, device="cuda").fit(X, _switch(X))
    assert isinstance(auto.scores_, pd.DataFrame) and len(auto.scores_) >= 3
    assert q2(_switch(Xt), auto.predict(Xt)) > 0.99


@pytest.mark.parametrize("goal", ["accuracy", "boundary"])
def test_the_adaptive_loop_runs_with_a_gpu_student(goal):
    square = sg.Space([sg.Real("x", 0.0, 1.0), sg.Real("y", 0.0, 1.0)])

    def teacher(p):
        return float(np.hypot(p["x"] - 0.4, p["y"] - 0.5) - 0.25)

    threshold = ("<", 0.0) if goal == "boundary" else None
    runs = {}
    for device in ("cpu", "cuda"):
        result = adaptive_sample(teacher, space=square, goal=goal, threshold=threshold,
                                 budget=25, seed=0, model=GPRegressor(device=device),
                                 progress=False)
        runs[device] = result.runs.X.to_numpy()
        assert len(result.runs) == 25
    # the first rounds choose the same points; later ones may part by rounding
    np.testing.assert_allclose(runs["cuda"][:12], runs["cpu"][:12], atol=1e-3)


def test_the_scalable_gp_on_the_gpu(tmp_path):
    rng = np.random.default_rng(0)
    X, Xt = rng.random((1500, 3)), rng.random((500, 3))
    f = lambda A: np.sin(3 * A[:, 0]) + A[:, 1] * A[:, 2]  # noqa: E731
    gpu = GPRegressor(method="svgp", n_inducing=128, seed=0, device="cuda").fit(X, f(X))
    assert gpu.method_ == "svgp" and q2(f(Xt), gpu.predict(Xt)) > 0.999
    mean, var = gpu._predict_torch(torch.as_tensor(Xt[:20]))  # CPU points, CPU answers
    assert mean.device.type == "cpu" and var.device.type == "cpu"
    gpu.save(tmp_path / "svgp")
    back = load(tmp_path / "svgp", device="cuda")
    np.testing.assert_allclose(back.predict(Xt), gpu.predict(Xt), rtol=1e-9, atol=1e-9)


def test_conditioned_rounds_and_the_field_goal_with_a_gpu_student():
    square = sg.Space([sg.Real("x", 0.0, 1.0), sg.Real("y", 0.0, 1.0)])

    def teacher(p):
        return float(np.sin(4 * p["x"]) + p["y"] ** 2)

    # past 60 runs most rounds condition the GP on the new runs instead of refitting it
    result = adaptive_sample(teacher, space=square, budget=75, batch_size=5, seed=0,
                             model=GPRegressor(device="cuda"), progress=False)
    assert len(result.runs) == 75 and result.history["q2_loo"].iloc[-1] > 0.999
    times = np.linspace(0.0, 5.0, 21)
    space = sg.Space([sg.Real("a", 0.5, 2.0), sg.Real("k", 0.1, 1.0)])
    decay = sg.Simulator(
        lambda X: X["a"].to_numpy()[:, None] * np.exp(-X["k"].to_numpy()[:, None] * times),
        space, fields={"y": times}, vectorized=True, name="decay")
    field = adaptive_sample(decay, output="y", goal="accuracy", budget=20, seed=0,
                            model=GPRegressor(device="cuda"), progress=False)
    assert len(field.runs) == 20
