"""PRIM against the reference implementation: EMA Workbench's ``Prim`` (test-only dependency).

Same data, same settings -> the same trajectory: coverage, density, mass, number of restricted
dimensions and the limits of every box, step by step. EMA Workbench 2.5.3 fails on int64
columns under pandas 3, so its reference runs get integer columns cast to float (which it then
peels as real columns, as ours does).
"""

import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from surrogate.discovery import PRIM

ema_prim = pytest.importorskip("ema_workbench.analysis.prim")
logging.getLogger("EMA").setLevel(logging.WARNING)


def run_ema(X, y, objective="lenient1", regression=False, **settings):
    from ema_workbench.analysis.prim_util import PRIMObjectiveFunctions
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

    X = X.copy()
    for column in X.columns:
        if pd.api.types.is_integer_dtype(X[column]):
            X[column] = X[column].astype(float)
    mode = RuleInductionType.REGRESSION if regression else RuleInductionType.BINARY
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prim = ema_prim.Prim(X, np.asarray(y, dtype=float), threshold=1e-9, mode=mode,
                             obj_function=PRIMObjectiveFunctions(objective), **settings)
        return prim.find_box()


def ema_limits(box, i):
    """EMA box i as {name: (lower or -inf, upper or inf) | frozenset} of restricted dims."""
    limits, init = box.box_lims[i], box.prim.box_init
    out = {}
    for name in limits.columns:
        low, high = limits.loc[0, name], limits.loc[1, name]
        if isinstance(low, set):
            if low != init.loc[0, name]:
                out[name] = frozenset(low)
        elif low != init.loc[0, name] or high != init.loc[1, name]:
            out[name] = (low if low != init.loc[0, name] else -np.inf,
                         high if high != init.loc[1, name] else np.inf)
    return out


def our_limits(box, X):
    out = {}
    for name, row in box.limits.iterrows():
        out[name] = row.lower if isinstance(row.lower, frozenset) else (row.lower, row.upper)
    return out


def assert_same_trajectory(X, y, objective="lenient1", **settings):
    reference = run_ema(X, y, objective, **settings)
    ours = PRIM(objective=objective, **settings).fit(X, y)
    expected = reference.peeling_trajectory
    assert len(ours.trajectory_) == len(expected)
    np.testing.assert_array_equal(ours.trajectory_.coverage, expected.coverage)
    np.testing.assert_array_equal(ours.trajectory_.density, expected.density)
    np.testing.assert_array_equal(ours.trajectory_.mass, expected.mass)
    np.testing.assert_array_equal(ours.trajectory_.n_restricted, expected.res_dim)
    integer = [c for c in X.columns if pd.api.types.is_integer_dtype(X[c])]
    for i, box in enumerate(ours.boxes_):
        reference_limits = ema_limits(reference, i)
        for name in integer:  # ours reports the integers a limit admits (2.5 -> 3)
            if name in reference_limits:
                low, high = reference_limits[name]
                reference_limits[name] = (np.ceil(low), np.floor(high))
        assert our_limits(box, X) == reference_limits, f"box {i}"
    return reference, ours


def noisy(y, rate, rng):
    return np.where(rng.uniform(size=len(y)) < rate, ~np.asarray(y, bool), np.asarray(y, bool))


def test_real_columns_default_settings():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(1000, 6)), columns=[f"x{i}" for i in range(6)])
    assert_same_trajectory(X, noisy((X.x0 > 0.5) & (X.x1 < 0.4), 0.05, rng))


