"""Excel buttons for the master workbook: a source-only VBA project writer and the .xlsm skeleton.

* :mod:`xlplan.buttons.vba.ovba` writes ``vbaProject.bin`` per MS-OVBA (compression, dir and PROJECT
  streams), on top of :mod:`xlplan.buttons.vba.cfb`, a small MS-CFB writer.
* :mod:`xlplan.buttons.vba.skeleton` writes the ``.xlsm`` with the 操作 sheet, its buttons, the
  ``xlwings.conf`` sheet and the VBA, and merges the master's sheets into it with openpyxl.
* :mod:`xlplan.buttons.vba.remote` writes the server-mode button module, whose VBA calls the
  xlplan server over HTTP (WinHttp) instead of Python (its text: ``server_buttons.bas``).
"""

from xlplan.buttons.vba.ovba import Module, ModuleKind, VbaProjectError, build_vba_project
from xlplan.buttons.vba.skeleton import (
    Button,
    VbaChangedError,
    XlwingsVbaNotFoundError,
    build_button_workbook,
    merge_into_skeleton,
)

__all__ = [
    "Button",
    "Module",
    "ModuleKind",
    "VbaChangedError",
    "VbaProjectError",
    "XlwingsVbaNotFoundError",
    "build_button_workbook",
    "build_vba_project",
    "merge_into_skeleton",
]
