"""``xlplan serve``: the real server on loopback, driven over HTTP as the buttons and a browser do.

The example's whole cycle goes through the API; requests without the token or with a wrong one
change nothing; concurrent uploads are all taken; an upload cut off half-way leaves nothing; a
kill -9 of the server during a collect loses nothing once it is started again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import calamine_rows
from tests.serving import TOKEN, Server
from xlplan.cli import main
from xlplan.demo.respond import fill_response
from xlplan.examples import Example
from xlplan.serve.uploads import safe_name
from xlplan.workspace.folder import Workspace, init_workspace

NAME = "令和2年度"


@pytest.fixture
def workspace(tmp_path: Path, example: Example) -> Workspace:
    return init_workspace(tmp_path / NAME, example.plan)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    running = Server([workspace.root]).start()
    yield running
    running.stop()


def _api(path: str = "") -> str:
    return f"/api/v1/workspaces/{NAME}{path}"


def _answer(example: Example, workspace: Workspace, department: str, sent: bytes, folder: Path) -> Path:
    """A department's filled return, made from the workbook it downloaded."""
    plan = workspace.load_plan()
    source = folder / f"{department}-受信.xlsx"
    source.write_bytes(sent)
    answers = [a for a in example.answers if plan.canonical_department(a.department) == department]
    target = folder / f"{department}_回答.xlsx"
    fill_response(source, answers, target)
    return target


