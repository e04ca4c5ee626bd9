"""Reading a consolidated table (事業実績一覧) back into a plan and its history: ``xlplan init --from``.

Most cities start with the table they published last year. It is read by its words and its
shape, never by its styles (fonts, fills and widths differ from city to city):

* **the header**: the row that has 担当課 and 現状値; the columns left of 担当課 are the levels
  between the top and the projects (the last of them also holds the project numbers, or a
  番号 column where there is no such level) and the projects' level (事業: description and
  「【数値目標】」 line); right of 担当課 come 現状値, one or more 実績値 columns and the
  narrative (②…実績). The row below names the years of the value columns (27年度, 令和元年度 …).
* **above it**: the title (first row), the document label (its last cell), the top level's
  heading (``基本目標Ⅰ 男女共同参画社会の実現…`` — its name is what the headings of all sheets
  share before their numbers; a trailing 【…】 is its subtitle), ``体系一覧（計画名）`` and the slogan.
  A table with all top-level sections on one sheet repeats these above each section.
* **the body**: a heading row of a middle level has text in one level column only
  (``(1) 男女平等の意識啓発``: number, then title); a project row has its number and its
  description; a row below with only 担当課 and values is another department of the same
  project (reported separately). A 担当課 cell of several department names is a joint entry.
* **values** are read as they are displayed: a number with the format ``#,##0"人"`` is 172人,
  ``0.0%`` of 0.016 is 1.6%; marks ○ × — are text.

The plan made is the one for the year after the table — the cycle a city runs next: the table's
current year becomes the previous year, and every year the table shows enters the history. What
cannot be read is a finding naming the sheet and cell, and nothing is guessed silently: a table
with errors makes no master.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

from xlplan.adoption import names
from xlplan.adoption.cells import cell_at as _cell
from xlplan.adoption.cells import text_of as _text
from xlplan.adoption.header import (
    Header,
    Reader,
    baseline_year_of,
    find_headers,
    looks_like_a_section,
    read_header,
    table_years,
    year_texts,
)
from xlplan.adoption.targets import Target, read_targets
from xlplan.collection.cells import displayed
from xlplan.errors import ConfigurationError
from xlplan.findings import Finding
from xlplan.form import layout
from xlplan.plan.blank import DEFAULT_MAIL, INDICATOR_PLACEHOLDER, advance_text
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.grading import direction_of
from xlplan.plan.model import Entry, HistoryRecord, Node, Plan, Project, Settings
from xlplan.plan.values import BLANK, Value, parse_value
from xlplan.workspace.master.format import PAST_YEARS_MAX
from xlplan.xlsx.cells import a1

INDICATOR = "【数値目標】"
PLAN_LINE = re.compile(r"体系一覧[（(](.+)[）)]\s*$")
NUMBER = r"(?:[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ]+|[0-9０-９]+(?:[-‐－―][0-9０-９]+)*|[(（][0-9０-９]+[)）]|[①-⑳]|[A-Za-z])"
HEADING = re.compile(rf"^\s*({NUMBER})[\s　]+(.+?)\s*$", re.S)
SUBTITLE = re.compile(r"^(.*?)[\s　]*(【[^【】]+】)$", re.S)


@dataclass
class _Sheet:
    """What one section of the table says about itself."""

    name: str
    title: str | None = None
    label: str | None = None
    goal: str | None = None  # 基本目標Ⅰ 男女共同参画社会の実現に向けた意識づくり
    plan_name: str | None = None
    slogan: str | None = None


def plan_from_table(path: Path, *, name: str | None = None) -> tuple[Plan, list[Finding]]:
    """The plan for the year after the table at ``path``, with the history of every year it shows.

    Returns the plan and warnings (department names that look like spellings of one another).

    Raises:
        ConfigurationError: the file is not such a table, or cells of it cannot be read; the
            findings name every sheet and cell.
    """
    reader = Reader(path.name)
    if not path.is_file():  # a misspelt name, or a folder: "re-save it in Excel" would not help
        raise ConfigurationError([Finding("file-not-found", {"path": str(path)}, file=path.name)])
    try:
        with warnings.catch_warnings():  # openpyxl's remarks on foreign files are not for the office
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, data_only=True, read_only=True)
            try:
                sheets = [(ws.title, [list(row) for row in ws.iter_rows()]) for ws in workbook.worksheets]
            finally:
                workbook.close()
    except Exception as exc:  # not a workbook openpyxl can read: say so in Japanese, keep its words aside
        raise ConfigurationError(
            [
                Finding(
                    "table-unreadable",
                    {"path": str(path), "detail": f"{type(exc).__name__}: {exc}"[:300]},
                    file=path.name,
                )
            ]
        ) from exc
    if any(title == layout.MANIFEST_SHEET for title, _ in sheets):
        # A department's 回答用ブック (it carries xlplan's manifest): it has one department's rows only.
        raise ConfigurationError([Finding("table-department-workbook", {"path": str(path)}, file=path.name)])
    return _build(reader, sheets, name)


# ----------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------


def _split_number(text: str) -> tuple[str, str] | None:
    match = HEADING.match(text)
    return (match.group(1), match.group(2)) if match else None


def _value(cell: Any) -> str | None:
    """A value cell as displayed (``172人``, ``1.6%``, ``○``); None when empty."""
    value = getattr(cell, "value", cell)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = displayed(value, getattr(cell, "number_format", None) or None, printed=True)
        if shown is not None:
            return shown
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return format(number.normalize(), "f") if number != number.to_integral_value() else str(int(number))
    return str(value).strip()


def _unit_of(texts: Iterable[str | None]) -> str | None:
    """The unit the project's values are printed with (``人``, ``%``), or None for numbers without one."""
    for text in texts:
        if not text:
            continue
        match = re.fullmatch(r"\s*[-+]?[0-9０-９,，.．]+\s*(.*?)\s*", text)
        if match and match.group(1):
            return unicodedata.normalize("NFKC", match.group(1)) if match.group(1) == "％" else match.group(1)
    return None


