"""The master workbook (計画マスタ) ⇄ :class:`~xlplan.plan.model.Plan`.

The master is the one file the plan office keeps. Its sheets:

======  ===============================================================
説明    what the workbook is and how to edit it (for a new staff member)
設定    key / value / explanation: titles, hierarchy level names, years,
        deadline, the office, mail templates
計画    one row per project × department entry; hierarchy columns named
        by the level names
担当課  the department registry: name, other spellings, mail, contact
履歴    long-format history: project, entry, (share), year, value, narrative
======  ===============================================================

Reading collects every problem as a finding with its sheet and cell and then
raises :class:`~xlplan.findings.ConfigurationError`; nothing is written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding
from xlplan.plan.fiscal_year import FiscalYear, FiscalYearError, parse_fiscal_year
from xlplan.plan.model import (
    Department,
    Entry,
    HistoryRecord,
    MailTemplate,
    Node,
    NodeKey,
    Plan,
    Project,
    Settings,
    parse_smtp,
)
from xlplan.plan.values import parse_value
from xlplan.xlsx.cells import a1, set_text

SHEET_GUIDE = "説明"
SHEET_SETTINGS = "設定"
SHEET_PLAN = "計画"
SHEET_DEPARTMENTS = "担当課"
SHEET_HISTORY = "履歴"
REQUIRED_SHEETS = (SHEET_SETTINGS, SHEET_PLAN, SHEET_DEPARTMENTS, SHEET_HISTORY)

# Settings keys. The Japanese key is what staff see and type; the model field is on the right.
K_PLAN_NAME = "計画名"
K_TITLE = "表題"
K_LABEL = "資料番号"
K_SLOGAN = "スローガン"
K_LEVEL = "階層"  # 階層1, 階層2, …
K_BASELINE = "現状値年度"
K_BASELINE_LABEL = "現状値年度の表示"
K_PREVIOUS = "前年度"
K_CURRENT = "今年度"
K_ROUND = "回"
K_DEADLINE = "締切"
K_OFFICE = "担当部署"
K_OFFICE_CONTACT = "担当者"
K_OFFICE_EMAIL = "連絡先メール"
MAIL_KINDS = ("依頼", "督促", "差し戻し")

_SETTING_HELP: dict[str, str] = {
    K_PLAN_NAME: "計画の名称。ファイル名やメールに使います。",
    K_TITLE: "集約表（事業実績一覧）の表題。",
    K_LABEL: "集約表の右上に表示する資料番号（例: 資料 1-3）。",
    K_SLOGAN: "集約表の見出し行に表示するスローガン。",
    K_BASELINE: "現状値の年度（例: 平成27年度）。",
    K_BASELINE_LABEL: "集約表の見出しでの現状値年度の表示（例: 27年度）。空欄なら和暦で表示。",
    K_PREVIOUS: "前年度（例: 令和元年度）。",
    K_CURRENT: "今年度 = 今回照会する年度（例: 令和2年度）。",
    K_ROUND: "今年度の照会の回（通常は 1）。",
    K_DEADLINE: "担当課からの回答の締切日（例: 2021/5/31）。",
    K_OFFICE: "照会元の部署名（問い合わせ先）。",
    K_OFFICE_CONTACT: "照会元の担当者名。",
    K_OFFICE_EMAIL: "回答の送付先メールアドレス。",
}

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_FONT = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class PlanColumns:
    """The 計画 sheet's column names, which depend on the level names."""

    levels: tuple[str, ...]

    def node_columns(self, depth: int) -> tuple[str, str, str]:
        """Number, title and subtitle columns of the non-leaf level ``depth``."""
        name = self.levels[depth]
        return name, f"{name}名", f"{name}副題"

    @property
    def leaf(self) -> str:
        """The projects' level name (事業)."""
        return self.levels[-1]

    @property
    def number(self) -> str:
        """The project number column (事業番号)."""
        return f"{self.leaf}番号"

    @property
    def description(self) -> str:
        """The description column (事業の内容)."""
        return f"{self.leaf}の内容"

    def all(self) -> list[str]:
        """Every column in order."""
        columns: list[str] = []
        for depth in range(len(self.levels) - 1):
            columns.extend(self.node_columns(depth))
        columns += [self.number, self.description, "数値目標", "単位", "現状値", "担当課", "回答する課"]
        return columns


def history_columns(levels: Sequence[str]) -> list[str]:
    """The 履歴 sheet's columns."""
    return [f"{levels[-1]}番号", "担当課", "内訳の課", "年度", "値", "実績内容"]


