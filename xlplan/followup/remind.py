"""``xlplan remind``: reminder mails (督促) to the departments that are overdue.

A department is reminded when :mod:`xlplan.followup.status` says ``overdue``: its
workbook went out, nothing came back, and the deadline has passed. A
department that returned a file with errors is not reminded (it gets a
差し戻し票 instead), nor one that was never sent the workbook.

Each reminder is a mail draft (``.eml``, from the ``督促`` template of the
master's settings, with the department's workbook attached again in case the
first mail was lost) in ``outbox/<year>-R<round>/督促/``, and with ``send=True`` the
same message delivered over SMTP. Every reminder is a ledger dispatch of kind
``reminder``. Running again on the same day does not remind twice: a draft
already made today is not made again, and a reminder already *sent* today is
not sent again, so a failed delivery is simply retried by the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from xlplan.errors import OutputError
from xlplan.findings import Finding, Language, findings_json, not_writable
from xlplan.followup.status import StatusReport, report_for
from xlplan.mail import build_message, load_draft, recipient, write_eml
from xlplan.plan.model import Plan
from xlplan.result import Reported, say
from xlplan.smtp import send_messages, smtp_password, smtp_settings
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace
from xlplan.workspace.ledger import current_round
from xlplan.workspace.lock import run_lock
from xlplan.xlsx.cells import file_name

TEMPLATE = "督促"
"""The key of the reminder template in the master's mail settings."""

Outcome = Literal["drafted", "sent", "failed", "unknown", "no_address", "already_reminded"]


@dataclass(frozen=True)
class Reminder:
    """What was done for one overdue department."""

    department: str
    outcome: Outcome
    to: str | None = None
    mail_path: Path | None = None  # the .eml draft
    attachment: Path | None = None  # the department workbook attached again
    message_id: str | None = None
    error: str | None = None  # the SMTP server's reason when sending failed

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """JSON data."""
        return {
            "department": self.department,
            "outcome": self.outcome,
            "to": self.to,
            "mail": str(self.mail_path) if self.mail_path else None,
            "attachment": str(self.attachment) if self.attachment else None,
            "message_id": self.message_id,
            "error": self.error,
        }


@dataclass(frozen=True)
class RemindResult(Reported):
    """The reminders of one run, and the status they were decided on."""

    today: dt.date
    sent: bool  # True when asked to deliver over SMTP
    reminders: tuple[Reminder, ...]
    report: StatusReport
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def count(self, outcome: Outcome) -> int:
        """How many reminders ended with ``outcome``."""
        return sum(1 for reminder in self.reminders if reminder.outcome == outcome)

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """The JSON document of ``xlplan remind --json``."""
        return {
            "today": self.today.isoformat(),
            "deadline": self.report.deadline.isoformat() if self.report.deadline else None,
            "send": self.sent,
            "reminders": [reminder.to_dict(language) for reminder in self.reminders],
            "findings": findings_json(self.findings, language),
        }

    def lines(self, language: Language = "ja") -> list[str]:
        """What happened, one line per department, for the terminal and the Excel button."""
        if not self.reminders:
            deadline = (
                f"{self.report.deadline:%Y/%m/%d}"
                if self.report.deadline
                else say(language, "未設定", "not set")
            )
            return [
                say(
                    language,
                    f"督促が必要な課はありません（{self.today:%Y/%m/%d} 時点、締切 {deadline}）。",
                    f"No department needs a reminder (as of {self.today:%Y/%m/%d}, deadline {deadline}).",
                )
            ]
        lines = []
        for reminder in self.reminders:
            ja, en = _OUTCOME_WORDS[reminder.outcome]
            line = f"{reminder.department}: {say(language, ja, en)}"
            if reminder.mail_path is not None:
                line += say(language, f"（{reminder.mail_path}）", f" ({reminder.mail_path})")
            if reminder.error:
                line += say(language, f"（{reminder.error}）", f" ({reminder.error})")
            lines.append(line)
        return lines


