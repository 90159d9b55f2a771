"""The report folder: ``report.md`` and ``report.html``, ``tables/`` (CSV + Markdown), ``figures/``.

Sections are plain data (title, paragraphs, tables, figures); this module only renders them.
Numbers are written with 4 decimals in the documents and at full precision in the CSV files.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

TABLES, FIGURES = "tables", "figures"


@dataclass(frozen=True)
class Table:
    """A table written to ``tables/<name>.csv`` and ``.md`` and shown in the report."""

    name: str
    caption: str
    frame: pd.DataFrame


@dataclass(frozen=True)
class FigureRef:
    """A PNG under the report folder and its caption."""

    path: Path
    caption: str


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[FigureRef] = field(default_factory=list)


def format_cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return "n/a" if not np.isfinite(value) else f"{value:.4f}"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    header = [str(c) for c in frame.columns]
    rows = [
        [format_cell(v).replace("|", "\\|") for v in row] for row in frame.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(format_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f0f0f0}img{max-width:100%;border:1px solid #eee}figcaption{font-size:0.9em;color:#444}"
)


def write_report(folder: Path, title: str, sections: list[Section]) -> Path:
    """Write tables and both documents under ``folder``; returns the Markdown file's path."""
    folder = Path(folder)
    (folder / TABLES).mkdir(parents=True, exist_ok=True)
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        md += [f"## {section.title}", ""]
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        for paragraph in section.paragraphs:
            md += [paragraph, ""]
            body.append(f"<p>{html.escape(paragraph)}</p>")
        for table in section.tables:
            table.frame.to_csv(folder / TABLES / f"{table.name}.csv", index=False)
            text = markdown_table(table.frame)
            (folder / TABLES / f"{table.name}.md").write_text(f"{table.caption}\n\n{text}\n")
            md += [f"**{table.caption}** ([csv]({TABLES}/{table.name}.csv))", "", text, ""]
            body.append(
                f"<p><b>{html.escape(table.caption)}</b> (<a href='{TABLES}/{table.name}.csv'>csv</a>)</p>"
            )
            body.append(html_table(table.frame))
        for figure in section.figures:
            rel = figure.path.relative_to(folder).as_posix()
            md += [f"![{figure.caption}]({rel})", "", f"*{figure.caption}*", ""]
            body.append(
                f"<figure><img src='{html.escape(rel)}' alt='{html.escape(figure.caption)}'><figcaption>{html.escape(figure.caption)}</figcaption></figure>"
            )
    (folder / "report.md").write_text("\n".join(md))
    page = f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>{''.join(body)}</body></html>"
    (folder / "report.html").write_text(page)
    return folder / "report.md"
