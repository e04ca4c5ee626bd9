"""Findings: what a check found, as data with a stable code.

A finding is never free text written at a call site. It carries a ``code``
from :mod:`xlplan.catalogue`, a severity, where it applies (file, sheet, A1
cell) and ``params`` — plain data: numbers, names, the text a department typed,
and, where a message needs a reason or a description, a :class:`Phrase` (a
catalogue phrase code with its own params) rather than prose. The message is
rendered from the catalogue's template in the language asked for, Japanese by
default. Exceptions stop a run (:mod:`xlplan.errors`); findings go into a
result that is reported as JSON, a table, or the rows of an Excel sheet.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from xlplan.catalogue import CATALOGUE, PHRASES

Severity = Literal["error", "warning"]
Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = ("ja", "en")


def language_of(text: str | None) -> Language:
    """``en`` for ``en``, ``en_US.UTF-8`` …; Japanese for anything else (the default)."""
    return "en" if (text or "").lower().startswith("en") else "ja"


@dataclass(frozen=True)
class Phrase:
    """A part of a message kept as data: a phrase of the catalogue (``PHRASES``) and its params.

    ``Phrase("reason-max-length", {"limit": 2000})`` renders as 「2,000字以内で入力してください。」
    or "longer than 2,000 characters.", whichever language the message is rendered in.
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in PHRASES:
            raise KeyError(f"phrase code not in the catalogue: {self.code}")

    def render(self, language: Language = "ja") -> str:
        """The phrase in ``language``."""
        entry = PHRASES[self.code]
        template = entry.en if language == "en" else entry.ja
        return template.format_map(_Lenient(_rendered(self.params, language)))

    def to_dict(self) -> dict[str, Any]:
        """JSON data: ``{"phrase": code, "params": {…}}``."""
        return {"phrase": self.code, "params": {key: jsonable(value) for key, value in self.params.items()}}


def render(code: str, params: Mapping[str, Any], language: Language = "ja") -> str:
    """The message for ``code`` in ``language``, with ``params`` filled in.

    A :class:`Phrase` among the params is rendered in the same language; a list (of
    phrases or plain values) is joined (「、」 in Japanese, ", " in English). A missing parameter is shown as ``{name}``
    rather than raising, so a message can never be the thing that crashes a run.
    """
    entry = CATALOGUE[code]
    template = entry.en if language == "en" else entry.ja
    return template.format_map(_Lenient(_rendered(params, language)))


def _rendered(params: Mapping[str, Any], language: Language) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Phrase):
            value = value.render(language)
        elif isinstance(value, (list, tuple)):
            parts = (item.render(language) if isinstance(item, Phrase) else str(item) for item in value)
            value = ("、" if language == "ja" else ", ").join(parts)
        out[key] = value
    return out


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

    def message(self, language: Language = "ja") -> str:
        """The rendered message, Japanese unless asked otherwise. Templates may use {sheet}, {cell}, {file}."""
        return render(
            self.code, {"sheet": self.sheet, "cell": self.cell, "file": self.file, **self.params}, language
        )

    def where(self) -> str:
        """``回答!F12`` style location, or the file name, or an empty string."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or self.cell or ""

    def params_json(self) -> dict[str, Any]:
        """The params as JSON data (phrases as ``{"phrase": …, "params": …}``)."""
        return {key: jsonable(value) for key, value in self.params.items()}

    def to_dict(self, language: Language = "ja") -> dict[str, Any]:
        """The JSON form promised by the command-line contract: ``message`` in ``language``, ``message_en`` too."""
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message(language),
            "message_en": self.message("en"),
            "params": self.params_json(),
        }


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: phrases as dicts, sequences as lists, anything else unknown as text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Phrase):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return str(value)


def not_writable(path: object, exc: OSError) -> Finding:
    """The ``output-not-writable`` finding for ``path``, with the system's reason for ``exc``."""
    return Finding("output-not-writable", {"path": str(path), **os_params(exc)})


_OS_REASONS = {
    errno.ENOSPC: "os-no-space",
    errno.EDQUOT: "os-no-space",
    errno.EACCES: "os-permission",
    errno.EPERM: "os-permission",
    errno.EROFS: "os-read-only",
    errno.EEXIST: "os-exists",
    errno.ENOENT: "os-not-found",
    errno.EBUSY: "os-in-use",
    errno.ENAMETOOLONG: "os-name-too-long",
    errno.EISDIR: "os-is-folder",
    errno.ENOTDIR: "os-not-folder",
    errno.EIO: "os-io",
}
_WINDOWS_IN_USE = (32, 33)  # ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION: a file Excel holds open


def os_params(exc: OSError) -> dict[str, Any]:
    """The params of a finding on ``exc``: ``reason``, the system's own words (as data, for scripts),
    and ``why``, what messages say (:func:`os_reason`)."""
    return {"reason": exc.strerror or str(exc) or type(exc).__name__, "why": os_reason(exc)}


def sqlite_params(exc: Exception) -> dict[str, Any]:
    """:func:`os_params` for a failure of SQLite (the ledger): its words, and the phrase for the
    reasons the environment causes (full, read-only, busy, I/O, cannot open)."""
    # SQLite's primary result codes; ``sqlite_errorcode`` exists from Python 3.11 (English words before).
    code = getattr(exc, "sqlite_errorcode", -1) & 0xFF
    phrase = {13: "os-no-space", 8: "os-read-only", 5: "os-in-use", 6: "os-in-use", 10: "os-io",
              14: "os-cannot-open"}.get(code)  # fmt: skip
    words = str(exc) or type(exc).__name__
    return {"reason": words, "why": Phrase(phrase) if phrase else words}


def os_reason(exc: OSError) -> Phrase | str:
    """Why the system refused ``exc``'s operation: a phrase of the catalogue for the common reasons
    (the system's own words are English on a server), else the system's words."""
    if getattr(exc, "winerror", None) in _WINDOWS_IN_USE:
        return Phrase("os-in-use")
    code = _OS_REASONS.get(exc.errno or 0)
    return Phrase(code) if code is not None else exc.strerror or str(exc) or type(exc).__name__


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding has severity error."""
    return any(finding.is_error for finding in findings)


def one_line(text: str) -> str:
    """``text`` kept on one line of a terminal or a list: a line break or tab inside it (a file named
    with one) shown as ``\u000a``, ``\u0009``, so that it cannot start a line of its own."""
    return text.replace("\n", "\\u000a").replace("\r", "\\u000d").replace("\t", "\\u0009")


def format_table(findings: Iterable[Finding], language: Language = "ja") -> str:
    """A plain text table, one finding a line, for the terminal."""
    lines = []
    for finding in findings:
        label = ("エラー" if finding.is_error else "警告") if language == "ja" else (finding.severity or "")
        place = " ".join(part for part in (one_line(finding.file or ""), finding.where()) if part)
        prefix = f"[{label}] {place}: " if place else f"[{label}] "
        lines.append(f"{prefix}{finding.message(language)} ({finding.code})")
    return "\n".join(lines)


def findings_json(findings: Sequence[Finding], language: Language = "ja") -> list[dict[str, Any]]:
    """Findings as the JSON list every ``--json`` document carries."""
    return [finding.to_dict(language) for finding in findings]
