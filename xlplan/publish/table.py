"""The consolidated table as plain records, before any file is written.

:func:`build_table` pairs the plan with the departments' answers: one
:class:`Section` per top-level node (基本目標), holding the headings of the
levels below it and one :class:`ProjectBlock` per project with one
:class:`EntryRow` per 担当課 entry. The Excel writer and the open-data writer
both render this same table, so the xlsx and the CSV cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from xlplan.findings import Finding
from xlplan.plan.combine import Share, combine
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.grading import Achievement, achievement
from xlplan.plan.model import Answer, Entry, HistoryRecord, Node, Plan, Project
from xlplan.plan.values import BLANK, Value


@dataclass(frozen=True)
class EntryRow:
    """One printed row of a project: an entry (one department, or several jointly)."""

    entry: Entry
    previous: Value
    current: Value
    narrative: str | None
    earlier: tuple[Value, ...] = ()  # the years before the previous one (表示する過去の年度数), oldest first
    # This year's 達成率 and grade by the plan's 評価基準; None for a project without a target.
    achievement: Achievement | None = None


@dataclass(frozen=True)
class ProjectBlock:
    """A project and its entry rows; the project's own cells span all of them."""

    project: Project
    rows: tuple[EntryRow, ...]


@dataclass(frozen=True)
class Heading:
    """A heading row of a level between the top and the projects (施策の方向, 基本事業)."""

    node: Node


@dataclass(frozen=True)
class Section:
    """Everything under one top-level node (one 基本目標): printed on its own sheet and pages.

    ``node`` is None only for a plan with a single level, which has no top-level headings.
    """

    node: Node | None
    items: tuple[Heading | ProjectBlock, ...]


@dataclass(frozen=True)
class Table:
    """The whole consolidated table and what building it found."""

    plan: Plan
    sections: tuple[Section, ...]
    findings: tuple[Finding, ...]

    @property
    def graded(self) -> bool:
        """True when the plan sets any target: the table then has 達成率・評価・評価の理由 columns."""
        return self.plan.has_targets

    @property
    def entry_rows(self) -> int:
        """Number of department rows (the size of the table)."""
        return sum(
            len(item.rows) for s in self.sections for item in s.items if isinstance(item, ProjectBlock)
        )


HistoryKey = tuple[int, str, FiscalYear]


