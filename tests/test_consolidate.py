"""Consolidate and publish: the 事業実績一覧 rebuilt from the example and read back by a second reader.

The workbook is written by XlsxWriter and read back with python-calamine (values)
and openpyxl (number formats and styles only), then compared with the seed's
transcription, cell by cell.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import filelock
import openpyxl
import pytest
import xlsxwriter

import xlplan
from tests.conftest import calamine_rows
from tests.office import Office
from xlplan.cli import main
from xlplan.errors import BusyError
from xlplan.examples import Example, load_seed
from xlplan.plan.model import Answer, Node, Plan, Project
from xlplan.plan.values import Value, format_number
from xlplan.publish.consolidate import LOCK_NAME, ConsolidationResult, consolidate_plan
from xlplan.publish.template import TEMPLATE_NAME
from xlplan.publish.writer import layout_for, unit_format
from xlplan.workspace.folder import Workspace
from xlplan.xlsx import pdf as pdf_module
from xlplan.xlsx.audit import audit_package
from xlplan.xlsx.text import estimate_lines, text_units

ROOT = Path(__file__).resolve().parents[1]
GOALS = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ")
HOSTILE = '=WEBSERVICE("http://example.invalid")'


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> ConsolidationResult:
    from xlplan.examples import load_example

    example = load_example("ogi")
    return consolidate_plan(example.plan, example.answers, tmp_path_factory.mktemp("reports"), csv=True)


def _display(value: Any, number_format: str) -> str:
    """What Excel shows for a number in one of the table's formats (``#,##0.0"%"``)."""
    match = re.fullmatch(r'#,##0(?:\.(0+))?(?:"([^"]*)")?', number_format)
    assert match, number_format
    decimals = len(match.group(1) or "")
    return f"{float(value):,.{decimals}f}" + (match.group(2) or "")


def _read_table(path: Path) -> list[dict[str, Any]]:
    """The projects of the consolidated workbook, as the seed's JSON shapes them."""
    formats = openpyxl.load_workbook(path)  # only for number formats; values come from calamine
    projects: list[dict[str, Any]] = []
    for goal in GOALS:
        sheet = f"基本目標{goal}"
        for number, row in enumerate(calamine_rows(path, sheet)[5:], start=6):
            _gutter, no, description, department, baseline, previous, current, narrative = row
            if department == "":
                continue  # a 施策の方向 or 基本事業 heading row

            def shown(value: Any, column: str, row_number: int = number, sheet: str = sheet) -> str | None:
                if value == "":
                    return None
                if isinstance(value, float):
                    return _display(value, formats[sheet][f"{column}{row_number}"].number_format)
                return str(value)

            if no != "":
                text, _, indicator = description.partition("\n【数値目標】")
                projects.append(
                    {
                        "no": int(no),
                        "description": text,
                        "indicator": indicator or None,
                        "baseline": shown(baseline, "E"),
                        "departments": [],
                    }
                )
            projects[-1]["departments"].append(
                {
                    "name": department,
                    "previous": shown(previous, "F"),
                    "current": shown(current, "G"),
                    "narrative": narrative or None,
                }
            )
    return projects


def _seed_projects() -> list[dict[str, Any]]:
    seed = load_seed()
    return [
        project
        for goal in seed["goals"]
        for direction in goal["directions"]
        for program in direction["programs"]
        for project in program["projects"]
    ]


def assert_table_equals_the_seed(path: Path) -> None:
    """Every project of the workbook at ``path``, read back by calamine, equals the seed's transcription."""
    read = _read_table(path)
    seed = _seed_projects()
    assert [p["no"] for p in read] == list(range(1, 70))
    for got, want in zip(read, seed, strict=True):
        expected = {key: want[key] for key in ("no", "description", "indicator", "baseline")}
        expected["departments"] = [
            {key: d[key] for key in ("name", "previous", "current", "narrative")} for d in want["departments"]
        ]
        assert got == expected, want["no"]


def test_table_equals_the_seed(published: ConsolidationResult) -> None:
    assert_table_equals_the_seed(published.xlsx)
    assert published.rows == 86
    assert published.findings == ()


