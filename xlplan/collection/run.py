"""Collect: take in returned files, check them, accept the good ones, send back the bad ones.

One run of :func:`collect`:

1. **Intake** (:mod:`xlplan.collection.intake`): every new file in ``inbox/`` (and the
   workbooks attached to ``.eml`` files there) is archived untouched by SHA-256
   with a ledger receipt, before anything reads it. The same bytes twice are a
   duplicate and are not checked again.
2. **Reading** (:mod:`xlplan.collection.read`): the archived copy — never the inbox
   file, which a department could still be overwriting — is read in worker
   processes under limits into a :class:`~xlplan.collection.snapshot.Snapshot`.
3. **Identification and checks** (:mod:`xlplan.collection.identify`, :mod:`xlplan.collection.check`):
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

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import filelock

from xlplan.collection.check import CheckResult, check_return
from xlplan.collection.identify import identify
from xlplan.collection.intake import Receipt, take_in
from xlplan.collection.read import Limits, ReadFailed, read_returns
from xlplan.collection.snapshot import Snapshot
from xlplan.errors import BusyError, XlplanError
from xlplan.findings import Finding, Language, findings_json, has_errors
from xlplan.followup.feedback import FeedbackResult, write_feedback
from xlplan.form.manifest import workspace_id
from xlplan.plan.model import Answer, Plan
from xlplan.result import Reported, say
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace
from xlplan.workspace.ledger import current_round

LOCK_NAME = "collect.lock"
LOCK_TIMEOUT = 300.0
"""Seconds to wait for another collection of the same workspace (a thousand files take minutes)."""

Outcome = Literal["accepted", "invalid", "unreadable", "unidentified", "duplicate"]
OUTCOMES: tuple[Outcome, ...] = ("accepted", "invalid", "unreadable", "unidentified", "duplicate")

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

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
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
            "findings": findings_json(self.findings, language),
        }


@dataclass(frozen=True)
class CollectResult(Reported):
    """The outcome of one :func:`collect` run.

    ``run_findings`` are those tied to no single file (intake, mail); ``findings`` is every
    finding of the run: the files', the run's own and the feedback's.
    """

    files: tuple[FileOutcome, ...]
    feedback: tuple[FeedbackResult, ...] = ()
    run_findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the run: the files' and the run's own."""
        return [*(f for item in self.files for f in item.findings), *self.run_findings,
                *(f for item in self.feedback for f in item.findings)]  # fmt: skip

    def count(self, outcome: Outcome) -> int:
        """How many files ended with ``outcome``."""
        return sum(1 for item in self.files if item.outcome == outcome)

    def lines(self, language: Language = "ja") -> list[str]:
        """Lines for the terminal and the 状況 sheet: the counts, then one line per file and per 差し戻し票."""
        lines = [
            say(
                language,
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
                say(
                    language,
                    f"  {_OUTCOME_JA[item.outcome]}: {item.name}（{who}、エラー {item.errors}・警告 {item.warnings}）",
                    f"  {item.outcome}: {item.name} ({who}, {item.errors} errors, {item.warnings} warnings)",
                )
            )
        lines += [f"  {line}" for result in self.feedback for line in result.lines(language)]
        return lines

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """One JSON document for ``xlplan collect --json`` (``findings``: those tied to no file)."""
        return {
            "files": [item.to_dict(language) for item in self.files],
            "counts": {key: self.count(key) for key in OUTCOMES},
            "feedback": [result.to_dict(language) for result in self.feedback],
            "findings": findings_json(self.run_findings, language),
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
    progress: bool = False,
) -> CollectResult:
    """Take in, archive, check and accept what arrived in ``inbox/``; write 差し戻し票 where needed.

    Args:
        workspace: the workspace (master, ledger, inbox, archive, feedback).
        send: deliver the 差し戻し mails over SMTP (else drafts only).
        feedback: write 差し戻し票 for departments whose latest return has errors.
        limits: reading limits (size, zip entries, time, memory); the defaults suit real returns.
        plan: use this plan instead of reading the master (benchmarks, the Excel button that has it).
        progress: show a progress bar on standard error while files are read and checked
            (the command line asks for it only when a person watches a terminal).

    Returns:
        A :class:`CollectResult`; files already taken in on an earlier run are not in it.

    Raises:
        ConfigurationError: not a workspace, or the master has problems (nothing is taken in).
        BusyError: another collection of the workspace did not finish within ``LOCK_TIMEOUT``.
    """
    plan = plan or workspace.load_plan()
    # A scheduled run on the server and a click on the button may start together: one waits.
    workspace.key_path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(workspace.key_path.parent / LOCK_NAME), timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise BusyError([Finding("collect-busy", {"lock": lock.lock_file})]) from exc
    try:
        return _collect(workspace, plan, send=send, feedback=feedback, limits=limits, progress=progress)
    finally:
        lock.release()


def _collect(
    workspace: Workspace, plan: Plan, *, send: bool, feedback: bool, limits: Limits | None, progress: bool
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
        bar = _progress_bar(len(names)) if progress else None
        try:
            for path, snapshot in read_returns(list(names), limits=limits or Limits(), names=names):
                receipt = by_path[path]
                checked[receipt.id] = check_snapshot(plan, snapshot, key=key, file=receipt.original_name)
                if bar is not None:
                    bar.update()
        finally:
            if bar is not None:
                bar.close()
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


def _progress_bar(total: int) -> Any:
    """A progress bar on standard error (created only when wanted: tqdm starts a monitor thread)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: a forked writer later in the process needs none
    return tqdm(total=total, desc="回収・検証", unit="件", leave=False)


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
    accepted = result.outcome == "accepted" and result.department is not None
    ledger.record_check(connection, round_id, receipt.id, result.department, result.findings,
                        result.answers if accepted else None)  # fmt: skip


# ----------------------------------------------------------------------------------------
# validate: the same checks without taking anything in
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    """The check of one file by ``xlplan validate``."""

    path: Path
    checked: Checked

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """JSON data for ``xlplan validate --json``."""
        return {
            "file": str(self.path),
            "outcome": "valid" if self.checked.outcome == "accepted" else self.checked.outcome,
            "department": self.checked.department,
            "answers": len(self.checked.answers),
            "findings": findings_json(self.checked.findings, language),
        }


@dataclass(frozen=True)
class ValidationResult(Reported):
    """What :func:`validate` found, file by file, in the order the files were given."""

    files: tuple[Validation, ...]

    @property
    def findings(self) -> list[Finding]:
        """Every finding, file by file."""
        return [finding for item in self.files for finding in item.checked.findings]

    def lines(self, language: Language = "ja") -> list[str]:
        """One line per file: 問題なし or 要修正."""
        return [
            f"{item.path}: " + (say(language, "問題なし", "valid") if item.checked.outcome == "accepted"
                                else say(language, "要修正", "invalid"))
            for item in self.files
        ]  # fmt: skip

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """The JSON document of ``xlplan validate --json``."""
        return {"files": [item.to_dict(language) for item in self.files]}


def validate(
    workspace: Workspace, paths: Sequence[Path], *, limits: Limits | None = None
) -> ValidationResult:
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
    return ValidationResult(tuple(sorted([*results, *missing], key=lambda item: order.get(item.path, 0))))
