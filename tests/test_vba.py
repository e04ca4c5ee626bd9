"""The VBA project writer and the button workbook, checked by readers we did not write.

Readers used: oletools (its MS-OVBA decompressor and olevba's project parser), olefile (MS-CFB),
openpyxl (the keep_vba round trip), python-calamine (cell values) and LibreOffice (opens the
.xlsm, imports the VBA and binds the buttons). Nothing here can run Excel itself.
"""

from __future__ import annotations

import os
import random
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from tests.conftest import calamine_rows, convert_with_soffice
from xlplan.buttons.vba.cfb import NOSTREAM, CfbError, directory_sort_key, write_compound_file
from xlplan.buttons.vba.ovba import (
    CHUNK_SIZE,
    WORKBOOK_BASE,
    IncompressibleChunkError,
    ModuleKind,
    VbaProjectError,
    build_vba_project,
    class_module,
    compress,
    decrypt,
    document_module,
    encrypt,
    standard_module,
)
from xlplan.buttons.vba.remote import (
    MESSAGES,
    SERVER_SHEET,
    ServerButton,
    ServerSettings,
    escape,
    normalise_server_url,
    server_module_source,
    unescape,
)
from xlplan.buttons.vba.skeleton import (
    BUTTONS_MODULE,
    CONF_SHEET,
    DEFAULT_INTERPRETER_WIN,
    VBA_PART,
    Button,
    VbaChangedError,
    build_button_workbook,
    button_macros,
    merge_into_skeleton,
    vba_project_bytes,
    xlwings_vba_files,
)

BUTTONS = [
    ("配布ファイルを作る", "Distribute", "distribute"),
    ("回答を集める", "Collect", "collect"),
    ("集計する", "Consolidate", "consolidate"),
]
EXPLANATION = ["このシートのボタンで、計画の進捗調査を進めます。", "=SUM(A1) は数式ではなく文字です。"]


def roundtrip(data: bytes) -> bytes:
    """Compress with our writer, decompress with oletools' independent implementation."""
    return bytes(decompress_stream(bytearray(compress(data))))


def chunk_headers(container: bytes) -> list[tuple[int, bool]]:
    """(total chunk size, compressed?) of each chunk in a CompressedContainer."""
    headers = []
    pos = 1
    while pos < len(container):
        (header,) = struct.unpack("<H", container[pos : pos + 2])
        size = (header & 0x0FFF) + 3
        assert (header >> 12) & 0b111 == 0b011, "chunk signature"
        headers.append((size, bool(header >> 15)))
        pos += size
    assert pos == len(container)
    return headers


def read_text_crlf(path: Path) -> str:
    with path.open(encoding="ascii", newline="") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def skeleton(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("skeleton") / "master.xlsm"
    build_button_workbook(path, BUTTONS, explanation_lines=EXPLANATION)
    return path


def olevba_modules(path: Path) -> dict[str, str]:
    """Module name -> source as olevba extracts it (decompressed, decoded, CRLF, attributes kept)."""
    parser = VBA_Parser(str(path))
    try:
        assert parser.detect_vba_macros()
        return {Path(vba_filename).stem: code for _, _, vba_filename, code in parser.extract_macros()}
    finally:
        parser.close()


# --- compression ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 17, 4095, 4096, 4097, 8192, 12_345])
def test_compression_roundtrip_repetitive(size: int) -> None:
    data = bytes(random.Random(size).choice(b"ab\r\n ") for _ in range(size))
    assert roundtrip(data) == data


def test_compression_of_xlwings_bas_roundtrips_and_shrinks() -> None:
    bas, _ = xlwings_vba_files()
    data = bas.read_bytes()
    compressed = compress(data)
    assert bytes(decompress_stream(bytearray(compressed))) == data
    assert len(compressed) < len(data) / 2
    assert all(flag for _, flag in chunk_headers(compressed)), "source text never needs a raw chunk"


def test_incompressible_full_chunk_is_stored_raw_as_exactly_4096_bytes() -> None:
    data = random.Random(1).randbytes(CHUNK_SIZE)
    compressed = compress(data)
    assert chunk_headers(compressed) == [(4098, False)]
    assert compressed[3:] == data
    assert roundtrip(data) == data


def test_raw_chunks_followed_by_a_compressible_tail() -> None:
    noise = random.Random(2).randbytes(2 * CHUNK_SIZE)
    data = noise + b"End Sub\r\n" * 100
    compressed = compress(data)
    headers = chunk_headers(compressed)
    assert headers[:2] == [(4098, False), (4098, False)] and headers[2][1]
    assert roundtrip(data) == data


def test_incompressible_partial_last_chunk_is_refused_not_padded() -> None:
    # MS-OVBA would pad a raw last chunk with zeros, changing the data; we refuse instead.
    with pytest.raises(IncompressibleChunkError):
        compress(random.Random(3).randbytes(4000))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"Sub ", b"End Sub\r\n", b"Dim x", b" = ", b"RunPython ", b'"', b"a", b"\xe3"]),
        max_size=3000,
    ).map(b"".join)
)
def test_compression_roundtrip_property_text_like(data: bytes) -> None:
    assert roundtrip(data) == data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=9000))
