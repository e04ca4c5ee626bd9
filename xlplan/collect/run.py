"""Collect: take in returned files, check them, accept the good ones, send back the bad ones.

One run of :func:`collect`:

1. **Intake** (:mod:`xlplan.collect.intake`): every new file in ``inbox/`` (and the
   workbooks attached to ``.eml`` files there) is archived untouched by SHA-256
   with a ledger receipt, before anything reads it. The same bytes twice are a
   duplicate and are not checked again.
2. **Reading** (:mod:`xlplan.collect.read`): the archived copy — never the inbox
   file, which a department could still be overwriting — is read in worker
   processes under limits into a :class:`~xlplan.collect.snapshot.Snapshot`.
3. **Identification and checks** (:mod:`xlplan.collect.identify`, :mod:`xlplan.collect.check`):
   the manifest says whose file it is; the rules say what is wrong with it.
   Findings go to the ledger with the receipt.
4. **Acceptance**: a return without errors becomes the department's accepted
   return for the round; it supersedes the one accepted before, which stays in
   the archive and the ledger. Its answers are stored for consolidation.
5. **Feedback** (:mod:`xlplan.followup.feedback`): a department whose latest return in
   this run has errors gets a 差し戻し票 and a mail draft (sent with ``send``).

A file is one unit of failure: whatever one file holds, the run records a
finding for it and goes on with the next, and no file can touch rows other
than those its own signed manifest gives its department.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import filelock

from xlplan.collect.check import CheckResult, check_return
from xlplan.collect.identify import identify
from xlplan.collect.intake import Receipt, take_in
from xlplan.collect.read import Limits, ReadFailed, read_returns
from xlplan.collect.snapshot import Snapshot
from xlplan.findings import Finding, OutputError, XlplanError, has_errors
from xlplan.followup.feedback import FeedbackResult, write_feedback
from xlplan.form.workbook import workspace_id
from xlplan.plan.model import Answer, Plan
from xlplan.plan.values import parse_value
from xlplan.workspace.folder import Workspace
from xlplan.workspace.ledger import current_round, now

LOCK_NAME = "collect.lock"
LOCK_TIMEOUT = 300.0
"""Seconds to wait for another collection of the same workspace (a thousand files take minutes)."""

Outcome = Literal["accepted", "invalid", "unreadable", "unidentified", "duplicate"]

_OUTCOME_JA = {
    "accepted": "受理",
    "invalid": "要修正",
    "unreadable": "読み取り不可",
    "unidentified": "提出元不明",
    "duplicate": "重複（受信済み）",
}


@dataclass(frozen=True)
class FileOutcome:
    """What became of one received file."""

    receipt_id: int
    name: str  # the name it arrived under
    archived: Path
    sha256: str
    outcome: Outcome
    department: str | None = None
    answers: int = 0
    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> int:
        """Findings of severity error."""
        return sum(1 for finding in self.findings if finding.is_error)

    @property
    def warnings(self) -> int:
        """Findings of severity warning."""
        return len(self.findings) - self.errors

    def to_dict(self) -> dict[str, Any]:
        """JSON data for ``xlplan collect --json``."""
        return {
            "receipt": self.receipt_id,
            "file": self.name,
            "archived": str(self.archived),
            "sha256": self.sha256,
            "outcome": self.outcome,
            "department": self.department,
            "answers": self.answers,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [finding.to_dict() for finding in self.findings],
        }


@dataclass(frozen=True)
class CollectResult:
    """The outcome of one :func:`collect` run."""

    files: tuple[FileOutcome, ...]
    feedback: tuple[FeedbackResult, ...] = ()
    findings: tuple[Finding, ...] = field(default_factory=tuple)  # not tied to one file (intake, mail)

    @property
    def all_findings(self) -> list[Finding]:
        """Every finding of the run: the files' and the run's own."""
        return [*(f for item in self.files for f in item.findings), *self.findings,
                *(f for item in self.feedback for f in item.findings)]  # fmt: skip

    def count(self, outcome: Outcome) -> int:
        """How many files ended with ``outcome``."""
        return sum(1 for item in self.files if item.outcome == outcome)

    def lines(self) -> list[tuple[str, str]]:
        """(Japanese, English) lines for the terminal and the 状況 sheet."""
        lines = [
            (
                f"受信 {len(self.files)} 件: 受理 {self.count('accepted')}・要修正 {self.count('invalid')}・"
                f"読み取り不可 {self.count('unreadable')}・提出元不明 {self.count('unidentified')}・"
                f"重複 {self.count('duplicate')}",
                f"Received {len(self.files)}: accepted {self.count('accepted')}, invalid {self.count('invalid')}, "
                f"unreadable {self.count('unreadable')}, unidentified {self.count('unidentified')}, "
                f"duplicate {self.count('duplicate')}",
            )
        ]
        for item in self.files:
            who = item.department or "—"
            lines.append(
                (
                    f"  {_OUTCOME_JA[item.outcome]}: {item.name}（{who}、エラー {item.errors}・警告 {item.warnings}）",
                    f"  {item.outcome}: {item.name} ({who}, {item.errors} errors, {item.warnings} warnings)",
                )
            )
        for result in self.feedback:
            lines.append((f"  {result.line()}", f"  feedback for {result.department}: {result.path}"))
        return lines

    def to_dict(self) -> dict[str, Any]:
        """One JSON document for ``xlplan collect --json``."""
        return {
            "files": [item.to_dict() for item in self.files],
            "counts": {key: self.count(key) for key in _OUTCOME_JA},  # type: ignore[arg-type]
            "feedback": [result.to_dict() for result in self.feedback],
            "findings": [finding.to_dict() for finding in self.findings],
        }


@dataclass(frozen=True)
class Checked:
    """One file read, identified and checked — what :func:`check_file` returns."""

    outcome: Outcome
    department: str | None
    answers: tuple[Answer, ...]
    findings: tuple[Finding, ...]


def check_snapshot(plan: Plan, snapshot: Snapshot | ReadFailed, *, key: bytes, file: str) -> Checked:
    """Identify and check one read file (pure: no ledger, no files written)."""
    if isinstance(snapshot, ReadFailed):
        return Checked("unreadable", None, (), tuple(snapshot.findings))
    identity = identify(plan, snapshot, key=key, workspace_id=workspace_id(key), file=file)
    findings = [*snapshot.findings, *identity.findings]
    if identity.department is None:
        return Checked("unidentified", None, (), tuple(findings))
    result: CheckResult = check_return(plan, snapshot, identity, file=file)
    findings.extend(result.findings)
    outcome: Outcome = "invalid" if has_errors(findings) else "accepted"
    return Checked(outcome, identity.department, tuple(result.answers), tuple(findings))


def collect(
    workspace: Workspace,
    *,
    send: bool = False,
    feedback: bool = True,
    limits: Limits | None = None,
    plan: Plan | None = None,
) -> CollectResult:
    """Take in, archive, check and accept what arrived in ``inbox/``; write 差し戻し票 where needed.

    Args:
        workspace: the workspace (master, ledger, inbox, archive, feedback).
        send: deliver the 差し戻し mails over SMTP (else drafts only).
        feedback: write 差し戻し票 for departments whose latest return has errors.
        limits: reading limits (size, zip entries, time, memory); the defaults suit real returns.
        plan: use this plan instead of reading the master (benchmarks, the Excel button that has it).

    Returns:
        A :class:`CollectResult`; files already taken in on an earlier run are not in it.

    Raises:
        ConfigurationError: not a workspace, or the master has problems (nothing is taken in).
        OutputError: another collection of the workspace did not finish within ``LOCK_TIMEOUT``.
    """
    plan = plan or workspace.load_plan()
    # A scheduled run on the server and a click on the button may start together: one waits.
    workspace.key_path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(workspace.key_path.parent / LOCK_NAME), timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise OutputError([Finding("collect-busy", {"lock": lock.lock_file})]) from exc
    try:
        return _collect(workspace, plan, send=send, feedback=feedback, limits=limits)
    finally:
        lock.release()


def _collect(
    workspace: Workspace, plan: Plan, *, send: bool, feedback: bool, limits: Limits | None
) -> CollectResult:
    settings = plan.settings
    key = workspace.signing_key()
    connection = workspace.ledger()
    try:
        round_id = current_round(connection, settings)
        intake = take_in(workspace, connection, round_id=round_id)
        outcomes: list[FileOutcome] = []
        fresh: list[Receipt] = []
        for receipt in intake.receipts:
            if receipt.duplicate_of is not None:
                outcomes.append(_duplicate(receipt))
            else:
                fresh.append(receipt)
        by_path = {receipt.archived_path: receipt for receipt in fresh}
        checked: dict[int, Checked] = {}
        names = {receipt.archived_path: receipt.original_name for receipt in fresh}
        for path, snapshot in read_returns(list(names), limits=limits or Limits(), names=names):
            receipt = by_path[path]
            checked[receipt.id] = check_snapshot(plan, snapshot, key=key, file=receipt.original_name)
        latest: dict[str, tuple[Receipt, Checked]] = {}
        # Receipts in the order they arrived, so the later of two returns of a department wins.
        for receipt in fresh:
            result = checked[receipt.id]
            _record(connection, round_id, receipt, result)
            outcomes.append(_outcome(receipt, result))
            if result.department is not None:
                latest[result.department] = (receipt, result)
        feedback_results: list[FeedbackResult] = []
        run_findings: list[Finding] = list(intake.findings)
        if feedback:
            for department, (receipt, result) in latest.items():
                if result.outcome != "invalid":
                    continue
                try:
                    feedback_results.append(
                        write_feedback(
                            workspace,
                            department,
                            result.findings,
                            result.answers,
                            source=Path(receipt.original_name),
                            send=send,
                            plan=plan,
                        )
                    )
                except XlplanError as exc:  # e.g. SMTP settings missing: the check itself stands
                    run_findings.extend(exc.findings)
    finally:
        connection.close()
    outcomes.sort(key=lambda item: item.receipt_id)
    return CollectResult(tuple(outcomes), tuple(feedback_results), tuple(run_findings))


def _duplicate(receipt: Receipt) -> FileOutcome:
    # Intake's duplicate-file finding names the first copy; the file is not checked again.
    return FileOutcome(receipt.id, receipt.original_name, receipt.archived_path, receipt.sha256, "duplicate",
                       findings=receipt.findings)  # fmt: skip


def _outcome(receipt: Receipt, result: Checked) -> FileOutcome:
    return FileOutcome(
        receipt.id, receipt.original_name, receipt.archived_path, receipt.sha256, result.outcome,
        result.department, len(result.answers) if result.outcome == "accepted" else 0,
        (*receipt.findings, *result.findings),
    )  # fmt: skip


def _record(connection: sqlite3.Connection, round_id: int, receipt: Receipt, result: Checked) -> None:
    """Write the check's outcome to the ledger: findings, status, and for a good return its acceptance."""
    status = "accepted" if result.outcome == "accepted" else "invalid"
    with connection:
        connection.executemany(
            "INSERT INTO findings (receipt_id, code, severity, sheet, cell, message, params) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    receipt.id,
                    f.code,
                    f.severity,
                    f.sheet,
                    f.cell,
                    f.message(),
                    json.dumps(dict(f.params), ensure_ascii=False, default=str),
                )
                for f in result.findings
            ],
        )
        connection.execute(
            "UPDATE receipts SET status = ?, department = ? WHERE id = ?",
            (status, result.department, receipt.id),
        )
        if result.outcome != "accepted" or result.department is None:
            return
        previous = connection.execute(
            "SELECT id, receipt_id FROM acceptances WHERE round_id = ? AND department = ? "
            "AND superseded_by IS NULL",
            (round_id, result.department),
        ).fetchall()
        cursor = connection.execute(
            "INSERT INTO acceptances (round_id, department, receipt_id, accepted_at) VALUES (?, ?, ?, ?)",
            (round_id, result.department, receipt.id, now()),
        )
        for row in previous:
            connection.execute(
                "UPDATE acceptances SET superseded_by = ? WHERE id = ?", (cursor.lastrowid, row["id"])
            )
            connection.execute("UPDATE receipts SET status = 'superseded' WHERE id = ?", (row["receipt_id"],))
        connection.executemany(
            "INSERT INTO answers (receipt_id, project_no, entry, department, value, narrative) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    receipt.id,
                    a.project_no,
                    a.entry,
                    a.department,
                    a.value.display() or None,
                    a.narrative or None,
                )
                for a in result.answers
            ],
        )


