"""What a button shows when it has run: the rows of the master's 状況 sheet and the message box.

The RunPython buttons (:mod:`xlplan.excel`) write these rows through xlwings; the server
(:mod:`xlplan.serve`) sends the same rows to the server-mode buttons, whose VBA writes them. One
module, so the sheet reads the same whichever way the button reached Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from xlplan.findings import Finding
from xlplan.followup.status import StatusReport
from xlplan.xlsx.cells import looks_like_formula

STATUS_SHEET = "状況"
ALERT_CHARS = 1000  # what Excel's MsgBox shows of a prompt (about 1,024 characters), with room to spare
ALERT_LINES = 8  # a message box shows about this many lines comfortably; the rest is in 状況
WIDTH = 5  # columns of the 状況 table: 重要度, ファイル, 場所, 内容, コード


def status_lines(report: StatusReport) -> list[str]:
    """回答状況 as a button shows it, in a message box and on the 状況 sheet: the round's summary, then
    one line a department (the terminal's aligned table does not survive a proportional font)."""
    lines = [f"{report.fiscal_year} 第{report.round}回照会: {report.summary()}"]
    lines += [
        f"{item.department}: {item.label}（エラー {item.errors}・警告 {item.warnings}）"
        + (f"　{item.note}" if item.note else "")
        for item in report.departments
    ]
    return lines


def outcome_text(label: str, failed: bool, findings: Sequence[Finding]) -> str:
    """The one-line outcome: done, done with points to check, or could not run."""
    if failed:
        return f"「{label}」を実行できませんでした"
    if findings:
        return f"「{label}」は終わりましたが、確認が必要な点が {len(findings)} 件あります"
    return f"「{label}」が終わりました"


def status_rows(
    label: str,
    outcome: str,
    started: dt.datetime,
    seconds: float,
    root: str,
    lines: Iterable[str],
    findings: Sequence[Finding],
) -> list[list[Any]]:
    """The 状況 sheet's content: what ran, when, how it ended, its lines and a table of findings."""
    rows: list[list[Any]] = [
        ["xlplan の実行結果（最後に押したボタン）"],
        ["処理", label],
        ["結果", outcome],
        ["開始", f"{started:%Y/%m/%d %H:%M:%S}"],
        ["所要時間", f"{seconds:.1f} 秒"],
        ["作業フォルダ", root],
        [],
        ["内容"],
        *[[line] for line in lines],
    ]
    if findings:
        errors = sum(1 for finding in findings if finding.is_error)
        rows += [[], [f"指摘（エラー {errors} 件・警告 {len(findings) - errors} 件）"]]
        rows += [["重要度", "ファイル", "場所", "内容", "コード"]]
        rows += [
            ["エラー" if f.is_error else "警告", f.file or "", f.where(), f.message(), f.code]
            for f in findings
        ]
    # Written as a rectangle; text that Excel would read as a formula gets the quote prefix.
    return [[quoted(value) for value in row] + [""] * (WIDTH - len(row)) for row in rows]


def quoted(value: Any) -> Any:
    """Text that Excel would take for a formula, with the apostrophe that keeps it text."""
    return "'" + value if isinstance(value, str) and looks_like_formula(value) else value


def alert_text(outcome: str, seconds: float, lines: list[str], findings: Sequence[Finding]) -> str:
    """The message box: the outcome, the first lines and problems, and where to read the rest."""
    text = [f"{outcome}（{seconds:.0f} 秒）。", *lines[:ALERT_LINES]]
    if len(lines) > ALERT_LINES:
        text.append(f"…ほか {len(lines) - ALERT_LINES} 行")
    text += [f"・{finding.message()}" for finding in findings[:ALERT_LINES]]
    if len(findings) > ALERT_LINES:
        text.append(f"…ほか {len(findings) - ALERT_LINES} 件")
    closing = f"詳しくは「{STATUS_SHEET}」シートを見てください。"
    # Excel's message box shows about 1,024 characters: the lines are cut so that the last one is seen.
    room = ALERT_CHARS - len(closing) - 1
    body = "\n".join(text)
    if len(body) > room:
        body = body[: room - 1].rstrip() + "…"
    return f"{body}\n{closing}"
