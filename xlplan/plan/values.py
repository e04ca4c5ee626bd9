"""Values as people type them: ``1,957人``, ``１９５７人``, ``1.6%``, ``〇``, ``—``, blank.

A value is a number with an optional unit, a mark (○ × —), or blank. Reading
never fixes a contradiction silently: every change made on the way (full-width
digits, a variant mark, stray spaces) is recorded as a normalisation code so a
checker can warn about it, and a unit that contradicts the expected unit is an
error, not a conversion.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum


class Mark(str, Enum):
    """The three marks of a 実績 cell, with the code points the seed uses."""

    DONE = "○"  # U+25CB WHITE CIRCLE: carried out
    NOT_DONE = "×"  # U+00D7 MULTIPLICATION SIGN: not carried out
    NOT_APPLICABLE = "—"  # U+2014 EM DASH: no value / not applicable


# Characters people type for each mark. NFKC does not unify these (〇 is a
# CJK numeral, ◯ a large circle), so they are listed explicitly.
_MARK_VARIANTS: dict[str, Mark] = {
    "○": Mark.DONE,
    "〇": Mark.DONE,  # U+3007 IDEOGRAPHIC NUMBER ZERO, the commonest IME slip
    "◯": Mark.DONE,  # U+25EF LARGE CIRCLE
    "⭕": Mark.DONE,
    "o": Mark.DONE,
    "O": Mark.DONE,
    "×": Mark.NOT_DONE,
    "✕": Mark.NOT_DONE,
    "✖": Mark.NOT_DONE,
    "☓": Mark.NOT_DONE,
    "x": Mark.NOT_DONE,
    "X": Mark.NOT_DONE,
    "—": Mark.NOT_APPLICABLE,
    "－": Mark.NOT_APPLICABLE,  # U+FF0D FULLWIDTH HYPHEN-MINUS
    "―": Mark.NOT_APPLICABLE,  # U+2015 HORIZONTAL BAR
    "‐": Mark.NOT_APPLICABLE,
    "‑": Mark.NOT_APPLICABLE,
    "–": Mark.NOT_APPLICABLE,
    "-": Mark.NOT_APPLICABLE,
    "ー": Mark.NOT_APPLICABLE,  # katakana long vowel mark, typed for a dash
    "─": Mark.NOT_APPLICABLE,
    "ｰ": Mark.NOT_APPLICABLE,
}

# Spaces of every width, including U+3000 IDEOGRAPHIC SPACE and NBSP.
_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_NUMBER = re.compile(r"^([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(.*)$")
# A unit is a short word (人, 回, 件, ｍ², 団体) or a percent/permille sign; anything else after a
# number ("1.2.3", "159人くらい?") is not a value.
_UNIT = re.compile(r"^(?:[^\W\d_]{1,6}²?|%|‰)$")


class Normalisation(str, Enum):
    """What reading changed on the way; each is reported as a warning where it matters."""

    TRIMMED = "trimmed"  # spaces around or inside the value
    WIDTH = "width"  # full-width digits, letters or signs
    MARK_VARIANT = "mark-variant"  # 〇 for ○, ✕ for ×, － for —
    UNIT_ADDED = "unit-added"  # a bare number took the expected unit
    NUMBER_AS_TEXT = "number-as-text"  # a number typed as text ("159人" in a text cell)


class ValueErrorCode(str, Enum):
    """Why a typed value could not be read."""

    UNIT_MISMATCH = "unit-mismatch"  # 159件 where 人 is expected
    UNEXPECTED_UNIT = "unexpected-unit"  # a unit where the indicator has none
    NOT_A_VALUE = "not-a-value"  # text that is neither a number nor a mark
    NOT_FINITE = "not-finite"  # NaN or infinity from a numeric cell


@dataclass(frozen=True)
class Value:
    """A number with a unit, a mark, or blank. Exactly one of ``number`` / ``mark`` is set, or neither."""

    number: Decimal | None = None
    unit: str | None = None
    mark: Mark | None = None

    @property
    def is_blank(self) -> bool:
        """True for an empty cell."""
        return self.number is None and self.mark is None

    @property
    def kind(self) -> str:
        """``number``, ``mark`` or ``blank``."""
        if self.number is not None:
            return "number"
        return "mark" if self.mark is not None else "blank"

    def display(self) -> str:
        """The value as the consolidated table prints it: ``1,957人``, ``1.6%``, ``○``, or ``""``."""
        if self.mark is not None:
            return self.mark.value
        if self.number is None:
            return ""
        return format_number(self.number) + (self.unit or "")

    def to_json(self) -> str | None:
        """The display text, or None for blank: the form used in JSON and in the master."""
        return None if self.is_blank else self.display()


BLANK = Value()


def format_number(number: Decimal) -> str:
    """``1957`` → ``1,957``; keeps the decimals that were typed (``1.6``, ``2.50``)."""
    if number == number.to_integral_value() and number.as_tuple().exponent >= 0:  # type: ignore[operator]
        return f"{int(number):,}"
    return f"{number:,f}"  # fixed point: 0.0000005 is never printed 5E-7


@dataclass(frozen=True)
class ParsedValue:
    """The outcome of reading one typed value."""

    value: Value | None
    normalisations: tuple[Normalisation, ...] = field(default=())
    error: ValueErrorCode | None = None
    typed_unit: str | None = None  # the unit as typed, for messages about a mismatch

    @property
    def ok(self) -> bool:
        """True when a value was read."""
        return self.error is None and self.value is not None


def parse_value(raw: object, expected_unit: str | None = None, *, unit_known: bool = False) -> ParsedValue:
    """Read a value typed by a person or stored by Excel.

    Args:
        raw: the cell's value: ``None``, a number (int, float, Decimal) or text.
        expected_unit: the indicator's unit (``人``, ``%``), or None where it has none.
        unit_known: True when ``expected_unit`` is authoritative (a plan row), so a typed
            unit that differs is an error. When False (free reading, e.g. the baseline of
            a plan being imported) whatever unit is typed is kept.

    Returns:
        A :class:`ParsedValue`. Blank input gives :data:`BLANK` with no error; a unit
        that contradicts ``expected_unit`` gives ``error=UNIT_MISMATCH`` and no value.
    """
    if raw is None:
        return ParsedValue(BLANK)
    if isinstance(raw, bool):
        return ParsedValue(None, error=ValueErrorCode.NOT_A_VALUE)
    if isinstance(raw, (int, float, Decimal)):
        return _from_number(raw, expected_unit)
    if not isinstance(raw, str):
        return ParsedValue(None, error=ValueErrorCode.NOT_A_VALUE)

    notes: list[Normalisation] = []
    stripped = _SPACES.sub("", raw)
    if stripped != raw:
        notes.append(Normalisation.TRIMMED)
    if not stripped:
        return ParsedValue(BLANK, tuple(notes))

    if stripped in _MARK_VARIANTS:
        mark = _MARK_VARIANTS[stripped]
        if stripped != mark.value:
            notes.append(Normalisation.MARK_VARIANT)
        return ParsedValue(Value(mark=mark), tuple(notes))

    narrow = unicodedata.normalize("NFKC", stripped)
    if narrow != stripped:
        notes.append(Normalisation.WIDTH)
    match = _NUMBER.match(narrow)
    if not match:
        return ParsedValue(None, tuple(notes), error=ValueErrorCode.NOT_A_VALUE)
    try:
        number = Decimal(match.group(1).replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return ParsedValue(None, tuple(notes), error=ValueErrorCode.NOT_A_VALUE)
    typed_unit = match.group(2) or None
    if typed_unit is not None and not _UNIT.match(typed_unit):
        return ParsedValue(None, tuple(notes), error=ValueErrorCode.NOT_A_VALUE)
    if typed_unit is None:
        if expected_unit:
            notes.append(Normalisation.UNIT_ADDED)
        return ParsedValue(Value(number=number, unit=expected_unit), tuple(notes))
    if unit_known and typed_unit != expected_unit:
        if expected_unit and typed_unit.startswith(expected_unit):  # 20人程度, 20人です: words, not a unit
            return ParsedValue(None, tuple(notes), error=ValueErrorCode.NOT_A_VALUE)
        code = ValueErrorCode.UNIT_MISMATCH if expected_unit else ValueErrorCode.UNEXPECTED_UNIT
        return ParsedValue(None, tuple(notes), error=code, typed_unit=typed_unit)
    return ParsedValue(Value(number=number, unit=typed_unit), tuple(notes), typed_unit=typed_unit)


def excel_decimal(raw: float) -> Decimal:
    """A finite float from a cell as Excel keeps it: 15 significant digits at most.

    repr gives the shortest text that round-trips, so 1.6 stays 1.6, not 1.6000000000000000888;
    a formula's 0.1+0.2 is 0.3 in Excel, 100/3 is 33.3333333333333.
    """
    number = Decimal(repr(raw))
    return Decimal(format(raw, ".15g")) if len(number.as_tuple().digits) > 15 else number


def _from_number(raw: int | float | Decimal, expected_unit: str | None) -> ParsedValue:
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return ParsedValue(None, error=ValueErrorCode.NOT_FINITE)
        number = excel_decimal(raw)
        if number == number.to_integral_value():
            # Via int, not quantize: quantize raises InvalidOperation beyond 28 digits (1e30).
            number = Decimal(int(number))
    else:
        number = Decimal(raw)
        if not number.is_finite():
            return ParsedValue(None, error=ValueErrorCode.NOT_FINITE)
    return ParsedValue(Value(number=number, unit=expected_unit))


def unit_of(text: str | None) -> str | None:
    """The unit of a printed value (``172人`` → ``人``), or None for a mark, a bare number or blank."""
    parsed = parse_value(text)
    return parsed.value.unit if parsed.ok and parsed.value is not None else None
