"""``xlplan init --from``: a master from the consolidated table a city already has.

The table xlplan publishes reads back into the plan it came from, and a table of another city's
making — other fonts, no fills, other widths, three levels, on one sheet or on several — is read
by its words and its shape. What cannot be read is named cell by cell, and nothing is written.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

import xlplan
from tests.conftest import fill_and_collect
from tests.plans import mirai_plan
from xlplan.cli import main
from xlplan.examples import Example
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.values import Value
from xlplan.workspace.folder import Workspace, init_workspace

CORPUS = Path(__file__).parent / "data" / "corpus"


# ----------------------------------------------------------------------------------------
# the table xlplan writes
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundTrip:
    table: Path  # the demo's 令和2年度 事業実績一覧, as published
    rolled: dict[str, Any]  # plan show --json of the demo's workspace rolled over to 令和3年度
    imported: dict[str, Any]  # plan show --json of the master made from the table
    stderr: str


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """A plan document without what a table cannot print: each joint department's own share of a
    value (the table prints the entry's), and the departments' mail addresses, contacts and order."""
    projects = [
        {
            **project,
            "entries": [
                {
                    **entry,
                    "values": {
                        year: {key: shown for key, shown in value.items() if key != "shares"}
                        for year, value in entry["values"].items()
                    },
                }
                for entry in project["entries"]
            ],
        }
        for project in document["projects"]
    ]
    departments = sorted((d["name"], tuple(sorted(d["aliases"]))) for d in document["departments"])
    return {**document, "projects": projects, "departments": departments}


def _shown(root: Path) -> dict[str, Any]:
    """What the office sees of a workspace's plan: ``xlplan plan show --json``."""
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        assert main(["plan", "show", "-w", str(root), "--json"]) == 0
    document: dict[str, Any] = json.loads(shown.getvalue())
    return document


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory, example: Example) -> RoundTrip:
    base = tmp_path_factory.mktemp("roundtrip")
    workspace = init_workspace(base / "demo", example.plan)
    fill_and_collect(workspace, example)
    published = xlplan.consolidate(workspace)
    table = base / published.xlsx.name
    shutil.copy2(published.xlsx, table)
    xlplan.rollover(workspace)
    rolled = _shown(workspace.root)
    # A module-wide fixture cannot use capsys: the command's streams are caught by hand.
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(base / "imported"), "--from", str(table)]) == 0
    imported = _shown(base / "imported")
    return RoundTrip(table, rolled, imported, err.getvalue())


def test_the_published_table_reads_back_into_the_plan_it_came_from(round_trip: RoundTrip) -> None:
    imported, rolled = _comparable(round_trip.imported), _comparable(round_trip.rolled)
    assert (
        imported["counts"]
        == rolled["counts"]
        == {
            **rolled["counts"],
            "projects": 69,
            "entries": 86,
        }
    )
    # Every heading, description, indicator, unit, entry, baseline, yearly value and narrative.
    for got, want in zip(imported["projects"], rolled["projects"], strict=True):
        assert got == want, want["no"]
    assert imported == rolled


def test_the_round_trip_keeps_the_years_and_the_words_above_the_table(round_trip: RoundTrip) -> None:
    imported = round_trip.imported
    assert imported["fiscal_years"] == {
        "baseline": {"wareki": "平成27年度", "western": 2015},
        "previous": {"wareki": "令和2年度", "western": 2020},
        "current": {"wareki": "令和3年度", "western": 2021},
    }
    assert imported["title"].endswith("（R3）") and imported["plan_name"] == round_trip.rolled["plan_name"]
    # A narrative keeps its line breaks.
    first = imported["projects"][0]["entries"][0]["values"]["令和2年度"]["narrative"]
    assert first.count("\n") >= 2 and first.startswith("【企画政策課】")


def test_a_variant_spelling_of_a_department_is_unified_and_said(round_trip: RoundTrip) -> None:
    departments = {d["name"]: d["aliases"] for d in round_trip.imported["departments"]}
    assert "人権・同和对策室" not in departments
    assert "人権・同和对策室" in departments["人権・同和対策室"]
    assert "人権・同和对策室" in round_trip.stderr and "人権・同和対策室" in round_trip.stderr


