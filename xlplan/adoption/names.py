"""Department names in a consolidated table: joint cells split into members, and spellings of one
office that differ only by a character outside JIS X 0208 unified."""

from __future__ import annotations

import re
from collections.abc import Iterable

from xlplan.findings import Finding
from xlplan.plan.model import Department

ANNOTATION = re.compile(r"[(（][^()（）]*[)）]")
DEPARTMENT_WORD = re.compile(r"(課|室|局|部|所|署|本部|センター|館|委員会|事務局|園|校|会)$")


def members(entry: str) -> tuple[str, ...]:
    """A 担当課 cell's departments: several names separated by spaces make a joint entry.

    A note in brackets after a name (``企画政策課 (関係各課)``) is part of the printed cell,
    not a department of its own.
    """
    parts = [part for part in entry.split() if not ANNOTATION.fullmatch(part)]
    if parts and all(DEPARTMENT_WORD.search(part) for part in parts):
        return tuple(parts)
    return (entry,)


def registry(names: Iterable[str], file: str) -> tuple[list[Department], dict[str, str], list[Finding]]:
    """The departments, with spellings that only a character outside JIS X 0208 tells apart unified.

    ``人権・同和对策室`` (对, U+5BF9, not in JIS X 0208) beside ``人権・同和対策室`` is the same
    office typed with a look-alike character: it becomes an alias of the JIS spelling, which is
    reported. Any other pair differing in one character is only reported.
    """
    names = list(names)
    canonical: dict[str, str] = {}
    findings: list[Finding] = []
    for variant in names:
        if _in_jis(variant):
            continue
        for name in names:
            if name != variant and _in_jis(name) and _one_apart(name, variant):
                canonical[variant] = name
                findings.append(
                    Finding("table-department-variant", {"variant": variant, "name": name}, file=file)
                )
                break
    kept = [name for name in names if name not in canonical]
    aliases: dict[str, list[str]] = {name: [] for name in kept}
    for variant, name in canonical.items():
        aliases[name].append(variant)
    findings += look_alike(kept, file)
    return [Department(name, tuple(aliases[name])) for name in kept], canonical, findings


def _in_jis(text: str) -> bool:
    """Whether every character has a code in Shift_JIS as Windows uses it (cp932)."""
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def _one_apart(left: str, right: str) -> bool:
    return len(left) == len(right) and sum(a != b for a, b in zip(left, right, strict=True)) == 1


def look_alike(names: list[str], file: str) -> list[Finding]:
    """Department names that differ in one character: perhaps one department spelt two ways."""
    found = []
    for index, left in enumerate(names):
        for right in names[index + 1 :]:
            if _one_apart(left, right):
                found.append(
                    Finding("table-department-look-alike", {"left": left, "right": right}, file=file)
                )
    return found
