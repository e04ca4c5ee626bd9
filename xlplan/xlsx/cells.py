"""Excel hygiene in one place: text that must stay text, sheet and file names, A1 addresses.

Every module that writes a cell with text from a person (the plan, a department's
narrative) goes through :func:`set_text`, so that such text can never become a
formula, a DDE call or an external link, whatever it starts with.
"""

from __future__ import annotations

import re
import unicodedata

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils.cell import column_index_from_string as _column_index
from openpyxl.utils.cell import coordinate_from_string, get_column_letter

# Characters that make Excel (on typing, or some readers on import) start a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

# XML 1.0 forbids these control characters; openpyxl raises IllegalCharacterError on them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_FILE_NAME_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}

SHEET_NAME_MAX = 31
"""Excel refuses sheet names longer than 31 characters."""


def clean_text(text: str) -> str:
    """Remove the control characters that XML cannot hold; keep tabs and line breaks."""
    return _ILLEGAL_XML.sub("", text)


def looks_like_formula(text: str) -> bool:
    """True when Excel would treat ``text`` as the start of a formula if typed."""
    return text.startswith(FORMULA_TRIGGERS)


def set_text(cell: Cell | MergedCell, text: str | None) -> None:
    """Write ``text`` into an openpyxl cell as a plain string, never a formula.

    openpyxl turns any string starting with ``=`` into a formula, so the data type
    is forced back to string; the quote prefix keeps Excel from re-reading the
    text as a formula when a person edits the cell later.
    """
    if not isinstance(cell, Cell):
        raise TypeError(f"cannot write text into merged cell {cell.coordinate}")
    if text is None:
        cell.value = None
        return
    cleaned = clean_text(text)
    cell.value = cleaned
    cell.data_type = "s"
    if looks_like_formula(cleaned):
        cell.quotePrefix = True


def sheet_title(name: str) -> str:
    """A valid sheet name: forbidden characters replaced, at most 31 characters, not empty."""
    title = _SHEET_NAME_FORBIDDEN.sub("_", clean_text(name)).strip("'") or "Sheet"
    return title[:SHEET_NAME_MAX]


def file_name(name: str, *, max_length: int = 120) -> str:
    """A file name safe on Windows: no reserved characters or names, NFC, bounded length.

    Japanese is kept (Windows and mail clients handle it); only what Windows forbids is replaced.
    """
    cleaned = _FILE_NAME_FORBIDDEN.sub("_", unicodedata.normalize("NFC", name)).strip().rstrip(".")
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot:
        stem, suffix = cleaned, ""
    if stem.upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    limit = max(1, max_length - len(suffix) - 1)
    stem = stem[:limit] or "_"
    return f"{stem}.{suffix}" if suffix else stem


def a1(row: int, column: int) -> str:
    """1-based row and column to an A1 address: ``a1(12, 6) == "F12"``."""
    return f"{get_column_letter(column)}{row}"


def from_a1(address: str) -> tuple[int, int]:
    """An A1 address to 1-based (row, column): ``from_a1("F12") == (12, 6)``."""
    letters, row = coordinate_from_string(address)
    return row, _column_index(letters)
