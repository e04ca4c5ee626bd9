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
5. **Feedback** (:mod:`xlplan.followup.feedback`): a department whose latest return has
   errors gets a 差し戻し票 and a mail draft (sent with ``send``). What is owed is written
   with the verdict (:mod:`xlplan.workspace.ledger.feedback_owed`), so a run stopped before
   its 差し戻し票 leaves them to the next run, which checks those returns again.

A file is one unit of failure: whatever one file holds, the run records a
finding for it and goes on with the next, and no file can touch rows other
than those its own signed manifest gives its department.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import os
import sqlite3
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from xlplan.collection.imap import mailbox_settings, take_mail
from xlplan.collection.intake import Intake, Receipt, unchecked
from xlplan.collection.read import Limits, ReadFailed, map_returns
from xlplan.collection.results import (
    Checked,
    CollectResult,
    FileOutcome,
    Validation,
    ValidationResult,
)
from xlplan.collection.snapshot import Snapshot
from xlplan.collection.verdict import Checker
from xlplan.errors import XlplanError
from xlplan.findings import Finding, Phrase
from xlplan.followup.feedback import FeedbackResult, held_reason, write_feedback
from xlplan.followup.resend import resend_failed_feedback
from xlplan.plan.model import Plan
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace
from xlplan.workspace.ledger import current_round
from xlplan.workspace.lock import run_lock