def test_targets_come_back_from_the_tables_trend_sheet(tmp_path: Path, example: Example) -> None:
    """目標値, 目標年度 and a 方向 set in the master are printed on the 推移 sheet and read back by
    init --from: the imported plan's targets are the rolled-over workspace's (plan show --json)."""
    targets = {
        1: (Value(Decimal(250), "人"), FiscalYear(2025), None),
        17: (Value(Decimal("3.5"), "%"), FiscalYear(2024), None),
        20: (Value(Decimal(6), None), None, "維持"),  # not the 減少 that 8 → 6 implies: the master's own
    }
    projects = tuple(
        dataclasses.replace(
            p, target=targets[p.no][0], target_year=targets[p.no][1], direction=targets[p.no][2]
        )
        if p.no in targets
        else p
        for p in example.plan.projects
    )
    workspace = init_workspace(tmp_path / "ws", dataclasses.replace(example.plan, projects=projects))
    fill_and_collect(workspace, example)
    table = tmp_path / "table.xlsx"
    shutil.copy2(xlplan.consolidate(workspace).xlsx, table)
    xlplan.rollover(workspace)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["init", str(tmp_path / "imported"), "--from", str(table)]) == 0

    def targets_of(document: dict[str, Any]) -> dict[int, dict[str, Any]]:
        keys = ("target", "target_year", "direction")
        return {p["no"]: {k: p[k] for k in keys if k in p} for p in document["projects"] if "target" in p}

    rolled, imported = targets_of(_shown(workspace.root)), targets_of(_shown(tmp_path / "imported"))
    assert imported == rolled and sorted(rolled) == [1, 17, 20]
    assert rolled[1] == {"target": "250人", "target_year": {"wareki": "令和7年度", "western": 2025}}
    assert rolled[20] == {"target": "6", "direction": "維持"}

    # A 目標年度 nobody can read is named by its cell, and no master is made.
    book = openpyxl.load_workbook(table)
    sheet = book["推移"]
    header = [cell.value for cell in sheet[3]]
    column = header.index("目標年度") + 1
    row = next(r for r in range(4, sheet.max_row + 1) if sheet.cell(r, 1).value == 1)
    sheet.cell(row, column).value = "いつか"
    book.save(table)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        assert main(["init", str(tmp_path / "refused"), "--from", str(table)]) == 2
    assert not (tmp_path / "refused").exists()
    assert f"{openpyxl.utils.get_column_letter(column)}{row}" in err.getvalue() and "いつか" in err.getvalue()


def test_a_three_level_table_of_xlplans_own_reads_back(tmp_path: Path) -> None:
    """みらい市's plan (政策 › 施策 › 取組, a joint entry kept per department, separate rows, marks):
    what the table prints comes back — the hierarchy, every project and entry, the baseline and the
    previous year's value as printed (a joint entry's shares as their sum)."""
    workspace = init_workspace(tmp_path / "mirai", mirai_plan())
    published = xlplan.consolidate(workspace, csv=True)
    assert published.csv is not None
    with published.csv.open(encoding="utf-8-sig", newline="") as handle:
        printed = {(row["取組番号"], row["担当課"]): row for row in csv.DictReader(handle)}
    assert main(["init", str(tmp_path / "imported"), "--from", str(published.xlsx)]) == 0
    original = workspace.load_plan().to_dict()
    imported = Workspace(tmp_path / "imported").load_plan().to_dict()

    assert imported["levels"] == original["levels"] == ["政策", "施策", "取組"]
    assert imported["nodes"] == original["nodes"]
    fields = ("no", "path", "description", "indicator", "unit", "baseline")
    by_no = {p["no"]: p for p in original["projects"]}
    assert sorted(by_no) == sorted(p["no"] for p in imported["projects"])
    previous = original["fiscal_years"]["previous"]["wareki"]
    for project in imported["projects"]:
        want = by_no[project["no"]]
        assert [project[f] for f in fields] == [want[f] for f in fields]
        assert [e["name"] for e in project["entries"]] == [e["name"] for e in want["entries"]]
        for entry in project["entries"]:
            row = printed[(str(project["no"]), entry["name"])]
            shown = row["前年度_記号"] or (
                f"{Decimal(row['前年度_数値']):,}{row['前年度_単位']}" if row["前年度_数値"] else None
            )
            assert entry["values"].get(previous, {}).get("value") == shown, (project["no"], entry["name"])
    # The table's own year, blank here, becomes the previous year of the master made from it.
    assert imported["fiscal_years"]["previous"] == original["fiscal_years"]["current"]


# ----------------------------------------------------------------------------------------
# a table of another city's making
# ----------------------------------------------------------------------------------------

YEARS = ("H30年度", "R1", "R2年度")  # the 現状値 year, then the 実績値 years as this city labels them

