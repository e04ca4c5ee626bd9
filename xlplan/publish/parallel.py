"""Writing the consolidated table in one process or two, and reading it back with a second reader.

On Linux, a large table's sheets are shared between this process and a forked second
one (two cores): the second process writes its sheets' XML into temporary files that
this process splices into the one package (:mod:`xlplan.xlsx.fast`). Anywhere else, or
for a small table, or with XlsxWriter's public API only, one process writes everything.
:func:`read_back_checksum` then reads every cell with python-calamine — in two processes
as well where that pays — and must find the checksum the writer computed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from xlsxwriter.worksheet import Worksheet

from xlplan.publish.table import ProjectBlock, Table
from xlplan.publish.template import ReportStyle
from xlplan.publish.trends import add_trends
from xlplan.publish.writer import MASK, TableWriter, UnforeseenFormat, sheet_names
from xlplan.xlsx import fast

PARALLEL_MIN_ROWS = 2000
"""Tables with fewer department rows are written in one process: a second would cost more than it saves."""
PARALLEL_MIN_BYTES = 1 << 20
"""Packages smaller than this are read back in one process."""
TREND_ROW_WEIGHT = 0.8
"""The work of a 推移 row, its line made and written, as a share of a table row's (measured: about
24 µs against 31 µs), so that the process that also writes the 推移 sheet gets fewer of the table's rows."""

_T = TypeVar("_T")


def write_table(table: Table, style: ReportStyle, path: Path) -> int:
    """Write ``table`` to ``path`` (.xlsx) styled by ``style``.

    On Linux, a large table's sheets are shared between this process and a forked
    second one (two cores): formats and the second's texts are numbered first, so
    both number styles and shared strings alike; each writes its sheets' cells, the
    second hands its sheets' XML over in temporary files, and this process puts
    them into the one package. If the second process fails, its sheets are written
    here instead.

    Returns:
        The checksum of every value written (see :func:`read_back_checksum`).

    Raises:
        OSError: the file cannot be written.
    """
    writer = TableWriter(table, style, path)
    # The document title: what Excel's accessibility checker asks for, and the title of
    # the tagged PDF LibreOffice prints from this workbook (xlplan.xlsx.pdf).
    writer.book.set_properties({"title": table.plan.settings.title or "事業実績一覧"})
    sheets = [writer.add_sheet(name) for name in sheet_names(table)]
    sheets[0].activate()  # what XlsxWriter does on closing; set now so that any process may write it
    writer.register_formats()
    mine, theirs = (
        _share_sections(table, _trend_rows(table) * TREND_ROW_WEIGHT)
        if _can_fork(table)
        else (list(range(len(sheets))), [])
    )
    if theirs:
        # The second process's texts get their shared-string numbers now, so that both
        # processes number them alike.
        fast.reserve_strings(writer.book, writer.texts(theirs))
    with tempfile.TemporaryDirectory(prefix="xlplan-sheets-") as folder:
        second = _forked(lambda: _write_elsewhere(writer, sheets, theirs, Path(folder))) if theirs else None
        outcome: tuple[int, dict[int, Path], int] | None = None
        try:
            for index in mine:
                _fill(writer, sheets, index)
            if second is not None:  # these sheets' XML too, while the second process is still at work
                for index, spliced in _render(sheets, mine, Path(folder)).items():
                    _splice(sheets[index], spliced)
                # The 推移 sheet is this process's too, written while the second one works: it is
                # added last (the sheets of the table were all added before the fork), and the
                # formats and texts it adds are numbered after everything the second one uses.
                add_trends(writer.book, table)
        finally:
            if second is not None:  # always waited for, so no child outlives this call
                with contextlib.suppress(_ForkFailed):
                    outcome = second()
        if outcome is None:
            for index in theirs:
                _fill(writer, sheets, index)
        else:
            writer.checksum = (writer.checksum + outcome[0]) & MASK
            fast.add_string_references(writer.book, outcome[2])
            for index, spliced in outcome[1].items():
                _splice(sheets[index], spliced)
        if second is None:
            add_trends(writer.book, table)  # the 推移 sheet last: its charts read the numbers it holds
        writer.close()
    return writer.checksum


def _fill(writer: TableWriter, sheets: list[Worksheet], index: int) -> None:
    writer.sheet_index = index
    writer.section(sheets[index], writer.table.sections[index])


def _write_elsewhere(
    writer: TableWriter, sheets: list[Worksheet], indices: list[int], folder: Path
) -> tuple[int, dict[int, Path], int]:
    """In the second process: write the sheets ``indices`` and their XML.

    Returns their checksum, their XML files and how many shared-string references
    they hold. Fails if they needed a format or a text the first process did not
    number beforehand (its styles and shared strings would not hold it).
    """
    writer.frozen = True
    unique, count = fast.string_counts(writer.book)
    for index in indices:
        _fill(writer, sheets, index)
    unique_after, count_after = fast.string_counts(writer.book)
    if unique_after != unique:
        raise UnforeseenFormat("a text missing from the shared strings")
    return writer.checksum, _render(sheets, indices, folder), count_after - count


