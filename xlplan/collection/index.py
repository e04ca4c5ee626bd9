"""Look-ups over a plan that identification and checking make for every returned file.

:meth:`Plan.assignments`, :meth:`Plan.history_for` and a department's rows each scan the
whole plan; a collection of a thousand returns against a plan of a thousand departments
would make that quadratic. The index makes them constant-time, and builds only what every
file needs up front — which rows each department answers, the history by key — in one
pass; a department's full rows (the cells as distribution wrote them) are made when a
check needs them, and the look-up by project and member only for a file without a
manifest. Built once per plan, before collection forks its workers, so that they share it.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from xlplan.form import layout
from xlplan.form.layout import Column
from xlplan.form.rows import HistoryKey, ResponseRow, RowMaker, canonical_names, columns_for, history_map
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Entry, HistoryRecord, Plan, Project

_ROW_ID = re.compile(r"^P(\d{3,})-(\d+)-(\d+)$")


class PlanRow(NamedTuple):
    """A row a department answers, as the plan gives it (a tuple: one is made for every row of the plan)."""

    row_id: str
    project_no: int
    entry: str
    member: str  # the member as printed in the plan
    department: str  # its registry name
    entry_index: int  # 1-based, as the row id numbers them
    member_index: int


class PlanIndex:
    """The index of one plan (see the module docstring). Use :func:`plan_index` to get it."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.projects: Mapping[int, Project] = {project.no: project for project in plan.projects}
        self.canonical = canonical_names(plan)
        assigned: dict[str, list[PlanRow]] = {}
        # Every return names its rows by id: looked up, not parsed and rebuilt, once per row.
        owners: dict[str, PlanRow] = {}
        canonical = self.canonical
        # Made before the workers start, on one core, for every row of the plan (120,129 at 1,741
        # departments): plain tuples, and no method call per row.
        for project in plan.projects:
            number = project.no
            for entry_index, entry in enumerate(project.entries, start=1):
                name = entry.name
                for member_index, member in enumerate(entry.members, start=1):
                    department = canonical.get(member)
                    if department is None:  # the master reader reports unknown departments
                        continue
                    row_id = layout.row_id(number, entry_index, member_index)
                    row = owners[row_id] = PlanRow(row_id, number, name, member, department, entry_index,
                                                   member_index)  # fmt: skip
                    rows = assigned.get(department)
                    if rows is None:
                        assigned[department] = [row]
                    else:
                        rows.append(row)
        self.assigned: Mapping[str, Sequence[PlanRow]] = assigned
        self._owners = owners
        self.history: Mapping[HistoryKey, HistoryRecord] = history_map(plan)
        # Every year the history holds, oldest first: the checks compare a return with each. Told apart
        # by their western year (an int hashes without a call into Python, for every record).
        years = {key[2].western: key[2] for key in self.history}
        self.history_years: tuple[FiscalYear, ...] = tuple(years[western] for western in sorted(years))
        self._maker = RowMaker(plan, self.history)
        # The 回答 sheet's columns as today's plan makes them: the template every return is read against.
        self.columns: tuple[Column, ...] = columns_for(plan.settings)
        self._by_share: dict[tuple[int, str], frozenset[str]] | None = None

    def rows_of(self, department: str) -> Sequence[PlanRow]:
        """The rows ``department`` (registry name) answers, in plan order."""
        return self.assigned.get(department, ())

    @functools.lru_cache(maxsize=64)  # noqa: B019 - the index lives as long as its plan, and the cache with it
    def shares(self, department: str) -> frozenset[tuple[int, str, str]]:
        """(project number, entry, member) of every row ``department`` answers."""
        return frozenset((row.project_no, row.entry, row.member) for row in self.rows_of(department))

    def owner(self, row_id: str) -> PlanRow | None:
        """The plan's row of this id, whoever answers it, or None when the plan has no such row."""
        return self._owners.get(row_id)

    def entry_of(self, row_id: str, name: str) -> Entry | None:
        """The entry named ``name`` of the row ``row_id``'s project (found by the id's entry number)."""
        owner = self._owners.get(row_id)
        if owner is not None and owner.entry == name:  # the plan's own row: its entry, without parsing the id
            return self.projects[owner.project_no].entries[owner.entry_index - 1]
        match = _ROW_ID.match(row_id)
        project = self.projects.get(int(match.group(1))) if match else None
        if project is None or match is None:
            return None
        position = int(match.group(2)) - 1
        if 0 <= position < len(project.entries) and project.entries[position].name == name:
            return project.entries[position]
        return next((entry for entry in project.entries if entry.name == name), None)

    def departments_of_share(self, project_no: int, member: str) -> frozenset[str]:
        """The departments answering (project number, member as printed): for a file without a manifest."""
        if self._by_share is None:
            by_share: dict[tuple[int, str], set[str]] = {}
            for department, rows in self.assigned.items():
                for row in rows:
                    by_share.setdefault((row.project_no, row.member), set()).add(department)
            self._by_share = {key: frozenset(value) for key, value in by_share.items()}
        return self._by_share.get((project_no, member), frozenset())

    def response_row(self, row: PlanRow) -> ResponseRow:
        """The row with its cells as distribution writes them from today's plan."""
        project = self.projects[row.project_no]
        entry = project.entries[row.entry_index - 1]
        return self._maker.row(project, row.entry_index, entry, row.member_index, row.member)

    def response_rows(self, department: str) -> list[ResponseRow]:
        """Every row of ``department`` with its cells, as distribution writes them."""
        return [self.response_row(row) for row in self.rows_of(department)]

    def history_for(
        self, project_no: int, entry: str, year: FiscalYear, member: str | None
    ) -> HistoryRecord | None:
        """As :meth:`Plan.history_for` (the first record wins), in constant time."""
        return self.history.get((project_no, entry, year, member))


_INDEXES: dict[int, tuple[weakref.ref[Plan], PlanIndex]] = {}


def plan_index(plan: Plan) -> PlanIndex:
    """The :class:`PlanIndex` of ``plan``, built on first use and kept while the plan lives."""
    cached = _INDEXES.get(id(plan))
    if cached is not None and cached[0]() is plan:
        return cached[1]
    index = PlanIndex(plan)
    for key in [key for key, (ref, _index) in _INDEXES.items() if ref() is None]:
        del _INDEXES[key]  # plans that are gone
    _INDEXES[id(plan)] = (weakref.ref(plan), index)
    return index
