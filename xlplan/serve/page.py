"""The status page: plain HTML in Japanese for a browser on an LGWAN PC (no script, no outside files).

Every text from a workspace — department names, file names, messages that quote a cell — is
escaped; nothing a department typed can become markup. The page works without JavaScript: its
two actions (受理, 却下) are ordinary forms that post back with the session's form token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

STYLE = """
body{font-family:"Yu Gothic UI","Meiryo",sans-serif;margin:1.5em;color:#111;line-height:1.5}
h1{font-size:1.4em}h2{font-size:1.2em;border-bottom:2px solid #1f4e79;margin-top:2em}
h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #888;padding:.25em .6em;vertical-align:top}
th{background:#ddebf7;text-align:left}td.n{text-align:right}
.state-returned_with_errors,.state-overdue,.state-review{background:#fde9e7}
.state-accepted{background:#e8f3e8}.notice{background:#fff4ce;padding:.5em 1em;border:1px solid #c9a400}
form.inline{display:inline}button{font-size:1em;padding:.2em .8em}
a:focus,button:focus,input:focus{outline:3px solid #1f4e79}
"""


@dataclass(frozen=True)
class WorkspaceView:
    """What the page shows of one workspace."""

    name: str
    status: Mapping[str, Any]  # the document of ``xlplan status --json``
    findings: Mapping[str, Sequence[Mapping[str, Any]]]  # department → its return's findings
    files: Mapping[str, Sequence[str]]  # area (feedback, reports, outbox) → relative paths


def _page(title: str, body: str, home: str = "./") -> str:
    # Every address on the page is relative to ``home`` (the page's own, as the request reached it),
    # so that the page works under a reverse proxy's prefix such as https://intra.city.lg.jp/xlplan/.
    return (
        '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<base href="{escape(home)}">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def login_page(message: str | None = None, home: str = "./") -> str:
    """The form that takes the token once (``home``: the page's address relative to the request's)."""
    notice = f'<p class="notice" role="alert">{escape(message)}</p>' if message else ""
    return _page(
        "xlplan ログイン",
        "<h1>xlplan 照会の状況</h1>"
        f"{notice}"
        "<p>サーバーの管理者から受け取ったトークンを入力してください。</p>"
        '<form method="post" action="login">'
        '<label for="token">トークン</label> '
        '<input id="token" name="token" type="password" autocomplete="current-password" required size="48"> '
        '<button type="submit">ログイン</button></form>',
        home,
    )


def status_page(views: Sequence[WorkspaceView], csrf: str, message: str | None = None) -> str:
    """Every workspace the session opens: the round, each department, the returns awaiting a decision."""
    notice = f'<p class="notice" role="status">{escape(message)}</p>' if message else ""
    parts = [
        "<h1>xlplan 照会の状況</h1>",
        notice,
        '<form method="post" action="logout" class="inline">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}"><button type="submit">ログアウト</button></form>',
    ]
    if not views:
        parts.append("<p>表示できる作業フォルダがありません。</p>")
    parts += [_workspace(view, csrf) for view in views]
    return _page("xlplan 照会の状況", "".join(parts))


def _workspace(view: WorkspaceView, csrf: str) -> str:
    status = view.status
    year = status.get("fiscal_year", {}).get("wareki", "")
    deadline = status.get("deadline") or "（未設定）"
    counts = status.get("counts", {})
    html = [
        f'<section aria-labelledby="ws-{escape(view.name)}">',
        f'<h2 id="ws-{escape(view.name)}">{escape(str(status.get("plan", "")))}（{escape(view.name)}）</h2>',
        f"<p>{escape(year)} 第{escape(str(status.get('round', '')))}回照会　締切 {escape(str(deadline))}"
        f"　今日 {escape(str(status.get('today', '')))}</p>",
        _counts(counts),
        _departments(status.get("departments", [])),
        _reviews(view.name, status.get("reviews", []), csrf),
        _findings(view.findings),
        _files(view.name, view.files),
        "</section>",
    ]
    return "".join(html)


_STATES = {
    "not_sent": "未送付",
    "sent": "送付済み（回答待ち）",
    "received": "受信（未検証）",
    "returned_with_errors": "要修正",
    "review": "確認待ち",
    "accepted": "受理",
    "overdue": "期限超過",
}


def _counts(counts: Mapping[str, int]) -> str:
    cells = "".join(
        f"<li>{escape(_STATES.get(state, state))}: {int(number)}</li>" for state, number in counts.items()
    )
    return f"<ul>{cells}</ul>"


def _note(item: Mapping[str, Any]) -> str:
    note = str(item.get("note") or "")  # e.g. 受理後の回答に誤り: beside 受理, on its own line
    return f"<br><small>{escape(note)}</small>" if note else ""


def _departments(departments: Sequence[Mapping[str, Any]]) -> str:
    head = ("担当課", "状況", "送付", "最後の受信", "受理", "エラー", "警告", "督促")
    rows = []
    for item in departments:
        state = str(item.get("state", ""))
        rows.append(
            f'<tr class="state-{escape(state)}"><th scope="row">{escape(str(item.get("department", "")))}</th>'
            f"<td>{escape(str(item.get('label') or _STATES.get(state, state)))}{_note(item)}</td>"
            f"<td>{escape(_time(item.get('sent_at')))}</td><td>{escape(_time(item.get('last_received_at')))}</td>"
            f"<td>{escape(_time(item.get('accepted_at')))}</td>"
            f'<td class="n">{int(item.get("errors") or 0)}</td><td class="n">{int(item.get("warnings") or 0)}</td>'
            f'<td class="n">{int(item.get("reminders") or 0)}</td></tr>'
        )
    header = "".join(f'<th scope="col">{label}</th>' for label in head)
    return (
        "<h3>担当課ごとの状況</h3>"
        f"<table><caption>担当課ごとの送付・受信・検証・受理</caption><thead><tr>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _reviews(name: str, reviews: Sequence[Mapping[str, Any]], csrf: str) -> str:
    if not reviews:
        return "<h3>確認待ちの回答</h3><p>確認を待っている回答はありません。</p>"
    rows = []
    for item in reviews:
        receipt = int(item.get("receipt", 0))
        action = f"ws/{quote(name)}/reviews/{receipt}"
        suggested = str(item.get("department") or "")
        rows.append(
            f'<tr><td class="n">{receipt}</td><td>{escape(str(item.get("file", "")))}</td>'
            f"<td>{escape(suggested or '（不明）')}</td><td>{escape(str(item.get('sender') or '記録なし'))}</td>"
            f"<td>{escape(_time(item.get('received_at')))}</td>"
            f'<td class="n">{int(item.get("errors") or 0)}</td><td class="n">{int(item.get("warnings") or 0)}</td><td>'
            f'<form method="post" action="{escape(action)}/accept" class="inline">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            f'<label>課 <input name="department" value="{escape(suggested)}" size="14"></label> '
            f'<button type="submit">受理</button></form> '
            f'<form method="post" action="{escape(action)}/reject" class="inline">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            f'<button type="submit">却下</button></form></td></tr>'
        )
    header = "".join(
        f'<th scope="col">{label}</th>'
        for label in ("受付番号", "ファイル", "見られる課", "差出人", "受信", "エラー", "警告", "判断")
    )
    return (
        "<h3>確認待ちの回答</h3>"
        "<p>提出元の証明（署名付きの管理情報）がない回答です。内容と差出人を確かめて、受理か却下を決めてください。</p>"
        f"<table><caption>確認待ちの回答</caption><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _findings(findings: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    if not any(findings.values()):
        return "<h3>回答の指摘</h3><p>指摘はありません。</p>"
    parts = ["<h3>回答の指摘</h3>"]
    for department, items in findings.items():
        if not items:
            continue
        rows = "".join(
            f"<tr><td>{'エラー' if item.get('severity') == 'error' else '警告'}</td>"
            f"<td>{escape(str(item.get('sheet') or ''))}{'!' if item.get('sheet') and item.get('cell') else ''}"
            f"{escape(str(item.get('cell') or ''))}</td><td>{escape(str(item.get('message', '')))}</td>"
            f"<td><code>{escape(str(item.get('code', '')))}</code></td></tr>"
            for item in items
        )
        parts.append(
            f"<table><caption>{escape(department)} の回答の指摘</caption><thead><tr>"
            '<th scope="col">重要度</th><th scope="col">セル</th><th scope="col">内容</th><th scope="col">コード</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    return "".join(parts)


_AREAS = {"feedback": "差し戻し票", "reports": "集約表・回答状況", "outbox": "配布したブック・メールの下書き"}


def _files(name: str, files: Mapping[str, Sequence[str]]) -> str:
    parts = ["<h3>ファイル</h3>"]
    for area, label in _AREAS.items():
        paths = files.get(area, ())
        if not paths:
            parts.append(f"<p>{escape(label)}: なし</p>")
            continue
        links = "".join(
            f'<li><a href="api/v1/workspaces/{quote(name)}/files/{area}/{quote(path)}">{escape(path)}</a></li>'
            for path in paths
        )
        parts.append(f"<p>{escape(label)}</p><ul>{links}</ul>")
    return "".join(parts)


def _time(value: object) -> str:
    """An ISO time from the ledger as staff read it (2021-05-20 10:31)."""
    if not value:
        return ""
    text = str(value).replace("T", " ")
    return text[:16]
