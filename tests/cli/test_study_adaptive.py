"""``[design] method = "adaptive"``: the study's runs chosen round by round, resumed on a rerun.

End to end through the console script with a user's teacher that logs every call, so that a
repeated run would show.
"""

import json
import textwrap

import numpy as np
import pytest

import simulators
from surrogate._config import ConfigError, config_from_text
from surrogate.data import TransferSet

MODEL = textwrap.dedent("""
    import math
    from pathlib import Path

    def branin(x1, x2):
        with open(Path(__file__).with_name("calls.txt"), "a") as log:
            log.write(f"{x1!r} {x2!r}\\n")
        return ((x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2
                + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10)
""")

CONFIG = textwrap.dedent("""
    simulator = "adaptive_branin:branin"
    outputs = ["y"]
    [[space.parameters]]
    name = "x1"
    type = "real"
    low = -5.0
    high = 10.0
    [[space.parameters]]
    name = "x2"
    type = "real"
    low = 0.0
    high = 15.0
    [design]
    method = "adaptive"
    goal = "boundary"
    budget = 12
    [surrogate]
    cv = 3
    [sensitivity]
    n = 0
    [discover]
    outcome = "y < 20"
    reds = false
""")


def branin(x1, x2):
    return ((x2 - 5.1 / (4 * np.pi ** 2) * x1 ** 2 + 5 / np.pi * x1 - 6) ** 2
            + 10 * (1 - 1 / (8 * np.pi)) * np.cos(x1) + 10)


