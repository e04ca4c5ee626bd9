"""Number formats as read from a return's styles.xml, and a verdict's trip across the worker pipe.

A number is read as it was displayed, so the format code of each numeric cell must be what
Excel and LibreOffice apply. The styles part is matched with regular expressions, not parsed
into a tree (for speed); these tests hold it to a real XML parser and to openpyxl.
"""

from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from xlplan.collection.read import read_return
from xlplan.collection.read import sheets as sheets_module
from xlplan.collection.read.sheets import _STYLED_CELL, _styled_cells, number_formats
from xlplan.collection.results import Checked
from xlplan.findings import Finding
from xlplan.plan.model import Answer
from xlplan.plan.values import Mark, Value

# The built-in ids named (percentages, separators and the dates of a Japanese Excel): the same map, so
# that what is compared is how styles.xml is parsed.
BUILTIN_SHOWN = sheets_module._BUILTIN_FORMATS
assert BUILTIN_SHOWN["9"] == "0%" and BUILTIN_SHOWN["14"] == "yyyy/m/d" and "0" not in BUILTIN_SHOWN


def _by_tree(xml: bytes) -> list[str | None]:
    """The same answer from ElementTree: the reference the regular expressions must agree with."""
    root = ElementTree.fromstring(xml)

    def local(tag: str) -> str:
        return tag.rpartition("}")[2]

    custom = {e.get("numFmtId"): e.get("formatCode") for e in root.iter() if local(e.tag) == "numFmt"}
    section = next(e for e in root.iter() if local(e.tag) == "cellXfs")
    ids = [xf.get("numFmtId", "0") for xf in section if local(xf.tag) == "xf"]
    return [custom.get(number) or BUILTIN_SHOWN.get(number) for number in ids]


@pytest.mark.parametrize(
    "prefix, quote",
    [("", '"'), ("x:", '"'), ("", "'"), ("ss:", "'")],
)
def test_styles_read_as_an_xml_parser_reads_them(prefix: str, quote: str) -> None:
    q = quote
    ns = f"xmlns{':' + prefix[:-1] if prefix else ''}={q}http://schemas.openxmlformats.org/spreadsheetml/2006/main{q}"
    p = prefix
    xml = (
        f"<?xml version={q}1.0{q} encoding={q}UTF-8{q}?><{p}styleSheet {ns}>"
        f"<{p}numFmts count={q}3{q}>"
        f"<{p}numFmt numFmtId={q}164{q} formatCode={q}#,##0&quot;人&quot;{q}/>"
        # ">" may stand unescaped inside an attribute; "&amp;" and "&apos;" are unescaped.
        f"<{p}numFmt formatCode={q}[>=100]0.0&amp;&apos;件&apos;{q} numFmtId={q}165{q} />"
        f"<{p}numFmt numFmtId={q}166{q} formatCode={q}0.0%{q}></{p}numFmt>"
        f"</{p}numFmts>"
        # cellStyleXfs comes first and holds xf records too: they are not cell styles.
        f"<{p}cellStyleXfs count={q}2{q}><{p}xf numFmtId={q}164{q}/><{p}xf numFmtId={q}9{q}/></{p}cellStyleXfs>"
        f"<{p}cellXfs count={q}6{q}>"
        f"<{p}xf numFmtId={q}0{q} fontId={q}0{q}/>"
        f"<{p}xf fontId={q}1{q}/>"  # no numFmtId: General
        f"<{p}xf numFmtId={q}165{q} applyNumberFormat={q}1{q}><{p}alignment wrapText={q}1{q}/></{p}xf>"
        f"<{p}xf\n numFmtId = {q}9{q}/>"
        f"<{p}xf numFmtId={q}164{q}/><{p}xf numFmtId={q}166{q}/><{p}xf numFmtId={q}14{q}/>"
        f"</{p}cellXfs></{p}styleSheet>"
    ).encode()
    found = number_formats(xml)
    assert list(found) == _by_tree(xml)
    assert found[2] == "[>=100]0.0&'件'" and found[3] == "0%"


