"""Generate the API reference and the simulator pages from the code, at every build.

The public names are read from ``surrogate.__all__``, ``surrogate.plot.__all__``, the
``__all__`` of ``surrogate.models``, ``.sequential``, ``.discovery`` and ``.study`` (the names
``surrogate`` does not export) and ``simulators.__all__`` (and the teachers from ``simulators.available()``), so a name added to
an ``__all__`` gets its page without editing the docs. Pages are grouped by the pipeline stage
of the module that defines the name; a name from a module not listed in :data:`STAGES` lands in
"Other" rather than being left out. The generated files (``api/``, ``simulators/``) are not
committed; ``tests/test_docs.py`` checks that every public name gets a page.
"""

from __future__ import annotations

import inspect
import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# (title, module prefixes, one-line intro), in the order of the data flow
STAGES: list[tuple[str, tuple[str, ...], str]] = [
    ("Space and design", ("surrogate.space", "surrogate.design"),
     "Typed parameters and the designs drawn from them."),
    ("Teacher and executors", ("surrogate.teacher", "surrogate.execute"),
     "A simulation wrapped as a teacher, and where its runs are evaluated."),
    ("Transfer sets", ("surrogate.data", "surrogate._fields"),
     "The design, the teacher's outputs and every run's status; checkpoints on disk."),
    ("Students", ("surrogate.models",),
     "Surrogates fitted to a transfer set, their accuracy and persistence."),
    ("Distillation", ("surrogate.distillation",),
     "Teach a readable student from a fitted teacher on a generated transfer set."),
    ("Adaptive designs", ("surrogate.sequential",),
     "Choose the next teacher runs where the student is least sure."),
    ("Optimization", ("surrogate.optimize",),
     "Bayesian optimization with the teacher in the loop, or on a fitted surrogate."),
    ("Sensitivity", ("surrogate.sensitivity", "surrogate._sensitivity"),
     "Sobol' indices and Morris screening through SALib."),
    ("Scenario discovery", ("surrogate.discovery", "surrogate._target"),
     "PRIM, CART and REDS boxes: readable rules with coverage and density."),
    ("Thread policy", ("surrogate._threads",),
     "How many threads the package's numerics use in the driver."),
    ("Studies", ("surrogate.study",),
     "A whole study from a config: the stages, and the inputs its surrogates take."),
    ("Plots", ("surrogate.plot",),
     "Each takes a result and ``ax=``, and returns what it drew."),
    ("Bundled simulators registry", ("simulators",),
     "Find and load the bundled teachers."),
]


def public_names() -> Iterator[tuple[str, str, Any]]:
    """Every documented public name as ``(module, name, object)``.

    Examples
    --------
    >>> ("surrogate", "Space") in [(m, n) for m, n, _ in public_names()]
    True
    """
    import simulators
    import surrogate
    import surrogate.discovery
    import surrogate.models
    import surrogate.plot
    import surrogate.sequential
    import surrogate.study

    def parts(module: Any) -> list[str]:
        """The public names of a subpackage that ``surrogate`` does not export (those it does
        have their page there): the metrics, a custom acquisition's parts, ..."""
        return [n for n in module.__all__
                if getattr(surrogate, n, None) is not getattr(module, n)]

    for module, names in ((surrogate, surrogate.__all__), (surrogate.plot, surrogate.plot.__all__),
                          (surrogate.models, parts(surrogate.models)),
                          (surrogate.sequential, parts(surrogate.sequential)),
                          (surrogate.discovery, parts(surrogate.discovery)),
                          (surrogate.study, parts(surrogate.study)),
                          (simulators, simulators.__all__)):
        for name in names:
            yield module.__name__, name, getattr(module, name)


def stage_of(module: str, obj: Any) -> str:
    """The stage title of a public object (by the module that defines it)."""
    where = module if module != "surrogate" else getattr(obj, "__module__", None) or module
    if module == "surrogate.plot":
        where = "surrogate.plot"
    for title, prefixes, _ in STAGES:
        if any(where == p or where.startswith(p + ".") or where.startswith(p + "_")
               for p in prefixes):
            return title
    return "Other"


def page_name(module: str, name: str) -> str:
    """The file name (no suffix) of a public name's page, e.g. ``surrogate.Space``."""
    return f"{module}.{name.strip('_') if name == '__version__' else name}"


