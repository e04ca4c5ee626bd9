"""Server mode: the VBA of a master whose buttons call the xlplan server over HTTP.

Where Python cannot run on the staff PC (Defender's rule against Office starting child processes,
no Python allowed on the closed network), ``xlplan excel build --server URL`` writes a master whose
module ``xlplan_buttons`` talks to ``xlplan serve`` with Windows' own HTTP client,
``CreateObject("WinHttp.WinHttpRequest.5.1")``. It has no ``Declare``, no ``Shell``, no
``WScript.Shell`` and needs no reference: everything is late bound (WinHttp, ``ADODB.Stream`` for
bytes and UTF-8, ``Scripting.FileSystemObject`` to list a folder).

The contract with the server (``xlplan/serve``), which the VBA relies on:

* base ``{SERVER_URL}/api/v1/workspaces/{name}``, ``{name}`` the workspace folder's name, UTF-8
  percent-encoded; ``POST …/distribute | collect | consolidate | remind | rollover``,
  ``GET …/status`` and ``POST …/returns`` (multipart/form-data, one part named ``file`` per file,
  with its ``filename``);
* every button request carries ``?format=sheet`` and ``Authorization: Bearer TOKEN``;
* the reply, with 2xx or with 4xx/5xx, is ``text/tab-separated-values; charset=utf-8``: line 1 is
  the message box text (a line break written as the two characters ``\\n``, a backslash as
  ``\\\\``), every further line a row of the 状況 sheet, cells separated by TAB, lines ending
  in LF. The VBA decodes the bytes as UTF-8, writes the rows from A1 (a cell starting with
  ``= + - @`` gets the apostrophe that keeps it text; one starting with ``'`` is written as it is,
  so the server may send rows already quoted), and shows line 1 (critical when not 2xx);
* 401 (no token, or a wrong one): the token kept for this server and workspace is forgotten and asked
  again next time; a 403 (a network the server does not serve) shows its message and keeps the token;
* 次年度へ first asks ``GET …/status`` without ``format`` (the JSON of ``xlplan status --json``) for
  ``fiscal_year.western``, to ask the same question as the RunPython button before it posts.

The token never enters the workbook: VBA's own ``SaveSetting``/``GetSetting`` keep it in the user's
registry (``HKCU\\Software\\VB and VBA Program Settings\\xlplan``). Settings staff may change (the URL,
the workspace's name, the proxy, the time-outs) are on the sheet :data:`SERVER_SHEET`.

The module's text is :data:`TEMPLATE` (``server_buttons.bas``); it stays ASCII, as the RunPython module does (see :mod:`xlplan.buttons.vba.skeleton`):
Japanese text is written as ``\\uXXXX`` escapes in constants and decoded at run time by the VBA
function ``Ja``; :func:`unescape` is its Python twin, for tests and for reading the module.
Nothing here is taken from xlwings' ``Remote.bas`` or VBA-Web; both were only read about.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

from xlplan.buttons.vba.ovba import VbaProjectError
from xlplan.catalogue import ROLLOVER_FORCEABLE

__all__ = [
    "API_PREFIX",
    "MESSAGES",
    "ROLLOVER_QUESTION",
    "SERVER_SHEET",
    "SETTING_NOTES",
    "UPLOAD_SUFFIXES",
    "ServerButton",
    "ServerSettings",
    "escape",
    "normalise_server_url",
    "server_module_source",
    "unescape",
]

SERVER_SHEET = "xlplan.server"
"""The sheet with the server-mode settings: names in column A, values in B, explanations in C."""
API_PREFIX = "/api/v1/workspaces/"
"""The path of the workspaces under the server's URL."""
UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".xltx", ".xltm", ".eml")
"""What 回答を送る takes from a folder: the files the inbox takes as workbooks, and saved mails."""

ROLLOVER_QUESTION = (
    "{year}を締めて{next}に切り替えます。受理した回答を履歴に入れ、年度を1年進めます。"
    "切り替え前の計画マスタは .xlplan/backup に保存します。よろしいですか？"
)
"""The confirmation of 次年度へ, the same words as the RunPython button's (``xlplan.excel``)."""

