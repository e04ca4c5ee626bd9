"""Write the consolidated table (事業実績一覧) as an .xlsx in the layout of the seed.

One sheet per top-level node (基本目標), so that each starts on a new printed
page and its own heading block stays above its rows; each sheet has:

====  =====================================================================
row   content
====  =====================================================================
1     the title (設定の表題) and, at the right, the document label (資料 1-3)
2     the goal heading with its subtitle
3     体系一覧（計画名） and, at the right, the slogan
4–5   the two-row table header, repeated at the top of every printed page
6…    heading rows of the lower levels (施策の方向, 基本事業) and project rows
====  =====================================================================

Columns: one per level between the top and the projects (the project number is
printed in the last of them, as the seed prints it under 基本事業; a plan with
no such level gets a 番号 column), then 事業 (description and 【数値目標】),
担当課, 現状値, 前年度, 今年度 and the narrative. A project's own cells (number,
description, 現状値) are merged over its department rows.

The writer is XlsxWriter. Department text is only ever written as a string, in a
workbook opened with ``strings_to_formulas`` off, so no text can become a formula;
text Excel would read as one if retyped also gets the quote prefix. Every value
written is folded into a checksum that :func:`xlplan.publish.parallel.read_back_checksum`
recomputes from the file with a second reader. Writing the sheets, in one process
or two, is :mod:`xlplan.publish.parallel`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from xlplan.plan.model import Node, Plan, Project, Settings
from xlplan.plan.values import Value
from xlplan.publish.table import EntryRow, Heading, ProjectBlock, Section, Table
from xlplan.publish.template import ReportStyle
from xlplan.xlsx import fast
from xlplan.xlsx.cells import clean_text, excel_number, looks_like_formula, sheet_title
from xlplan.xlsx.text import (
    MAX_ROW_HEIGHT,
    ROW_PADDING_PT,
    estimate_lines,
    line_spacing,
    lines_height,
    units_per_line,
    wrapped_lines,
)

HEADER_FIRST = 3  # 0-based rows of the two-row table header (rows 4 and 5 in Excel)
HEADER_SECOND = 4
FIRST_DATA_ROW = 5
MAX_TEXT = 32767  # Excel's limit on a cell's text
RATE_FORMAT = '#,##0.0"%"'  # 達成率: a literal %, as the reason prints it (82.4%, 2,336.6%)

MASK = (1 << 64) - 1
"""Checksums are sums of cell hashes modulo 2**64."""


@dataclass(frozen=True)
class Layout:
    """Column positions (0-based) of the table for a plan with ``levels``."""

    level_columns: int  # columns for the levels between the top and the projects
    earlier: int = 0  # columns for the years before the previous one (表示する過去の年度数 − 1 at most)
    graded: bool = False  # 達成率・評価・評価の理由 after the narrative (a plan with targets)

    @property
    def number(self) -> int:
        """The column printing the project number."""
        return max(self.level_columns - 1, 0)

    @property
    def description(self) -> int:
        """事業: description and indicator."""
        return max(self.level_columns, 1)

    @property
    def department(self) -> int:
        """担当課."""
        return self.description + 1

    @property
    def baseline(self) -> int:
        """現状値."""
        return self.description + 2

    @property
    def earlier_columns(self) -> range:
        """The 実績値 of the years before the previous one, oldest first."""
        return range(self.description + 3, self.description + 3 + self.earlier)

    @property
    def previous(self) -> int:
        """前年度の実績値."""
        return self.description + 3 + self.earlier

    @property
    def current(self) -> int:
        """今年度の実績値."""
        return self.previous + 1

    @property
    def narrative(self) -> int:
        """今年度の実績（事業の内容・取り組み状況）."""
        return self.previous + 2

    @property
    def grading(self) -> tuple[int, int, int]:
        """達成率, 評価 and 評価の理由, right of the narrative (written where the layout is graded)."""
        return self.narrative + 1, self.narrative + 2, self.narrative + 3

    @property
    def last(self) -> int:
        """The last column."""
        return self.narrative + 3 if self.graded else self.narrative

    def headers(self, settings: Settings) -> tuple[list[str], list[str]]:
        """The two header rows' texts, with level names and year labels from the settings."""
        levels = settings.levels
        first = list(levels[1:-1]) if self.level_columns else ["番号"]
        if self.level_columns == 1:
            # The one level column also holds the project numbers (with more level columns the
            # numbers sit under the last, as the seed prints them under 基本事業): say both.
            first[0] = f"{levels[1]}\n{levels[-1]}番号"
        first += [levels[-1], "担当課", "現状値", *["実績値"] * self.earlier, "実績値", "①実績値"]
        first += [f"②{settings.current_year.wareki}実績"]
        if self.graded:
            first += ["達成率", "評価", "評価の理由"]
        # The latest ``earlier`` of the settings' earlier years (all of them, as layout_for makes it).
        shown_earlier = settings.earlier_years[len(settings.earlier_years) - self.earlier :]
        second = [""] * (self.department + 1) + [
            settings.year_label(settings.baseline_year),
            *(settings.year_label(year) for year in shown_earlier),
            settings.year_label(settings.previous_year),
            settings.year_label(settings.current_year),
            "（事業の内容・取り組み状況）",
        ]
        if self.graded:
            second += [f"（{settings.year_label(settings.current_year)}）", "（評価基準）", ""]
        return first, second


