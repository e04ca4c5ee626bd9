"""The demo runs the whole cycle, and what it publishes equals the seed.

The demo distributes, lets the departments answer with the seed's 令和2年度
values, collects through the real intake, reader and checks, and consolidates
from the ledger's accepted answers — so comparing its table with the seed's
transcription checks every stage together.
"""

from __future__ import annotations

import csv
import shutil

import pytest

from tests.test_consolidate import assert_table_equals_the_seed
from xlplan.demo.run import DemoSummary, run_demo
from xlplan.followup.status import status


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    # The PDF is made where LibreOffice is installed (CI installs it); elsewhere the demo says what is missing.
    return run_demo(tmp_path_factory.mktemp("demo") / "ws", pdf=shutil.which("soffice") is not None)


def test_the_demo_table_equals_the_seed(demo: DemoSummary) -> None:
    assert_table_equals_the_seed(demo.outputs["xlsx"])


def test_every_department_was_accepted_without_errors(demo: DemoSummary) -> None:
    assert [f for f in demo.findings if f.is_error] == []
    report = status(demo.workspace)
    assert len(report.departments) == 15
    assert {item.state for item in report.departments} == {"accepted"}
    assert all(item.errors == 0 for item in report.departments)
    # Every returned file was archived untouched, and nothing was sent back.
    archived = [path for path in demo.workspace.archive.rglob("*") if path.is_file()]
    assert len(archived) == 15
    assert not list(demo.workspace.feedback.glob("*.xlsx"))


def test_outputs_are_where_the_summary_says(demo: DemoSummary) -> None:
    text = "\n".join(demo.lines())
    for kind in ("xlsx", "csv", "json"):
        path = demo.outputs[kind]
        assert path.exists() and path.parent == demo.workspace.reports
        assert str(path) in text
    with demo.outputs["csv"].open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 86
    first = next(row for row in rows if row["事業番号"] == "1")
    assert (first["今年度_数値"], first["今年度_単位"]) == ("159", "人")
    if shutil.which("soffice"):
        assert demo.outputs["pdf"].read_bytes().startswith(b"%PDF")
    else:
        assert "LibreOffice" in text
