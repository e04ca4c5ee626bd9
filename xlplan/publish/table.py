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
from xlplan.plan.combine import Share, Shared, combine
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


HistoryKey = tuple[int, str, int]  # project, entry, western year (an int hashes faster)


class EntryYears:
    """Each entry's value of a past year as the table prints it: the entry's own record, else its
    members' shares combined by the joint-entry rule. The records are indexed once for the whole
    plan: the plan's own lookups scan lists, which is quadratic for the tens of thousands of rows a
    large plan has. The table, the 推移 sheet and the 還元 workbooks all read the years through this."""

    def __init__(self, plan: Plan) -> None:
        self.whole: dict[HistoryKey, HistoryRecord] = {}
        self.shares: dict[HistoryKey, list[HistoryRecord]] = defaultdict(list)
        for record in plan.history:
            key = (record.project_no, record.entry, record.fiscal_year.western)
            if record.department is None:
                self.whole.setdefault(key, record)  # the first record of a key wins, as in the master
            else:
                self.shares[key].append(record)

    def record(self, project: Project, entry: Entry, year: FiscalYear) -> HistoryRecord | None:
        """The entry's own record of ``year`` (not its members' shares), if the history has one."""
        return self.whole.get((project.no, entry.name, year.western))

    def combined(self, project: Project, entry: Entry, year: FiscalYear) -> tuple[Value, tuple[str, ...]]:
        """The entry's value of ``year`` and the members whose share is missing from it."""
        key = (project.no, entry.name, year.western)
        own = self.whole.get(key)
        if own is not None:
            return own.value, ()
        kept = self.shares.get(key)
        if not kept:
            return BLANK, ()
        result = combine(entry.members, [Share(r.department or "", r.value, r.narrative) for r in kept])
        return result.value, tuple(result.missing)

    def past(self, project: Project, entry: Entry, year: FiscalYear, member: str | None = None) -> Value:
        """The entry's value of ``year``; with ``member``, that member's own share (blank if not kept)."""
        if member is None:
            return self.combined(project, entry, year)[0]
        own = next(
            (
                r
                for r in self.shares.get((project.no, entry.name, year.western), ())
                if r.department == member
            ),
            None,
        )
        return own.value if own else BLANK


def history_years(plan: Plan) -> list[FiscalYear]:
    """The years the history holds between the baseline and this year, oldest first."""
    settings = plan.settings
    return sorted(
        {
            r.fiscal_year
            for r in plan.history
            if settings.baseline_year < r.fiscal_year < settings.current_year
        }
    )


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
    years = EntryYears(plan)

    def past(project: Project, entry: Entry, year: FiscalYear) -> Value:
        """An entry's value of a past year, as :meth:`EntryYears.combined` gives it; members missing
        from shares kept per department are reported."""
        value, missing = years.combined(project, entry, year)
        if missing:
            findings.append(
                Finding("consolidate-previous-incomplete",
                        {"no": project.no, "entry": entry.name, "year": year.wareki, "departments": "、".join(missing)})
            )  # fmt: skip
        return value

    entries: dict[tuple[int, str], tuple[Project, Entry]] = {}
    for project in plan.projects:
        for entry in project.entries:
            entries[(project.no, entry.name)] = (project, entry)
    shares: dict[tuple[int, str], list[Shared]] = defaultdict(list)
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
        # The answer itself where it is the member's (nearly always): one record fewer per row.
        share = answer if member == answer.department else Share(member, answer.value, answer.narrative)
        shares[(answer.project_no, answer.entry)].append(share)

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

    earlier_years = settings.earlier_years  # a property that builds its tuple: once, not per entry

    def block(project: Project) -> ProjectBlock:
        rows = []
        for entry in project.entries:
            previous = past(project, entry, settings.previous_year)
            earlier = tuple(past(project, entry, year) for year in earlier_years)
            received = shares.get((project.no, entry.name))
            if received is None:
                own = years.record(project, entry, settings.current_year)
                if own is None:
                    findings.append(_missing(plan, project, entry, entry.members))
                value = own.value if own else BLANK
                narrative = own.narrative if own else None
                rows.append(EntryRow(entry, previous, value, narrative, earlier, graded(project, value)))
                continue
            combined = combine(entry.members, received)
            if combined.missing:
                findings.append(_missing(plan, project, entry, combined.missing))
            if combined.rates:
                findings.append(
                    Finding(
                        "consolidate-rates-differ",
                        {"no": project.no, "entry": entry.name, "rates": "・".join(combined.rates)},
                    )
                )
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