def test_format_codes_agree_with_openpyxl(tmp_path: Path) -> None:
    """Every numeric cell's format, as the reader gives it, is the one openpyxl reads from the same file."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "回答"
    formats = ['#,##0"人"', "0.0%", "0%", "0.00%", "#,##0", '0.0"%"', "General", '[>=100]0;0.0"件"']
    for row, code in enumerate(formats, start=1):
        for column, value in enumerate((41.2, 0.412, 1957), start=1):
            cell = sheet.cell(row, column, value)
            cell.number_format = code
        text = sheet.cell(row, 4, "実施した。")  # text keeps no number format in the reading
        text.number_format = code
    path = tmp_path / "formats.xlsx"
    workbook.save(path)

    read = read_return(path).response
    assert read is not None
    expected = {
        (cell.row, cell.column): cell.number_format
        for row in openpyxl.load_workbook(path)["回答"].iter_rows()
        for cell in row
        if isinstance(cell.value, (int, float)) and cell.number_format != "General"
    }
    assert read.formats == expected
    assert len(expected) == 3 * (len(formats) - 1)


def test_a_verdict_crosses_the_pipe_unchanged() -> None:
    """Collection's workers send verdicts by pickle in a compact form; what arrives is equal."""
    answers = (
        Answer(1, "講座の開催", "人権・同和対策室", Value(Decimal("41.20"), "%"), "実施した。\n2回"),
        Answer(2, "相談", "福祉課", Value(mark=Mark.DONE)),
        Answer(3, "啓発", "総務課", Value(), None),
        Answer(4, "研修", "総務課", Value(Decimal("1957"), "人"), ""),
    )
    finding = Finding("value-missing", {"row_id": "R003-1-1", "column": "value"}, file="a.xlsx", cell="E9")
    verdict = Checked("invalid", "総務課", answers, (finding,))
    arrived = pickle.loads(pickle.dumps(verdict))
    assert arrived == verdict
    assert type(arrived.answers[0].value.number) is Decimal and arrived.answers[1].value.mark is Mark.DONE
    assert str(arrived.answers[0].value.number) == "41.20"


def test_the_cell_scan_looks_only_at_formatted_cells_that_can_hold_a_number() -> None:
    """The pattern made for one file's styles: a style is matched whole (s="1" is not s="12"), a cell
    typed as text after its style is passed over, a cell typed as a number either side is kept."""
    pattern = _styled_cells((1, 12))
    xml = (
        b'<c r="A1" s="12"><v>3</v></c>'  # a number in style 12
        b'<c r="B1" s="12" t="n"><v>4</v></c>'  # typed as a number after its style
        b'<c r="C1" t="n" s="1"><v>5</v></c>'  # typed as a number before it
        b'<c r="D1" s="12" t="inlineStr"><is><t>x</t></is></c>'  # text: passed over
        b'<c r="E1" s="12" t="s"><v>0</v></c>'  # a shared string: passed over
        b'<c r="F1" s="2"><v>6</v></c>'  # a style without a format
        b'<c r="G1" s="121"><v>7</v></c>'  # not style 12
    )
    assert pattern.findall(xml) == [(b"A", b"1", b"12"), (b"B", b"1", b"12"), (b"C", b"1", b"1")]
    # Every cell the general pattern finds in those styles and that can hold a number, no other.
    general = [m for m in _STYLED_CELL.findall(xml) if m[2] in (b"1", b"12")]
    assert set(pattern.findall(xml)) < set(general) and len(general) == 5


def test_each_file_gets_its_own_formats_when_styles_are_remembered(tmp_path: Path) -> None:
    """A worker parses each distinct styles.xml once: files read one after another in the same
    process still show each its own formats (a remembered table must never stand for another's)."""
    from xlplan.collection.read.limits import Limits
    from xlplan.collection.read.sniff import read_file

    paths = []
    for name, code in (("percent", "0.0%"), ("count", '0"件"'), ("percent-again", "0.0%")):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "回答"
        sheet["B2"] = 0.412
        sheet["B2"].number_format = code
        sheet["C3"] = 7  # General
        workbook.save(tmp_path / f"{name}.xlsx")
        paths.append((tmp_path / f"{name}.xlsx", code))
    for _ in range(2):
        for path, code in paths:
            response = read_file(path, Limits(), path.name).response
            assert response is not None
            assert response.formats == {(2, 2): code}, path.name
