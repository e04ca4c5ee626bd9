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
from xlplan.plan.model import Answer, Plan
from xlplan.plan.values import parse_value
from xlplan.workspace.ledger.schema import now

# ----------------------------------------------------------------------------------------
# intake
# ----------------------------------------------------------------------------------------


def latest_inbox_sha256(connection: sqlite3.Connection, path: str) -> str | None:
    """The content hash recorded last for this inbox path (relative, forward slashes), if any."""
    row = connection.execute(
        "SELECT sha256 FROM inbox_files WHERE path = ? ORDER BY id DESC LIMIT 1", (path,)
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


def insert_receipt(connection: sqlite3.Connection, record: ReceiptRecord) -> int:
    """Insert ``record`` (the caller holds the transaction); returns its id."""
    cursor = connection.execute(
        "INSERT INTO receipts (sha256, original_name, source, archived_path, received_at, round_id, status, "
        "duplicate_of, container_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (record.sha256, record.original_name, record.source, record.archived_path, now(), record.round_id,
         record.status, record.duplicate_of, record.container_id),
    )  # fmt: skip
    return int(cursor.lastrowid or 0)


def insert_inbox_file(
    connection: sqlite3.Connection, path: str, size: int, mtime_ns: int, sha256: str, receipt_id: int
) -> None:
    """Record that intake took this inbox file (the caller holds the transaction)."""
    connection.execute(
        "INSERT INTO inbox_files (path, size, mtime_ns, sha256, receipt_id, seen_at) VALUES (?, ?, ?, ?, ?, ?)",
        (path, size, mtime_ns, sha256, receipt_id, now()),
    )


# ----------------------------------------------------------------------------------------
# checking and acceptance
# ----------------------------------------------------------------------------------------


def record_check(
    connection: sqlite3.Connection,
    round_id: int,
    receipt_id: int,
    department: str | None,
    findings: Sequence[Finding],
    answers: Sequence[Answer] | None,
) -> None:
    """Write a checked file's findings and verdict; with ``answers``, accept it (superseding the earlier one).

    ``answers`` is None for a return that is not accepted. Findings are stored with their
    Japanese message (what staff read in the ledger) and their params as JSON. The caller
    holds the transaction (collection commits several verdicts at once).
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
    status = "accepted" if answers is not None else "invalid"
    connection.execute(
        "UPDATE receipts SET status = ?, department = ? WHERE id = ?", (status, department, receipt_id)
    )
    if answers is None or department is None:
        return
    previous = connection.execute(
        "SELECT id, receipt_id FROM acceptances WHERE round_id = ? AND department = ? "
        "AND superseded_by IS NULL",
        (round_id, department),
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
    connection.executemany(
        "INSERT INTO answers (receipt_id, project_no, entry, department, value, narrative) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                receipt_id,
                a.project_no,
                a.entry,
                a.department,
                a.value.display() or None,
                a.narrative or None,
            )
            for a in answers
        ],
    )


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
    answers: list[Answer] = []
    for row in rows:
        parsed = parse_value(row["value"], units.get(int(row["project_no"])), unit_known=True)
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
    """Files nobody could be matched to (they carry no round) that came in since the round opened."""
    row = connection.execute(
        "SELECT COUNT(*) FROM receipts WHERE department IS NULL AND status NOT IN ('duplicate', 'mail') "
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
