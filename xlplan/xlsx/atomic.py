"""Replace a published file safely: never half-written, never lost because Excel holds it open.

Outputs are first written to a temporary file *beside* the target (same folder,
so the final rename is atomic on the same volume), verified, and only then moved
over the target. On Windows a file open in Excel cannot be replaced
(``PermissionError``); Excel also leaves an owner file ``~$name.xlsx`` beside a
workbook it has open, even on a shared folder seen from a Linux server. In
either case the output goes to a versioned name (``name (2).xlsx``) and the
caller is told, rather than failing the run or waiting for someone to close Excel.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from pathlib import Path

RETRIES = 5
"""How many times a replace is tried before falling back to a versioned name."""
RETRY_DELAY = 0.2
"""Seconds before the first retry; doubled on each (antivirus scanners hold new files briefly)."""


def sync_folder(folder: Path) -> None:
    """Make a rename into ``folder`` durable (POSIX: fsync the directory). Windows has no
    directory handles to sync; a file system that refuses is left as it is (the file's own
    data was synced before the rename)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def temporary_beside(target: Path) -> Path:
    """A fresh temporary path in the target's folder, keeping its suffix (writers check it)."""
    return target.with_name(f".~{target.stem}.{uuid.uuid4().hex[:8]}.tmp{target.suffix}")


def place_new(data: bytes, target: Path) -> None:
    """Write ``data`` as a new file at ``target``, whole or not at all, never over an existing file.

    The data goes to a temporary file beside ``target`` and is then linked in under its name, which
    fails if the name is taken, so a full disk or a killed run never leaves a truncated file under
    the real name (a department could be sent it). Where the file system has no hard links (some
    network shares), it is renamed in once the name is seen to be free.

    Raises:
        FileExistsError: ``target`` exists (the caller picks another name).
        OSError: the data could not be written; nothing is left behind.
    """
    # A short name of its own: one made from a long target's (245 bytes of Japanese) would pass 255.
    temporary = target.with_name(f".~xlplan-{uuid.uuid4().hex[:12]}.tmp")
    try:
        with temporary.open("xb") as handle:
            handle.write(data)
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise
        except OSError:  # no hard links here
            if target.exists():
                raise FileExistsError(str(target)) from None
            os.rename(temporary, target)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def owner_file(target: Path) -> Path | None:
    """Excel's owner file ``~$<name>`` beside ``target``, if there is one (Excel has it open, or
    crashed with it open and left the file behind).

    Excel names it ``~$`` plus the name, dropping the first two characters for
    names of eight or more characters; both forms are checked.
    """
    name = target.name
    candidates = [target.with_name("~$" + name)]
    if len(target.stem) >= 8:
        candidates.append(target.with_name("~$" + name[2:]))
    return next((candidate for candidate in candidates if candidate.exists()), None)


def open_in_excel(target: Path) -> bool:
    """True when Excel's owner file ``~$<name>`` sits beside ``target`` (:func:`owner_file`)."""
    return owner_file(target) is not None


def versioned(target: Path) -> Path:
    """The first of ``name (2).ext``, ``name (3).ext`` … that neither exists nor is open in Excel."""
    number = 2
    while True:
        candidate = target.with_name(f"{target.stem} ({number}){target.suffix}")
        if not candidate.exists() and not open_in_excel(candidate):
            return candidate
        number += 1


def replace_into(
    temporary: Path, target: Path, *, retries: int = RETRIES, delay: float = RETRY_DELAY
) -> Path:
    """Move ``temporary`` over ``target``; returns where the file ended up.

    Retries a few times on ``PermissionError`` (a file briefly held by a virus
    scanner or the indexer); if ``target`` stays locked or Excel has it open, the
    file is moved to :func:`versioned` instead. The temporary file is removed if
    even that fails.

    Raises:
        OSError: the file could be placed neither at ``target`` nor at a versioned name.
    """
    try:
        if not open_in_excel(target):
            for attempt in range(retries):
                try:
                    os.replace(temporary, target)
                    return target
                except PermissionError:
                    if attempt + 1 < retries:
                        time.sleep(delay * 2**attempt)
        fallback = versioned(target)
        os.replace(temporary, fallback)
        return fallback
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