def _snapshot(root: Path) -> dict[str, str]:
    """Every file of a workspace and its hash (the ledger's content as rows: WAL files come and go)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("ledger.sqlite"):
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    with contextlib.closing(sqlite3.connect(root / "ledger.sqlite")) as connection:
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            found[f"ledger:{table}"] = str(connection.execute(f"SELECT * FROM {table}").fetchall())
    return found


def test_the_whole_cycle_goes_through_the_api(
    server: Server, workspace: Workspace, example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with server.client() as client:
        listed = client.get("/api/v1/workspaces").json()["workspaces"]
        assert [item["name"] for item in listed] == [NAME] and listed[0]["fiscal_year"] == "令和2年度"

        distributed = client.post(_api("/distribute"))
        assert distributed.status_code == 200, distributed.text
        departments = distributed.json()["departments"]
        assert len(departments) == 15

        # Each department downloads its workbook, fills it, and the office uploads the 15 returns.
        outbox = workspace.outbox.resolve()
        returns = []
        for item in departments:
            relative = Path(item["workbook"]).resolve().relative_to(outbox).as_posix()
            sent = client.get(_api(f"/files/outbox/{relative}"))
            assert sent.status_code == 200 and sent.content[:2] == b"PK"
            returns.append(_answer(example, workspace, item["department"], sent.content, tmp_path))
        for path in returns:
            uploaded = client.post(_api("/returns"), files={"file": (path.name, path.read_bytes())})
            assert uploaded.status_code == 201, uploaded.text
            [receipt] = uploaded.json()["receipts"]
            assert receipt["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
            assert (workspace.inbox / receipt["saved_as"]).read_bytes() == path.read_bytes()

        collected = client.post(_api("/collect")).json()
        assert [f["outcome"] for f in collected["files"]].count("accepted") == 15, collected
        consolidated = client.post(_api("/consolidate"), params={"csv": "1"})
        assert consolidated.status_code == 200 and consolidated.json()["rows"] == 86
        table = (
            Path(consolidated.json()["xlsx"]).resolve().relative_to(workspace.reports.resolve()).as_posix()
        )
        assert client.get(_api(f"/files/reports/{table}")).content[:2] == b"PK"

        status = client.get(_api("/status")).json()
    # GET …/status is the document of `xlplan status --json`.
    capsys.readouterr()
    main(["status", "-w", str(workspace.root), "--json"])
    assert status == json.loads(capsys.readouterr().out)
    assert status["counts"]["accepted"] == 15


def test_without_the_token_or_with_a_wrong_one_nothing_is_done(server: Server, workspace: Workspace) -> None:
    before = _snapshot(workspace.root)
    with server.client(token=None) as anonymous, server.client(token="wrong") as wrong:
        for client, code in ((anonymous, 401), (wrong, 401)):
            for verb in ("distribute", "collect", "consolidate", "remind", "rollover"):
                refused = client.post(_api(f"/{verb}"))
                assert refused.status_code == code, (verb, refused.text)
                assert refused.json()["ok"] is False and refused.json()["findings"][0]["message"]
            assert client.post(_api("/returns"), files={"file": ("x.xlsx", b"PK")}).status_code == code
            assert client.get(_api("/status")).status_code == code
            assert client.get("/api/v1/workspaces").status_code == code
        assert anonymous.post(_api("/distribute")).headers["www-authenticate"] == "Bearer"
    assert _snapshot(workspace.root) == before


def test_files_outside_the_three_folders_are_not_served(server: Server, workspace: Workspace) -> None:
    with server.client() as client:
        for path in ("/files/outbox/../ledger.sqlite", "/files/outbox/%2e%2e/ledger.sqlite",
                     "/files/archive/x", "/files/reports/../.xlplan/signing.key"):  # fmt: skip
            # (httpx folds "../" itself; the server sees the raw form only through the escaped one)
            answer = client.get(_api(path), follow_redirects=True)
            assert answer.status_code in (404, 405), (path, answer.status_code)
            assert not answer.content.startswith(b"SQLite format")
        assert client.get("/api/v1/workspaces/ほか/status").status_code == 404


def test_twenty_concurrent_uploads_are_all_taken(server: Server, workspace: Workspace) -> None:
    bodies = [f"return {number}".encode() * 100 for number in range(20)]

    def upload(body: bytes) -> int:
        with server.client() as client:
            return client.post(_api("/returns"), files={"file": ("回答.xlsx", body)}).status_code

    with ThreadPoolExecutor(20) as pool:
        assert list(pool.map(upload, bodies)) == [201] * 20
    saved = sorted(path.read_bytes() for path in workspace.inbox.iterdir())
    assert saved == sorted(bodies)  # twenty files, none overwritten, nothing half-written
    assert not [path for path in workspace.inbox.iterdir() if path.name.startswith(".")]
    with server.client() as client:
        collected = client.post(_api("/collect")).json()
    assert len(collected["files"]) == 20  # each archived and judged (these are not workbooks)


def test_an_upload_cut_off_half_way_leaves_nothing(server: Server, workspace: Workspace) -> None:
    boundary = "xlplanboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.xlsx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + b"PK" + b"x" * 200_000
    request = (
        f"POST {quote(_api('/returns'))} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body) + 1_000_000}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        raw.sendall(request + body)  # a million bytes short of what it announced
        time.sleep(0.5)
    time.sleep(1.0)
    assert list(workspace.inbox.iterdir()) == []
    with server.client() as client:  # and the server goes on serving
        assert client.get(_api("/status")).status_code == 200


def test_a_kill_during_collect_loses_nothing(workspace: Workspace, example: Example, tmp_path: Path) -> None:
    import xlplan

    sent = xlplan.distribute(workspace)
    returns = []
    for item in sent.departments:
        assert item.workbook is not None
        returns.append(_answer(example, workspace, item.department, item.workbook.read_bytes(), tmp_path))
    server = Server([workspace.root]).start()
    try:
        with server.client() as client:
            for path in returns:
                assert (
                    client.post(_api("/returns"), files={"file": (path.name, path.read_bytes())}).status_code
                    == 201
                )

        def collect() -> None:
            with contextlib.suppress(Exception), server.client() as client:
                client.post(_api("/collect"))

        running = threading.Thread(target=collect)
        running.start()
        time.sleep(0.8)  # inside the collect: files are being archived and checked
        server.kill()
        running.join(10)
    finally:
        server.stop()
    again = Server([workspace.root]).start()
    try:
        with again.client() as client:
            client.post(_api("/collect"))
            status = client.get(_api("/status")).json()
    finally:
        again.stop()
    assert status["counts"]["accepted"] == 15, status["counts"]
    with contextlib.closing(sqlite3.connect(workspace.root / "ledger.sqlite")) as connection:
        left = connection.execute("SELECT COUNT(*) FROM receipts WHERE status = 'archived'").fetchone()[0]
        taken = connection.execute("SELECT COUNT(DISTINCT sha256) FROM receipts").fetchone()[0]
    assert left == 0 and taken == 15  # every return checked, none lost, none taken twice


def test_the_buttons_get_the_status_sheet(server: Server) -> None:
    with server.client() as client:
        reply = client.post(_api("/distribute"), params={"format": "sheet"})
        refused = client.post(_api("/rollover"), params={"format": "sheet"})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/tab-separated-values")
    lines = reply.content.decode("utf-8").split("\n")
    assert lines[0].startswith("「配布」が終わりました") and "\\n" in lines[0]
    rows = [line.split("\t") for line in lines[1:] if line]
    assert rows[1][:2] == ["処理", "配布"] and all(len(row) == 5 for row in rows)
    # Refused (nothing accepted yet): a Japanese reason, in the same shape, with an error status.
    assert refused.status_code == 422
    assert refused.content.decode("utf-8").startswith("「次年度へ」を実行できませんでした")
    with server.client() as client:  # 回答状況: the Python button's lines, one a department
        status = client.get(_api("/status"), params={"format": "sheet"}).content.decode("utf-8")
    alert = status.split("\n")[0].split("\\n")
    assert (
        "令和2年度 第1回照会: 期限超過 15（全15課）" in alert
        and "文化課: 期限超過（エラー 0・警告 0）" in alert
    ), alert
    assert "回答状況を保存しました" in status


def test_a_token_is_made_once_kept_private_and_printed_once(workspace: Workspace) -> None:
    def check() -> str:
        env_less = [sys.executable, "-m", "xlplan", "serve", "-w", str(workspace.root), "--check"]
        done = subprocess.run(env_less, capture_output=True, text=True, env=_without_token(), check=True)
        return done.stdout

    first, second = check(), check()
    token_file = workspace.root / ".xlplan" / "server-token"
    token = token_file.read_text(encoding="ascii").strip()
    assert token in first and token not in second
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    server = Server([workspace.root], token=None).start()
    try:
        with server.client(token=token) as client:
            assert client.get(_api("/status")).status_code == 200
    finally:
        server.stop()


def test_the_admin_console_speaks_english_when_asked(example: Example, tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "plan", example.plan)
    command = [sys.executable, "-m", "xlplan", "--lang", "en", "serve", "-w", str(workspace.root), "--check"]
    done = subprocess.run(command, capture_output=True, text=True, env=_without_token(), check=True)
    token = (workspace.root / ".xlplan" / "server-token").read_text(encoding="ascii").strip()
    assert f"The token of workspace plan (shown this once only; keep it): {token}" in done.stdout
    assert "The settings are fine (workspaces: plan)." in done.stdout
    assert not re.search(r"[ぁ-んァ-ン一-龥]", done.stdout)  # no Japanese left but the data's


def test_a_short_token_is_refused_and_an_empty_token_file_is_made_again(workspace: Workspace) -> None:
    command = [sys.executable, "-m", "xlplan", "serve", "-w", str(workspace.root), "--check"]
    short = subprocess.run(
        command, capture_output=True, text=True, env={**_without_token(), "XLPLAN_TOKEN": "1234"}
    )
    assert short.returncode == 2 and "(serve-weak-token)" in short.stderr and "16 文字以上" in short.stderr
    token_file = workspace.root / ".xlplan" / "server-token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text("", encoding="ascii")  # a first start killed before it wrote the token
    made = subprocess.run(command, capture_output=True, text=True, env=_without_token(), check=True)
    token = token_file.read_text(encoding="ascii").strip()
    assert len(token) >= 40 and token in made.stdout


@pytest.mark.parametrize(
    "modules", [("starlette",), ("uvicorn",), ("anyio",), ("python_multipart", "multipart")]
)
def test_without_the_serve_extra_the_server_says_what_to_install(
    workspace: Workspace, modules: tuple[str, ...]
) -> None:
    # A staff PC installs xlplan[excel] only: the HTTP stack is the serve extra. The modules are made
    # unimportable in a fresh interpreter, as on a machine that never installed them (python-multipart
    # is imported by Starlette only when a form is parsed: --check must find it missing all the same).
    hidden = "; ".join(f"sys.modules[{module!r}] = None" for module in modules)
    script = (
        f"import sys; {hidden}; from xlplan.cli import main; "
        f"sys.exit(main(['serve', '-w', {str(workspace.root)!r}, '--check']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_without_token()
    )
    assert done.returncode == 2, done.stderr
    assert "(serve-extra-missing)" in done.stderr and 'pip install "xlplan[serve]"' in done.stderr
    assert "Traceback" not in done.stderr
    assert not (workspace.root / ".xlplan" / "server-token").exists()  # nothing was made


def test_an_upload_under_a_name_intake_passes_over_is_still_taken_in(
    server: Server, workspace: Workspace, example: Example, tmp_path: Path
) -> None:
    # Excel saves through a temporary name (8A3F1C20.tmp); intake passes .tmp files over, so the
    # server keeps the upload under a name it reads rather than acknowledge a file never collected.
    with server.client() as client:
        department = client.post(_api("/distribute")).json()["departments"][0]
        relative = Path(department["workbook"]).resolve().relative_to(workspace.outbox.resolve()).as_posix()
        sent = client.get(_api(f"/files/outbox/{relative}")).content
        answer = _answer(example, workspace, department["department"], sent, tmp_path)
        uploaded = client.post(_api("/returns"), files={"file": ("8A3F1C20.tmp", answer.read_bytes())})
        assert uploaded.status_code == 201, uploaded.text
        [receipt] = uploaded.json()["receipts"]
        assert receipt["saved_as"] == "8A3F1C20.tmp.xlsx"
        collected = client.post(_api("/collect")).json()
    assert [(f["department"], f["outcome"]) for f in collected["files"]] == [
        (department["department"], "accepted")
    ]


def _without_token() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key != "XLPLAN_TOKEN"}


def test_clients_outside_the_allowed_networks_are_refused(workspace: Workspace) -> None:
    server = Server([workspace.root], extra=["--allow", "10.0.0.0/8"]).start()
    try:
        with server.client() as client:
            assert client.get(_api("/status")).status_code == 403
    finally:
        server.stop()


def test_several_workspaces_by_folder_name(workspace: Workspace, example: Example, tmp_path: Path) -> None:
    other = init_workspace(tmp_path / "総合計画", example.plan)
    server = Server([workspace.root, other.root]).start()
    try:
        with server.client() as client:
            names = [item["name"] for item in client.get("/api/v1/workspaces").json()["workspaces"]]
            assert names == sorted([NAME, "総合計画"])
            assert client.get("/api/v1/workspaces/総合計画/status").status_code == 200
    finally:
        server.stop()


def test_a_workspace_served_from_inside_its_folder_is_addressed_by_the_folder_s_name(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = init_workspace(tmp_path / "令和3年度", example.plan)
    monkeypatch.chdir(workspace.root)  # xlplan serve started in the folder: -w is "."
    server = Server([Path(".")]).start()
    try:
        with server.client() as client:
            names = [item["name"] for item in client.get("/api/v1/workspaces").json()["workspaces"]]
            assert names == ["令和3年度"]
            assert client.get(f"/api/v1/workspaces/{quote('令和3年度', safe='')}/status").status_code == 200
    finally:
        server.stop()
    # … and the buttons built there call it by that name.
    assert main(["excel", "build", "--server", "http://127.0.0.1:8765"]) == 0
    settings = {row[0]: row[1] for row in calamine_rows(workspace.master_path, "xlplan.server")[1:8]}
    assert settings["WORKSPACE"] == "令和3年度"


def test_a_client_sending_what_the_server_mode_vba_sends(server: Server, workspace: Workspace) -> None:
    """The bytes xlplan/buttons/vba/server_buttons.bas builds: a percent-encoded workspace name, POSTs
    with no body and no Content-Type, one multipart upload of several files with raw UTF-8 names."""
    from urllib.parse import quote

    base = f"/api/v1/workspaces/{quote(NAME, safe='')}"
    with server.client() as client:
        reply = client.request("POST", base + "/distribute?format=sheet")
        assert reply.status_code == 200 and reply.headers["content-type"].startswith(
            "text/tab-separated-values"
        )
        boundary = "----xlplan1234567"
        parts = b""
        for name, data in (("企画政策課_回答.xlsx", b"PK first"), ("文化課 回答.xlsx", b"PK second")):
            parts += (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n"
                ).encode()
                + data
                + b"\r\n"
            )
        parts += f"--{boundary}--\r\n".encode()
        uploaded = client.post(
            base + "/returns?format=sheet",
            content=parts,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        status = client.get(base + "/status")
    assert uploaded.status_code == 201, uploaded.text
    assert sorted(path.name for path in workspace.inbox.iterdir()) == [
        "企画政策課_回答.xlsx",
        "文化課 回答.xlsx",
    ]
    text = uploaded.content.decode("utf-8")
    assert "企画政策課_回答.xlsx" in text and text.splitlines()[2].split("\t")[:2] == ["処理", "回答を送る"]
    # 次年度へ asks the status first and reads the year after "fiscal_year" … "western".
    body = status.text
    assert body.index('"western"', body.index('"fiscal_year"')) > 0 and "2020" in body


def test_a_japanese_name_too_long_for_the_disk_is_shortened_and_kept(
    server: Server, workspace: Workspace
) -> None:
    names = ["令和2年度男女共同参画プラン事業実績報告書" * 6 + ".xlsx", "CON.xlsx", "回答.xlsx"]
    assert len(names[0].encode()) > 255  # more than Linux lets a name have
    with server.client() as client:
        uploaded = client.post(_api("/returns"), files=[("file", (name, name.encode())) for name in names])
    assert uploaded.status_code == 201, uploaded.text
    saved = [receipt["saved_as"] for receipt in uploaded.json()["receipts"]]
    assert saved[0].startswith("令和2年度男女共同参画プラン") and saved[0].endswith(".xlsx")
    assert len(saved[0].encode()) <= 200 and saved[1] == "_CON.xlsx" and saved[2] == "回答.xlsx"
    huge = safe_name("あ" * 1_000_000 + ".xlsx")  # cut once at its byte budget, never inside a character
    assert huge.endswith("あ.xlsx") and len(huge.encode()) <= 200
    assert [(workspace.inbox / name).read_bytes() for name in saved] == [name.encode() for name in names]


def _raw_upload(server: Server, headers: str, body: Iterator[bytes]) -> str:
    """Send an upload over a plain socket until the server answers; its status line and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as raw:
        raw.sendall(
            f"POST {quote(_api('/returns'))} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\n{headers}\r\n".encode()
        )
        answer = b""
        with contextlib.suppress(OSError):  # the server closes while the body is still coming
            for chunk in body:
                raw.sendall(chunk)
                raw.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    answer += raw.recv(65536)
                raw.setblocking(True)
                if answer:
                    break
        raw.settimeout(30)
        with contextlib.suppress(OSError):
            while not _whole(answer) and (part := raw.recv(65536)):
                answer += part
    return answer.decode("utf-8", errors="replace")


