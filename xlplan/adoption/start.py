"""``xlplan init``: a new workspace holding a blank master, the embedded example, or a city's own table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding
from xlplan.plan.blank import DEFAULT_LEVELS, blank_plan
from xlplan.plan.model import Plan
from xlplan.workspace.folder import Workspace, init_workspace


def init(
    root: Path | str,
    *,
    example: str | None = None,
    levels: Sequence[str] | None = None,
    title: str | None = None,
    source: Path | str | None = None,
    warnings: list[Finding] | None = None,
) -> Workspace:
    """Make a new workspace at ``root`` (``xlplan init``).

    Args:
        root: the folder; created if missing, refused if it already holds a workspace.
        example: the embedded example to start from (``"ogi"``).
        levels: level names of a blank master, top first (``("政策", "施策", "事業")``);
            the default is 基本目標 › 施策の方向 › 基本事業 › 事業.
        title: the plan's name (計画名) of a blank master, or instead of the table's.
        source: a consolidated table (事業実績一覧, .xlsx) to build the master from, with every
            year it shows as history (:mod:`xlplan.adoption.table`).
        warnings: where to put what reading the table noticed without stopping (department
            names that may be one department spelt two ways).

    Raises:
        ConfigurationError: the folder holds a workspace or cannot be written, an unknown example,
            bad level names, options that do not go together, or a table that cannot be read
            (every cell it could not read is named; nothing is written).
    """
    chosen = [name for name, given in (("--example", example), ("--from", source)) if given is not None]
    if len(chosen) > 1 or (chosen and levels is not None):
        options = [*chosen, *(["--levels"] if levels is not None else [])]
        raise ConfigurationError([Finding("init-options-conflict", {"options": " と ".join(options)})])
    plan: Plan
    if example is not None:
        from xlplan.examples import load_example

        plan = load_example(example).plan
    elif source is not None:
        from xlplan.adoption.table import plan_from_table

        plan, noticed = plan_from_table(Path(source), name=title)
        if warnings is not None:
            warnings.extend(noticed)
    else:
        try:
            plan = blank_plan(levels or DEFAULT_LEVELS, name=title)
        except ValueError as exc:
            raise ConfigurationError(
                [Finding("init-bad-levels", {"levels": "、".join(levels or ())})]
            ) from exc
    return init_workspace(Path(root), plan)
