"""Safe reading of returned workbooks: untrusted files in, plain bounded :class:`Snapshot` records out.

A returned file comes from dozens to thousands of senders and may be anything: a
workbook saved in another format, a file cut short in transfer, a password-protected
workbook, or a file built to exhaust the reader. Reading it must never crash, hang
or exhaust the run that collects it, so:

1. **Sniffing by content, not by name.** The first bytes say what the file is: a zip
   (then the package's parts tell ``.xlsx`` / ``.xlsm`` from ``.xlsb`` and ``.ods``),
   an OLE compound file (a password-protected workbook, or Excel 97-2003 ``.xls``),
   HTML, CSV or other text, PDF. Anything that is not an Office Open XML workbook is
   refused with its own finding, saying in Japanese what the department must do.
2. **Limits before decompression.** File size, the number of zip entries, the total
   uncompressed size and each entry's compression ratio are checked from the zip's
   central directory (:class:`Limits`), so a zip bomb is refused before any of it is
   inflated. Every XML part must be free of a DTD (an entity bomb needs one), and the
   parts read here are parsed with :mod:`defusedxml`, which refuses entities outright.
3. **A worker process per reading**, with a wall-time limit and (on Linux and macOS) an
   address-space limit (``RLIMIT_AS``). python-calamine, which reads the values, is fast
   but can abort the whole process (a Rust panic on allocation failure) or raise
   ``PanicException``, a ``BaseException``. A panic is caught in the worker; a worker that
   dies or hangs is killed and replaced, and the file gets a finding. On Windows there is
   no ``RLIMIT_AS``: the time limit and the dense-grid guard below still apply.
4. **Bounded reading.** Only the rows and columns the manifest declares (plus slack for
   inserted rows and columns) are read. python-calamine builds a dense grid from A1 to the
   last cell holding a value: a single value in ``XFD1048576`` makes it allocate
   549 GB and abort. The sheet's XML is therefore scanned first (a C-speed regular
   expression over the cell references); when the grid would exceed
   :attr:`Limits.dense_cells`, the sheet is streamed here with defusedxml's iterparse,
   within the bounds, instead of calling calamine.

Formulas: calamine gives cached values only, so a sheet whose XML holds ``<f>`` elements is
streamed for the formula texts, which go into :attr:`CellRead.formula` beside the cached value.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import posixpath
import re
import signal
import struct
import sys
import time
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import IO, Any, Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from xlplan.collection.snapshot import CellRead, CellValue, SheetRead, Snapshot
from xlplan.findings import Finding
from xlplan.form import layout

__all__ = ["Limits", "ReadFailed", "read_return", "read_returns", "sniff"]

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


class _Refused(Exception):
    """Raised inside the worker to stop reading a file with one finding."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# ----------------------------------------------------------------------------------------
# Public entry points (run in the caller's process; the reading itself runs in workers)
# ----------------------------------------------------------------------------------------


def read_return(path: Path, *, limits: Limits = Limits(), name: str | None = None) -> Snapshot:
    """Read one returned workbook safely, in a worker process.

    Args:
        path: the file (normally its archived copy).
        limits: reading limits.
        name: the file name findings show (default: ``path.name``).

    Raises:
        ReadFailed: the file is not a readable workbook; its findings say why.
    """
    names = {path: name} if name else None
    for _, result in read_returns([path], limits=limits, workers=1, names=names):
        if isinstance(result, ReadFailed):
            raise result
        return result
    raise AssertionError("read_returns yielded nothing for one path")  # pragma: no cover


