"""xlplan: the yearly progress report of a municipal plan, in Excel, end to end.

The core works on paths and plain records and never needs Excel:
:mod:`xlplan.plan.model` (the plan), :mod:`xlplan.workspace.master` (the master workbook),
:mod:`xlplan.plan.values` and :mod:`xlplan.plan.fiscal_year` (reading what people type),
:mod:`xlplan.findings` (what checks find, as data). The command line
(:mod:`xlplan.cli`) and the Excel buttons (:mod:`xlplan.excel`, the only module
that imports xlwings) are thin shells over it.
"""

__version__ = "0.1.0"
