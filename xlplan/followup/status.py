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
``review``                  要確認       the latest return has no proof of its department: the office decides
``received``                受信・確認中  a return arrived but has not been checked yet
``overdue``                 期限超過     the workbook was sent, nothing came back, the deadline passed
``sent``                    送付済み     the workbook was sent (or its mail drafted)
``not_sent``                未送付       no workbook has gone out to the department yet
==========================  ===========  ==================================================

A department whose return has errors after the deadline stays ``returned_with_errors``
(with ``overdue`` true): it answered, it needs a correction, not a reminder.

The same report is written as a formatted workbook (``reports/回答状況.xlsx``) by
:mod:`xlplan.followup.status_sheet`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from xlplan.findings import Finding, Language, findings_json
from xlplan.plan.model import Plan
from xlplan.result import Reported
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace
from xlplan.workspace.ledger.schema import sqlite_memory_ledger
from xlplan.xlsx.text import display_width

State = Literal["accepted", "returned_with_errors", "review", "received", "overdue", "sent", "not_sent"]

STATES: tuple[State, ...] = (
    "accepted",
    "returned_with_errors",
    "review",
    "received",
    "overdue",
    "sent",
    "not_sent",
)
"""Every state, in the order a summary lists them."""

STATE_LABELS: dict[State, str] = {
    "accepted": "受理",
    "returned_with_errors": "要修正",
    "review": "要確認",
    "received": "受信・確認中",
    "overdue": "期限超過",
    "sent": "送付済み",
    "not_sent": "未送付",
}
"""What staff see for each state."""

STATE_LABELS_EN: dict[State, str] = {
    "accepted": "accepted",
    "returned_with_errors": "returned with errors",
    "review": "awaiting review",
    "received": "received",
    "overdue": "overdue",
    "sent": "sent",
    "not_sent": "not sent",
}


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
    # An accepted department's later return that is not accepted (its answers stand meanwhile):
    # "returned_with_errors" (a 差し戻し票 went out) or "review" (the office decides), else None.
    later: State | None = None

    @property
    def label(self) -> str:
        """The state as staff see it (受理, 要修正, …)."""
        return STATE_LABELS[self.state]

    @property
    def note(self) -> str:
        """What staff see beside the state (備考): a later return not accepted, else empty."""
        return _LATER_NOTES[self.later][0] if self.later else ""

    def to_dict(self) -> dict[str, Any]:
        """JSON data: every field plus the Japanese label and note."""
        return {**asdict(self), "label": self.label, "note": self.note}


@dataclass(frozen=True)
class StatusReport(Reported):
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
    reviews: tuple[dict[str, Any], ...] = ()  # returns waiting for the office's decision (xlplan review)

    def counts(self) -> dict[State, int]:
        """How many departments are in each state (every state present, zeros included)."""
        counts: dict[State, int] = {state: 0 for state in STATES}
        for item in self.departments:
            counts[item.state] += 1
        return counts

    def needs_action(self) -> bool:
        """True when a department has errors to correct or is overdue: the command exits 1."""
        return bool(self.reviews) or any(
            item.state in ("returned_with_errors", "review", "overdue") for item in self.departments
        )

    @property
    def ok(self) -> bool:
        """False when a department must correct its return or is overdue, so a scheduled run can alert."""
        return not self.needs_action()

    def overdue(self) -> list[DepartmentStatus]:
        """Departments to remind: sent, nothing returned, deadline passed."""
        return [item for item in self.departments if item.state == "overdue"]

    def summary(self, language: Language = "ja") -> str:
        """One line: ``受理 3・要修正 1・期限超過 2・… （全15課）``."""
        counts = self.counts()
        if language == "en":
            parts = [f"{STATE_LABELS_EN[state]} {counts[state]}" for state in STATES if counts[state]]
            return ", ".join(parts) + f" ({len(self.departments)} departments)"
        parts = [f"{STATE_LABELS[state]} {counts[state]}" for state in STATES if counts[state]]
        return "・".join(parts) + f"（全{len(self.departments)}課）"

    def lines(self, language: Language = "ja") -> list[str]:
        """The heading, the date and counts, and a table aligned for a terminal (wide characters count two)."""
        return table_lines(self, language)

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
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
            "reviews": list(self.reviews),
            "findings": findings_json(self.findings, language),
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
    if not workspace.ledger_path.exists():  # nothing has happened yet; and nothing is created to say so
        return report_for(plan, sqlite_memory_ledger(), today)
    # Read-only: status works on a workspace nobody may write to (a backup, a share mounted read-only).
    connection = workspace.ledger(readonly=True)
    try:
        return report_for(plan, connection, today)
    finally:
        connection.close()


