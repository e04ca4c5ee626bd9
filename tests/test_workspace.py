"""Workspace and ledger: what `xlplan init` leaves on disk, read back with sqlite3 and calamine."""

from __future__ import annotations

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
