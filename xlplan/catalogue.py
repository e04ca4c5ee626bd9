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


@dataclass(frozen=True)
class Text:
    """A phrase that a message embeds (a reason, a place, a range), in both languages."""

    ja: str
    en: str


ROLLOVER_FORCEABLE = frozenset(
    {"rollover-unchecked", "rollover-review", "rollover-no-answers", "rollover-feedback-owed"}
)
"""The rollover refusals that ``--force`` (the 次年度へ button's second question) overrides: the office's
decision to close the year anyway. Never rollover-year-untouched. Here, below every layer that tells them."""

CATALOGUE: dict[str, Entry] = {
    # --- master workbook and workspace (exit status 2) -------------------------------
    "excel-extra-missing": Entry(
        "error",
        'ボタン付きの計画マスタを作るには xlwings が必要です。pip install "xlplan[excel]" で入れてください。',
        'Building the master with buttons needs xlwings: pip install "xlplan[excel]".',
    ),
    "serve-extra-missing": Entry(
        "error",
        'サーバー（xlplan serve）には HTTP の部品（{module}）が必要です。pip install "xlplan[serve]" で入れてください。',
        'The server (xlplan serve) needs its HTTP parts ({module}): pip install "xlplan[serve]".',
    ),
    "server-url-invalid": Entry(
        "error",
        "サーバーのアドレス「{url}」は使えません。http:// または https:// で始まるアドレスを指定してください"
        "（例: http://xlplan.city.local:8080）。ユーザー名・パスワード・? 以降は付けません。",
        "Server address '{url}' cannot be used: give an address starting with http:// or https:// "
        "(for example http://xlplan.city.local:8080), without user name, password or query.",
    ),
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
        "事業番号 {no} の「{column}」が前の行と異なります（「{value}」と「{expected}」）。1つの事業の行（担当課ごとに分けて報告する行を含む）は、事業の内容・数値目標・単位・現状値を同じにしてください。課ごとに違う現状値は、事業を分けて別の事業番号にします。",
        "Project {no}: '{column}' differs from the project's first row ('{value}' vs '{expected}'). The rows of one "
        "project (separate department rows included) share its description, indicator, unit and baseline; give "
        "departments with their own baseline a project number of their own.",
    ),
    "master-unknown-department": Entry(
        "error",
        "担当課「{department}」が担当課シートに登録されていません。",
        "Department '{department}' is not in the department registry.",
    ),
    "table-unreadable": Entry(
        "error",
        "{path} を Excel ブック（.xlsx）として開けませんでした。事業実績一覧を Excel で開いて「Excel ブック (*.xlsx)」で保存し直してから指定してください。",
        "{path} could not be opened as an Excel workbook (.xlsx). Save the table as 'Excel Workbook (*.xlsx)' and try again.",
    ),
    "table-department-workbook": Entry(
        "error",
        "{path} は担当課に配布した回答用ブック（1つの課の分だけ）です。始めるには、公表した事業実績一覧（集約表）のブックを指定してください。",
        "{path} is a department's return workbook (one department's rows). Give the published consolidated table instead.",
    ),
    "table-not-a-table": Entry(
        "error",
        "{file} には事業実績一覧の見出し（「担当課」と「現状値」の列）が見つかりません。集約表（事業実績一覧）のブックを指定してください。",
        "{file} has no consolidated-table header (columns 担当課 and 現状値). Give the consolidated table's workbook.",
    ),
    "table-no-header": Entry(
        "error",
        "{sheet}!{cell} の見出しは「担当課」の左に事業の列がありません。事業（事業の内容）の列は担当課の左に置いてください。",
        "The header at {sheet}!{cell} has no projects' column left of 担当課.",
    ),
    "table-header-differs": Entry(
        "error",
        "シート「{sheet}」の見出し（{cell}）が最初のシートと違います（階層の列や実績値の年度の数）。どのシートも同じ見出しにしてください。",
        "The header of sheet '{sheet}' ({cell}) differs from the first sheet's (level columns or number of years).",
    ),
    "table-no-years": Entry(
        "error",
        "{sheet}!{cell} に実績値の年度（例: 令和2年度）が見つかりません。見出しの2行目に年度を入れてください。",
        "No fiscal year of the values at {sheet}!{cell}; put the years (e.g. 令和2年度) in the header's second row.",
    ),
    "table-no-indicator": Entry(
        "warning",
        "事業番号 {no} は単位「{unit}」の値がありますが、表に数値目標（【数値目標】…）がありません。計画マスタの計画シートの"
        "数値目標に「（数値目標を入力してください）」と入れたので、配布の前に数値目標の名前に書き換えてください。",
        "Project {no} has values in '{unit}' but the table names no indicator (【数値目標】…). The master's 数値目標 "
        "says '（数値目標を入力してください）': replace it with the indicator's name before distributing.",
    ),
    "table-years-out-of-order": Entry(
        "error",
        "{sheet}!{cell} の年度「{value}」が、左の列の年度「{before}」より後になっていません。実績値の年度は左から古い順に、重ならないようにしてください。",
        "The year '{value}' at {sheet}!{cell} is not after '{before}' to its left. The value columns' years must increase "
        "from left to right, none repeated.",
    ),
    "table-sheet-unread": Entry(
        "error",
        "シート「{sheet}」は事業実績一覧のように見えますが、見出し（「担当課」「現状値」「実績」の列が並ぶ行）が見つからず、読み取れませんでした。"
        "見出しをほかのシートと同じにするか、取り込まないシートなら削除したブックを指定してください。",
        "Sheet '{sheet}' looks like part of the table but has no header row (columns 担当課, 現状値 and 実績) and was not "
        "read. Give it the same header as the other sheets, or remove it from the workbook.",
    ),
    "table-bad-year": Entry(
        "error",
        "{sheet}!{cell} の「{value}」を年度として読めません（例: 令和2年度、R2、2020年度、27年度）。",
        "'{value}' at {sheet}!{cell} is not a fiscal year (e.g. 令和2年度, R2, 2020年度, 27年度).",
    ),
    "table-bad-heading": Entry(
        "error",
        "{sheet}!{cell} の見出し「{text}」の番号が読めません。「(1) 施策の名称」のように、番号と名称の間に空白を入れてください。",
        "The heading '{text}' at {sheet}!{cell} has no number; write it as '(1) name', number and name apart.",
    ),
    "table-bad-number": Entry(
        "error",
        "{sheet}!{cell} の事業番号「{value}」は 1 以上の整数ではありません。",
        "Project number '{value}' at {sheet}!{cell} is not a whole number of 1 or more.",
    ),
    "table-duplicate-project": Entry(
        "error",
        "{sheet}!{cell} の事業番号 {no} は、表の前のほうにもあります。1つの事業は続けて（担当課ごとに1行ずつ）書いてください。",
        "Project {no} at {sheet}!{cell} appears earlier in the table too.",
    ),
    "table-row-unread": Entry(
        "error",
        "{sheet}!{cell} の行を読み取れません（見出しでも、事業の行でも、前の事業の担当課の行でもありません）。",
        "The row at {sheet}!{cell} is neither a heading, a project, nor another department of the project above.",
    ),
    "table-bad-value": Entry(
        "error",
        "{cell} の値「{value}」を読めません。数値は単位を付けて（172人、1.6%）、記号は ○ × — で書いてください。",
        "The value '{value}' at {cell} cannot be read: numbers with their unit (172人, 1.6%), marks ○ × —.",
    ),
    "table-bad-target": Entry(
        "error",
        "推移シートの {cell}（{header}）「{value}」を読めません。目標年度は「令和6年度」のように、"
        "方向は 増加・減少・維持 のどれかで書いてください。",
        "The {header} '{value}' at {cell} of the 推移 sheet cannot be read: 目標年度 as 令和6年度, "
        "方向 as 増加, 減少 or 維持.",
    ),
    "table-department-look-alike": Entry(
        "warning",
        "担当課「{left}」と「{right}」は1文字だけ違います。同じ課の表記ゆれなら、担当課シートで一方をもう一方の別名にしてください。",
        "Departments '{left}' and '{right}' differ in one character; if they are one department, make one an alias "
        "of the other on the department sheet.",
    ),
    "table-department-variant": Entry(
        "warning",
        "担当課「{variant}」には JIS にない字が含まれ、「{name}」と1文字だけ違うため、同じ課の別表記として「{name}」にまとめました。表の印刷は「{variant}」のままです。別の課なら担当課シートで分けてください。",
        "Department '{variant}' has a character outside JIS and differs from '{name}' in one character: taken as "
        "another spelling of '{name}' (printed as it was). If they are different departments, separate them on the "
        "department sheet.",
    ),
    "init-options-conflict": Entry(
        "error",
        "{options} は一緒に指定できません。例から始める（--example）、表から作る（--from）、空の計画マスタを作る（--levels）のどれか1つにしてください。",
        "{options} cannot be used together: start from the example (--example), from a table (--from), or a blank master (--levels).",
    ),
    "init-bad-levels": Entry(
        "error",
        "階層名「{levels}」を使えません。上の階層から順に「,」区切りで、空欄や同じ名前の重複なしに指定してください（例: --levels 政策,施策,事業）。",
        "Level names '{levels}' cannot be used: give them top first, comma-separated, none blank or repeated "
        "(e.g. --levels 政策,施策,事業).",
    ),
    "plan-indicator-placeholder": Entry(
        "error",
        "計画シートの数値目標が「（数値目標を入力してください）」のままの事業があります（事業番号 {projects}）。数値目標の名前を入力してから配布・集約してください。",
        "Some projects' indicator is still '（数値目標を入力してください）' (projects {projects}). Name each indicator "
        "before distributing or consolidating.",
    ),
    "plan-no-projects": Entry(
        "error",
        "計画マスタに事業がまだありません。計画シートに事業と担当課を入力してから配布・集約してください（書き方は計画マスタの説明シートと docs/master.md）。",
        "The master has no projects yet. Enter the projects and departments on the plan sheet before distributing "
        "or consolidating (see the master's guide sheet and docs/master.md).",
    ),
    "rollover-feedback-owed": Entry(
        "error",
        "差し戻し票をまだ作っていない回答が {count} 件あります（{files}）。回収が途中で止まったためです。先に回収（xlplan collect）を実行して差し戻し票を作ってから次年度へ進めてください。このまま進めるときは --force を付けます（「次年度へ」ボタンでは、続けて出る確認で「OK」を押します）。",
        "{count} returns with errors have no feedback workbook yet ({files}): a collection stopped before making it. Collect first (xlplan collect); use --force to close the year anyway.",
    ),
    "rollover-unchecked": Entry(
        "error",
        "まだ検証していない回答が {count} 件あります（{files}）。先に回収・検証（xlplan collect）をしてから次年度へ進めてください。このまま進めるときは --force を付けます（「次年度へ」ボタンでは、続けて出る確認で「OK」を押します）。",
        "{count} returns are not checked yet ({files}). Collect first (xlplan collect); use --force to close the year anyway.",
    ),
    "rollover-review": Entry(
        "error",
        "照会元の確認待ちの回答が {count} 件あります（{files}）。xlplan review で受理か却下を決めてから次年度へ進めてください。このまま進めるときは --force を付けます（「次年度へ」ボタンでは、続けて出る確認で「OK」を押します）。",
        "{count} returns await the office's decision ({files}). Decide with xlplan review first; use --force to close the year anyway.",
    ),
    "rollover-no-answers": Entry(
        "error",
        "{year}は受理した回答が1件もありません。このまま次年度へ進めると、{year}の実績が空のまま履歴に残ります。回収が終わっているか確認し、それでも進めるときは --force を付けます（「次年度へ」ボタンでは、続けて出る確認で「OK」を押します）。",
        "No return was accepted for {year}: closing it now leaves the year empty in the history. Check that "
        "collection is done; use --force to close it anyway.",
    ),
    "rollover-title-unchanged": Entry(
        "warning",
        "表題「{title}」に年度が見つからないため、表題は前年度のままです。集約表・PDF・CSV のファイル名は表題から付けるので、このままでは前年度の公表ファイルを上書きします。設定シートの表題を新しい年度に直してから集約してください。",
        'The title "{title}" names no fiscal year, so it was kept as it was. The consolidated table, PDF and CSV are '
        "named by the title: consolidating now would replace last year's published files. Change the title in 設定 first.",
    ),
    "rollover-year-untouched": Entry(
        "error",
        "{year}は次年度への切り替えで始まったばかりで、まだ配布も回収もしていません。続けて切り替えると1年分が抜けるため、切り替えません（--force でも同じです）。",
        "{year} was opened by a rollover and nothing was sent or received in it yet; rolling over again would "
        "skip a year, so it is refused (also with --force).",
    ),
    "master-former-name-split": Entry(
        "error",
        "「{department}」は機構改革で {successors} に分かれました（担当課シートの旧名称）。どの課がこの事業を引き継ぐか、計画シートのこの行の担当課を新しい課名に直してください。",
        "'{department}' was split into {successors} (former names on the department sheet). Change this row's "
        "department on the plan sheet to the department that carries the project on.",
    ),
    "master-former-name-collision": Entry(
        "error",
        "「{department}」の旧名称「{former}」は、いま使われている課名（または別名）と同じです。どちらの課のことか区別できないため、旧名称から外すか、課名を直してください。",
        "The former name '{former}' of '{department}' is also a current department name or spelling; "
        "it cannot tell the two apart. Remove it from the former names or correct the name.",
    ),
    "usage-unrecognized": Entry(
        "error",
        "{command}: 「{arguments}」は使えない指定です。使い方は {command} --help で表示します。",
        "{command}: unrecognized arguments: {arguments}. See {command} --help.",
    ),
    "usage-missing": Entry(
        "error",
        "{command}: 次の指定が必要です: {arguments}。使い方は {command} --help で表示します。",
        "{command}: the following arguments are required: {arguments}. See {command} --help.",
    ),
    "usage-not-together": Entry(
        "error",
        "{command}: {argument} と {other} は一緒に指定できません。",
        "{command}: {argument} cannot be given with {other}.",
    ),
    "usage-invalid-choice": Entry(
        "error",
        "{command}: {argument} に「{value}」は指定できません（指定できるもの: {choices}）。",
        "{command}: {argument} cannot be '{value}' (choose from {choices}).",
    ),
    "usage-invalid-value": Entry(
        "error",
        "{command}: {argument} の値「{value}」を読み取れません。使い方は {command} --help で表示します。",
        "{command}: the value '{value}' of {argument} cannot be read. See {command} --help.",
    ),
    "usage-expects-value": Entry(
        "error",
        "{command}: {argument} のあとに値を書いてください。",
        "{command}: {argument} needs a value.",
    ),
    "usage-error": Entry(
        "error",
        "{command}: コマンドの指定に誤りがあります。使い方は {command} --help で表示します。",
        "{command}: the command line is not valid. See {command} --help.",
    ),
    "master-bad-address": Entry(
        "error",
        "「{address}」はメールアドレスとして使えません。半角の「名前@ドメイン」の形で1つだけ書いてください。",
        "'{address}' is not a usable mail address: write one address in the form name@domain.",
    ),
    "master-duplicate-department": Entry(
        "error",
        "担当課「{department}」が担当課シートに2回登録されています。",
        "Department '{department}' is registered twice.",
    ),
    "master-unit-mismatch": Entry(
        "error",
        "値「{value}」の単位「{typed}」が、この事業の数値目標の単位「{unit}」と違います。単位を「{unit}」にするか、数値だけを入力してください。",
        "The unit '{typed}' of value '{value}' is not the indicator's unit '{unit}': use '{unit}' or enter the number alone.",
    ),
    "serve-no-token": Entry(
        "error",
        "トークンがありません。Authorization: Bearer トークン を付けるか、状況のページでログインしてください。",
        "No token: send Authorization: Bearer TOKEN, or log in on the status page.",
    ),
    "serve-bad-token": Entry(
        "error",
        "トークンが違います（作業フォルダ「{name}」）。サーバーの管理者から受け取ったトークンを使ってください。",
        "Wrong token (workspace '{name}'). Use the token the server's administrator gave you.",
    ),
    "serve-unknown-workspace": Entry(
        "error",
        "作業フォルダ「{name}」はこのサーバーにありません。",
        "This server has no workspace '{name}'.",
    ),
    "serve-client-not-allowed": Entry(
        "error",
        "この PC のネットワークからは使えません。サーバーの管理者に許可するネットワークを確かめてください。",
        "Requests from this network are not allowed; ask the server's administrator.",
    ),
    "serve-unknown-verb": Entry(
        "error",
        "「{verb}」という操作はありません（distribute・collect・consolidate・remind・rollover）。",
        "No such action '{verb}' (distribute, collect, consolidate, remind, rollover).",
    ),
    "serve-failed": Entry(
        "error",
        "サーバーで「{action}」を実行中に予期しないエラーが起きました。記録: {log}",
        "An unexpected error occurred on the server during '{action}'. Log: {log}",
    ),
    "serve-bad-upload": Entry(
        "error",
        "送られたデータを読み取れません（ファイルを送る形式 multipart/form-data になっていないか、途中で壊れています）。ファイルを選び直して送ってください。",
        "Cannot read the upload (not multipart/form-data, or cut off). Choose the files and send them again.",
    ),
    "serve-no-file": Entry(
        "error",
        "ファイルがありません。フィールド名 file でファイルを送ってください。",
        "No file: send the files in the form field 'file'.",
    ),
    "serve-upload-too-large": Entry(
        "error",
        "ファイルが大きすぎます（{limit} MB まで）: {names}",
        "Files too large (up to {limit} MB): {names}",
    ),
    "serve-request-too-large": Entry(
        "error",
        "送られたデータが大きすぎます（1回に {limit} MB まで）。何回かに分けて送ってください。",
        "The upload is too large (up to {limit} MB at a time); send the files in several uploads.",
    ),
    "serve-too-many-files": Entry(
        "error",
        "1回に送れるファイルは {limit} 個までです。何回かに分けて送ってください。",
        "Up to {limit} files can be sent at a time; send them in several uploads.",
    ),
    "serve-not-found": Entry(
        "error",
        "「{path}」というページや操作はありません。アドレスを確かめてください（操作の一覧は管理者の手引き server-admin.md）。",
        "There is no page or action at '{path}'; check the address.",
    ),
    "serve-method-not-allowed": Entry(
        "error",
        "「{path}」は {method} では使えません（情報を見るのは GET、操作するのは POST です）。",
        "'{path}' does not take {method} (GET reads, POST acts).",
    ),
    "serve-bad-request": Entry(
        "error",
        "要求を処理できませんでした（HTTP {status}）。もう一度操作してください。",
        "The request could not be handled (HTTP {status}); try again.",
    ),
    "serve-no-such-file": Entry(
        "error",
        "ファイル「{path}」はありません。",
        "No such file '{path}'.",
    ),
    "serve-duplicate-name": Entry(
        "error",
        "同じ名前の作業フォルダ「{name}」が2つ指定されました。フォルダ名を変えてください（URL にフォルダ名を使います）。",
        "Two workspaces are named '{name}'; rename one (the URL uses the folder's name).",
    ),
    "serve-weak-token": Entry(
        "error",
        "環境変数 {name} のトークンが短すぎます（{minimum} 文字以上）。推測されにくい長いトークンにするか、{name} を設定せずに起動して、作業フォルダごとのトークンを作らせてください。",
        "The token in {name} is too short (at least {minimum} characters). Use a long random one, or start without "
        "{name} to have a token made for each workspace.",
    ),
    "serve-bad-network": Entry(
        "error",
        "許可するネットワーク「{value}」を読み取れません（例: 10.0.0.0/8、192.168.1.20）。",
        "Cannot read the allowed network '{value}' (for example 10.0.0.0/8, 192.168.1.20).",
    ),
    "digest-no-office-email": Entry(
        "warning",
        "設定シートに照会元の連絡先メール（差出人）がないため、還元のメールの下書きを作りませんでした。還元のブックは {folder} にあります。",
        "The 設定 sheet has no office mail address (the sender): no mail drafts for the digests, which are in {folder}.",
    ),
    "digest-not-answered": Entry(
        "warning",
        "回答のなかった課には、還元のブックとメール（回答へのお礼の文面）を作りませんでした: {departments}。回答を受理してから集約し直すと作ります。",
        "No digest workbook or mail (which thanks the department for its answer) for departments that did not answer: "
        "{departments}. Consolidate again once their returns are accepted.",
    ),
    "digest-no-email": Entry(
        "warning",
        "{department} のメールアドレスが担当課シートにないため、還元のメールの下書きを作りませんでした（ブック: {file}）。",
        "{department} has no mail address on the 担当課 sheet: no mail draft for its digest ({file}).",
    ),
    "master-bad-municipality-code": Entry(
        "error",
        "団体コード「{value}」は全国地方公共団体コードではありません（6桁で、最後の検査数字が合っていません）。総務省の一覧の6桁のコードを入力してください（例: 小城市 412104）。",
        "団体コード '{value}' is not a 全国地方公共団体コード (six digits with a matching check digit), e.g. 412104.",
    ),
    "opendata-platform-dependent": Entry(
        "warning",
        "オープンデータの CSV の {row} 行目「{column}」に機種依存文字「{characters}」があります（事業番号 {no}、{department}）。CSV では「{replaced}」に置き換えました。元の文章（回答または計画マスタ）も直すことを勧めます。",
        "Open-data CSV row {row}, column {column}: platform-dependent characters '{characters}' (project {no}, {department}); written as '{replaced}' in the CSV.",
    ),
    "opendata-platform-dependent-kept": Entry(
        "warning",
        "オープンデータの CSV の {row} 行目「{column}」に機種依存文字「{characters}」があります（事業番号 {no}、{department}）。標準の字がないため CSV でもそのままです（UTF-8 の CSV では正しく読めますが、古いシステムでは化けることがあります）。必要なら元の文章（回答または計画マスタ）を標準の字（例: 髙 → 高、﨑 → 崎）に直してください。",
        "Open-data CSV row {row}, column {column}: platform-dependent characters '{characters}' (project {no}, "
        "{department}) have no standard form and are kept as they are; correct the source text if needed (髙 → 高).",
    ),
    "master-bad-target": Entry(
        "error",
        "目標値「{value}」は数値で入力してください（単位付き、例: 50%）。記号（○ × —）の目標は達成率を計算できません。",
        "Target '{value}' must be a number (with its unit, e.g. 50%); a mark has no achievement rate.",
    ),
    "master-bad-direction": Entry(
        "error",
        "方向「{value}」は {expected} のどれかを入力してください（空欄なら目標値と現状値の大小から決めます）。",
        "Direction '{value}' must be one of {expected} (blank: from the target and the baseline).",
    ),
    "master-direction-conflict": Entry(
        "error",
        "方向が「{value}」ですが、目標値 {target} と現状値 {baseline} の大小と合いません。方向か目標値を確かめてください。",
        "Direction '{value}' disagrees with target {target} against baseline {baseline}: check either cell.",
    ),
    "master-target-year-needed": Entry(
        "error",
        "評価基準で目標を按分する（按分: する）ので、目標値のある事業には目標年度を入力してください（例: 令和6年度）。",
        "The grading rule pro-rates targets: enter the target year of every project with a target (e.g. 令和6年度).",
    ),
    "master-grading-bad-number": Entry(
        "error",
        "評価基準の「{key}」の値「{value}」を読み取れません。達成率などの % を数値で入力してください（例: 80）。",
        "Grading rule '{key}': cannot read '{value}'; enter a percentage as a number (e.g. 80).",
    ),
    "master-grading-duplicate-grade": Entry(
        "error",
        "評価基準の区分「{label}」が2回あります。区分の名称は1回ずつにしてください。",
        "Grade '{label}' appears twice in the grading rule.",
    ),
    "master-grading-order": Entry(
        "error",
        "評価基準の区分「{label}」の下限「{value}」は、上の区分「{above}」の下限より小さくしてください"
        "（区分は上から高い順。下限が空欄の区分は最後の行だけです）。",
        "Grade '{label}' (least rate '{value}') must need less than grade '{above}' above it "
        "(highest first; only the last grade may have no least rate).",
    ),
    "master-grading-unknown-item": Entry(
        "error",
        "評価基準の項目「{key}」は使えません。項目は {known} のどれかです（区分の表は「区分」の行の下に書きます）。",
        "Unknown grading item '{key}': the items are {known} (grades go below the 区分 row).",
    ),
    "master-grading-bad-method": Entry(
        "error",
        "評価基準の算式「{value}」は {expected} のどちらかを入力してください。",
        "Grading formula '{value}' must be one of {expected}.",
    ),
    "master-grading-bad-switch": Entry(
        "error",
        "評価基準の「{key}」は「する」か「しない」を入力してください（「{value}」とあります）。",
        "Grading item '{key}' must be する or しない (found '{value}').",
    ),
    "master-grading-no-grades": Entry(
        "error",
        "評価基準シートに区分の表がありません。A列に「区分」と書いた行の下に、区分の名称と下限（達成率 %）を高い順に入れてください。",
        "The 評価基準 sheet has no grades: below a row with 区分 in column A, list each grade and its least rate, highest first.",
    ),
    "master-history-not-past": Entry(
        "error",
        "履歴の事業番号 {no} の年度「{year}」は今年度「{current}」以後です。履歴には前年度までの実績を入れます"
        "（今年度の実績は回収した回答から集約し、次年度へ進むときに履歴に加わります）。",
        "History of project {no}: the year '{year}' is not before this year '{current}'. The history holds past "
        "years only (this year's results come from the returns and are added when the year is closed).",
    ),
    "master-duplicate-history": Entry(
        "error",
        "履歴の事業番号 {no}・{entry}・{year} の行が2つあります（最初の行は {first}）。同じ行が重なっていると"
        "値が足し合わされるため、どちらか一方を削除してください。",
        "History: project {no}, {entry}, {year} is recorded twice (the first at {first}); the values would be "
        "added together. Delete one of the rows.",
    ),
    "master-years-out-of-order": Entry(
        "error",
        "前年度「{previous}」が今年度「{current}」より前になっていません。前年度には今年度の前の年度を入力してください。",
        "The previous year '{previous}' is not before this year '{current}'. Enter the year before this year.",
    ),
    "master-baseline-after-previous": Entry(
        "error",
        "現状値の年度「{baseline}」が前年度「{previous}」より後になっています。現状値は計画を始める前の値です。",
        "The baseline year '{baseline}' is after the previous year '{previous}'; the baseline is the value before the plan.",
    ),
    "master-deadline-before-year": Entry(
        "error",
        "締切「{deadline}」が今年度「{year}」の始まり（4月1日）より前です。回答の締切の日付を入力してください。",
        "The deadline '{deadline}' is before the start of this year '{year}' (1 April). Enter the date returns are due.",
    ),
    "master-bad-round": Entry(
        "error",
        "回「{value}」は 1 以上の整数で入力してください（1 回目の照会なら 1）。",
        "The round '{value}' must be a whole number of 1 or more (1 for the first request of the year).",
    ),
    "master-bad-past-years": Entry(
        "error",
        "表示する過去の年度数「{value}」は 1 から {most} までの整数で入力してください（1 なら前年度だけ）。",
        "表示する過去の年度数 '{value}' must be a whole number from 1 to {most} (1: the previous year only).",
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
        "履歴の事業番号 {no}・担当課「{entry}」が計画シートにありません。番号か課名の誤りなら直してください。"
        "廃止した事業・担当の過去の実績なら、この行の備考に「廃止」と書くと、記録として残したまま使わなくなります。",
        "History row for project {no}, entry '{entry}' matches no plan row. Correct a mistyped number or name; for "
        "the past results of a project or entry the plan dropped, write 廃止 in the row's 備考 to keep it unused.",
    ),
    "master-history-unknown-department": Entry(
        "error",
        "履歴の事業番号 {no}・担当課「{entry}」の「{department}」は、担当課シートのどの課の名称にも旧名称にもありません。"
        "いまの課の「旧名称」に「{department}」を書き足してください（2回以上名称が変わった課は、前の名称をすべて「、」区切りで書きます）。",
        "History row for project {no}, entry '{entry}': no department is or was called '{department}'. Add "
        "'{department}' to the 旧名称 of the department it is now (list every earlier name).",
    ),
    "master-history-split-department": Entry(
        "error",
        "履歴の事業番号 {no}・担当課「{entry}」の「{department}」は {successors} に分かれ、どちらもこの事業を担当しています。"
        "どちらの課の実績か決められないため、履歴シートのこの行の担当課をどちらかの名称に書き直してください。",
        "History row for project {no}, entry '{entry}': '{department}' was split into {successors}, which both "
        "carry the project on; write one of them as this row's 担当課.",
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
    "workspace-incomplete": Entry(
        "error",
        "{path} には計画マスタ（または台帳）はありますが、作業フォルダの管理情報 {key} がありません。計画マスタを作業フォルダの外にコピーして開いていないか、"
        "作業フォルダを隠しフォルダ .xlplan を含めずにコピーしていないか確認し、元の作業フォルダの計画マスタを開いてください（作業フォルダをコピーするときは .xlplan も一緒に）。"
        "このまま進めると、配布済みのブックの署名が合わず、各課の正しい回答を受理できなくなるため、何もしていません。",
        "{path} holds a master (or a ledger) but not the workspace's key {key}: a copy of the master, or of a "
        "workspace without its hidden .xlplan folder. Open the master in its workspace (copy .xlplan with a "
        "workspace). Nothing was done: a new key would fail every return already distributed.",
    ),
    "unknown-example": Entry(
        "error",
        "例「{name}」はありません。使える例: {available}",
        "No example named '{name}'. Available: {available}",
    ),
    "output-not-writable": Entry(
        "error",
        "{path} に書き込めません（{why}）。",  # a file or a folder: the path says which
        "Cannot write to {path} ({why}).",
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
    "master-open-in-excel": Entry(
        "error",
        "計画マスタ {path} を誰かが Excel で開いています（同じフォルダに Excel のファイル「{owner}」があります）。このまま置き換えると、"
        "Excel で保存したときに元に戻ってしまうため、何もしていません。Excel で閉じてから、もう一度実行してください。"
        "誰も開いていないのに出るときは、Excel が異常終了して残した「{owner}」（隠しファイル）を削除してください。",
        "The master {path} is open in Excel (its owner file {owner} is beside it): replacing it now would be undone "
        "when Excel saves it, so nothing was done. Close it in Excel and run again; if nobody has it open, delete "
        "{owner} (a hidden file a crashed Excel left behind).",
    ),
    "rollover-master-altered": Entry(
        "error",
        "Excel が保存した計画マスタ {path} の内容が、書き込んだものと違います（文字が数値や日付に変わった可能性があります）。"
        ".xlplan/backup の切り替え前の計画マスタで元に戻し、もう一度「次年度へ」を押してください。",
        "The master {path} as Excel saved it differs from what was written (text may have become numbers or dates). "
        "Restore the master from .xlplan/backup and press 次年度へ again.",
    ),
    "feedback-resent": Entry(
        "warning",
        "前回送れなかった {department} への差し戻しメールを送りました（{to}）。差し戻し票: {path}",
        "The feedback mail to {department} that could not be sent last time was sent ({to}). Workbook: {path}",
    ),
    "smtp-send-failed": Entry(
        "error",
        "{department}（{to}）へのメール送信に失敗しました（{reason}）。次に --send で実行したときに再送します。",
        "Sending to {department} ({to}) failed ({reason}). It is retried on the next run with --send.",
    ),
    # Returns by mail (xlplan.collection.imap over xlplan.mailbox): the office's mailbox over IMAP.
    "imap-not-configured": Entry(
        "error",
        "メールで回答を受け取るには、設定シートに「IMAPサーバー」と「IMAPユーザー」を入力してください。",
        "To take returns by mail, enter 'IMAPサーバー' (IMAP host) and 'IMAPユーザー' (user) on the settings sheet.",
    ),
    "imap-bad-setting": Entry(
        "error",
        "設定「{key}」の値「{value}」が正しくありません（{expected}）。",
        "Setting '{key}' has a bad value '{value}' (expected {expected}).",
    ),
    "imap-no-password": Entry(
        "error",
        "IMAPユーザー {user} のパスワードがありません。環境変数 XLPLAN_IMAP_PASSWORD に設定するか、keyring（サービス名 xlplan-imap）に登録してください。",
        "No password for IMAP user {user}. Set XLPLAN_IMAP_PASSWORD or store it in the keyring (service xlplan-imap).",
    ),
    "imap-unreachable": Entry(
        "error",
        "メールサーバー {host}（ポート {port}）に接続できません（{reason}）。設定シートの「IMAPサーバー」「IMAPポート」「IMAP暗号化」とネットワークを確認してください。メールは受信していません。",
        "Cannot reach the mail server {host} (port {port}): {reason}. Check IMAPサーバー, IMAPポート and "
        "IMAP暗号化 on the settings sheet, and the network. No mail was taken.",
    ),
    "imap-tls-failed": Entry(
        "error",
        "メールサーバー {host} と暗号化して通信できません（{reason}）。庁内の認証局の証明書を使うサーバーなら、設定シートの「IMAP証明書」にその証明書ファイル（.pem）を指定してください。メールは受信していません。",
        "Cannot set up an encrypted connection to the mail server {host}: {reason}. If the server uses a "
        "certificate of an internal CA, name its file (.pem) in IMAP証明書. No mail was taken.",
    ),
    "imap-login-failed": Entry(
        "error",
        "メールサーバー {host} にユーザー {user} でログインできません（{reason}）。設定シートの「IMAPユーザー」と、環境変数 XLPLAN_IMAP_PASSWORD（または keyring）のパスワードを確認してください。メールは受信していません。",
        "Cannot log in to the mail server {host} as {user}: {reason}. Check IMAPユーザー and the password "
        "(XLPLAN_IMAP_PASSWORD or the keyring). No mail was taken.",
    ),
    "imap-no-folder": Entry(
        "error",
        "メールボックスにフォルダ「{folder}」がありません（{reason}）。設定シートの「IMAPフォルダ」を確認してください（空欄なら INBOX）。メールは受信していません。",
        "The mailbox has no folder '{folder}' ({reason}). Check IMAPフォルダ on the settings sheet "
        "(empty means INBOX). No mail was taken.",
    ),
    "imap-failed": Entry(
        "error",
        "メールサーバーとの通信が途中で失敗しました（{reason}）。ここまでに受信したメールは取り込みます。残りは次の実行で受信します。",
        "The connection to the mail server failed part-way ({reason}). The mails taken so far are kept; "
        "the rest are taken on the next run.",
    ),
    "imap-mail-too-large": Entry(
        "warning",
        "メール「{subject}」（差出人 {sender}、{size} MB）は上限の {limit} MB を超えるため、受信していません。添付のブックを保存して inbox/ に置いてください。",
        "The mail '{subject}' (from {sender}, {size} MB) is over the {limit} MB limit and was not taken. "
        "Save its attached workbook into inbox/.",
    ),
    "imap-time-up": Entry(
        "warning",
        "{seconds} 秒以内に受信しきれなかったメールが {left} 通あります。次の実行で受信します。",
        "{left} mails could not be taken within {seconds} seconds; they are taken on the next run.",
    ),
    # --- collect: identification and checks ---------------------------------------------
    # Identification (xlplan.collection.identify): which department, plan, year and round a returned file answers.
    "manifest-bad-signature": Entry(
        "error",
        "このファイルの管理情報（非表示シート）の署名が一致しません。管理情報が書き換えられたか、別の作業フォルダで作成されたファイルです。照会元から送付されたファイルに記入して提出してください。",
        "The signature of this file's manifest (hidden sheet) does not match: it was edited or issued by "
        "another workspace. Fill in the workbook the plan office sent and return it.",
    ),
    "manifest-unreadable": Entry(
        "error",
        "このファイルの管理情報（非表示シート「{manifest_sheet}」）を読み取れません。照会元から送付されたファイルに記入して提出してください。",
        "The manifest of this file (hidden sheet '{manifest_sheet}') cannot be read. "
        "Fill in the workbook the plan office sent and return it.",
    ),
    "manifest-other-workspace": Entry(
        "error",
        "このファイルは別の作業フォルダ（{found}）で作成された照会票です。今回照会元から送付されたファイルに記入して提出してください。",
        "This workbook was issued by another workspace ({found}). Fill in the workbook sent for this survey.",
    ),
    "manifest-other-plan": Entry(
        "error",
        "このファイルは別の計画「{found}」の照会票です。「{expected}」の照会票に記入して提出してください。",
        "This workbook belongs to another plan ('{found}'). Fill in the workbook of '{expected}'.",
    ),
    "manifest-rows-outdated": Entry(
        "error",
        "このファイルは「{sent_as}」として送付したものですが、いまの {department} には、ほかに {missing} 行の担当があります"
        "（課の統合の後）。このまま受理すると、その行の回答が消えるため受理しません。差し戻し票（{department} のすべての行）に記入して返送してください。",
        "This file was sent to {sent_as}; {department} now answers {missing} more rows (after a merger). Accepting it "
        "would drop the answers to those rows: answer in the feedback workbook, which holds all of them.",
    ),
    "manifest-other-year": Entry(
        "error",
        "このファイルは{found}の照会票です。{expected}の照会票に記入して提出してください（前年度のファイルを使っていないか確認してください）。",
        "This workbook is for {found}, not {expected}. Fill in this year's workbook (not last year's file).",
    ),
    "manifest-other-round": Entry(
        "error",
        "このファイルは第{found}回の照会票です。最新の第{expected}回の照会票に記入して提出してください。",
        "This workbook is from round {found}; fill in the workbook of the current round {expected}.",
    ),
    "manifest-template-version": Entry(
        "error",
        "このファイルの様式（{found}）は現在の様式（{expected}）と異なります。照会元から新しいファイルを受け取り、記入して提出してください。",
        "This workbook's template version ({found}) is not the current one ({expected}). "
        "Ask the plan office for a new workbook.",
    ),
    "manifest-unknown-department": Entry(
        "error",
        "このファイルの宛先「{department}」は担当課シートに登録されていません。照会元に確認してください。",
        "This workbook is addressed to '{department}', which is not in the department registry.",
    ),
    "manifest-other-department": Entry(
        "error",
        "このファイルの管理情報は「{department}」あての照会票のものですが、回答シートの行は「{found}」のものです。別の課のファイルのシートを組み合わせずに、自課あてに送付されたファイルに記入して提出してください。",
        "This file's manifest is {department}'s, but the rows of the answer sheet are {found}'s. "
        "Do not combine sheets of different workbooks: fill in the workbook sent to your department.",
    ),
    "send-outcome-unknown": Entry(
        "warning",
        "「{department}」あてのメールは、送信の途中で処理が止まったか接続が切れたため、届いたかどうか分かりません。二重に届かないよう自動では再送しません。届いていなければ、受信者に確認のうえ送り直してください（配布の依頼は xlplan distribute --resend、差し戻し票と督促は下書きのメール（.eml）を送ります）。",
        "The mail ({kind}) to {department} was being sent when the run stopped or the connection broke: it may "
        "or may not have arrived. It is not sent again by itself (so that nobody receives it twice); if it did "
        "not arrive, send it again with --resend.",
    ),
    "text-unsafe-removed": Entry(
        "warning",
        "事業番号 {project_no} の実績内容（{cell}）から、表示されない制御文字など（{characters}）を取り除きました。文章を確認してください。",
        "Project {project_no}: characters that display as nothing or reorder text ({characters}) were removed "
        "from the narrative ({cell}). Please check the text.",
    ),
    "status-not-saved": Entry(
        "warning",
        "回答状況を {path} に保存できませんでした（{reason}）。表示した状況は最新です。",
        "The status could not be saved to {path} ({reason}). The status shown is current.",
    ),
    "review-bad-mark": Entry(
        "warning",
        "確認待ちシートの受付番号 {receipt} の判定「{value}」は読み取れません。「受理」か「却下」を入力してください。",
        "The mark '{value}' for receipt {receipt} on the 確認待ち sheet is not 受理 (accept) or 却下 (reject).",
    ),
    "review-not-found": Entry(
        "error",
        "受付番号 {receipt} の回答は確認待ちではありません（番号を xlplan review で確認してください）。",
        "Receipt {receipt} is not waiting for review (see the numbers with xlplan review).",
    ),
    "review-unknown-department": Entry(
        "error",
        "「{department}」は担当課に登録されていないため、その課の回答として受理できません。担当課シートにある課名を指定してください（コマンドでは --as 課名、状況のページでは「課」の欄）。",
        "'{department}' is not a registered department; name a department of the registry (--as on the command "
        "line, the 課 field on the status page).",
    ),
    "review-other-round": Entry(
        "error",
        "受付番号 {receipt} の回答は、前の回（または前の年度）の照会の間に届いたものです。今回の回答として受理することはできません（却下はできます）。今回の回答用ブックで答えるよう担当課に依頼してください。",
        "Receipt {receipt} arrived during an earlier round (or year); it cannot be accepted as this round's answer "
        "(it can be rejected). Ask the department to answer in this round's workbook.",
    ),
    "review-has-errors": Entry(
        "error",
        "受付番号 {receipt} の回答には、記入内容のエラーが {errors} 件あるため受理できません。担当課に照会元から送付されたファイルで回答し直すよう依頼してください。",
        "Receipt {receipt} has {errors} errors in its cells and cannot be accepted; ask the department to answer "
        "again in the workbook the plan office sent.",
    ),
    "review-newer-return": Entry(
        "warning",
        "受付番号 {receipt} を受理しましたが、「{department}」からはこの回答より後に署名付きの回答が届いています。後の回答への差し戻しはそのまま有効で、課が直して送り返した回答がこの回答に代わります。",
        "Receipt {receipt} was accepted, but {department} sent a signed return after it: the feedback on that later "
        "return still stands, and the corrected return the department sends back will replace this one.",
    ),
    "review-rows-of-other-department": Entry(
        "error",
        "受付番号 {receipt} の回答の行は「{found}」の担当の行です。「{department}」の回答として受理することはできません。その課の回答であれば、課名に「{found}」を指定するか、指定せずに受理してください（課の名称を変えたときは、担当課シートの「旧名称」に前の名称を書きます）。",
        "The rows of receipt {receipt} are those of {found}; it cannot be accepted as {department}'s return. "
        "If it is that department's, accept it as {found} or without naming a department.",
    ),
    "review-would-replace-signed": Entry(
        "error",
        "「{department}」には署名付きの回答がすでに受理されています。受付番号 {receipt} で置き換えるときは --replace を付けてください。",
        "{department} already has an accepted return with a valid signature; add --replace to replace it with "
        "receipt {receipt}.",
    ),
    "sender-not-registered": Entry(
        "warning",
        "このファイルを送ったメールの差出人 {sender} は、「{department}」の登録アドレス（{registered}）ではありません。別の人が記入・送付した可能性があります。内容を確認してください。",
        "The mail that brought this file came from {sender}, not from {department}'s registered address "
        "({registered}). Someone else may have filled it in or sent it; please check.",
    ),
    "return-matched-by-content": Entry(
        "warning",
        "このファイルには有効な管理情報（署名付きの非表示シート）がないため、提出元を証明できません。回答する課と事業番号からは「{department}」の回答と見られます。照会元が確認して受理するまで（xlplan review）、受理も差し戻しもしません。",
        "This file has no valid (signed) manifest, so nothing proves who sent it. Its departments and project "
        "numbers suggest {department}'s return. It is neither accepted nor sent back until the plan office "
        "decides (xlplan review).",
    ),
    "unidentified-file": Entry(
        "error",
        "このファイルがどの課の回答か判断できません（管理情報がなく、回答する課・事業番号からも特定できません）。照会元から送付されたファイルに記入して提出してください。",
        "Cannot tell which department this file answers for (no manifest, and the departments and project "
        "numbers in it do not identify one). Fill in the workbook the plan office sent.",
    ),
    "response-sheet-missing": Entry(
        "error",
        "このファイルには回答シート「{expected}」がありません。シートを削除・名前変更せずに提出してください。",
        "This file has no answer sheet '{expected}'. Do not delete or rename sheets.",
    ),
    "cells-outside-form": Entry(
        "warning",
        "返送されたファイルの回答欄の外のセル（{cells}）に入力があります（「{text}」）。この内容は読み取らず、集約表にも載りません。"
        "伝えたいことは今年度の実績内容の欄に書いてください。",
        "Cells outside the form in the returned file ({cells}) hold something ('{text}'). It is not read and not published; put what "
        "you want to say in this year's narrative.",
    ),
    "columns-changed": Entry(
        "warning",
        "回答シートの見出し（{headers}）が送付時と異なるため、送付時の列の位置で読み取りました。列の追加・削除や見出しの変更はしないでください。",
        "The answer sheet's headers ({headers}) differ from those sent, so the columns were read at their "
        "issued positions. Do not insert, delete or rename columns.",
    ),
    "row-reassigned": Entry(
        "warning",
        "事業番号 {project_no}（担当課「{entry}」、{member}）は、{answering}に配布した後に計画マスタで担当が変わったため、"
        "この行の回答は読み取っていません。新しい担当課に配布し直してください（{answering}に直してもらうことはありません）。",
        "Project {project_no} (entry '{entry}', {member}) was given to another department in the master after "
        "{answering}'s workbook went out; this row's answer was not read. Distribute to the new department "
        "(nothing for {answering} to correct).",
    ),
    "row-not-assigned": Entry(
        "error",
        "事業番号 {project_no}（担当課「{entry}」、{member}）は{answering}の担当ではないため、この行は読み取っていません。自課の行だけを記入してください。",
        "Project {project_no} (entry '{entry}', {member}) is not {answering}'s; the row was not read. "
        "Fill in your own rows only.",
    ),
    "row-missing": Entry(
        "error",
        "事業番号 {project_no}（担当課「{entry}」、{member}）の行（行ID {row_id}）が見つかりません。行を削除した場合は、照会元から送付されたファイルの行を元に戻して記入してください。",
        "The row of project {project_no} (entry '{entry}', {member}; row id {row_id}) is missing. "
        "Restore the deleted row from the workbook sent and fill it in.",
    ),
    "row-duplicate": Entry(
        "error",
        "行ID {row_id}（事業番号 {project_no}）の行が{count}行あります（{cells}）。どれが回答か判断できないため、1行だけを残してください。",
        "Row id {row_id} (project {project_no}) appears {count} times ({cells}); keep exactly one row.",
    ),
    "rows-moved": Entry(
        "warning",
        "回答シートで行の挿入・削除・並べ替えがあり、{count}行の位置が送付時と変わっています（例: 事業番号 {project_no} の行が{issued}行目から{found}行目へ）。行IDで読み取ったため回答には影響しませんが、行は変更しないでください。",
        "Rows were inserted, deleted or reordered: {count} rows are not where they were sent (e.g. project "
        "{project_no} moved from row {issued} to row {found}). They were read by row id; please do not change rows.",
    ),
    "row-extra": Entry(
        "warning",
        "{cell} の行（{sheet}シート {row}行目）は照会した行ではないため読み取っていません。回答は送付された行の黄色のセルに記入してください。",
        "Row {row} of sheet {sheet} ({cell}) is not a row that was sent and was not read. "
        "Answer in the yellow cells of the rows sent.",
    ),
    "external-link": Entry(
        "error",
        "このファイルには外部のファイルやプログラムへのリンク（{targets}）が含まれています。リンクや他のファイルを参照する数式を削除し、値だけを入力して提出してください。",
        "This file links to other files or programs ({targets}). Remove the links and formulas referring to "
        "other files; enter values only.",
    ),
    # Checks (xlplan.collection.check): the cells of each row, against the schema and the semantic rules.
    "return-schema-invalid": Entry(
        "error",
        "{where}「{header}」の内容は受け付けられません。{reason}",
        "{where}'{header}' is not accepted: {reason}",
    ),
    "value-missing": Entry(
        "error",
        "事業番号 {project_no}（{member}）の今年度の値（{cell}）が入力されていません。値を入力してください（実施しなかった場合は ×、該当なしは — を入力します）。",
        "Project {project_no} ({member}): this year's value ({cell}) is empty. Enter a value "
        "(× if not carried out, — if not applicable).",
    ),
    "value-unit-mismatch": Entry(
        "error",
        "事業番号 {project_no} の今年度の値「{value}」の単位が違います。単位は「{unit}」です。数字だけを入力してください。",
        "Project {project_no}: this year's value '{value}' has the wrong unit; the unit is '{unit}'. "
        "Enter the number only.",
    ),
    "value-unexpected-unit": Entry(
        "error",
        "事業番号 {project_no} の今年度の値「{value}」に単位「{typed_unit}」が付いていますが、この数値目標には単位がありません。数字だけを入力してください。",
        "Project {project_no}: this year's value '{value}' has a unit ('{typed_unit}') but the indicator has none. "
        "Enter the number only.",
    ),
    "value-too-precise": Entry(
        "error",
        "事業番号 {project_no} の今年度の値「{value}」は桁が多すぎます。Excel が正しく扱えるのは 15 桁までのため、15 桁以内に丸めて入力してください。",
        "Project {project_no}: this year's value '{value}' has too many digits. Excel keeps 15 significant digits; "
        "round it to 15 or fewer.",
    ),
    "value-not-a-number": Entry(
        "error",
        "事業番号 {project_no} の今年度の値「{value}」は数値として読み取れません。数字だけを半角で入力してください（単位「{unit}」は付けません）。実施しなかった場合は ×、該当なしは — を入力します。説明は実績内容の欄に記入してください。",
        "Project {project_no}: this year's value '{value}' is not a number. Enter digits only (without the unit "
        "'{unit}'), or × / —. Put explanations in the narrative.",
    ),
    "value-not-a-mark": Entry(
        "error",
        "事業番号 {project_no} の今年度の値「{value}」は入力できません。この事業は数値目標がないため、○（実施した）・×（実施しなかった）・—（該当なし）のいずれかを選んでください。",
        "Project {project_no}: this year's value '{value}' is not accepted. This project has no numeric "
        "indicator: choose ○ (done), × (not done) or — (not applicable).",
    ),
    "value-not-whole": Entry(
        "error",
        "事業番号 {project_no} の今年度の値「{value}」は整数ではありません。単位「{unit}」で数える値なので、整数で入力してください。",
        "Project {project_no}: this year's value '{value}' is not a whole number; '{unit}' is counted in whole numbers.",
    ),
    "value-out-of-range": Entry(
        "error",
        "事業番号 {project_no} の今年度の値「{value}」は範囲外です。{range}の数値を入力してください。",
        "Project {project_no}: this year's value '{value}' is out of range; enter {range}.",
    ),
    "value-mark-variant": Entry(
        "warning",
        "事業番号 {project_no} の今年度の値「{value}」を記号「{mark}」として読み取りました。次回からは ▼ のリストから選んでください。",
        "Project {project_no}: this year's value '{value}' was read as the mark '{mark}'. Choose from the ▼ list next time.",
    ),
    "value-percent-sign": Entry(
        "warning",
        "事業番号 {project_no} の今年度の値は「%」を付けて入力されたため、「{read}」として読み取りました（セルの表示は「{shown}」）。正しいか確認してください。",
        "Project {project_no}: this year's value was typed with a % sign and was read as '{read}' (the cell showed '{shown}'). Please check it.",
    ),
    "value-normalised": Entry(
        "warning",
        "事業番号 {project_no} の今年度の値「{value}」を{read}として読み取りました（{what}）。正しいか確認してください。次回からは数字だけを半角で入力してください。",
        "Project {project_no}: this year's value '{value}' was read as {read} ({what}). Please check it; "
        "next time enter digits only.",
    ),
    "value-huge-change": Entry(
        "warning",
        "事業番号 {project_no} の今年度の値 {value} は前年度（{previous}）の100倍以上です。日付（2019/4/1 など）や桁の誤りでないか確かめ、正しい値を入力してください。",
        "Project {project_no}: this year's value {value} is a hundred times last year's ({previous}) or more. Check that "
        "no date (such as 2019/4/1) or extra digits were typed.",
    ),
    "value-large-change": Entry(
        "warning",
        "事業番号 {project_no} の今年度の値 {value} は前年度（{previous}）から大きく変わっていますが、実績内容に説明がありません。理由を実績内容に記入してください。",
        "Project {project_no}: this year's value {value} differs greatly from last year's ({previous}) and the "
        "narrative gives no explanation. Explain the change in the narrative.",
    ),
    "narrative-missing": Entry(
        "warning",
        "事業番号 {project_no}（{member}）の今年度の実績内容（{cell}）が入力されていません。取り組みの内容を記入してください（記入することがない場合はそのままで構いません）。",
        "Project {project_no} ({member}): this year's narrative ({cell}) is empty. Describe what was done "
        "(leave it empty only if there is nothing to report).",
    ),
    "narrative-too-long": Entry(
        "error",
        "事業番号 {project_no} の今年度の実績内容（{cell}）が{length:,}字あり、上限の{limit:,}字を超えています。{limit:,}字以内に短くしてください。",
        "Project {project_no}: this year's narrative ({cell}) has {length:,} characters, over the limit of "
        "{limit:,}. Shorten it.",
    ),
    "narrative-copied": Entry(
        "warning",
        "事業番号 {project_no} の今年度の実績内容が{year}の実績内容と同じです。今年度の取り組みを記入してください。",
        "Project {project_no}: this year's narrative is the same as that of {year}. Describe this year's work.",
    ),
    "value-breaks-trend": Entry(
        "warning",
        "事業番号 {project_no} の今年度の値 {value} は、これまでの値（{series}）の傾向から外れていますが、"
        "実績内容に説明がありません。理由を実績内容に記入してください。",
        "Project {project_no}: this year's value {value} breaks the trend of the earlier values ({series}) and "
        "the narrative gives no explanation. Explain the change in the narrative.",
    ),
    "narrative-unchanged": Entry(
        "warning",
        "事業番号 {project_no} の今年度の実績内容が前年度の実績内容と同じです。今年度の取り組みを記入してください。",
        "Project {project_no}: this year's narrative is the same as last year's. Describe this year's work.",
    ),
    "prefilled-changed": Entry(
        "error",
        "事業番号 {project_no} の灰色のセル「{header}」（{cell}）が変更されています。灰色のセルは変更できません。元の内容「{expected}」に戻してください。",
        "Project {project_no}: the grey cell '{header}' ({cell}) was changed. Grey cells must not be changed; "
        "restore '{expected}'.",
    ),
    "prefilled-row-changed": Entry(
        "error",
        "事業番号 {project_no} の行（行ID {row_id}）で灰色のセルが変更されています。灰色のセルは変更できません。照会元から送付された内容に戻してください。",
        "Project {project_no} (row id {row_id}): a grey cell was changed. Grey cells must not be changed; "
        "restore what was sent.",
    ),
    "formula-in-input": Entry(
        "warning",
        "事業番号 {project_no} の「{header}」（{cell}）に数式「={formula}」が入力されています。計算結果「{value}」を回答として読み取りました。次回からは数式ではなく値を入力してください。",
        "Project {project_no}: '{header}' ({cell}) holds the formula '={formula}'; its result '{value}' was read. "
        "Enter values, not formulas.",
    ),
    "formula-no-value": Entry(
        "error",
        "事業番号 {project_no} の「{header}」（{cell}）の数式「={formula}」の計算結果がファイルに保存されていません。数式ではなく値を入力してください。",
        "Project {project_no}: the formula '={formula}' in '{header}' ({cell}) has no saved result. Enter a value instead.",
    ),
    "formula-dangerous": Entry(
        "error",
        "事業番号 {project_no} の「{header}」（{cell}）の数式「={formula}」は、外部のファイル・Webサイト・プログラムを参照するため受け付けられません（{reason}）。数式を削除し、文字や数値をそのまま入力してください。",
        "Project {project_no}: the formula '={formula}' in '{header}' ({cell}) refers to other files, web sites "
        "or programs ({reason}) and is not accepted. Delete it and type the text or number itself.",
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
    # --- collect: intake and reading ----------------------------------------------------
    "file-empty": Entry(
        "error",
        "ファイルが空です（0 バイト）。保存か送信が途中で止まった可能性があります。記入した回答票を Excel で開いて保存し直し、もう一度送ってください。",
        "The file is empty (0 bytes); saving or sending may have been interrupted. Open the filled-in form in Excel, save it again and send it again.",
    ),
    "file-too-large": Entry(
        "error",
        "ファイルが大きすぎます（{size} MB、上限 {limit} MB）。回答票に画像や不要なシートを追加していないか確認し、削除して保存し直してから、もう一度送ってください。",
        "The file is too large ({size} MB; the limit is {limit} MB). Remove added pictures or sheets, save again and send it again.",
    ),
    "file-encrypted": Entry(
        "error",
        "パスワード付きのファイルは読めません。Excel で開き、「ファイル」→「情報」→「ブックの保護」→「パスワードを使用して暗号化」でパスワードを消して（空欄にして）保存し直し、もう一度送ってください。",
        "Password-protected files cannot be read. In Excel, File > Info > Protect Workbook > Encrypt with Password: clear the password, save, and send the file again.",
    ),
    "file-xls": Entry(
        "error",
        "Excel 97-2003 形式（.xls）のファイルは読めません。送付した回答票（.xlsx）に記入するか、Excel の「名前を付けて保存」でファイルの種類に「Excel ブック (*.xlsx)」を選んで保存し直し、もう一度送ってください。",
        "Excel 97-2003 files (.xls) cannot be read. Fill in the form that was sent (.xlsx), or use Save As > 'Excel Workbook (*.xlsx)', and send it again.",
    ),
    "file-xlsb": Entry(
        "error",
        "Excel バイナリ ブック形式（.xlsb）のファイルは読めません。Excel の「名前を付けて保存」でファイルの種類に「Excel ブック (*.xlsx)」を選んで保存し直し、もう一度送ってください。",
        "Excel Binary Workbooks (.xlsb) cannot be read. Use Save As > 'Excel Workbook (*.xlsx)' and send the file again.",
    ),
    "file-xls-old": Entry(
        "error",
        "Excel 2.x〜4.0 形式（.xls）の古いファイルは読めません。送付した回答票（.xlsx）に記入するか、Excel の「名前を付けて保存」でファイルの種類に「Excel ブック (*.xlsx)」を選んで保存し直し、もう一度送ってください。",
        "Excel 2.x–4.0 worksheets (.xls) cannot be read. Fill in the form that was sent (.xlsx), or use Save As > 'Excel Workbook (*.xlsx)', and send it again.",
    ),
    "file-ods": Entry(
        "error",
        "OpenDocument スプレッドシート形式（.ods・.fods）のファイルは読めません。送付した回答票（.xlsx）に記入するか、「名前を付けて保存」でファイルの種類に「Excel 2007-365 (.xlsx)」または「Excel ブック (*.xlsx)」を選んで保存し直し、もう一度送ってください。",
        "OpenDocument spreadsheets (.ods, .fods) cannot be read. Fill in the form that was sent (.xlsx), or save as 'Excel 2007-365 (.xlsx)', and send it again.",
    ),
    "file-html": Entry(
        "error",
        "このファイルは Excel ブックではなく、Web ページ（HTML）形式です。送付した回答票（.xlsx）に記入し、「Excel ブック (*.xlsx)」のまま保存して、もう一度送ってください。",
        "This file is a web page (HTML), not an Excel workbook. Fill in the form that was sent (.xlsx), keep it as 'Excel Workbook (*.xlsx)', and send it again.",
    ),
    "file-xml-spreadsheet": Entry(
        "error",
        "このファイルは「XML スプレッドシート 2003」形式で、読めません。Excel の「名前を付けて保存」でファイルの種類に「Excel ブック (*.xlsx)」を選んで保存し直し、もう一度送ってください。",
        "This file is an 'XML Spreadsheet 2003' and cannot be read. Use Save As > 'Excel Workbook (*.xlsx)' and send it again.",
    ),
    "file-text": Entry(
        "error",
        "このファイルは Excel ブックではなく、CSV またはテキスト形式です。送付した回答票（.xlsx）に記入し、「Excel ブック (*.xlsx)」のまま保存して、もう一度送ってください。",
        "This file is CSV or plain text, not an Excel workbook. Fill in the form that was sent (.xlsx), keep it as 'Excel Workbook (*.xlsx)', and send it again.",
    ),
    "file-not-workbook": Entry(
        "error",
        "このファイルは Excel ブック（.xlsx）ではありません（{kind}）。送付した回答票（.xlsx）に記入して、もう一度送ってください。",
        "This file is not an Excel workbook (.xlsx) ({kind}). Fill in the form that was sent (.xlsx) and send it again.",
    ),
    "file-damaged": Entry(
        "error",
        "ファイルが壊れているか、途中までしか保存・送信されていません。記入した回答票を Excel で開いて保存し直し、もう一度送ってください。開けない場合は、送付した回答票に記入し直してください。",
        "The file is damaged or incomplete. Open the filled-in form in Excel, save it again and send it again; if it does not open, fill in the form that was sent again.",
    ),
    "file-zip-bomb": Entry(
        "error",
        "ファイルの中身が通常の回答票と比べて異常に大きいため、安全のため読み取りませんでした。送付した回答票に記入し、Excel で保存したファイルをもう一度送ってください。",
        "The file's contents are abnormally large for a returned form and were not read, for safety. Fill in the form that was sent, save it in Excel and send it again.",
    ),
    "file-xml-unsafe": Entry(
        "error",
        "ファイルの内部（{part}）に、Excel が作らない定義（DTD）が含まれているため、安全のため読み取りませんでした。送付した回答票に記入し、Excel で保存したファイルをもう一度送ってください。",
        "Part {part} of the file contains a DTD, which Excel never writes; the file was not read, for safety. Fill in the form that was sent, save it in Excel and send it again.",
    ),
    "file-no-sheets": Entry(
        "error",
        "ブックにシートが1つもありません。送付した回答票に記入して、もう一度送ってください。",
        "The workbook has no sheets. Fill in the form that was sent and send it again.",
    ),
    "file-workbook-unreadable": Entry(
        "error",
        "ブックの中身を読み取れませんでした。記入した回答票を Excel で開いて「Excel ブック (*.xlsx)」で保存し直し、もう一度送ってください。",
        "The workbook could not be read. Open the filled-in form in Excel, save it as 'Excel Workbook (*.xlsx)' and send it again.",
    ),
    "file-read-timeout": Entry(
        "error",
        "ファイルの読み取りが制限時間（{seconds} 秒）内に終わらなかったため中断しました。記入した回答票を Excel で開いて保存し直し、もう一度送ってください。",
        "Reading the file did not finish within {seconds} seconds and was stopped. Open the filled-in form in Excel, save it again and send it again.",
    ),
    "check-failed": Entry(
        "error",
        "「{name}」を確認している途中で xlplan の内部エラーが起きたため、今回は確認していません（{detail}）。ファイルは保管してあり、次に回収を実行したときにもう一度確認します。続けて起きる場合は、このメッセージを添えてシステムの担当者に連絡してください。",
        "An internal error of xlplan stopped the check of '{name}', which was not checked this time ({detail}). The file is archived and will be checked again by the next collection. If it happens again, send this message to whoever maintains the system.",
    ),
    "return-superseded": Entry(
        "warning",
        "「{name}」は{department}の回答ですが、後から届いた同じ課の回答をすでに確認しているため、採用しません（後の回答が有効です）。",
        "'{name}' is a return of {department}, but a later return of the department has been checked already: this one is not used (the later one stands).",
    ),
    "return-after-acceptance": Entry(
        "warning",
        "{department}の回答は、{accepted_on}に受け付けた「{accepted}」を受理しており、それが有効なままです。"
        "後から届いたこの「{name}」には誤りがあるため、反映していません。回答を変える場合だけ、"
        "差し戻し票のとおりに直して送ってください。変えない場合は、何もしなくてかまいません。",
        "{department}'s return '{accepted}', received {accepted_on}, is accepted and still stands. This later "
        "file '{name}' has errors and is not used. Only to change the answers, correct it as marked and send it "
        "again; otherwise nothing needs doing.",
    ),
    "feedback-owed-other-round": Entry(
        "warning",
        "{department}あての差し戻し票（「{name}」への回答）は、前の回または前の年度の照会のものなので作りません。いまの照会で配布したブックで回答してもらってください。",
        "The feedback for {department} on '{name}' belongs to an earlier round or year and is not made; the department "
        "answers in the workbook of the current round.",
    ),
    "feedback-pending": Entry(
        "warning",
        "{department}あての差し戻し票を、今回は作れませんでした（保管した「{name}」をもう一度確認できませんでした）。次に回収を実行したときにもう一度作ります。",
        "The feedback workbook for {department} could not be made this time (the archived '{name}' could not be checked again). The next collection makes it.",
    ),
    "file-read-retry": Entry(
        "warning",
        "「{name}」の読み取りが途中で止まったため（{reason}）、今回は確認していません。コンピューターが混み合っていたためかもしれません。ファイルは保管してあり、次に回収を実行したときにもう一度読み取ります（{attempt} 回目 / 最大 {attempts} 回）。",
        "Reading '{name}' stopped before it finished ({reason}) and it was not checked this time; the machine may have been busy. The file is archived and will be read again by the next collection (attempt {attempt} of at most {attempts}).",
    ),
    "file-read-crashed": Entry(
        "error",
        "ファイルを読み取る処理が異常終了しました。記入した回答票を Excel で開いて「Excel ブック (*.xlsx)」で保存し直し、もう一度送ってください。ほかのファイルの処理は続けています。",
        "The process reading the file ended abnormally. Open the filled-in form in Excel, save it as 'Excel Workbook (*.xlsx)' and send it again. The other files were processed.",
    ),
    "sheet-truncated": Entry(
        "warning",
        "シート「{sheet}」の {last} など、回答の範囲（{rows} 行・{columns} 列）より外にある入力は読み取っていません。回答は送付した行の黄色のセルに記入してください。",
        "Entries outside the answer area ({rows} rows, {columns} columns) of sheet '{sheet}', such as {last}, were not read. Enter answers in the yellow cells of the rows sent.",
    ),
    "duplicate-of-replaced": Entry(
        "warning",
        "「{name}」は、前に届いて後の回答に置き換わった「{first}」と内容がまったく同じです。受理しているのは後の回答のままです。"
        "前の内容に戻すときは、担当課にブックを開いて保存し直してから送ってもらってください（同じ内容のファイルは取り込み直しません）。",
        "'{name}' has the same content as '{first}', which a later return replaced; the later return stays accepted. "
        "To go back to it, ask the department to open, save and send the workbook again (identical files are not taken twice).",
    ),
    "duplicate-file": Entry(
        "warning",
        "「{name}」は受信済みのファイル「{first}」と内容がまったく同じため、重複として記録しました（検証は1回だけ行います）。",
        "'{name}' has exactly the same content as '{first}', received before; it was recorded as a duplicate and is checked only once.",
    ),
    "file-busy": Entry(
        "warning",
        "「{name}」は書き込み中か、ほかのプログラム（Excel など）で開かれているため、今回は取り込みませんでした（{why}）。ファイルを閉じてから、もう一度回収してください。",
        "'{name}' is being written or is open in another program (Excel?) and was not taken in this time ({why}). Close it and collect again.",
    ),
    "inbox-link": Entry(
        "warning",
        "受信フォルダの「{name}」はリンク（ショートカットやシンボリックリンク）のため、開かずに残しました。回答はファイルそのものを置いてください。",
        "'{name}' in the inbox is a link (a shortcut or symbolic link); it was not opened. Put the file itself there.",
    ),
    "inbox-not-a-file": Entry(
        "warning",
        "受信フォルダの「{name}」は通常のファイルではない（名前付きパイプや装置など）ため、開かずに残しました。サーバー管理者に確認してください。",
        "'{name}' in the inbox is not a regular file (a named pipe, a device …); it was not opened. Ask the server admin.",
    ),
    "inbox-too-large": Entry(
        "error",
        "受信フォルダの「{name}」は大きすぎるため（{size} MB、上限 {limit} MB）、読み込まずに残しました。回答票に画像や不要なシートを追加していないか担当課に確認してください。",
        "'{name}' in the inbox is too large ({size} MB; the limit is {limit} MB) and was not read. Ask the department whether pictures or sheets were added.",
    ),
    "eml-attachment-unreadable": Entry(
        "warning",
        "メール「{name}」の添付ファイルのうち {count} 件は、見出しが壊れていて取り出せませんでした。メールは保管しました。担当課に Excel ファイルを添付し直して送ってもらってください。",
        "{count} attachment(s) of mail '{name}' could not be taken out (damaged headers). The mail was archived; ask the department to attach the Excel file again and resend.",
    ),
    "eml-forwarded-original": Entry(
        "warning",
        "メール「{name}」に転送で添付されていた、こちらから送ったままのブック（{files}）は回答として扱いませんでした（送ったブックと中身が同じです）。このメールで受け取った回答は {answered} 件です。",
        "Mail '{name}' forwards the office's own mail: its workbook(s) as sent ({files}) were not taken as returns. "
        "Returns taken from this mail: {answered}.",
    ),
    "eml-wrapped-tnef": Entry(
        "warning",
        "メール「{name}」は Outlook のリッチテキスト形式で送られたため、添付ファイルが {part} にまとめられていて取り出せません。メールは保管しました。担当課に、HTML 形式かテキスト形式でメールを送り直してもらってください。",
        "Mail '{name}' was sent in Outlook's rich text format: its attachments are inside {part} and cannot be taken "
        "out. The mail was archived; ask the department to send it again as HTML or plain text.",
    ),
    "eml-wrapped-smime": Entry(
        "warning",
        "メール「{name}」は暗号化（または署名）されたメール（S/MIME、{part}）のため、添付ファイルを取り出せません。メールは保管しました。担当課に、暗号化せずに送り直してもらってください。",
        "Mail '{name}' is encrypted or signed as a whole (S/MIME, {part}): its attachments cannot be taken out. "
        "The mail was archived; ask the department to send it again unencrypted.",
    ),
    "eml-wrapped-zip": Entry(
        "warning",
        "メール「{name}」の添付は ZIP ファイル（{part}）のため、回答として取り込んでいません（パスワード付きの ZIP は開けません）。メールは保管しました。担当課に、Excel ファイルをそのまま添付して送り直してもらってください。",
        "Mail '{name}' carries a ZIP file ({part}), which is not taken in as a return (a password-protected ZIP "
        "cannot be opened). The mail was archived; ask the department to attach the Excel file itself.",
    ),
    "eml-no-workbook": Entry(
        "warning",
        "メール「{name}」に Excel ファイルが添付されていません。メールは保管しました。担当課に添付を確認してください。",
        "Mail '{name}' has no Excel attachment. The mail was archived; ask the department about the attachment.",
    ),
    "archive-write-failed": Entry(
        "error",
        "「{name}」を保管フォルダ {path} に保存できなかったため、取り込んでいません（{why}）。フォルダの空き容量と書き込み権限を確認してから、もう一度回収してください。",
        "'{name}' could not be stored in the archive {path} and was not taken in ({why}). Check the folder's free space and permissions, then collect again.",
    ),
    "environment-failed": Entry(
        "error",
        "{path} を読み書きできなかったため、処理を止めました（{why}）。ディスクの空き容量とフォルダの書き込み権限を確認してから、もう一度実行してください。途中まで書いたファイルは残していません。",
        "Stopped: {path} could not be read or written ({why}). Check the free disk space and the folder's "
        "permissions, then run again. No half-written file was left.",
    ),
    "ledger-unavailable": Entry(
        "error",
        "台帳 {path} を読み書きできませんでした（{why}）。ディスクの空き容量、フォルダの書き込み権限、ほかの処理が台帳を使っていないかを確認してから、もう一度実行してください。作業の途中の状態は失われていません。",
        "The ledger {path} could not be read or written ({why}). Check the free disk space, the folder's permissions and whether another run is using it, then run again. Nothing half-done was lost.",
    ),
    "collect-busy": Entry(
        "error",
        "別の処理（回収・配布・督促・次年度へなど）が実行中です（{lock}）。終わってからもう一度実行してください。",
        "Another run (collect, distribute, remind, rollover …) is in progress ({lock}). Run again when it has finished.",
    ),
    "file-is-folder": Entry(
        "error",
        "{path} はフォルダです。検証するファイル（.xlsx）を指定してください（フォルダの中のすべてなら {path}/*.xlsx）。",
        "{path} is a folder; name the files (.xlsx) to check (all of them: {path}/*.xlsx).",
    ),
    "file-not-found": Entry(
        "error",
        "ファイル {path} が見つかりません。ファイル名と場所を確認してください。",
        "File {path} not found. Check its name and folder.",
    ),
    # --- consolidate ---------------------------------------------------------------------
    "consolidate-previous-incomplete": Entry(
        "warning",
        "事業番号 {no}（{entry}）の{year}の値は、課ごとの内訳のうち {departments} の分が履歴にないため、ある分だけを合わせて表示しています。",
        "Project {no} ({entry}): {year}'s value combines the shares kept in the history; those of {departments} are missing.",
    ),
    "consolidate-missing-answer": Entry(
        "warning",
        "事業 {no}（{entry}）: {departments} の回答がありません。集約表には届いた回答の分だけを載せています。",
        "Project {no} ({entry}): no answer from {departments}; the table shows only the answers received.",
    ),
    "opendata-no-municipality-code": Entry(
        "warning",
        "設定シートに「団体コード」（全国地方公共団体コード、6桁）がないため、オープンデータ {path} の「全国地方公共団体コード」の列が空欄です。"
        "公開する前に設定シートに団体コードを入力し、集約し直してください。",
        "The 設定 sheet has no 団体コード (the 6-digit local government code): the 全国地方公共団体コード column of "
        "{path} is empty. Enter it and consolidate again before publishing.",
    ),
    "consolidate-value-too-wide": Entry(
        "warning",
        "事業 {no}（{entry}）の値「{value}」は列の幅に収まらないため、集約表と PDF では「###」と表示されます。"
        "小数の桁が多すぎないか（計算した値をそのまま貼り付けていないか）担当課に確かめ、回答を直してもらうか、列の幅を広げてください。",
        "Project {no} ({entry}): the value '{value}' is too wide for its column and shows as ### in the table and "
        "the PDF. Ask the department whether it has too many decimals (a pasted computation), or widen the column.",
    ),
    "consolidate-unit-conflict": Entry(
        "warning",
        "事業 {no}（{entry}）: 単位の異なる値（{units}）は合計できないため、実績値を空欄にしました。",
        "Project {no} ({entry}): values in different units ({units}) cannot be added; the value is left blank.",
    ),
    "consolidate-rates-differ": Entry(
        "warning",
        "事業 {no}（{entry}）: 共同で担当する課の割合が違う（{rates}）ため、実績値を空欄にしました（割合は足し合わせません）。"
        "各課に確かめて、計画マスタの履歴に今年度の値を入力するか、回答を直してもらってください。",
        "Project {no} ({entry}): the departments sharing it gave different rates ({rates}), which are not added up; "
        "the value is left blank. Ask them, then type this year's value into the master or have the returns corrected.",
    ),
    "consolidate-unknown-answer": Entry(
        "warning",
        "事業 {no}・担当課「{entry}」（{department}）の回答は計画にない行のため、集約表に使いませんでした。",
        "The answer for project {no}, entry '{entry}' ({department}) matches no row of the plan and was not used.",
    ),
    "consolidate-stale-output": Entry(
        "warning",
        "{path} は前回の集約で作ったもので、今回は作り直していません（今回の集約表と内容が違うことがあります）。公表する前に、同じ形式も作るよう指定して集約し直すか、このファイルを削除してください。",
        "{path} is from an earlier consolidation and was not made again this time (it may differ from this table). "
        "Consolidate again asking for it, or delete it, before publishing.",
    ),
    "consolidate-text-clipped": Entry(
        "warning",
        "事業 {no}（{entry}）の実績内容は長すぎて、集約表（Excel・PDF）のセルには {shown} 行目までしか表示されません"
        "（全体で約 {lines} 行。Excel の行の高さの上限のため）。実績内容を短くしてください。CSV と HTML には全文があります。",
        "Project {no} ({entry}): the narrative is too long for its row; the table (Excel, PDF) shows only its first "
        "{shown} lines of about {lines} (Excel's row height limit). Shorten it; the CSV and HTML hold all of it.",
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
        "{path} を書き出せませんでした（{why}）。",
        "Could not write {path} ({why}).",
    ),
    "pdf-unavailable": Entry(
        "warning",
        'PDF は作成しませんでした。PDF の作成には LibreOffice（https://ja.libreoffice.org/ から入手）をインストールするか、Windows では Excel と xlwings（pip install "xlplan[excel]"）が必要です。PDF のほかのファイルは作成済みです。',
        "No PDF was made: install LibreOffice (https://www.libreoffice.org/), or on Windows Excel with xlwings "
        '(pip install "xlplan[excel]"). The other files were made.',
    ),
    "pdf-failed": Entry(
        "warning",
        "PDF の作成に失敗しました（{tool}: {reason}）。PDF のほかのファイルは作成済みです。",
        "Making the PDF failed ({tool}: {reason}). The other files were made.",
    ),
}


PHRASES: dict[str, Text] = {
    # --- what a file that is not a workbook is (file-not-workbook) --------------------------
    "kind-word": Text("Word の文書", "a Word document"),
    "kind-word-97": Text("Word 97-2003 の文書", "a Word 97-2003 document"),
    "kind-powerpoint": Text("PowerPoint のファイル", "a PowerPoint file"),
    "kind-zip": Text("Excel のブックではない ZIP ファイル", "a ZIP file that is not a workbook"),
    "kind-ole": Text("Excel 以外の古い形式の Office 文書", "an older Office document that is not a workbook"),
    "kind-pdf": Text("PDF", "a PDF"),
    "kind-binary": Text("種類の分からないファイル", "a file of unknown type"),
    # --- why the system refused a file operation (xlplan.findings.os_reason) -------------------
    "os-no-space": Text("ディスクの空き容量が足りません", "no space left on the disk"),
    "os-permission": Text("その場所に読み書きする権限がありません", "permission denied"),
    "os-read-only": Text("読み取り専用の場所です", "the location is read-only"),
    "os-exists": Text("同じ名前のファイルかフォルダがすでにあります", "a file or folder of that name exists"),
    "os-not-found": Text("ファイルかフォルダが見つかりません", "no such file or folder"),
    "os-in-use": Text("ほかのプログラム（Excel など）が使用中です", "another program (Excel …) is using it"),
    "os-cannot-open": Text(
        "ファイルを開けません（フォルダがないか、権限がありません）",
        "the file cannot be opened (no folder, or no permission)",
    ),
    "os-name-too-long": Text("名前が長すぎます", "the name is too long"),
    "os-is-folder": Text("ファイルではなくフォルダです", "it is a folder, not a file"),
    "os-not-folder": Text("途中の名前がフォルダではありません", "a part of the path is not a folder"),
    "os-io": Text("ディスクの読み書きに失敗しました", "the disk could not be read or written"),
    "names-exhausted": Text(
        "同じ名前のファイルが多すぎて、新しい名前を付けられません", "too many files of the same name"
    ),
    # --- why a file of the inbox is taken later (file-busy) -----------------------------------
    "busy-open": Text(
        "Excel または LibreOffice で開かれています（{lock}）", "it is open in Excel or LibreOffice ({lock})"
    ),
    "busy-changed": Text(
        "読み取っている間にファイルが変わりました（コピー中かもしれません）",
        "the file changed while it was read (it may still be being copied)",
    ),
    # --- why a reading stopped, to be tried again (file-read-retry) ---------------------------
    "stopped-timeout": Text("制限時間の {seconds} 秒を過ぎました", "it took longer than {seconds} seconds"),
    "stopped-crashed": Text("読み取りの処理が異常終了しました", "the reading process ended abnormally"),
    # --- what the return schema refused, by the keyword that failed (xlplan.collection.check) ----
    "reason-type": Text("{allowed}のいずれかを入力してください。", "expected {allowed}."),
    "json-string": Text("文字", "text"),
    "json-number": Text("数値", "a number"),
    "json-integer": Text("整数", "a whole number"),
    "json-null": Text("空欄", "blank"),
    "json-object": Text("表", "a table"),
    "json-array": Text("一覧", "a list"),
    "json-boolean": Text("TRUE/FALSE", "TRUE/FALSE"),
    "reason-max-length": Text("{limit:,}字以内で入力してください。", "longer than {limit:,} characters."),
    "reason-min-length": Text("空の文字列は入力できません。", "empty text."),
    "reason-pattern": Text("形式が違います。元の内容に戻してください。", "does not match {pattern}."),
    "reason-minimum": Text("{limit}以上の値にしてください。", "less than {limit}."),
    "reason-maximum": Text("{limit}以下の値にしてください。", "greater than {limit}."),
    "reason-required": Text("必要な項目がありません。", "a required field is missing."),
    "reason-additional": Text("不明な項目があります。", "unknown fields."),
    "reason-other": Text("形式が違います。", "fails '{keyword}'."),
    "at-project": Text("事業番号 {project_no} の", "Project {project_no}: "),
    "at-document": Text("", ""),
    "whole-document": Text("（全体）", "(the whole return)"),
    # --- ranges of a value cell ------------------------------------------------------------
    "range-between": Text("{low}〜{high}", "a number from {low} to {high}"),
    "range-at-least": Text("{low}以上", "a number of {low} or more"),
    # --- what reading a value changed ----------------------------------------------------
    "normalised-width": Text("全角の文字を半角に直しました", "full-width characters made half-width"),
    "normalised-trimmed": Text("空白を取り除きました", "spaces removed"),
    "read-number": Text("数値 {number}（単位「{unit}」）", "the number {number} (unit {unit})"),
    "read-number-unitless": Text("数値 {number}", "the number {number}"),
    "read-mark": Text("記号「{mark}」", "the mark '{mark}'"),
    "normalised-number-as-text": Text(
        "文字として入力された数値を数値にしました", "a number typed as text read as a number"
    ),
    # --- why a formula reaches outside the workbook ----------------------------------------
    "hazard-function": Text("{name} 関数", "the {name} function"),
    "hazard-dde": Text("DDE（他のプログラムとの連携）", "DDE"),
    "hazard-external": Text("外部ファイルの参照", "a reference to another file"),
    # --- places and settings ---------------------------------------------------------------
    "blank-cell": Text("（空欄）", "(blank)"),
    "header-row-moved": Text("見出し行 {row}行目", "header row {row}"),
    "expected-security": Text("STARTTLS、SSL、なし", "STARTTLS, SSL or なし (none)"),
    "expected-port": Text("1〜65535 の整数", "a whole number from 1 to 65535"),
    "file-names-exhausted": Text("同じ名前のファイルが多すぎます", "too many files of the same name"),
    "too-many-drafts": Text("下書きが多すぎます", "too many drafts"),
    # --- why the mail server could not be used (imap-*; the server's own reply goes in as data) ---
    "net-refused": Text("接続を拒否されました", "connection refused"),
    "net-timeout": Text("{seconds} 秒待っても応答がありません", "no answer within {seconds} seconds"),
    "net-unknown-host": Text("サーバー名が見つかりません", "unknown host name"),
    "net-closed": Text("サーバーが接続を切りました", "the server closed the connection"),
    "net-error": Text("通信エラー {detail}", "network error {detail}"),
    "tls-certificate": Text(
        "サーバーの証明書を確認できません: {detail}", "the server's certificate cannot be verified: {detail}"
    ),
    "tls-cafile": Text("証明書ファイル {path} を読めません", "cannot read the certificate file {path}"),
    "tls-no-starttls": Text("サーバーが STARTTLS に対応していません", "the server does not offer STARTTLS"),
    "tls-error": Text("暗号化の失敗 {detail}", "TLS failure {detail}"),
    "server-said": Text("サーバーの応答: {reply}", "the server said: {reply}"),
    "no-subject": Text("（件名なし）", "(no subject)"),
    "unknown-sender": Text("不明", "unknown"),
}
"""Phrases that messages embed through a :class:`~xlplan.findings.Phrase` param, so params stay data."""