def test_heading_block_header_and_hierarchy(published: ConsolidationResult) -> None:
    seed = load_seed()
    for goal in seed["goals"]:
        rows = calamine_rows(published.xlsx, f"基本目標{goal['number']}")
        heading = f"基本目標{goal['number']} {goal['title']}" + (
            f" {goal['subtitle']}" if goal["subtitle"] else ""
        )
        assert rows[0][0] == seed["title"] and rows[0][7] == seed["document_label"]
        assert rows[1][0] == heading
        assert rows[2][0] == "体系一覧（第2次小城市男女共同参画プラン）" and rows[2][4] == seed["slogan"]
        assert rows[3] == [
            "施策の方向",
            "基本事業",
            "事業",
            "担当課",
            "現状値",
            "実績値",
            "①実績値",
            "②令和2年度実績",
        ]
        assert rows[4][4:] == ["27年度", "令和元年度", "令和2年度", "（事業の内容・取り組み状況）"]
        headings = [row[0] or row[1] for row in rows[5:] if row[3] == "" and (row[0] or row[1])]
        expected = []
        for direction in goal["directions"]:
            expected.append(f"{direction['number']} {direction['title']}")
            expected += [f"{program['number']} {program['title']}" for program in direction["programs"]]
        assert headings == expected


def test_numbers_are_numbers_with_a_unit_format(published: ConsolidationResult) -> None:
    sheet = openpyxl.load_workbook(published.xlsx)["基本目標Ⅰ"]
    assert sheet["G8"].value == 159 and sheet["G8"].number_format == '#,##0"人"'
    assert sheet["E8"].value == 172
    marks = {sheet[f"G{row}"].value for row in range(8, 40)} - {None}
    assert "○" in marks
    formats = {
        cell.number_format for row in openpyxl.load_workbook(published.xlsx)["基本目標Ⅲ"] for cell in row
    }
    assert '#,##0.0"%"' in formats and '#,##0"%"' in formats  # 1.6% keeps its decimal, 75% has none
    assert unit_format(Value(Decimal("53.8"), "%")) == '#,##0.0"%"'
    assert unit_format(Value(Decimal(8), None)) == "#,##0"


