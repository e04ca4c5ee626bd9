"""Audit a written .xlsx package: no formula, external link or macro may reach publication.

The consolidated table holds text typed by departments. It is written so that
no text can become a formula, and this audit checks the result independently by
reading the package's XML: a worksheet ``<f>`` element (a formula), an external
link part or relationship, a macro or ActiveX part, a defined name other than
Excel's own print settings, or a macro-enabled content type. The table is built
from scratch by XlsxWriter (the template supplies styles only), so nothing of
the kind can legitimately come from the template: the allowed set is empty.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

_FORBIDDEN_PARTS = (
    "xl/vbaproject.bin",
    "xl/externallinks/",
    "xl/macrosheets/",
    "xl/dialogsheets/",
    "xl/activex/",
    "xl/embeddings/",
    "xl/connections.xml",
    "xl/querytables/",
    "customui/",
)
# <f> or <f ...> in a worksheet is a formula; <fill>, <font> etc. do not match.
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_EXTERNAL = re.compile(rb'TargetMode\s*=\s*"External"', re.IGNORECASE)
_MACRO_TYPE = re.compile(rb"macroEnabled|vbaProject", re.IGNORECASE)
_DEFINED_NAME = re.compile(rb"<definedName\b[^>]*\bname=\"([^\"]*)\"[^>]*>([^<]*)</definedName>")
_ALLOWED_NAMES = (b"_xlnm.Print_Titles", b"_xlnm.Print_Area", b"_xlnm._FilterDatabase")
_CHUNK = 1 << 20


def audit_package(path: Path) -> list[str]:
    """What is wrong with the package at ``path``; an empty list when it is clean.

    Each problem is a short description naming the part (``xl/worksheets/sheet1.xml: formula``).
    Worksheets are scanned in 1 MB chunks so that a table of a hundred thousand rows
    is checked without holding its XML in memory.
    """
    problems: list[str] = []
    with zipfile.ZipFile(path) as package:
        for info in package.infolist():
            name = info.filename
            lower = name.lower()
            if any(lower.startswith(part) for part in _FORBIDDEN_PARTS):
                problems.append(f"{name}: forbidden part")
                continue
            if lower == "[content_types].xml":
                if _MACRO_TYPE.search(package.read(name)):
                    problems.append(f"{name}: macro-enabled content type")
            elif lower.endswith(".rels"):
                if _EXTERNAL.search(package.read(name)):
                    problems.append(f"{name}: external relationship")
            elif lower == "xl/workbook.xml":
                for match in _DEFINED_NAME.finditer(package.read(name)):
                    if match.group(1) not in _ALLOWED_NAMES or b"[" in match.group(2):
                        problems.append(f"{name}: defined name {match.group(1).decode(errors='replace')}")
            elif (
                lower.startswith("xl/worksheets/") and lower.endswith(".xml") and _has_formula(package, name)
            ):
                problems.append(f"{name}: formula")
    return problems


def _has_formula(package: zipfile.ZipFile, name: str) -> bool:
    overlap = 16  # longer than any match, so a match split between chunks is still found
    tail = b""
    with package.open(name) as stream:
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            # The formula pattern starts "<f" or "<prefix:f": a C-speed look for either first.
            if (b"<f" in window or b":f" in window) and _FORMULA.search(window):
                return True
            tail = chunk[-overlap:]
    return False
