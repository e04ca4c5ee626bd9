"""差し戻し owed: a department's latest return has errors and its 差し戻し票 is not yet made.

Collection writes its verdicts, then a 差し戻し票 for each department whose latest return has
errors. The findings and answers it needs are in the run's memory only; a run stopped between
the two (a kill, a power cut) would leave the department without its 差し戻し票, and no later
run would know. So the debt is written in the verdict's own transaction, and settled in the
transaction that records the 差し戻し票's dispatch; every run with feedback first makes those
still owed (:func:`owed_feedback`), reading the archived return again.

``state`` of a row:

- ``due``: owed; ``dispatch_id`` is the dispatch begun for it, if any (still ``writing`` or
  ``drafted``: nothing was handed to the mail server, so it is made again in its place);
- ``done``: the 差し戻し票 is written (a draft, or a workbook for a department without an
  address), or its mail is being handed to the server: from then on the dispatch's own
  status says what happened, and it is never sent again by itself;
- ``superseded``: a later return of the department was checked before it was made (a dispatch
  begun for it is marked ``superseded`` too: it is not a 差し戻し票 the department was sent).
"""

from __future__ import annotations

import sqlite3

from xlplan.workspace.ledger.schema import now, with_paths


def note_feedback(
    connection: sqlite3.Connection, round_id: int, department: str, receipt_id: int, *, owed: bool
) -> None:
    """A return of ``department`` was checked (or accepted by the office): what was owed for the
    department's earlier returns is superseded, and with ``owed`` (it has errors) a 差し戻し is owed
    for this one. Only earlier ones: a 差し戻し owed for a return that arrived after this one stands.
    The caller holds the transaction."""
    _supersede(
        connection, "round_id = ? AND department = ? AND receipt_id < ?", (round_id, department, receipt_id)
    )
    if owed:
        connection.execute(
            "INSERT OR IGNORE INTO feedback_owed (receipt_id, round_id, department, state, owed_at) "
            "VALUES (?, ?, ?, 'due', ?)",
            (receipt_id, round_id, department, now()),
        )


def drop_feedback(connection: sqlite3.Connection, receipt_id: int) -> None:
    """Nothing is owed for ``receipt_id`` after all (checked again, it has no errors now, or is another
    department's: the master changed). The caller holds the transaction."""
    _supersede(connection, "receipt_id = ?", (receipt_id,))


def owed_in_other_rounds(connection: sqlite3.Connection, round_id: int) -> list[sqlite3.Row]:
    """What is still owed for returns of rounds other than ``round_id``: the office began a new round
    (回) or year while a stopped run owed them. Their department, receipt and original name."""
    return connection.execute(
        "SELECT o.receipt_id, o.department, r.original_name FROM feedback_owed o "
        "JOIN receipts r ON r.id = o.receipt_id WHERE o.round_id != ? AND o.state = 'due' ORDER BY o.receipt_id",
        (round_id,),
    ).fetchall()


def _supersede(connection: sqlite3.Connection, where: str, params: tuple[object, ...]) -> None:
    # ``where`` is one of this module's own conditions (its values are parameters).
    # A 差し戻し票 a stopped run began for one of them (nothing of it was sent) will not be finished.
    connection.execute(
        "UPDATE dispatches SET status = 'superseded' WHERE status IN ('writing', 'drafted') AND id IN "
        f"(SELECT dispatch_id FROM feedback_owed WHERE state = 'due' AND {where})",
        params,
    )
    connection.execute(
        f"UPDATE feedback_owed SET state = 'superseded', settled_at = ? WHERE state = 'due' AND {where}",
        (now(), *params),
    )


def owed_feedback(connection: sqlite3.Connection, round_id: int | None) -> list[sqlite3.Row]:
    """The round's returns still owed a 差し戻し (any round's with None), oldest first, with their
    receipt's columns (``original_name``, ``archived_path``, ``sender``, …), the department owed
    (``owed_department``) and the name of the mail they came in (``container_name``)."""
    return connection.execute(
        "SELECT r.*, o.department AS owed_department, c.original_name AS container_name "
        "FROM feedback_owed o JOIN receipts r ON r.id = o.receipt_id "
        "LEFT JOIN receipts c ON c.id = r.container_id "
        "WHERE o.round_id = COALESCE(?, o.round_id) AND o.state = 'due' ORDER BY o.receipt_id",
        (round_id,),
    ).fetchall()


def begun_feedback(connection: sqlite3.Connection, receipt_id: int) -> sqlite3.Row | None:
    """The dispatch a stopped run began for the 差し戻し owed for ``receipt_id``, when nothing of it
    reached the mail server (``writing`` or ``drafted``): it is made again with the same version and path."""
    row: sqlite3.Row | None = with_paths(
        connection.execute(
            "SELECT d.* FROM feedback_owed o JOIN dispatches d ON d.id = o.dispatch_id "
            "WHERE o.receipt_id = ? AND o.state = 'due' AND d.status IN ('writing', 'drafted')",
            (receipt_id,),
        )
    ).fetchone()
    return row


def link_feedback(connection: sqlite3.Connection, receipt_id: int, dispatch_id: int) -> None:
    """The dispatch begun for the 差し戻し owed for ``receipt_id``. The caller holds the transaction."""
    connection.execute(
        "UPDATE feedback_owed SET dispatch_id = ? WHERE receipt_id = ? AND state = 'due'",
        (dispatch_id, receipt_id),
    )


def settle_feedback(connection: sqlite3.Connection, receipt_id: int) -> None:
    """The 差し戻し owed for ``receipt_id`` is made (or is being sent). The caller holds the transaction."""
    connection.execute(
        "UPDATE feedback_owed SET state = 'done', settled_at = ? WHERE receipt_id = ? AND state = 'due'",
        (now(), receipt_id),
    )


def superseded_feedback(connection: sqlite3.Connection) -> list[sqlite3.Row]:
    """The 差し戻し票 dispatches marked ``superseded`` (begun by a stopped run, never finished): their
    ``file_path`` and ``mail_path``, for collection to set their files aside."""
    return with_paths(
        connection.execute(
            "SELECT id, file_path, mail_path FROM dispatches WHERE kind = 'feedback' AND status = 'superseded' ORDER BY id"
        )
    ).fetchall()


def failed_feedback(connection: sqlite3.Connection, round_id: int) -> list[sqlite3.Row]:
    """The round's 差し戻し mails the server refused (``failed``: nothing was handed over) that are
    still the department's latest 差し戻し, for a return no later one of the department replaced:
    the next run that sends sends their drafts again."""
    return with_paths(
        connection.execute(
            "SELECT d.* FROM dispatches d JOIN feedback_owed o ON o.dispatch_id = d.id "
            "WHERE d.kind = 'feedback' AND d.status = 'failed' AND d.round_id = ? AND d.mail_path IS NOT NULL "
            "AND d.id = (SELECT MAX(e.id) FROM dispatches e WHERE e.kind = 'feedback' AND e.round_id = d.round_id "
            "AND e.department = d.department AND e.status != 'superseded') "
            "AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.round_id = o.round_id AND r.department = o.department "
            "AND r.id > o.receipt_id AND r.status IN ('accepted', 'invalid')) ORDER BY d.id",
            (round_id,),
        )
    ).fetchall()
