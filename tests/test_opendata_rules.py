"""Open data by 総務省's rules: the 全国地方公共団体コード column from the 団体コード setting (check digit
verified), and no 機種依存文字 in the CSV — replaced there, and named cell by cell."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import openpyxl
import pandas
import pytest

import xlplan
from tests.conftest import fill_and_collect
from xlplan.cli import main
from xlplan.examples import Example
from xlplan.plan.codes import check_digit, municipality_code, platform_dependent
from xlplan.publish.consolidate import ConsolidationResult
from xlplan.workspace.folder import Workspace, init_workspace


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("code", "name"),
    [("412104", "小城市"), ("412015", "佐賀市"), ("011002", "札幌市"), ("131016", "千代田区")],
)
def test_real_codes_have_their_check_digit(code: str, name: str) -> None:
    assert check_digit(code[:5]) == int(code[5]) and municipality_code(code) == code, name
    wrong = code[:5] + str((int(code[5]) + 1) % 10)
    assert municipality_code(wrong) is None and municipality_code(code[:5]) is None


def test_the_example_csv_starts_with_ogis_code_and_has_no_platform_dependent_characters(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, example)
    result = xlplan.consolidate(workspace, csv=True)
    assert result.csv is not None
    rows = _rows(result.csv)
    assert next(iter(rows[0])) == "全国地方公共団体コード" and {
        row["全国地方公共団体コード"] for row in rows
    } == {"412104"}
    # A second reader, as a prefecture stacking cities' files would: the code stays six digits.
    frame = pandas.read_csv(result.csv, encoding="utf-8-sig", dtype=str)
    assert set(frame["全国地方公共団体コード"]) == {"412104"} and len(frame) == 86
    text = result.csv.read_text(encoding="utf-8-sig")
    assert platform_dependent(text) == ""
    # The seed numbers its goals Ⅰ… and its 基本事業 ①…: written I and 1 in the CSV, exact in the JSON.
    assert rows[0]["基本目標番号"] == "I" and rows[0]["基本事業番号"] == "1"
    assert result.json is not None
    document = json.loads(result.json.read_text(encoding="utf-8"))
    assert document["rows"][0]["基本目標番号"] == "Ⅰ"


def _published_with(tmp_path: Path, example: Example, project_no: int, narrative: str) -> ConsolidationResult:
    """The example collected and published with open data, ``narrative`` the departments' text for one project."""
    answers = [
        dataclasses.replace(a, narrative=narrative) if a.project_no == project_no else a
        for a in example.answers
    ]
    workspace = init_workspace(tmp_path / "ws", example.plan)
    fill_and_collect(workspace, dataclasses.replace(example, answers=tuple(answers)))
    return xlplan.consolidate(workspace, csv=True)


def test_a_platform_dependent_character_in_a_narrative_is_named(tmp_path: Path, example: Example) -> None:
    result = _published_with(tmp_path, example, 2, "講座を①②の2回、ｶﾞｲﾄﾞ付きで開催（㈱みらいに委託）")
    found = [f for f in result.findings if f.code == "opendata-platform-dependent"]
    assert len(found) == 1 and found[0].params["column"] == "今年度_実績内容" and found[0].params["no"] == 2
    assert found[0].params["characters"] == "①②ｶﾞｲﾄ㈱"  # each once
    message = found[0].message("ja")
    assert "機種依存文字" in message and f"{found[0].params['row']} 行目" in message
    assert result.csv is not None
    narrative = next(row for row in _rows(result.csv) if row["事業番号"] == "2")["今年度_実績内容"]
    assert (
        "講座を12の2回、ガイド付きで開催（(株)みらいに委託）" in narrative
    )  # a joint entry: one share of it


def test_an_ibm_extension_kanji_is_said_to_be_kept_not_replaced(tmp_path: Path, example: Example) -> None:
    result = _published_with(tmp_path, example, 3, "講師：髙橋氏、山﨑氏（①講演 ②意見交換）")
    replaced = [f for f in result.findings if f.code == "opendata-platform-dependent"]
    kept = [f for f in result.findings if f.code == "opendata-platform-dependent-kept"]
    assert [f.params["characters"] for f in replaced] == ["①②"]  # written as 1 and 2
    assert [f.params["characters"] for f in kept] == ["髙﨑"]  # no standard form: never said to be replaced
    assert "置き換えました" not in kept[0].message("ja") and "髙 → 高" in kept[0].message("ja")
    assert result.csv is not None
    narrative = next(row for row in _rows(result.csv) if row["事業番号"] == "3")["今年度_実績内容"]
    assert "髙橋氏、山﨑氏（1講演 2意見交換）" in narrative  # what the CSV holds is what the findings say


def test_a_wrong_code_is_a_master_finding_naming_its_cell(
    tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    book = openpyxl.load_workbook(workspace.master_path)
    sheet = book["設定"]
    row = next(cell.row for cell in sheet["A"] if cell.value == "団体コード")
    sheet.cell(row, 2).value = "412105"
    book.save(workspace.master_path)
    assert main(["plan", "show", "-w", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "(master-bad-municipality-code)" in err and f"B{row}" in err and "412105" in err
    # Typed as a number, a code with a leading zero is still read whole (011002, not 11002).
    sheet.cell(row, 2).value = 11002
    book.save(workspace.master_path)
    assert Workspace(workspace.root).load_plan().settings.municipality_code == "011002"
