"""The consolidated table as one accessible HTML page, beside the xlsx and the PDF.

A city publishes on its website, and JIS X 8341-3 expects a page that a screen
reader can follow besides the PDF. The page renders the same :class:`~xlplan.publish.table.Table`
as the workbook and the CSV, so the three cannot disagree:

- ``<html lang="ja">``, a ``<title>`` (the settings' 表題), an ``<h1>`` with it, and
  one ``<section>`` with an ``<h2>`` and one ``<table>`` (with its ``<caption>``) per
  top-level node (基本目標), as the workbook has one sheet per 基本目標;
- the two-row header of the workbook (:meth:`xlplan.publish.writer.Layout.headers`),
  every cell a ``<th scope="col">``; the hierarchy's headings (施策の方向, 基本事業)
  as rows ``<th scope="rowgroup">`` that open a ``<tbody>``; the project number as
  ``<th scope="row">`` over the project's department rows;
- values as the table shows them (:meth:`xlplan.plan.values.Value.display`: ``1,957人``,
  ``○``), narratives with their line breaks (``<br>``);
- every text escaped: a department's ``<b>`` is shown as typed, never markup;
- self-contained: inline CSS, no script, no outside file, so the page opens the
  same from a website or a file share on an LGWAN PC.

Charts (a 推移 sheet) get their place in :func:`charts_html`: figures with text
alternatives, embedded as data, once the consolidated workbook carries them.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from pathlib import Path

from xlplan.plan.model import Node, Plan, Project
from xlplan.plan.values import Value, format_number
from xlplan.publish.table import Heading, ProjectBlock, Section, Table
from xlplan.publish.trends import (
    Line,
    by_project,
    chart_description,
    omitted_note,
    trend_lines,
)
from xlplan.publish.writer import cell_text, layout_for

__all__ = ["charts_html", "html_text", "write_html"]

_STYLE = """
body { font-family: "BIZ UDPGothic", "Meiryo", "Hiragino Sans", "Noto Sans CJK JP", sans-serif;
       color: #1a1a1a; background: #fff; margin: 1.5rem; line-height: 1.6; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
.label { margin: 0; text-align: right; }
.plan { margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; font-weight: bold; padding: .25rem 0; }
th, td { border: 1px solid #595959; padding: .25rem .4rem; vertical-align: top; overflow-wrap: anywhere; }
thead th { background: #dce9f5; text-align: center; white-space: nowrap; }
td.description { min-width: 14em; }
tbody th[scope="rowgroup"] { background: #e6f0da; text-align: left; }
tbody th[scope="rowgroup"].level2 { background: #f2f2f2; padding-left: 1.5rem; }
tbody th[scope="row"] { text-align: right; font-weight: normal; }
td.value { text-align: center; white-space: nowrap; }
"""


def html_text(table: Table) -> str:
    """The whole page as text (UTF-8 when written)."""
    plan = table.plan
    settings = plan.settings
    title = settings.title or "事業実績一覧"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ja">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_text(title)}</h1>",
    ]
    if settings.document_label:
        parts.append(f'<p class="label">{_text(settings.document_label)}</p>')
    plan_line = f"体系一覧（{settings.plan_name}）"
    if settings.slogan:
        plan_line += f"　{settings.slogan}"
    parts.append(f'<p class="plan">{_text(plan_line)}</p>')
    for index, section in enumerate(table.sections, start=1):
        parts += _section(plan, section, index, title, graded=table.graded)
    charts = charts_html(table)
    if charts:
        parts.append(charts)
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def write_html(table: Table, path: Path) -> None:
    """Write the page to ``path`` (UTF-8, CRLF-free)."""
    path.write_text(html_text(table), encoding="utf-8", newline="\n")


def charts_html(table: Table) -> str:
    """The 推移 charts: one ``<figure>`` per indicator with at most :data:`MAX_CHART_LINES` entries, an
    inline SVG line chart (the page stays one file, no script) named by its text alternative, and a
    caption saying in words what it plots; after the figures, a note for each indicator with more."""
    years, lines = trend_lines(table)
    if not lines:
        return ""
    charted, omitted = by_project(lines)
    labels = [table.plan.settings.year_label(years[0]), *(year.wareki for year in years[1:])]
    parts = ['<section aria-labelledby="trends">', '<h2 id="trends">数値目標の推移</h2>']
    for group in charted:
        project = group[0].project
        described = chart_description(project, years, group)
        parts += [
            "<figure>",
            _svg(group, labels, project, described),
            f"<figcaption>{_text(described)}</figcaption>",
            "</figure>",
        ]
    parts += [f"<p>{_text(omitted_note(group[0].project, len(group)))}</p>" for group in omitted]
    parts.append("</section>")
    return "\n".join(parts)


_COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf8f00")
_W, _H, _PAD_LEFT, _PAD = 520, 230, 60, 30


def _svg(group: list[Line], labels: list[str], project: Project, described: str) -> str:
    """A line chart as SVG: one line per entry, the target dashed, the years along the bottom."""
    target = (
        float(project.target.number)
        if project.target is not None and project.target.number is not None
        else None
    )
    numbers = [v for line in group for v in line.values if v is not None] + (
        [target] if target is not None else []
    )
    low, high = min(numbers), max(numbers)
    if low == high:
        low, high = low - 1, high + 1
    span = high - low
    low, high = low - span * 0.1, high + span * 0.1

    def x(index: int) -> float:
        step = (_W - _PAD_LEFT - _PAD) / max(len(labels) - 1, 1)
        return _PAD_LEFT + index * step

    def y(value: float) -> float:
        return _H - _PAD - (value - low) / (high - low) * (_H - 2 * _PAD)

    out = [f'<svg role="img" aria-label="{_text(described)}" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}">',
           f'<line x1="{_PAD_LEFT}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#555"/>',
           f'<line x1="{_PAD_LEFT}" y1="{_PAD}" x2="{_PAD_LEFT}" y2="{_H - _PAD}" stroke="#555"/>']  # fmt: skip
    for index, label in enumerate(labels):
        out.append(
            f'<text x="{x(index):.1f}" y="{_H - 8}" font-size="11" text-anchor="middle">{_text(label)}</text>'
        )
    for value in (low + (high - low) * 0.1, high - (high - low) * 0.1):
        out.append(
            f'<text x="{_PAD_LEFT - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end">{_tick(value)}</text>'
        )
    if target is not None:
        out.append(f'<line x1="{_PAD_LEFT}" y1="{y(target):.1f}" x2="{_W - _PAD}" y2="{y(target):.1f}" '
                   'stroke="#c00000" stroke-dasharray="6 4"/>')  # fmt: skip
    for number, line in enumerate(group):
        colour = _COLOURS[number % len(_COLOURS)]
        points = [(x(i), y(v)) for i, v in enumerate(line.values) if v is not None]
        out.append('<polyline fill="none" stroke-width="2" stroke="' + colour + '" points="'
                   + " ".join(f"{a:.1f},{b:.1f}" for a, b in points) + '"/>')  # fmt: skip
        out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{colour}"/>' for a, b in points]
    out.append("</svg>")
    return "".join(out)


def _section(plan: Plan, section: Section, index: int, title: str, *, graded: bool = False) -> list[str]:
    settings = plan.settings
    heading = _goal(plan, section.node) if section.node is not None else title
    layout = layout_for(plan)
    first, second = layout.headers(settings)
    # Columns after the number: 事業, 担当課, then the years and the narrative as the workbook has them.
    value_columns = [layout.baseline, *layout.earlier_columns, layout.previous, layout.current]
    columns = (
        len(value_columns) + 4 + (len(GRADE_HEADERS) if graded else 0)
    )  # number, 事業, 担当課, narrative
    ident = f"section-{index}"
    lines = [
        f'<section aria-labelledby="{ident}">',
        f'<h2 id="{ident}">{_text(heading)}</h2>',
        "<table>",
        f"<caption>{_text(heading)}（{_text(title)}）</caption>",
        "<thead>",
        "<tr>"
        + '<th scope="col" rowspan="2">番号</th>'
        + f'<th scope="col" rowspan="2">{_text(first[layout.description])}</th>'
        + f'<th scope="col" rowspan="2">{_text(first[layout.department])}</th>'
        + "".join(f'<th scope="col">{_text(first[c])}</th>' for c in (*value_columns, layout.narrative))
        + ("".join(f'<th scope="col" rowspan="2">{name}</th>' for name in GRADE_HEADERS) if graded else "")
        + "</tr>",
        "<tr>"
        + "".join(f'<th scope="col">{_text(second[c])}</th>' for c in (*value_columns, layout.narrative))
        + "</tr>",
        "</thead>",
    ]
    # A heading opens a row group (tbody) of the rows below it; a heading straight under
    # another (基本事業 under 施策の方向) joins its group, so no group is left without data.
    open_body = rows_in_body = False
    for item in section.items:
        if isinstance(item, Heading):
            if rows_in_body or not open_body:
                if open_body:
                    lines.append("</tbody>")
                lines.append("<tbody>")
            open_body, rows_in_body = True, False
            level = "level1" if item.node.level <= 1 else "level2"
            lines.append(
                f'<tr><th scope="rowgroup" colspan="{columns}" class="{level}">'
                f"{_text(_heading_text(item.node))}</th></tr>"
            )
            continue
        if not open_body:
            lines.append("<tbody>")
            open_body = True
        rows_in_body = True
        lines += _project(item, len(value_columns) - 1, graded=graded)
    if open_body:
        lines.append("</tbody>")
    lines += ["</table>", "</section>"]
    return lines


GRADE_HEADERS = ("達成率", "評価", "評価の理由")


def _project(block: ProjectBlock, years: int, *, graded: bool = False) -> list[str]:
    """A project's rows; ``years`` value columns follow 現状値."""
    project = block.project
    span = max(len(block.rows), 1)
    rowspan = f' rowspan="{span}"' if span > 1 else ""
    description = _text(project.description)
    if project.indicator:
        description += "<br>" + _text(f"【数値目標】{project.indicator}")
    own = f'<th scope="row"{rowspan}>{project.no}</th><td class="description"{rowspan}>{description}</td>'
    baseline = f'<td class="value"{rowspan}>{_value(project.baseline)}</td>'
    if not block.rows:
        empty = "<td></td>" * (years + 1 + (len(GRADE_HEADERS) if graded else 0))
        return [f"<tr>{own}<td></td>{baseline}{empty}</tr>"]
    lines = []
    for number, row in enumerate(block.rows):
        cells = own if number == 0 else ""
        cells += f"<td>{_text(row.entry.name)}</td>"
        if number == 0:
            cells += baseline
        for value in (*row.earlier, row.previous, row.current):
            cells += f'<td class="value">{_value(value)}</td>'
        cells += f"<td>{_text(row.narrative)}</td>"
        if graded:
            result = row.achievement
            rate = result.rate_text if result is not None else ""  # as the table's cell shows it
            cells += f'<td class="value">{_text(rate)}</td>'
            cells += f'<td class="value">{_text(result.grade if result else "")}</td>'
            cells += f"<td>{_text(result.reason if result else '')}</td>"
        lines.append(f"<tr>{cells}</tr>")
    return lines


def _goal(plan: Plan, node: Node) -> str:
    return f"{plan.settings.levels[0]}{node.number} {node.title}" + (
        f" {node.subtitle}" if node.subtitle else ""
    )


def _heading_text(node: Node) -> str:
    return f"{node.number} {node.title}" + (f" {node.subtitle}" if node.subtitle else "")


def _value(value: Value) -> str:
    return _text(value.display())


def _text(text: str | None) -> str:
    """Text as the workbook holds it (:func:`cell_text`), escaped, its line breaks as ``<br>``."""
    if not text:
        return ""
    return "<br>".join(escape(line) for line in cell_text(text).split("\n"))


def _tick(value: float) -> str:
    """An axis label: four significant digits, grouped, in fixed point (12,130, never 1.213e+04)."""
    return format_number(Decimal(f"{value:.4g}"))
