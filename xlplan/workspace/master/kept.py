"""What the office added to the master's own sheets, kept when xlplan writes them again.

Rolling over to the next year writes 計画, 担当課 and 履歴 anew from the plan. An office keeps its
own notes beside them — a 所管部 or 内線 column, a 確認メモ — which xlplan does not read. Those
columns are taken from the sheets before they are replaced and put back on the right of the
new ones, each value on the row of the same project and department (the same department on
担当課; the same record on 履歴), so that nothing the office typed is lost with the year.

The rule works on rows of values (:func:`office_columns_of`, :func:`with_office_columns`), so
that the command line (openpyxl) and the 次年度へ button (the workbook open in Excel) share it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from xlplan.plan.fiscal_year import FiscalYearError, parse_fiscal_year
from xlplan.plan.model import Plan
from xlplan.plan.reorganise import Names
from xlplan.workspace.master.format import (
    DEPARTMENT_COLUMNS,
    SHEET_DEPARTMENTS,
    SHEET_HISTORY,
    SHEET_PLAN,
    PlanColumns,
    history_columns,
)

__all__ = [
    "MOVED_SHEET",
    "OfficeColumns",
    "moved_rows",
    "office_columns",
    "office_columns_of",
    "restore_office_columns",
    "with_office_columns",
]


@dataclass
class _Sheet:
    """One sheet's own columns: their headers and widths, and their values by the row's key."""

    keys: tuple[str, ...]
    by_first_key: bool  # 計画: a row whose department was renamed is found by its project number
    headers: list[str] = field(default_factory=list)
    widths: list[float | None] = field(default_factory=list)
    rows: dict[tuple[str, ...], list[Any]] = field(default_factory=dict)
    by_first: dict[str, list[Any] | None] = field(default_factory=dict)  # None: several rows share it
    loose: list[list[Any]] = field(default_factory=list)  # notes on rows of no record (under the table)

    def values_for(self, key: tuple[str, ...]) -> list[Any] | None:
        """The office's values on the row with this key (None: the row is new)."""
        found = self.rows.get(key)
        if found is None and self.by_first_key:
            found = self.by_first.get(key[0])
        return found


OfficeColumns = dict[str, _Sheet]
"""The office's columns of each master sheet, by sheet name."""


def _layout(plan: Plan) -> dict[str, tuple[list[str], tuple[str, ...], bool]]:
    """Each sheet's own columns, the columns that say which row is which, and whether the sheet is
    written as the departments are named now (計画: then a row is also found by its project number
    alone; 履歴 is written back as it was typed, a record is itself or no other)."""
    columns = PlanColumns(plan.levels)
    history = history_columns(plan.levels)
    return {
        SHEET_PLAN: (columns.all(), (columns.number, "担当課"), True),
        SHEET_DEPARTMENTS: (list(DEPARTMENT_COLUMNS), ("担当課",), False),
        SHEET_HISTORY: (history, (history[0], "担当課", "内訳の課", "年度"), False),
    }


MOVED_SHEET = "次年度へで移したメモ"
"""Where the office's cells go that no row of the rewritten sheets takes (a note under a table, a
dropped project's): an office sheet of its own, kept like any other, never read by xlplan."""


def _joined(first: list[Any], second: list[Any]) -> list[Any]:
    """Two rows' office values that land on one row now (a merge): each kept, ／ between them."""
    out = []
    for a, b in zip(first, second, strict=True):
        blank_a, blank_b = a in (None, ""), b in (None, "")
        out.append(b if blank_a else a if blank_b or a == b else f"{a}／{b}")
    return out


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else unicodedata.normalize("NFKC", str(value)).strip()


def _keyer(
    plan: Plan, renamed: bool
) -> Callable[[Sequence[Any], Sequence[int | None], Sequence[str]], tuple[str, ...]]:
    """How a row's key cells are compared: as xlplan reads them, not as typed — 年度 R2, 2020 and
    令和2年度 are one year; ６ is 6; with ``renamed``, a department's former name is the name it has now."""
    names = Names.of(plan.departments)

    def read(column: str, value: Any) -> str:
        text = _text(value)
        if column == "年度" and text:
            try:
                return str(parse_fiscal_year(text).western)
            except FiscalYearError:
                return text
        if renamed and column in ("担当課", "内訳の課"):
            return " ".join(names.now(part) or part for part in text.split())
        return text

    def key(row: Sequence[Any], places: Sequence[int | None], columns: Sequence[str]) -> tuple[str, ...]:
        return tuple(read(column, row[place]) if place is not None and place < len(row) else ""
                     for column, place in zip(columns, places, strict=True))  # fmt: skip

    return key


