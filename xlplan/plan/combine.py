"""Combine the departments' shares of a joint entry into the one row the table prints.

A joint entry (``企画政策課 生涯学習課``) is printed as one row, but each member
department answers its own share. The rule, applied member by member in the
order the entry names them:

Values
    * Blank shares are left out; if every share is blank the row is blank.
    * If any share is a number, the numbers are summed and the marks are left
      out ("a number and marks: the number"). Numbers are summed only when they
      share one unit (``90人 + 69人 = 159人``); shares in different units cannot
      be added, so the row is left blank and :attr:`Combined.unit_conflict`
      names the units (consolidation reports it).
    * A rate (``%``, ``割``, ``倍``, ``‰``) is never summed: 60% and 70% are not 130%.
      Shares that give the same rate give it; different rates leave the row blank
      and :attr:`Combined.rates` lists them (consolidation reports it).
    * Otherwise the shares are marks: ``○`` if any department carried the
      project out, else ``×`` if any did not, else ``—``.

Narratives
    * Where two or more departments wrote a narrative, each part is printed
      under a heading with the department's name as the entry prints it:
      ``【企画政策課】 計 90 人\\n…\\n【生涯学習課】 計 69 人\\n…``.
    * Where only one department wrote one, it is printed as it is, without a
      heading (the usual case: the lead department writes for the entry).

Missing shares
    A member that sent no answer at all is listed in :attr:`Combined.missing`;
    the row is combined from the shares that did arrive, and consolidation
    reports the missing departments as a warning, so a partial total is never
    printed silently.

A single-department entry goes through the same rule and comes out unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, Protocol

from xlplan.plan.values import BLANK, Mark, Value

# Order of precedence when only marks were given: one department's ○ means the
# project was carried out; × (not carried out) outranks — (not applicable).
_MARK_PRECEDENCE = (Mark.DONE, Mark.NOT_DONE, Mark.NOT_APPLICABLE)


@dataclass(frozen=True)
class Share:
    """One member department's answer for a joint entry, before combining."""

    department: str
    value: Value
    narrative: str | None = None


class Shared(Protocol):
    """What combining reads of a share: a :class:`Share`, or any record with the same three fields
    (consolidation passes an answer as it is where its department is the member's name)."""

    @property
    def department(self) -> str: ...

    @property
    def value(self) -> Value: ...

    @property
    def narrative(self) -> str | None: ...


@dataclass(frozen=True)
class Combined:
    """The row that is printed for an entry.

    ``missing`` lists the members that sent no share; ``unit_conflict`` lists
    the distinct units when shares could not be added (then ``value`` is blank).
    """

    value: Value
    narrative: str | None
    missing: tuple[str, ...] = ()
    unit_conflict: tuple[str, ...] = ()
    rates: tuple[str, ...] = ()  # different rates that cannot be one (then ``value`` is blank)


RATE_UNITS = frozenset({"%", "％", "‰", "割", "倍"})
"""Units of a ratio: shares in them are not added up."""


class Summed(NamedTuple):
    """Share values combined: the value, and why it is blank where it is (units, or rates, that differ)."""

    value: Value
    unit_conflict: tuple[str, ...] = ()
    rates: tuple[str, ...] = ()


def combine_values(values: Iterable[Value]) -> Summed:
    """Combine share values by the rule above.

    Returns:
        The :class:`Summed` value; ``unit_conflict`` names the units when numbers in different
        units were given and ``rates`` the rates when different ones were, ``value`` then blank.
    """
    numbers: list[Value] = []
    marks: set[Mark] = set()
    for value in values:
        if value.number is not None:
            numbers.append(value)
        elif value.mark is not None:
            marks.add(value.mark)
    if numbers:
        units = list(dict.fromkeys(value.unit or "" for value in numbers))
        if len(units) > 1:
            return Summed(BLANK, tuple(units))
        if units[0] in RATE_UNITS:
            rates = list(dict.fromkeys(value.number for value in numbers if value.number is not None))
            if len(rates) > 1:
                return Summed(BLANK, rates=tuple(value.display() for value in numbers))
            return Summed(Value(number=Decimal(0) + rates[0], unit=numbers[0].unit))
        # Decimal addition keeps the most decimals typed (1.5 + 2 = 3.5, 1.50 + 1 = 2.50).
        total = sum((value.number for value in numbers if value.number is not None), Decimal(0))
        return Summed(Value(number=total, unit=numbers[0].unit))
    for mark in _MARK_PRECEDENCE:
        if mark in marks:
            return Summed(Value(mark=mark))
    return Summed(BLANK)


def join_narratives(parts: Sequence[tuple[str, str | None]]) -> str | None:
    """Join ``(department, narrative)`` parts: headed by 【課名】 only when two or more have text.

    Blank narratives (None, or only spaces) are left out. The heading is followed by
    one space and the department's text, and parts are separated by a line break,
    which reproduces the seed's project 1 exactly.
    """
    written = [(department, text) for department, text in parts if text is not None and text.strip()]
    if not written:
        return None
    if len(written) == 1:
        return written[0][1]
    return "\n".join(f"【{department}】 {text}" for department, text in written)


def combine(members: Sequence[str], shares: Iterable[Shared]) -> Combined:
    """Combine the shares of an entry whose member departments are ``members``.

    Args:
        members: the entry's departments in the order the entry names them; this
            order, not the order the answers arrived in, decides the narrative order.
        shares: the answers received; a share whose department is not a member is
            ignored, and of two shares from the same department the later one wins
            (collection hands them over in the order they were accepted).

    Returns:
        The :class:`Combined` row, with the members that sent nothing in ``missing``.
    """
    if len(members) == 1:
        return _combine_single(members[0], shares)
    by_member: dict[str, Shared] = {}
    for share in shares:
        if share.department in members:
            by_member[share.department] = share
    present = [by_member[member] for member in members if member in by_member]
    summed = combine_values(share.value for share in present)
    narrative = join_narratives([(share.department, share.narrative) for share in present])
    missing = tuple(member for member in members if member not in by_member)
    return Combined(summed.value, narrative, missing, summed.unit_conflict, summed.rates)


def _combine_single(member: str, shares: Iterable[Shared]) -> Combined:
    """:func:`combine` for an entry of one department — nearly every entry — without its lists.

    The same rule: the department's last share, its number put through the same
    Decimal sum (``0 + n``), its narrative dropped when blank.
    """
    last: Shared | None = None
    for share in shares:
        if share.department == member:
            last = share
    if last is None:
        return Combined(BLANK, None, (member,))
    value = last.value
    if value.number is not None:
        value = Value(number=Decimal(0) + value.number, unit=value.unit)
    elif value.mark is not None:
        value = Value(mark=value.mark) if value.unit is not None else value
    else:
        value = BLANK
    narrative = last.narrative if last.narrative is not None and last.narrative.strip() else None
    return Combined(value, narrative)
