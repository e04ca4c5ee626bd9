"""One department's workbook (回答票): what it holds, and writing it with XlsxWriter.

The layout is :mod:`xlplan.form.layout` (the contract with collection). This module
decides what goes in each row (:func:`response_rows`) and writes the file
(:func:`render_workbook`): the 回答 sheet with locked grey context and unlocked
yellow input cells, input rules, number formats that show the unit, protection
and print setup; the 記入方法 sheet; and the signed manifest in the very hidden
``_xlplan`` sheet.

XlsxWriter writes a new file quickly and exactly (no template to load), which is
what lets distribution scale to thousands of departments; every text from the
plan goes through ``write_string`` so that it can never become a formula.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import math
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from xlplan.form import layout, manifest
from xlplan.form.layout import Column, InputRule
from xlplan.plan.dates import wareki_date
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Department, HistoryRecord, Plan, Settings
from xlplan.plan.values import Value
from xlplan.publish.writer import FastWorksheet
from xlplan.xlsx.cells import a1, clean_text, file_name

GREY = "#F2F2F2"
YELLOW = "#FFF2A8"
HEADER_BLUE = "#DDEBF7"
BORDER_GREY = "#A6A6A6"
FONT = "游ゴシック"  # the Japanese Office default since 2016; Excel substitutes where it is missing
A4 = 9  # XlsxWriter's paper code

K_OFFICE_PHONE = "連絡先電話"
K_RETURN_FOLDER = "提出先フォルダ"
"""Optional 設定 keys shown on the 記入方法 sheet (kept in ``Settings.extra``)."""


# ----------------------------------------------------------------------------------------
# What a workbook holds
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseRow:
    """One row of the 回答 sheet: a department's share of one project × entry.

    ``cells`` maps column keys to the prefilled values: ``str`` for text and marks,
    ``Decimal`` or ``int`` for numbers, None for an empty cell.
    """

    row_id: str
    project_no: int
    entry: str
    department: str  # the member as printed in the plan
    rule: InputRule
    cells: Mapping[str, object]


@dataclass(frozen=True)
class WorkbookRequest:
    """Everything needed to write one department's workbook: plain data that pickles to a worker."""

    settings: Settings
    department: Department
    columns: tuple[Column, ...]
    rows: tuple[ResponseRow, ...]


def columns_for(settings: Settings) -> tuple[Column, ...]:
    """The 回答 sheet's columns for the plan's levels and years."""
    return tuple(
        layout.response_columns(
            settings.levels,
            settings.year_label(settings.baseline_year),
            settings.previous_year.wareki,
            settings.current_year.wareki,
        )
    )


def response_rows(plan: Plan) -> dict[str, list[ResponseRow]]:
    """Every department's rows, keyed by registry name, in plan order.

    One row per project × entry × member that the department is, so each member of
    a joint entry answers its own share. Built in one pass over the plan with
    dictionaries: :meth:`Plan.assignments` and :meth:`Plan.history_for` scan the
    whole plan per call, which is quadratic for a thousand departments.
    """
    settings = plan.settings
    canonical = {
        spelling: department.name
        for department in plan.departments
        for spelling in (department.name, *department.aliases)
    }
    history: dict[tuple[int, str, FiscalYear, str | None], HistoryRecord] = {
        (record.project_no, record.entry, record.fiscal_year, record.department): record
        for record in plan.history
    }
    nodes = {node.key: node for node in plan.nodes}
    previous = settings.previous_year
    rows: dict[str, list[ResponseRow]] = defaultdict(list)
    for project in plan.projects:
        context: dict[str, object] = {
            f"level{depth + 1}": f"{nodes[project.node[: depth + 1]].number} {nodes[project.node[: depth + 1]].title}"
            for depth in range(len(project.node))
        }
        rule = layout.input_rule(project.indicator, project.unit)
        for entry_index, entry in enumerate(project.entries, start=1):
            for member_index, member in enumerate(entry.members, start=1):
                department = canonical.get(member)
                if department is None:  # the master reader reports unknown departments
                    continue
                # A member's own share where the history has one; otherwise the entry's value,
                # which for a joint entry is the combined value (the 記入方法 sheet says so).
                record = history.get((project.no, entry.name, previous, member)) or history.get(
                    (project.no, entry.name, previous, None)
                )
                row_id = layout.row_id(project.no, entry_index, member_index)
                cells: dict[str, object] = {
                    layout.ROW_ID: row_id,
                    **context,
                    layout.PROJECT_NO: project.no,
                    layout.DESCRIPTION: project.description,
                    layout.INDICATOR: project.indicator,
                    layout.UNIT: project.unit,
                    layout.ENTRY: entry.name,
                    layout.DEPARTMENT: member,
                    layout.BASELINE: _cell_value(project.baseline),
                    layout.PREVIOUS_VALUE: _cell_value(record.value) if record else None,
                    layout.PREVIOUS_NARRATIVE: record.narrative if record else None,
                }
                rows[department].append(ResponseRow(row_id, project.no, entry.name, member, rule, cells))
    return dict(rows)


