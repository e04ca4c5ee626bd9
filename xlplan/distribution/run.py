"""Distribute: one workbook and one mail draft per department, optionally sent over SMTP.

``distribute(workspace)`` writes into ``outbox/<fiscal year>-R<round>/`` (for
example ``outbox/2020-R1/``) and records every dispatch in the ledger:

- a run without ``send`` writes a new version of each selected department's
  workbook and mail draft; earlier versions stay in the folder and the ledger;
- a run with ``send`` sends the latest unsent draft of each department (the one
  staff may have reviewed), writing a draft first where there is none; a failed
  send is recorded and retried by the next run with ``send``;
- a department already sent to in this round is left alone unless ``resend``.

Checks that can stop the run (an unknown department, missing SMTP settings or
mail templates, an unwritable outbox) happen before any file is written.
Workbooks are written by a pool of worker processes, one per core.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from xlplan.children import pool_context
from xlplan.errors import ConfigurationError, OutputError
from xlplan.findings import Finding, Language, Phrase, findings_json, not_writable, os_params
from xlplan.form.layout import Column
from xlplan.form.manifest import workspace_id
from xlplan.form.rows import DepartmentRows, WorkbookRequest, columns_for, workbook_file_name
from xlplan.form.writer import render_workbook
from xlplan.mail import draft_bytes, load_draft, recipient, require_mail_settings
from xlplan.plan.blank import unfinished as plan_unfinished
from xlplan.plan.model import Department, Plan, Settings
from xlplan.result import Reported, say
from xlplan.smtp import SendOutcome, send_messages, smtp_password, smtp_settings
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace
from xlplan.workspace.ledger import current_round
from xlplan.workspace.lock import run_lock
from xlplan.xlsx.atomic import place_new

TEMPLATE_KEY = "依頼"
KIND = "request"
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "drafted": ("下書きを作成", "drafted"),
    "sent": ("送信済み", "sent"),
    "failed": ("送信失敗（次回再送）", "send failed (retried next run)"),
    "unknown": ("送信結果不明（自動では再送しません）", "outcome unknown (not resent by itself)"),
    "no-mail": ("ブックのみ（メールアドレスなし）", "workbook only (no address)"),
    "already-sent": ("送信済みのため対象外", "already sent, skipped"),
    "no-rows": ("担当事業なし", "no projects"),
}
POOL_THRESHOLD = 8
"""Fewer departments than this are written in-process: starting workers would cost more than it saves."""


@dataclass(frozen=True)
class DepartmentDispatch:
    """What distribution did for one department.

    ``status`` is ``drafted`` (workbook and mail draft written), ``sent``,
    ``failed`` (send failed; retried next time), ``no-mail`` (workbook only: no
    address), ``already-sent`` (nothing done), or ``no-rows`` (not in charge of anything).
    """

    department: str
    status: str
    version: int | None = None
    workbook: Path | None = None
    mail: Path | None = None
    sha256: str | None = None
    message_id: str | None = None
    findings: tuple[Finding, ...] = ()

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """Plain JSON data for ``--json``."""
        return {
            "department": self.department,
            "status": self.status,
            "version": self.version,
            "workbook": str(self.workbook) if self.workbook else None,
            "mail": str(self.mail) if self.mail else None,
            "sha256": self.sha256,
            "message_id": self.message_id,
            "findings": findings_json(self.findings, language),
        }


@dataclass(frozen=True)
class DistributionResult(Reported):
    """The outcome of a run: the round folder and one record per selected department."""

    folder: Path
    fiscal_year: int
    round: int
    departments: tuple[DepartmentDispatch, ...] = field(default=())
    run_findings: tuple[Finding, ...] = ()  # not about one department of this run (an earlier run's sends)

    @property
    def findings(self) -> list[Finding]:
        """Every department's findings, in department order, then the run's own."""
        return [*(finding for item in self.departments for finding in item.findings), *self.run_findings]

    def lines(self, language: Language = "ja") -> list[str]:
        """One line per department and a closing line, for the terminal."""
        lines = []
        for item in self.departments:
            ja, en = STATUS_LABELS[item.status]
            name = f"  {item.workbook.name}" if item.workbook else ""
            lines.append(f"{item.department}: {say(language, ja, en)}{name}")
        lines.append(say(language, f"出力先: {self.folder}", f"Output folder: {self.folder}"))
        return lines

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """The JSON document of ``xlplan distribute --json``."""
        return {
            "folder": str(self.folder),
            "fiscal_year": self.fiscal_year,
            "round": self.round,
            "departments": [item.to_dict(language) for item in self.departments],
            "findings": findings_json(self.findings, language),
        }


def distribute(
    workspace: Workspace,
    *,
    only: Sequence[str] | None = None,
    send: bool = False,
    resend: bool = False,
    now: dt.datetime | None = None,
    plan: Plan | None = None,
    workers: int | None = None,
) -> DistributionResult:
    """Write (and with ``send``, deliver) the request workbooks and mails of the current round.

    Args:
        workspace: the workspace; its master gives the plan unless ``plan`` is passed.
        only: department names (or aliases) to distribute to; default every department.
        send: deliver over SMTP (settings SMTPサーバー …, password from
            ``XLPLAN_SMTP_PASSWORD`` or the keyring).
        resend: also distribute to departments already sent to in this round (a new version).
        now: the issue time (default: now), for reproducible runs.
        plan: use this plan instead of reading the master (benchmarks, tests).
        workers: worker processes for writing workbooks (default: one per core).

    Returns:
        A :class:`DistributionResult`; problems with single departments are findings in it.

    Raises:
        ConfigurationError: an unknown department in ``only``, missing mail settings, or
            (with ``send``) missing SMTP settings or password. Nothing is written.
        OutputError: the outbox cannot be written. Nothing is written.
    """
    plan = plan if plan is not None else workspace.load_plan()
    if plan_unfinished(plan):  # a blank master (just made by init): nothing to send yet
        raise ConfigurationError(plan_unfinished(plan))
    settings = plan.settings
    issued_at = (now or dt.datetime.now()).astimezone()
    targets = _select(plan, only)
    if any(department.email for department in targets):
        require_mail_settings(settings, TEMPLATE_KEY)
    smtp = smtp_settings(plan) if send else None
    password = smtp_password(smtp) if smtp else None
    folder = workspace.round_folder(settings)
    _check_writable(folder)
    key = workspace.signing_key()
    # Which rows each department answers; the rows themselves are made by the worker that writes them.
    rows = DepartmentRows(plan)
    columns = columns_for(settings)

    results: dict[str, DepartmentDispatch] = {}
    notes: list[Finding] = []
    # One run at a time: two distributions at once would each send the same request (and take the
    # other's "being sent" for a stopped run's).
    with run_lock(workspace), closing(workspace.ledger()) as connection:
        round_id = current_round(connection, settings)
        # A run that stopped while handing a message to the server: its outcome is unknown.
        for row in ledger.interrupted_sends(connection, KIND):
            notes.append(
                Finding("send-outcome-unknown", {"department": row["department"], "kind": row["kind"]})
            )
        history = _History(connection, round_id)
        jobs: list[_Job] = []
        to_send: list[DepartmentDispatch] = []
        round_label = f"{settings.current_year.wareki} 第{settings.round}回"
        for department in targets:
            name = department.name
            if name not in rows:
                findings = (Finding("distribute-no-rows", {"department": name}),) if only else ()
                results[name] = DepartmentDispatch(name, "no-rows", findings=findings)
                continue
            # The latest draft not sent yet (a failed send, or a --resend staff reviewed) is the one sent.
            draft = history.unsent_draft(name) if send and not resend else None
            if draft is not None and (draft.version or 1) > history.sent_version(name):
                to_send.append(draft)
                continue
            if history.sent(name) and not resend:
                finding = Finding("distribute-already-sent", {"department": name, "round": round_label})
                results[name] = DepartmentDispatch(name, "already-sent", findings=(finding,))
                continue
            # A workbook a stopped run was writing is written again in its place, not beside it.
            unfinished = history.unfinished(name)
            version = unfinished[1] if unfinished else history.next_version(name)
            wanted = unfinished[2] if unfinished else folder / workbook_file_name(settings, name, version)
            jobs.append(
                _Job(department, version, folder, bool(department.email), wanted, unfinished is not None)
            )

        issued = issued_at.isoformat(timespec="seconds")
        # Recorded before anything is written: a run killed while writing leaves rows that say where.
        pending: dict[str, int] = {}
        with connection:
            for job in jobs:
                name = job.department.name
                unfinished = history.unfinished(name)
                if unfinished is not None:
                    pending[name] = unfinished[0]
                    continue
                pending[name] = ledger.insert_dispatch(
                    connection,
                    ledger.DispatchRecord(round_id, name, KIND, job.version, "writing", issued,
                                          file_path=str(job.path)),
                )  # fmt: skip
        context = _Context(key, issued_at, workspace_id(key), settings, columns, rows)
        drafted = _run_jobs(jobs, context, workers=workers)
        with connection:
            for item in drafted:
                status = "drafted" if item.mail else "skipped"
                ledger.update_dispatch(
                    connection, pending[item.department], _record_of(round_id, item, status, issued)
                )
                results[item.department] = item
        to_send += [item for item in drafted if item.mail is not None]

        if smtp is not None and to_send:
            # Addressed as the master says now: staff may have corrected an address a send was refused at.
            messages = [load_draft(item.mail, to=recipient(plan.department(item.department)))
                        for item in to_send if item.mail is not None]  # fmt: skip
            sending: dict[int, int] = {}

            def before(index: int) -> None:
                # "Being sent" is on disk before the message goes: a kill or a power cut now leaves
                # "unknown", never a resend.
                with ledger.durable(connection):
                    sending[index] = ledger.insert_dispatch(
                        connection, _record_of(round_id, to_send[index], "sending", ledger.now())
                    )

            def after(index: int, outcome: SendOutcome) -> None:
                item = to_send[index]
                if index not in sending:  # never handed over (no connection, out of time)
                    with connection:
                        sending[index] = ledger.insert_dispatch(
                            connection, _record_of(round_id, item, "sending", ledger.now())
                        )
                ledger.mark_dispatch(connection, sending[index], outcome.sent_at, outcome.error,
                                     uncertain=outcome.uncertain)  # fmt: skip
                problem = outcome.problem(item.department, KIND, outcome.to, file=str(item.mail))
                findings = (problem,) if problem is not None else ()
                status = "sent" if outcome.ok else "unknown" if outcome.uncertain else "failed"
                results[item.department] = replace(item, status=status, findings=item.findings + findings)

            send_messages(smtp, messages, password, before=before, after=after)

    order = [department.name for department in targets]
    return DistributionResult(
        folder,
        settings.current_year.western,
        settings.round,
        tuple(results[name] for name in order if name in results),
        tuple(notes),
    )


# ----------------------------------------------------------------------------------------
# Checks made before anything is written
# ----------------------------------------------------------------------------------------


def _select(plan: Plan, only: Sequence[str] | None) -> list[Department]:
    if not only:
        return list(plan.departments)
    unknown = [name for name in only if plan.canonical_department(name) is None]
    if unknown:
        raise ConfigurationError(
            [Finding("distribute-unknown-department", {"department": name}) for name in unknown]
        )
    wanted = {plan.canonical_department(name) for name in only}
    return [department for department in plan.departments if department.name in wanted]


def _check_writable(folder: Path) -> None:
    """Make ``folder`` and prove a file can be created in it, or raise :class:`OutputError`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".xlplan-probe-"):
            pass
    except OSError as exc:
        raise OutputError([not_writable(folder, exc)]) from exc