def read_returns(
    paths: Iterable[Path],
    *,
    limits: Limits = Limits(),
    workers: int | None = None,
    names: Mapping[Path, str] | None = None,
) -> Iterator[tuple[Path, Snapshot | ReadFailed]]:
    """Read many returned workbooks in a small pool of worker processes.

    Yields ``(path, Snapshot)`` or ``(path, ReadFailed)`` for every path, in the order
    the readings finish (not the input order). A worker that dies (a native abort, the
    memory limit) or exceeds the time limit is killed and replaced; that file gets a
    ``file-read-crashed`` or ``file-read-timeout`` finding and the rest go on.
    Stopping the iteration early stops the workers.

    Args:
        paths: files to read; a path given twice is read twice.
        limits: reading limits (sizes, time, memory, bounds).
        workers: worker processes (default: one per core, never more than files).
        names: file names for findings, where they differ from ``path.name``
            (an archived copy is named by its hash; findings should show the name received).
    """
    queue = deque((index, path) for index, path in enumerate(paths))
    if not queue:
        return
    size = max(1, min(workers or os.cpu_count() or 1, len(queue)))
    context = _context()
    labels = dict(names or {})
    pool: list[_Worker] = []
    try:
        pool = [_Worker(context, limits) for _ in range(size)]
        while True:
            # Keep every worker's next file already in its pipe, so it never waits on this process.
            for slot, worker in enumerate(pool):
                while queue and worker.wants_more():
                    if not worker.assign(queue[0], labels):
                        queue.extendleft(reversed(worker.drain()))
                        pool[slot] = worker = worker.replace(context, limits)  # died while idle
                        if not worker.assign(queue[0], labels):
                            lost = queue.popleft()
                            yield lost[1], _failed("file-read-crashed", lost, labels, reason="worker start")
                            continue
                    queue.popleft()
            busy = [worker for worker in pool if worker.tasks]
            if not busy:
                break
            deadline = min(worker.deadline for worker in busy)
            waitables: list[Any] = [worker.connection for worker in busy]
            waitables += [worker.process.sentinel for worker in busy]
            ready = set(wait(waitables, timeout=max(0.0, deadline - time.monotonic())))
            now = time.monotonic()
            finished: list[tuple[Path, _Wire | ReadFailed]] = []
            for worker in busy:
                slot = pool.index(worker)
                head = worker.tasks[0]
                if worker.connection in ready or worker.process.sentinel in ready:
                    result = worker.receive()
                    if result is None:  # the pipe closed: the worker died reading the head file
                        worker.process.join(timeout=5)  # so its exit status is known
                        reason = _exit_reason(worker.process.exitcode)
                        queue.extendleft(reversed(worker.drain()[1:]))  # the others were not started
                        pool[slot] = worker.replace(context, limits)
                        finished.append((head[1], _failed("file-read-crashed", head, labels, reason=reason)))
                        continue
                    finished.append((head[1], ReadFailed(result) if isinstance(result, tuple) else result))
                    if worker.retiring() and not worker.tasks:
                        pool[slot] = worker.replace(context, limits)
                elif now >= worker.deadline:
                    queue.extendleft(reversed(worker.drain()[1:]))
                    pool[slot] = worker.replace(context, limits)
                    finished.append(
                        (head[1], _failed("file-read-timeout", head, labels, seconds=limits.timeout_seconds))
                    )
            for path, outcome in finished:
                yield path, (outcome.assemble() if isinstance(outcome, _Wire) else outcome)
    finally:
        for worker in pool:
            worker.stop()


def sniff(head: bytes) -> str:
    """What the first bytes of a file say it is, before any parsing.

    Returns one of ``zip``, ``ole``, ``pdf``, ``html``, ``xml-spreadsheet``, ``text``,
    ``empty`` or ``binary``. A zip is told apart further from its parts, an OLE
    compound file from its streams.
    """
    if not head:
        return "empty"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith(b"%PDF-"):
        return "pdf"
    text = _as_text(head)
    if text is None:
        return "binary"
    lowered = text.lstrip().lower()[:8192]
    if "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
        return "xml-spreadsheet"  # Excel's "XML スプレッドシート 2003"
    if lowered.startswith(("<!doctype html", "<html")) or any(
        tag in lowered for tag in ("<html", "<table", "<body", "text/html")
    ):
        return "html"  # also Excel's "Web ページ" and single-file web page (.mht) exports
    return "text"


# ----------------------------------------------------------------------------------------
# Worker processes
# ----------------------------------------------------------------------------------------

_Task = tuple[int, Path]


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: cheap restarts after a crash and no fork of a threaded parent; Windows has only spawn.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has the reader imported already (no effect once it runs).
        context.set_forkserver_preload(["xlplan.collection.read"])
        return context
    return multiprocessing.get_context("spawn")


def _failed(code: str, task: _Task, labels: Mapping[Path, str], **params: Any) -> ReadFailed:
    return ReadFailed([Finding(code, params, file=labels.get(task[1]) or task[1].name)])


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "no exit status"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-exitcode).name}"
        return f"signal {-exitcode}"
    return f"exit status {exitcode}"


class _Worker:
    """One worker process, the pipe to it, and the files sent to it (the first is being read)."""

    DEPTH = 2
    """Files in a worker's pipe at once: the one it reads and the next."""

    def __init__(self, context: multiprocessing.context.BaseContext, limits: Limits) -> None:
        parent, child = context.Pipe(duplex=True)
        self.connection: Connection = parent
        self.process: Any = context.Process(  # type: ignore[attr-defined]  # every concrete context has it
            target=_worker_main, args=(child, limits), daemon=True
        )
        self.process.start()
        child.close()
        self.limits = limits
        self.tasks: deque[_Task] = deque()
        self.deadline = 0.0  # of the file being read
        self.sent = 0

    def wants_more(self) -> bool:
        """True while the pipe has room and the worker is not due for replacement."""
        return len(self.tasks) < self.DEPTH and not self.retiring()

    def retiring(self) -> bool:
        """True once the worker has been sent its share of files (a fresh one bounds any leak)."""
        return self.sent >= self.limits.tasks_per_worker

    def assign(self, task: _Task, labels: Mapping[Path, str]) -> bool:
        """Send a file to the worker; False when the worker is gone."""
        try:
            self.connection.send((str(task[1]), labels.get(task[1]) or task[1].name))
        except (OSError, ValueError):
            return False
        if not self.tasks:
            self.deadline = time.monotonic() + self.limits.timeout_seconds
        self.tasks.append(task)
        self.sent += 1
        return True

    def receive(self) -> _Wire | tuple[Finding, ...] | None:
        """The answer for the first file, or None when the worker died before answering."""
        try:
            result: _Wire | tuple[Finding, ...] = self.connection.recv()
        except (EOFError, OSError):
            return None
        except Exception:  # an answer that does not unpickle is a broken worker, too
            return None
        self.tasks.popleft()
        # The next file in the pipe starts now; its time limit runs from here.
        self.deadline = time.monotonic() + self.limits.timeout_seconds
        return result

    def drain(self) -> list[_Task]:
        """Forget the files sent (the caller puts back those not started)."""
        tasks = list(self.tasks)
        self.tasks.clear()
        return tasks

    def replace(self, context: multiprocessing.context.BaseContext, limits: Limits) -> _Worker:
        """Kill this worker and start a fresh one."""
        self.tasks.clear()
        self.stop(kill=True)
        return _Worker(context, limits)

    def stop(self, kill: bool = False) -> None:
        """End the worker: politely when idle, killed when busy or asked to."""
        if not kill and not self.tasks and self.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self.connection.send(None)
            self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.connection.close()