Kind = Literal["post", "get", "upload", "browser", "rollover"]


@dataclass(frozen=True)
class ServerButton:
    """One server-mode button: caption, VBA macro, and what it does.

    ``kind``: ``post``/``get`` call ``path`` (relative to the workspace, e.g. ``/distribute``) and
    show the reply; ``upload`` posts picked files to ``path``; ``browser`` opens the server's status
    page; ``rollover`` asks first, then posts to ``path``.
    """

    caption: str
    macro: str
    kind: Kind
    path: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", self.macro):
            raise VbaProjectError(f"macro name must be an ASCII VBA identifier: {self.macro!r}")
        if self.kind != "browser" and not re.fullmatch(r"/[a-z]+", self.path):
            raise VbaProjectError(f"endpoint must look like /name: {self.path!r}")


@dataclass(frozen=True)
class ServerSettings:
    """What the build writes on the :data:`SERVER_SHEET` sheet (and ``url`` into the VBA as a fallback).

    ``timeouts`` are seconds, in WinHttp's order: resolve, connect, send, receive. ``proxy`` is
    ``DIRECT`` (no proxy: an intranet host), ``SYSTEM`` (WinHTTP's own setting, ``netsh winhttp``)
    or ``host:port``.
    """

    url: str
    workspace: str
    proxy: str = "DIRECT"
    timeouts: Mapping[str, int] = field(
        default_factory=lambda: {
            "TIMEOUT_RESOLVE": 10,
            "TIMEOUT_CONNECT": 10,
            "TIMEOUT_SEND": 60,
            "TIMEOUT_RECEIVE": 600,
        }
    )

    def rows(self) -> list[tuple[str, str | int, str]]:
        """(name, value, explanation) per setting, in the sheet's order."""
        values: dict[str, str | int] = {
            "SERVER_URL": self.url,
            "WORKSPACE": self.workspace,
            "PROXY": self.proxy,
        }
        values.update(self.timeouts)
        return [(key, values[key], note) for key, note in SETTING_NOTES.items()]


SETTING_NOTES: dict[str, str] = {
    "SERVER_URL": "xlplan サーバーのアドレス。http:// または https:// で始めます（最後の / は不要）。",
    "WORKSPACE": "サーバー上の作業フォルダの名前。空欄のときは、このブックのあるフォルダの名前を使います。",
    "PROXY": "DIRECT = プロキシを通さない（庁内のサーバー。既定）。SYSTEM = Windows の WinHTTP の設定に従う。"
    "プロキシを通すときは ホスト名:ポート。",
    "TIMEOUT_RESOLVE": "サーバーの名前を調べるのを待つ時間（秒）。",
    "TIMEOUT_CONNECT": "サーバーにつながるのを待つ時間（秒）。",
    "TIMEOUT_SEND": "送り終わるのを待つ時間（秒）。大きなファイルを送るときは長くします。",
    "TIMEOUT_RECEIVE": "返事を待つ時間（秒）。回収・検証や集約は数分かかることがあります。",
}
"""The settings' names (column A, read by the VBA) and their explanations for staff (column C)."""

_FILTER = ";".join(f"*{suffix}" for suffix in UPLOAD_SUFFIXES)

