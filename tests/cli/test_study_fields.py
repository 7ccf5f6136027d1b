"""Field outputs in the study: config keys, field surrogates and indices in the report, outcomes
written over trajectories (``max(I) > 0.1``) in ``surrogate study`` and ``surrogate discover``."""

import json
import textwrap

import numpy as np
import pytest

import simulators
from surrogate._config import ConfigError, Outcome, config_from_text
from surrogate._registry import load_simulator
from surrogate.design import sample
from surrogate.study import _check_against
from tests.cli.test_cli import strict_json, surrogate

SIR_FIELDS = textwrap.dedent("""
    simulator = "sir"
    [design]
    n = 24
    seed = 0
    [surrogate]
    outputs = ["peak_infected"]
    fields = ["I"]
    align_fields = ["I"]
    cv = 3
    [sensitivity]
    n = 32
    [discover]
    outcome = "max(I) > 0.1"
    n_samples = 1000
""")

# a user's own teacher with a field: y(t) = a * exp(-k t), known in closed form
DECAY = textwrap.dedent('''
    import numpy as np

    TIMES = np.linspace(0.0, 4.0, 21)

    def decay(a, k):
        return {"y": a * np.exp(-k * TIMES), "y0": a}
''')
DECAY_CONFIG = textwrap.dedent("""
    simulator = "fieldteacher_decay:decay"
    outputs = ["y0"]
    [fields]
    y = {start = 0.0, stop = 4.0, num = 21}
    [[space.parameters]]
    name = "a"
    type = "real"
    low = 0.5
    high = 2.0
    [[space.parameters]]
    name = "k"
    type = "real"
    low = 0.1
    high = 1.0
    [design]
    n = 16
    [surrogate]
    fields = ["y"]
    cv = 4
    [sensitivity]
    n = 0
    [discover]
    reds = false
    outcome = "final(y) > 0.2"
""")


def test_config_reads_field_keys():
    config = config_from_text(SIR_FIELDS)
    assert config.model_fields == ("I",) and config.align_fields == ("I",)
    assert config.outcome.names == ("I",) and not isinstance(config.outcome, Outcome)
    config = config_from_text(DECAY_CONFIG)
    assert config.field_grids["y"] == pytest.approx(tuple(np.linspace(0.0, 4.0, 21)), abs=0)
    # a scalar outcome is still the simple form, as before fields existed
    assert config_from_text('simulator = "dsgc"\n[discover]\noutcome = "stab < 0"\n').outcome \
        == Outcome("stab", "<", 0.0)


@pytest.mark.parametrize("text, message", [
    ('simulator = "sir"\n[fields]\nI = {start = 0.0, stop = 1.0, num = 3}\n',
     "fields: only for your own 'package.module:function' simulator"),
    ('simulator = "m:f"\n[fields]\nI = {start = 0.0, stop = 1.0}\n',
     "fields.I: a grid is {start, stop, num} or a list of numbers"),
    ('simulator = "m:f"\n[fields]\nI = [0.0, 1.0, 0.5]\n',
     "fields.I: a grid needs at least two increasing numbers"),
    ('simulator = "m:f"\n[fields]\nI = {start = 1.0, stop = 0.0, num = 3}\n',
     "fields.I: stop must be greater than start"),
    ('simulator = "m:f"\nfields = ["I"]\n', "fields: must be a table with one grid per field"),
    ('simulator = "sir"\n[discover]\noutcome = "maxx(I) > 0.1"\n',
     "discover.outcome: 'maxx(I) > 0.1' is not an outcome (unknown function 'maxx'"),
    ('simulator = "sir"\n[design]\nmethod = "adaptive"\nbudget = 9\ngoal = "boundary"\n'
     '[discover]\noutcome = "max(I) > 0.1"\n', 'design.threshold: goal = "boundary" follows one '
                                               "scalar output"),
])
def test_bad_field_keys_give_one_line(text, message):
    with pytest.raises(ConfigError) as info:
        config_from_text(text)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("text, message", [
    ('[surrogate]\nfields = ["X"]\n', "surrogate.fields: 'X' is not a field of sir; fields: "
                                       "['S', 'I', 'R']"),
    ('[discover]\noutcome = "max(Q) > 0.1"\n', "discover.outcome: 'Q' is not an output or field "
                                               "of sir; outputs: ['peak_infected'"),
    ('[surrogate]\nfields = ["I"]\nalign_fields = ["S"]\n',
     "surrogate.align_fields: 'S' is not among the modelled fields (surrogate.fields = ['I'])"),
    ('[discover]\noutcome = "max(peak_infected) > 10"\n',
     "max() takes a field (a trajectory), but 'peak_infected' is one number per run"),
    ('[discover]\noutcome = "I > 0.2"\n',  # ran every run, then failed with KeyError: 'I'
     "discover.outcome: 'I' is a field (a trajectory), not a number: compare a summary of it, "
     "e.g. max(I) > 0.2"),
])
def test_field_names_are_checked_against_the_simulator(text, message):
    with pytest.raises(ValueError) as info:
        _check_against(config_from_text('simulator = "sir"\n' + text), simulators.load("sir"))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_own_simulator_gets_its_declared_grid(tmp_path, monkeypatch):
    (tmp_path / "fieldteacher_decay.py").write_text(DECAY)
    monkeypatch.chdir(tmp_path)
    config = config_from_text(DECAY_CONFIG)
    sim = load_simulator(config.simulator, config.parameters, config.outputs, config.vectorized,
                         config.field_grids)
    np.testing.assert_array_equal(sim.fields["y"], np.linspace(0.0, 4.0, 21))
    runs = sim.run(sample(sim.space, 3, seed=0), progress=False)
    X = runs.X
    expected = X["a"].to_numpy()[:, None] * np.exp(-np.outer(X["k"], np.linspace(0, 4, 21)))
    np.testing.assert_allclose(runs.field("y").to_numpy(), expected, rtol=1e-12)


