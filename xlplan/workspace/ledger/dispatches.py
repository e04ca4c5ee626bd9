"""Dispatches in the ledger: every request, reminder and 差し戻し票 that went (or was drafted) to a department.

``kind`` is ``request`` (distribution), ``reminder`` (督促) or ``feedback`` (差し戻し);
``status`` is ``drafted``, ``sent``, ``failed`` or ``skipped`` (a workbook made for a
department with no address). Rows are added or marked, never deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from xlplan.workspace.ledger.schema import now


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
        (record.round_id, record.department, record.kind, record.version, record.file_path, record.sha256,
         record.mail_path, record.message_id, record.status, record.error, record.created_at, record.sent_at),
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
    connection: sqlite3.Connection, dispatch_id: int, sent_at: str | None, error: str | None
) -> None:
    """Record the SMTP outcome of a drafted dispatch: ``sent`` with its time, or ``failed`` with the reason."""
    with connection:
        connection.execute(
            "UPDATE dispatches SET status = ?, sent_at = ?, error = ? WHERE id = ?",
            ("failed" if error else "sent", sent_at, error, dispatch_id),
        )


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


def dispatches(
    connection: sqlite3.Connection, round_id: int, kind: str, department: str | None = None
) -> list[sqlite3.Row]:
    """The round's dispatches of ``kind`` (to one department, or to all), in the order they were recorded."""
    if department is None:
        return connection.execute(
            "SELECT * FROM dispatches WHERE round_id = ? AND kind = ? ORDER BY id", (round_id, kind)
        ).fetchall()
    return connection.execute(
        "SELECT * FROM dispatches WHERE round_id = ? AND department = ? AND kind = ? ORDER BY id",
        (round_id, department, kind),
    ).fetchall()


def reminded_on(
    connection: sqlite3.Connection, round_id: int, department: str, day: dt.date, *, sent_only: bool
) -> bool:
    """True when a reminder was sent on ``day`` (or, when only drafting, drafted or sent on it)."""
    statuses = ("sent",) if sent_only else ("sent", "drafted")
    return any(
        row["status"] in statuses and (row["sent_at"] or row["created_at"] or "")[:10] == day.isoformat()
        for row in dispatches(connection, round_id, "reminder", department)
    )


def latest_request_file(connection: sqlite3.Connection, round_id: int, department: str) -> str | None:
    """The workbook path of the department's latest request of the round, as recorded."""
    row = connection.execute(
        "SELECT file_path FROM dispatches WHERE round_id = ? AND department = ? AND kind = 'request' "
        "AND file_path IS NOT NULL ORDER BY version DESC, created_at DESC, id DESC LIMIT 1",
        (round_id, department),
    ).fetchone()
    return None if row is None else str(row["file_path"])