# 政策 › 施策 › 事業. Values as the table displays them; what the cell holds is decided below.
POLICIES: list[tuple[str, str, list[tuple[str, str, list[dict[str, Any]]]]]] = [
    (
        "1",
        "安心して暮らせるまち",
        [
            (
                "1-1",
                "防災体制の充実",
                [
                    {
                        "no": 1,
                        "description": "自主防災組織の結成を支援する。",
                        "indicator": "自主防災組織の結成率",
                        "unit": "%",
                        "baseline": "38.5%",
                        "entries": [
                            (
                                "防災課 消防本部",
                                ["40.1%", "41.2%"],
                                "出前講座を12回開催した。\n新たな結成：3団体",
                            )
                        ],
                    },
                    {
                        "no": 2,
                        "description": "避難所の備蓄を進める。",
                        "indicator": "備蓄倉庫の整備数",
                        "unit": "箇所",
                        "baseline": "4箇所",
                        "entries": [("防災課", ["5箇所", "7箇所"], "2箇所を新たに整備した。")],
                    },
                ],
            ),
        ],
    ),
    (
        "2",
        "子育てしやすいまち",
        [
            (
                "2-1",
                "子育て支援の充実",
                [
                    {
                        "no": 3,
                        "description": "子育て相談の窓口を広げる。",
                        "indicator": "子育て相談の件数",
                        "unit": "人",
                        "baseline": "1,250人",
                        "entries": [
                            ("福祉課", ["1,310人", "1,402人"], "相談員を1名増やした。"),
                            ("子育て支援課", ["210人", "188人"], None),
                        ],
                    },
                ],
            ),
            (
                "2-2",
                "学びの機会",
                [
                    {
                        "no": 4,
                        "description": "家庭教育の講座を開く。",
                        "indicator": None,
                        "unit": None,
                        "baseline": "○",
                        "entries": [("生涯学習課", ["○", "×"], "感染症のため中止した。")],
                    },
                ],
            ),
        ],
    ),
]

MINCHO = Font(name="ＭＳ 明朝", size=10)
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")


def _put_value(sheet: Worksheet, row: int, column: int, shown: str) -> None:
    """A value cell as this city keeps it: percentages and counts as numbers with a format."""
    cell = sheet.cell(row, column)
    if shown.endswith("%"):
        cell.value = float(shown[:-1]) / 100
        cell.number_format = "0.0%"
    elif shown.endswith("人"):
        cell.value = int(shown[:-1].replace(",", ""))
        cell.number_format = '#,##0"人"'
    else:
        cell.value = shown  # 7箇所, ○: text as typed


def _style(sheet: Worksheet, widths: list[float]) -> None:
    for row in sheet.iter_rows():
        for cell in row:
            cell.font, cell.border, cell.alignment = MINCHO, BOX, WRAP
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = width


def _header(sheet: Worksheet, row: int, levels: list[str]) -> int:
    """The two header rows; returns the first column of the values."""
    names = [*levels, "事業", "担当課", "現状値", "実績値", "実績値", "実績内容"]
    for column, name in enumerate(names, start=1):
        sheet.cell(row, column, name)
    first = len(levels) + 3
    for offset, label in enumerate(YEARS):
        sheet.cell(row + 1, first + offset, label)
    return first


def _projects(sheet: Worksheet, row: int, projects: list[dict[str, Any]], level_columns: int) -> int:
    """Project rows (number in the last level column, the project's cell merged over its
    departments' rows); returns the next free row."""
    number, description = level_columns, level_columns + 1
    for project in projects:
        text = project["description"]
        if project["indicator"]:
            text += f"\n【数値目標】{project['indicator']}"
        top = row
        sheet.cell(row, number, project["no"])
        sheet.cell(row, description, text)
        _put_value(sheet, row, description + 2, project["baseline"])
        for department, values, narrative in project["entries"]:
            sheet.cell(row, description + 1, department.replace(" ", "\n"))
            for offset, shown in enumerate(values):
                _put_value(sheet, row, description + 3 + offset, shown)
            sheet.cell(row, description + 5, narrative)
            row += 1
        if row - top > 1:
            for column in (number, description, description + 2):
                sheet.merge_cells(start_row=top, end_row=row - 1, start_column=column, end_column=column)
    return row


