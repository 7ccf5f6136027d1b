"""``surrogate distill``: a labelled table -> teacher -> transfer set -> tree or boxes, with a
report; user mistakes are one line and exit status 2."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from surrogate.cli import main


def strict_json(path):
    def reject(constant):
        raise ValueError(f"{path.name} holds {constant}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=reject)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """300 rows, class 1 inside the planted box a > 0.4, b < 0.6; c is noise."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.uniform(size=(300, 3)), columns=["a", "b", "c"])
    table["y"] = ((table.a > 0.4) & (table.b < 0.6)).astype(int)
    path = tmp_path_factory.mktemp("data") / "planted.csv"
    table.to_csv(path, index=False)
    return path


def test_tree_end_to_end_as_a_user_runs_it(planted, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "surrogate.cli", "distill", str(planted),
                           "--label", "y", "--n", "2000", "--max-leaves", "4", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    assert "into PrunedTree" in done.stdout and "report.md" in done.stdout
    report = strict_json(out / "report.json")
    assert report["teacher"] == "rf" and report["transfer"] == "munge"
    assert report["distillation"]["student_size"] <= 4
    assert report["distillation"]["n_generated"] == 2000 and report["rows_held_out"] == 75
    held_out = report["held_out"]
    assert held_out["distilled_accuracy"] >= 0.95 and held_out["teacher_accuracy"] >= 0.95
    # the planted box's two edges, and not the noise column
    assert "b <= 0.6" in report["rules"] and "a >  0.4" in report["rules"]
    assert "c <=" not in report["rules"]
    text = (out / "report.md").read_text()
    assert "| distilled |" in text and report["rules"].splitlines()[0] in text
    assert (out / "fidelity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_boxes_student(planted, tmp_path, capsys):
    out = tmp_path / "boxes"
    assert main(["distill", str(planted), "--label", "y", "--student", "boxes", "--teacher",
                 "hgb", "--transfer", "kde", "--n", "3000", "--out", str(out)]) == 0
    report = strict_json(out / "report.json")
    assert report["distillation"]["student"] == "PRIM"
    assert report["rules"].startswith("inside the box: class 1")
    box = report["rules"].splitlines()[1]  # e.g. "0.49 <= a <= 0.99 and b <= 0.57"
    assert " a " in f" {box} " and "b <=" in box and " c " not in f" {box} "
    assert report["held_out"]["distilled_accuracy"] >= 0.85
    assert set(report["held_out"]) == {"teacher_accuracy", "distilled_accuracy",
                                       "direct_accuracy"}
    assert "PRIM" in capsys.readouterr().out


def test_a_transfer_set_directory_gives_its_design_as_the_inputs(tmp_path):
    # its other outputs are no inputs: a score beside the label told the class by itself,
    # and the tree read "score <= 0.00" instead of the planted box
    import surrogate as sg

    space = sg.Space([sg.Real(name, 0.0, 1.0) for name in "abc"])
    X = sg.sample(space, 300, seed=0)
    inside = ((X.a > 0.4) & (X.b < 0.6)).to_numpy()
    score = np.where(inside, -1.0, 1.0) * (1.0 + X.c.to_numpy())
    sg.TransferSet(space, ["y", "score"], X, np.column_stack([inside, score])).save(
        tmp_path / "runs")
    out = tmp_path / "report"
    assert main(["distill", str(tmp_path / "runs"), "--label", "y", "--n", "2000",
                 "--out", str(out)]) == 0
    rules = strict_json(out / "report.json")["rules"]
    assert "score" not in rules and " a " in f" {rules} " and "b " in rules


def test_three_classes_and_no_held_out_rows(tmp_path):
    rng = np.random.default_rng(1)
    table = pd.DataFrame(rng.uniform(size=(240, 2)), columns=["x1", "x2"])
    table["kind"] = np.where(table.x1 < 0.3, 0, np.where(table.x2 > 0.5, 1, 2))
    table["id"] = [f"run{i}" for i in range(240)]  # text: not an input
    path = tmp_path / "kinds.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["distill", str(path), "--label", "kind", "--drop", "id", "--transfer", "data",
                 "--test", "0", "--max-leaves", "3", "--out", str(out)]) == 0
    report = strict_json(out / "report.json")
    assert report["held_out"] == {} and report["distillation"]["classes"] == [0, 1, 2]
    assert report["distillation"]["fidelity"]["accuracy"] >= 0.95


def test_text_labels_of_the_bundled_dsgc_rows(tmp_path):
    """UCI's DSGC table labels its rows "stable" / "unstable" (column stabf) beside the value."""
    from pathlib import Path

    data = Path(__file__).parents[2].parent / "shared" / "data" / "dsgc_uci_sample.csv"
    if not data.is_file():
        pytest.skip(f"{data} is not beside the project")
    out = tmp_path / "dsgc"
    assert main(["distill", str(data), "--label", "stabf", "--drop", "stab", "--n", "2000",
                 "--max-leaves", "4", "--test", "0", "--out", str(out)]) == 0
    report = strict_json(out / "report.json")
    assert report["distillation"]["classes"] == ["stable", "unstable"]
    assert "class: stable" in report["rules"] or "class: unstable" in report["rules"]
    assert report["distillation"]["fidelity"]["accuracy"] >= 0.9  # a 4-leaf tree on 40 rows