_OUTCOME_WORDS: dict[Outcome, tuple[str, str]] = {
    "drafted": ("督促メールの下書きを作成しました", "reminder drafted"),
    "sent": ("督促メールを送信しました", "reminder sent"),
    "failed": ("督促メールを送信できませんでした", "the reminder could not be sent"),
    "unknown": (
        "督促メールが届いたかどうか分かりません（送信の途中で接続が切れました）",
        "the reminder may or may not have arrived",
    ),
    "no_address": ("メールアドレスが未登録のため作成していません", "no address registered: nothing made"),
    "already_reminded": ("本日は督促済みです", "already reminded today"),
}


def remind(
    workspace: Workspace,
    *,
    send: bool = False,
    today: dt.date | None = None,
    only: tuple[str, ...] | None = None,
) -> RemindResult:
    """Draft (and with ``send`` deliver) a reminder to every overdue department.

    Args:
        workspace: the workspace.
        send: deliver over SMTP with the master's SMTP settings; drafts are written either way.
        today: the date that decides "overdue" (default: today). Drafts are filed, and
            "already reminded today" is judged, by the real date they are made.
        only: remind just these departments (registry names), if they are overdue.

    Returns:
        A :class:`RemindResult`: one :class:`Reminder` per overdue department, findings
        ``remind-no-address`` (warning) and ``smtp-send-failed`` (error).

    Raises:
        ConfigurationError: not a workspace; the master lacks the 督促 template, the
            office's mail address, or (with ``send``) the SMTP settings or password —
            all checked before any draft is written.
        OutputError: the drafts' folder cannot be written.

    Example::

        result = remind(Workspace(Path("令和3年度")), send=True)
        print("\\n".join(result.lines()))    # 農業委員会: 督促メールを送信しました（…）
    """
    plan = workspace.load_plan()
    today = today or dt.date.today()
    smtp = smtp_settings(plan) if send else None
    password = smtp_password(smtp) if smtp is not None else None
    held = contextlib.ExitStack()
    held.enter_context(run_lock(workspace))  # one run at a time: a reminder is never sent twice at once
    connection = workspace.ledger()
    try:
        # Reminders a stopped run was handing to the server: their outcome is unknown, never sent twice.
        stopped = [
            Finding("send-outcome-unknown", {"department": row["department"], "kind": row["kind"]})
            for row in ledger.interrupted_sends(connection, "reminder")
        ]
        report = report_for(plan, connection, today)
        targets = [item for item in report.overdue() if only is None or item.department in only]
        round_id = _round_id(connection, plan)
        made_on = dt.date.today()
        folder = workspace.round_folder(plan.settings) / "督促"
        reminders: list[Reminder] = []
        findings: list[Finding] = [*report.findings, *stopped]
        pending: list[tuple[int, EmailMessage, Reminder]] = []  # (dispatch id, message, draft) to send
        for item in targets:
            department = (
                plan.department(item.department) if plan.canonical_department(item.department) else None
            )
            if department is None or not department.email:
                findings.append(Finding("remind-no-address", {"department": item.department}))
                _record(connection, round_id, item.department, status="skipped", error="no mail address")
                reminders.append(Reminder(item.department, "no_address"))
                continue
            if ledger.reminded_on(connection, round_id, item.department, made_on, sent_only=send):
                reminders.append(Reminder(item.department, "already_reminded", to=department.email))
                continue
            drafted = (
                ledger.drafted_reminder_on(connection, round_id, item.department, made_on) if send else None
            )
            if (
                drafted is not None and Path(drafted["mail_path"]).is_file()
            ):  # today's draft: sent, not made again
                kept = Path(drafted["mail_path"])
                draft = Reminder(item.department, "drafted", to=department.email, mail_path=kept,
                                 attachment=Path(drafted["file_path"]) if drafted["file_path"] else None,
                                 message_id=drafted["message_id"])  # fmt: skip
                pending.append((int(drafted["id"]), load_draft(kept, to=recipient(department)), draft))
                continue
            attachment = _request_workbook(
                workspace, ledger.latest_request_file(connection, round_id, item.department)
            )
            message = build_message(plan, department, TEMPLATE, attachment)
            # Recorded before the draft is written: a run stopped in between leaves a `writing` row, and
            # the next writes the draft again at its path (never a second draft beside it, sent twice).
            begun = ledger.drafted_reminder_on(connection, round_id, item.department, None, status="writing")
            if begun is not None and begun["mail_path"]:
                dispatch_id, mail_path = int(begun["id"]), Path(begun["mail_path"])
            else:
                mail_path = _draft_path(folder, f"督促_{item.department}_{made_on:%Y%m%d}")
                dispatch_id = _record(connection, round_id, item.department, status="writing",
                                      attachment=attachment, mail_path=mail_path)  # fmt: skip
            _write_draft(message, mail_path)
            draft = Reminder(item.department, "drafted", to=department.email, mail_path=mail_path,
                             attachment=attachment, message_id=str(message["Message-ID"]))  # fmt: skip
            ledger.mark_drafted(connection, dispatch_id, str(draft.message_id))
            pending.append((dispatch_id, message, draft))
        if smtp is not None and pending:
            # Each message is marked as being sent before it goes and with its outcome right after,
            # so a run killed in between never makes the next one send a reminder twice.
            outcomes = send_messages(
                smtp,
                [message for _, message, _ in pending],
                password,
                before=lambda index: ledger.mark_sending(connection, pending[index][0]),
                after=lambda index, outcome: ledger.mark_dispatch(
                    connection, pending[index][0], outcome.sent_at, outcome.error, uncertain=outcome.uncertain
                ),
            )
            for (_dispatch_id, _, draft), outcome in zip(pending, outcomes, strict=True):
                problem = outcome.problem(draft.department, "reminder", draft.to)
                findings += [problem] if problem is not None else []
                said: Outcome = "unknown" if outcome.uncertain else "sent" if outcome.ok else "failed"
                reminders.append(_with(draft, said, outcome.error))
        else:
            reminders.extend(draft for _, _, draft in pending)
    finally:
        connection.close()
        held.close()
    order = {item.department: index for index, item in enumerate(report.departments)}
    reminders.sort(key=lambda reminder: order.get(reminder.department, len(order)))
    return RemindResult(today, send, tuple(reminders), report, tuple(findings))


