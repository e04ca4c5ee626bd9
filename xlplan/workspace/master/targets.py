"""A project's target (計画 sheet: 目標値・目標年度・方向) and the plan's 評価基準 sheet, read with findings.

The 評価基準 sheet has 項目・値・説明 rows like the 設定 sheet (算式, 按分, 変化なしの幅, 変化なしの区分,
評価できない区分), then, under a row whose A cell is 区分, the grades: 区分・下限・説明, highest first.
:mod:`xlplan.plan.grading` applies what is read; this module only reads and reports.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from openpyxl.worksheet.worksheet import Worksheet

from xlplan.findings import Finding
from xlplan.plan.fiscal_year import FiscalYear, FiscalYearError, parse_fiscal_year
from xlplan.plan.grading import DEFAULT_RULE, DIRECTIONS, KEEP, METHODS, Grade, GradingRule, direction_of
from xlplan.plan.values import Value, parse_value
from xlplan.workspace.master.cells import text_of as _text
from xlplan.workspace.master.format import (
    C_DIRECTION,
    C_TARGET,
    C_TARGET_YEAR,
    G_BAND,
    G_BAND_LABEL,
    G_METHOD,
    G_PRORATE,
    G_TABLE,
    G_UNGRADED,
    GRADING_ITEMS,
    NO,
    SHEET_GRADING,
    SHEET_PLAN,
    YES,
)
from xlplan.xlsx.cells import a1


class Report(Protocol):
    """Where findings go: the master reader, which collects them all before it stops."""

    findings: list[Finding]

    def fail(self, code: str, sheet: str | None = None, cell: str | None = None, **params: Any) -> None: ...

    def bad_value(self, sheet: str, cell: str, raw: Any, parsed: Any, unit: str | None) -> None: ...


def read_target(
    report: Report, fields: dict[str, Any], unit: str | None, baseline: Value, prorate: bool
) -> tuple[Value | None, FiscalYear | None, str | None]:
    """A project's 目標値, 目標年度 and 方向 (each None where blank) from its 計画 row's ``fields``.

    Each bad cell is a finding naming it: a target that is not a number of the row's unit, a year
    that is none, a 方向 other than 増加・減少・維持 or one the target contradicts, and, where the rule
    pro-rates (``prorate``), a target without its year.
    """
    cells: dict[str, str] = fields.get("target_cells", {})
    target: Value | None = None
    if fields["target"] is not None:
        parsed = parse_value(fields["target"], unit, unit_known=True)
        if not parsed.ok or parsed.value is None:
            report.bad_value(SHEET_PLAN, cells[C_TARGET], fields["target"], parsed, unit)
        elif parsed.value.number is None:  # a mark has no 達成率
            report.fail("master-bad-target", sheet=SHEET_PLAN, cell=cells[C_TARGET], value=fields["target"])
        else:
            target = parsed.value
    year: FiscalYear | None = None
    raw_year = fields["target_year"]
    if raw_year is not None and _text(raw_year) is not None:
        try:
            year = parse_fiscal_year(raw_year if isinstance(raw_year, int) else _text(raw_year) or "")
        except FiscalYearError:
            report.fail(
                "master-bad-fiscal-year", sheet=SHEET_PLAN, cell=cells[C_TARGET_YEAR], value=str(raw_year)
            )
    if target is not None and year is None and raw_year is None and prorate:
        report.fail(
            "master-target-year-needed", sheet=SHEET_PLAN, cell=cells.get(C_TARGET_YEAR, cells[C_TARGET])
        )
    direction = fields["direction"]
    if direction is not None:
        if direction not in DIRECTIONS:
            report.fail("master-bad-direction", sheet=SHEET_PLAN, cell=cells[C_DIRECTION], value=direction,
                      expected="・".join(DIRECTIONS))  # fmt: skip
            direction = None
        elif (
            target is not None
            and direction != KEEP
            and direction_of(baseline, target) not in (direction, KEEP, None)
        ):
            # 増加 with a target below the baseline (or 減少 above it): one of the two cells is mistyped.
            report.fail("master-direction-conflict", sheet=SHEET_PLAN, cell=cells[C_DIRECTION], value=direction,
                      target=target.display(), baseline=baseline.display())  # fmt: skip
    return target, year, direction


def read_rule(report: Report, sheet: Worksheet) -> GradingRule:
    """The 評価基準 sheet: 項目・値・説明 rows, then the 区分 table under the row whose A cell is 区分.

    Percentages may be typed as 80, ８０, 80% (text) or 80% in a percent-formatted cell (0.8).
    Every bad cell is a finding naming it; the default rule stands in for what could not be read.
    """
    items: dict[str, tuple[Any, str, str | None]] = {}  # 項目 → (value, its cell, its number format)
    grades: list[Grade] = []
    in_table = False
    for row_number, row in enumerate(sheet.iter_rows(min_row=2, max_col=3), start=2):
        key = _text(row[0].value) if row else None
        if not key:
            continue
        value_cell = row[1] if len(row) > 1 else None
        raw = value_cell.value if value_cell is not None else None
        address = a1(row_number, 2)
        if key == G_TABLE and not in_table:
            in_table = True
            continue
        if in_table:
            minimum: Decimal | None = None
            if _text(raw) is not None:
                minimum = percent(raw, getattr(value_cell, "number_format", None))
                if minimum is None:
                    report.fail(
                        "master-grading-bad-number",
                        sheet=SHEET_GRADING,
                        cell=address,
                        key=key,
                        value=str(raw),
                    )
                    continue
            description = _text(row[2].value) if len(row) > 2 else None
            if any(grade.label == key for grade in grades):
                report.fail(
                    "master-grading-duplicate-grade",
                    sheet=SHEET_GRADING,
                    cell=a1(row_number, 1),
                    label=key,
                )
                continue
            above = grades[-1] if grades else None
            if above is not None and (
                above.minimum is None or (minimum is not None and minimum >= above.minimum)
            ):
                # Grades are read from the top: each must need less than the one above it.
                report.fail("master-grading-order", sheet=SHEET_GRADING, cell=address, label=key,
                          value=str(raw) if raw is not None else "", above=above.label)  # fmt: skip
                continue
            grades.append(Grade(key, minimum, description))
        elif key not in GRADING_ITEMS:
            report.fail("master-grading-unknown-item", sheet=SHEET_GRADING, cell=a1(row_number, 1), key=key,
                      known="・".join(GRADING_ITEMS))  # fmt: skip
        else:
            items[key] = (raw, address, getattr(value_cell, "number_format", None))
    rule = DEFAULT_RULE
    method_raw, method_cell, _ = items.get(G_METHOD, (None, "B2", None))
    method = _text(method_raw) or rule.method
    if method not in METHODS:
        report.fail("master-grading-bad-method", sheet=SHEET_GRADING, cell=method_cell, value=method,
                  expected="・".join(METHODS))  # fmt: skip
        method = rule.method
    prorate_raw, prorate_cell, _ = items.get(G_PRORATE, (None, "B3", None))
    prorate_text = _text(prorate_raw) or NO
    if prorate_text not in (YES, NO):
        report.fail("master-grading-bad-switch", sheet=SHEET_GRADING, cell=prorate_cell, key=G_PRORATE,
                  value=prorate_text)  # fmt: skip
    band: Decimal | None = None
    band_item = items.get(G_BAND)
    if band_item is not None and _text(band_item[0]) is not None:
        band = percent(band_item[0], band_item[2])
        if band is None or band < 0:
            report.fail("master-grading-bad-number", sheet=SHEET_GRADING, cell=band_item[1], key=G_BAND,
                      value=str(band_item[0]))  # fmt: skip
            band = None
    if not grades and not any(finding.sheet == SHEET_GRADING for finding in report.findings):
        report.fail("master-grading-no-grades", sheet=SHEET_GRADING, cell="A:A")
    return GradingRule(
        method=method,
        prorate=prorate_text == YES,
        grades=tuple(grades) or rule.grades,
        band=band,
        band_label=_text(items.get(G_BAND_LABEL, (None, "", None))[0]) or rule.band_label,
        ungraded=_text(items.get(G_UNGRADED, (None, "", None))[0]) or rule.ungraded,
    )


def percent(raw: Any, number_format: str | None) -> Decimal | None:
    """A percentage as typed: 80, ８０, "80%", or 0.8 in a percent-formatted cell; None if it is none."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        number = Decimal(str(raw))
        if number_format and "%" in number_format and '"%"' not in number_format:
            number *= 100  # Excel keeps 80% as 0.8
        return number.normalize() if number == number.to_integral_value() else number
    text = (
        unicodedata.normalize("NFKC", _text(raw) or "").replace("％", "%").strip().removesuffix("%").strip()
    )
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
