"""What a returned cell holds beyond its value: a formula that reaches outside, a format that changes it.

Checking reads a cell as the person saw it: the cached value of a formula (and whether the
formula is dangerous), and the number as its format displays it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from xlplan.collection.snapshot import CellValue
from xlplan.findings import Phrase

HAZARDOUS_FUNCTIONS = (
    "WEBSERVICE",
    "FILTERXML",
    "HYPERLINK",
    "CALL",
    "REGISTER.ID",
    "REGISTER",
    "EXEC",
    "RTD",
    "DDEAUTO",
    "DDE",
    "IMAGE",
    "INDIRECT",
    "IMPORTXML",
    "IMPORTDATA",
    "IMPORTRANGE",
    "IMPORTHTML",
    "IMPORTFEED",
)
"""Functions that reach outside the workbook (web, files, programs, links), or build references that can."""

_STRING = re.compile(r'"(?:[^"]|"")*"')
_FUNCTION = re.compile(
    r"(?:^|[^A-Za-z0-9_.])(?:_xlfn\.|_xlws\.)?("
    + "|".join(re.escape(name) for name in HAZARDOUS_FUNCTIONS)
    + r")\s*\(",
    re.IGNORECASE,
)
_EXTERNAL = re.compile(
    r"\[[^\]]*\][^!]*!"  # [1]Sheet1!A1, '[Book.xlsx]Sheet'!A1, 'C:\dir\[Book.xlsx]Sheet'!A1
    r"|\.(?:xlsx|xlsm|xlsb|xls|xltx|xltm|csv|ods)\b"  # a workbook named in a reference
    r"|\\\\|[A-Za-z]:\\"  # UNC or drive paths
    r"|https?:|file:",
    re.IGNORECASE,
)


def formula_hazard(formula: str) -> Phrase | None:
    """Why ``formula`` (without ``=``) reaches outside the workbook, as a catalogue phrase, or None.

    String literals are ignored (``"a|b"`` is text), except that a function such as
    ``HYPERLINK`` is a hazard whatever its arguments are.
    """
    bare = _STRING.sub('""', formula)
    match = _FUNCTION.search(bare)
    if match:
        return Phrase("hazard-function", {"name": match.group(1).upper()})
    if "|" in bare:  # DDE: application|topic!item
        return Phrase("hazard-dde")
    if _EXTERNAL.search(bare):
        return Phrase("hazard-external")
    return None


# ----------------------------------------------------------------------------------------
# number formats
# ----------------------------------------------------------------------------------------

_LITERAL = re.compile(r'"([^"]*)"|\\(.)|[_*].')
r"""A format's literal text: ``"件"`` quoted, ``\件`` escaped (as LibreOffice writes it), or the
``_x`` (space as wide as x) and ``*x`` (fill) directives, which show no text of their own."""
_CONDITION = re.compile(r"\[[^\]]*\]")  # [Red], [<100], [$-411]


def _parts(code: str) -> tuple[str, str]:
    """(the format's first section without its literals, the literal text it prints)."""
    section = _CONDITION.sub("", code.split(";", 1)[0])
    literal = "".join(match.group(1) or match.group(2) or "" for match in _LITERAL.finditer(section))
    return _LITERAL.sub("", section), literal.strip()


def displayed(value: CellValue, code: str | None, *, printed: bool = False) -> str | None:
    r"""A number as its cell displays it, where the number format changes what it is: None otherwise.

    A percent format (``%`` outside quotes) shows the number times 100 with ``%``; a quoted
    or escaped text in the format (``0"件"``, ``0\件``) shows as the number's unit. The
    decimals stay those of the stored number (what was typed), not those the format rounds to —
    unless ``printed``: a published table is what it prints, so 65 under ``0.0"%"`` is 65.0%,
    and a number under ``0.0`` is shown with its one decimal too.
    """
    if code is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    bare, literal = _parts(code)
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    percent = "%" in bare
    if percent:
        number *= 100
    decimals = _decimals(bare) if printed else None
    if decimals is not None:
        text = format(
            number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP), "f"
        )  # as Excel rounds
    elif percent or literal:
        text = format(number.normalize(), "f") if number != number.to_integral_value() else str(int(number))
    else:
        return None
    return f"{text}{'%' if percent else literal}"


def _decimals(bare: str) -> int | None:
    """The decimals a format's number part fixes (``0.0`` → 1, ``#,##0`` → 0), or None for General."""
    digits = re.search(r"[0#?][0#?,]*(?:\.([0#?]*))?", bare)
    if digits is None:
        return None
    return (digits.group(1) or "").count("0")


def shows_literal(code: str | None) -> bool:
    """True when the format prints ``%`` as text (the earlier ``General"%"``), not as a percentage."""
    return code is not None and "%" not in _parts(code)[0]