@dataclass
class _Row:
    sheet: str
    project: int
    entry: str
    values: list[tuple[str | None, str]]  # (display, cell) per year column, baseline first
    narrative: str | None


def _build(
    reader: Reader, sheets: list[tuple[str, list[list[Any]]]], name: str | None
) -> tuple[Plan, list[Finding]]:
    sections: list[tuple[_Sheet, Header, list[list[Any]]]] = []
    for sheet_name, rows in sheets:
        headers = find_headers(rows)
        start = 0
        for position, index in enumerate(headers):
            header = read_header(reader, sheet_name, rows, index)
            if header is None:
                continue
            end = len(rows)
            if position + 1 < len(headers):
                # Several sections on one sheet: this body ends with its last department row; the
                # rows after it, up to the next header, are the next section's title block.
                end = next((i + 1 for i in range(headers[position + 1] - 1, index + 1, -1)
                            if _text(_cell(rows[i], header.department))), index + 2)  # fmt: skip
            sections.append(
                (_above(sheet_name, rows[start:index], continued=position > 0), header, rows[index + 2 : end])
            )
            start = end
    if not sections:
        raise ConfigurationError([Finding("table-not-a-table", {"file": reader.file}, file=reader.file)])
    read = {section.name for section, _, _ in sections}
    for sheet_name, rows in sheets:
        # A sheet of the table whose header was edited (担当部署 for 担当課) would lose its projects in
        # silence; xlplan's own 推移 sheet, a cover or a note is passed over on purpose.
        if sheet_name not in read and sheet_name != "推移" and looks_like_a_section(rows):
            reader.fail("table-sheet-unread", sheet=sheet_name)
    header0 = sections[0][1]
    years = table_years(reader, sections[0][0].name, header0, sections[0][2])
    nodes: list[Node] = []
    projects: dict[int, dict[str, Any]] = {}
    rows_read: list[_Row] = []
    top_names = _top_level_name([section.goal for section, _, _ in sections])
    for section, header, body in sections:
        # The same levels and the same years on every sheet: 政策2 saying 令和9年度 where 政策1 says 令和8年度
        # would record its values under the wrong year.
        if (header.levels, header.leaf) != (header0.levels, header0.leaf) or year_texts(header) != year_texts(
            header0
        ):
            reader.fail("table-header-differs", sheet=section.name, cell=a1(header.row, 1))
            continue
        top_key: tuple[str, ...] = ()
        if section.goal is not None and top_names is not None:
            number, title, subtitle = _goal_parts(section.goal, top_names)
            if number is None:
                reader.fail("table-bad-heading", sheet=section.name, cell="A2", text=section.goal)
                continue
            top_key = (number,)
            nodes.append(Node(top_key, title, subtitle))
        _body(reader, section.name, header, body, top_key, nodes, projects, rows_read)
    # Values are read even when some rows are not, so that one run names every cell to mend.
    first = sections[0][0]
    levels = tuple([*([top_names] if top_names else []), *header0.levels, header0.leaf])
    baseline = baseline_year_of(reader, first.name, header0, years)
    targets = read_targets(sheets, reader.fail)
    return _plan(reader, first, levels, years, baseline, nodes, projects, rows_read, name, targets)