def test_compression_roundtrip_property_any_bytes(data: bytes) -> None:
    try:
        compressed = compress(data)
    except IncompressibleChunkError:
        # Only a long, repeat-free last partial chunk may be refused: 4096 literals need 4608 bytes.
        assert len(data) % CHUNK_SIZE > 3600
        return
    assert bytes(decompress_stream(bytearray(compressed))) == data
    assert all(size <= 4098 for size, _ in chunk_headers(compressed))


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=CHUNK_SIZE - 3, max_value=CHUNK_SIZE + 3), st.integers(0, 2**32 - 1))
def test_compression_around_the_chunk_boundary(size: int, seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.choice(b"xyz\r\n") for _ in range(size))
    assert roundtrip(data) == data


# --- obfuscation of CMG/DPB/GC ------------------------------------------------------------------


def test_decrypt_the_spec_example() -> None:
    # MS-OVBA §3.1.6: the example PROJECT stream's protection fields.
    assert decrypt("0705D8E3D8EDDBF1DBF1DBF1DBF1") == b"\x00\x00\x00\x00"
    assert decrypt("0E0CD1ECDFF4E7F5E7F5E7") == b"\x00"
    assert decrypt("1517CAF1D6F9D7F9D706") == b"\xff"


@given(st.binary(min_size=1, max_size=40), st.integers(0, 2**32 - 1), st.uuids())
def test_encrypt_decrypt_roundtrip(data: bytes, seed: int, project_uuid: object) -> None:
    project_id = "{" + str(project_uuid).upper() + "}"
    text = encrypt(data, project_id, random.Random(seed))
    assert re.fullmatch(r"[0-9A-F]+", text)
    assert decrypt(text) == data
    raw = bytes.fromhex(text)
    assert raw[0] ^ raw[2] == sum(project_id.encode()) & 0xFF  # ProjKey is the CLSID's byte sum


# --- MS-CFB container ----------------------------------------------------------------------------


def directory_entries(data: bytes) -> list[tuple[str, int, int, int, int, int]]:
    """(name, type, colour, left, right, child) for each directory entry, read from raw bytes."""
    (first_dir,) = struct.unpack("<I", data[0x30:0x34])
    fat = struct.unpack(f"<{128}I", data[512:1024])  # the tests' files have one FAT sector
    entries = []
    sector = first_dir
    while sector != 0xFFFFFFFE:
        block = data[512 * (sector + 1) : 512 * (sector + 2)]
        for i in range(4):
            raw = block[128 * i : 128 * (i + 1)]
            (name_len,) = struct.unpack("<H", raw[64:66])
            name = raw[: max(name_len - 2, 0)].decode("utf-16-le")
            kind, colour = raw[66], raw[67]
            left, right, child = struct.unpack("<III", raw[68:80])
            entries.append((name, kind, colour, left, right, child))
        sector = fat[sector]
    return entries


def in_order(entries: list[tuple[str, int, int, int, int, int]], node: int) -> list[str]:
    if node == NOSTREAM:
        return []
    name, _, _, left, right, _ = entries[node]
    return [*in_order(entries, left), name, *in_order(entries, right)]


def test_cfb_directory_is_a_search_tree_by_length_then_uppercase_name() -> None:
    names = ["dir", "_VBA_PROJECT", "Sheet1", "ThisWorkbook", "xlwings", "Dictionary", "b", "A", "Zz", "aa"]
    tree: dict[str, bytes | dict[str, bytes]] = {
        "PROJECT": b"p",
        "PROJECTwm": b"w",
        "VBA": {n: n.encode() for n in names},
    }
    data = write_compound_file(tree)
    entries = directory_entries(data)
    root = entries[0]
    assert root[0] == "Root Entry" and root[1] == 5
    assert in_order(entries, root[5]) == ["VBA", "PROJECT", "PROJECTwm"]
    vba = next(e for e in entries if e[0] == "VBA")
    expected = [
        "A",
        "b",
        "aa",
        "Zz",
        "dir",
        "Sheet1",
        "xlwings",
        "Dictionary",
        "ThisWorkbook",
        "_VBA_PROJECT",
    ]
    assert in_order(entries, vba[5]) == expected == sorted(names, key=directory_sort_key)
    assert all(colour == 1 for name, kind, colour, *_ in entries if kind), "every node is black"


@pytest.mark.parametrize("sizes", [[0, 1, 63, 64, 65], [4095, 4096, 4097], [100] * 40, [70_000, 10, 5000]])
def test_cfb_streams_read_back_with_olefile(sizes: list[int]) -> None:
    streams = {f"S{i}": os.urandom(size) for i, size in enumerate(sizes)}
    data = write_compound_file({"top": b"x" * 10, "VBA": streams})
    ole = olefile.OleFileIO(data)
    try:
        assert ole.openstream("top").read() == b"x" * 10
        for name, content in streams.items():
            assert ole.openstream(f"VBA/{name}").read() == content
    finally:
        ole.close()


def test_cfb_rejects_bad_names() -> None:
    with pytest.raises(CfbError):
        write_compound_file({"VBA": {"abc": b"", "ABC": b""}})
    with pytest.raises(CfbError):
        write_compound_file({"x" * 32: b""})


# --- the VBA project -----------------------------------------------------------------------------


def test_project_is_source_only_with_matching_streams(tmp_path: Path) -> None:
    modules = [
        document_module("ThisWorkbook", WORKBOOK_BASE),
        document_module("Sheet1"),
        standard_module("Module1", 'Public Sub Hello()\n    MsgBox "hi"\nEnd Sub\n'),
    ]
    data = build_vba_project(modules)
    assert data == build_vba_project(modules), "same input, same bytes"
    ole = olefile.OleFileIO(data)
    try:
        assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
        project = ole.openstream("PROJECT").read().decode("cp932")
        fields = dict(line.split("=", 1) for line in project.split("\r\n") if "=" in line and "[" not in line)
        assert decrypt(fields["CMG"].strip('"')) == b"\x00\x00\x00\x00"
        assert decrypt(fields["DPB"].strip('"')) == b"\x00"
        assert decrypt(fields["GC"].strip('"')) == b"\xff"
        assert "Document=Sheet1/&H00000000\r\nModule=Module1\r\n" in project
        module = bytes(decompress_stream(bytearray(ole.openstream("VBA/Module1").read())))
        assert (
            module == b'Attribute VB_Name = "Module1"\r\nPublic Sub Hello()\r\n    MsgBox "hi"\r\nEnd Sub\r\n'
        )
    finally:
        ole.close()


def test_project_rejects_bad_input() -> None:
    with pytest.raises(VbaProjectError):
        build_vba_project([standard_module("Module1", "")])  # no document module
    with pytest.raises(VbaProjectError):
        build_vba_project([document_module("ThisWorkbook"), standard_module("thisworkbook", "")])
    with pytest.raises(VbaProjectError):
        standard_module("1abc", "")
    with pytest.raises(VbaProjectError):
        build_vba_project(
            [document_module("ThisWorkbook"), standard_module("M", "' ü ✓\r\n")], code_page=1252
        )


# --- the button workbook -------------------------------------------------------------------------


def test_olevba_finds_the_button_subs_and_xlwings_verbatim(skeleton: Path) -> None:
    modules = olevba_modules(skeleton)
    assert set(modules) == {"ThisWorkbook", "Sheet1", "Sheet2", "xlwings", "Dictionary", BUTTONS_MODULE}

    buttons = modules[BUTTONS_MODULE]
    assert buttons.startswith(f'Attribute VB_Name = "{BUTTONS_MODULE}"\r\n')
    for _, macro, function in BUTTONS:
        assert (
            f'Public Sub {macro}()\r\n    RunPython "import xlplan.excel; xlplan.excel.{function}()"\r\nEnd Sub'
            in buttons
        )
    assert buttons.isascii()

    # olevba returns the stored text decoded, attribute lines and CRLF kept; xlwings.bas is
    # shipped with CRLF and starts with its own Attribute VB_Name line, so nothing is stripped:
    # the module must equal the file exactly.
    bas, cls = xlwings_vba_files()
    assert modules["xlwings"] == read_text_crlf(bas)

    # Dictionary.cls is an export file: its VERSION/BEGIN/END header (4 lines) exists only in
    # exports, and the VBA editor adds VB_Base, VB_TemplateDerived and VB_Customizable on import.
    stored = modules["Dictionary"].split("\r\n")
    added = {
        'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"',
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = False",
    }
    assert added <= set(stored)
    exported = read_text_crlf(cls).split("\r\n")
    assert exported[:4] == ["VERSION 1.0 CLASS", "BEGIN", "  MultiUse = -1  'True", "END"]
    assert [line for line in stored if line not in added] == exported[4:]


def test_code_names_match_the_document_modules(skeleton: Path) -> None:
    with zipfile.ZipFile(skeleton) as archive:
        workbook_xml = archive.read("xl/workbook.xml").decode()
        sheets = [archive.read(f"xl/worksheets/sheet{i}.xml").decode() for i in (1, 2)]
    assert 'codeName="ThisWorkbook"' in workbook_xml
    assert 'codeName="Sheet1"' in sheets[0] and 'codeName="Sheet2"' in sheets[1]
    modules = olevba_modules(skeleton)
    assert modules["ThisWorkbook"].startswith(
        'Attribute VB_Name = "ThisWorkbook"\r\nAttribute VB_Base = "0{00020819-'
    )
    assert modules["Sheet1"].startswith('Attribute VB_Name = "Sheet1"\r\nAttribute VB_Base = "0{00020820-')


def test_sheets_buttons_and_conf(skeleton: Path) -> None:
    book = openpyxl.load_workbook(skeleton)
    assert book.sheetnames == ["操作", CONF_SHEET]
    assert calamine_rows(skeleton, "操作")[:2] == [[line] for line in EXPLANATION]
    conf = calamine_rows(skeleton, CONF_SHEET)
    assert conf[0] == ["INTERPRETER_WIN", DEFAULT_INTERPRETER_WIN]
    assert conf[1] == ["", ""], "A2 must stay empty: xlwings reads keys from A1 to the first empty cell"
    assert "pythonw.exe" in conf[2][0]
    assert book["操作"]["A2"].data_type == "s", "explanations are text, never formulas"
    assert button_macros(skeleton) == ["Distribute", "Collect", "Consolidate"]
    with zipfile.ZipFile(skeleton) as archive:
        vml = archive.read("xl/drawings/vmlDrawing1.vml").decode()
    for caption, _, _ in BUTTONS:
        assert caption in vml


def test_button_input_is_checked(tmp_path: Path) -> None:
    with pytest.raises(VbaProjectError):
        Button("ボタン", "配布", "distribute")
    with pytest.raises(VbaProjectError):
        Button("ボタン", "Distribute", "distribute; import os")
    with pytest.raises(VbaProjectError):
        build_button_workbook(tmp_path / "a.xlsm", [("a", "Run", "run"), ("b", "run", "run2")])
    with pytest.raises(VbaProjectError):
        build_button_workbook(tmp_path / "a.xlsx", BUTTONS)


def test_openpyxl_keep_vba_roundtrip_keeps_vba_and_buttons(skeleton: Path, tmp_path: Path) -> None:
    out = tmp_path / "merged.xlsm"

    def fill(book: openpyxl.Workbook) -> None:
        sheet = book.create_sheet("計画")
        sheet["A1"] = "施策"
        sheet["B2"] = 42

    merge_into_skeleton(skeleton, fill, out)
    assert vba_project_bytes(out) == vba_project_bytes(skeleton)
    assert button_macros(out) == ["Distribute", "Collect", "Consolidate"]
    assert calamine_rows(out, "計画") == [["施策", ""], ["", 42]]
    with zipfile.ZipFile(out) as archive:
        content_types = archive.read("[Content_Types].xml").decode()
        assert 'codeName="ThisWorkbook"' in archive.read("xl/workbook.xml").decode()
    assert "macroEnabled" in content_types


def test_merge_detects_a_lost_vba_project(skeleton: Path, tmp_path: Path) -> None:
    def drop_vba(book: openpyxl.Workbook) -> None:
        book.vba_archive = None  # what load_workbook without keep_vba=True amounts to

    with pytest.raises(VbaChangedError):
        merge_into_skeleton(skeleton, drop_vba, tmp_path / "lost.xlsm")


def test_vba_part_is_in_the_package(skeleton: Path) -> None:
    with zipfile.ZipFile(skeleton) as archive:
        assert VBA_PART in archive.namelist()
        assert "application/vnd.ms-office.vbaProject" in archive.read("[Content_Types].xml").decode()


def test_libreoffice_imports_modules_and_binds_buttons(
    skeleton: Path, tmp_path: Path, soffice: tuple[str, Path]
) -> None:
    binary, profile = soffice
    ods = convert_with_soffice(binary, profile, skeleton, "ods", tmp_path / "lo")
    with zipfile.ZipFile(ods) as archive:
        library = archive.read("Basic/VBAProject/script-lb.xml").decode()
        listed = set(re.findall(r'library:name="([^"]+)"', library)) - {"VBAProject"}
        assert listed == {"ThisWorkbook", "Sheet1", "Sheet2", "xlwings", "Dictionary", BUTTONS_MODULE}
        module = archive.read(f"Basic/VBAProject/{BUTTONS_MODULE}.xml").decode()
        content = archive.read("content.xml").decode()
    assert "Public Sub Distribute()" in module
    bound = re.findall(r"vnd\.sun\.star\.script:VBAProject\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\?", content)
    assert bound == [(BUTTONS_MODULE, macro) for _, macro, _ in BUTTONS]
    labels = re.findall(r'<form:button [^>]*form:label="([^"]*)"', content)
    assert labels == [caption for caption, _, _ in BUTTONS]


def test_module_kinds_in_the_project() -> None:
    bas, cls = xlwings_vba_files()
    dictionary = class_module("Dictionary", read_text_crlf(cls))
    assert dictionary.kind is ModuleKind.CLASS
    assert dictionary.source.startswith('Attribute VB_Name = "Dictionary"\r\nAttribute VB_Base = ')
    assert standard_module("xlwings", read_text_crlf(bas)).source == read_text_crlf(bas)


def test_building_the_skeleton_does_not_import_xlwings(tmp_path: Path) -> None:
    # Only xlplan.excel may import xlwings; the skeleton finds xlwings' VBA files without it.
    script = (
        "import sys; from xlplan.buttons.vba import build_button_workbook; "
        f"build_button_workbook({str(tmp_path / 'a.xlsm')!r}, [('a', 'Run', 'run')]); "
        "assert 'xlwings' not in sys.modules, 'xlwings was imported'"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


# --- server mode: the module that calls the xlplan server over HTTP --------------------------------

SERVER = ServerSettings("http://xlplan.city.local:8000", "令和3年度")
SERVER_ITEMS = [
    ServerButton("配布", "Distribute", "post", "/distribute"),
    ServerButton("回答を送る", "SendReturns", "upload", "/returns"),
    ServerButton("確認待ち", "Review", "browser"),
    ServerButton("次年度へ", "Rollover", "rollover", "/rollover"),
]


def vba_constants(source: str) -> dict[str, str]:
    """``Private Const NAME As String = "…"`` of a module, continuation lines joined, still escaped."""
    joined = source.replace('" & _\r\n    "', "")
    return dict(re.findall(r'Private Const (\w+) As String = "([^"\r\n]*)"', joined))


@settings(max_examples=200)
@given(st.text())
def test_escaped_text_is_ascii_and_decodes_back(text: str) -> None:
    escaped = escape(text)
    assert escaped.isascii() and '"' not in escaped and "\r" not in escaped and "\n" not in escaped
    assert unescape(escaped) == text


def test_escapes_are_those_the_vba_decodes() -> None:
    assert escape('状況 "a\\b"\n') == "\\u72B6\\u6CC1 \\u0022a\\u005Cb\\u0022\\n"
    assert escape("𠮷") == "\\uD842\\uDFB7"  # outside the BMP: two UTF-16 units, one ChrW each


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://xlplan.city.local:8000", "http://xlplan.city.local:8000"),
        ("https://intra.example.lg.jp/xlplan/", "https://intra.example.lg.jp/xlplan"),
        ("  HTTP://10.0.0.5:8080  ", "HTTP://10.0.0.5:8080"),
        ("http://[fd00::5]:8000", "http://[fd00::5]:8000"),
    ],
)
def test_server_urls_that_can_be_used(given: str, expected: str) -> None:
    assert normalise_server_url(given) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://xlplan.city.local",
        "file:///C:/xlplan",
        "javascript:alert(1)",
        "xlplan.city.local:8000",
        "http://",
        "http://user:secret@xlplan.city.local",
        "http://xlplan.city.local/?token=1",
        "http://xlplan.city.local/#top",
        'http://xlplan.city.local/"&Shell("calc")&"',
        "http://xlplan.city.local:99999",
        "http://計画.example",
        "http://xlplan city",
    ],
)
def test_server_urls_that_are_refused(url: str) -> None:
    assert normalise_server_url(url) is None


@pytest.fixture(scope="module")
def server_skeleton(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("server-skeleton") / "master.xlsm"
    build_button_workbook(path, SERVER_ITEMS, explanation_lines=EXPLANATION, server=SERVER)
    return path


def test_server_skeleton_has_no_xlwings_and_no_way_to_start_a_program(server_skeleton: Path) -> None:
    modules = olevba_modules(server_skeleton)
    assert set(modules) == {"ThisWorkbook", "Sheet1", "Sheet2", BUTTONS_MODULE}
    source = modules[BUTTONS_MODULE]
    assert source.isascii()
    for forbidden in (
        r"\bDeclare\b",
        r"\bShell\b",
        r"WScript",
        r"RunPython",
        r"\bCallByName\b",
        r"MacScript",
    ):
        assert not re.search(forbidden, source, flags=re.I), forbidden
    assert 'CreateObject("WinHttp.WinHttpRequest.5.1")' in source
    assert f'"{SERVER.url}"' in source
    for button in SERVER_ITEMS:
        assert f"Public Sub {button.macro}()\r\n" in source
        if button.path:
            assert f'"{button.path}"' in source
    # Only the button subs and the four pure functions the tests call are public.
    public = re.findall(r"^Public (?:Sub|Function) (\w+)", source, flags=re.M)
    assert public == [b.macro for b in SERVER_ITEMS] + [
        "WriteReply",
        "CanForce",
        "RolloverQuestion",
        "TokenSection",
    ]


def test_every_japanese_text_of_the_server_module_is_in_it(server_skeleton: Path) -> None:
    constants = vba_constants(olevba_modules(server_skeleton)[BUTTONS_MODULE])
    for name, text in MESSAGES.items():
        assert unescape(constants[f"MSG_{name}"]) == text, name
    for button in SERVER_ITEMS:
        assert unescape(constants[f"LABEL_{button.macro.upper()}"]) == button.caption


def test_server_skeleton_settings_sheet(server_skeleton: Path) -> None:
    book = openpyxl.load_workbook(server_skeleton)
    assert book.sheetnames == ["操作", SERVER_SHEET]
    rows = calamine_rows(server_skeleton, SERVER_SHEET)
    assert rows[0] == ["設定", "値", "説明"]
    settings_read = {row[0]: row[1] for row in rows[1:8]}
    assert settings_read == {
        "SERVER_URL": SERVER.url,
        "WORKSPACE": "令和3年度",
        "PROXY": "DIRECT",
        "TIMEOUT_RESOLVE": 10,
        "TIMEOUT_CONNECT": 10,
        "TIMEOUT_SEND": 60,
        "TIMEOUT_RECEIVE": 600,
    }
    assert all(row[2] for row in rows[1:8]), "every setting is explained in column C"
    assert button_macros(server_skeleton) == [b.macro for b in SERVER_ITEMS]


def test_server_module_input_is_checked(tmp_path: Path) -> None:
    with pytest.raises(VbaProjectError):
        ServerButton("配布", "Distribute", "post", "distribute")  # the path starts with /
    with pytest.raises(VbaProjectError):
        server_module_source(SERVER_ITEMS, ServerSettings("ftp://x", "ws"))
    with pytest.raises(VbaProjectError):
        build_button_workbook(tmp_path / "a.xlsm", SERVER_ITEMS)  # server buttons without the settings
    with pytest.raises(VbaProjectError):
        build_button_workbook(tmp_path / "a.xlsm", BUTTONS, server=SERVER)  # RunPython buttons in server mode
