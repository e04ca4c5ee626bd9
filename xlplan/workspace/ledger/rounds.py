"""Rounds (a fiscal year's requests: 第1回, 第2回 …) and the registry of departments, in the ledger."""

from __future__ import annotations

import sqlite3

from xlplan.plan.model import Settings
from xlplan.workspace.ledger.schema import now


def current_round(connection: sqlite3.Connection, settings: Settings) -> int:
    """The id of the round the master's settings name (current fiscal year and round), created if new."""
    deadline = settings.deadline.isoformat() if settings.deadline else None
    return ensure_round(connection, settings.current_year.western, settings.round, deadline)


def ensure_round(connection: sqlite3.Connection, fiscal_year: int, number: int, deadline: str | None) -> int:
    """The id of the round (fiscal year, number), created if new."""
    with connection:
        connection.execute(
            "INSERT OR IGNORE INTO rounds (fiscal_year, number, opened_at, deadline) VALUES (?, ?, ?, ?)",
            (fiscal_year, number, now(), deadline),
        )
    row = connection.execute(
        "SELECT id FROM rounds WHERE fiscal_year = ? AND number = ?", (fiscal_year, number)
    ).fetchone()
    return int(row["id"])


def find_round(connection: sqlite3.Connection, fiscal_year: int, number: int) -> sqlite3.Row | None:
    """The round's row (``id``, ``deadline``, ``opened_at``) if it was ever opened; nothing is created."""
    row: sqlite3.Row | None = connection.execute(
        "SELECT id, deadline, opened_at FROM rounds WHERE fiscal_year = ? AND number = ?",
        (fiscal_year, number),
    ).fetchone()
    return row


def sync_departments(
    connection: sqlite3.Connection, departments: list[tuple[str, str | None, str | None]]
) -> None:
    """Record the registry's departments (name, email, contact), updating changed addresses."""
    with connection:
        connection.executemany(
            "INSERT INTO departments (name, email, contact) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET email = excluded.email, contact = excluded.contact",
            departments,
        )


def first_opened(connection: sqlite3.Connection) -> str | None:
    """When the workspace's first round was opened (ISO 8601): nothing sent to it can be older."""
    row = connection.execute("SELECT MIN(opened_at) AS opened FROM rounds").fetchone()
    return str(row["opened"]) if row["opened"] is not None else None