@pytest.fixture(scope="module")
def sir_study(tmp_path_factory):
    """A tiny SIR study with the field I modelled and an outcome over it, through the CLI."""
    root = tmp_path_factory.mktemp("sir_fields")
    (root / "sir.toml").write_text(SIR_FIELDS)
    result = surrogate("study", root / "sir.toml", "--out", root / "study", "--quiet")
    return root / "study", result


def test_study_models_the_field_and_reports_it(sir_study):
    out, result = sir_study
    assert result.returncode == 0, result.stderr
    report = strict_json(out / "report.json")
    assert report["failures"] == [] and report["field_names"] == ["S", "I", "R"]
    record = report["fields"]["I"]
    grid = simulators.load("sir").fields["I"]
    assert record["grid"] == pytest.approx(grid.tolist(), abs=0)
    accuracy = record["surrogate"]
    assert len(accuracy["q2_time"]) == len(grid) and accuracy["cv"] == 3
    assert 0.0 <= accuracy["coverage95"] <= 1.0 and accuracy["q2"] <= 1.0
    assert accuracy["n_components"] >= 1 and accuracy["align"] == "peak"
    indices = record["sensitivity"]
    names = ["beta", "gamma", "initial_infected", "log10_population"]  # as the GP sees it
    assert list(indices["aggregated"]) == names
    assert all(len(indices[c][p]) == len(grid) for c in ("S1", "ST") for p in names)
    # the saved field model predicts the trajectories it was fitted on closely
    import pandas as pd

    from surrogate.data import TransferSet
    from surrogate.models import load
    from surrogate.study import model_inputs

    runs = TransferSet.load(out / "runs").valid()
    model = load(out / "models" / "I")
    assert model.align == "peak"  # [surrogate] align_fields
    with pytest.raises(ValueError, match=r"missing the columns \['log10_population'\]"):
        model.predict(runs.X)  # the population on its log scale, by name: no silent misuse
    fitted = model.predict(model_inputs(runs.space, runs.X))
    truth = runs.field("I").to_numpy()
    assert isinstance(runs.field("I"), pd.DataFrame) and fitted.shape == truth.shape
    assert np.abs(fitted - truth).max() < 0.1 * np.ptp(truth)
    html = (out / "report.html").read_text()
    for title in ("Field outputs (trajectories)", "Fan chart: I", "Accuracy over the grid: I",
                  "Sobol indices over the grid: I", "Trajectories of I: max(I) &gt; 0.1"):
        assert title in html, title


def test_study_discovers_on_a_field_outcome(sir_study):
    out, _ = sir_study
    report = json.loads((out / "report.json").read_text())
    found = report["discovery"]
    from surrogate.data import TransferSet

    runs = TransferSet.load(out / "runs").valid()
    peaks = runs.field("I").to_numpy().max(axis=1)
    assert found["outcome"] == "max(I) > 0.1"
    assert found["cases_of_interest"] == int((peaks > 0.1).sum()) and found["n_runs"] == 24
    assert found["reds"]["metamodel"] == "FieldOutcomeClassifier"
    assert found["prim"]["rules"] and found["reds"]["rules"]


