"""Reading the master's cells as staff typed them: text, numbers, lists, positions in a row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from xlplan.plan.text import strip_unsafe
from xlplan.workspace.master.format import LIST_SPLIT


def text_of(value: Any, strip: bool = True) -> str | None:
    """A cell's text, or None for an empty cell. Numbers become their plain text (12.0 → 12).

    Characters that do harm in the outputs and mean nothing typed (control characters, DEL, the
    bidirectional overrides: :mod:`xlplan.plan.text`) are removed, as from a department's text:
    the master's titles, names and descriptions are published too.
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = strip_unsafe(str(value))
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


def date_of(raw: Any) -> dt.date | None:
    """A date cell: a date, or text as 2021/5/31 or 2021年5月31日; None when empty.

    Raises:
        ValueError: the cell holds something else.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    match = re.fullmatch(r"\s*(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?\s*", str(raw))
    if match is None:
        raise ValueError(f"not a date: {raw!r}")
    return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def percent_shown(value: Any, number_format: str | None) -> Any:
    """``value`` as text "50%" when it is a number under a percent format (Excel keeps "50%" typed as
    0.5); anything else as it is. A quoted "%" (``0"%"``) is text in the format, not a percentage."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not number_format:
        return value
    bare = re.sub(r'"[^"]*"|\\.', "", number_format.split(";")[0])
    if "%" not in bare:
        return value
    number = (Decimal(repr(value)) if isinstance(value, float) else Decimal(value)) * 100
    return f"{format(number.normalize(), 'f')}%" if number.is_finite() else value
