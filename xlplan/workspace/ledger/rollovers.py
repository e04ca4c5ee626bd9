"""Closing a fiscal year in the ledger: a row written before the master is replaced, marked done after.

:func:`begin_rollover` records the intent (from which year to which, where the old master was
saved); the master is then replaced; :func:`finish_rollover` marks it done. A run that finds a
``writing`` row whose new master is in place finishes it rather than closing the year again, so a
crash between the two never loses the year and never skips one. A ``writing`` row whose master was
never replaced (the run stopped, or the file could not be written) is marked ``abandoned`` by
:func:`abandon_rollovers` when the year is closed again, so that it is never taken, a year later,
for the next year's.
"""

from __future__ import annotations

import sqlite3

from xlplan.workspace.ledger.schema import now


def begin_rollover(
    connection: sqlite3.Connection,
    from_year: int,
    to_year: int,
    backup: str | None,
    records: int,
    forced: bool,
) -> int:
    """Record that the year ``from_year`` is being closed; returns the row's id."""
    with connection:
        cursor = connection.execute(
            "INSERT INTO rollovers (from_year, to_year, state, backup_path, records, forced, started_at) "
            "VALUES (?, ?, 'writing', ?, ?, ?, ?)",
            (from_year, to_year, backup, records, int(forced), now()),
        )
    return int(cursor.lastrowid or 0)


def finish_rollover(connection: sqlite3.Connection, rollover_id: int) -> None:
    """Mark a rollover done (the new master is in place)."""
    with connection:
        connection.execute(
            "UPDATE rollovers SET state = 'done', finished_at = ? WHERE id = ?", (now(), rollover_id)
        )


def pending_rollover(connection: sqlite3.Connection) -> sqlite3.Row | None:
    """The latest rollover that was started and not marked done, if any."""
    row: sqlite3.Row | None = connection.execute(
        "SELECT * FROM rollovers WHERE state = 'writing' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return row


def abandon_rollovers(connection: sqlite3.Connection) -> None:
    """Mark every rollover still ``writing`` abandoned: its master was not replaced, the year is closed anew."""
    with connection:
        connection.execute(
            "UPDATE rollovers SET state = 'abandoned', finished_at = ? WHERE state = 'writing'", (now(),)
        )


def rolled_into(connection: sqlite3.Connection, year: int) -> sqlite3.Row | None:
    """The finished rollover that opened fiscal year ``year``, if the year was reached by one."""
    row: sqlite3.Row | None = connection.execute(
        "SELECT * FROM rollovers WHERE state = 'done' AND to_year = ? ORDER BY id DESC LIMIT 1", (year,)
    ).fetchone()
    return row


def rolled_into_since(connection: sqlite3.Connection, year: int, rollover_id: int) -> bool:
    """Whether a rollover started after ``rollover_id`` opened fiscal year ``year`` (the row is then stale)."""
    row = connection.execute(
        "SELECT 1 FROM rollovers WHERE state = 'done' AND to_year = ? AND id > ? LIMIT 1", (year, rollover_id)
    ).fetchone()
    return row is not None


def year_activity(connection: sqlite3.Connection, year: int) -> int:
    """How many requests were sent or returns received in fiscal year ``year`` (0: the year is untouched)."""
    row = connection.execute(
        "SELECT (SELECT COUNT(*) FROM dispatches d JOIN rounds r ON r.id = d.round_id WHERE r.fiscal_year = ?) "
        "+ (SELECT COUNT(*) FROM receipts c JOIN rounds r ON r.id = c.round_id WHERE r.fiscal_year = ?) AS n",
        (year, year),
    ).fetchone()
    return int(row["n"])
