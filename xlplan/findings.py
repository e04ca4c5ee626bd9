"""Findings: what a check found, as data with a stable code.

A finding is never free text written at a call site. It carries a ``code``
from :mod:`xlplan.catalogue`, a severity, where it applies (file, sheet, A1
cell) and ``params``; the message is rendered from the catalogue's template
in Japanese (the default) or English. Exceptions stop a run; findings go into
a list that is reported as JSON, a table, or rows of an Excel sheet.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from xlplan.catalogue import CATALOGUE

Severity = Literal["error", "warning"]
Language = Literal["ja", "en"]


def current_language() -> Language:
    """The message language: ``XLPLAN_LANG=en`` switches to English, Japanese otherwise."""
    return "en" if os.environ.get("XLPLAN_LANG", "").lower().startswith("en") else "ja"


def render(code: str, params: Mapping[str, Any], language: Language | None = None) -> str:
    """The message for ``code`` in ``language``, with ``params`` filled in.

    A missing parameter is shown as ``{name}`` rather than raising, so a
    message can never be the thing that crashes a run.
    """
    entry = CATALOGUE[code]
    template = entry.en if (language or current_language()) == "en" else entry.ja
    return template.format_map(_Lenient(params))


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Finding:
    """One thing a check found. ``severity`` defaults to the catalogue's for the code."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    severity: Severity | None = None

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise KeyError(f"finding code not in the catalogue: {self.code}")
        if self.severity is None:
            object.__setattr__(self, "severity", CATALOGUE[self.code].severity)

    @property
    def is_error(self) -> bool:
        """True for severity ``error``."""
        return self.severity == "error"

    def message(self, language: Language | None = None) -> str:
        """The rendered message, Japanese unless asked otherwise. Templates may use {sheet}, {cell}, {file}."""
        return render(
            self.code, {"sheet": self.sheet, "cell": self.cell, "file": self.file, **self.params}, language
        )

    def where(self) -> str:
        """``回答!F12`` style location, or the file name, or an empty string."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or self.cell or ""

    def to_dict(self, language: Language | None = None) -> dict[str, Any]:
        """The JSON form promised by the command-line contract."""
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message(language),
            "message_en": self.message("en"),
            "params": {key: _jsonable(value) for key, value in self.params.items()},
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return str(value)


def not_writable(path: object, exc: OSError) -> Finding:
    """The ``output-not-writable`` finding for ``path``, with the system's reason for ``exc``."""
    return Finding("output-not-writable", {"path": str(path), "reason": exc.strerror or type(exc).__name__})


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding has severity error."""
    return any(finding.is_error for finding in findings)


def format_table(findings: Iterable[Finding], language: Language | None = None) -> str:
    """A plain text table, one finding a line, for the terminal."""
    lines = []
    for finding in findings:
        label = (
            ("エラー" if finding.is_error else "警告")
            if (language or current_language()) == "ja"
            else (finding.severity or "")
        )
        place = " ".join(part for part in (finding.file or "", finding.where()) if part)
        prefix = f"[{label}] {place}: " if place else f"[{label}] "
        lines.append(f"{prefix}{finding.message(language)} ({finding.code})")
    return "\n".join(lines)


class XlplanError(Exception):
    """Base of the exceptions that stop a run.

    Tree:
        XlplanError
        ├── ConfigurationError  bad master, bad workspace, bad usage → exit status 2
        └── OutputError         a file cannot be written where it must be
    """

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings = tuple(findings)
        super().__init__("\n".join(finding.message() for finding in self.findings))


class ConfigurationError(XlplanError):
    """The master workbook or the workspace is not usable as it is. Someone must fix it; exit 2."""


class OutputError(XlplanError):
    """A file could not be written (folder not writable, file open in Excel)."""
