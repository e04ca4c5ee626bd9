"""Calendar dates as Japanese offices write them: ``令和3年5月31日（月）``, ``5月31日（月）``.

:mod:`xlplan.plan.fiscal_year` names fiscal years; this module names days (a
deadline, an issue date), whose era changes on the day (令和 from 2019-05-01).
"""

from __future__ import annotations

import datetime as dt

# (era, first day). A date belongs to the latest era that had begun on that day.
_ERAS: tuple[tuple[str, dt.date], ...] = (
    ("令和", dt.date(2019, 5, 1)),
    ("平成", dt.date(1989, 1, 8)),
    ("昭和", dt.date(1926, 12, 25)),
)
_WEEKDAYS = "月火水木金土日"


def weekday(date: dt.date) -> str:
    """The one-character day of the week: ``月`` for Monday."""
    return _WEEKDAYS[date.weekday()]


def wareki_date(date: dt.date) -> str:
    """``令和3年5月31日（月）``; ``令和元年5月1日（水）`` in an era's first year."""
    for era, first in _ERAS:
        if date >= first:
            year = date.year - first.year + 1
            number = "元" if year == 1 else str(year)
            return f"{era}{number}年{date.month}月{date.day}日（{weekday(date)}）"
    return f"{date.year}年{date.month}月{date.day}日（{weekday(date)}）"


def month_day(date: dt.date) -> str:
    """``5月31日（月）``: short enough for a mail subject."""
    return f"{date.month}月{date.day}日（{weekday(date)}）"
