"""The exceptions that stop a run, grouped by who must act, each carrying its exit status.

A run that completes reports what it found as findings in its result (exit 0, or 1
when a finding is an error). A run that cannot complete raises one of these; its
``findings`` say why in the catalogue's words, and the command line exits with the
class's ``exit_code`` (``click`` does the same with its exceptions)::

    XlplanError                  2  base class, never raised itself
    ├── ConfigurationError       2  the master, the workspace or the command's arguments must be fixed
    │   └── MissingExtraError    2  an optional part is not installed (xlwings for the buttons)
    ├── OutputError              3  a file could not be written: open in Excel, folder not writable,
    │   │                           disk full. Fix that (close the file) and run again
    │   ├── PdfUnavailable       3  neither LibreOffice nor Excel is there to print the PDF
    │   └── PdfFailed            3  the converter was found but produced no PDF
    └── BusyError                4  another run holds the workspace; try again when it has finished

Exit status 1 belongs to results (findings of severity error), never to an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from xlplan.findings import Finding, Language

EXIT_OK = 0
"""Everything was valid."""
EXIT_FINDINGS = 1
"""The run completed and found errors (a return to correct, a department overdue)."""
EXIT_USAGE = 2
"""Bad usage or configuration: the master, the workspace or the command line must be fixed."""
EXIT_OUTPUT = 3
"""An output could not be written; nothing half-written was left."""
EXIT_BUSY = 4
"""Another run of the same workspace was in progress."""


class XlplanError(Exception):
    """Base of the exceptions that stop a run; ``findings`` say why."""

    exit_code: ClassVar[int] = EXIT_USAGE

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings = tuple(findings)
        super().__init__("\n".join(finding.message() for finding in self.findings))

    def messages(self, language: Language = "ja") -> list[str]:
        """The findings' messages in ``language``."""
        return [finding.message(language) for finding in self.findings]

    def __reduce__(self) -> tuple[type[XlplanError], tuple[tuple[Finding, ...]]]:
        # Made again from its findings, not its message: an error raised in a worker process (a
        # workbook that could not be written) reaches the parent whole. Rebuilt from the message
        # string, it failed in the pool's result thread and left the parent waiting for ever.
        return type(self), (self.findings,)


class ConfigurationError(XlplanError):
    """The master workbook, the workspace or the arguments are not usable as they are. Someone must fix them."""

    exit_code = EXIT_USAGE


class MissingExtraError(ConfigurationError):
    """An optional dependency is not installed; the finding names the ``pip install`` that adds it."""


class OutputError(XlplanError):
    """A file could not be written (folder not writable, file open in Excel, disk full)."""

    exit_code = EXIT_OUTPUT


class PdfUnavailable(OutputError):
    """Neither LibreOffice nor Excel with xlwings is installed."""


class PdfFailed(OutputError):
    """A converter was found but did not produce the PDF."""


class BusyError(XlplanError):
    """Another run (a scheduled collection, a click on a button) holds the workspace's lock."""

    exit_code = EXIT_BUSY
