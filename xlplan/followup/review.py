"""Review: the plan office's decision on returns that came without proof of their department.

A return is accepted by itself only when its signed manifest proves whose it is. A file
without one — its hidden sheet deleted, its content pasted into a new workbook, a
manifest that does not verify — is checked like any other, but it waits here
(``review``): never accepted, never sent back, never superseding a signed return. The
office looks at it (the rows suggest a department; the mail's sender is shown) and
accepts it for a department or rejects it. Either way the decision is recorded in the
ledger with who made it and when, and the file stays in the archive.

Accepting is refused while the return's own cells have errors (the office asks the
department for a proper return instead), and it never replaces a signed return that is
already accepted unless the office says so (``replace``).
"""

from __future__ import annotations

import contextlib
import getpass
from dataclasses import dataclass, field
from typing import Any, Literal

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding, Language, findings_json
from xlplan.result import Reported, say
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace
from xlplan.workspace.ledger import current_round
from xlplan.workspace.lock import run_lock

PROOF_CODES = (
    "return-matched-by-content",
    "manifest-bad-signature",
    "manifest-unreadable",
    "sender-not-registered",
)
"""Findings about a return's proof, which the office's decision answers: they do not block accepting it."""

Decision = Literal["accept", "reject"]


@dataclass(frozen=True)
class PendingReturn:
    """A return waiting for the office's decision."""

    receipt: int
    file: str
    department: str | None  # what the rows suggest
    sender: str | None
    received_at: str
    errors: int
    warnings: int

    def to_dict(self) -> dict[str, Any]:
        """JSON data."""
        return {
            "receipt": self.receipt,
            "file": self.file,
            "department": self.department,
            "sender": self.sender,
            "received_at": self.received_at,
            "errors": self.errors,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class ReviewResult(Reported):
    """The returns waiting for a decision, and the decision just made (if any)."""

    pending: tuple[PendingReturn, ...]
    decided: tuple[int, Decision, str | None] | None = None  # receipt, decision, department
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def lines(self, language: Language = "ja") -> list[str]:
        """What was decided, then one line per return still waiting."""
        lines: list[str] = []
        if self.decided is not None:
            receipt, decision, department = self.decided
            lines.append(
                say(language, f"受付番号 {receipt} を「{department}」の回答として受理しました。",
                    f"Receipt {receipt} accepted as {department}'s return.")
                if decision == "accept"
                else say(language, f"受付番号 {receipt} を却下しました（保管フォルダと台帳には残ります）。",
                         f"Receipt {receipt} rejected (it stays in the archive and the ledger).")
            )  # fmt: skip
        if not self.pending:
            lines.append(
                say(language, "確認を待っている回答はありません。", "No return is waiting for review.")
            )
        for item in self.pending:
            who = item.department or say(language, "（不明）", "(unknown)")
            # No sender: a file placed in inbox/, or a mail whose From could not be read.
            sender = item.sender or say(language, "記録なし", "none recorded")
            lines.append(
                say(
                    language,
                    f"受付番号 {item.receipt}: {item.file}（{who} の回答と見られます、差出人 {sender}、"
                    f"エラー {item.errors}・警告 {item.warnings}）",
                    f"receipt {item.receipt}: {item.file} (looks like {who}'s, sent by {sender}, "
                    f"{item.errors} errors, {item.warnings} warnings)",
                )
            )
        if self.pending:
            lines.append(
                say(
                    language,
                    "受理・却下: 「確認待ち」シートの判定に 受理 か 却下 を入れて「確認待ち」ボタンを押します"
                    "（サーバーモードでは開いた画面で。コマンドでは xlplan review accept 受付番号 [--as 課名]、"
                    "xlplan review reject 受付番号）",
                    "accept or reject: mark 受理 or 却下 on the 確認待ち sheet and press 確認待ち (in server mode, on the "
                    "page it opens), or xlplan review accept RECEIPT [--as DEPT] / xlplan review reject RECEIPT",
                )
            )
        return lines

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """The JSON document of ``xlplan review --json``."""
        decided = None
        if self.decided is not None:
            decided = {"receipt": self.decided[0], "decision": self.decided[1], "department": self.decided[2]}
        return {
            "pending": [item.to_dict() for item in self.pending],
            "decided": decided,
            "findings": findings_json(self.findings, language),
        }


def review(workspace: Workspace) -> ReviewResult:
    """The returns waiting for the office's decision (``xlplan review``). Writes nothing."""
    with contextlib.closing(workspace.ledger(readonly=workspace.ledger_path.exists())) as connection:
        return ReviewResult(_pending(connection))


def decide(
    workspace: Workspace,
    receipt: int,
    decision: Decision,
    *,
    department: str | None = None,
    by: str | None = None,
    note: str | None = None,
    replace: bool = False,
) -> ReviewResult:
    """Accept or reject the return ``receipt`` waiting for review, and record who decided when.

    Args:
        workspace: the workspace.
        receipt: the return's receipt number (as ``xlplan review`` lists it).
        decision: ``accept`` or ``reject``.
        department: accept it as this department's return (default: the one its rows suggest).
        by: who decides (default: the user running xlplan).
        note: a reason to keep with the decision.
        replace: accept it even though a signed return of the department is already accepted.

    Raises:
        ConfigurationError: no such return waiting; an unknown department; the return's rows are
            another department's; its cells have errors; a signed return would be replaced without
            ``replace``. Nothing is recorded.
        BusyError: a collection of the workspace did not finish within the run lock's wait.
    """
    plan = workspace.load_plan()
    decided_by = by or _user()
    # Under the run lock: a collection checking a later return of the department at this moment
    # would otherwise change what the checks below found before the decision is written.
    with run_lock(workspace), contextlib.closing(workspace.ledger()) as connection:
        row = ledger.receipt(connection, receipt)
        if row is None or row["status"] != "review":
            raise ConfigurationError([Finding("review-not-found", {"receipt": receipt})])
        target: str | None = None
        round_id: int | None = None
        if decision == "accept":
            named = department or row["department"]
            target = plan.canonical_department(named) if named else None
            if target is None:
                raise ConfigurationError([Finding("review-unknown-department", {"department": named or ""})])
            # The answers are the rows of the department they name: accepted as another's, they
            # would stand in for that department's rows and replace their own department's.
            others = [
                name
                for name in ledger.answer_departments(connection, receipt)
                if plan.canonical_department(name) != target
            ]
            if others:
                raise ConfigurationError(
                    [Finding("review-rows-of-other-department",
                             {"receipt": receipt, "department": target, "found": "、".join(others)})]
                )  # fmt: skip
            errors = ledger.cell_errors(connection, receipt, PROOF_CODES)
            if errors:
                raise ConfigurationError(
                    [
                        Finding(
                            "review-has-errors",
                            {"receipt": receipt, "errors": len(errors)},
                            file=row["original_name"],
                        )
                    ]
                )
            round_id = current_round(connection, plan.settings)
            if row["round_id"] is not None and int(row["round_id"]) != round_id:
                # Received in an earlier round (回) or year: last year's text is not this year's answer.
                raise ConfigurationError(
                    [Finding("review-other-round", {"receipt": receipt}, file=row["original_name"])]
                )
            if not replace and ledger.signed_acceptance(connection, round_id, target) is not None:
                raise ConfigurationError(
                    [Finding("review-would-replace-signed", {"receipt": receipt, "department": target})]
                )
        notes: list[Finding] = []
        if (
            target is not None
            and round_id is not None
            and ledger.later_verdict(connection, round_id, target, receipt)
        ):
            # The department sent a signed return after this one: its verdict (and 差し戻し) still stand.
            notes.append(Finding("review-newer-return", {"receipt": receipt, "department": target}))
        with connection:
            decided = ledger.decide(connection, receipt, decision=decision, department=target,
                                    decided_by=decided_by, note=note, round_id=round_id)  # fmt: skip
        if not decided:  # decided meanwhile by someone else (the page and the command line at once)
            raise ConfigurationError([Finding("review-not-found", {"receipt": receipt})])
        return ReviewResult(_pending(connection), (receipt, decision, target), tuple(notes))


def _pending(connection: Any) -> tuple[PendingReturn, ...]:
    return tuple(
        PendingReturn(
            int(row["id"]), str(row["original_name"]), row["department"], row["sender"], str(row["received_at"]),
            int(row["errors"] or 0), int(row["warnings"] or 0),
        )
        for row in ledger.awaiting_review(connection)
    )  # fmt: skip


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (a service): say so rather than guess
        return "（不明）"
