"""Run the Examples sections of every module's docstrings (STYLE 16)."""

import doctest
import importlib
import pkgutil

import pytest

import simulators
import surrogate


def _modules():
    for package in (surrogate, simulators):
        yield package.__name__
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):  # running it is the command line itself
                yield info.name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_public_names_resolve():
    assert set(surrogate._LATER_STAGES) <= set(surrogate.__all__)
    for name in surrogate.__all__:
        assert getattr(surrogate, name) is not None, name
