"""``xlplan demo``: the whole cycle on the embedded example, as a department-free rehearsal.

The demo makes a workspace from the ``ogi`` example and runs the cycle with the
seed's 令和2年度 values and narratives as the departments' answers. Each stage
adds its outputs to the summary so the user sees where every file went.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xlplan.examples import load_example
from xlplan.workspace import Workspace, init_workspace


@dataclass
class DemoSummary:
    """What the demo did, as (Japanese, English) lines for the terminal."""

    workspace: Workspace
    steps: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[tuple[str, str]]:
        """Lines to print, Japanese and English side by side."""
        return [(f"作業フォルダ: {self.workspace.root}", f"Workspace: {self.workspace.root}"), *self.steps]


def run_demo(root: Path, example: str = "ogi") -> DemoSummary:
    """Make a workspace at ``root`` from ``example`` and run the cycle on it."""
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
    return summary
