"""REDS is distillation: the metamodel is the teacher, a design over the space the generator,
PRIM the student -- and re-expressing it so changed none of its results.

``RECORDED`` holds what REDS computed before it ran on :mod:`surrogate.distillation` (the code at
commit d16bce7), case by case: the fresh sample (a hash of its values), its labels, PRIM's
trajectory and the rules of three of its boxes. Same seed, same numbers. Every metamodel is
explicit, so a change of REDS's default metamodel does not touch these cases. Sample hashes,
box rules and box counts compare exactly; float sums to 1e-12 relative, which any two machines
meet for these sizes (the label arithmetic is the same, only the summation order may differ).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel

from surrogate.discovery import PRIM, REDS
from surrogate.distillation import Distillation, SpaceGenerator
from surrogate.space import Categorical, Integer, Real, Space


def _planted(seed, n=200):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, 4)), columns=["a", "b", "c", "d"])
    return X, ((X.a > 0.4) & (X.b < 0.6) & (X.c > 0.3)).to_numpy()


def _forest():
    return RandomForestClassifier(40, random_state=0)


def _soft():
    X, y = _planted(0)
    return REDS(metamodel=_forest(), n_samples=3000, cv=3, seed=0).fit(X, y)


def _hard():
    X, y = _planted(1)
    return REDS(metamodel=_forest(), n_samples=3000, labels="hard", cv=None, seed=5).fit(X, y)


def _mixed():
    """Integer and categorical columns, a constant column, a PRIM of its own settings."""
    rng = np.random.default_rng(2)
    X = pd.DataFrame(
        {
            "a": rng.uniform(size=150),
            "k": rng.integers(0, 5, 150),
            "c": rng.choice(["p", "q", "r"], 150),
            "z": np.full(150, 2.5),
        }
    )
    y = (X.a > 0.5) & (X.k >= 2) & (X.c != "q")
    return REDS(metamodel=_forest(), n_samples=2500, prim=PRIM(peel_alpha=0.1), seed=3).fit(X, y)


def _mixed_space():
    """A space given: the sample is drawn from it, not from the ranges of X."""
    rng = np.random.default_rng(3)
    space = Space([Real("a", 0, 2), Integer("k", 0, 6), Categorical("c", ["p", "q", "r"])])
    X = pd.DataFrame(
        {
            "a": rng.uniform(0, 2, 150),
            "k": rng.integers(0, 7, 150),
            "c": pd.Categorical(rng.choice(["p", "q", "r"], 150), categories=["p", "q", "r"]),
        }
    )
    y = (X.a < 1.2) & (X.c == "r")
    return REDS(metamodel=_forest(), n_samples=2000, labels="hard", seed=4).fit(X, y, space=space)


def _gp():
    # a fixed kernel (no optimizer): the same predictive distribution on any machine
    return GaussianProcessRegressor(
        ConstantKernel(1.0) * RBF([0.3, 0.3, 0.5]), alpha=1e-6, optimizer=None, normalize_y=True
    )


def _regression():
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.uniform(size=(80, 3)), columns=["a", "b", "c"])
    return X, (X.a + 0.5 * X.b - 0.8 + 0.1 * np.sin(6 * X.c)).to_numpy()


def _threshold_soft():
    X, stab = _regression()
    return REDS(metamodel=_gp(), n_samples=3000, threshold=("<", 0.0), seed=6).fit(X, stab)


def _threshold_hard():
    X, stab = _regression()
    return REDS(
        metamodel=_gp(), n_samples=3000, threshold=(">=", 0.1), labels="hard", cv=None, seed=7
    ).fit(X, stab)


CASES = {
    "soft": _soft,
    "hard": _hard,
    "mixed": _mixed,
    "mixed_space": _mixed_space,
    "threshold_soft": _threshold_soft,
    "threshold_hard": _threshold_hard,
}


def fingerprint(reds):
    """What REDS computed, in a few exact numbers and strings."""
    labels = np.asarray(reds.sample_labels_, dtype=float)
    weights = np.linspace(0.0, 1.0, len(labels))
    trajectory = reds.trajectory_
    middle = len(reds.boxes_) // 2
    return {
        "sample": int(pd.util.hash_pandas_object(reds.sample_, index=True).sum()),
        "columns": list(reds.sample_.columns),
        "labels": [
            len(labels),
            float(labels.sum()),
            float(labels @ weights),
            float(labels @ labels),
        ],
        "trajectory": [len(trajectory)]
        + [float(trajectory[c].sum()) for c in ("coverage", "density", "mass", "n_restricted")],
        "rules": [reds.box(i).rules(precision=10) for i in (1, middle, len(reds.boxes_) - 1)],
        "fidelity": None if reds.fidelity_ is None else float(reds.fidelity_),
    }


RECORDED = {  # computed by REDS at d16bce7, before it ran on surrogate.distill
    "hard": {
        "sample": 14650949476634306814,
        "columns": ["a", "b", "c", "d"],
        "labels": [3000, 700.0, 340.64421473824603, 700.0],
        "trajectory": [31, 30.834285714285716, 17.24557703225589, 15.871333333333334, 62.0],
        "rules": [
            "a >= 0.06568798445",
            "a >= 0.3801105727 and b <= 0.7422041614",
            "a >= 0.4095817662 and b <= 0.5505311833 and c >= 0.3217583091",
        ],
        "fidelity": None,
    },
    "mixed": {
        "sample": 1812385070276112591,
        "columns": ["a", "k", "c", "z"],
        "labels": [2500, 525.45, 264.21866746698674, 453.7724999999999],
        "trajectory": [15, 12.571462555904464, 10.084217412609595, 5.4236, 36.0],
        "rules": [
            "c in ['p', 'r']",
            "a >= 0.3487952169 and k >= 2 and c in ['p', 'r']",
            "a >= 0.6709179258 and k >= 3 and c in ['p', 'r']",
        ],
        "fidelity": 0.9866666666666667,
    },
    "mixed_space": {
        "sample": 972242513912447059,
        "columns": ["a", "k", "c"],
        "labels": [2000, 394.0, 197.18859429714857, 394.0],
        "trajectory": [14, 13.951776649746193, 10.054801542705286, 4.7155, 24.0],
        "rules": [
            "c in ['q', 'r']",
            "a <= 1.551583947 and c in ['r']",
            "a <= 1.156365713 and c in ['r']",
        ],
        "fidelity": 0.9866666666666667,
    },
    "soft": {
        "sample": 6612080898832393812,
        "columns": ["a", "b", "c", "d"],
        "labels": [3000, 692.0999999999999, 346.127684228076, 590.6912499999999],
        "trajectory": [60, 42.72059673457593, 44.508728960013514, 18.95266666666667, 177.0],
        "rules": [
            "a >= 0.05568726413",
            "a >= 0.4588312112 and b <= 0.6015640017 and c >= 0.3373093391",
            "0.6195552654 <= a <= 0.9368804874 and b <= 0.382395451 and c >= 0.4045933246 and 0.1104133307 <= d <= 0.865573649",
        ],
        "fidelity": 0.98,
    },
    "threshold_hard": {
        "sample": 7712695366873954951,
        "columns": ["a", "b", "c"],
        "labels": [3000, 1043.0, 524.8236078692897, 1043.0],
        "trajectory": [38, 30.538830297219558, 27.981363301411978, 17.089, 67.0],
        "rules": [
            "a >= 0.08796633341",
            "a >= 0.5614636018 and b >= 0.171649222",
            "a >= 0.7237705589 and b >= 0.3535650444 and c <= 0.8805934915",
        ],
        "fidelity": None,
    },
    "threshold_soft": {
        "sample": 5087464768166844086,
        "columns": ["a", "b", "c"],
        "labels": [3000, 1607.9028874131943, 807.3427853458165, 1590.8452052086045],
        "trajectory": [37, 25.67296680100796, 32.618584531189065, 17.045666666666666, 70.0],
        "rules": [
            "a <= 0.917040905",
            "a <= 0.4889479876 and b <= 0.8183127017",
            "a <= 0.3620496551 and 0.08451047681 <= b <= 0.6797277308 and c >= 0.08496767263",
        ],
        "fidelity": 1.0,
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reds_results_unchanged(case):
    got, want = fingerprint(CASES[case]()), RECORDED[case]
    assert got["sample"] == want["sample"]
    assert got["columns"] == want["columns"]
    assert got["labels"][0] == want["labels"][0]
    assert got["labels"][1:] == pytest.approx(want["labels"][1:], rel=1e-12, abs=1e-12)
    assert got["trajectory"][0] == want["trajectory"][0]
    assert got["trajectory"][1:] == pytest.approx(want["trajectory"][1:], rel=1e-12)
    assert got["rules"] == want["rules"]
    if want["fidelity"] is None:
        assert got["fidelity"] is None
    else:
        assert got["fidelity"] == pytest.approx(want["fidelity"], rel=1e-12)


def test_reds_runs_as_a_distillation():
    reds = _mixed()
    result = reds.distillation_
    assert isinstance(result, Distillation)
    assert result.student_ is reds.prim_ and isinstance(result.generator_, SpaceGenerator)
    assert result.labels == "soft" and result.route_ == "probabilities"
    assert (result.transfer_set_["use"] == "train").all()  # PRIM learns from the whole sample
    pd.testing.assert_frame_equal(result.transfer_set_[list(reds.sample_.columns)], reds.sample_)
    np.testing.assert_array_equal(result.transfer_set_["p(1)"], reds.sample_labels_)


def test_a_metamodel_that_never_predicts_the_case_is_named():
    X, y = _planted(0)
    never = DummyClassifier(strategy="constant", constant=0)
    with pytest.raises(ValueError, match="metamodel predicts no case of interest"):
        REDS(metamodel=never, n_samples=500, cv=None, seed=0).fit(X, y)
