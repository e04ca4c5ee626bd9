"""還元: after consolidating, each department gets back what became of what it reported.

A workbook per department in ``reports/還元/<年度>/`` — its projects, one row per entry it answers,
with the baseline, every year the history holds and this year's published value, the target where
the plan sets one — and a mail draft (``.eml``) that carries it. The values are the ones the table
printed: a joint entry shows the entry's combined value, with the department's own share beside it
where the history keeps shares. Department text is written as text, never as a formula.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter

from xlplan.findings import Finding
from xlplan.mail import build_message, write_eml
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.grading import Achievement
from xlplan.plan.model import Department, Entry, MailTemplate, Plan, Project
from xlplan.plan.values import Value
from xlplan.publish.table import EntryYears, ProjectBlock, Table, history_years
from xlplan.publish.writer import unit_format
from xlplan.xlsx.atomic import replace_into, temporary_beside
from xlplan.xlsx.cells import clean_text, file_name, looks_like_formula
from xlplan.xlsx.text import estimate_lines

FOLDER = "還元"
MAIL_KIND = "還元"
DEFAULT_MAIL = MailTemplate(
    "{年度}の実績の取りまとめ結果（{計画名}）",
    "{担当課} {担当者} 様\n\n{照会元}です。{年度}の実績照会にご回答いただき、ありがとうございました。\n"
    "取りまとめた結果のうち、貴課の事業の値の推移を添付のブックにまとめました。\n"
    "今後の取り組みの参考にしてください。\n",
)
"""Used when the master has no 還元メール件名/本文 (masters made before this mail existed)."""


@dataclass(frozen=True)
class Digest:
    """One department's 還元 workbook and its mail draft."""

    department: str
    workbook: Path
    mail: Path | None
    rows: int


def write_digests(
    table: Table, folder: Path, *, now: dt.datetime | None = None, answered: Collection[str] | None = None
) -> tuple[list[Digest], list[Finding]]:
    """Write every department's 還元 workbook (and mail draft) into ``folder``.

    ``answered``: the departments with an accepted return (None: every department). One that sent
    nothing — and has no value of its own in the table, as a late answer the office typed into the
    master — gets no workbook and no mail thanking it for its answer; ``digest-not-answered`` names them.
    Returns the digests and findings (``digest-no-email`` for a department without an address).
    """
    plan = table.plan
    years = [*history_years(plan), plan.settings.current_year]
    history = EntryYears(plan)
    rows_by_department: dict[str, list[list[Any]]] = defaultdict(list)
    valued: set[str] = set()
    for section in table.sections:
        for item in section.items:
            if not isinstance(item, ProjectBlock):
                continue
            for row in item.rows:
                for member in row.entry.members:
                    registered = plan.canonical_department(member)
                    if registered is None:
                        continue
                    if not row.entry.joint and not row.current.is_blank:
                        valued.add(registered)  # the master's own record of a late answer counts too
                    rows_by_department[registered].append(
                        _row(
                            plan,
                            history,
                            item.project,
                            row.entry,
                            member,
                            years,
                            row.current,
                            row.achievement,
                        )
                    )
    folder.mkdir(parents=True, exist_ok=True)
    digests: list[Digest] = []
    findings: list[Finding] = []
    unanswered: list[str] = []
    for department in plan.departments:
        rows = rows_by_department.get(department.name)
        if not rows:
            continue
        if answered is not None and department.name not in answered and department.name not in valued:
            unanswered.append(department.name)
            continue
        stem = file_name(f"還元_{plan.settings.current_year.wareki}_{department.name}")
        workbook = folder / f"{stem}.xlsx"
        _write_workbook(plan, department, years, rows, workbook)
        mail = None
        if department.email and plan.settings.office_email:
            mail = folder / f"{stem}.eml"
            _write_mail(plan, department, workbook, mail, now)
        elif not plan.settings.office_email:  # the sender is missing, not the departments' addresses
            noted = {finding.code for finding in findings}
            if "digest-no-office-email" not in noted:
                findings.append(Finding("digest-no-office-email", {"folder": str(folder)}))
        else:
            findings.append(
                Finding("digest-no-email", {"department": department.name, "file": workbook.name})
            )
        digests.append(Digest(department.name, workbook, mail, len(rows)))
    if unanswered:
        findings.append(Finding("digest-not-answered", {"departments": "、".join(unanswered)}))
    return digests, findings


