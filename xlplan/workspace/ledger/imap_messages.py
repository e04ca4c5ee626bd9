"""Mails taken from the plan office's IMAP mailbox, in the ledger: each taken once, whatever stops a run.

A mail is known by its server account, folder, the folder's ``UIDVALIDITY`` and its UID
(RFC 3501: a UID names one message for as long as the folder keeps its UIDVALIDITY).
``state`` follows each side effect, recorded before it happens:

- ``taking``: the mail is about to be downloaded and saved at ``inbox_path``; a run that
  stops here is finished by the next one at the same path, which is never written twice;
- ``saved``: the ``.eml`` is in ``inbox/`` (the next collection takes it in); it is about to
  be marked as taken on the server;
- ``marked``: the server carries the mark; nothing more to do;
- ``gone``: the mail was deleted on the server before it could be downloaded;
- ``refused``: the server sent more than the size limit allows; nothing was saved.

Rows are added or marked, never deleted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from xlplan.workspace.ledger.schema import now

PENDING_STATES = ("taking", "saved")
"""States a run may leave behind: the next run finishes them before it looks for new mail."""


@dataclass(frozen=True)
class ImapMessage:
    """One mail of the office's mailbox as the ledger knows it."""

    id: int
    uid: int
    size: int
    inbox_path: str
    state: str


def insert_imap_message(
    connection: sqlite3.Connection,
    account: str,
    mailbox: str,
    uidvalidity: int,
    uid: int,
    size: int,
    inbox_path: str,
) -> int:
    """Record that the mail is about to be taken (state ``taking``) and commit; returns the row's id."""
    with connection:
        cursor = connection.execute(
            "INSERT INTO imap_messages (account, mailbox, uidvalidity, uid, size, inbox_path, state, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, 'taking', ?)",
            (account, mailbox, uidvalidity, uid, size, inbox_path, now()),
        )
    return int(cursor.lastrowid or 0)


def mark_imap_message(connection: sqlite3.Connection, message_id: int, state: str) -> None:
    """Move a mail to ``state`` (``saved``, ``marked``, ``gone`` or ``refused``) and commit."""
    column = {"saved": "saved_at", "marked": "marked_at"}.get(state)
    with connection:
        if column is None:
            connection.execute("UPDATE imap_messages SET state = ? WHERE id = ?", (state, message_id))
        else:  # the column name comes from the mapping above, never from the caller
            connection.execute(
                f"UPDATE imap_messages SET state = ?, {column} = ? WHERE id = ?", (state, now(), message_id)
            )


def imap_messages(
    connection: sqlite3.Connection, account: str, mailbox: str, uidvalidity: int, *, pending: bool = False
) -> list[ImapMessage]:
    """The mails recorded for this folder (with ``pending``: those a run left unfinished), by UID."""
    sql = (
        "SELECT id, uid, size, inbox_path, state FROM imap_messages "
        "WHERE account = ? AND mailbox = ? AND uidvalidity = ?"
    )
    if pending:
        sql += f" AND state IN ({', '.join('?' for _ in PENDING_STATES)})"
    rows = connection.execute(
        sql + " ORDER BY uid", (account, mailbox, uidvalidity, *(PENDING_STATES if pending else ()))
    )
    return [ImapMessage(int(r["id"]), int(r["uid"]), int(r["size"]), str(r["inbox_path"]), str(r["state"]))
            for r in rows]  # fmt: skip


def inbox_path_recorded(connection: sqlite3.Connection, inbox_path: str) -> bool:
    """True when a mail was already given this place in ``inbox/`` (another server, another folder)."""
    row = connection.execute("SELECT 1 FROM imap_messages WHERE inbox_path = ?", (inbox_path,)).fetchone()
    return row is not None
