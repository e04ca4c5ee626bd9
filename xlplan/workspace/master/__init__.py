"""The master workbook (計画マスタ) ⇄ :class:`~xlplan.plan.model.Plan`.

The master is the one file the plan office keeps. Its sheets:

======  ===============================================================
説明    what the workbook is and how to edit it (for a new staff member)
設定    key / value / explanation: titles, hierarchy level names, years,
        deadline, the office, mail templates
計画    one row per project × department entry; hierarchy columns named
        by the level names
担当課  the department registry: name, other spellings, mail, contact
履歴    long-format history: project, entry, (share), year, value, narrative
評価基準 the grading rule (optional): 項目・値・説明 rows, then the 区分 table
======  ===============================================================

Reading collects every problem as a finding with its sheet and cell and then
raises :class:`~xlplan.errors.ConfigurationError`; nothing is written.
"""

from xlplan.workspace.master.read import read_master
from xlplan.workspace.master.write import fill_master, master_tables, write_master

__all__ = ["fill_master", "master_tables", "read_master", "write_master"]