def _whole(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole HTTP response (its headers and the body they announce)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    length = [
        line.split(b":")[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
    ]
    return bool(found and length and len(body) >= int(length[0]))


@pytest.mark.parametrize("limit_mb", [None, 2])
def test_an_upload_over_the_limit_is_refused_before_it_is_stored(
    workspace: Workspace, limit_mb: int | None
) -> None:
    from xlplan.serve.limits import MAX_REQUEST_BYTES

    extra = ["--upload-limit", str(limit_mb)] if limit_mb else []
    limit = limit_mb * 1024 * 1024 if limit_mb else MAX_REQUEST_BYTES
    server = Server([workspace.root], extra=extra).start()
    try:
        _refused_over(server, workspace, limit, chunked=limit_mb is not None)
    finally:
        server.stop()


def _refused_over(server: Server, workspace: Workspace, limit: int, *, chunked: bool) -> None:
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.xlsx"\r\n\r\n'
    announced = _raw_upload(server, f"Content-Length: {limit + 1}\r\n", iter([head]))
    assert announced.startswith("HTTP/1.1 413") and "何回かに分けて送ってください" in announced, announced[
        :300
    ]
    assert f"{limit // (1024 * 1024)} MB" in announced

    def chunked_body() -> Iterator[bytes]:  # no length announced: counted as it arrives
        yield b"%x\r\n%s\r\n" % (len(head), head)
        block = b"x" * (1 << 20)
        for _ in range(limit // len(block) + 8):
            yield b"%x\r\n%s\r\n" % (len(block), block)

    if chunked:  # the default's 256 MB would take half a minute to send here
        streamed = _raw_upload(server, "Transfer-Encoding: chunked\r\n", chunked_body())
        assert streamed.startswith("HTTP/1.1 413") and "serve-request-too-large" in streamed, streamed[:300]
    assert list(workspace.inbox.iterdir()) == []
    with server.client() as client:
        assert client.get(_api("/status")).status_code == 200


def test_the_servers_refusals_are_japanese_and_nothing_is_said_without_the_token(server: Server) -> None:
    with server.client(token=None) as anonymous:
        unknown = anonymous.post(_api("/launch"))
        assert unknown.status_code == 401 and "launch" not in unknown.text  # the token before anything
    with server.client() as client:
        verb = client.post(_api("/launch")).json()
        assert verb["findings"][0]["code"] == "serve-unknown-verb"
        for answer, code in (
            (client.get("/api/v2/nothing"), "serve-not-found"),
            (client.get(_api("/collect")), "serve-method-not-allowed"),
        ):
            (finding,) = answer.json()["findings"]
            assert finding["code"] == code and "ません" in finding["message"], answer.text
        assert client.get(_api("/collect")).headers["allow"] == "POST"  # what a 405 must say
        files = [("file", (f"{n}.xlsx", b"x")) for n in range(201)]
        many = client.post(_api("/returns"), files=files)
        (finding,) = many.json()["findings"]
        assert finding["code"] == "serve-too-many-files" and "200 個まで" in finding["message"]
        assert "Exception" not in many.text