def _row(plan: Plan, history: EntryYears, project: Project, entry: Entry, member: str,
         years: Sequence[FiscalYear], current: Value, graded: Achievement | None) -> list[Any]:  # fmt: skip
    values = [history.past(project, entry, year, None) for year in years[:-1]] + [current]
    share = None
    if entry.joint:
        share = history.past(project, entry, plan.settings.previous_year, member)
    return [project.no, project.description, project.indicator, project.unit, entry.name, project.baseline,
            *values, project.target, project.target_year.wareki if project.target_year else None,
            _rate(graded), graded.grade if graded else None, graded.reason if graded else None, share]  # fmt: skip


def _rate(graded: Achievement | None) -> str | None:
    """The 達成率 as the table prints it (82.4%), or None."""
    return graded.rate_text or None if graded is not None else None


def _write_workbook(plan: Plan, department: Department, years: Sequence[FiscalYear], rows: list[list[Any]],
                    path: Path) -> None:  # fmt: skip
    settings = plan.settings
    temporary = temporary_beside(path)
    book = xlsxwriter.Workbook(str(temporary), {"strings_to_formulas": False, "strings_to_urls": False})
    try:
        sheet = book.add_worksheet("実績の推移")
        title = book.add_format({"bold": True, "font_size": 14})
        header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                  "valign": "vcenter", "align": "center"})  # fmt: skip
        text = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
        quoted = book.add_format({"border": 1, "text_wrap": True, "valign": "top", "quote_prefix": True})
        centre = book.add_format({"border": 1, "align": "center", "valign": "top"})
        numbers: dict[str, Any] = {}
        sheet.write_string(
            0,
            0,
            clean_text(f"{settings.plan_name}　{settings.current_year.wareki}の実績（{department.name}）"),
            title,
        )
        sheet.write_string(
            1,
            0,
            "集約表（事業実績一覧）に載った値です。共同で報告する事業は、共同の合計を示し、課ごとの内訳が記録されている場合は前年度の貴課の分も示します。",
        )
        names = ["事業番号", f"{settings.levels[-1]}の内容", "数値目標", "単位", "担当課",
                 f"現状値（{settings.year_label(settings.baseline_year)}）",
                 *(year.wareki for year in years[:-1]), f"今年度（{settings.current_year.wareki}）",
                 "目標値", "目標年度", "達成率", "評価", "評価の理由", f"前年度の貴課の分（{settings.previous_year.wareki}）"]  # fmt: skip
        for column, name in enumerate(names):
            sheet.write_string(3, column, name, header)
        sheet.set_row(3, 48)  # three lines: 前年度の貴課の分（令和元年度） wraps in its column
        widths = [8, 40, 24, 6, 16, 12, *([11] * len(years)), 11, 10, 9, 7, 36, 14]
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        for offset, row in enumerate(rows, start=4):
            height = 1
            for column, value in enumerate(row):
                if isinstance(value, Value):
                    _value(book, sheet, offset, column, value, numbers, centre)
                elif isinstance(value, int):
                    sheet.write_number(offset, column, value, centre)
                elif value is None:
                    sheet.write_blank(offset, column, None, text)
                else:
                    cleaned = clean_text(str(value))
                    sheet.write_string(
                        offset, column, cleaned, quoted if looks_like_formula(cleaned) else text
                    )
                    height = max(height, estimate_lines(cleaned, widths[column], 11))
            sheet.set_row(offset, 15 * height + 3)
        sheet.freeze_panes(4, 2)
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(3)
        book.close()
        replace_into(temporary, path)
    except Exception:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _value(
    book: Any, sheet: Any, row: int, column: int, value: Value, numbers: dict[str, Any], centre: Any
) -> None:
    if value.number is not None:
        code = unit_format(value)
        found = numbers.get(code)
        if found is None:
            found = numbers[code] = book.add_format(
                {"border": 1, "align": "center", "valign": "top", "num_format": code}
            )
        sheet.write_number(row, column, float(value.number), found)
    elif value.mark is not None:
        sheet.write_string(row, column, value.mark.value, centre)
    else:
        sheet.write_blank(row, column, None, centre)


def _write_mail(
    plan: Plan, department: Department, workbook: Path, path: Path, now: dt.datetime | None
) -> None:
    settings = plan.settings
    if MAIL_KIND not in settings.mail:
        plan = dataclasses.replace(
            plan, settings=dataclasses.replace(settings, mail={**settings.mail, MAIL_KIND: DEFAULT_MAIL})
        )
    # Made again with every table (the values may have changed): written beside, then moved in.
    temporary = temporary_beside(path)
    try:
        write_eml(build_message(plan, department, MAIL_KIND, workbook, now=now), temporary)
        replace_into(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
