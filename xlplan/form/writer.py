"""Writing one department's workbook (回答票) with XlsxWriter.

The layout is :mod:`xlplan.form.layout` (the contract with collection) and the rows
are :mod:`xlplan.form.rows`. :func:`render_workbook` writes the 回答 sheet with locked
grey context and unlocked yellow input cells, input rules, number formats that show
the unit, protection and print setup; the 記入方法 sheet (:mod:`xlplan.form.guide`);
and the signed manifest in the very hidden ``_xlplan`` sheet.

XlsxWriter writes a new file quickly and exactly (no template to load), which is
what lets distribution scale to thousands of departments; every text from the
plan goes through ``write_string`` so that it can never become a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from xlplan.form import layout, manifest
from xlplan.form.guide import write_guide_sheet
from xlplan.form.layout import Column, InputRule
from xlplan.form.rows import ResponseRow, WorkbookRequest
from xlplan.form.style import FONT, FONT_SIZE, TITLE_HEIGHT, Styles
from xlplan.plan.dates import wareki_date
from xlplan.xlsx import fast
from xlplan.xlsx.cells import a1, clean_text
from xlplan.xlsx.text import estimate_lines, lines_height

A4 = 9  # XlsxWriter's paper code


def render_workbook(
    request: WorkbookRequest, *, key: bytes, issued_at: dt.datetime, workspace: str = ""
) -> tuple[bytes, manifest.Manifest]:
    """Write ``request``'s workbook in memory; returns the file's bytes and its signed manifest.

    Args:
        request: the department, its rows and the plan settings.
        key: the workspace's HMAC key (:meth:`Workspace.signing_key`).
        issued_at: when the workbook is issued (manifest and document properties).
        workspace: the workspace id recorded in the manifest (:func:`workspace_id`).
    """
    settings, department, columns = request.settings, request.department, request.columns
    buffer = io.BytesIO()
    workbook = fast.department_workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,  # belt and braces: plan text is written with write_string
            "strings_to_urls": False,
            "default_format_properties": {"font_name": FONT, "font_size": 10},
        },
    )
    workbook.set_properties(
        {
            "title": f"{settings.plan_name} {settings.current_year.wareki}実績 回答票（{department.name}）",
            "author": settings.office or "",
            "company": settings.office or "",
            "comments": "xlplan",
            "created": issued_at.astimezone(dt.timezone.utc).replace(tzinfo=None),
        }
    )
    styles = Styles(workbook)
    rows = _write_response_sheet(workbook, styles, request)
    write_guide_sheet(workbook, styles, request)
    signed, chunks = manifest.sign_and_dump(
        manifest.Manifest(
            plan=settings.plan_name,
            fiscal_year=settings.current_year.western,
            department=department.name,
            round=settings.round,
            template_version=layout.TEMPLATE_VERSION,
            issued_at=issued_at.isoformat(timespec="seconds"),
            columns=tuple(column.key for column in columns),
            rows=tuple(rows),
            workspace_id=workspace,
        ),
        key,
    )
    hidden = workbook.add_worksheet(layout.MANIFEST_SHEET)
    for index, chunk in enumerate(chunks):
        hidden.write_string(index, 0, chunk)
    hidden.very_hidden()
    hidden.protect()
    workbook.close()
    return buffer.getvalue(), signed


def _quoted(unit: str | None) -> str:
    """The unit as a literal of an Excel number format (``"人"``); quotes in it are dropped."""
    return f'"{unit.replace(chr(34), "")}"' if unit else ""


def value_format(unit: str | None, decimals: int) -> str:
    """A number format that shows the unit: ``#,##0"人"`` shows 159人 and stores 159."""
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + _quoted(unit)


def input_format(rule: InputRule) -> str:
    """The number format of a 今年度 value cell.

    Whole counts are numbers shown with separators and their unit (``#,##0"人"``). Every
    other row is a text cell ("@"): it keeps what was typed exactly as the person sees it.
    A number format cannot do that for a ratio: "41.2%" typed into a ``General"%"`` cell is
    stored as 0.412 and shown as "0.412%" by Excel and LibreOffice alike, so the cell would
    neither show nor hold what was meant. Collection reads the text, with or without its unit.
    """
    if rule.kind == "whole":
        return value_format(rule.unit, 0)
    return "@"  # marks, ratios, unitless decimals: "@" also keeps a typed "1" from turning into a number


