"""A city's own plan: a blank master made by ``xlplan init``, read back by python-calamine, refused by
distribution until the office fills it, and working once it does."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import calamine_rows
from xlplan.cli import main
from xlplan.plan.blank import reporting_year
from xlplan.workspace.folder import Workspace


def test_a_blank_master_has_the_levels_asked_for_and_no_projects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "総合計画"
    assert main(["init", str(root), "--levels", "政策,施策,事業", "--title", "第3次みらい市総合計画"]) == 0
    out = capsys.readouterr().out
    assert "計画シート" in out  # says what to fill in next
    master = Workspace(root).master_path
    settings = {row[0]: row[1] for row in calamine_rows(master, "設定")[1:]}
    assert [settings[f"階層{n}"] for n in (1, 2, 3)] == ["政策", "施策", "事業"]
    assert settings["計画名"] == "第3次みらい市総合計画"
    year = reporting_year(dt.date.today())
    assert (
        settings["今年度"] == year.wareki
        and settings["表題"] == f"第3次みらい市総合計画 事業実績一覧（{year.letter}）"
    )
    assert all(settings[f"{kind}メール本文"] for kind in ("依頼", "督促", "差し戻し"))
    plan_sheet = calamine_rows(master, "計画")
    assert (
        plan_sheet[0][:5] == ["政策", "政策名", "政策副題", "施策", "施策名"] and "事業番号" in plan_sheet[0]
    )
    assert len([row for row in plan_sheet[1:] if any(row)]) == 0
    assert "はじめての入力" in "\n".join(str(row[0]) for row in calamine_rows(master, "説明"))

    assert main(["plan", "show", "-w", str(root)]) == 0
    assert "事業がまだありません" in capsys.readouterr().out
    assert main(["plan", "show", "-w", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["projects"] == 0


def test_init_alone_makes_a_blank_master_with_the_default_levels(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "ws")]) == 0
    plan = Workspace(tmp_path / "ws").load_plan()
    assert plan.levels == ("基本目標", "施策の方向", "基本事業", "事業") and plan.projects == ()


@pytest.mark.parametrize(("command", "folder"), [("distribute", "outbox"), ("consolidate", "reports")])
def test_a_blank_master_is_not_distributed_nor_consolidated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, folder: str
) -> None:
    root = tmp_path / "ws"
    main(["init", str(root)])
    capsys.readouterr()
    assert main([command, "-w", str(root)]) == 2
    assert "事業がまだありません" in capsys.readouterr().err
    assert [path.name for path in (root / folder).iterdir() if not path.name.startswith(".")] == []
    assert main([command, "-w", str(root), "--json"]) == 2  # one JSON document, as for any stop
    assert json.loads(capsys.readouterr().out)["findings"][0]["code"] == "plan-no-projects"


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--levels", "政策,,事業"], "階層名"),
        (["--levels", "施策,施策"], "階層名"),
        (["--levels", "政策,施策", "--example", "ogi"], "一緒に指定できません"),
        (["--example", "ogi", "--from", "表.xlsx"], "一緒に指定できません"),
    ],
)
def test_bad_init_options_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], words: str
) -> None:
    root = tmp_path / "ws"
    assert main(["init", str(root), *arguments]) == 2
    assert words in capsys.readouterr().err
    assert not root.exists()


def test_a_blank_master_filled_by_the_office_is_distributed(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    main(["init", str(root), "--levels", "分野,事業", "--title", "みらい市こども計画"])
    workspace = Workspace(root)
    book = openpyxl.load_workbook(workspace.master_path)
    settings = book["設定"]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "連絡先メール":
            row[1].value = "kikaku@mirai.example"
        if (
            row[0].value == "担当部署"
        ):  # the mails say who asks: 「いつもお世話になっております。企画課です。」
            row[1].value = "企画課"
        if row[0].value == "現状値年度":
            row[1].value = "令和4年度"
    departments = book["担当課"]
    departments.append(["こども課", None, "kodomo@mirai.example"])
    plan = book["計画"]
    header = [cell.value for cell in plan[1]]
    row = dict.fromkeys(header)
    row.update({"分野": "1", "分野名": "子育て", "事業番号": 1, "事業の内容": "子育て相談を行う。",
                "数値目標": "相談件数", "単位": "件", "現状値": "120件", "担当課": "こども課"})  # fmt: skip
    plan.append([row[name] for name in header])
    book.save(workspace.master_path)
    assert main(["distribute", "-w", str(root)]) == 0
    (workbook,) = (root / "outbox").rglob("*.xlsx")
    assert "こども課" in workbook.name
