"""xlplan: the yearly progress report of a municipal plan, in Excel, end to end.

The public surface is what ``__all__`` lists; everything else is an implementation
module whose names may change. The verbs take a :class:`Workspace` (a folder) and
return a result with ``findings``, ``ok``, ``lines(language)`` and ``to_dict(language)``
(:mod:`xlplan.result`); exceptions that stop a run are in :mod:`xlplan.errors`::

    import xlplan

    workspace = xlplan.init("令和3年度", example="ogi")
    xlplan.distribute(workspace)
    result = xlplan.collect(workspace)
    print("\\n".join(result.lines()))
    xlplan.consolidate(workspace, pdf=True, csv=True)

The package is arranged by stage and layer (``docs/architecture.md``): the shells
(:mod:`xlplan.cli`, :mod:`xlplan.excel`) call the stages (``distribute``, ``collect``,
``followup``, ``publish``, ``buttons``), which use the department-workbook contract
(``form``), the workspace and mail, which use the Excel mechanics (``xlsx``) and the
plan core (``plan``). Importing ``xlplan`` loads the verbs only when first used, and
never imports xlwings.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name → (module, attribute): loaded on first access (PEP 562), so `import xlplan` stays cheap.
_EXPORTS: dict[str, tuple[str, str]] = {
    # the workspace
    "Workspace": ("xlplan.workspace.folder", "Workspace"),
    "init": ("xlplan.adoption.start", "init"),
    # the verbs
    "distribute": ("xlplan.distribution.run", "distribute"),
    "collect": ("xlplan.collection.run", "collect"),
    "validate": ("xlplan.collection.run", "validate"),
    "status": ("xlplan.followup.status", "status"),
    "remind": ("xlplan.followup.remind", "remind"),
    "review": ("xlplan.followup.review", "review"),
    "decide": ("xlplan.followup.review", "decide"),
    "consolidate": ("xlplan.publish.consolidate", "consolidate"),
    "build_buttons": ("xlplan.buttons.build", "build_excel_master"),
    "rollover": ("xlplan.yearend.run", "rollover"),
    "history": ("xlplan.publish.history", "history"),
    # their results
    "Result": ("xlplan.result", "Result"),
    "DistributionResult": ("xlplan.distribution.run", "DistributionResult"),
    "CollectResult": ("xlplan.collection.results", "CollectResult"),
    "ValidationResult": ("xlplan.collection.results", "ValidationResult"),
    "StatusReport": ("xlplan.followup.status", "StatusReport"),
    "RemindResult": ("xlplan.followup.remind", "RemindResult"),
    "ReviewResult": ("xlplan.followup.review", "ReviewResult"),
    "ConsolidationResult": ("xlplan.publish.consolidate", "ConsolidationResult"),
    "BuildResult": ("xlplan.buttons.build", "BuildResult"),
    "RolloverResult": ("xlplan.yearend.run", "RolloverResult"),
    # findings
    "Finding": ("xlplan.findings", "Finding"),
    "Phrase": ("xlplan.findings", "Phrase"),
    "Language": ("xlplan.findings", "Language"),
    # the error tree
    "XlplanError": ("xlplan.errors", "XlplanError"),
    "ConfigurationError": ("xlplan.errors", "ConfigurationError"),
    "MissingExtraError": ("xlplan.errors", "MissingExtraError"),
    "OutputError": ("xlplan.errors", "OutputError"),
    "PdfUnavailable": ("xlplan.errors", "PdfUnavailable"),
    "PdfFailed": ("xlplan.errors", "PdfFailed"),
    "BusyError": ("xlplan.errors", "BusyError"),
    # the plan
    "Plan": ("xlplan.plan.model", "Plan"),
    "load_example": ("xlplan.examples", "load_example"),
}

__all__ = [
    "BuildResult",
    "BusyError",
    "CollectResult",
    "ConfigurationError",
    "ConsolidationResult",
    "DistributionResult",
    "Finding",
    "Language",
    "MissingExtraError",
    "OutputError",
    "PdfFailed",
    "PdfUnavailable",
    "Phrase",
    "Plan",
    "RemindResult",
    "Result",
    "ReviewResult",
    "RolloverResult",
    "StatusReport",
    "ValidationResult",
    "Workspace",
    "XlplanError",
    "__version__",
    "build_buttons",
    "collect",
    "consolidate",
    "decide",
    "distribute",
    "history",
    "init",
    "load_example",
    "remind",
    "review",
    "rollover",
    "status",
    "validate",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'xlplan' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # what the type checker and editors see; at run time __getattr__ loads these
    from xlplan.adoption.start import init
    from xlplan.buttons.build import BuildResult
    from xlplan.buttons.build import build_excel_master as build_buttons
    from xlplan.collection.results import CollectResult, ValidationResult
    from xlplan.collection.run import collect, validate
    from xlplan.distribution.run import DistributionResult, distribute
    from xlplan.errors import (
        BusyError,
        ConfigurationError,
        MissingExtraError,
        OutputError,
        PdfFailed,
        PdfUnavailable,
        XlplanError,
    )
    from xlplan.examples import load_example
    from xlplan.findings import Finding, Language, Phrase
    from xlplan.followup.remind import RemindResult, remind
    from xlplan.followup.review import ReviewResult, decide, review
    from xlplan.followup.status import StatusReport, status
    from xlplan.plan.model import Plan
    from xlplan.publish.consolidate import ConsolidationResult, consolidate
    from xlplan.result import Result
    from xlplan.workspace.folder import Workspace
    from xlplan.yearend.run import RolloverResult, rollover
