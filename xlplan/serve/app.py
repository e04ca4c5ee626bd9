"""``xlplan serve``: the workspaces behind an HTTP service, for buttons with no Python on the PC.

The server owns each workspace on its own disk: the ledger is never on a network share. The
routes are thin: each calls the same library function as the command line and answers with the
same JSON document as its ``--json``. Changing requests of one workspace wait in line for one
another (an asyncio lock, first come first served, with the run lock of collection beneath it);
reads — the status, downloads, the page — never wait for them. A verb runs in a worker thread to
its end even when its client goes away, so a request cut off half-way leaves the work done or not
started, never half-done; uploads are read to their end before a byte reaches the inbox.

With ``?format=sheet`` a verb answers as the server-mode buttons expect: ``text/tab-separated-values``,
line 1 the message box's text (a line break written as ``\\n``), then the rows of the 状況 sheet.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette

try:  # Starlette parses the uploads with python-multipart, imported only then: missing, say so at start
    import python_multipart  # noqa: F401
except ImportError:
    import multipart  # noqa: F401  # python-multipart before 0.0.13
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from xlplan.buttons.report import alert_text, outcome_text, status_lines, status_rows
from xlplan.errors import (
    EXIT_BUSY,
    EXIT_OUTPUT,
    ConfigurationError,
    OutputError,
    XlplanError,
)
from xlplan.findings import Finding, Language, findings_json, not_writable
from xlplan.followup.status_sheet import status_document
from xlplan.result import Result, say
from xlplan.serve import page
from xlplan.serve.auth import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    Gate,
    Network,
    allowed_client,
    bearer,
    workspace_token,
)
from xlplan.serve.limits import MAX_REQUEST_BYTES, BodyLimit, over_limit
from xlplan.serve.uploads import save_uploads
from xlplan.serve.verbs import VERBS, flag
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace

MAX_UPLOAD_FILES = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # per file; intake has its own, lower limits per kind
LOG_FILE = Path(".xlplan") / "server.log"
AREAS = ("outbox", "feedback", "reports")

_STATUS_CODES = {EXIT_BUSY: 409, EXIT_OUTPUT: 500}


@dataclass
class Served:
    """The workspaces of one server, with a writer's place in line for each."""

    workspaces: dict[str, Workspace]
    gate: Gate
    imap_every: float | None = None  # minutes between scheduled collects from the mailbox; None: never
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, name: str) -> asyncio.Lock:
        """The lock changing requests of workspace ``name`` queue on (made inside the event loop)."""
        found = self.locks.get(name)
        if found is None:
            found = self.locks[name] = asyncio.Lock()
        return found


def served(workspaces: Sequence[Workspace], *, networks: Sequence[Network] = (),
           environ: Mapping[str, str] = os.environ, announce: Callable[[str], None] = print,
           imap_every: float | None = None, language: Language = "ja") -> Served:  # fmt: skip
    """The workspaces by folder name, each with its token; a token made now is announced once.

    Raises:
        ConfigurationError: not a workspace, or two workspaces of the same folder name.
    """
    by_name: dict[str, Workspace] = {}
    for workspace in workspaces:
        workspace.load_plan()  # a master with errors stops the server before it starts
        name = workspace.name
        if name in by_name:
            raise ConfigurationError([Finding("serve-duplicate-name", {"name": name})])
        by_name[name] = workspace
    tokens = {}
    for name, workspace in by_name.items():
        token, created = workspace_token(workspace, environ)
        tokens[name] = token
        if created:
            announce(say(language, f"作業フォルダ「{name}」のトークン（この一度だけ表示します。控えてください）: {token}",
                         f"The token of workspace {name} (shown this once only; keep it): {token}"))  # fmt: skip
    return Served(by_name, Gate(tokens, tuple(networks)), imap_every)


