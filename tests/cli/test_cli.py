"""The command line end to end, as a user runs it: subprocesses of the installed console script.
Error paths and quick commands run its ``main`` in this process (the ``cli`` fixture, conftest)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from surrogate.execute._checkpoint import read_journal

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "dsgc_uci_sample.csv"
CLI = [sys.executable, "-m", "surrogate.cli"]


def surrogate(*args, cwd=None, timeout=600):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run([*CLI, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def strict_json(path):
    """Parse JSON as RFC 8259 has it: NaN and Infinity are not JSON."""
    def reject(constant):
        raise ValueError(f"{path.name} holds {constant}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=reject)


TINY = textwrap.dedent("""
    simulator = "branin"
    [design]
    n = 40
    seed = 1
    [surrogate]
    cv = 3
    [sensitivity]
    n = 128
    [optimize]
    output = "y"
    sense = "maximize"
    [discover]
    outcome = "y < 20"
    n_samples = 2000
    min_density = 0.7
""")


def test_simulators_lists_bundled_teachers():
    result = surrogate("simulators")
    assert result.returncode == 0, result.stderr
    for name in ("dsgc", "lake", "lotka_volterra", "branin", "borehole"):
        assert f"{name}: outputs" in result.stdout
    assert "tau1         real in [0.5, 10]" in result.stdout
    assert "    field I: 184 points on [0, 365]" in result.stdout  # what outcomes can name


def test_study_end_to_end(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    result = surrogate("study", config, "--out", tmp_path / "out", "--quiet")
    assert result.returncode == 0, result.stderr
    report = tmp_path / "out" / "report.html"
    assert f"report: {report.resolve()}" in result.stdout
    summary = strict_json(tmp_path / "out" / "report.json")
    assert summary["runs"]["n"] == 40 and summary["runs"]["ok"] == 40
    assert summary["failures"] == []
    # Branin's maximum (308 at a corner no run reached; the runs go to 171): the surrogate's
    # optimum is said to be extrapolated, the only warning
    assert [w.split(",")[0] for w in summary["warnings"]] == [
        "optimization: the surrogate's maximum of 'y'"]
    assert summary["optimization"]["beyond_the_runs"] is True
    assert 0.9 < summary["surrogates"]["y"]["q2"] <= 1.0
    assert set(summary["sensitivity"]["y"]) == {"x1", "x2"}
    assert summary["optimization"]["sense"] == "maximize"
    assert summary["discovery"]["prim"]["rules"]
    assert 0 < summary["discovery"]["reds"]["coverage"] <= 1
    # a one-sided restriction: the open side is null (unbounded), as the report documents
    limits = [limit for method in ("prim", "reds")
              for limit in summary["discovery"][method]["limits"].values()]
    assert any(None in (limit["lower"], limit["upper"]) for limit in limits)
    assert all(limit["lower"] is None or limit["upper"] is None or limit["lower"] < limit["upper"]
               for limit in limits)
    page = report.read_text()
    assert page.count("src='data:image/png;base64,") >= 5  # parity, sobol, trade-offs, box
    for heading in ("Teacher runs", "Surrogate accuracy", "Sobol indices", "Optimization",
                    "Scenario discovery: y &lt; 20"):
        assert heading in page
    assert "http" not in page.split("<body>")[1]  # self-contained
    assert (tmp_path / "out" / "models" / "y" / "meta.json").exists()
    assert (tmp_path / "out" / "runs" / "runs.parquet").exists()


MODEL = textwrap.dedent("""
    import os, time

    def slow_sum(a, b):
        with open(os.environ["CALL_LOG"], "a") as log:
            log.write(f"{a!r} {b!r}\\n")
        time.sleep(float(os.environ.get("CALL_DELAY", "0")))
        return a + b
