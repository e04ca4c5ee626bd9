"""推移: how each 数値目標 moved over the years, as native Excel charts beside their numbers.

The last sheet of the consolidated workbook holds a table — one row per entry of a project with a
数値目標: the baseline, every year the history holds, this year, the target — and one line chart per
project drawn from that table with XlsxWriter's chart API, so Excel and LibreOffice draw (and print)
them from the cells. The baseline is the first point, labelled with its year; the target is a
dashed line at its value. Each chart carries a text alternative saying what it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xlsxwriter.workbook import Workbook

from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Entry, Project
from xlplan.plan.values import Value
from xlplan.publish.table import EntryYears, ProjectBlock, Table, history_years
from xlplan.xlsx.cells import clean_text

SHEET = "推移"
CHART_ROWS = 16  # rows a chart takes, with a gap
CHART_WIDTH, CHART_HEIGHT = 520, 288  # pixels: two charts side by side on an A4 landscape page


@dataclass(frozen=True)
class Line:
    """One entry's values over the years (None where the year has no number)."""

    project: Project
    entry: Entry
    values: tuple[float | None, ...]


def trend_lines(table: Table) -> tuple[list[FiscalYear], list[Line]]:
    """The years (baseline first, this year last) and every entry's numbers over them."""
    plan = table.plan
    settings = plan.settings
    years = [settings.baseline_year, *history_years(plan), settings.current_year]
    history = EntryYears(plan)
    lines = []
    for section in table.sections:
        for item in section.items:
            if not isinstance(item, ProjectBlock) or not item.project.indicator:
                continue
            for row in item.rows:
                values: list[Value] = [item.project.baseline]
                values += [history.past(item.project, row.entry, year, None) for year in years[1:-1]]
                values.append(row.current)
                numbers = tuple(float(v.number) if v.number is not None else None for v in values)
                if sum(number is not None for number in numbers) >= 2:  # a trend needs two points
                    lines.append(Line(item.project, row.entry, numbers))
    return years, lines


def add_trends(book: Workbook, table: Table) -> int:
    """Add the 推移 sheet to ``book`` (before it is closed); returns the number of charts (0: no sheet)."""
    years, lines = trend_lines(table)
    if not lines:
        return 0
    settings = table.plan.settings
    sheet = book.add_worksheet(SHEET)
    bold = book.add_format({"bold": True, "font_size": 12})
    header = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "align": "center"}
    )
    text = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    number = book.add_format({"border": 1, "num_format": "#,##0.###"})
    labels = [
        f"現状値（{settings.year_label(settings.baseline_year)}）",
        *(year.wareki for year in years[1:]),
    ]
    names = ["事業番号", "数値目標", "担当課", "単位", *labels, "目標値"]
    sheet.write_string(0, 0, clean_text(f"{settings.plan_name}　数値目標の推移"), bold)
    for column, name in enumerate(names):
        sheet.write_string(2, column, name, header)
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 2, 18)
    sheet.set_column(3, len(names) - 1, 10)
    first_year, last_year = 4, 4 + len(years) - 1
    target_column = last_year + 1
    rows_of: dict[int, list[int]] = {}
    for offset, line in enumerate(lines, start=3):
        project = line.project
        sheet.write_number(offset, 0, project.no, text)
        sheet.write_string(offset, 1, clean_text(project.indicator or ""), text)
        sheet.write_string(offset, 2, clean_text(line.entry.name), text)
        sheet.write_string(offset, 3, clean_text(project.unit or ""), text)
        for column, value in enumerate(line.values, start=first_year):
            if value is None:
                sheet.write_blank(offset, column, None, number)
            else:
                sheet.write_number(offset, column, value, number)
        target = project.target.number if project.target is not None else None
        if target is not None:
            sheet.write_number(offset, target_column, float(target), number)
        else:
            sheet.write_blank(offset, target_column, None, number)
        rows_of.setdefault(project.no, []).append(offset)
    # A hidden block repeats each target across the years: a dashed series draws it as a line.
    helper = 3 + len(lines) + 2
    charts = 0
    top = helper + len(rows_of) + 2
    by_no = {line.project.no: line.project for line in lines}
    for index, (no, rows) in enumerate(rows_of.items()):
        project = by_no[no]
        chart = book.add_chart({"type": "line"})
        for row in rows:
            chart.add_series({
                "name": [SHEET, row, 2],
                "categories": [SHEET, 2, first_year, 2, last_year],
                "values": [SHEET, row, first_year, row, last_year],
                "marker": {"type": "circle", "size": 6},
            })  # fmt: skip
        described = chart_description(project, years, [lines[r - 3] for r in rows])
        if project.target is not None and project.target.number is not None:
            target_row = helper + index
            for column in range(first_year, last_year + 1):
                sheet.write_number(target_row, column, float(project.target.number))
            sheet.set_row(target_row, None, None, {"hidden": True})
            chart.add_series({
                "name": f"目標値（{project.target_year.wareki}）" if project.target_year else "目標値",
                "categories": [SHEET, 2, first_year, 2, last_year],
                "values": [SHEET, target_row, first_year, target_row, last_year],
                "line": {"dash_type": "dash", "color": "#C00000"},
                "marker": {"type": "none"},
            })  # fmt: skip
        chart.set_title(
            {"name": clean_text(f"{project.no} {project.indicator}")[:250], "name_font": {"size": 11}}
        )
        chart.set_y_axis({"name": project.unit or "", "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
        row, column = top + (index // 2) * CHART_ROWS, 0 if index % 2 == 0 else 5
        sheet.insert_chart(row, column, chart, {"description": described[:255]})
        charts += 1
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    # Two rows of charts a page, never a chart cut in two; the table above has pages of its own.
    chart_rows = (charts + 1) // 2
    sheet.set_h_pagebreaks([top + band * 2 * CHART_ROWS for band in range(0, (chart_rows + 1) // 2)])
    return charts


def chart_description(project: Project, years: Sequence[FiscalYear], lines: Sequence[Line]) -> str:
    """A chart's text alternative: what it plots, in words (the workbook's chart, the HTML twin's figure)."""
    parts = []
    for line in lines:
        points = "、".join(
            f"{year.wareki} {_shown(value)}{project.unit or ''}" for year, value in zip(years, line.values, strict=True)
            if value is not None
        )  # fmt: skip
        parts.append(f"{line.entry.name}: {points}")
    target = ""
    if project.target is not None and project.target.number is not None:
        target = f"。目標値 {_shown(float(project.target.number))}{project.unit or ''}"
    return f"事業番号 {project.no}「{project.indicator}」の推移。" + "／".join(parts) + target


def _shown(value: float) -> str:
    return f"{value:,.10g}"
