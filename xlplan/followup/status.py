"""``xlplan status``: where each department stands in the current round, derived from the ledger.

Nothing here is stored separately: the state of a department is recomputed
from the ledger's dispatches, receipts, findings and acceptances every time,
so the table can never disagree with what actually happened. One state per
department, the first that applies in this order:

==========================  ===========  ==================================================
state                       shown as     when
==========================  ===========  ==================================================
``accepted``                受理         a return of this round is accepted (and not superseded)
``returned_with_errors``    要修正       the latest return has errors (a 差し戻し票 was made)
``received``                受信・確認中  a return arrived but has not been checked yet
``overdue``                 期限超過     the workbook was sent, nothing came back, the deadline passed
``sent``                    送付済み     the workbook was sent (or its mail drafted)
``not_sent``                未送付       no workbook has gone out to the department yet
==========================  ===========  ==================================================

A department whose return has errors after the deadline stays ``returned_with_errors``
(with ``overdue`` true): it answered, it needs a correction, not a reminder.

The same report is written as a formatted workbook (``reports/回答状況.xlsx``)
with :func:`write_status_workbook`.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from xlplan.findings import Finding, OutputError, not_writable
from xlplan.plan.model import Plan
from xlplan.workspace.folder import Workspace

State = Literal["accepted", "returned_with_errors", "received", "overdue", "sent", "not_sent"]

STATES: tuple[State, ...] = ("accepted", "returned_with_errors", "received", "overdue", "sent", "not_sent")
"""Every state, in the order a summary lists them."""

STATE_LABELS: dict[State, str] = {
    "accepted": "受理",
    "returned_with_errors": "要修正",
    "received": "受信・確認中",
    "overdue": "期限超過",
    "sent": "送付済み",
    "not_sent": "未送付",
}
"""What staff see for each state."""

STATE_LABELS_EN: dict[State, str] = {
    "accepted": "accepted",
    "returned_with_errors": "returned with errors",
    "received": "received",
    "overdue": "overdue",
    "sent": "sent",
    "not_sent": "not sent",
}

STATUS_WORKBOOK = "回答状況.xlsx"
"""File name of the status workbook in ``reports/``."""


@dataclass(frozen=True)
class DepartmentStatus:
    """One department's position in the round. Times are ISO 8601 strings from the ledger."""

    department: str
    state: State
    email: str | None
    rows: int  # rows the department answers in the plan (one per project share)
    sent_at: str | None = None  # the latest request: when sent, or when its mail was drafted
    dispatch: str | None = None  # that request's ledger status: drafted, sent, failed, skipped
    last_received_at: str | None = None  # the latest file from the department (duplicates excluded)
    accepted_at: str | None = None
    receipts: int = 0  # files received from the department, duplicates excluded
    duplicates: int = 0  # the same bytes received again
    errors: int = 0  # of the return that decides the state
    warnings: int = 0
    answered: int = 0  # answers stored from the accepted return
    feedback_at: str | None = None  # the latest 差し戻し票
    reminders: int = 0
    reminded_at: str | None = None  # the latest reminder drafted or sent
    overdue: bool = False  # the deadline passed and no return is accepted

    @property
    def label(self) -> str:
        """The state as staff see it (受理, 要修正, …)."""
        return STATE_LABELS[self.state]

    def to_dict(self) -> dict[str, Any]:
        """JSON data: every field plus the Japanese label."""
        return {**asdict(self), "label": self.label}


