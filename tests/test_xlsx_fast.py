"""The fast path on XlsxWriter's internals (xlplan.xlsx.fast) writes XlsxWriter's own XML, and the table in two processes the same as in one."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from hypothesis import example, given, settings
from hypothesis import strategies as st
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable
from xlsxwriter.worksheet import Worksheet

from xlplan.xlsx.fast import FastSharedStrings, FastWorksheet


def _sheet_xml(path: Path, worksheet_class: type[Worksheet]) -> bytes:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True, "border": 1})
    unit = book.add_format({"num_format": '#,##0"人"', "text_wrap": True})
    shaded = book.add_format({"bg_color": "#E2EFDA"})
    sheet = book.add_worksheet("表", worksheet_class=worksheet_class)
    sheet.set_column(0, 0, 7, shaded)
    sheet.set_column(5, 6, 30)
    sheet.set_row(2, 30, bold)
    sheet.write_string(0, 0, '見出し & <注> "引用"', bold)
    sheet.write_string(0, 3, "  leading and trailing  ")
    sheet.merge_range(1, 1, 40, 1, "", bold)
    sheet.write_number(1, 1, 7, bold)
    for row in range(1, 41):
        sheet.write_blank(row, 0, None, shaded)
        sheet.write_number(row, 2, row * 1.5, unit)
        sheet.write_string(row, 3, f'課{row:04d}\n=WEBSERVICE("x")')
        sheet.write_blank(row, 4, None)  # no format: not written
        sheet.write_number(row, 5, 1e20 / row)
        sheet.set_row(row, 12 + row % 5)
    sheet.write_blank(2, 4, None, unit)
    sheet.write_formula(41, 2, "=SUM(C2:C41)", unit, 0)  # handed back to XlsxWriter
    sheet.write_rich_string(42, 3, "a", bold, "b")
    sheet.set_row(60, 20)  # a row with a height only
    sheet.write_boolean(70, 6, True)
    book.close()
    with zipfile.ZipFile(path) as package:
        return package.read("xl/worksheets/sheet1.xml")


def test_fast_sheet_writes_xlsxwriters_xml(tmp_path: Path) -> None:
    assert _sheet_xml(tmp_path / "fast.xlsx", FastWorksheet) == _sheet_xml(tmp_path / "stock.xlsx", Worksheet)


def _cells(path: Path) -> list[tuple[object, ...]]:
    """Every cell's value and look, sheet by sheet, read with openpyxl."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    found: list[tuple[object, ...]] = []
    for sheet in book.worksheets:
        found.append((sheet.title, sorted(str(merged) for merged in sheet.merged_cells.ranges)))
        found.extend(
            (sheet.title, row, height.height)
            for row, height in sorted(sheet.row_dimensions.items())
            if height.height is not None
        )
        for row in sheet.iter_rows():
            for cell in row:
                found.append(
                    (
                        sheet.title,
                        cell.coordinate,
                        cell.value,
                        cell.number_format,
                        repr(cell.font),
                        repr(cell.fill),
                        repr(cell.border),
                        repr(cell.alignment),
                        cell.quotePrefix,
                    )
                )
        found.append((sheet.title, repr(sheet.page_setup), repr(sheet.print_title_rows)))
    return found


def test_two_processes_write_the_same_table_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from xlplan.examples import load_example
    from xlplan.publish import parallel as report_writer
    from xlplan.publish.table import build_table
    from xlplan.publish.template import load_report_style

    example = load_example("ogi")
    answers = list(example.answers)
    answers[0] = dataclasses.replace(answers[0], narrative=' =WEBSERVICE("http://example.invalid") & <b>')
    answers[1] = dataclasses.replace(answers[1], narrative="=1+2")
    table = build_table(example.plan, answers)
    style = load_report_style()
    monkeypatch.setattr(report_writer, "PARALLEL_MIN_ROWS", 0)
    if not report_writer._can_fork(table):
        pytest.skip("writing in two processes needs fork() (Linux)")
    delivered = []
    forked = report_writer._forked

    def watched(function):  # type: ignore[no-untyped-def]
        result = forked(function)

        def wait():  # type: ignore[no-untyped-def]
            value = result()  # raises if the second process failed: then this test must fail
            delivered.append(value)
            return value

        return wait

    monkeypatch.setattr(report_writer, "_forked", watched)
    shared = report_writer.write_table(table, style, tmp_path / "two.xlsx")
    assert delivered, "the second process wrote no sheets"
    monkeypatch.setattr(report_writer, "_can_fork", lambda table: False)
    single = report_writer.write_table(table, style, tmp_path / "one.xlsx")
    assert shared == single
    names = report_writer.sheet_names(table)
    assert report_writer.read_back_checksum(tmp_path / "two.xlsx", names) == shared
    monkeypatch.setattr(report_writer, "PARALLEL_MIN_BYTES", 0)  # read back by two processes too
    assert report_writer.read_back_checksum(tmp_path / "two.xlsx", names) == shared
    assert _cells(tmp_path / "two.xlsx") == _cells(tmp_path / "one.xlsx")


