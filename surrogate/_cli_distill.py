"""``surrogate distill``: Data 1 (a table) -> teacher -> transfer set -> tree or PRIM student,
scored on held-out rows against the same student fitted directly, with a report."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from surrogate._cli_tables import dropped, read_table

__all__ = ["run_distill", "DISTILL_TEACHERS", "DEFAULT_LEAVES"]

DISTILL_TEACHERS = ("rf", "hgb", "svm", "gp", "auto")
DEFAULT_LEAVES = 16  # the tree student's leaves unless --max-leaves says otherwise


SVM_FOLDS = 5  # the svm teacher's calibration folds
MAX_SEED = 2**32 - 1  # --seed goes to scikit-learn's random_state, which takes no larger int


def run_distill(args: argparse.Namespace) -> None:
    """Data 1 (a table) -> teacher -> MUNGE/KDE/GMM transfer set -> tree or PRIM student."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from surrogate.distillation import distill

    _check_distill_options(args)
    table, inputs = read_table(Path(args.data))
    X, y = _labelled(table, args, inputs)
    classes = np.unique(y)
    if args.student == "boxes" and len(classes) != 2:
        raise ValueError(f"--student boxes finds a case of interest: --label {args.label} "
                         f"needs two classes, it has {len(classes)}; use --student tree")
    if args.teacher == "gp" and len(classes) != 2:
        raise ValueError(f"--teacher gp is a two-class classifier; --label {args.label} has "
                         f"{len(classes)} classes: use rf, hgb, svm or auto")
    if args.test > 0:
        try:
            X_fit, X_test, y_fit, y_test = train_test_split(
                X, y, test_size=args.test, stratify=y, random_state=args.seed)
        except ValueError as exc:  # a class too small to be in both parts
            raise ValueError(f"--test {args.test}: cannot hold out rows of every class "
                             f"({_why_not_stratified(y, args.test, exc)}); lower --test or "
                             "pass --test 0") from None
    else:
        X_fit, X_test, y_fit, y_test = X, X.iloc[:0], y, y[:0]
    smallest = int(np.unique(y_fit, return_counts=True)[1].min())
    if args.teacher == "svm" and smallest < SVM_FOLDS:
        raise ValueError(f"--teacher svm calibrates its probabilities by {SVM_FOLDS}-fold "
                         f"cross-validation: every class needs {SVM_FOLDS} rows to fit on, the "
                         f"smallest has {smallest}; use rf, hgb, gp or auto, or more rows")
    out = args.out or Path(f"distill-{Path(args.data).stem}")
    try:  # before the fits: a directory it cannot make was found only after them, unnamed
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out {out}: cannot make this directory ({exc.strerror or exc}); "
                         "name one it may write") from None
    teacher = _distill_teacher(args.teacher, args.seed).fit(X_fit, y_fit)
    student = _distill_student(args, classes)
    result = distill(teacher, student, transfer=args.transfer, n=args.n, data=(X_fit, y_fit),
                     labels="soft", seed=args.seed)
    direct = _distill_student(args, classes)
    direct.fit(X_fit, y_fit if args.student == "tree" else (y_fit == classes[1]).astype(float))
    scores = _distill_scores(result, teacher, direct, X_test, y_test, classes, args.student)
    _write_distill_report(out, args, result, scores, list(X.columns), len(X_test))
    print(str(result))
    if args.student == "boxes":
        print(f"  {_box_note(result)}")
    if scores:
        print("  on the held-out rows: " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()))
    print(f"report: {(out / 'report.md').resolve()}")


def _check_distill_options(args: argparse.Namespace) -> None:
    from surrogate.distillation import TRANSFERS

    for flag, value, allowed in (("--teacher", args.teacher, DISTILL_TEACHERS),
                                 ("--student", args.student, ("tree", "boxes")),
                                 ("--transfer", args.transfer,
                                  tuple(t for t in TRANSFERS if t != "space"))):
        if value not in allowed:
            raise ValueError(f"{flag} {value!r} is not one of {', '.join(allowed)}")
    if args.n < 1:
        raise ValueError(f"--n must be an integer >= 1, got {args.n}")
    if args.seed > MAX_SEED:  # else blamed on --test, or scikit-learn's random_state
        raise ValueError(f"--seed must be an int in [0, {MAX_SEED}], got {args.seed}")
    if args.max_leaves is not None and args.student != "tree":
        raise ValueError(f"--max-leaves is for --student tree; --student {args.student} "
                         "(PRIM's boxes) has no leaves")
    if args.max_leaves is not None and args.max_leaves < 2:
        raise ValueError(f"--max-leaves must be an integer >= 2, got {args.max_leaves}")
    if not 0 <= args.test < 1:
        raise ValueError(f"--test must be a share in [0, 1), got {args.test}")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out}: exists and is not a directory")