def _cell_value(value: Value) -> object:
    if value.number is not None:
        return value.number
    return value.to_json()


def workbook_file_name(settings: Settings, department: str, version: int = 1) -> str:
    """``第2次小城市男女共同参画プラン_令和2年度実績照会_文化課.xlsx`` (``_第2版`` from version 2)."""
    round_part = f"（第{settings.round}回）" if settings.round > 1 else ""
    version_part = f"_第{version}版" if version > 1 else ""
    stem = (
        f"{settings.plan_name}_{settings.current_year.wareki}実績照会{round_part}_{department}{version_part}"
    )
    return file_name(f"{stem}.xlsx")


def workspace_id(key: bytes) -> str:
    """A public id of the workspace derived from its signing key (the key itself cannot be recovered)."""
    return hashlib.sha256(b"xlplan-workspace-id:" + key).hexdigest()[:16]


# ----------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------


_FORMULA_CACHE_SIZE = 4096
_prepared_formulas: dict[tuple[str, bool, bool], str] = {}


class _Sheet(FastWorksheet):
    """The consolidated table's faster cell writer, plus prepared validation formulas kept.

    XlsxWriter prepares every data-validation formula with some eighty regular
    expressions (for Excel's newer functions) each time a workbook is closed; the
    formulas are the same in workbook after workbook, and preparing is a pure
    function of the formula and two flags, so its result is kept.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, expand_future_functions, bool(self.use_future_functions))
        found = _prepared_formulas.get(key)
        if found is None:
            if len(_prepared_formulas) >= _FORMULA_CACHE_SIZE:
                _prepared_formulas.clear()
            found = _prepared_formulas[key] = super()._prepare_formula(formula, expand_future_functions)
        return found


class _Workbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook plus workbook structure protection, which XlsxWriter does not offer.

    ``<workbookProtection>`` must follow ``<workbookPr>`` in workbook.xml (ECMA-376
    §18.2.28), so it is written right after it. Without a password, as for the sheets:
    protection guards against slips, and the manifest's hashes detect deliberate edits.
    """

    worksheet_class = _Sheet

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        self._xml_empty_tag("workbookProtection", [("lockStructure", 1)])


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
    workbook = _Workbook(
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
    styles = _Styles(workbook)
    rows = _write_response_sheet(workbook, styles, request)
    _write_guide_sheet(workbook, styles, request)
    signed = manifest.sign(
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
    for index, chunk in enumerate(manifest.dumps(signed)):
        hidden.write_string(index, 0, chunk)
    hidden.very_hidden()
    hidden.protect()
    workbook.close()
    return buffer.getvalue(), signed


class _Styles:
    """The formats of a workbook, made once and cached by number format."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.workbook = workbook
        border = {"border": 1, "border_color": BORDER_GREY}
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.info = workbook.add_format({"font_size": 10})
        self.notice = workbook.add_format({"bold": True, "font_color": "#C00000"})
        self.swatch = workbook.add_format({"bg_color": YELLOW, **border})
        heading = {"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter", **border}
        self.header = workbook.add_format({"bg_color": HEADER_BLUE, **heading})
        self.header_input = workbook.add_format({"bg_color": YELLOW, **heading})
        self.locked_text = workbook.add_format(
            {"bg_color": GREY, "text_wrap": True, "valign": "top", **border}
        )
        self.locked_center = workbook.add_format(
            {"bg_color": GREY, "text_wrap": True, "align": "center", "valign": "top", **border}
        )
        self.input_text = workbook.add_format(
            {"bg_color": YELLOW, "text_wrap": True, "valign": "top", "locked": False, **border}
        )
        self.guide_heading = workbook.add_format({"bold": True, "font_size": 12, "bottom": 1})
        self.guide_text = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.guide_mark = workbook.add_format(
            {"bold": True, "align": "center", "valign": "top", "font_size": 12}
        )
        self._numbers: dict[tuple[str, bool], Format] = {}

    def number(self, num_format: str, *, input_cell: bool) -> Format:
        """A centred value cell with ``num_format``: grey and locked, or yellow and unlocked."""
        key = (num_format, input_cell)
        if key not in self._numbers:
            self._numbers[key] = self.workbook.add_format(
                {
                    "bg_color": YELLOW if input_cell else GREY,
                    "locked": not input_cell,
                    "num_format": num_format,
                    "align": "center",
                    "valign": "top",
                    "border": 1,
                    "border_color": BORDER_GREY,
                }
            )
        return self._numbers[key]


def _quoted(unit: str | None) -> str:
    """The unit as a literal of an Excel number format (``"人"``); quotes in it are dropped."""
    return f'"{unit.replace(chr(34), "")}"' if unit else ""


def value_format(unit: str | None, decimals: int) -> str:
    """A number format that shows the unit: ``#,##0"人"`` shows 159人 and stores 159."""
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + _quoted(unit)


def input_format(rule: InputRule) -> str:
    """The number format of a 今年度 value cell: whole counts with separators, decimals as typed."""
    if rule.kind == "whole":
        return value_format(rule.unit, 0)
    if rule.kind == "decimal":
        return "General" + _quoted(rule.unit)  # shows 31.9% and 32% alike, with no forced decimals
    return "@"  # mark rows hold text; "@" also keeps a typed "1" from turning into a number


def _decimals(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _write_response_sheet(
    workbook: xlsxwriter.Workbook, styles: _Styles, request: WorkbookRequest
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

    text_centered = {layout.ROW_ID, layout.PROJECT_NO, layout.UNIT}
    manifest_rows: list[manifest.ManifestRow] = []
    first = layout.FIRST_DATA_ROW - 1
    for offset, row in enumerate(request.rows):
        r = first + offset
        unit = row.rule.unit
        for index, column in enumerate(columns):
            if column.input:
                continue
            value = row.cells.get(column.key)
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                if column.key == layout.PROJECT_NO:
                    sheet.write_number(r, index, int(value), styles.locked_center)
                else:
                    num_format = value_format(unit, _decimals(Decimal(value)))
                    sheet.write_number(r, index, float(value), styles.number(num_format, input_cell=False))
            elif value is None:
                sheet.write_blank(r, index, None, styles.locked_text)
            else:
                style = (
                    styles.locked_center
                    if column.key in text_centered or column.key in (layout.BASELINE, layout.PREVIOUS_VALUE)
                    else styles.locked_text
                )
                sheet.write_string(r, index, clean_text(str(value)), style)
        sheet.set_row(r, row_height(row.cells, columns))
        sheet.write_blank(r, value_col, None, styles.number(input_format(row.rule), input_cell=True))
        sheet.write_blank(r, narrative_col, None, styles.input_text)
        manifest_rows.append(
            manifest.ManifestRow(
                row_id=row.row_id,
                row=r + 1,
                project_no=row.project_no,
                entry=row.entry,
                department=row.department,
                prefill_sha256=manifest.prefill_hash(layout.prefilled(columns, row.cells)),
            )
        )
    last = first + len(request.rows) - 1
    if request.rows:
        _add_validations(sheet, request.rows, first, value_col, narrative_col)

    # Keep the header and the row id / project number in view while scrolling to the yellow cells.
    sheet.freeze_panes(layout.HEADER_ROW, position[layout.PROJECT_NO] + 1)
    sheet.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True})
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.repeat_rows(header_row)
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_footer("&C&P / &N")
    sheet.set_header("&R" + department.name.replace("&", "&&"))
    sheet.print_area(0, 0, max(last, header_row), len(columns) - 1)
    return manifest_rows


LINE_HEIGHT = 14.0  # points per line of 10-point Japanese text
MIN_LINES = 3  # room to type a narrative without resizing the row first


@functools.lru_cache(maxsize=8192)  # the same descriptions and headings recur in every workbook
def text_width(text: str) -> float:
    """Approximate width of ``text`` in Excel column-width units (a full-width character is about two)."""
    return sum(1.9 if unicodedata.east_asian_width(char) in "WFA" else 1.05 for char in text)


def row_height(cells: Mapping[str, object], columns: Sequence[Column]) -> float:
    """A row height in points that shows every prefilled text whole, and at least :data:`MIN_LINES` lines.

    Excel would autofit rows without a height, but LibreOffice and printing do not,
    so the height is set; the sheet protection still lets people change it.
    """
    lines = MIN_LINES
    for column in columns:
        value = cells.get(column.key)
        if not isinstance(value, str):
            continue
        usable = max(column.width - 1.0, 1.0)
        needed = sum(max(1, math.ceil(text_width(part) / usable)) for part in value.split("\n"))
        lines = max(lines, needed)
    return round(lines * LINE_HEIGHT + 4, 1)


def _validation(rule: InputRule, cell: str) -> dict[str, Any]:
    """XlsxWriter data-validation options for a value cell whose top-left cell is ``cell``.

    One Excel rule cannot accept "a number or one of three marks", so indicator rows
    use a custom formula; IF keeps INT() from seeing text, which would make the
    formula an error and reject every mark.
    """
    marks = f'OR({cell}="○",{cell}="×",{cell}="—")'
    unit = f"（単位「{rule.unit}」は自動で表示されます）" if rule.unit else ""
    if rule.kind == "mark":
        return {
            "validate": "list",
            "source": list(layout.MARKS),
            "input_title": "今年度の実施状況",
            "input_message": "▼から選んでください。\n○ 実施した\n× 実施しなかった\n— 該当なし",
            "error_title": "入力できない値です",
            "error_message": "○ × — のいずれかを▼から選んでください。",
        }
    if rule.kind == "whole":
        test = f"AND({cell}>=0,{cell}=INT({cell}))"
        what = "0以上の整数"
    elif rule.maximum is not None:
        test = f"AND({cell}>={rule.minimum or 0},{cell}<={rule.maximum})"
        what = f"{rule.minimum or 0}〜{rule.maximum}の数値"
    else:
        test = f"{cell}>={rule.minimum or 0}"
        what = "0以上の数値"
    return {
        "validate": "custom",
        "value": f"=IF(ISNUMBER({cell}),{test},{marks})",
        "input_title": "今年度の値",
        "input_message": f"{what}を半角で入力してください{unit}。\n実施しなかった場合は ×、該当なしは — を入力します。",
        "error_title": "入力できない値です",
        "error_message": f"{what}だけを入力してください（「159人」のように単位を付けず、「%」も付けません）。または × か — を入力します。",
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


def _write_guide_sheet(workbook: xlsxwriter.Workbook, styles: _Styles, request: WorkbookRequest) -> None:
    settings, department = request.settings, request.department
    sheet = workbook.add_worksheet(layout.GUIDE_SHEET)
    sheet.set_column(0, 0, 4)
    sheet.set_column(1, 1, 100)
    year = settings.current_year.wareki
    deadline = wareki_date(settings.deadline) if settings.deadline else "（照会のメールをご確認ください）"
    office = " ".join(part for part in (settings.office, settings.office_contact) if part) or "照会元"
    phone = settings.extra.get(K_OFFICE_PHONE)
    folder = settings.extra.get(K_RETURN_FOLDER)
    how = []
    if settings.office_email:
        how.append(f"このファイルを添付して {settings.office_email} へメールで返信してください。")
    if folder:
        how.append(f"または、共有フォルダ {folder} に保存してください。")
    if not how:
        how.append(f"{office}へ提出してください。")
    ask = office + (f"（電話 {phone}）" if phone else "")
    if settings.office_email:
        ask += f"　{settings.office_email}"
    sections: list[tuple[str, list[str]]] = [
        (
            "このファイルについて",
            [
                f"{settings.plan_name}の{year}の事業実績を、{department.name}に照会するファイルです（{len(request.rows)}行）。",
                "「回答」シートの1行が、担当する事業1件（共同で報告する事業は、そのうち自課の分）です。",
            ],
        ),
        (
            "記入するセル",
            [
                "「回答」シートの黄色のセル（今年度の値・今年度の実績内容）だけに記入してください。",
                "灰色のセル（事業の内容・現状値・前年度の値など）は変更できません。行や列の追加・削除、シート名の変更もしないでください。",
            ],
        ),
        (
            "今年度の値",
            [
                "数値目標がある事業: 数値だけを半角で入力します。単位は自動で表示されます（159 と入力すると「159人」と表示）。",
                "「%」の事業も数値だけを入力します（31.9% なら 31.9）。% を付けると別の値になります。",
                "「159人」のように単位を付けたり、全角の数字で入力したりすると、入力できません。",
                "数値目標がない事業: セルを選ぶと出る ▼ から、次の記号を選びます（数値目標がある事業でも、実施しなかった場合は ×、該当なしは — を入力します）。",
            ],
        ),
    ]
    marks = [("○", "実施した"), ("×", "実施しなかった（中止を含む）"), ("—", "該当なし・数値なし")]
    later: list[tuple[str, list[str]]] = [
        (
            "今年度の実績内容",
            [
                f"取り組みの内容、回数、参加者数などを{layout.NARRATIVE_MAX:,}字以内で記入してください。セル内の改行は Alt+Enter です。",
                "前年度の文章をそのまま使わず、今年度の内容を記入してください。",
                "文章が隠れて見えないときは、行番号の下の境界をダブルクリックすると行の高さが合います。",
            ],
        ),
        (
            "共同で報告する事業",
            [
                "担当課の欄に複数の課がある事業は、各課が自課の分だけを記入します（「回答する課」が自課の行）。合計は照会元で行います。",
                "前年度の値は、課ごとの内訳が記録されていない場合、共同の合計を表示しています。",
            ],
        ),
        ("提出", [f"締切: {deadline}", *how, "ファイル名は変えずに送付してください。"]),
        ("問い合わせ先", [ask]),
    ]
    sheet.write_string(
        0,
        0,
        clean_text(f"記入方法 — {settings.plan_name} {year}実績の照会（{department.name}）"),
        styles.title,
    )
    r = 2
    for number, (heading, lines) in enumerate(sections, start=1):
        r = _guide_section(sheet, styles, r, number, heading, lines) + 1
    r -= 1  # the marks belong to the last section: no blank line before them
    for mark, meaning in marks:
        sheet.write_string(r, 0, mark, styles.guide_mark)
        sheet.write_string(r, 1, meaning, styles.guide_text)
        r += 1
    r += 1
    for number, (heading, lines) in enumerate(later, start=len(sections) + 1):
        r = _guide_section(sheet, styles, r, number, heading, lines) + 1
    issued = f"第{settings.round}回照会　様式 {layout.TEMPLATE_VERSION}"
    sheet.write_string(r, 1, issued, styles.info)
    sheet.hide_gridlines(2)
    sheet.protect()
    sheet.set_portrait()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)


def _guide_section(
    sheet: Worksheet, styles: _Styles, r: int, number: int, heading: str, lines: list[str]
) -> int:
    sheet.write_string(r, 0, f"{number}.", styles.guide_heading)
    sheet.write_string(r, 1, heading, styles.guide_heading)
    r += 1
    for line in lines:
        sheet.write_string(r, 1, clean_text(line), styles.guide_text)
        r += 1
    return r
