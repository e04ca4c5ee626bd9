"""Targets read back from xlplan's own tables: the 推移 sheet prints each 数値目標's 目標値, 目標年度 and
方向 (the table's sections do not), so a city that starts a workspace from its last table keeps them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from xlplan.adoption.cells import cell_at, text_of
from xlplan.plan.fiscal_year import FiscalYear, FiscalYearError, parse_fiscal_year
from xlplan.plan.grading import DIRECTIONS
from xlplan.xlsx.cells import a1

TRENDS_SHEET = "推移"
TRENDS_HEADER_SEARCH = 10  # rows from the top where the 推移 sheet's header may be

Target = tuple[Decimal, FiscalYear | None, str | None]
"""A project's 目標値 (the number; its unit is the project's), 目標年度 and 方向 as printed."""
Fail = Callable[..., None]
"""Records a finding: ``fail(code, sheet=…, cell=…, **params)``."""


def read_targets(sheets: Sequence[tuple[str, list[list[Any]]]], fail: Fail) -> dict[int, Target]:
    """Each project's 目標値, 目標年度 and 方向 as the 推移 sheet of xlplan's own tables prints them
    (the table itself does not); nothing from a table without that sheet."""
    rows = next((rows for title, rows in sheets if title == TRENDS_SHEET), [])
    header = next((i for i, row in enumerate(rows[:TRENDS_HEADER_SEARCH]) if _has_targets(row)), None)
    if header is None:
        return {}
    texts = [text_of(cell) for cell in rows[header]]
    at = {name: texts.index(name) for name in ("事業番号", "目標値", "目標年度", "方向")}
    found: dict[int, Target] = {}
    for number, row in enumerate(rows[header + 1 :], start=header + 2):
        no, target = (getattr(cell_at(row, at[name]), "value", None) for name in ("事業番号", "目標値"))
        if not isinstance(no, (int, float)) or isinstance(no, bool) or not isinstance(target, (int, float)):
            continue  # a note, a hidden row of the charts' target lines, or a row without a target
        year_text, direction = (text_of(cell_at(row, at[name])) for name in ("目標年度", "方向"))
        year = None
        if year_text:
            try:
                year = parse_fiscal_year(year_text)
            except FiscalYearError:
                fail("table-bad-target", sheet=TRENDS_SHEET, cell=a1(number, at["目標年度"] + 1),
                     header="目標年度", value=year_text)  # fmt: skip
        if direction and direction not in DIRECTIONS:
            fail("table-bad-target", sheet=TRENDS_SHEET, cell=a1(number, at["方向"] + 1),
                 header="方向", value=direction)  # fmt: skip
            direction = None
        found.setdefault(int(no), (_decimal(target), year, direction))
    return found


def _decimal(number: float) -> Decimal:
    """The number as the cell holds it: 60 for 60.0, 1.6 for 1.6 (a float's shortest form)."""
    exact = Decimal(repr(float(number)))
    return Decimal(int(exact)) if exact == exact.to_integral_value() else exact


def _has_targets(row: list[Any]) -> bool:
    texts = {text_of(cell) for cell in row}
    return {"事業番号", "目標値", "目標年度", "方向"} <= texts
