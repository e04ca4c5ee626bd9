"""Odd-but-legal spreadsheets from public corpora (tests/data/corpus, Apache-2.0) and the same oddities
grafted onto a department workbook: each file gets its own code and a Japanese message with no
library text in it, and a workbook that carries a manifest keeps its department whatever reader
fails on it."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from xlplan.collection.read import read_return
from xlplan.collection.run import validate
from xlplan.collection.snapshot import Snapshot
from xlplan.demo.respond import fill_response
from xlplan.distribution.run import distribute
from xlplan.examples import Example
from xlplan.findings import Finding
from xlplan.workspace.folder import Workspace, init_workspace

CORPUS = Path(__file__).parent / "data" / "corpus"
DEPARTMENT = "企画政策課"

EXPECTED = {
    "poi_xlmmacro.xlsm": "unidentified-file",
    "sheetjs_BlankSheetTypes.xlsm": "unidentified-file",
    "sheetjs_wtf_path.xlsx": "unidentified-file",
    "poi_SampleSS.strict.xlsx": "unidentified-file",
    "sheetjs_sheet_visibility_strict.xlsx": "unidentified-file",
    "sheetjs_mixed_sheets.xlsx": "unidentified-file",
    "poi_SimpleMacro.xlsm": "unidentified-file",
    "poi_testEXCEL_3.xls": "file-xls-old",
    "poi_testEXCEL_4.xls": "file-xls-old",
    "poi_testEXCEL_5.xls": "file-xls",
    "sheetjs_LO7322.fods": "file-ods",
    "poi_SampleSS.ods": "file-ods",
    "sheetjs_BlankSheetTypes.xlsb": "file-xlsb",
    "sheetjs_BlankSheetTypes.xml": "file-xml-spreadsheet",
}
# What library text looks like: English words of three letters or more, a Python exception name.
LIBRARY_TEXT = re.compile(r"[A-Za-z]{3,}Error|[a-z]{3,} [a-z]{3,}")


def _japanese_only(finding: Finding) -> str:
    message = finding.message()
    assert any(unicodedata.name(char, "").startswith(("CJK", "HIRAGANA", "KATAKANA")) for char in message)
    # File names and the Excel menu names (「Excel ブック (*.xlsx)」) may be Latin; sentences may not.
    bare = message.replace(finding.file or "", "")
    bare = re.sub(r"「[^」]*」|（[^）]*\.x[a-z]+[^）]*）|\([^)]*\)", "", bare)
    assert LIBRARY_TEXT.search(bare) is None, message
    return message


def test_the_corpus_sample_is_the_one_described(tmp_path: Path) -> None:
    described = set(re.findall(r"^\| `([^`]+)` \|", (CORPUS / "README.md").read_text(encoding="utf-8"), re.M))
    assert described == set(EXPECTED) == {path.name for path in CORPUS.iterdir()} - {"README.md", "LICENSE"}
    assert "Apache License" in (CORPUS / "LICENSE").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def returned(tmp_path_factory: pytest.TempPathFactory, example: Example) -> tuple[Workspace, Path]:
    """A distributed workspace and 企画政策課's workbook filled with the example's answers."""
    root = tmp_path_factory.mktemp("corpus")
    workspace = init_workspace(root / "ws", example.plan)
    dispatch = next(item for item in distribute(workspace).departments if item.department == DEPARTMENT)
    assert dispatch.workbook is not None
    plan = example.plan
    answers = [a for a in example.answers if plan.canonical_department(a.department) == DEPARTMENT]
    filled = root / "filled.xlsx"
    fill_response(dispatch.workbook, answers, filled)
    return workspace, filled


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_file_gets_its_code_and_a_japanese_message(
    returned: tuple[Workspace, Path], name: str
) -> None:
    workspace, _ = returned
    result = validate(workspace, [CORPUS / name])
    (checked,) = [item.checked for item in result.files]
    codes = [finding.code for finding in checked.findings if finding.is_error]
    assert codes[:1] == [EXPECTED[name]], [f.message() for f in checked.findings]
    for finding in checked.findings:
        _japanese_only(finding)


# ----------------------------------------------------------------------------------------
# the oddities grafted onto a department's workbook
# ----------------------------------------------------------------------------------------


def _rewrite(source: Path, target: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> Path:
    with zipfile.ZipFile(source) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in change(parts).items():
            archive.writestr(name, data)
    return target


def _with_macro_sheet(parts: dict[str, bytes]) -> dict[str, bytes]:
    """Add POI's Excel 4.0 macro sheet as a fourth sheet, as Excel stores one."""
    with zipfile.ZipFile(CORPUS / "poi_xlmmacro.xlsm") as corpus:
        macro = corpus.read("xl/macrosheets/sheet1.xml")
    parts = dict(parts)
    parts["xl/macrosheets/sheet1.xml"] = macro
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdMacro" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"'
        ' Target="macrosheets/sheet1.xml"/></Relationships>',
    )
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    book = parts["xl/workbook.xml"].decode()
    book = re.sub(
        r"(<sheet [^>]*/>)(?!.*<sheet )",
        r'\1<sheet name="Macro1" sheetId="99" r:id="rIdMacro"/>',
        book,
        flags=re.S,
    )
    parts["xl/workbook.xml"] = book.encode()
    types = (
        parts["[Content_Types].xml"]
        .decode()
        .replace(
            "</Types>",
            '<Override PartName="/xl/macrosheets/sheet1.xml" '
            'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>',
        )
    )
    parts["[Content_Types].xml"] = types.encode()
    return parts


