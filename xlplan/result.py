"""The one shape of what a verb returns, so that every shell reports every verb the same way.

Each verb (``distribute``, ``collect``, ``validate``, ``status``, ``remind``,
``consolidate`` …) returns a record with:

- ``findings``: every finding of the run, in the order found;
- ``ok``: False when the run found something that needs action (exit status 1);
- ``lines(language)``: what to tell a person, one line each, in Japanese or English;
- ``to_dict(language)``: the JSON document of ``--json`` (findings' messages in that language).

The command line prints ``lines`` or ``to_dict`` and exits with :attr:`Reported.exit_code`;
the Excel buttons write the same lines and findings into the 状況 sheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from xlplan.errors import EXIT_FINDINGS, EXIT_OK
from xlplan.findings import Finding, Language, has_errors


@runtime_checkable
class Result(Protocol):
    """What every verb returns (see the module docstring)."""

    @property
    def findings(self) -> Sequence[Finding]:
        """Every finding of the run."""
        ...

    @property
    def ok(self) -> bool:
        """False when something needs action."""
        ...

    def lines(self, language: Language = "ja") -> list[str]:
        """Lines for a person."""
        ...

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """The ``--json`` document."""
        ...


class _HasFindings(Protocol):
    @property
    def findings(self) -> Sequence[Finding]: ...


class Reported:
    """Mixin of the results: ``ok`` when no finding is an error, and the exit status that follows."""

    @property
    def ok(self: _HasFindings) -> bool:
        """True when no finding has severity error."""
        return not has_errors(self.findings)

    @property
    def exit_code(self: Result) -> int:
        """0 when ``ok``, else 1 (the command-line contract)."""
        return EXIT_OK if self.ok else EXIT_FINDINGS


def say(language: Language, ja: str, en: str) -> str:
    """``ja`` or ``en``, whichever ``language`` asks for: how results word their lines."""
    return en if language == "en" else ja