def create_app(state: Served, upload_limit: int = MAX_REQUEST_BYTES) -> Starlette:
    """The ASGI application serving ``state``'s workspaces (a request's body up to ``upload_limit`` bytes)."""

    class AllowList(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            if not allowed_client(request.client.host if request.client else None, state.gate.networks):
                return _refusal(request, 403, "serve-client-not-allowed", {})
            return await call_next(request)

    routes = [
        Route("/", _index, methods=["GET"]),
        Route("/login", _login, methods=["POST"]),
        Route("/logout", _logout, methods=["POST"]),
        Route("/ws/{name}/reviews/{receipt:int}/{decision}", _page_decide, methods=["POST"]),
        Route("/api/v1/workspaces", _list, methods=["GET"]),
        Route("/api/v1/workspaces/{name}/status", _status, methods=["GET"]),
        Route("/api/v1/workspaces/{name}/returns", _returns, methods=["POST"]),
        Route("/api/v1/workspaces/{name}/reviews", _review_list, methods=["GET"]),
        Route("/api/v1/workspaces/{name}/reviews/{receipt:int}/{decision}", _api_decide, methods=["POST"]),
        Route("/api/v1/workspaces/{name}/files/{area}/{path:path}", _file, methods=["GET"]),
        Route("/api/v1/workspaces/{name}/{verb}", _verb, methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = []
        if state.imap_every:
            tasks = [asyncio.create_task(_scheduled_mail(state, name)) for name in state.workspaces]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(AllowList), Middleware(BodyLimit, limit=upload_limit)],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.served = state
    return app


# ----------------------------------------------------------------------------------------
# who asks
# ----------------------------------------------------------------------------------------


def _state(request: Request) -> Served:
    found: Served = request.app.state.served
    return found


def _names(request: Request) -> frozenset[str] | None:
    """The workspaces the request may use: by its bearer token, else by its session; None without either."""
    state = _state(request)
    token = bearer(request.headers.get("authorization"))
    if token is not None:
        return state.gate.names_for(token)
    session = state.gate.session(request.cookies.get(SESSION_COOKIE))
    return session.names if session else None


def _workspace(request: Request) -> Workspace | Response:
    """The request's workspace, or the refusal to send: 401 without a token or with a wrong one (the
    buttons then forget the token they kept); 403 is the network allow-list's, where the token stands."""
    names = _names(request)
    if names is None:
        return _refusal(request, 401, "serve-no-token", {})
    name = request.path_params["name"]
    if not names:
        return _refusal(request, 401, "serve-bad-token", {"name": name})
    if name not in _state(request).workspaces:
        return _refusal(request, 404, "serve-unknown-workspace", {"name": name})
    if name not in names:
        return _refusal(request, 401, "serve-bad-token", {"name": name})
    return _state(request).workspaces[name]


def _writer(request: Request) -> Workspace | Response:
    """As :func:`_workspace`, for a changing request: only a bearer token will do. A session cookie
    alone changes nothing through the API, since another site could make the browser send it."""
    workspace = _workspace(request)
    if isinstance(workspace, Response):
        return workspace
    if bearer(request.headers.get("authorization")) is None:
        return _refusal(request, 401, "serve-no-token", {})
    return workspace


async def _http_error(request: Request, exc: Exception) -> Response:
    """The framework's own refusals (no such address, a method it does not take) said in Japanese."""
    code = exc.status_code if isinstance(exc, HTTPException) else 500
    if code == 404:
        return _refusal(request, 404, "serve-not-found", {"path": request.url.path})
    if code == 405:
        where = {"method": request.method, "path": request.url.path}
        return _refusal(
            request, 405, "serve-method-not-allowed", where, getattr(exc, "headers", None)
        )  # Allow
    return _refusal(request, code, "serve-bad-request", {"status": code})


def _sheet(request: Request) -> bool:
    return request.query_params.get("format") == "sheet"


def _refusal(request: Request, code: int, finding: str, params: Mapping[str, Any],
             headers: Mapping[str, str] | None = None) -> Response:  # fmt: skip
    found = Finding(finding, dict(params))
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else headers
    if _sheet(request):
        return _sheet_response(found.message(), [[found.message()]], code)
    document = {"ok": False, "findings": findings_json([found])}
    return JSONResponse(document, status_code=code, headers=headers)


def _sheet_response(alert: str, rows: Sequence[Sequence[Any]], code: int = 200) -> Response:
    """The server-mode buttons' reply: the message box's text, then the 状況 sheet's rows."""

    def cell(value: Any) -> str:
        return " ".join(str(value).split()) if value is not None else ""

    lines = [alert.replace("\r", "").replace("\\", "\\\\").replace("\n", "\\n")]
    lines += ["\t".join(cell(value) for value in row) for row in rows]
    return PlainTextResponse("\n".join(lines) + "\n", status_code=code,
                             media_type="text/tab-separated-values; charset=utf-8")  # fmt: skip


# ----------------------------------------------------------------------------------------
# the API
# ----------------------------------------------------------------------------------------


async def _list(request: Request) -> Response:
    names = _names(request)
    if names is None:
        return _refusal(request, 401, "serve-no-token", {})
    if not names:
        return _refusal(request, 401, "serve-bad-token", {})
    state = _state(request)
    items = []
    for name in sorted(names):
        settings = state.workspaces[name].load_plan().settings
        items.append({"name": name, "plan": settings.plan_name, "fiscal_year": settings.current_year.wareki,
                      "round": settings.round})  # fmt: skip
    return JSONResponse({"workspaces": items})


async def _status(request: Request) -> Response:
    workspace = _workspace(request)
    if isinstance(workspace, Response):
        return workspace
    started, clock = dt.datetime.now(), time.monotonic()
    try:
        report, document = await anyio.to_thread.run_sync(status_document, workspace)
    except XlplanError as exc:
        return _failure(request, workspace, "回答状況", exc.findings, exc.exit_code, started, clock)
    if _sheet(request):  # the lines the Python button shows, and where the workbook was saved
        saved = [f"回答状況を保存しました: {document['workbook']}"] if document.get("workbook") else []
        lines = [*status_lines(report), *saved]
        return _button_reply(
            workspace, "回答状況", started, clock, lines, list(report.findings), failed=False
        )
    return JSONResponse(document)


async def _verb(request: Request) -> Response:
    verb = request.path_params["verb"]
    workspace = _writer(request)  # the token first: without it, not even which actions exist is said
    if isinstance(workspace, Response):
        return workspace
    if verb not in VERBS:
        return _refusal(request, 404, "serve-unknown-verb", {"verb": verb})
    label, function = VERBS[verb]
    params = dict(request.query_params)
    button = _sheet(request)
    started, clock = dt.datetime.now(), time.monotonic()
    async with _state(request).lock(workspace.name):
        try:
            result = await _in_worker(function, workspace, params, button)
        except XlplanError as exc:
            return _failure(request, workspace, label, exc.findings, exc.exit_code, started, clock)
        except Exception:
            _log(workspace, label)
            found = Finding("serve-failed", {"action": label, "log": str(workspace.root / LOG_FILE)})
            return _failure(request, workspace, label, (found,), EXIT_OUTPUT, started, clock)
    if button:
        return _button_reply(
            workspace, label, started, clock, result.lines("ja"), list(result.findings), failed=False
        )
    return JSONResponse(result.to_dict("ja"))


async def _in_worker(function: Callable[..., Any], *args: Any) -> Any:
    """Run ``function`` in a worker thread to its end, whatever happens to the request meanwhile."""
    with anyio.CancelScope(shield=True):
        return await anyio.to_thread.run_sync(function, *args)


def _failure(request: Request, workspace: Workspace, label: str, findings: Sequence[Finding], exit_code: int,
             started: dt.datetime, clock: float, status: int | None = None) -> Response:  # fmt: skip
    code = status or _STATUS_CODES.get(exit_code, 422)
    if _sheet(request):
        return _button_reply(workspace, label, started, clock, [], list(findings), failed=True, code=code)
    return JSONResponse(
        {"ok": False, "exit_code": exit_code, "findings": findings_json(findings)}, status_code=code
    )


def _button_reply(workspace: Workspace, label: str, started: dt.datetime, clock: float, lines: list[str],
                  findings: list[Finding], *, failed: bool, code: int = 200) -> Response:  # fmt: skip
    seconds = time.monotonic() - clock
    outcome = outcome_text(label, failed, findings)
    rows = status_rows(label, outcome, started, seconds, str(workspace.root), lines, findings)
    return _sheet_response(alert_text(outcome, seconds, lines, findings), rows, code)


async def _returns(request: Request) -> Response:
    workspace = _writer(request)
    if isinstance(workspace, Response):
        return workspace
    started, clock = dt.datetime.now(), time.monotonic()

    def refuse(findings: Sequence[Finding], exit_code: int = 2, status: int | None = None) -> Response:
        return _failure(request, workspace, "回答を送る", findings, exit_code, started, clock, status)

    try:
        if over_limit(request):
            raise ClientDisconnect
        # The whole request is read (into spooled temporary files) before anything is written.
        form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=20)
    except ClientDisconnect:
        over = over_limit(request)
        return refuse([over], status=413) if over else Response(status_code=400)
    except Exception as exc:  # a malformed body: too many parts, not multipart, a broken boundary
        spooled = exc if isinstance(exc, OSError) else exc.__cause__ or exc.__context__
        if isinstance(spooled, OSError):  # the server's temporary folder is full: not the sender's fault
            _log(workspace, "回答を送る（一時フォルダに書けません）")
            return refuse([not_writable(tempfile.gettempdir(), spooled)], EXIT_OUTPUT, status=507)
        if "Too many files" in str(getattr(exc, "detail", "")):
            return refuse([Finding("serve-too-many-files", {"limit": MAX_UPLOAD_FILES})])
        return refuse([Finding("serve-bad-upload", {"reason": type(exc).__name__})])
    try:
        files = [item for item in form.getlist("file") if isinstance(item, UploadFile)]
        too_big = [item.filename or "" for item in files if (item.size or 0) > MAX_UPLOAD_BYTES]
        if not files or too_big:
            limit = MAX_UPLOAD_BYTES // (1024 * 1024)
            found = Finding("serve-upload-too-large", {"names": "、".join(too_big), "limit": limit})
            return refuse([found if too_big else Finding("serve-no-file", {})])
        try:
            receipts = await _in_worker(save_uploads, workspace.inbox, [(f.filename, f.file) for f in files])
        except OutputError as exc:
            return refuse(exc.findings, exc.exit_code)
    finally:
        await _close(form)
    if _sheet(request):
        lines = [
            f"受信フォルダに置きました: {receipt.saved_as}（{receipt.size:,} バイト）" for receipt in receipts
        ]
        lines.append("「回収・検証」を押すと、検証して受理します。")
        return _button_reply(workspace, "回答を送る", started, clock, lines, [], failed=False, code=201)
    return JSONResponse(
        {"ok": True, "receipts": [receipt.to_dict() for receipt in receipts]}, status_code=201
    )


async def _close(form: FormData) -> None:
    with contextlib.suppress(Exception):
        await form.close()


async def _review_list(request: Request) -> Response:
    from xlplan.followup.review import review

    workspace = _workspace(request)
    if isinstance(workspace, Response):
        return workspace
    result = await anyio.to_thread.run_sync(review, workspace)
    return JSONResponse(result.to_dict("ja"))


async def _api_decide(request: Request) -> Response:
    workspace = _writer(request)
    if isinstance(workspace, Response):
        return workspace
    params = dict(request.query_params)
    started, clock = dt.datetime.now(), time.monotonic()
    try:
        result = await _decide(request, workspace, params.get("department"), params.get("note"),
                               params.get("by") or _who(request), flag(params, "replace"))  # fmt: skip
    except XlplanError as exc:
        return _failure(request, workspace, "確認待ち", exc.findings, exc.exit_code, started, clock)
    return JSONResponse(result.to_dict("ja"))


async def _decide(request: Request, workspace: Workspace, department: str | None, note: str | None,
                  by: str, replace: bool) -> Result:  # fmt: skip
    from xlplan.followup.review import decide

    decision = request.path_params["decision"]
    if decision not in ("accept", "reject"):
        raise ConfigurationError([Finding("serve-unknown-verb", {"verb": decision})])
    receipt = int(request.path_params["receipt"])
    async with _state(request).lock(workspace.name):
        result: Result = await _in_worker(
            lambda: decide(
                workspace, receipt, decision, department=department or None, by=by, note=note, replace=replace
            )
        )
    return result


def _who(request: Request) -> str:
    return f"サーバー経由（{request.client.host if request.client else '不明'}）"


async def _file(request: Request) -> Response:
    workspace = _workspace(request)
    if isinstance(workspace, Response):
        return workspace
    area = request.path_params["area"]
    if area not in AREAS:
        return _refusal(request, 404, "serve-no-such-file", {"path": area})
    base = (workspace.root / area).resolve()
    target = (base / request.path_params["path"]).resolve()
    # Only regular files under the area, reached without leaving it (no .., no links out).
    if not target.is_relative_to(base) or not target.is_file() or target.name.startswith("."):
        return _refusal(request, 404, "serve-no-such-file", {"path": request.path_params["path"]})
    return FileResponse(target, filename=target.name)


# ----------------------------------------------------------------------------------------
# the page
# ----------------------------------------------------------------------------------------


async def _index(request: Request) -> Response:
    state = _state(request)
    session = state.gate.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return HTMLResponse(page.login_page())
    views = [await anyio.to_thread.run_sync(_view, state.workspaces[name]) for name in sorted(session.names)]
    # The notice is the session's own (set by its last decision), never the URL's: a link cannot put words there.
    message, session.notice = session.notice, None
    return HTMLResponse(page.status_page(views, session.csrf, message))


def _view(workspace: Workspace) -> page.WorkspaceView:
    """What the page shows of a workspace: its status, each department's findings, its files."""
    report, document = status_document(workspace)
    findings: dict[str, list[dict[str, Any]]] = {}
    plan = workspace.load_plan()
    with contextlib.closing(workspace.ledger()) as connection:
        round_id = ledger.current_round(connection, plan.settings)
        for item in report.departments:
            receipts = [row for row in ledger.receipts_of(connection, round_id, item.department)
                        if row["status"] != "duplicate"]  # fmt: skip
            accepted = ledger.current_acceptance(connection, round_id, item.department)
            deciding = (
                accepted["receipt_id"] if accepted is not None else (receipts[-1]["id"] if receipts else None)
            )
            if deciding is not None:
                findings[item.department] = [dict(row) for row in ledger.findings_of(connection, deciding)]
    files = {area: _listing(workspace.root / area) for area in AREAS}
    return page.WorkspaceView(workspace.name, document, findings, files)


def _listing(folder: Path, limit: int = 200) -> list[str]:
    if not folder.is_dir():
        return []
    found = sorted(
        (path for path in folder.rglob("*") if path.is_file() and not path.name.startswith(".")),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    return [path.relative_to(folder).as_posix() for path in found[:limit]]


def _home(request: Request) -> str:
    """The page's address relative to this request's, so that it stays under a reverse proxy's prefix."""
    depth = request.url.path.strip("/").count("/")  # /login → ./ ; /ws/名前/reviews/3/accept → ../../../../
    return "../" * depth or "./"


async def _login(request: Request) -> Response:
    state = _state(request)
    form = await request.form(max_files=0, max_fields=5)
    token = str(form.get("token") or "").strip()
    names = state.gate.names_for(token)
    if not names:
        return HTMLResponse(page.login_page("トークンが違います。管理者から受け取ったトークンを入力してください。", _home(request)),
                            status_code=403)  # fmt: skip
    key = state.gate.open_session(names)
    response = RedirectResponse(_home(request), status_code=303)
    response.set_cookie(SESSION_COOKIE, key, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")  # fmt: skip
    return response


async def _logout(request: Request) -> Response:
    state = _state(request)
    key = request.cookies.get(SESSION_COOKIE)
    session = state.gate.session(key)
    form = await request.form(max_files=0, max_fields=5)
    if session is not None and form.get("csrf") == session.csrf:
        state.gate.close_session(key)
    response = RedirectResponse(_home(request), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _page_decide(request: Request) -> Response:
    state = _state(request)
    session = state.gate.session(request.cookies.get(SESSION_COOKIE))
    form = await request.form(max_files=0, max_fields=10)
    name = request.path_params["name"]
    if session is None or form.get("csrf") != session.csrf or name not in session.names:
        return HTMLResponse(
            page.login_page("もう一度ログインしてください。", _home(request)), status_code=403
        )
    workspace = state.workspaces[name]
    department = str(form.get("department") or "").strip() or None
    try:
        result = await _decide(request, workspace, department, None, _who(request), False)
        done = " ".join(result.lines("ja")[:1])
    except XlplanError as exc:
        done = "、".join(exc.messages("ja"))
    session.notice = done
    return RedirectResponse(_home(request), status_code=303)


async def _scheduled_mail(state: Served, name: str) -> None:
    """Every ``imap_every`` minutes: take the returns mailed to the office and collect them, in line
    with the workspace's other changing requests. A failure is logged and tried again next time."""
    import xlplan

    workspace = state.workspaces[name]
    assert state.imap_every is not None
    while True:
        await asyncio.sleep(state.imap_every * 60)
        async with state.lock(name):
            try:
                await _in_worker(lambda: xlplan.collect(workspace, imap=True))
            except Exception:  # the next round tries again; the reason is in the log
                _log(workspace, "メールの定期受信")


def _log(workspace: Workspace, label: str) -> None:
    """Keep the traceback of an unexpected failure in the workspace's server log."""
    path = workspace.root / LOG_FILE
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"--- {dt.datetime.now():%Y-%m-%d %H:%M:%S} {label}\n{traceback.format_exc()}\n")