def _decimals(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _write_response_sheet(
    workbook: xlsxwriter.Workbook, styles: Styles, request: WorkbookRequest
) -> list[manifest.ManifestRow]:
    settings, department, columns = request.settings, request.department, request.columns
    sheet = workbook.add_worksheet(layout.RESPONSE_SHEET)
    sheet.activate()
    position = {column.key: index for index, column in enumerate(columns)}
    value_col = position[layout.CURRENT_VALUE]
    narrative_col = position[layout.CURRENT_NARRATIVE]

    deadline = wareki_date(settings.deadline) if settings.deadline else "（設定なし）"
    contact = " ".join(part for part in (settings.office, settings.office_contact) if part)
    sheet.write_string(
        layout.TITLE_ROW - 1,
        0,
        clean_text(f"{settings.plan_name}　{settings.current_year.wareki}実績 回答票（{department.name}）"),
        styles.title,
    )
    sheet.set_row(layout.TITLE_ROW - 1, TITLE_HEIGHT)
    sheet.write_string(
        layout.INFO_ROW - 1,
        0,
        clean_text(f"回答する課: {department.name}　　締切: {deadline}　　問い合わせ: {contact}"),
        styles.info,
    )
    sheet.write_blank(layout.INFO_ROW, 0, None, styles.swatch)
    sheet.write_string(
        layout.INFO_ROW,
        1,
        "← 黄色のセル（今年度の値・実績内容）だけに記入してください。記入方法は「記入方法」シートにあります。",
        styles.notice,
    )

    header_row = layout.HEADER_ROW - 1
    for index, column in enumerate(columns):
        sheet.write_string(
            header_row, index, column.header, styles.header_input if column.input else styles.header
        )
        sheet.set_column(index, index, column.width)
    sheet.set_row(header_row, 42)

    centered = {layout.ROW_ID, layout.PROJECT_NO, layout.UNIT, layout.BASELINE, layout.PREVIOUS_VALUE}
    # What each prefilled column needs, worked out once per sheet rather than once per cell.
    prefilled = [
        (index, column.key, column.width,
         styles.locked_center if column.key in centered or column.key.startswith(layout.EARLIER_VALUE)
         else styles.locked_text)
        for index, column in enumerate(columns) if not column.input
    ]  # fmt: skip
    inputs = [(column.key, column.width) for column in columns if column.input]
    numbers: dict[tuple[str | None, int], Format] = {}
    manifest_rows: list[manifest.ManifestRow] = []
    write_string, write_number, write_blank = fast.cell_writers(sheet)  # a thousand cells a workbook
    first = layout.FIRST_DATA_ROW - 1
    for offset, row in enumerate(request.rows):
        r = first + offset
        cells = row.cells
        lines = MIN_LINES  # the row's height as row_height() works it out, in the same pass
        canonical: list[str | None] = []  # layout.prefilled(columns, cells), in the same pass
        for index, key, width, style in prefilled:
            value = cells.get(key)
            canonical.append(layout.canonical_cell(value))
            if type(value) is str:  # the commonest cell first
                write_string(r, index, clean_text(value), style)
                lines = max(lines, estimate_lines(value, width, FONT_SIZE))
            elif value is None:
                write_blank(r, index, None, styles.locked_text)
            elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                if key == layout.PROJECT_NO:
                    write_number(r, index, int(value), styles.locked_center)
                    continue
                decimals = _decimals(Decimal(value))
                number_style = numbers.get((row.rule.unit, decimals))
                if number_style is None:
                    number_style = numbers[row.rule.unit, decimals] = styles.number(
                        value_format(row.rule.unit, decimals), input_cell=False
                    )
                write_number(r, index, float(value), number_style)
            else:
                write_string(r, index, clean_text(str(value)), style)
                if isinstance(value, str):
                    lines = max(lines, estimate_lines(value, width, FONT_SIZE))
        for key, width in inputs:  # nothing is prefilled there; should a text be, the row has room for it
            value = cells.get(key)
            if isinstance(value, str):
                lines = max(lines, estimate_lines(value, width, FONT_SIZE))
        sheet.set_row(r, lines_height(lines, FONT_SIZE, FONT))
        write_blank(r, value_col, None, styles.number(input_format(row.rule), input_cell=True))
        write_blank(r, narrative_col, None, styles.input_text)
        manifest_rows.append(
            manifest.ManifestRow(
                row_id=row.row_id,
                row=r + 1,
                project_no=row.project_no,
                entry=row.entry,
                department=row.department,
                prefill_sha256=manifest.prefill_hash(canonical),
            )
        )
    last = first + len(request.rows) - 1
    if request.rows:
        _add_validations(sheet, request.rows, first, value_col, narrative_col)

    # Keep the header and the row id / project number in view while scrolling to the yellow cells.
    sheet.freeze_panes(layout.HEADER_ROW, position[layout.PROJECT_NO] + 1)
    sheet.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True})
    _print_setup(sheet, request, position, header_row, max(last, header_row))
    return manifest_rows