def layout_for(plan: Plan) -> Layout:
    """The column layout for a plan: one column per level between the top and the projects."""
    return Layout(max(len(plan.levels) - 2, 0), len(plan.settings.earlier_years), plan.has_targets)


def sheet_names(table: Table) -> list[str]:
    """The sheet names, one per section: ``基本目標Ⅰ`` … (unique, valid in Excel)."""
    settings = table.plan.settings
    names: list[str] = []
    for section in table.sections:
        base = sheet_title(
            f"{settings.levels[0]}{section.node.number}" if section.node else settings.title or "事業実績一覧"
        )
        name, number = base, 1
        while name in names:
            number += 1
            name = sheet_title(f"{base[:27]}({number})")
        names.append(name)
    return names


def unit_format(value: Value) -> str:
    """The number format that shows a number with its unit: ``#,##0"人"``, ``#,##0.0"%"``.

    The unit is quoted text, so ``%`` is printed as typed rather than multiplying by 100;
    the decimals are the ones typed (1.6% keeps one, 75% none).
    """
    decimals = 0
    if value.number is not None:
        exponent = value.number.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    unit = (value.unit or "").replace('"', "")
    return "#,##0" + ("." + "0" * decimals if decimals else "") + (f'"{unit}"' if unit else "")


def cell_text(text: str) -> str:
    """Text as a cell holds it: no XML-illegal characters, ``\\n`` line breaks, within Excel's limit."""
    cleaned = clean_text(text).replace("\r\n", "\n").replace("\r", "\n")
    return cleaned[:MAX_TEXT]


def _heading_text(node: Node) -> str:
    return f"{node.number} {node.title}" + (f" {node.subtitle}" if node.subtitle else "")


def _description(project: Project) -> str:
    return project.description + (f"\n【数値目標】{project.indicator}" if project.indicator else "")


class UnforeseenFormat(Exception):
    """A format or text a second process needed that the first did not number beforehand."""


