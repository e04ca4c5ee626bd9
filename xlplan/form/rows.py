"""What a department workbook holds: its columns, and one row per project share the department answers.

:mod:`xlplan.form.layout` fixes the sheet's layout; this module fills it from the
plan (:func:`response_rows`), names the file, and says how a value is typed into a
value cell (:func:`typed_value`) — what distribution prefills, what checking
compares with, and what a 差し戻し票 writes back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from xlplan.form import layout
from xlplan.form.layout import Column, InputRule
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Department, Entry, HistoryRecord, Plan, Project, Settings
from xlplan.plan.values import Value
from xlplan.xlsx.cells import file_name


@dataclass(frozen=True)
class ResponseRow:
    """One row of the 回答 sheet: a department's share of one project × entry.

    ``cells`` maps column keys to the prefilled values: ``str`` for text and marks,
    ``Decimal`` or ``int`` for numbers, None for an empty cell.
    """

    row_id: str
    project_no: int
    entry: str
    department: str  # the member as printed in the plan
    rule: InputRule
    cells: Mapping[str, object]


@dataclass(frozen=True)
class WorkbookRequest:
    """Everything needed to write one department's workbook: plain data."""

    settings: Settings
    department: Department
    columns: tuple[Column, ...]
    rows: tuple[ResponseRow, ...]


def columns_for(settings: Settings) -> tuple[Column, ...]:
    """The 回答 sheet's columns for the plan's levels and years."""
    return tuple(
        layout.response_columns(
            settings.levels,
            settings.year_label(settings.baseline_year),
            settings.previous_year.wareki,
            settings.current_year.wareki,
            [(year.western, year.wareki) for year in settings.earlier_years],
        )
    )


HistoryKey = tuple[int, str, FiscalYear, str | None]
"""(project number, entry, fiscal year, member as printed or None for the entry as a whole)."""


def history_map(plan: Plan) -> dict[HistoryKey, HistoryRecord]:
    """The plan's history records by :data:`HistoryKey` (the first record of a key wins)."""
    # Built in reverse, so that the first record of a key is the one left: a comprehension, not a
    # call per record (a plan of a thousand departments has a hundred thousand records a year).
    return {(r.project_no, r.entry, r.fiscal_year, r.department): r for r in reversed(plan.history)}


class RowMaker:
    """Makes the rows of department workbooks, one at a time, with the plan's look-ups built once."""

    def __init__(self, plan: Plan, history: Mapping[HistoryKey, HistoryRecord] | None = None) -> None:
        self.plan = plan
        self.history = history if history is not None else history_map(plan)
        self.nodes = {node.key: node for node in plan.nodes}
        # What is the same for every row of a project: made once per project, not once per row.
        self._project: dict[int, tuple[dict[str, object], object, InputRule]] = {}
        # A property that builds its tuple on each call: read once (a thousand departments × 69 rows).
        self._earlier = tuple(
            (year, layout.earlier_value_key(year.western)) for year in plan.settings.earlier_years
        )

    def _fixed(self, project: Project) -> tuple[dict[str, object], object, InputRule]:
        """What every row of ``project`` shares: the cells from the hierarchy to the unit, the
        baseline's cell, and the input rule."""
        found = self._project.get(project.no)
        if found is None:
            # The hierarchy columns, level1 … with number and title, then the project's own.
            cells: dict[str, object] = {}
            for depth in range(len(project.node)):
                node = self.nodes[project.node[: depth + 1]]
                cells[f"level{depth + 1}"] = f"{node.number} {node.title}"
            cells[layout.PROJECT_NO] = project.no
            cells[layout.DESCRIPTION] = project.description
            cells[layout.INDICATOR] = project.indicator
            cells[layout.UNIT] = project.unit
            rule = layout.input_rule(project.indicator, project.unit)
            found = self._project[project.no] = (cells, _cell_value(project.baseline), rule)
        return found

    def row(
        self, project: Project, entry_index: int, entry: Entry, member_index: int, member: str
    ) -> ResponseRow:
        """The row of ``member``'s share of ``entry`` (1-based indexes, as the row id numbers them)."""
        # A member's own share where the history has one; otherwise the entry's value,
        # which for a joint entry is the combined value (the 記入方法 sheet says so).
        settings = self.plan.settings
        history = self.history

        def past(year: FiscalYear) -> HistoryRecord | None:
            return history.get((project.no, entry.name, year, member)) or history.get(
                (project.no, entry.name, year, None)
            )

        record = past(settings.previous_year)
        earlier = {}
        for year, key in self._earlier:
            found = past(year)
            earlier[key] = _cell_value(found.value) if found else None
        row_id = layout.row_id(project.no, entry_index, member_index)
        fixed, baseline, rule = self._fixed(project)
        cells: dict[str, object] = {
            layout.ROW_ID: row_id,
            **fixed,
            layout.ENTRY: entry.name,
            layout.DEPARTMENT: member,
            layout.BASELINE: baseline,
            **earlier,
            layout.PREVIOUS_VALUE: _cell_value(record.value) if record else None,
            layout.PREVIOUS_NARRATIVE: record.narrative if record else None,
        }
        return ResponseRow(row_id, project.no, entry.name, member, rule, cells)


