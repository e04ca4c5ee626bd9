"""Intake: files in inbox/ archived untouched by SHA-256 with ledger receipts, mails' attachments
taken, duplicates recognised, files being written left for the next run, inbox never changed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests import badfiles
from xlplan.collection.intake import IntakeResult, take_in
from xlplan.collection.read import ReadFailed, read_returns
from xlplan.collection.snapshot import Snapshot
from xlplan.demo.respond import fill_response
from xlplan.distribution.run import distribute
from xlplan.examples import Example
from xlplan.workspace.folder import Workspace, init_workspace
from xlplan.workspace.ledger import SCHEMA_VERSION, ensure_round, open_ledger, schema_version

DEPARTMENTS = ("社会福祉課", "総務課")


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory, example: Example) -> dict[str, Path]:
    """Two real returned workbooks (distributed, filled with openpyxl and saved), by department."""
    root = tmp_path_factory.mktemp("intake")
    workspace = init_workspace(root / "ws", example.plan)
    result = distribute(workspace, only=list(DEPARTMENTS), workers=1)
    made: dict[str, Path] = {}
    for item in result.departments:
        assert item.workbook is not None
        answers = [
            a for a in example.answers if example.plan.canonical_department(a.department) == item.department
        ]
        made[item.department] = root / f"{item.department}.xlsx"
        fill_response(item.workbook, answers, made[item.department])
    return made


def _take(workspace: Workspace) -> IntakeResult:
    connection = workspace.ledger()
    try:
        return take_in(workspace, connection, round_id=1)
    finally:
        connection.close()


def _rows(workspace: Workspace, sql: str, *args: object) -> list[sqlite3.Row]:
    connection = workspace.ledger()
    try:
        return list(connection.execute(sql, args))
    finally:
        connection.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot_of_inbox(inbox: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path.relative_to(inbox).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in inbox.rglob("*")
        if path.is_file()
    }


def test_every_file_is_archived_untouched_with_a_receipt(
    workspace: Workspace, returns: dict[str, Path]
) -> None:
    inbox = workspace.inbox
    (inbox / "総務課").mkdir()
    shutil.copy(returns["社会福祉課"], inbox / "回答_社会福祉課.xlsx")
    shutil.copy(returns["総務課"], inbox / "総務課" / "回答（総務課）.xlsx")
    badfiles.xls(inbox / "old.xls")
    badfiles.csv_as_xlsx(inbox / "export.csv")
    (inbox / "no_suffix").write_bytes(b"\x00\x01")
    ignored = [
        "~$回答_社会福祉課.xlsx",
        "copy.tmp",
        "Thumbs.db",
        "desktop.ini",
        ".DS_Store",
        ".~lock.x.xlsx#",
    ]
    for name in ignored:
        (inbox / name).write_bytes(b"ignore me")
    os.utime(inbox / "~$回答_社会福祉課.xlsx", (0, 0))  # a stale Excel owner file does not block
    before = _snapshot_of_inbox(inbox)

    result = _take(workspace)

    names = [receipt.original_name for receipt in result.receipts]
    assert names == [
        "export.csv",
        "no_suffix",
        "old.xls",
        "回答_社会福祉課.xlsx",
        "総務課/回答（総務課）.xlsx",
    ]
    assert result.findings == () and result.mails == ()
    for receipt in result.receipts:
        original = inbox / receipt.original_name
        assert receipt.sha256 == _sha(original)
        assert receipt.archived_path.read_bytes() == original.read_bytes()  # byte-identical
        assert receipt.archived_path.parent == workspace.archive / receipt.sha256[:2]
        assert (
            receipt.archived_path.name == receipt.sha256 + os.path.splitext(receipt.original_name)[1].lower()
        )
        assert (
            not os.access(receipt.archived_path, os.W_OK) or os.geteuid() == 0
        )  # read-only (root writes anyway)
        assert receipt.archived_path.stat().st_mode & 0o222 == 0
        assert receipt.source == "inbox" and receipt.duplicate_of is None
    assert _snapshot_of_inbox(inbox) == before  # nothing in inbox/ changed, moved or disappeared
    rows = _rows(workspace, "SELECT * FROM receipts ORDER BY id")
    assert [(row["original_name"], row["status"], row["source"], row["round_id"]) for row in rows] == [
        (name, "archived", "inbox", 1) for name in names
    ]
    assert [row["archived_path"] for row in rows] == [
        receipt.archived_path.relative_to(workspace.root).as_posix() for receipt in result.receipts
    ]


def test_a_file_taken_in_is_not_taken_again(workspace: Workspace, returns: dict[str, Path]) -> None:
    target = workspace.inbox / "回答.xlsx"
    shutil.copy(returns["社会福祉課"], target)
    assert len(_take(workspace).receipts) == 1
    again = _take(workspace)
    assert again.receipts == () and again.findings == ()
    os.utime(target)  # touched, same content: still nothing new
    assert _take(workspace).receipts == ()
    shutil.copy(returns["総務課"], target)  # a corrected return saved over the first one
    third = _take(workspace)
    assert [r.sha256 for r in third.receipts] == [_sha(returns["総務課"])]
    assert third.receipts[0].duplicate_of is None
    assert len(_rows(workspace, "SELECT * FROM receipts")) == 2


def test_the_same_bytes_twice_are_a_duplicate(workspace: Workspace, returns: dict[str, Path]) -> None:
    shutil.copy(returns["社会福祉課"], workspace.inbox / "a_回答.xlsx")
    shutil.copy(returns["社会福祉課"], workspace.inbox / "b_再送.xlsx")
    result = _take(workspace)
    first, second = result.receipts
    assert first.duplicate_of is None and first.findings == ()
    assert second.duplicate_of == first.id and second.duplicate_name == "a_回答.xlsx"
    assert second.archived_path == first.archived_path
    assert [finding.code for finding in second.findings] == ["duplicate-file"]
    assert not second.findings[0].is_error
    assert "a_回答.xlsx" in second.findings[0].message() and "重複" in second.findings[0].message()
    assert len(list(workspace.archive.rglob("*.xlsx"))) == 1
    statuses = [
        (r["status"], r["duplicate_of"]) for r in _rows(workspace, "SELECT * FROM receipts ORDER BY id")
    ]
    assert statuses == [("archived", None), ("duplicate", first.id)]
    # The same bytes again on a later run, in a mail this time.
    (workspace.inbox / "mail.eml").write_bytes(_mail({"回答.xlsx": returns["社会福祉課"].read_bytes()}))
    later = _take(workspace)
    assert [(r.source, r.duplicate_of) for r in later.receipts] == [("eml", first.id)]


def _mail(attachments: dict[str, bytes]) -> bytes:
    message = EmailMessage()
    message["From"] = "shakaifukushi@city.example"
    message["To"] = "kikaku@city.example"
    message["Subject"] = "令和2年度実績照会の回答"
    message.set_content("回答を送付します。")
    for name, data in attachments.items():
        maintype, subtype = (
            ("application", "pdf") if name.endswith(".pdf") else ("application", "octet-stream")
        )
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def test_a_mail_part_the_parser_refuses_costs_only_that_part(
    workspace: Workspace, returns: dict[str, Path]
) -> None:
    # A Content-Disposition header Python's mail parser raises on (IndexError in get_filename)
    # must not stop intake: the mail is archived, its other workbook taken, the part reported,
    # and the files around it are taken in the same run.
    good = _mail({"壊れた添付.xlsx": b"PK\x03\x04", "回答.xlsx": returns["社会福祉課"].read_bytes()})
    named = b"filename*=utf-8''%E5%A3%8A%E3%82%8C%E3%81%9F%E6%B7%BB%E4%BB%98.xlsx"
    assert named in good
    broken = good.replace(named, b'filename*="\'"')
    (workspace.inbox / "a_総務課.xlsx").write_bytes(returns["総務課"].read_bytes())
    (workspace.inbox / "b_返信.eml").write_bytes(broken)
    (workspace.inbox / "c_メモ.xlsx").write_bytes(b"not a workbook")
    result = _take(workspace)
    assert [(r.original_name, r.source) for r in result.receipts] == [
        ("a_総務課.xlsx", "inbox"),
        ("回答.xlsx", "eml"),
        ("c_メモ.xlsx", "inbox"),
    ]
    assert [m.original_name for m in result.mails] == ["b_返信.eml"]
    assert result.mails[0].archived_path.read_bytes() == broken  # kept as it came, for the office to look at
    assert [(f.code, f.file) for f in result.findings] == [("eml-attachment-unreadable", "b_返信.eml")]
    assert "b_返信.eml" in result.findings[0].message()


def _wrapped(content_type: str, name: str, payload: bytes) -> bytes:
    """A reply whose workbook sits inside something else, as a mail client or gateway sends it."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "bunka@city.example", "kikaku@city.example", "回答"
    message.set_content("添付のとおり回答します。")
    maintype, subtype = content_type.split("/")
    message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