""")

CUSTOM = textwrap.dedent("""
    simulator = "mymodel:slow_sum"
    outputs = ["total"]
    [[space.parameters]]
    name = "a"
    type = "real"
    low = 0.0
    high = 1.0
    [[space.parameters]]
    name = "b"
    type = "integer"
    low = 1
    high = 5
    [design]
    n = 30
    [sensitivity]
    n = 0
""")


def test_own_simulator_and_resume_after_interruption(tmp_path):
    (tmp_path / "mymodel.py").write_text(MODEL)
    (tmp_path / "study.toml").write_text(CUSTOM)
    log = tmp_path / "calls.txt"
    env = {**os.environ, "CALL_LOG": str(log), "CALL_DELAY": "0.1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([*CLI, "study", "study.toml", "--out", "out", "--quiet"],
                            cwd=tmp_path, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(read_journal(tmp_path / "out" / "runs")) < 8:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(read_journal(tmp_path / "out" / "runs"))
    assert 8 <= finished < 30
    calls_before = len(log.read_text().splitlines())
    env["CALL_DELAY"] = "0"
    result = subprocess.run([*CLI, "study", "study.toml", "--out", "out", "--quiet"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    calls_after = len(log.read_text().splitlines()) - calls_before
    # the run in flight when the study was killed may be computed again, nothing finished is
    assert calls_after in (30 - finished, 30 - finished + 1) or calls_after == 30 - finished
    assert calls_after <= 30 - finished
    summary = strict_json(tmp_path / "out" / "report.json")
    assert summary["runs"]["ok"] == 30 and summary["surrogates"]["total"]["q2"] > 0.9


@pytest.mark.parametrize(
    "config, message",
    [
        ('simulator = "ishigami"\n[design]\nn = "many"\n', "design.n: must be an integer >= 2"),
        ('simulator = "ishigami"\n[desing]\nn = 10\n', "desing: unknown key"),
        ('simulator = "ishigami"\n[design]\nsize = 10\n', "design.size: unknown key; allowed in "
                                                          "[design]: ['budget', 'goal', 'method', "
                                                          "'n', 'output', 'seed', 'target', "
                                                          "'threshold']"),
        ('simulator = "ishigami"\n[discover]\noutcome = "y is small"\n',
         "discover.outcome: 'y is small' is not an outcome"),
        ('simulator = "no_such_model"\n', "unknown simulator 'no_such_model'; bundled: ["),
        ('simulator = "ishigami"\n[optimize]\noutput = "z"\n', "optimize.output: 'z' is not an "
                                                               "output of ishigami"),
        ("simulator = [1, 2]\n", "simulator: must be a non-empty string"),
        ('[design]\nn = 10\n', "simulator: missing"),
        ('simulator = "ishigami"\n[run]\nexecutor = "threads"\n',
         "run.executor: must be one of ['serial', 'processes', 'dask']"),
        ('simulator = "ishigami"\n[sensitivity]\nn = 8\n',
         "sensitivity.n: must be 0 (skip) or an integer >= 16"),
    ],
)
def test_bad_configs_give_one_line(tmp_path, config, message, cli):
    path = tmp_path / "bad.toml"
    path.write_text(config)
    result = cli("study", path, "--out", tmp_path / "out", "--quiet")
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unknown_simulator_and_missing_file(tmp_path, cli):
    result = cli("study", "nonexistent_sim", "--out", tmp_path / "o")
    assert result.returncode == 2 and "unknown simulator 'nonexistent_sim'" in result.stderr
    result = cli("study", tmp_path / "missing.toml")
    assert result.returncode == 2 and "no such configuration file" in result.stderr
    result = cli("discover", tmp_path / "none.csv", "--outcome", "stab < 0")
    assert result.returncode == 2 and "no such file" in result.stderr
    (tmp_path / "empty.csv").write_text("")
    result = cli("discover", tmp_path / "empty.csv", "--outcome", "stab < 0")
    assert result.returncode == 2 and "empty.csv: cannot be read as a CSV table" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["study", "ishigami", "--n", "abc"], "surrogate study: error: argument --n: invalid int "
                                          "value: 'abc' (see surrogate study --help)"),
    (["discover"], "surrogate discover: error: the following arguments are required: DATA, "
                   "--outcome"),
    (["discover", "x.csv", "--outcome", "y < 1", "--seed", "-3"],
     "surrogate discover: error: argument --seed: must be an int >= 0, got -3"),
    (["bogus"], "surrogate: error: argument COMMAND: invalid choice: 'bogus'"),
    (["optimize", "branin", "--output", "y", "--budget", "15", "--checkpoint", "/proc/nope/x"],
     "surrogate optimize: error: --checkpoint /proc/nope/x: cannot be created"),
    # it named n_init, which the command line cannot set
    (["optimize", "branin", "--output", "y", "--budget", "2"],
     "surrogate optimize: error: --budget 2: branin needs at least 5 (its initial design is "
     "2 * dim + 1 = 5 runs)"),
    # the simulator spec was pasted into TOML text: "config: not valid TOML (...)"
    (["study", 'my"sim'], "surrogate study: error: unknown simulator 'my\"sim'"),
    # an upper-case extension was read as a simulator's name: "unknown simulator"
    (["study", "/no/such/dir/cfg.TOML"],
     "surrogate study: error: /no/such/dir/cfg.TOML: no such configuration file"),
    (["study", "C:\\models\\osc.py:damped"],
     "surrogate study: error: simulator 'C:\\\\models\\\\osc.py:damped': "),
])
def test_argument_mistakes_are_one_line(args, message, cli):
    """argparse printed its usage block first; a bad --checkpoint gave a bare [Errno 2]."""
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data/dsgc_uci_sample.csv not present")
def test_discover_on_a_table(cli):
    result = cli("discover", SHARED, "--outcome", "stab < 0", "--drop", "stabf")
    assert result.returncode == 0, result.stderr
    assert "of 40 cases satisfy stab < 0" in result.stdout
    assert "PRIM: " in result.stdout and "coverage" in result.stdout
    result = cli("discover", SHARED, "--outcome", "stability < 0")
    assert result.returncode == 2 and "no column 'stability'" in result.stderr


def test_discover_says_why_it_shows_the_whole_space():
    # REDS on a table where 90 % of the rows satisfy the outcome: the whole space meets
    # --min-density 0.8 and is shown, while boxes of density 1 exist; it said "no box is denser"
    from surrogate.cli import _whole_space

    assert _whole_space(0.885, 1.0, 0.8) == (
        "(the whole space: its density 0.885 already reaches --min-density 0.8; the densest "
        "box's is 1.000, a higher --min-density shows it)")
    assert _whole_space(0.3, 0.3, 0.8) == "(the whole space: no box is denser)"


def test_discover_reds_on_a_transfer_set_samples_its_space(tmp_path, cli):
    """Fresh points follow the saved space (here log-uniform k), not the runs' ranges: drawn
    uniformly over [1e-3, 10], nearly every point would be a case and the box empty."""
    import numpy as np

    import surrogate as sg

    space = sg.Space([sg.Real("k", 1e-3, 1e1, log=True), sg.Real("x", 0.0, 1.0)])
    sim = sg.Simulator(lambda X: np.column_stack([X["k"], X["x"]]), space, ["k_out", "x_out"],
                       vectorized=True, name="identity")
    sim.run(sg.sample(space, 120, seed=0), progress=False).save(tmp_path / "runs")
    result = cli("discover", tmp_path / "runs", "--outcome", "k_out > 0.01", "--reds", "--seed",
                 "0")
    assert result.returncode == 0, result.stderr
    reds = [line for line in result.stdout.splitlines() if line.startswith("REDS: ")]
    assert reds and "k >= 0.0" in reds[0], result.stdout


def test_optimize_command(cli):
    result = cli("optimize", "branin", "--output", "y", "--budget", "8", "--seed", "0")
    assert result.returncode == 0, result.stderr
    assert "after 8 teacher evaluations" in result.stdout
    result = cli("optimize", "branin", "--output", "nope", "--budget", "8")
    assert result.returncode == 2 and "nope" in result.stderr


def test_optimize_of_an_unknown_name_lists_the_bundled_simulators(cli):
    # a misspelt name was told to try 'package.module:function', which optimize refuses
    result = cli("optimize", "branni", "--output", "y", "--budget", "8")
    assert result.returncode == 2 and "runs a bundled simulator (['" in result.stderr
    assert "package.module:function" not in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    assert surrogate("study", config, "--out", tmp_path / "out", "--quiet").returncode == 0
    page = (tmp_path / "out" / "report.html").resolve()
    # the DOM as Chromium built it: the inline figures are there
    dump = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=5000", "--run-all-compositor-stages-before-draw",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert dump.returncode == 0, dump.stderr
    assert dump.stdout.count("data:image/png;base64,") >= 5
    shot = tmp_path / "shot.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile2'}",
         f"--screenshot={shot}", "--window-size=1200,3000", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True)
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    # figures are drawn: the page's own text and tables are grey or dull blue (channel spread
    # < 40); only the plots' colours (matplotlib blue, orange, red) are strongly saturated
    saturated = (rgb.max(axis=2) - rgb.min(axis=2)) > 100
    assert saturated.sum() > 2000


def test_a_study_directory_it_may_not_write_is_one_line(tmp_path):
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    command = [sys.executable, "-m", "surrogate.cli", "study", "branin", "--n", "8", "--out",
               str(readonly), "--quiet"]
    if os.geteuid() == 0:  # root writes anywhere unless it drops that capability
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        command = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                   "--bounding-set=-dac_override,-dac_read_search", *command]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                                env={**os.environ, "OMP_NUM_THREADS": "1"})
    finally:
        readonly.chmod(0o755)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"surrogate study: error: PermissionError: [Errno 13] Permission denied: "
        f"'{readonly / 'runs'}'"]


def test_discover_leaves_out_rows_whose_outcome_is_missing_and_says_so(tmp_path, cli):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.uniform(size=(300, 2)), columns=["x0", "x1"])
    table["out"] = np.where((table.x0 > 0.4) & (table.x1 < 0.6), 1.0, -1.0)
    table.loc[:19, "out"] = np.nan  # failed runs
    table.to_csv(tmp_path / "runs.csv", index=False)
    result = cli("discover", tmp_path / "runs.csv", "--outcome", "out > 0",
                       "--min-density", "0.999")
    assert result.returncode == 0, result.stderr
    assert "20 row(s) with out missing (NaN) are left out" in result.stdout
    assert "of 280 cases satisfy" in result.stdout


def test_discover_takes_a_label_column_as_the_outcome(tmp_path, cli):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.uniform(size=(200, 2)), columns=["x0", "x1"])
    table["stable"] = (table.x0 > 0.5).to_numpy()
    table["kind"] = np.where(table.stable, "calm", "wild")
    table["score"] = table.x0 * 3
    table.to_csv(tmp_path / "runs.csv", index=False)
    for outcome, drop in (("stable", "kind,score"), ("kind == 'calm'", "stable,score"),
                          ("kind != 'wild'", "stable,score")):
        result = cli("discover", tmp_path / "runs.csv", "--outcome", outcome, "--drop",
                           drop)
        assert result.returncode == 0, result.stderr
        assert f"{int(table.stable.sum())} of 200 cases satisfy" in result.stdout
        assert "x0 >= 0.4" in result.stdout or "x0 >= 0.5" in result.stdout
    result = cli("discover", tmp_path / "runs.csv", "--outcome", "score")
    assert result.returncode == 2 and "values other than True/False or 0/1" in result.stderr


def test_discover_drops_inputs_of_a_transfer_set_too(tmp_path, cli):
    import numpy as np

    import surrogate as sg

    space = sg.Space([sg.Real("x", 0.0, 1.0), sg.Real("k", 0.0, 1.0)])
    sim = sg.Simulator(lambda X: np.column_stack([X["x"] + 0.01 * X["k"]]), space, ["y"],
                       vectorized=True, name="line")
    sim.run(sg.sample(space, 120, seed=0), progress=False).save(tmp_path / "runs")
    result = cli("discover", tmp_path / "runs", "--outcome", "y > 0.5", "--drop", "k")
    assert result.returncode == 0, result.stderr
    assert "k " not in result.stdout.split("PRIM: ")[1].splitlines()[0]
    result = cli("discover", tmp_path / "runs", "--outcome", "y > 0.5", "--drop", "zzz")
    assert result.returncode == 2 and "--drop: no column(s) ['zzz']" in result.stderr


def test_discover_warns_in_one_line_of_its_own(tmp_path):
    """An identifier-like column: the warning was Python's, with the file, line and
    ``sys.exit(main())`` source."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.uniform(size=(200, 2)), columns=["x0", "x1"])
    table["run"] = [f"r{i}" for i in range(200)]
    table["out"] = table.x0 - 0.5
    table.to_csv(tmp_path / "runs.csv", index=False)
    result = surrogate("discover", tmp_path / "runs.csv", "--outcome", "out > 0")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("surrogate discover: warning: ") for line in lines)
    assert any("column 'run' has 200 distinct values" in line for line in lines)


