"""Sphinx configuration of the surrogate documentation (``make docs``).

The API reference and the simulator pages are generated from the code at every build
(``_ext/surrogate_api.py``); the gallery runs ``examples/`` with Sphinx-Gallery
(``_ext/gallery_args.py`` chooses their size). Nothing is fetched from the network: no
intersphinx, so the build works offline and in CI.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(DOCS / "_ext"), str(ROOT)]
# the examples import ``examples.teacher``; Dask workers started by an example need it too
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
os.environ.setdefault("MPLBACKEND", "Agg")

import surrogate  # noqa: E402

project = "surrogate"
author = "the surrogate developers"
copyright = "2026, the surrogate developers"
release = surrogate.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "surrogate_api",
]

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]
templates_path: list[str] = []
root_doc = "index"
default_role = "literal"  # `x` in a docstring reads as code, never as a broken reference

# -- API reference ------------------------------------------------------------------------------
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the signature shows them; numpydoc's Parameters say the rest
autoclass_content = "class"
numpydoc_show_class_members = False  # members are documented on the class's own page
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# -- Gallery ------------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",  # run every example, not only plot_*.py
    "ignore_pattern": r"__init__\.py",
    "reset_argv": "gallery_args.reset_argv",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,  # every failing example is reported, then the build fails
    "only_warn_on_example_error": False,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "capture_repr": (),
    "plot_gallery": "True",
}

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"surrogate {release}"
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path: list[str] = []
html_show_sourcelink = False

# -- Sections numpydoc does not know ------------------------------------------------------------
# STYLE 8 asks extension points for a "Subclassing" section; numpydoc would drop it (with a
# Python warning, not a Sphinx one), so it is moved into Notes under its own heading. Any other
# unknown section is an error: it would vanish from the page without one.
EXTRA_SECTIONS = ("Subclassing",)
warnings.filterwarnings("error", message="Unknown section", category=UserWarning)
for _section in EXTRA_SECTIONS:  # numpydoc's signature pass still reads the raw docstring
    warnings.filterwarnings("ignore", message=f"Unknown section {_section} ", category=UserWarning)


def _is_header(lines: list[str], i: int) -> bool:
    return (i + 1 < len(lines) and lines[i].strip() != ""
            and set(lines[i + 1].strip()) == {"-"} and len(lines[i + 1].strip()) >= 3)


def move_extra_sections(app, what, name, obj, options, lines: list[str]) -> None:
    """``autodoc-process-docstring`` (before numpydoc): extra sections become part of Notes."""
    for section in EXTRA_SECTIONS:
        start = next((i for i in range(len(lines))
                      if lines[i].strip() == section and _is_header(lines, i)), None)
        if start is None:
            continue
        end = next((i for i in range(start + 2, len(lines)) if _is_header(lines, i)), len(lines))
        body = lines[start + 2:end]
        del lines[start:end]
        notes = next((i for i in range(len(lines))
                      if lines[i].strip() == "Notes" and _is_header(lines, i)), None)
        block = ["", f".. rubric:: {section}", "", *body, ""]
        if notes is None:
            lines[:] = [*lines, "", "Notes", "-----", *block]
        else:
            after = next((i for i in range(notes + 2, len(lines)) if _is_header(lines, i)),
                         len(lines))
            lines[after:after] = block


def setup(app) -> None:
    app.connect("autodoc-process-docstring", move_extra_sections, priority=100)