@pytest.mark.parametrize(
    ("mail", "code", "advice"),
    [
        # Outlook's rich text: every attachment inside winmail.dat (TNEF)
        (_wrapped("application/ms-tnef", "winmail.dat", b"\x78\x9f\x3e\x22" + b"\0" * 64), "eml-wrapped-tnef",
         "HTML 形式かテキスト形式"),
        # PPAP: the workbook in a (password) ZIP, as many city mail gateways make it by themselves
        (_wrapped("application/zip", "回答.zip", b"PK\x03\x04" + b"\0" * 64), "eml-wrapped-zip", "そのまま添付"),
        # an opaque S/MIME mail: the whole message is smime.p7m
        (b"From: bunka@city.example\r\nSubject: signed\r\nMIME-Version: 1.0\r\n"
         b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n'
         b'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="smime.p7m"\r\n\r\n'
         b"MIIBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n", "eml-wrapped-smime", "暗号化せずに"),
    ],
)  # fmt: skip
def test_a_workbook_wrapped_where_intake_cannot_reach_is_said_to_be_there(
    workspace: Workspace, mail: bytes, code: str, advice: str
) -> None:
    (workspace.inbox / "返信.eml").write_bytes(mail)
    result = _take(workspace)
    assert list(result.receipts) == [] and [m.original_name for m in result.mails] == ["返信.eml"]
    (finding,) = result.findings
    assert finding.code == code and not finding.is_error  # never "no Excel attached": the department did
    assert "返信.eml" in finding.message() and advice in finding.message()


