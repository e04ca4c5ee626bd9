"""Identify and check returned workbooks: real files written by distribution, filled as a department
would (openpyxl), altered as departments do, then read by safe reading (:func:`read_return`, worker
process and limits) as collection reads them. One test per row of the issue's bad-input list that
concerns identification and checking, plus the example's 15 returns accepted with their answers."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from dataclasses import replace as dc_replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.workbook.workbook import Workbook

from tests.snapshots import snapshot_of
from xlplan.catalogue import CATALOGUE
from xlplan.collection.cells import displayed
from xlplan.collection.check import CheckResult, check_return, formula_hazard
from xlplan.collection.identify import Identity, identify
from xlplan.collection.read import read_return, read_returns
from xlplan.collection.snapshot import CellRead, SheetRead, Snapshot
from xlplan.demo.respond import fill_response
from xlplan.distribution.run import distribute
from xlplan.examples import Example, load_example
from xlplan.findings import Finding
from xlplan.form import layout, manifest
from xlplan.form.manifest import workspace_id
from xlplan.form.schema import is_valid, return_schema, schema_id, schema_problems
from xlplan.plan.model import Answer, Entry, Plan
from xlplan.plan.trend import is_huge_change
from xlplan.plan.values import Value
from xlplan.workspace.folder import Workspace, init_workspace
from xlplan.xlsx.cells import set_text

DEPARTMENT = "企画政策課"  # 21 rows: counts (人, 件, 回), a unitless decimal, marks, joint entries
OTHER = "社会福祉課"
PEOPLE_ROW = "P001-1-1"  # project 1, 人, joint with 生涯学習課; 90人 this year, 213人 last year
COUNT_ROW = "P005-1-1"  # project 5, 件
MARK_ROW = "P006-1-1"  # project 6, no indicator: ○ × — only
DECIMAL_ROW = "P020-1-1"  # project 20, an indicator without a unit
PERCENT_DEPARTMENT, PERCENT_ROW = "防災対策課", "P017-1-1"  # project 17, %


@dataclass(frozen=True)
class Returned:
    """A distributed workspace and every department's workbook filled with the example's answers."""

    workspace: Workspace
    example: Example
    files: dict[str, Path]

    def answers(self, department: str) -> list[Answer]:
        plan = self.example.plan
        return [a for a in self.example.answers if plan.canonical_department(a.department) == department]


@pytest.fixture(scope="module")
def returned(tmp_path_factory: pytest.TempPathFactory) -> Returned:
    example = load_example("ogi")
    root = tmp_path_factory.mktemp("check")
    workspace = init_workspace(root / "ws", example.plan)
    result = distribute(workspace)
    files: dict[str, Path] = {}
    folder = root / "returned"
    folder.mkdir()
    plan = example.plan
    for dispatch in result.departments:
        assert dispatch.workbook is not None
        answers = [
            a for a in example.answers if plan.canonical_department(a.department) == dispatch.department
        ]
        out = folder / f"{dispatch.department}.xlsx"
        fill_response(dispatch.workbook, answers, out)
        files[dispatch.department] = out
    return Returned(workspace, example, files)


@dataclass(frozen=True)
class Outcome:
    identity: Identity
    result: CheckResult

    @property
    def findings(self) -> list[Finding]:
        return [*self.identity.findings, *self.result.findings]

    def codes(self) -> list[str]:
        return [finding.code for finding in self.findings]

    def errors(self) -> list[str]:
        return [finding.code for finding in self.findings if finding.is_error]

    def only(self, code: str) -> Finding:
        found = [finding for finding in self.findings if finding.code == code]
        assert len(found) == 1, (code, self.codes())
        return found[0]

    def answer(self, project_no: int) -> Answer:
        return next(a for a in self.result.answers if a.project_no == project_no)


def _read(path: Path) -> Snapshot:
    """The file as collection reads it: safe reading, in a worker process."""
    return read_return(path)


def _check(
    returned: Returned, path: Path, snapshot: Snapshot | None = None, plan: Plan | None = None
) -> Outcome:
    key = returned.workspace.signing_key()
    snap = snapshot or _read(path)
    plan = plan or returned.example.plan
    identity = identify(plan, snap, key=key, workspace_id=workspace_id(key), file=path.name)
    return Outcome(identity, check_return(plan, snap, identity, file=path.name))


def _copy(returned: Returned, tmp_path: Path, department: str = DEPARTMENT, name: str = "回答.xlsx") -> Path:
    target = tmp_path / name
    shutil.copyfile(returned.files[department], target)
    return target


def _edit(path: Path, change: Callable[[Workbook], None]) -> None:
    workbook = openpyxl.load_workbook(path)
    change(workbook)
    workbook.save(path)
    workbook.close()


def _issued(path: Path) -> manifest.Manifest:
    chunks = _read(path).manifest_chunks
    assert chunks is not None
    return manifest.loads(chunks)


def _address(path: Path, row_id: str, key: str) -> str:
    """The A1 address of a row's column in the workbook as issued."""
    issued = _issued(path)
    row = next(item.row for item in issued.rows if item.row_id == row_id)
    return f"{openpyxl.utils.get_column_letter(issued.columns.index(key) + 1)}{row}"


def _set(path: Path, row_id: str, key: str, value: object, *, formula: bool = False) -> str:
    """Type ``value`` into a row's cell (text stays text unless ``formula``); returns the address."""
    address = _address(path, row_id, key)

    def change(workbook: Workbook) -> None:
        cell = workbook[layout.RESPONSE_SHEET][address]
        if isinstance(value, str) and not formula:
            set_text(cell, value)
        else:
            cell.value = value

    _edit(path, change)
    return address


def _japanese(finding: Finding, *words: str) -> str:
    message = finding.message()
    assert any(unicodedata.name(char, "").startswith(("CJK", "HIRAGANA", "KATAKANA")) for char in message)
    for word in words:
        assert word in message, (word, message)
    assert "{" not in message, message  # every placeholder filled
    english = finding.message("en")
    assert "{" not in english, english  # the English rendering too (XLPLAN_LANG=en)
    return message


def _placed(finding: Finding, row_id: str, column: str, cell: str | None = None) -> None:
    """The finding carries what feedback places it by, and the cell as found."""
    assert finding.params["row_id"] == row_id
    assert finding.params["column"] == column
    assert finding.params["project_no"] == int(row_id[1:4])
    assert finding.sheet == layout.RESPONSE_SHEET
    assert finding.file == "回答.xlsx"
    if cell is not None:
        assert finding.cell == cell


# ----------------------------------------------------------------------------------------
# the example: 15 returns accepted, answers read back
# ----------------------------------------------------------------------------------------


def test_the_examples_fifteen_returns_are_accepted_with_their_answers(returned: Returned) -> None:
    assert len(returned.files) == 15
    snapshots = dict(read_returns(returned.files.values()))
    for department, path in returned.files.items():
        snapshot = snapshots[path]
        assert isinstance(snapshot, Snapshot), snapshot
        assert snapshot.findings == ()
        outcome = _check(returned, path, snapshot)
        assert outcome.identity.department == department
        assert outcome.errors() == [], (department, [f.message() for f in outcome.findings if f.is_error])
        assert outcome.result.ok
        # The seed has entries with a mark and no narrative: a warning, never an error.
        assert set(outcome.codes()) <= {"narrative-missing", "narrative-unchanged", "value-large-change"}
        got = sorted(
            (a.project_no, a.entry, a.department, a.value.display(), a.narrative)
            for a in outcome.result.answers
        )
        want = sorted(
            (a.project_no, a.entry, a.department, a.value.display(), a.narrative)
            for a in returned.answers(department)
        )
        assert got == want, department


