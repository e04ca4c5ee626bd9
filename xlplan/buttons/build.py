"""``xlplan excel build``: turn the workspace's master workbook into ``master.xlsm`` with buttons.

The result holds, in this order:

* ``操作`` — an explanation of the yearly cycle and where files go, and one form button per entry of
  :data:`BUTTONS`, each bound to a VBA ``Sub`` that runs ``xlplan.excel.<function>()`` through
  xlwings' ``RunPython`` (see :mod:`xlplan.buttons.vba.skeleton`);
* every sheet of the master as it was (説明, 設定, 計画, 担当課, 履歴, and any sheet the office added,
  such as 状況), with values, styles, widths, comments, validations and print setup;
* ``xlwings.conf`` — where Python is (``INTERPRETER_WIN``), kept from the previous build if any.

With ``server=URL`` (``xlplan excel build --server URL``) the buttons are :data:`SERVER_BUTTONS`, which
call the xlplan server over HTTP from VBA (:mod:`xlplan.buttons.vba.remote`) and need no Python and
no xlwings on the PC; the last sheet is then ``xlplan.server`` (the URL, the workspace's name, the
proxy and time-outs, the latter two kept from the previous build) instead of ``xlwings.conf``.

How: XlsxWriter writes the skeleton (buttons and VBA project, which openpyxl cannot create), then
openpyxl loads it with ``keep_vba=True`` and the master's sheets are copied in
(:func:`xlplan.buttons.vba.skeleton.merge_into_skeleton` checks that the VBA and the buttons survived).
Building again starts from ``master.xlsm`` itself, so plan data and extra sheets are kept and the
buttons are refreshed. The previous master file (``master.xlsx`` the first time, ``master.xlsm``
later) is moved to ``.xlplan/backup/`` with a time stamp, so that only one master is visible in the
workspace and :attr:`Workspace.master_path` picks ``master.xlsm``.

This module never imports xlwings; only :mod:`xlplan.excel` does.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from copy import copy, deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.buttons.vba.remote import SERVER_SHEET, ServerButton, ServerSettings, normalise_server_url
from xlplan.buttons.vba.skeleton import (
    CONF_SHEET,
    DEFAULT_INTERPRETER_WIN,
    Button,
    XlwingsVbaNotFoundError,
    build_button_workbook,
    button_macros,
    merge_into_skeleton,
    xlwings_vba_files,
)
from xlplan.errors import ConfigurationError, MissingExtraError, OutputError
from xlplan.findings import Finding, Language, findings_json, not_writable
from xlplan.plan.model import Plan
from xlplan.result import Reported, say
from xlplan.workspace.folder import MASTER_NAMES, Workspace
from xlplan.workspace.master import fill_master, read_master
from xlplan.xlsx.atomic import owner_file
from xlplan.xlsx.cells import set_text

__all__ = [
    "BUTTONS",
    "OPS_SHEET",
    "SERVER_BUTTONS",
    "BuildResult",
    "build_excel_master",
    "explanation_lines",
    "read_conf",
    "read_server_settings",
    "refuse_if_open",
    "rewrite_master",
    "server_explanation_lines",
]

OPS_SHEET = "操作"
"""The first sheet of the button workbook."""

BUTTONS: tuple[Button, ...] = (
    Button("配布", "Distribute", "distribute"),
    Button("回収・検証", "Collect", "collect"),
    Button("集約", "Consolidate", "consolidate"),
    Button("督促", "Remind", "remind"),
    Button("回答状況", "ShowStatus", "status"),
    Button("確認待ち", "Review", "review"),
    Button("次年度へ", "Rollover", "rollover"),
)
"""The buttons, in the order they appear; each ``python_function`` exists in :mod:`xlplan.excel`.