MESSAGES: dict[str, str] = {
    "STATUS_SHEET": "状況",
    "RUNNING": "をサーバーで実行しています…（終わるまでお待ちください）",
    "NO_SETTINGS": f"設定のシート「{SERVER_SHEET}」がありません。"
    "xlplan excel build --server でこのブックを作り直してください。",
    "BAD_URL": f"{SERVER_SHEET} シートの SERVER_URL（{{url}}）が http:// または https:// で始まっていません。"
    "サーバー管理者に正しいアドレスを確かめてください。",
    "TOKEN_ASK": "xlplan サーバーのトークンを入力してください（サーバー管理者から受け取った文字列）。\n"
    "この PC のこの利用者の設定として記録します。ブックには保存しません。",
    "TOKEN_NONE": "トークンが入力されなかったので、何もしていません。",
    "TOKEN_WRONG": "トークンが違います（サーバーが受け付けませんでした。HTTP {status}）。"
    "記録していたトークンを消しました。もう一度ボタンを押し、サーバー管理者から受け取ったトークンを入力してください。",
    "CONNECT": "サーバーに接続できません（{url}）。サーバーが動いているか、この PC がネットワークにつながっているか、"
    f"{SERVER_SHEET} シートの SERVER_URL と PROXY が正しいかを確かめてください。",
    "TIMEOUT": "サーバーから時間内に返事がありませんでした（{url}）。回収・検証などの時間のかかる処理は、"
    "サーバーで続いていることがあります。しばらくしてから「回答状況」で確かめてください。"
    f"待つ時間は {SERVER_SHEET} シートの TIMEOUT_RECEIVE（秒）で変えられます。",
    "SECURE": "サーバーの証明書を確かめられないため、接続しませんでした（{url}）。サーバー管理者に連絡してください。",
    "FAILED": "サーバーとの通信に失敗しました（{url}）。",
    "UNEXPECTED": "サーバーから予期しない返事がありました（HTTP {status}）。サーバー管理者に連絡してください。",
    "UPLOAD_HOW": "担当課から届いた回答をサーバーに送ります。\n\n"
    "「はい」: ファイルを選ぶ（いくつでも選べます）\n"
    "「いいえ」: フォルダーを選ぶ（メールの添付ファイルを保存したフォルダーなど。"
    f"中の {' '.join(UPLOAD_SUFFIXES)} のファイルをすべて送ります）",
    "FILE_FILTER": f"回答のファイル ({_FILTER}),{_FILTER},すべてのファイル (*.*),*.*",
    "PICK_TITLE": "送る回答のファイルを選んでください（いくつでも選べます）",
    "FOLDER_TITLE": "送る回答のあるフォルダーを選んでください",
    "FOLDER_EMPTY": f"フォルダー {{folder}} に送れるファイル（{' '.join(UPLOAD_SUFFIXES)}）がありません。",
    "FILE_UNREADABLE": "ファイル {file} を読めませんでした。ほかのプログラムで開いていないか確かめてください。",
    "BROWSER": "ブラウザーで {url} を開けませんでした。",
    "ROLLOVER_ASK": ROLLOVER_QUESTION,
    "ROLLOVER_ASK_PLAIN": ROLLOVER_QUESTION.format(year="今年度", next="次年度"),
    "ROLLOVER_CANCELLED": "次年度への切り替えを中止しました。何も変更していません。",
    "ROLLOVER_FORCE": "それでも次年度へ切り替えますか？（検証していない回答・確認待ちの回答は、今年度の実績に入りません。"
    "理由は「状況」シートにあります）",
    "ERA_REIWA": "令和",
    "ERA_HEISEI": "平成",
    "ERA_SHOWA": "昭和",
    "FIRST_YEAR": "元",
    "FISCAL_YEAR": "年度",
}
"""Every Japanese text of the module, by constant name (``MSG_<name>`` in VBA).

``{url}``-style fields are filled in VBA with ``Replace``; a line feed becomes a line break.
"""

TEMPLATE = "server_buttons.bas"
"""The module's text, beside this file; the build fills in ``@@CONSTANTS@@`` and ``@@BUTTONS@@``."""

_MAX_LINE = 400  # characters of escaped text per VBA source line (VBA's limit is 1023)


def escape(text: str) -> str:
    """``text`` as the inside of an ASCII VBA string literal that ``Ja`` decodes back.

    Printable ASCII stays (a backslash and a quote become escapes); a line feed becomes ``\\n``;
    everything else is ``\\uXXXX`` per UTF-16 code unit, as VBA strings are UTF-16.
    """
    out: list[str] = []
    for char in text:
        if char == "\n":
            out.append("\\n")
        elif " " <= char <= "~" and char not in '\\"':
            out.append(char)
        else:
            data = char.encode("utf-16-le")
            out += [f"\\u{int.from_bytes(data[i : i + 2], 'little'):04X}" for i in range(0, len(data), 2)]
    return "".join(out)