def collect(
    workspace: Workspace,
    *,
    send: bool = False,
    feedback: bool = True,
    limits: Limits | None = None,
    plan: Plan | None = None,
    progress: bool = False,
    imap: bool = False,
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
        imap: first take the mails that arrived in the office's mailbox into ``inbox/``
            (:func:`xlplan.collection.imap.fetch`, under the same run lock), then collect as usual.
            A mailbox that cannot be read is a finding; the rest of the inbox is still collected.

    Returns:
        A :class:`CollectResult`; files already taken in on an earlier run are not in it. With
        ``imap``, its ``imap`` says which mails were taken.

    Raises:
        ConfigurationError: not a workspace, or the master has problems (nothing is taken in);
            with ``imap``, no IMAP settings or password.
        BusyError: another collection of the workspace did not finish within ``LOCK_TIMEOUT``.
    """
    plan = plan or workspace.load_plan()
    mailbox = mailbox_settings(plan) if imap else None  # a missing setting stops the run before anything
    # A scheduled run on the server and a click on the button may start together: one waits.
    with run_lock(workspace):
        fetched = take_mail(workspace, *mailbox) if mailbox is not None else None
        result = _collect(workspace, plan, send=send, feedback=feedback, limits=limits, progress=progress)
    return dataclasses.replace(result, imap=fetched) if fetched is not None else result


def _collect(
    workspace: Workspace, plan: Plan, *, send: bool, feedback: bool, limits: Limits | None, progress: bool
) -> CollectResult:
    settings = plan.settings
    key = workspace.signing_key()
    connection = workspace.ledger()
    try:
        round_id = current_round(connection, settings)
        # A 差し戻し a stopped run was handing to the server: its outcome is unknown, never sent twice.
        stopped = [
            Finding("send-outcome-unknown", {"department": row["department"], "kind": row["kind"]})
            for row in ledger.interrupted_sends(connection, "feedback")
        ]
        # A 差し戻し a stopped run owed for an earlier round (回) or year: the office has asked again since,
        # and the department answers in the workbook of the new round; nothing is made for the old one.
        for row in ledger.owed_in_other_rounds(connection, round_id):
            with connection:
                ledger.drop_feedback(connection, int(row["receipt_id"]))
            stopped.append(Finding("feedback-owed-other-round", {"department": row["department"],
                                                                 "name": row["original_name"]}))  # fmt: skip
        # Built before the workers are forked, so that each shares the plan's indexes and the schema.
        checker = _Guarded(Checker(plan, key).prepare())
        intake = Intake(workspace, connection, round_id=round_id)
        recorder = _Recorder(connection, round_id, plan, owe=feedback)
        names: dict[Path, str] = {}
        by_path: dict[Path, Receipt] = {}

        # Files an earlier run took in but did not get to check come first: they arrived first.
        left = unchecked(workspace, connection)

        def fresh() -> Iterator[Path]:
            # Each file is archived and its receipt committed just before it is handed to a reader.
            for receipt in itertools.chain(left, intake):
                if receipt.duplicate_of is not None:
                    recorder.outcomes.append(_duplicate(receipt))
                    continue
                names[receipt.archived_path] = receipt.original_name
                by_path[receipt.archived_path] = receipt
                recorder.expect(receipt)
                yield receipt.archived_path

        bar = _progress_bar() if progress else None
        # The plan and its index are millions of objects that live through the run: kept out of the
        # garbage collector's reach, each verdict received does not make it walk them all again.
        frozen = gc.get_freeze_count() == 0
        gc.freeze()
        try:
            # Read, identified and checked in the workers (forked where possible): only verdicts come back.
            for path, verdict in map_returns(fresh(), checker, limits=limits, names=names):
                recorder.add(by_path[path], verdict)
                if bar is not None:
                    bar.update()
        finally:
            if frozen:
                gc.unfreeze()
            if bar is not None:
                bar.close()
        recorder.flush(everything=True)
        feedback_results: list[FeedbackResult] = []
        run_findings: list[Finding] = [*stopped, *intake.findings, *recorder.left_unchecked]
        if feedback:
            # From the ledger, not this run's memory: a 差し戻し a stopped run owed is made now too.
            owed, pending = _owed(workspace, connection, round_id, recorder, checker, limits)
            run_findings += pending
            held: str | None = None  # once the mail server is not reached, the rest wait for the next run

            def hold(error: str | None) -> None:
                nonlocal held
                held = held or held_reason(error)

            if send:  # a 差し戻し mail refused last time goes now, unless a new 差し戻し replaces it
                try:
                    skip = {result.department or "" for _receipt, result in owed}
                    run_findings += resend_failed_feedback(
                        plan, connection, round_id, skip=skip, unreachable=hold
                    )
                except XlplanError as exc:
                    run_findings.extend(exc.findings)
            for receipt, result in owed:
                try:
                    made = write_feedback(
                        workspace,
                        result.department or "",
                        result.findings,
                        result.answers,
                        source=Path(receipt.original_name),
                        send=send,
                        plan=plan,
                        receipt_id=receipt.id,
                        held=held,
                    )
                except XlplanError as exc:  # e.g. SMTP settings missing: the check itself stands
                    run_findings.extend(exc.findings)
                    continue
                feedback_results.append(made)
                if made.unreachable and held is None:
                    held = held_reason(made.error)
        _set_aside(connection)
    finally:
        connection.close()
    outcomes = sorted(recorder.outcomes, key=lambda item: item.receipt_id)
    return CollectResult(tuple(outcomes), tuple(feedback_results), tuple(run_findings))


class _Recorder:
    """Writes verdicts to the ledger in the order the files arrived, a few at a time.

    Verdicts come back in the order the workers finish; acceptance must follow the order of
    arrival (the later of two returns of a department wins), so each verdict waits for
    those of the files that arrived before it, and the ready ones are committed together.
    """

    BATCH = 16
    """Verdicts committed per transaction."""

    def __init__(self, connection: sqlite3.Connection, round_id: int, plan: Plan, *, owe: bool) -> None:
        self.connection = connection
        self.round_id = round_id
        self.plan = plan
        self.predecessors = _predecessors(plan)
        self.owe = owe  # a 差し戻し is owed (in the ledger) for a department's latest return with errors
        self.order: deque[Receipt] = deque()
        self.verdicts: dict[int, Checked | _Failed] = {}
        self.outcomes: list[FileOutcome] = []
        # Per department, its latest return of the run if that one is sent back (None if not): the
        # 差し戻し票 needs its findings and answers; the accepted ones' answers are in the ledger, and
        # keeping them here would hold every answer of the run in memory (65 KB a file at 1,741 returns).
        self.latest: dict[str, tuple[Receipt, Checked] | None] = {}
        # Files whose check failed on xlplan's side, or whose reading stopped (file-read-retry): left
        # unchecked in the ledger for the next run.
        self.left_unchecked: list[Finding] = []

    def expect(self, receipt: Receipt) -> None:
        """A file handed to the readers; its verdict is written in this order."""
        self.order.append(receipt)

    def add(self, receipt: Receipt, verdict: Checked | _Failed) -> None:
        """A file's verdict; the ready ones are written when there are enough of them."""
        self.verdicts[receipt.id] = verdict
        self.flush()

    def flush(self, *, everything: bool = False) -> None:
        """Write the verdicts whose earlier files all have theirs (all of them, with ``everything``)."""
        ready = 0
        while ready < len(self.order) and self.order[ready].id in self.verdicts:
            ready += 1
        if not ready or (ready < self.BATCH and not everything):
            return
        with self.connection:
            for _ in range(ready):
                receipt = self.order.popleft()
                verdict = self.verdicts.pop(receipt.id)
                if isinstance(verdict, _Failed):  # no verdict is written: the receipt stays unchecked
                    name = receipt.original_name
                    self.left_unchecked.append(
                        Finding("check-failed", {"name": name, "detail": verdict.detail}, file=name)
                    )
                    continue
                retry = _read_retry(self.connection, receipt, verdict)
                if retry is not None:  # no verdict is written: the next run reads the file again
                    self.left_unchecked.append(retry)
                    continue
                result = _with_sender(self.plan, receipt, verdict)
                # Signed verdicts only (a return without proof acts on nothing until the office decides).
                signed = result.department is not None and result.outcome in ("accepted", "invalid")
                if signed and ledger.later_verdict(self.connection, self.round_id, str(result.department),
                                                   receipt.id):  # fmt: skip
                    result = _superseded(receipt, result)  # checked after a later return (a retried reading)
                    signed = False
                if signed and result.outcome == "invalid":
                    result = _after_acceptance(self.connection, self.round_id, receipt, result)
                _record(self.connection, self.round_id, receipt, result, self.predecessors)
                self.outcomes.append(_outcome(receipt, result))
                if signed and result.department is not None:
                    invalid = result.outcome == "invalid"
                    self.latest[result.department] = (receipt, result) if invalid else None
                    ledger.note_feedback(self.connection, self.round_id, result.department, receipt.id,
                                         owed=invalid and self.owe)  # fmt: skip


READ_ATTEMPTS = 3
"""Readings of a file that time out or crash before its verdict is final: the first may fail only
because the machine was busy (or a worker was chosen by the system's out-of-memory killer), and
a department resending the same bytes would get no check, only a duplicate."""

_STOPPED = {"file-read-timeout": "stopped-timeout", "file-read-crashed": "stopped-crashed"}


def _read_retry(connection: sqlite3.Connection, receipt: Receipt, verdict: Checked) -> Finding | None:
    """A ``file-read-retry`` finding when the reading stopped and the file gets another one, else None.
    The caller holds the transaction (the attempt is counted in it)."""
    stopped = [f for f in verdict.findings if f.code in _STOPPED] if verdict.outcome == "unreadable" else []
    if not stopped:
        return None
    attempt = ledger.add_read_attempt(connection, receipt.id)
    if attempt >= READ_ATTEMPTS:
        return None  # the last one: its finding is the verdict
    reason = Phrase(_STOPPED[stopped[0].code], {"seconds": stopped[0].params.get("seconds", "")})
    name = receipt.original_name
    params = {"name": name, "reason": reason, "attempt": attempt, "attempts": READ_ATTEMPTS}
    return Finding("file-read-retry", params, file=name)


class _Failed(NamedTuple):
    """A check that raised: a defect of xlplan's, or memory running out (the worker's limit)."""

    detail: str


class _Guarded:
    """The checker as collection runs it: a check that raises gives :class:`_Failed`, not an exception.

    Run in the reading workers, so a failure stays there (a worker's memory error is not
    tried again without its limit) and costs only its file, which stays unchecked in the
    ledger and is checked again by the next run, rather than stopping this run and every
    later one, which would start with it.
    """

    def __init__(self, checker: Checker) -> None:
        self.checker = checker

    def __call__(self, snapshot: Snapshot | ReadFailed, file: str) -> Checked | _Failed:
        try:
            return self.checker(snapshot, file)
        except Exception as exc:
            return _Failed(f"{type(exc).__name__}: {exc}"[:300])


def _owed(
    workspace: Workspace,
    connection: sqlite3.Connection,
    round_id: int,
    recorder: _Recorder,
    checker: _Guarded,
    limits: Limits | None,
) -> tuple[list[tuple[Receipt, Checked]], list[Finding]]:
    """The returns owed a 差し戻し, oldest first, each with its check's findings and answers; and
    a ``feedback-pending`` finding for each that could not be checked again this time.

    This run's are in memory; one a stopped run left owed is checked again from its archived
    copy, which gives the same findings and answers (the file never changes).
    """
    latest = {receipt.id: (receipt, result) for receipt, result in filter(None, recorder.latest.values())}
    owed: list[tuple[Receipt, Checked] | tuple[Receipt, str]] = []
    for row in ledger.owed_feedback(connection, round_id):
        owed.append(latest.get(row["id"]) or (Receipt(
            int(row["id"]), str(row["sha256"]), str(row["original_name"]), workspace.root / str(row["archived_path"]),
            str(row["source"]), container=row["container_name"], sender=row["sender"],
        ), str(row["owed_department"])))  # fmt: skip
    again = [receipt for receipt, item in owed if isinstance(item, str)]
    checked: dict[Path, Checked | _Failed] = {}
    if again:
        names = {receipt.archived_path: receipt.original_name for receipt in again}
        paths = [receipt.archived_path for receipt in again]
        checked.update(map_returns(paths, checker, limits=limits, names=names))
    found: list[tuple[Receipt, Checked]] = []
    pending: list[Finding] = []
    for receipt, item in owed:
        if not isinstance(item, str):
            found.append((receipt, item))
            continue
        verdict = checked.get(receipt.archived_path)
        if not isinstance(verdict, Checked) or verdict.outcome == "unreadable":
            # Failed on xlplan's side, or the reading stopped: still owed, for the next run.
            name = receipt.original_name
            pending.append(Finding("feedback-pending", {"department": item, "name": name}, file=name))
        elif verdict.outcome == "invalid" and verdict.department == item:
            verdict = _after_acceptance(
                connection, round_id, receipt, _with_sender(recorder.plan, receipt, verdict)
            )
            found.append((receipt, verdict))
        else:  # no errors now, or another department's (the master changed since): nothing owed
            with connection:
                ledger.drop_feedback(connection, receipt.id)
    return found, pending


STALE = "_不要"
"""Added to the name of a 差し戻し票 (and its mail draft) a stopped run began and a later return superseded."""


def _set_aside(connection: sqlite3.Connection) -> None:
    """Rename the files of superseded 差し戻し票 so that nobody sends them by hand from ``feedback/``.

    Done on every run, for each superseded dispatch whose file is still under its name: the
    ledger keeps the name it was written under, and a run stopped before renaming leaves it to the next.
    """
    for row in ledger.superseded_feedback(connection):
        for recorded in (row["file_path"], row["mail_path"]):
            path = Path(recorded) if recorded else None
            if path is not None and path.is_file():
                with contextlib.suppress(OSError):  # open in Excel, a read-only folder: tried again next run
                    os.replace(path, path.with_name(f"{path.stem}{STALE}{path.suffix}"))


def _superseded(receipt: Receipt, result: Checked) -> Checked:
    """The verdict of a return checked after a later one of its department: kept, never used."""
    name = receipt.original_name
    finding = Finding("return-superseded", {"name": name, "department": result.department}, file=name)
    return dataclasses.replace(result, outcome="superseded", findings=(*result.findings, finding))


def _after_acceptance(
    connection: sqlite3.Connection, round_id: int, receipt: Receipt, result: Checked
) -> Checked:
    """A return with errors from a department whose earlier return is accepted: said so on its 差し戻し票.

    The accepted answers stand (only a later valid return supersedes them), so the department
    is told that it need do nothing unless it meant to change them; without this, a department
    that sent an old copy again by mistake was asked to correct what is already accepted.
    """
    department = result.department
    acceptance = ledger.current_acceptance(connection, round_id, department) if department else None
    accepted = ledger.receipt(connection, int(acceptance["receipt_id"])) if acceptance is not None else None
    if accepted is None or int(accepted["id"]) > receipt.id:  # one the office accepted since: not earlier
        return result
    params = {
        "department": department,
        "name": receipt.original_name,
        "accepted": accepted["original_name"],
        # The day it came in, as staff and the department know it (the ledger keeps local time).
        "accepted_on": str(accepted["received_at"])[:10].replace("-", "/"),
    }
    finding = Finding("return-after-acceptance", params, file=receipt.original_name)
    return dataclasses.replace(result, findings=(*result.findings, finding))


def _with_sender(plan: Plan, receipt: Receipt, result: Checked) -> Checked:
    """The verdict with a warning where the mail it came in is not from the department's registered address.

    The signature proves whose workbook it is, not who filled it in or sent it: a stranger's
    address is shown to the office (and, for a return in review, weighs in its decision).
    """
    if receipt.sender is None or result.department is None:
        return result
    canonical = plan.canonical_department(result.department)
    registered = plan.department(canonical).email if canonical else None
    if registered and receipt.sender == registered.strip().lower():
        return result
    finding = Finding(
        "sender-not-registered",
        {"sender": receipt.sender, "department": result.department, "registered": registered or ""},
        file=receipt.original_name,
    )
    return dataclasses.replace(result, findings=(*result.findings, finding))


def _progress_bar() -> Any:
    """A progress bar on standard error (created only when wanted: tqdm starts a monitor thread)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: the reading workers are forked from this process
    return tqdm(desc="回収・検証", unit="件", leave=False)


def _duplicate(receipt: Receipt) -> FileOutcome:
    # Intake's duplicate-file finding names the first copy; the file is not checked again.
    return FileOutcome(receipt.id, receipt.original_name, receipt.archived_path, receipt.sha256, "duplicate",
                       findings=receipt.findings)  # fmt: skip


def _outcome(receipt: Receipt, result: Checked) -> FileOutcome:
    findings = result.findings
    if result.outcome == "superseded":  # its errors need nothing done (the ledger keeps them)
        findings = tuple(finding for finding in findings if not finding.is_error)
    return FileOutcome(
        receipt.id, receipt.original_name, receipt.archived_path, receipt.sha256, result.outcome,
        result.department, len(result.answers) if result.outcome == "accepted" else 0,
        (*receipt.findings, *findings),
    )  # fmt: skip


def _predecessors(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Per department, the former names that are it now, alone (a rename or a merge; a split name is
    no one's). Made once per run: most departments have none."""
    return {
        department.name: tuple(
            name for name in department.former if plan.canonical_department(name) == department.name
        )
        for department in plan.departments
        if department.former
    }


def _record(
    connection: sqlite3.Connection,
    round_id: int,
    receipt: Receipt,
    result: Checked,
    predecessors: Mapping[str, tuple[str, ...]],
) -> None:
    """Write the check's outcome to the ledger: findings, status, and for a good return its acceptance.

    The caller holds the transaction."""
    status = result.outcome if result.outcome in ("accepted", "review", "superseded") else "invalid"
    # A return on a workbook made after a merge answers the merged departments' rows too: it replaces
    # their returns. One made before answers only its own share of then: it replaces the department's
    # own earlier return (under the name it had), and is added to the others'.
    takes_over: tuple[str, ...] = ()
    if result.department is not None:
        takes_over = (result.sent_as,) if result.sent_as else ()
        if not result.moved:
            takes_over = predecessors.get(result.department, ())
    ledger.record_check(connection, round_id, receipt.id, status=status, department=result.department,
                        findings=result.findings, answers=result.answers, takes_over=takes_over)  # fmt: skip


# ----------------------------------------------------------------------------------------
# validate: the same checks without taking anything in
# ----------------------------------------------------------------------------------------


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
            code = "file-is-folder" if path.is_dir() else "file-not-found"
            finding = Finding(code, {"path": str(path)}, file=str(path))
            missing.append(Validation(path, Checked("unreadable", None, (), (finding,))))
    for path, verdict in map_returns(readable, Checker(plan, key).prepare(), limits=limits):
        results.append(Validation(path, verdict))
    order = {path: index for index, path in enumerate(paths)}
    return ValidationResult(tuple(sorted([*results, *missing], key=lambda item: order.get(item.path, 0))))
