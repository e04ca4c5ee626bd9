"""What a file is, told by its content (never its name), and reading one file into a snapshot (in a worker).

The first bytes say what the file is: a zip (then the package's parts tell ``.xlsx`` /
``.xlsm`` from ``.xlsb`` and ``.ods``), an OLE compound file (a password-protected
workbook, or Excel 97-2003 ``.xls``), HTML, CSV or other text, PDF. Anything that is
not an Office Open XML workbook is refused with its own finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlplan.collection.read.limits import Limits, Refused, mb
from xlplan.collection.read.package import Package, Wire
from xlplan.findings import Finding, Phrase


def sniff(head: bytes) -> str:
    """What the first bytes of a file say it is, before any parsing.

    Returns one of ``zip``, ``ole``, ``xls-old``, ``pdf``, ``html``, ``xml-spreadsheet``,
    ``ods-flat``, ``text``, ``empty`` or ``binary``. A zip is told apart further from its
    parts, an OLE compound file from its streams.
    """
    if not head:
        return "empty"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head[:2] in _OLD_EXCEL_BOF and len(head) >= 4:
        return "xls-old"  # Excel 2.x–4.0 worksheets are a bare record stream, not an OLE file
    if head.startswith(b"%PDF-"):
        return "pdf"
    text = as_text(head)
    if text is None:
        return "binary"
    lowered = text.lstrip().lower()[:8192]
    if "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
        return "xml-spreadsheet"  # Excel's "XML スプレッドシート 2003"
    if "urn:oasis:names:tc:opendocument:xmlns:office" in lowered and (
        "opendocument.spreadsheet" in lowered or "<office:spreadsheet" in lowered
    ):
        return "ods-flat"  # LibreOffice's flat XML spreadsheet (.fods)
    if lowered.startswith(("<!doctype html", "<html")) or any(
        tag in lowered for tag in ("<html", "<table", "<body", "text/html")
    ):
        return "html"  # also Excel's "Web ページ" and single-file web page (.mht) exports
    return "text"


# ----------------------------------------------------------------------------------------
# Reading one file (in the worker)
# ----------------------------------------------------------------------------------------

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_OLD_EXCEL_BOF = (b"\x09\x00", b"\x09\x02", b"\x09\x04")
"""The BOF record that starts an Excel 2.x, 3.0 or 4.0 worksheet (BIFF2, BIFF3, BIFF4)."""
REL_ID = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
)


def read_file(path: Path, limits: Limits, name: str) -> Wire:
    data = read_bytes(path, limits)
    kind = sniff(data[:65536])
    if kind == "empty":
        raise Refused("file-empty")
    if kind == "ole":
        code, params = ole_kind(data)
        raise Refused(code, **params)
    if kind != "zip":
        refusals = {
            "html": "file-html",
            "xml-spreadsheet": "file-xml-spreadsheet",
            "ods-flat": "file-ods",
            "xls-old": "file-xls-old",
            "text": "file-text",
        }
        if kind in refusals:
            raise Refused(refusals[kind])
        raise Refused("file-not-workbook", kind=Phrase(f"kind-{kind}"))
    package = Package(data, limits)
    return package.snapshot(name)


def read_bytes(path: Path, limits: Limits) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_file() and size > limits.max_file_bytes:
            raise Refused("file-too-large", size=mb(size), limit=mb(limits.max_file_bytes))
        with path.open("rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)  # bounded even for a file that grows or a device
    except OSError as exc:
        raise Refused("file-workbook-unreadable", detail=exc.strerror or type(exc).__name__) from exc
    if len(data) > limits.max_file_bytes:
        raise Refused("file-too-large", size=mb(len(data)), limit=mb(limits.max_file_bytes))
    return data


def as_text(head: bytes) -> str | None:
    """``head`` as text when it plausibly is text (UTF-8/16 with or without BOM, or Shift_JIS)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[:8192].decode("utf-16", errors="replace")
    sample = head[:8192]
    if b"\x00" in sample:
        return None
    for encoding in ("utf-8", "cp932"):
        try:
            return sample.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start >= len(sample) - 4:  # a multi-byte character cut by the sample's end
                return sample[: exc.start].decode(encoding)
    return None


def ole_kind(data: bytes) -> tuple[str, dict[str, Any]]:
    """The finding for an OLE compound file: password-protected workbook, ``.xls``, or another document."""
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)}
    except Exception as exc:  # olefile raises several types on damaged files
        return "file-damaged", {"detail": f"OLE: {exc}"[:200]}
    if {"encryptioninfo", "encryptedpackage"} <= streams:
        return "file-encrypted", {}  # an OOXML workbook encrypted with a password (MS-OFFCRYPTO)
    if "workbook" in streams or "book" in streams:
        return "file-xls", {}
    if "worddocument" in streams:
        return "file-not-workbook", {"kind": Phrase("kind-word-97")}
    return "file-not-workbook", {"kind": Phrase("kind-ole")}


def read_guarded(path: Path, limits: Limits, name: str) -> Wire | tuple[Finding, ...]:
    """Read one file; every failure becomes findings. Runs in the worker."""
    try:
        return read_file(path, limits, name)
    except Refused as refused:
        return (Finding(refused.code, refused.params, file=name),)
    except MemoryError:
        return (Finding("file-read-crashed", {"detail": "MemoryError"}, file=name),)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # pyo3's PanicException is a BaseException, not an Exception
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return (Finding("file-workbook-unreadable", {"detail": detail}, file=name),)