def _worker_main(connection: Connection, limits: Limits) -> None:
    """Read files sent over ``connection`` until told to stop (None) or the pipe closes."""
    # Ctrl-C reaches the whole process group; the parent decides, the workers are killed by it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(limits.memory_bytes)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        path, name = message
        connection.send(_read_guarded(Path(path), limits, name))


def _limit_memory(limit: int) -> None:
    """Cap the worker's address space, so a runaway allocation fails in this process only."""
    if sys.platform == "win32":  # no RLIMIT_AS on Windows; the time limit still applies
        return
    import resource

    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _read_guarded(path: Path, limits: Limits, name: str) -> _Wire | tuple[Finding, ...]:
    """Read one file; every failure becomes findings. Runs in the worker."""
    try:
        return _read(path, limits, name)
    except _Refused as refused:
        return (Finding(refused.code, refused.params, file=name),)
    except MemoryError:
        return (Finding("file-read-crashed", {"reason": "MemoryError"}, file=name),)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # pyo3's PanicException is a BaseException, not an Exception
        reason = f"{type(exc).__name__}: {exc}"[:300]
        return (Finding("file-workbook-unreadable", {"reason": reason}, file=name),)


# ----------------------------------------------------------------------------------------
# Reading one file (in the worker)
# ----------------------------------------------------------------------------------------

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_REL_ID = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
)


def _read(path: Path, limits: Limits, name: str) -> _Wire:
    data = _read_bytes(path, limits)
    kind = sniff(data[:65536])
    if kind == "empty":
        raise _Refused("file-empty")
    if kind == "ole":
        code, params = _ole_kind(data)
        raise _Refused(code, **params)
    if kind != "zip":
        refusals = {"html": "file-html", "xml-spreadsheet": "file-xml-spreadsheet", "text": "file-text"}
        if kind in refusals:
            raise _Refused(refusals[kind])
        raise _Refused("file-not-workbook", kind=kind.upper())
    package = _Package(data, limits)
    return package.snapshot(name)


