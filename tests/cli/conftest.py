"""The ``cli`` fixture: the console script's ``main`` run in this process.

Error paths and quick studies use it: each subprocess of the console script pays about 5 s of
imports (torch, SciPy, matplotlib), and the default suite must keep under 10 minutes on 2 cores.
What needs a process of its own (signals, hangs, the installed script itself) keeps one.
"""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest


def _forget_modules_in(folder):
    """Drop the modules imported from ``folder``: another test's module of the same name in
    its own folder must be imported afresh, as a new process would."""
    folder = Path(folder).resolve()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(folder):
            del sys.modules[name]


@pytest.fixture
def cli(capsys, monkeypatch):
    """``run(*args, cwd=None)``: ``surrogate ARGS`` as a subprocess's result (returncode, stdout,
    stderr); ``cwd`` is the user's directory, whose modules the configuration names."""
    from surrogate.cli import main

    folders = []

    def run(*args, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
            monkeypatch.syspath_prepend(str(cwd))  # as `python -m` puts the directory first
            folders.append(cwd)
            _forget_modules_in(cwd)
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's own errors
            code = exc.code
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)
    yield run
    for folder in folders:
        _forget_modules_in(folder)