def test_safe_reading_and_a_plain_reading_give_the_same_snapshot(returned: Returned) -> None:
    """The check sees what is in the file: safe reading agrees with calamine plus the sheet XML."""
    for path in list(returned.files.values())[:3]:
        safe, plain = _read(path), snapshot_of(path)
        assert safe.manifest_chunks == plain.manifest_chunks
        assert safe.response is not None and plain.response is not None
        assert dict(safe.response.cells) == dict(plain.response.cells)


def test_the_document_read_is_valid_under_the_schema(returned: Returned) -> None:
    outcome = _check(returned, returned.files[DEPARTMENT])
    document = outcome.result.document
    assert document is not None
    assert schema_problems(document) == []
    assert document["department"] == DEPARTMENT and len(document["rows"]) == 21
    assert return_schema()["$id"] == schema_id() == "xlplan/return/1"
    narrative = return_schema()["$defs"]["row"]["properties"]["narrative"]
    assert narrative["maxLength"] == layout.NARRATIVE_MAX  # one limit, in the workbook and the schema


# ----------------------------------------------------------------------------------------
# identification
# ----------------------------------------------------------------------------------------


def test_manifest_removed_is_matched_by_content_and_waits_for_the_office(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path)
    _edit(path, lambda workbook: workbook.remove(workbook[layout.MANIFEST_SHEET]))
    outcome = _check(returned, path)
    assert outcome.identity.department == DEPARTMENT and outcome.identity.manifest is None
    assert not outcome.identity.verified  # the rows suggest a department; nothing proves it
    _japanese(
        outcome.only("return-matched-by-content"), DEPARTMENT, "提出元を証明できません", "xlplan review"
    )
    assert outcome.errors() == []
    assert len(outcome.result.answers) == len(returned.answers(DEPARTMENT))


def test_content_pasted_into_a_new_workbook_is_matched_by_content(returned: Returned, tmp_path: Path) -> None:
    source = openpyxl.load_workbook(returned.files[DEPARTMENT])
    new = openpyxl.Workbook()
    sheet = new.active
    assert sheet is not None
    sheet.title = "Sheet1"
    for row in source[layout.RESPONSE_SHEET].iter_rows():
        for cell in row:
            if cell.value is not None:
                sheet.cell(cell.row, cell.column).value = cell.value
    path = tmp_path / "回答.xlsx"
    new.save(path)
    outcome = _check(returned, path)
    assert outcome.identity.department == DEPARTMENT
    assert "return-matched-by-content" in outcome.codes()
    assert outcome.errors() == []
    assert outcome.answer(1).value.display() == "90人"


def test_rows_without_ids_are_matched_by_project_number_and_department(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path, OTHER)

    def change(workbook: Workbook) -> None:
        del workbook[layout.MANIFEST_SHEET]
        sheet = workbook[layout.RESPONSE_SHEET]
        for row in range(layout.FIRST_DATA_ROW, sheet.max_row + 1):
            sheet.cell(row, 1).value = None  # the 行ID column emptied

    _edit(path, change)
    outcome = _check(returned, path)
    assert outcome.identity.department == OTHER
    assert "return-matched-by-content" in outcome.codes()
    assert len(outcome.result.answers) == len(returned.answers(OTHER))
    # The row ids are grey cells too: clearing them is reported on each, and nothing else is wrong.
    errors = [finding for finding in outcome.findings if finding.is_error]
    assert {(f.code, f.params["column"]) for f in errors} == {("prefilled-changed", layout.ROW_ID)}


def test_a_file_naming_no_department_is_unidentified(returned: Returned, tmp_path: Path) -> None:
    new = openpyxl.Workbook()
    sheet = new.active
    assert sheet is not None
    sheet["A1"] = "実績"
    sheet["A2"] = 159
    path = tmp_path / "回答.xlsx"
    new.save(path)
    outcome = _check(returned, path)
    assert outcome.identity.department is None
    _japanese(outcome.only("unidentified-file"), "送付されたファイル")
    assert not outcome.result.ok and outcome.result.answers == ()


def test_another_departments_manifest_is_an_error(returned: Returned, tmp_path: Path) -> None:
    """B's _xlplan sheet copied into A's file: the signature is valid, but the rows are A's."""
    path = _copy(returned, tmp_path)
    theirs = _read(returned.files[OTHER]).manifest_chunks
    assert theirs is not None

    def change(workbook: Workbook) -> None:
        hidden = workbook[layout.MANIFEST_SHEET]
        for row in hidden.iter_rows():
            for cell in row:
                cell.value = None
        for index, chunk in enumerate(theirs, start=1):
            hidden.cell(index, 1).value = chunk

    _edit(path, change)
    outcome = _check(returned, path)
    _japanese(outcome.only("manifest-other-department"), OTHER, DEPARTMENT, "自課あてに送付されたファイル")
    assert outcome.result.answers == ()  # neither department's rows are read
    assert not outcome.result.ok


def test_another_departments_row_in_a_file_is_never_read(returned: Returned, tmp_path: Path) -> None:
    """A's file with one of B's rows pasted below A's: an error, and B's row is not among the answers."""
    path = _copy(returned, tmp_path)
    theirs = openpyxl.load_workbook(returned.files[OTHER])[layout.RESPONSE_SHEET]
    their_row = [cell.value for cell in theirs[layout.FIRST_DATA_ROW + 1]]  # P021-1-1, project 21

    def change(workbook: Workbook) -> None:
        sheet = workbook[layout.RESPONSE_SHEET]
        sheet.append(their_row)

    _edit(path, change)
    outcome = _check(returned, path)
    finding = outcome.only("row-not-assigned")
    assert finding.params["row_id"] == "P021-1-1"
    _japanese(finding, "21", DEPARTMENT, "自課の行だけ")
    assert all(answer.project_no != 21 for answer in outcome.result.answers)
    assert not outcome.result.ok


def test_a_row_the_office_gave_to_another_department_after_sending_is_not_the_departments_error(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path)
    plan = returned.example.plan
    moved = replace(plan.project(20), entries=(Entry(OTHER, (OTHER,)),))  # 企画政策課's row, now 社会福祉課's
    changed = replace(plan, projects=tuple(moved if p.no == 20 else p for p in plan.projects))
    outcome = _check(returned, path, plan=changed)
    finding = outcome.only("row-reassigned")
    assert not finding.is_error and finding.params["row_id"] == DECIMAL_ROW
    _japanese(finding, "20", DEPARTMENT, "配布し直して", "直してもらうことはありません")
    assert "row-not-assigned" not in outcome.codes()
    assert outcome.result.ok  # accepted: no 差し戻し for what the office changed
    assert all(answer.project_no != 20 for answer in outcome.result.answers)


