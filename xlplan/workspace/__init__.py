"""The workspace: a folder holding the master workbook, the ledger and the folders of a cycle.

- :mod:`~xlplan.workspace.folder`: the folder's layout, its signing key, ``init_workspace``;
- :mod:`~xlplan.workspace.master`: the master workbook, read into a plan and written from one;
- :mod:`~xlplan.workspace.ledger`: the SQLite ledger — every SQL statement of xlplan.
"""

from xlplan.workspace.folder import FOLDERS, MASTER_NAMES, Workspace, init_workspace

__all__ = ["FOLDERS", "MASTER_NAMES", "Workspace", "init_workspace"]
