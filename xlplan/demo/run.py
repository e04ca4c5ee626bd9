"""``xlplan demo``: the whole cycle on the embedded example, as a department-free rehearsal.

The demo makes a workspace from the ``ogi`` example and runs the cycle exactly
as the office would, with one difference: the departments' answers are the
seed's 令和2年度 values and narratives, typed into the distributed workbooks by
:func:`xlplan.demo.respond.fill_response` and dropped into ``inbox/``.

distribute → (departments answer) → collect → consolidate (+ PDF where
LibreOffice is installed, + CSV/JSON). Each stage adds its outputs to the
summary so the user sees where every file went.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplan.collection.run import collect
from xlplan.demo.respond import fill_response
from xlplan.distribution.run import distribute
from xlplan.examples import load_example
from xlplan.findings import Finding, Language, findings_json
from xlplan.publish.consolidate import consolidate
from xlplan.result import Reported, say
from xlplan.workspace.folder import Workspace, init_workspace


@dataclass
class DemoSummary(Reported):
    """What the demo did: each step as a (Japanese, English) line, its findings, where the outputs are."""

    workspace: Workspace
    steps: list[tuple[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)

    def lines(self, language: Language = "ja") -> list[str]:
        """Lines to print."""
        steps = [(f"作業フォルダ: {self.workspace.root}", f"Workspace: {self.workspace.root}"), *self.steps]
        return [say(language, ja, en) for ja, en in steps]

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """JSON data: the workspace, the outputs and the findings."""
        return {
            "workspace": str(self.workspace.root),
            "outputs": {kind: str(path) for kind, path in self.outputs.items()},
            "findings": findings_json(self.findings, language),
        }


def run_demo(root: Path, example: str = "ogi", *, pdf: bool = True) -> DemoSummary:
    """Make a workspace at ``root`` from ``example`` and run the whole cycle on it.

    Args:
        root: a folder that does not hold a workspace yet.
        example: the embedded example's name.
        pdf: print the consolidated table to PDF where LibreOffice (or Excel) is there;
            where neither is, the summary says what to install and the rest is made.

    Raises:
        ConfigurationError: ``root`` already holds a workspace, or the example is unknown.
    """
    loaded = load_example(example)
    workspace = init_workspace(root, loaded.plan)
    summary = DemoSummary(workspace)
    plan = loaded.plan
    entries = sum(len(project.entries) for project in plan.projects)
    summary.steps.append(
        (
            f"計画マスタ: {workspace.master_path}（事業 {len(plan.projects)}、担当課の行 {entries}、担当課 {len(plan.departments)}）",
            f"Master workbook: {workspace.master_path} ({len(plan.projects)} projects, {entries} entries, "
            f"{len(plan.departments)} departments)",
        )
    )

    sent = distribute(workspace, plan=plan)
    summary.findings.extend(sent.findings)
    workbooks = [item for item in sent.departments if item.workbook is not None]
    summary.steps.append(
        (
            f"配布: 回答用ブック {len(workbooks)} 件とメールの下書き {sum(1 for i in workbooks if i.mail)} 件: {sent.folder}",
            f"Distributed: {len(workbooks)} workbooks and "
            f"{sum(1 for i in workbooks if i.mail)} mail drafts: {sent.folder}",
        )
    )

    # The departments answer: each fills its own workbook and drops it into the inbox.
    for item in workbooks:
        assert item.workbook is not None
        own = [a for a in loaded.answers if plan.canonical_department(a.department) == item.department]
        fill_response(item.workbook, own, workspace.inbox / item.workbook.name)
    summary.steps.append(
        (
            f"回答（例の令和2年度の値と実績）: {len(workbooks)} 件を受信フォルダに置きました: {workspace.inbox}",
            f"Answered with the seed's values: {len(workbooks)} files in {workspace.inbox}",
        )
    )

    collected = collect(workspace)
    summary.findings.extend(finding for finding in collected.findings if finding.is_error)
    summary.steps.append(
        (f"回収・検証: {collected.lines('ja')[0]}", f"Collected: {collected.lines('en')[0]}")
    )

    published = consolidate(workspace, pdf=pdf, csv=True)
    summary.findings.extend(published.findings)
    summary.outputs["xlsx"] = published.xlsx
    summary.steps.append((f"集約表: {published.xlsx}", f"Consolidated table: {published.xlsx}"))
    if published.pdf is not None:
        summary.outputs["pdf"] = published.pdf
        summary.steps.append((f"PDF: {published.pdf}", f"PDF: {published.pdf}"))
    for finding in published.findings:
        if finding.code == "pdf-unavailable":
            summary.steps.append((f"PDF: {finding.message('ja')}", f"PDF: {finding.message('en')}"))
    if published.csv is not None:
        summary.outputs["csv"] = published.csv
        summary.steps.append((f"CSV（オープンデータ）: {published.csv}", f"CSV (open data): {published.csv}"))
    if published.json is not None:
        summary.outputs["json"] = published.json
        summary.steps.append((f"JSON: {published.json}", f"JSON: {published.json}"))
    return summary