def test_merged_project_cells_and_print_setup(published: ConsolidationResult) -> None:
    workbook = openpyxl.load_workbook(published.xlsx)
    sheet = workbook["基本目標Ⅲ"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    # Project 27 has four separate departments: number, description and 現状値 span them.
    row = next(r for r in range(6, sheet.max_row + 1) if sheet[f"B{r}"].value == 27)
    assert {f"B{row}:B{row + 3}", f"C{row}:C{row + 3}", f"E{row}:E{row + 3}"} <= merged
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.print_title_rows == "$4:$5"
    assert "&P" in str(sheet.oddFooter.center.text)
    setup = sheet.page_setup  # fitToWidth 1 is the default, which XlsxWriter leaves out
    assert (
        sheet.sheet_properties.pageSetUpPr.fitToPage
        and setup.fitToWidth in (None, 1)
        and setup.fitToHeight == 0
    )
    assert sheet["H" + str(row)].alignment.wrap_text


def test_row_heights_fit_wrapped_japanese(published: ConsolidationResult) -> None:
    sheet = openpyxl.load_workbook(published.xlsx)["基本目標Ⅰ"]
    # Project 1's narrative (about 380 wide characters in 5 paragraphs) needs many lines.
    assert sheet.row_dimensions[8].height > 9 * 1.25 * 8
    assert text_units("計 90 人") == 2 + 1 + 2 + 1 + 1 + 1 + 2 - 2  # 漢字 2, ASCII 1
    assert estimate_lines("あ" * 38, 66, 9) == 1 and estimate_lines("あ" * 39, 66, 9) == 2
    assert estimate_lines("a\nb", 66, 9) == 2


def test_no_formula_link_or_macro_in_the_package(published: ConsolidationResult) -> None:
    assert audit_package(published.xlsx) == []
    with zipfile.ZipFile(published.xlsx) as package:
        names = package.namelist()
    assert not any("vba" in name.lower() or "externalLink" in name for name in names)


def test_a_formula_typed_by_a_department_stays_visible_text(example: Example, tmp_path: Path) -> None:
    answers = [
        dataclasses.replace(answer, narrative=HOSTILE) if answer.project_no == 3 else answer
        for answer in example.answers
    ]
    result = consolidate_plan(example.plan, answers, tmp_path, csv=True)
    rows = calamine_rows(result.xlsx, "基本目標Ⅰ")
    assert [row[7] for row in rows if row[1] == 3.0] == [HOSTILE]
    cell = next(
        c for row in openpyxl.load_workbook(result.xlsx)["基本目標Ⅰ"] for c in row if c.value == HOSTILE
    )
    assert cell.data_type == "s" and cell.quotePrefix
    assert audit_package(result.xlsx) == []
    assert result.csv is not None and result.json is not None
    with result.csv.open(encoding="utf-8-sig", newline="") as handle:
        narratives = [row["今年度_実績内容"] for row in csv.DictReader(handle) if row["事業番号"] == "3"]
    assert narratives == ["'" + HOSTILE]  # shown as text when the CSV is opened in Excel
    document = json.loads(result.json.read_text(encoding="utf-8"))
    assert [r["今年度_実績内容"] for r in document["rows"] if r["事業番号"] == 3] == [HOSTILE]


def test_a_narrative_too_long_for_its_row_is_said_to_be_cut_where_it_is(
    example: Example, tmp_path: Path, office: Office
) -> None:
    long = "。".join(
        f"第{n}回の講座を地区の公民館で開き、参加者の声を次の計画に生かした" for n in range(1, 60)
    )
    answers = [
        dataclasses.replace(answer, narrative=long) if answer.project_no == 3 else answer
        for answer in example.answers
    ]
    result = consolidate_plan(example.plan, answers, tmp_path)
    clipped = [f for f in result.findings if f.code == "consolidate-text-clipped"]
    assert [(f.params["no"], f.is_error) for f in clipped] == [(3, False)]
    assert "事業 3" in clipped[0].message() and "短くしてください" in clipped[0].message()
    # LibreOffice agrees: that row, and no other, needs more height than a row may have.
    (at,) = [n for n, row in enumerate(calamine_rows(result.xlsx, "基本目標Ⅰ"), start=1) if row[1] == 3.0]
    rows = office.look(result.xlsx, heights=["基本目標Ⅰ"]).heights["基本目標Ⅰ"]
    short = [row for row, stored, needed in rows if stored + 0.5 < needed]
    assert short == [at], rows


def test_audit_finds_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "formula.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet().write_formula(0, 0, "=1+1")
    workbook.close()
    assert audit_package(path) == ["xl/worksheets/sheet1.xml: formula"]


@pytest.mark.parametrize(
    "cell",
    [b'<x:c r="A1"><x:f>1+1</x:f></x:c>', b'<c r="A1"><f t="shared" si="0"/></c>'],
    ids=["prefixed", "shared"],
)
@pytest.mark.parametrize("at", [-40, -2, 5], ids=["before", "across", "after"])
def test_audit_finds_a_formula_however_written(tmp_path: Path, cell: bytes, at: int) -> None:
    """A prefixed or shared formula, also where its tag straddles the 1 MB chunks the audit reads in
    (``at``: where the tag starts, from the end of the first chunk)."""
    head, tag = b"<worksheet><!--", cell.index(b"><") + 1  # the formula element follows its cell's tag
    filler = b"x" * ((1 << 20) + at - len(head) - len(b"-->") - tag)
    xml = head + filler + b"-->" + cell + b"</worksheet>"
    assert xml.index(cell) + tag == (1 << 20) + at
    path = tmp_path / "hand-made.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/worksheets/sheet1.xml", xml)
    assert audit_package(path) == ["xl/worksheets/sheet1.xml: formula"]


