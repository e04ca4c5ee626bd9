"""Reading the master's cells as staff typed them: text, numbers, lists, positions in a row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xlplan.workspace.master.format import LIST_SPLIT


def text_of(value: Any, strip: bool = True) -> str | None:
    """A cell's text, or None for an empty cell. Numbers become their plain text (12.0 → 12)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if strip:
        text = text.strip()
    return text if text.strip() else None


def get(row: Sequence[Any], index: dict[str, int], column: str) -> Any:
    """The value of ``column`` (by the header ``index``) in ``row``; None where the row or sheet has no such cell."""
    position = index.get(column)
    if position is None or position >= len(row):
        return None
    return row[position]


def split(text: str | None) -> list[str]:
    """The names of a list cell (「、」, commas or line breaks between them)."""
    return [part.strip() for part in LIST_SPLIT.split(text or "") if part.strip()]


def positive_int(value: Any) -> int | None:
    """A whole number above zero as typed (12, 12.0, "12"), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    text = text_of(value)
    if text and text.isdecimal() and int(text) > 0:
        return int(text)
    return None
