"""The status report as a formatted workbook: ``reports/回答状況.xlsx``.

One row per department under a header (autofilter, frozen panes, each row
coloured by its state as Excel's own good / bad / neutral styles colour cells,
times as real Excel dates), printed A4 landscape, and a 凡例 sheet explaining
the states. Written beside the target and moved in place
(:mod:`xlplan.xlsx.atomic`), so a half-written file never replaces the last one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from xlplan.errors import OutputError
from xlplan.findings import Finding, Language, not_writable
from xlplan.followup.status import COLUMNS, STATE_LABELS, State, StatusReport, cells, heading, info, status
from xlplan.workspace.folder import Workspace
from xlplan.xlsx.atomic import replace_into, temporary_beside
from xlplan.xlsx.text import text_height

STATUS_WORKBOOK = "回答状況.xlsx"
"""File name of the status workbook in ``reports/``."""


# Light fill and dark text per state, the colours Excel's own "good / bad / neutral" styles use,
# so they read the same as the conditional formats staff already know.
_STATE_COLOURS: dict[State, tuple[str, str]] = {
    "accepted": ("#C6EFCE", "#006100"),
    "returned_with_errors": ("#FFC7CE", "#9C0006"),
    "review": ("#E4DFEC", "#5B2C6F"),
    "received": ("#FFEB9C", "#9C5700"),
    "overdue": ("#F8CBAD", "#833C0B"),
    "sent": ("#DDEBF7", "#1F4E78"),
    "not_sent": ("#EDEDED", "#404040"),
}

_HEADER_ROW = 3  # 0-based for XlsxWriter: Excel row 4, as in the department workbook
_FIRST_ROW = _HEADER_ROW + 1


def write_status_workbook(report: StatusReport, path: Path) -> Path:
    """Write the report as a formatted workbook; returns the path actually written.

    Sheet ``回答状況``: a title, a line with the date, the deadline and the counts,
    then one row per department from row 5 under a header in row 4 (autofilter,
    frozen panes, each row coloured by its state, times as real Excel dates),
    printed A4 landscape with the header repeated. A second sheet ``凡例``
    explains the states.

    When the file is open in Excel (Windows refuses to replace it), the report
    is written beside it as ``回答状況 (2).xlsx``, ``(3)`` … and that path is returned
    (:func:`xlplan.xlsx.atomic.replace_into`).

    Raises:
        OutputError: the folder cannot be written.
    """
    temporary = temporary_beside(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook = xlsxwriter.Workbook(str(temporary), {"remove_timezone": True})
        try:
            _fill_workbook(workbook, report)
        finally:
            workbook.close()
        return replace_into(temporary, path)
    except (OSError, FileCreateError) as exc:
        if isinstance(exc, FileCreateError):  # XlsxWriter's wrapper of the OSError that says why
            exc = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc))
        with contextlib.suppress(OSError):  # nothing to remove, or a read-only folder: nothing was left
            temporary.unlink(missing_ok=True)
        raise OutputError([not_writable(path.parent, exc)]) from exc


def _fill_workbook(workbook: Any, report: StatusReport) -> None:
    font: dict[str, Any] = {"font_name": "游ゴシック", "font_size": 10}
    sheet = workbook.add_worksheet("回答状況")
    title = workbook.add_format({**font, "bold": True, "font_size": 14})
    info_format = workbook.add_format({**font})
    header = workbook.add_format(
        {
            **font,
            "bold": True,
            "bg_color": "#1F4E78",
            "font_color": "#FFFFFF",
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
        }
    )
    sheet.write(0, 0, heading(report), title)
    sheet.write(1, 0, info(report), info_format)
    for column, (name, width) in enumerate(COLUMNS):
        sheet.write(_HEADER_ROW, column, name, header)
        sheet.set_column(column, column, width)
    sheet.set_row(_HEADER_ROW, 30)
    formats: dict[tuple[State, str], Any] = {}

    def cell_format(state: State, kind: str) -> Any:
        # One format per (state, kind) — XlsxWriter formats are shared objects, not per cell.
        if (state, kind) not in formats:
            fill, colour = _STATE_COLOURS[state]
            spec: dict[str, Any] = {
                **font,
                "bg_color": fill,
                "font_color": colour,
                "border": 1,
                "border_color": "#BFBFBF",
                "valign": "vcenter",
            }
            if kind == "time":
                spec["num_format"] = "yyyy/mm/dd hh:mm"
            elif kind == "number":
                spec["num_format"] = "#,##0"
            elif kind == "wrapped":
                spec["text_wrap"] = True
            elif kind == "state":
                spec["bold"] = True
                spec["align"] = "center"
            formats[(state, kind)] = workbook.add_format(spec)
        return formats[(state, kind)]

    for offset, item in enumerate(report.departments):
        row = _FIRST_ROW + offset
        for column, value in enumerate(cells(item)):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(row, column, value, cell_format(item.state, "time"))
            elif value is None:
                sheet.write_blank(row, column, None, cell_format(item.state, "text"))
            elif isinstance(value, int):
                sheet.write_number(row, column, value, cell_format(item.state, "number"))
            else:
                kind = "state" if column == 1 else "text"
                # write_string: a department name is never a formula, whatever it starts with.
                sheet.write_string(row, column, str(value), cell_format(item.state, kind))
    last = _FIRST_ROW + max(len(report.departments), 1) - 1
    sheet.autofilter(_HEADER_ROW, 0, last, len(COLUMNS) - 1)
    sheet.freeze_panes(_FIRST_ROW, 1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(_HEADER_ROW)
    sheet.set_header(f'&L&"游ゴシック"{heading(report).replace("&", "&&")}&R&P / &N')

    legend = workbook.add_worksheet("凡例")
    legend.set_column(0, 0, 14)
    legend.set_column(1, 1, _LEGEND_WIDTH)
    legend.write(0, 0, "状況", header)
    legend.write(0, 1, "意味と対応", header)
    rows: list[tuple[str, State, str]] = [
        (STATE_LABELS[state], state, text) for state, text in _LEGEND.items()
    ]
    rows.append(("備考", "accepted", _NOTE_LEGEND))
    for offset, (label, state, meaning) in enumerate(rows, start=1):
        legend.write_string(offset, 0, label, cell_format(state, "state"))
        legend.write_string(offset, 1, meaning, cell_format(state, "wrapped"))
        # Heights set here: Excel does not grow a row to its wrapped text when it opens a file.
        legend.set_row(offset, text_height(meaning, _LEGEND_WIDTH, font["font_size"], font["font_name"]))
    legend.set_paper(9)  # A4, one page wide: the meanings printed whole beside their labels
    legend.fit_to_pages(1, 0)


_LEGEND: dict[State, str] = {
    "accepted": "回答を受理しました。対応は不要です。",
    "returned_with_errors": "回答に修正が必要な箇所があります。feedback フォルダの差し戻し票を送付してください。",
    "review": "回答に提出元の証明（署名付きの管理情報）がありません。内容と差出人を確かめて、受理か却下を決めてください（xlplan review）。",
    "received": "回答を受信しましたが、まだ検証していません。回収・検証を実行してください。",
    "overdue": "締切を過ぎても回答がありません。督促を実行してください。",
    "sent": "照会を送付し、回答を待っています（締切前）。",
    "not_sent": "まだ照会を送付していません。配布を実行してください。",
}


_LEGEND_WIDTH = 70

_NOTE_LEGEND = (
    "「受理後の回答に誤り」: 受理した課から、後でエラーのある回答が届きました。受理した回答が有効なままです。"
    "差し戻し票を送付してください（課が回答を変えないなら、課の対応は不要です）。"
)


def save_status(workspace: Workspace, report: StatusReport) -> Path:
    """Write ``reports/回答状況.xlsx`` of ``workspace``; returns the path written (see :func:`write_status_workbook`)."""
    return write_status_workbook(report, workspace.reports / STATUS_WORKBOOK)


def status_document(workspace: Workspace, language: Language = "ja") -> tuple[StatusReport, dict[str, Any]]:
    """The round's status and the JSON document ``xlplan status --json`` prints (the server's ``GET …/status``).

    ``reports/回答状況.xlsx`` is written too; on a read-only workspace the status is given all the
    same, with a ``status-not-saved`` finding saying why the workbook is missing.
    """
    report = status(workspace)
    path: Path | None = None
    try:
        path = save_status(workspace, report)
    except OutputError as exc:
        target = workspace.reports / STATUS_WORKBOOK
        reason = "、".join(exc.messages(language))
        note = Finding("status-not-saved", {"path": str(target), "reason": reason})
        report = dataclasses.replace(report, findings=(*report.findings, note))
    return report, {**report.to_dict(language), "workbook": str(path) if path else None}
