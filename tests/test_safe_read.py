"""Safe reading: real returned workbooks read as checking needs them, and real bad files refused.

Every bad file is built for real (see ``tests/badfiles.py``) and read through the worker
processes, as collection reads it: each test asserts the finding code and that the Japanese
message is rendered, so a department is told what to do.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tests import badfiles
from tests.conftest import convert_with_soffice
from tests.snapshots import snapshot_of
from xlplan.collection.read import Limits, ReadFailed, map_returns, read_return, read_returns, sniff
from xlplan.collection.snapshot import Snapshot
from xlplan.demo.respond import fill_response
from xlplan.distribution.run import distribute
from xlplan.examples import Example
from xlplan.findings import Finding
from xlplan.form import layout, manifest
from xlplan.workspace.folder import init_workspace

DEPARTMENT = "社会福祉課"


@pytest.fixture(scope="module")
def returned(tmp_path_factory: pytest.TempPathFactory, example: Example) -> Path:
    """社会福祉課's workbook as distributed, filled in with openpyxl and saved (a real return)."""
    root = tmp_path_factory.mktemp("sr")
    workspace = init_workspace(root / "ws", example.plan)
    result = distribute(workspace, only=[DEPARTMENT], workers=1)
    sent = result.departments[0].workbook
    assert sent is not None
    answers = [a for a in example.answers if example.plan.canonical_department(a.department) == DEPARTMENT]
    target = root / "回答_社会福祉課.xlsx"
    fill_response(sent, answers, target)
    return target


def refused(path: Path, code: str, *, limits: Limits | None = None) -> Finding:
    """Read ``path``; assert it is refused with ``code`` and a rendered Japanese message."""
    with pytest.raises(ReadFailed) as caught:
        read_return(path, limits=limits or Limits())
    codes = [finding.code for finding in caught.value.findings]
    assert codes == [code], codes
    finding = caught.value.findings[0]
    assert finding.is_error
    assert finding.file == path.name
    message = finding.message("ja")
    assert "{" not in message and "{" not in finding.message("en")
    assert any("\u3040" <= ch <= "\u30ff" for ch in message), message  # kana: Japanese was rendered
    return finding


# ----------------------------------------------------------------------------------------
# Good files
# ----------------------------------------------------------------------------------------


def test_a_real_return_reads_as_the_reference_reader_reads_it(returned: Path) -> None:
    snapshot = read_return(returned)
    reference = snapshot_of(returned)  # python-calamine + openpyxl, no limits
    assert snapshot.kind == "xlsx" and not snapshot.has_vba and snapshot.external_links == ()
    assert snapshot.sheet_names == (layout.RESPONSE_SHEET, layout.GUIDE_SHEET, layout.MANIFEST_SHEET)
    assert snapshot.manifest_chunks == reference.manifest_chunks
    assert snapshot.manifest_chunks is not None
    issued = manifest.loads(snapshot.manifest_chunks)
    assert issued.department == DEPARTMENT
    assert snapshot.response is not None and reference.response is not None
    assert snapshot.response.name == layout.RESPONSE_SHEET
    assert dict(snapshot.response.cells) == dict(reference.response.cells)
    assert not snapshot.response.truncated and snapshot.findings == ()
    # Every row the manifest lists was read, with its row id in column A.
    for row in issued.rows:
        assert snapshot.response.value(row.row, 1) == row.row_id


