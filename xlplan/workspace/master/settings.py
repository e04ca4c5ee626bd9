"""The master's 設定 sheet, read into :class:`~xlplan.plan.model.Settings` with a finding on each bad cell.

Each setting is checked on its own (a year, a date, an address, a port) and against the others:
the years in order, the deadline within the year being reported or after it, the round a whole
number, no level left empty above a level that is filled. A master that fails any of these would
give departments and the public a table with impossible years or a mail with a hole in it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

from xlplan.plan.codes import municipality_code
from xlplan.plan.fiscal_year import FiscalYear, FiscalYearError, parse_fiscal_year
from xlplan.plan.model import MailTemplate, Settings, parse_imap, parse_smtp
from xlplan.workspace.master.addresses import mail_address
from xlplan.workspace.master.cells import date_of
from xlplan.workspace.master.cells import positive_int as _positive_int
from xlplan.workspace.master.cells import text_of as _text
from xlplan.workspace.master.format import (
    K_BASELINE,
    K_BASELINE_LABEL,
    K_CURRENT,
    K_DEADLINE,
    K_LABEL,
    K_LEVEL,
    K_MUNICIPALITY_CODE,
    K_OFFICE,
    K_OFFICE_CONTACT,
    K_OFFICE_EMAIL,
    K_PAST_YEARS,
    K_PLAN_NAME,
    K_PREVIOUS,
    K_ROUND,
    K_SLOGAN,
    K_TITLE,
    MAIL_KINDS,
    PAST_YEARS_MAX,
    SHEET_SETTINGS,
    parse_past_years,
)
from xlplan.workspace.master.targets import Report


def read_settings(report: Report, sheet: Worksheet) -> Settings | None:
    """The 設定 sheet as :class:`Settings`; None when a setting the plan cannot do without is missing
    or unreadable (the findings, sent to ``report``, say which cell)."""
    values: dict[str, tuple[Any, str]] = {}
    for row_number, row in enumerate(sheet.iter_rows(min_row=2, max_col=2, values_only=True), start=2):
        key = _text(row[0]) if row else None
        if key:
            values[key] = (row[1] if len(row) > 1 else None, f"B{row_number}")

    def cell_of(key: str) -> str:
        return values.get(key, (None, "B1"))[1]

    def fail(code: str, setting: str, **params: Any) -> None:
        report.fail(code, sheet=SHEET_SETTINGS, cell=cell_of(setting), **params)

    def text(key: str, required: bool = False, strip: bool = True) -> str | None:
        result = _text(values.get(key, (None, ""))[0], strip=strip)
        if required and not result:
            fail("master-missing-setting", key, key=key)
        return result

    def year(key: str) -> FiscalYear | None:
        raw = values.get(key, (None, ""))[0]
        if raw is None or _text(raw) is None:
            fail("master-missing-setting", key, key=key)
            return None
        try:
            return parse_fiscal_year(_text(raw) if not isinstance(raw, int) else raw)
        except FiscalYearError:
            fail("master-bad-fiscal-year", key, value=str(raw))
            return None

    levels: list[str] = []
    while (name := text(f"{K_LEVEL}{len(levels) + 1}")) is not None:
        levels.append(name)
    if not levels:
        report.fail("master-no-levels", sheet=SHEET_SETTINGS)
    level_keys = {key for key in values if key.startswith(K_LEVEL) and key[len(K_LEVEL) :].isdecimal()}
    filled = [int(key[len(K_LEVEL) :]) for key in level_keys if _text(values[key][0])]
    if any(number > len(levels) + 1 for number in filled):  # 階層3 filled under an empty 階層2
        gap = f"{K_LEVEL}{len(levels) + 1}"
        fail("master-missing-setting", gap, key=gap)
    plan_name = text(K_PLAN_NAME, required=True)
    title = text(K_TITLE, required=True)
    baseline, previous, current = year(K_BASELINE), year(K_PREVIOUS), year(K_CURRENT)
    if previous and current and previous.western >= current.western:
        fail("master-years-out-of-order", K_PREVIOUS, previous=previous.wareki, current=current.wareki)
    elif baseline and previous and current and baseline.western > previous.western:
        fail("master-baseline-after-previous", K_BASELINE, baseline=baseline.wareki, previous=previous.wareki)
    deadline = _date(report, values.get(K_DEADLINE, (None, cell_of(K_DEADLINE))))
    if deadline is not None and current is not None and deadline < dt.date(current.western, 4, 1):
        # 締切 2020/5/31 for 令和8年度: every department overdue the day the workbooks go out.
        fail(
            "master-deadline-before-year",
            K_DEADLINE,
            deadline=f"{deadline.year}年{deadline.month}月{deadline.day}日",
            year=current.wareki,
        )
    round_raw = values.get(K_ROUND, (1, ""))[0]
    round_number = 1 if round_raw in (None, "") else _positive_int(round_raw)
    if round_number is None:  # 1.5, 0 or -3 would name a folder and every return's round
        fail("master-bad-round", K_ROUND, value=str(round_raw))
        round_number = 1
    past_raw = values.get(K_PAST_YEARS, (1, ""))[0]
    past_years = parse_past_years(past_raw)
    if past_years is None:
        fail("master-bad-past-years", K_PAST_YEARS, value=str(past_raw), most=PAST_YEARS_MAX)
    raw_code = values.get(K_MUNICIPALITY_CODE, (None, ""))[0]
    # A code typed as a number loses its leading zero (011002 → 11002): put it back.
    code_text = f"{int(raw_code):06d}" if isinstance(raw_code, (int, float)) else _text(raw_code)
    code = municipality_code(code_text) if code_text else None
    if code_text and code is None:
        fail("master-bad-municipality-code", K_MUNICIPALITY_CODE, value=code_text)
    mail: dict[str, MailTemplate] = {}
    for kind in MAIL_KINDS:
        subject, body = text(f"{kind}メール件名"), text(f"{kind}メール本文", strip=False)
        if subject is not None or body is not None:
            mail[kind] = MailTemplate(subject or "", body or "")
    known = {K_PLAN_NAME, K_TITLE, K_LABEL, K_SLOGAN, K_BASELINE, K_BASELINE_LABEL, K_PREVIOUS, K_CURRENT, K_ROUND,
             K_PAST_YEARS, K_MUNICIPALITY_CODE, K_DEADLINE, K_OFFICE, K_OFFICE_CONTACT, K_OFFICE_EMAIL}  # fmt: skip
    known |= level_keys
    known |= {f"{kind}メール{part}" for kind in MAIL_KINDS for part in ("件名", "本文")}
    extra = {key: _text(raw) or "" for key, (raw, _cell) in values.items() if key not in known}
    # Typed when the master is read: a bad port is a master finding, not a failure at the first send or fetch.
    for finding in (*parse_smtp(extra)[1], *parse_imap(extra)[1]):
        key = str(finding.params.get("key"))
        report.fail(
            finding.code, sheet=SHEET_SETTINGS, cell=values.get(key, (None, None))[1], **finding.params
        )
    office_email = checked_address(report, text(K_OFFICE_EMAIL), SHEET_SETTINGS, cell_of(K_OFFICE_EMAIL))
    if not (levels and plan_name and title and baseline and previous and current):
        return None
    return Settings(
        plan_name=plan_name,
        title=title,
        levels=tuple(levels),
        baseline_year=baseline,
        previous_year=previous,
        current_year=current,
        document_label=text(K_LABEL),
        slogan=text(K_SLOGAN),
        baseline_label=text(K_BASELINE_LABEL),
        deadline=deadline,
        round=round_number,
        past_years=past_years or 1,
        municipality_code=code,
        office=text(K_OFFICE),
        office_contact=text(K_OFFICE_CONTACT),
        office_email=office_email,
        mail=mail,
        extra=extra,
    )


def checked_address(report: Report, typed: str | None, sheet: str, cell: str) -> str | None:
    """A mail address cell made half-width; a finding when it is not an address."""
    address = mail_address(typed) if typed is not None else None
    if typed is not None and address is None:
        report.fail("master-bad-address", sheet=sheet, cell=cell, address=typed)
    return address


def _date(report: Report, item: tuple[Any, str]) -> dt.date | None:
    raw, cell = item
    try:
        return date_of(raw)
    except ValueError:
        report.fail("master-bad-date", sheet=SHEET_SETTINGS, cell=cell, value=str(raw))
        return None