def unescape(escaped: str) -> str:
    """What the VBA function ``Ja`` returns for ``escaped`` (``\\uXXXX`` and ``\\n`` decoded)."""
    units = re.sub(r"\\u([0-9A-Fa-f]{4})|\\n", lambda m: chr(int(m[1], 16)) if m[1] else "\n", escaped)
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def normalise_server_url(text: str) -> str | None:
    """The server's address without a trailing ``/``, or None when it cannot be used.

    Usable: ``http://`` or ``https://``, a host, an optional port and path; no user name or password
    (the token goes in a header), no query or fragment, printable ASCII without quotes or spaces
    (it is written into a VBA string literal).
    """
    url = text.strip().rstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9\-._~:/\[\]@!$&'()*+,;=%]+", url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        return None
    return url


def _constant(name: str, text: str) -> str:
    """``Private Const name As String = "…"`` with ``text`` escaped, continued over lines if long."""
    escaped = escape(text)
    pieces, current = [], ""
    for token in re.findall(r"\\u[0-9A-F]{4}|\\n|.", escaped):
        if len(current) + len(token) > _MAX_LINE:
            pieces.append(current)
            current = ""
        current += token
    pieces.append(current)
    if len(pieces) > 20:  # VBA allows 24 line continuations in one statement
        raise VbaProjectError(f"text of {name} is too long for one VBA constant")
    literal = " & _\r\n    ".join(f'"{piece}"' for piece in pieces)
    return f"Private Const {name} As String = {literal}"


def _button_sub(button: ServerButton) -> list[str]:
    """The ``Public Sub`` behind one button."""
    label = f"LABEL_{button.macro.upper()}"
    body = {
        "post": [f'    RunAction "POST", "{button.path}", Ja({label}), Empty, ""'],
        "get": [f'    RunAction "GET", "{button.path}", Ja({label}), Empty, ""'],
        "upload": [f'    SendFiles "{button.path}", Ja({label})'],
        "browser": [f"    OpenStatusPage Ja({label})"],
        "rollover": [f'    ConfirmAndRollover "{button.path}", Ja({label})'],
    }[button.kind]
    return ["", f"Public Sub {button.macro}()", *body, "End Sub"]


def server_module_source(buttons: Sequence[ServerButton], settings: ServerSettings) -> str:
    """The body of the server-mode ``xlplan_buttons`` module (without its ``Attribute VB_Name`` line)."""
    macros = [b.macro.upper() for b in buttons]
    if len(set(macros)) != len(macros):
        raise VbaProjectError(f"macro names must be unique: {[b.macro for b in buttons]}")
    url = normalise_server_url(settings.url)
    if url is None:
        raise VbaProjectError(f"not a usable server URL: {settings.url!r}")
    constants = [
        f'Private Const BUILT_SERVER_URL As String = "{url}"',
        f'Private Const SETTINGS_SHEET As String = "{SERVER_SHEET}"',
        f'Private Const API_PREFIX As String = "{API_PREFIX}"',
        f'Private Const UPLOAD_SUFFIXES As String = "{" ".join(UPLOAD_SUFFIXES)}"',
        f'Private Const FORCEABLE_CODES As String = "|{"|".join(sorted(ROLLOVER_FORCEABLE))}|"',
        *(_constant(f"MSG_{name}", text) for name, text in MESSAGES.items()),
        *(_constant(f"LABEL_{button.macro.upper()}", button.caption) for button in buttons),
    ]
    subs = [line for button in buttons for line in _button_sub(button)]
    # The template is kept plain on purpose: nobody can run it here, so it avoids anything clever,
    # and every Windows object is created with CreateObject.
    template = resources.files(__package__).joinpath(TEMPLATE).read_text(encoding="ascii")
    text = template.replace("@@CONSTANTS@@", "\r\n".join(constants)).replace("@@BUTTONS@@", "\r\n".join(subs))
    source = text.replace("\r\n", "\n").replace("\n", "\r\n")
    if not source.isascii() or "@@" in source:
        raise VbaProjectError("the server-mode module must be ASCII with every part filled in")
    too_long = [line for line in source.split("\r\n") if len(line) > 1000]
    if too_long:
        raise VbaProjectError(f"VBA line longer than 1000 characters: {too_long[0][:60]}…")
    return source
