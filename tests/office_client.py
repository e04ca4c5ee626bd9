"""A department at its desk, played by LibreOffice: the UNO side of :mod:`tests.office`.

Run by the system Python, which has LibreOffice's ``uno`` module (Debian's python3-uno),
not by the tests' virtual environment. It connects to a LibreOffice that
:class:`tests.office.Office` started, reads one job as JSON on stdin and answers JSON
on stdout. A job opens a workbook, types text into cells the way a person does — the
cell is selected and the text entered through the ``.uno:EnterString`` command, the
input line's path, so LibreOffice parses it ("41.2%" becomes 0.412 in a percent
cell) and sheet protection refuses locked cells — then saves the workbook as .xlsx,
exports it as PDF and reports what each sheet displays. A job may also call Basic/VBA functions
of the workbook's own VBA project (``call``), with macros allowed for that document only.

Only the standard library and ``uno`` are imported here: this file is not part of the
package and never runs inside the tests' interpreter.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

XLSX_FILTER = "Calc MS Excel 2007 XML"
PDF_FILTER = "calc_pdf_Export"


def _property(name: str, value: Any) -> Any:
    item = PropertyValue()
    item.Name = name
    item.Value = value
    return item


def _connect(pipe: str, timeout: float) -> Any:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:  # NoConnectException while LibreOffice is still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _url(path: str) -> str:
    return uno.systemPathToFileUrl(os.path.abspath(path))


def _visibility(sheet: Any) -> str:
    # IsVisible is False for both hidden and very hidden sheets; LibreOffice has no very hidden
    # state of its own, which is why a LibreOffice save turns one into the other.
    return "visible" if sheet.IsVisible else "hidden"


def _displayed(sheet: Any) -> list[list[str]]:
    """Every cell of the used area as LibreOffice displays it (its formatted text)."""
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    last_row, last_column = cursor.RangeAddress.EndRow, cursor.RangeAddress.EndColumn
    area = sheet.getCellRangeByPosition(0, 0, last_column, last_row)
    return [
        [area.getCellByPosition(column, row).getString() for column in range(last_column + 1)]
        for row in range(last_row + 1)
    ]


def _heights(sheet: Any) -> list[list[float]]:
    """(row, height as stored, height LibreOffice needs to show it whole) in mm, per row of the used area.

    The optimal height is what LibreOffice computes for the row's wrapped text; the document
    is closed without saving, so asking changes nothing.
    """
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    rows = sheet.getRows()
    found = []
    for index in range(cursor.RangeAddress.EndRow + 1):
        row = rows.getByIndex(index)
        stored = row.Height
        row.OptimalHeight = True
        found.append([index + 1, stored / 100, row.Height / 100])
    return found


def _type(context: Any, document: Any, sheet_name: str, address: str, text: str) -> dict[str, Any]:
    """Enter ``text`` into a cell as typed on the keyboard and Enter pressed."""
    sheet = document.Sheets.getByName(sheet_name)
    controller = document.CurrentController
    controller.setActiveSheet(sheet)
    cell = sheet.getCellRangeByName(address)
    before = cell.getFormula()
    controller.select(cell)
    dispatcher = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.frame.DispatchHelper", context
    )
    dispatcher.executeDispatch(controller.Frame, ".uno:EnterString", "", 0, (_property("StringName", text),))
    after = cell.getFormula()
    # A protected cell keeps its content: the command shows an error box (dismissed headless).
    refused = after == before and text != before and not (before == "" and text == "")
    return {
        "sheet": sheet_name,
        "cell": address,
        "typed": text,
        "shown": cell.getString(),
        "refused": refused,
        "number_format": document.NumberFormats.getByKey(cell.NumberFormat).FormatString,
    }


def _call(document: Any, macro: str, arguments: list[Any]) -> Any:
    """Call ``Module.Function`` of the document's VBA project (library VBAProject) and return its result."""
    uri = f"vnd.sun.star.script:VBAProject.{macro}?language=Basic&location=document"
    result, _, _ = document.getScriptProvider().getScript(uri).invoke(tuple(arguments), (), ())
    return result


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Carry out one job (see :meth:`tests.office.Office.run`) and say what happened."""
    context = _connect(job["pipe"], job.get("timeout", 60))
    desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    options = [_property("Hidden", True)]
    if job.get("call"):
        options.append(_property("MacroExecutionMode", 4))  # ALWAYS_EXECUTE_NO_WARN: this document's macros
    document = desktop.loadComponentFromURL(_url(job["open"]), "_blank", 0, tuple(options))
    if document is None:
        raise RuntimeError(f"LibreOffice could not open {job['open']}")
    try:
        typed = [_type(context, document, sheet, cell, text) for sheet, cell, text in job.get("type", [])]
        called = [_call(document, macro, list(arguments)) for macro, arguments in job.get("call", [])]
        if job.get("save"):
            document.storeToURL(_url(job["save"]), (_property("FilterName", XLSX_FILTER),))
        if job.get("pdf"):
            document.storeToURL(_url(job["pdf"]), (_property("FilterName", PDF_FILTER),))
        sheets = {}  # read after saving: asking for optimal heights changes the rows
        for index in range(document.Sheets.Count):
            sheet = document.Sheets.getByIndex(index)
            sheets[sheet.Name] = {
                "visibility": _visibility(sheet),
                "protected": bool(sheet.isProtected()),
                "cells": _displayed(sheet) if sheet.Name in job.get("read", []) else None,
                "heights": _heights(sheet) if sheet.Name in job.get("heights", []) else None,
            }
        return {
            "typed": typed,
            "called": called,
            "sheets": sheets,
            "structure_protected": bool(document.isProtected()),
        }
    finally:
        document.close(True)


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout, ensure_ascii=False)