def _above(sheet: str, rows: list[list[Any]], *, continued: bool = False) -> _Sheet:
    """The title block above a header. A later section of a sheet may print only its own heading
    (``政策2 子育てしやすいまち``) rather than the whole block again."""
    found = _Sheet(sheet)
    lines = [texts for texts in ([t for t in (_text(cell) for cell in row) if t] for row in rows) if texts]
    if continued and len(lines) == 1 and not PLAN_LINE.match(lines[0][0]):
        found.goal = lines[0][0]
        return found
    for texts in lines:
        plan_line = next((PLAN_LINE.match(t) for t in texts if PLAN_LINE.match(t)), None)
        if plan_line:
            found.plan_name = plan_line.group(1)
            found.slogan = next((t for t in texts[1:] if not PLAN_LINE.match(t)), None)
        elif found.title is None:
            found.title = texts[0]
            found.label = texts[-1] if len(texts) > 1 else None
        elif found.goal is None:
            found.goal = texts[0]
    return found


def _top_level_name(goals: Sequence[str | None]) -> str | None:
    """The top level's name: what every section's heading says before its number (基本目標)."""
    known = [goal for goal in goals if goal]
    if not known:
        return None
    common = known[0]
    for goal in known[1:]:
        while not goal.startswith(common):
            common = common[:-1]
    if len(known) == 1:
        match = re.match(rf"^(.+?){NUMBER}[\s　]", known[0])
        common = match.group(1) if match else ""
    common = re.sub(rf"{NUMBER}*$", "", common).rstrip()
    return common or None


def _goal_parts(goal: str, name: str) -> tuple[str | None, str, str | None]:
    rest = goal[len(name) :].strip() if goal.startswith(name) else goal
    split = _split_number(rest)
    if split is None:
        return None, rest, None
    number, title = split
    match = SUBTITLE.match(title)
    if match and match.group(1):
        return number, match.group(1), match.group(2)
    return number, title, None