def test_a_manifest_edited_to_claim_another_departments_rows_fails_its_signature(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path)
    issued = _issued(path)
    theirs = _issued(returned.files[OTHER])
    forged = replace(issued, rows=(*issued.rows, theirs.rows[1]))  # signature kept from the original

    def change(workbook: Workbook) -> None:
        hidden = workbook[layout.MANIFEST_SHEET]
        for index, chunk in enumerate(manifest.dumps(forged), start=1):
            hidden.cell(index, 1).value = chunk

    _edit(path, change)
    outcome = _check(returned, path)
    _japanese(outcome.only("manifest-bad-signature"), "照会元から送付されたファイル")
    # A manifest that does not verify proves nothing: the department is only suggested by the
    # rows, and the other department's row that the forged manifest lists is never read.
    assert not outcome.identity.verified
    assert all(answer.project_no != theirs.rows[1].project_no for answer in outcome.result.answers)


def test_an_unreadable_manifest_is_said_in_japanese_with_the_library_text_kept_aside(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path)
    broken = replace(_issued(path), fiscal_year="令和2年度")  # type: ignore[arg-type]

    def change(workbook: Workbook) -> None:
        hidden = workbook[layout.MANIFEST_SHEET]
        for index, chunk in enumerate(manifest.dumps(broken), start=1):
            hidden.cell(index, 1).value = chunk

    _edit(path, change)
    finding = _check(returned, path).only("manifest-unreadable")
    message = _japanese(finding, "管理情報", "照会元から送付されたファイル")
    assert "int()" not in message and "literal" not in message, message  # Python's words stay out …
    assert "int()" in finding.params["detail"]  # … and are kept for whoever investigates


@pytest.mark.parametrize(
    ("field", "value", "code", "word"),
    [
        ("fiscal_year", 2019, "manifest-other-year", "令和元年度"),
        ("round", 2, "manifest-other-round", "第2回"),
        ("plan", "第1次小城市男女共同参画プラン", "manifest-other-plan", "第1次"),
        ("template_version", "0", "manifest-template-version", "様式"),
        ("workspace_id", "0123456789abcdef", "manifest-other-workspace", "別の作業フォルダ"),
    ],
)
def test_a_manifest_of_another_year_round_plan_or_workspace_is_an_error(
    returned: Returned, tmp_path: Path, field: str, value: object, code: str, word: str
) -> None:
    """Signed with the workspace key, as last year's file from the same workspace would be."""
    path = _copy(returned, tmp_path)
    other = manifest.sign(replace(_issued(path), **{field: value}), returned.workspace.signing_key())

    def change(workbook: Workbook) -> None:
        for index, chunk in enumerate(manifest.dumps(other), start=1):
            workbook[layout.MANIFEST_SHEET].cell(index, 1).value = chunk

    _edit(path, change)
    outcome = _check(returned, path)
    _japanese(outcome.only(code), word)
    assert "manifest-bad-signature" not in outcome.codes()
    assert not outcome.result.ok