def _read_bytes(path: Path, limits: Limits) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_file() and size > limits.max_file_bytes:
            raise _Refused("file-too-large", size=_mb(size), limit=_mb(limits.max_file_bytes))
        with path.open("rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)  # bounded even for a file that grows or a device
    except OSError as exc:
        raise _Refused("file-workbook-unreadable", reason=exc.strerror or type(exc).__name__) from exc
    if len(data) > limits.max_file_bytes:
        raise _Refused("file-too-large", size=_mb(len(data)), limit=_mb(limits.max_file_bytes))
    return data


def _mb(size: int) -> str:
    return f"{size / MB:.1f}"


def _as_text(head: bytes) -> str | None:
    """``head`` as text when it plausibly is text (UTF-8/16 with or without BOM, or Shift_JIS)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[:8192].decode("utf-16", errors="replace")
    sample = head[:8192]
    if b"\x00" in sample:
        return None
    for encoding in ("utf-8", "cp932"):
        try:
            return sample.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start >= len(sample) - 4:  # a multi-byte character cut by the sample's end
                return sample[: exc.start].decode(encoding)
    return None


def _ole_kind(data: bytes) -> tuple[str, dict[str, str]]:
    """The finding for an OLE compound file: password-protected workbook, ``.xls``, or another document."""
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)}
    except Exception as exc:  # olefile raises several types on damaged files
        return "file-damaged", {"reason": f"OLE: {exc}"[:200]}
    if {"encryptioninfo", "encryptedpackage"} <= streams:
        return "file-encrypted", {}  # an OOXML workbook encrypted with a password (MS-OFFCRYPTO)
    if "workbook" in streams or "book" in streams:
        return "file-xls", {}
    if "worddocument" in streams:
        return "file-not-workbook", {"kind": "Word 97-2003"}
    return "file-not-workbook", {"kind": "OLE"}


class _Package:
    """An OOXML package opened under the limits: its zip, parts and sheets."""

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.data = data
        self.limits = limits
        self._check_directory()
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, EOFError, struct.error) as exc:
            raise _Refused("file-damaged", reason=str(exc)[:200]) from exc
        infos = self.zip.infolist()
        self._check_entries(infos)
        self.parts = {info.filename.lower(): info.filename for info in infos}
        self._check_kind()

    # -- limits and kind -------------------------------------------------------------

    def _check_directory(self) -> None:
        """The entry count from the end-of-central-directory record, before zipfile parses it all."""
        data = self.data
        end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
        if end < 0 or end + 22 > len(data):
            raise _Refused("file-damaged", reason="no zip central directory (truncated?)")
        (entries,) = struct.unpack_from("<H", data, end + 10)
        # 0xFFFF means a ZIP64 count: no workbook needs that many parts.
        if entries > self.limits.max_entries:
            raise _Refused("file-zip-bomb", reason=f"{entries} entries > {self.limits.max_entries}")

    def _check_entries(self, infos: Sequence[zipfile.ZipInfo]) -> None:
        limits = self.limits
        if len(infos) > limits.max_entries:
            raise _Refused("file-zip-bomb", reason=f"{len(infos)} entries > {limits.max_entries}")
        total = sum(info.file_size for info in infos)
        if total > limits.max_uncompressed_bytes:
            raise _Refused(
                "file-zip-bomb",
                reason=f"uncompressed {_mb(total)} MB > {_mb(limits.max_uncompressed_bytes)} MB",
            )
        for info in infos:
            if info.file_size >= limits.ratio_min_bytes and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                ratio = info.file_size / max(info.compress_size, 1)
                raise _Refused("file-zip-bomb", reason=f"{info.filename}: ratio {ratio:.0f}:1")
            if info.flag_bits & 0x1:
                raise _Refused("file-damaged", reason=f"{info.filename}: zip encryption")
        names = [info.filename.lower() for info in infos]
        if len(set(names)) != len(names):
            # Two parts of one name: readers would disagree on which one counts.
            raise _Refused("file-damaged", reason="duplicate zip entry names")

    def _check_kind(self) -> None:
        parts = self.parts
        if "mimetype" in parts:
            mimetype = self._part("mimetype", cap=200)
            if mimetype.startswith(b"application/vnd.oasis.opendocument"):
                raise _Refused("file-ods")
        if "xl/workbook.bin" in parts:
            raise _Refused("file-xlsb")
        if "[content_types].xml" not in parts or "xl/workbook.xml" not in parts:
            if "word/document.xml" in parts:
                raise _Refused("file-not-workbook", kind="Word")
            if "ppt/presentation.xml" in parts:
                raise _Refused("file-not-workbook", kind="PowerPoint")
            raise _Refused("file-not-workbook", kind="ZIP")

    # -- parts ----------------------------------------------------------------------------

    def _part(self, lowered: str, cap: int | None = None) -> bytes:
        """A part's bytes (by lower-case name); a damaged entry refuses the file."""
        name = self.parts[lowered]
        try:
            if cap is None:
                return self.zip.read(name)
            with self.zip.open(name) as stream:
                return stream.read(cap)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError) as exc:
            raise _Refused("file-damaged", reason=f"{name}: {exc}"[:200]) from exc

    def _open(self, lowered: str) -> IO[bytes]:
        return self.zip.open(self.parts[lowered])

    def _xml(self, lowered: str) -> Element:
        """A small part parsed with defusedxml (DTDs and entities refused)."""
        try:
            root: Element = SafeET.fromstring(self._part(lowered), forbid_dtd=True)
        except DefusedXmlException as exc:
            raise _Refused("file-xml-unsafe", part=self.parts[lowered]) from exc
        except ParseError as exc:
            raise _Refused("file-workbook-unreadable", reason=f"{self.parts[lowered]}: {exc}"[:200]) from exc
        return root

    def _relationships(self, source: str) -> dict[str, tuple[str, str, str]]:
        """The relationships of part ``source``: id → (type, target, target mode)."""
        folder, _, base = source.rpartition("/")
        rels = f"{folder}/_rels/{base}.rels".lower() if folder else f"_rels/{base}.rels".lower()
        if rels not in self.parts:
            return {}
        found = {}
        for element in self._xml(rels):
            if _local(element.tag) == "Relationship":
                found[element.get("Id", "")] = (
                    element.get("Type", ""),
                    element.get("Target", ""),
                    element.get("TargetMode", ""),
                )
        return found

    def _resolve(self, source: str, target: str) -> str:
        """A relationship target as a lower-case part name."""
        if target.startswith("/"):
            return target.lstrip("/").lower()
        folder = source.rpartition("/")[0]
        return posixpath.normpath(posixpath.join(folder, target)).lower()

    # -- the snapshot -----------------------------------------------------------------------

    def snapshot(self, name: str) -> _Wire:
        """The workbook reduced to what a :class:`Snapshot` holds (calamine opened only when needed)."""
        sheets = self._sheets()
        if not sheets:
            raise _Refused("file-no-sheets")
        has_vba = any(part.endswith("vbaproject.bin") for part in self.parts)
        content_types = self._part("[content_types].xml")
        if not _prolog_is_safe(content_types[:4096]):
            raise _Refused("file-xml-unsafe", part=self.parts["[content_types].xml"])
        kind: Literal["xlsx", "xlsm"] = "xlsm" if has_vba or b"macroEnabled" in content_types else "xlsx"
        # Parts python-calamine parses with its own XML reader must carry no DTD either.
        for part in ("xl/sharedstrings.xml", "xl/styles.xml"):
            if part in self.parts and not _prolog_is_safe(self._part(part, cap=4096)):
                raise _Refused("file-xml-unsafe", part=self.parts[part])
        findings: list[Finding] = []
        reader = _SheetReader(self, name, findings)

        manifest_chunks: tuple[str, ...] | None = None
        manifest_part = next((part for sheet, part, _ in sheets if sheet == layout.MANIFEST_SHEET), None)
        if manifest_part is not None:
            manifest_chunks = reader.manifest(layout.MANIFEST_SHEET, manifest_part)
        rows, columns = self._bounds(manifest_chunks)

        response: _SheetData | None = None
        worksheets = [(sheet, part) for sheet, part, is_worksheet in sheets if is_worksheet and part]
        chosen = next(((s, p) for s, p in worksheets if s == layout.RESPONSE_SHEET), None)
        if chosen is None and worksheets:
            chosen = next(((s, p) for s, p in worksheets if s != layout.MANIFEST_SHEET), None)
        if chosen is not None:
            response = reader.sheet(chosen[0], chosen[1], rows, columns)
        return _Wire(
            Snapshot(
                kind=kind,
                sheet_names=tuple(sheet for sheet, _, _ in sheets),
                manifest_chunks=manifest_chunks,
                response=None,
                external_links=self._external_links(),
                has_vba=has_vba,
                findings=tuple(findings),
            ),
            response,
        )

    def _sheets(self) -> list[tuple[str, str | None, bool]]:
        """(name, lower-case part name or None, is a worksheet) for every sheet, in workbook order."""
        root = self._xml("xl/workbook.xml")
        if _local(root.tag) != "workbook":
            raise _Refused("file-workbook-unreadable", reason="xl/workbook.xml is not a workbook")
        relationships = self._relationships(self.parts["xl/workbook.xml"])
        found: list[tuple[str, str | None, bool]] = []
        for element in root.iter():
            if _local(element.tag) != "sheet":
                continue
            rel_id = next((element.get(key) for key in _REL_ID if element.get(key)), None)
            relation = relationships.get(rel_id or "")
            part = None
            is_worksheet = False
            if relation is not None and relation[2] != "External":
                resolved = self._resolve("xl/workbook.xml", relation[1])
                part = resolved if resolved in self.parts else None
                is_worksheet = relation[0].endswith("/worksheet")
            found.append((element.get("name", ""), part, is_worksheet))
        return found

    def _bounds(self, chunks: tuple[str, ...] | None) -> tuple[int, int]:
        """Rows and columns to read of the response sheet: the manifest's, plus slack, capped.

        Only the JSON is parsed here (building the manifest's records cost more than the rest
        of this step); :mod:`xlplan.collection.identify` loads and verifies the manifest itself.
        """
        limits = self.limits
        rows, columns = limits.default_rows, limits.default_columns
        if chunks:
            try:
                data = json.loads("".join(chunks))
                sent_rows = [int(row["row"]) for row in data["rows"]]
                sent_columns = len(data["columns"])
            except (ValueError, TypeError, KeyError):
                sent_rows = []  # identification reports it; read with the default bounds
            if sent_rows:
                rows = max(sent_rows) + limits.row_slack
                columns = sent_columns + limits.column_slack
        return max(1, min(rows, limits.max_rows)), max(1, min(columns, limits.max_columns))

    def _external_links(self) -> tuple[str, ...]:
        """Targets of the package's external-link parts: linked workbooks, DDE and OLE links."""
        links: list[str] = []
        for lowered in sorted(self.parts):
            if not (lowered.startswith("xl/externallinks/") and lowered.endswith(".xml")):
                continue
            if "/_rels/" in lowered:
                continue
            source = self.parts[lowered]
            relationships = self._relationships(source)
            root = self._xml(lowered)
            for element in root:
                local = _local(element.tag)
                if local == "ddeLink":
                    links.append(f"DDE:{element.get('ddeService', '')}|{element.get('ddeTopic', '')}")
                elif local in ("externalBook", "oleLink"):
                    rel_id = next((element.get(key) for key in _REL_ID if element.get(key)), "")
                    target = relationships.get(rel_id or "", ("", source, ""))[1]
                    prefix = "OLE:" + element.get("progId", "") + "|" if local == "oleLink" else ""
                    links.append(prefix + target)
            if not any(_local(element.tag) in ("ddeLink", "externalBook", "oleLink") for element in root):
                links.append(source)
        return tuple(links)