def _own_members(cls: type) -> list[str]:
    """Public methods and properties that the package itself defines on ``cls`` or its bases
    (scikit-learn's and Python's own are left out: their docs are elsewhere)."""
    names = []
    for name, _ in inspect.getmembers(cls):
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if name.startswith("_") or owner is None:
            continue
        value = vars(owner)[name]
        value = getattr(value, "fget", None) or getattr(value, "__func__", None) or value
        # scikit-learn adds set_*_request methods to every estimator class: not ours
        where = getattr(value, "__module__", None) or owner.__module__
        if where.split(".")[0] in ("surrogate", "simulators"):
            names.append(name)
    return sorted(names)


def _directive(module: str, name: str, obj: Any) -> str:
    target = f"{module}.{name}"
    if inspect.isclass(obj):
        members = _own_members(obj)
        options = f"   :members: {', '.join(members)}\n" if members else ""
        if issubclass(obj, BaseException):
            return f".. autoexception:: {target}\n{options}"
        return f".. autoclass:: {target}\n{options}"
    if callable(obj):
        return f".. autofunction:: {target}\n"
    return f".. autodata:: {target}\n   :no-value:\n\n   Value: ``{obj!r}``\n"


def write_api(out: Path) -> list[str]:
    """Write ``out/index.rst`` and one page per public name; return the page names."""
    groups: dict[str, list[tuple[str, str, Any]]] = {}
    for module, name, obj in public_names():
        groups.setdefault(stage_of(module, obj), []).append((module, name, obj))
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    index = ["API reference", "=============", "",
             "Every public name of ``surrogate`` (``import surrogate as sg``), of",
             "``surrogate.plot``, the names ``surrogate`` does not export of",
             "``surrogate.models`` (the metrics), ``surrogate.sequential`` (the parts of a",
             "custom acquisition), ``surrogate.discovery`` (outcomes over fields) and",
             "``surrogate.study`` (a study's stages and model inputs), and of",
             "``simulators``, generated from their docstrings. Each docstring's",
             "*Examples* section is run as a doctest by the test suite.", ""]
    intros = {title: intro for title, _, intro in STAGES}
    for title in [t for t, _, _ in STAGES] + ["Other"]:
        if title not in groups:
            continue
        index += [title, "-" * len(title), "", intros.get(title, ""), "",
                  ".. list-table::", "   :widths: 35 65", ""]
        for module, name, obj in groups[title]:
            page = page_name(module, name)
            pages.append(page)
            summary = _summary(obj)
            index += [f"   * - :doc:`{module}.{name} <{page}>`", f"     - {summary}"]
            _write_page(out / f"{page}.rst", module, name, obj)
        index.append("")
    index += [".. toctree::", "   :hidden:", ""] + [f"   {p}" for p in pages] + [""]
    (out / "index.rst").write_text("\n".join(index))
    return pages


def _summary(obj: Any) -> str:
    if isinstance(obj, str):
        return "The installed version."
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip() or " "


def _write_page(path: Path, module: str, name: str, obj: Any) -> None:
    title = f"{module}.{name}"
    text = f"{title}\n{'=' * len(title)}\n\n{_directive(module, name, obj)}"
    if not path.exists() or path.read_text() != text:  # unchanged pages keep Sphinx's cache
        path.write_text(text)


def write_simulators(out: Path, repo: Path) -> list[str]:
    """One page per bundled teacher: its documentation, parameters, outputs, configuration."""
    import simulators

    out.mkdir(parents=True, exist_ok=True)
    names = simulators.available()
    index = ["Bundled simulators", "==================", "",
             "Ready teachers for examples, tests and benchmarks: ``simulators.load(name)``.",
             "Each page gives the model's equations, parameter ranges, outputs and sources",
             "(from the module's documentation), the parameter table of the loaded teacher,",
             "and the default ``surrogate study`` configuration.", "",
             ".. list-table::", "   :header-rows: 1", "   :widths: 20 15 65", "",
             "   * - name", "     - inputs", "     - outputs"]
    for name in names:
        sim = simulators.load(name)
        index += [f"   * - :doc:`{name}`", f"     - {sim.space.dim}",
                  f"     - {', '.join(f'``{o}``' for o in sim.outputs)}"]
        text = _simulator_page(name, sim, repo)
        path = out / f"{name}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    index += ["", ".. toctree::", "   :hidden:", ""] + [f"   {n}" for n in names] + [""]
    (out / "index.rst").write_text("\n".join(index))
    return names


