"""Study configurations: every bundled default parses and fits its teacher; mistakes are named."""

import pytest

import simulators
from surrogate._config import ConfigError, config_from_text, parse_outcome
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
    with pytest.raises(ConfigError, match="is not an outcome"):
        parse_outcome("stab == 0")


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
