"""Print a workbook to PDF with whatever is installed: LibreOffice headless, or Excel on Windows.

LibreOffice is tried first because it runs unattended on a server without a
display; each conversion gets a private profile folder, so it works while
someone has LibreOffice open and two conversions cannot share a profile lock.
On Windows without LibreOffice, Excel is driven through xlwings — only if
xlwings is importable and an Excel can be started; xlwings is imported inside
that function, so ``import xlplan`` never loads it. Where neither is present,
:class:`PdfUnavailable` says what to install, and the caller goes on without a
PDF (the xlsx and CSV do not depend on it).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from xlplan.children import watched_command
from xlplan.errors import PdfFailed, PdfUnavailable
from xlplan.findings import Finding
from xlplan.xlsx.atomic import replace_into, temporary_beside

TIMEOUT = 600
"""Seconds allowed for one conversion (a table of 100,000 rows takes minutes in LibreOffice)."""

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


def export_pdf(workbook: Path, target: Path) -> Path:
    """Print every sheet of ``workbook`` into the PDF ``target``; returns where it was written.

    The PDF is made beside the target and moved into place like every output
    (a PDF open in a viewer on Windows leads to a versioned name).

    Raises:
        PdfUnavailable: no converter is installed (finding ``pdf-unavailable``).
        PdfFailed: the converter ran but failed (finding ``pdf-failed``).
    """
    soffice = find_libreoffice()
    if soffice is not None:
        return _with_libreoffice(soffice, workbook, target)
    if excel_available():
        return _with_excel(workbook, target)
    raise PdfUnavailable([Finding("pdf-unavailable")])


def _with_libreoffice(soffice: str, workbook: Path, target: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="xlplan-pdf-") as scratch:
        folder = Path(scratch)
        profile = folder / "profile"
        env = {**os.environ, "HOME": str(profile)}
        command = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
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
