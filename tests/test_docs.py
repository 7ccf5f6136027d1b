"""The documentation site: every public name and bundled teacher gets a page, every example is
in the gallery (and runs at a small size), and -- slow -- the site builds with no warning and its
gallery figures load in headless Chromium."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import simulators
import surrogate
import surrogate.plot

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py") if p.name != "__init__.py")


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


api = _load(DOCS / "_ext" / "surrogate_api.py", "surrogate_api")
gallery_args = _load(DOCS / "_ext" / "gallery_args.py", "gallery_args")


def test_every_public_name_has_a_page(tmp_path):
    pages = api.write_api(tmp_path)
    import surrogate.discovery
    import surrogate.models
    import surrogate.sequential
    import surrogate.study

    # a subpackage's names that surrogate does not export (the metrics, the parts of a
    # custom acquisition, the field outcome classifier, the study's model inputs)
    unexported = [(module.__name__, n) for module in (surrogate.models, surrogate.sequential,
                                                      surrogate.discovery, surrogate.study)
                  for n in module.__all__
                  if getattr(surrogate, n, None) is not getattr(module, n)]
    expected = ([("surrogate", n) for n in surrogate.__all__]
                + [("surrogate.plot", n) for n in surrogate.plot.__all__]
                + unexported + [("simulators", n) for n in simulators.__all__])
    for name in (("surrogate.sequential", "log_success"),
                 ("surrogate.discovery", "FieldOutcomeClassifier"),
                 ("surrogate.study", "model_inputs"), ("surrogate.models", "q2")):
        assert name in expected
    assert len(pages) == len(expected)
    index = (tmp_path / "index.rst").read_text()
    for module, name in expected:
        page = api.page_name(module, name)
        text = (tmp_path / f"{page}.rst").read_text()
        # the directive documents exactly this public name
        directive = re.search(r"^\.\. auto(class|function|exception|data):: (\S+)$", text, re.M)
        assert directive is not None, page
        assert directive.group(2) == f"{module}.{name}"
        assert f"<{page}>`" in index, page


def test_pages_follow_the_stage_of_the_defining_module():
    assert api.stage_of("surrogate", surrogate.Space) == "Space and design"
    assert api.stage_of("surrogate", surrogate.GPRegressor) == "Students"
    assert api.stage_of("surrogate", surrogate.PRIM) == "Scenario discovery"
    assert api.stage_of("surrogate.plot", surrogate.plot.parity) == "Plots"
    assert api.stage_of("simulators", simulators.load) == "Bundled simulators registry"
    # a class documents the methods the package defines, not scikit-learn's set_*_request
    members = api._own_members(surrogate.GPRegressor)
    assert {"fit", "predict", "save"} <= set(members)
    assert not [m for m in members if m.endswith("_request")]


def test_every_bundled_teacher_has_a_page(tmp_path):
    names = api.write_simulators(tmp_path, ROOT)
    assert names == simulators.available()
    for name in names:
        text = (tmp_path / f"{name}.rst").read_text()
        teacher = simulators.load(name)
        for parameter in teacher.space.names:
            assert f"``{parameter}``" in text, (name, parameter)
        for output in teacher.outputs:
            assert f"``{output}``" in text, (name, output)
        if (ROOT / "simulators" / "configs" / f"{name}.toml").exists():
            assert f"configs/{name}.toml" in text


def test_simulator_page_keeps_the_module_documentation(tmp_path):
    api.write_simulators(tmp_path, ROOT)
    text = (tmp_path / "sir.rst").read_text()
    assert "dS/dt = -beta S I / N" in text  # the equations
    assert "Kermack" in text  # the source
    # uncited numbered references become a list (Sphinx would flag unreferenced footnotes)
    assert ".. [1]" not in text and "- [1] W. O. Kermack" in text
    # a cited one stays a footnote
    assert ".. [1]" in (tmp_path / "dsgc.rst").read_text()


def test_every_example_is_in_the_gallery_at_a_small_size():
    assert sorted(gallery_args.SMALL) == EXAMPLES
    # the same small sizes the example tests run
    marks = _load(ROOT / "tests" / "test_examples.py", "test_examples_for_docs")
    cases = {script: args for script, args, _ in
             (getattr(case, "values", case)  # a pytest.param (marked slow) or a plain tuple
              for case in marks.test_example_runs.pytestmark[0].args[1])}
    assert cases == gallery_args.SMALL


def test_reset_argv_gives_the_small_size_only_when_asked(monkeypatch):
    script = {"src_file": str(ROOT / "examples" / "discover.py")}
    monkeypatch.delenv("SURROGATE_GALLERY", raising=False)
    assert gallery_args.reset_argv({}, script) == []
    monkeypatch.setenv("SURROGATE_GALLERY", "small")
    assert gallery_args.reset_argv({}, script) == gallery_args.SMALL["discover.py"]


@pytest.mark.parametrize("script", EXAMPLES)
def test_example_docstring_opens_with_a_title(script):
    # Sphinx-Gallery takes the page title from the docstring's first RST title
    doc = ast.get_docstring(ast.parse((ROOT / "examples" / script).read_text()))
    lines = doc.strip().splitlines()
    assert len(lines) > 2 and set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0]), script


def test_every_benchmark_python_m_benchmarks_offers_can_run(monkeypatch):
    # `python -m benchmarks` lists the modules the docs name; a helper module (a part that
    # another benchmark runs) is private, or the listing offers a name that fails to run
    monkeypatch.syspath_prepend(str(ROOT))
    listing = _load(ROOT / "benchmarks" / "__main__.py", "benchmarks_main_for_docs")
    for name in listing._available():
        tree = ast.parse((ROOT / "benchmarks" / f"{name}.py").read_text())
        runs = [node for node in tree.body if isinstance(node, ast.FunctionDef)
                and node.name == "run"]
        assert runs, name
        arguments = runs[0].args
        assert "quick" in [a.arg for a in arguments.args + arguments.kwonlyargs], name


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("sphinx") is None, reason="the docs extra")
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_site_builds_and_gallery_figures_load_in_chromium(tmp_path):
    html = tmp_path / "html"
    env = {**os.environ, "SURROGATE_GALLERY": "small", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(html)],
        capture_output=True, text=True, timeout=900, env=env)
    assert build.returncode == 0, build.stderr[-5000:]
    for page in ("index", "guide/concepts", "how_it_works", "comparison", "api/index",
                 "simulators/index", "api/surrogate.GPRegressor", "simulators/dsgc"):
        assert (html / f"{page}.html").exists(), page

    pages = ["auto_examples/index.html"] + [f"auto_examples/{Path(s).stem}.html"
                                            for s in EXAMPLES]
    loaded = _images_in_chromium(html, pages, tmp_path)
    for script in EXAMPLES:
        figures = [(src, width) for src, width in loaded[f"auto_examples/{Path(script).stem}.html"]
                   if "sphx_glr_" in src and "_thumb" not in src]
        assert figures, f"{script}: no figure on its gallery page"
        assert all(width > 100 for _, width in figures), (script, figures)
    thumbnails = loaded["auto_examples/index.html"]
    assert len([s for s, w in thumbnails if "_thumb" in s and w > 0]) == len(EXAMPLES)


# A page that fetches each gallery page, and loads every image it names as Chromium would;
# it writes {page: [[src, naturalWidth], ...]} into the DOM (0: the image did not load).
_HARNESS = """<!doctype html><html><body><pre id="out">pending</pre><script>
const pages = PAGES;
async function images(page) {
  const text = await (await fetch(page)).text();
  const doc = new DOMParser().parseFromString(text, "text/html");
  const base = new URL(page, location.href);
  return Promise.all([...doc.querySelectorAll("img")].map(img => new Promise(done => {
    const probe = new Image();
    const src = img.getAttribute("src");
    probe.onload = () => done([src, probe.naturalWidth]);
    probe.onerror = () => done([src, 0]);
    probe.src = new URL(src, base).href;
  })));
}
Promise.all(pages.map(images)).then(all => {
  const out = {};
  pages.forEach((page, i) => { out[page] = all[i]; });
  document.getElementById("out").textContent = JSON.stringify(out);
}).catch(error => { document.getElementById("out").textContent = "error: " + error; });
</script></body></html>"""


def _images_in_chromium(html: Path, pages: list[str], tmp_path: Path) -> dict:
    harness = html / "_figures_check.html"
    harness.write_text(_HARNESS.replace("PAGES", json.dumps(pages)))
    dump = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--allow-file-access-from-files", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=20000", "--dump-dom", harness.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert dump.returncode == 0, dump.stderr[-3000:]
    match = re.search(r'<pre id="out">(.*?)</pre>', dump.stdout, re.S)
    assert match is not None and match.group(1).startswith("{"), dump.stdout[-2000:]
    return json.loads(match.group(1).replace("&amp;", "&").replace("&quot;", '"'))
