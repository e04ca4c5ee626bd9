"""Publish: the consolidated table (事業実績一覧) rebuilt with its formatting, as xlsx, PDF, CSV, JSON and HTML.

- :mod:`~xlplan.publish.table`: what the table holds (joint entries combined by :mod:`xlplan.plan.combine`);
- :mod:`~xlplan.publish.template`: the styles, from a template the office may restyle in Excel;
- :mod:`~xlplan.publish.writer` and :mod:`~xlplan.publish.parallel`: the workbook, in one process or two;
- :mod:`~xlplan.publish.opendata`: CSV and JSON; :mod:`~xlplan.publish.html`: the accessible HTML page;
- :mod:`~xlplan.publish.consolidate`: one run.
"""

from xlplan.publish.consolidate import ConsolidationResult, consolidate, consolidate_plan

__all__ = ["ConsolidationResult", "consolidate", "consolidate_plan"]
