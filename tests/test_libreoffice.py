"""The whole cycle with LibreOffice as every department: what was typed is what is published.

A plan that is not the example (:mod:`tests.plans`: three levels, joint and separate
rows, % 件 人 回 and ○ × — rows, a joint entry whose previous year is kept per
department) is distributed; each department opens its workbook in LibreOffice and
types its answers into the cells (:mod:`tests.office`: LibreOffice parses what is
typed, as on a desk), saves it as .xlsx and returns it. 福祉課 types two mistakes,
gets its 差し戻し票, corrects it in LibreOffice and sends it again. The consolidated
table is then compared, value by value, with what was typed: as LibreOffice displays
the published workbook, in the PDF's text and in the open-data CSV.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.office import Look, Office
from tests.plans import BOSAI, FUKUSHI, GAKUSHU, KOMINKAN, PREVIOUS, SHOBO, mirai_plan
from xlplan.collection.results import CollectResult
from xlplan.collection.run import collect
from xlplan.distribution.run import distribute
from xlplan.form.layout import MARKS
from xlplan.plan.model import Plan
from xlplan.publish.consolidate import ConsolidationResult, consolidate
from xlplan.workspace.folder import Workspace, init_workspace

# What each department types: (project number, department) → (今年度の値, 今年度の実績内容), as
# a person types them — a percentage with its sign, a count with a thousands separator.
TYPED: dict[tuple[int, str], tuple[str, str]] = {
    (1, BOSAI): ("41.2%", "新たに 3 団体の結成を支援した。"),
    (2, BOSAI): ("9", "地区の合同訓練を 9 回実施した。"),
    (2, SHOBO): ("7", "1.5E3"),  # stored 1500 under 0.00E+00, shown 1.50E+03: published so
    (3, BOSAI): ("○", "避難所運営マニュアルに女性の視点を加えた。"),
    (3, FUKUSHI): ("—", "12.345%"),  # stored 0.12345 under 0%, shown 12%
    (4, GAKUSHU): ("1,230", "講座 38 回、延べ 1,230 人が受講した。"),
    (4, KOMINKAN): ("388", "4月1日"),  # LibreOffice stores a date, shown 4月1日: read as it was shown
    (5, FUKUSHI): ("2,004", "電話・窓口の相談を含む。"),
    (6, FUKUSHI): ("33.3", "委員改選で女性委員が 2 人増えた。"),
    (7, KOMINKAN): ("×", "50%"),  # and the number 0.5 under 0%
}
REWRITTEN = {"1.5E3", "12.345%"}
"""Narratives LibreOffice displays otherwise than typed (1.50E+03, 12%)."""
# 福祉課's first return, before its 差し戻し票: a count in the wrong unit, a ratio over 100.
MISTAKES: dict[tuple[int, str], str] = {(5, FUKUSHI): "2,004人", (6, FUKUSHI): "120%"}

VALUE, NARRATIVE = "今年度の値", "今年度の実績内容"


def _number(text: str) -> Decimal:
    return Decimal(re.sub(r"[,%件人回]", "", text))


def expected_value(plan: Plan, project_no: int, typed: list[str]) -> str:
    """What the table must print for an entry whose members typed ``typed``: the same value, shares added."""
    unit = plan.project(project_no).unit or ""
    if all(text in MARKS for text in typed):
        return typed[0] if len(typed) == 1 else min(typed, key=MARKS.index)
    total = sum((_number(text) for text in typed), Decimal(0))
    return f"{total:,}{unit}"


def expected_previous(plan: Plan, project_no: int, entry: str) -> str:
    """The previous-year value the table must print: the entry's record, or its members' shares added."""
    records = [
        r
        for r in plan.history
        if r.project_no == project_no and r.entry == entry and r.fiscal_year == PREVIOUS
    ]
    whole = [r for r in records if r.department is None]
    if whole:
        return whole[0].value.display()
    if len(records) == 1:
        return records[0].value.display()
    unit = plan.project(project_no).unit or ""
    total = sum((r.value.number for r in records if r.value.number is not None), Decimal(0))
    return f"{total:,}{unit}"


# ----------------------------------------------------------------------------------------
# a department at its desk
# ----------------------------------------------------------------------------------------


def _columns(look: Look) -> tuple[int, dict[str, int]]:
    """The header row of the 回答 sheet and the position of each heading, found as a person finds them."""
    cells = look.cells["回答"]
    header = next(index for index, row in enumerate(cells) if row and row[0] == "行ID")
    positions = {}
    for index, heading in enumerate(cells[header]):
        for key in (VALUE, NARRATIVE, "取組番号", "回答する課"):
            if heading.startswith(key):
                positions[key] = index
    return header, positions


def _address(row: int, column: int) -> str:
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def type_answers(
    office: Office, source: Path, target: Path, department: str, answers: Mapping[int, str | tuple[str, str]]
) -> Look:
    """Open ``source`` in LibreOffice, type this department's answers into its rows, save at ``target``."""
    look = office.look(source, read=["回答"])
    header, at = _columns(look)
    typing = []
    for index, row in enumerate(look.cells["回答"][header + 1 :], start=header + 1):
        if not row or row[at["回答する課"]] != department or not row[at["取組番号"]].isdigit():
            continue
        answer = answers.get(int(row[at["取組番号"]]))
        if answer is None:
            continue
        value, narrative = answer if isinstance(answer, tuple) else (answer, None)
        typing.append(("回答", _address(index, at[VALUE]), value))
        if narrative is not None:
            typing.append(("回答", _address(index, at[NARRATIVE]), narrative))
    assert typing, f"{department} found none of its rows in {source.name}"
    return office.fill(source, typing, target, read=["回答"])