def test_text_labels_give_the_same_tree_as_numbers(planted, tmp_path):
    table = pd.read_csv(planted)
    table["y"] = np.where(table.y == 1, "yes", "no")  # sorted as 0, 1 are
    path = tmp_path / "text.csv"
    table.to_csv(path, index=False)
    reports = []
    for name, source in (("numbers", planted), ("text", path)):
        out = tmp_path / name
        assert main(["distill", str(source), "--label", "y", "--n", "1000", "--max-leaves", "4",
                     "--out", str(out)]) == 0
        reports.append(strict_json(out / "report.json"))
    assert reports[1]["distillation"]["classes"] == ["no", "yes"]
    # the same splits, classes renamed
    assert reports[0]["held_out"] == reports[1]["held_out"]
    assert (reports[0]["rules"].replace("class: 1", "class: yes")
            .replace("class: 0", "class: no") == reports[1]["rules"])


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        (None, ["--label", "z"], "--label: no column 'z'"),
        (lambda t: t.assign(y=t.y.where(t.a > 0.1)), ["--label", "y"],
         "rows have no label"),
        (lambda t: t.assign(y=t.a), ["--label", "y"], "a continuous column is not a label"),
        (lambda t: t.assign(y=0), ["--label", "y"], "only one class"),
        (None, ["--label", "y", "--teacher", "xgboost"], "--teacher 'xgboost' is not one of"),
        (None, ["--label", "y", "--student", "forest"], "--student 'forest' is not one of"),
        (None, ["--label", "y", "--transfer", "space"], "--transfer 'space' is not one of"),
        (None, ["--label", "y", "--n", "0"], "--n must be an integer >= 1"),
        (None, ["--label", "y", "--max-leaves", "1"], "--max-leaves must be"),
        (None, ["--label", "y", "--student", "boxes", "--max-leaves", "4"],
         "--max-leaves is for --student tree"),
        (None, ["--label", "y", "--test", "1.5"], "--test must be a share"),
        (lambda t: t.assign(c=["x"] * len(t)), ["--label", "y"], "input column 'c' must be numbers"),
        # scikit-learn's "Input X contains infinity" named neither column nor file
        (lambda t: t.assign(b=t.b.where(t.a > 0.05, np.inf)), ["--label", "y"],
         "input column 'b' of "),
        (lambda t: t.assign(y=np.arange(len(t)) % 3), ["--label", "y", "--student", "boxes"],
         "needs two classes, it has 3"),
        (None, ["--label", "y", "--drop", "nope"], "--drop: no column(s) ['nope']"),
        # scikit-learn's sentence ("The least populated classes in y have only 1 member...")
        (lambda t: t.assign(y=(np.arange(len(t)) == 0).astype(int)), ["--label", "y"],
         "cannot hold out rows of every class (class 1 has 1 row, and each needs 2)"),
        # scikit-learn's random_state takes < 2**32: the error blamed --test
        (None, ["--label", "y", "--seed", str(2**32)], "--seed must be an int in [0, 4294967295]"),
    ],
)
def test_bad_input_is_one_line_and_status_2(planted, tmp_path, capsys, edit, args, message):
    path = planted
    if edit is not None:
        path = tmp_path / "edited.csv"
        edit(pd.read_csv(planted)).to_csv(path, index=False)
    assert main(["distill", str(path), *args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("surrogate distill: error: ") and message in err
    assert err.count("\n") == 1


def test_missing_file_and_out_naming_a_file(planted, tmp_path, capsys):
    assert main(["distill", str(tmp_path / "none.csv"), "--label", "y"]) == 2
    assert "none.csv: no such file" in capsys.readouterr().err
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["distill", str(planted), "--label", "y", "--out", str(blocker)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    # a parent that is a file: found before the fits, naming --out (an OSError after them)
    assert main(["distill", str(planted), "--label", "y", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert f"--out {blocker / 'sub'}: cannot make this directory (" in err, err
    assert err.count("\n") == 1


def test_boxes_student_is_scored_by_its_most_accurate_box(tmp_path, capsys):
    # soft labels never reach density 1, so PRIM peels on to a sliver of the case: scored by
    # that last box the distilled student was worse than always answering the commoner class
    rng = np.random.default_rng(1)
    table = pd.DataFrame(rng.uniform(size=(300, 3)), columns=["a", "b", "c"])
    table["y"] = ((table.a > 0.3) ^ (rng.uniform(size=300) < 0.1)).astype(int)
    path = tmp_path / "noisy.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "boxes"
    assert main(["distill", str(path), "--label", "y", "--student", "boxes", "--n", "2000",
                 "--out", str(out)]) == 0
    held_out = strict_json(out / "report.json")["held_out"]
    assert held_out["distilled_accuracy"] >= 0.8 > max(table.y.mean(), 1 - table.y.mean())
    assert "box shown and scored" in capsys.readouterr().out
    # the report says it too: its fidelity lines read another box than the one it shows
    assert strict_json(out / "report.json")["box_shown"].startswith("box shown and scored")
    assert "Box shown and scored: " in (out / "report.md").read_text()


def test_a_table_without_rows_is_one_clear_error(tmp_path, cli):
    """A header and no rows: an IndexError traceback from the one-class check before."""
    (tmp_path / "h.csv").write_text("a,b,y\n")
    for command in (("distill", tmp_path / "h.csv", "--label", "y"),
                    ("discover", tmp_path / "h.csv", "--outcome", "y > 0")):
        result = cli(*command)  # in-process: two subprocesses took 10 s
        assert result.returncode == 2
        assert result.stderr.strip() == (f"surrogate {command[0]}: error: {tmp_path / 'h.csv'}: "
                                         "holds no rows (columns: ['a', 'b', 'y'])")


def test_more_table_mistakes_are_one_line_naming_what_to_change(tmp_path, capsys):
    import surrogate as sg

    space = sg.Space([sg.Real("a", 0.0, 1.0), sg.Real("b", 0.0, 1.0)])
    failing = sg.Simulator(lambda a, b: {"out": float("nan")}, space, ["out"], name="nan")
    failing.run(sg.sample(space, 4, seed=0), progress=False).save(tmp_path / "allfail")
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.uniform(size=(40, 2)), columns=["a", "b"])
    table["lab"] = np.where(table.a > 0.5, "hi", "lo")
    table.to_csv(tmp_path / "t.csv", index=False)
    table.head(6).to_csv(tmp_path / "tiny.csv", index=False)
    (tmp_path / "ragged.csv").write_text("a,b,out\n1,2,3\n4,5\n6,7,8,9\n")
    (tmp_path / "twice.csv").write_text("a,a,out\n1,2,3\n4,5,6\n")
    table.to_csv(tmp_path / "indexed.csv")  # pandas' index: an unnamed first column
    cases = [
        # discover read its runs without the check distill had: numpy warnings, "base rate nan"
        (["discover", tmp_path / "allfail", "--outcome", "out > 0.5"],
         f"{tmp_path / 'allfail'}: holds no successful runs (columns: ['a', 'b', 'out'])"),
        (["discover", tmp_path / "t.csv", "--outcome", "lab > 0"],  # float('hi')
         "outcome lab > 0: 'lab' holds values that are not numbers (e.g. 'hi'); compare a "
         "numeric column, or name the rows of one text value as cases, e.g. \"lab == 'hi'\""),
        (["discover", tmp_path / "ragged.csv", "--outcome", "out > 0"],  # pandas' two lines
         "cannot be read as a CSV table (Error tokenizing data. C error: Expected 3 fields in "
         "line 4, saw 4)"),
        (["discover", tmp_path / "twice.csv", "--outcome", "out > 3"],  # a box on 'a.1'
         "the column name(s) ['a'] head more than one column; name each column once"),
        (["discover", tmp_path / "indexed.csv", "--outcome", "b > 0.5"],  # a box on the index
         "column(s) [1] (counting from 1) have no name in the header; name them, or write the "
         "table without its index (DataFrame.to_csv(path, index=False))"),
        (["distill", tmp_path / "indexed.csv", "--label", "lab"],
         "column(s) [1] (counting from 1) have no name in the header"),
        (["distill", tmp_path / "tiny.csv", "--label", "lab", "--test", "0", "--teacher", "svm"],
         "--teacher svm calibrates its probabilities by 5-fold cross-validation: every class "
         "needs 5 rows to fit on, the smallest has"),
    ]
    for args, message in cases:
        assert main([str(a) for a in args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_the_rules_show_a_small_scale_split_to_its_digits(tmp_path):
    # export_text's two decimals wrote the split at 0.002 as "rate <= 0.00"
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"rate": rng.uniform(0, 0.004, 200), "size": rng.uniform(0, 1, 200)})
    table["lab"] = np.where(table.rate > 0.002, "high", "low")
    table.to_csv(tmp_path / "small.csv", index=False)
    out = tmp_path / "out"
    assert main(["distill", str(tmp_path / "small.csv"), "--label", "lab", "--n", "300",
                 "--out", str(out)]) == 0
    rules = strict_json(out / "report.json")["rules"]
    split = float(rules.splitlines()[0].split("<=")[1])
    assert split == pytest.approx(0.002, rel=0.05), rules