@dataclass(frozen=True)
class StatusReport:
    """The status of every department in the current round."""

    plan: str
    fiscal_year: str  # 和暦 label (令和2年度)
    fiscal_year_western: int
    round: int
    deadline: dt.date | None
    today: dt.date
    departments: tuple[DepartmentStatus, ...]
    unidentified: int = 0  # files of this fiscal year's inbox no department could be matched to
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def counts(self) -> dict[State, int]:
        """How many departments are in each state (every state present, zeros included)."""
        counts: dict[State, int] = {state: 0 for state in STATES}
        for item in self.departments:
            counts[item.state] += 1
        return counts

    def needs_action(self) -> bool:
        """True when a department has errors to correct or is overdue: the command exits 1."""
        return any(item.state in ("returned_with_errors", "overdue") for item in self.departments)

    def overdue(self) -> list[DepartmentStatus]:
        """Departments to remind: sent, nothing returned, deadline passed."""
        return [item for item in self.departments if item.state == "overdue"]

    def summary(self) -> str:
        """One Japanese line: ``受理 3・要修正 1・期限超過 2・… （全15課）``."""
        counts = self.counts()
        parts = [f"{STATE_LABELS[state]} {counts[state]}" for state in STATES if counts[state]]
        return "・".join(parts) + f"（全{len(self.departments)}課）"

    def to_dict(self) -> dict[str, Any]:
        """The JSON document printed by ``xlplan status --json``."""
        return {
            "plan": self.plan,
            "fiscal_year": {"wareki": self.fiscal_year, "western": self.fiscal_year_western},
            "round": self.round,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "today": self.today.isoformat(),
            "counts": dict(self.counts()),
            "needs_action": self.needs_action(),
            "unidentified_files": self.unidentified,
            "departments": [item.to_dict() for item in self.departments],
            "findings": [finding.to_dict() for finding in self.findings],
        }


def status(workspace: Workspace, *, today: dt.date | None = None) -> StatusReport:
    """Where each department stands in the current round (fiscal year and round from the master).

    Reads the master and the ledger; writes nothing (a missing round simply
    means nothing was sent yet).

    Args:
        workspace: the workspace.
        today: the date that decides "overdue" (default: the local date). The
            deadline day itself is not overdue.

    Returns:
        A :class:`StatusReport`, departments in the order of the master's registry.

    Raises:
        ConfigurationError: not a workspace, or the master has problems.

    Example::

        report = status(Workspace(Path("令和3年度")))
        print(report.summary())          # 受理 12・要修正 1・期限超過 2（全15課）
    """
    plan = workspace.load_plan()
    today = today or dt.date.today()
    connection = workspace.ledger()
    try:
        return _report(plan, connection, today)
    finally:
        connection.close()


def _report(plan: Plan, connection: sqlite3.Connection, today: dt.date) -> StatusReport:
    settings = plan.settings
    year = settings.current_year
    round_row = connection.execute(
        "SELECT id, deadline, opened_at FROM rounds WHERE fiscal_year = ? AND number = ?",
        (year.western, settings.round),
    ).fetchone()
    # The master is the authority on the deadline (staff may move it); the round's copy is a fallback.
    deadline = settings.deadline
    if deadline is None and round_row is not None and round_row["deadline"]:
        deadline = dt.date.fromisoformat(round_row["deadline"][:10])
    findings: list[Finding] = []
    if deadline is None:
        findings.append(Finding("status-no-deadline"))

    names = [department.name for department in plan.departments if any(plan.assignments(department.name))]
    emails = {department.name: department.email for department in plan.departments}
    rows = {name: sum(1 for _ in plan.assignments(name)) for name in names}
    unidentified = 0
    if round_row is not None:
        round_id = int(round_row["id"])
        # A department the ledger knows in this round but the registry no longer lists
        # (renamed, merged) is still shown, so nothing that happened disappears.
        for (name,) in connection.execute(
            "SELECT department FROM dispatches WHERE round_id = ? "
            "UNION SELECT department FROM receipts WHERE round_id = ? AND department IS NOT NULL",
            (round_id, round_id),
        ):
            if name not in rows:
                names.append(name)
                rows[name] = 0
        # Files nobody could be matched to carry no round; count those that came in since it opened.
        unidentified = connection.execute(
            "SELECT COUNT(*) FROM receipts WHERE department IS NULL AND status NOT IN ('duplicate', 'mail') "
            "AND received_at >= (SELECT opened_at FROM rounds WHERE id = ?)",
            (round_id,),
        ).fetchone()[0]
        items = [
            _department(connection, round_id, name, emails.get(name), rows[name], deadline, today)
            for name in names
        ]
    else:
        items = [DepartmentStatus(name, "not_sent", emails.get(name), rows[name]) for name in names]
    return StatusReport(
        plan=settings.plan_name,
        fiscal_year=year.wareki,
        fiscal_year_western=year.western,
        round=settings.round,
        deadline=deadline,
        today=today,
        departments=tuple(items),
        unidentified=int(unidentified),
        findings=tuple(findings),
    )


