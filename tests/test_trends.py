"""推移: native Excel charts over every year of the history, baseline and target marked, in the
consolidated workbook (chart parts in the package, numbers read back by python-calamine) and on the
PDF LibreOffice prints from it."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

import xlplan
from tests.conftest import calamine_rows, convert_with_soffice, fill_and_collect
from xlplan.examples import Example
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Answer, Department, Entry
from xlplan.plan.values import Value
from xlplan.publish.consolidate import ConsolidationResult, consolidate_plan
from xlplan.publish.table import build_table
from xlplan.publish.trends import MAX_CHART_LINES, SHEET, omitted_note, trend_lines
from xlplan.workspace.folder import init_workspace


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, example: Example) -> ConsolidationResult:
    """The example with a target for 事業1 (250人 by 令和7年度), a year on from the seed."""
    projects = tuple(
        dataclasses.replace(p, target=Value(Decimal(250), "人"), target_year=FiscalYear(2025))
        if p.no == 1
        else p
        for p in example.plan.projects
    )
    plan = dataclasses.replace(example.plan, projects=projects)
    workspace = init_workspace(tmp_path_factory.mktemp("trends") / "ws", plan)
    fill_and_collect(workspace, example)
    xlplan.rollover(workspace)
    fill_and_collect(workspace, example)
    return xlplan.consolidate(workspace, csv=True)


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as package:
        return {
            name: package.read(name).decode("utf-8") for name in package.namelist() if name.endswith(".xml")
        }


def test_the_workbook_carries_a_native_chart_per_indicator(published: ConsolidationResult) -> None:
    rows = calamine_rows(published.xlsx, "推移")
    header = rows[2]
    assert header[:4] == ["事業番号", "数値目標", "担当課", "単位"] and header[4] == "現状値（27年度）"
    assert header[5:8] == ["令和元年度", "令和2年度", "令和3年度"] and header[8] == "目標値"
    table = [row for row in rows[3:] if isinstance(row[0], float) and row[1]]
    projects = sorted({int(row[0]) for row in table})
    parts = _parts(published.xlsx)
    charts = [name for name in parts if re.fullmatch(r"xl/charts/chart\d+\.xml", name)]
    assert len(charts) == len(projects) > 10
    # Every series reads the 推移 sheet's cells: Excel redraws the chart from the numbers.
    for name in charts:
        assert "<c:lineChart>" in parts[name] and "<c:f>推移!$" in parts[name]
    # 事業1 (172人 in 27年度) with its target as a dashed series.
    first = next(row for row in table if row[0] == 1.0)
    assert first[4] == 172 and first[8] == 250
    assert any("目標値（令和7年度）" in parts[name] and 'val="dash"' in parts[name] for name in charts)
    # Each chart has a text alternative naming its project and its points.
    drawings = "".join(text for name, text in parts.items() if name.startswith("xl/drawings/drawing"))
    assert drawings.count('descr="') == len(charts) and "事業番号 1「" in drawings


def test_the_pdf_shows_the_charts(
    published: ConsolidationResult, soffice: tuple[str, Path], tmp_path: Path
) -> None:
    binary, profile = soffice
    pdf = convert_with_soffice(binary, profile, published.xlsx, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "数値目標の推移" in text
    titles = [row[1] for row in calamine_rows(published.xlsx, "推移")[3:] if row and row[1]]
    assert any(title[:10] in text for title in titles)


def _ink(pdf: Path, folder: Path) -> list[float]:
    """The share of dark pixels on each page of ``pdf``, rendered in grey by poppler (PGM: header, then bytes)."""
    subprocess.run(["pdftoppm", "-gray", "-r", "30", str(pdf), str(folder / "page")], check=True)
    shares = []
    for page in sorted(folder.glob("page-*.pgm")):
        pixels = page.read_bytes().split(maxsplit=4)[4]
        shares.append(sum(1 for value in pixels if value < 160) / len(pixels))
    return shares


def test_no_page_of_the_pdf_is_blank_and_units_stand_upright(
    example: Example, soffice: tuple[str, Path], tmp_path: Path
) -> None:
    # The example has no targets: the charts' helper rows, visible and empty, pushed the first charts
    # past the table's page, and LibreOffice printed a blank page before them.
    result = consolidate_plan(example.plan, example.answers, tmp_path / "out")
    binary, profile = soffice
    pdf = convert_with_soffice(binary, profile, result.xlsx, "pdf", tmp_path)
    (pages := tmp_path / "pages").mkdir()
    shares = _ink(pdf, pages)
    assert len(shares) > 10 and min(shares) > 0.005, [round(share, 4) for share in shares]
    # The unit on the value axis (人, 件, %) is stacked upright, as Japanese vertical text, not on its side.
    value_axes = [
        text.split("<c:valAx>", 1)[1]
        for name, text in _parts(result.xlsx).items()
        if name.startswith("xl/charts/chart")
    ]
    titled = [axis for axis in value_axes if "<c:title>" in axis]  # a project without a unit has none
    assert len(titled) > 10 and all('vert="wordArtVert"' in axis for axis in titled)


def test_a_project_with_more_entries_than_a_chart_can_show_gets_a_note(
    example: Example, tmp_path: Path
) -> None:
    """Eleven entries of 事業1: every row stays in the table, the chart gives way to a note (workbook and
    HTML), and the other indicators keep theirs."""
    plan = example.plan
    first = next(p for p in plan.projects if p.no == 1)
    names = [f"課{index:02d}" for index in range(1, MAX_CHART_LINES + 2)]
    projects = tuple(
        dataclasses.replace(p, entries=tuple(Entry(name, (name,)) for name in names)) if p.no == 1 else p
        for p in plan.projects
    )
    departments = plan.departments + tuple(Department(name) for name in names)
    answers = [a for a in example.answers if a.project_no != 1] + [
        Answer(1, name, name, Value(Decimal(100 + index), first.unit), "研修を行った。")
        for index, name in enumerate(names)
    ]
    wide = dataclasses.replace(plan, projects=projects, departments=departments)
    result = consolidate_plan(wide, answers, tmp_path, html=True)

    rows = calamine_rows(result.xlsx, SHEET)
    assert [row[2] for row in rows[3:] if row and row[0] == 1.0] == names  # every entry in the table
    note = omitted_note(first, len(names))
    assert [row[0] for row in rows if row and row[0] == note] == [note]
    import openpyxl

    sheet = openpyxl.load_workbook(result.xlsx)[SHEET]
    at = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == note)
    # Across the whole table, so that all of it prints: text spilling past the last column does not.
    assert f"A{at}:{openpyxl.utils.get_column_letter(len(rows[2]))}{at}" in {
        str(m) for m in sheet.merged_cells.ranges
    }
    parts = _parts(result.xlsx)
    titles = "".join(text for name, text in parts.items() if name.startswith("xl/charts/chart"))
    assert f"<a:t>1 {first.indicator}" not in titles
    charted = {line.project.no for line in trend_lines(build_table(wide, answers))[1]} - {1}
    assert charted and sum(name.startswith("xl/charts/chart") for name in parts) == len(charted)
    other = next(p for p in plan.projects if p.no == min(charted))
    assert f"<a:t>{other.no} {other.indicator}" in titles  # how a chart's title reads in its part
    assert result.html is not None
    page = result.html.read_text(encoding="utf-8")
    assert f"<p>{note}</p>" in page and f"事業番号 1「{first.indicator}」の推移" not in page


def test_a_plan_without_targets_gets_no_empty_target_columns(example: Example, tmp_path: Path) -> None:
    result = consolidate_plan(example.plan, example.answers, tmp_path)
    header = calamine_rows(result.xlsx, SHEET)[2]
    assert header[:4] == ["事業番号", "数値目標", "担当課", "単位"] and header[-1] == "令和2年度"
    assert not {"目標値", "目標年度", "方向"} & set(header)


def test_the_trend_sheet_prints_whole(published: ConsolidationResult) -> None:
    """Read back with openpyxl: the wrapped header row and the rows of a wrapped 数値目標 are tall
    enough, a one-line row keeps the default height, and the target line is drawn from hidden rows."""
    import openpyxl

    sheet = openpyxl.load_workbook(published.xlsx)[SHEET]
    header = [cell.value for cell in sheet[3]]
    assert sheet.row_dimensions[3].height >= 2 * 11 * 1.45  # 現状値（27年度） on two lines
    heights = {}
    for row in range(4, sheet.max_row + 1):
        indicator = sheet.cell(row, header.index("数値目標") + 1).value
        if isinstance(sheet.cell(row, 1).value, int) and indicator:
            heights[indicator] = sheet.row_dimensions[row].height
    assert heights["女性人材バンクの登録者数"] is None  # one line: Excel's own height
    long = next(name for name in heights if len(name) > 22)  # wraps in a column of twenty-odd characters
    assert heights[long] is not None and heights[long] >= 2 * 11 * 1.45
    parts = _parts(published.xlsx)
    with_target = [
        text for name, text in parts.items() if name.startswith("xl/charts/") and "目標値（" in text
    ]
    # Without show_hidden_data() XlsxWriter writes plotVisOnly="1", and Excel leaves out the hidden rows.
    assert with_target and not any("<c:plotVisOnly" in text for text in with_target)


def test_whole_numbers_on_the_trend_sheet_have_no_trailing_point(published: ConsolidationResult) -> None:
    import openpyxl

    sheet = openpyxl.load_workbook(published.xlsx)[SHEET]
    formats = {(type(cell.value).__name__, cell.value == int(cell.value), cell.number_format)
               for row in sheet.iter_rows() for cell in row if isinstance(cell.value, (int, float))}  # fmt: skip
    # Excel shows 172 under #,##0.### as "172.": a whole number is written under #,##0.
    assert not [fmt for _, whole, fmt in formats if whole and fmt.endswith(".###")], formats
    assert ("float", False, "#,##0.###") in formats  # a decimal keeps its decimals
