"""A study never loses its teacher runs: failed stages are reported, the rest of the study runs.

End to end through the console script (as a user runs it: its ``main``, in this process where
nothing needs a process of its own; see conftest's ``cli``), plus the study's surrogate on a
categorical parameter and its parity figure in process.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate._config import config_from_text
from surrogate.data import TransferSet
from surrogate.models import GPRegressor, cross_validate
from surrogate.space import Categorical, Real, Space
from surrogate.study import run_study
from surrogate.study._stages import model_inputs

FACTOR = {"low": 1.0, "mid": 2.0, "high": 3.0}


def surrogate(*args, cwd=None, timeout=600):
    """The console script, as a user runs it (as in test_cli.py)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "surrogate.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)

MODEL = textwrap.dedent("""
    FACTOR = {"low": 1.0, "mid": 2.0, "high": 3.0}

    def scaled(a, level):
        return a * FACTOR[level]

    def two_args(a, b):
        return a + b

    def no_licence(a):
        raise RuntimeError("no licence")

    def licensed(a):
        import pathlib
        if not pathlib.Path(__file__).with_name("licence.txt").exists():
            raise RuntimeError("no licence")
        return a * a

    def slow_high(a):  # hangs where a > 0.7 (each run there outlasts a 1 s timeout)
        import time
        if a > 0.7:
            time.sleep(60)
        return a * a

    def fails_high(a):
        if a > 0.6:
            raise ValueError(f"no convergence at a={a:.3f}")
        return a * a

    def noise(a):  # no function of a: a surrogate can only explain nothing
        import hashlib
        return int(hashlib.sha256(repr(a).encode()).hexdigest()[:8], 16) / 16**8

    def flat(a):  # the same value everywhere: no surrogate is fitted
        return 1.5

    def hangs_high(a):
        if a > 0.8:  # stuck inside C code: SIGALRM's handler never gets a bytecode boundary
            sum(range(10**13))
        return a * a
""")

REAL_A = textwrap.dedent("""
    [[space.parameters]]
    name = "a"
    type = "real"
    low = 0.0
    high = 1.0
""")


def _project(tmp_path, name, config):
    """A user's directory: their module (under a name unique to the test) and study file."""
    (tmp_path / f"{name}.py").write_text(MODEL)
    (tmp_path / "study.toml").write_text(config.replace("MODULE", name))
    return tmp_path / "study.toml"


