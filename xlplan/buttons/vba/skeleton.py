"""The master workbook's skeleton: an ``.xlsm`` with the 操作 sheet, its buttons and their VBA.

The buttons run Python through xlwings in "standalone" mode, which needs no add-in: the workbook
carries xlwings' own VBA module (``xlwings.bas``, verbatim), its ``Dictionary`` class (used on a
Mac), and a module ``xlplan_buttons`` with one ``Sub`` per button::

    Public Sub Distribute()
        RunPython "import xlplan.excel; xlplan.excel.distribute()"
    End Sub

The workbook itself is written by XlsxWriter, which can attach a ``vbaProject.bin`` and bind form
buttons to macros; openpyxl cannot create either. The master's sheets are added afterwards with
openpyxl, which keeps the VBA project byte for byte when it loads with ``keep_vba=True``:
:func:`merge_into_skeleton` does that and checks it.

The generated VBA is ASCII only: Japanese captions and explanations live in cells and buttons,
whose XML is Unicode, so the code page of the VBA project never matters for them.

In server mode (``server=`` given to :func:`build_button_workbook`) the workbook carries neither
xlwings nor ``Dictionary``: its ``xlplan_buttons`` module calls the xlplan server over HTTP
(:mod:`xlplan.buttons.vba.remote`), and the sheet ``xlplan.server`` replaces ``xlwings.conf``.

This module does not import xlwings (only :mod:`xlplan.excel` may); it finds xlwings' VBA files
in the installed package's folder.
"""

from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import xlsxwriter

from xlplan.buttons.vba.ovba import (
    WORKBOOK_BASE,
    WORKSHEET_BASE,
    Module,
    VbaProjectError,
    build_vba_project,
    class_module,
    document_module,
    standard_module,
)
from xlplan.buttons.vba.remote import SERVER_SHEET, ServerButton, ServerSettings, server_module_source

__all__ = [
    "BUTTONS_MODULE",
    "CONF_SHEET",
    "DEFAULT_INTERPRETER_WIN",
    "VBA_PART",
    "Button",
    "VbaChangedError",
    "XlwingsVbaNotFoundError",
    "build_button_workbook",
    "build_server_vba",
    "build_skeleton_vba",
    "button_macros",
    "buttons_module_source",
    "merge_into_skeleton",
    "vba_project_bytes",
    "xlwings_vba_files",
]

VBA_PART = "xl/vbaProject.bin"
"""Where the VBA project lives inside an ``.xlsm``."""
BUTTONS_MODULE = "xlplan_buttons"
"""The VBA module holding one ``Public Sub`` per button."""
CONF_SHEET = "xlwings.conf"
"""xlwings reads its settings from a sheet of this name: keys in column A from A1, values in B."""
DEFAULT_INTERPRETER_WIN = r"%LOCALAPPDATA%\Programs\Python\Python311\pythonw.exe"
"""Where the python.org installer puts Python 3.11 for one user; xlwings expands ``%VARS%``."""

WORKBOOK_CODE_NAME = "ThisWorkbook"
_PYTHON_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_VML_MACRO = re.compile(r"<x:FmlaMacro>([^<]*)</x:FmlaMacro>")


class XlwingsVbaNotFoundError(FileNotFoundError):
    """xlwings is not installed, so its VBA files cannot be put into the workbook.

    Install it (``pip install xlwings``, the same version as on the PCs that run the buttons).
    """


class VbaChangedError(RuntimeError):
    """The VBA project or a button was lost or changed while sheets were added with openpyxl."""


@dataclass(frozen=True)
class Button:
    """One button: its caption (Japanese is fine), the VBA macro name and the Python function.

    Clicking it runs ``xlplan.excel.<python_function>()`` through xlwings' ``RunPython``.
    """

    caption: str
    macro: str
    python_function: str

    def __post_init__(self) -> None:
        # The macro name goes into VBA and the button's binding, so it must be a plain ASCII
        # VBA identifier; the function name goes into a Python command line.
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", self.macro):
            raise VbaProjectError(f"macro name must be an ASCII VBA identifier: {self.macro!r}")
        if not _PYTHON_NAME.match(self.python_function) or not self.python_function.isascii():
            raise VbaProjectError(f"python function must be an ASCII Python name: {self.python_function!r}")