@pytest.mark.parametrize("objective", ["lenient1", "lenient2", "original"])
def test_mixed_columns_each_objective(objective):
    rng = np.random.default_rng(1)
    n = 800
    X = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["x0", "x1", "x2"])
    X["k"] = rng.integers(0, 10, n)
    X["c"] = pd.Categorical(rng.choice(["a", "b", "c", "d"], n, p=[0.1, 0.2, 0.3, 0.4]))
    y = noisy((X.x0 > 0.3) & (X.k < 6) & X.c.isin(["b", "c"]), 0.05, rng)
    _, ours = assert_same_trajectory(X, y, objective)
    assert ours.box().n_restricted >= 2


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_ties_negative_integers_and_other_settings(seed):
    rng = np.random.default_rng(seed)
    n = 900
    X = pd.DataFrame({
        "r": rng.normal(size=n),
        "t": np.round(rng.uniform(size=n), 1),  # many ties
        "k": rng.integers(-3, 4, n),
        "c": pd.Categorical(rng.choice(["u", "v", "w"], n, p=[0.2, 0.3, 0.5])),
    })
    y = noisy((X.r < 0.6) & (X.t >= 0.3) & (X.k > -2) & (X.c != "u"), 0.1, rng)
    settings = [dict(peel_alpha=0.1, paste_alpha=0.1, mass_min=0.05),
                dict(peel_alpha=0.2, paste_alpha=0.05, mass_min=0.1),
                dict(peel_alpha=0.05, paste_alpha=0.1, mass_min=0.02)][seed - 2]
    assert_same_trajectory(X, y, ["lenient1", "lenient2", "original"][seed - 2], **settings)


def test_soft_labels_match_regression_mode():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.uniform(size=(1000, 4)), columns=["a", "b", "c", "d"])
    p = 1 / (1 + np.exp(-8 * (X.a - 0.5) - 6 * (0.4 - X.b))) * 0.9 + 0.05 * rng.uniform(size=1000)
    reference = run_ema(X, p, regression=True)
    ours = PRIM().fit(X, p)
    expected = reference.peeling_trajectory
    assert len(ours.trajectory_) == len(expected)
    np.testing.assert_allclose(ours.trajectory_.density, expected["mean"], rtol=1e-12)
    np.testing.assert_array_equal(ours.trajectory_.mass, expected.mass)
    for i, box in enumerate(ours.boxes_):
        assert our_limits(box, X) == ema_limits(reference, i)


def test_quasi_p_values_match():
    rng = np.random.default_rng(6)
    n = 1000
    X = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["x0", "x1", "x2"])
    X["c"] = rng.choice(["a", "b", "c"], n)
    y = noisy((X.x0 > 0.4) & (X.x1 < 0.7) & (X.c != "a"), 0.1, rng)
    reference, ours = assert_same_trajectory(X, y)
    for i in (len(ours.boxes_) // 2, len(ours.boxes_) - 1):
        expected = reference.qp[i]
        qp = ours.boxes_[i].qp
        assert set(qp.index) == set(expected)
        for name, (low, high) in expected.items():
            for ours_value, value in zip(qp.loc[name], (low, high), strict=True):
                if value == -1:
                    assert np.isnan(ours_value)
                else:
                    assert ours_value == pytest.approx(value, rel=1e-9, abs=1e-300)


def test_integer_columns_work_where_the_reference_fails():
    rng = np.random.default_rng(7)
    X = pd.DataFrame({"k": rng.integers(0, 20, 600), "r": rng.uniform(size=600)})
    y = (X.k > 12) & (X.r < 0.5)
    with pytest.raises(TypeError):  # EMA Workbench 2.5.3 on int64 under pandas 3
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ema_prim.Prim(X, y.to_numpy().astype(float), threshold=0.5).find_box()
    box = PRIM().fit(X, y).box()
    assert box.limits.loc["k", "lower"] == 13


def test_categorical_only_box_is_pasted_too():
    """Documented difference: EMA skips pasting when no float column is restricted."""
    rng = np.random.default_rng(8)
    n = 1500
    X = pd.DataFrame({"r": rng.uniform(size=n), "c": rng.choice(list("abcdef"), n)})
    y = noisy(X.c.isin(["a", "b"]), 0.1, rng)
    reference = run_ema(X, y)
    ours = PRIM().fit(X, y)
    expected = reference.peeling_trajectory
    n_ref = len(expected)  # EMA's trajectory is the peeling part of ours
    assert len(ours.trajectory_) >= n_ref
    np.testing.assert_array_equal(ours.trajectory_.coverage[:n_ref], expected.coverage)
    np.testing.assert_array_equal(ours.trajectory_.mass[:n_ref], expected.mass)
