"""Study configurations: every bundled default parses and fits its teacher; mistakes are named."""

import re
from pathlib import Path

import pytest

import simulators
from surrogate._config import ConfigError, config_from_text, parse_outcome, read_config
from surrogate.study import _check_against


@pytest.mark.parametrize("name", simulators.available())
def test_bundled_default_configs_are_valid(name):
    text = simulators.study_config(name)
    assert text is not None, f"{name} has no default study configuration"
    assert text.count("#") >= 10  # commented: it documents the format
    config = config_from_text(text, name)
    assert config.simulator == name
    _check_against(config, simulators.load(name))


def test_outcome_parsing():
    outcome = parse_outcome("stab < 0")
    assert (outcome.output, outcome.op, outcome.value) == ("stab", "<", 0.0)
    assert outcome.label([-1.0, 0.0, 1.0]).tolist() == [True, False, False]
    assert str(parse_outcome("reliability>=0.9")) == "reliability >= 0.9"
    # every digit of the threshold used (":g" printed "p > 1e+06")
    assert str(parse_outcome("p > 1000000.5")) == "p > 1000000.5"
    assert str(parse_outcome("k<1.23456789e-9")) == "k < 1.23456789e-09"
    with pytest.raises(ConfigError, match="is not an outcome"):
        parse_outcome("stab = 0")  # an assignment ("stab == 0" is an expression, accepted)


def test_checks_against_the_teacher():
    sim = simulators.load("lake")
    config = config_from_text('simulator = "lake"\n[optimize]\noutput = "utility"\n'
                              'constraints = { reliability = [">=", 0.9] }\n')
    with pytest.raises(ValueError, match='optimize.constraints: need mode = "teacher"'):
        _check_against(config, sim)
    config = config_from_text('simulator = "lake"\n[surrogate]\noutputs = ["max_p"]\n')
    with pytest.raises(ValueError, match="surrogate.outputs: 'max_p' is not an output of lake"):
        _check_against(config, sim)
    with pytest.raises(ConfigError, match=r"optimize.constraints.reliability: must be \[OP, "):
        config_from_text('simulator = "lake"\n[optimize]\nconstraints = { reliability = 0.9 }\n')


ROOT = Path(__file__).resolve().parents[2]
CUSTOM = ROOT / "examples" / "configs" / "custom.toml"


def test_custom_example_config_matches_its_function(monkeypatch):
    from examples.teacher import SPACE, predator_prey
    from surrogate._registry import load_simulator

    monkeypatch.chdir(ROOT)  # as documented: run from the repository root
    config = read_config(CUSTOM)
    assert CUSTOM.read_text().count("#") >= 10  # commented: it documents the format
    sim = load_simulator(config.simulator, config.parameters, config.outputs, config.vectorized)
    assert sim.space == SPACE
    point = {"birth": 1.0, "predation": 0.02, "death": 0.5, "years": 12}
    assert list(sim.outputs) == list(predator_prey(**point))
    _check_against(config, sim)
    runs = sim.run(sim.space.validate([list(point.values())]))
    assert runs.ok.all()
    assert runs.Y.iloc[0].to_dict() == pytest.approx(predator_prey(**point))


def _references(text):
    """Paths a text points the reader to: ``dir/...`` in a docstring, (see ...) in a comment."""
    found = re.findall(r"``((?:examples|simulators|surrogate|tests)/[\w./-]*)``", text)
    return found + re.findall(r"\(see ([\w./-]+)\)", text)


@pytest.mark.parametrize("path", sorted((ROOT / "simulators" / "configs").glob("*.toml"))
                         + [ROOT / "surrogate" / "_config.py"], ids=lambda p: p.name)
def test_documented_references_exist(path):
    references = _references(path.read_text())
    assert references, f"{path.name} points to no example configuration"
    for reference in references:
        assert (ROOT / reference).exists(), f"{path.name} points to {reference}, which is missing"