def test_discover_cli_takes_a_field_expression(sir_study, cli):
    out, _ = sir_study
    from surrogate.data import TransferSet

    peaks = TransferSet.load(out / "runs").valid().field("I").to_numpy().max(axis=1)
    result = cli("discover", out / "runs", "--outcome", "max(I) > 0.1")
    assert result.returncode == 0, result.stderr
    assert f"{int((peaks > 0.1).sum())} of 24 cases satisfy max(I) > 0.1" in result.stdout
    assert "PRIM: " in result.stdout
    result = cli("discover", out / "runs", "--outcome", "max(Q) > 0.1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--outcome: no output or field 'Q'" in result.stderr and "fields: ['S', 'I', 'R']" \
        in result.stderr
    result = cli("discover", out / "runs", "--outcome", "I > 0.1")  # was "error: I"
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "--outcome: 'I' is a field (a trajectory), not a number" in result.stderr


def test_study_with_a_bad_field_name_gives_one_line(tmp_path, cli):
    path = tmp_path / "bad.toml"
    path.write_text('simulator = "sir"\n[surrogate]\nfields = ["infected"]\n')
    result = cli("study", path, "--out", tmp_path / "out", "--quiet")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "surrogate.fields: 'infected' is not a field of sir; fields: ['S', 'I', 'R']" \
        in result.stderr
    assert not (tmp_path / "out" / "runs").exists()  # refused before any teacher run


@pytest.mark.slow  # ~12 s: a whole study
def test_own_simulator_field_study(tmp_path):
    """A closed-form trajectory y = a exp(-k t) of the user's own function, declared in
    [fields]: the field surrogate reproduces it and the outcome labels the runs exactly."""
    (tmp_path / "fieldteacher_decay.py").write_text(DECAY)
    (tmp_path / "decay.toml").write_text(DECAY_CONFIG)
    result = surrogate("study", "decay.toml", "--out", "study", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = strict_json(tmp_path / "study" / "report.json")
    assert report["fields"]["y"]["surrogate"]["q2"] > 0.99
    from surrogate.data import TransferSet

    runs = TransferSet.load(tmp_path / "study" / "runs").valid()
    final = runs.X["a"] * np.exp(-4.0 * runs.X["k"])
    assert report["discovery"]["cases_of_interest"] == int((final > 0.2).sum())


def test_adaptive_design_for_a_field_through_the_study(tmp_path, monkeypatch, cli):
    """[design] method = "adaptive" with output = a field: the runs are chosen for a student of
    the whole trajectory, and the report records the field's leave-one-out Q² per round."""
    (tmp_path / "fieldteacher_decay.py").write_text(DECAY)
    monkeypatch.chdir(tmp_path)
    config = DECAY_CONFIG.replace("[design]\nn = 16\n", textwrap.dedent("""\
        [design]
        method = "adaptive"
        goal = "accuracy"
        output = "y"
        budget = 12
        seed = 0
        """))
    assert 'output = "y"' in config
    (tmp_path / "decay.toml").write_text(config)
    result = cli("study", tmp_path / "decay.toml", "--out", tmp_path / "study", "--quiet",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = strict_json(tmp_path / "study" / "report.json")
    design = report["design"]
    assert design["method"] == "adaptive" and design["outputs"] == ["y"]
    assert design["fidelity"] == "q2_loo" and report["runs"]["n"] == 12
    last = design["history"][str(len(design["history"]) - 1)]
    assert last["n_runs"] == 12 and last["q2_loo"] > 0.99  # a * exp(-k t): smooth in (a, k)
    assert report["fields"]["y"]["surrogate"]["q2"] > 0.99
    # the learning curve of a field says what its estimate holds fixed
    page = (tmp_path / "study" / "report.html").read_text()
    assert "for a field, leave-one-out with the basis and hyperparameters of all" in page


def test_a_field_as_the_adaptive_output_takes_the_accuracy_goal():
    config = config_from_text('simulator = "sir"\n[design]\nmethod = "adaptive"\nbudget = 9\n'
                              'goal = "boundary"\noutput = "I"\nthreshold = [">", 0.1]\n')
    with pytest.raises(ValueError) as info:
        _check_against(config, simulators.load("sir"))
    assert "design.output: 'I' is a field of sir; a field takes goal = \"accuracy\"" in \
        str(info.value)
