"""Public names stay what they are whatever was imported first: a subpackage named like a public
function (``surrogate.distill`` once was) replaces the function on the package when imported."""

import subprocess
import sys

CHECK = """
import importlib, pkgutil, types
import surrogate
for info in pkgutil.walk_packages(surrogate.__path__, "surrogate."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)  # every stage imported before any public name is read
modules = [n for n in surrogate.__all__ if isinstance(getattr(surrogate, n), types.ModuleType)]
assert not modules, f"public names that are modules: {modules}"
print("ok")
"""


def test_no_public_name_is_shadowed_by_a_subpackage():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_subpackages_are_attributes_without_their_own_import():
    code = ("import surrogate as sg, sys; assert 'surrogate.plot' not in sys.modules; "
            "print(sg.plot.fan.__name__, sg.sequential.log_success.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["fan", "log_success"]
