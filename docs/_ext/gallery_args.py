"""Command-line arguments of the gallery's examples: their defaults, or a small size.

Sphinx-Gallery runs each script in ``examples/`` with ``sys.argv`` from :func:`reset_argv`.
With ``SURROGATE_GALLERY=small`` in the environment (CI: ``SURROGATE_GALLERY=small make docs``) the examples run
at the tiny sizes ``tests/test_examples.py`` uses, so the whole build stays within a few minutes
on two cores; otherwise they run at their own defaults. ``tests/test_docs.py`` checks that every
example has an entry here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SMALL: dict[str, list[str]] = {
    "quickstart.py": ["--n", "20"],
    "teacher.py": ["--n", "30", "--test", "20"],
    "teacher_dask.py": ["--n", "16"],
    "optimize.py": ["--budget", "15", "--n", "20"],
    "discover.py": ["--n", "120", "--test", "300", "--samples", "2000"],
    "distill.py": ["--n", "120", "--transfer", "2000", "--test", "300"],
    "trajectories.py": ["--n", "24", "--test", "30"],
    "adaptive.py": ["--budget", "20"],
    "mixed_inputs.py": ["--n", "40"],
}


def small() -> bool:
    """Whether the gallery runs at the small size."""
    return os.environ.get("SURROGATE_GALLERY", "").strip().lower() == "small"


def reset_argv(gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list[str]:
    """Sphinx-Gallery's ``reset_argv`` hook: the arguments after the script name."""
    name = Path(script_vars["src_file"]).name
    return list(SMALL.get(name, [])) if small() else []
