"""Comparing a year's answer with the years before it: pure rules on values and texts.

Collection asks these questions of every returned row; they live here, apart from the
workbook reading, so that they can be read (and changed) as the rules they are.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal

from xlplan.plan.values import Value

LARGE_CHANGE_RATIO = Decimal("0.5")
LARGE_CHANGE_MIN = Decimal(10)
"""A change against last year is large when it is over 50 % of last year's value and at least 10
(units, or percentage points): a count going from 2 to 4 doubles but is not worth a question."""

HUGE_CHANGE_RATIO = Decimal(100)
"""A value a hundred times last year's (27人 → 43,556人: a date typed into a count, 2019/4/1, or digits
pasted twice) is asked about even when the narrative explains a change: no narrative explains that."""

TREND_MIN_POINTS = 3
"""Values needed before a trend is spoken of: the baseline and two years, at least."""


def same_text(a: str, b: str) -> bool:
    """Equal once spaces and line breaks (any white space, full-width too) are ignored: a copy
    re-wrapped is still a copy."""
    # str.split() takes out what the regular expression \s does, and is several times faster on
    # Japanese text (every row of every return is compared with the earlier years').
    return a == b or "".join(a.split()) == "".join(b.split())


def is_large_change(previous: Value, value: Value) -> bool:
    """Whether ``value`` differs from last year's ``previous`` by :data:`LARGE_CHANGE_RATIO` of it
    and by at least :data:`LARGE_CHANGE_MIN`, in the same unit."""
    if previous.number is None or value.number is None or previous.unit != value.unit:
        return False
    change = abs(value.number - previous.number)
    return (
        previous.number > 0 and change >= LARGE_CHANGE_MIN and change > previous.number * LARGE_CHANGE_RATIO
    )


HUGE_CHANGE_MIN = Decimal(1000)
"""…and by a thousand at least: 1人 → 100人 is a new project's first full year, not a date typed."""


def is_huge_change(previous: Value, value: Value) -> bool:
    """Whether ``value`` is :data:`HUGE_CHANGE_RATIO` times last year's ``previous`` or more and
    :data:`HUGE_CHANGE_MIN` above it (same unit)."""
    if previous.number is None or value.number is None or previous.unit != value.unit:
        return False
    return (
        previous.number > 0
        and value.number >= previous.number * HUGE_CHANGE_RATIO
        and value.number - previous.number >= HUGE_CHANGE_MIN
    )


def breaks_trend(series: Sequence[Value], value: Value) -> bool:
    """Whether ``value`` turns against a series that has only ever moved one way.

    The earlier values (baseline first) must all be numbers in the value's unit, rise (or fall)
    overall and never step back; the new value breaks the trend when it steps back from the last
    by more than any step so far and by at least :data:`LARGE_CHANGE_MIN`. A plain rule that a
    department can follow in its head, rather than a fitted line.
    """
    numbers = [v.number for v in series if v.number is not None and v.unit == value.unit]
    if len(numbers) < TREND_MIN_POINTS or len(numbers) != len(series) or value.number is None:
        return False
    steps = [later - earlier for earlier, later in itertools.pairwise(numbers)]
    rising, falling = all(step >= 0 for step in steps), all(step <= 0 for step in steps)
    if numbers[-1] == numbers[0] or not (rising or falling):
        return False
    back = numbers[-1] - value.number if rising else value.number - numbers[-1]
    return back >= LARGE_CHANGE_MIN and back > max(abs(step) for step in steps)
