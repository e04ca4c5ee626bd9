"""還元: each department gets its projects' values over the years in a workbook of its own, with a
mail draft carrying it — read back with python-calamine and the email package."""

from __future__ import annotations

import csv
import email
from decimal import Decimal
from email import policy
from pathlib import Path

import pytest

import xlplan
from tests.conftest import calamine_rows, fill_and_collect
from xlplan.examples import Example
from xlplan.publish.consolidate import ConsolidationResult
from xlplan.workspace.folder import Workspace, init_workspace


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory, example: Example
) -> tuple[Workspace, ConsolidationResult]:
    workspace = init_workspace(tmp_path_factory.mktemp("digest") / "ws", example.plan)
    fill_and_collect(workspace, example)
    xlplan.rollover(workspace)  # so that the history holds two years and joint shares
    fill_and_collect(workspace, example)
    return workspace, xlplan.consolidate(workspace, csv=True)


def _folder(workspace: Workspace) -> Path:
    return workspace.reports / "還元" / workspace.load_plan().settings.current_year.wareki


def test_fifteen_workbooks_each_with_its_mail(published: tuple[Workspace, ConsolidationResult]) -> None:
    workspace, result = published
    folder = _folder(workspace)
    books = sorted(folder.glob("*.xlsx"))
    assert len(books) == 15 and len(sorted(folder.glob("*.eml"))) == 15
    assert sorted(result.digests) == books  # the result says where each went
    plan = workspace.load_plan()
    for book in books:
        department = plan.department(book.stem.rsplit("_", 1)[-1])
        message = email.message_from_bytes(book.with_suffix(".eml").read_bytes(), policy=policy.default)
        assert department.email and department.email in str(message["To"])
        assert "令和3年度" in str(message["Subject"])
        [attachment] = list(message.iter_attachments())  # type: ignore[attr-defined]
        assert attachment.get_content() == book.read_bytes()


def test_each_workbook_holds_the_departments_rows_as_published(
    published: tuple[Workspace, ConsolidationResult],
) -> None:
    workspace, result = published
    plan = workspace.load_plan()
    assert result.csv is not None
    with result.csv.open(encoding="utf-8-sig", newline="") as handle:
        printed = {(row["事業番号"], row["担当課"]): row for row in csv.DictReader(handle)}
    for department in plan.departments:
        rows = calamine_rows(_folder(workspace) / f"還元_令和3年度_{department.name}.xlsx", "実績の推移")
        header = rows[3]
        assert (
            header[:2] == ["事業番号", "事業の内容"]
            and "令和2年度" in header
            and "今年度（令和3年度）" in header
        )
        body = [row for row in rows[4:] if row and row[0] != ""]
        expected = sorted(
            (p.no, e.name) for p in plan.projects for e in p.entries
            for m in e.members if plan.canonical_department(m) == department.name
        )  # fmt: skip
        assert sorted((int(row[0]), row[4]) for row in body) == expected, department.name
        now, last = header.index("今年度（令和3年度）"), header.index("令和2年度")
        for row in body:
            published_row = printed[(str(int(row[0])), row[4])]
            for column, period in ((now, "今年度"), (last, "前年度")):
                cell = row[column]
                if published_row[f"{period}_記号"]:
                    assert cell == published_row[f"{period}_記号"]
                elif published_row[f"{period}_数値"]:
                    assert Decimal(str(cell)) == Decimal(published_row[f"{period}_数値"]), (
                        department.name,
                        row,
                    )


def test_consolidating_again_replaces_the_digests(published: tuple[Workspace, ConsolidationResult]) -> None:
    workspace, _ = published
    again = xlplan.consolidate(workspace)
    assert len(again.digests) == 15 and not [f for f in again.findings if f.is_error]
    files = sorted(path.name for path in _folder(workspace).iterdir())
    assert len(files) == 30 and not [name for name in files if name.startswith(".")]


def test_without_the_offices_address_the_digests_say_so_once(tmp_path: Path, example: Example) -> None:
    import dataclasses

    from xlplan.publish.consolidate import consolidate_plan

    plan = dataclasses.replace(
        example.plan, settings=dataclasses.replace(example.plan.settings, office_email=None)
    )
    result = consolidate_plan(plan, example.answers, tmp_path / "reports", digests=tmp_path / "還元")
    codes = [finding.code for finding in result.findings if finding.code.startswith("digest")]
    assert codes == ["digest-no-office-email"]  # not "no address on 担当課" for every department
    assert (
        result.digests and "連絡先メール" in next(f for f in result.findings if f.code == codes[0]).message()
    )


def test_a_department_that_never_answered_is_not_thanked_for_its_answer(
    tmp_path: Path, example: Example
) -> None:
    workspace = init_workspace(tmp_path / "ws", example.plan)
    everyone = {department.name for department in example.plan.departments}
    fill_and_collect(workspace, example, only=everyone - {"文化課"})
    result = xlplan.consolidate(workspace)
    folder = _folder(workspace)
    names = {book.stem.rsplit("_", 1)[-1] for book in folder.glob("*.xlsx")}
    assert names == everyone - {"文化課"}  # 文化課 gets neither a workbook nor a thank-you draft
    assert not [mail for mail in folder.glob("*.eml") if "文化課" in mail.name]
    (note,) = [finding for finding in result.findings if finding.code == "digest-not-answered"]
    assert not note.is_error and "文化課" in note.message("ja")
    # Once it has answered, the next consolidation makes its digest.
    fill_and_collect(workspace, example, only={"文化課"})
    again = xlplan.consolidate(workspace)
    assert "digest-not-answered" not in [finding.code for finding in again.findings]
    assert any(book.stem.endswith("_文化課") for book in folder.glob("*.xlsx"))
