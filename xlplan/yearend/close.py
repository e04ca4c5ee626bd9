"""Closing a fiscal year, on records only: the year's answers into the history, the years moved on.

No file is read or written here (:mod:`xlplan.yearend.run` does that). The year's results
enter the history as the consolidated table printed them — one record per entry, its value
and narrative combined from the departments' answers by the table's own rule — and, for a
joint entry, one record per department with its own share, which next year's department
workbooks show each department as its own previous-year value. A department that sent
nothing is recorded, with 備考「未回答」, so that the gap is a fact of the history and not a
silence. An entry the office had already recorded for the year (typed into 履歴 by hand)
keeps that record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from xlplan.plan.blank import advance_text
from xlplan.plan.model import Answer, HistoryRecord, Plan
from xlplan.plan.values import BLANK
from xlplan.publish.table import ProjectBlock, build_table, member_of

NOT_ANSWERED = "未回答"


@dataclass(frozen=True)
class Closing:
    """The next year's plan and what closing the year put into its history."""

    plan: Plan
    added: tuple[HistoryRecord, ...]
    silent: tuple[str, ...]  # departments (registry names) that answered nothing all year
    title: tuple[str, str] | None  # (old, new) when the title named the year


def close_year(plan: Plan, answers: Sequence[Answer]) -> Closing:
    """The plan of the next fiscal year, its history holding this year's results."""
    settings = plan.settings
    year = settings.current_year
    table = build_table(plan, answers)
    recorded = {(r.project_no, r.entry, r.department) for r in plan.recorded_history if r.fiscal_year == year}
    own = {(r.project_no, r.entry, r.department) for r in plan.history if r.fiscal_year == year}
    entries = {(p.no, e.name): e for p in plan.projects for e in p.entries}
    by_share: dict[tuple[int, str, str], Answer] = {}
    for answer in answers:
        entry = entries.get((answer.project_no, answer.entry))
        member = member_of(plan, entry, answer.department) if entry is not None else None
        if member is not None:
            by_share[(answer.project_no, answer.entry, member)] = (
                answer  # the later answer wins, as in the table
            )
    added: list[HistoryRecord] = []
    answered: set[str] = set()
    for section in table.sections:
        for item in section.items:
            if not isinstance(item, ProjectBlock):
                continue
            project = item.project
            for row in item.rows:
                entry = row.entry
                missing = [m for m in entry.members if (project.no, entry.name, m) not in by_share]
                answered.update(plan.canonical_department(m) or m for m in entry.members if m not in missing)
                if (project.no, entry.name, None) in own | recorded:
                    continue  # the office recorded the year itself
                note = None
                if missing and len(missing) == len(entry.members):
                    note = NOT_ANSWERED
                elif missing:
                    note = f"{NOT_ANSWERED}: " + "、".join(plan.canonical_department(m) or m for m in missing)
                added.append(
                    HistoryRecord(project.no, entry.name, year, row.current, row.narrative, None, note)
                )
                if not entry.joint:
                    continue
                for member in entry.members:
                    share = by_share.get((project.no, entry.name, member))
                    if share is None:
                        added.append(
                            HistoryRecord(project.no, entry.name, year, BLANK, None, member, NOT_ANSWERED)
                        )
                    else:
                        added.append(
                            HistoryRecord(
                                project.no, entry.name, year, share.value, share.narrative or None, member
                            )
                        )
    silent = tuple(
        d.name
        for d in plan.departments
        if d.name not in answered and any(True for _ in plan.assignments(d.name))
    )
    title = advance_text(settings.title, year)
    next_settings = replace(
        settings,
        title=title,
        previous_year=year,
        current_year=year.next(),
        round=1,
        deadline=_next_year(settings.deadline),
    )
    history = (*plan.history, *added)
    source = None if plan.source_history is None else (*plan.source_history, *added)
    rolled = replace(plan, settings=next_settings, history=history, source_history=source)
    return Closing(rolled, tuple(added), silent, (settings.title, title) if title != settings.title else None)


def _next_year(day: dt.date | None) -> dt.date | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)
