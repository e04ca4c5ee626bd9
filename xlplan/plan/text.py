"""Text that is safe to publish: one decision, in one place, about characters that do not belong in a cell.

Departments' text reaches the consolidated workbook, the PDF, the CSV, the JSON, mail and
terminals. Some characters do harm there and nowhere mean anything a person typed: C0 and C1
control characters (ESC starts terminal sequences; NUL ends strings in other programs; a
workbook can carry them as ``_x001B_`` escapes), DEL, the bidirectional overrides and
isolates that make text display in another order than it is stored, and Unicode
non-characters. Tabs and line breaks are kept (line breaks are how narratives are
written). Checking removes the others with a warning on the cell
(:func:`xlplan.collection.check`), so no output ever receives them; :func:`printable`
shows them escaped where text from anywhere is printed on a terminal.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 (but tab, line feed, carriage return), DEL, C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, overrides, isolates
    "\ufdd0-\ufdef\ufffe\uffff"  # non-characters
    "\ud800-\udfff]"  # lone surrogates (from undecodable bytes)
)


def unsafe_characters(text: str) -> list[str]:
    """The unsafe characters in ``text``, each once, as ``U+001B``, in the order they first appear."""
    seen: dict[str, None] = {}
    for char in _UNSAFE.findall(text):
        seen.setdefault(f"U+{ord(char):04X}", None)
    return list(seen)


def strip_unsafe(text: str) -> str:
    """``text`` without its unsafe characters; carriage returns made line feeds, as cells hold them."""
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def printable(text: str) -> str:
    """``text`` for a terminal: every unsafe character and carriage return shown as ``\\u001b``, ``\\u202e``.

    The same escapes as JSON's, so a JSON document printed through it stays the same document.
    """
    return _UNSAFE.sub(_escape, text.replace("\r", "\\u000d"))


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"