def xlwings_vba_files() -> tuple[Path, Path]:
    """Paths of the installed xlwings' ``xlwings.bas`` and ``addin/Dictionary.cls``.

    Found through the import system without importing xlwings. Raises
    :class:`XlwingsVbaNotFoundError` when xlwings or one of the files is missing.
    """
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise XlwingsVbaNotFoundError("xlwings is not installed; pip install xlwings")
    folder = Path(next(iter(spec.submodule_search_locations)))
    bas, cls = folder / "xlwings.bas", folder / "addin" / "Dictionary.cls"
    for path in (bas, cls):
        if not path.is_file():
            raise XlwingsVbaNotFoundError(f"{path} is missing from the installed xlwings")
    return bas, cls


def _read_vba_file(path: Path) -> str:
    # xlwings ships these files in ASCII with CRLF; newline="" keeps the line ends as they are.
    with path.open(encoding="ascii", newline="") as handle:
        return handle.read()


def buttons_module_source(buttons: Sequence[Button]) -> str:
    """The body of the ``xlplan_buttons`` module (without its ``Attribute VB_Name`` line)."""
    macros = [b.macro.upper() for b in buttons]
    if len(set(macros)) != len(macros):
        raise VbaProjectError(f"macro names must be unique: {[b.macro for b in buttons]}")
    lines = [
        "Option Explicit",
        "",
        "' Generated by xlplan: each button on the sheet calls one of these macros, which run",
        "' Python through xlwings (module xlwings). Do not edit; the file is rebuilt by xlplan.",
    ]
    for button in buttons:
        lines += [
            "",
            f"Public Sub {button.macro}()",
            f'    RunPython "import xlplan.excel; xlplan.excel.{button.python_function}()"',
            "End Sub",
        ]
    return "\r\n".join(lines) + "\r\n"


def build_skeleton_vba(buttons: Sequence[Button], sheet_code_names: Sequence[str]) -> bytes:
    """The ``vbaProject.bin`` of the skeleton: document modules, xlwings, Dictionary, the buttons.

    ``sheet_code_names`` are the codeNames of the workbook's sheets, in order.
    """
    bas, cls = xlwings_vba_files()
    modules: list[Module] = [document_module(WORKBOOK_CODE_NAME, WORKBOOK_BASE)]
    modules += [document_module(name, WORKSHEET_BASE) for name in sheet_code_names]
    modules += [
        standard_module("xlwings", _read_vba_file(bas)),
        class_module("Dictionary", _read_vba_file(cls)),
        standard_module(BUTTONS_MODULE, buttons_module_source(buttons)),
    ]
    return build_vba_project(modules)


def build_server_vba(
    buttons: Sequence[ServerButton], sheet_code_names: Sequence[str], settings: ServerSettings
) -> bytes:
    """The server-mode ``vbaProject.bin``: document modules and the HTTP buttons; no xlwings."""
    modules: list[Module] = [document_module(WORKBOOK_CODE_NAME, WORKBOOK_BASE)]
    modules += [document_module(name, WORKSHEET_BASE) for name in sheet_code_names]
    modules.append(standard_module(BUTTONS_MODULE, server_module_source(buttons, settings)))
    return build_vba_project(modules)