def test_values_typed_beyond_the_manifest_rows_are_bounded(returned: Path, tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(returned)
    sheet = workbook[layout.RESPONSE_SHEET]
    sheet["B220"] = "inserted rows are within the slack"  # the last manifest row is 29; slack 200
    sheet["A5000"] = "far below: not read"
    target = tmp_path / "far_below.xlsx"
    workbook.save(target)
    snapshot = read_return(target)
    assert snapshot.response is not None
    assert snapshot.response.value(220, 2) == "inserted rows are within the slack"
    assert snapshot.response.value(5000, 1) is None
    assert snapshot.response.truncated and snapshot.response.max_row == 5000
    assert [finding.code for finding in snapshot.findings] == ["sheet-truncated"]
    assert not snapshot.findings[0].is_error
    assert "読み取っていません" in snapshot.findings[0].message()
    assert snapshot.findings[0].params["last"] == "A5000"


def test_without_a_manifest_the_first_sheet_is_read_within_default_bounds(tmp_path: Path) -> None:
    path = tmp_path / "pasted.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Sheet1")
    sheet.write("A1", "P021-1-1")
    sheet.write("B2", 159)
    sheet.write("AN2000", "last cell inside 2,000 × 40")
    sheet.write("AO1", "column 41: outside")
    workbook.close()
    snapshot = read_return(path)
    assert snapshot.manifest_chunks is None
    assert snapshot.response is not None and snapshot.response.name == "Sheet1"
    assert snapshot.response.value(1, 1) == "P021-1-1"
    assert snapshot.response.value(2, 2) == 159
    assert snapshot.response.value(2000, 40) == "last cell inside 2,000 × 40"
    assert (1, 41) not in snapshot.response.cells and snapshot.response.truncated


def test_formulas_are_read_beside_their_cached_values(tmp_path: Path) -> None:
    path = tmp_path / "formulas.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet(layout.RESPONSE_SHEET)
    sheet.write_formula("N5", "=1+1", None, 2)
    sheet.write_formula("O5", '=HYPERLINK("http://example.com/x","講座を開催")', None, "講座を開催")
    sheet.write_formula("O6", '=WEBSERVICE("http://example.com/x")', None, "")
    sheet.write("N6", 159)
    workbook.close()
    snapshot = read_return(path)
    assert snapshot.response is not None
    cells = snapshot.response.cells
    assert cells[(5, 14)].formula == "1+1" and cells[(5, 14)].value == 2
    assert cells[(5, 15)].formula == 'HYPERLINK("http://example.com/x","講座を開催")'
    assert cells[(5, 15)].value == "講座を開催"
    assert cells[(6, 15)].formula == 'WEBSERVICE("http://example.com/x")' and cells[(6, 15)].value is None
    assert cells[(6, 14)].formula is None and cells[(6, 14)].value == 159