def test_adaptive_study_end_to_end_and_resume(tmp_path, cli):
    (tmp_path / "adaptive_branin.py").write_text(MODEL)
    (tmp_path / "study.toml").write_text(CONFIG)
    result = cli("study", "study.toml", "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    runs = TransferSet.load(tmp_path / "out" / "runs")
    assert len(calls) == len(runs) == 12 and runs.ok.all()
    assert np.allclose(runs.Y["y"], branin(runs.X["x1"], runs.X["x2"]))
    summary = json.loads((tmp_path / "out" / "report.json").read_text())
    design = summary["design"]
    assert (design["goal"], design["budget"], design["stopped"]) == ("boundary", 12, "budget")
    assert design["threshold"] == "y < 20" and design["fidelity"] == "misclassified"
    rounds = design["round_of_run"]
    # 2 * dim + 1 = 5 initial runs in round 0, then one run per round
    assert rounds == [0] * 5 + list(range(1, 8))
    assert [r["n_runs"] for r in design["history"].values()] == list(range(5, 13))
    assert summary["discovery"]["cases_of_interest"] == int((runs.Y["y"] < 20).sum())
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<h2>Adaptive design</h2>" in page
    assert "Learning curve: adaptive design (boundary)" in page
    assert "Where the runs went: design coloured by round" in page
    # PRIM's statistics on boundary-concentrated runs are said to be those runs', not the space's
    assert summary["discovery"]["adaptive_runs"] is True
    assert "The runs are an adaptive design</b>" in page

    # a larger budget resumes: the 12 runs are kept, only 2 new ones run
    result = cli("study", "study.toml", "--out", "out", "--quiet", "--n", "14",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "calls.txt").read_text().splitlines()[:12] == calls
    assert len((tmp_path / "calls.txt").read_text().splitlines()) == 14
    grown = TransferSet.load(tmp_path / "out" / "runs")
    assert len(grown) == 14
    assert np.allclose(grown.X.iloc[:12].to_numpy(float), runs.X.to_numpy(float))
    assert json.loads((tmp_path / "out" / "report.json").read_text())["design"]["budget"] == 14


@pytest.mark.parametrize("text, message", [
    ('[design]\nmethod = "adaptive"\nn = 10\n', "design.n: an adaptive design takes budget"),
    ('[design]\nmethod = "adaptive"\n', "design.budget: missing"),
    ('[design]\nbudget = 10\n', 'design.budget: only for method = "adaptive"'),
    ('[design]\nmethod = "adaptive"\nbudget = 10\ngoal = "edge"\n',
     r"design.goal: must be one of \['accuracy', 'boundary'\], got 'edge'"),
    ('[design]\nmethod = "adaptive"\nbudget = 10\ngoal = "boundary"\n',
     'design.threshold: goal = "boundary" needs a case of interest'),
    ('[design]\nmethod = "adaptive"\nbudget = 10\ngoal = "boundary"\nthreshold = ["=", 1]\n',
     r"design.threshold: must be \[OP, NUMBER\]"),
    ('[design]\nmethod = "adaptive"\nbudget = 10\ngoal = "boundary"\ntarget = 1.0\n'
     'threshold = ["<", 1]\n', "design.target: a boundary design's target"),
    ('[design]\nmethod = "adaptive"\nbudget = 10\ngoal = "boundary"\ntarget = 0.7\n'
     'threshold = ["<", 1]\n', r"design.target: .* in \(0, 0.5\)"),
    ('[design]\nmethod = "adaptive"\nbudget = 10\ntarget = 1.0\n',
     r"design.target: an accuracy design's target is a leave-one-out Q² in \(0, 1\)"),
    ('[design]\nmethod = "adaptive"\nbudget = 10\ngoal = "accuracy"\nthreshold = ["<", 3]\n',
     'design.threshold: only for goal = "boundary"'),
])
def test_adaptive_design_keys_are_validated(text, message):
    with pytest.raises(ConfigError, match=message):
        config_from_text('simulator = "branin"\n' + text)


def test_a_boundary_design_of_a_simulator_with_several_outputs_names_its_output(tmp_path):
    from surrogate.study._run import _check_against

    lake = simulators.load("lake")
    config = config_from_text('simulator = "lake"\n[design]\nmethod = "adaptive"\nbudget = 20\n'
                              'goal = "boundary"\nthreshold = [">=", 0.9]\n')
    with pytest.raises(ConfigError, match=r'design.output: goal = "boundary" is about one '
                                          r"output of lake: name it; outputs: \['max_P'"):
        _check_against(config, lake)


def test_a_one_shot_design_in_an_adaptive_designs_directory_is_one_clear_error(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "adaptive.json").write_text("{}")
    config = config_from_text('simulator = "branin"\n[design]\nn = 8\n')
    from surrogate.study._run import _teacher_runs

    with pytest.raises(ConfigError, match="holds the runs of an adaptive design; a lhs design "
                                          "goes in another directory"):
        _teacher_runs(config, simulators.load("branin"), tmp_path, "serial", None, False, False)


def test_a_budget_below_the_initial_design_is_refused_before_any_directory(tmp_path):
    from surrogate.study import run_study

    config = config_from_text('simulator = "branin"\n[design]\nmethod = "adaptive"\n'
                              'budget = 3\n[sensitivity]\nn = 0\n')
    with pytest.raises(ConfigError, match=r"design.budget \(--n\): budget=3 is smaller than "
                                          r"n_init=5"):
        run_study(config, tmp_path / "out", verbose=False, progress=False)
    assert not (tmp_path / "out").exists()  # an empty directory was left behind


def test_adaptive_boundary_takes_the_discover_outcome():
    config = config_from_text('simulator = "branin"\n[design]\nmethod = "adaptive"\n'
                              'budget = 9\ngoal = "boundary"\n[discover]\noutcome = "y < 10"\n')
    from surrogate.study._adaptive import adaptive_case

    assert adaptive_case(config) == ("y", ("<", 10.0))


def test_a_one_shot_design_flag_on_an_adaptive_config_keeps_its_budget(tmp_path, cli):
    (tmp_path / "adaptive_branin.py").write_text(MODEL)
    config = tmp_path / "study.toml"
    config.write_text(CONFIG)
    result = cli("study", config, "--design", "lhs", "--out", "out", "--quiet",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["config"]["method"] == "lhs" and report["runs"]["n"] == 12
    assert len((tmp_path / "calls.txt").read_text().splitlines()) == 12


def test_a_teacher_mode_optimization_after_an_adaptive_design_runs_other_points():
    # both loops started from the Latin hypercube of the study's seed: the optimization ran
    # the design's 2 * dim + 1 first points again
    from surrogate.optimize import minimize
    from surrogate.sequential import adaptive_sample
    from surrogate.space import Real, Space
    from surrogate.study._stages import _optimization_seed

    config = config_from_text(CONFIG.replace('"adaptive_branin:branin"', '"branin"')
                              .split("outputs")[0] + '[design]\nmethod = "adaptive"\n'
                              'budget = 12\n[optimize]\noutput = "y"\nmode = "teacher"\n')
    space = Space([Real("x1", -5.0, 10.0), Real("x2", 0.0, 15.0)])

    def f(p):
        return branin(p["x1"], p["x2"])

    design = adaptive_sample(f, space=space, budget=5, seed=config.seed).runs.X
    optimization = minimize(f, space=space, budget=5, seed=_optimization_seed(config)).history.X
    assert not design.merge(optimization).shape[0]  # no point in common
    one_shot = config_from_text('simulator = "branin"\n[optimize]\noutput = "y"\n'
                                'mode = "teacher"\n')
    assert _optimization_seed(one_shot) == one_shot.seed  # unchanged where no loop ran before


def test_a_design_threshold_without_an_output_names_the_modelled_output(tmp_path, cli):
    # the report read "None < -5": the output was taken from [design] output, left unset
    (tmp_path / "study.toml").write_text(textwrap.dedent("""
        simulator = "branin"
        [design]
        method = "adaptive"
        goal = "boundary"
        budget = 6
        threshold = ["<", 1000000.5]
        [surrogate]
        cv = 3
        [sensitivity]
        n = 0
        """))
    result = cli("study", "study.toml", "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    design = json.loads((tmp_path / "out" / "report.json").read_text())["design"]
    assert design["threshold"] == "y < 1000000.5"  # all its digits (":g" gave "1e+06")