def test_an_attachment_named_in_raw_shift_jis_keeps_its_japanese_name(
    workspace: Workspace, returns: dict[str, Path]
) -> None:
    # Some mail programs write the file name as raw Shift_JIS bytes, with no RFC 2047 or 2231 encoding.
    data = returns["社会福祉課"].read_bytes()
    mail = _mail({"PLACEHOLDER.xlsx": data})
    mail = mail.replace(
        b'filename="PLACEHOLDER.xlsx"', b'filename="' + "社会福祉課_回答.xlsx".encode("cp932") + b'"'
    )
    assert "社会福祉課_回答.xlsx".encode("cp932") in mail
    (workspace.inbox / "返信.eml").write_bytes(mail)
    result = _take(workspace)
    assert [r.original_name for r in result.receipts] == ["社会福祉課_回答.xlsx"]  # not ����_��.xlsx


def test_workbooks_attached_to_saved_mails_are_taken(
    workspace: Workspace, returns: dict[str, Path], tmp_path: Path
) -> None:
    xls = badfiles.xls(tmp_path / "old.xls").read_bytes()
    mail = _mail(
        {
            "第2次プラン_回答_社会福祉課.xlsx": returns["社会福祉課"].read_bytes(),  # RFC 2231 name
            "説明資料.pdf": b"%PDF-1.7 ignored",
            "前年度.xls": xls,
        }
    )
    (workspace.inbox / "回答メール.eml").write_bytes(mail)
    (workspace.inbox / "no_attachment.eml").write_bytes(_mail({}))
    result = _take(workspace)

    assert [m.original_name for m in result.mails] == ["no_attachment.eml", "回答メール.eml"]
    assert [(r.original_name, r.source, r.container) for r in result.receipts] == [
        ("第2次プラン_回答_社会福祉課.xlsx", "eml", "回答メール.eml"),
        ("前年度.xls", "eml", "回答メール.eml"),
    ]
    assert result.receipts[0].archived_path.read_bytes() == returns["社会福祉課"].read_bytes()
    assert result.receipts[1].archived_path.read_bytes() == xls
    assert result.mails[1].archived_path.read_bytes() == mail  # the mail itself is archived too
    assert [finding.code for finding in result.findings] == ["eml-no-workbook"]
    assert "no_attachment.eml" in result.findings[0].message()
    rows = {r["original_name"]: r for r in _rows(workspace, "SELECT * FROM receipts")}
    assert rows["回答メール.eml"]["status"] == "mail"
    assert rows["前年度.xls"]["container_id"] == rows["回答メール.eml"]["id"]
    # The same mail saved again: recognised, its attachments not taken twice.
    (workspace.inbox / "回答メール（2）.eml").write_bytes(mail)
    again = _take(workspace)
    assert again.receipts == () and [m.duplicate_of for m in again.mails] == [rows["回答メール.eml"]["id"]]