def canonical_names(plan: Plan) -> dict[str, str]:
    """Every spelling of a department in plan cells (its name, its aliases) → its registry name."""
    return {
        spelling: department.name
        for department in plan.departments
        for spelling in (department.name, *department.aliases)
    }


class DepartmentRows:
    """Which rows each department answers, and their cells made when a department's are asked for.

    Distribution asks in the worker process that writes the department's workbook, so the
    rows of a thousand departments are neither made one after another before the workers
    start nor pickled to them one by one (forked workers share this object); a 差し戻し票
    asks for one department's. One pass over the plan with dictionaries:
    :meth:`Plan.assignments` and :meth:`Plan.history_for` scan the whole plan per call,
    which is quadratic for a thousand departments.
    """

    def __init__(self, plan: Plan) -> None:
        canonical = canonical_names(plan)
        shares: dict[str, list[tuple[Project, int, Entry, int, str]]] = defaultdict(list)
        for project in plan.projects:
            for entry_index, entry in enumerate(project.entries, start=1):
                for member_index, member in enumerate(entry.members, start=1):
                    department = canonical.get(member)
                    if department is None:  # the master reader reports unknown departments
                        continue
                    shares[department].append((project, entry_index, entry, member_index, member))
        self._shares = dict(shares)
        self._maker = RowMaker(plan)

    def __contains__(self, department: object) -> bool:
        """True when ``department`` (registry name) answers at least one row."""
        return department in self._shares

    def departments(self) -> list[str]:
        """The departments that answer rows, by registry name, in the order their first row comes."""
        return list(self._shares)

    def rows(self, department: str) -> tuple[ResponseRow, ...]:
        """``department``'s rows (registry name), in plan order: one per project × entry × member it is."""
        row = self._maker.row
        return tuple(row(*share) for share in self._shares.get(department, ()))


def response_rows(plan: Plan) -> dict[str, list[ResponseRow]]:
    """Every department's rows, keyed by registry name, in plan order (see :class:`DepartmentRows`).

    One row per project × entry × member that the department is, so each member of
    a joint entry answers its own share.
    """
    index = DepartmentRows(plan)
    return {department: list(index.rows(department)) for department in index.departments()}


def _cell_value(value: Value) -> object:
    if value.number is not None:
        return value.number
    return value.to_json()


def workbook_file_name(settings: Settings, department: str, version: int = 1) -> str:
    """``第2次小城市男女共同参画プラン_令和2年度実績照会_文化課.xlsx`` (``_第2版`` from version 2)."""
    round_part = f"（第{settings.round}回）" if settings.round > 1 else ""
    version_part = f"_第{version}版" if version > 1 else ""
    stem = (
        f"{settings.plan_name}_{settings.current_year.wareki}実績照会{round_part}_{department}{version_part}"
    )
    return file_name(f"{stem}.xlsx")


def typed_value(value: Value, unit: str | None) -> int | float | str | None:
    """What a person types for ``value`` in a cell whose format shows ``unit``."""
    if value.mark is not None:
        return value.mark.value
    if value.number is None:
        return None
    if value.unit == unit:
        number: Decimal = value.number
        return int(number) if number == number.to_integral_value() else float(number)
    return value.display()
