"""The study report: ``report.json`` (every figure as data) and a self-contained ``report.html``.

The HTML page has no outside references: its figures are PNG images inlined as base64 data, its
style sheet is inline, so it can be mailed or archived as one file.

``report.json`` is strict JSON (RFC 8259): a number that is not finite is written as ``null``.
In a box's ``limits`` a ``null`` lower or upper limit means that side is unbounded (the box
reaches the parameter's range there); elsewhere ``null`` marks a score that could not be computed
(e.g. a Q² on a constant output). ``failures`` lists the stages that failed (``stage``, ``error``,
for one output ``output``, and ``traceback_in``: ``failures.log`` where the traceback is kept),
``warnings`` what the reader should know about the results (e.g. many failed teacher runs).
``fields`` (when the study models field outputs) holds, per field, its ``grid``, the
``surrogate``'s accuracy (``q2`` over the whole field, ``coverage95``, ``rmse``, ``q2_time``: Q²
at each grid point, ``n_components``) and ``sensitivity`` (``aggregated`` indices per parameter;
``S1``, ``S1_conf``, ``ST``, ``ST_conf``: per parameter, a list over the grid).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from surrogate.study import Study

__all__ = ["write_report", "render_html", "finite"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { border-bottom: 2px solid #446; } h2 { margin-top: 1.6em; color: #335; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #eef; } td.text, th.text { text-align: left; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure img { max-width: 520px; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; text-align: center; }
code.rule { background: #f4f4fa; padding: 0.2em 0.4em; font-size: 1.05em; }
.note { color: #666; font-size: 0.9em; }
h2.failed, .warning { color: #a00; }
"""


def write_report(study: Study) -> None:
    """Write ``report.json`` and ``report.html`` into the study's directory."""
    directory = study.directory
    text = json.dumps(finite(study.summary), indent=2, allow_nan=False)
    (directory / "report.json").write_text(text + "\n", encoding="utf-8")
    images = [(title, _png(figure)) for title, figure in study.figures]
    # UTF-8 as the page declares, whatever the locale's encoding: an ASCII or Windows locale
    # failed on a name such as "décor" (or the figure title's "Q²"), or wrote other bytes
    (directory / "report.html").write_text(render_html(study.summary, images),
                                           encoding="utf-8")
    import matplotlib.pyplot as plt

    for _, figure in study.figures:
        plt.close(figure)


