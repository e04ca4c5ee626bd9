"""The embedded ogi example, as `xlplan plan show --json` reports it, against the seed transcription."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xlplan.cli import main
from xlplan.examples import Example
from xlplan.workspace.folder import Workspace

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "seed_plan.json"


def _seed() -> dict[str, Any]:
    # The shared seed beside the project is the reference; the packaged copy must equal it.
    from xlplan.examples import load_seed

    packaged = load_seed("ogi")
    if SEED.exists():
        assert json.loads(SEED.read_text(encoding="utf-8")) == packaged
    return packaged


def _seed_projects(seed: dict[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    return [
        ((goal["number"], direction["number"], program["number"]), project)
        for goal in seed["goals"]
        for direction in goal["directions"]
        for program in direction["programs"]
        for project in program["projects"]
    ]


@pytest.fixture
def shown(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["plan", "show", "-w", str(workspace.root), "--json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_counts(shown: dict[str, Any]) -> None:
    counts = shown["counts"]
    assert counts["per_level"] == {"基本目標": 5, "施策の方向": 13, "基本事業": 23, "事業": 69}
    assert counts["entries"] == 86
    assert counts["named_departments"] == 94
    assert counts["departments"] == 15
    assert shown["levels"] == ["基本目標", "施策の方向", "基本事業", "事業"]


def test_every_project_entry_baseline_and_previous_value_matches_the_seed(shown: dict[str, Any]) -> None:
    seed = _seed()
    years = shown["fiscal_years"]
    assert years["baseline"]["wareki"] == seed["fiscal_years"]["baseline"]
    assert years["previous"]["wareki"] == seed["fiscal_years"]["previous"]
    assert years["current"]["wareki"] == seed["fiscal_years"]["current"]
    previous = seed["fiscal_years"]["previous"]
    expected = _seed_projects(seed)
    assert [project["no"] for project in shown["projects"]] == [project["no"] for _path, project in expected]
    for project, (path, seeded) in zip(shown["projects"], expected, strict=True):
        assert project["path"] == list(path)
        assert project["description"] == seeded["description"]
        assert project["indicator"] == seeded["indicator"]
        assert project["baseline"] == seeded["baseline"]
        assert [entry["name"] for entry in project["entries"]] == [d["name"] for d in seeded["departments"]]
        for entry, department in zip(project["entries"], seeded["departments"], strict=True):
            assert entry["joint"] == ("joint" in department)
            if "joint" in department:
                assert entry["members"] == department["joint"]
            value = entry["values"].get(previous, {}).get("value")
            assert value == department["previous"], (project["no"], entry["name"])


def test_hierarchy_titles_and_settings_match_the_seed(shown: dict[str, Any]) -> None:
    seed = _seed()
    assert shown["title"] == seed["title"]
    assert shown["document_label"] == seed["document_label"]
    assert shown["slogan"] == seed["slogan"]
    goals = [node for node in shown["nodes"] if node["level"] == "基本目標"]
    assert [(g["number"], g["title"], g["subtitle"]) for g in goals] == [
        (g["number"], g["title"], g["subtitle"]) for g in seed["goals"]
    ]
    programs = {tuple(node["path"]): node["title"] for node in shown["nodes"] if node["level"] == "基本事業"}
    for goal in seed["goals"]:
        for direction in goal["directions"]:
            for program in direction["programs"]:
                assert programs[(goal["number"], direction["number"], program["number"])] == program["title"]


def test_department_registry_unifies_the_variant_spelling(example: Example) -> None:
    plan = example.plan
    assert plan.canonical_department("人権・同和对策室") == "人権・同和対策室"
    assert plan.canonical_department("人権・同和対策室") == "人権・同和対策室"
    # Project 20's cell names the departments concerned; 企画政策課 answers for it.
    assert plan.project(20).entries[0].members == ("企画政策課",)
    answered = {
        plan.canonical_department(member) for p in plan.projects for e in p.entries for member in e.members
    }
    assert answered == {department.name for department in plan.departments}


def test_answers_are_the_seed_current_values(example: Example) -> None:
    # The demo's answers rebuild each seed row: single entries as printed, joint ones from their shares.
    seed = _seed()
    by_row: dict[tuple[int, str], list[Any]] = {}
    for answer in example.answers:
        by_row.setdefault((answer.project_no, answer.entry), []).append(answer)
    for _path, project in _seed_projects(seed):
        for department in project["departments"]:
            shares = by_row[(project["no"], department["name"])]
            members = department.get("joint", [None])
            assert len(shares) == len(members)
            if len(shares) == 1:
                assert shares[0].value.to_json() == department["current"]
                assert shares[0].narrative == department["narrative"]
    project1 = by_row[(1, "企画政策課 生涯学習課")]
    assert [(a.department, a.value.display()) for a in project1] == [
        ("企画政策課", "90人"),
        ("生涯学習課", "69人"),
    ]