def accepted_answers(workspace: Workspace, plan: Plan | None = None) -> list[Answer]:
    """The answers of every department's accepted return in the current round, in plan order.

    This is what consolidation prints. Values are stored in the ledger in their
    display form (``159人``, ``○``) and read back against the project's unit.
    """
    plan = plan or workspace.load_plan()
    settings = plan.settings
    connection = workspace.ledger()
    try:
        rows = connection.execute(
            "SELECT a.project_no, a.entry, a.department, a.value, a.narrative "
            "FROM answers a JOIN acceptances c ON c.receipt_id = a.receipt_id "
            "JOIN rounds r ON r.id = c.round_id "
            "WHERE r.fiscal_year = ? AND r.number = ? AND c.superseded_by IS NULL ORDER BY a.id",
            (settings.current_year.western, settings.round),
        ).fetchall()
    finally:
        connection.close()
    units = {project.no: project.unit for project in plan.projects}
    answers: list[Answer] = []
    for row in rows:
        unit = units.get(int(row["project_no"]))
        parsed = parse_value(row["value"], unit, unit_known=True)
        if parsed.value is None:  # cannot happen for a value the check accepted; keep it out of the table
            continue
        answers.append(Answer(int(row["project_no"]), row["entry"], row["department"], parsed.value,
                              row["narrative"] or ""))  # fmt: skip
    order = {
        (p.no, e.name): index for index, (p, e) in enumerate((p, e) for p in plan.projects for e in p.entries)
    }
    answers.sort(key=lambda a: order.get((a.project_no, a.entry), len(order)))
    return answers