def _labelled(table: Any, args: argparse.Namespace, inputs: list[str] | None = None
              ) -> tuple[Any, Any]:
    """(numeric inputs, integers kept, booleans as 0/1; class labels: whole numbers or text) of
    the table, or one clear error naming the column. ``inputs``: the input columns of a
    transfer-set directory (its other outputs are no inputs); None: every column but the
    label and --drop's."""
    import numpy as np
    import pandas as pd

    if args.label not in table.columns:
        raise ValueError(f"--label: no column {args.label!r} in {args.data}; columns: "
                         f"{list(map(str, table.columns))}")
    drop = dropped(table, args)
    label = table[args.label]
    if label.isna().any():
        raise ValueError(f"--label {args.label}: {int(label.isna().sum())} rows have no label; "
                         "drop them from the table first")
    if pd.api.types.is_bool_dtype(label) or pd.api.types.is_numeric_dtype(label):
        y = label.to_numpy()
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            raise ValueError(f"--label {args.label}: class labels must be whole numbers or text "
                             "(a continuous column is not a label)")
    else:  # text classes, e.g. "stable" / "unstable"
        y = label.astype(str).to_numpy()
    if len(np.unique(y)) < 2:
        raise ValueError(f"--label {args.label}: only one class ({y[0]!r}); need two or more")
    X = table.drop(columns=[args.label, *drop])
    if inputs is not None:  # the design's columns: an output beside the label tells it
        X = X[[c for c in X.columns if c in set(inputs)]]
    for column in X.columns:
        if not pd.api.types.is_numeric_dtype(X[column]) or X[column].isna().any():
            raise ValueError(f"input column {column!r} must be numbers without missing values "
                             "(leave it out with --drop)")
        infinite = np.flatnonzero(np.isinf(X[column].to_numpy(dtype=float)))
        if len(infinite):
            raise ValueError(f"input column {column!r} of {args.data} holds infinite values "
                             f"(rows {infinite[:5].tolist()}); drop those rows or the column "
                             "(--drop)")
    if X.shape[1] == 0:
        raise ValueError(f"{args.data}: no input column besides --label {args.label}")
    # whole-number columns stay integers (the generators then draw whole numbers, and the rules
    # read "visits <= 2", not "visits <= 2.95"); booleans become 0/1 integers
    X = X.astype({c: np.int64 for c in X.columns if pd.api.types.is_bool_dtype(X[c])})
    return X, y.astype(int) if y.dtype.kind == "f" else y


def _distill_teacher(name: str, seed: int) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from surrogate.models import AutoClassifier, GPClassifier

    if name == "rf":
        return RandomForestClassifier(n_estimators=300, random_state=seed)
    if name == "hgb":
        return HistGradientBoostingClassifier(random_state=seed)
    if name == "svm":  # calibrated probabilities (soft labels)
        return make_pipeline(StandardScaler(), CalibratedClassifierCV(SVC(), cv=SVM_FOLDS,
                                                                      ensemble=False))
    if name == "gp":
        return GPClassifier(seed=seed)
    return AutoClassifier(seed=seed)


def _distill_student(args: argparse.Namespace, classes: Any) -> Any:
    from surrogate.discovery import PRIM
    from surrogate.distillation import PrunedTree

    if args.student == "tree":
        return PrunedTree(args.max_leaves or DEFAULT_LEAVES, seed=args.seed)
    return PRIM()


def _distill_scores(result: Any, teacher: Any, direct: Any, X_test: Any, y_test: Any,
                    classes: Any, student: str) -> dict[str, float]:
    """Accuracy on the held-out rows: teacher, distilled student, same student fitted directly."""
    import numpy as np

    if not len(y_test):
        return {}
    if student == "boxes":  # inside the box: the case of interest (the second class)
        def says(prim: Any) -> Any:
            inside = prim.box(_accurate_box(prim)).contains(X_test)
            return np.where(inside, classes[1], classes[0])

        direct_says, distilled_says = says(direct), says(result.student_)
    else:
        direct_says, distilled_says = direct.predict(X_test), result.predict(X_test)
    return {"teacher_accuracy": float(np.mean(teacher.predict(X_test) == y_test)),
            "distilled_accuracy": float(np.mean(distilled_says == y_test)),
            "direct_accuracy": float(np.mean(direct_says == y_test))}


