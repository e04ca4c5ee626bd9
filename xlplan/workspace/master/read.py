"""Reading the master workbook into a :class:`~xlplan.plan.model.Plan`.

Reading collects every problem as a finding with its sheet and cell and then raises
:class:`~xlplan.errors.ConfigurationError`; nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding
from xlplan.plan.fiscal_year import FiscalYear, FiscalYearError, parse_fiscal_year
from xlplan.plan.grading import DEFAULT_RULE
from xlplan.plan.model import (
    Department,
    Entry,
    HistoryRecord,
    Node,
    NodeKey,
    Plan,
    Project,
)
from xlplan.plan.reorganise import Names, Placed, merge_records, place_record, resolve_projects, why_unplaced
from xlplan.plan.values import BLANK, ValueErrorCode, parse_value
from xlplan.workspace.master.cells import get as _get
from xlplan.workspace.master.cells import percent_shown
from xlplan.workspace.master.cells import positive_int as _positive_int
from xlplan.workspace.master.cells import split as _split
from xlplan.workspace.master.cells import text_of as _text
from xlplan.workspace.master.format import (
    C_DIRECTION,
    C_TARGET,
    C_TARGET_YEAR,
    DEPARTMENT_COLUMNS,
    REQUIRED_SHEETS,
    SHEET_DEPARTMENTS,
    SHEET_GRADING,
    SHEET_HISTORY,
    SHEET_PLAN,
    SHEET_SETTINGS,
    TARGET_COLUMNS,
    PlanColumns,
    history_columns,
)
from xlplan.workspace.master.settings import checked_address, read_settings
from xlplan.workspace.master.targets import read_rule, read_target
from xlplan.xlsx.cells import a1

# ----------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------


def read_master(path: Path) -> Plan:
    """Read a master workbook into a :class:`Plan`.

    Raises:
        ConfigurationError: the file is missing or unreadable, or any sheet has problems;
            the findings name each sheet and cell. Nothing is written in any case.
    """
    if not path.exists():
        raise ConfigurationError([Finding("master-not-found", {"path": str(path)})])
    try:
        workbook = openpyxl.load_workbook(path, data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken package
        raise ConfigurationError(
            [Finding("master-unreadable", {"path": str(path), "reason": type(exc).__name__}, file=str(path))]
        ) from exc
    try:
        return _Reader(workbook, str(path)).plan()
    finally:
        workbook.close()


class _Reader:
    """Reads one master; collects findings instead of stopping at the first problem."""

    def __init__(self, workbook: Workbook, file: str) -> None:
        self.workbook = workbook
        self.file = file
        self.findings: list[Finding] = []
        self.failed_projects: set[int] = set()  # numbers of 計画 rows that were reported, not read
        self.rule = DEFAULT_RULE

    def fail(self, code: str, sheet: str | None = None, cell: str | None = None, **params: Any) -> None:
        self.findings.append(Finding(code, params, file=self.file, sheet=sheet, cell=cell))

    def plan(self) -> Plan:
        missing = [name for name in REQUIRED_SHEETS if name not in self.workbook.sheetnames]
        if missing:
            for name in missing:
                self.fail("master-missing-sheet", sheet=name)
            raise ConfigurationError(self.findings)
        settings = read_settings(self, self.workbook[SHEET_SETTINGS])
        if settings is None:
            raise ConfigurationError(self.findings)
        departments = self.departments(self.workbook[SHEET_DEPARTMENTS])
        if (
            SHEET_GRADING in self.workbook.sheetnames
        ):  # read first: a pro-rating rule needs each target's year
            self.rule = read_rule(self, self.workbook[SHEET_GRADING])
        names = Names.of(departments)
        nodes, written = self.plan_rows(self.workbook[SHEET_PLAN], settings.levels, names)
        # Entries under former department names are read as the departments are now (機構改革).
        projects, renamed = resolve_projects(written, names)
        recorded, placed = self.history(
            self.workbook[SHEET_HISTORY], settings.levels, projects, renamed, names, settings.current_year
        )
        if self.findings:
            raise ConfigurationError(self.findings)
        history = tuple(merge_records(placed))
        source = tuple(recorded) if history != tuple(recorded) else None
        return Plan(settings, tuple(nodes), tuple(projects), tuple(departments), history, source, self.rule)

    # -- 担当課 ---------------------------------------------------------------------------
    def departments(self, sheet: Worksheet) -> list[Department]:
        columns = self.header(sheet, DEPARTMENT_COLUMNS[:1])
        if columns is None:
            return []
        index = self.header_index(sheet)
        seen: dict[str, str] = {}
        former_cells: dict[str, str] = {}
        result: list[Department] = []
        for row_number, row in self.data_rows(sheet):
            name = _text(_get(row, index, "担当課"))
            if not name:
                continue
            cell = a1(row_number, index["担当課"] + 1)
            aliases = tuple(_split(_text(_get(row, index, "別名"))))
            for spelling in (name, *aliases):
                if spelling in seen:
                    self.fail(
                        "master-duplicate-department", sheet=SHEET_DEPARTMENTS, cell=cell, department=spelling
                    )
                seen[spelling] = cell
            former = tuple(_split(_text(_get(row, index, "旧名称")))) if "旧名称" in index else ()
            former_cells[name] = a1(row_number, index["旧名称"] + 1) if former else cell
            email = checked_address(self, _text(_get(row, index, "メールアドレス")), SHEET_DEPARTMENTS,
                                    a1(row_number, index.get("メールアドレス", 0) + 1))  # fmt: skip
            result.append(
                Department(
                    name=name,
                    aliases=aliases,
                    email=email,
                    contact=_text(_get(row, index, "担当者")),
                    phone=_text(_get(row, index, "電話")),
                    former=former,
                )
            )
        for department in result:
            for old in department.former:
                # A former name that is also a current name or spelling would make every plan cell,
                # history row and return under it ambiguous: which department is meant?
                if old in seen:
                    self.fail("master-former-name-collision", sheet=SHEET_DEPARTMENTS,
                              cell=former_cells[department.name], former=old, department=department.name)  # fmt: skip
        return result

    # -- 計画 -----------------------------------------------------------------------------
    def plan_rows(
        self, sheet: Worksheet, levels: tuple[str, ...], names: Names
    ) -> tuple[list[Node], list[Project]]:
        columns = PlanColumns(levels)
        required = [columns.node_columns(d)[0] for d in range(len(levels) - 1)]
        required += [columns.node_columns(d)[1] for d in range(len(levels) - 1)]
        # 数値目標, 単位 and 現状値 were never optional: a header renamed (現状値（R4）) would drop every
        # baseline, and every project would become ○×— only. The targets came later: a master may have
        # none of their columns, or 目標値 alone, but not 目標年度 or 方向 without the 目標値 they qualify.
        required += [columns.number, columns.description, "数値目標", "単位", "現状値", "担当課"]
        index = self.header_index(sheet)
        if C_TARGET_YEAR in index or C_DIRECTION in index:
            required.append(C_TARGET)
        if self.header(sheet, required) is None:
            return [], []
        nodes: dict[NodeKey, Node] = {}
        node_cells: dict[NodeKey, str] = {}
        projects: dict[int, dict[str, Any]] = {}
        order: list[int] = []
        shown = [index[name] for name in ("現状値", C_TARGET) if name in index]
        for row_number, row in self.data_rows(sheet, shown):
            raw_no = _get(row, index, columns.number)
            if raw_no is None or _text(raw_no) is None:
                # Every row of the master is read or reported: a row with content but no number
                # would silently drop a project from the plan and from distribution.
                if any(_text(value) for value in row):
                    self.fail("master-missing-value", sheet=SHEET_PLAN, cell=a1(row_number, index[columns.number] + 1),
                              column=columns.number)  # fmt: skip
                continue
            no_cell = a1(row_number, index[columns.number] + 1)
            no = _positive_int(raw_no)
            if no is not None:
                self.failed_projects.add(no)  # taken out again once the project is built
            if no is None:
                self.fail("master-bad-project-number", sheet=SHEET_PLAN, cell=no_cell, value=str(raw_no))
                continue
            key: list[str] = []
            for depth in range(len(levels) - 1):
                number_col, title_col, subtitle_col = columns.node_columns(depth)
                number = _text(_get(row, index, number_col))
                title = _text(_get(row, index, title_col))
                if not number or not title:
                    column = number_col if not number else title_col
                    self.fail(
                        "master-missing-value",
                        sheet=SHEET_PLAN,
                        cell=a1(row_number, index[column] + 1),
                        column=column,
                    )
                    break
                key.append(number)
                node_key = tuple(key)
                subtitle = _text(_get(row, index, subtitle_col)) if subtitle_col in index else None
                known = nodes.get(node_key)
                if known is None:
                    nodes[node_key] = Node(node_key, title, subtitle)
                    node_cells[node_key] = a1(row_number, index[title_col] + 1)
                elif known.title != title:
                    self.fail(
                        "master-bad-hierarchy",
                        sheet=SHEET_PLAN,
                        cell=a1(row_number, index[title_col] + 1),
                        level=levels[depth],
                        number=number,
                        title=known.title,
                        other=title,
                    )
                elif subtitle and not known.subtitle:
                    nodes[node_key] = Node(node_key, title, subtitle)
            else:
                self.project_row(
                    sheet, row, row_number, index, columns, tuple(key), no, projects, order, names
                )
        built = [self.build_project(no, projects[no]) for no in order]
        self.failed_projects -= {project.no for project in built if project is not None}
        return list(nodes.values()), [project for project in built if project is not None]

    def project_row(
        self,
        sheet: Worksheet,
        row: Sequence[Any],
        row_number: int,
        index: dict[str, int],
        names: PlanColumns,
        node: NodeKey,
        no: int,
        projects: dict[int, dict[str, Any]],
        order: list[int],
        departments: Names,
    ) -> None:
        def cell(column: str) -> str:
            return a1(row_number, index[column] + 1)

        fields = {
            "node": node,
            "description": _text(_get(row, index, names.description)),
            "indicator": _text(_get(row, index, "数値目標")),
            "unit": _text(_get(row, index, "単位")),
            "baseline": _text(_get(row, index, "現状値")),
            "target": _text(_get(row, index, C_TARGET)),
            "target_year": _get(row, index, C_TARGET_YEAR),
            "direction": _text(_get(row, index, C_DIRECTION)),
        }
        first = projects.get(no)
        if first is None:
            if not fields["description"]:
                self.fail(
                    "master-missing-value",
                    sheet=SHEET_PLAN,
                    cell=cell(names.description),
                    column=names.description,
                )
            if not fields["indicator"] and fields["unit"]:  # a unit but no indicator: the form would ask ○×—
                self.fail("master-missing-value", sheet=SHEET_PLAN, cell=cell("数値目標"), column="数値目標")
            projects[no] = {
                **fields,
                "entries": [],
                "cell": cell(names.number),
                "baseline_cell": cell("現状値") if "現状値" in index else None,
                "target_cells": {column: cell(column) for column in TARGET_COLUMNS if column in index},
            }
            order.append(no)
            first = projects[no]
        elif order[-1] != no:
            # A project's rows must be together; a number seen again later is a second project.
            self.fail(
                "master-duplicate-project",
                sheet=SHEET_PLAN,
                cell=cell(names.number),
                no=no,
                first=first["cell"],
            )
            return
        else:
            for column, name in (
                (names.description, "description"),
                ("数値目標", "indicator"),
                ("単位", "unit"),
                ("現状値", "baseline"),
                (C_TARGET, "target"),
                (C_TARGET_YEAR, "target_year"),
                (C_DIRECTION, "direction"),
            ):
                value = fields[name]
                if value is not None and _text(value) != _text(first[name]):
                    self.fail(
                        "master-project-mismatch",
                        sheet=SHEET_PLAN,
                        cell=cell(column),
                        no=no,
                        column=column,
                        value=value,
                        expected=first[name] or "",
                    )
        entry_name = _text(_get(row, index, "担当課"))
        if not entry_name:
            self.fail("master-missing-value", sheet=SHEET_PLAN, cell=cell("担当課"), column="担当課")
            return
        joint_text = _text(_get(row, index, "回答する課")) if "回答する課" in index else None
        members = tuple(_split(joint_text)) if joint_text else (entry_name,)
        for member in members:
            if departments.now(member) is not None:
                continue
            split = departments.successors.get(member, ())
            if len(split) > 1:  # only the office knows which of the new departments carries it on
                self.fail("master-former-name-split", sheet=SHEET_PLAN, cell=cell("回答する課" if joint_text else "担当課"),
                          department=member, successors="、".join(split))  # fmt: skip
            else:
                self.fail(
                    "master-unknown-department",
                    sheet=SHEET_PLAN,
                    cell=cell("回答する課" if joint_text else "担当課"),
                    department=member,
                )
        if any(entry.name == entry_name for entry in first["entries"]):
            self.fail(
                "master-duplicate-entry", sheet=SHEET_PLAN, cell=cell("担当課"), no=no, entry=entry_name
            )
            return
        first["entries"].append(Entry(entry_name, members))

    def build_project(self, no: int, fields: dict[str, Any]) -> Project | None:
        unit = fields["unit"]
        parsed = parse_value(fields["baseline"], unit, unit_known=True)
        if not parsed.ok or parsed.value is None:
            self.bad_value(SHEET_PLAN, fields["baseline_cell"], fields["baseline"], parsed, unit)
            return None
        target, target_year, direction = read_target(self, fields, unit, parsed.value, self.rule.prorate)
        return Project(
            no=no,
            node=fields["node"],
            description=fields["description"] or "",
            indicator=fields["indicator"],
            unit=unit,
            baseline=parsed.value,
            entries=tuple(fields["entries"]),
            target=target,
            target_year=target_year,
            direction=direction,
        )

    # -- 履歴 -----------------------------------------------------------------------------
    def history(
        self,
        sheet: Worksheet,
        levels: tuple[str, ...],
        projects: list[Project],
        renamed: dict[tuple[int, str], str],
        names: Names,
        current: FiscalYear,
    ) -> tuple[list[HistoryRecord], list[Placed]]:
        """The 履歴 rows as written, and each placed on the entry it belongs to now (with the name it was written under).

        Rows written under different names that are one department now are combined (機構改革); the
        same row written twice, or a row for 今年度 or later (which the year's close writes), is a finding.
        """
        columns = history_columns(levels)
        if self.header(sheet, [columns[0], "担当課", "年度", "値"]) is None:
            return [], []
        index = self.header_index(sheet)
        by_no = {project.no: project for project in projects}
        records: list[HistoryRecord] = []
        placed: list[Placed] = []
        first_at: dict[tuple[int, str, str | None, int], str] = {}  # a row as written → its row's cell
        for row_number, row in self.data_rows(sheet, [index["値"]] if "値" in index else []):
            raw_no = _get(row, index, columns[0])
            if raw_no is None or _text(raw_no) is None:
                continue

            def cell(column: str, row_number: int = row_number) -> str:
                return a1(row_number, index[column] + 1)

            no = _positive_int(raw_no)
            entry_name = _text(_get(row, index, "担当課")) or ""
            share = _text(_get(row, index, "内訳の課")) if "内訳の課" in index else None
            project = by_no.get(no) if no is not None else None
            written = HistoryRecord(no or 0, entry_name, FiscalYear(2000), BLANK, None, share)
            here = place_record(written, project, renamed, names) if project is not None else None
            plan_reported = any(finding.sheet == SHEET_PLAN for finding in self.findings)
            if here is None and (no in self.failed_projects or plan_reported):
                # A 計画 row was reported already (a bad or missing number, a bad value): the history
                # of a project or entry that did not load follows from it. One root cause, one message.
                continue
            if here is None and _retired(row, index):
                # A project or entry the plan no longer has, marked 廃止 by the office: kept as written,
                # read by nothing (an error otherwise: a typed number that matches no project is a typo).
                kept = self.retired_record(row, index, no or 0, entry_name, share, cell)
                if kept is not None:
                    records.append(kept)
                continue
            why = why_unplaced(entry_name, names) if project is not None and here is None else None
            if why is not None:  # a department name the registry no longer knows, or split in two
                self.fail(f"master-history-{why[0]}-department", sheet=SHEET_HISTORY, cell=cell("担当課"),
                          no=str(raw_no), entry=entry_name, **why[1])  # fmt: skip
                continue
            if project is None or here is None:
                self.fail("master-unknown-project", sheet=SHEET_HISTORY, cell=cell(columns[0]),
                          no=str(raw_no), entry=entry_name)  # fmt: skip
                continue
            year = self.history_year(row, index, cell)
            if year is None:
                continue
            if year.western >= current.western:
                self.fail("master-history-not-past", sheet=SHEET_HISTORY, cell=cell("年度"), no=project.no,
                          year=year.wareki, current=current.wareki)  # fmt: skip
                continue
            written_key = (project.no, entry_name, share, year.western)
            if written_key in first_at:  # a row pasted twice would be added to itself (10回 + 10回)
                self.fail("master-duplicate-history", sheet=SHEET_HISTORY, cell=cell("年度"), no=project.no,
                          entry=share or entry_name, year=year.wareki, first=first_at[written_key])  # fmt: skip
                continue
            first_at[written_key] = cell("年度")
            raw_value = _get(row, index, "値")
            parsed = parse_value(raw_value, project.unit, unit_known=True)
            if not parsed.ok or parsed.value is None:
                self.bad_value(SHEET_HISTORY, cell("値"), raw_value, parsed, project.unit)
                continue
            record = HistoryRecord(
                project_no=project.no,
                entry=entry_name,
                fiscal_year=year,
                value=parsed.value,
                narrative=_text(_get(row, index, "実績内容"), strip=False),
                department=share,
                note=_text(_get(row, index, "備考")) if "備考" in index else None,
            )
            records.append(record)
            now = replace(record, entry=here.entry, department=here.department)
            placed.append(Placed(share or entry_name, now, entry_name, share is not None))
        return records, placed

    def retired_record(self, row: Sequence[Any], index: dict[str, int], no: int, entry: str,
                       share: str | None, cell: Callable[[str], str]) -> HistoryRecord | None:  # fmt: skip
        """A 廃止 row as written (its value in the unit it was typed with), or None with a finding."""
        year = self.history_year(row, index, cell)
        if year is None:
            return None
        raw_value = _get(row, index, "値")
        parsed = parse_value(raw_value)
        if not parsed.ok or parsed.value is None:
            self.bad_value(SHEET_HISTORY, cell("値"), raw_value, parsed, None)
            return None
        return HistoryRecord(no, entry, year, parsed.value, _text(_get(row, index, "実績内容"), strip=False),
                             share, _text(_get(row, index, "備考")))  # fmt: skip

    def history_year(
        self, row: Sequence[Any], index: dict[str, int], cell: Callable[[str], str]
    ) -> FiscalYear | None:
        """A 履歴 row's 年度 (令和2年度, R2 or 2020), or None with a finding naming its cell."""
        raw_year = _get(row, index, "年度")
        try:
            return parse_fiscal_year(raw_year if isinstance(raw_year, int) else _text(raw_year) or "")
        except FiscalYearError:
            self.fail("master-bad-fiscal-year", sheet=SHEET_HISTORY, cell=cell("年度"), value=str(raw_year))
            return None

    # -- helpers --------------------------------------------------------------------------
    def bad_value(self, sheet: str, cell: str, raw: Any, parsed: Any, unit: str | None) -> None:
        """The finding for a value that cannot be read: naming the expected unit where the unit is the problem."""
        if parsed.error in (ValueErrorCode.UNIT_MISMATCH, ValueErrorCode.UNEXPECTED_UNIT):
            self.fail("master-unit-mismatch", sheet=sheet, cell=cell, value=str(raw), unit=unit or "",
                      typed=parsed.typed_unit or "")  # fmt: skip
        else:
            self.fail("master-bad-value", sheet=sheet, cell=cell, value=str(raw))

    def header_index(self, sheet: Worksheet) -> dict[str, int]:
        first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        return {text: position for position, value in enumerate(first) if (text := _text(value))}

    def header(self, sheet: Worksheet, required: Iterable[str]) -> dict[str, int] | None:
        index = self.header_index(sheet)
        missing = [column for column in required if column not in index]
        for column in missing:
            self.fail("master-missing-column", sheet=sheet.title, cell="1:1", column=column)
        return None if missing else index

    def data_rows(self, sheet: Worksheet, shown: Sequence[int] = ()) -> Iterable[tuple[int, Sequence[Any]]]:
        """The rows with content; a number of the ``shown`` columns as displayed (0.5 under 0% is 50%)."""
        plain = not shown
        rows: Iterable[Sequence[Any]] = sheet.iter_rows(min_row=2, values_only=plain)
        for row_number, cells in enumerate(rows, start=2):
            values = list(cells) if plain else [cell.value for cell in cells]
            if any(value is not None and value != "" for value in values):
                for position in (position for position in shown if position < len(values)):
                    values[position] = percent_shown(
                        values[position], getattr(cells[position], "number_format", None)
                    )
                yield row_number, values


RETIRED = "廃止"
"""What the office writes in 履歴's 備考 for the rows of a project or entry the plan no longer has."""


def _retired(row: Sequence[Any], index: dict[str, int]) -> bool:
    return "備考" in index and RETIRED in (_text(_get(row, index, "備考")) or "")