def test_sensitivity_n_below_the_minimum_is_a_config_error():
    with pytest.raises(ConfigError, match=r"sensitivity.n: must be 0 \(skip\) or an integer >= "
                                          r"16 .*got 8"):
        config_from_text('simulator = "branin"\n[sensitivity]\nn = 8\n')
    assert config_from_text('simulator = "branin"\n[sensitivity]\nn = 0\n').sobol_n == 0


def test_an_adaptive_design_takes_the_run_timeout_and_retries():
    # refused as "not supported" after adaptive_sample had come to take both
    config = config_from_text('simulator = "branin"\n[design]\nmethod = "adaptive"\n'
                              'budget = 20\n[run]\ntimeout = 60\nretries = 1\n')
    assert (config.timeout, config.retries) == (60.0, 1)


def test_more_folds_than_runs_is_a_config_error():
    # it skipped every surrogate, and Sobol on them, with only "only 40 successful runs"
    with pytest.raises(ConfigError, match=r"surrogate.cv: 100 folds .* the design has 40"):
        config_from_text('simulator = "branin"\n[design]\nn = 40\n[surrogate]\ncv = 100\n')


@pytest.mark.parametrize("extra, message", [
    ('type = "integer"\nlow = 1\nhigh = 5\nlog = true\n',
     r": \['log'\] not for an integer parameter"),
    ('type = "real"\nlow = 1\nhigh = 5\nlog = "yes"\n', r"\.log: must be true or false"),
    ('type = "real"\nlow = 1\nhigh = 5\ncategories = [1]\n',
     r": \['categories'\] not for a real parameter"),
    ('type = "categorical"\ncategories = ["a", "b"]\nlow = 1\n',
     r": \['low'\] not for a categorical parameter"),
])
def test_a_parameter_key_its_type_does_not_take_is_a_config_error(extra, message):
    # they were dropped (log on an integer) or stored as given (log = "yes") without a word
    text = 'simulator = "m:f"\noutputs = ["y"]\n[[space.parameters]]\nname = "k"\n' + extra
    with pytest.raises(ConfigError, match=r"space.parameters\[0\]" + message):
        config_from_text(text)


@pytest.mark.parametrize("table, message", [
    ('type = "real"\nlow = 1\nhigh = 5\n', r"missing key\(s\) \['name'\]; a real parameter"),
    ('name = "k"\ntype = "integer"\nlow = 1\n', r"missing key\(s\) \['high'\]"),
    ('name = "c"\ntype = "categorical"\n', r"missing key\(s\) \['categories'\]"),
])
def test_a_parameter_without_a_key_its_type_needs_is_named_by_its_place(table, message):
    # "space.parameters None: missing key 'name'" once the study built the space
    text = 'simulator = "m:f"\noutputs = ["y"]\n[[space.parameters]]\n' + table
    with pytest.raises(ConfigError, match=r"^space.parameters\[0\]: " + message):
        config_from_text(text)


