"""Print a workbook to PDF with whatever is installed: LibreOffice headless, or Excel on Windows.

LibreOffice is tried first because it runs unattended on a server without a
display; each conversion gets a private profile folder, so it works while
someone has LibreOffice open and two conversions cannot share a profile lock.
On Windows without LibreOffice, Excel is driven through xlwings — only if
xlwings is importable and an Excel can be started; xlwings is imported inside
that function, so ``import xlplan`` never loads it. Where neither is present,
:class:`PdfUnavailable` says what to install, and the caller goes on without a
PDF (the xlsx and CSV do not depend on it).

LibreOffice writes a tagged PDF (PDF/UA, ``UseTaggedPDF`` and ``PDFUACompliance`` of its
``calc_pdf_Export`` filter, given as JSON filter options, which LibreOffice reads since 7.4):
screen readers follow its structure, as JIS X 8341-3 asks of a public body's documents.
The PDF's title is the workbook's document title (its core properties, set by the
writer) and its language is the conversion profile's locale, ``ja-JP`` unless told.
Excel's PDF is tagged when Excel's own option (ドキュメント構造タグ) is on.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from xlplan.children import watched_command
from xlplan.errors import PdfFailed, PdfUnavailable
from xlplan.findings import Finding
from xlplan.xlsx.atomic import replace_into, temporary_beside

TIMEOUT = 600
"""Seconds allowed for one conversion (a table of 100,000 rows takes minutes in LibreOffice)."""

LANGUAGE = "ja-JP"
"""The PDF's language (``/Lang``) unless told otherwise: the tables are Japanese."""

PDF_FILTER = "pdf:calc_pdf_Export:" + json.dumps(
    {
        "UseTaggedPDF": {"type": "boolean", "value": "true"},
        "PDFUACompliance": {"type": "boolean", "value": "true"},
    }
)
"""``--convert-to`` with LibreOffice's filter options: tagged, PDF/UA."""

# LibreOffice takes the PDF's /Lang from its locale setting: the private profile is given one.
_PROFILE_LOCALE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">\
<value>{language}</value></prop></item>
</oor:items>
"""

_WINDOWS_LIBREOFFICE = (
    Path(os.environ.get("PROGRAMFILES", r"C:\Program Files")) / "LibreOffice" / "program" / "soffice.exe",
    Path(os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)"))
    / "LibreOffice"
    / "program"
    / "soffice.exe",
)


def find_libreoffice() -> str | None:
    """The LibreOffice binary (``soffice``), or None."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if sys.platform == "win32":
        for candidate in _WINDOWS_LIBREOFFICE:
            if candidate.exists():
                return str(candidate)
    return None


def excel_available() -> bool:
    """True on Windows when xlwings is importable (Excel itself is checked when it is started)."""
    return sys.platform == "win32" and importlib.util.find_spec("xlwings") is not None


def export_pdf(workbook: Path, target: Path, *, language: str = LANGUAGE) -> Path:
    """Print every sheet of ``workbook`` into the PDF ``target``; returns where it was written.

    The PDF is made beside the target and moved into place like every output
    (a PDF open in a viewer on Windows leads to a versioned name). With LibreOffice
    it is tagged (PDF/UA), titled with the workbook's document title and in
    ``language`` (a BCP 47 tag such as ``ja-JP``).

    Raises:
        PdfUnavailable: no converter is installed (finding ``pdf-unavailable``).
        PdfFailed: the converter ran but failed (finding ``pdf-failed``).
    """
    soffice = find_libreoffice()
    if soffice is not None:
        return _with_libreoffice(soffice, workbook, target, language)
    if excel_available():
        return _with_excel(workbook, target)
    raise PdfUnavailable([Finding("pdf-unavailable")])


def _with_libreoffice(soffice: str, workbook: Path, target: Path, language: str) -> Path:
    with tempfile.TemporaryDirectory(prefix="xlplan-pdf-") as scratch:
        folder = Path(scratch)
        profile = folder / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(
            _PROFILE_LOCALE.format(language=escape(language)), encoding="utf-8"
        )
        env = {**os.environ, "HOME": str(profile)}
        command = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            PDF_FILTER,
            "--outdir",
            str(folder),
            str(workbook),
        ]
        completed = _run_watched(command, env)
        produced = folder / (workbook.stem + ".pdf")
        if completed.returncode != 0 or not produced.exists():
            reason = (completed.stderr or completed.stdout).decode(errors="replace").strip()[-300:]
            raise PdfFailed(
                [
                    Finding(
                        "pdf-failed",
                        {"tool": "LibreOffice", "reason": reason or f"exit {completed.returncode}"},
                    )
                ]
            )
        temporary = temporary_beside(target)
        shutil.move(str(produced), temporary)
        return replace_into(temporary, target)


def _run_watched(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Run LibreOffice under a watchdog: killed with its helpers when it times out or when this process dies."""
    try:
        process = subprocess.Popen(
            watched_command(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
    except OSError as exc:
        raise PdfFailed([Finding("pdf-failed", {"tool": "LibreOffice", "reason": str(exc)})]) from exc
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        process.terminate()  # the watchdog ends LibreOffice's whole process group
        process.communicate()
        raise PdfFailed(
            [Finding("pdf-failed", {"tool": "LibreOffice", "reason": f"timeout {TIMEOUT} s"})]
        ) from exc
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _with_excel(workbook: Path, target: Path) -> Path:  # pragma: no cover - needs Windows and Excel
    import xlwings as xw

    temporary = temporary_beside(target)
    try:
        with xw.App(visible=False, add_book=False) as app:
            app.display_alerts = False
            book = app.books.open(str(workbook.resolve()), read_only=True)
            try:
                book.to_pdf(str(temporary.resolve()))
            finally:
                book.close()
    except Exception as exc:  # COM raises its own types; every one means "Excel could not print"
        raise PdfFailed([Finding("pdf-failed", {"tool": "Excel", "reason": str(exc)})]) from exc
    return replace_into(temporary, target)