# ----------------------------------------------------------------------------------------
# The ledger
# ----------------------------------------------------------------------------------------


class _History:
    """This round's request dispatches, read once at the start of a run."""

    def __init__(self, connection: sqlite3.Connection, round_id: int) -> None:
        self.rows: dict[str, list[sqlite3.Row]] = {}
        for row in ledger.dispatches(connection, round_id, KIND):
            self.rows.setdefault(row["department"], []).append(row)

    def sent(self, department: str) -> bool:
        """True when a request went out, or may have (its outcome is unknown: never sent again by itself)."""
        return any(row["status"] in ("sent", "sending", "unknown") for row in self.rows.get(department, []))

    def sent_version(self, department: str) -> int:
        """The latest version that went out (or may have); 0 when none did."""
        rows = self.rows.get(department, [])
        return max(
            (int(row["version"]) for row in rows if row["status"] in ("sent", "sending", "unknown")),
            default=0,
        )

    def unfinished(self, department: str) -> tuple[int, int, Path] | None:
        """(row id, version, path) of a workbook a stopped run was writing, if any."""
        for row in self.rows.get(department, []):
            if row["status"] == "writing" and row["file_path"]:
                return int(row["id"]), int(row["version"]), Path(row["file_path"])
        return None

    def next_version(self, department: str) -> int:
        return max((int(row["version"]) for row in self.rows.get(department, [])), default=0) + 1

    def unsent_draft(self, department: str) -> DepartmentDispatch | None:
        """The latest version's draft when it has a mail file that still exists and was not sent."""
        rows = self.rows.get(department, [])
        if not rows:
            return None
        latest = max(int(row["version"]) for row in rows)
        drafts = [
            row for row in rows
            if int(row["version"]) == latest and row["mail_path"] and row["status"] in ("drafted", "failed")
        ]  # fmt: skip
        if (
            not drafts
            or not Path(drafts[-1]["mail_path"]).exists()
            or not Path(drafts[-1]["file_path"]).exists()
        ):
            return None
        row = drafts[-1]
        return DepartmentDispatch(
            department,
            "drafted",
            latest,
            Path(row["file_path"]),
            Path(row["mail_path"]),
            row["sha256"],
            row["message_id"],
        )