def test_deleted_rows_are_errors_and_the_rest_is_read(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    _edit(
        path, lambda workbook: workbook[layout.RESPONSE_SHEET].delete_rows(layout.FIRST_DATA_ROW + 1)
    )  # P002
    outcome = _check(returned, path)
    finding = outcome.only("row-missing")
    assert finding.params["row_id"] == "P002-1-1" and finding.params["column"] == layout.ROW_ID
    _japanese(finding, "事業番号 2", "元に戻して")
    assert "rows-moved" in outcome.codes()  # the rows below moved up one
    assert len(outcome.result.answers) == len(returned.answers(DEPARTMENT)) - 1
    assert outcome.answer(5).value.display() == "1件"  # read at its new place by its row id
    assert not outcome.result.ok


def test_inserted_and_reordered_rows_are_tolerated_and_reported(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)

    def change(workbook: Workbook) -> None:
        sheet = workbook[layout.RESPONSE_SHEET]
        first = layout.FIRST_DATA_ROW
        # Swap the first two rows' contents, then insert an empty row between them.
        one = [cell.value for cell in sheet[first]]
        two = [cell.value for cell in sheet[first + 1]]
        for column, (a, b) in enumerate(zip(one, two, strict=True), start=1):
            sheet.cell(first, column).value = b
            sheet.cell(first + 1, column).value = a
        sheet.insert_rows(first + 1)

    _edit(path, change)
    outcome = _check(returned, path)
    assert outcome.errors() == [], [f.message() for f in outcome.findings if f.is_error]
    _japanese(outcome.only("rows-moved"), "行IDで読み取った")
    assert outcome.result.ok
    got = sorted((a.project_no, a.department, a.value.display(), a.narrative) for a in outcome.result.answers)
    want = sorted(
        (a.project_no, a.department, a.value.display(), a.narrative) for a in returned.answers(DEPARTMENT)
    )
    assert got == want


def test_a_row_typed_below_the_table_is_reported_as_not_read(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    _edit(path, lambda workbook: workbook[layout.RESPONSE_SHEET].append([None, "追加の取り組み", 3]))
    outcome = _check(returned, path)
    _japanese(outcome.only("row-extra"), "読み取っていません")
    assert outcome.result.ok  # a warning: nothing the department sent was lost silently


def test_a_duplicated_row_is_an_error(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    sheet = openpyxl.load_workbook(path)[layout.RESPONSE_SHEET]
    copy = [cell.value for cell in sheet[layout.FIRST_DATA_ROW]]
    _edit(path, lambda workbook: workbook[layout.RESPONSE_SHEET].append(copy))
    outcome = _check(returned, path)
    _japanese(outcome.only("row-duplicate"), PEOPLE_ROW, "1行だけ")
    assert all(answer.project_no != 1 for answer in outcome.result.answers)


def test_external_link_parts_are_an_error(returned: Returned) -> None:
    path = returned.files[DEPARTMENT]
    snap = replace(_read(path), external_links=("xl/externalLinks/externalLink1.xml",))
    outcome = _check(returned, path, snap)
    _japanese(outcome.only("external-link"), "リンク", "削除")
    assert not outcome.result.ok


# ----------------------------------------------------------------------------------------
# values
# ----------------------------------------------------------------------------------------


def test_a_prefilled_cell_changed_is_an_error_on_that_cell(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    address = _set(path, PEOPLE_ROW, layout.PREVIOUS_VALUE, 250)  # last year's 213 "corrected"
    outcome = _check(returned, path)
    finding = outcome.only("prefilled-changed")
    _placed(finding, PEOPLE_ROW, layout.PREVIOUS_VALUE, address)
    _japanese(finding, "事業番号 1", "灰色のセル", "213", "戻して")
    assert not outcome.result.ok


def test_text_in_a_number_cell_is_an_error(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    address = _set(path, COUNT_ROW, layout.CURRENT_VALUE, "たくさん")
    outcome = _check(returned, path)
    finding = outcome.only("value-not-a-number")
    _placed(finding, COUNT_ROW, layout.CURRENT_VALUE, address)
    _japanese(finding, "事業番号 5", "「たくさん」", "数字だけを半角で入力")
    assert finding.params["value"] == "たくさん"  # feedback writes it back into the cell
    assert outcome.answer(5).value.is_blank
    assert not outcome.result.ok


def test_a_value_with_the_wrong_unit_is_an_error_never_converted(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    address = _set(path, PEOPLE_ROW, layout.CURRENT_VALUE, "159件")
    outcome = _check(returned, path)
    finding = outcome.only("value-unit-mismatch")
    _placed(finding, PEOPLE_ROW, layout.CURRENT_VALUE, address)
    assert finding.message() == (
        "事業番号 1 の今年度の値「159件」の単位が違います。単位は「人」です。数字だけを入力してください。"
    )
    assert outcome.answer(1).value.is_blank
    assert not outcome.result.ok


def test_a_variant_mark_is_normalised_with_a_warning(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    address = _set(path, MARK_ROW, layout.CURRENT_VALUE, "〇")  # U+3007
    outcome = _check(returned, path)
    finding = outcome.only("value-mark-variant")
    assert not finding.is_error
    _placed(finding, MARK_ROW, layout.CURRENT_VALUE, address)
    _japanese(finding, "「〇」", "「○」", "リストから選んで")
    assert outcome.answer(6).value.display() == "○"
    assert outcome.result.ok


def test_full_width_digits_are_read_with_a_warning(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    _set(path, PEOPLE_ROW, layout.CURRENT_VALUE, "１５９")
    outcome = _check(returned, path)
    finding = outcome.only("value-normalised")
    assert finding.message() == (
        "事業番号 1 の今年度の値「１５９」を数値 159（単位「人」）として読み取りました（全角の文字を半角に直しました、"
        "文字として入力された数値を数値にしました）。正しいか確認してください。次回からは数字だけを半角で入力してください。"
    )
    assert outcome.answer(1).value.display() == "159人"
    assert outcome.result.ok


def test_a_number_typed_with_its_own_unit_is_read_with_a_warning(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    _set(path, PEOPLE_ROW, layout.CURRENT_VALUE, "1,957人")
    outcome = _check(returned, path)
    message = _japanese(outcome.only("value-normalised"), "数字だけ")
    # what was read, said apart from what was typed: never 「1,957人」を「1,957人」として
    assert "「1,957人」を数値 1,957（単位「人」）として読み取りました" in message, message
    assert outcome.answer(1).value.display() == "1,957人"
    assert outcome.result.ok


@pytest.mark.parametrize(
    ("department", "row_id", "value", "code", "words"),
    [
        (DEPARTMENT, PEOPLE_ROW, 12.5, "value-not-whole", ("整数",)),
        (DEPARTMENT, PEOPLE_ROW, -3, "value-out-of-range", ("0以上",)),
        (PERCENT_DEPARTMENT, PERCENT_ROW, 120, "value-out-of-range", ("0〜100",)),
        (DEPARTMENT, MARK_ROW, 3, "value-not-a-mark", ("○", "×", "—")),
        (DEPARTMENT, MARK_ROW, "実施", "value-not-a-mark", ("選んで",)),
        (DEPARTMENT, DECIMAL_ROW, "7人", "value-unexpected-unit", ("単位「人」", "数字だけ")),
        # The right unit with words after it is not a wrong unit: 「単位が違います。単位は「人」です」 would
        # contradict what the department typed.
        (DEPARTMENT, PEOPLE_ROW, "20人程度", "value-not-a-number", ("「20人程度」", "数字だけ")),
        (DEPARTMENT, PEOPLE_ROW, None, "value-missing", ("入力されていません", "×")),
        # More digits than Excel keeps: the table, the CSV and the page would each round it otherwise.
        (DEPARTMENT, DECIMAL_ROW, "33.3333333333333333", "value-too-precise", ("15 桁",)),
        (DEPARTMENT, PEOPLE_ROW, "12345678901234567", "value-too-precise", ("「12345678901234567」",)),
    ],
)
def test_values_outside_the_input_rule_are_errors(
    returned: Returned,
    tmp_path: Path,
    department: str,
    row_id: str,
    value: object,
    code: str,
    words: Sequence[str],
) -> None:
    path = _copy(returned, tmp_path, department)
    address = _set(path, row_id, layout.CURRENT_VALUE, value)
    outcome = _check(returned, path)
    finding = outcome.only(code)
    _placed(finding, row_id, layout.CURRENT_VALUE, address)
    _japanese(finding, *words)
    assert not outcome.result.ok


def test_a_decimal_in_a_unitless_indicator_is_accepted(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    _set(path, DECIMAL_ROW, layout.CURRENT_VALUE, 1.45)
    outcome = _check(returned, path)
    assert outcome.errors() == []
    assert outcome.answer(20).value.display() == "1.45"


# ----------------------------------------------------------------------------------------
# read as displayed: the number format is part of the value
# ----------------------------------------------------------------------------------------


def _set_formatted(path: Path, row_id: str, value: float, number_format: str) -> str:
    """Store ``value`` with ``number_format``, as a spreadsheet does when a person types "41.2%"."""
    address = _address(path, row_id, layout.CURRENT_VALUE)

    def change(workbook: Workbook) -> None:
        cell = workbook[layout.RESPONSE_SHEET][address]
        cell.value = value
        cell.number_format = number_format

    _edit(path, change)
    return address


@pytest.mark.parametrize(
    ("number_format", "cell_showed"), [("0.0%", "41.2%"), ("0%", "41%"), ("0.00%", "41.20%")]
)
def test_a_percentage_typed_with_its_sign_is_read_as_displayed(
    returned: Returned, tmp_path: Path, number_format: str, cell_showed: str
) -> None:
    path = _copy(returned, tmp_path, PERCENT_DEPARTMENT)
    address = _set_formatted(path, PERCENT_ROW, 0.412, number_format)
    outcome = _check(returned, path)
    assert outcome.answer(17).value.display() == "41.2%"  # never 0.412
    finding = outcome.only("value-percent-sign")
    assert not finding.is_error
    _placed(finding, PERCENT_ROW, layout.CURRENT_VALUE, address)
    _japanese(finding, "「41.2%」", f"セルの表示は「{cell_showed}」")  # LibreOffice shows 41% under 0%
    assert outcome.result.ok


def test_a_date_in_a_count_is_quoted_as_the_cell_showed_it(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    address = _address(path, PEOPLE_ROW, layout.CURRENT_VALUE)

    def change(workbook: Workbook) -> None:  # a date pasted into the cell, shown 4月1日
        cell = workbook[layout.RESPONSE_SHEET][address]
        cell.value, cell.number_format = dt.datetime(2026, 4, 1), 'm"月"d"日"'

    _edit(path, change)
    outcome = _check(returned, path)
    _japanese(outcome.only("value-not-a-number"), "「4月1日」")


def test_a_percentage_over_a_hundred_typed_with_its_sign_is_out_of_range(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path, PERCENT_DEPARTMENT)
    _set_formatted(path, PERCENT_ROW, 1.5, "0%")  # shows 150%; stored 1.5 is within 0–100
    outcome = _check(returned, path)
    _japanese(outcome.only("value-out-of-range"), "「150%」")
    assert not outcome.result.ok


def test_a_unit_in_the_number_format_is_part_of_the_value(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    address = _set_formatted(path, PEOPLE_ROW, 159, '0"件"')  # shows 159件 in a 人 row
    outcome = _check(returned, path)
    finding = outcome.only("value-unit-mismatch")
    _placed(finding, PEOPLE_ROW, layout.CURRENT_VALUE, address)
    _japanese(finding, "「159件」", "「人」")
    assert outcome.answer(1).value.is_blank


def test_a_currency_format_on_a_count_is_not_the_count(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    # LibreOffice's currency button on a 人 cell: the cell shows ¥69, which is not 69人.
    address = _set_formatted(path, PEOPLE_ROW, 69, "[$¥-411]#,##0;-[$¥-411]#,##0")
    outcome = _check(returned, path)
    finding = outcome.only("value-unit-mismatch")
    _placed(finding, PEOPLE_ROW, layout.CURRENT_VALUE, address)
    _japanese(finding, "「¥69」")
    assert outcome.answer(1).value.is_blank


@pytest.mark.parametrize("beside", ["row", "title"])
def test_a_note_typed_right_of_the_form_is_said_not_to_be_read(
    returned: Returned, tmp_path: Path, beside: str
) -> None:
    path = _copy(returned, tmp_path)
    issued = _issued(path)
    row = next(item.row for item in issued.rows if item.row_id == PEOPLE_ROW) if beside == "row" else 2
    beyond = f"{openpyxl.utils.get_column_letter(len(issued.columns) + 1)}{row}"  # right of 今年度の実績内容

    def change(workbook: Workbook) -> None:  # the sheet unprotected, a note typed beside the row
        set_text(workbook[layout.RESPONSE_SHEET][beyond], "メモ: 数値は速報値")

    _edit(path, change)
    outcome = _check(returned, path)
    finding = outcome.only("cells-outside-form")
    assert not finding.is_error and (finding.sheet, finding.cell) == (layout.RESPONSE_SHEET, beyond)
    _japanese(finding, beyond, "「メモ: 数値は速報値」", "読み取らず")
    assert outcome.result.ok


def test_a_column_the_department_inserted_is_said_not_to_be_read(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    issued = _issued(path)
    row = next(item.row for item in issued.rows if item.row_id == PEOPLE_ROW)

    def change(workbook: Workbook) -> None:  # the sheet unprotected, a column of its own inserted at G
        sheet = workbook[layout.RESPONSE_SHEET]
        sheet.insert_cols(7)
        set_text(sheet.cell(layout.HEADER_ROW, 7), "課内メモ")
        set_text(sheet.cell(row, 7), "要確認")

    _edit(path, change)
    outcome = _check(returned, path)
    finding = outcome.only("cells-outside-form")
    _japanese(finding, f"G{layout.HEADER_ROW}", f"G{row}", "「課内メモ」")
    assert outcome.result.ok and outcome.answer(1).value.display() == "90人"  # the rest read as before


def test_the_distributed_literal_percent_format_reads_the_number_typed(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path, PERCENT_DEPARTMENT)
    _set_formatted(path, PERCENT_ROW, 41.2, 'General"%"')
    outcome = _check(returned, path)
    assert outcome.answer(17).value.display() == "41.2%"
    assert "value-percent-sign" not in outcome.codes()
    assert outcome.errors() == []


@pytest.mark.parametrize(
    ("value", "code", "shown"),
    [
        (0.412, "0.0%", "41.2%"),
        (0.5, "0%", "50%"),
        (41.2, 'General"%"', "41.2%"),  # % as quoted text: the number as typed
        (0.5, "0.0\\%", "0.5%"),  # % escaped: text too
        (9, "#,##0\\回", "9回"),  # LibreOffice writes #,##0"回" back this way
        (159, '0"件"', "159件"),
        (1957, "#,##0", None),  # separators do not change the value
        (3, "[Red]0_);[Blue](0)", None),
        (3, "@", None),
        ("41.2%", "0.0%", None),  # text is read as the text
        (69, "[$¥-411]#,##0;-[$¥-411]#,##0", "¥69"),  # LibreOffice's currency button
        (69, '"¥"#,##0', "¥69"),  # the text before the number stays before it
        (1234567, '#,##0,"千円"', "1234.567千円"),  # shown in thousands: 1,235千円
        (3.5, "# ?/?", None),  # a fraction is the same number shown another way
        (52, '[<0]"△"#,##0;#,##0', None),  # the section for 52 has no text: before, 「△52」
        (52, '[>=1000]#,##0,"千";0', None),  # …nor this one: before, 「0.052千」
    ],
)
def test_a_number_as_its_format_displays_it(value: object, code: str, shown: str | None) -> None:
    assert displayed(value, code) == shown  # type: ignore[arg-type]


def test_a_thousands_separator_format_changes_nothing(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    _set_formatted(path, PEOPLE_ROW, 1957, "#,##0")
    outcome = _check(returned, path)
    assert outcome.answer(1).value.number == 1957
    assert outcome.errors() == []
    assert not {"value-normalised", "value-percent-sign"} & set(outcome.codes())


@pytest.mark.parametrize(
    ("stored", "number_format", "shown"),
    [
        (dt.datetime(2021, 4, 1), 'm"月"d"日"', "4月1日"),  # "4月1日" typed into a cell that is not text
        (dt.datetime(2021, 4, 1), "yyyy/m/d", "2021/4/1"),
        (dt.datetime(2021, 4, 1), '[$-411]ggge"年"m"月"d"日"', "令和3年4月1日"),
        (dt.time(13, 30), 'h"時"mm"分"', "13時30分"),
        (0.5, "0%", "50%"),
        (1234.5, "#,##0.0", "1,234.5"),
        (1234, '"¥"#,##0;"¥"\\-#,##0', "¥1,234"),  # the format's text where it stands
        (1234, '#,##0"円"', "1,234円"),
        (-1234, "#,##0 ;(#,##0)", "(1,234)"),
        (dt.datetime(2021, 4, 1), "[$-F800]dddd, mmmm dd, yyyy", "2021年4月1日"),  # Excel's 長い日付形式
        (12, "General", "12"),
        # What LibreOffice gives text typed into a cell that is not text: shown through its format.
        (1500, "0.00E+00", "1.50E+03"),  # 1.5E3
        (0.412, "0%", "41%"),  # 41.2%, rounded as the cell shows it
        (3.5, "# ?/?", "3 1/2"),
        (12.6, "0", "13"),
        (1.5, "0.0#", "1.5"),
        (1234.5, "[$¥-411]#,##0.0", "¥1,234.5"),  # LibreOffice's currency button
        (1500, "##0.0E+0", "1500"),  # an engineering format is not read here: as stored, never half
        (12, '0.00"%"', "12.00%"),  # a quoted % is text: no times 100
        (1234567, '#,##0,"千円"', "1,235千円"),  # a comma after the digits divides by a thousand
        (150, '[<100]0"件未満";0"件以上"', "150件以上"),  # the section its condition picks
        (0, '#,##0;(#,##0);"-"', "-"),  # zero's own section
        (5, "00", "05"),
        (0.5, "#.##", ".5"),
        (-0.001, "0.00", "0.00"),  # never -0.00
        (0.1 + 0.2, "General", "0.3"),  # as Excel keeps a float: 15 significant digits
        (12, 'General"人"', "12人"),
        (-1234, '"△"#,##0', "-△1,234"),  # a minus the section does not print goes before its text
        (-5, '[<0]"△"0;0', "△5"),  # a section for negatives by its condition prints the sign itself
    ],
)
def test_a_narrative_a_spreadsheet_made_a_date_or_a_number_is_read_as_it_was_shown(
    returned: Returned, tmp_path: Path, stored: object, number_format: str, shown: str
) -> None:
    path = _copy(returned, tmp_path)
    address = _address(path, PEOPLE_ROW, layout.CURRENT_NARRATIVE)

    def change(workbook: Workbook) -> None:
        cell = workbook[layout.RESPONSE_SHEET][address]
        cell.value, cell.number_format = stored, number_format

    _edit(path, change)
    outcome = _check(returned, path)
    assert outcome.answer(1).narrative == shown
    assert outcome.errors() == []


# ----------------------------------------------------------------------------------------
# formulas
# ----------------------------------------------------------------------------------------


def _with_cached_value(path: Path, address: str, cached: str, *, error: bool = False) -> None:
    """Give a formula cell the cached result Excel would have saved (openpyxl saves none); with
    ``error``, an error value (``t="e"``, as Excel saves #DIV/0!)."""
    member = "xl/worksheets/sheet1.xml"  # 回答 is the first sheet
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts[member].decode("utf-8")
    xml, count = re.subn(
        rf'(<c r="{address}"[^>]*>\s*<f>[^<]*</f>)\s*(<v\s*/>|<v></v>)?', rf"\1<v>{cached}</v>", xml
    )
    if error:
        xml = re.sub(rf'<c r="{address}"(?: t="\w+")?', f'<c r="{address}" t="e"', xml)
    assert count == 1
    parts[member] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_a_formula_s_percentage_is_read_as_excel_keeps_and_shows_it(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path, PERCENT_DEPARTMENT)
    address = _set(path, PERCENT_ROW, layout.CURRENT_VALUE, "=0.1+0.2", formula=True)

    def percent(workbook: Workbook) -> None:
        workbook[layout.RESPONSE_SHEET][address].number_format = "0%"

    _edit(path, percent)
    # What Excel saves as the result: 17 digits. It keeps 15 and the cell shows 30%, so 30% is
    # what was given, not a number too precise to publish.
    _with_cached_value(path, address, "0.30000000000000004")
    outcome = _check(returned, path)
    assert "value-too-precise" not in outcome.codes()
    assert outcome.answer(17).value.display() == "30%"


def test_a_formula_in_a_value_cell_uses_its_cached_value_with_a_warning(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path)
    address = _set(path, PEOPLE_ROW, layout.CURRENT_VALUE, "=1+1", formula=True)
    _with_cached_value(path, address, "2")
    outcome = _check(returned, path)
    finding = outcome.only("formula-in-input")
    _placed(finding, PEOPLE_ROW, layout.CURRENT_VALUE, address)
    _japanese(finding, "=1+1", "「2」", "値を入力")
    assert outcome.answer(1).value.display() == "2人"
    assert outcome.result.ok


def test_a_formula_without_a_saved_result_is_an_error(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    address = _set(
        path, PEOPLE_ROW, layout.CURRENT_VALUE, "=1+1", formula=True
    )  # openpyxl saves no cached value
    outcome = _check(returned, path)
    finding = outcome.only("formula-no-value")
    _placed(finding, PEOPLE_ROW, layout.CURRENT_VALUE, address)
    _japanese(finding, "=1+1", "値を入力")
    assert "value-missing" not in outcome.codes()  # one problem, one finding
    assert not outcome.result.ok


def test_a_formula_whose_result_is_an_error_is_quoted_as_it_showed(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path)
    address = _set(path, PEOPLE_ROW, layout.CURRENT_VALUE, "=1/0", formula=True)
    _with_cached_value(path, address, "#DIV/0!", error=True)
    outcome = _check(returned, path)
    # Not 「計算結果が保存されていません」: the cell showed #DIV/0!, and the message says so.
    assert "formula-no-value" not in outcome.codes()
    _japanese(outcome.only("value-not-a-number"), "「#DIV/0!」")
    assert not outcome.result.ok


@pytest.mark.parametrize(
    ("formula", "reason"),
    [
        ('=HYPERLINK("http://example.invalid/x","詳細")', "HYPERLINK"),
        ('=WEBSERVICE("http://example.invalid/?q=1")', "WEBSERVICE"),
    ],
)
def test_a_formula_reaching_outside_in_a_narrative_is_an_error(
    returned: Returned, tmp_path: Path, formula: str, reason: str
) -> None:
    path = _copy(returned, tmp_path)
    address = _set(path, PEOPLE_ROW, layout.CURRENT_NARRATIVE, formula, formula=True)
    _with_cached_value(path, address, "0")
    outcome = _check(returned, path)
    finding = outcome.only("formula-dangerous")
    _placed(finding, PEOPLE_ROW, layout.CURRENT_NARRATIVE, address)
    _japanese(finding, reason, "数式を削除")
    assert not outcome.result.ok


def test_text_that_looks_like_a_formula_stays_text(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    _set(path, PEOPLE_ROW, layout.CURRENT_NARRATIVE, "=1+1 は計算式ではなく文章です")
    outcome = _check(returned, path)
    assert not any(code.startswith("formula-") for code in outcome.codes())
    assert outcome.answer(1).narrative == "=1+1 は計算式ではなく文章です"
    assert outcome.result.ok


@pytest.mark.parametrize(
    ("formula", "hazardous"),
    [
        ("1+1", False),
        ("SUM(A1:A3)", False),
        ('"a|b"&"[1]x!"', False),  # text only
        ('HYPERLINK("x")', True),
        ('hyperlink("x")', True),
        ('_xlfn.WEBSERVICE("http://x")', True),
        ('_xlfn.FILTERXML(A1,"//a")', True),
        ('CALL("kernel32","x","J")', True),
        ('REGISTER.ID("a","b")', True),
        ("cmd|' /C calc'!A0", True),  # DDE
        ("[1]Sheet1!A1", True),
        ("'C:\\dir\\[Book.xlsx]Sheet1'!A1*2", True),
        ("'\\\\server\\share\\[b.xlsx]s'!A1", True),
        ('INDIRECT("A"&1)', True),
        ("MYHYPERLINKS(1)", False),  # a name merely containing one
    ],
)
def test_formula_hazards(formula: str, hazardous: bool) -> None:
    assert (formula_hazard(formula) is not None) == hazardous


# ----------------------------------------------------------------------------------------
# narratives
# ----------------------------------------------------------------------------------------


def test_a_narrative_over_the_limit_is_an_error(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    address = _set(path, PEOPLE_ROW, layout.CURRENT_NARRATIVE, "あ" * 40_000)
    outcome = _check(returned, path)
    finding = outcome.only("narrative-too-long")
    _placed(finding, PEOPLE_ROW, layout.CURRENT_NARRATIVE, address)
    assert finding.params["length"] > layout.NARRATIVE_MAX
    _japanese(finding, "上限の2,000字", "2,000字以内に短く")
    assert not outcome.result.ok


def test_a_blank_narrative_is_a_warning(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    address = _set(path, COUNT_ROW, layout.CURRENT_NARRATIVE, None)
    outcome = _check(returned, path)
    finding = next(f for f in outcome.findings if f.code == "narrative-missing" and f.cell == address)
    assert not finding.is_error
    _placed(finding, COUNT_ROW, layout.CURRENT_NARRATIVE, address)
    _japanese(finding, "実績内容", "記入してください")
    assert outcome.result.ok


def test_last_years_narrative_copied_is_a_warning(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path)
    plan = returned.example.plan
    previous = plan.settings.previous_year
    # The example's history has last year's values only; give project 5 last year's narrative.
    narrative = "男女共同参画ネットワークへ講座の情報提供を行った。"
    history = tuple(
        dc_replace(record, narrative=narrative)
        if (record.project_no, record.fiscal_year, record.department) == (5, previous, None)
        else record
        for record in plan.history
    )
    assert history != plan.history
    _set(path, COUNT_ROW, layout.CURRENT_NARRATIVE, "男女共同参画ネットワークへ\n講座の情報提供を行った。")
    outcome = _check(returned, path, plan=dc_replace(plan, history=history))
    finding = outcome.only("narrative-unchanged")
    _placed(finding, COUNT_ROW, layout.CURRENT_NARRATIVE)
    _japanese(finding, "前年度の実績内容と同じ", "今年度の取り組み")
    assert outcome.result.ok


def test_a_large_change_without_a_narrative_is_a_warning(returned: Returned, tmp_path: Path) -> None:
    path = _copy(returned, tmp_path, OTHER)
    # Project 21: 1,753人 last year; 500人 this year, and the narrative left empty.
    _set(path, "P021-1-1", layout.CURRENT_VALUE, 500)
    address = _set(path, "P021-1-1", layout.CURRENT_NARRATIVE, None)
    outcome = _check(returned, path)
    finding = outcome.only("value-large-change")
    _placed(finding, "P021-1-1", layout.CURRENT_NARRATIVE, address)
    _japanese(finding, "500人", "1,753人", "理由")
    assert outcome.result.ok


def test_a_hundredfold_change_is_asked_about_only_when_it_is_large_too() -> None:
    assert is_huge_change(Value(number=Decimal(27), unit="人"), Value(number=Decimal(43556), unit="人"))
    # 1人 → 100人: a project's first full year, not a date typed (a difference under 1,000).
    assert not is_huge_change(Value(number=Decimal(1), unit="人"), Value(number=Decimal(100), unit="人"))


def test_a_date_typed_into_a_count_is_asked_about_even_with_a_narrative(
    returned: Returned, tmp_path: Path
) -> None:
    path = _copy(returned, tmp_path, OTHER)
    # Project 21: 1,753人 last year. "2019/4/1" typed into the count is stored as 43556 and shown 43,556人;
    # the narrative is filled, so the large-change question (which asks for one) said nothing.
    _set_formatted(path, "P021-1-1", 435560, '#,##0"人"')
    outcome = _check(returned, path)
    finding = outcome.only("value-huge-change")
    _japanese(finding, "435,560人", "1,753人", "日付")
    assert "value-large-change" not in outcome.codes() and outcome.result.ok


# ----------------------------------------------------------------------------------------
# the schema, and anything typed into the yellow cells
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "keyword"),
    [
        (("rows", 0, "row_id"), "P01-1-1", "pattern"),
        (("rows", 0, "project_no"), "1", "type"),
        (("rows", 0, "value"), True, "type"),
        (("rows", 0, "value"), "x" * 101, "maxLength"),
        (("rows", 0, "narrative"), "あ" * (layout.NARRATIVE_MAX + 1), "maxLength"),
        (("rows", 0, "narrative"), "", "minLength"),
        (("fiscal_year",), "令和2年度", "type"),
        (("round",), 0, "minimum"),
    ],
)
def test_schema_problems_name_the_field_and_keyword(
    path: tuple[Any, ...], value: object, keyword: str
) -> None:
    document: dict[str, Any] = {
        "plan": "計画",
        "fiscal_year": 2020,
        "round": 1,
        "department": "文化課",
        "template_version": "1",
        "rows": [
            {
                "row_id": "P001-1-1",
                "project_no": 1,
                "entry": "文化課",
                "department": "文化課",
                "value": 3,
                "narrative": None,
            }
        ],
    }
    assert schema_problems(document) == []
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    [problem] = schema_problems(document)
    assert problem.path == path and problem.keyword == keyword


_ROW: dict[str, Any] = {"row_id": "P001-1-1", "project_no": 1, "entry": "文化課", "department": "文化課",
                        "value": 3, "narrative": None}  # fmt: skip
_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.text(min_size=1995, max_size=2005, alphabet="あ"),
    st.sampled_from(["P001-1-1", "P1-1-1", "P0001-12-3", "", "文化課", "1"]),
)


@settings(max_examples=300, deadline=None)
@example(row={**_ROW, "project_no": 1.0}, fiscal_year=2020, rows=1)  # a whole float is an integer to both
@example(row={**_ROW, "project_no": True}, fiscal_year=2020, rows=1)  # a boolean is not
@example(row={**_ROW, "narrative": "あ" * 2001}, fiscal_year=2020.0, rows=2)
@given(
    row=st.fixed_dictionaries(
        {key: _JSON_LEAVES for key in ("row_id", "project_no", "entry", "department", "value", "narrative")},
        optional={"extra": _JSON_LEAVES},
    ),
    fiscal_year=st.one_of(st.integers(min_value=1900, max_value=2300), st.text(max_size=4)),
    rows=st.integers(min_value=0, max_value=3),
)
def test_the_compiled_validator_agrees_with_jsonschema(
    row: dict[str, Any], fiscal_year: object, rows: int
) -> None:
    """The fast path (fastjsonschema) accepts exactly what jsonschema accepts, so it can decide alone."""
    from jsonschema import Draft202012Validator

    document = {"plan": "計画", "fiscal_year": fiscal_year, "round": 1, "department": "文化課",
                "template_version": "1", "rows": [row] * rows}  # fmt: skip
    assert is_valid(document) == Draft202012Validator(return_schema()).is_valid(document)
    assert (schema_problems(document) == []) == is_valid(document)


def _cells_strategy() -> st.SearchStrategy[object]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**12), max_value=10**12),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.sampled_from(["〇", "○", "×", "—", "159件", "１５９", " 12 ", "1,957人", "3.5%", "=1+1"]),
        st.text(min_size=1990, max_size=2100, alphabet="あa "),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=_cells_strategy(),
    narrative=_cells_strategy(),
    formula=st.sampled_from([None, "1+1", 'HYPERLINK("x")']),
)
def test_anything_typed_into_the_yellow_cells_gives_located_findings(
    returned: Returned, value: object, narrative: object, formula: str | None
) -> None:
    """Whatever is in the value and narrative cells: no exception, every finding known and placed."""
    path = returned.files[DEPARTMENT]
    base = snapshot_of_cached(path)
    sheet = base.response
    assert sheet is not None
    issued = _issued_cached(path)
    row = next(item.row for item in issued.rows if item.row_id == PEOPLE_ROW)
    value_col = issued.columns.index(layout.CURRENT_VALUE) + 1
    narrative_col = issued.columns.index(layout.CURRENT_NARRATIVE) + 1
    cells = dict(sheet.cells)
    cells[(row, value_col)] = CellRead(value, formula)  # type: ignore[arg-type]
    cells[(row, narrative_col)] = CellRead(narrative)  # type: ignore[arg-type]
    snap = replace(base, response=SheetRead.from_cells(sheet.name, cells, sheet.max_row, sheet.max_column))
    outcome = _check(returned, path, snap)
    assert len(outcome.result.answers) == 21
    mine = [finding for finding in outcome.result.findings if finding.params.get("row_id") == PEOPLE_ROW]
    for finding in mine:
        assert finding.code in CATALOGUE
        assert finding.params["row_id"] == PEOPLE_ROW and finding.params["column"] in (
            layout.CURRENT_VALUE,
            layout.CURRENT_NARRATIVE,
        )
        assert finding.cell is not None
        finding.message()
        finding.message("en")
        json.dumps(finding.to_dict())
    value_findings = [f for f in mine if f.params["column"] == layout.CURRENT_VALUE]
    answer = outcome.answer(1)
    if any(f.is_error for f in value_findings):
        assert answer.value.is_blank or formula is not None
    else:
        assert not answer.value.is_blank


_SNAPSHOTS: dict[Path, Snapshot] = {}
_MANIFESTS: dict[Path, manifest.Manifest] = {}


def snapshot_of_cached(path: Path) -> Snapshot:
    if path not in _SNAPSHOTS:
        _SNAPSHOTS[path] = _read(path)
    return _SNAPSHOTS[path]


def _issued_cached(path: Path) -> manifest.Manifest:
    if path not in _MANIFESTS:
        _MANIFESTS[path] = _issued(path)
    return _MANIFESTS[path]


@pytest.mark.parametrize("raw", [float("inf"), float("-inf"), float("nan"), 1e308])
def test_canonical_cell_takes_any_number_a_hostile_file_holds(raw: float) -> None:
    assert layout.canonical_cell(raw)  # text, not OverflowError from int(inf)


_ANY_CELL = st.one_of(
    st.none(),
    st.integers(min_value=-5, max_value=100),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["行ID", "P001-1-1", "P002-1-1", "P021-1-1", "P999-9-9", "企画政策課", "社会福祉課", "〇", "159件"]
    ),
    st.text(max_size=8),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.dictionaries(
        st.tuples(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=16)),
        _ANY_CELL,
        max_size=60,
    ),
    chunks=st.sampled_from([None, (), ("{}",), ("not json",), ('{"format": 1}',)]),
)
# Found by this test in CI: "²" is a digit to str.isdigit() but not to int().
@example(cells={(5, 5): "²"}, chunks=None)
def test_identify_and_check_never_raise_on_any_sheet(
    returned: Returned, cells: dict[tuple[int, int], object], chunks: tuple[str, ...] | None
) -> None:
    """Any sheet with any (or a broken) manifest: findings, never an exception."""
    sheet = SheetRead.from_cells("Sheet1", {key: CellRead(value) for key, value in cells.items()}, 12, 16)  # type: ignore[arg-type]
    snap = Snapshot("xlsx", ("Sheet1",), chunks, sheet)
    outcome = _check(returned, returned.files[DEPARTMENT], snap)
    for finding in outcome.findings:
        assert finding.code in CATALOGUE
        finding.message()
        finding.message("en")
    if outcome.identity.department is None:
        assert outcome.result.answers == () and not outcome.result.ok


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        st.sampled_from(
            ["実", "施", "a", " ", "\u3000", "\n", "\t", "\r", "\x0b", "\x1c", "\x85", "\u2028", "\xa0"]
        )
    ),
    st.text(st.sampled_from(["実", "施", "a", " ", "\u3000", "\n", "\xa0"])),
)
def test_a_narrative_is_the_same_text_whatever_its_white_space(a: str, b: str) -> None:
    """same_text (narrative-unchanged, narrative-copied) ignores exactly what [\\s\\u3000]+ matches."""
    import re

    from xlplan.plan.trend import same_text

    pattern = re.compile(r"[\s\u3000]+")
    assert same_text(a, b) == (pattern.sub("", a) == pattern.sub("", b))
    assert same_text(a, a + " \n") and not same_text("実施した。", "実施しなかった。")


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**60), 2**60).map(float))
@example(2.0**53 - 1)
@example(2.0**53)
@example(-0.0)
@example(1.2345678901234567e20)
def test_a_whole_number_read_as_a_float_hashes_as_before(value: float) -> None:
    """canonical_cell's shortcut for whole floats gives what the Decimal way gives (prefill hashes stay)."""
    from decimal import Decimal

    number = Decimal(repr(value))
    if not number.is_finite():
        expected = str(value)
    elif number == number.to_integral_value():
        expected = str(int(number))
    else:
        expected = format(number.normalize(), "f")
    assert layout.canonical_cell(value) == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from([1, 2]),
            st.sampled_from(["相談", "講座"]),
            st.sampled_from([2018, 2019]),
            st.sampled_from([None, "文化課"]),
            st.integers(0, 99),
        ),
        max_size=20,
    )
)
def test_the_index_finds_the_history_record_the_plan_finds(example: Example, records: list[Any]) -> None:
    """The check's look-up of last year's record answers as Plan.history_for does: the first record of
    a key wins, whatever duplicates a master holds."""
    from decimal import Decimal

    from xlplan.collection.index import PlanIndex
    from xlplan.plan.fiscal_year import FiscalYear
    from xlplan.plan.model import HistoryRecord
    from xlplan.plan.values import Value

    history = tuple(
        HistoryRecord(no, entry, FiscalYear(year), Value(Decimal(number)), f"記録{position}", member)
        for position, (no, entry, year, member, number) in enumerate(records)
    )
    plan = dc_replace(example.plan, history=history)
    index = PlanIndex(plan)
    for no, entry, year, member, _ in records:
        assert index.history_for(no, entry, FiscalYear(year), member) is plan.history_for(
            no, entry, FiscalYear(year), member
        )
    assert index.history_years == tuple(sorted({record.fiscal_year for record in history}))


def test_the_index_finds_each_rows_entry_by_its_id_and_by_its_name(example: Example) -> None:
    """entry_of takes a plan row's entry from its owner, and any other id or name the slow way."""
    from xlplan.collection.index import PlanIndex

    index = PlanIndex(example.plan)
    rows = [row for department in index.assigned for row in index.rows_of(department)]
    assert rows
    for row in rows:
        project = index.projects[row.project_no]
        assert index.entry_of(row.row_id, row.entry) is project.entries[row.entry_index - 1]
        other = next((entry for entry in project.entries if entry.name != row.entry), None)
        if other is not None:  # the id names one entry, the row another: found by the name
            assert index.entry_of(row.row_id, other.name) is other
        assert index.entry_of(row.row_id, "計画にない事業") is None
    assert index.entry_of("P999-1-1", rows[0].entry) is None


def _header_column(sheet: Any, starts: str) -> int:
    return next(cell.column for cell in sheet[layout.HEADER_ROW] if str(cell.value or "").startswith(starts))


def test_grey_columns_swapped_by_hand_still_hash_as_sent(returned: Returned, tmp_path: Path) -> None:
    """Columns are found by their headers: two grey columns swapped, headers and all, are the cells sent."""
    path = _copy(returned, tmp_path)

    def swap(workbook: Workbook) -> None:
        sheet = workbook[layout.RESPONSE_SHEET]
        left, right = _header_column(sheet, "数値目標"), _header_column(sheet, "単位")
        for row in range(1, sheet.max_row + 1):
            a, b = sheet.cell(row, left), sheet.cell(row, right)
            a.value, b.value = b.value, a.value

    _edit(path, swap)
    outcome = _check(returned, path)
    assert outcome.identity.department == DEPARTMENT
    assert not [f for f in outcome.findings if f.code.startswith("prefilled")], outcome.codes()
    assert outcome.result.ok


def test_a_grey_column_deleted_is_reported_on_its_rows(returned: Returned, tmp_path: Path) -> None:
    """A grey column removed from the sheet reads as empty cells: every row with a value there is changed."""
    path = _copy(returned, tmp_path)

    def delete(workbook: Workbook) -> None:
        sheet = workbook[layout.RESPONSE_SHEET]
        sheet.delete_cols(_header_column(sheet, "単位"))

    _edit(path, delete)
    outcome = _check(returned, path)
    changed = [f for f in outcome.findings if f.code.startswith("prefilled")]
    assert changed and all(f.is_error for f in changed)
    assert {f.params["column"] for f in changed if f.code == "prefilled-changed"} <= {layout.UNIT}
    assert not outcome.result.ok