def _factory(name: str) -> Any:
    import simulators

    return simulators._REGISTRY[name]


def _simulator_page(name: str, sim: Any, repo: Path) -> str:
    factory = _factory(name)
    module = inspect.getmodule(factory)
    assert module is not None
    shared = module.__name__ == "simulators.functions"  # analytic functions: one per factory
    doc = inspect.getdoc(factory if shared else module) or ""
    summary, _, body = doc.partition("\n\n")
    summary = " ".join(summary.split())
    lines = [name, "=" * len(name), "", f"**{summary}**" if "*" not in summary else summary, ""]
    if shared:
        lines += _oracles(module, name)  # the equations are in the reference below
    else:
        lines += [_demote_examples(body), ""]
    lines += _space_table(sim)
    config = repo / "simulators" / "configs" / f"{name}.toml"
    if config.exists():
        lines += ["Study configuration", "-------------------", "",
                  f"``surrogate study {name}`` reads this file:", "",
                  f".. literalinclude:: ../../simulators/configs/{name}.toml",
                  "   :language: toml", ""]
    lines += ["Reference", "---------", "",
              f".. autofunction:: {module.__name__}.{factory.__name__}", ""]
    return "\n".join(lines)


def _oracles(module: Any, name: str) -> list[str]:
    """The known answers ``simulators.functions`` keeps for one function (its constants)."""
    constants = [c for c in getattr(module, "__all__", []) if c.startswith(name.upper() + "_")]
    if not constants:
        return []
    lines = ["Known answers", "-------------", "",
             f"Constants of ``{module.__name__}`` (parameter order as above):", ""]
    for constant in constants:
        value = getattr(module, constant)
        rounded = value.round(6) if hasattr(value, "round") else value
        text = " ".join(repr(rounded).split())
        lines += [f"``{constant}``", f"    ``{text}``", ""]
    return lines


def _demote_examples(body: str) -> str:
    """The module docstring as RST; its sections are the page's sections.

    Its numbered references (``.. [1] ...``, footnotes that the text does not cite) become a
    plain list, which Sphinx does not flag as unreferenced footnotes.
    """
    text = textwrap.dedent(body).strip()
    cited = set(re.findall(r"\[(\d+)\]_", text))
    lines, in_reference = [], False
    for line in text.splitlines():
        match = re.match(r"\.\. (\[(\d+)\]) (.*)", line)
        if match and match.group(2) not in cited:
            lines.append(f"- {match.group(1)} {match.group(3)}")
            in_reference = True
        elif in_reference and line.startswith("   "):
            lines.append("  " + line.strip())
        else:
            lines.append(line)
            in_reference = False
    return "\n".join(lines)


def _space_table(sim: Any) -> list[str]:
    lines = ["The loaded teacher", "------------------", "",
             f"``simulators.load({sim.name!r})``: {sim.space.dim} inputs, outputs "
             + ", ".join(f"``{o}``" for o in sim.outputs)
             + (f"; fields {', '.join(f'``{f}``' for f in _fields(sim))}" if _fields(sim) else "")
             + ".", "",
             ".. list-table::", "   :header-rows: 1", "", "   * - parameter", "     - kind",
             "     - range"]
    for parameter in sim.space:
        lines += [f"   * - ``{parameter.name}``", f"     - {type(parameter).__name__}",
                  f"     - {_range(parameter)}"]
    return lines + [""]


def _fields(sim: Any) -> list[str]:
    return list(getattr(sim, "fields", None) or [])


def _range(parameter: Any) -> str:
    if hasattr(parameter, "categories"):
        return ", ".join(f"``{c!r}``" for c in parameter.categories)
    text = f"[{parameter.low:g}, {parameter.high:g}]"
    return text + (" (log scale)" if getattr(parameter, "log", False) else "")


def generate(app: Any) -> None:
    """Sphinx ``builder-inited`` hook: (re)write the generated pages."""
    docs = Path(app.srcdir)
    write_api(docs / "api")
    write_simulators(docs / "simulators", docs.parent)


def clean(docs: Path) -> None:
    """Remove the generated folders (``make docs`` starts from them gone)."""
    for folder in ("api", "simulators"):
        shutil.rmtree(docs / folder, ignore_errors=True)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
