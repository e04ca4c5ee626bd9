"""The command line's parser: argparse, with its refusals as findings in the user's language.

argparse says what is wrong with a command line in English, on standard error, and exits. Here
each refusal becomes a finding with stable code and data (``usage-unrecognized`` …), raised as
:class:`UsageError` for :mod:`xlplan.cli` to say as any stop is said: in the user's language,
and as one JSON document under ``--json``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any, NoReturn

from xlplan.findings import Finding


class UsageError(Exception):
    """A command line argparse refused: the finding, and the usage line of the command refused."""

    def __init__(self, finding: Finding, usage: str) -> None:
        super().__init__(finding.code)
        self.finding = finding
        self.usage = usage


# argparse's own messages (English; the same since Python 3.8, choices unquoted from 3.12), as data.
_MESSAGES = (
    (re.compile(r"unrecognized arguments: (?P<arguments>.*)", re.DOTALL), "usage-unrecognized"),
    (re.compile(r"the following arguments are required: (?P<arguments>.*)", re.DOTALL), "usage-missing"),
    (re.compile(r"argument (?P<argument>\S+): not allowed with argument (?P<other>\S+)", re.DOTALL),
     "usage-not-together"),
    (re.compile(r"argument (?P<argument>\S+): invalid choice: (?P<value>.*?) \(choose from (?P<choices>.*)\)",
                re.DOTALL), "usage-invalid-choice"),
    (re.compile(r"argument (?P<argument>\S+): invalid \w+ value: (?P<value>.*)", re.DOTALL), "usage-invalid-value"),
    (re.compile(r"argument (?P<argument>\S+): expected (?:one|at least one) argument", re.DOTALL),
     "usage-expects-value"),
)  # fmt: skip


class Parser(argparse.ArgumentParser):
    """argparse with its help option in Japanese, no abbreviated options, and its refusals as findings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        # Options are written out in full: "--js" taken for --json would hide, from the code that
        # answers a refusal, that JSON was asked for.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="この説明を表示する")

    def format_usage(self) -> str:
        """The usage line, headed in Japanese (使い方:)."""
        return _japanese_headings(super().format_usage())

    def format_help(self) -> str:
        """The help, its headings in Japanese as its texts are (使い方:, 引数:, オプション:)."""
        return _japanese_headings(super().format_help())

    def error(self, message: str) -> NoReturn:
        """Raise :class:`UsageError` (argparse would print English and exit)."""
        for pattern, code in _MESSAGES:
            match = pattern.fullmatch(message)
            if match:
                params = {key: value.replace("'", "") for key, value in match.groupdict().items()}
                raise UsageError(Finding(code, {"command": self.prog, **params}), self.format_usage())
        raise UsageError(
            Finding("usage-error", {"command": self.prog, "detail": message}), self.format_usage()
        )


_HEADINGS = {
    "positional arguments:": "引数:",
    "options:": "オプション:",
    "optional arguments:": "オプション:",
}


def _japanese_headings(text: str) -> str:
    """argparse's English headings (the same words since Python 3.10) in Japanese; the rest as it is."""
    lines = text.split("\n")
    in_usage = False
    for index, line in enumerate(lines):
        if line.startswith("usage: "):
            lines[index], in_usage = "使い方: " + line[len("usage: ") :], True
        elif in_usage and line.startswith(" "):
            lines[index] = " " + line  # 使い方 is a column wider on a terminal than "usage"
        else:
            in_usage = False
            lines[index] = _HEADINGS.get(line, line)
    return "\n".join(lines)


def given_lang(arguments: Sequence[str]) -> str | None:
    """The --lang of a command line argparse refused, as argparse would have taken it (the last one)."""
    found = None
    for index, argument in enumerate(arguments):
        if argument.startswith("--lang="):
            found = argument.partition("=")[2]
        elif argument == "--lang" and index + 1 < len(arguments):
            found = arguments[index + 1]
    return found