def test_archived_returns_read_back(workspace: Workspace, returns: dict[str, Path]) -> None:
    shutil.copy(returns["総務課"], workspace.inbox / "回答.xlsx")
    badfiles.xls(workspace.inbox / "old.xlsx")
    result = _take(workspace)
    names = {receipt.archived_path: receipt.original_name for receipt in result.receipts}
    read = dict(read_returns(list(names), names=names, workers=1))
    by_name = {receipt.original_name: read[receipt.archived_path] for receipt in result.receipts}
    good, bad = by_name["回答.xlsx"], by_name["old.xlsx"]
    assert isinstance(good, Snapshot) and good.manifest_chunks
    assert isinstance(bad, ReadFailed)
    assert bad.findings[0].code == "file-xls" and bad.findings[0].file == "old.xlsx"


def test_a_file_open_in_excel_waits_for_the_next_run(workspace: Workspace, returns: dict[str, Path]) -> None:
    shutil.copy(returns["総務課"], workspace.inbox / "回答.xlsx")
    owner = workspace.inbox / "~$回答.xlsx"  # what Excel writes beside a workbook it has open
    owner.write_bytes(b"\x0bkikaku    ")
    result = _take(workspace)
    assert result.receipts == ()
    assert [finding.code for finding in result.findings] == ["file-busy"]
    assert "開かれている" in result.findings[0].message() and result.findings[0].file == "回答.xlsx"
    assert _rows(workspace, "SELECT * FROM receipts") == []
    owner.unlink()  # closed in Excel
    assert [r.original_name for r in _take(workspace).receipts] == ["回答.xlsx"]


_WRITER = """
import os, sys
path, stop = sys.argv[1], sys.argv[2]
with open(path, "ab", buffering=0) as handle:
    handle.write(b"PK" + bytes(8 * 1024 * 1024))  # large enough that reading it takes a while
    open(path + ".started", "w").close()
    while not os.path.exists(stop):
        handle.write(b"x")  # a copy still in progress: the size keeps changing
"""


