"""The layout of a department workbook: what distribution writes and collection reads.

Both sides use this module so the sheet names, header texts and column keys
cannot drift apart. Collection finds columns by their header text in
:data:`HEADER_ROW` (so an inserted column does not shift the reading) and
rows by the row id in the first column (so inserted or reordered rows are
recognised), and it trusts the manifest, not the sheet, for what was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RESPONSE_SHEET = "回答"
GUIDE_SHEET = "記入方法"
MANIFEST_SHEET = "_xlplan"
"""Very hidden sheet holding the signed manifest as JSON text in column A (32,767 characters a cell)."""

TEMPLATE_VERSION = "1"
"""Bumped whenever the layout changes in a way a reader must know."""

TITLE_ROW = 1
INFO_ROW = 2
HEADER_ROW = 4
FIRST_DATA_ROW = 5

NARRATIVE_MAX = 2000
"""Longest narrative accepted (characters). The seed's longest is about 700."""


@dataclass(frozen=True)
class Column:
    """One column of the 回答 sheet. ``key`` is stable; ``header`` is what people see."""

    key: str
    header: str
    width: float
    input: bool = False  # yellow and unlocked; everything else is locked and grey


# Keys of the fixed columns. Hierarchy columns are ``level1`` … ``levelN`` (N = depth - 1).
ROW_ID = "row_id"
PROJECT_NO = "project_no"
DESCRIPTION = "description"
INDICATOR = "indicator"
UNIT = "unit"
ENTRY = "entry"
DEPARTMENT = "department"
BASELINE = "baseline"
PREVIOUS_VALUE = "previous_value"
PREVIOUS_NARRATIVE = "previous_narrative"
CURRENT_VALUE = "current_value"
CURRENT_NARRATIVE = "current_narrative"


def response_columns(levels: Sequence[str], baseline: str, previous: str, current: str) -> list[Column]:
    """The 回答 sheet's columns for a plan with these level names and year labels.

    Args:
        levels: level names from the top to the projects' level (基本目標 … 事業).
        baseline, previous, current: year labels shown in the headers (平成27年度 …).
    """
    columns = [Column(ROW_ID, "行ID", 9)]
    columns += [Column(f"level{depth + 1}", name, 22) for depth, name in enumerate(levels[:-1])]
    leaf = levels[-1]
    columns += [
        Column(PROJECT_NO, f"{leaf}番号", 7),
        Column(DESCRIPTION, f"{leaf}の内容", 40),
        Column(INDICATOR, "数値目標", 24),
        Column(UNIT, "単位", 6),
        Column(ENTRY, "担当課", 16),
        Column(DEPARTMENT, "回答する課", 14),
        Column(BASELINE, f"現状値（{baseline}）", 11),
        Column(PREVIOUS_VALUE, f"前年度の値（{previous}）", 11),
        Column(PREVIOUS_NARRATIVE, f"前年度の実績内容（{previous}）", 40),
        Column(CURRENT_VALUE, f"今年度の値（{current}）", 12, input=True),
        Column(CURRENT_NARRATIVE, f"今年度の実績内容（{current}）", 60, input=True),
    ]
    return columns


def row_id(project_no: int, entry_index: int, member_index: int) -> str:
    """A row's stable id: project, entry (1-based) and member (1-based) — ``P001-1-2``."""
    return f"P{project_no:03d}-{entry_index}-{member_index}"