def _department(
    connection: sqlite3.Connection,
    round_id: int,
    name: str,
    email: str | None,
    rows: int,
    deadline: dt.date | None,
    today: dt.date,
) -> DepartmentStatus:
    def dispatches(kind: str) -> list[sqlite3.Row]:
        return connection.execute(
            "SELECT * FROM dispatches WHERE round_id = ? AND department = ? AND kind = ? "
            "ORDER BY created_at, id",
            (round_id, name, kind),
        ).fetchall()

    requests = dispatches("request")
    # A request counts as gone out when its mail was sent, or drafted for staff to send by hand,
    # or its workbook was made for a department without an address (handed over by hand).
    delivered = [row for row in requests if row["status"] in ("sent", "drafted", "skipped")]
    latest_request: sqlite3.Row | None = (delivered or requests)[-1] if requests else None
    reminders = [row for row in dispatches("reminder") if row["status"] in ("sent", "drafted")]
    feedback = dispatches("feedback")

    receipts = connection.execute(
        "SELECT * FROM receipts WHERE round_id = ? AND department = ? ORDER BY received_at, id",
        (round_id, name),
    ).fetchall()
    originals = [row for row in receipts if row["status"] != "duplicate"]
    acceptance = connection.execute(
        "SELECT * FROM acceptances WHERE round_id = ? AND department = ? AND superseded_by IS NULL "
        "ORDER BY accepted_at DESC, id DESC LIMIT 1",
        (round_id, name),
    ).fetchone()

    deciding: sqlite3.Row | None = None  # the receipt whose findings are counted
    if acceptance is not None:
        state: State = "accepted"
        deciding = connection.execute(
            "SELECT * FROM receipts WHERE id = ?", (acceptance["receipt_id"],)
        ).fetchone()
    elif originals:
        deciding = originals[-1]
        # Anything but "invalid" (archived and not yet checked, or valid and waiting for
        # acceptance) is a return that nothing says is wrong.
        state = "returned_with_errors" if deciding["status"] == "invalid" else "received"
    elif delivered:
        state = "sent"
    else:
        state = "not_sent"
    past_deadline = deadline is not None and today > deadline
    if state == "sent" and past_deadline:
        state = "overdue"

    errors = warnings = answered = 0
    if deciding is not None:
        for severity, count in connection.execute(
            "SELECT severity, COUNT(*) FROM findings WHERE receipt_id = ? GROUP BY severity",
            (deciding["id"],),
        ):
            if severity == "error":
                errors = int(count)
            elif severity == "warning":
                warnings = int(count)
        if state == "accepted":
            answered = int(
                connection.execute(
                    "SELECT COUNT(*) FROM answers WHERE receipt_id = ?", (deciding["id"],)
                ).fetchone()[0]
            )
    return DepartmentStatus(
        department=name,
        state=state,
        email=email,
        rows=rows,
        sent_at=(latest_request["sent_at"] or latest_request["created_at"]) if latest_request else None,
        dispatch=latest_request["status"] if latest_request else None,
        last_received_at=originals[-1]["received_at"] if originals else None,
        accepted_at=acceptance["accepted_at"] if acceptance is not None else None,
        receipts=len(originals),
        duplicates=len(receipts) - len(originals),
        errors=errors,
        warnings=warnings,
        answered=answered,
        feedback_at=feedback[-1]["created_at"] if feedback else None,
        reminders=len(reminders),
        reminded_at=(reminders[-1]["sent_at"] or reminders[-1]["created_at"]) if reminders else None,
        overdue=past_deadline and state != "accepted" and state != "not_sent",
    )


# ----------------------------------------------------------------------------------------
# presentation: terminal table and workbook
# ----------------------------------------------------------------------------------------

_DISPATCH_LABELS = {"sent": "送信済み", "drafted": "下書き", "failed": "送信失敗", "skipped": "ブックのみ"}

# (header, width in Excel character units): one list for the workbook and the terminal.
_COLUMNS: tuple[tuple[str, float], ...] = (
    ("担当課", 18),
    ("状況", 12),
    ("回答行数", 9),
    ("送付", 16),
    ("送付方法", 10),
    ("最終受信", 16),
    ("受理", 16),
    ("エラー", 8),
    ("警告", 8),
    ("受信ファイル数", 9),
    ("差し戻し", 16),
    ("督促回数", 9),
    ("最終督促", 16),
    ("メールアドレス", 26),
)


