"""What the office added to the master's own sheets, kept when xlplan writes them again.

Rolling over to the next year writes 計画, 担当課 and 履歴 anew from the plan. An office keeps its
own notes beside them — a 所管部 or 内線 column, a 確認メモ — which xlplan does not read. Those
columns are taken from the sheets before they are replaced and put back on the right of the
new ones, each value on the row of the same project and department (the same department on
担当課; the same record on 履歴), so that nothing the office typed is lost with the year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.plan.model import Plan
from xlplan.workspace.master.format import (
    DEPARTMENT_COLUMNS,
    SHEET_DEPARTMENTS,
    SHEET_HISTORY,
    SHEET_PLAN,
    PlanColumns,
    history_columns,
)

__all__ = ["OfficeColumns", "office_columns", "restore_office_columns"]


@dataclass
class _Sheet:
    """One sheet's own columns: their headers and widths, and their values by the row's key."""

    keys: tuple[str, ...]
    by_first_key: bool  # 計画: a row whose department was renamed is found by its project number
    headers: list[str] = field(default_factory=list)
    widths: list[float | None] = field(default_factory=list)
    rows: dict[tuple[str, ...], list[Any]] = field(default_factory=dict)
    by_first: dict[str, list[Any] | None] = field(default_factory=dict)  # None: several rows share it


OfficeColumns = dict[str, _Sheet]
"""The office's columns of each master sheet, by sheet name."""


def _layout(plan: Plan) -> dict[str, tuple[list[str], tuple[str, ...], bool]]:
    """Each sheet's own columns, the columns that say which row is which, and whether the first of
    them alone may (a 履歴 record is itself or no other: a new year's record takes nothing)."""
    columns = PlanColumns(plan.levels)
    history = history_columns(plan.levels)
    return {
        SHEET_PLAN: (columns.all(), (columns.number, "担当課"), True),
        SHEET_DEPARTMENTS: (list(DEPARTMENT_COLUMNS), ("担当課",), False),
        SHEET_HISTORY: (history, (history[0], "担当課", "内訳の課", "年度"), False),
    }


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def office_columns(workbook: Workbook, plan: Plan) -> OfficeColumns:
    """The columns of the master sheets in ``workbook`` that xlplan does not write, with their values."""
    found: OfficeColumns = {}
    for name, (known, keys, by_first_key) in _layout(plan).items():
        if name not in workbook.sheetnames:
            continue
        sheet: Worksheet = workbook[name]
        header = [_text(cell.value) for cell in sheet[1]]
        extra = [index for index, text in enumerate(header) if text and text not in known]
        places = [header.index(key) if key in header else None for key in keys]
        if not extra or places[0] is None:
            continue
        kept = _Sheet(keys, by_first_key)
        for index in extra:
            kept.headers.append(header[index])
            kept.widths.append(sheet.column_dimensions[get_column_letter(index + 1)].width)
        for row in sheet.iter_rows(min_row=2, values_only=True):
            values = [row[index] if index < len(row) else None for index in extra]
            if all(value is None for value in values):
                continue
            key = tuple(
                _text(row[place]) if place is not None and place < len(row) else "" for place in places
            )
            kept.rows[key] = values
            # A row whose other key cells change with the year (a department renamed) is found by its
            # first key alone, where no other row shares it.
            kept.by_first[key[0]] = None if key[0] in kept.by_first else values
        found[name] = kept
    return found


def restore_office_columns(workbook: Workbook, kept: OfficeColumns) -> None:
    """Put the office's columns back on the right of the sheets just written."""
    for name, columns in kept.items():
        if name not in workbook.sheetnames:
            continue
        sheet: Worksheet = workbook[name]
        header = [_text(cell.value) for cell in sheet[1]]
        places = [header.index(key) if key in header else None for key in columns.keys]
        start = len(header) + 1
        for offset, (title, width) in enumerate(zip(columns.headers, columns.widths, strict=True)):
            sheet.cell(row=1, column=start + offset, value=title)
            if width:
                sheet.column_dimensions[get_column_letter(start + offset)].width = width
        for number, row in enumerate(
            sheet.iter_rows(min_row=2, max_col=len(header), values_only=True), start=2
        ):
            key = tuple(_text(row[place]) if place is not None else "" for place in places)
            values: Sequence[Any] | None = columns.rows.get(key)
            if values is None and columns.by_first_key:
                values = columns.by_first.get(key[0])
            for offset, value in enumerate(values or ()):
                if value is not None:
                    sheet.cell(row=number, column=start + offset, value=value)
