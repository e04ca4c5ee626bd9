"""The consolidated table as open data: CSV (UTF-8 with BOM) and the same records as JSON.

One row per printed department row (担当課の行), no merged, heading or
decorative rows: every row repeats its project and hierarchy so that it stands
alone. One value per cell: each of the three years has its 和暦 and 西暦 year,
the number, the unit and the mark in separate columns. Column names are stable
across years (``今年度_数値``), and the year itself is data (``今年度_年度（西暦）``),
so files of successive years can be stacked.

The columns follow 総務省's rules for machine-readable data (「機械判読可能なデータの表記方法の
統一ルール」): the 全国地方公共団体コード first (from the 団体コード setting), so that a prefecture
can stack its cities' files; and no 機種依存文字 in the CSV: ①, Ⅰ, ㈱, half-width katakana are
written in their standard forms (1, I, (株), full-width), and :func:`platform_dependent_findings`
names each free-text cell that had one, so the office can mend the source too.

The BOM makes Excel open the CSV as UTF-8 (without it, Japanese Excel assumes
Shift_JIS). Text is exact in the JSON; in the CSV a text cell that a
spreadsheet would evaluate as a formula (starting with ``=`` ``+`` ``-`` ``@``,
a tab or a line break) gets a leading apostrophe, as OWASP recommends against
CSV injection, so it is shown as text when someone opens the CSV in Excel.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlplan.findings import Finding
from xlplan.form.rows import canonical_names
from xlplan.plan.codes import platform_dependent, without_platform_dependent
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.values import Value
from xlplan.publish.table import ProjectBlock, Table
from xlplan.xlsx.cells import looks_like_formula

CODE_COLUMN = "全国地方公共団体コード"
_YEAR_PARTS = ("年度（和暦）", "年度（西暦）", "数値", "単位", "記号")
_PERIODS = (("現状値", "baseline"), ("前年度", "previous"), ("今年度", "current"))


def columns(table: Table) -> list[str]:
    """The CSV header: plan, hierarchy (number and name per level), project, entry, three years, narrative,
    then the target and the grade (目標値, 達成率, 評価, 評価の理由)."""
    levels = table.plan.levels
    names = [CODE_COLUMN, "計画名"]
    for level in levels[:-1]:
        names += [f"{level}番号", level]
    names += [f"{levels[-1]}番号", f"{levels[-1]}の内容", "数値目標", "担当課", "担当課（構成課）", "共同"]
    for period, _ in _PERIODS:
        names += [f"{period}_{part}" for part in _YEAR_PARTS]
    names.append("今年度_実績内容")
    # Added after the columns of earlier versions, so that files read by position keep working.
    names += [f"目標値_{part}" for part in _YEAR_PARTS[:4]]
    names += ["達成率", "評価", "評価の理由"]
    return names


def records(table: Table) -> list[dict[str, Any]]:
    """One dict per department row, keyed by :func:`columns`; values exact (numbers as numbers)."""
    plan = table.plan
    settings = plan.settings
    levels = plan.levels
    years = {
        "baseline": settings.baseline_year,
        "previous": settings.previous_year,
        "current": settings.current_year,
    }
    names = columns(table)
    registry = canonical_names(plan)  # members as the registry names them (对 printed, 対 registered)
    rows: list[dict[str, Any]] = []
    for section in table.sections:
        for item in section.items:
            if not isinstance(item, ProjectBlock):
                continue
            project = item.project
            hierarchy: list[Any] = []
            for depth in range(len(levels) - 1):
                node = plan.node(project.node[: depth + 1]) if depth < len(project.node) else None
                hierarchy += [node.number if node else None, node.title if node else None]
            for row in item.rows:
                values = {"baseline": project.baseline, "previous": row.previous, "current": row.current}
                cells: list[Any] = [settings.municipality_code, settings.plan_name, *hierarchy]
                cells += [
                    project.no,
                    project.description,
                    project.indicator,
                    row.entry.name,
                    "、".join(
                        registry.get(m, m) for m in row.entry.members
                    ),  # not ・, in names: 人権・同和対策室
                    row.entry.joint,
                ]
                for _period, key in _PERIODS:
                    cells += _year_cells(years[key], values[key])
                cells.append(row.narrative)
                cells += _target_cells(project.target_year, project.target)
                graded = row.achievement
                # 達成率 in percent (82.4 is 82.4%), as the table prints it.
                cells += [_number(graded.rate), graded.grade, graded.reason] if graded else [None] * 3
                rows.append(dict(zip(names, cells, strict=True)))
    return rows


def _number(number: Decimal | None) -> int | float | None:
    # An int where the value is whole, so the CSV shows 159, not 159.0.
    if number is None:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _year_cells(year: FiscalYear, value: Value) -> list[Any]:
    return [
        year.wareki,
        year.western,
        _number(value.number),
        value.unit if value.number is not None else None,
        value.mark.value if value.mark is not None else None,
    ]


def _target_cells(year: FiscalYear | None, target: Value | None) -> list[Any]:
    """目標値's year (和暦, 西暦), number and unit; blank for a project without a target."""
    number = target.number if target is not None else None
    return [
        year.wareki if year is not None and number is not None else None,
        year.western if year is not None and number is not None else None,
        _number(number),
        target.unit if target is not None and number is not None else None,
    ]