@dataclass(frozen=True)
class _SheetData:
    """A read sheet in the compact form that crosses the process boundary (plain lists pickle fast)."""

    name: str
    keys: list[tuple[int, int]]
    values: list[CellValue]
    formulas: dict[tuple[int, int], str]
    max_row: int
    max_column: int
    truncated: bool

    def sheet_read(self) -> SheetRead:
        """The :class:`SheetRead` checking works on, built in the receiving process."""
        formulas = self.formulas
        cells = {
            key: CellRead(value, formulas.get(key) if formulas else None)
            for key, value in zip(self.keys, self.values, strict=True)
        }
        return SheetRead(self.name, cells, self.max_row, self.max_column, self.truncated)


@dataclass(frozen=True)
class _Wire:
    """What a worker sends back for a readable file: the snapshot without its cells, and the cells."""

    snapshot: Snapshot
    response: _SheetData | None

    def assemble(self) -> Snapshot:
        """The complete :class:`Snapshot`."""
        if self.response is None:
            return self.snapshot
        return replace(self.snapshot, response=self.response.sheet_read())


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


_PROLOG = re.compile(r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*<[A-Za-z_]", re.DOTALL)


def _prolog_is_safe(head: bytes) -> bool:
    """True when the XML in ``head`` reaches its root element with no DTD before it."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    elif head.startswith(b"<\x00"):
        text = head.decode("utf-16-le", errors="replace")
    elif head.startswith(b"\x00<"):
        text = head.decode("utf-16-be", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    return _PROLOG.match(text) is not None


# ----------------------------------------------------------------------------------------
# Sheets: calamine within a safe grid, or streamed within the bounds
# ----------------------------------------------------------------------------------------

# Cell references, scanned at C speed over the raw XML. The fast patterns match the canonical form
# every known writer uses (``<c r="B5" ...>``, reference first, no prefix); a sheet with any other
# form of cell element is scanned with the general pattern instead.
_CANONICAL_VALUE_CELL = re.compile(rb'<c r="([A-Z]{1,4})([0-9]{1,8})"(?:>|[^>]*[^/>]>)')
# Any other form of cell element: no attributes, another first attribute or spacing, a namespace prefix.
_OTHER_CELL = re.compile(rb'<c(?:[>/\t\n\r]| (?!r="[A-Z]))')
_PREFIXED_CELL = re.compile(rb":c[\s>/]")
# A cell element that is not canonical with a reference within ZZ9999 (two letters, four digits).
_OUTSIDE_ENVELOPE = re.compile(rb'<c(?:[>/\t\n\r]| (?!r="[A-Z]{1,2}[0-9]{1,4}"))')
_ENVELOPE_CELLS = 702 * 9999
"""Largest grid calamine builds for a sheet inside the envelope (about 220 MB of cells)."""
_GENERAL_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*[\"']([A-Za-z]{1,4})([0-9]{1,8})[\"'][^>]*?(/?)>"
)
_ANY_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s>/]")
_FORMULA = re.compile(rb"<f[\s>/]")
_PREFIXED_FORMULA = re.compile(rb":f[\s>/]")
_COLUMN_CACHE: dict[str, int] = {}


def _column_number(letters: str) -> int:
    number = _COLUMN_CACHE.get(letters)
    if number is None:
        number = 0
        for letter in letters.upper():
            number = number * 26 + (ord(letter) - 64)
        if len(_COLUMN_CACHE) < 20_000:
            _COLUMN_CACHE[letters] = number
    return number


def _column_letters(column: int) -> str:
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _cell_name(row: int, column: int) -> str:
    return f"{_column_letters(column)}{row}"


@dataclass
class _Extent:
    """What the scan of a sheet's XML found: the last row and column holding something."""

    max_row: int
    max_column: int
    all_referenced: bool  # every cell element names its reference (else positions are implied)
    beyond: tuple[int, int] | None  # a cell holding something outside the bounds, if any
    has_formulas: bool


def _has_formulas(xml: bytes) -> bool:
    return _FORMULA.search(xml) is not None or _PREFIXED_FORMULA.search(xml) is not None


def _scan(xml: bytes, rows: int, columns: int) -> _Extent:
    """Where the cells holding something are, from the raw XML, without parsing it."""
    has_formulas = _has_formulas(xml)
    if _OTHER_CELL.search(xml) is None and _PREFIXED_CELL.search(xml) is None:
        found = _CANONICAL_VALUE_CELL.findall(xml)
        all_referenced = True
    else:
        general = _GENERAL_CELL.findall(xml)
        found = [(letters.upper(), digits) for letters, digits, closed in general if not closed]
        all_referenced = len(general) == len(_ANY_CELL.findall(xml))
    if not found:
        return _Extent(0, 0, all_referenced, None, has_formulas)
    letters_found = [letters for letters, _ in found]
    digits_found = [digits for _, digits in found]
    max_row = max(map(int, digits_found))
    # Columns compare as numbers by (length, text): few distinct ones, so the set is small.
    max_column = max(_column_number(letters.decode("ascii")) for letters in set(letters_found))
    beyond: tuple[int, int] | None = None
    if max_row > rows or max_column > columns:
        for letters, digits in found:
            row, column = int(digits), _column_number(letters.decode("ascii"))
            if row > rows or column > columns:
                beyond = (row, column)
                break
    return _Extent(max_row, max_column, all_referenced, beyond, has_formulas)


class _SheetReader:
    """Reads sheets of one package, opening python-calamine once, when first needed."""

    def __init__(self, package: _Package, file: str, findings: list[Finding]) -> None:
        self.package = package
        self.file = file
        self.findings = findings
        self._workbook: Any = None
        self._shared: list[str] | None = None

    def _calamine(self) -> Any:
        if self._workbook is None:
            from python_calamine import CalamineWorkbook

            self._workbook = CalamineWorkbook.from_filelike(io.BytesIO(self.package.data))
        return self._workbook

    def _grid(
        self, sheet: str, part: str, rows: int, columns: int, *, formulas: bool = True
    ) -> tuple[list[list[Any]] | None, _Extent]:
        """Values of the top ``rows`` rows (from A1) by calamine, or None where that is not safe.

        The common case costs one regular-expression search: every cell reference is within
        ZZ9999, so calamine's grid has at most :data:`_ENVELOPE_CELLS` cells. Otherwise the
        references are scanned exactly, and a sheet whose grid would exceed
        :attr:`Limits.dense_cells` is left to the streaming reader.
        """
        xml = self.package._part(part)
        if not _prolog_is_safe(xml[:4096]):
            raise _Refused("file-xml-unsafe", part=self.package.parts[part])
        limits = self.package.limits
        inside_envelope = _OUTSIDE_ENVELOPE.search(xml) is None and _PREFIXED_CELL.search(xml) is None
        if not (inside_envelope and limits.dense_cells >= _ENVELOPE_CELLS):
            extent = _scan(xml, rows, columns)
            if not extent.all_referenced or extent.max_row * extent.max_column > limits.dense_cells:
                return None, extent
        found = self._calamine().get_sheet_by_name(sheet)
        end = found.end  # None for a sheet without cells
        max_row, max_column = (end[0] + 1, end[1] + 1) if end and found.height and found.width else (0, 0)
        beyond = None
        if max_row > rows or max_column > columns:  # rare: find a real cell to name in the finding
            beyond = _scan(xml, rows, columns).beyond or (max_row, max_column)
        extent = _Extent(max_row, max_column, True, beyond, formulas and _has_formulas(xml))
        if not max_row:
            return [], extent
        values: list[list[Any]] = found.to_python(skip_empty_area=False, nrows=rows)
        return values, extent

    def manifest(self, sheet: str, part: str) -> tuple[str, ...]:
        """Column A of the manifest sheet, from A1, as text."""
        limit = self.package.limits.max_manifest_chunks
        grid, _ = self._grid(sheet, part, limit, 1, formulas=False)
        if grid is None:
            cells = self._stream(part, limit, 1, values=True)
            column = [cells[(row, 1)][0] if (row, 1) in cells else None for row in range(1, limit + 1)]
        else:
            column = [row[0] if row else None for row in grid[:limit]]
        chunks = []
        for value in column:
            text = value if isinstance(value, str) else layout.canonical_cell(value)
            if text:
                chunks.append(text)
        return tuple(chunks)

    def sheet(self, sheet: str, part: str, rows: int, columns: int) -> _SheetData:
        """The cells of ``sheet`` within the bounds, with formula texts beside cached values."""
        grid, extent = self._grid(sheet, part, rows, columns)
        keys: list[tuple[int, int]] = []
        values: list[CellValue] = []
        formulas: dict[tuple[int, int], str] = {}
        if grid is None:
            for key, (value, formula, _) in self._stream(part, rows, columns, values=True).items():
                keys.append(key)
                values.append(None if value == "" else value)
                if formula is not None:
                    formulas[key] = formula
        else:
            # A comprehension: this loop runs for every cell of every file.
            found = [
                ((row_index, column_index), value)
                for row_index, row in enumerate(grid[:rows], start=1)
                for column_index, value in enumerate(row[:columns], start=1)
                if value != "" and value is not None
            ]
            keys = [key for key, _ in found]
            values = [value for _, value in found]
            if extent.has_formulas:
                # Cached values stay calamine's; a formula whose result was never saved reads as None.
                known = set(keys)
                for key, (_, formula, _) in self._stream(part, rows, columns, values=False).items():
                    if formula is not None:
                        formulas[key] = formula
                        if key not in known:
                            keys.append(key)
                            values.append(None)
        if extent.beyond is not None:
            self.findings.append(
                Finding(
                    "sheet-truncated",
                    {"rows": rows, "columns": columns, "last": _cell_name(*extent.beyond)},
                    file=self.file,
                    sheet=sheet,
                )
            )
        return _SheetData(
            sheet, keys, values, formulas, extent.max_row, extent.max_column, extent.beyond is not None
        )

    # -- streaming with defusedxml ----------------------------------------------------------

    def _shared_strings(self) -> list[str]:
        if self._shared is None:
            shared: list[str] = []
            package = self.package
            workbook_rels = package._relationships(package.parts["xl/workbook.xml"])
            part = next(
                (
                    package._resolve("xl/workbook.xml", target)
                    for kind, target, mode in workbook_rels.values()
                    if kind.endswith("/sharedStrings") and mode != "External"
                ),
                "xl/sharedstrings.xml",
            )
            if part in package.parts:
                with package._open(part) as stream:
                    for _, element in _iterparse(stream, ("end",), package.parts[part]):
                        if _local(element.tag) == "si":
                            shared.append(_text(element))
                            element.clear()
            self._shared = shared
        return self._shared

    def _stream(
        self, part: str, rows: int, columns: int, *, values: bool
    ) -> dict[tuple[int, int], tuple[CellValue, str | None, bool]]:
        """(value, formula, has cached value) of the cells within the bounds, streamed from the XML.

        Values are decoded only with ``values`` (types as the file stores them: numbers as
        float, no date formats applied — calamine is used wherever it is safe). Reading stops
        at the first row past the bounds (rows are stored in ascending order).
        """
        shared = self._shared_strings() if values else []
        found: dict[tuple[int, int], tuple[CellValue, str | None, bool]] = {}
        shared_formulas: dict[str, str] = {}
        row_number = 0
        column_number = 0
        name = self.package.parts[part]
        with self.package._open(part) as stream:
            for event, element in _iterparse(stream, ("start", "end"), name):
                local = _local(element.tag)
                if event == "start":
                    if local == "row":
                        reference = element.get("r")
                        row_number = int(reference) if reference and reference.isdecimal() else row_number + 1
                        column_number = 0
                        if row_number > rows:
                            break
                    continue
                if local == "c":
                    reference = element.get("r")
                    if reference:
                        letters = reference.rstrip("0123456789")
                        column_number = _column_number(letters) if letters.isalpha() else column_number + 1
                    else:
                        column_number += 1
                    if column_number <= columns:
                        cell = self._cell(element, shared, shared_formulas, values)
                        if cell is not None:
                            found[(row_number, column_number)] = cell
                    element.clear()
                elif local == "row":
                    element.clear()
        return found

    @staticmethod
    def _cell(
        element: Element, shared: list[str], shared_formulas: dict[str, str], values: bool
    ) -> tuple[CellValue, str | None, bool] | None:
        formula: str | None = None
        raw: str | None = None
        inline: Element | None = None
        has_value = False
        for child in element:
            local = _local(child.tag)
            if local == "f":
                formula = child.text or ""
                index = child.get("si")
                if child.get("t") == "shared" and index is not None:
                    # The first cell of a shared formula holds its text; the others refer to it.
                    if formula:
                        shared_formulas[index] = formula
                    else:
                        formula = shared_formulas.get(index, "")
                elif child.get("t") == "dataTable":
                    formula = f"TABLE({child.get('r1', '')},{child.get('r2', '')})"
            elif local == "v":
                raw = child.text or ""
                has_value = True
            elif local == "is":
                inline = child
                has_value = True
        if not values:
            return (None, formula, has_value) if formula is not None else None
        kind = element.get("t", "n")
        value: CellValue = None
        if kind == "inlineStr" and inline is not None:
            value = _text(inline)
        elif raw is not None:
            if kind == "s":
                position = int(raw) if raw.isdecimal() else -1
                value = shared[position] if 0 <= position < len(shared) else None
            elif kind == "b":
                value = raw.strip() == "1"
            elif kind in ("str", "e", "d", "inlineStr"):
                value = raw
            else:
                try:
                    value = float(raw)
                except ValueError:
                    value = raw
        if value in (None, "") and formula is None:
            return None
        return value, formula, has_value


def _iterparse(stream: IO[bytes], events: tuple[str, ...], name: str) -> Iterator[tuple[str, Element]]:
    """defusedxml's iterparse with DTDs forbidden; unsafe or malformed XML refuses the file."""
    try:
        yield from SafeET.iterparse(stream, events=events, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise _Refused("file-xml-unsafe", part=name) from exc
    except ParseError as exc:
        raise _Refused("file-workbook-unreadable", reason=f"{name}: {exc}"[:200]) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _Refused("file-damaged", reason=f"{name}: {exc}"[:200]) from exc


def _text(element: Element) -> str:
    """The text of a rich-text container (``si``, ``is``) without its phonetic runs (``rPh``)."""
    parts: list[str] = []
    for child in element:
        local = _local(child.tag)
        if local == "t":
            parts.append(child.text or "")
        elif local == "r":
            parts.extend(grand.text or "" for grand in child if _local(grand.tag) == "t")
    return "".join(parts)