def test_a_file_still_being_written_waits_for_the_next_run(workspace: Workspace, tmp_path: Path) -> None:
    growing = workspace.inbox / "copying.xlsx"
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(growing), str(stop)])
    try:
        started = Path(str(growing) + ".started")
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        started.rename(tmp_path / "started")  # out of the inbox
        busy = False
        for _ in range(5):  # the writer could in principle be descheduled for a whole read
            result = _take(workspace)
            if [f.code for f in result.findings] == ["file-busy"]:
                busy = True
                assert result.receipts == ()
                assert "書き込み中" in result.findings[0].message()
                break
        assert busy
    finally:
        stop.touch()
        writer.wait(timeout=60)
    final = _take(workspace)  # the copy finished: taken in whole
    assert [r.original_name for r in final.receipts] == ["copying.xlsx"]
    assert final.receipts[0].archived_path.read_bytes() == growing.read_bytes()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads a file whatever its mode"
)
def test_a_file_that_cannot_be_opened_waits(workspace: Workspace, returns: dict[str, Path]) -> None:
    target = workspace.inbox / "回答.xlsx"
    shutil.copy(returns["総務課"], target)
    target.chmod(0)  # as Windows refuses a file another program holds
    try:
        assert [f.code for f in _take(workspace).findings] == ["file-busy"]
    finally:
        target.chmod(0o644)
    assert len(_take(workspace).receipts) == 1


def test_an_archive_that_cannot_be_written_records_nothing(
    workspace: Workspace, returns: dict[str, Path]
) -> None:
    shutil.copy(returns["総務課"], workspace.inbox / "回答.xlsx")
    obstacle = workspace.archive / _sha(returns["総務課"])[:2]
    obstacle.write_bytes(b"a file where the archive needs a folder")
    result = _take(workspace)
    assert result.receipts == () and [f.code for f in result.findings] == ["archive-write-failed"]
    assert "取り込んでいません" in result.findings[0].message()
    assert _rows(workspace, "SELECT * FROM receipts") == []
    obstacle.unlink()
    assert len(_take(workspace).receipts) == 1


def test_a_copy_that_cannot_be_put_in_place_costs_only_its_own_file(
    workspace: Workspace, returns: dict[str, Path]
) -> None:
    # A copy written but not renamed into place (a folder squats its name) costs only its own
    # file: the rest of the ledger transaction is taken, and no temporary file is left behind.
    shutil.copy(returns["総務課"], workspace.inbox / "a_総務課.xlsx")
    shutil.copy(returns["社会福祉課"], workspace.inbox / "b_社会福祉課.xlsx")
    squatted = _sha(returns["社会福祉課"])
    obstacle = workspace.archive / squatted[:2] / f"{squatted}.xlsx"
    obstacle.mkdir(parents=True)
    mode = obstacle.stat().st_mode
    result = _take(workspace)
    assert [receipt.original_name for receipt in result.receipts] == ["a_総務課.xlsx"]
    assert [(f.code, f.file) for f in result.findings] == [("archive-write-failed", "b_社会福祉課.xlsx")]
    assert [r["original_name"] for r in _rows(workspace, "SELECT * FROM receipts")] == ["a_総務課.xlsx"]
    assert result.receipts[0].archived_path.read_bytes() == returns["総務課"].read_bytes()
    assert [p.name for p in workspace.archive.rglob(".incoming-*")] == []
    assert obstacle.stat().st_mode == mode  # the folder is not someone's file to make writable
    obstacle.rmdir()
    again = _take(workspace)
    assert [receipt.original_name for receipt in again.receipts] == ["b_社会福祉課.xlsx"]
    assert again.receipts[0].archived_path.read_bytes() == returns["社会福祉課"].read_bytes()