DEPARTMENT_COLUMNS = ["担当課", "別名", "メールアドレス", "担当者", "電話"]
_LIST_SPLIT = re.compile(r"[、,，\n]+")


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

    def fail(self, code: str, sheet: str | None = None, cell: str | None = None, **params: Any) -> None:
        self.findings.append(Finding(code, params, file=self.file, sheet=sheet, cell=cell))

    def plan(self) -> Plan:
        missing = [name for name in REQUIRED_SHEETS if name not in self.workbook.sheetnames]
        if missing:
            for name in missing:
                self.fail("master-missing-sheet", sheet=name)
            raise ConfigurationError(self.findings)
        settings = self.settings(self.workbook[SHEET_SETTINGS])
        if settings is None:
            raise ConfigurationError(self.findings)
        departments = self.departments(self.workbook[SHEET_DEPARTMENTS])
        lookup = {name: dep.name for dep in departments for name in (dep.name, *dep.aliases)}
        nodes, projects = self.plan_rows(self.workbook[SHEET_PLAN], settings.levels, lookup)
        history = self.history(self.workbook[SHEET_HISTORY], settings.levels, projects)
        if self.findings:
            raise ConfigurationError(self.findings)
        return Plan(settings, tuple(nodes), tuple(projects), tuple(departments), tuple(history))

    # -- 設定 -----------------------------------------------------------------------------
    def settings(self, sheet: Worksheet) -> Settings | None:
        values: dict[str, tuple[Any, str]] = {}
        for row_number, row in enumerate(sheet.iter_rows(min_row=2, max_col=2, values_only=True), start=2):
            key = _text(row[0]) if row else None
            if key:
                values[key] = (row[1] if len(row) > 1 else None, a1(row_number, 2))

        def text(key: str, required: bool = False, strip: bool = True) -> str | None:
            raw, cell = values.get(key, (None, "B1"))
            result = _text(raw, strip=strip)
            if required and not result:
                self.fail("master-missing-setting", sheet=SHEET_SETTINGS, cell=cell, key=key)
            return result

        def year(key: str) -> FiscalYear | None:
            raw, cell = values.get(key, (None, "B1"))
            if raw is None or _text(raw) is None:
                self.fail("master-missing-setting", sheet=SHEET_SETTINGS, cell=cell, key=key)
                return None
            try:
                return parse_fiscal_year(_text(raw) if not isinstance(raw, int) else raw)
            except FiscalYearError:
                self.fail("master-bad-fiscal-year", sheet=SHEET_SETTINGS, cell=cell, value=str(raw))
                return None

        levels: list[str] = []
        while (name := text(f"{K_LEVEL}{len(levels) + 1}")) is not None:
            levels.append(name)
        if not levels:
            self.fail("master-no-levels", sheet=SHEET_SETTINGS)
        plan_name = text(K_PLAN_NAME, required=True)
        title = text(K_TITLE, required=True)
        baseline, previous, current = year(K_BASELINE), year(K_PREVIOUS), year(K_CURRENT)
        deadline = self.date(values.get(K_DEADLINE, (None, "B1")))
        round_raw, round_cell = values.get(K_ROUND, (1, "B1"))
        try:
            round_number = int(round_raw) if round_raw not in (None, "") else 1
        except (TypeError, ValueError):
            self.fail("master-bad-value", sheet=SHEET_SETTINGS, cell=round_cell, value=str(round_raw))
            round_number = 1
        mail: dict[str, MailTemplate] = {}
        for kind in MAIL_KINDS:
            subject, body = text(f"{kind}メール件名"), text(f"{kind}メール本文", strip=False)
            if subject is not None or body is not None:
                mail[kind] = MailTemplate(subject or "", body or "")
        known = {
            K_PLAN_NAME,
            K_TITLE,
            K_LABEL,
            K_SLOGAN,
            K_BASELINE,
            K_BASELINE_LABEL,
            K_PREVIOUS,
            K_CURRENT,
            K_ROUND,
            K_DEADLINE,
            K_OFFICE,
            K_OFFICE_CONTACT,
            K_OFFICE_EMAIL,
        }
        known |= {f"{K_LEVEL}{i + 1}" for i in range(len(levels))}
        known |= {f"{kind}メール{part}" for kind in MAIL_KINDS for part in ("件名", "本文")}
        extra = {key: _text(raw) or "" for key, (raw, _cell) in values.items() if key not in known}
        # Typed when the master is read: a bad port is a master finding, not a failure at the first send.
        for finding in parse_smtp(extra)[1]:
            cell = values.get(str(finding.params.get("key")), (None, None))[1]
            self.fail(finding.code, sheet=SHEET_SETTINGS, cell=cell, **finding.params)
        if not (levels and plan_name and title and baseline and previous and current):
            return None
        return Settings(
            plan_name=plan_name,
            title=title,
            levels=tuple(levels),
            baseline_year=baseline,
            previous_year=previous,
            current_year=current,
            document_label=text(K_LABEL),
            slogan=text(K_SLOGAN),
            baseline_label=text(K_BASELINE_LABEL),
            deadline=deadline,
            round=round_number,
            office=text(K_OFFICE),
            office_contact=text(K_OFFICE_CONTACT),
            office_email=text(K_OFFICE_EMAIL),
            mail=mail,
            extra=extra,
        )

    def date(self, item: tuple[Any, str]) -> dt.date | None:
        raw, cell = item
        if raw is None or raw == "":
            return None
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        match = re.fullmatch(r"\s*(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?\s*", str(raw))
        if match:
            try:
                return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                pass
        self.fail("master-bad-date", sheet=SHEET_SETTINGS, cell=cell, value=str(raw))
        return None

    # -- 担当課 ---------------------------------------------------------------------------
    def departments(self, sheet: Worksheet) -> list[Department]:
        columns = self.header(sheet, DEPARTMENT_COLUMNS[:1])
        if columns is None:
            return []
        index = self.header_index(sheet)
        seen: dict[str, str] = {}
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
            result.append(
                Department(
                    name=name,
                    aliases=aliases,
                    email=_text(_get(row, index, "メールアドレス")),
                    contact=_text(_get(row, index, "担当者")),
                    phone=_text(_get(row, index, "電話")),
                )
            )
        return result

    # -- 計画 -----------------------------------------------------------------------------
    def plan_rows(
        self, sheet: Worksheet, levels: tuple[str, ...], lookup: dict[str, str]
    ) -> tuple[list[Node], list[Project]]:
        names = PlanColumns(levels)
        required = [names.node_columns(d)[0] for d in range(len(levels) - 1)]
        required += [names.node_columns(d)[1] for d in range(len(levels) - 1)]
        required += [names.number, names.description, "担当課"]
        if self.header(sheet, required) is None:
            return [], []
        index = self.header_index(sheet)
        nodes: dict[NodeKey, Node] = {}
        node_cells: dict[NodeKey, str] = {}
        projects: dict[int, dict[str, Any]] = {}
        order: list[int] = []
        for row_number, row in self.data_rows(sheet):
            raw_no = _get(row, index, names.number)
            if raw_no is None or _text(raw_no) is None:
                continue
            no_cell = a1(row_number, index[names.number] + 1)
            no = _positive_int(raw_no)
            if no is None:
                self.fail("master-bad-project-number", sheet=SHEET_PLAN, cell=no_cell, value=str(raw_no))
                continue
            key: list[str] = []
            for depth in range(len(levels) - 1):
                number_col, title_col, subtitle_col = names.node_columns(depth)
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
                    sheet, row, row_number, index, names, tuple(key), no, projects, order, lookup
                )
        built = [self.build_project(no, projects[no]) for no in order]
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
        lookup: dict[str, str],
    ) -> None:
        def cell(column: str) -> str:
            return a1(row_number, index[column] + 1)

        fields = {
            "node": node,
            "description": _text(_get(row, index, names.description)),
            "indicator": _text(_get(row, index, "数値目標")),
            "unit": _text(_get(row, index, "単位")),
            "baseline": _text(_get(row, index, "現状値")),
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
            projects[no] = {
                **fields,
                "entries": [],
                "cell": cell(names.number),
                "baseline_cell": cell("現状値") if "現状値" in index else None,
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
            ):
                value = fields[name]
                if value is not None and value != first[name]:
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
            if member not in lookup:
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
            self.fail(
                "master-bad-value",
                sheet=SHEET_PLAN,
                cell=fields["baseline_cell"],
                value=str(fields["baseline"]),
            )
            return None
        return Project(
            no=no,
            node=fields["node"],
            description=fields["description"] or "",
            indicator=fields["indicator"],
            unit=unit,
            baseline=parsed.value,
            entries=tuple(fields["entries"]),
        )

    # -- 履歴 -----------------------------------------------------------------------------
    def history(
        self, sheet: Worksheet, levels: tuple[str, ...], projects: list[Project]
    ) -> list[HistoryRecord]:
        columns = history_columns(levels)
        if self.header(sheet, [columns[0], "担当課", "年度", "値"]) is None:
            return []
        index = self.header_index(sheet)
        by_no = {project.no: project for project in projects}
        records: list[HistoryRecord] = []
        for row_number, row in self.data_rows(sheet):
            raw_no = _get(row, index, columns[0])
            if raw_no is None or _text(raw_no) is None:
                continue

            def cell(column: str, row_number: int = row_number) -> str:
                return a1(row_number, index[column] + 1)

            no = _positive_int(raw_no)
            entry_name = _text(_get(row, index, "担当課")) or ""
            project = by_no.get(no) if no is not None else None
            if project is None or not any(e.name == entry_name for e in project.entries):
                self.fail(
                    "master-unknown-project",
                    sheet=SHEET_HISTORY,
                    cell=cell(columns[0]),
                    no=str(raw_no),
                    entry=entry_name,
                )
                continue
            raw_year = _get(row, index, "年度")
            try:
                year = parse_fiscal_year(raw_year if isinstance(raw_year, int) else _text(raw_year) or "")
            except FiscalYearError:
                self.fail(
                    "master-bad-fiscal-year", sheet=SHEET_HISTORY, cell=cell("年度"), value=str(raw_year)
                )
                continue
            raw_value = _get(row, index, "値")
            parsed = parse_value(raw_value, project.unit, unit_known=True)
            if not parsed.ok or parsed.value is None:
                self.fail("master-bad-value", sheet=SHEET_HISTORY, cell=cell("値"), value=str(raw_value))
                continue
            share = _text(_get(row, index, "内訳の課")) if "内訳の課" in index else None
            records.append(
                HistoryRecord(
                    project_no=project.no,
                    entry=entry_name,
                    fiscal_year=year,
                    value=parsed.value,
                    narrative=_text(_get(row, index, "実績内容"), strip=False),
                    department=share,
                )
            )
        return records

    # -- helpers --------------------------------------------------------------------------
    def header_index(self, sheet: Worksheet) -> dict[str, int]:
        first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        return {text: position for position, value in enumerate(first) if (text := _text(value))}

    def header(self, sheet: Worksheet, required: Iterable[str]) -> dict[str, int] | None:
        index = self.header_index(sheet)
        missing = [column for column in required if column not in index]
        for column in missing:
            self.fail("master-missing-column", sheet=sheet.title, cell="1:1", column=column)
        return None if missing else index

    def data_rows(self, sheet: Worksheet) -> Iterable[tuple[int, Sequence[Any]]]:
        for row_number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            if any(value is not None and value != "" for value in row):
                yield row_number, row


def _get(row: Sequence[Any], index: dict[str, int], column: str) -> Any:
    position = index.get(column)
    if position is None or position >= len(row):
        return None
    return row[position]


def _text(value: Any, strip: bool = True) -> str | None:
    """A cell's text, or None for an empty cell. Numbers become their plain text (12.0 → 12)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if strip:
        text = text.strip()
    return text if text.strip() else None


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in _LIST_SPLIT.split(text or "") if part.strip()]


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    text = _text(value)
    if text and text.isdecimal() and int(text) > 0:
        return int(text)
    return None


# ----------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------


def write_master(plan: Plan, path: Path) -> None:
    """Write ``plan`` as a new master workbook at ``path`` (.xlsx)."""
    workbook = openpyxl.Workbook()
    fill_master(workbook, plan)
    workbook.save(path)


def fill_master(workbook: Workbook, plan: Plan) -> None:
    """Put the master's sheets into ``workbook``, replacing any sheets of the same names.

    Other sheets (an 操作 sheet with buttons, ``xlwings.conf``) are kept, so the
    button workbook can be refreshed from the plan without losing them.
    """
    for name in (SHEET_GUIDE, *REQUIRED_SHEETS):
        if name in workbook.sheetnames:
            del workbook[name]
    if (
        workbook.sheetnames == ["Sheet"]
        and workbook["Sheet"].max_row == 1
        and workbook["Sheet"]["A1"].value is None
    ):
        del workbook["Sheet"]
    _write_guide(workbook.create_sheet(SHEET_GUIDE), plan)
    _write_settings(workbook.create_sheet(SHEET_SETTINGS), plan.settings)
    _write_plan(workbook.create_sheet(SHEET_PLAN), plan)
    _write_departments(workbook.create_sheet(SHEET_DEPARTMENTS), plan.departments)
    _write_history(workbook.create_sheet(SHEET_HISTORY), plan)


def _header(
    sheet: Worksheet, columns: Sequence[str], notes: Mapping[str, str], widths: Mapping[str, float]
) -> None:
    for position, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=position)
        set_text(cell, name)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if name in notes:
            cell.comment = Comment(notes[name], "xlplan", width=300, height=120)
        sheet.column_dimensions[get_column_letter(position)].width = widths.get(name, 14)
    sheet.freeze_panes = "A2"
    _print_setup(sheet)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"


def _print_setup(sheet: Worksheet) -> None:
    # Staff print the master to check it: landscape, one page wide, the header row on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"


def _write_rows(sheet: Worksheet, rows: Iterable[Sequence[Any]], wrap: Iterable[int] = ()) -> None:
    wrap_columns = set(wrap)
    for row_number, row in enumerate(rows, start=2):
        for position, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=position)
            if isinstance(value, str):
                set_text(cell, value)
            else:
                cell.value = value
            if position in wrap_columns:
                cell.alignment = _WRAP


def _write_guide(sheet: Worksheet, plan: Plan) -> None:
    lines = [
        (f"{plan.settings.plan_name} 計画マスタ", True),
        ("このブックは xlplan が計画の進捗照会（配布 → 回収・検証 → 集約）に使う元データです。", False),
        ("", False),
        ("シートの役割", True),
        (
            "設定: 表題、階層名、年度（現状値・前年度・今年度）、締切、照会元、メールの文面。B列の値だけを変更してください。",
            False,
        ),
        ("計画: 事業 × 担当課ごとに1行。同じ事業を複数の課がそれぞれ報告する場合は行を分けます。", False),
        (
            "　　「回答する課」は空欄なら担当課がそのまま回答します。複数の課が1行で共同報告する場合は課名を「、」区切りで、",
            False,
        ),
        ("　　担当課の表示が課名と違う場合（例: 企画政策課 (関係各課)）は回答する課を1つ入力します。", False),
        (
            "担当課: 課の名称、別の表記（別名）、メールアドレス、担当者。計画シートの課名はここに登録が必要です。",
            False,
        ),
        (
            "履歴: 年度ごとの実績値と実績内容（1行に1件）。「内訳の課」は共同報告の各課の分のときだけ入力します。",
            False,
        ),
        ("", False),
        ("値の書き方", True),
        ("数値は単位を付けて（172人、1.6%）、記号は ○（実施）× （未実施）—（該当なし）を使います。", False),
        ("年度は 令和2年度、R2、2020 のいずれの形でも入力できます。", False),
        ("", False),
        ("見出しのセルにコメント（赤い三角）で各列の説明があります。", False),
        ("操作の詳しい説明は docs/ の利用者ガイドを参照してください。", False),
    ]
    sheet.column_dimensions["A"].width = 110
    _print_setup(sheet)
    sheet.print_title_rows = None
    for row_number, (text, bold) in enumerate(lines, start=1):
        cell = sheet.cell(row=row_number, column=1)
        set_text(cell, text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if bold:
            cell.font = Font(bold=True, size=12 if row_number == 1 else 11)


def _write_settings(sheet: Worksheet, settings: Settings) -> None:
    rows: list[tuple[str, Any, str]] = [
        (K_PLAN_NAME, settings.plan_name, _SETTING_HELP[K_PLAN_NAME]),
        (K_TITLE, settings.title, _SETTING_HELP[K_TITLE]),
        (K_LABEL, settings.document_label, _SETTING_HELP[K_LABEL]),
        (K_SLOGAN, settings.slogan, _SETTING_HELP[K_SLOGAN]),
    ]
    for depth, level in enumerate(settings.levels, start=1):
        help_text = "階層の名称（上位から順に。最後が報告単位の事業）。" if depth == 1 else ""
        rows.append((f"{K_LEVEL}{depth}", level, help_text))
    rows += [
        (K_BASELINE, settings.baseline_year.wareki, _SETTING_HELP[K_BASELINE]),
        (K_BASELINE_LABEL, settings.baseline_label, _SETTING_HELP[K_BASELINE_LABEL]),
        (K_PREVIOUS, settings.previous_year.wareki, _SETTING_HELP[K_PREVIOUS]),
        (K_CURRENT, settings.current_year.wareki, _SETTING_HELP[K_CURRENT]),
        (K_ROUND, settings.round, _SETTING_HELP[K_ROUND]),
        (K_DEADLINE, settings.deadline, _SETTING_HELP[K_DEADLINE]),
        (K_OFFICE, settings.office, _SETTING_HELP[K_OFFICE]),
        (K_OFFICE_CONTACT, settings.office_contact, _SETTING_HELP[K_OFFICE_CONTACT]),
        (K_OFFICE_EMAIL, settings.office_email, _SETTING_HELP[K_OFFICE_EMAIL]),
    ]
    for kind, template in settings.mail.items():
        rows.append(
            (
                f"{kind}メール件名",
                template.subject,
                f"{kind}メールの件名。{{担当課}} {{締切}} {{年度}} {{計画名}} が使えます。",
            )
        )
        rows.append(
            (f"{kind}メール本文", template.body, f"{kind}メールの本文。{{担当者}} {{照会元}} も使えます。")
        )
    rows += [(key, value, "") for key, value in settings.extra.items()]
    _header(
        sheet,
        ["項目", "値", "説明"],
        {"値": "この列だけを変更してください。"},
        {"項目": 22, "値": 60, "説明": 60},
    )
    sheet.auto_filter.ref = None
    _write_rows(sheet, rows, wrap=(2, 3))
    for row_number, (key, _value, _help) in enumerate(rows, start=2):
        if key == K_DEADLINE:
            sheet.cell(row=row_number, column=2).number_format = "yyyy/m/d"


def _write_plan(sheet: Worksheet, plan: Plan) -> None:
    names = PlanColumns(plan.levels)
    columns = names.all()
    notes = {
        names.number: "事業の番号（1以上の整数）。同じ事業を複数の課が別々に報告する場合は、同じ番号の行を続けて入れます。",
        "数値目標": "数値目標（指標）。ない事業は空欄。",
        "単位": "数値目標の単位（人、%、回 など）。回答の数値はこの単位で読みます。単位のない指標は空欄。",
        "現状値": "計画策定時の値（現状値年度の値）。数値は単位付き、または ○ × —。",
        "担当課": "報告する課（集約表に表示する文字どおり）。",
        "回答する課": "回答を記入する課。空欄なら担当課がそのまま回答します。複数の課が1行で共同報告する場合は"
        "各課の名称を「、」区切りで入力します。",
    }
    widths = {names.description: 50, "数値目標": 30, "担当課": 22, "回答する課": 26}
    for depth in range(len(plan.levels) - 1):
        number_col, title_col, subtitle_col = names.node_columns(depth)
        widths[number_col] = 8
        widths[title_col] = 28
        widths[subtitle_col] = 12
    _header(sheet, columns, notes, widths)
    rows = []
    for project in plan.projects:
        heading: list[Any] = []
        for node in plan.ancestors(project):
            heading += [node.number, node.title, node.subtitle]
        for entry in project.entries:
            rows.append(
                [
                    *heading,
                    project.no,
                    project.description,
                    project.indicator,
                    project.unit,
                    project.baseline.to_json(),
                    entry.name,
                    "、".join(entry.members) if entry.members != (entry.name,) else None,
                ]
            )
    _write_rows(sheet, rows, wrap=(columns.index(names.description) + 1,))


def _write_departments(sheet: Worksheet, departments: Sequence[Department]) -> None:
    notes = {
        "別名": "計画シートで使われている別の表記（例: 旧字体・誤記）。「、」区切り。",
        "メールアドレス": "照会メールの宛先。空欄の課にはメールを作りません（ブックは作ります）。",
    }
    _header(sheet, DEPARTMENT_COLUMNS, notes, {"担当課": 22, "別名": 22, "メールアドレス": 32})
    rows = [
        [dep.name, "、".join(dep.aliases) or None, dep.email, dep.contact, dep.phone] for dep in departments
    ]
    _write_rows(sheet, rows)


def _write_history(sheet: Worksheet, plan: Plan) -> None:
    columns = history_columns(plan.levels)
    notes = {
        "内訳の課": "共同報告の各課の分のときだけ課名を入力します。空欄は行全体の値です。",
        "年度": "令和2年度、R2、2020 のいずれでも可。",
    }
    _header(sheet, columns, notes, {"担当課": 22, "内訳の課": 16, "実績内容": 80})
    rows = [
        [
            record.project_no,
            record.entry,
            record.department,
            record.fiscal_year.wareki,
            record.value.to_json(),
            record.narrative,
        ]
        for record in plan.history
    ]
    _write_rows(sheet, rows, wrap=(6,))
