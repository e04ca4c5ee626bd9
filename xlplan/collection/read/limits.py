"""What a returned file may cost to read, and how reading says it cannot go on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from xlplan.findings import Finding

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What a returned file may cost to read. The defaults are far above any real return.

    Attributes:
        max_file_bytes: size of the file itself.
        max_entries: entries in the zip (an ``.xlsx`` has 10–40).
        max_uncompressed_bytes: sum of the entries' uncompressed sizes.
        max_ratio: uncompressed:compressed ratio of one entry, checked for entries of at
            least ``ratio_min_bytes`` (small XML parts legitimately compress very well).
        timeout_seconds: wall time of one file in the worker.
        memory_bytes: address space of a worker (``RLIMIT_AS``; not applied on Windows).
        row_slack, column_slack: rows and columns read beyond those the manifest declares,
            so inserted rows and columns are still seen.
        default_rows, default_columns: bounds when there is no readable manifest
            (content pasted into a new workbook).
        max_rows, max_columns: bounds never exceeded, whatever a manifest claims.
        dense_cells: largest grid (rows × columns from A1) handed to python-calamine
            (about 32 bytes a cell); a larger sheet is streamed within the bounds instead.
        max_manifest_chunks: cells of column A read from the manifest sheet.
        tasks_per_worker: files a worker reads before it is replaced (bounds leaks).
    """

    max_file_bytes: int = 20 * MB
    max_entries: int = 1_000
    max_uncompressed_bytes: int = 200 * MB
    max_ratio: float = 100.0
    ratio_min_bytes: int = 1 * MB
    timeout_seconds: float = 60.0
    memory_bytes: int = 1024 * MB
    row_slack: int = 200
    column_slack: int = 10
    default_rows: int = 2_000
    default_columns: int = 40
    max_rows: int = 20_000
    max_columns: int = 200
    dense_cells: int = 8_000_000
    max_manifest_chunks: int = 1_000
    tasks_per_worker: int = 1_000


class ReadFailed(Exception):
    """A file that cannot be read as a workbook; ``findings`` say why and what to do."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        super().__init__(", ".join(finding.code for finding in self.findings))


class Refused(Exception):
    """Raised inside the worker to stop reading a file with one finding."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def mb(size: int) -> str:
    return f"{size / MB:.1f}"
