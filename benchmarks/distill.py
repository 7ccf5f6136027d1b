"""Distillation: small students taught by a strong teacher against the same students fitted on
the labelled data alone.

1. Digits (scikit-learn's bundled 8x8 images): 1,000 labelled training images, the other 797
   held out. A decision tree fitted on the labelled images (unlimited, 64 and 32 leaves) against
   trees of the same size distilled from an SVC teacher (RBF kernel, probabilities calibrated by
   ``CalibratedClassifierCV(SVC(), ensemble=False)``, scikit-learn 1.9's replacement for
   ``SVC(probability=True)``) through each transfer-set generator (``data``, ``munge``, ``kde``,
   ``gmm``) with soft labels, and through ``munge`` and ``kde`` with hard labels on a larger
   transfer set. Test accuracy on the held-out images, fidelity (agreement with the teacher on
   held-out transfer points).
2. Simulation teacher -> readable student: DSGC (``simulators.load("dsgc")``), 500 LHS runs; a
   GP teacher (``sg.GPRegressor``) on ``stab``, case of interest ``stab < 0`` (stable). Students:
   trees of 4, 8, 16 leaves and PRIM boxes, fitted on the 500 runs directly or distilled from
   the GP (LHS transfer set over the space, soft labels = the GP's probability of stability).
   Scored on 20,000 fresh simulator runs: accuracy (trees; PRIM's final box as "inside =
   stable"), PR AUC of PRIM's trajectory.
3. Time to distil the DSGC GP into a 100,000-point transfer set (tree and PRIM students).

Every random step is seeded; one repetition (the figures move by about one test image, 0.13
points, between seeds on digits).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from benchmarks._common import markdown_table

DESCRIPTION = ("Distillation: trees and PRIM boxes taught by an SVC (digits) or a GP (DSGC) "
               "against the same students fitted on the labelled data")

SIZES = (None, 64, 32)  # digits: leaves of the tree (None: unlimited)
GENERATORS = ("data", "munge", "kde", "gmm")


def _tree(leaves: int | None) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_leaf_nodes=leaves, random_state=0)


def _digits(quick: bool) -> list[dict[str, Any]]:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    from surrogate.distill import distill

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1000], order[1000:]
    teacher = CalibratedClassifierCV(SVC(), ensemble=False).fit(X[train], y[train])
    teacher_accuracy = float(np.mean(teacher.predict(X[test]) == y[test]))
    rows: list[dict[str, Any]] = []
    for leaves in SIZES:
        tree = _tree(leaves).fit(X[train], y[train])
        rows.append(_digits_row("labelled data only", None, leaves, tree.get_n_leaves(),
                                float(np.mean(tree.predict(X[test]) == y[test])), None,
                                teacher_accuracy))
    runs = [(g, "soft", 3_000 if quick else 20_000) for g in GENERATORS]
    if not quick:
        runs += [(g, "hard", 100_000) for g in ("munge", "kde")]
    for generator, labels, n in runs:
        for leaves in SIZES:
            start = time.perf_counter()
            result = distill(teacher, _tree(leaves), transfer=generator, n=n,
                             data=(X[train], y[train]), labels=labels, seed=0)
            accuracy = float(np.mean(result.predict(X[test]) == y[test]))
            # transfer="data" ignores n: its transfer set is the 1,000 labelled images
            row = _digits_row(f"distilled: {generator}, {labels}",
                              result.to_dict()["n_generated"], leaves, result.student_size_,
                              accuracy, result, teacher_accuracy)
            row["seconds"] = round(time.perf_counter() - start, 2)
            rows.append(row)
            print(f"digits {generator:5s} {labels} n={n} leaves={leaves}: {accuracy:.4f}",
                  flush=True)
    return rows


def _digits_row(method: str, n: int | None, leaves: int | None, size: int, accuracy: float,
                result: Any, teacher_accuracy: float) -> dict[str, Any]:
    f = {} if result is None else result.fidelity_
    return {
        "method": method, "n": n, "max_leaves": "unlimited" if leaves is None else leaves,
        "leaves": int(size), "test_accuracy": accuracy,
        "fidelity_holdout": f.get("holdout_agreement"),
        "probability_gap": f.get("holdout") if f.get("metric") == "probability_gap" else None,
        "teacher_accuracy": teacher_accuracy,
    }


def _dsgc_setup(quick: bool) -> dict[str, Any]:
    import simulators
    import surrogate as sg

    sim = simulators.load("dsgc")
    n_runs, n_test = (200, 2_000) if quick else (500, 20_000)
    runs = sim.run(sg.sample(sim.space, n_runs, seed=0)).valid()
    test = sim.run(sg.sample(sim.space, n_test, method="random", seed=1)).valid()
    X, stab = runs.X, runs.Y["stab"].to_numpy()
    teacher = sg.GPRegressor(seed=0).fit(X, stab)
    y_test = test.Y["stab"].to_numpy() < 0
    teacher_accuracy = float(np.mean((teacher.predict(test.X) < 0) == y_test))
    return {"space": sim.space, "X": X, "stab": stab, "teacher": teacher, "X_test": test.X,
            "y_test": y_test, "teacher_accuracy": teacher_accuracy, "n_runs": len(X),
            "n_test": len(y_test)}


def _dsgc(setup: dict[str, Any], quick: bool) -> list[dict[str, Any]]:
    from surrogate.discovery import PRIM, pr_auc
    from surrogate.distill import distill

    X, stab, X_test, y_test = setup["X"], setup["stab"], setup["X_test"], setup["y_test"]
    n = 5_000 if quick else 20_000
    rows = []
    for leaves in (4, 8, 16):
        direct = _tree(leaves).fit(X, stab < 0)
        result = distill(setup["teacher"], _tree(leaves), space=setup["space"], n=n,
                         data=(X, stab), threshold=("<", 0.0), seed=0)
        rows.append({
            "student": f"tree, {leaves} leaves", "size": leaves,
            "direct_accuracy": float(np.mean(direct.predict(X_test) == y_test)),
            "distilled_accuracy": float(np.mean(result.predict(X_test) == y_test)),
            "fidelity_holdout": result.fidelity_["holdout_agreement"],
        })
    direct = PRIM().fit(X, stab < 0)
    result = distill(setup["teacher"], PRIM(), space=setup["space"], n=n, data=(X, stab),
                     threshold=("<", 0.0), seed=0)
    for name, prim in (("direct", direct), ("distilled", result.student_)):
        box = prim.box()
        scores = box.evaluate(X_test, y_test)
        rows.append({
            "student": f"PRIM final box ({name})", "size": box.n_restricted,
            f"{name}_accuracy": float(np.mean(box.contains(X_test) == y_test)),
            "pr_auc": pr_auc(prim, X_test, y_test), "test_density": scores["density"],
            "test_coverage": scores["coverage"],
            "fidelity_holdout": result.fidelity_["holdout_agreement"] if name == "distilled"
            else None,
        })
    for row in rows:
        row["teacher_accuracy"] = setup["teacher_accuracy"]
    return rows


def _timing(setup: dict[str, Any], quick: bool) -> list[dict[str, Any]]:
    from surrogate.discovery import PRIM
    from surrogate.distill import distill

    n = 10_000 if quick else 100_000
    rows = []
    for name, student in (("tree, 16 leaves", _tree(16)), ("PRIM", PRIM())):
        start = time.perf_counter()
        result = distill(setup["teacher"], student, space=setup["space"], n=n,
                         threshold=("<", 0.0), seed=0)
        total = time.perf_counter() - start
        rows.append({"student": name, "n": n, "total_s": round(total, 2),
                     **{f"{k}_s": round(v, 2) for k, v in result.seconds_.items()
                        if k != "total"}})
    return rows


def run(quick: bool) -> tuple[dict[str, Any], str]:
    """Run the three parts; return the payload and a markdown report."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        digits = _digits(quick)
        setup = _dsgc_setup(quick)
        dsgc = _dsgc(setup, quick)
        timing = _timing(setup, quick)
    table = ("## 1. Digits: trees taught by an SVC\n\n`n`: generated transfer-set points (for "
             "`data` none: the 1,000 labelled images are the transfer set); `fidelity_holdout`: "
             "agreement with the teacher on held-out transfer points; `probability_gap`: their "
             "mean total-variation distance between student and teacher probabilities.\n\n")
    table += markdown_table(digits, ["method", "n", "max_leaves", "leaves", "test_accuracy",
                                     "fidelity_holdout", "probability_gap", "teacher_accuracy",
                                     "seconds"])
    table += _digits_verdict(digits)
    table += (f"\n## 2. DSGC: a GP teacher ({setup['n_runs']} runs) into readable students, "
              f"scored on {setup['n_test']:,} fresh simulator runs\n\n")
    table += markdown_table(dsgc, ["student", "size", "direct_accuracy", "distilled_accuracy",
                                   "fidelity_holdout", "pr_auc", "test_density",
                                   "test_coverage", "teacher_accuracy"])
    table += _dsgc_verdict(dsgc)
    table += "\n## 3. Time to distil the DSGC GP into a large transfer set\n\n"
    table += markdown_table(timing)
    return {"digits": digits, "dsgc": dsgc, "timing": timing}, table