def test_csv_and_json(published: ConsolidationResult) -> None:
    assert published.csv is not None and published.json is not None
    raw = published.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with published.csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 86
    first = rows[0]
    # 機種依存文字 in their standard forms (総務省 rules): Ⅰ and ① are written I and 1.
    assert first["基本目標番号"] == "I" and first["施策の方向番号"] == "(1)" and first["基本事業番号"] == "1"
    assert (first["今年度_年度（和暦）"], first["今年度_年度（西暦）"]) == ("令和2年度", "2020")
    assert (first["今年度_数値"], first["今年度_単位"], first["今年度_記号"]) == ("159", "人", "")
    assert (first["現状値_年度（和暦）"], first["現状値_年度（西暦）"], first["現状値_数値"]) == (
        "平成27年度",
        "2015",
        "172",
    )
    assert first["担当課（構成課）"] == "企画政策課、生涯学習課" and first["共同"] == "TRUE"
    second = next(row for row in rows if row["事業番号"] == "2")
    # ・ is part of a name; 、 parts two; each as the registry names it (the seed prints 对, U+5BF9).
    assert second["担当課（構成課）"] == "企画政策課、人権・同和対策室"
    marks = next(row for row in rows if row["事業番号"] == "2")
    assert (marks["今年度_数値"], marks["今年度_記号"]) == ("", "○")
    percent = [row for row in rows if row["今年度_単位"] == "%"]
    assert {row["今年度_数値"] for row in percent} >= {"1.7", "87.5"}
    document = json.loads(published.json.read_text(encoding="utf-8"))
    assert document["fiscal_years"]["current"] == {"wareki": "令和2年度", "western": 2020}
    assert len(document["rows"]) == 86 and document["rows"][0]["今年度_数値"] == 159


def test_missing_share_is_reported_and_the_rest_printed(example: Example, tmp_path: Path) -> None:
    answers = [a for a in example.answers if not (a.project_no == 1 and a.department == "生涯学習課")]
    answers.append(Answer(999, "どこか", "企画政策課", Value(Decimal(1), "人")))
    result = consolidate_plan(example.plan, answers, tmp_path)
    codes = [(f.code, dict(f.params)) for f in result.findings]
    assert (
        "consolidate-missing-answer",
        {"no": 1, "entry": "企画政策課 生涯学習課", "departments": "生涯学習課"},
    ) in codes
    assert any(code == "consolidate-unknown-answer" for code, _ in codes)
    rows = calamine_rows(result.xlsx, "基本目標Ⅰ")
    row = next(r for r in rows if r[1] == 1.0)
    assert row[6] == 90.0 and row[7].startswith("計 90 人")  # one narrative: no heading


def test_target_open_in_excel_gets_a_versioned_name(example: Example, tmp_path: Path) -> None:
    first = consolidate_plan(example.plan, example.answers, tmp_path)
    (tmp_path / ("~$" + first.xlsx.name)).write_bytes(b"owner")
    second = consolidate_plan(example.plan, example.answers, tmp_path)
    assert second.xlsx.name == first.xlsx.stem + " (2).xlsx"
    assert [f.code for f in second.findings] == ["consolidate-target-open"]
    assert "開かれている" in second.findings[0].message()
    assert not list(tmp_path.glob(".~*"))  # no temporary file left behind


def test_a_second_consolidation_waits_for_the_lock(example: Example, tmp_path: Path) -> None:
    with filelock.FileLock(str(tmp_path / LOCK_NAME)), pytest.raises(BusyError) as raised:
        consolidate_plan(example.plan, example.answers, tmp_path, lock_timeout=0.2)
    assert (
        raised.value.findings[0].code == "consolidate-busy" and raised.value.exit_code == 4
    )  # busy: try again


def test_a_workspace_keeps_its_lock_out_of_the_folder_staff_open(workspace: Workspace) -> None:
    result = xlplan.consolidate(workspace, csv=True)
    assert result.xlsx.parent == workspace.reports
    # Shared over the network, reports/ shows every file: only what was published is there.
    assert not [path.name for path in workspace.reports.iterdir() if path.name.startswith(".")]
    assert (workspace.key_path.parent / "consolidate.lock").exists()


