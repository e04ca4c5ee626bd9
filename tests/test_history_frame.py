"""``xlplan.history(workspace)``: the plan's years as a pandas DataFrame, checked against the master's 履歴
sheet as python-calamine reads it and against the ledger's accepted answers."""

from __future__ import annotations

import math

import pytest

import xlplan
from tests.conftest import calamine_rows, fill_and_collect
from xlplan.examples import Example
from xlplan.workspace.folder import Workspace, init_workspace


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory, example: Example) -> Workspace:
    workspace = init_workspace(tmp_path_factory.mktemp("frame") / "ws", example.plan)
    fill_and_collect(workspace, example, only={"企画政策課", "生涯学習課"})
    return workspace


def test_every_history_record_is_a_row(answered: Workspace) -> None:
    frame = xlplan.history(answered)
    master = frame[frame["source"] == "history"]
    sheet = calamine_rows(answered.master_path, "履歴")
    header, records = sheet[0], [row for row in sheet[1:] if any(row)]
    assert len(master) == len(records) > 0
    at = {name: header.index(name) for name in ("事業番号", "担当課", "年度", "値")}
    read = sorted((int(r[at["事業番号"]]), r[at["担当課"]], r[at["年度"]]) for r in records)
    assert sorted(zip(master["project_no"], master["entry"], master["wareki"], strict=True)) == read


def test_this_years_accepted_answers_are_rows_of_the_current_year(answered: Workspace) -> None:
    frame = xlplan.history(answered)
    returned = frame[frame["source"] == "return"]
    accepted = answered.accepted_answers()
    assert len(returned) == len(accepted) > 0
    assert set(returned["fiscal_year"]) == {answered.load_plan().settings.current_year.western}
    assert {"企画政策課", "生涯学習課"} >= set(returned["department"])
    by_key = {(a.project_no, a.entry, a.department): a for a in accepted}
    for row in returned.itertuples():
        answer = by_key[(row.project_no, row.entry, row.department)]
        if answer.value.number is None:
            assert math.isnan(row.value) and row.mark == (
                answer.value.mark.value if answer.value.mark else None
            )
        else:
            unit = row.unit if isinstance(row.unit, str) else None  # pandas shows a missing unit as NaN
            assert row.value == float(answer.value.number) and unit == answer.value.unit
        assert row.narrative == answer.narrative


def test_the_frame_is_ready_for_analysis(answered: Workspace) -> None:
    frame = xlplan.history(answered)
    assert str(frame["value"].dtype) == "float64" and str(frame["fiscal_year"].dtype) == "int64"
    # A pivot by year, the natural first step of a trend: the baseline's successor years as columns.
    numbers = frame[frame["value"].notna()]
    pivot = numbers.pivot_table(index=["project_no", "entry"], columns="fiscal_year", values="value")
    assert pivot.shape[0] > 0 and answered.load_plan().settings.current_year.western in pivot.columns


def test_the_frame_agrees_with_plan_show_json(
    answered: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from xlplan.cli import main

    capsys.readouterr()
    assert main(["plan", "show", "-w", str(answered.root), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    frame = xlplan.history(answered)
    whole = frame[(frame["source"] == "history")]
    shown = {
        (r.project_no, r.entry, r.wareki): r.shown for r in whole.itertuples() if isinstance(r.shown, str)
    }
    expected = {
        (project["no"], entry["name"], year): value["value"]
        for project in document["projects"]
        for entry in project["entries"]
        for year, value in entry["values"].items()
        if value.get("value")
    }
    assert expected and all(shown.get(key) == value for key, value in expected.items()), [
        (key, value, shown.get(key)) for key, value in expected.items() if shown.get(key) != value
    ][:3]