def _with(draft: Reminder, outcome: Outcome, error: str | None = None) -> Reminder:
    return Reminder(
        draft.department, outcome, draft.to, draft.mail_path, draft.attachment, draft.message_id, error
    )


def _round_id(connection: sqlite3.Connection, plan: Plan) -> int:
    # Created when missing, so a dispatch row always has its round.
    return current_round(connection, plan.settings)


def _request_workbook(workspace: Workspace, recorded: str | None) -> Path | None:
    """The workbook the department was last sent in this round, if it is still in the outbox."""
    if recorded is None:
        return None
    path = Path(recorded)
    if not path.is_absolute():
        path = workspace.root / path
    return path if path.is_file() else None


def _draft_path(folder: Path, stem: str) -> Path:
    """Where today's draft goes: ``<stem>.eml``, or ``(2)`` beside an earlier one (never overwritten)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError([not_writable(folder, exc)]) from exc
    base = file_name(f"{stem}.eml")
    stem = base[: -len(".eml")]
    for number in range(1, 100):
        path = folder / (base if number == 1 else f"{stem}({number}).eml")
        if not path.exists():
            return path
    raise OutputError([not_writable(folder, FileExistsError(str(folder / base)))])


def _write_draft(message: EmailMessage, path: Path) -> None:
    """Save the draft at ``path``, over what a stopped run began there (the run holds the lock)."""
    try:
        path.unlink(missing_ok=True)
        write_eml(message, path)
    except OSError as exc:
        raise OutputError([not_writable(path.parent, exc)]) from exc


def _record(connection: sqlite3.Connection, round_id: int, department: str, **fields: Any) -> int:
    return ledger.record_dispatch(connection, round_id, department, "reminder", **fields)
