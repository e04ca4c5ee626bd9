"""Returns by mail: a real IMAP server (Debian's dovecot) on loopback, the office's mailbox in it.

The tests start dovecot with their own configuration (a passwd-file user per test, maildirs
in a temporary folder, IMAPS and STARTTLS with a self-signed certificate made by openssl),
deliver real mails with APPEND (a department's returned workbook attached) and take them
with ``xlplan collect --imap``. They prove: returns mailed are collected and accepted once
each, the mails stay on the server marked as taken, the sender is recorded; a mail with no
workbook is reported; a wrong password, an unreachable server, a missing folder or an
untrusted certificate is a Japanese finding and changes nothing; a mail over the size limit
is left on the server; kill -9 of a real process at any moment between recording, saving
and marking a mail is resumed without a duplicate or a loss.
"""

from __future__ import annotations

import dataclasses
import imaplib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import NoReturn

import openpyxl
import pytest

import xlplan
from xlplan.cli import main
from xlplan.collection import imap as collection_imap
from xlplan.collection.imap import fetch
from xlplan.demo.respond import fill_response
from xlplan.distribution.run import distribute
from xlplan.errors import ConfigurationError
from xlplan.examples import Example
from xlplan.mailbox import PASSWORD_ENV, TAKEN_KEYWORD, Mailbox, quote_folder
from xlplan.workspace.folder import Workspace, init_workspace
from xlplan.workspace.master import read_master

DEPARTMENTS = ("社会福祉課", "総務課")
PASSWORD = "計画-Kikaku-2021"  # not ASCII: such a password is sent with AUTHENTICATE PLAIN (UTF-8)
USERS = 40
"""Mailboxes made for the tests, one each."""
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _dovecot() -> str | None:
    found = shutil.which("dovecot")
    if found is None and Path("/usr/sbin/dovecot").exists():  # /usr/sbin is not on every user's PATH
        found = "/usr/sbin/dovecot"
    return found