def _body(
    reader: Reader,
    sheet: str,
    header: Header,
    body: list[list[Any]],
    top: tuple[str, ...],
    nodes: list[Node],
    projects: dict[int, dict[str, Any]],
    rows_read: list[_Row],
) -> None:
    path: list[str] = list(top)
    current: int | None = None
    skipping = False  # the rows below a project that could not be read belong to it: no more findings
    value_columns = [header.baseline, *(column for column, _ in header.years)]
    for offset, row in enumerate(body):
        number_row = header.row + 2 + offset
        width = max([*value_columns, header.narrative or 0, header.department]) + 1
        cells = [*row, *([None] * (width - len(row)))]
        texts = [_text(cell) for cell in cells]
        if not any(texts):
            continue
        department = texts[header.department]
        if department is not None:
            # Joint departments printed one per line in the cell are the same entry as with spaces.
            department = " ".join(department.split())
        level_texts = [(i, texts[i]) for i in range(header.description + 1) if texts[i]]
        if department is None:
            # A heading row of a middle level: text in one level column (merged across the row).
            if len(level_texts) != 1 or not header.levels:
                reader.fail("table-row-unread", sheet=sheet, cell=a1(number_row, 1))
                continue
            column, text = level_texts[0]
            split = _split_number(text or "")
            depth = min(column, len(header.levels) - 1) + 1  # 1 for the first middle level
            if split is None:
                reader.fail("table-bad-heading", sheet=sheet, cell=a1(number_row, column + 1), text=text)
                continue
            number, title = split
            match = SUBTITLE.match(title)
            subtitle = match.group(2) if match and match.group(1) else None
            title = match.group(1) if subtitle and match else title
            path = [*path[: len(top) + depth - 1], number]
            nodes.append(Node(tuple(path), title, subtitle))
            current, skipping = None, False
            continue
        raw_no = texts[header.number] if header.number != header.description else None
        description = texts[header.description]
        if raw_no is not None and description is not None:
            no = _project_number(raw_no)
            if no is None:
                reader.fail(
                    "table-bad-number", sheet=sheet, cell=a1(number_row, header.number + 1), value=raw_no
                )
                current, skipping = None, True
                continue
            if no in projects:
                reader.fail(
                    "table-duplicate-project", sheet=sheet, cell=a1(number_row, header.number + 1), no=no
                )
                current, skipping = None, True
                continue
            text, indicator = description, None
            if INDICATOR in description:
                text, _, indicator = description.partition(INDICATOR)
                text, indicator = text.rstrip(), indicator.strip() or None
            baseline = _value(cells[header.baseline])
            projects[no] = {"node": tuple(path), "description": text, "indicator": indicator,
                            "baseline": baseline, "baseline_cell": a1(number_row, header.baseline + 1),
                            "entries": [], "cell": a1(number_row, header.number + 1), "sheet": sheet}  # fmt: skip
            current, skipping = no, False
        elif raw_no is None and description is None and current is None and skipping:
            continue
        elif raw_no is None and description is None and current is None:
            reader.fail("table-row-unread", sheet=sheet, cell=a1(number_row, header.department + 1))
            continue
        elif raw_no is not None or description is not None:
            reader.fail("table-row-unread", sheet=sheet, cell=a1(number_row, 1))
            continue
        assert current is not None
        projects[current]["entries"].append(department)
        values = []
        for column in (column for column, _ in header.years):
            values.append((_value(cells[column]), a1(number_row, column + 1)))
        narrative = texts[header.narrative] if header.narrative is not None else None
        rows_read.append(
            _Row(
                sheet,
                current,
                department,
                values,
                _narrative(cells[header.narrative]) if header.narrative is not None else narrative,
            )
        )


def _narrative(cell: Any) -> str | None:
    value = getattr(cell, "value", cell)
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return text if text.strip() else None


def _project_number(text: str) -> int | None:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if re.fullmatch(r"[0-9]+(\.0+)?", cleaned):
        number = int(float(cleaned))
        return number if number > 0 else None
    return None