def short_time(value: str | None) -> str:
    """``2021-05-20T10:31:00+09:00`` → ``2021/05/20 10:31`` (local time as recorded); empty for None."""
    parsed = _parse_time(value)
    return parsed.strftime("%Y/%m/%d %H:%M") if parsed else ""


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        # The ledger records local time with its offset; staff want the wall clock they saw.
        return dt.datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return None


def _cells(item: DepartmentStatus) -> list[Any]:
    """One department's row as plain values (times as naive datetimes), in :data:`_COLUMNS` order."""
    return [
        item.department,
        item.label,
        item.rows,
        _parse_time(item.sent_at),
        _DISPATCH_LABELS.get(item.dispatch or "", ""),
        _parse_time(item.last_received_at),
        _parse_time(item.accepted_at),
        item.errors,
        item.warnings,
        item.receipts,
        _parse_time(item.feedback_at),
        item.reminders,
        _parse_time(item.reminded_at),
        item.email or "（未登録）",
    ]


def _heading(report: StatusReport) -> str:
    return f"{report.plan} {report.fiscal_year} 回答状況（第{report.round}回照会）"


def _info(report: StatusReport) -> str:
    deadline = report.deadline.strftime("%Y/%m/%d") if report.deadline else "未設定"
    text = f"{report.today:%Y/%m/%d} 時点　締切 {deadline}　{report.summary()}"
    if report.unidentified:
        text += f"　差出課が分からないファイル {report.unidentified} 件（inbox の回答を確認してください）"
    return text


def format_status(report: StatusReport) -> str:
    """The report as a Japanese text table for the terminal (East Asian wide characters aligned)."""
    columns = (0, 1, 2, 3, 5, 6, 7, 8, 12)  # the terminal shows the columns that matter most
    table = [[_COLUMNS[index][0] for index in columns]]
    for item in report.departments:
        values = _cells(item)
        table.append([_text(values[index]) for index in columns])
    widths = [max(_width(row[index]) for row in table) for index in range(len(columns))]
    lines = [_heading(report), _info(report), ""]
    for row in table:
        lines.append("  ".join(_pad(text, width) for text, width in zip(row, widths, strict=True)).rstrip())
    for finding in report.findings:
        lines.append(f"[警告] {finding.message()}")
    return "\n".join(lines)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%m/%d %H:%M")
    return str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


# Light fill and dark text per state, the colours Excel's own "good / bad / neutral" styles use,
# so they read the same as the conditional formats staff already know.
_STATE_COLOURS: dict[State, tuple[str, str]] = {
    "accepted": ("#C6EFCE", "#006100"),
    "returned_with_errors": ("#FFC7CE", "#9C0006"),
    "received": ("#FFEB9C", "#9C5700"),
    "overdue": ("#F8CBAD", "#833C0B"),
    "sent": ("#DDEBF7", "#1F4E78"),
    "not_sent": ("#EDEDED", "#404040"),
}

_HEADER_ROW = 3  # 0-based for XlsxWriter: Excel row 4, as in the department workbook
_FIRST_ROW = _HEADER_ROW + 1


def write_status_workbook(report: StatusReport, path: Path) -> Path:
    """Write the report as a formatted workbook; returns the path actually written.

    Sheet ``回答状況``: a title, a line with the date, the deadline and the counts,
    then one row per department from row 5 under a header in row 4 (autofilter,
    frozen panes, each row coloured by its state, times as real Excel dates),
    printed A4 landscape with the header repeated. A second sheet ``凡例``
    explains the states.

    When the file is open in Excel (Windows refuses to replace it), the report
    is written beside it as ``回答状況(2).xlsx``, ``(3)`` … and that path is returned.

    Raises:
        OutputError: the folder cannot be written.
    """
    import xlsxwriter  # a writer dependency only this function needs

    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(suffix=".xlsx", prefix=".status-", dir=path.parent)
    os.close(descriptor)
    workbook = xlsxwriter.Workbook(temporary, {"remove_timezone": True})
    try:
        _fill_workbook(workbook, report)
    finally:
        workbook.close()
    return _place(Path(temporary), path)


