"""推移: how each 数値目標 moved over the years, as native Excel charts beside their numbers.

The last sheet of the consolidated workbook holds a table — one row per entry of a project with a
数値目標: the baseline, every year the history holds, this year, the target — and one line chart per
project drawn from that table with XlsxWriter's chart API, so Excel and LibreOffice draw (and print)
them from the cells. The baseline is the first point, labelled with its year; the target is a
dashed line at its value. Each chart carries a text alternative saying what it shows.

A chart holds at most :data:`MAX_CHART_LINES` entries: more lines than that cannot be told apart
(and Excel refuses a chart of more than 255 series). A project with more entries keeps its rows in
the table and gets a note in place of its chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from xlsxwriter.workbook import Workbook

from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.grading import direction_of
from xlplan.plan.model import Entry, Project
from xlplan.plan.values import Value, excel_decimal, format_number
from xlplan.publish.table import EntryYears, ProjectBlock, Table, history_years
from xlplan.xlsx import fast
from xlplan.xlsx.cells import clean_text
from xlplan.xlsx.text import estimate_lines, lines_height, text_height

SHEET = "推移"
CHART_ROWS = 16  # rows a chart takes, with a gap
CHART_WIDTH, CHART_HEIGHT = 520, 288  # pixels: two charts side by side on an A4 landscape page
HEADER_SIZE = 11  # points: XlsxWriter's default font, which the 推移 sheet's formats keep
MAX_CHART_LINES = 10
"""The most entries one chart draws; a legend of more lines is no longer readable."""


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
    # The table's rows hold the years it prints already; only other years are looked up.
    printed = {year: index for index, year in enumerate(settings.earlier_years)}
    history: EntryYears | None = None
    lines = []
    for section in table.sections:
        for item in section.items:
            if not isinstance(item, ProjectBlock) or not item.project.indicator:
                continue
            project = item.project
            for row in item.rows:
                values: list[Value] = [project.baseline]
                for year in years[1:-1]:
                    if year == settings.previous_year:
                        values.append(row.previous)
                    elif year in printed and printed[year] < len(row.earlier):
                        values.append(row.earlier[printed[year]])
                    else:
                        history = history or EntryYears(plan)
                        values.append(history.past(project, row.entry, year, None))
                values.append(row.current)
                numbers = tuple(float(v.number) if v.number is not None else None for v in values)
                if sum(number is not None for number in numbers) >= 2:  # a trend needs two points
                    lines.append(Line(project, row.entry, numbers))
    return years, lines


def by_project(lines: Sequence[Line]) -> tuple[list[list[Line]], list[list[Line]]]:
    """The lines grouped by project, in table order: (projects charted, projects with too many entries)."""
    groups: dict[int, list[Line]] = {}
    for line in lines:
        groups.setdefault(line.project.no, []).append(line)
    charted = [group for group in groups.values() if len(group) <= MAX_CHART_LINES]
    omitted = [group for group in groups.values() if len(group) > MAX_CHART_LINES]
    return charted, omitted


def omitted_note(project: Project, entries: int) -> str:
    """What stands in place of the chart of a project with too many entries to draw."""
    return (
        f"事業番号 {project.no}「{project.indicator}」は担当課の行が{entries:,}行あり、1つのグラフで見分けられる"
        f"{MAX_CHART_LINES}行を超えるため、グラフを省略しました。値は上の表にあります。"
    )


def add_trends(book: Workbook, table: Table) -> int:
    """Add the 推移 sheet to ``book`` (before it is closed); returns the number of charts drawn.

    No sheet is added when no 数値目標 has two years of numbers; a sheet whose projects all have too
    many entries to draw holds the table and the notes, and no chart.
    """
    years, lines = trend_lines(table)
    if not lines:
        return 0
    settings = table.plan.settings
    sheet = book.add_worksheet(SHEET, worksheet_class=fast.table_sheet_class())
    bold = book.add_format({"bold": True, "font_size": 12})
    header = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "align": "center"}
    )
    text = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    number = book.add_format({"border": 1, "num_format": "#,##0.###", "valign": "top"})
    # Excel shows a whole number under #,##0.### with a trailing point (172.): whole numbers get #,##0.
    whole = book.add_format({"border": 1, "num_format": "#,##0", "valign": "top"})
    labels = [
        f"現状値（{settings.year_label(settings.baseline_year)}）",
        *(year.wareki for year in years[1:]),
    ]
    # Where the plan sets targets: 目標年度 and 方向 too, what the chart cannot say and what init --from
    # reads a target back from. A plan without targets gets no empty columns for them.
    targeted = table.plan.has_targets
    names = [
        "事業番号",
        "数値目標",
        "担当課",
        "単位",
        *labels,
        *(["目標値", "目標年度", "方向"] if targeted else []),
    ]
    sheet.write_string(0, 0, clean_text(f"{settings.plan_name}　数値目標の推移"), bold)
    for column, name in enumerate(names):
        sheet.write_string(2, column, name, header)
    widths = [8, 44, 18, *[10] * (len(names) - 3)]  # 数値目標 of twenty characters on one line
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    # A header such as 現状値（27年度） wraps in its column: the row is as tall as the tallest.
    sheet.set_row(
        2, max(text_height(name, width, HEADER_SIZE) for name, width in zip(names, widths, strict=True))
    )
    first_year, last_year = 4, 4 + len(years) - 1
    target_column = last_year + 1
    row_of: dict[int, int] = {}  # id(line) → its row of the sheet
    put_string, put_number, put_blank = fast.cell_writers(sheet)  # a row per entry: thousands of cells
    for offset, line in enumerate(lines, start=3):
        project = line.project
        row_of[id(line)] = offset
        put_number(offset, 0, project.no, text)
        put_string(offset, 1, clean_text(project.indicator or ""), text)
        put_string(offset, 2, clean_text(line.entry.name), text)
        put_string(offset, 3, clean_text(project.unit or ""), text)
        # Wrapped text needs a taller row (LibreOffice and print do not grow one).
        needed = max(
            estimate_lines(project.indicator or "", widths[1], HEADER_SIZE),
            estimate_lines(line.entry.name, widths[2], HEADER_SIZE),
        )
        if needed > 1:
            sheet.set_row(offset, lines_height(needed, HEADER_SIZE))
        for column, value in enumerate(line.values, start=first_year):
            if value is None:
                put_blank(offset, column, None, number)
            else:
                put_number(offset, column, value, whole if float(value).is_integer() else number)
        if not targeted:
            continue
        target = project.target.number if project.target is not None else None
        if target is not None:
            put_number(offset, target_column, float(target), whole if float(target).is_integer() else number)
        else:
            put_blank(offset, target_column, None, number)
        for column, said in enumerate(_target_words(project), start=target_column + 1):
            if said:
                put_string(offset, column, said, text)
            else:
                put_blank(offset, column, None, text)
    charted, omitted = by_project(lines)
    below = 3 + len(lines) + 1
    # Each note across the whole table, wrapped: text spilling past the last column is not printed.
    noted = book.add_format({"text_wrap": True, "valign": "top"})
    for group in omitted:
        note = clean_text(omitted_note(group[0].project, len(group)))
        sheet.merge_range(below, 0, below, len(names) - 1, note, noted)
        sheet.set_row(below, text_height(note, sum(widths), HEADER_SIZE))
        below += 1
    # A hidden block repeats each target across the years: a dashed series draws it as a line.
    helper = below + 1
    charts = 0
    top = helper + len(charted) + 2
    for index, group in enumerate(charted):
        project = group[0].project
        chart = book.add_chart({"type": "line"})
        for line in group:
            row = row_of[id(line)]
            chart.add_series({
                "name": [SHEET, row, 2],
                "categories": [SHEET, 2, first_year, 2, last_year],
                "values": [SHEET, row, first_year, row, last_year],
                "marker": {"type": "circle", "size": 6},
            })  # fmt: skip
        described = chart_description(project, years, group)
        # The chart's helper row, hidden whether or not it holds a target line: visible and empty, the
        # helper rows pushed the first charts past the table's page and left a blank page before them.
        target_row = helper + index
        sheet.set_row(target_row, None, None, {"hidden": True})
        if project.target is not None and project.target.number is not None:
            for column in range(first_year, last_year + 1):
                sheet.write_number(target_row, column, float(project.target.number))
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
        # A unit (人, 件, %) reads upright, stacked, as Japanese vertical text does; rotated it lies on its side.
        chart.set_y_axis(
            {"name": project.unit or "", "name_font": {"rotation": 270}, "major_gridlines": {"visible": True}}
        )
        chart.set_legend({"position": "bottom"})
        chart.show_hidden_data()  # the target line's cells are in hidden rows: Excel skips those by default
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


def _target_words(project: Project) -> tuple[str, str]:
    """A target's 目標年度 and 方向 as the 推移 table prints them (the direction the grades use)."""
    if project.target is None or project.target.number is None:
        return "", ""
    year = project.target_year.wareki if project.target_year is not None else ""
    return year, project.direction or direction_of(project.baseline, project.target) or ""


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
    """A value as people read it aloud: grouped, fixed point (12,345,678,901, never 1.23e+10)."""
    number = excel_decimal(value)
    return format_number(
        Decimal(int(number)) if number == number.to_integral_value() else number
    )  # 172, not 172.0