def build_button_workbook(
    path: str | Path,
    buttons: Sequence[tuple[str, str, str] | Button | ServerButton],
    sheet_name: str = "操作",
    explanation_lines: Sequence[str] = (),
    *,
    interpreter_win: str = DEFAULT_INTERPRETER_WIN,
    server: ServerSettings | None = None,
) -> None:
    """Write the skeleton ``.xlsm`` at ``path``.

    ``buttons`` holds ``(caption, macro_name, python_function)`` triples (or :class:`Button`).
    The workbook gets, in this order:

    * ``sheet_name``: the ``explanation_lines`` from A1 down, one per row, then one form button
      per entry (about 6 cm by 1 cm, one per row), each bound to its macro;
    * ``xlwings.conf``: ``INTERPRETER_WIN`` in A1 and ``interpreter_win`` in B1, A2 left empty
      (xlwings reads keys from A1 down to the first empty cell), then an explanation in Japanese;
    * the VBA project of :func:`build_skeleton_vba`, with the workbook's codeName
      ``ThisWorkbook`` and the sheets' ``Sheet1``, ``Sheet2`` matching its document modules.

    With ``server``, ``buttons`` are :class:`~xlplan.buttons.vba.remote.ServerButton`, the
    second sheet is ``xlplan.server`` (settings from A2 down: name, value, explanation; notes
    below) and the VBA project is that of :func:`build_server_vba`; xlwings is not needed.

    Raises :class:`~xlplan.buttons.vba.ovba.VbaProjectError` for a bad or duplicate macro name,
    :class:`XlwingsVbaNotFoundError` when xlwings is not installed, and ``OSError`` when the
    file cannot be written (for example, it is open in Excel: close it and try again).
    """
    if Path(path).suffix.lower() != ".xlsm":
        raise VbaProjectError(f"a workbook with macros must be an .xlsm file: {path}")
    code_names = ["Sheet1", "Sheet2"]
    items: Sequence[Button | ServerButton]
    if server is None:
        python_buttons: list[Button] = []
        for b in buttons:
            if isinstance(b, ServerButton):
                raise VbaProjectError("server-mode buttons need the server settings")
            python_buttons.append(b if isinstance(b, Button) else Button(*b))
        items, vba = python_buttons, build_skeleton_vba(python_buttons, code_names)
    else:
        server_buttons = [b for b in buttons if isinstance(b, ServerButton)]
        if len(server_buttons) != len(buttons):
            raise VbaProjectError("a server-mode workbook takes ServerButton buttons only")
        items, vba = server_buttons, build_server_vba(server_buttons, code_names, server)

    workbook = xlsxwriter.Workbook(str(path))
    try:
        workbook.set_vba_name(WORKBOOK_CODE_NAME)
        workbook.add_vba_project(io.BytesIO(vba), is_stream=True)

        ops = workbook.add_worksheet(sheet_name)
        ops.set_vba_name(code_names[0])
        ops.set_column(0, 0, 4)
        ops.set_column(1, 1, 60)
        row = 0
        for line in explanation_lines:
            # write_string, never write(): a line starting with "=" must stay text.
            ops.write_string(row, 0, line)
            row += 1
        row += 1
        for button in items:
            ops.set_row(row, 36)
            ops.insert_button(
                row,
                1,
                {
                    "macro": button.macro,
                    "caption": button.caption,
                    "width": 240,
                    "height": 40,
                    "x_offset": 2,
                    "y_offset": 4,
                },
            )
            row += 1
        ops.activate()

        if server is not None:
            _write_server_sheet(workbook, code_names[1], server)
            return
        conf = workbook.add_worksheet(CONF_SHEET)
        conf.set_vba_name(code_names[1])
        conf.set_column(0, 0, 20)
        conf.set_column(1, 1, 60)
        conf.write_string(0, 0, "INTERPRETER_WIN")
        conf.write_string(0, 1, interpreter_win)
        # Row 2 stays empty: xlwings takes every key from A1 down to the first empty cell.
        notes = [
            "↑ B1 にボタンで使う Python（pythonw.exe）の場所を書きます。",
            "%LOCALAPPDATA% などの環境変数が使えます。python.org の Python 3.11 を本人用に入れた場合は、そのままで動きます。",
            "別の場所に入れた場合は、エクスプローラーで pythonw.exe を探し、その場所に書き換えてください。",
            "このシートの名前と A1 の文字は変えないでください（xlwings が読みます）。",
        ]
        for offset, note in enumerate(notes):
            conf.write_string(2 + offset, 0, note)
    finally:
        workbook.close()


