"""Receipts in the ledger: every file received, what checking found in it, acceptances and answers.

Intake records a receipt for each file before anything reads it; checking adds
the file's findings, its verdict and, for an accepted return, the acceptance
(superseding the department's earlier one) and its answers — in one transaction,
so a return is never half-accepted.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from xlplan.findings import Finding
from xlplan.plan.combine import combine_values, join_narratives
from xlplan.plan.model import Answer, Plan
from xlplan.plan.values import parse_value
from xlplan.workspace.ledger.feedback_owed import note_feedback
from xlplan.workspace.ledger.schema import now

# ----------------------------------------------------------------------------------------
# intake
# ----------------------------------------------------------------------------------------


def latest_inbox_sha256(connection: sqlite3.Connection, path: str, raw_name: bytes) -> str | None:
    """The content hash recorded last for this inbox path, if any.

    ``raw_name`` is the path's bytes (relative, forward slashes): a Shift_JIS name and a UTF-8
    name that display as the same ``path`` are two files. A row recorded before schema 7 has
    only its displayed path.
    """
    row = connection.execute(
        "SELECT sha256 FROM inbox_files WHERE raw_name = ? OR (raw_name IS NULL AND path = ?) "
        "ORDER BY id DESC LIMIT 1",
        (raw_name, path),
    ).fetchone()
    return None if row is None else str(row[0])


@dataclass(frozen=True)
class FirstReceipt:
    """The receipt that first brought some bytes: later copies are duplicates of it."""

    id: int
    original_name: str
    archived_path: str  # relative to the workspace


def first_receipt(connection: sqlite3.Connection, sha256: str) -> FirstReceipt | None:
    """The first receipt of these bytes, if they were received before."""
    row = connection.execute(
        "SELECT id, original_name, archived_path FROM receipts WHERE sha256 = ? AND duplicate_of IS NULL "
        "ORDER BY id LIMIT 1",
        (sha256,),
    ).fetchone()
    return None if row is None else FirstReceipt(int(row[0]), str(row[1]), str(row[2]))


@dataclass(frozen=True)
class ReceiptRecord:
    """A receipt row to insert."""

    sha256: str
    original_name: str
    source: str  # inbox, eml
    archived_path: str
    round_id: int | None
    status: str  # archived, duplicate, mail
    duplicate_of: int | None = None
    container_id: int | None = None
    sender: str | None = None


def insert_receipt(connection: sqlite3.Connection, record: ReceiptRecord) -> int:
    """Insert ``record`` (the caller holds the transaction); returns its id."""
    cursor = connection.execute(
        "INSERT INTO receipts (sha256, original_name, source, archived_path, received_at, round_id, status, "
        "duplicate_of, container_id, sender) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (record.sha256, record.original_name, record.source, record.archived_path, now(), record.round_id,
         record.status, record.duplicate_of, record.container_id, record.sender),
    )  # fmt: skip
    return int(cursor.lastrowid or 0)


def insert_inbox_file(
    connection: sqlite3.Connection,
    path: str,
    raw_name: bytes,
    size: int,
    mtime_ns: int,
    sha256: str,
    receipt_id: int,
) -> None:
    """Record that intake took this inbox file (the caller holds the transaction)."""
    connection.execute(
        "INSERT INTO inbox_files (path, raw_name, size, mtime_ns, sha256, receipt_id, seen_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (path, raw_name, size, mtime_ns, sha256, receipt_id, now()),
    )


# ----------------------------------------------------------------------------------------
# checking and acceptance
# ----------------------------------------------------------------------------------------


def record_check(
    connection: sqlite3.Connection,
    round_id: int,
    receipt_id: int,
    *,
    status: str,
    department: str | None,
    findings: Sequence[Finding],
    answers: Sequence[Answer] = (),
    takes_over: Sequence[str] = (),
) -> None:
    """Write a checked file's findings and verdict.

    ``status`` is ``accepted`` (the department's accepted return from now on, superseding
    the one before; its ``answers`` are what consolidation prints), ``review`` (no proof of
    the sender: its answers are kept for the plan office's decision, nothing is accepted),
    ``invalid``, or ``superseded`` (a return checked after a later one of its department:
    its findings are kept, nothing is accepted). An accepted return also supersedes the accepted
    returns of the departments in ``takes_over`` (the former names it now answers for, after a merge).
    Findings are stored with their Japanese message (what staff read in the
    ledger) and their params as JSON. The caller holds the transaction (collection commits
    several verdicts at once).
    """
    connection.executemany(
        "INSERT INTO findings (receipt_id, code, severity, sheet, cell, message, params) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (receipt_id, f.code, f.severity, f.sheet, f.cell, f.message(),
             json.dumps(f.params_json(), ensure_ascii=False))
            for f in findings
        ],
    )  # fmt: skip
    connection.execute(
        "UPDATE receipts SET status = ?, department = ? WHERE id = ?", (status, department, receipt_id)
    )
    if status in ("accepted", "review"):
        _insert_answers(connection, receipt_id, answers)
    if status == "accepted" and department is not None:
        _accept(connection, round_id, receipt_id, department, takes_over)


def later_verdict(connection: sqlite3.Connection, round_id: int, department: str, receipt_id: int) -> bool:
    """True when a return of ``department`` that arrived after ``receipt_id`` already has its signed
    verdict in the round: the later return wins, whichever was checked first (a reading tried again)."""
    row = connection.execute(
        "SELECT 1 FROM receipts WHERE round_id = ? AND department = ? AND id > ? "
        "AND status IN ('accepted', 'invalid', 'superseded') LIMIT 1",
        (round_id, department, receipt_id),
    ).fetchone()
    return row is not None


def _insert_answers(connection: sqlite3.Connection, receipt_id: int, answers: Sequence[Answer]) -> None:
    connection.executemany(
        "INSERT INTO answers (receipt_id, project_no, entry, department, value, narrative) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (receipt_id, a.project_no, a.entry, a.department, a.value.display() or None, a.narrative or None)
            for a in answers
        ],
    )


def _accept(
    connection: sqlite3.Connection,
    round_id: int,
    receipt_id: int,
    department: str,
    takes_over: Sequence[str] = (),
) -> None:
    """Make the receipt the department's accepted return of the round, superseding the earlier one
    (and those of the former departments in ``takes_over``)."""
    names = (department, *takes_over)
    previous = connection.execute(
        "SELECT id, receipt_id FROM acceptances WHERE round_id = ? AND superseded_by IS NULL "
        f"AND department IN ({', '.join('?' * len(names))})",
        (round_id, *names),
    ).fetchall()
    cursor = connection.execute(
        "INSERT INTO acceptances (round_id, department, receipt_id, accepted_at) VALUES (?, ?, ?, ?)",
        (round_id, department, receipt_id, now()),
    )
    for row in previous:
        connection.execute(
            "UPDATE acceptances SET superseded_by = ? WHERE id = ?", (cursor.lastrowid, row["id"])
        )
        connection.execute("UPDATE receipts SET status = 'superseded' WHERE id = ?", (row["receipt_id"],))


def add_read_attempt(connection: sqlite3.Connection, receipt_id: int) -> int:
    """Count a reading of the receipt's file that timed out or crashed; returns how many there were.
    The caller holds the transaction (the receipt stays unchecked, for the next run to read again)."""
    connection.execute("UPDATE receipts SET read_attempts = read_attempts + 1 WHERE id = ?", (receipt_id,))
    row = connection.execute("SELECT read_attempts FROM receipts WHERE id = ?", (receipt_id,)).fetchone()
    return int(row[0])


def unchecked_receipts(connection: sqlite3.Connection) -> list[sqlite3.Row]:
    """Receipts archived by an earlier run that never got their verdict (it stopped before): oldest first."""
    return connection.execute(
        "SELECT r.*, c.original_name AS container_name FROM receipts r "
        "LEFT JOIN receipts c ON c.id = r.container_id "
        "WHERE r.status = 'archived' AND r.duplicate_of IS NULL ORDER BY r.id"
    ).fetchall()


# ----------------------------------------------------------------------------------------
# the plan office's decisions on returns without proof
# ----------------------------------------------------------------------------------------


def awaiting_review(connection: sqlite3.Connection) -> list[sqlite3.Row]:
    """Returns waiting for the office's decision, oldest first, with their error and warning counts."""
    return connection.execute(
        "SELECT r.id, r.original_name, r.department, r.sender, r.received_at, r.round_id, "
        "SUM(f.severity = 'error') AS errors, SUM(f.severity = 'warning') AS warnings "
        "FROM receipts r LEFT JOIN findings f ON f.receipt_id = r.id "
        "WHERE r.status = 'review' GROUP BY r.id ORDER BY r.id"
    ).fetchall()


def cell_errors(connection: sqlite3.Connection, receipt_id: int, ignore: Sequence[str]) -> list[sqlite3.Row]:
    """The receipt's error findings other than the codes in ``ignore`` (those about its proof)."""
    marks = ", ".join("?" for _ in ignore) or "''"
    return connection.execute(
        f"SELECT code, sheet, cell, message FROM findings WHERE receipt_id = ? AND severity = 'error' "
        f"AND code NOT IN ({marks}) ORDER BY id",
        (receipt_id, *ignore),
    ).fetchall()


def decide(
    connection: sqlite3.Connection,
    receipt_id: int,
    *,
    decision: str,
    department: str | None,
    decided_by: str,
    note: str | None,
    round_id: int | None,
) -> bool:
    """Record the office's decision (``accept`` or ``reject``) on a return in review, and carry it out.

    Accepting makes the return its department's accepted return (superseding the earlier one, and
    any 差し戻し still owed to the department: see :mod:`~xlplan.workspace.ledger.feedback_owed`);
    rejecting leaves it in the archive and the ledger, marked. Returns False, recording nothing,
    when the return is no longer in review: another decision (the server's page and the command
    line at the same moment) came first. The caller holds the transaction.
    """
    # Where it goes when accepted: the department and the round (a rejection, or an acceptance
    # without them, is recorded as rejected).
    accepted_as = (
        (department, round_id)
        if decision == "accept" and department is not None and round_id is not None
        else None
    )
    # The status is changed first, and only from review: of two decisions made at once, one wins.
    if accepted_as is not None:
        cursor = connection.execute(
            "UPDATE receipts SET status = 'accepted', department = ?, round_id = ? WHERE id = ? AND status = 'review'",
            (*accepted_as, receipt_id),
        )
    else:
        cursor = connection.execute(
            "UPDATE receipts SET status = 'rejected' WHERE id = ? AND status = 'review'", (receipt_id,)
        )
    if cursor.rowcount != 1:
        return False
    connection.execute(
        "INSERT INTO decisions (receipt_id, decision, department, decided_by, decided_at, note) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (receipt_id, decision, department, decided_by, now(), note),
    )
    if accepted_as is not None:
        _accept(connection, accepted_as[1], receipt_id, accepted_as[0])
        # The office has settled the department's answer: a 差し戻し票 still owed for an earlier return
        # would contradict it (one owed for a later return stands, as it would had it been made already).
        note_feedback(connection, accepted_as[1], accepted_as[0], receipt_id, owed=False)
    return True


def decisions_of(connection: sqlite3.Connection, receipt_id: int) -> list[sqlite3.Row]:
    """Every decision recorded on a receipt."""
    return connection.execute(
        "SELECT * FROM decisions WHERE receipt_id = ? ORDER BY id", (receipt_id,)
    ).fetchall()


def answer_departments(connection: sqlite3.Connection, receipt_id: int) -> list[str]:
    """The departments whose rows the answers stored for ``receipt_id`` are (as the rows name them)."""
    rows = connection.execute(
        "SELECT DISTINCT department FROM answers WHERE receipt_id = ? ORDER BY department", (receipt_id,)
    ).fetchall()
    return [str(row[0]) for row in rows]


def signed_acceptance(connection: sqlite3.Connection, round_id: int, department: str) -> sqlite3.Row | None:
    """The department's current acceptance when it came with a valid signature (no decision behind it)."""
    row: sqlite3.Row | None = connection.execute(
        "SELECT c.* FROM acceptances c WHERE c.round_id = ? AND c.department = ? AND c.superseded_by IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.receipt_id = c.receipt_id AND d.decision = 'accept')",
        (round_id, department),
    ).fetchone()
    return row


def accepted_answers(connection: sqlite3.Connection, plan: Plan) -> list[Answer]:
    """The answers of every department's accepted return in the master's current round, in plan order.

    This is what consolidation prints. Values are stored in their display form
    (``159人``, ``○``) and read back against the project's unit.
    """
    settings = plan.settings
    rows = connection.execute(
        "SELECT a.project_no, a.entry, a.department, a.value, a.narrative "
        "FROM answers a JOIN acceptances c ON c.receipt_id = a.receipt_id "
        "JOIN rounds r ON r.id = c.round_id "
        "WHERE r.fiscal_year = ? AND r.number = ? AND c.superseded_by IS NULL ORDER BY a.id",
        (settings.current_year.western, settings.round),
    ).fetchall()
    units = {project.no: project.unit for project in plan.projects}
    order = {
        (p.no, e.name): index for index, (p, e) in enumerate((p, e) for p in plan.projects for e in p.entries)
    }
    current = {d.name for d in plan.departments}
    answers: list[Answer] = []
    # Answers accepted under names that are one department now (a merge typed in during the collection):
    # by the share they all land on, each with the name it was given under, to be combined, not replaced.
    merged: dict[tuple[int, str, str], list[tuple[str, Answer]]] = {}
    for row in rows:
        project_no, entry, department = int(row["project_no"]), str(row["entry"]), str(row["department"])
        parsed = parse_value(row["value"], units.get(project_no), unit_known=True)
        if parsed.value is None:  # cannot happen for a value the check accepted; keep it out of the table
            continue
        written_as = department
        if (project_no, entry) not in order or department not in current:
            # Accepted before a reorganisation was typed into 担当課: the row as the plan names it now.
            entry, department = plan.current_entry(project_no, entry, department) or (entry, department)
        answer = Answer(project_no, entry, department, parsed.value, row["narrative"] or "")
        merged.setdefault((project_no, entry, department), []).append((written_as, answer))
    for key, given in merged.items():
        if len(given) == 1:
            answers.append(given[0][1])
            continue
        # As the history of merged departments is combined: counts added, one rate kept, ○ first.
        value = combine_values(answer.value for _, answer in given).value
        narrative = join_narratives([(name, answer.narrative) for name, answer in given]) or ""
        answers.append(Answer(*key, value, narrative))
    answers.sort(key=lambda a: order.get((a.project_no, a.entry), len(order)))
    return answers


# ----------------------------------------------------------------------------------------
# what status reads
# ----------------------------------------------------------------------------------------


def round_departments(connection: sqlite3.Connection, round_id: int) -> list[str]:
    """Every department the ledger knows in the round: sent to, or received from."""
    return [
        str(name)
        for (name,) in connection.execute(
            "SELECT department FROM dispatches WHERE round_id = ? "
            "UNION SELECT department FROM receipts WHERE round_id = ? AND department IS NOT NULL",
            (round_id, round_id),
        )
    ]


def unidentified_since(connection: sqlite3.Connection, round_id: int) -> int:
    """Files nobody could be matched to (they carry no round) that came in since the round opened
    (not those still to be checked, such as a reading to be tried again)."""
    row = connection.execute(
        "SELECT COUNT(*) FROM receipts WHERE department IS NULL AND status NOT IN ('duplicate', 'mail', 'archived') "
        "AND received_at >= (SELECT opened_at FROM rounds WHERE id = ?)",
        (round_id,),
    ).fetchone()
    return int(row[0])


def receipts_of(connection: sqlite3.Connection, round_id: int, department: str) -> list[sqlite3.Row]:
    """The department's receipts in the round, oldest first."""
    return connection.execute(
        "SELECT * FROM receipts WHERE round_id = ? AND department = ? ORDER BY received_at, id",
        (round_id, department),
    ).fetchall()


def receipt(connection: sqlite3.Connection, receipt_id: int) -> sqlite3.Row | None:
    """One receipt row."""
    row: sqlite3.Row | None = connection.execute(
        "SELECT * FROM receipts WHERE id = ?", (receipt_id,)
    ).fetchone()
    return row


def current_acceptance(connection: sqlite3.Connection, round_id: int, department: str) -> sqlite3.Row | None:
    """The department's accepted return of the round that is not superseded, if any."""
    row: sqlite3.Row | None = connection.execute(
        "SELECT * FROM acceptances WHERE round_id = ? AND department = ? AND superseded_by IS NULL "
        "ORDER BY accepted_at DESC, id DESC LIMIT 1",
        (round_id, department),
    ).fetchone()
    return row


def findings_of(connection: sqlite3.Connection, receipt_id: int) -> list[sqlite3.Row]:
    """A receipt's findings as recorded (code, severity, sheet, cell, message), in the order found."""
    return connection.execute(
        "SELECT code, severity, sheet, cell, message FROM findings WHERE receipt_id = ? ORDER BY id",
        (receipt_id,),
    ).fetchall()


def finding_counts(connection: sqlite3.Connection, receipt_id: int) -> tuple[int, int]:
    """(errors, warnings) recorded for a receipt."""
    counts = dict(
        connection.execute(
            "SELECT severity, COUNT(*) FROM findings WHERE receipt_id = ? GROUP BY severity", (receipt_id,)
        ).fetchall()
    )
    return int(counts.get("error", 0)), int(counts.get("warning", 0))


def answer_count(connection: sqlite3.Connection, receipt_id: int) -> int:
    """Answers stored from a receipt."""
    return int(
        connection.execute("SELECT COUNT(*) FROM answers WHERE receipt_id = ?", (receipt_id,)).fetchone()[0]
    )
