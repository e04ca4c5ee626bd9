"""Reorganisations (機構改革): departments renamed, merged and split, and the plan and history that follow.

Most Aprils some departments change. The 担当課 sheet records it: a department lists the names
it had before (``Department.former``) — one former name for a rename, several for a merge, and
a former name listed under two departments for a split. Nothing else has to be retyped:

* an entry of the plan that still names a former department is read as the department it is
  now (renamed or merged into); an entry naming a department that was split must be changed by
  the office, since only it knows which half carries the project on;
* entries of one project that now name the same department are one entry (two departments that
  reported separately and merged report once);
* history records follow their entries: a record kept under a former entry name belongs to the
  entry that name became; records that now fall on the same entry, year and department are
  combined by the rule for joint entries (:mod:`xlplan.plan.combine`), their narratives headed
  by the names they were written under. A joint entry whose members merged into one department is
  that department's entry now: its whole stands, and its shares (already in the whole) are dropped.

The master keeps its 履歴 rows as they were written (:attr:`Plan.source_history`): resolving
is repeatable, and nothing the office recorded is rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from xlplan.plan.combine import combine_values, join_narratives
from xlplan.plan.model import Department, Entry, HistoryRecord, Project


def successors(departments: Iterable[Department]) -> dict[str, tuple[str, ...]]:
    """Former name → the departments it became (one for a rename or merge, several for a split)."""
    found: dict[str, list[str]] = {}
    for department in departments:
        for old in department.former:
            found.setdefault(old, []).append(department.name)
    return {old: tuple(names) for old, names in found.items()}


@dataclass(frozen=True)
class Names:
    """How the plan's department names read now: spellings, former names, splits."""

    current: frozenset[str]  # registry names and their aliases (spellings printed as they are)
    canonical: Mapping[str, str]  # any current spelling → its registry name
    successors: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, departments: Sequence[Department]) -> Names:
        """The names of a registry."""
        canonical = {name: d.name for d in departments for name in (d.name, *d.aliases)}
        return cls(frozenset(canonical), canonical, successors(departments))

    def now(self, name: str) -> str | None:
        """``name`` as the department is called now: itself if current, its successor if renamed or
        merged; None for a split (ambiguous) or unknown name."""
        if name in self.current:
            return name
        after = self.successors.get(name, ())
        return after[0] if len(after) == 1 else None

    def candidates(self, name: str) -> tuple[str, ...]:
        """Every registry name ``name`` may mean now (several for a split department)."""
        if name in self.current:
            return (self.canonical[name],)
        return self.successors.get(name, ())


def rename_entry(entry: Entry, names: Names) -> Entry:
    """``entry`` with its former departments replaced by their successors (members as printed otherwise)."""
    mapping = {member: names.now(member) or member for member in entry.members}
    if all(old == new for old, new in mapping.items()):
        return entry
    members = tuple(dict.fromkeys(mapping[member] for member in entry.members))
    if entry.name == " ".join(entry.members):
        name = " ".join(members)  # the usual joint cell, 企画政策課 生涯学習課
    else:
        # A label such as 企画政策課 (関係各課) or 福祉課・障害福祉課: each name inside it replaced in
        # one pass, longest first, so that renaming 福祉課 leaves 障害福祉課 as it is. Every name the
        # registry knows takes part, members or not: 福祉課（障害福祉課と連携）keeps 障害福祉課
        # though only 福祉課 answers; only a member's name is replaced.
        words = sorted({*mapping, *names.current}, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(word) for word in words if word))
        name = pattern.sub(lambda match: mapping.get(match.group(0), match.group(0)), entry.name)
    return Entry(name, members)


def resolve_projects(
    projects: Sequence[Project], names: Names
) -> tuple[list[Project], dict[tuple[int, str], str]]:
    """Projects with entries named as the departments are now; and (project, old entry) → new entry name.

    Entries of one project that become the same entry are merged into the first of them.
    """
    resolved: list[Project] = []
    renamed: dict[tuple[int, str], str] = {}
    for project in projects:
        entries: list[Entry] = []
        for entry in project.entries:
            now = rename_entry(entry, names)
            renamed[(project.no, entry.name)] = now.name
            if all(existing.name != now.name for existing in entries):
                entries.append(now)
        resolved.append(
            replace(project, entries=tuple(entries)) if tuple(entries) != project.entries else project
        )
    return resolved, renamed


