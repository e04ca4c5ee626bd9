"""The plan's history as a pandas DataFrame: every year the master holds, and this year's accepted answers.

One row per project, entry, department and fiscal year. ``department`` is the member who reported
(a department's own share of a joint entry, or the single department of an entry) and is missing
for a joint entry's combined value. The current year comes from the ledger's accepted answers, so
the frame is the year as it stands, before 次年度へ writes it into 履歴.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.model import Project
from xlplan.plan.values import Value
from xlplan.workspace.folder import Workspace

if TYPE_CHECKING:  # pandas is imported when the function runs: `import xlplan` stays light
    import pandas

COLUMNS = (
    "project_no", "level_path", "indicator", "entry", "department", "fiscal_year", "wareki",
    "value", "unit", "mark", "shown", "narrative", "note", "source",
)  # fmt: skip
"""The frame's columns. ``value`` is a float (NaN for a mark or a blank), ``shown`` the value as the
table prints it, ``source`` either ``history`` (the master's 履歴) or ``return`` (an accepted answer)."""


def history(workspace: Workspace) -> pandas.DataFrame:
    """The plan's history and this year's accepted answers, one row per project, entry, department
    and fiscal year, ordered by project, entry, year and department.

    Raises:
        ConfigurationError: not a workspace, or the master has errors.
    """
    import pandas

    plan = workspace.load_plan()
    projects = {project.no: project for project in plan.projects}
    rows = [_row(projects, r.project_no, r.entry, r.department, r.fiscal_year.western, r.value, r.narrative,
                 r.note, "history") for r in plan.history]  # fmt: skip
    current = plan.settings.current_year.western
    rows += [_row(projects, a.project_no, a.entry, a.department, current, a.value, a.narrative, None, "return")
             for a in workspace.accepted_answers(plan)]  # fmt: skip
    frame = pandas.DataFrame(rows, columns=list(COLUMNS))
    frame = frame.astype({"project_no": "int64", "fiscal_year": "int64", "value": "float64"})
    order = ["project_no", "entry", "fiscal_year", "department"]
    return frame.sort_values(order, na_position="first", kind="stable").reset_index(drop=True)


def _row(
    projects: Mapping[int, Project],
    project_no: int,
    entry_name: str,
    department: str | None,
    year: int,
    value: Value,
    narrative: str | None,
    note: str | None,
    source: str,
) -> dict[str, Any]:
    project = projects.get(project_no)
    entry = next((e for e in project.entries if e.name == entry_name), None) if project else None
    if department is None and entry is not None and not entry.joint:
        department = entry.members[0]  # a single department's entry: its record is that department's
    return {
        "project_no": project_no,
        "level_path": "/".join(project.node) if project else None,
        "indicator": project.indicator if project else None,
        "entry": entry_name,
        "department": department,
        "fiscal_year": year,
        "wareki": FiscalYear(year).wareki,
        "value": float(value.number) if value.number is not None else float("nan"),
        "unit": value.unit if value.number is not None else None,
        "mark": value.mark.value if value.mark is not None else None,
        "shown": value.display() if not value.is_blank else None,
        "narrative": narrative,
        "note": note,
        "source": source,
    }
