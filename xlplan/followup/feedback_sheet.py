"""The 差し戻し票's own marks: where a finding belongs on the re-issued 回答 sheet, the fill and note
of a marked cell, the notice at the top, and the 修正箇所 sheet listing every finding.

What a note or a line says is the finding's message at the cell it is marked at, and for what the
re-issued sheet has already put back (a grey cell, a moved or deleted row) it says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.findings import Finding
from xlplan.form import layout
from xlplan.form.style import FONT_SIZE
from xlplan.plan.text import strip_unsafe
from xlplan.xlsx.cells import a1, from_a1, set_text
from xlplan.xlsx.text import estimate_lines, lines_height

LIST_SHEET = "修正箇所"
"""The sheet listing every finding of the return."""

ERROR_FILL = "FFC7CE"  # Excel's own "bad" red: staff read it as "wrong" without a legend
WARNING_FILL = (
    "F4B084"  # orange: check, not necessarily wrong (Excel's pale amber is too close to the input yellow)
)
ERROR_TEXT = "9C0006"
FONT = "游ゴシック"  # as the department workbook; openpyxl's own default would be Calibri
WARNING_TEXT = "833C0B"


def locate(
    finding: Finding,
    columns: Sequence[str],
    row_of: Mapping[str, int],
    by_share: Mapping[tuple[int, str, str], int],
    by_project: Mapping[int, list[int]],
    *,
    first: int,
    last: int,
) -> str | None:
    """The A1 address in the re-issued 回答 sheet where ``finding`` belongs, or None."""
    params = finding.params
    if finding.sheet not in (None, layout.RESPONSE_SHEET):
        return None  # about the manifest or another sheet: no cell of 回答 to mark
    row: int | None = None
    if isinstance(params.get("row_id"), str):
        row = row_of.get(params["row_id"])
    if row is None and params.get("project_no") is not None:
        try:
            number = int(params["project_no"])
        except (TypeError, ValueError):
            number = -1
        share = (number, params.get("entry"), params.get("department"))
        row = by_share.get(share) if None not in share else None  # type: ignore[arg-type]
        if row is None and len(by_project.get(number, [])) == 1:
            row = by_project[number][0]
    column: int | None = None
    if isinstance(params.get("column"), str) and params["column"] in columns:
        column = columns.index(params["column"]) + 1
    if finding.cell:
        try:
            cell_row, cell_column = from_a1(finding.cell)
        except ValueError:
            cell_row = cell_column = 0
        # Without a row id, the cell is a position in the workbook as issued (not a row the department added).
        if row is None and first <= cell_row <= last and finding.code != "row-extra":
            row = cell_row
        if column is None and 1 <= cell_column <= len(columns):
            column = cell_column
    if row is None:
        return None
    if column is None:
        column = columns.index(layout.CURRENT_VALUE) + 1  # a row-level finding: mark the value cell
    return a1(row, column)


def mark(cell: Any, items: Sequence[Finding]) -> None:
    """Fill the cell and attach one comment listing every finding on it, errors first."""
    if not isinstance(cell, Cell):
        return
    has_error = any(item.is_error for item in items)
    colour = ERROR_FILL if has_error else WARNING_FILL
    text_colour = ERROR_TEXT if has_error else WARNING_TEXT
    cell.fill = PatternFill("solid", fgColor=colour)
    side = Side(style="medium", color=text_colour)
    cell.border = Border(left=side, right=side, top=side, bottom=side)
    if has_error:
        # Red bold text on the error cells; a warning keeps black text, easier to read in long narratives.
        cell.font = Font(name=cell.font.name, size=cell.font.sz, color=text_colour, bold=True)
    ordered = sorted(items, key=lambda item: not item.is_error)
    # A note may quote what was typed: never a control character in it (Excel would call the file damaged).
    # Said at this cell: after a column or row the department inserted, the cell its return had is elsewhere.
    here = [replace(item, cell=cell.coordinate) for item in ordered]
    lines = [f"【{'エラー' if item.is_error else '確認'}】{_said_here(item)}" for item in here]
    comment = Comment("\n".join(lines), "企画政策課（xlplan）")
    comment.width = 320  # openpyxl's default note is tiny: sized to the text, nothing behind a scroll bar
    comment.height = max(80, 20 * sum(1 + len(line) // 22 for line in lines))
    cell.comment = comment


_RESTORED = frozenset({"prefilled-changed", "prefilled-row-changed", "row-missing", "rows-moved"})
"""What the 差し戻し票 itself puts back as sent: the department is told so, not asked to do it again."""


def _said_here(finding: Finding) -> str:
    """A finding's message as the 差し戻し票 says it: without control characters (Excel would call the
    file damaged), and, for what the re-issued sheet has already restored, saying so."""
    text = strip_unsafe(finding.message())
    if finding.code in _RESTORED:
        text += "（この差し戻し票では、送付したときの内容・位置に戻してあります。黄色のセルだけを確かめて記入してください。）"
    return text


def summary(sheet: Worksheet, errors: int, warnings: int) -> None:
    """Rewrite the top rows: the title says 差し戻し票, row 3 says what to do."""
    title = sheet.cell(layout.TITLE_ROW, 1)
    if isinstance(title.value, str) and not title.value.startswith("【差し戻し票】"):
        set_text(title, "【差し戻し票】" + title.value)
    parts = []
    if errors:
        parts.append(f"修正が必要な箇所 {errors} 件（赤色のセル）")
    if warnings:
        parts.append(f"確認してほしい箇所 {warnings} 件（オレンジ色のセル）")
    # Kept to one short line: row 3 lies in the frozen pane, where a long text is cut off on screen.
    notice = sheet.cell(layout.INFO_ROW + 1, 2)
    set_text(
        notice,
        f"【要修正】{'・'.join(parts) or '確認してほしい点があります'}。"
        f"セルのコメントを読んで直し、このファイルを返送してください（一覧は「{LIST_SHEET}」シート）。",
    )
    notice.font = Font(name=FONT, size=11, bold=True, color=ERROR_TEXT)
    swatch = sheet.cell(layout.INFO_ROW + 1, 1)
    swatch.fill = PatternFill("solid", fgColor=ERROR_FILL)
    # Print the notes after the sheet: a paper copy shows what each marked cell is about.
    sheet.page_setup.cellComments = "atEnd"


def list_sheet(
    workbook: Any,
    response: Worksheet,
    columns: Sequence[str],
    findings: Sequence[Finding],
    placed: Mapping[str, list[Finding]],
    source: Path | None,
) -> None:
    """The 修正箇所 sheet: one row per finding — where, which project, what to do — linked to its cell."""
    where = {id(item): address for address, items in placed.items() for item in items}
    sheet = workbook.create_sheet(LIST_SHEET, index=workbook.sheetnames.index(layout.RESPONSE_SHEET) + 1)
    sheet.sheet_properties.tabColor = ERROR_FILL
    plain = Font(name=FONT, size=10)
    set_text(sheet.cell(1, 1), "修正箇所の一覧")
    sheet.cell(1, 1).font = Font(name=FONT, bold=True, size=14)
    received = f"受け付けたファイル: {source.name}　" if source is not None else ""
    set_text(
        sheet.cell(2, 1),
        f"{received}「セル」をクリックすると「回答」シートの該当セルに移動します。"
        "赤（エラー）は修正が必要です。オレンジ（確認）は内容を確かめ、必要なら修正してください。",
    )
    sheet.cell(2, 1).font = plain
    headers = ("No.", "区分", "セル", "事業番号", "事業の内容", "修正してほしいこと", "問い合わせ用コード")
    widths = (5, 7, 10, 8, 34, 70, 20)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin", color="A6A6A6")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for index, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = sheet.cell(4, index, header)
        cell.font = Font(name=FONT, size=10, bold=True)
        cell.fill = header_fill
        cell.border = box
        cell.alignment = Alignment(horizontal="center", vertical="center")
        sheet.column_dimensions[cell.column_letter].width = width
    number_col = columns.index(layout.PROJECT_NO) + 1
    description_col = columns.index(layout.DESCRIPTION) + 1

    def order(item: Finding) -> tuple[bool, tuple[int, int]]:
        # Errors first, then in sheet order, so the list reads like the sheet.
        return (not item.is_error, from_a1(where[id(item)]) if id(item) in where else (10**9, 0))

    for number, finding in enumerate(sorted(findings, key=order), start=1):
        row = 4 + number
        address = where.get(id(finding))
        project = description = None
        if address is not None:
            sheet_row = from_a1(address)[0]
            project = response.cell(sheet_row, number_col).value
            description = response.cell(sheet_row, description_col).value
        values: list[object] = [
            number,
            "エラー" if finding.is_error else "確認",
            f"{layout.RESPONSE_SHEET}!{address}" if address else "ファイル全体",
            project,
            description,
            # At the cell it is marked; a finding with no cell on this sheet (a row the plan no longer has)
            # was not put back, so it is not said to be.
            _said_here(replace(finding, cell=address)) if address else strip_unsafe(finding.message()),
            finding.code,
        ]
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row, index)
            if isinstance(value, str):
                set_text(cell, value)
            else:
                cell.value = value
            cell.font = plain
            cell.border = box
            cell.alignment = Alignment(wrap_text=index in (5, 6), vertical="top",
                                       horizontal="center" if index in (1, 2, 4) else None)  # fmt: skip
        # LibreOffice and printing do not autofit wrapped rows: size each row to its longest text.
        lines = max(
            estimate_lines(str(value or ""), widths[index - 1], FONT_SIZE)
            for index, value in enumerate(values, start=1)
            if index in (5, 6)
        )
        sheet.row_dimensions[row].height = lines_height(lines, FONT_SIZE, FONT)
        kind = sheet.cell(row, 2)
        kind.fill = PatternFill("solid", fgColor=ERROR_FILL if finding.is_error else WARNING_FILL)
        kind.font = Font(
            name=FONT, size=10, bold=True, color=ERROR_TEXT if finding.is_error else WARNING_TEXT
        )
        if address is not None:
            link = sheet.cell(row, 3)
            link.hyperlink = f"#'{layout.RESPONSE_SHEET}'!{address}"
            link.font = Font(name=FONT, size=10, color="0563C1", underline="single")
        sheet.cell(row, 7).font = Font(name=FONT, size=9, color="808080")
    sheet.freeze_panes = "A5"
    sheet.print_title_rows = "4:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
