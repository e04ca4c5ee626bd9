"""Dispatches in the ledger: every request, reminder and 差し戻し票 that went (or was drafted) to a department.

``kind`` is ``request`` (distribution), ``reminder`` (督促) or ``feedback`` (差し戻し).
``status`` follows each side effect, recorded before it happens:

- ``writing``: a workbook (a request, or a 差し戻し票) is about to be written at ``file_path`` (a run that stops here
  is finished by the next one, at the same path: no copy beside it);
- ``drafted`` (workbook and mail draft written) or ``skipped`` (a workbook for a department
  with no address);
- ``sending``: the message is being handed to the SMTP server; then ``sent`` or ``failed``;
- ``superseded``: a 差し戻し票 a stopped run began, not finished because a later return of the
  department was checked first (:mod:`~xlplan.workspace.ledger.feedback_owed`);
- ``unknown``: a run stopped while the message was being sent, or the connection broke then:
  it may have arrived. Never sent again by itself; the office decides (``--resend``).

Rows are added or marked, never deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from xlplan.workspace.ledger.feedback_owed import settle_feedback
from xlplan.workspace.ledger.schema import durable, now, stored_path, with_paths


@dataclass(frozen=True)
class DispatchRecord:
    """One dispatch row to insert (the caller holds the transaction where several go together)."""

    round_id: int
    department: str
    kind: str
    version: int
    status: str
    created_at: str
    file_path: str | None = None
    sha256: str | None = None
    mail_path: str | None = None
    message_id: str | None = None
    error: str | None = None
    sent_at: str | None = None


def insert_dispatch(connection: sqlite3.Connection, record: DispatchRecord) -> int:
    """Insert ``record``; returns the row's id. The caller commits."""
    cursor = connection.execute(
        "INSERT INTO dispatches (round_id, department, kind, version, file_path, sha256, mail_path, "
        "message_id, status, error, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (record.round_id, record.department, record.kind, record.version, stored_path(connection, record.file_path),
         record.sha256, stored_path(connection, record.mail_path), record.message_id, record.status, record.error,
         record.created_at, record.sent_at),
    )  # fmt: skip
    return int(cursor.lastrowid or 0)


def record_dispatch(
    connection: sqlite3.Connection,
    round_id: int,
    department: str,
    kind: str,
    *,
    status: str,
    attachment: Path | None = None,
    mail_path: Path | None = None,
    message_id: str | None = None,
    error: str | None = None,
) -> int:
    """Add a dispatch row (kind ``reminder`` or ``feedback``) and commit; returns its id.

    ``version`` numbers the dispatches of this kind to the department in the
    round (1, 2, …), as distribution numbers re-issued workbooks.
    """
    with connection:
        version = count_dispatches(connection, round_id, department, kind, by_version=True) + 1
        sha256 = hashlib.sha256(attachment.read_bytes()).hexdigest() if attachment is not None else None
        return insert_dispatch(
            connection,
            DispatchRecord(
                round_id, department, kind, version, status, now(),
                file_path=str(attachment) if attachment else None, sha256=sha256,
                mail_path=str(mail_path) if mail_path else None, message_id=message_id, error=error,
            ),
        )  # fmt: skip


def mark_dispatch(
    connection: sqlite3.Connection,
    dispatch_id: int,
    sent_at: str | None,
    error: str | None,
    *,
    uncertain: bool = False,
    settles: int | None = None,
) -> None:
    """Record the SMTP outcome of a dispatch and commit: ``sent`` with its time, ``failed`` with the
    reason, or ``unknown`` (``uncertain``: the connection broke while the message was handed over).

    ``settles``: as for :func:`mark_sending` (a message that failed before it was handed over
    is the office's to send again, as any failed dispatch)."""
    status = "unknown" if uncertain else "failed" if error else "sent"
    with connection:
        connection.execute(
            "UPDATE dispatches SET status = ?, sent_at = ?, error = ? WHERE id = ?",
            (status, sent_at, error, dispatch_id),
        )
        if settles is not None:
            settle_feedback(connection, settles)


def mark_sending(connection: sqlite3.Connection, dispatch_id: int, *, settles: int | None = None) -> None:
    """Record that the dispatch's message is being handed to the server, and commit, before it is.

    ``settles``: the receipt whose owed 差し戻し this message is, settled in the same transaction
    (a run stopped while sending leaves ``unknown``, never a second 差し戻し)."""
    with durable(connection):  # a power cut right after must not undo it: the message may be gone
        connection.execute("UPDATE dispatches SET status = 'sending' WHERE id = ?", (dispatch_id,))
        if settles is not None:
            settle_feedback(connection, settles)


def update_dispatch(connection: sqlite3.Connection, dispatch_id: int, record: DispatchRecord) -> None:
    """Replace a dispatch row's content (a ``writing`` row once its workbook is written). The caller commits."""
    connection.execute(
        "UPDATE dispatches SET version = ?, status = ?, created_at = ?, file_path = ?, sha256 = ?, mail_path = ?, "
        "message_id = ?, error = ?, sent_at = ? WHERE id = ?",
        (record.version, record.status, record.created_at, stored_path(connection, record.file_path), record.sha256,
         stored_path(connection, record.mail_path), record.message_id, record.error, record.sent_at, dispatch_id),
    )  # fmt: skip