def report_for(plan: Plan, connection: sqlite3.Connection, today: dt.date) -> StatusReport:
    """The :class:`StatusReport` of ``plan``'s current round as the ledger ``connection`` records it."""
    settings = plan.settings
    year = settings.current_year
    round_row = ledger.find_round(connection, year.western, settings.round)
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
        # One renamed this round (a former name in 担当課's 旧名称) is shown under its name now.
        for name in ledger.round_departments(connection, round_id):
            if name not in rows and plan.canonical_department(name) not in rows:
                names.append(name)
                rows[name] = 0
        former = {department.name: department.former for department in plan.departments}
        unidentified = ledger.unidentified_since(connection, round_id)
        reviews = tuple(
            {"receipt": int(row["id"]), "file": row["original_name"], "department": row["department"],
             "sender": row["sender"], "errors": int(row["errors"] or 0), "warnings": int(row["warnings"] or 0)}
            for row in ledger.awaiting_review(connection)
        )  # fmt: skip
        items = []
        for name in names:
            also = former.get(name, ())
            items.append(
                _department(
                    connection, round_id, (name, *also), emails.get(name), rows[name], deadline, today
                )
            )
    else:
        items = [DepartmentStatus(name, "not_sent", emails.get(name), rows[name]) for name in names]
        reviews = ()
    return StatusReport(
        plan=settings.plan_name,
        fiscal_year=year.wareki,
        fiscal_year_western=year.western,
        round=settings.round,
        deadline=deadline,
        today=today,
        departments=tuple(items),
        unidentified=unidentified,
        findings=tuple(findings),
        reviews=reviews,
    )


def _department(
    connection: sqlite3.Connection,
    round_id: int,
    names: tuple[str, ...],
    email: str | None,
    rows: int,
    deadline: dt.date | None,
    today: dt.date,
) -> DepartmentStatus:
    name = names[0]  # the department as named now; the rest, names it had (its rows are its own)

    def every(kind: str) -> list[sqlite3.Row]:
        found = [row for each in names for row in ledger.dispatches(connection, round_id, kind, each)]
        return sorted(found, key=lambda row: int(row["id"]))

    requests = every("request")
    # A request counts as gone out when its mail was sent, or drafted for staff to send by hand,
    # or its workbook was made for a department without an address (handed over by hand).
    # A draft whose send then failed did not go out: the version's last row says what became of it.
    refused = requests[-1] if requests and requests[-1]["status"] == "failed" else None
    delivered = [row for row in requests if row["status"] in ("sent", "drafted", "skipped")
                 and not (refused is not None and row["version"] == refused["version"])]  # fmt: skip
    latest_request: sqlite3.Row | None = refused or ((delivered or requests)[-1] if requests else None)
    reminders = [row for row in every("reminder") if row["status"] in ("sent", "drafted")]
    # A 差し戻し票 a stopped run was writing (made again by the next, or superseded) is not one.
    feedback = [row for row in every("feedback") if row["status"] not in ("writing", "superseded")]

    receipts = sorted((row for each in names for row in ledger.receipts_of(connection, round_id, each)),
                      key=lambda row: int(row["id"]))  # fmt: skip
    # A file the office rejected in review is not the department's (another's forgery, a file sent
    # by mistake): the department has still not answered, and is reminded as such.
    originals = [row for row in receipts if row["status"] not in ("duplicate", "rejected")]
    accepted = [found for each in names if (found := ledger.current_acceptance(connection, round_id, each))]
    acceptance = max(accepted, key=lambda row: int(row["id"])) if accepted else None

    deciding: sqlite3.Row | None = None  # the receipt whose findings are counted
    if acceptance is not None:
        state: State = "accepted"
        deciding = ledger.receipt(connection, int(acceptance["receipt_id"]))
    elif originals:
        deciding = originals[-1]
        # "invalid": a 差し戻し票 went out; "review": the office must decide; anything else
        # (archived and not yet checked) is a return that nothing says is wrong yet.
        status = deciding["status"]
        state = (
            "returned_with_errors" if status == "invalid" else "review" if status == "review" else "received"
        )
    elif delivered:
        state = "sent"
    else:
        state = "not_sent"
    past_deadline = deadline is not None and today > deadline
    if state == "sent" and past_deadline:
        state = "overdue"

    later: State | None = None
    if acceptance is not None:
        after = [row for row in originals if int(row["id"]) > int(acceptance["receipt_id"])]
        if after and after[-1]["status"] in ("invalid", "review"):
            later = "returned_with_errors" if after[-1]["status"] == "invalid" else "review"
    errors = warnings = answered = 0
    if deciding is not None:
        errors, warnings = ledger.finding_counts(connection, int(deciding["id"]))
        if state == "accepted":
            answered = ledger.answer_count(connection, int(deciding["id"]))
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
        duplicates=sum(row["status"] == "duplicate" for row in receipts),
        errors=errors,
        warnings=warnings,
        answered=answered,
        feedback_at=feedback[-1]["created_at"] if feedback else None,
        reminders=len(reminders),
        reminded_at=(reminders[-1]["sent_at"] or reminders[-1]["created_at"]) if reminders else None,
        overdue=past_deadline and state != "accepted" and state != "not_sent",
        later=later,
    )