def test_files_are_taken_in_with_the_numbers_in_their_names_in_order(
    workspace: Workspace, returns: dict[str, Path]
) -> None:
    # The later of two returns wins, so intake's order is arrival's: a saved mail's UID (…-9.eml
    # came before …-10.eml) and a resent file's number, compared by value as Explorer lists them.
    mails = workspace.inbox / "imap" / "INBOX"
    mails.mkdir(parents=True)
    (mails / "7-10.eml").write_bytes(_mail({"二回目.xlsx": returns["総務課"].read_bytes()}))
    (mails / "7-9.eml").write_bytes(_mail({"一回目.xlsx": returns["社会福祉課"].read_bytes()}))
    (workspace.inbox / "回答10.xlsx").write_bytes(b"tenth")
    (workspace.inbox / "回答9.xlsx").write_bytes(b"ninth")
    result = _take(workspace)
    assert [m.original_name for m in result.mails] == ["imap/INBOX/7-9.eml", "imap/INBOX/7-10.eml"]
    assert [r.original_name for r in result.receipts] == [
        "一回目.xlsx",
        "二回目.xlsx",
        "回答9.xlsx",
        "回答10.xlsx",
    ]
    ids = [r.id for r in result.receipts]
    assert ids == sorted(ids)


def test_an_archived_copy_is_never_rewritten(workspace: Workspace, returns: dict[str, Path]) -> None:
    shutil.copy(returns["総務課"], workspace.inbox / "a.xlsx")
    first = _take(workspace).receipts[0]
    stamp = first.archived_path.stat()
    shutil.copy(returns["総務課"], workspace.inbox / "b.xlsx")
    second = _take(workspace).receipts[0]
    assert second.duplicate_of == first.id
    after = first.archived_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)


def test_no_inbox_is_nothing_to_take(tmp_path: Path, example: Example) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    workspace.inbox.rmdir()
    assert _take(workspace) == IntakeResult()