# ----------------------------------------------------------------------------------------
# validate: the same checks without taking anything in
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    """The check of one file by ``xlplan validate``."""

    path: Path
    checked: Checked

    def to_dict(self) -> dict[str, Any]:
        """JSON data for ``xlplan validate --json``."""
        return {
            "file": str(self.path),
            "outcome": "valid" if self.checked.outcome == "accepted" else self.checked.outcome,
            "department": self.checked.department,
            "answers": len(self.checked.answers),
            "findings": [finding.to_dict() for finding in self.checked.findings],
        }


def validate(
    workspace: Workspace, paths: Sequence[Path], *, limits: Limits | None = None
) -> list[Validation]:
    """Check ``paths`` as collection would, writing nothing: no archive, ledger or feedback.

    Raises:
        ConfigurationError: not a workspace, or the master has problems.
    """
    plan = workspace.load_plan()
    key = workspace.signing_key() if workspace.key_path.exists() else b""
    results: list[Validation] = []
    missing: list[Validation] = []
    readable: list[Path] = []
    for path in paths:
        if path.is_file():
            readable.append(path)
        else:
            finding = Finding("file-not-found", {"path": str(path)}, file=str(path))
            missing.append(Validation(path, Checked("unreadable", None, (), (finding,))))
    for path, snapshot in read_returns(readable, limits=limits or Limits()):
        results.append(Validation(path, check_snapshot(plan, snapshot, key=key, file=path.name)))
    order = {path: index for index, path in enumerate(paths)}
    return sorted([*results, *missing], key=lambda item: order.get(item.path, 0))


def validation_findings(results: Iterable[Validation]) -> list[Finding]:
    """Every finding of a validation, for the terminal table."""
    return [finding for item in results for finding in item.checked.findings]