def _digits_verdict(rows: list[dict[str, Any]]) -> str:
    def best(leaves: Any) -> dict[str, Any]:
        candidates = [r for r in rows if r["max_leaves"] == leaves
                      and r["method"].startswith("distilled")]
        return max(candidates, key=lambda r: r["test_accuracy"])

    base = {r["max_leaves"]: r["test_accuracy"] for r in rows
            if not r["method"].startswith("distilled")}
    unlimited, small = best("unlimited"), best(64)
    return (f"\nTargets: distilled unlimited tree >= 0.91 test accuracy: best "
            f"{unlimited['test_accuracy']:.4f} ({unlimited['method']}, n={unlimited['n']}; "
            f"labelled data only {base['unlimited']:.4f}); at 64 leaves >= 0.86: best "
            f"{small['test_accuracy']:.4f} ({small['method']}, n={small['n']}; labelled data "
            f"only {base[64]:.4f}).\n")


def _dsgc_verdict(rows: list[dict[str, Any]]) -> str:
    tree = next(r for r in rows if r["student"] == "tree, 16 leaves")
    gain = 100 * (tree["distilled_accuracy"] - tree["direct_accuracy"])
    return (f"\nTarget: the distilled 16-leaf tree >= 5 points more accurate than the one fitted "
            f"on the runs: {gain:+.1f} points ({tree['distilled_accuracy']:.4f} vs "
            f"{tree['direct_accuracy']:.4f}).\n")