def _one_sheet_levels_in_columns(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "実績一覧"
    sheet["A1"] = "みらい市総合計画 令和2年度 施策実績一覧"
    first = _header(sheet, 3, ["政策", "施策"])
    row = 5
    for number, title, measures in POLICIES:
        sheet.cell(row, 1, f"{number} {title}")
        sheet.merge_cells(start_row=row, end_row=row, start_column=1, end_column=first + 3)
        row += 1
        for measure, name, projects in measures:
            sheet.cell(row, 2, f"{measure} {name}")
            sheet.merge_cells(start_row=row, end_row=row, start_column=2, end_column=first + 3)
            row = _projects(sheet, row + 1, projects, 2)
    _style(sheet, [14, 14, 40, 12, 10, 10, 10, 50])
    workbook.save(path)


def _sheet_per_policy(path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for number, title, measures in POLICIES:
        sheet = workbook.create_sheet(f"政策{number}")
        sheet["A1"] = "みらい市総合計画 令和2年度 施策実績一覧"
        sheet["H1"] = "資料2"
        sheet["A2"] = f"政策{number} {title}"
        first = _header(sheet, 4, ["施策"])
        row = 6
        for measure, name, projects in measures:
            sheet.cell(row, 1, f"{measure} {name}")
            sheet.merge_cells(start_row=row, end_row=row, start_column=1, end_column=first + 3)
            row = _projects(sheet, row + 1, projects, 1)
        _style(sheet, [10, 36, 16, 9, 9, 9, 60])
    workbook.save(path)


def _one_sheet_sections(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "みらい市総合計画 令和2年度 施策実績一覧"
    row = 3
    for number, title, measures in POLICIES:
        sheet.cell(row, 1, f"政策{number} {title}")
        first = _header(sheet, row + 1, ["施策"])
        row += 3
        for measure, name, projects in measures:
            sheet.cell(row, 1, f"{measure} {name}")
            sheet.merge_cells(start_row=row, end_row=row, start_column=1, end_column=first + 3)
            row = _projects(sheet, row + 1, projects, 1)
        row += 2  # a gap before the next policy
    _style(sheet, [12, 30, 14, 11, 11, 11, 44])
    workbook.save(path)


LAYOUTS = {
    "one-sheet-levels-in-columns": _one_sheet_levels_in_columns,
    "a-sheet-per-policy": _sheet_per_policy,
    "one-sheet-sections": _one_sheet_sections,
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_table_of_another_citys_making_is_read(tmp_path: Path, layout: str) -> None:
    source = tmp_path / "実績一覧.xlsx"
    LAYOUTS[layout](source)
    assert main(["init", str(tmp_path / "ws"), "--from", str(source)]) == 0
    document = Workspace(tmp_path / "ws").load_plan().to_dict()

    assert document["levels"] == ["政策", "施策", "事業"]
    assert document["plan_name"] == "みらい市総合計画"
    assert {k: v["wareki"] for k, v in document["fiscal_years"].items()} == {
        "baseline": "平成30年度",
        "previous": "令和2年度",
        "current": "令和3年度",
    }
    titles = [(node["level"], node["title"]) for node in document["nodes"]]
    assert titles == [
        ("政策", "安心して暮らせるまち"),
        ("施策", "防災体制の充実"),
        ("政策", "子育てしやすいまち"),
        ("施策", "子育て支援の充実"),
        ("施策", "学びの機会"),
    ]
    expected = [project for _, _, measures in POLICIES for _, _, projects in measures for project in projects]
    assert [p["no"] for p in document["projects"]] == [p["no"] for p in expected]
    for got, want in zip(document["projects"], expected, strict=True):
        assert (got["description"], got["indicator"], got["unit"], got["baseline"]) == (
            want["description"],
            want["indicator"],
            want["unit"],
            want["baseline"],
        )
        assert [(e["name"], e["joint"]) for e in got["entries"]] == [
            (name, " " in name) for name, _, _ in want["entries"]
        ]
        for entry, (name, values, narrative) in zip(got["entries"], want["entries"], strict=True):
            assert entry["values"] == {
                "令和元年度": {"value": values[0], "narrative": None},
                "令和2年度": {"value": values[1], "narrative": narrative},
            }, name
    assert sorted(d["name"] for d in document["departments"]) == sorted(
        ["防災課", "消防本部", "福祉課", "子育て支援課", "生涯学習課"]
    )


def test_a_table_read_from_the_other_city_is_ready_to_distribute(tmp_path: Path) -> None:
    source = tmp_path / "実績一覧.xlsx"
    _sheet_per_policy(source)
    assert main(["init", str(tmp_path / "ws"), "--from", str(source)]) == 0
    result = xlplan.distribute(Workspace(tmp_path / "ws"))
    written = sorted(d.department for d in result.departments if d.workbook is not None)
    assert written == sorted(["防災課", "消防本部", "福祉課", "子育て支援課", "生涯学習課"])


# ----------------------------------------------------------------------------------------
# what is not such a table
# ----------------------------------------------------------------------------------------


def _refused(tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]) -> str:
    target = tmp_path / "ws"
    assert main(["init", str(target), "--from", str(source)]) == 2
    assert not target.exists()  # nothing written, not even the folder
    return capsys.readouterr().err


def test_a_workbook_that_is_not_such_a_table_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused(tmp_path, CORPUS / "sheetjs_mixed_sheets.xlsx", capsys)
    assert "(table-not-a-table)" in err and "担当課" in err and "sheetjs_mixed_sheets.xlsx" in err


def test_a_departments_return_workbook_is_refused_for_what_it_is(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "office", example.plan)
    sent = next(d.workbook for d in xlplan.distribute(workspace).departments if d.workbook is not None)
    err = _refused(tmp_path, sent, capsys)
    assert "(table-department-workbook)" in err and "回答用ブック" in err and sent.name in err


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(tmp_path, CORPUS / "poi_testEXCEL_5.xls", capsys)
    assert "(table-unreadable)" in err and "poi_testEXCEL_5.xls" in err
    assert "Traceback" not in err


def test_a_table_that_is_not_there_is_said_to_be_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused(tmp_path, tmp_path / "事業実績一覧.xlsx", capsys)
    assert "(file-not-found)" in err and "事業実績一覧.xlsx が見つかりません" in err
    assert "保存し直して" not in err  # re-saving in Excel is no help for a file that is not there


def test_cells_that_cannot_be_read_are_named_one_by_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "実績一覧.xlsx"
    _sheet_per_policy(source)
    workbook = openpyxl.load_workbook(source)
    workbook["政策1"]["E7"] = "四割くらい"  # 事業1's 令和元年度 value
    workbook["政策2"]["A7"] = "三"  # 事業3's number
    workbook.save(source)
    err = _refused(tmp_path, source, capsys)
    assert "(table-bad-value)" in err and "E7" in err and "四割くらい" in err
    assert "(table-bad-number)" in err and "A7" in err and "政策2" in err


def test_a_table_that_names_no_indicator_gives_a_master_that_reads_and_says_what_to_fill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "実績一覧.xlsx"
    _sheet_per_policy(source)
    workbook = openpyxl.load_workbook(source)
    for sheet in workbook.worksheets:  # the city's table has no 【数値目標】 under its descriptions
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "【数値目標】" in cell.value:
                    cell.value = cell.value.split("\n【数値目標】")[0]
    workbook.save(source)
    root = tmp_path / "ws"
    assert main(["init", str(root), "--from", str(source)]) == 0
    assert "(table-no-indicator)" in capsys.readouterr().err
    assert main(["plan", "show", "-w", str(root)]) == 0  # the master it wrote is one its reader takes
    capsys.readouterr()
    assert main(["distribute", "-w", str(root)]) == 2  # but nothing goes out under a placeholder
    assert "(plan-indicator-placeholder)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "code"),
    [
        (
            "政策2",
            "C4",
            "担当部署",
            "table-sheet-unread",
        ),  # a header edited: the sheet's projects lost in silence
        ("政策1", "F5", YEARS[1], "table-years-out-of-order"),  # 今年度 mislabelled as the year before it
        ("政策2", "F5", "令和3年度", "table-header-differs"),  # a sheet a year ahead of the others
    ],
)
def test_a_table_whose_headers_do_not_agree_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sheet: str, cell: str, value: str, code: str
) -> None:
    source = tmp_path / "実績一覧.xlsx"
    _sheet_per_policy(source)
    workbook = openpyxl.load_workbook(source)
    workbook[sheet][cell] = value
    workbook.save(source)
    err = _refused(tmp_path, source, capsys)
    assert f"({code})" in err and sheet in err, err


def test_the_table_is_not_read_over_an_existing_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "実績一覧.xlsx"
    _sheet_per_policy(source)
    main(["init", str(tmp_path / "ws")])
    master = Workspace(tmp_path / "ws").master_path
    before = master.read_bytes()
    capsys.readouterr()
    assert main(["init", str(tmp_path / "ws"), "--from", str(source)]) == 2
    assert master.read_bytes() == before
    assert capsys.readouterr().err.strip()