def _record_of(round_id: int, item: DepartmentDispatch, status: str, created: str) -> ledger.DispatchRecord:
    """The dispatch row of ``item`` with ``status``."""
    return ledger.DispatchRecord(
        round_id, item.department, KIND, item.version or 1, status, created,
        file_path=str(item.workbook) if item.workbook else None, sha256=item.sha256,
        mail_path=str(item.mail) if item.mail else None, message_id=item.message_id,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------
# Writing workbooks and drafts (in worker processes)
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    department: Department
    version: int
    folder: Path
    mail: bool
    path: Path  # where the workbook goes
    again: bool = False  # finishing what a stopped run began: the file at ``path`` is ours to replace


@dataclass(frozen=True)
class _Context:
    """What every job of a run shares: given to each worker once, not with every job."""

    key: bytes
    issued_at: dt.datetime
    workspace: str
    settings: Settings
    columns: tuple[Column, ...]
    rows: DepartmentRows


_CONTEXT: list[_Context] = []
"""The run's context in a pool worker (each worker process serves one run)."""


def _init_worker(context: _Context) -> None:
    _CONTEXT[:] = [context]


def _run_jobs(jobs: Sequence[_Job], context: _Context, *, workers: int | None) -> list[DepartmentDispatch]:
    processes = min(workers or os.cpu_count() or 1, len(jobs))
    if processes <= 1 or len(jobs) < POOL_THRESHOLD:
        # In this process the context is passed, never kept: the server runs the distributions
        # of two workspaces at once in two threads of one process.
        return [_write_job(job, context) for job in jobs]
    # Forked workers share the context (the plan's rows among it); elsewhere it is pickled once
    # per worker. Results come back in job order; chunks keep the per-task overhead small.
    chunksize = max(1, len(jobs) // (processes * 8))
    with pool_context().Pool(processes, initializer=_init_worker, initargs=(context,)) as pool:
        return pool.map(_pool_job, jobs, chunksize=chunksize)


def _pool_job(job: _Job) -> DepartmentDispatch:
    return _write_job(job, _CONTEXT[0])


def _write_job(job: _Job, context: _Context) -> DepartmentDispatch:
    """Write one department's workbook (its rows made here) and, when it has an address, its mail draft."""
    department = job.department
    request = WorkbookRequest(
        context.settings, department, context.columns, context.rows.rows(department.name)
    )
    data, _manifest = render_workbook(
        request, key=context.key, issued_at=context.issued_at, workspace=context.workspace
    )
    path, findings = _write_again(job.path, data) if job.again else _write_new(job.path, data)
    if not job.mail:
        findings.append(Finding("distribute-no-email", {"department": department.name, "file": path.name}))
        return DepartmentDispatch(
            department.name, "no-mail", job.version, path, None, _sha256(data), None, tuple(findings)
        )
    # The mail only needs the settings and the addressee; the workbook is attached as it was written.
    plan = Plan(context.settings, (), (), (department,))
    draft = draft_bytes(plan, department, TEMPLATE_KEY, data, path.name, now=context.issued_at)
    write = _write_again if job.again else _write_new
    mail_path, mail_findings = write(path.with_suffix(".eml"), draft.data)
    return DepartmentDispatch(
        department.name,
        "drafted",
        job.version,
        path,
        mail_path,
        _sha256(data),
        draft.message_id,
        tuple(findings + mail_findings),
    )


def _write_new(path: Path, data: bytes) -> tuple[Path, list[Finding]]:
    """Write ``data`` to a new file at ``path``, or beside it under a numbered name when ``path`` is taken.

    A file open in Excel cannot be replaced on Windows (PermissionError), and an old file
    must not be overwritten, so neither is: the data goes to ``name（2）.xlsx`` and a
    finding says so.
    """
    findings: list[Finding] = []
    for candidate in _candidates(path):
        try:
            place_new(data, candidate)  # whole or not at all: a full disk leaves no truncated workbook
        except (FileExistsError, PermissionError):
            continue
        except OSError as exc:
            raise OutputError(
                [
                    Finding(
                        "output-not-writable",
                        {"path": str(path.parent), **os_params(exc)},
                    )
                ]
            ) from exc
        if candidate != path:
            findings.append(
                Finding(
                    "distribute-renamed", {"path": path.name, "actual": candidate.name}, file=str(candidate)
                )
            )
        return candidate, findings
    raise OutputError(
        [
            Finding(
                "output-not-writable",
                {
                    "path": str(path.parent),
                    "reason": "file names exhausted",
                    "why": Phrase("names-exhausted"),
                },
            )
        ]
    )


def _write_again(path: Path, data: bytes) -> tuple[Path, list[Finding]]:
    """Write ``data`` over the file a stopped run began at ``path`` (atomically); beside it when it is locked."""
    temporary = path.with_name(f".~{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except PermissionError:  # open in Excel on Windows
        with contextlib.suppress(OSError):  # nothing to remove, or a read-only folder: nothing was left
            temporary.unlink(missing_ok=True)
        return _write_new(path, data)
    except OSError as exc:
        with contextlib.suppress(OSError):  # nothing to remove, or a read-only folder: nothing was left
            temporary.unlink(missing_ok=True)
        raise OutputError([not_writable(path.parent, exc)]) from exc
    return path, []


def _candidates(path: Path, limit: int = 100) -> Iterable[Path]:
    yield path
    for number in range(2, limit):
        yield path.with_name(f"{path.stem}（{number}）{path.suffix}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
