"""A report of analyses: sections with settings, figures and data, written as Markdown and HTML."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Section:
    """One analysis in the report: what was run, with which settings, and what it produced."""

    title: str
    summary: str
    settings: dict[str, Any]
    figures: list[str] = field(default_factory=list)  # PNG file names relative to the report folder
    data: list[str] = field(default_factory=list)  # CSV/JSON file names relative to the report folder
    findings: list[str] = field(default_factory=list)  # measured statements, one per line
    seconds: float = 0.0


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple) and len(value) > 8:
        return f"[{_fmt(value[0])}, ..., {_fmt(value[-1])}] ({len(value)} values)"
    return str(value)


def write_report(out_dir: Path, title: str, sections: list[Section], meta: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` (figures embedded by relative links) into ``out_dir``."""
    out_dir = Path(out_dir)
    md = [f"# {title}", ""]
    md += [f"- **{k}**: {_fmt(v)}" for k, v in meta.items()]
    md.append("")
    for s in sections:
        md += [f"## {s.title}", "", s.summary, "", f"*Run time: {s.seconds:.1f} s.*", "", "**Settings**", ""]
        md += [f"- `{k}` = {_fmt(v)}" for k, v in s.settings.items()]
        md.append("")
        if s.findings:
            md += ["**Findings**", ""] + [f"- {f}" for f in s.findings] + [""]
        for fig in s.figures:
            md += [f"![{s.title}]({fig})", ""]
        if s.data:
            md += ["**Data**: " + ", ".join(f"[{d}]({d})" for d in s.data), ""]
    md_path = out_dir / "report.md"
    md_path.write_text("\n".join(md) + "\n")

    h = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.45}"
        "img{max-width:100%;border:1px solid #ddd;margin:.5rem 0}code{background:#f4f4f4;padding:0 .2rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><ul>",
    ]
    h += [f"<li><b>{html.escape(k)}</b>: {html.escape(_fmt(v))}</li>" for k, v in meta.items()]
    h.append("</ul>")
    for s in sections:
        h += [f"<h2>{html.escape(s.title)}</h2>", f"<p>{html.escape(s.summary)}</p>", f"<p><i>Run time: {s.seconds:.1f} s.</i></p>"]
        h.append("<table><tr><th>setting</th><th>value</th></tr>")
        h += [f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(_fmt(v))}</td></tr>" for k, v in s.settings.items()]
        h.append("</table>")
        if s.findings:
            h.append("<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in s.findings) + "</ul>")
        h += [f"<img src='{html.escape(fig)}' alt='{html.escape(s.title)}'>" for fig in s.figures]
        if s.data:
            h.append("<p>Data: " + ", ".join(f"<a href='{html.escape(d)}'>{html.escape(d)}</a>" for d in s.data) + "</p>")
    h.append("</body></html>")
    html_path = out_dir / "report.html"
    html_path.write_text("\n".join(h))
    (out_dir / "report.json").write_text(
        json.dumps({"title": title, "meta": meta, "sections": [s.__dict__ for s in sections]}, indent=2, default=str)
    )
    return md_path, html_path
