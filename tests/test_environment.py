"""Environment failures are findings: a full disk and a read-only workspace, on real file systems.

The workspace is put on a small tmpfs (a real file system that really fills up) or one
remounted read-only. As root, file modes do not stop writes (root writes anyway), so a
read-only mount is the honest test of a read-only workspace; where mounting is not
allowed the tests are skipped and say why.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import xlplan
from tests.conftest import calamine_rows
from tests.serving import Server
from xlplan.cli import main
from xlplan.demo.respond import fill_response
from xlplan.errors import EXIT_OUTPUT, XlplanError
from xlplan.examples import Example
from xlplan.findings import Finding
from xlplan.workspace.folder import Workspace, init_workspace
from xlplan.workspace.ledger.schema import located, with_paths
from xlplan.xlsx.atomic import place_new


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs at a fresh folder; unmounted afterwards."""
    point = tmp_path / "mnt"
    point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(point)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.decode(errors='replace').strip()})")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xlplan.cli", *args], capture_output=True, text=True, timeout=300
    )


def _with_returns(root: Path, example: Example, count: int) -> Workspace:
    workspace = init_workspace(root, example.plan)
    sent = [item for item in xlplan.distribute(workspace).departments if item.workbook][:count]
    for item in sent:
        assert item.workbook is not None
        answers = [
            a for a in example.answers if example.plan.canonical_department(a.department) == item.department
        ]
        fill_response(item.workbook, answers, workspace.inbox / item.workbook.name)
    return workspace


def test_a_read_only_workspace_still_shows_its_status_and_refuses_changes_in_words(
    mounted: Path, example: Example, tmp_path: Path
) -> None:
    workspace = _with_returns(mounted / "ws", example, 3)
    assert _cli("collect", "-w", str(workspace.root)).returncode in (0, 1)
    for item in workspace.inbox.iterdir():  # a new file, arrived after the share was made read-only
        shutil.copy(item, workspace.inbox / f"new-{item.name}")
        break
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)

    status = _cli("status", "-w", str(workspace.root), "--json")
    assert status.returncode in (0, 1), status.stderr
    assert "Traceback" not in status.stderr
    import json

    document = json.loads(status.stdout)
    assert document["counts"]["accepted"] == 3
    assert [f["code"] for f in document["findings"]] == ["status-not-saved"]

    for command in (["collect"], ["distribute", "--resend"], ["consolidate"]):
        run = _cli(*command, "-w", str(workspace.root))
        assert run.returncode == EXIT_OUTPUT, (command, run.returncode, run.stderr)
        assert "Traceback" not in run.stderr and str(workspace.root) in run.stderr, run.stderr
        assert any(word in run.stderr for word in ("書き込", "読み書き")), run.stderr