def _strict_json(path):
    def reject(constant):
        raise ValueError(f"{path.name} holds {constant}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=reject)


def test_categorical_parameter_study_end_to_end(tmp_path, cli):
    config = _project(tmp_path, "cat_scaled", 'simulator = "MODULE:scaled"\noutputs = ["y"]\n'
                      + REAL_A + textwrap.dedent("""
        [[space.parameters]]
        name = "level"
        type = "categorical"
        categories = ["low", "mid", "high"]
        [design]
        n = 24
        [surrogate]
        cv = 3
        [sensitivity]
        n = 64
        [optimize]
        output = "y"
        [discover]
        outcome = "y > 1.5"
        n_samples = 500
    """))
    result = cli("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    runs = TransferSet.load(tmp_path / "out" / "runs")
    assert len(runs) == 24 and runs.ok.all()
    truth = runs.X["a"] * runs.X["level"].map(FACTOR)
    assert np.allclose(runs.Y["y"], truth)
    summary = _strict_json(tmp_path / "out" / "report.json")
    assert summary["failures"] == []
    assert summary["surrogates"]["y"]["q2"] > 0.95  # y = a * factor(level) is smooth in a
    indices = summary["sensitivity"]["y"]
    assert set(indices) == {"a", "level"}
    # y = a * f(level), a ~ U(0, 1), f uniform on {1, 2, 3}: Var y = 5/9, S_level = (1/6) / (5/9)
    assert abs(indices["level"]["S1"] - 0.3) < 0.15 and abs(indices["a"]["S1"] - 0.6) < 0.15
    assert "<td class='text'>level</td>" in (tmp_path / "out" / "report.html").read_text()
    assert summary["optimization"]["x"]["a"] < 0.05  # min of a * factor is 0 at a = 0
    assert summary["discovery"]["prim"]["rules"]
    # the GP takes the category itself (exchangeable kernel), with the space's levels in order
    meta = json.loads((tmp_path / "out" / "models" / "y" / "meta.json").read_text())
    assert meta["categories"] == [{"position": 1, "name": "level",
                                   "levels": ["low", "mid", "high"]}]
    assert not (tmp_path / "out" / "models" / "y" / "one_hot.json").exists()


def test_failed_stage_is_reported_and_the_study_goes_on(tmp_path, cli):
    config = tmp_path / "tiny.toml"
    config.write_text(textwrap.dedent("""
        simulator = "branin"
        [design]
        n = 20
        [surrogate]
        cv = 3
        [sensitivity]
        n = 64
        [optimize]
        output = "y"
        [discover]
        outcome = "y < 20"
        reds = false
    """))
    out = tmp_path / "out"
    out.mkdir()
    (out / "models").write_text("in the way\n")  # saving the surrogate fails: a real OSError
    result = cli("study", config, "--out", out, "--quiet")
    assert result.returncode == 1
    errors = [line for line in result.stderr.strip().splitlines()
              if line.startswith("surrogate study: error: ")]  # warnings may come before
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert errors[0].startswith("surrogate study: error: surrogates (y) failed: ")
    assert f"report: {(out / 'report.html').resolve()}" in result.stdout
    assert len(TransferSet.load(out / "runs")) == 20
    summary = _strict_json(out / "report.json")
    [failure] = summary["failures"]
    assert failure["stage"] == "surrogates" and failure["output"] == "y"
    assert failure["traceback_in"] == "failures.log"
    assert failure["error"] in errors[0]
    # the scores made before the failure are kept beside it
    assert set(summary["surrogates"]["y"]) == {"q2", "rmse", "coverage95", "failed"}
    assert set(summary["sensitivity"]["y"]) == {"x1", "x2"}  # later stages ran
    assert summary["optimization"]["output"] == "y" and summary["discovery"]["prim"]["rules"]
    page = (out / "report.html").read_text()
    assert "Failed stages" in page and "surrogates (y)" in page
    assert "Tracebacks are in failures.log" in page
    assert "Traceback" in (out / "failures.log").read_text()


def test_all_teacher_runs_failing_is_an_error(tmp_path, cli):
    config = _project(tmp_path, "all_fail", 'simulator = "MODULE:no_licence"\noutputs = ["y"]\n'
                      + REAL_A + "[design]\nn = 10\n")
    result = cli("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "surrogate study: error: all 10 teacher runs failed; first error: RuntimeError: "
        "no licence (once the cause is fixed, --rerun-failed runs them again)"]
    summary = _strict_json(tmp_path / "out" / "report.json")
    assert summary["runs"]["failed"] == 10
    assert summary["failures"] == [{"stage": "teacher runs",
                                    "error": result.stderr.strip().split("error: ", 1)[1]}]


def test_a_function_that_cannot_take_the_parameters_is_refused_before_any_run(tmp_path, cli):
    config = _project(tmp_path, "args", 'simulator = "MODULE:two_args"\noutputs = ["y"]\n'
                      + REAL_A + "[design]\nn = 10\n")
    result = cli("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 2
    assert "simulator 'two_args': its function takes ['a', 'b'] but is called with the " \
        "space's parameters ['a']" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # a mistake leaves no study directory behind


def test_many_failed_runs_give_a_warning(tmp_path, cli):
    config = _project(tmp_path, "some_fail", 'simulator = "MODULE:fails_high"\noutputs = ["y"]\n'
                      + REAL_A + "[design]\nn = 10\n[sensitivity]\nn = 0\n")
    result = cli("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # a Latin hypercube puts exactly 4 of 10 points in (0.6, 1]
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("surrogate study: warning: 4 of 10 teacher runs failed (40%); "
                           "first error: ValueError: no convergence at a=0.")
    summary = _strict_json(tmp_path / "out" / "report.json")
    assert summary["warnings"] == [line.removeprefix("surrogate study: warning: ")]


def test_without_quiet_each_warning_is_shown_once(tmp_path, cli):
    """The stage logged it, and the end of the run printed it again."""
    config = _project(tmp_path, "some_fail", 'simulator = "MODULE:fails_high"\noutputs = ["y"]\n'
                      + REAL_A + "[design]\nn = 10\n[sensitivity]\nn = 0\n")
    result = cli("study", config, "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).count("4 of 10 teacher runs failed") == 1
    assert "surrogate study: 1 warning(s), logged above and listed in the report" in \
        result.stderr


def test_a_surrogate_that_explains_little_is_warned_of(tmp_path, cli):
    """Its Sobol indices and optimum were reported with no word of its Q²."""
    config = _project(tmp_path, "noisy", 'simulator = "MODULE:noise"\noutputs = ["y"]\n'
                      + REAL_A + "[design]\nn = 20\n[sensitivity]\nn = 0\n")
    result = cli("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = _strict_json(tmp_path / "out" / "report.json")
    q2 = summary["surrogates"]["y"]["q2"]
    assert q2 < 0.5
    [warning] = [w for w in summary["warnings"] if "explains little" in w]
    assert warning.startswith(f"surrogates: the surrogate of 'y' explains little "
                              f"(cross-validated Q² {q2:.3g} < 0.5)")


def test_timeout_with_serial_executor_runs_in_a_worker_process(tmp_path):
    config = _project(tmp_path, "hangs", 'simulator = "MODULE:hangs_high"\noutputs = ["y"]\n'
                      + REAL_A + "[design]\nn = 5\n[run]\ntimeout = 1\n")
    # in this process the hang would outlast the test's own timeout
    result = surrogate("study", config, "--out", "out", "--quiet", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    runs = _strict_json(tmp_path / "out" / "report.json")["runs"]
    assert (runs["executor"], runs["ok"], runs["timeout"]) == ("processes", 4, 1)


def test_out_naming_a_file_is_one_line(tmp_path, cli):
    (tmp_path / "taken").write_text("")
    result = cli("study", "branin", "--n", "5", "--out", tmp_path / "taken", "--quiet")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"surrogate study: error: --out {tmp_path / 'taken'}: exists and is not a directory; "
        "name a new or existing study directory"]


def test_run_study_directory_that_cannot_be_made(tmp_path):
    (tmp_path / "file").write_text("")
    config = config_from_text('simulator = "branin"\n[design]\nn = 5\n')
    with pytest.raises(ValueError, match="study directory .*file/sub: cannot be created"):
        run_study(config, tmp_path / "file" / "sub", verbose=False)


def test_study_parity_figure_shows_out_of_fold_predictions(tmp_path):
    config = config_from_text('simulator = "branin"\n[design]\nn = 20\nseed = 3\n'
                              '[surrogate]\ncv = 4\n[sensitivity]\nn = 0\n')
    study = run_study(config, tmp_path / "study", verbose=False)
    [(title, figure)] = study.figures
    ax = figure.axes[0]
    valid = study.runs.valid()
    y = valid.Y["y"].to_numpy()
    scores = cross_validate(GPRegressor(kernel="auto", seed=3), valid.X, y, cv=4, seed=3)
    x_drawn, y_drawn = ax.containers[0].lines[0].get_data()
    assert np.allclose(x_drawn, y)
    assert np.allclose(y_drawn, scores["y_pred"], rtol=1e-6, atol=1e-6 * np.ptp(y))
    assert not np.allclose(y_drawn, study.models["y"].predict(valid.X))  # not the training fit
    q2 = study.summary["surrogates"]["y"]["q2"]
    assert ax.get_title() == f"4-fold cross-validated Q² = {q2:.4f}"
    assert "cross-validation" in title


def test_study_model_knows_every_category_of_the_space():
    rng = np.random.default_rng(0)
    space = Space([Real("a", 0.0, 1.0), Categorical("level", ["low", "mid", "high"])])
    X = pd.DataFrame({"a": rng.uniform(size=40), "level": rng.choice(["low", "mid"], size=40)})
    y = X["a"] * X["level"].map(FACTOR)
    model = GPRegressor(seed=0).fit(model_inputs(space, X), y)  # no run has "high"
    assert model.categories_ == {"level": ["low", "mid", "high"]}
    mean, std = model.predict(pd.DataFrame({"a": [0.5, 0.5], "level": ["high", "low"]}),
                              return_std=True)
    assert np.isfinite(mean).all() and np.isfinite(std).all()
    assert mean[1] == pytest.approx(0.5, abs=0.05)
    with pytest.raises(ValueError, match=r"column 'level' has categories not seen at fit: "
                                         r"'huge'"):
        model.predict(pd.DataFrame({"a": [0.5], "level": ["huge"]}))
    # numbers as categories stay categories (an object column of numbers would be ordered)
    numbers = Space([Real("a", 0.0, 1.0), Categorical("k", [3, 1, 2])])
    frame = model_inputs(numbers, pd.DataFrame({"a": [0.1, 0.2], "k": np.array([3, 1], object)}))
    assert list(frame["k"].cat.categories) == [3, 1, 2]


def test_a_stage_warning_reaches_the_report_not_the_terminal_raw(tmp_path, cli):
    config = _project(tmp_path, "stage_warns", 'simulator = "MODULE:fails_high"\n'
                      'outputs = ["y"]\n' + REAL_A + "[design]\nn = 40\n[sensitivity]\nn = 256\n")
    result = cli("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "UserWarning" not in result.stderr and "warnings.warn" not in result.stderr
    summary = _strict_json(tmp_path / "out" / "report.json")
    # the surrogate saw a in [0, 0.6] (the runs above fail); Sobol' samples all of [0, 1]
    [sobol] = [w for w in summary["warnings"] if w.startswith("sensitivity: ")]
    assert "a (trained on [" in sobol
    assert f"surrogate study: warning: {sobol}" in result.stderr.splitlines()
    assert sobol in (tmp_path / "out" / "report.html").read_text().replace("&#x27;", "'")


@pytest.mark.slow  # a study run twice (about 11 s): the default suite keeps under 10 minutes
def test_rerun_failed_runs_the_failed_runs_again_once_their_cause_is_fixed(tmp_path):
    config = _project(tmp_path, "licensed_mod", 'simulator = "MODULE:licensed"\n'
                      'outputs = ["y"]\n' + REAL_A + "[design]\nn = 10\n[sensitivity]\nn = 0\n")
    assert surrogate("study", config, "--out", "out", "--quiet", cwd=tmp_path).returncode == 1
    (tmp_path / "licence.txt").write_text("ok")
    again = surrogate("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert again.returncode == 1 and "--rerun-failed runs them again" in again.stderr
    fixed = surrogate("study", config, "--out", "out", "--quiet", "--rerun-failed", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    summary = _strict_json(tmp_path / "out" / "report.json")
    assert (summary["runs"]["n"], summary["runs"]["ok"]) == (10, 10)


def test_the_error_table_counts_every_failed_run():
    import pandas as pd

    from surrogate.study._run import _error_counts

    errors = pd.Series(["OutputError: nan"] * 5 + [f"RuntimeError: diverged at a={i}"
                                                   for i in range(6)])
    table = _error_counts(errors)
    assert sum(table.values()) == 11 and len(table) == 5  # the top 5 alone dropped 2 runs
    assert table["OutputError: nan"] == 5 and table["(3 other messages)"] == 3
    assert _error_counts(errors[:7]) == {"OutputError: nan": 5,
                                         "RuntimeError: diverged at a=0": 1,
                                         "RuntimeError: diverged at a=1": 1}


@pytest.mark.slow  # three studies in subprocesses: the default suite's 10 minutes
def test_a_changed_simulator_is_a_study_warning_in_the_report(tmp_path):
    config = _project(tmp_path, "changed_mod", 'simulator = "MODULE:licensed"\n'
                      'outputs = ["y"]\n' + REAL_A + "[design]\nn = 10\n[sensitivity]\nn = 0\n")
    (tmp_path / "licence.txt").write_text("ok")
    assert surrogate("study", config, "--out", "out", "--quiet", cwd=tmp_path).returncode == 0
    module = tmp_path / "changed_mod.py"
    text = module.read_text()
    module.write_text(text.replace("    return a * a\n", "    return a * a + 0.0\n", 1))
    assert module.read_text() != text
    again = surrogate("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "UserWarning" not in again.stderr
    [changed] = [w for w in _strict_json(tmp_path / "out" / "report.json")["warnings"]
                 if "has changed" in w]
    assert changed.startswith("runs: ") and f"surrogate study: warning: {changed}" in \
        again.stderr.splitlines()


@pytest.mark.slow  # three studies in subprocesses: the default suite's 10 minutes
def test_teacher_mode_optimization_restarts_when_its_settings_change_and_says_when_infeasible(
        tmp_path):
    base = ('simulator = "MODULE:licensed"\noutputs = ["y"]\n' + REAL_A
            + '[design]\nn = 8\n[sensitivity]\nn = 0\n[discover]\noutcome = "y > 0.5"\nreds = false\n'
            '[optimize]\noutput = "y"\nmode = "teacher"\nbudget = 8\n')
    config = _project(tmp_path, "opt_mod", base)
    (tmp_path / "licence.txt").write_text("ok")
    assert surrogate("study", config, "--out", "out", "--quiet", cwd=tmp_path).returncode == 0
    # another sense: its checkpoint is another optimization's (it failed the stage before)
    config.write_text(config.read_text().replace('mode = "teacher"',
                                                 'mode = "teacher"\nsense = "maximize"'))
    again = surrogate("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    summary = _strict_json(tmp_path / "out" / "report.json")
    assert summary["optimization"]["sense"] == "maximize"
    assert any("starts afresh" in w and "optimize-previous-1" in w for w in summary["warnings"])
    assert (tmp_path / "out" / "optimize-previous-1").is_dir()
    # constraints no run meets: said in the report, not shown as a plain optimum
    config.write_text(config.read_text().replace('budget = 8\n', 'budget = 8\n'
                                                 'constraints = { y = ["<=", -1.0] }\n'))
    third = surrogate("study", config, "--out", "out", "--quiet", cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    summary = _strict_json(tmp_path / "out" / "report.json")
    assert summary["optimization"]["feasible"] is False
    assert any("no evaluation met the constraints" in w for w in summary["warnings"])
    assert "not met by any evaluation" in (tmp_path / "out" / "report.html").read_text()


def test_a_box_below_min_density_is_said_to_be_so():
    # the report showed a box of density 0.5 under min_density = 0.8 without a word
    from surrogate.discovery import PRIM
    from surrogate.report import _discovery_html
    from surrogate.study._discover import _box_summary, _choose_box

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((300, 2)), columns=["a", "b"])
    y = rng.random(300) < 0.3  # no structure: no box gets dense
    prim = PRIM().fit(X, y)
    summaries = {}
    for min_density in (0.99, 0.1):
        chosen = _choose_box(prim, X, y, min_density)
        summaries[min_density] = _box_summary(prim, chosen, X, y, min_density)
    assert summaries[0.99]["reaches_min_density"] is False
    assert summaries[0.1]["reaches_min_density"] is True
    page = _discovery_html({"outcome": "y", "n_runs": 300, "cases_of_interest": int(y.sum()),
                            "base_rate": float(y.mean()), "min_density": 0.99,
                            "prim": summaries[0.99]})
    assert "No box of PRIM's trajectory reaches the density asked for (min_density = 0.99)" \
        in page
    assert "of the 300 runs that succeeded are cases of interest" in page
    # without REDS there is one box and no REDS plot to speak of
    assert "of the box are measured" in page and "both boxes" not in page


def test_a_poor_surrogate_warning_names_what_the_study_makes_of_it():
    # it always said "its Sobol indices and optimum", with no optimization and no Sobol stage
    from surrogate.study._stages import _uses

    config = config_from_text('simulator = "branin"\n[optimize]\noutput = "y"\n')
    assert _uses(config, "y") == "its Sobol indices and its optimum"
    assert _uses(config, "other") == "its Sobol indices"
    assert _uses(config.with_overrides(sobol_n=0), "y") == "its optimum"
    assert _uses(config.with_overrides(sobol_n=0, mode="teacher"), "y") == "its predictions"


@pytest.mark.slow  # a study with runs that time out (about 8 s): the default suite keeps under 10 min
def test_the_teacher_mode_optimization_keeps_the_run_settings(tmp_path):
    """[run] timeout reaches the optimization's runs: one hanging run is recorded as a
    timeout and the stage goes on (it ran 60 s and was recorded "ok")."""
    config = _project(tmp_path, "slow_mod", (
        'simulator = "MODULE:slow_high"\noutputs = ["y"]\n' + REAL_A
        + '[design]\nn = 6\n[run]\ntimeout = 1\n[sensitivity]\nn = 0\n'
        '[discover]\noutcome = "y > 0.25"\nreds = false\n'
        '[optimize]\noutput = "y"\nmode = "teacher"\nbudget = 6\n'))
    done = surrogate("study", config, "--out", "out", "--quiet", cwd=tmp_path, timeout=200)
    assert done.returncode == 0, done.stderr
    statuses = pd.concat([pd.read_parquet(path) for path in
                          sorted((tmp_path / "out" / "optimize").rglob("runs.parquet"))])
    assert len(statuses) == 6
    high = statuses["x.a"] > 0.7
    assert high.any() and (statuses.loc[high, "status"] == "timeout").all()
    assert (statuses.loc[~high, "status"] == "ok").all()


@pytest.mark.dask
@pytest.mark.slow  # a cluster takes seconds to start
def test_a_dask_study_optimizes_on_the_scheduler_it_names(tmp_path):
    """`surrogate study lake --executor dask --address ...` failed its optimization stage:
    the teacher-mode optimization got the bare "dask" without the address."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        config = config_from_text(
            'simulator = "branin"\n[run]\nexecutor = "dask"\naddress = "'
            + cluster.scheduler_address + '"\n[design]\nn = 10\n[sensitivity]\nn = 0\n'
            '[optimize]\noutput = "y"\nmode = "teacher"\nbudget = 7\n')
        study = run_study(config, tmp_path / "out", verbose=False, progress=False)
    assert not study.failures, study.failures
    assert study.summary["optimization"]["teacher_evaluations"] == 7


def test_a_surrogate_optimum_beyond_every_run_is_said_to_extrapolate(tmp_path):
    """SIR's surrogate put the smallest peak_infected below zero (-77,000 people), far below
    every run, and the report showed it as the optimum without a word."""
    config = config_from_text('simulator = "sir"\n[design]\nn = 50\n[sensitivity]\nn = 0\n'
                              '[optimize]\noutput = "peak_infected"\nmode = "surrogate"\n')
    study = run_study(config, tmp_path / "out", verbose=False, progress=False)
    optimum = study.summary["optimization"]
    lowest = float(study.runs.valid().Y["peak_infected"].min())
    assert optimum["y"] < lowest and optimum["beyond_the_runs"] is True
    assert any("lies below every run's value" in w and "mode = \"teacher\"" in w
               for w in study.warnings)
    config = config_from_text('simulator = "branin"\n[design]\nn = 40\n[sensitivity]\nn = 0\n'
                              '[optimize]\noutput = "y"\nmode = "surrogate"\n')
    study = run_study(config, tmp_path / "branin", verbose=False, progress=False)
    assert study.summary["optimization"]["beyond_the_runs"] is False  # 0.398, runs from ~1


def test_a_surrogate_optimum_of_a_sign_no_run_had_is_said_to_extrapolate(tmp_path):
    """With 30 runs SIR's surrogate put the smallest peak_infected at -12,000 people: within
    5 % of the runs' range (11.7 to 424,666), so not flagged, though no run is below zero."""
    config = config_from_text('simulator = "sir"\n[design]\nn = 30\n[sensitivity]\nn = 0\n'
                              '[optimize]\noutput = "peak_infected"\nmode = "surrogate"\n')
    study = run_study(config, tmp_path / "out", verbose=False, progress=False)
    optimum = study.summary["optimization"]
    runs = study.runs.valid().Y["peak_infected"]
    assert optimum["y"] < 0 <= runs.min()
    assert optimum["beyond_the_runs"] is True
    assert any("and below zero as no run is" in w for w in study.warnings)


def test_report_json_writes_a_categorical_box_side_as_sorted_categories():
    # a frozenset was written in set order, which the hash seed decides: an identical rerun
    # wrote another report.json
    from surrogate.discovery import PRIM
    from surrogate.study._discover import _limits

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.random(300), "kind": rng.choice(["c", "a", "b"], 300)})
    y = ((X["x"] < 0.7) & X["kind"].isin(["c", "a"])).to_numpy()
    box = PRIM().fit(X, y).box(min_density=0.95)
    limits = _limits(box)
    assert limits["kind"] == {"categories": ["a", "c"]}
    assert limits["x"]["lower"] == float("-inf") and limits["x"]["upper"] < 0.75
    assert set(limits) == {"x", "kind"}


def test_a_surrogate_maximum_warns_when_the_space_reaches_beyond_the_runs(tmp_path,
                                                                         monkeypatch):
    # the minimum warned, the maximum (of the negated model, which had no training range) not
    (tmp_path / "edge_teach.py").write_text(
        "import math\n"
        "def f(x, z):\n"
        "    if x > 0.8:\n        raise RuntimeError('x too large')\n"
        "    return {'y': math.sin(3 * x) + z}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    config = config_from_text(
        'simulator = "edge_teach:f"\noutputs = ["y"]\n'
        '[[space.parameters]]\nname = "x"\ntype = "real"\nlow = 0.0\nhigh = 1.0\n'
        '[[space.parameters]]\nname = "z"\ntype = "real"\nlow = 0.0\nhigh = 1.0\n'
        '[design]\nn = 30\n[sensitivity]\nn = 0\n[optimize]\noutput = "y"\n'
        'sense = "maximize"\n')
    study = run_study(config, tmp_path / "out", verbose=False)
    beyond = [w for w in study.warnings if w.startswith("optimization:")
              and "reaches beyond the data the GPRegressor was trained on for x" in w]
    assert len(beyond) == 1, study.warnings


def test_going_back_to_earlier_optimization_settings_resumes_their_runs(tmp_path):
    # minimize, maximize, minimize again: the third ran all of the first's runs again, which
    # lay set aside in optimize-previous-1/
    from surrogate.optimize import maximize, minimize
    from surrogate.study._stages import _optimize_resuming

    space = sg.Space([sg.Real("a", 0.0, 1.0)])
    calls = []

    def f(p):
        calls.append(p["a"])
        return (p["a"] - 0.3) ** 2

    options = {"space": space, "budget": 5, "seed": 0}
    checkpoint = tmp_path / "optimize"
    first = _optimize_resuming(minimize, f, checkpoint, options)
    with pytest.warns(UserWarning, match="starts afresh"):
        _optimize_resuming(maximize, f, checkpoint, options)
    assert len(calls) == 10
    with pytest.warns(UserWarning, match=r"optimize-previous-1/, resumed"):
        again = _optimize_resuming(minimize, f, checkpoint, options)
    assert len(calls) == 10  # nothing ran again
    pd.testing.assert_frame_equal(again.history.X, first.history.X)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["optimize", "optimize-previous-2"]


def test_a_study_holds_no_figure_open_with_pyplot(tmp_path):
    """Every figure stayed open until the report was written: a study of 11 outputs put
    matplotlib's "More than 20 figures have been opened" among its own warnings."""
    import matplotlib
    import matplotlib.pyplot as plt

    config = config_from_text('simulator = "branin"\n[design]\nn = 12\n[surrogate]\ncv = 3\n'
                              '[sensitivity]\nn = 16\n[optimize]\noutput = "y"\n'
                              '[discover]\noutcome = "y < 30"\nreds = false\n')
    before = set(plt.get_fignums())  # other tests' (pyplot warns at exactly this many + 2)
    with matplotlib.rc_context({"figure.max_open_warning": len(before) + 2}):  # it makes 4
        study = run_study(config, tmp_path / "out", verbose=False, progress=False)
    assert not [w for w in study.warnings if "figures have been opened" in w], study.warnings
    assert set(plt.get_fignums()) == before
    assert len(study.figures) == 4
    assert (tmp_path / "out" / "report.html").read_text().count("<img") == 4


def test_a_box_that_restricts_nothing_is_named_in_the_report():
    # REDS's chosen box was the whole space: the page showed an empty rule
    from surrogate.report import render_html

    found = {"rules": "", "coverage": 1.0, "density": 0.86, "mass": 1.0, "n_restricted": 0}
    page = render_html({"simulator": "f", "discovery": {
        "outcome": "y > 2.5", "n_runs": 22, "cases_of_interest": 19, "base_rate": 0.86,
        "reds": found}}, [])
    assert "<code class='rule'></code>" not in page
    assert "<b>REDS</b>: <code class='rule'>(the whole space: the box restricts no " \
           "parameter)</code>" in page


@pytest.mark.parametrize("fidelity, told", [
    (0.9345, "agrees with the teacher on the case of interest for 0.934 of the runs"),
    (None, "has no measured agreement with the teacher")])
def test_the_report_page_shows_reds_metamodel_and_its_fidelity(fidelity, told):
    # report.json and `surrogate discover` said them, the page did not
    from surrogate.report import render_html

    found = {"rules": "a < 0.5", "coverage": 0.9, "density": 0.8, "mass": 0.3,
             "n_restricted": 1, "fidelity": fidelity, "metamodel": "AutoClassifier"}
    page = render_html({"simulator": "f", "discovery": {
        "outcome": "y > 2.5", "n_runs": 22, "cases_of_interest": 9, "base_rate": 0.41,
        "reds": found}}, [])
    assert f"REDS's metamodel (AutoClassifier) {told}" in page


def test_an_optimization_skipped_for_a_constant_output_says_so(tmp_path, monkeypatch):
    # it said "no surrogate of 'y'", leaving the user to find out why
    monkeypatch.chdir(tmp_path)  # the config names its module relative to the directory
    config = _project(tmp_path, "flat_model",
                      'simulator = "MODULE:flat"\noutputs = ["y"]\n' + REAL_A
                      + '[design]\nn = 8\n[surrogate]\ncv = 3\n[optimize]\noutput = "y"\n')
    from surrogate._config import read_config

    study = run_study(read_config(config), tmp_path / "out", verbose=False, progress=False)
    assert study.summary["surrogates"]["y"] == {"skipped": "constant output"}
    assert study.summary["optimization"] == {
        "skipped": "no surrogate of 'y' (constant output)"}


def test_a_resumed_study_says_its_finished_runs_are_not_repeated(tmp_path, capsys):
    # the second run said "running branin on 6 points" as if all of them ran again
    config = config_from_text('simulator = "branin"\n[design]\nn = 6\n[surrogate]\ncv = 3\n')
    for expected in (False, True):
        run_study(config, tmp_path / "out", verbose=True, progress=False)
        line = [text for text in capsys.readouterr().out.splitlines() if "running branin" in text]
        assert len(line) == 1
        assert ("the checkpoint's finished runs are not repeated" in line[0]) is expected, line


def test_a_study_model_given_raw_log_scale_inputs_names_model_inputs():
    # "X is missing the columns ['log10_c'] seen in fit" left the user to find model_inputs
    space = Space([Real("a", 0.0, 1.0), Real("c", 1.0, 100.0, log=True)])
    X = sg.sample(space, 12, seed=0)
    model = GPRegressor(seed=0).fit(model_inputs(space, X), X["a"] + np.log10(X["c"]))
    with pytest.raises(ValueError, match=r"X is missing the columns \['log10_c'\] seen in fit "
                                         r"\(the model reads the log10 of log-scale parameters, "
                                         r".*surrogate\.study\.model_inputs\(space, X\)"):
        model.predict(X)
    assert np.allclose(model.predict(model_inputs(space, X)), X["a"] + np.log10(X["c"]),
                       atol=1e-3)


def test_the_report_page_is_utf_8_as_it_declares_whatever_the_locale(tmp_path):
    # report.html says charset utf-8 but was written in the locale's encoding: under an ASCII
    # locale a simulator named "décor" failed the report (a Windows one wrote cp1252 bytes)
    script = textwrap.dedent(f"""
        import pathlib, types
        from surrogate.report import write_report
        summary = {{"simulator": "d\\u00e9cor", "warnings": ["Q\\u00b2 is low"]}}
        write_report(types.SimpleNamespace(directory=pathlib.Path({str(tmp_path)!r}),
                                           figures=[], summary=summary))
    """)
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
           "PYTHONCOERCECLOCALE": "0", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report.html").read_bytes().decode("utf-8")
    assert "Study of décor" in page and "Q² is low" in page
    assert json.loads((tmp_path / "report.json").read_bytes())["simulator"] == "décor"