def interrupted_sends(connection: sqlite3.Connection, kind: str | None = None) -> list[sqlite3.Row]:
    """Messages a stopped run was handing to the server (``sending``): marked ``unknown`` and returned.

    Only those of ``kind`` when given: each command looks at what it sends itself (distribute its
    requests, remind its reminders, collect its 差し戻し), so that a message another command is
    sending at this moment is not reported as stopped."""
    rows = with_paths(
        connection.execute(
            "SELECT * FROM dispatches WHERE status = 'sending' AND kind = COALESCE(?, kind) ORDER BY id",
            (kind,),
        )
    ).fetchall()
    if rows:
        with connection:
            connection.executemany(
                "UPDATE dispatches SET status = 'unknown', error = ? WHERE id = ?",
                [("処理が途中で止まったため、送信されたかどうか分かりません", row["id"]) for row in rows],
            )
    return rows


def count_dispatches(
    connection: sqlite3.Connection, round_id: int, department: str, kind: str, *, by_version: bool = False
) -> int:
    """How many dispatches of ``kind`` went to ``department`` in the round (the highest version with ``by_version``)."""
    column = "COALESCE(MAX(version), 0)" if by_version else "COUNT(*)"
    row = connection.execute(
        f"SELECT {column} FROM dispatches WHERE round_id = ? AND department = ? AND kind = ?",
        (round_id, department, kind),
    ).fetchone()
    return int(row[0])


def was_sent(connection: sqlite3.Connection, sha256: str) -> bool:
    """True when a workbook with these bytes went out from this workspace (a request or a 差し戻し票)."""
    return (
        connection.execute("SELECT 1 FROM dispatches WHERE sha256 = ? LIMIT 1", (sha256,)).fetchone()
        is not None
    )


def dispatches(
    connection: sqlite3.Connection, round_id: int, kind: str, department: str | None = None
) -> list[sqlite3.Row]:
    """The round's dispatches of ``kind`` (to one department, or to all), in the order they were recorded."""
    if department is None:
        return with_paths(
            connection.execute(
                "SELECT * FROM dispatches WHERE round_id = ? AND kind = ? ORDER BY id", (round_id, kind)
            )
        ).fetchall()
    return with_paths(
        connection.execute(
            "SELECT * FROM dispatches WHERE round_id = ? AND department = ? AND kind = ? ORDER BY id",
            (round_id, department, kind),
        )
    ).fetchall()


def reminded_on(
    connection: sqlite3.Connection, round_id: int, department: str, day: dt.date, *, sent_only: bool
) -> bool:
    """True when a reminder was sent on ``day`` (or, when only drafting, drafted or sent on it).

    A reminder whose outcome is unknown (``sending``, ``unknown``) counts as sent: never twice in a day.
    """
    statuses = ("sent", "sending", "unknown") if sent_only else ("sent", "sending", "unknown", "drafted")
    return any(
        row["status"] in statuses and (row["sent_at"] or row["created_at"] or "")[:10] == day.isoformat()
        for row in dispatches(connection, round_id, "reminder", department)
    )


def drafted_reminder_on(
    connection: sqlite3.Connection,
    round_id: int,
    department: str,
    day: dt.date | None,
    *,
    status: str = "drafted",
) -> sqlite3.Row | None:
    """The reminder drafted on ``day`` and not sent (a run without ``--send``): sent as it is, not made again.

    With ``status="writing"`` and no ``day``: the reminder a stopped run was writing, on any day, to be
    written again at its path (its draft, whole or not, would otherwise stay beside a new one).
    """
    found = [
        row
        for row in dispatches(connection, round_id, "reminder", department)
        if row["status"] == status
        and row["mail_path"]
        and (day is None or (row["created_at"] or "")[:10] == day.isoformat())
    ]
    return found[-1] if found else None


def mark_drafted(connection: sqlite3.Connection, dispatch_id: int, message_id: str) -> None:
    """A ``writing`` dispatch whose draft is now written whole, dated now (a stopped run's row, taken up
    on a later day, is today's reminder: the once-a-day rule must see it), and commit."""
    with connection:
        connection.execute(
            "UPDATE dispatches SET status = 'drafted', message_id = ?, created_at = ? WHERE id = ?",
            (message_id, now(), dispatch_id),
        )


def latest_request_file(connection: sqlite3.Connection, round_id: int, department: str) -> str | None:
    """The workbook path of the department's latest request of the round, as recorded."""
    row = with_paths(
        connection.execute(
            "SELECT file_path FROM dispatches WHERE round_id = ? AND department = ? AND kind = 'request' "
            "AND file_path IS NOT NULL ORDER BY version DESC, created_at DESC, id DESC LIMIT 1",
            (round_id, department),
        )
    ).fetchone()
    return None if row is None else str(row["file_path"])
