"""The study report: ``report.json`` (every figure as data) and a self-contained ``report.html``.

The HTML page has no outside references: its figures are PNG images inlined as base64 data, its
style sheet is inline, so it can be mailed or archived as one file.
"""

from __future__ import annotations

import base64
import html
import io
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from surrogate.study import Study

__all__ = ["write_report", "render_html"]

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
"""


def write_report(study: Study) -> None:
    """Write ``report.json`` and ``report.html`` into the study's directory."""
    directory = study.directory
    (directory / "report.json").write_text(json.dumps(study.summary, indent=2) + "\n")
    images = [(title, _png(figure)) for title, figure in study.figures]
    (directory / "report.html").write_text(render_html(study.summary, images))
    import matplotlib.pyplot as plt

    for _, figure in study.figures:
        plt.close(figure)


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
        rows = [{"output": name, **(scores if isinstance(scores, dict) else {})}
                for name, scores in surrogates.items() if name != "skipped"]
        parts.append("<h2>Surrogate accuracy (cross-validated)</h2>" + _table(rows, "output"))
    sensitivity = summary.get("sensitivity")
    if isinstance(sensitivity, dict):
        parts.append("<h2>Sobol indices (on the surrogate)</h2>")
        for output, table in sensitivity.items():
            if isinstance(table, dict):
                rows = [{"parameter": p, **v} for p, v in table.items()]
                parts.append(f"<h3>{html.escape(output)}</h3>" + _table(rows, "parameter"))
    optimization = summary.get("optimization")
    if optimization:
        parts.append("<h2>Optimization</h2>" + _table(
            [{"parameter": k, "value": v} for k, v in optimization.get("x", {}).items()],
            "parameter"))
        parts.append(f"<p>{html.escape(optimization['sense'])} "
                     f"<b>{html.escape(optimization['output'])}</b> = {_fmt(optimization['y'])} "
                     f"({optimization['mode']} search, {optimization['teacher_evaluations']} "
                     "teacher evaluations)</p>")
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


def _discovery_html(discovery: dict[str, Any]) -> str:
    parts = [f"<h2>Scenario discovery: {html.escape(discovery['outcome'])}</h2>",
             f"<p>{discovery['cases_of_interest']} of {discovery['n_runs']} runs are cases of "
             f"interest (base rate {_fmt(discovery.get('base_rate'))}).</p>"]
    if "skipped" in discovery:
        return "".join(parts) + f"<p class='note'>{html.escape(discovery['skipped'])}</p>"
    rows = []
    for method in ("prim", "reds"):
        if method in discovery:
            found = discovery[method]
            rows.append({"method": method.upper(), "rule": found["rules"],
                         "coverage": found["coverage"], "density": found["density"],
                         "mass": found["mass"], "restricted": found["n_restricted"]})
            parts.append(f"<p><b>{method.upper()}</b>: <code class='rule'>"
                         f"{html.escape(found['rules'])}</code></p>")
    parts.append(_table(rows, "method"))
    parts.append("<p class='note'>Coverage, density and mass of both boxes are measured on the "
                 "teacher runs; REDS's trade-off plot shows its statistics on the metamodel's "
                 "labels of its fresh sample.</p>")
    return "".join(parts)