def _unavailable(reason: str) -> NoReturn:
    """Skip (a developer's machine without dovecot), or fail where CI promised the real server."""
    if os.environ.get("XLPLAN_REQUIRE_DOVECOT") == "1":
        pytest.fail(f"{reason} (XLPLAN_REQUIRE_DOVECOT=1: .ci/run installs it)")
    pytest.skip(f"{reason}; .ci/run installs it")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A dovecot on loopback: ``imaps`` (SSL) and ``imap`` (STARTTLS or none) ports, its CA file."""

    root: Path
    imaps: int
    imap: int
    cafile: Path
    passwd: Path
    users: int = 0

    def add_user(self) -> str:
        """A fresh mailbox (its own maildir, empty): the login name."""
        self.users += 1
        assert self.users <= USERS, "more tests than mailboxes: raise USERS"
        return f"kikaku{self.users}@ogi.example"

    def client(self, user: str, password: str) -> imaplib.IMAP4_SSL:
        """A test's own IMAP client (the department's mail arriving, the office looking)."""
        context = ssl.create_default_context(cafile=str(self.cafile))
        connection = imaplib.IMAP4_SSL("127.0.0.1", self.imaps, ssl_context=context, timeout=10)
        connection.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
        return connection


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """dovecot started for these tests with its own configuration; stopped at the end."""
    binary = _dovecot()
    if binary is None:
        _unavailable("dovecot is not installed (apt-get install dovecot-imapd)")
    if shutil.which("openssl") is None:
        _unavailable("openssl is not installed: the test server's certificate is made with it")
    # Not under pytest's tmp folder: dovecot's login process runs as another user where the tests run
    # as root, and must reach the sockets here.
    root = Path(tempfile.mkdtemp(prefix="xlplan-dovecot-"))
    root.chmod(0o755)
    for name in ("run", "state", "home"):
        (root / name).mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    (root / "key.pem").chmod(0o600)
    if os.geteuid() == 0:  # dovecot refuses root for its login and mail processes: its own users
        internal, login = "dovecot", "dovenull"
        try:
            mail_user = pwd.getpwnam("dovecot")
            pwd.getpwnam("dovenull")
        except KeyError:
            _unavailable("dovecot's users (dovecot, dovenull) are missing: install the dovecot-imapd package")
    else:
        internal = login = pwd.getpwuid(os.getuid()).pw_name
        mail_user = pwd.getpwuid(os.getuid())
    os.chown(root / "home", mail_user.pw_uid, mail_user.pw_gid)
    passwd = root / "passwd"  # every test's mailbox made now: dovecot reads the file as it starts
    passwd.write_text("".join(f"kikaku{n}@ogi.example:{{PLAIN}}{PASSWORD}::::::\n" for n in range(1, USERS + 1)),
                      encoding="utf-8")  # fmt: skip
    passwd.chmod(0o644)
    imaps, imap = _free_port(), _free_port()
    config = root / "dovecot.conf"
    config.write_text(
        textwrap.dedent(
            f"""\
            base_dir = {root}/run
            state_dir = {root}/state
            log_path = {root}/dovecot.log
            protocols = imap
            listen = 127.0.0.1
            ssl = yes
            ssl_cert = <{root}/cert.pem
            ssl_key = <{root}/key.pem
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            auth_failure_delay = 0
            default_internal_user = {internal}
            default_internal_group = {internal}
            default_login_user = {login}
            first_valid_uid = 1
            mail_location = maildir:~/Maildir
            passdb {{
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {passwd}
            }}
            userdb {{
              driver = passwd-file
              args = username_format=%u {passwd}
              default_fields = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
            }}
            service imap-login {{
              chroot =
              inet_listener imap {{
                address = 127.0.0.1
                port = {imap}
              }}
              inet_listener imaps {{
                address = 127.0.0.1
                port = {imaps}
                ssl = yes
              }}
            }}
            service anvil {{
              chroot =
            }}
            """
        ),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(process, imaps, root)
        yield Server(root, imaps, imap, root / "cert.pem", passwd)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(process: subprocess.Popen[bytes], port: int, root: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (
                (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
            )
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"dovecot did not start:\n{output}\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("dovecot did not listen within 20 seconds")


# --- the workspace and the mails ---------------------------------------------------------------


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory, example: Example) -> dict[str, bytes]:
    """Two real returned workbooks (distributed, filled with openpyxl and saved), by department."""
    root = tmp_path_factory.mktemp("imap-returns")
    workspace = init_workspace(root / "ws", example.plan)
    result = distribute(workspace, only=list(DEPARTMENTS), workers=1)
    made: dict[str, bytes] = {}
    for item in result.departments:
        assert item.workbook is not None
        answers = [
            a for a in example.answers if example.plan.canonical_department(a.department) == item.department
        ]
        fill_response(item.workbook, answers, root / f"{item.department}.xlsx")
        made[item.department] = (root / f"{item.department}.xlsx").read_bytes()
    # The workspace the returns answer: each test copies it, so the signatures are this workspace's.
    made["__workspace__"] = str(workspace.root).encode()
    return made


def _workspace(
    tmp_path: Path, returns: dict[str, bytes], server: Server, user: str, **settings: str
) -> Workspace:
    """A copy of the returns' workspace whose master names the test mailbox (as staff type it on 設定)."""
    source = Path(returns["__workspace__"].decode())
    root = tmp_path / "ws"
    shutil.copytree(source, root)
    book = openpyxl.load_workbook(root / "master.xlsx")
    sheet = book["設定"]
    values = {"IMAPサーバー": "127.0.0.1", "IMAPポート": str(server.imaps), "IMAP暗号化": "SSL",
              "IMAPユーザー": user, "IMAP証明書": str(server.cafile), **settings}  # fmt: skip
    row = sheet.max_row + 1
    for offset, (key, value) in enumerate(values.items()):
        sheet.cell(row=row + offset, column=1, value=key)
        sheet.cell(row=row + offset, column=2, value=value)
    book.save(root / "master.xlsx")
    return Workspace(root)