def test_pdf_missing_converter_says_what_to_install(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_module, "find_libreoffice", lambda: None)
    monkeypatch.setattr(pdf_module, "excel_available", lambda: False)
    result = consolidate_plan(example.plan, example.answers, tmp_path, pdf=True)
    assert result.pdf is None and result.xlsx.exists()
    assert [f.code for f in result.findings] == ["pdf-unavailable"]
    assert "LibreOffice" in result.findings[0].message() and "インストール" in result.findings[0].message()


def test_pdf_starts_each_goal_on_a_new_page(
    example: Example, tmp_path: Path, soffice: tuple[str, Path]
) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    result = consolidate_plan(example.plan, example.answers, tmp_path, pdf=True)
    assert result.pdf is not None and result.pdf.exists(), result.findings
    seed = load_seed()
    pages = []
    page = 1
    while True:
        done = subprocess.run(
            ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(result.pdf), "-"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or (not done.stdout.strip() and page > 20):
            break
        pages.append(done.stdout)
        page += 1
    pages = [text for text in pages if text.strip()]
    starts = []
    for number, text in enumerate(pages, start=1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for goal in seed["goals"]:
            heading = f"基本目標{goal['number']} {goal['title']}"
            if heading in text:
                # The heading is on the page's second line, under the title: the goal starts the page.
                assert lines[0].startswith(seed["title"]) and lines[1].startswith(heading), number
                starts.append(goal["number"])
    assert starts == list(GOALS)
    assert len(pages) >= 5
    assert all("令和元年度" in text for text in pages)  # the header rows are repeated on every page


def test_a_restyled_template_carries_over(example: Example, tmp_path: Path) -> None:
    template = tmp_path / TEMPLATE_NAME
    shutil.copyfile(ROOT / "workbook_templates" / TEMPLATE_NAME, template)
    workbook = openpyxl.load_workbook(template)
    sheet = workbook["事業実績一覧"]
    from openpyxl.styles import Font, PatternFill
    from openpyxl.styles.colors import Color

    # As Excel would save a restyle: a theme colour with a tint, another font, a wider column.
    sheet["H8"].font = Font(name="ＭＳ 明朝", size=11, color=Color(theme=4, tint=-0.25))
    sheet["A4"].fill = PatternFill("solid", fgColor=Color(theme=5, tint=0.6))
    sheet.column_dimensions["H"].width = 80
    workbook.save(template)
    result = consolidate_plan(example.plan, example.answers, tmp_path / "out", template=template)
    out = openpyxl.load_workbook(result.xlsx)["基本目標Ⅰ"]
    narrative = out["H8"]
    assert narrative.font.name == "ＭＳ 明朝" and narrative.font.sz == 11
    # The template's theme is Office 2007 (openpyxl's): Excel's own palette shows accent1 4F81BD
    # "darker 25%" as 376092 and accent2 C0504D "lighter 60%" as E6B9B8.
    assert narrative.font.color.rgb == "FF376092"
    assert out["A4"].fill.fgColor.rgb == "FFE6B9B8"
    assert out.column_dimensions["H"].width == pytest.approx(80, abs=1)


def test_template_shipped_in_the_package_is_the_committed_one() -> None:
    committed = (ROOT / "workbook_templates" / TEMPLATE_NAME).read_bytes()
    packaged = (ROOT / "xlplan" / "templates" / TEMPLATE_NAME).read_bytes()
    assert committed == packaged


def test_two_level_plan_gets_a_number_column(example: Example, tmp_path: Path) -> None:
    plan = example.plan
    settings = dataclasses.replace(plan.settings, levels=("分野", "事業"))
    nodes = tuple(Node(node.key, node.title) for node in plan.nodes if node.level == 0)
    projects = tuple(dataclasses.replace(p, node=p.node[:1]) for p in plan.projects)
    small = Plan(settings, nodes, projects, plan.departments, plan.history)
    assert layout_for(small).description == 1
    result = consolidate_plan(small, example.answers, tmp_path)
    rows = calamine_rows(result.xlsx, "分野Ⅰ")
    assert rows[3][:3] == ["番号", "事業", "担当課"]
    assert rows[1][0].startswith("分野Ⅰ ")
    assert rows[5][0] == 1.0 and rows[5][5] == 159.0


def test_cli_consolidate(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["consolidate", "-w", str(workspace.root), "--csv"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "集約表" in out
    assert list(workspace.reports.glob("*.xlsx")) and list(workspace.reports.glob("*.csv"))


def test_project_cells_of_a_project_without_answers_are_blank(example: Example, tmp_path: Path) -> None:
    project = example.plan.project(5)
    answers = [a for a in example.answers if a.project_no != project.no]
    result = consolidate_plan(example.plan, answers, tmp_path)
    assert [f.code for f in result.findings] == ["consolidate-missing-answer"]
    row = next(r for r in calamine_rows(result.xlsx, "基本目標Ⅰ") if r[1] == 5.0)
    assert row[6] == "" and row[7] == ""
    assert isinstance(project, Project)
    assert format_number(Decimal(159)) == "159"


def test_a_joint_entrys_previous_year_kept_per_department_is_combined(
    example: Example, tmp_path: Path
) -> None:
    # The history holds 令和元年度 of project 1 only as each department's share, no combined value.
    from xlplan.plan.model import HistoryRecord

    previous = example.plan.settings.previous_year
    entry = example.plan.project(1).entries[0]
    history = [r for r in example.plan.history if not (r.project_no == 1 and r.fiscal_year == previous)]
    history += [
        HistoryRecord(1, entry.name, previous, Value(Decimal(120), "人"), "講座を開催", "企画政策課"),
        HistoryRecord(1, entry.name, previous, Value(Decimal(93), "人"), "研修を開催", "生涯学習課"),
    ]
    plan = dataclasses.replace(example.plan, history=tuple(history))
    result = consolidate_plan(plan, example.answers, tmp_path, csv=True)
    rows = calamine_rows(result.xlsx, "基本目標Ⅰ")
    [row] = [row for row in rows if "企画政策課" in str(row) and "生涯学習課" in str(row)][:1]
    assert 213 in row or 213.0 in row, row  # 120人 + 93人, as this year's shares are combined
    assert result.csv is not None
    with result.csv.open(encoding="utf-8-sig") as handle:
        [line] = [line for line in csv.DictReader(handle) if line["事業番号"] == "1"]
    assert "213" in {value for key, value in line.items() if "前年度" in key}, line


def test_a_missing_answer_is_named_as_the_registry_spells_the_department(
    example: Example, tmp_path: Path
) -> None:
    plan = example.plan
    # Project 2's cell prints 人権・同和对策室 (U+5BF9); the office's registry spells it 人権・同和対策室.
    entry = plan.project(2).entries[0]
    assert "人権・同和对策室" in entry.members
    answers = [a for a in example.answers if plan.canonical_department(a.department) != "人権・同和対策室"]
    result = consolidate_plan(plan, answers, tmp_path)
    messages = [f.message() for f in result.findings if f.code == "consolidate-missing-answer"]
    about = next(message for message in messages if message.startswith("事業 2（"))
    assert "人権・同和対策室 の回答がありません" in about, about
    assert "对" not in "".join(messages)


def test_a_three_level_tables_first_column_says_it_holds_the_numbers_too(tmp_path: Path) -> None:
    from tests.plans import mirai_plan

    plan = mirai_plan()  # 政策 › 施策 › 取組: one level column, which also prints the 取組 numbers
    result = consolidate_plan(plan, [], tmp_path)
    rows = calamine_rows(result.xlsx, "政策1")
    header = rows[3]
    assert header[:3] == ["施策\n取組番号", "取組", "担当課"]
    numbers = [row[0] for row in rows[5:] if row[1]]
    assert numbers and all(isinstance(number, float) for number in numbers)


def test_a_very_small_number_is_published_in_fixed_point(example: Example, tmp_path: Path) -> None:
    tiny = Value(Decimal("0.0000005"), "%")
    answers = [
        dataclasses.replace(answer, value=tiny) if answer.project_no == 17 else answer
        for answer in example.answers
    ]
    result = consolidate_plan(example.plan, answers, tmp_path, csv=True)
    assert result.csv is not None
    with result.csv.open(encoding="utf-8-sig", newline="") as handle:
        row = next(row for row in csv.DictReader(handle) if row["事業番号"] == "17")
    assert row["今年度_数値"] == "0.0000005"  # not 5e-07
    assert unit_format(tiny) == '#,##0.0000000"%"' and tiny.display() == "0.0000005%"  # the table's cell


@pytest.mark.parametrize(("second", "published"), [("70", ""), ("60", "60")])
def test_a_rate_two_departments_give_jointly_is_never_their_sum(
    example: Example, tmp_path: Path, second: str, published: str
) -> None:
    from xlplan.plan.model import Entry

    joint = Entry("防災対策課 総務課", ("防災対策課", "総務課"))
    projects = tuple(
        dataclasses.replace(project, entries=(joint,)) if project.no == 17 else project
        for project in example.plan.projects
    )
    plan = dataclasses.replace(example.plan, projects=projects)
    rate = lambda number: Value(Decimal(number), "%")  # noqa: E731
    answers = [answer for answer in example.answers if answer.project_no != 17] + [
        Answer(17, joint.name, "防災対策課", rate("60"), "訓練を実施"),
        Answer(17, joint.name, "総務課", rate(second), "研修を実施"),
    ]
    result = consolidate_plan(plan, answers, tmp_path, csv=True)
    assert result.csv is not None
    with result.csv.open(encoding="utf-8-sig", newline="") as handle:
        row = next(row for row in csv.DictReader(handle) if row["事業番号"] == "17")
    assert row["今年度_数値"] == published  # never 130 (%)
    differ = [finding for finding in result.findings if finding.code == "consolidate-rates-differ"]
    if published:
        assert differ == []
    else:
        (finding,) = differ
        assert "60%・70%" in finding.message("ja") and not finding.is_error


def test_a_lone_sign_in_the_open_data_is_text_not_a_quoted_formula() -> None:
    from xlplan.publish.opendata import _csv_cell

    assert [_csv_cell(value) for value in ("-", "+", "=1+1", "-3件")] == ["-", "+", "'=1+1", "'-3件"]


def test_a_number_with_more_digits_than_excel_keeps_is_published_as_excel_keeps_it(
    example: Example, tmp_path: Path
) -> None:
    precise = Value(Decimal("1234.5678901234567"), "人")  # 17 significant digits: Excel keeps 15
    answers = [dataclasses.replace(a, value=precise) if a.project_no == 1 else a for a in example.answers]
    result = consolidate_plan(example.plan, answers, tmp_path)  # it failed its read-back ("checksum")
    (row,) = [row for row in calamine_rows(result.xlsx, "基本目標Ⅰ") if row[1] == 1.0]
    assert abs(float(row[6]) - 2469.13578024691) < 1e-9, row  # the joint entry: both members' values added


def test_an_output_of_an_earlier_run_not_made_again_is_said_to_be_stale(
    example: Example, tmp_path: Path
) -> None:
    first = consolidate_plan(example.plan, example.answers, tmp_path, csv=True, html=True)
    assert not [f for f in first.findings if f.code == "consolidate-stale-output"]
    second = consolidate_plan(example.plan, example.answers, tmp_path)  # as the button does: xlsx only
    stale = sorted(
        Path(f.params["path"]).suffix for f in second.findings if f.code == "consolidate-stale-output"
    )
    assert stale == [".csv", ".html", ".json"]
    assert "前回の集約" in next(f for f in second.findings if f.code == "consolidate-stale-output").message()


def test_open_data_without_the_municipality_code_says_so(example: Example, tmp_path: Path) -> None:
    plan = dataclasses.replace(
        example.plan, settings=dataclasses.replace(example.plan.settings, municipality_code=None)
    )
    result = consolidate_plan(plan, example.answers, tmp_path, csv=True)
    (finding,) = [f for f in result.findings if f.code == "opendata-no-municipality-code"]
    assert not finding.is_error and finding.sheet == "設定" and "団体コード" in finding.message("ja")
    assert result.csv is not None
    with result.csv.open(encoding="utf-8-sig", newline="") as handle:
        assert {row["全国地方公共団体コード"] for row in csv.DictReader(handle)} == {""}
    # With the code, nothing is said.
    with_code = consolidate_plan(example.plan, example.answers, tmp_path / "with", csv=True)
    assert "opendata-no-municipality-code" not in [f.code for f in with_code.findings]


def test_every_output_prints_a_rate_and_a_large_number_as_the_table_does(
    example: Example, tmp_path: Path
) -> None:
    from python_calamine import CalamineWorkbook

    # 事業1: 172人 → 159人 against a target of 171人 is 1,300% of the way; 事業21 reaches 12,345,678,901人.
    projects = tuple(
        dataclasses.replace(project, target=Value(Decimal(171), "人")) if project.no == 1 else project
        for project in example.plan.projects
    )
    plan = dataclasses.replace(example.plan, projects=projects)
    huge = Value(Decimal(12345678901), example.plan.project(21).unit)
    answers = [dataclasses.replace(a, value=huge) if a.project_no == 21 else a for a in example.answers]
    result = consolidate_plan(plan, answers, tmp_path, html=True, digests=tmp_path / "還元")
    assert result.html is not None
    page = result.html.read_text(encoding="utf-8")
    row = re.search(r'<tr><th scope="row">1</th>.*?</tr>', page)
    assert row is not None and '<td class="value">1,300.0%</td>' in row.group(0)  # as '#,##0.0"%"' shows it
    assert not re.search(r"\d[eE][+-]\d", page)  # no axis label or chart description in exponent form
    assert "12,345,678,901" in page
    book = next(path for path in result.digests if path.stem.endswith("_企画政策課"))
    rows = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("実績の推移").to_python()
    header = next(r for r in rows if "達成率" in r)
    first = next(r for r in rows if r and r[0] == 1.0)
    assert first[header.index("達成率")] == "1,300.0%"


@pytest.mark.parametrize(
    ("no", "unit", "number", "where", "hashed"),
    [
        (17, "%", "33.3333333333333", "current", True),  # a ratio pasted from a calculation (7/21×100)
        (17, "%", "33.3", "current", False),
        (17, "%", "33.33333333", "current", False),  # long, but LibreOffice prints it whole
        (3, "冊", "123456789", "current", False),  # 123,456,789冊 fits
        (3, "冊", "1234567890", "current", True),
        (17, "%", "33.3333333333333", "baseline", True),  # the 現状値 column is narrower still
    ],
)
def test_a_value_the_printed_table_would_show_as_hashes_is_named(
    example: Example, tmp_path: Path, soffice: tuple[str, Path], no: int, unit: str, number: str, where: str,
    hashed: bool,
) -> None:  # fmt: skip
    value = Value(Decimal(number), unit)
    plan, answers = example.plan, list(example.answers)
    if where == "baseline":
        projects = tuple(dataclasses.replace(p, baseline=value) if p.no == no else p for p in plan.projects)
        plan = dataclasses.replace(plan, projects=projects)
    else:
        answers = [dataclasses.replace(a, value=value) if a.project_no == no else a for a in answers]
    result = consolidate_plan(plan, answers, tmp_path, pdf=True)
    named = [f for f in result.findings if f.code == "consolidate-value-too-wide"]
    assert result.pdf is not None, result.findings
    printed = subprocess.run(
        ["pdftotext", "-layout", str(result.pdf), "-"], capture_output=True, text=True
    ).stdout
    # What LibreOffice prints is what the warning says: ### exactly where it is raised, nowhere else.
    assert ("###" in printed) == hashed == bool(named), (value.display(), named)
    if hashed:
        assert named[0].params["no"] == no and value.display() in named[0].message("ja")