def _render(sheets: list[Worksheet], indices: list[int], folder: Path) -> dict[int, Path]:
    """Write the XML of the sheets ``indices`` into ``folder``, to be spliced into the package."""
    xml = {}
    for index in indices:
        sheet = sheets[index]
        assert isinstance(sheet, fast.FastWorksheet)  # _can_fork() requires the fast path
        xml[index] = folder / f"sheet{index}.xml"
        fast.render_sheet(sheet, xml[index])
    return xml


def _splice(sheet: Worksheet, xml: Path) -> None:
    assert isinstance(sheet, fast.FastWorksheet)
    sheet.spliced = xml


def _can_fork(table: Table) -> bool:
    return (
        fast.enabled()
        and _fork_allowed()
        and len(table.sections) > 1
        and table.entry_rows >= PARALLEL_MIN_ROWS
    )


def _fork_allowed() -> bool:
    # fork() without exec is safe only on Linux, and only while no other thread may hold a lock.
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


def _share_sections(table: Table, extra: float = 0) -> tuple[list[int], list[int]]:
    """Sections for this process and for the second: the split with the most even row counts, this
    process also doing ``extra`` rows' worth of other work."""
    return _balance(
        [
            sum(max(len(item.rows), 1) if isinstance(item, ProjectBlock) else 1 for item in section.items)
            for section in table.sections
        ],
        extra,
    )


def _trend_rows(table: Table) -> int:
    """At most how many rows the 推移 sheet has: an entry row per project with a 数値目標 (counted, not
    made: the sheet itself is made while the second process works)."""
    return sum(
        len(item.rows)
        for section in table.sections
        for item in section.items
        if isinstance(item, ProjectBlock) and item.project.indicator
    )


def _balance(sizes: list[int], extra: float = 0) -> tuple[list[int], list[int]]:
    """Indices for this process and for the second: the split of ``sizes`` with the most even sums,
    this process having ``extra`` besides its share."""
    total = sum(sizes) + extra
    best: tuple[int, ...] = ()
    best_cost = total + 1
    for count in range(1, len(sizes)):
        for theirs in itertools.combinations(range(len(sizes)), count):
            cost = abs(total - 2 * sum(sizes[index] for index in theirs))
            if cost < best_cost:
                best, best_cost = theirs, cost
    return [index for index in range(len(sizes)) if index not in best], list(best)


class _ForkFailed(Exception):
    """The second process did not deliver its result."""


def _forked(function: Callable[[], _T]) -> Callable[[], _T]:
    """Run ``function`` in a forked child; the returned callable waits for its (pickled) result.

    The callable raises :class:`_ForkFailed` when the child raised or died.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        status = 1
        try:
            os.close(read_end)
            try:
                payload = pickle.dumps((True, function()))
                status = 0
            except BaseException as exc:  # reported to the parent, which carries on without this result
                payload = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(status)
    os.close(write_end)

    def result() -> _T:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        try:
            ok, value = pickle.loads(data)
        except Exception as exc:
            raise _ForkFailed("the second process ended without a result") from exc
        if not ok:
            raise _ForkFailed(value)
        return value

    return result


def read_back_checksum(path: Path, names: list[str]) -> int:
    """The checksum of the non-empty cells of ``names`` in ``path``, read with python-calamine.

    A second reader, independent of XlsxWriter, so that a writer bug (a lost string,
    a number stored as text, a formula) shows as a mismatch. A large package is read
    by two processes, a share of the sheets each, where fork() is available.
    """
    indices = list(range(len(names)))
    if not (_fork_allowed() and len(names) > 1 and path.stat().st_size >= PARALLEL_MIN_BYTES):
        return _read_sheets(path, names, indices)
    mine, theirs = _balance(_sheet_sizes(path, len(names)))
    second = _forked(lambda: _read_sheets(path, names, theirs))
    other: int | None = None
    try:
        checksum = _read_sheets(path, names, mine)
    finally:
        with contextlib.suppress(_ForkFailed):
            other = second()
    if other is None:
        other = _read_sheets(path, names, theirs)
    return (checksum + other) & MASK


def _read_sheets(path: Path, names: list[str], indices: list[int]) -> int:
    from python_calamine import CalamineWorkbook

    checksum = 0
    workbook = CalamineWorkbook.from_path(str(path))
    for index in indices:
        rows = workbook.get_sheet_by_name(names[index]).to_python(skip_empty_area=False)
        for row_number, row in enumerate(rows):
            for column, value in enumerate(row):
                if value == "" or value is None:
                    continue
                item = (
                    float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
                )
                checksum += hash((index, row_number, column, item))
    return checksum & MASK


def _sheet_sizes(path: Path, count: int) -> list[int]:
    """The uncompressed size of each worksheet part (XlsxWriter names them sheet1.xml … in order)."""
    with zipfile.ZipFile(path) as package:
        sizes = {info.filename: info.file_size for info in package.infolist()}
    return [sizes.get(f"xl/worksheets/sheet{index}.xml", 1) for index in range(1, count + 1)]