def _accurate_box(prim: Any) -> int:
    """The box of PRIM's trajectory that classifies its own data best as "inside: the case":
    accuracy ``1 - mass - base + 2 coverage base``, the base rate that of the first box.
    (PRIM's default box seeks density, not accuracy: the last, or on soft labels the first
    box 95 % of the way to the densest.)"""
    import numpy as np

    trajectory = prim.trajectory_
    base = float(trajectory["density"].iloc[0])
    score = 2.0 * trajectory["coverage"].to_numpy() * base - trajectory["mass"].to_numpy()
    return int(np.argmax(score))


def _decimals(tree: Any) -> int:
    """Decimals that show every split of ``tree`` to 4 significant digits (at least 2, at most
    12): export_text's default of 2 wrote a split at 0.002 as "rate <= 0.00"."""
    import numpy as np

    splits = np.abs(tree.tree_.threshold[tree.tree_.feature >= 0])
    splits = splits[splits > 0]
    if not len(splits):
        return 2
    return int(np.clip(3 - np.floor(np.log10(splits.min())), 2, 12))


def _student_text(result: Any, names: list[str]) -> str:
    from sklearn.tree import export_text

    student = result.student_
    if hasattr(student, "estimator_"):  # PrunedTree
        return export_text(student.estimator_, feature_names=names,
                           decimals=_decimals(student.estimator_))
    box = student.box(_accurate_box(student))
    case = result.classes_[1]
    case = case.item() if hasattr(case, "item") else case  # numpy scalar: its plain value
    return (f"inside the box: class {case!r}\n{box.rules()}\n"
            f"coverage {box.coverage:.3f}, density {box.density:.3f}, mass {box.mass:.3f}")


def _box_note(result: Any) -> str:
    """Which of PRIM's boxes a distillation to boxes shows and scores, and why."""
    chosen, last = _accurate_box(result.student_), len(result.student_.boxes_) - 1
    return (f"box shown and scored: {chosen} of PRIM's trajectory 0..{last}, the one that "
            "classifies the transfer set best (the fidelity lines read the last, densest)")


def _write_distill_report(out: Path, args: argparse.Namespace, result: Any,
                          scores: dict[str, float], names: list[str], n_test: int) -> None:
    """report.json (strict JSON), report.md and fidelity.png in ``out``."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from surrogate.plot import fidelity

    out.mkdir(parents=True, exist_ok=True)
    rules = _student_text(result, names)
    summary = {"data": str(args.data), "label": args.label, "teacher": args.teacher,
               "student": args.student, "transfer": args.transfer, "seed": args.seed,
               "inputs": names, "rows_held_out": n_test, "held_out": scores,
               "distillation": result.to_dict(), "rules": rules}
    note = _box_note(result) if args.student == "boxes" else None
    if note is not None:
        summary["box_shown"] = note
    (out / "report.json").write_text(json.dumps(summary, indent=2, allow_nan=False))
    ax = fidelity(result)
    ax.figure.savefig(out / "fidelity.png", dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    lines = [f"# Distillation of {args.data} (label {args.label})", "", "```", str(result), "```"]
    if note is not None:
        lines += ["", note[0].upper() + note[1:] + "."]
    if scores:
        lines += ["", f"On the {n_test} held-out rows (never seen by teacher or students):", "",
                  "| model | accuracy |", "|---|---|"]
        lines += [f"| {k.replace('_accuracy', '')} | {v:.4f} |" for k, v in scores.items()]
    lines += ["", f"## The {args.student}", "", "```", rules.rstrip(), "```", "",
              "![fidelity](fidelity.png)", ""]
    (out / "report.md").write_text("\n".join(lines))


def _why_not_stratified(y: Any, test: float, exc: Exception) -> str:
    """Why a stratified split of ``y`` with a ``test`` share fails, in the command's words
    (scikit-learn's sentence otherwise)."""
    import numpy as np

    labels, counts = np.unique(y, return_counts=True)
    n, k = len(y), len(labels)
    held_out = math.ceil(test * n)
    if counts.min() < 2:
        return f"class {labels[np.argmin(counts)].item()!r} has 1 row, and each needs 2"
    if held_out < k:
        return f"it holds out {held_out} of {n} rows, fewer than the {k} classes"
    if n - held_out < k:
        return f"it leaves {n - held_out} of {n} rows to fit on, fewer than the {k} classes"
    return str(exc)
