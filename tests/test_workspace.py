"""Workspace and ledger: what `xlplan init` leaves on disk, read back with sqlite3 and calamine."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import calamine_rows
from xlplan.cli import main
from xlplan.workspace.ledger import SCHEMA_VERSION


def test_init_makes_the_workspace_and_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "令和2年度"
    assert main(["init", str(root), "--example", "ogi"]) == 0
    assert "作業フォルダを作成しました" in capsys.readouterr().out
    for folder in ("outbox", "inbox", "archive", "feedback", "reports"):
        assert (root / folder).is_dir()
    assert calamine_rows(root / "master.xlsx", "計画")[0][0] == "基本目標"
    key = root / ".xlplan" / "manifest.key"
    assert len(key.read_bytes()) == 32
    assert key.stat().st_mode & 0o077 == 0  # the signing key is readable by its owner only

    # A second reader: plain sqlite3, not the project's helper.
    connection = sqlite3.connect(root / "ledger.sqlite")
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "schema_version",
        "rounds",
        "departments",
        "dispatches",
        "receipts",
        "findings",
        "acceptances",
    } <= tables
    assert connection.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert connection.execute("SELECT fiscal_year, number, deadline FROM rounds").fetchall() == [
        (2020, 1, "2021-05-31")
    ]
    assert connection.execute("SELECT COUNT(*) FROM departments").fetchone() == (15,)
    connection.close()


def test_demo_never_reuses_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xlplan-demo").mkdir()
    (tmp_path / "xlplan-demo" / "keep.txt").write_text("mine", encoding="utf-8")
    assert main(["demo"]) == 0
    assert (tmp_path / "xlplan-demo" / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "xlplan-demo-2" / "master.xlsx").exists()
    out = capsys.readouterr().out
    assert "xlplan-demo-2" in out
    # The whole cycle ran: the collection line and the consolidated table's path are printed.
    assert "回収・検証: 受信 15 件: 受理 15" in out and "集約表" in out


@pytest.mark.parametrize("command", ["status", "distribute", "collect", "consolidate", "remind"])
def test_a_copy_of_the_master_outside_its_workspace_is_refused_and_nothing_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    root = tmp_path / "令和2年度"
    assert main(["init", str(root), "--example", "ogi"]) == 0
    desktop = tmp_path / "デスクトップ"
    desktop.mkdir()
    shutil.copy2(root / "master.xlsx", desktop / "master.xlsx")
    capsys.readouterr()
    assert main([command, "-w", str(desktop)]) == 2
    err = capsys.readouterr().err
    assert "(workspace-incomplete)" in err and str(desktop) in err and "コピー" in err
    # No key, ledger or folder of its own: nothing signed with a key no real workspace knows.
    assert sorted(path.name for path in desktop.iterdir()) == ["master.xlsx"]


def test_a_workspace_copied_without_its_hidden_folder_does_not_blame_the_departments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "令和2年度"
    assert main(["init", str(root), "--example", "ogi"]) == 0
    assert main(["distribute", "-w", str(root)]) == 0
    moved = tmp_path / "移した"
    shutil.copytree(root, moved, ignore=shutil.ignore_patterns(".xlplan"))
    sent = next((moved / "outbox").rglob("*.xlsx"))
    shutil.copy2(sent, moved / "inbox" / sent.name)  # a genuine return, signed with the real key
    capsys.readouterr()
    assert main(["collect", "-w", str(moved)]) == 2
    err = capsys.readouterr().err
    assert "(workspace-incomplete)" in err and "manifest-bad-signature" not in err
    assert not (moved / ".xlplan" / "manifest.key").exists()
    assert (moved / "inbox" / sent.name).exists()  # the return waits for the real workspace
