"""Field outputs in the study: config keys, field surrogates and indices in the report, outcomes
written over trajectories (``max(I) > 0.1``) in ``surrogate study`` and ``surrogate discover``."""

import textwrap

import numpy as np
import pytest

import simulators
from surrogate._config import ConfigError, Outcome, config_from_text
from surrogate._registry import load_simulator
from surrogate.design import sample
from surrogate.study import _check_against

SIR_FIELDS = textwrap.dedent("""
    simulator = "sir"
    [design]
    n = 24
    seed = 0
    [surrogate]
    outputs = ["peak_infected"]
    fields = ["I"]
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
    assert config.model_fields == ("I",)
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
