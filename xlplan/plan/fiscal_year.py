"""Japanese fiscal years (年度) in both directions: 和暦 ⇄ 西暦.

A Japanese fiscal year runs from April to March and is named after the calendar
year in which it starts. Fiscal year 2019 began in April 2019 under 平成 and
the era changed to 令和 on 1 May 2019; offices call that year 令和元年度, so a
fiscal year is named in the newest era that had begun by the end of its first
calendar year. 平成31年度 still parses, as the same year.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# (era name, short letter, first fiscal year named in this era).
# 平成31年度 and 令和元年度 are the same fiscal year (2019); offices use the
# latter, so 2019 belongs to 令和 when formatting, but both parse.
_ERAS: tuple[tuple[str, str, int], ...] = (
    ("令和", "R", 2019),
    ("平成", "H", 1989),
    ("昭和", "S", 1926),
)
_ERA_BY_NAME = {name: first for name, _letter, first in _ERAS}
_ERA_BY_LETTER = {letter: first for _name, letter, first in _ERAS}

_PATTERN_ERA = re.compile(r"^(令和|平成|昭和)(元|\d{1,2})年度?$")
_PATTERN_LETTER = re.compile(r"^([RHS])(元|\d{1,2})(?:年度?)?$", re.IGNORECASE)
_PATTERN_WESTERN = re.compile(r"^(?:FY)?(\d{4})(?:年度?)?$", re.IGNORECASE)
_PATTERN_SHORT = re.compile(r"^(元|\d{1,2})年度$")


class FiscalYearError(ValueError):
    """A text that does not name a fiscal year."""


@dataclass(frozen=True, order=True)
class FiscalYear:
    """One fiscal year, identified by the western year in which it starts."""

    western: int

    def __post_init__(self) -> None:
        if not 1926 <= self.western <= 2200:
            raise FiscalYearError(f"fiscal year out of range: {self.western}")

    @property
    def era(self) -> str:
        """The era name (令和, 平成, 昭和) the office uses for this fiscal year."""
        for name, _letter, first in _ERAS:
            if self.western >= first:
                return name
        raise FiscalYearError(str(self.western))  # unreachable: __post_init__ bounds it

    @property
    def era_year(self) -> int:
        """The year within the era (1 for 元年)."""
        return self.western - _ERA_BY_NAME[self.era] + 1

    @property
    def wareki(self) -> str:
        """Full 和暦 label: ``令和2年度``, ``令和元年度``, ``平成27年度``."""
        number = "元" if self.era_year == 1 else str(self.era_year)
        return f"{self.era}{number}年度"

    @property
    def short(self) -> str:
        """The short label without the era (``27年度``), as the seed's header prints it."""
        number = "元" if self.era_year == 1 else str(self.era_year)
        return f"{number}年度"

    @property
    def letter(self) -> str:
        """The letter form used in titles: ``R2``, ``H27``."""
        letter = next(letter for name, letter, _ in _ERAS if name == self.era)
        return f"{letter}{self.era_year}"

    @property
    def label(self) -> str:
        """``令和2年度（2020年度）``: both calendars, for people and CSV readers."""
        return f"{self.wareki}（{self.western}年度）"

    def next(self) -> FiscalYear:
        """The following fiscal year."""
        return FiscalYear(self.western + 1)

    def previous(self) -> FiscalYear:
        """The preceding fiscal year."""
        return FiscalYear(self.western - 1)

    def __str__(self) -> str:
        return self.wareki


def parse_fiscal_year(text: object, *, era_hint: str | None = None) -> FiscalYear:
    """Read a fiscal year as people write it.

    Accepts ``令和2年度``, ``令和元年度``, ``平成27年度``, ``R2``, ``H27``, ``2020``,
    ``2020年度``, ``FY2020`` and full-width digits. The short form ``27年度`` has no
    era and needs ``era_hint`` (``平成``); without it, it is rejected rather than
    guessed. An int is taken as a western year.

    Raises:
        FiscalYearError: the text names no fiscal year.
    """
    if isinstance(text, bool):
        raise FiscalYearError(repr(text))
    if isinstance(text, int):
        return FiscalYear(text)
    if not isinstance(text, str):
        raise FiscalYearError(repr(text))
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    match = _PATTERN_ERA.match(cleaned)
    if match:
        return _from_era(_ERA_BY_NAME[match.group(1)], match.group(2), text)
    match = _PATTERN_LETTER.match(cleaned)
    if match:
        return _from_era(_ERA_BY_LETTER[match.group(1).upper()], match.group(2), text)
    match = _PATTERN_WESTERN.match(cleaned)
    if match:
        try:
            return FiscalYear(int(match.group(1)))
        except FiscalYearError:
            raise FiscalYearError(text) from None
    match = _PATTERN_SHORT.match(cleaned)
    if match and era_hint in _ERA_BY_NAME:
        return _from_era(_ERA_BY_NAME[era_hint], match.group(1), text)
    raise FiscalYearError(text)


def _from_era(first_year: int, number: str, original: str) -> FiscalYear:
    era_year = 1 if number == "元" else int(number)
    if era_year < 1:
        raise FiscalYearError(original)
    western = first_year + era_year - 1
    # 平成 ended in fiscal 2019 (平成31年度 = 令和元年度); later 平成 numbers are not real years.
    if first_year == 1989 and western > 2019:
        raise FiscalYearError(original)
    if first_year == 1926 and western > 1989:
        raise FiscalYearError(original)
    return FiscalYear(western)