# ----------------------------------------------------------------------------------------
# the cycle
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cycle:
    plan: Plan
    workspace: Workspace
    first: CollectResult
    second: CollectResult
    published: ConsolidationResult
    typed: dict[str, Look]  # department → its workbook as LibreOffice showed it after typing
    returns: dict[str, Path]  # department → its first return as LibreOffice saved it
    corrected: Look


@pytest.fixture(scope="module")
def cycle(office: Office, tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    plan = mirai_plan()
    root = tmp_path_factory.mktemp("mirai")
    workspace = init_workspace(root / "ws", plan)
    distributed = distribute(workspace)
    typed, returns = {}, {}
    for dispatch in distributed.departments:
        assert dispatch.workbook is not None
        department = dispatch.department
        answers = {
            no: (MISTAKES.get((no, d), value), text)
            for (no, d), (value, text) in TYPED.items()
            if d == department
        }
        saved = root / "returns" / dispatch.workbook.name  # the department's own copy, as saved
        typed[department] = type_answers(office, dispatch.workbook, saved, department, answers)
        returns[department] = saved
        shutil.copyfile(saved, workspace.inbox / saved.name)  # sent back
    first = collect(workspace)
    feedback = next(item for item in first.feedback if item.department == FUKUSHI)
    corrections = {no: TYPED[(no, d)][0] for (no, d) in MISTAKES}
    corrected = type_answers(
        office, feedback.path, workspace.inbox / feedback.path.name, FUKUSHI, corrections
    )
    second = collect(workspace)
    published = consolidate(workspace, pdf=True, csv=True)
    return Cycle(plan, workspace, first, second, published, typed, returns, corrected)


def _members(plan: Plan, project_no: int, entry: str) -> list[str]:
    return list(plan.project(project_no).entry(entry).members)


def _published_rows(
    plan: Plan, sheets: Mapping[str, list[list[str]]]
) -> dict[tuple[int, str], dict[str, str]]:
    """(project, entry) → the cells of its row in the table as displayed, by heading."""
    found: dict[tuple[int, str], dict[str, str]] = {}
    level = plan.levels[-1]
    for name, cells in sheets.items():
        if name == "推移":  # the trend charts' sheet, not a section of the table
            continue
        header = next(i for i, row in enumerate(cells) if "担当課" in row)
        heading = cells[header]
        at = {
            "number": 0,
            "description": heading.index(level),
            "entry": heading.index("担当課"),
            "baseline": heading.index("現状値"),
            "previous": heading.index("実績値"),
            "current": heading.index("①実績値"),
            "narrative": next(i for i, text in enumerate(heading) if text.startswith("②")),
        }
        project = None
        for row in cells[header + 2 :]:
            described = next(
                (p for p in plan.projects if row[at["description"]].startswith(p.description)), None
            )
            if described is not None:
                project = described
                assert row[at["number"]] == str(project.no), row
            elif not row[at["entry"]]:
                project = None  # a heading row of a level
                continue
            assert project is not None, row
            found[(project.no, row[at["entry"]])] = {key: row[index] for key, index in at.items()}
    return found


def _shown(cycle: Cycle, department: str, text: str) -> str:
    """What the department's cell showed after ``text`` was typed into it (LibreOffice's own display)."""
    return next(item.shown for item in cycle.typed[department].typed if item.typed == text)


def _expected(cycle: Cycle) -> dict[tuple[int, str], dict[str, str]]:
    """Every entry's row as it must be published, derived from what the departments typed."""
    plan = cycle.plan
    rows = {}
    for project in plan.projects:
        for entry in project.entries:
            typed = [TYPED[(project.no, member)] for member in entry.members]
            rows[(project.no, entry.name)] = {
                "current": expected_value(plan, project.no, [value for value, _ in typed]),
                "previous": expected_previous(plan, project.no, entry.name),
                "narratives": [
                    _shown(cycle, member, text)
                    for member, (_, text) in zip(entry.members, typed, strict=True)
                ],
            }
    return rows


def test_every_department_typed_in_libreoffice_and_saw_what_it_typed(cycle: Cycle) -> None:
    plan = cycle.plan
    looked = [*(item for look in cycle.typed.values() for item in look.typed), *cycle.corrected.typed]
    values = [item for item in looked if item.typed not in {text for _, text in TYPED.values()}]
    assert len(values) == len(TYPED) + len(MISTAKES)
    for item in looked:
        assert not item.refused, item
    for item in (item for item in looked if item not in values):
        # A narrative shows as typed (4月1日, not 2021/04/01), but for the two a format rounds or
        # writes another way (what the table must then publish is what was shown, see _expected).
        assert (item.shown == item.typed) == (item.typed not in REWRITTEN), item
    for item in values:
        # What the cell showed after Enter: the text as typed ("41.2%" stays 41.2%, never 0.412%),
        # or a count with the unit its format adds (1,230 → 1,230人).
        units = {p.unit for p in plan.projects if p.unit}
        assert item.shown == item.typed or (item.shown[:-1] == item.typed and item.shown[-1] in units), item


def test_the_mistakes_were_sent_back_and_the_correction_accepted(cycle: Cycle) -> None:
    first = {item.department: item for item in cycle.first.files}
    assert first[FUKUSHI].outcome == "invalid"
    assert sorted(f.code for f in first[FUKUSHI].findings if f.is_error) == [
        "value-out-of-range",
        "value-unit-mismatch",
    ]
    assert all(item.outcome == "accepted" for name, item in first.items() if name != FUKUSHI)
    assert [(item.department, item.outcome) for item in cycle.second.files] == [(FUKUSHI, "accepted")]
    assert cycle.second.findings == []
    assert cycle.published.findings == ()


def test_the_published_workbook_as_libreoffice_displays_it_holds_what_was_typed(
    cycle: Cycle, office: Office
) -> None:
    sheets = list(office.look(cycle.published.xlsx).visibility)
    published = _published_rows(cycle.plan, office.look(cycle.published.xlsx, read=sheets).cells)
    expected = _expected(cycle)
    assert set(published) == set(expected)
    for key, want in expected.items():
        row = published[key]
        assert (row["current"], row["previous"]) == (want["current"], want["previous"]), (key, row)
        for narrative in want["narratives"]:
            assert narrative in row["narrative"], (key, row)
    assert published[(1, BOSAI)]["current"] == "41.2%"  # typed with its sign
    assert published[(2, f"{BOSAI} {SHOBO}")]["previous"] == "14回"  # 8回 + 6回, kept per department


def test_the_pdf_text_holds_what_was_typed(cycle: Cycle) -> None:
    assert cycle.published.pdf is not None
    text = subprocess.run(
        ["pdftotext", "-layout", str(cycle.published.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = text.splitlines()
    for (no, entry), want in _expected(cycle).items():
        # The entry's line shows its previous and this year's value side by side, after its name.
        pattern = re.compile(
            rf"{re.escape(entry)}\s+(?:\S+\s+)?{re.escape(want['previous'])}\s+{re.escape(want['current'])}(?:\s|$)"
        )
        assert any(pattern.search(line) for line in lines), (no, entry, want)
        for narrative in want["narratives"]:
            assert narrative in text, narrative
    assert "0.412" not in text


def test_the_open_data_csv_holds_what_was_typed(cycle: Cycle) -> None:
    assert cycle.published.csv is not None
    with cycle.published.csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    number = f"{cycle.plan.levels[-1]}番号"

    def shown(row: dict[str, str], year: str) -> str:
        if row[f"{year}_記号"]:
            return row[f"{year}_記号"]
        return f"{Decimal(row[f'{year}_数値']):,}{row[f'{year}_単位']}"

    published = {(int(row[number]), row["担当課"]): row for row in rows}
    expected = _expected(cycle)
    assert set(published) == set(expected)
    for key, want in expected.items():
        row = published[key]
        assert (shown(row, "今年度"), shown(row, "前年度")) == (want["current"], want["previous"]), (key, row)
        for narrative in want["narratives"]:
            assert narrative in row["今年度_実績内容"]
    assert published[(1, BOSAI)]["今年度_数値"] == "41.2"


def test_a_grey_cell_refuses_what_is_typed_in_libreoffice(
    cycle: Cycle, office: Office, tmp_path: Path
) -> None:
    workbook = next(path for path in (cycle.workspace.outbox).rglob("*.xlsx") if path.stem.endswith(BOSAI))
    look = office.look(workbook, read=["回答"])
    header, at = _columns(look)
    description = _address(header + 1, at["取組番号"] + 1)
    typed = office.fill(workbook, [("回答", description, "書き換え")], tmp_path / "changed.xlsx").typed
    assert typed[0].refused
    assert typed[0].shown == look.cells["回答"][header + 1][at["取組番号"] + 1]


def test_what_a_libreoffice_save_keeps(cycle: Cycle) -> None:
    """docs/distribute.md says what survives a LibreOffice save; this holds it to that."""
    issued = next(path for path in cycle.workspace.outbox.rglob("*.xlsx") if path.stem.endswith(BOSAI))
    before, after = openpyxl.load_workbook(issued), openpyxl.load_workbook(cycle.returns[BOSAI])
    # Kept: sheet protection, the yellow cells' input rules and hints, their number formats.
    assert [(s.title, s.protection.sheet) for s in after] == [(s.title, s.protection.sheet) for s in before]
    rules = [
        (str(v.sqref), v.type, v.promptTitle, v.prompt)
        for v in before["回答"].data_validations.dataValidation
    ]
    assert [
        (str(v.sqref), v.type, v.promptTitle, v.prompt) for v in after["回答"].data_validations.dataValidation
    ] == rules
    # Not kept: the manifest sheet is hidden, no longer very hidden; the workbook structure is unprotected.
    assert (before["_xlplan"].sheet_state, after["_xlplan"].sheet_state) == ("veryHidden", "hidden")
    assert before.security is not None and before.security.lockStructure
    assert after.security is None or not after.security.lockStructure
    # What matters still holds: the signature identified every LibreOffice-saved return.
    assert {item.department for item in cycle.first.files} == set(cycle.returns)


# ----------------------------------------------------------------------------------------
# the department's sheets on screen and on paper, as LibreOffice shows and prints them
# ----------------------------------------------------------------------------------------

TOLERANCE_MM = 0.5  # rounding between points and LibreOffice's 1/100 mm


def _issued(cycle: Cycle, department: str) -> Path:
    return next(path for path in cycle.workspace.outbox.rglob("*.xlsx") if path.stem.endswith(department))


def test_every_wrapped_cell_has_the_height_to_show_it_whole(cycle: Cycle, office: Office) -> None:
    short = []
    for department in (BOSAI, FUKUSHI):
        look = office.look(_issued(cycle, department), heights=["記入方法", "回答"])
        assert set(look.heights) == {"記入方法", "回答"}
        for sheet, rows in look.heights.items():
            short += [
                (department, sheet, row, stored, needed)
                for row, stored, needed in rows
                if stored + TOLERANCE_MM < needed
            ]
    assert short == []


def _pages(pdf: Path) -> list[list[tuple[str, float]]]:
    """Each page's words with their heights in points, from poppler's bounding boxes."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = []
    for page in html.split("<page ")[1:]:
        words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', page)
        pages.append([(text, float(bottom) - float(top)) for top, bottom, text in words])
    return pages


def test_the_department_workbook_prints_legibly_on_a4(cycle: Cycle, office: Office, tmp_path: Path) -> None:
    pdf = tmp_path / "printed.pdf"
    office.look(_issued(cycle, BOSAI), pdf=pdf)
    pages = [page for page in _pages(pdf) if not any(text.startswith("記入方法") for text, _ in page)]
    assert len(pages) >= 2 and len(pages) % 2 == 0, len(pages)
    sent, answers = pages[0::2], pages[1::2]
    for page in sent:  # what was sent, from the number to the previous year's value
        words = "".join(text for text, _ in page)
        assert (
            "取組番号" in words
            and "数値目標" in words
            and "前年度の値" in words
            and "今年度の値" not in words
        )
    for page in answers:  # the answers, with the number and description repeated
        words = "".join(text for text, _ in page)
        assert "取組番号" in words and "今年度の実績内容" in words and "数値目標" not in words
    # Body text at 8 pt or more: a 10 pt line at the print scale; bounding boxes are about 1.3 em high.
    heights = sorted(height for page in pages for _, height in page)
    assert heights[len(heights) // 2] >= 8 * 1.2, heights[len(heights) // 2]
    for project in cycle.plan.projects:
        if BOSAI in {m for e in project.entries for m in e.members}:
            assert any(project.description[:10] in "".join(t for t, _ in page) for page in answers), (
                project.no
            )