def _plan(
    reader: Reader,
    first: _Sheet,
    levels: tuple[str, ...],
    years: list[FiscalYear],
    baseline: tuple[FiscalYear, str | None],
    nodes: list[Node],
    projects: dict[int, dict[str, Any]],
    rows_read: list[_Row],
    name: str | None,
    targets: dict[int, Target],
) -> tuple[Plan, list[Finding]]:
    table_year = years[-1]
    baseline_year, baseline_label = baseline
    built: list[Project] = []
    history: list[HistoryRecord] = []
    departments: dict[str, None] = {}
    by_project: dict[int, list[_Row]] = {}
    noticed_here: list[Finding] = []
    for row in rows_read:
        by_project.setdefault(row.project, []).append(row)
    for no, fields in projects.items():
        rows = by_project.get(no, [])
        unit = _unit_of([fields["baseline"], *(shown for row in rows for shown, _ in row.values)])
        base = _parse(reader, fields["baseline"], unit, fields["sheet"], fields["baseline_cell"])
        entries = []
        for row in rows:
            members = names.members(row.entry)
            departments.update(dict.fromkeys(members))
            entries.append(Entry(row.entry, members))
            for (shown, cell), year in zip(row.values, years, strict=True):
                value = _parse(reader, shown, unit, row.sheet, cell)
                narrative = row.narrative if year == table_year else None
                if value.is_blank and narrative is None:
                    continue
                history.append(HistoryRecord(no, row.entry, year, value, narrative))
        indicator = fields["indicator"]
        if unit and not indicator:
            # Values with a unit but no 【数値目標】 in the description: a placeholder keeps the project
            # numeric (without one the form would ask ○×—), and the office is told to name it.
            indicator = INDICATOR_PLACEHOLDER
            noticed_here.append(Finding("table-no-indicator", {"no": no, "unit": unit}, file=reader.file,
                                        sheet=fields["sheet"], cell=fields["cell"]))  # fmt: skip
        project = Project(no, fields["node"], fields["description"], indicator, unit, base, tuple(entries))
        if no in targets and indicator:
            number, target_year, direction = targets[no]
            target = Value(number, unit)
            # Only a direction other than the one the target implies was the master's own.
            direction = direction if direction != direction_of(base, target) else None
            project = replace(project, target=target, target_year=target_year, direction=direction)
        built.append(project)
    if any(f.is_error for f in reader.findings):
        raise ConfigurationError(reader.findings)
    registry, _, noticed = names.registry(departments, reader.file)
    plan_name = name or first.plan_name or _name_in_title(first.title) or "（計画名を入力してください）"
    title = advance_text(first.title or plan_name, table_year)
    settings = Settings(
        plan_name=plan_name,
        title=title,
        levels=levels,
        baseline_year=baseline_year,
        previous_year=table_year,
        current_year=table_year.next(),
        document_label=first.label,
        slogan=first.slogan,
        baseline_label=baseline_label,
        past_years=min(max(len(years) - 1, 1), PAST_YEARS_MAX),  # as many past years as the table shows
        mail=dict(DEFAULT_MAIL),
    )
    plan = Plan(
        settings,
        tuple(_unique(nodes)),
        tuple(built),
        tuple(registry),
        tuple(history),
    )
    return plan, [*noticed, *noticed_here]


def _name_in_title(title: str | None) -> str | None:
    """The plan's name in a title such as ``みらい市総合計画 令和2年度 事業実績一覧``."""
    if title is None:
        return None
    name = re.sub(
        r"[\s　]*(?:(?:令和|平成)\S*?年度|[RH]\d+年度)?[\s　]*[^\s　]*実績一覧.*$", "", title, flags=re.S
    )
    return name.strip() or title


def _parse(reader: Reader, shown: str | None, unit: str | None, sheet: str, cell: str) -> Value:
    if shown is None:
        return BLANK
    parsed = parse_value(shown, unit, unit_known=True)
    if parsed.value is None or not parsed.ok:
        reader.fail("table-bad-value", sheet=sheet, cell=cell, value=shown)
        return BLANK
    return parsed.value


def _unique(nodes: list[Node]) -> list[Node]:
    seen: dict[tuple[str, ...], Node] = {}
    for node in nodes:
        seen.setdefault(node.key, node)
    return list(seen.values())