def test_a_formula_saved_without_its_result_reads_as_none(returned: Path, tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(returned)  # openpyxl writes formulas without cached values
    workbook[layout.RESPONSE_SHEET]["N5"] = "=1+1"
    target = tmp_path / "no_value.xlsx"
    workbook.save(target)
    snapshot = read_return(target)
    assert snapshot.response is not None
    cell = snapshot.response.cells[(5, 14)]
    assert cell.formula == "1+1" and cell.value is None


def test_shared_formulas_take_the_text_of_their_first_cell(tmp_path: Path) -> None:
    cells = (
        '<row r="1"><c r="A1"><f t="shared" ref="A1:A2" si="0">B1*2</f><v>4</v></c><c r="B1"><v>2</v></c></row>'
        '<row r="2"><c r="A2"><f t="shared" si="0"/><v>6</v></c><c r="B2"><v>3</v></c></row>'
    )
    path = badfiles.package(tmp_path / "shared.xlsx", sheets={"回答": badfiles.sheet_xml(cells)})
    snapshot = read_return(path)
    assert snapshot.response is not None
    assert snapshot.response.cells[(1, 1)].formula == "B1*2" and snapshot.response.value(1, 1) == 4
    assert snapshot.response.cells[(2, 1)].formula == "B1*2" and snapshot.response.value(2, 1) == 6


def test_external_links_and_dde_are_listed(tmp_path: Path) -> None:
    book = f'<externalLink xmlns="{badfiles.MAIN_NS}" xmlns:r="{badfiles.REL_NS}"><externalBook r:id="rId1"/></externalLink>'
    dde = f'<externalLink xmlns="{badfiles.MAIN_NS}"><ddeLink ddeService="cmd" ddeTopic="/c calc"/></externalLink>'
    path = badfiles.package(
        tmp_path / "links.xlsx",
        sheets={"回答": badfiles.sheet_xml('<row r="1"><c r="A1"><f>[1]Sheet1!A1</f><v>1</v></c></row>')},
        external_links={1: (book, "file:///C:/他課/集計.xlsx"), 2: (dde, None)},
    )
    snapshot = read_return(path)
    assert snapshot.external_links == ("file:///C:/他課/集計.xlsx", "DDE:cmd|/c calc")
    assert snapshot.response is not None and snapshot.response.cells[(1, 1)].formula == "[1]Sheet1!A1"


def test_a_vba_project_makes_an_xlsm(tmp_path: Path) -> None:
    path = badfiles.package(tmp_path / "macro.xlsx", extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    snapshot = read_return(path)
    assert snapshot.kind == "xlsm" and snapshot.has_vba


def test_a_manifest_sheet_in_shared_strings_with_phonetic_runs_is_streamed_safely(tmp_path: Path) -> None:
    # A cell reference in a non-canonical form (attribute order) sends the sheet to the exact scan;
    # a value far away then sends it to the streaming reader, which resolves shared strings itself.
    shared = (
        f'{badfiles.XML_DECL}<sst xmlns="{badfiles.MAIN_NS}" count="2" uniqueCount="2">'
        '<si><t>小城市</t><rPh sb="0" eb="3"><t>オギシ</t></rPh></si><si><r><t>講座</t></r><r><t>を開催</t></r></si></sst>'
    )
    cells = (
        '<row r="1"><c t="s" r="A1"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="b"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>P021-1-1</t></is></c><c r="B2"><v>159</v></c></row>'
        '<row r="1048576"><c s="0" r="XFD1048576"><v>1</v></c></row>'
    )
    path = badfiles.package(
        tmp_path / "streamed.xlsx", sheets={"回答": badfiles.sheet_xml(cells)}, shared_strings=shared
    )
    snapshot = read_return(path)
    assert snapshot.response is not None
    assert snapshot.response.value(1, 1) == "小城市"  # the reading (rPh) is not part of the text
    assert snapshot.response.value(1, 2) == "講座を開催"
    assert snapshot.response.value(1, 3) is True
    assert snapshot.response.value(2, 1) == "P021-1-1" and snapshot.response.value(2, 2) == 159
    assert snapshot.response.truncated and snapshot.response.max_row == 1048576


# ----------------------------------------------------------------------------------------
# A value in XFD1048576, a dying worker, a hanging worker
# ----------------------------------------------------------------------------------------


def test_a_value_in_xfd1048576_is_read_within_the_bounds(tmp_path: Path) -> None:
    path = badfiles.far_cell_workbook(tmp_path / "far.xlsx")
    started = time.monotonic()
    snapshot = read_return(path)
    assert time.monotonic() - started < 30  # calamine's dense reader would try to allocate 549 GB
    assert snapshot.response is not None
    assert snapshot.response.value(1, 1) == "行ID"
    assert (snapshot.response.max_row, snapshot.response.max_column) == (1048576, 16384)
    assert snapshot.response.truncated
    finding = snapshot.findings[0]
    assert finding.code == "sheet-truncated" and "XFD1048576" in finding.message()


def test_a_far_value_in_the_returned_workbook_keeps_its_answers(returned: Path, tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(returned)
    workbook[layout.RESPONSE_SHEET]["XFD1048576"] = "x"
    target = tmp_path / "far_return.xlsx"
    workbook.save(target)
    snapshot = read_return(target)
    reference = read_return(returned)
    assert snapshot.response is not None and reference.response is not None
    assert dict(snapshot.response.cells) == dict(reference.response.cells)
    assert snapshot.manifest_chunks == reference.manifest_chunks


def test_a_worker_that_dies_is_a_finding_and_the_run_goes_on(returned: Path, tmp_path: Path) -> None:
    # With the grid guard lifted, python-calamine tries to allocate the 1,048,576 × 16,384 grid of
    # this tiny legal file and aborts its process: the real failure the worker processes exist for.
    far = badfiles.far_cell_workbook(tmp_path / "abort.xlsx")
    limits = Limits(dense_cells=10**12)
    results = dict(read_returns([far, returned, far, returned], limits=limits, workers=2))
    assert isinstance(results[returned], Snapshot)
    failed = results[far]
    assert isinstance(failed, ReadFailed)
    assert [finding.code for finding in failed.findings] == ["file-read-crashed"]
    assert "異常終了" in failed.findings[0].message()
    ordered = list(read_returns([far, returned], limits=limits, workers=1))  # one worker, replaced
    assert {path for path, _ in ordered} == {far, returned}
    assert isinstance(dict(ordered)[returned], Snapshot)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_hanging_read_is_killed_at_the_time_limit(returned: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "hangs.xlsx"
    os.mkfifo(fifo)  # opening it for reading blocks until a writer comes: a real hang
    started = time.monotonic()
    results = dict(read_returns([fifo, returned], limits=Limits(timeout_seconds=2), workers=2))
    assert time.monotonic() - started < 30
    failed = results[fifo]
    assert isinstance(failed, ReadFailed) and failed.findings[0].code == "file-read-timeout"
    assert "2 秒" in failed.findings[0].message()
    assert isinstance(results[returned], Snapshot)


def test_names_label_the_findings(tmp_path: Path) -> None:
    path = tmp_path / "0f3a.xlsx"
    path.write_bytes(b"")
    ((_, result),) = read_returns([path], names={path: "回答（総務課）.xlsx"})
    assert isinstance(result, ReadFailed) and result.findings[0].file == "回答（総務課）.xlsx"


def test_no_paths_start_no_workers() -> None:
    assert list(read_returns([])) == []


# ----------------------------------------------------------------------------------------
# Files refused, each with its code
# ----------------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    refused(path, "file-empty")


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "noise.xlsx"
    path.write_bytes(bytes(range(256)) * 8)
    assert refused(path, "file-not-workbook").params["kind"].render() == "種類の分からないファイル"


def test_pdf_renamed(tmp_path: Path) -> None:
    path = tmp_path / "scan.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    assert refused(path, "file-not-workbook").params["kind"].render() == "PDF"


def test_truncated_zip(returned: Path, tmp_path: Path) -> None:
    refused(badfiles.truncated(returned, tmp_path / "cut.xlsx"), "file-damaged")


def test_corrupted_entry(returned: Path, tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(returned) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")  # the 回答 sheet: read, so checked
    data = bytearray(returned.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + 40  # inside its compressed data
    data[start : start + 64] = bytes(64)
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(bytes(data))
    refused(path, "file-damaged")


def test_password_protected(returned: Path, tmp_path: Path) -> None:
    path = badfiles.encrypted(returned, tmp_path / "locked.xlsx")
    assert path.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    finding = refused(path, "file-encrypted")
    assert "パスワード" in finding.message()


def test_xls(tmp_path: Path) -> None:
    finding = refused(badfiles.xls(tmp_path / "old.xlsx"), "file-xls")
    assert "Excel 97-2003" in finding.message() and "Excel ブック (*.xlsx)" in finding.message()


def test_ods(tmp_path: Path) -> None:
    refused(badfiles.ods(tmp_path / "calc.xlsx"), "file-ods")


def test_xlsb(tmp_path: Path) -> None:
    refused(badfiles.xlsb(tmp_path / "binary.xlsx"), "file-xlsb")


def test_csv_renamed(tmp_path: Path) -> None:
    refused(badfiles.csv_as_xlsx(tmp_path / "csv.xlsx"), "file-text")


def test_html_renamed(tmp_path: Path) -> None:
    refused(badfiles.html_as_xlsx(tmp_path / "web.xlsx"), "file-html")


def test_word_document_zip(tmp_path: Path) -> None:
    path = tmp_path / "letter.xlsx"
    with __import__("zipfile").ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", badfiles.CONTENT_TYPES)
        archive.writestr("word/document.xml", "<w:document/>")
    assert refused(path, "file-not-workbook").params["kind"].render() == "Word の文書"


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    path = badfiles.zip_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 1024 * 1024
    assert "ratio" in refused(path, "file-zip-bomb").params["detail"]


def test_zip_bomb_by_total_size(tmp_path: Path) -> None:
    path = badfiles.zip_bomb(tmp_path / "big.xlsx", megabytes=8)
    reason = refused(path, "file-zip-bomb", limits=Limits(max_uncompressed_bytes=4 * 1024 * 1024)).params[
        "detail"
    ]
    assert "uncompressed" in reason


def test_too_many_entries(tmp_path: Path) -> None:
    path = badfiles.many_entries(tmp_path / "entries.xlsx", 1_001)
    assert "entries" in refused(path, "file-zip-bomb").params["detail"]


def test_too_large(returned: Path) -> None:
    refused(returned, "file-too-large", limits=Limits(max_file_bytes=1024))


@pytest.mark.parametrize("where", ["sharedStrings", "sheet", "workbook"])
def test_entity_bomb(where: str, tmp_path: Path) -> None:
    bomb_cell = '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    prolog = badfiles.BILLION_LAUGHS
    if where == "sharedStrings":
        path = badfiles.package(
            tmp_path / "bomb.xlsx",
            shared_strings=f'{prolog}<sst xmlns="{badfiles.MAIN_NS}"><si><t>&lol9;</t></si></sst>',
            sheets={"回答": badfiles.sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')},
        )
    elif where == "sheet":
        path = badfiles.package(
            tmp_path / "bomb.xlsx", sheets={"回答": badfiles.sheet_xml(bomb_cell, prolog=prolog)}
        )
    else:
        path = badfiles.package(tmp_path / "bomb.xlsx", workbook_prolog=prolog)
    started = time.monotonic()
    finding = refused(path, "file-xml-unsafe")
    assert time.monotonic() - started < 30
    assert "DTD" in finding.message()


def test_no_sheets(tmp_path: Path) -> None:
    refused(badfiles.package(tmp_path / "nosheets.xlsx", sheets={}), "file-no-sheets")


def test_unparseable_workbook_part(tmp_path: Path) -> None:
    path = badfiles.package(tmp_path / "broken.xlsx", extra={"xl/workbook.xml": "<workbook><sheets>"})
    refused(path, "file-workbook-unreadable")


def test_duplicate_entry_names(returned: Path, tmp_path: Path) -> None:
    import warnings
    import zipfile

    path = tmp_path / "twice.xlsx"
    path.write_bytes(returned.read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: that is the point
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("xl/workbook.xml", "<workbook/>")
    assert "duplicate" in refused(path, "file-damaged").params["detail"]


def test_real_libreoffice_xls_and_ods(returned: Path, tmp_path: Path, soffice: tuple[str, Path]) -> None:
    binary, profile = soffice
    xls_file = convert_with_soffice(binary, profile, returned, "xls:MS Excel 97", tmp_path / "xls")
    ods_file = convert_with_soffice(binary, profile, returned, "ods", tmp_path / "ods")
    refused(xls_file, "file-xls")
    refused(ods_file, "file-ods")


def test_sniff_by_content() -> None:
    assert sniff(b"") == "empty"
    assert sniff(b"PK\x03\x04rest") == "zip"
    assert sniff(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 8) == "ole"
    assert sniff(b"<!DOCTYPE html><html>") == "html"
    assert sniff("\ufeff行ID,値\r\n".encode("utf-8")) == "text"
    assert sniff("行ID,値\r\n".encode("cp932")) == "text"
    xml2003 = b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
    assert sniff(xml2003) == "xml-spreadsheet"
    assert sniff(b"\x00\x01\x02\x03") == "binary"


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS is not applied on Windows")
def test_the_worker_memory_limit_holds(tmp_path: Path) -> None:
    # A value in CV200000: calamine's grid would take 200,000 × 100 cells (about 640 MB). With the
    # grid guard lifted and a 300 MB address space, the allocation fails inside the worker only.
    path = tmp_path / "wide.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"], sheet["CV200000"] = "行ID", 1
    workbook.save(path)
    with pytest.raises(ReadFailed) as caught:
        read_return(path, limits=Limits(dense_cells=10**12, memory_bytes=300 * 1024 * 1024))
    assert caught.value.findings[0].code == "file-read-crashed"
    snapshot = read_return(path)  # with the guard, the sheet is streamed within the bounds
    assert snapshot.response is not None and snapshot.response.value(1, 1) == "行ID"


def _where_read(outcome: Snapshot | ReadFailed, name: str) -> tuple[int, str]:
    """A job that says which process ran it (at module level, so that a spawned worker can load it)."""
    return os.getpid(), type(outcome).__name__


@contextlib.contextmanager
def _another_thread() -> Iterator[None]:
    """A second thread in this process, as the server has: forking is then unsafe, and not done."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("threaded", [False, True], ids=["forked", "spawned"])
def test_the_workers_run_the_job_forked_or_not(returned: Path, threaded: bool) -> None:
    with _another_thread() if threaded else contextlib.nullcontext():
        ran = [result for _, result in map_returns([returned] * 4, _where_read, workers=2)]
    assert [kind for _, kind in ran] == ["Snapshot"] * 4
    assert os.getpid() not in {pid for pid, _ in ran}  # read and checked in the workers, not here


def test_a_job_that_cannot_be_pickled_runs_here(returned: Path) -> None:
    here = os.getpid()
    with _another_thread():
        ran = [result for _, result in map_returns([returned] * 2, lambda outcome, name: os.getpid())]
    assert ran == [here, here]


def test_parts_parsed_once_per_worker_are_each_files_own(tmp_path: Path) -> None:
    """A worker keeps the trees of small parts it has parsed (every return of a distribution has the
    same ones): a file read after another, in the same process, still gets its own sheets, and a part
    refused once is refused again, with the same bytes in a good file read in between."""
    from xlplan.collection.read import package as package_module
    from xlplan.collection.read.sniff import read_file, read_guarded

    cells = '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
    first = badfiles.package(
        tmp_path / "a.xlsx", sheets={"回答": badfiles.sheet_xml(cells), "表A": badfiles.sheet_xml("")}
    )
    second = badfiles.package(
        tmp_path / "b.xlsx", sheets={"表B": badfiles.sheet_xml(""), "回答": badfiles.sheet_xml(cells)}
    )
    bomb = badfiles.package(tmp_path / "bomb.xlsx", workbook_prolog=badfiles.BILLION_LAUGHS)
    limits = Limits()
    hits = package_module._parsed.cache_info().hits
    for _ in range(3):
        assert read_file(first, limits, "a.xlsx").snapshot.sheet_names == ("回答", "表A")
        assert read_file(second, limits, "b.xlsx").snapshot.sheet_names == ("表B", "回答")
        found = read_guarded(bomb, limits, "bomb.xlsx")
        assert isinstance(found, tuple) and [finding.code for finding in found] == ["file-xml-unsafe"]
    # The same parts came again: parsed from the cache (the test fails if every file parsed them anew).
    assert package_module._parsed.cache_info().hits > hits