A new button is one more entry here and one more function there.
"""

SERVER_BUTTONS: tuple[ServerButton, ...] = (
    ServerButton("配布", "Distribute", "post", "/distribute"),
    ServerButton("回答を送る", "SendReturns", "upload", "/returns"),
    ServerButton("回収・検証", "Collect", "post", "/collect"),
    ServerButton("集約", "Consolidate", "post", "/consolidate"),
    ServerButton("督促", "Remind", "post", "/remind"),
    ServerButton("回答状況", "ShowStatus", "get", "/status"),
    ServerButton("確認待ち", "Review", "browser"),
    ServerButton("次年度へ", "Rollover", "rollover", "/rollover"),
)
"""The server-mode buttons, in the order they appear; each path is under ``/api/v1/workspaces/{name}``."""

_MASTER_XLSM = MASTER_NAMES[0]
_MASTER_XLSX = MASTER_NAMES[1]
_GENERATED = (OPS_SHEET, CONF_SHEET, SERVER_SHEET)  # rebuilt every time, never copied from the master
_CONF_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class BuildResult(Reported):
    """What :func:`build_excel_master` wrote and where the previous master went."""

    path: Path
    backup: Path | None
    sheets: tuple[str, ...]
    buttons: tuple[str, ...]
    interpreter_win: str
    findings: tuple[Finding, ...] = ()
    server: str | None = None  # the server's URL in server mode; then interpreter_win is ""

    def lines(self, language: Language = "ja") -> list[str]:
        """Lines for the terminal."""
        where = (
            say(
                language,
                f"Python の場所（xlwings.conf シートの B1）: {self.interpreter_win}",
                f"Python interpreter (sheet xlwings.conf, B1): {self.interpreter_win}",
            )
            if self.server is None
            else say(
                language,
                f"サーバー（{SERVER_SHEET} シート）: {self.server}　この PC に Python は要りません",
                f"Server (sheet {SERVER_SHEET}): {self.server}; no Python needed on the PC",
            )
        )
        lines = [
            say(
                language,
                f"ボタン付きの計画マスタを作成しました: {self.path}",
                f"Master workbook with buttons: {self.path}",
            ),
            say(language, f"シート: {'、'.join(self.sheets)}", f"Sheets: {', '.join(self.sheets)}"),
            say(language, f"ボタン: {'、'.join(self.buttons)}", f"Buttons: {', '.join(self.buttons)}"),
            where,
        ]
        if self.backup is not None:
            lines.append(
                say(
                    language,
                    f"元の計画マスタの控え: {self.backup}",
                    f"Copy of the previous master: {self.backup}",
                )
            )
        return lines

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """JSON data."""
        return {
            "path": str(self.path),
            "backup": str(self.backup) if self.backup else None,
            "sheets": list(self.sheets),
            "buttons": list(self.buttons),
            "interpreter_win": self.interpreter_win if self.server is None else None,
            "server": self.server,
            "findings": findings_json(self.findings, language),
        }


def explanation_lines(plan: Plan) -> list[str]:
    """The Japanese text at the top of the 操作 sheet: the cycle, the buttons, where files go."""
    settings = plan.settings
    round_folder = f"outbox\\{settings.current_year.western}-R{settings.round}"
    return [
        f"{settings.plan_name}　{settings.current_year.label} 実績照会の操作シート",
        "ボタンを押すと、このブックを保存してから処理を行い、結果を「状況」シートに書いてメッセージを表示します。",
        "1年の流れ: 配布 → （担当課が記入して返送）→ 回収・検証 → 差し戻し・督促 → 集約 → 次年度へ",
        f"・配布: 担当課ごとのブック（マクロなしの .xlsx）とメールの下書きを {round_folder} に作ります。",
        "・回収・検証: 返ってきたファイル（.xlsx、メールの .eml）を inbox に置いてから押します。archive に保管して検証し、問題のある課への差し戻し票を feedback に作ります。",
        f"・督促: 締切を過ぎても未回答の課への督促メールの下書きを {round_folder}\\督促 に作ります。",
        "・集約: 受理した回答から事業実績一覧（Excel・PDF・CSV）を reports に作ります。",
        "・回答状況: 担当課ごとの状況を「状況」シートと reports\\回答状況.xlsx に出します。",
        "・確認待ち: 提出元を証明できない回答（管理情報のないファイルなど）を「確認待ち」シートに出します。判定に 受理 か 却下 を入れて押すと記録します。",
        "・次年度へ: 確認のあと、受理した回答を履歴に入れて今年度を締め、このブックを次年度の計画マスタにします（切り替え前のものは .xlplan\\backup に保存します）。",
        "計画の内容は「計画」「担当課」「設定」「履歴」のシートで直します。このシートと xlwings.conf シートは xlplan excel build で作り直されます。",
        "ボタンが動かないとき: マクロが有効か、xlwings.conf シートの Python の場所が正しいかを確かめてください（docs/excel-setup.md）。",
    ]


def server_explanation_lines(plan: Plan, url: str) -> list[str]:
    """The 操作 sheet's text in server mode: the buttons ask the server at ``url``."""
    settings = plan.settings
    return [
        f"{settings.plan_name}　{settings.current_year.label} 実績照会の操作シート（サーバーモード）",
        f"ボタンを押すと、xlplan サーバー（{url}）が処理を行い、結果を「状況」シートに書いてメッセージを表示します。"
        "この PC に Python は要りません。",
        "1年の流れ: 配布 → （担当課が記入して返送）→ 回答を送る → 回収・検証 → 差し戻し・督促 → 集約 → 次年度へ",
        "・配布: 担当課ごとのブック（マクロなしの .xlsx）とメールの下書きをサーバーで作ります。ブラウザーの状況の画面から取り出せます。",
        "・回答を送る: 担当課から届いたファイル（.xlsx、メールの .eml）を選ぶか、メールの添付ファイルを保存したフォルダーを選ぶと、サーバーの inbox に送ります。",
        "・回収・検証: サーバーの inbox のファイルを archive に保管して検証し、問題のある課への差し戻し票を作ります。",
        "・督促: 締切を過ぎても未回答の課への督促メールの下書きをサーバーで作ります。",
        "・集約: 受理した回答から事業実績一覧（Excel・PDF・CSV）をサーバーの reports に作ります。",
        "・回答状況: 担当課ごとの状況を「状況」シートに出します。",
        "・確認待ち: ブラウザーでサーバーの状況の画面を開きます。提出元を証明できない回答の受理・却下、差し戻し票や集約表の取り出しはそこで行います。",
        "・次年度へ: 確認のあと、サーバーで今年度を締めて次年度に切り替えます。",
        "初めてボタンを押すと、サーバーのトークンを聞かれます。サーバー管理者から受け取ったものを入力してください（この PC の利用者ごとに記録し、ブックには保存しません）。",
        f"サーバーのアドレスなどの設定は {SERVER_SHEET} シートにあります。このシートと {SERVER_SHEET} シートは xlplan excel build --server で作り直されます。",
        "計画の内容（計画・担当課・設定・履歴）は、サーバーの作業フォルダの計画マスタで直します。このブックのそれらのシートは作ったときの控えです。",
        "ボタンが動かないとき: docs/excel-setup.md の「サーバーモード」を見てください。",
    ]


