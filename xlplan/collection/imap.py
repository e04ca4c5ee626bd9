"""Returns by mail: the office's IMAP mailbox into ``inbox/``, each mail once, whatever stops a run.

:func:`fetch` (what a server calls on a schedule; ``xlplan collect --imap`` does the same
before it collects) opens the folder the master's IMAP settings name and, for each mail
not yet taken:

1. records it in the ledger (``imap_messages``, state ``taking``) with the place it will
   have in ``inbox/``: ``imap/<folder>/<UIDVALIDITY>-<UID>.eml``;
2. checks the size the server announces against intake's limit for a saved mail, then
   downloads the whole message and writes it under a hidden temporary name, flushed to
   disk and renamed into place, so that intake never sees half a mail (state ``saved``);
3. marks it on the server (``$xlplan-taken``, or ``\\Seen``), never deleting it (state ``marked``).

The saved ``.eml`` is then a saved mail like any other: the collection's intake archives it,
takes each attached workbook exactly as a dropped file and records the From address as the
sender for the trust checks.

A run killed anywhere is finished by the next: a mail recorded but not saved is downloaded
again to the same place (a file already there is the complete one, since only a finished
copy is renamed into place, and it is kept); a mail saved but not marked is marked, not
downloaded again. A mail the ledger knows is never taken again, even where only ``\\Seen``
marks mails and a person marks one unread. When the server cannot be reached, the login
fails or the folder does not exist, nothing changes: the result carries the finding.

Mails that arrived before the workspace's first round was opened are left alone: pointed at
a busy INBOX, xlplan takes the replies to its own requests, not years of the office's mail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import time
from pathlib import Path

from xlplan.collection.intake import MAX_MAIL_BYTES
from xlplan.collection.results import FetchResult, TakenMail
from xlplan.findings import Finding, Phrase
from xlplan.form.manifest import workspace_id
from xlplan.mailbox import Heading, Mailbox, MailboxError, heading_of, imap_password, imap_settings
from xlplan.plan.model import ImapSettings, Plan
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace
from xlplan.workspace.lock import run_lock
from xlplan.xlsx.atomic import sync_folder, temporary_beside

__all__ = ["RUN_BUDGET", "fetch", "mailbox_settings", "take_mail"]

RUN_BUDGET = 300.0
"""Seconds one run may spend taking mail: the mails left are taken by the next run."""

INBOX_FOLDER = "imap"
"""The folder of ``inbox/`` that mails from the mailbox are saved in, one subfolder per IMAP folder."""

_HEADER_BYTES = 64 * 1024
"""How much of a saved mail is read again for its From and Subject (the header is at the start)."""


def fetch(workspace: Workspace, *, plan: Plan | None = None, budget: float = RUN_BUDGET) -> FetchResult:
    """Take the mails that arrived in the office's mailbox into ``inbox/``, each once; mark them taken.

    Holds the workspace's run lock (a scheduled fetch and a collection never interleave). The
    next :func:`xlplan.collect` takes the saved mails in; ``xlplan.collect(workspace, imap=True)``
    does both in one run.

    Args:
        workspace: the workspace (its master's IMAP settings, ledger and ``inbox/``).
        plan: use this plan instead of reading the master.
        budget: seconds to spend at most; the mails not reached are taken by the next run
            (an ``imap-time-up`` warning says how many).

    Returns:
        A :class:`FetchResult`: the mails taken (their place in ``inbox/``, sender, subject) and
        the findings: ``imap-unreachable``, ``imap-tls-failed``, ``imap-login-failed``,
        ``imap-no-folder`` (nothing was taken, nothing changed), ``imap-failed`` (the
        connection broke part-way: what was taken is kept), ``imap-mail-too-large`` (a mail
        over the limit, left on the server), ``imap-time-up``.

    Raises:
        ConfigurationError: not a workspace, the master has problems, no IMAPサーバー or no
            password (``imap-not-configured``, ``imap-no-password``); nothing is done.
        BusyError: another run of the workspace did not finish in time.
    """
    plan = plan or workspace.load_plan()
    imap, password = mailbox_settings(plan)
    with run_lock(workspace):
        return take_mail(workspace, imap, password, budget=budget)


def mailbox_settings(plan: Plan) -> tuple[ImapSettings, str]:
    """The master's IMAP settings and the password, checked before anything is done.

    Raises:
        ConfigurationError: ``imap-not-configured``, ``imap-bad-setting``, ``master-missing-setting``
            or ``imap-no-password``.
    """
    imap = imap_settings(plan)
    return imap, imap_password(imap)


def take_mail(
    workspace: Workspace, imap: ImapSettings, password: str, *, budget: float = RUN_BUDGET
) -> FetchResult:
    """:func:`fetch` for a caller that holds the run lock already (a collection with ``imap``)."""
    deadline = time.monotonic() + budget
    taken: list[TakenMail] = []
    findings: list[Finding] = []
    connection = workspace.ledger()
    try:
        since = _since(connection)
        with Mailbox(imap, password, workspace_id(workspace.signing_key())[:8]) as box:
            folder = (imap.account, imap.folder, box.uidvalidity)
            # What an interrupted run left comes first: those mails arrived first.
            for left in ledger.imap_messages(connection, *folder, pending=True):
                _take(workspace, connection, box, left, taken, findings, resumed=True)
            known = {item.uid for item in ledger.imap_messages(connection, *folder)}
            fresh = [uid for uid in box.untaken(since) if uid not in known]
            sizes = box.sizes(fresh)
            for index, uid in enumerate(fresh):
                if time.monotonic() > deadline:
                    findings.append(
                        Finding("imap-time-up", {"seconds": f"{budget:.0f}", "left": len(fresh) - index})
                    )
                    break
                size = sizes.get(uid)
                if size is None:  # expunged by someone since the search
                    continue
                if size > MAX_MAIL_BYTES:  # refused before a byte of it is read; it stays on the server
                    findings.append(_too_large(box.heading(uid), size))
                    continue
                place = _place(workspace, connection, imap.folder, box.uidvalidity, uid)
                # Recorded before the download: a run killed from here on is finished by the next one.
                row = ledger.insert_imap_message(connection, *folder, uid, size, place)
                item = ledger.ImapMessage(row, uid, size, place, "taking")
                _take(workspace, connection, box, item, taken, findings, resumed=False)
    except MailboxError as exc:
        findings.append(exc.finding)
    finally:
        connection.close()
    return FetchResult(f"{imap.host}:{imap.port}", imap.folder, tuple(taken), tuple(findings))


def _take(
    workspace: Workspace,
    connection: sqlite3.Connection,
    box: Mailbox,
    item: ledger.ImapMessage,
    taken: list[TakenMail],
    findings: list[Finding],
    *,
    resumed: bool,
) -> None:
    """Bring one recorded mail to ``marked``: download and save it unless saved, then mark it."""
    target = workspace.inbox / item.inbox_path
    heading: Heading | None = None
    if item.state == "taking":
        if target.exists():  # saved by the killed run (only a complete copy is ever renamed into place)
            heading = _heading_of_file(target)
        else:
            data = box.message(item.uid)
            if data is None:  # deleted on the server since: nothing to take
                ledger.mark_imap_message(connection, item.id, "gone")
                return
            heading = heading_of(data[:_HEADER_BYTES])
            if len(data) > MAX_MAIL_BYTES:  # more than the server announced
                ledger.mark_imap_message(connection, item.id, "refused")
                findings.append(_too_large(heading, len(data)))
                return
            _save(target, data)
        ledger.mark_imap_message(connection, item.id, "saved")
    box.mark(item.uid)
    ledger.mark_imap_message(connection, item.id, "marked")
    heading = heading or _heading_of_file(target)
    taken.append(TakenMail(item.uid, item.inbox_path, item.size, heading.sender, heading.subject, resumed))


def _since(connection: sqlite3.Connection) -> dt.date | None:
    """The first day whose mail is looked at: the day before the workspace's first round opened.

    A day early because the server compares dates in its own time zone.
    """
    opened = ledger.first_opened(connection)
    if opened is None:
        return None
    try:
        return dt.datetime.fromisoformat(opened).date() - dt.timedelta(days=1)
    except ValueError:
        return None


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def _place(
    workspace: Workspace, connection: sqlite3.Connection, folder: str, uidvalidity: int, uid: int
) -> str:
    """Where a mail is saved, relative to ``inbox/``: ``imap/<folder>/<UIDVALIDITY>-<UID>.eml``.

    Never a place another mail was given (another server may reuse a folder's UIDVALIDITY
    and UIDs) nor one holding a file: ``-2``, ``-3`` … is added then.
    """
    # No dot in front: intake skips dot folders. No separators: one folder level per IMAP folder.
    slug = _UNSAFE.sub("_", folder).strip(" .") or "INBOX"
    base = f"{INBOX_FOLDER}/{slug}/{uidvalidity}-{uid}"
    place, number = f"{base}.eml", 1
    while ledger.inbox_path_recorded(connection, place) or (workspace.inbox / place).exists():
        number += 1
        place = f"{base}-{number}.eml"
    return place


def _save(target: Path, data: bytes) -> None:
    """Write ``data`` at ``target`` whole or not at all: a hidden temporary file, synced, then renamed.

    The temporary name starts with a dot, which intake ignores; one left by a killed run is removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".~{target.stem}.*.tmp{target.suffix}"):
        with contextlib.suppress(OSError):
            stale.unlink()
    temporary = temporary_beside(target)
    try:
        with temporary.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    sync_folder(target.parent)


def _heading_of_file(path: Path) -> Heading:
    try:
        with path.open("rb") as handle:
            return heading_of(handle.read(_HEADER_BYTES))
    except OSError:
        return Heading(None, None)


def _too_large(heading: Heading, size: int) -> Finding:
    return Finding(
        "imap-mail-too-large",
        {
            "subject": heading.subject or Phrase("no-subject"),
            "sender": heading.sender or Phrase("unknown-sender"),
            "size": f"{size / (1024 * 1024):.1f}",
            "limit": f"{MAX_MAIL_BYTES / (1024 * 1024):.0f}",
        },
    )