def csv_text(table: Table, rows: Sequence[dict[str, Any]] | None = None) -> str:
    """The CSV document (without the BOM, which :func:`write_csv` adds)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    names = columns(table)
    writer.writerow(names)
    for record in records(table) if rows is None else rows:
        writer.writerow([_csv_cell(record[name]) for name in names])
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        value = without_platform_dependent(value)
        if looks_like_formula(value) and value not in ("-", "+"):  # a lone sign is no formula: 評価 "-"
            return "'" + value
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")  # 0.0000005, never 5e-07
    return value


def platform_dependent_findings(table: Table, rows: Sequence[dict[str, Any]] | None = None) -> list[Finding]:
    """A warning for each free-text cell of the CSV that has 機種依存文字 (the hierarchy's numbers,
    ① and Ⅰ in many plans, are written as 1 and I without one each)."""
    found = []
    numbering = {f"{level}番号" for level in table.plan.levels}
    names = [name for name in columns(table) if name not in numbering]
    for line, record in enumerate(records(table) if rows is None else rows, start=2):  # 1: the header
        for name in names:
            value = record[name]
            characters = platform_dependent(value) if isinstance(value, str) else ""
            if not characters:
                continue
            where = {"row": line, "column": name, "no": record[f"{table.plan.levels[-1]}番号"],
                     "department": record["担当課"]}  # fmt: skip
            # IBM extension kanji (髙, 﨑) have no standard form to write instead: said as kept, not replaced.
            changed = "".join(c for c in characters if without_platform_dependent(c) != c)
            kept = "".join(c for c in characters if c not in changed)
            if changed:
                found.append(Finding("opendata-platform-dependent", {
                    **where, "characters": changed, "replaced": without_platform_dependent(changed)}))  # fmt: skip
            if kept:
                found.append(Finding("opendata-platform-dependent-kept", {**where, "characters": kept}))
    return found


def write_csv(table: Table, path: Path, rows: Sequence[dict[str, Any]] | None = None) -> None:
    """Write the CSV, UTF-8 with BOM and CRLF line ends (what Excel and most tools expect).

    ``rows`` are :func:`records` already made (the CSV, the JSON and the character check share them).
    """
    path.write_text(csv_text(table, rows), encoding="utf-8-sig", newline="")


def json_document(table: Table, rows: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON document: the plan's names and years, then the same records as the CSV."""
    settings = table.plan.settings
    return {
        "plan_name": settings.plan_name,
        "title": settings.title,
        "levels": list(settings.levels),
        "fiscal_years": {
            key: {"wareki": year.wareki, "western": year.western}
            for key, year in (
                ("baseline", settings.baseline_year),
                ("previous", settings.previous_year),
                ("current", settings.current_year),
            )
        },
        "columns": columns(table),
        "rows": records(table) if rows is None else list(rows),
    }


def write_json(table: Table, path: Path, rows: Sequence[dict[str, Any]] | None = None) -> None:
    """Write the JSON document (UTF-8, Japanese as is)."""
    path.write_text(json.dumps(json_document(table, rows), ensure_ascii=False, indent=1), encoding="utf-8")