PRINTABLE_MM = 297 - 2 * 0.4 * 25.4  # A4 landscape less the side margins
MIN_PRINT_SCALE = 80  # 10 pt text prints at 8 pt or larger
MAX_HEADER = 250  # Excel's header text is limited to 255 characters
MM_PER_WIDTH = 2.3
"""Printed millimetres per unit of column width at 100 %, as LibreOffice prints 游ゴシック 10 pt
(measured: a width of 50 prints 114 mm); Excel's are a little narrower, so the scale errs small."""


def print_scale(widths: Sequence[float]) -> int:
    """The print scale (%) at which columns of these widths fill the A4 landscape width."""
    millimetres = sum(widths) * MM_PER_WIDTH
    return max(MIN_PRINT_SCALE, min(100, int(100 * PRINTABLE_MM / millimetres)))


def _print_setup(
    sheet: Worksheet, request: WorkbookRequest, position: dict[str, int], header_row: int, last_row: int
) -> None:
    """Print legibly on A4: two pages across per set of rows, never 14 columns squeezed onto one.

    The row id and the level columns are context on screen and are not printed; from the
    project number on, the first page holds what was sent (description to the previous year's
    value), the second the previous year's narrative and the answers; both repeat the number,
    the description and the header row. The scale is fixed so that the wider page fits (text at 8 pt or more):
    fit-to-page would shrink the whole width onto one page and ignore the page break.
    """
    columns = request.columns
    first, split = position[layout.PROJECT_NO], position[layout.PREVIOUS_NARRATIVE]
    repeated = list(range(first, position[layout.DESCRIPTION] + 1))
    pages = [range(first, split), [*repeated, *range(split, len(columns))]]
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    sheet.print_area(header_row, first, last_row, len(columns) - 1)
    sheet.repeat_rows(header_row)
    sheet.repeat_columns(repeated[0], repeated[-1])
    sheet.set_v_pagebreaks([split])
    sheet.print_across()  # each set of rows: what was sent, then the answers, on consecutive pages
    sheet.set_print_scale(min(print_scale([columns[i].width for i in page]) for page in pages))
    title = f"{request.settings.plan_name}　{request.settings.current_year.wareki}実績 回答票"

    def literal(text: str) -> str:  # "&" starts a header code: "&&" prints one
        return clean_text(text).replace("&", "&&")

    sheet.set_header(
        f"&L{literal(title)[: MAX_HEADER // 2]}&R{literal(request.department.name)[: MAX_HEADER // 3]}"
    )
    sheet.set_footer("&C&P / &N")


MIN_LINES = 3  # room to type a narrative without resizing the row first


def row_height(cells: Mapping[str, object], columns: Sequence[Column]) -> float:
    """A row height in points that shows every prefilled text whole, and at least :data:`MIN_LINES` lines.

    Excel would autofit rows without a height, but LibreOffice and printing do not,
    so the height is set (:mod:`xlplan.xlsx.text`); the sheet protection still lets
    people change it.
    """
    lines = MIN_LINES
    for column in columns:
        value = cells.get(column.key)
        if isinstance(value, str):
            lines = max(lines, estimate_lines(value, column.width, FONT_SIZE))
    return lines_height(lines, FONT_SIZE, FONT)