def finite(value: Any) -> Any:
    """``value`` with every float that is not finite (NaN, +-Infinity) replaced by None.

    Examples
    --------
    >>> finite({"limits": {"x": {"lower": float("-inf"), "upper": 0.5}}, "q2": [float("nan")]})
    {'limits': {'x': {'lower': None, 'upper': 0.5}}, 'q2': [None]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    return html.escape(str(value))


def _table(rows: list[dict[str, Any]], first: str) -> str:
    if not rows:
        return "<p class='note'>(nothing)</p>"
    columns = list(rows[0])
    head = "".join(f"<th class='{'text' if c == first else ''}'>{html.escape(c)}</th>"
                   for c in columns)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='{'text' if c == first or isinstance(r.get(c), str) else ''}'>"
            f"{_fmt(r.get(c))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(summary: dict[str, Any], images: list[tuple[str, str]]) -> str:
    """The report page for a study summary and its (title, base64 PNG) figures."""
    parts = [f"<h1>Study of {html.escape(str(summary.get('simulator')))}</h1>"]
    parts += _problems_html(summary)
    runs = summary.get("runs", {})
    parts.append("<h2>Teacher runs</h2>" + _table([{
        "runs": runs.get("n"), "ok": runs.get("ok"), "failed": runs.get("failed"),
        "timeout": runs.get("timeout"), "teacher seconds": runs.get("teacher_seconds"),
    }], ""))
    if runs.get("errors"):
        parts.append(_table([{"error": k, "runs": v} for k, v in runs["errors"].items()],
                            "error"))
    surrogates = summary.get("surrogates")
    if isinstance(surrogates, dict):
        parts.append("<h2>Surrogate accuracy (cross-validated)</h2>" + _surrogates_html(surrogates))
    sensitivity = summary.get("sensitivity")
    if isinstance(sensitivity, dict):
        parts.append("<h2>Sobol indices (on the surrogate)</h2>")
        for output, table in sensitivity.items():
            if isinstance(table, dict) and "failed" in table:
                parts.append(f"<h3>{html.escape(output)}</h3><p class='note'>failed: "
                             f"{html.escape(str(table['failed']))}</p>")
            elif isinstance(table, dict):
                rows = [{"parameter": p, **v} for p, v in table.items()]
                parts.append(f"<h3>{html.escape(output)}</h3>" + _table(rows, "parameter"))
    fields = summary.get("fields")
    if isinstance(fields, dict) and fields:
        parts.append(_fields_html(fields))
    design = summary.get("design")
    if design:
        parts.append(_design_html(design))
    optimization = summary.get("optimization")
    if optimization:
        parts.append(_optimization_html(optimization))
    discovery = summary.get("discovery")
    if discovery:
        parts.append(_discovery_html(discovery))
    if images:
        parts.append("<h2>Figures</h2>")
        parts += [f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>"
                  f"<figcaption>{html.escape(title)}</figcaption></figure>"
                  for title, data in images]
    parts.append(f"<p class='note'>Study took {_fmt(summary.get('seconds'))} s. "
                 "All numbers are in report.json.</p>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>surrogate study: {html.escape(str(summary.get('simulator')))}</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>\n")


def _fields_html(fields: dict[str, Any]) -> str:
    """Per field: its surrogate's cross-validated accuracy and the aggregated Sobol indices (the
    curves over the grid are among the figures)."""
    parts = ["<h2>Field outputs (trajectories)</h2>"]
    for name, record in fields.items():
        parts.append(f"<h3>{html.escape(name)} ({len(record.get('grid') or [])} grid "
                     "points)</h3>")
        accuracy = record.get("surrogate") or {}
        if "failed" in accuracy or "skipped" in accuracy:
            note = ("failed: " + str(accuracy["failed"])) if "failed" in accuracy \
                else str(accuracy["skipped"])
            parts.append(f"<p class='note'>Surrogate {html.escape(note)}</p>")
        elif accuracy:
            q2_time = [q for q in accuracy.get("q2_time") or [] if isinstance(q, float)
                       and math.isfinite(q)]
            parts.append(_table([{
                "q2 (whole field)": accuracy.get("q2"),
                "lowest q2 on the grid": min(q2_time) if q2_time else "",
                "coverage95": accuracy.get("coverage95"), "rmse": accuracy.get("rmse"),
                "components": accuracy.get("n_components")}], ""))
        indices = record.get("sensitivity")
        if isinstance(indices, dict) and "failed" in indices:
            parts.append(f"<p class='note'>Sobol indices failed: "
                         f"{html.escape(str(indices['failed']))}</p>")
        elif isinstance(indices, dict):
            rows = [{"parameter": p, **v} for p, v in indices.get("aggregated", {}).items()]
            parts.append("<p>Sobol indices aggregated over the field (variance-weighted):</p>"
                         + _table(rows, "parameter"))
    return "".join(parts)


def _design_html(design: dict[str, Any]) -> str:
    """An adaptive design: its goal, why it stopped and its fidelity round by round."""
    fidelity = design.get("fidelity")
    rows = [{"round": r.get("round"), "runs": r.get("n_runs"), "successful": r.get("n_ok"),
             **({fidelity: r.get(fidelity)} if fidelity else {})}
            for r in (design.get("history") or {}).values()]
    case = f", case of interest <code class='rule'>{html.escape(design['threshold'])}</code>" \
        if design.get("threshold") else ""
    target = f", target {_fmt(design['target'])}" if design.get("target") is not None else ""
    return (f"<h2>Adaptive design</h2><p>Goal <b>{html.escape(str(design.get('goal')))}</b>"
            f"{case}; budget {_fmt(design.get('budget'))} runs{target}; stopped by "
            f"<b>{html.escape(str(design.get('stopped')))}</b>.</p>" + _table(rows, "round"))


def _optimization_html(optimization: dict[str, Any]) -> str:
    if "skipped" in optimization:
        return ("<h2>Optimization</h2><p class='note'>Skipped: "
                f"{html.escape(str(optimization['skipped']))}</p>")
    constraints = optimization.get("constraints") or {}
    subject = ""
    if constraints:
        terms = ", ".join(f"{html.escape(str(k))} {html.escape(str(v[0]))} {_fmt(v[1])}"
                          for k, v in constraints.items())
        met = optimization.get("feasible", True)
        subject = (f" subject to {terms}: "
                   + ("met" if met else "<b>not met by any evaluation</b> (the point shown is "
                      "the best of the infeasible ones)"))
    predicted = " (the surrogate's prediction there, not a teacher run)" \
        if optimization.get("mode") == "surrogate" else ""
    return ("<h2>Optimization</h2>" + _table(
        [{"parameter": k, "value": v} for k, v in optimization.get("x", {}).items()],
        "parameter") + f"<p>{html.escape(optimization['sense'])} "
        f"<b>{html.escape(optimization['output'])}</b> = {_fmt(optimization['y'])}{predicted}"
        f"{subject} ({optimization['mode']} search, {optimization['teacher_evaluations']} "
        "teacher evaluations)</p>")


def _problems_html(summary: dict[str, Any]) -> list[str]:
    """Failed stages and warnings, first on the page: they qualify everything below."""
    parts = []
    failures = summary.get("failures") or []
    if failures:
        rows = [{"stage": f["stage"] + (f" ({f['output']})" if f.get("output") else ""),
                 "error": f["error"]} for f in failures]
        logs = sorted({f["traceback_in"] for f in failures if f.get("traceback_in")})
        note = f" Tracebacks are in {', '.join(logs)}." if logs else ""
        parts.append("<h2 class='failed'>Failed stages</h2>" + _table(rows, "stage")
                     + f"<p class='note'>Everything that finished is reported below.{note}</p>")
    for warning in summary.get("warnings") or []:
        parts.append(f"<p class='warning'>Warning: {html.escape(warning)}</p>")
    return parts


def _surrogates_html(surrogates: dict[str, Any]) -> str:
    if "skipped" in surrogates:
        return f"<p class='note'>Skipped: {html.escape(str(surrogates['skipped']))}</p>"
    columns = ("q2", "rmse", "coverage95")
    rows = []
    for name, scores in surrogates.items():
        row = {"output": name, **{c: scores.get(c, "") for c in columns}}
        if "failed" in scores or "skipped" in scores:
            row["note"] = ("failed: " + scores["failed"]) if "failed" in scores \
                else scores["skipped"]
        rows.append(row)
    if any("note" in row for row in rows):
        rows = [{**row, "note": row.get("note", "")} for row in rows]
    return _table(rows, "output")


def _discovery_html(discovery: dict[str, Any]) -> str:
    parts = [f"<h2>Scenario discovery: {html.escape(discovery['outcome'])}</h2>",
             f"<p>{discovery['cases_of_interest']} of the {discovery['n_runs']} runs that "
             f"succeeded are cases of interest (base rate "
             f"{_fmt(discovery.get('base_rate'))}).</p>"]
    if "skipped" in discovery:
        return "".join(parts) + f"<p class='note'>{html.escape(discovery['skipped'])}</p>"
    rows = []
    for method in ("prim", "reds"):
        if method in discovery:
            found = discovery[method]
            # a box that restricts nothing has no rule: an empty one read as a missing result
            rule = found["rules"] or "(the whole space: the box restricts no parameter)"
            rows.append({"method": method.upper(), "rule": rule,
                         "coverage": found["coverage"], "density": found["density"],
                         "mass": found["mass"], "restricted": found["n_restricted"]})
            parts.append(f"<p><b>{method.upper()}</b>: <code class='rule'>"
                         f"{html.escape(rule)}</code></p>")
            if found.get("reaches_min_density") is False:
                parts.append(f"<p class='note'>No box of {method.upper()}'s trajectory reaches "
                             f"the density asked for (min_density = "
                             f"{_fmt(discovery.get('min_density'))}) on the runs: the densest "
                             "is shown.</p>")
    parts.append(_table(rows, "method"))
    if "reds" in discovery:
        reds = discovery["reds"]  # shown by `surrogate discover` and in report.json: here too
        if "metamodel" in reds:
            fidelity = reds.get("fidelity")  # None: not measured or too few cases (JSON's NaN)
            told = (f"agrees with the teacher on the case of interest for {fidelity:.3f} of the "
                    "runs (cross-validated)" if isinstance(fidelity, float)
                    and math.isfinite(fidelity) else "has no measured agreement with the teacher "
                    "(too few runs or cases to cross-validate)")
            parts.append(f"<p>REDS's metamodel ({html.escape(str(reds['metamodel']))}) "
                         f"{told}.</p>")
        parts.append("<p class='note'>Coverage, density and mass of both boxes are measured on "
                     "the teacher runs; REDS's trade-off plot shows its statistics on the "
                     "metamodel's labels of its fresh sample.</p>")
    else:
        parts.append("<p class='note'>Coverage, density and mass of the box are measured on the "
                     "teacher runs.</p>")
    if discovery.get("adaptive_runs"):
        parts.append("<p class='note'><b>The runs are an adaptive design</b>, concentrated where "
                     "the design's goal sent them (near the edge of the case of interest for "
                     "goal boundary): the base rate, coverage, density and mass above are those "
                     "of these runs, not of the space. The statistics in REDS's trade-off plot "
                     "(<code>reds = true</code>) are measured on a uniform fresh sample: the "
                     "space's.</p>")
    return "".join(parts)