# ----------------------------------------------------------------------------------------
# presentation: the terminal table (the workbook is xlplan.followup.status_sheet)
# ----------------------------------------------------------------------------------------

_DISPATCH_LABELS = {
    "sent": ("送信済み", "sent"),
    "drafted": ("下書き", "drafted"),
    "failed": ("送信失敗", "failed"),
    "skipped": ("ブックのみ", "workbook only"),
}

# (header, width in Excel character units): one list for the workbook and the terminal.
COLUMNS: tuple[tuple[str, float], ...] = (
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
    ("備考", 54),
)
COLUMNS_EN: tuple[tuple[str, float], ...] = tuple(
    zip(
        ("department", "state", "rows", "sent", "how", "last received", "accepted", "errors", "warnings",
         "files", "feedback", "reminders", "last reminder", "mail address", "note"),
        (width for _, width in COLUMNS),
        strict=True,
    )
)  # fmt: skip


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


def cells(item: DepartmentStatus, language: Language = "ja") -> list[Any]:
    """One department's row as plain values (times as naive datetimes), in :data:`COLUMNS` order."""
    dispatch = _DISPATCH_LABELS.get(item.dispatch or "")
    return [
        item.department,
        STATE_LABELS_EN[item.state] if language == "en" else item.label,
        item.rows,
        _parse_time(item.sent_at),
        (dispatch[1] if language == "en" else dispatch[0]) if dispatch else "",
        _parse_time(item.last_received_at),
        _parse_time(item.accepted_at),
        item.errors,
        item.warnings,
        item.receipts,
        _parse_time(item.feedback_at),
        item.reminders,
        _parse_time(item.reminded_at),
        item.email or ("(none)" if language == "en" else "（未登録）"),
        (_LATER_NOTES[item.later][1] if language == "en" else item.note) if item.later else "",
    ]


_LATER_NOTES: dict[State, tuple[str, str]] = {
    "returned_with_errors": (
        "受理後の回答に誤り（差し戻し済み・受理した回答が有効）",
        "a later return has errors (feedback sent; the accepted one stands)",
    ),
    "review": (
        "受理後の回答は要確認（xlplan review・受理した回答が有効）",
        "a later return awaits review (xlplan review; the accepted one stands)",
    ),
}


def heading(report: StatusReport, language: Language = "ja") -> str:
    """``第2次… 令和2年度 回答状況（第1回照会）``: the title of the table and the workbook."""
    if language == "en":
        return f"{report.plan} {report.fiscal_year_western}: status of returns (round {report.round})"
    return f"{report.plan} {report.fiscal_year} 回答状況（第{report.round}回照会）"


def info(report: StatusReport, language: Language = "ja") -> str:
    """The date, the deadline and the counts, in one line."""
    if language == "en":
        deadline = report.deadline.strftime("%Y/%m/%d") if report.deadline else "not set"
        text = f"as of {report.today:%Y/%m/%d}, deadline {deadline}: {report.summary('en')}"
        if report.unidentified:
            text += f"; {report.unidentified} files from no known department (check inbox/)"
        if report.reviews:
            text += f"; {len(report.reviews)} returns awaiting review (xlplan review)"
        return text
    deadline = report.deadline.strftime("%Y/%m/%d") if report.deadline else "未設定"
    text = f"{report.today:%Y/%m/%d} 時点　締切 {deadline}　{report.summary()}"
    if report.unidentified:
        text += f"　差出課が分からないファイル {report.unidentified} 件（inbox の回答を確認してください）"
    if report.reviews:
        text += f"　提出元の確認待ち {len(report.reviews)} 件（xlplan review）"
    return text


def table_lines(report: StatusReport, language: Language = "ja") -> list[str]:
    """The report as a text table for the terminal (East Asian wide characters aligned)."""
    columns = (0, 1, 2, 3, 5, 6, 7, 8, 12, 14)  # the terminal shows the columns that matter most
    table = [[(COLUMNS_EN if language == "en" else COLUMNS)[index][0] for index in columns]]
    for item in report.departments:
        values = cells(item, language)
        table.append([_text(values[index]) for index in columns])
    widths = [max(display_width(row[index]) for row in table) for index in range(len(columns))]
    lines = [heading(report, language), info(report, language), ""]
    for row in table:
        lines.append("  ".join(_pad(text, width) for text, width in zip(row, widths, strict=True)).rstrip())
    return lines


def format_status(report: StatusReport, language: Language = "ja") -> str:
    """The report's lines as one text."""
    return "\n".join(report.lines(language))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%m/%d %H:%M")
    return str(value)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


__all__ = [
    "COLUMNS",
    "STATES",
    "STATE_LABELS",
    "DepartmentStatus",
    "State",
    "StatusReport",
    "format_status",
    "report_for",
    "status",
]