def _moved(parts: dict[str, bytes]) -> dict[str, bytes]:
    """Every part of xl/ moved to wtf/, as SheetJS's wtf_path.xlsx has it; only the relationships say where."""
    moved = {}
    for name, data in parts.items():
        if name.endswith(".rels"):
            data = data.replace(b'Target="xl/', b'Target="wtf/').replace(b'Target="/xl/', b'Target="/wtf/')
        elif name == "[Content_Types].xml":
            data = data.replace(b'PartName="/xl/', b'PartName="/wtf/')
        moved[name.replace("xl/", "wtf/", 1) if name.startswith("xl/") else name] = data
    return moved


@pytest.mark.parametrize("graft", [_with_macro_sheet, _moved], ids=["excel4-macro-sheet", "parts-elsewhere"])
def test_a_department_workbook_with_the_oddity_keeps_its_department_and_answers(
    returned: tuple[Workspace, Path], tmp_path: Path, graft: Callable[[dict[str, bytes]], dict[str, bytes]]
) -> None:
    workspace, filled = returned
    odd = _rewrite(filled, tmp_path / "回答.xlsx", graft)
    plain, grafted = (validate(workspace, [path]).files[0].checked for path in (filled, odd))
    assert plain.outcome == "accepted"
    assert (grafted.outcome, grafted.department) == ("accepted", DEPARTMENT), [
        f.message() for f in grafted.findings
    ]
    assert grafted.answers == plain.answers


def test_where_calamine_refuses_the_workbook_streaming_reads_the_same(
    returned: tuple[Workspace, Path], tmp_path: Path
) -> None:
    from python_calamine import CalamineWorkbook

    _, filled = returned
    odd = _rewrite(filled, tmp_path / "回答.xlsm", _with_macro_sheet)
    with pytest.raises(Exception, match=r"(?i)sheet"):
        CalamineWorkbook.from_path(str(odd)).get_sheet_by_name("回答")  # the defect this guards against
    plain, streamed = read_return(filled), read_return(odd)
    assert isinstance(plain, Snapshot) and isinstance(streamed, Snapshot), streamed
    assert streamed.response is not None and plain.response is not None
    assert streamed.response.values == plain.response.values
    assert streamed.manifest_chunks == plain.manifest_chunks
    assert "Macro1" in streamed.sheet_names


def test_a_damaged_file_keeps_the_library_text_out_of_the_message(
    returned: tuple[Workspace, Path], tmp_path: Path
) -> None:
    workspace, filled = returned
    truncated = tmp_path / "途中まで.xlsx"
    truncated.write_bytes(filled.read_bytes()[: filled.stat().st_size // 2])
    (finding,) = validate(workspace, [truncated]).files[0].checked.findings
    assert finding.code == "file-damaged"
    assert "central directory" not in _japanese_only(finding)
    assert "central directory" in finding.params["detail"]  # kept for the administrator, in --json