def read_server_settings(path: Path) -> dict[str, str]:
    """The ``xlplan.server`` sheet's settings of an existing workbook (name -> value); empty without it."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if SERVER_SHEET not in workbook.sheetnames:
            return {}
        settings: dict[str, str] = {}
        for key, value, *_ in workbook[SERVER_SHEET].iter_rows(max_col=2, values_only=True):
            if key is not None and _CONF_KEY.match(str(key).strip()) and value is not None:
                settings[str(key).strip().upper()] = str(value).strip()
        return settings
    finally:
        workbook.close()


def read_conf(path: Path) -> list[tuple[str, str]]:
    """The ``xlwings.conf`` sheet's settings of an existing workbook: keys from A1 down to the first non-key.

    An empty list when the workbook has no such sheet.
    """
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if CONF_SHEET not in workbook.sheetnames:
            return []
        settings: list[tuple[str, str]] = []
        for key, value, *_ in workbook[CONF_SHEET].iter_rows(max_col=2, values_only=True):
            if key is None or not _CONF_KEY.match(str(key).strip()):
                # xlwings stops at the first empty key; the Japanese notes below the settings are
                # not keys either, even when a setting added in A2 makes them touch the block.
                break
            settings.append((str(key).strip(), "" if value is None else str(value)))
        return settings
    finally:
        workbook.close()


def build_excel_master(
    workspace: Workspace,
    *,
    interpreter_win: str | None = None,
    server: str | None = None,
    now: dt.datetime | None = None,
) -> BuildResult:
    """Write ``master.xlsm`` with the buttons from the workspace's current master workbook.

    Args:
        workspace: the workspace; its master is ``master.xlsm`` if present, else ``master.xlsx``.
        interpreter_win: the ``pythonw.exe`` the buttons use; default: the value in the existing
            ``xlwings.conf`` sheet, else :data:`~xlplan.buttons.vba.skeleton.DEFAULT_INTERPRETER_WIN`.
        server: the xlplan server's URL (``http://…`` or ``https://…``): server mode, whose buttons
            call the server over HTTP and need neither Python nor xlwings. ``None``: RunPython mode.
        now: the time stamp of the backup file's name (tests).

    Returns:
        A :class:`BuildResult`. The previous master is in ``.xlplan/backup/``.

    Raises:
        ConfigurationError: no master, the master cannot be read as a plan, or ``server`` is not an
            http(s) URL (nothing is written).
        OutputError: the workspace cannot be written, or ``master.xlsm`` is open in Excel
            (close it and build again).
        MissingExtraError: xlwings is not installed, so its VBA cannot be put in the workbook.
    """
    url = None if server is None else normalise_server_url(server)
    if server is not None and url is None:
        raise ConfigurationError([Finding("server-url-invalid", {"url": server})])
    source = workspace.master_path
    if not source.exists():
        raise ConfigurationError([Finding("master-not-found", {"path": str(source)})])
    for master in {source, workspace.root / _MASTER_XLSM}:  # the master read and the one replaced
        refuse_if_open(master)
    if url is None:
        try:
            xlwings_vba_files()
        except XlwingsVbaNotFoundError as exc:
            raise MissingExtraError([Finding("excel-extra-missing", {"detail": str(exc)})]) from exc
    # Reading the plan first refuses a broken master before anything is written, and gives the
    # reference that the built workbook is checked against.
    plan = read_master(source)
    conf = [(k, v) for k, v in read_conf(source) if k.upper() != "INTERPRETER_WIN"]
    interpreter = interpreter_win or _previous_interpreter(source) or DEFAULT_INTERPRETER_WIN
    settings = None if url is None else _server_settings(url, workspace, read_server_settings(source))
    buttons: Sequence[Button | ServerButton] = BUTTONS if settings is None else SERVER_BUTTONS
    target = workspace.root / _MASTER_XLSM
    work = workspace.root / ".xlplan"
    try:
        work.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work, prefix="build-") as folder:
            skeleton = Path(folder) / "skeleton.xlsm"
            built = Path(folder) / _MASTER_XLSM
            if settings is None:
                build_button_workbook(
                    skeleton, BUTTONS, OPS_SHEET, explanation_lines(plan), interpreter_win=interpreter
                )
                merge_into_skeleton(skeleton, lambda book: _fill(book, source, conf), built)
            else:
                lines = server_explanation_lines(plan, settings.url)
                build_button_workbook(skeleton, SERVER_BUTTONS, OPS_SHEET, lines, server=settings)
                merge_into_skeleton(skeleton, lambda book: _fill(book, source, [], SERVER_SHEET), built)
            _verify(built, plan, [button.macro for button in buttons])
            backup = _backup(source, work / "backup", now or dt.datetime.now())
            try:
                os.replace(built, target)
            except OSError:
                if not source.exists():  # master.xlsx was moved away: put it back before reporting
                    shutil.move(backup, source)
                raise
    except OSError as exc:
        raise OutputError([not_writable(target, exc)]) from exc
    book = openpyxl.load_workbook(target, read_only=True)
    sheets = tuple(book.sheetnames)
    book.close()
    captions = tuple(b.caption for b in buttons)
    if settings is not None:
        return BuildResult(target, backup, sheets, captions, "", server=settings.url)
    return BuildResult(target, backup, sheets, captions, interpreter)


def rewrite_master(workspace: Workspace, plan: Plan) -> Path:
    """Write ``plan`` into the workspace's master workbook, keeping buttons and VBA of a ``master.xlsm``.

    :func:`xlplan.workspace.master.write_master` makes a new ``.xlsx`` and must never be pointed at
    ``master.xlsm``: without ``keep_vba=True`` openpyxl drops the VBA project and the buttons.
    Anything that changes the plan in place (rolling over to the next year) goes through here:
    for ``master.xlsm`` the workbook is loaded with its VBA, the master's sheets are replaced
    (:func:`xlplan.workspace.master.fill_master`; 操作, xlwings.conf, 状況 and other sheets are kept), the
    VBA and buttons are checked, and the file is replaced in one step. Returns the path written.

    Raises:
        OutputError: the master cannot be written (open in Excel: close it and try again).
        VbaChangedError: the VBA or a button was lost (the master is left untouched).
    """
    path = workspace.master_path
    refuse_if_open(path)
    try:
        if path.suffix.lower() != ".xlsm":
            # Written beside and moved over in one step: a crash leaves the old master or the new one.
            # Into the master as it is: the office's own sheets and columns stay (fill_master).
            temporary = path.with_name(f".~{path.stem}.rewrite{path.suffix}")
            book = openpyxl.load_workbook(path)
            fill_master(book, plan)
            book.save(temporary)
            read_master(temporary)  # the new master must read back before it replaces the old one
            os.replace(temporary, path)
            return path
        work = workspace.root / ".xlplan"
        work.mkdir(parents=True, exist_ok=True)
        url = read_server_settings(path).get("SERVER_URL")
        lines = server_explanation_lines(plan, url) if url else explanation_lines(plan)

        def fill(book: Workbook) -> None:
            fill_master(book, plan)
            if OPS_SHEET in book.sheetnames:  # its text names the year and the round's folder: the new ones
                for row, line in enumerate(lines, start=1):
                    set_text(book[OPS_SHEET].cell(row=row, column=1), line)

        with tempfile.TemporaryDirectory(dir=work, prefix="rewrite-") as folder:
            written = Path(folder) / path.name
            merge_into_skeleton(path, fill, written)
            os.replace(written, path)
    except OSError as exc:
        raise OutputError([not_writable(path, exc)]) from exc
    return path


def refuse_if_open(master: Path) -> None:
    """Refuse to replace a master someone has open in Excel (its ``~$`` owner file is beside it):
    saving it there would silently put back what was replaced.

    Raises:
        OutputError: ``master-open-in-excel``, naming the file.
    """
    owner = owner_file(master)
    if owner is not None:
        raise OutputError([Finding("master-open-in-excel", {"path": str(master), "owner": owner.name})])


def _server_settings(url: str, workspace: Workspace, previous: dict[str, str]) -> ServerSettings:
    """The settings for the ``xlplan.server`` sheet: proxy and time-outs kept from the previous build."""
    default = ServerSettings(url, workspace.name)
    timeouts = {key: _seconds(previous.get(key), seconds) for key, seconds in default.timeouts.items()}
    return ServerSettings(url, workspace.name, previous.get("PROXY") or default.proxy, timeouts)


def _seconds(text: str | None, default: int) -> int:
    """A time-out the office wrote (``600`` or ``600.0``), or ``default`` when it is not a sensible one."""
    try:
        seconds = int(float(text or ""))
    except (ValueError, OverflowError):  # not a number, or infinite
        return default
    return seconds if 1 <= seconds <= 86_400 else default


def _previous_interpreter(source: Path) -> str | None:
    for key, value in read_conf(source):
        if key.upper() == "INTERPRETER_WIN" and value.strip():
            return value.strip()
    return None


def _fill(book: Workbook, source: Path, conf: Sequence[tuple[str, str]], last: str = CONF_SHEET) -> None:
    """Copy the master's sheets into the skeleton ``book`` and order the sheets: 操作, master…, ``last``.

    ``last`` is the settings sheet: ``xlwings.conf`` (RunPython mode, with further ``conf`` keys) or
    ``xlplan.server`` (server mode).
    """
    master = openpyxl.load_workbook(source)
    try:
        for sheet in master.worksheets:
            if sheet.title not in _GENERATED:
                _copy_sheet(sheet, book.create_sheet(sheet.title))
        for name, defined in master.defined_names.items():
            book.defined_names[name] = deepcopy(defined)
    finally:
        master.close()
    if conf:
        # Further keys (PYTHONPATH, …) go right under INTERPRETER_WIN: xlwings reads keys from A1
        # down to the first empty cell, so they must stay in one block.
        sheet = book[CONF_SHEET]
        sheet.insert_rows(2, len(conf))
        for row, (key, value) in enumerate(conf, start=2):
            sheet.cell(row, 1).value, sheet.cell(row, 2).value = key, value
            sheet.cell(row, 1).data_type = sheet.cell(row, 2).data_type = "s"
    ops, config = book[OPS_SHEET], book[last]
    book.move_sheet(ops, offset=-book.index(ops))
    book.move_sheet(config, offset=len(book.worksheets) - 1 - book.index(config))
    book.active = 0
    for sheet in book.worksheets:
        sheet.sheet_view.tabSelected = sheet is ops


def _copy_sheet(source: Worksheet, target: Worksheet) -> None:
    """Copy one sheet between workbooks: what openpyxl itself keeps when it loads and saves a file.

    Styles are copied attribute by attribute because style ids are per workbook. Charts and
    images are not copied (openpyxl drops them on any load and save). The sheet's codeName is
    left unset: the skeleton's VBA project has no module for it, and Excel makes one on opening.
    """
    for row in source.iter_rows():
        for cell in row:
            if isinstance(cell, MergedCell):
                continue
            new = target.cell(row=cell.row, column=cell.column)
            new.value = cell.value
            new.data_type = cell.data_type  # keeps text that starts with "=" as text
            if cell.has_style:
                # The stubs type a copied StyleProxy loosely; the value is the style object itself.
                new.font, new.border = copy(cell.font), copy(cell.border)  # type: ignore[assignment]
                new.fill, new.number_format = copy(cell.fill), cell.number_format  # type: ignore[assignment]
                new.protection, new.alignment = copy(cell.protection), copy(cell.alignment)  # type: ignore[assignment]
                new.quotePrefix = cell.quotePrefix
            if cell.hyperlink is not None:
                new.hyperlink = copy(cell.hyperlink)
            if cell.comment is not None:
                new.comment = copy(cell.comment)
    for merged in source.merged_cells.ranges:
        target.merge_cells(merged.coord)
    for key, column in source.column_dimensions.items():
        dim = target.column_dimensions[key]
        dim.min, dim.max, dim.width = column.min, column.max, column.width
        dim.hidden, dim.outlineLevel, dim.bestFit = column.hidden, column.outlineLevel, column.bestFit
    for index, row_dim in source.row_dimensions.items():
        new_row = target.row_dimensions[index]
        new_row.height, new_row.hidden, new_row.outlineLevel = (
            row_dim.height,
            row_dim.hidden,
            row_dim.outlineLevel,
        )
    properties = deepcopy(source.sheet_properties)
    properties.codeName = None
    target.sheet_properties = properties
    target.sheet_format = deepcopy(source.sheet_format)
    target.views = deepcopy(source.views)
    target.sheet_state = source.sheet_state
    target.protection = deepcopy(source.protection)
    target.auto_filter = deepcopy(source.auto_filter)
    target.print_options = deepcopy(source.print_options)
    target.page_margins = deepcopy(source.page_margins)
    target.HeaderFooter = deepcopy(source.HeaderFooter)
    for attribute in _PAGE_SETUP:
        # page_setup refers back to its worksheet, so it is copied field by field, not deep-copied.
        setattr(target.page_setup, attribute, getattr(source.page_setup, attribute))
    target.print_title_rows, target.print_title_cols = source.print_title_rows, source.print_title_cols
    if source.print_area:
        target.print_area = [ref.split("!")[-1] for ref in source.print_area.split(",")]
    for validation in source.data_validations.dataValidation:
        target.add_data_validation(deepcopy(validation))
    for formatting in source.conditional_formatting:
        for rule in formatting.rules:
            target.conditional_formatting.add(str(formatting.sqref), deepcopy(rule))
    for table in source.tables.values():
        target.add_table(deepcopy(table))
    for name, defined in source.defined_names.items():
        target.defined_names[name] = deepcopy(defined)


_PAGE_SETUP = (
    "orientation",
    "paperSize",
    "scale",
    "fitToHeight",
    "fitToWidth",
    "firstPageNumber",
    "useFirstPageNumber",
    "pageOrder",
    "usePrinterDefaults",
    "blackAndWhite",
    "draft",
    "cellComments",
    "errors",
    "horizontalDpi",
    "verticalDpi",
    "copies",
)


def _verify(built: Path, plan: Plan, expected: list[str]) -> None:
    """The built workbook holds the same plan and every button (``expected`` macros); raise before it replaces the master."""
    again = read_master(built)
    if again.to_dict() != plan.to_dict():
        raise RuntimeError(f"{built}: the plan read back differs from the master's")
    if button_macros(built) != expected:
        raise RuntimeError(f"{built}: buttons {button_macros(built)} instead of {expected}")


def _backup(source: Path, folder: Path, now: dt.datetime) -> Path:
    """Move the previous master into ``folder`` under a time-stamped name; returns its new path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{source.stem}-{now:%Y%m%d-%H%M%S}"
    backup, number = folder / f"{stem}{source.suffix}", 1
    while backup.exists():
        number += 1
        backup = folder / f"{stem}-{number}{source.suffix}"
    # master.xlsm is replaced in place afterwards, so it is copied; master.xlsx is retired (moved).
    if source.name == _MASTER_XLSM:
        shutil.copy2(source, backup)
    else:
        shutil.move(source, backup)
    return backup
