"""Excel hygiene in one place: text that must stay text, sheet and file names, A1 addresses.

Every module that writes a cell with text from a person (the plan, a department's
narrative) goes through :func:`set_text`, so that such text can never become a
formula, a DDE call or an external link, whatever it starts with.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl is imported where its cells are written, not by every reader of A1 addresses
    from openpyxl.cell.cell import Cell, MergedCell

# Characters that make Excel (on typing, or some readers on import) start a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

# XML 1.0 forbids these control characters; openpyxl raises IllegalCharacterError on them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")  # and DEL, C1: never text
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


def excel_number(number: Decimal) -> float:
    """``number`` as a cell holds it: Excel keeps 15 significant digits (what is read back must agree)."""
    return float(format(number, ".15g"))


def looks_like_formula(text: str) -> bool:
    """True when Excel would treat ``text`` as the start of a formula if typed."""
    return text.startswith(FORMULA_TRIGGERS)


def set_text(cell: Cell | MergedCell, text: str | None) -> None:
    """Write ``text`` into an openpyxl cell as a plain string, never a formula.

    openpyxl turns any string starting with ``=`` into a formula, so the data type
    is forced back to string; the quote prefix keeps Excel from re-reading the
    text as a formula when a person edits the cell later.
    """
    from openpyxl.cell.cell import Cell

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


# ----------------------------------------------------------------------------------------
# A1 addresses: the one implementation every reader and writer uses
# ----------------------------------------------------------------------------------------

_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?([1-9][0-9]*)$")
COLUMN_MAX = 16_384
"""Excel's last column, XFD."""


@functools.lru_cache(maxsize=4096)
def column_letters(column: int) -> str:
    """1-based column number to letters: ``column_letters(6) == "F"``, ``column_letters(28) == "AB"``."""
    if column < 1:
        raise ValueError(f"column {column} is not a sheet column")
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@functools.lru_cache(maxsize=4096)
def column_number(letters: str) -> int:
    """Column letters to the 1-based number: ``column_number("AB") == 28`` (case does not matter)."""
    number = 0
    for letter in letters.upper():
        if not "A" <= letter <= "Z":
            raise ValueError(f"not column letters: {letters!r}")
        number = number * 26 + (ord(letter) - 64)
    return number


def a1(row: int, column: int) -> str:
    """1-based row and column to an A1 address: ``a1(12, 6) == "F12"``."""
    return f"{column_letters(column)}{row}"


def from_a1(address: str) -> tuple[int, int]:
    """An A1 address to 1-based (row, column): ``from_a1("F12") == (12, 6)``; ``$F$12`` too.

    Raises:
        ValueError: not a cell address.
    """
    match = _A1.match(address.strip())
    if match is None:
        raise ValueError(f"not a cell address: {address!r}")
    return int(match.group(2)), column_number(match.group(1))
