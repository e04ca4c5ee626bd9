"""Cells of a table as openpyxl reads them (read-only mode), for the readers of ``init --from``."""

from __future__ import annotations

from typing import Any


def text_of(cell: Any) -> str | None:
    """A cell's value as trimmed text with ``\\n`` line breaks; None when empty."""
    value = getattr(cell, "value", cell)
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def cell_at(row: list[Any], column: int) -> Any:
    """The cell of ``row`` at ``column`` (0-based), None beyond the row's end (read-only rows are ragged)."""
    return row[column] if column < len(row) else None