def test_a_failed_second_process_leaves_its_sheets_to_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlplan.examples import load_example
    from xlplan.publish import parallel as report_writer
    from xlplan.publish.table import build_table
    from xlplan.publish.template import load_report_style

    example = load_example("ogi")
    table = build_table(example.plan, example.answers)
    monkeypatch.setattr(report_writer, "PARALLEL_MIN_ROWS", 0)
    if not report_writer._can_fork(table):
        pytest.skip("writing in two processes needs fork() (Linux)")

    def broken(*args: object) -> None:
        raise RuntimeError("the second process failed")

    monkeypatch.setattr(report_writer, "_write_elsewhere", broken)
    checksum = report_writer.write_table(table, load_report_style(), tmp_path / "t.xlsx")
    assert report_writer.read_back_checksum(tmp_path / "t.xlsx", report_writer.sheet_names(table)) == checksum


def test_department_workbooks_keep_xlsxwriters_xml(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt
    import io

    from xlplan.examples import load_example
    from xlplan.form import rows as form_rows
    from xlplan.form.writer import render_workbook
    from xlplan.xlsx import fast

    plan = load_example("ogi").plan
    rows = form_rows.response_rows(plan)
    department = next(d for d in plan.departments if rows.get(d.name))
    request = form_rows.WorkbookRequest(
        plan.settings, department, form_rows.columns_for(plan.settings), tuple(rows[department.name])
    )
    issued = dt.datetime(2021, 4, 1, 9, 0, tzinfo=dt.timezone.utc)

    def parts() -> dict[str, bytes]:
        data, _ = render_workbook(request, key=b"k" * 32, issued_at=issued)
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return {name: package.read(name) for name in package.namelist() if "core.xml" not in name}

    fast_parts = parts()
    again = parts()  # the second time with the validation formulas already prepared
    monkeypatch.setattr(fast.ProtectedWorkbook, "worksheet_class", Worksheet)
    monkeypatch.setattr(fast.ProtectedWorkbook, "_get_packager", lambda self: Packager())
    assert fast_parts == again == parts()


def test_consolidated_table_keeps_xlsxwriters_shared_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table's shared strings (the narratives, one with white space at its ends) as XlsxWriter writes them."""
    import dataclasses

    from xlplan.examples import load_example
    from xlplan.publish import parallel as report_writer
    from xlplan.publish.table import build_table
    from xlplan.publish.template import load_report_style
    from xlplan.xlsx import fast

    example = load_example("ogi")
    answers = list(example.answers)
    answers[0] = dataclasses.replace(answers[0], narrative=" 研修 & <説明会>を実施\n")
    table = build_table(example.plan, answers)
    style = load_report_style()

    def shared_strings(name: str) -> bytes:
        report_writer.write_table(table, style, tmp_path / name)
        with zipfile.ZipFile(tmp_path / name) as package:
            return package.read("xl/sharedStrings.xml")

    assert fast.enabled()
    fast_xml = shared_strings("fast.xlsx")
    monkeypatch.setenv(fast.PLAIN_ENV, "1")
    assert fast_xml == shared_strings("plain.xlsx")
    assert " 研修 &amp; &lt;説明会&gt;を実施\n".encode() in fast_xml


def _shared_strings_xml(writer_class: type[SharedStrings], strings: list[str]) -> str:
    table = SharedStringTable()
    for string in strings:
        table._get_shared_string_index(string)
    table._sort_string_data()
    writer = writer_class()
    writer.string_table = table
    out = io.StringIO()
    writer._set_xml_writer(out)
    writer._assemble_xml_file()
    return out.getvalue()


# Text as plans and narratives hold it, and everything XlsxWriter's writer treats specially:
# markup characters, white space at either end, control characters, _xHHHH_ text, rich strings.
_PIECES = ["&", "<", ">", '"', "'", " ", "\n", "\t", "\u3000", "\x01", "\x02", "\x0b", "\x1f", "_x0041_", "_x00", "<r>", "</r>",
           "\ufffe", "課", "実施した。", "41.2%", "a"]  # fmt: skip
_TEXT = st.lists(st.sampled_from(_PIECES) | st.text(max_size=3), max_size=6).map("".join)


def _rich_looking(string: str) -> bool:
    return string.startswith("<r>") and string.endswith("</r>")


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXT.filter(lambda text: not _rich_looking(text)), max_size=12))
@example(["a", "\x02"])
@example(["_x005F_", "a"])
@example([" a", "b", "c\n"])
@example(["", "a"])
def test_shared_strings_are_xlsxwriters_xml(strings: list[str]) -> None:
    assert _shared_strings_xml(FastSharedStrings, strings) == _shared_strings_xml(SharedStrings, strings)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT | st.builds("<r>{}</r>".format, _TEXT), max_size=8))