def _validation(rule: InputRule, cell: str) -> dict[str, Any]:
    """XlsxWriter data-validation options for a value cell whose top-left cell is ``cell``.

    One Excel rule cannot accept "a number or one of three marks", so indicator rows
    use a custom formula; IF keeps INT() from seeing text, which would make the
    formula an error and reject every mark. Decimal rows are text cells (see
    :func:`input_format`): their text is turned into a number the way collection reads
    it (ASC makes full-width characters half-width, the unit may be typed), and
    IFERROR makes text that is not a number fail the rule instead of erroring.
    """
    marks = f'OR({cell}="○",{cell}="×",{cell}="—")'
    if rule.kind == "mark":
        return {
            "validate": "list",
            "source": list(layout.MARKS),
            "input_title": "今年度の実施状況",
            "input_message": "▼から選んでください。\n○ 実施した\n× 実施しなかった\n— 該当なし",
            "error_title": "入力できない値です",
            "error_message": "○ × — のいずれかを▼から選んでください。",
        }
    low = rule.minimum or 0
    if rule.kind == "whole":
        return {
            "validate": "custom",
            "value": f"=IF(ISNUMBER({cell}),AND({cell}>={low},{cell}=INT({cell})),{marks})",
            "input_title": "今年度の値",
            "input_message": f"0以上の整数を半角で入力してください（単位「{rule.unit}」は自動で表示されます）。"
            "\n実施しなかった場合は ×、該当なしは — を入力します。"
            if rule.unit
            else "0以上の整数を半角で入力してください。\n実施しなかった場合は ×、該当なしは — を入力します。",
            "error_title": "入力できない値です",
            "error_message": "0以上の整数だけを入力してください（「159人」のように単位は付けません）。"
            "または × か — を入力します。",
        }

    def within(number: str) -> str:
        if rule.maximum is None:
            return f"{number}>={low}"
        return f"AND({number}>={low},{number}<={rule.maximum})"

    text = f"ASC({cell})"
    if rule.unit:
        unit = rule.unit.replace(chr(34), "")
        text = f'SUBSTITUTE({text},"{unit}","")'
    what = f"{low}〜{rule.maximum}の数値" if rule.maximum is not None else "0以上の数値"
    typed = f"（「{rule.unit}」は付けても付けなくてもかまいません）" if rule.unit else ""
    formula = f"=IF(ISNUMBER({cell}),{within(cell)},OR({marks},IFERROR({within(f'VALUE({text})')},FALSE)))"
    return {
        "validate": "custom",
        "value": formula,
        "input_title": "今年度の値",
        "input_message": f"{what}を入力してください{typed}。\n実施しなかった場合は ×、該当なしは — を入力します。",
        "error_title": "入力できない値です",
        "error_message": f"{what}を入力してください{typed}。または × か — を入力します。",
    }


def _add_validations(
    sheet: Worksheet, rows: Sequence[ResponseRow], first: int, value_col: int, narrative_col: int
) -> None:
    # One validation per rule, over all its cells (sqref "N5 N7:N9"): Excel reads a relative
    # formula against the first cell of the first range and shifts it for every other cell.
    by_rule: dict[InputRule, list[int]] = {}
    for offset, row in enumerate(rows):
        by_rule.setdefault(row.rule, []).append(first + offset)
    for rule, sheet_rows in by_rule.items():
        ranges = _ranges(sheet_rows)
        top = ranges[0][0]
        options = _validation(rule, a1(top + 1, value_col + 1))
        sqref = " ".join(
            a1(low + 1, value_col + 1) + (f":{a1(high + 1, value_col + 1)}" if high > low else "")
            for low, high in ranges
        )
        sheet.data_validation(
            top, value_col, ranges[-1][1], value_col, {"ignore_blank": True, "multi_range": sqref, **options}
        )
    sheet.data_validation(
        first,
        narrative_col,
        first + len(rows) - 1,
        narrative_col,
        {
            "validate": "length",
            "criteria": "<=",
            "value": layout.NARRATIVE_MAX,
            "ignore_blank": True,
            "input_title": "今年度の実績内容",
            "input_message": f"取り組みの内容・回数・参加者数などを{layout.NARRATIVE_MAX:,}字以内で記入してください。セル内の改行は Alt+Enter です。",
            "error_title": "長すぎます",
            "error_message": f"実績内容は{layout.NARRATIVE_MAX:,}字以内で記入してください。",
        },
    )


def _ranges(numbers: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted numbers as runs: ``[4, 5, 6, 9]`` → ``[(4, 6), (9, 9)]``."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs
