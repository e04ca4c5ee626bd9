"""Real bad files for the safe-reading and intake tests, built byte by byte or by real writers.

Each function writes one file a department (or an attacker) could send and returns its path.
Nothing here is a mock: the files are what the readers would meet — a zip cut short, an
encrypted OOXML compound file made by msoffcrypto-tool, a BIFF8 ``.xls`` made by xlwt, an
OpenDocument spreadsheet, a zip bomb, a billion-laughs DTD, a value in ``XFD1048576``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

CONTENT_TYPES = (
    XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    XML_DECL + f'<Relationships xmlns="{PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_TYPE}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{level} "{("&lol" + (str(level - 1) if level > 1 else "") + ";") * 10}">\n'
        for level in range(1, 10)
    )
    + "]>\n"
)
"""The prolog of a billion-laughs document: ``&lol9;`` expands to 10⁹ "lol"s (3 GB)."""


def sheet_xml(cells: str, *, prolog: str = XML_DECL) -> str:
    """A worksheet part holding ``cells`` (``<row>`` elements) in its sheetData."""
    return (
        f'{prolog}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetData>{cells}</sheetData></worksheet>'
    )


def package(
    path: Path,
    *,
    sheets: Mapping[str, str] | None = None,
    shared_strings: str | None = None,
    extra: Mapping[str, bytes | str] | None = None,
    workbook_prolog: str = XML_DECL,
    external_links: Mapping[str, tuple[str, str | None]] | None = None,
) -> Path:
    """Write a minimal OOXML workbook package by hand.

    Args:
        sheets: sheet name → worksheet XML, in order (default: one empty sheet ``Sheet1``);
            an empty mapping makes a workbook with no sheets.
        shared_strings: the sharedStrings part, if any.
        extra: more parts (name → bytes or text).
        workbook_prolog: what precedes ``<workbook>`` (a DTD for the entity-bomb tests).
        external_links: part number → (externalLink XML, relationship target or None).
    """
    sheets = {"Sheet1": sheet_xml("")} if sheets is None else sheets
    sheet_elements = "".join(
        f'<sheet name="{name}" sheetId="{index}" r:id="rId{index}"/>' for index, name in enumerate(sheets, 1)
    )
    rels = [
        f'<Relationship Id="rId{index}" Type="{REL_TYPE}/worksheet" Target="worksheets/sheet{index}.xml"/>'
        for index in range(1, len(sheets) + 1)
    ]
    if shared_strings is not None:
        rels.append(f'<Relationship Id="rIdS" Type="{REL_TYPE}/sharedStrings" Target="sharedStrings.xml"/>')
    references = ""
    if external_links:
        for number in external_links:
            rels.append(
                f'<Relationship Id="rIdX{number}" Type="{REL_TYPE}/externalLink" '
                f'Target="externalLinks/externalLink{number}.xml"/>'
            )
        references = (
            "<externalReferences>"
            + "".join(f'<externalReference r:id="rIdX{number}"/>' for number in external_links)
            + "</externalReferences>"
        )
    workbook = (
        f'{workbook_prolog}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f"<sheets>{sheet_elements}</sheets>{references}</workbook>"
    )
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": XML_DECL
        + f'<Relationships xmlns="{PKG_REL_NS}">{"".join(rels)}</Relationships>',
    }
    for index, xml in enumerate(sheets.values(), 1):
        parts[f"xl/worksheets/sheet{index}.xml"] = xml
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    for number, (xml, target) in (external_links or {}).items():
        parts[f"xl/externalLinks/externalLink{number}.xml"] = xml
        if target is not None:
            parts[f"xl/externalLinks/_rels/externalLink{number}.xml.rels"] = (
                XML_DECL + f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
                f'Type="{REL_TYPE}/externalLinkPath" Target="{target}" TargetMode="External"/></Relationships>'
            )
    parts.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def truncated(source: Path, target: Path, keep: float = 0.6) -> Path:
    """``source`` cut short, as a transfer interrupted part way leaves it."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def encrypted(source: Path, target: Path, password: str = "secret") -> Path:
    """``source`` encrypted with a password as Excel does (Agile encryption), by msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    with source.open("rb") as plain:
        out = io.BytesIO()
        OOXMLFile(plain).encrypt(password, out)
    target.write_bytes(out.getvalue())
    return target


def xls(target: Path) -> Path:
    """A real Excel 97-2003 (BIFF8) workbook written by xlwt."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("回答")
    sheet.write(0, 0, "行ID")
    sheet.write(1, 0, 159)
    book.save(str(target))
    return target


def ods(target: Path) -> Path:
    """A minimal OpenDocument spreadsheet: the mimetype entry first and stored, as ODF requires."""
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    content = (
        XML_DECL + f'<office:document-content xmlns:office="{office}" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="回答"><table:table-row>'
        "<table:table-cell><text:p>159</text:p></table:table-cell>"
        "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        XML_DECL + '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return target


def xlsb(target: Path) -> Path:
    """The package of an Excel binary workbook: OOXML parts with ``xl/workbook.bin`` (content not needed)."""
    content_types = (
        XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
        "</Types>"
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", ROOT_RELS.replace("xl/workbook.xml", "xl/workbook.bin"))
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00\x80\x01\x00")
        archive.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    return target


def csv_as_xlsx(target: Path) -> Path:
    """A CSV saved from Excel (Shift_JIS, as Japanese Excel writes it) and renamed ``.xlsx``."""
    target.write_bytes(
        "行ID,今年度の値,今年度の実績内容\r\nP021-1-1,159人,講座を3回開催した。\r\n".encode("cp932")
    )
    return target


def html_as_xlsx(target: Path) -> Path:
    """An HTML table (Excel's "Web ページ" export, or a system's download) renamed ``.xlsx``."""
    target.write_text(
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta charset="utf-8"></head>'
        "<body><table><tr><td>行ID</td><td>今年度の値</td></tr><tr><td>P021-1-1</td><td>159</td></tr>"
        "</table></body></html>",
        encoding="utf-8",
    )
    return target


def zip_bomb(target: Path, megabytes: int = 64) -> Path:
    """A workbook package one of whose parts inflates from about 64 KB to ``megabytes`` MB of zeros."""
    zeros = b"\x00" * (megabytes * 1024 * 1024)
    return package(target, extra={"xl/media/image1.png": zeros})


def many_entries(target: Path, count: int) -> Path:
    """A workbook package with ``count`` extra (tiny) entries."""
    return package(target, extra={f"xl/media/image{index}.png": b"x" for index in range(count)})


def far_cell_workbook(target: Path, *, sheet: str = "回答") -> Path:
    """A legal .xlsx with a value in A1 and one in XFD1048576, written by openpyxl.

    python-calamine builds a dense grid from A1 to the last cell: 1,048,576 × 16,384 cells.
    """
    import openpyxl

    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    worksheet["A1"] = "行ID"
    worksheet["XFD1048576"] = 1
    workbook.save(target)
    return target