def _mail(sender: str, subject: str, attachments: dict[str, bytes]) -> bytes:
    """A department's reply as a mail client sends it: Japanese subject, the workbook attached."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = formataddr(("担当者", sender))
    message["To"] = "kikaku@ogi.example"
    message["Subject"] = subject
    message.set_content("回答を送付します。", charset="utf-8", cte="base64")
    for name, data in attachments.items():
        message.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=name)
    return message.as_bytes()


def _deliver(server: Server, user: str, *mails: bytes, folder: str = "INBOX") -> None:
    client = server.client(user, PASSWORD)
    try:
        for mail in mails:
            status, _ = client.append(quote_folder(folder), None, None, mail)
            assert status == "OK"
    finally:
        client.logout()


def _flags(server: Server, user: str, folder: str = "INBOX") -> dict[int, set[str]]:
    """Every mail of the folder by UID, with its flags: what the office's mail client would show."""
    client = server.client(user, PASSWORD)
    try:
        client.select(quote_folder(folder), readonly=True)
        status, data = client.uid("FETCH", "1:*", "(FLAGS)")
        assert status == "OK"
        found: dict[int, set[str]] = {}
        for line in data:
            if isinstance(line, bytes) and (match := re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", line)):
                found[int(match.group(1))] = set(match.group(2).decode().split())
        return found
    finally:
        client.logout()


def _imap_rows(workspace: Workspace) -> list[tuple[int, str, str]]:
    with sqlite3.connect(workspace.ledger_path) as connection:
        rows = connection.execute("SELECT uid, state, inbox_path FROM imap_messages ORDER BY uid").fetchall()
    return [(int(uid), str(state), str(path)) for uid, state, path in rows]


def _saved(workspace: Workspace) -> list[str]:
    """The mails saved in inbox/imap (hidden temporary files included: there must be none)."""
    folder = workspace.inbox / "imap"
    return sorted(
        path.relative_to(workspace.inbox).as_posix() for path in folder.rglob("*") if path.is_file()
    )


@pytest.fixture
def mailbox(server: Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty office mailbox; its password in the environment as the server admin sets it."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return server.add_user()


# --- the whole way: mailed, taken, collected, accepted — once --------------------------------------


def test_returns_mailed_to_the_office_are_collected_each_once(
    tmp_path: Path,
    returns: dict[str, bytes],
    server: Server,
    mailbox: str,
    example: Example,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workspace = _workspace(tmp_path, returns, server, mailbox)
    welfare = example.plan.department("社会福祉課").email
    assert welfare
    _deliver(
        server,
        mailbox,
        _mail(welfare, "【回答】実績照会（社会福祉課）", {"回答_社会福祉課.xlsx": returns["社会福祉課"]}),
        _mail(
            "somu.staff@gmail.example", "回答です", {"総務課.xlsx": returns["総務課"]}
        ),  # not the registered address
        _mail(welfare, "お問い合わせ", {}),  # a mail with no workbook
    )
    assert main(["collect", "-w", str(workspace.root), "--imap", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["imap"]["taken"] == 3
    assert [mail["uid"] for mail in document["imap"]["mails"]] == [1, 2, 3]
    assert document["imap"]["mails"][0]["sender"] == welfare
    assert document["imap"]["mails"][0]["subject"] == "【回答】実績照会（社会福祉課）"
    assert document["counts"]["accepted"] == 2
    by_name = {item["file"]: item for item in document["files"]}
    assert set(by_name) == {"回答_社会福祉課.xlsx", "総務課.xlsx"}
    assert [f["code"] for f in by_name["総務課.xlsx"]["findings"]] == ["sender-not-registered"]
    assert [f["code"] for f in document["findings"]] == ["eml-no-workbook"]
    assert "imap/INBOX/" in document["findings"][0]["message"]

    # The ledger knows who sent each file and the mail it came in.
    with sqlite3.connect(workspace.ledger_path) as connection:
        rows = connection.execute(
            "SELECT r.original_name, r.source, r.sender, r.status, m.original_name FROM receipts r "
            "LEFT JOIN receipts m ON m.id = r.container_id WHERE r.source = 'eml' ORDER BY r.id"
        ).fetchall()
    validity = _imap_rows(workspace)[0][2].split("/")[2].split("-")[0]
    assert rows == [
        ("回答_社会福祉課.xlsx", "eml", welfare, "accepted", f"imap/INBOX/{validity}-1.eml"),
        ("総務課.xlsx", "eml", "somu.staff@gmail.example", "accepted", f"imap/INBOX/{validity}-2.eml"),
    ]
    # Every mail is still on the server, marked as taken, not deleted, and not made "read".
    flags = _flags(server, mailbox)
    assert sorted(flags) == [1, 2, 3]
    assert all(
        TAKEN_KEYWORD in mail and "\\Deleted" not in mail and "\\Seen" not in mail for mail in flags.values()
    )
    assert [state for _, state, _ in _imap_rows(workspace)] == ["marked"] * 3
    assert _saved(workspace) == [f"imap/INBOX/{validity}-{uid}.eml" for uid in (1, 2, 3)]

    # Again: nothing new on the server, nothing taken, nothing collected.
    again = xlplan.collect(workspace, imap=True)
    assert again.imap is not None and again.imap.taken == 0 and again.files == ()
    assert again.lines()[0] == f"メール（127.0.0.1:{server.imaps}、INBOX）: 0 通を受信"
    assert _saved(workspace) == [f"imap/INBOX/{validity}-{uid}.eml" for uid in (1, 2, 3)]

    # A late mail is taken on its own by the function a server calls on a schedule.
    _deliver(server, mailbox, _mail(welfare, "再送", {"再送.xlsx": returns["社会福祉課"]}))
    later = fetch(workspace)
    assert [(mail.uid, mail.file) for mail in later.mails] == [(4, f"imap/INBOX/{validity}-4.eml")]
    assert later.ok and later.to_dict()["taken"] == 1
    assert (
        xlplan.collect(workspace).count("duplicate") == 1
    )  # the same workbook again: archived, not re-checked


def test_a_japanese_folder_and_starttls(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str
) -> None:
    client = server.client(mailbox, PASSWORD)
    assert client.create(quote_folder("回答"))[0] == "OK"
    client.logout()
    _deliver(
        server, mailbox, _mail("somu@ogi.example", "回答", {"総務課.xlsx": returns["総務課"]}), folder="回答"
    )
    workspace = _workspace(tmp_path, returns, server, mailbox, IMAPポート=str(server.imap),
                           IMAP暗号化="STARTTLS", IMAPフォルダ="回答")  # fmt: skip
    result = xlplan.collect(workspace, imap=True)
    assert result.imap is not None and result.imap.taken == 1, result.findings
    assert result.imap.mails[0].file.startswith("imap/回答/")
    assert result.count("accepted") == 1
    assert TAKEN_KEYWORD in _flags(server, mailbox, "回答")[1]


def test_a_plain_connection_on_loopback(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str
) -> None:
    _deliver(server, mailbox, _mail("somu@ogi.example", "回答", {"総務課.xlsx": returns["総務課"]}))
    workspace = _workspace(tmp_path, returns, server, mailbox, IMAPポート=str(server.imap), IMAP暗号化="なし")
    assert fetch(workspace).taken == 1


# --- nothing changes when the mailbox cannot be used ------------------------------------------------


def _nothing_changed(workspace: Workspace, server: Server, user: str) -> None:
    assert _imap_rows(workspace) == []
    assert not (workspace.inbox / "imap").exists()
    assert all(
        TAKEN_KEYWORD not in flags and "\\Seen" not in flags for flags in _flags(server, user).values()
    )


def test_a_wrong_password_is_a_japanese_finding_and_nothing_changes(
    tmp_path: Path,
    returns: dict[str, bytes],
    server: Server,
    mailbox: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _deliver(server, mailbox, _mail("somu@ogi.example", "回答", {"総務課.xlsx": returns["総務課"]}))
    workspace = _workspace(tmp_path, returns, server, mailbox)
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password")
    assert main(["collect", "-w", str(workspace.root), "--imap"]) == 1
    out, err = capsys.readouterr()
    assert "0 通を受信" in out
    assert f"メールサーバー 127.0.0.1 にユーザー {mailbox} でログインできません" in err
    [finding] = xlplan.collect(workspace, imap=True).findings
    assert (finding.code, finding.severity, finding.sheet) == ("imap-login-failed", "error", "設定")
    assert "Authentication failed" in finding.message()  # the server's own reply, for the admin
    assert "Cannot log in to the mail server" in finding.message("en")
    _nothing_changed(workspace, server, mailbox)


@pytest.mark.parametrize(
    ("settings", "code", "words"),
    [
        (
            {"IMAPフォルダ": "存在しないフォルダ"},
            "imap-no-folder",
            "フォルダ「存在しないフォルダ」がありません",
        ),
        ({"IMAP証明書": ""}, "imap-tls-failed", "サーバーの証明書を確認できません"),  # a self-signed server
        ({"IMAPポート": "{imap}"}, "imap-tls-failed", "暗号化して通信できません"),  # SSL to the plain port
        ({"IMAPポート": "{closed}"}, "imap-unreachable", "接続を拒否されました"),
    ],
)
def test_a_mailbox_that_cannot_be_used_is_a_finding_and_nothing_changes(
    tmp_path: Path,
    returns: dict[str, bytes],
    server: Server,
    mailbox: str,
    settings: dict[str, str],
    code: str,
    words: str,
) -> None:
    _deliver(server, mailbox, _mail("somu@ogi.example", "回答", {"総務課.xlsx": returns["総務課"]}))
    values = {key: value.format(imap=server.imap, closed=_free_port()) for key, value in settings.items()}
    workspace = _workspace(tmp_path, returns, server, mailbox, **values)
    started = time.monotonic()
    result = fetch(workspace)
    assert time.monotonic() - started < 30  # bounded waits: the run never hangs on the server
    assert [finding.code for finding in result.findings] == [code]
    assert (
        words in result.findings[0].message() and "メールは受信していません" in result.findings[0].message()
    )
    _nothing_changed(workspace, server, mailbox)


def test_missing_settings_stop_before_anything(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    plain = Workspace(tmp_path / "plain")
    shutil.copytree(Path(returns["__workspace__"].decode()), plain.root)
    assert main(["collect", "-w", str(plain.root), "--imap"]) == 2
    assert "「IMAPサーバー」と「IMAPユーザー」を入力してください" in capsys.readouterr().err
    workspace = _workspace(tmp_path, returns, server, mailbox)
    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.setitem(sys.modules, "keyring", None)  # no keyring either
    with pytest.raises(ConfigurationError) as raised:
        xlplan.collect(workspace, imap=True)
    assert [f.code for f in raised.value.findings] == ["imap-no-password"]
    assert "XLPLAN_IMAP_PASSWORD" in raised.value.findings[0].message()
    with sqlite3.connect(workspace.ledger_path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM receipts").fetchone() == (0,)


def test_bad_imap_settings_are_master_findings_naming_the_cell(
    tmp_path: Path, returns: dict[str, bytes], server: Server
) -> None:
    workspace = _workspace(tmp_path, returns, server, "", IMAPポート="九九三", IMAP暗号化="TLS1.3")
    with pytest.raises(ConfigurationError) as raised:
        read_master(workspace.master_path)
    found = {(f.code, f.params.get("key")): f for f in raised.value.findings}
    assert set(found) == {("imap-bad-setting", "IMAPポート"), ("imap-bad-setting", "IMAP暗号化"),
                          ("master-missing-setting", "IMAPユーザー")}  # fmt: skip
    port = found["imap-bad-setting", "IMAPポート"]
    assert port.sheet == "設定" and port.cell is not None and port.cell.startswith("B")
    assert "設定「IMAPポート」の値「九九三」が正しくありません（1〜65535 の整数）" in port.message()


# --- limits and marks ---------------------------------------------------------------------------------


def test_a_mail_over_the_size_limit_is_left_on_the_server(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deliver(server, mailbox, _mail("somu@ogi.example", "大きな回答", {"総務課.xlsx": returns["総務課"]}))
    workspace = _workspace(tmp_path, returns, server, mailbox)
    monkeypatch.setattr(collection_imap, "MAX_MAIL_BYTES", 4096)  # the workbook alone is larger
    result = fetch(workspace)
    [finding] = result.findings
    assert finding.code == "imap-mail-too-large" and finding.severity == "warning"
    assert "メール「大きな回答」（差出人 somu@ogi.example" in finding.message()
    assert result.taken == 0
    _nothing_changed(workspace, server, mailbox)


def test_where_only_seen_can_mark_a_mail_the_ledger_keeps_it_taken_once(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deliver(server, mailbox, _mail("somu@ogi.example", "回答", {"総務課.xlsx": returns["総務課"]}))
    workspace = _workspace(tmp_path, returns, server, mailbox)
    opened = Mailbox.open

    def without_keywords(self: Mailbox) -> None:  # a server whose PERMANENTFLAGS have no \*
        opened(self)
        self.keyword = False

    monkeypatch.setattr(Mailbox, "open", without_keywords)
    assert fetch(workspace).taken == 1
    assert _flags(server, mailbox)[1] == {"\\Seen"}
    client = server.client(mailbox, PASSWORD)  # a person marks it unread again
    client.select("INBOX")
    client.uid("STORE", "1", "-FLAGS", "(\\Seen)")
    client.logout()
    assert fetch(workspace).taken == 0


# --- kill -9 anywhere: nothing taken twice, nothing lost ------------------------------------------------

_KILLER = """
import os, signal, sys
from pathlib import Path
import xlplan.collection.imap as taking
from xlplan.mailbox import Mailbox
from xlplan.workspace import ledger

moment, nth = sys.argv[2], int(sys.argv[3])
seen = {"n": 0}

def die_at_the_nth():
    seen["n"] += 1
    if seen["n"] == nth:
        os.kill(os.getpid(), signal.SIGKILL)

def before(function, moment_state=None):
    def wrapped(*args, **kwargs):
        if moment_state is None or args[2] == moment_state:
            die_at_the_nth()
        return function(*args, **kwargs)
    return wrapped

if moment == "download":      # recorded, nothing downloaded
    Mailbox.message = before(Mailbox.message)
elif moment == "rename":      # written and synced under the temporary name, not renamed
    replace = os.replace
    def dying_replace(source, target):
        if str(target).endswith(".eml"):
            die_at_the_nth()
        return replace(source, target)
    os.replace = dying_replace
elif moment == "saved":       # in inbox/, the ledger not told
    ledger.mark_imap_message = before(ledger.mark_imap_message, "saved")
elif moment == "mark":        # saved, not marked on the server
    Mailbox.mark = before(Mailbox.mark)
elif moment == "marked":      # marked on the server, the ledger not told
    ledger.mark_imap_message = before(ledger.mark_imap_message, "marked")
taking.fetch(__import__("xlplan").Workspace(sys.argv[1]))
"""


@pytest.mark.parametrize("moment", ["download", "rename", "saved", "mark", "marked"])
def test_kill_9_while_taking_mail_resumes_without_duplicates(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str, moment: str
) -> None:
    welfare, general = returns["社会福祉課"], returns["総務課"]
    _deliver(
        server,
        mailbox,
        _mail("shakai@ogi.example", "回答1", {"社会福祉課.xlsx": welfare}),
        _mail("somu@ogi.example", "回答2", {"総務課.xlsx": general}),
        _mail("somu@ogi.example", "回答3", {}),
    )
    workspace = _workspace(tmp_path, returns, server, mailbox)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLER, str(workspace.root), moment, "2"],  # killed at the second mail
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (
        len([row for row in _imap_rows(workspace) if row[1] == "marked"]) == 1
    )  # the first mail went through

    resumed = fetch(workspace)
    assert resumed.ok, resumed.findings
    assert [(mail.uid, mail.resumed) for mail in resumed.mails] == [(2, True), (3, False)]
    rows = _imap_rows(workspace)
    assert [(uid, state) for uid, state, _ in rows] == [(1, "marked"), (2, "marked"), (3, "marked")]
    assert _saved(workspace) == sorted(path for _, _, path in rows)  # one file per mail, no temporary left
    assert all(TAKEN_KEYWORD in flags for flags in _flags(server, mailbox).values())

    result = xlplan.collect(workspace)
    assert result.count("accepted") == 2 and result.count("duplicate") == 0
    assert fetch(workspace).taken == 0


def test_the_result_shape_is_the_verbs_shape(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str
) -> None:
    workspace = _workspace(tmp_path, returns, server, mailbox)
    result = fetch(workspace)
    assert isinstance(result, xlplan.Result) and result.ok and result.taken == 0
    for language in ("ja", "en"):
        assert all(isinstance(line, str) for line in result.lines(language))
        json.dumps(result.to_dict(language), ensure_ascii=False)
    assert result.to_dict()["folder"] == "INBOX"


def test_a_server_that_never_answers_is_given_up_in_time(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        workspace = _workspace(tmp_path, returns, server, mailbox, IMAPポート=str(silent.getsockname()[1]))
        settings = collection_imap.imap_settings
        monkeypatch.setattr(
            collection_imap, "imap_settings", lambda plan: dataclasses.replace(settings(plan), timeout=1.0)
        )
        started = time.monotonic()
        [finding] = fetch(workspace).findings
        assert time.monotonic() - started < 10
        assert finding.code == "imap-unreachable" and "1 秒待っても応答がありません" in finding.message()
    finally:
        silent.close()


# --- the server takes the mail on its own schedule -------------------------------------------------


def test_the_server_collects_mailed_returns_on_its_schedule(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str, example: Example
) -> None:
    from tests.serving import Server as HttpServer

    workspace = _workspace(tmp_path, returns, server, mailbox)
    welfare = example.plan.department("社会福祉課").email
    assert welfare
    http = HttpServer([workspace.root], extra=["--imap-every", "0.02"]).start()  # every 1.2 s
    try:
        _deliver(server, mailbox, _mail(welfare, "回答", {"回答.xlsx": returns["社会福祉課"]}))
        deadline = time.monotonic() + 60
        accepted = 0
        with http.client() as client:
            while time.monotonic() < deadline and not accepted:
                time.sleep(0.5)
                accepted = client.get(f"/api/v1/workspaces/{workspace.root.name}/status").json()["counts"][
                    "accepted"
                ]
    finally:
        http.stop()
    assert accepted == 1, http.output
    assert _imap_rows(workspace)[0][1] == "marked"


def test_the_servers_collect_takes_the_mail_when_asked(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str, example: Example
) -> None:
    from tests.serving import Server as HttpServer

    workspace = _workspace(tmp_path, returns, server, mailbox)
    welfare = example.plan.department("社会福祉課").email
    assert welfare
    _deliver(server, mailbox, _mail(welfare, "回答", {"回答.xlsx": returns["社会福祉課"]}))
    http = HttpServer([workspace.root]).start()
    try:
        with http.client() as client:
            answer = client.post(f"/api/v1/workspaces/{workspace.root.name}/collect", params={"imap": "1"})
    finally:
        http.stop()
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["imap"]["taken"] == 1 and [f["outcome"] for f in document["files"]] == ["accepted"]


def test_two_plans_reading_one_mailbox_each_receive_every_mail(
    tmp_path: Path, returns: dict[str, bytes], server: Server, mailbox: str, example: Example
) -> None:
    # The office's 男女共同参画プラン and another plan of its, both reading the same mailbox.
    plan_b = _workspace(tmp_path / "b", returns, server, mailbox)  # the plan 総務課 answers
    other = init_workspace(tmp_path / "a" / "ws", example.plan)
    book = openpyxl.load_workbook(other.master_path)
    sheet = book["設定"]
    values = {"IMAPサーバー": "127.0.0.1", "IMAPポート": str(server.imaps), "IMAP暗号化": "SSL",
              "IMAPユーザー": mailbox, "IMAP証明書": str(server.cafile)}  # fmt: skip
    for offset, (key, value) in enumerate(values.items(), start=sheet.max_row + 1):
        sheet.cell(row=offset, column=1, value=key)
        sheet.cell(row=offset, column=2, value=value)
    book.save(other.master_path)
    _deliver(server, mailbox, _mail("somu@ogi.example", "回答", {"回答_総務課.xlsx": returns["総務課"]}))

    first = xlplan.collect(other, imap=True)  # the other plan's scheduled run comes first
    assert first.imap is not None and first.imap.taken == 1
    assert [item.outcome for item in first.files] == ["review"]  # not its workspace's: the office decides
    second = xlplan.collect(plan_b, imap=True)
    assert second.imap is not None and second.imap.taken == 1  # not hidden by the other plan's mark
    assert [(item.name, item.outcome) for item in second.files] == [("回答_総務課.xlsx", "accepted")]
    assert xlplan.collect(plan_b, imap=True).imap.taken == 0  # and once only
    (flags,) = _flags(server, mailbox).values()
    assert TAKEN_KEYWORD in flags and len([flag for flag in flags if flag.startswith(TAKEN_KEYWORD)]) == 3