def _fill_workbook(workbook: Any, report: StatusReport) -> None:
    font = {"font_name": "游ゴシック", "font_size": 10}
    sheet = workbook.add_worksheet("回答状況")
    title = workbook.add_format({**font, "bold": True, "font_size": 14})
    info = workbook.add_format({**font})
    header = workbook.add_format(
        {
            **font,
            "bold": True,
            "bg_color": "#1F4E78",
            "font_color": "#FFFFFF",
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
        }
    )
    sheet.write(0, 0, _heading(report), title)
    sheet.write(1, 0, _info(report), info)
    for column, (name, width) in enumerate(_COLUMNS):
        sheet.write(_HEADER_ROW, column, name, header)
        sheet.set_column(column, column, width)
    sheet.set_row(_HEADER_ROW, 30)
    formats: dict[tuple[State, str], Any] = {}

    def cell_format(state: State, kind: str) -> Any:
        # One format per (state, kind) — XlsxWriter formats are shared objects, not per cell.
        if (state, kind) not in formats:
            fill, colour = _STATE_COLOURS[state]
            spec: dict[str, Any] = {
                **font,
                "bg_color": fill,
                "font_color": colour,
                "border": 1,
                "border_color": "#BFBFBF",
                "valign": "vcenter",
            }
            if kind == "time":
                spec["num_format"] = "yyyy/mm/dd hh:mm"
            elif kind == "number":
                spec["num_format"] = "#,##0"
            elif kind == "state":
                spec["bold"] = True
                spec["align"] = "center"
            formats[(state, kind)] = workbook.add_format(spec)
        return formats[(state, kind)]

    for offset, item in enumerate(report.departments):
        row = _FIRST_ROW + offset
        for column, value in enumerate(_cells(item)):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(row, column, value, cell_format(item.state, "time"))
            elif value is None:
                sheet.write_blank(row, column, None, cell_format(item.state, "text"))
            elif isinstance(value, int):
                sheet.write_number(row, column, value, cell_format(item.state, "number"))
            else:
                kind = "state" if column == 1 else "text"
                # write_string: a department name is never a formula, whatever it starts with.
                sheet.write_string(row, column, str(value), cell_format(item.state, kind))
    last = _FIRST_ROW + max(len(report.departments), 1) - 1
    sheet.autofilter(_HEADER_ROW, 0, last, len(_COLUMNS) - 1)
    sheet.freeze_panes(_FIRST_ROW, 1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(_HEADER_ROW)
    sheet.set_header(f'&L&"游ゴシック"{_heading(report)}&R&P / &N')

    legend = workbook.add_worksheet("凡例")
    legend.set_column(0, 0, 14)
    legend.set_column(1, 1, 70)
    legend.write(0, 0, "状況", header)
    legend.write(0, 1, "意味と対応", header)
    for offset, (state, meaning) in enumerate(_LEGEND.items(), start=1):
        legend.write_string(offset, 0, STATE_LABELS[state], cell_format(state, "state"))
        legend.write_string(offset, 1, meaning, cell_format(state, "text"))


_LEGEND: dict[State, str] = {
    "accepted": "回答を受理しました。対応は不要です。",
    "returned_with_errors": "回答に修正が必要な箇所があります。feedback フォルダの差し戻し票を送付してください。",
    "received": "回答を受信しましたが、まだ検証していません。回収・検証を実行してください。",
    "overdue": "締切を過ぎても回答がありません。督促を実行してください。",
    "sent": "照会を送付し、回答を待っています（締切前）。",
    "not_sent": "まだ照会を送付していません。配布を実行してください。",
}


def _place(temporary: Path, path: Path) -> Path:
    """Move the finished file into place; beside it under a numbered name when the target is locked."""
    candidates = [path, *(path.with_name(f"{path.stem}({n}){path.suffix}") for n in range(2, 20))]
    for candidate in candidates:
        try:
            os.replace(temporary, candidate)
            return candidate
        except PermissionError:
            # Windows: the file is open in Excel. Try the next name rather than fail the run.
            continue
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise OutputError([not_writable(path.parent, exc)]) from exc
    temporary.unlink(missing_ok=True)
    raise OutputError([Finding("status-file-locked", {"path": str(path)})])


def save_status(workspace: Workspace, report: StatusReport) -> Path:
    """Write ``reports/回答状況.xlsx`` of ``workspace``; returns the path written (see :func:`write_status_workbook`)."""
    return write_status_workbook(report, workspace.reports / STATUS_WORKBOOK)


__all__ = [
    "STATES",
    "STATE_LABELS",
    "STATUS_WORKBOOK",
    "DepartmentStatus",
    "State",
    "StatusReport",
    "format_status",
    "save_status",
    "status",
    "write_status_workbook",
]