def build_table(plan: Plan, answers: Iterable[Answer]) -> Table:
    """Pair the plan with the answers into the consolidated table.

    For each entry the current value and narrative are combined from its members'
    answers by :func:`xlplan.plan.combine.combine`. An entry nobody answered takes the
    master's own record of the current year if it has one (an office may type a
    late answer straight into the master), and is otherwise blank. The previous
    year comes from the master's history.

    Findings (warnings): ``consolidate-missing-answer`` for each entry with members
    that sent nothing, ``consolidate-unit-conflict`` where shares cannot be added,
    ``consolidate-unknown-answer`` for answers that match no row of the plan.
    """
    settings = plan.settings
    findings: list[Finding] = []
    # Indexes built once: the plan's own lookups scan lists, which is quadratic for
    # the tens of thousands of rows a large plan has.
    history: dict[HistoryKey, HistoryRecord] = {}
    past_shares: dict[HistoryKey, list[Share]] = defaultdict(list)
    for record in plan.history:
        key = (record.project_no, record.entry, record.fiscal_year)
        if record.department is None:
            history.setdefault(key, record)
        else:
            past_shares[key].append(Share(record.department, record.value, record.narrative))

    def past(project: Project, entry: Entry, year: FiscalYear) -> Value:
        """An entry's value of a past year: its own record, else its members' shares combined by the same
        rule as this year's answers (a joint entry whose history is kept per department)."""
        record = history.get((project.no, entry.name, year))
        if record is not None:
            return record.value
        kept = past_shares.get((project.no, entry.name, year))
        if not kept:
            return BLANK
        combined = combine(entry.members, kept)
        if combined.missing:
            findings.append(
                Finding("consolidate-previous-incomplete",
                        {"no": project.no, "entry": entry.name, "year": year.wareki, "departments": "・".join(combined.missing)})
            )  # fmt: skip
        return combined.value

    entries: dict[tuple[int, str], tuple[Project, Entry]] = {}
    for project in plan.projects:
        for entry in project.entries:
            entries[(project.no, entry.name)] = (project, entry)
    shares: dict[tuple[int, str], list[Share]] = defaultdict(list)
    for answer in answers:
        found = entries.get((answer.project_no, answer.entry))
        member = member_of(plan, found[1], answer.department) if found else None
        if found is None or member is None:
            findings.append(
                Finding(
                    "consolidate-unknown-answer",
                    {"no": answer.project_no, "entry": answer.entry, "department": answer.department},
                )
            )
            continue
        shares[(answer.project_no, answer.entry)].append(Share(member, answer.value, answer.narrative))

    by_node: dict[tuple[str, ...], list[Project]] = defaultdict(list)
    for project in plan.projects:
        by_node[project.node].append(project)

    def graded(project: Project, value: Value) -> Achievement | None:
        return achievement(
            plan.grading,
            project.baseline,
            project.target,
            value,
            settings.current_year,
            settings.baseline_year,
            project.target_year,
            project.direction,
        )

    def block(project: Project) -> ProjectBlock:
        rows = []
        for entry in project.entries:
            previous = past(project, entry, settings.previous_year)
            earlier = tuple(past(project, entry, year) for year in settings.earlier_years)
            received = shares.get((project.no, entry.name))
            if received is None:
                own = history.get((project.no, entry.name, settings.current_year))
                if own is None:
                    findings.append(_missing(plan, project, entry, entry.members))
                value = own.value if own else BLANK
                narrative = own.narrative if own else None
                rows.append(EntryRow(entry, previous, value, narrative, earlier, graded(project, value)))
                continue
            combined = combine(entry.members, received)
            if combined.missing:
                findings.append(_missing(plan, project, entry, combined.missing))
            if combined.unit_conflict:
                findings.append(
                    Finding(
                        "consolidate-unit-conflict",
                        {"no": project.no, "entry": entry.name, "units": "・".join(combined.unit_conflict)},
                    )
                )
            rows.append(
                EntryRow(
                    entry,
                    previous,
                    combined.value,
                    combined.narrative,
                    earlier,
                    graded(project, combined.value),
                )
            )
        return ProjectBlock(project, tuple(rows))

    sections: list[Section] = []
    if len(plan.levels) <= 1:
        sections.append(Section(None, tuple(block(project) for project in plan.projects)))
    else:
        items: list[Heading | ProjectBlock] = []
        top: Node | None = None
        for node in plan.nodes:
            if node.level == 0:
                if top is not None:
                    sections.append(Section(top, tuple(items)))
                top, items = node, []
            else:
                items.append(Heading(node))
            items.extend(block(project) for project in by_node.get(node.key, ()))
        if top is not None:
            sections.append(Section(top, tuple(items)))
    return Table(plan, tuple(sections), tuple(findings))


def member_of(plan: Plan, entry: Entry, department: str) -> str | None:
    """The member of ``entry`` that ``department`` (as collection names it) answers for."""
    if department in entry.members:
        return department
    if not entry.joint and department == entry.name:
        # A single-department entry may be answered under the entry's printed name
        # (企画政策課 (関係各課)).
        return entry.members[0]
    canonical = plan.canonical_department(department)
    if canonical is None:
        return None
    for member in entry.members:
        if plan.canonical_department(member) == canonical:
            return member
    return None


def _missing(plan: Plan, project: Project, entry: Entry, members: Iterable[str]) -> Finding:
    # The registry's names, not the cell's spelling (人権・同和对策室 in the seed's cell is the office's
    # 人権・同和対策室); "、" between them, as "・" is part of some names.
    def name(member: str) -> str:
        return plan.canonical_department(member) or member

    if entry.joint:
        label = " ".join(name(member) for member in entry.members)
    else:  # a printed label such as 企画政策課 (関係各課) is kept; a variant spelling is not
        label = name(entry.name) if plan.canonical_department(entry.name) else entry.name
    return Finding(
        "consolidate-missing-answer",
        {"no": project.no, "entry": label, "departments": "、".join(name(member) for member in members)},
    )
