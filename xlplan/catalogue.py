"""The one message catalogue: every finding code, its severity, and its message in Japanese and English.

Codes are stable kebab-case identifiers that scripts may depend on; messages
may be reworded. Templates use ``str.format`` fields filled from a finding's
``params``. Group codes by the stage that emits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Entry:
    """One catalogue entry."""

    severity: Literal["error", "warning"]
    ja: str
    en: str


CATALOGUE: dict[str, Entry] = {
    # --- master workbook and workspace (exit status 2) -------------------------------
    "master-not-found": Entry(
        "error",
        "計画マスタ {path} が見つかりません。xlplan init で作業フォルダを作成してください。",
        "Master workbook {path} not found. Create a workspace with `xlplan init`.",
    ),
    "master-unreadable": Entry(
        "error",
        "計画マスタ {path} を開けません（{reason}）。Excel で開いて保存し直してください。",
        "Cannot open master workbook {path} ({reason}). Open and save it again in Excel.",
    ),
    "master-missing-sheet": Entry(
        "error",
        "計画マスタにシート「{sheet}」がありません。シート名を確認してください。",
        "The master workbook has no sheet named '{sheet}'.",
    ),
    "master-missing-column": Entry(
        "error",
        "シート「{sheet}」の見出し行に列「{column}」がありません。",
        "Sheet '{sheet}' has no column '{column}' in its header row.",
    ),
    "master-missing-setting": Entry(
        "error",
        "設定「{key}」が入力されていません。",
        "Setting '{key}' is missing.",
    ),
    "master-no-levels": Entry(
        "error",
        "設定に階層名（階層1, 階層2, …）が1つもありません。",
        "The settings name no hierarchy levels (階層1, 階層2, …).",
    ),
    "master-duplicate-project": Entry(
        "error",
        "事業番号 {no} が重複しています（最初の行: {first}）。",
        "Project number {no} appears twice (first at {first}).",
    ),
    "master-duplicate-entry": Entry(
        "error",
        "事業番号 {no} に担当課「{entry}」が2回あります。",
        "Project {no} lists department entry '{entry}' twice.",
    ),
    "master-bad-project-number": Entry(
        "error",
        "事業番号「{value}」は1以上の整数ではありません。",
        "Project number '{value}' is not a positive whole number.",
    ),
    "master-project-mismatch": Entry(
        "error",
        "事業番号 {no} の「{column}」が前の行と異なります（「{value}」と「{expected}」）。",
        "Project {no}: '{column}' differs from the project's first row ('{value}' vs '{expected}').",
    ),
    "master-unknown-department": Entry(
        "error",
        "担当課「{department}」が担当課シートに登録されていません。",
        "Department '{department}' is not in the department registry.",
    ),
    "master-duplicate-department": Entry(
        "error",
        "担当課「{department}」が担当課シートに2回登録されています。",
        "Department '{department}' is registered twice.",
    ),
    "master-bad-value": Entry(
        "error",
        "値「{value}」を読み取れません（数値・単位、または ○ × — を入力してください）。",
        "Cannot read value '{value}' (enter a number with its unit, or ○ × —).",
    ),
    "master-bad-fiscal-year": Entry(
        "error",
        "年度「{value}」を読み取れません（例: 令和2年度、R2、2020）。",
        "Cannot read fiscal year '{value}' (e.g. 令和2年度, R2, 2020).",
    ),
    "master-bad-date": Entry(
        "error",
        "日付「{value}」を読み取れません（例: 2021/5/31）。",
        "Cannot read date '{value}' (e.g. 2021/5/31).",
    ),
    "master-missing-value": Entry(
        "error",
        "「{column}」が空欄です。",
        "'{column}' is empty.",
    ),
    "master-bad-hierarchy": Entry(
        "error",
        "階層「{level}」の番号と名称が一致しません（番号 {number} に「{title}」と「{other}」）。",
        "Level '{level}' number {number} has two titles: '{title}' and '{other}'.",
    ),
    "master-unknown-project": Entry(
        "error",
        "履歴の事業番号 {no}・担当課「{entry}」が計画シートにありません。",
        "History row for project {no}, entry '{entry}' matches no plan row.",
    ),
    "workspace-exists": Entry(
        "error",
        "{path} には既に作業フォルダがあります。別のフォルダを指定してください。",
        "{path} already holds a workspace. Choose another folder.",
    ),
    "workspace-not-found": Entry(
        "error",
        "{path} は xlplan の作業フォルダではありません（計画マスタがありません）。-w で作業フォルダを指定してください。",
        "{path} is not an xlplan workspace (no master workbook). Pass the workspace with -w.",
    ),
    "unknown-example": Entry(
        "error",
        "例「{name}」はありません。使える例: {available}",
        "No example named '{name}'. Available: {available}",
    ),
    "output-not-writable": Entry(
        "error",
        "フォルダ {path} に書き込めません（{reason}）。",
        "Cannot write to folder {path} ({reason}).",
    ),
    # --- distribute -----------------------------------------------------------------------
    "distribute-unknown-department": Entry(
        "error",
        "「{department}」は担当課シートに登録されていません。課の名称を確認してください。",
        "'{department}' is not in the department registry.",
    ),
    "distribute-no-rows": Entry(
        "warning",
        "{department} が担当する事業がないため、ブックを作成しませんでした。",
        "{department} is in charge of no project; no workbook was made.",
    ),
    "distribute-no-email": Entry(
        "warning",
        "{department} のメールアドレスが担当課シートにないため、メールは作成していません（ブックは作成しました: {file}）。",
        "{department} has no mail address in the registry; the workbook was made ({file}) but no mail.",
    ),
    "distribute-renamed": Entry(
        "warning",
        "{path} は使用中（Excel で開いている等）のため、{actual} に保存しました。",
        "{path} is in use (open in Excel?); saved as {actual} instead.",
    ),
    "distribute-already-sent": Entry(
        "warning",
        "{department} には今回の照会（{round}）を送信済みのため、送信しませんでした。再送するには --resend を指定してください。",
        "{department} was already sent this round ({round}); not sent again. Use --resend to send again.",
    ),
    "smtp-not-configured": Entry(
        "error",
        "メールを送信するには、設定シートに「SMTPサーバー」を入力してください。",
        "To send mail, enter 'SMTPサーバー' (SMTP host) on the settings sheet.",
    ),
    "smtp-bad-setting": Entry(
        "error",
        "設定「{key}」の値「{value}」が正しくありません（{expected}）。",
        "Setting '{key}' has a bad value '{value}' (expected {expected}).",
    ),
    "smtp-no-password": Entry(
        "error",
        "SMTPユーザー {user} のパスワードがありません。環境変数 XLPLAN_SMTP_PASSWORD に設定するか、keyring（サービス名 xlplan-smtp）に登録してください。",
        "No password for SMTP user {user}. Set XLPLAN_SMTP_PASSWORD or store it in the keyring (service xlplan-smtp).",
    ),
    "smtp-send-failed": Entry(
        "error",
        "{department}（{to}）へのメール送信に失敗しました（{reason}）。次に --send で実行したときに再送します。",
        "Sending to {department} ({to}) failed ({reason}). It is retried on the next run with --send.",
    ),
    # --- feedback, status, remind -------------------------------------------------------
    "status-no-deadline": Entry(
        "warning",
        "計画マスタの設定に締切が入力されていないため、期限超過の課を判定できません。設定シートの「締切」に日付を入力してください。",
        "No deadline is set in the master, so overdue departments cannot be determined. Enter the 締切 setting.",
    ),
    "status-file-locked": Entry(
        "error",
        "{path} が Excel などで開かれているため書き込めません。ファイルを閉じてから、もう一度実行してください。",
        "{path} is open in another program (Excel?) and cannot be written. Close it and run again.",
    ),
    "remind-no-address": Entry(
        "warning",
        "担当課「{department}」のメールアドレスが担当課シートに登録されていないため、督促メールを作成できません。",
        "Department '{department}' has no mail address in the registry; no reminder was drafted.",
    ),
    "feedback-no-address": Entry(
        "warning",
        "担当課「{department}」のメールアドレスが登録されていないため、差し戻しメールは作成していません。差し戻し票 {path} を手作業で送付してください。",
        "Department '{department}' has no mail address; send the feedback workbook {path} by hand.",
    ),
    "feedback-file-locked": Entry(
        "warning",
        "{path} が開かれていたため、差し戻し票を {written} に保存しました。",
        "{path} was open, so the feedback workbook was saved as {written}.",
    ),
    # --- consolidate ---------------------------------------------------------------------
    "consolidate-missing-answer": Entry(
        "warning",
        "事業 {no}（{entry}）: {departments} の回答がありません。集約表には届いた回答の分だけを載せています。",
        "Project {no} ({entry}): no answer from {departments}; the table shows only the answers received.",
    ),
    "consolidate-unit-conflict": Entry(
        "warning",
        "事業 {no}（{entry}）: 単位の異なる値（{units}）は合計できないため、実績値を空欄にしました。",
        "Project {no} ({entry}): values in different units ({units}) cannot be added; the value is left blank.",
    ),
    "consolidate-unknown-answer": Entry(
        "warning",
        "事業 {no}・担当課「{entry}」（{department}）の回答は計画にない行のため、集約表に使いませんでした。",
        "The answer for project {no}, entry '{entry}' ({department}) matches no row of the plan and was not used.",
    ),
    "consolidate-target-open": Entry(
        "warning",
        "{path} は Excel などで開かれているため上書きできませんでした。{written} に保存しました。",
        "{path} is open (in Excel?) and could not be replaced; saved as {written} instead.",
    ),
    "consolidate-busy": Entry(
        "error",
        "別の集約処理が実行中です（{lock}）。終わってからもう一度実行してください。",
        "Another consolidation is running ({lock}). Run again when it has finished.",
    ),
    "consolidate-verify-failed": Entry(
        "error",
        "書き出した {path} を読み直したところ、内容が一致しませんでした（{reason}）。集約表は更新していません。",
        "Reading back {path} did not match what was written ({reason}); the table was not replaced.",
    ),
    "consolidate-audit-failed": Entry(
        "error",
        "{path} に数式・外部リンク・マクロが含まれていたため、公開用として保存しませんでした（{parts}）。",
        "{path} contains a formula, external link or macro ({parts}); it was not saved for publication.",
    ),
    "consolidate-template-unreadable": Entry(
        "error",
        "集約表のテンプレート {path} を開けません（{reason}）。",
        "Cannot open the table template {path} ({reason}).",
    ),
    "consolidate-template-missing-style": Entry(
        "error",
        "集約表のテンプレート {path} に書式の見本「{name}」がありません。テンプレートの「使い方」シートを確認してください。",
        "The table template {path} has no style sample named '{name}'. See its 使い方 sheet.",
    ),
    "consolidate-write-failed": Entry(
        "error",
        "{path} を書き出せませんでした（{reason}）。",
        "Could not write {path} ({reason}).",
    ),
    "pdf-unavailable": Entry(
        "warning",
        'PDF は作成しませんでした。PDF の作成には LibreOffice（https://ja.libreoffice.org/ から入手）をインストールするか、Windows では Excel と xlwings（pip install "xlplan[excel]"）が必要です。Excel ファイルと CSV は作成済みです。',
        "No PDF was made: install LibreOffice (https://www.libreoffice.org/), or on Windows Excel with xlwings "
        '(pip install "xlplan[excel]"). The Excel file and CSV were made.',
    ),
    "pdf-failed": Entry(
        "warning",
        "PDF の作成に失敗しました（{tool}: {reason}）。Excel ファイルと CSV は作成済みです。",
        "Making the PDF failed ({tool}: {reason}). The Excel file and CSV were made.",
    ),
}