def test_a_simulator_module_that_fails_while_loading_is_one_clear_error(tmp_path, monkeypatch):
    from surrogate._registry import load_simulator

    (tmp_path / "broken_syntax_model.py").write_text("def f(:\n")
    (tmp_path / "broken_import_model.py").write_text("raise RuntimeError('no licence')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [str(tmp_path), *__import__("sys").path])
    parameters = [{"name": "a", "type": "real", "low": 0.0, "high": 1.0}]
    for spec, message in (("broken_syntax_model:f", r"SyntaxError: .*broken_syntax_model.py"),
                          ("broken_import_model:f", "RuntimeError: no licence")):
        with pytest.raises(ValueError, match=rf"simulator '{spec}' cannot be imported: {message}"):
            load_simulator(spec, parameters, ["y"])


def test_a_small_design_is_refused_only_for_folds_the_config_asks_for():
    """n = 3 with the default cv: KeyError 'cv' (shown as "error: cv") before; now the study
    adapts as it does for --n 3. An explicit cv = 5 is a clear error."""
    assert config_from_text('simulator = "branin"\n[design]\nn = 3\n', "small").n == 3
    with pytest.raises(ConfigError, match="surrogate.cv: 5 folds need at least as many runs; "
                                          "the design has 3"):
        config_from_text('simulator = "branin"\n[design]\nn = 3\n[surrogate]\ncv = 5\n', "small")


def test_a_simulator_named_by_its_file_path_loads(tmp_path, monkeypatch):
    """The guide's 'path/file.py:function' went to import_module: "No module named
    'mysim.py'", or a raw TypeError for './mysim.py'."""
    from surrogate._registry import load_simulator

    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "pathsim_model.py").write_text("def f(a):\n    return {'y': 2 * a}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))  # the file's folder is added
    parameters = [{"name": "a", "type": "real", "low": 0.0, "high": 1.0}]
    for spec in ("models/pathsim_model.py:f", "./models/pathsim_model.py:f",
                 f"{folder / 'pathsim_model.py'}:f"):
        sim = load_simulator(spec, parameters, ["y"])
        assert sim.run([[0.25]], progress=False).Y["y"].tolist() == [0.5]
    for spec, message in (("models/none.py:f", r"'models/none.py' is not a Python file"),
                          ("models/pathsim_model.py:g", "has no attribute 'g'")):
        with pytest.raises(ValueError, match=message):
            load_simulator(spec, parameters, ["y"])


@pytest.mark.parametrize("text, key", [
    ('outputs = ["q"]\n', "outputs"),
    ('vectorized = true\n', "vectorized"),
    ('[space]\nparameters = [{name = "x1", type = "real", low = 0, high = 1}]\n',
     "space.parameters"),
    ('[fields]\nf = [0.0, 1.0]\n', "fields"),
])
def test_keys_of_a_plain_function_teacher_are_refused_for_a_bundled_simulator(text, key):
    # branin's space and outputs were used instead, silently: a zoomed-in study ran on all
    with pytest.raises(ConfigError, match=rf"^{key}: only for your own 'package.module:function' "
                                          r"simulator; 'branin' declares its own"):
        config_from_text('simulator = "branin"\n' + text)


def test_keys_of_a_plain_function_teacher_are_refused_for_a_simulator_object(tmp_path,
                                                                               monkeypatch):
    from surrogate._registry import load_simulator

    (tmp_path / "objsim_model.py").write_text(
        "import surrogate as sg\n"
        "sim = sg.Simulator(lambda a: {'y': a}, sg.Space([sg.Real('a', 0, 10)]), ['y'])\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [str(tmp_path), *__import__("sys").path])
    parameters = [{"name": "a", "type": "real", "low": 0.0, "high": 1.0}]
    with pytest.raises(ValueError, match=r"space.parameters: only for a plain function; "
                                         r"'objsim_model:sim' is a surrogate.Simulator"):
        load_simulator("objsim_model:sim", parameters, ["z"])
    assert load_simulator("objsim_model:sim").space["a"].high == 10


@pytest.mark.parametrize("text, message", [
    ('[optimize]\nsense = "maximize"\n', r"optimize.output: missing; \[optimize\] \(sense\)"),
    ('[discover]\nreds = false\n', r"discover.outcome: missing; \[discover\] \(reds\) needs"),
    ('[optimize]\noutput = "y"\nbudget = 50\n', 'optimize.budget: only for mode = "teacher"'),
    ('[surrogate]\noutputs = []\n', "surrogate.outputs: an empty list; leave the key out"),
    ('design = 5\n', r"design: must be a table \(\[design\] with keys"),
    ('[discover]\noutcome = "y < 1"\nreds = false\nn_samples = 500\n',
     r"discover.n_samples: only for reds = true"),
])
def test_keys_that_would_be_ignored_are_refused(text, message):
    # each was accepted and did nothing (an empty outputs list modelled every output)
    with pytest.raises(ConfigError, match=f"^{message}"):
        config_from_text('simulator = "branin"\n' + text)


@pytest.mark.parametrize("text, key", [
    ('[optimize]\noutput = "y"\nconstraints = { y = ["<=", nan] }\n', "optimize.constraints.y"),
    ('[optimize]\noutput = "y"\nconstraints = { y = ["<=", inf] }\n', "optimize.constraints.y"),
    ('[design]\nmethod = "adaptive"\ngoal = "boundary"\nbudget = 20\nthreshold = ["<", nan]\n',
     "design.threshold"),
])
def test_a_comparison_with_a_number_that_is_not_finite_is_a_config_error(text, key):
    # TOML reads nan and inf: the study ran every teacher run before the optimization failed
    with pytest.raises(ConfigError, match=rf"^{key}: must be \[OP, NUMBER\] .* a finite NUMBER"):
        config_from_text('simulator = "branin"\n' + text)


def test_a_config_file_that_cannot_be_read_is_named(tmp_path):
    latin = tmp_path / "latin1.toml"
    latin.write_bytes('simulator = "branin"  # caf\xe9\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.toml: not UTF-8 text"):
        read_config(latin)
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(ConfigError, match=r"dir.toml: is a directory, not a configuration file"):
        read_config(tmp_path / "dir.toml")


@pytest.mark.parametrize("name", ["..", "a/b", "/tmp/elsewhere", "."])
def test_an_output_that_cannot_name_its_models_folder_is_refused_before_any_run(name):
    # the model of an output named ".." was saved into the study directory itself
    import surrogate as sg

    sim = sg.Simulator(lambda a: {name: a, "ok": a}, sg.Space([sg.Real("a", 0, 1)]),
                       [name, "ok"])
    config = config_from_text('simulator = "m:f"\noutputs = ["ok"]\n'
                              '[[space.parameters]]\nname = "a"\ntype = "real"\nlow = 0\n'
                              'high = 1\n')
    with pytest.raises(ValueError, match=r"cannot name the folder its surrogate is saved in"):
        _check_against(config, sim)


def test_a_teacher_mode_budget_below_the_initial_design_is_refused_before_any_run():
    # it ran the whole design and fitted the surrogates before the optimization failed on it
    config = config_from_text('simulator = "hartmann6"\n[optimize]\noutput = "y"\n'
                              'mode = "teacher"\nbudget = 6\n')
    with pytest.raises(ConfigError, match=r"^optimize.budget: budget=6 is smaller than "
                                          r"n_init=13"):
        _check_against(config, simulators.load("hartmann6"))
    config = config_from_text('simulator = "hartmann6"\n[optimize]\noutput = "y"\n'
                              'mode = "teacher"\nbudget = 13\n')
    _check_against(config, simulators.load("hartmann6"))


@pytest.mark.parametrize("text, key", [
    ('[design]\nmethod = "adaptive"\ngoal = "boundary"\nbudget = 20\noutput = "y"\n'
     'threshold = [["<"], 1.0]\n', "design.threshold"),
    ('[optimize]\noutput = "y"\nmode = "teacher"\nconstraints = { y = [["<="], 0.0] }\n',
     "optimize.constraints.y"),
])
def test_a_comparison_whose_operator_is_not_text_is_named(text, key):
    # TypeError "unhashable type: 'list'", naming neither the key nor what is allowed
    with pytest.raises(ConfigError, match=rf"^{key}: must be \[OP, NUMBER\] with OP one of"):
        config_from_text('simulator = "branin"\n' + text)


@pytest.mark.parametrize("text", ["y < 1e999", "y >= -1e400"])
def test_an_outcome_threshold_that_overflows_is_refused(text):
    # read as y < inf: every run a case of interest, the discovery skipped without a word why
    with pytest.raises(ConfigError, match=r"^discover.outcome: .* the threshold must be a "
                                          r"finite number"):
        parse_outcome(text)