@example(["<r>事業</t></si><si><t>INJECTED</r>", "b"])  # XlsxWriter would write this as markup
@example(["<r>a</r>", " <r>b</r>", "\x02"])
def test_shared_strings_are_text_even_when_they_look_like_rich_strings(strings: list[str]) -> None:
    """Each string is one <si> with one <t> holding exactly that text: no string becomes markup."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(_shared_strings_xml(FastSharedStrings, strings).encode("utf-8"))
    unique = list(dict.fromkeys(strings))
    items = list(root)
    assert len(items) == len(unique)
    for item, string in zip(items, unique, strict=True):
        assert [child.tag.rpartition("}")[2] for child in item] == ["t"]
        # Text that XlsxWriter escapes (_xHHHH_) or an XML reader normalises (CR) is not compared.
        escaped = any(ord(character) < 32 and character not in "\t\n" for character in string)
        if not escaped and "_x" not in string and "\ufffe" not in string and "\uffff" not in string:
            assert (item[0].text or "") == string
    plain = [string for string in unique if not _rich_looking(string)]
    if len(plain) == len(unique):  # nothing that looks rich: XlsxWriter's own bytes
        assert _shared_strings_xml(FastSharedStrings, strings) == _shared_strings_xml(SharedStrings, strings)


def test_shared_strings_of_plain_text_take_the_fast_way() -> None:
    """The usual table (no control characters, no white space at its ends) is written in one piece."""
    strings = ["第1章 男女共同参画", "A & B <注>", "実施した。\n研修を2回", "41.2%"]
    written: list[str] = []

    class Counting(FastSharedStrings):
        def _write_si(self, string: str) -> None:
            written.append(string)
            super()._write_si(string)

    assert _shared_strings_xml(Counting, strings) == _shared_strings_xml(SharedStrings, strings)
    assert written == []
    # One string with a space at its end is written by XlsxWriter's own method, the others are not.
    assert _shared_strings_xml(Counting, [*strings, "末尾 "]) == _shared_strings_xml(
        SharedStrings, [*strings, "末尾 "]
    )
    assert written == ["末尾 "]


def test_cell_writers_put_the_cells_xlsxwriter_puts() -> None:
    """The fast writers return what XlsxWriter's methods return and leave the same table, edge cases included."""
    import math
    from fractions import Fraction

    from xlplan.xlsx import fast

    def book_and_writers(kind: str) -> tuple[Worksheet, fast.CellWriters]:
        book = fast.ProtectedWorkbook(io.BytesIO(), {"in_memory": True})
        sheet = book.add_worksheet("表")
        assert isinstance(sheet, FastWorksheet)
        if kind == "fast":
            return sheet, fast.cell_writers(sheet)
        return sheet, fast.CellWriters(sheet.write_string, sheet.write_number, sheet.write_blank)

    long_text = "長" * 20_000  # over 16,383 characters: measured in UTF-16 units (20,000: kept whole)
    emoji_text = "😀" * 17_000  # 34,000 UTF-16 units: cut to Excel's limit, return -2
    outcomes = {}
    for kind in ("fast", "stock"):
        sheet, (string, number, blank) = book_and_writers(kind)
        fmt: Any = "format"  # any object stands for a format in the table
        results = [
            string(0, 0, "見出し", fmt),
            string(1, 0, long_text),
            string(2, 0, emoji_text),
            string(1_048_576, 0, "off the sheet"),
            string(0, 16_384, "off the sheet"),
            number(3, 1, 1.5, fmt),
            number(4, 1, Fraction(1, 3)),
            number(5, 1, 7),
            number(-1, 1, 7),
            blank(6, 2, None, fmt),
            blank(7, 2, None),  # no format: nothing
            blank(1_048_576, 2, None, fmt),
        ]
        with pytest.raises(TypeError):
            number(8, 1, math.nan)
        table = {row: dict(cells) for row, cells in sheet.table.items() if cells}
        outcomes[kind] = (results, table, sheet.str_table.string_table, sheet.dim_rowmax, sheet.dim_colmax)
    assert outcomes["fast"] == outcomes["stock"]
    assert outcomes["fast"][0][2] == -2 and outcomes["fast"][0][3] == -1