def place_record(
    record: HistoryRecord, project: Project, renamed: Mapping[tuple[int, str], str], names: Names
) -> HistoryRecord | None:
    """The record as it belongs to ``project`` now, or None when no entry of the project is what it was."""
    target = _target_entry(record.entry, project, renamed, names)
    if target is None:
        return None
    department = record.department
    if department is not None:
        if not target.joint:
            department = None  # a share of what is now one department's entry is that entry's value
        else:
            members = {names.canonical.get(member, member): member for member in target.members}
            chosen = [members[c] for c in names.candidates(department) if c in members]
            if len(chosen) != 1:
                return None
            department = chosen[0]
    if target.name == record.entry and department == record.department:
        return record
    return replace(record, entry=target.name, department=department)


def why_unplaced(entry: str, names: Names) -> tuple[str, dict[str, str]] | None:
    """Why a 履歴 record written under ``entry`` has no entry now, when a department name says it.

    ``("unknown", {"department"})``: a name no department has, nor lists as a former name (a
    second reorganisation whose 旧名称 lists only the name before it); ``("split", {"department",
    "successors"})``: a department that was split, whose successors both carry the project on.
    None when the names are all known (the project's entries themselves changed).
    """
    for token in entry.split():
        if token.startswith(("(", "（")):
            continue  # a label's remark, 企画政策課 (関係各課): not a department's name
        after = names.candidates(token)
        if not after:
            return "unknown", {"department": token}
        if len(after) > 1:
            return "split", {"department": token, "successors": "、".join(after)}
    return None


def _target_entry(
    old: str, project: Project, renamed: Mapping[tuple[int, str], str], names: Names
) -> Entry | None:
    by_name = {entry.name: entry for entry in project.entries}
    name = renamed.get((project.no, old), old)
    if name in by_name:
        return by_name[name]
    # An entry name the plan no longer has (the 計画 sheet was rewritten after a reorganisation):
    # read its department names and find the one entry of the project that carries them on.
    wanted = {candidate for token in old.split() for candidate in names.candidates(token)}
    matches = [
        entry
        for entry in project.entries
        if wanted & {names.canonical.get(member, member) for member in entry.members}
    ]
    return matches[0] if len(matches) == 1 else None


class Placed(NamedTuple):
    """A 履歴 record as it belongs to the plan now, and how it was written."""

    written_as: str  # the name it was written under: its share's department, else its entry
    record: HistoryRecord  # placed on the entry (and member) it belongs to now
    entry: str  # the entry it was written under
    share: bool  # it was written as one member's share of a joint entry


def merge_records(placed: Sequence[Placed]) -> list[HistoryRecord]:
    """Records that fall on the same project, entry, year and department, combined into one.

    Values by the joint-entry rule (numbers added in one unit, else the strongest mark);
    narratives under the names they were written for (【生活環境課】 …); notes kept. A joint
    entry whose members became one department has its shares and its whole on the same entry
    now: the whole already counts the shares, so they are dropped where it was recorded.
    The first record's position is kept, so the order stays the master's.
    """

    def key(record: HistoryRecord) -> tuple[int, str, int, str | None]:
        return (record.project_no, record.entry, record.fiscal_year.western, record.department)

    groups: dict[tuple[int, str, int, str | None], list[Placed]] = {}
    for item in placed:
        groups.setdefault(key(item.record), []).append(item)
    merged: list[HistoryRecord] = []
    for item in placed:
        record = item.record
        group = groups.pop(key(record), None)
        if group is None:
            continue  # merged into an earlier record
        wholes = {whole.entry for whole in group if not whole.share}
        group = [part for part in group if not (part.share and part.entry in wholes)]
        if len(group) == 1:
            merged.append(group[0].record)
            continue
        record = group[0].record
        value = combine_values(part.record.value for part in group).value
        narrative = join_narratives([(part.written_as, part.record.narrative) for part in group])
        notes = "、".join(dict.fromkeys(part.record.note for part in group if part.record.note)) or None
        merged.append(replace(record, value=value, narrative=narrative, note=notes))
    return merged