class TableWriter:
    """Writes one workbook; keeps the format cache and the checksum of what was written."""

    def __init__(self, table: Table, style: ReportStyle, path: Path) -> None:
        self.table = table
        self.style = style
        self.layout = layout_for(table.plan)
        # Strings are never turned into formulas or links whichever method writes them.
        self.book = fast.table_workbook(
            str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        )
        self.formats: dict[tuple[str, str | None, bool], Format] = {}
        self.checksum = 0
        self.sheet_index = 0
        self.departments: dict[str, tuple[str, Format, float]] = {}
        self.frozen = False  # True in a second process: a new format there would be missing from styles.xml
        self.widths = self._widths()
        # Per role: font size and line spacing, for the row heights of its cells.
        self.line_spacing = {
            role: (style.font_size(role), line_spacing(str(properties.get("font_name", ""))))
            for role, properties in style.formats.items()
        }
        self.value_formats: dict[tuple[str, str | None, int | str], Format] = {}

    def _widths(self) -> list[float]:
        style, layout = self.style, self.layout
        widths: list[float] = []
        for column in range(layout.level_columns):
            if column == layout.number:
                widths.append(style.widths["no"])  # the number shares the last level column
            else:
                widths.append(style.widths["level1" if column == 0 else "level2"])
        if not layout.level_columns:
            widths.append(style.widths["no"])
        widths += [style.widths[role] for role in ("description", "department", "baseline")]
        widths += [style.widths["previous"]] * (layout.earlier + 1)
        widths += [style.widths["current"], style.widths["narrative"]]
        if layout.graded:  # no samples of their own in the template: sized from the nearest kinds
            widths += [style.widths["current"], style.widths["department"], style.widths["narrative"] * 0.6]
        return widths

    def fmt(self, role: str, num_format: str | None = None, quote: bool = False) -> Format:
        key = (role, num_format, quote)
        found = self.formats.get(key)
        if found is None:
            if self.frozen:
                raise UnforeseenFormat(key)
            properties: dict[str, Any] = dict(self.style.formats[role])
            if num_format is not None:
                properties["num_format"] = num_format
            if quote:
                properties["quote_prefix"] = True
            found = self.formats[key] = self.book.add_format(properties)
        return found

    def _note(self, row: int, column: int, value: str | float) -> None:
        self.checksum = (self.checksum + hash((self.sheet_index, row, column, value))) & MASK

    def text(self, sheet: Worksheet, row: int, column: int, text: str | None, role: str) -> None:
        cleaned = cell_text(text) if text else ""
        if not cleaned:
            sheet.write_blank(row, column, None, self.fmt(role))
            return
        sheet.write_string(row, column, cleaned, self.fmt(role, quote=looks_like_formula(cleaned)))
        self._note(row, column, cleaned)

    def value(self, sheet: Worksheet, row: int, column: int, value: Value, role: str) -> None:
        if value.number is not None:
            number = excel_number(value.number)
            sheet.write_number(row, column, number, self.fmt(role, unit_format(value)))
            self._note(row, column, number)
        elif value.mark is not None:
            sheet.write_string(row, column, value.mark.value, self.fmt(role))
            self._note(row, column, value.mark.value)
        else:
            sheet.write_blank(row, column, None, self.fmt(role))

    def merge(self, sheet: Worksheet, rows: tuple[int, int], columns: tuple[int, int], fmt: Format) -> None:
        # Merged empty; the caller writes the first cell's value with write_string / write_number.
        if columns[0] == columns[1] and rows[0] != rows[1]:  # down one column (never overlapping)
            fast.merge_column(sheet, rows[0], rows[1], columns[0], fmt)
        elif rows[0] != rows[1] or columns[0] != columns[1]:
            sheet.merge_range(rows[0], columns[0], rows[1], columns[1], "", fmt)

    def merged_text(
        self, sheet: Worksheet, rows: tuple[int, int], columns: tuple[int, int], text: str | None, role: str
    ) -> None:
        cleaned = cell_text(text) if text else ""
        fmt = self.fmt(role, quote=looks_like_formula(cleaned))
        self.merge(sheet, rows, columns, fmt)
        self.text(sheet, rows[0], columns[0], text, role)

    def width(self, first: int, last: int) -> float:
        return sum(self.widths[first : last + 1]) + 0.7 * (last - first)

    def height(self, text: str | None, first: int, last: int, role: str) -> float:
        if not text:
            return 0.0
        size = self.style.font_size(role)
        lines = estimate_lines(cell_text(text), self.width(first, last), size)
        return lines_height(lines, size, str(self.style.formats[role].get("font_name", "")))

    # -- one sheet -------------------------------------------------------------------------

    def add_sheet(self, name: str) -> Worksheet:
        """A sheet of the table with its columns and print setup, still empty."""
        sheet: Worksheet = self.book.add_worksheet(name, worksheet_class=fast.table_sheet_class())
        for column, width in enumerate(self.widths):
            sheet.set_column(column, column, width)
        self._page(sheet)
        return sheet

    def register_formats(self) -> None:
        """Create every format the table will use and fix their style indices, in a set order.

        XlsxWriter numbers styles in the order cells first use them; a sheet written in
        a second process must refer to the same numbers as the styles this process writes.
        """
        for role in self.style.formats:
            self.fmt(role)
            self.fmt(role, quote=True)
        self.fmt("no", "0")
        if self.layout.graded:
            self.fmt("current", RATE_FORMAT)
        for section in self.table.sections:
            for item in section.items:
                if isinstance(item, ProjectBlock):
                    if item.project.baseline.number is not None:
                        self.fmt("baseline", unit_format(item.project.baseline))
                    for row in item.rows:
                        pairs = [("previous", value) for value in (*row.earlier, row.previous)]
                        for role, value in (*pairs, ("current", row.current)):
                            if value.number is not None:
                                self._value_format(role, value)
        fast.number_styles(self.formats.values())

    def section(self, sheet: Worksheet, section: Section) -> None:
        """Write one section (基本目標) into its sheet."""
        layout, style, settings = self.layout, self.style, self.table.plan.settings
        last = layout.last

        # Heading block.
        self.merged_text(sheet, (0, 0), (0, last - 1), settings.title, "title")
        self.text(sheet, 0, last, settings.document_label, "label")
        goal = self._goal(section)
        self.merged_text(sheet, (1, 1), (0, last), goal, "goal")
        self.merged_text(
            sheet, (2, 2), (0, layout.department), f"体系一覧（{settings.plan_name}）", "plan_line"
        )
        self.merged_text(sheet, (2, 2), (layout.baseline, last), settings.slogan, "slogan")
        for row, role in ((0, "title"), (1, "goal"), (2, "plan_line")):
            needed = max(
                style.heights.get(role, style.default_height),
                self.height(goal if row == 1 else None, 0, last, role),
            )
            sheet.set_row(row, needed)

        first, second = layout.headers(settings)
        for column in range(last + 1):
            if column <= layout.department:
                self.merged_text(
                    sheet, (HEADER_FIRST, HEADER_SECOND), (column, column), first[column], "header"
                )
            else:
                self.text(sheet, HEADER_FIRST, column, first[column], "header")
                self.text(sheet, HEADER_SECOND, column, second[column], "header_year")
        sheet.set_row(HEADER_FIRST, style.heights.get("header", style.default_height))
        sheet.set_row(HEADER_SECOND, style.heights.get("header_year", style.default_height))

        row = FIRST_DATA_ROW
        for item in section.items:
            if isinstance(item, Heading):
                row = self._heading(sheet, row, item)
            else:
                row = self._project(sheet, row, item)

    def _goal(self, section: Section) -> str:
        node, settings = section.node, self.table.plan.settings
        if node is None:
            return ""
        return f"{settings.levels[0]}{node.number} {node.title}" + (
            f" {node.subtitle}" if node.subtitle else ""
        )

    def texts(self, indices: list[int]) -> Iterator[str]:
        """Each text the sections ``indices`` will write (and a few blanks), cleaned, once, in order of first use."""
        settings = self.table.plan.settings
        (first, second), seen = self.layout.headers(settings), set[str]()
        block = [
            settings.title,
            settings.document_label,
            f"体系一覧（{settings.plan_name}）",
            settings.slogan,
        ]
        block += first + second
        for index in indices:
            section = self.table.sections[index]
            items: list[str | None] = [*block, self._goal(section)]
            for item in section.items:
                if isinstance(item, Heading):
                    items.append(_heading_text(item.node))
                    continue
                items.append(_description(item.project))
                items.append(item.project.baseline.mark.value if item.project.baseline.mark else None)
                for row in item.rows:
                    items += (row.entry.name, row.narrative)
                    shown = (*row.earlier, row.previous, row.current)
                    items += (value.mark.value for value in shown if value.mark)
                    if row.achievement is not None and self.layout.graded:
                        items += (row.achievement.grade, row.achievement.reason)
            for text in items:
                if text and text not in seen:  # department names and marks come back on every row
                    seen.add(text)
                    yield cell_text(text)

    def _page(self, sheet: Worksheet) -> None:
        page = self.style.page
        if page.landscape:
            sheet.set_landscape()
        else:
            sheet.set_portrait()
        sheet.set_paper(page.paper)
        if page.fit_width is not None:
            sheet.fit_to_pages(page.fit_width, page.fit_height or 0)
        elif page.scale:
            sheet.set_print_scale(page.scale)
        left, right, top, bottom = page.margins
        sheet.set_margins(left=left, right=right, top=top, bottom=bottom)
        if page.header:
            sheet.set_header(page.header, {"margin": page.header_margin})
        if page.footer:
            sheet.set_footer(page.footer, {"margin": page.footer_margin})
        if page.center_horizontally:
            sheet.center_horizontally()
        sheet.repeat_rows(HEADER_FIRST, HEADER_SECOND)
        sheet.freeze_panes(FIRST_DATA_ROW, 0)

    def _heading(self, sheet: Worksheet, row: int, heading: Heading) -> int:
        node, last = heading.node, self.layout.last
        column = min(node.level - 1, max(self.layout.level_columns - 1, 0))
        role = "level1" if node.level == 1 else "level2"
        for gutter in range(column):
            sheet.write_blank(row, gutter, None, self.fmt("gutter"))
        text = _heading_text(node)
        self.merged_text(sheet, (row, row), (column, last), text, role)
        sheet.set_row(
            row,
            max(
                self.style.heights.get(role, self.style.default_height), self.height(text, column, last, role)
            ),
        )
        return row + 1

    def _project(self, sheet: Worksheet, top: int, block: ProjectBlock) -> int:
        # The innermost loop of a table of a hundred thousand rows: formats, column
        # measures and department names are looked up once, and the checksum is summed
        # in a local (masked once) — the same cells and checksum as text() and value().
        layout, project, style = self.layout, block.project, self.style
        bottom = top + max(len(block.rows), 1) - 1
        span = (top, bottom)
        for gutter in range(layout.number):
            fast.blank_column(sheet, top, bottom, gutter, self.fmt("gutter"))
        number_format = self.fmt("no", "0")
        if bottom > top:
            fast.merge_column(sheet, top, bottom, layout.number, number_format)
        sheet.write_number(top, layout.number, project.no, number_format)
        self._note(top, layout.number, float(project.no))
        description = _description(project)
        self.merged_text(sheet, span, (layout.description, layout.description), description, "description")
        baseline_format = self.fmt(
            "baseline", unit_format(project.baseline) if project.baseline.number is not None else None
        )
        self.merge(sheet, span, (layout.baseline, layout.baseline), baseline_format)
        self.value(sheet, top, layout.baseline, project.baseline, "baseline")

        index = self.sheet_index
        department_column, narrative_column = layout.department, layout.narrative
        previous_column, current_column = layout.previous, layout.current
        narrative_format, narrative_quoted = self.fmt("narrative"), self.fmt("narrative", quote=True)
        narrative_per_line = units_per_line(self.widths[narrative_column], style.font_size("narrative"))
        narrative_size, narrative_spacing = self.line_spacing["narrative"]
        default_height = style.default_height
        departments = self.departments
        cells = fast.cell_writers(sheet)
        write_string, write_blank = cells.string, cells.blank
        earlier_columns, reason_column, reason_heights = layout.earlier_columns, layout.grading[2], {}
        checksum = 0
        heights = []
        for row, entry_row in enumerate(block.rows, start=top):
            name = entry_row.entry.name
            known = departments.get(name)
            if known is None:
                known = departments[name] = self._department(name)
            cleaned, name_format, height = known
            if cleaned:
                write_string(row, department_column, cleaned, name_format)
                checksum += hash((index, row, department_column, cleaned))
            else:
                write_blank(row, department_column, None, name_format)
            for column, value in zip(earlier_columns, entry_row.earlier, strict=False):
                checksum += self._value(cells, row, column, value, "previous")
            checksum += self._value(cells, row, previous_column, entry_row.previous, "previous")
            checksum += self._value(cells, row, current_column, entry_row.current, "current")
            narrative = entry_row.narrative
            cleaned = cell_text(narrative) if narrative else ""
            if cleaned:
                quoted = looks_like_formula(cleaned)
                write_string(row, narrative_column, cleaned, narrative_quoted if quoted else narrative_format)
                checksum += hash((index, row, narrative_column, cleaned))
            else:
                write_blank(row, narrative_column, None, narrative_format)
            if narrative:
                lines = wrapped_lines(cleaned, narrative_per_line)
                height = max(height, lines * narrative_size * narrative_spacing + ROW_PADDING_PT)
            if layout.graded:
                checksum += self._graded(cells, row, entry_row)
                reason = entry_row.achievement.reason if entry_row.achievement else None
                if reason:  # a few reasons over many rows: each is measured once
                    if reason not in reason_heights:
                        reason_heights[reason] = self.height(
                            reason, reason_column, reason_column, "narrative"
                        )
                    height = max(height, reason_heights[reason])
            heights.append(max(default_height, height))
        self.checksum = (self.checksum + checksum) & MASK
        if not heights:
            heights = [default_height]
        # Excel does not grow rows for merged cells, so the rows under the merged
        # description share whatever it needs beyond their own text.
        needed = self.height(description, layout.description, layout.description, "description")
        shortfall = needed - sum(heights)
        if shortfall > 0:
            heights = [height + shortfall / len(heights) for height in heights]
        for row, height in enumerate(heights, start=top):
            sheet.set_row(row, min(height, MAX_ROW_HEIGHT))
        return bottom + 1

    def _graded(self, cells: fast.CellWriters, row: int, entry_row: EntryRow) -> int:
        """Write a row's 達成率, 評価 and 評価の理由 (blank for a project without a target); returns their checksum."""
        (rate_column, grade_column, reason_column), graded = self.layout.grading, entry_row.achievement
        checksum = 0
        if graded is not None and graded.rate is not None:
            rate = float(graded.rate)
            cells.number(row, rate_column, rate, self.fmt("current", RATE_FORMAT))
            checksum += hash((self.sheet_index, row, rate_column, rate))
        else:
            cells.blank(row, rate_column, None, self.fmt("current"))
        for column, text, role in (
            (grade_column, graded.grade if graded else None, "department"),
            (reason_column, graded.reason if graded else None, "narrative"),
        ):
            cleaned = cell_text(text) if text else ""
            if cleaned:
                cells.string(row, column, cleaned, self.fmt(role, quote=looks_like_formula(cleaned)))
                checksum += hash((self.sheet_index, row, column, cleaned))
            else:
                cells.blank(row, column, None, self.fmt(role))
        return checksum

    def _value_format(self, role: str, value: Value) -> Format:
        """``fmt(role, unit_format(value))`` for a number, cached by unit and decimals."""
        assert value.number is not None
        key = (role, value.unit, value.number.as_tuple().exponent)
        found = self.value_formats.get(key)
        if found is None:
            found = self.value_formats[key] = self.fmt(role, unit_format(value))
        return found

    def _department(self, name: str) -> tuple[str, Format, float]:
        """A department cell's text, format and the row height it needs (names repeat in every project)."""
        cleaned = cell_text(name) if name else ""
        column = self.layout.department
        return (
            cleaned,
            self.fmt("department", quote=looks_like_formula(cleaned)),
            self.height(name, column, column, "department"),
        )

    def _value(self, cells: fast.CellWriters, row: int, column: int, value: Value, role: str) -> int:
        """Write ``value`` as :meth:`value` does (``cells``: :func:`fast.cell_writers`); returns its checksum term."""
        number = value.number
        if number is not None:
            as_float = excel_number(number)
            cells.number(row, column, as_float, self._value_format(role, value))
            return hash((self.sheet_index, row, column, as_float))
        if value.mark is not None:
            cells.string(row, column, value.mark.value, self.fmt(role))
            return hash((self.sheet_index, row, column, value.mark.value))
        cells.blank(row, column, None, self.fmt(role))
        return 0

    def close(self) -> None:
        try:
            self.book.close()
        except FileCreateError as exc:  # XlsxWriter's wrapper: the OSError inside says why
            raise exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc)) from exc
