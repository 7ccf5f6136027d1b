"""The ``device="cuda"`` students against the CPU ones on the same machine: fit and predict
time and held-out Q², for the exact GP at growing n (borehole, 8 inputs), the field GP (a
three-parameter damped oscillation on 101 time points) and the network ensemble.

Run on a machine with a GPU (``python -m benchmarks device``); without one it measures the CPU
side only. Keep the default one thread: on the 16-core GPU machine, 16 threads made an exact-GP
fit of 500 points take 18 s (results/device.md). Times are the best of 2 after one warm-up fit
(the first CUDA call pays for the context).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.stats import qmc

from benchmarks._common import best_of, markdown_table

DESCRIPTION = "GPU (device='cuda') vs CPU students: fit/predict time and held-out Q²"

LOW = np.array([0.05, 100, 63070, 990, 63.1, 700, 1120, 9855.0])
HIGH = np.array([0.15, 50000, 115600, 1110, 116, 820, 1680, 12045.0])
TIMES = np.linspace(0.0, 10.0, 101)


def _borehole(X: np.ndarray) -> np.ndarray:
    rw, r, Tu, Hu, Tl, Hl, L, Kw = X.T
    lr = np.log(r / rw)
    return 2 * np.pi * Tu * (Hu - Hl) / (lr * (1 + 2 * L * Tu / (lr * rw**2 * Kw) + Tu / Tl))


def _oscillation(X: np.ndarray) -> np.ndarray:
    a, k, w = X[:, :1], X[:, 1:2], X[:, 2:3]
    return a * np.exp(-k * TIMES) * np.cos(w * TIMES)


def _data(f: Any, low: np.ndarray, high: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    X = low + (high - low) * qmc.LatinHypercube(len(low), seed=0).random(n)
    Xt = low + (high - low) * np.random.default_rng(1).random((5000, len(low)))
    return X, f(X), Xt, f(Xt)


def _cell(label: str, n: int, make: Any, data: tuple[np.ndarray, ...],
          devices: list[str]) -> list[dict[str, Any]]:
    from surrogate.models import q2

    X, y, Xt, yt = data
    rows = []
    for device in devices:
        make(device).fit(X[: min(n, 50)], y[: min(n, 50)])  # warm-up (CUDA context, kernels)
        fit_s, model = best_of(lambda d=device: make(d).fit(X, y), repeat=2)
        predict_s, pred = best_of(lambda m=model: m.predict(Xt), repeat=2)
        rows.append({"student": label, "n": n, "device": device, "fit_s": round(fit_s, 3),
                     "predict_s_5000": round(predict_s, 4), "q2": round(q2(yt, pred), 6)})
        print(rows[-1], flush=True)  # a run cut short still shows what it measured
    if len(rows) == 2:  # the GPU's fit speedup over the CPU
        rows[0]["fit_speedup"] = round(rows[1]["fit_s"] / rows[0]["fit_s"], 2)
    return rows


def run(quick: bool = False) -> tuple[dict[str, Any], str]:
    from surrogate.models import FieldGPRegressor, GPRegressor, NNRegressor

    devices = ["cuda", "cpu"] if torch.cuda.is_available() else ["cpu"]
    rows: list[dict[str, Any]] = []
    sizes = [200, 500] if quick else [500, 1000, 2000]
    for n in sizes:
        data = _data(_borehole, LOW, HIGH, n)
        rows += _cell("GPRegressor", n, lambda d: GPRegressor(seed=0, device=d), data, devices)
    low, high = np.array([0.5, 0.05, 1.0]), np.array([2.0, 0.5, 3.0])
    for n in [100] if quick else [200, 800]:
        data = _data(_oscillation, low, high, n)
        rows += _cell("FieldGPRegressor", n, lambda d: FieldGPRegressor(seed=0, device=d),
                      data, devices)
    data = _data(_borehole, LOW, HIGH, 2000)
    rows += _cell("NNRegressor", 2000,
                  lambda d: NNRegressor(seed=0, device=d, max_epochs=50 if quick else 300),
                  data, devices)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    payload = {"gpu": gpu, "rows": rows}
    table = (f"GPU: {gpu or 'none (CPU only)'}; times in seconds, best of 2 after a warm-up; "
             "Q² on 5,000 held-out points.\n\n" + markdown_table(rows))
    return payload, table