def test_a_schema_1_ledger_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL);
        INSERT INTO schema_version VALUES (1, '2021-04-01T09:00:00+09:00');
        CREATE TABLE receipts (
            id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, original_name TEXT NOT NULL, source TEXT NOT NULL,
            archived_path TEXT NOT NULL, received_at TEXT NOT NULL, round_id INTEGER, department TEXT,
            status TEXT NOT NULL, duplicate_of INTEGER REFERENCES receipts(id));
        INSERT INTO receipts (sha256, original_name, source, archived_path, received_at, status)
            VALUES ('ab', '回答.xlsx', 'inbox', 'archive/ab/ab.xlsx', '2021-05-01T09:00:00+09:00', 'accepted');
        """
    )
    old.commit()
    old.close()
    connection = open_ledger(path)
    try:
        assert schema_version(connection) == SCHEMA_VERSION == 7
        columns = {row["name"] for row in connection.execute("PRAGMA table_info(receipts)")}
        assert "container_id" in columns and "sender" in columns
        assert [tuple(row) for row in connection.execute("SELECT original_name, status FROM receipts")] == [
            ("回答.xlsx", "accepted")
        ]
        assert connection.execute("SELECT COUNT(*) FROM inbox_files").fetchone()[0] == 0
        assert connection.execute("SELECT COUNT(*) FROM rollovers").fetchone()[0] == 0  # schema 4
        assert connection.execute("SELECT COUNT(*) FROM imap_messages").fetchone()[0] == 0  # schema 5
        assert connection.execute("SELECT COUNT(*) FROM feedback_owed").fetchone()[0] == 0  # schema 6
        assert "read_attempts" in columns  # schema 7
        assert "raw_name" in {row["name"] for row in connection.execute("PRAGMA table_info(inbox_files)")}
        ensure_round(connection, 2020, 1, None)  # the rest of the schema is there too
    finally:
        connection.close()
    again = open_ledger(path)  # opening an upgraded ledger changes nothing
    try:
        assert [row[0] for row in again.execute("SELECT version FROM schema_version ORDER BY version")] == [
            1,
            7,
        ]
    finally:
        again.close()


# --- anything a folder can hold (issue: trust and faults) ------------------------------------


def _collect_in_a_child(workspace: Workspace, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`xlplan collect --json` in its own process, so that a hang is a failed test, not a stuck run."""
    return subprocess.run(
        [sys.executable, "-m", "xlplan.cli", "collect", "-w", str(workspace.root), "--json"],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_fifo_in_the_inbox_is_a_finding_and_nothing_hangs(
    workspace: Workspace, returns: dict[str, Path]
) -> None:
    os.mkfifo(workspace.inbox / "回答.xlsx")  # open() on it would wait for a writer forever
    shutil.copy(returns["総務課"], workspace.inbox / "総務課.xlsx")
    run = _collect_in_a_child(workspace)
    document = json.loads(run.stdout)
    assert [f["code"] for f in document["findings"]] == ["inbox-not-a-file"]
    assert len(document["files"]) == 1  # the other file was taken in and checked
    assert _collect_in_a_child(workspace).returncode in (0, 1)  # and the next run is not locked out


def test_a_name_that_is_not_utf8_is_taken_with_a_readable_name(
    workspace: Workspace, returns: dict[str, Path]
) -> None:
    # What unzip on the server makes of a zip made on Windows: the name's Shift_JIS bytes.
    raw = os.fsencode(str(workspace.inbox)) + b"/" + "総務課の回答.xlsx".encode("cp932")
    shutil.copy(returns["総務課"], raw.decode("utf-8", errors="surrogateescape"))
    (workspace.inbox / "bad\udcff.xlsx").write_bytes(b"")  # undecodable in UTF-8 and in CP932
    result = _take(workspace)
    names = sorted(receipt.original_name for receipt in result.receipts)
    assert names == ["bad\\xff.xlsx", "総務課の回答.xlsx"]
    json.dumps(names, ensure_ascii=False).encode("utf-8")  # storable, printable


def test_two_names_that_display_alike_are_two_files_taken_once_each(
    workspace: Workspace, returns: dict[str, Path]
) -> None:
    # The same name twice: once as a Windows zip's Shift_JIS bytes, once in UTF-8 (two departments' files).
    shift_jis = os.fsencode(str(workspace.inbox)) + b"/" + "回答.xlsx".encode("cp932")
    shutil.copy(returns["総務課"], shift_jis.decode("utf-8", errors="surrogateescape"))
    shutil.copy(returns["社会福祉課"], workspace.inbox / "回答.xlsx")
    first = _take(workspace)
    assert [receipt.original_name for receipt in first.receipts] == ["回答.xlsx", "回答.xlsx"]
    assert {receipt.duplicate_of for receipt in first.receipts} == {None}  # different contents
    again = _take(workspace)  # neither overwrote the other's record: nothing is taken again
    assert again.receipts == () and again.findings == ()


def test_links_in_the_inbox_are_never_followed(workspace: Workspace, returns: dict[str, Path]) -> None:
    workspace.signing_key()
    (workspace.inbox / "key.xlsx").symlink_to(workspace.key_path)
    (workspace.inbox / "passwd.xlsx").symlink_to("/etc/passwd")
    (workspace.inbox / "folder").symlink_to(workspace.root / ".xlplan", target_is_directory=True)
    result = _take(workspace)
    assert result.receipts == ()
    assert sorted(f.code for f in result.findings) == ["inbox-link"] * 3
    key = workspace.key_path.read_bytes()
    archived = [path.read_bytes() for path in workspace.archive.rglob("*") if path.is_file()]
    assert key not in archived and archived == []


def test_a_huge_mail_is_refused_before_it_is_read(workspace: Workspace) -> None:
    huge = workspace.inbox / "大きなメール.eml"
    with huge.open("wb") as handle:  # 200 MB, sparse: its size is what matters
        handle.truncate(200 * 1024 * 1024)
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = _take(workspace)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert [f.code for f in result.findings] == ["inbox-too-large"] and result.receipts == ()
    assert grown_mb < 50, grown_mb  # it was never read into memory
    assert huge.stat().st_size == 200 * 1024 * 1024  # and it is still there, untouched