def test_discover_with_no_case_or_only_cases_names_the_outcome(tmp_path, cli):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.uniform(size=(50, 2)), columns=["a", "b"])
    table["stab"] = table.a - table.b
    table.to_csv(tmp_path / "stab.csv", index=False)
    none = cli("discover", tmp_path / "stab.csv", "--outcome", "stab > 5")
    assert none.returncode == 2
    assert none.stderr.strip() == ("surrogate discover: error: no run meets --outcome stab > 5: "
                                   "there is no case to find a box around")
    every = cli("discover", tmp_path / "stab.csv", "--outcome", "stab > -5", "--reds")
    assert every.returncode == 2
    assert "every run meets --outcome stab > -5" in every.stderr


def test_the_default_study_directory_names_module_and_function_and_keeps_an_older_one(
        tmp_path, monkeypatch):
    from surrogate.cli import _default_study_dir

    monkeypatch.chdir(tmp_path)
    assert _default_study_dir("pkg.osc:damped") == Path("study-osc-damped")
    assert _default_study_dir("dsgc") == Path("study-dsgc")
    (tmp_path / "study-osc").mkdir()  # the name "models/osc.py:damped" had before
    assert _default_study_dir("models/osc.py:damped") == Path("study-osc")


def test_a_study_refused_by_its_checkpoint_says_how_to_start_another(tmp_path, cli):
    """The checkpoint's refusal ended "use a new checkpoint directory": the study names that
    directory itself, so a user who changed a range did not learn that --out is the way."""
    path = tmp_path / "study.toml"
    path.write_text('simulator = "branin"\n[design]\nn = 6\n[surrogate]\ncv = 2\n'
                    '[sensitivity]\nn = 0\n')
    assert cli("study", path, "--out", tmp_path / "out", "--quiet").returncode == 0
    path.write_text(path.read_text().replace("branin", "ishigami"))
    result = cli("study", path, "--out", tmp_path / "out", "--quiet")
    assert result.returncode == 2
    assert "use a new checkpoint directory (for this study: --out NEW_DIR, or remove " \
        in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    # a lost design file is such a refusal too, though its message names the file first
    (tmp_path / "out" / "runs" / "design.parquet").unlink()
    path.write_text(path.read_text().replace("ishigami", "branin"))
    result = cli("study", path, "--out", tmp_path / "out", "--quiet")
    assert result.returncode == 2
    assert "design.parquet is missing" in result.stderr
    assert "(for this study: --out NEW_DIR, or remove " in result.stderr, result.stderr