def test_a_full_disk_loses_nothing_and_says_so(mounted: Path, example: Example) -> None:
    workspace = _with_returns(mounted / "ws", example, 6)
    filler = _fill(mounted, 0)  # fill what is left of the disk
    inbox_before = {path.name: path.read_bytes() for path in workspace.inbox.iterdir()}
    run = _cli("collect", "-w", str(workspace.root))
    assert run.returncode in (1, EXIT_OUTPUT), (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr
    assert any(word in run.stderr for word in ("空き容量", "disk")), run.stderr
    assert {
        path.name: path.read_bytes() for path in workspace.inbox.iterdir()
    } == inbox_before  # nothing lost

    filler.unlink()  # room again: the next run takes everything in
    again = _cli("collect", "-w", str(workspace.root), "--json")
    assert again.returncode in (0, 1), again.stderr
    import sqlite3

    with sqlite3.connect(workspace.ledger_path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        accepted = connection.execute(
            "SELECT COUNT(*) FROM acceptances WHERE superseded_by IS NULL"
        ).fetchone()[0]
    assert accepted == 6


def _fill(mounted: Path, leave: int) -> Path:
    """Fill the disk, then free ``leave`` bytes of it; the filler is returned, to be removed."""
    filler = mounted / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    with filler.open("r+b") as handle:
        handle.truncate(max(0, filler.stat().st_size - leave))
    return filler


def test_a_full_disk_during_distribution_stops_it_and_leaves_no_broken_workbook(
    mounted: Path, example: Example
) -> None:
    workspace = init_workspace(mounted / "ws", example.plan)
    filler = _fill(mounted, 100 * 1024)  # room for the ledger and a few workbooks, not for fifteen
    try:
        # Before, a worker's OutputError could not be sent back whole: the pool waited for ever,
        # holding the workspace's lock, and half-written workbooks stayed under their real names.
        run = subprocess.run([sys.executable, "-m", "xlplan.cli", "distribute", "-w", str(workspace.root)],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    finally:
        filler.unlink()
    assert run.returncode == EXIT_OUTPUT, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr and "空き容量" in run.stderr, run.stderr
    for path in workspace.outbox.rglob("*"):
        if path.is_file() and not path.name.startswith(".~"):
            if path.suffix == ".xlsx":
                assert calamine_rows(path, "回答"), path  # every workbook under its name is whole
            else:
                assert path.read_bytes().rstrip().endswith(b"--"), path  # a draft's last MIME boundary
    again = _cli("distribute", "-w", str(workspace.root))  # room again: the run goes on where it stopped
    assert again.returncode == 0, again.stderr
    workbooks = sorted(workspace.outbox.rglob("*.xlsx"))
    assert len(workbooks) == len(example.plan.departments)
    assert all(calamine_rows(path, "回答") for path in workbooks)
    assert not [path for path in workspace.outbox.rglob("*（2）*")]  # each department's workbook once


def test_a_stopped_distribution_goes_on_in_the_workspace_where_it_is_now(
    mounted: Path, example: Example, tmp_path: Path
) -> None:
    workspace = init_workspace(mounted / "ws", example.plan)
    filler = _fill(mounted, 100 * 1024)
    stopped = _cli("distribute", "-w", str(workspace.root))  # stops on the full disk, rows left `writing`
    filler.unlink()
    assert stopped.returncode == EXIT_OUTPUT, stopped.stderr
    # The folder is moved (restored from a backup elsewhere, or opened under another drive letter).
    moved = Workspace(shutil.move(str(workspace.root), str(tmp_path / "moved")))
    again = _cli("distribute", "-w", str(moved.root))
    assert again.returncode == 0, again.stderr
    assert len(list(moved.outbox.rglob("*.xlsx"))) == len(example.plan.departments)
    assert not workspace.root.exists()  # nothing written where the workspace used to be
    copy = Workspace(shutil.copytree(moved.root, tmp_path / "copy"))
    import sqlite3

    with sqlite3.connect(copy.ledger_path) as connection:
        stored = [row[0] for row in connection.execute("SELECT file_path FROM dispatches")]
    assert stored and all(not Path(text).is_absolute() for text in stored), stored  # kept relative
    for row in with_paths(copy.ledger().execute("SELECT file_path, mail_path FROM dispatches")):
        assert Path(row["file_path"]).is_relative_to(copy.root) and Path(row["file_path"]).is_file()


def test_a_reminder_run_stopped_by_a_full_disk_leaves_one_whole_draft_a_department(
    mounted: Path, example: Example
) -> None:
    workspace = init_workspace(mounted / "ws", example.plan)
    assert _cli("distribute", "-w", str(workspace.root)).returncode == 0  # the example's deadline has passed
    filler = _fill(mounted, 40 * 1024)  # room for the ledger and a few drafts, not for fifteen
    stopped = _cli("remind", "-w", str(workspace.root))
    filler.unlink()
    assert stopped.returncode == EXIT_OUTPUT, stopped.stderr
    again = _cli("remind", "-w", str(workspace.root))
    assert again.returncode in (0, 1), again.stderr
    drafts = sorted((workspace.outbox / "2020-R1" / "督促").glob("*.eml"))
    # One draft a department, each whole: the stopped run's half-written draft was written again at
    # its name, not left beside a second one (the office would have sent both by hand).
    assert len(drafts) == len(example.plan.departments), [path.name for path in drafts]
    assert not [path for path in drafts if "(2)" in path.name]
    assert all(path.read_bytes().rstrip().endswith(b"--") for path in drafts)
    with workspace.ledger() as connection:
        rows = connection.execute(
            "SELECT department, status FROM dispatches WHERE kind = 'reminder'"
        ).fetchall()
    assert sorted(row["department"] for row in rows) == sorted(d.name for d in example.plan.departments)
    assert {row["status"] for row in rows} == {"drafted"}


def test_a_path_an_earlier_version_stored_is_found_in_the_workspace_as_it_is_now(tmp_path: Path) -> None:
    root = (tmp_path / "now").absolute()
    earlier = (
        "/srv/old/ws/outbox/2020-R1/a.xlsx",
        "ws/outbox/2020-R1/a.xlsx",
        "outbox/2020-R1/a.xlsx",
        "C:\\Users\\kikaku\\ws\\outbox\\2020-R1\\a.xlsx",
        "ws\\outbox\\2020-R1\\a.xlsx",
    )  # and a Windows PC's
    for stored in earlier:
        assert located(root, stored) == root / "outbox" / "2020-R1" / "a.xlsx", stored
    assert located(root, str(root / "feedback" / "b.xlsx")) == root / "feedback" / "b.xlsx"


def test_a_full_temporary_folder_on_the_server_is_not_the_senders_fault(
    mounted: Path, example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = init_workspace(tmp_path / "令和2年度", example.plan)
    monkeypatch.setenv("TMPDIR", str(mounted))  # where Starlette spools an upload over 1 MB
    server = Server([workspace.root]).start()
    body = b"PK" + b"\0" * (2 * 1024 * 1024)
    try:
        with server.client() as client:
            # A first upload while there is room: the server's temporary folder is chosen (Python
            # picks it once, and passes over a folder it cannot write to when it picks).
            first = client.post("/api/v1/workspaces/令和2年度/returns", files={"file": ("最初.xlsx", body)})
            assert first.status_code == 201, first.text
            filler = _fill(mounted, 0)
            sent = client.post("/api/v1/workspaces/令和2年度/returns", files={"file": ("回答.xlsx", body)})
            filler.unlink()
    finally:
        server.stop()
    # Before: 422 serve-bad-upload, 「ファイルを選び直して送ってください」 — the department blamed for the disk.
    assert sent.status_code == 507, sent.text
    document = sent.json()
    assert [f["code"] for f in document["findings"]] == ["output-not-writable"] and document["exit_code"] == 3
    assert "空き容量" in document["findings"][0]["message"]
    assert [path.name for path in workspace.inbox.iterdir()] == ["最初.xlsx"]


def test_a_long_japanese_name_is_written_whole(tmp_path: Path) -> None:
    # 80 Japanese characters and .xlsx: 245 bytes, within the 255 a name may have; the temporary
    # beside it must not be named after it (it would pass 255).
    target = tmp_path / ("計" * 80 + ".xlsx")
    place_new(b"PK whole", target)
    assert target.read_bytes() == b"PK whole" and [path.name for path in tmp_path.iterdir()] == [target.name]
    with pytest.raises(FileExistsError):
        place_new(b"another", target)  # never over an existing file
    assert target.read_bytes() == b"PK whole"


def _subclasses(kind: type[XlplanError]) -> list[type[XlplanError]]:
    return [kind, *(sub for child in kind.__subclasses__() for sub in _subclasses(child))]


@pytest.mark.parametrize("kind", _subclasses(XlplanError), ids=lambda kind: kind.__name__)
def test_every_error_crosses_a_process_boundary_whole(kind: type[XlplanError]) -> None:
    raised = kind([Finding("output-not-writable", {"path": "/srv/plan/outbox", "reason": "No space left"})])
    again = pickle.loads(pickle.dumps(raised))  # as a pool sends a worker's exception to its parent
    assert type(again) is kind and again.findings == raised.findings and again.exit_code == kind.exit_code
    assert str(again) == str(raised)


def test_the_systems_reason_is_said_in_japanese(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    # The reports folder replaced by a file of that name: the system says "File exists" or "Not a directory".
    shutil.rmtree(workspace.reports)
    workspace.reports.write_bytes(b"")
    assert main(["consolidate", "-w", str(workspace.root)]) == EXIT_OUTPUT
    err = capsys.readouterr().err
    assert str(workspace.reports) in err and "Traceback" not in err
    assert any(
        words in err
        for words in ("同じ名前のファイルかフォルダがすでにあります", "途中の名前がフォルダではありません")
    ), err
    assert "File exists" not in err and "Not a directory" not in err


def test_a_ledger_that_cannot_be_written_is_said_in_japanese(tmp_path: Path) -> None:
    import sqlite3

    from xlplan.errors import OutputError
    from xlplan.workspace.ledger.schema import guarded

    path = tmp_path / "ledger.sqlite"
    sqlite3.connect(path).close()
    with pytest.raises(OutputError) as failed, guarded(path):
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # SQLite itself refuses the write
        connection.execute("CREATE TABLE answers (value TEXT)")
    [finding] = failed.value.findings
    assert "readonly" in finding.params["reason"]  # SQLite's words, kept as data
    assert "読み取り専用の場所です" in finding.message() and "readonly" not in finding.message()