def _write_server_sheet(workbook: xlsxwriter.Workbook, code_name: str, server: ServerSettings) -> None:
    """The ``xlplan.server`` sheet: a header, one row per setting, notes for staff below."""
    sheet = workbook.add_worksheet(SERVER_SHEET)
    sheet.set_vba_name(code_name)
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 2, 90)
    bold = workbook.add_format({"bold": True})
    for column, title in enumerate(("設定", "値", "説明")):
        sheet.write_string(0, column, title, bold)
    row = 1
    for key, value, note in server.rows():
        sheet.write_string(row, 0, key)
        if isinstance(value, int):
            sheet.write_number(row, 1, value)
        else:
            sheet.write_string(row, 1, value)  # never write(): text stays text
        sheet.write_string(row, 2, note)
        row += 1
    notes = [
        "A 列の名前は変えないでください（ボタンが読みます）。B 列の値だけを直します。",
        "トークンはこのブックには書きません。初めてボタンを押したときに入力すると、この PC のこの利用者の設定"
        "（Windows のレジストリ）に記録されます。トークンが違うとサーバーが断り、記録を消して次に押したときにもう一度聞きます。",
        "このシートは xlplan excel build --server で作り直されます（PROXY と待ち時間は前の値を引き継ぎます）。",
    ]
    for offset, note in enumerate(notes):
        sheet.write_string(row + 1 + offset, 0, note)


def vba_project_bytes(path: str | Path) -> bytes:
    """The raw ``xl/vbaProject.bin`` of an ``.xlsm``; ``KeyError`` when it has none."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(VBA_PART)


def button_macros(path: str | Path) -> list[str]:
    """The macros that the form buttons in the workbook's VML drawings are bound to, in order.

    XlsxWriter writes a binding as ``[0]!Macro``; Excel may write ``Macro`` or
    ``'book.xlsm'!Macro``, so only the part after the last ``!`` is returned.
    """
    macros: list[str] = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            if name.startswith("xl/drawings/") and name.endswith(".vml"):
                text = archive.read(name).decode("utf-8", errors="replace")
                macros += [m.rsplit("!", 1)[-1] for m in _VML_MACRO.findall(text)]
    return macros


def merge_into_skeleton(
    skeleton_path: str | Path,
    fill: Callable[[openpyxl.Workbook], None],
    out_path: str | Path,
) -> None:
    """Load the skeleton with its VBA, let ``fill`` add sheets and data, and save to ``out_path``.

    openpyxl keeps the VBA project and the VML button drawings only when it loads with
    ``keep_vba=True``; this function always does, then checks that the saved file holds the same
    ``vbaProject.bin`` bytes and the same button bindings, and raises :class:`VbaChangedError`
    (leaving the file written, for inspection) when not. ``fill`` must not remove the skeleton's
    sheets. ``out_path`` must end in ``.xlsm``.
    """
    if Path(out_path).suffix.lower() != ".xlsm":
        raise VbaProjectError(f"a workbook with macros must be an .xlsm file: {out_path}")
    before_vba = vba_project_bytes(skeleton_path)
    before_buttons = button_macros(skeleton_path)
    workbook = openpyxl.load_workbook(skeleton_path, keep_vba=True)
    try:
        fill(workbook)
        workbook.save(out_path)
    finally:
        workbook.close()
    try:
        after_vba = vba_project_bytes(out_path)
    except KeyError as exc:
        raise VbaChangedError(f"{out_path}: the VBA project was lost on save") from exc
    if after_vba != before_vba:
        raise VbaChangedError(f"{out_path}: the VBA project changed on save")
    after_buttons = button_macros(out_path)
    if after_buttons != before_buttons:
        raise VbaChangedError(f"{out_path}: buttons {before_buttons} became {after_buttons} on save")