def office_columns_of(tables: Mapping[str, Sequence[Sequence[Any]]], plan: Plan) -> OfficeColumns:
    """The columns of the master sheets (their rows, header first) that xlplan does not write."""
    found: OfficeColumns = {}
    for name, (known, keys, by_first_key) in _layout(plan).items():
        key_of = _keyer(plan, renamed=by_first_key)
        rows = tables.get(name)
        if not rows:
            continue
        header = [_text(value) for value in rows[0]]
        width = max(len(row) for row in rows)
        header += [""] * (width - len(header))
        filled = {index for row in rows[1:] for index, value in enumerate(row) if value not in (None, "")}
        # The office's columns: any header xlplan does not write, and a column with no header that holds values.
        extra = [index for index, text in enumerate(header)
                 if (text and text not in known) or (not text and index in filled)]  # fmt: skip
        places = [header.index(key) if key in header else None for key in keys]
        if not extra or places[0] is None:
            continue
        kept = _Sheet(keys, by_first_key, [header[index] for index in extra], [None] * len(extra))
        for row in rows[1:]:
            values = [row[index] if index < len(row) else None for index in extra]
            if all(value is None or value == "" for value in values):
                continue
            key = key_of(row, places, keys)
            if not any(key):  # a note under the table
                kept.loose.append(values)
                continue
            if key in kept.rows:  # two rows that are one now (two departments merged): both notes kept
                kept.rows[key][:] = _joined(kept.rows[key], values)
                continue
            kept.rows[key] = values
            # A row whose other key cells change with the year (a department renamed) is found by its
            # first key alone, where no other row shares it.
            kept.by_first[key[0]] = None if key[0] in kept.by_first else values
        found[name] = kept
    return found


def with_office_columns(
    name: str, rows: Sequence[Sequence[Any]], kept: OfficeColumns, plan: Plan
) -> tuple[list[list[Any]], list[list[Any]]]:
    """The sheet's new rows (header first) with the office's columns on their right; and the rows for
    :data:`MOVED_SHEET`: the office's values of a row the new sheet no longer has (a project dropped)
    and its notes under the table, each after the sheet's name (a header row first) — nothing typed
    is lost, and nothing is written under a table its reader would take for a record."""
    columns = kept.get(name)
    if columns is None or not rows:
        return [list(row) for row in rows], []
    key_of = _keyer(plan, renamed=columns.by_first_key)
    header = [_text(value) for value in rows[0]]
    places = [header.index(key) if key in header else None for key in columns.keys]
    blank: list[Any] = [None] * len(columns.headers)
    out = [[*rows[0], *columns.headers]]
    used: set[int] = set()
    for row in rows[1:]:
        values = columns.values_for(key_of(row, places, columns.keys))
        if values is not None:
            used.add(id(values))
        out.append([*row, *(values or blank)])
    left = [values for values in columns.rows.values() if id(values) not in used] + columns.loose
    moved = (
        [[f"（{name}シートから）", *columns.headers], *([name, *values] for values in left)] if left else []
    )
    return out, moved


def moved_rows(existing: Sequence[Sequence[Any]], moved: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """:data:`MOVED_SHEET`'s rows: what it held, then what this rollover moved, as one rectangle."""
    rows = [list(row) for row in existing if any(value not in (None, "") for value in row)] + [
        list(row) for row in moved
    ]
    width = max((len(row) for row in rows), default=0)
    return [row + [None] * (width - len(row)) for row in rows]


def office_columns(workbook: Workbook, plan: Plan) -> OfficeColumns:
    """:func:`office_columns_of` for the sheets of an openpyxl workbook, with the columns' widths."""
    tables = {name: [list(row) for row in workbook[name].iter_rows(values_only=True)]
              for name in (SHEET_PLAN, SHEET_DEPARTMENTS, SHEET_HISTORY) if name in workbook.sheetnames}  # fmt: skip
    found = office_columns_of(tables, plan)
    for name, columns in found.items():
        header = [_text(value) for value in tables[name][0]]
        sheet = workbook[name]
        columns.widths = [sheet.column_dimensions[get_column_letter(header.index(title) + 1)].width
                          for title in columns.headers]  # fmt: skip
    return found


def restore_office_columns(workbook: Workbook, kept: OfficeColumns, plan: Plan) -> None:
    """Put the office's columns back on the right of the sheets just written (openpyxl)."""
    moved: list[list[Any]] = []
    for name, columns in kept.items():
        if name not in workbook.sheetnames:
            continue
        sheet = workbook[name]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        start = len(rows[0]) if rows else 0
        written, left = with_office_columns(name, rows, kept, plan)
        for number, row in enumerate(written, start=1):
            for offset, value in enumerate(row[start:]):
                if value is not None:
                    sheet.cell(row=number, column=start + offset + 1, value=value)
        for offset, width in enumerate(columns.widths):
            if width:
                sheet.column_dimensions[get_column_letter(start + offset + 1)].width = width
        moved.extend(left)
    if moved:
        target = (
            workbook[MOVED_SHEET]
            if MOVED_SHEET in workbook.sheetnames
            else workbook.create_sheet(MOVED_SHEET)
        )
        existing = [list(row) for row in target.iter_rows(values_only=True)]
        target.delete_rows(1, target.max_row)
        for number, row in enumerate(moved_rows(existing, moved), start=1):
            for column, value in enumerate(row, start=1):
                if value is not None:
                    target.cell(row=number, column=column, value=value)
