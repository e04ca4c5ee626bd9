"""Uploaded returns into a workspace's inbox, exactly as the drop folder receives them.

An upload is read to its end before anything is written, so a client that drops half-way leaves
nothing. Each file is then written beside its final name as a dotfile (which intake ignores) and
flushed to disk; only when every file of the upload is written are they linked into place, each
in one step: a collect running at the same moment sees a whole file or none of it, and a disk that
fills up while the files are written leaves none of the upload (should linking itself fail, the
files this upload linked are taken out again, unless a collect took them in that instant). Names are kept as the department gave them, made safe
for the folder (and for a Windows share of it).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from xlplan.collection.intake import ignored_name
from xlplan.errors import OutputError
from xlplan.findings import not_writable
from xlplan.xlsx.atomic import sync_folder

CHUNK = 1 << 20
NAME_MAX = 150  # characters of a saved name: Windows paths stay well under 260 on a share
NAME_BYTES = 200  # its UTF-8 bytes: Linux allows 255, and " (2)" or "-1a2b3c" may still be added
STALE_PART = 24 * 3600  # seconds after which a .part file is a killed upload's, removed by the next
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{n}" for n in range(1, 10)),
    *(f"LPT{n}" for n in range(1, 10)),
}
_UNSAFE = re.compile(r'[\\/:*?"<>|]')
_NAME_LOCK = threading.Lock()  # uploads are written from worker threads: two equal names stay apart


@dataclass(frozen=True)
class Receipt:
    """One uploaded file as it was put into the inbox."""

    name: str  # as the client gave it
    saved_as: str  # inbox-relative
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON receipt the upload answers with."""
        return {"name": self.name, "saved_as": self.saved_as, "size": self.size, "sha256": self.sha256}


def safe_name(name: str | None) -> str:
    """A file name the inbox can hold: its last part only, no control characters or characters
    Windows forbids, not hidden, not too long (``回答.xlsx`` stays ``回答.xlsx``)."""
    text = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _UNSAFE.sub("_", text).strip().lstrip(".~$").strip() or "upload.xlsx"
    if ignored_name(text):  # 8A3F1C20.tmp (Excel saving), 回答.xlsx.part: taken in under a name intake reads
        text += ".xlsx"
    stem, dot, suffix = text.rpartition(".")
    if not (dot and stem and len(suffix) <= 8):
        stem, dot, suffix = text, "", ""
    if stem.split(".")[0].rstrip().upper() in _RESERVED:
        stem = "_" + stem  # CON.xlsx, NUL.xlsx: names Windows keeps for devices
    tail = dot + suffix
    stem = stem[: max(1, NAME_MAX - len(tail))]
    budget = max(1, NAME_BYTES - len(tail.encode("utf-8")))
    # Cut at a byte budget, never inside a character (a Japanese character is three bytes).
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore") or "_"
    return stem + tail


def _free_name(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or ``name (2)``, ``(3)`` … when taken."""
    candidate = folder / name
    stem, suffix = candidate.stem, candidate.suffix
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({number}){suffix}"
        number += 1
    return candidate


def save_uploads(inbox: Path, files: Sequence[tuple[str | None, IO[bytes]]]) -> list[Receipt]:
    """Copy each ``(name, source)`` into ``inbox`` under a safe, free name; all of them or none.

    Raises:
        OutputError: a file could not be written (a full disk, no permission), named; nothing of
            this upload is left in the inbox.
    """
    inbox.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(inbox)
    written: list[tuple[Path, str, str | None, int, str]] = []
    placed: list[Path] = []
    current = inbox
    try:
        for name, source in files:
            temporary = inbox / f".upload-{secrets.token_hex(8)}.part"
            current = inbox / safe_name(name)
            written.append((temporary, current.name, name, *_write(temporary, source)))
        with _NAME_LOCK:
            for temporary, wanted, _name, _size, _sha in written:
                current = inbox / wanted
                placed.append(_link(inbox, temporary, wanted))
        sync_folder(inbox)
    except OSError as exc:
        for final in placed:
            final.unlink(missing_ok=True)
        raise OutputError([not_writable(current, exc)]) from exc
    finally:
        for temporary, *_ in written:
            temporary.unlink(missing_ok=True)
    return [
        Receipt(name or "", final.name, size, sha)
        for final, (_, _, name, size, sha) in zip(placed, written, strict=True)
    ]


def _write(temporary: Path, source: IO[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    try:
        with temporary.open("xb") as target:
            source.seek(0)
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


def _link(inbox: Path, temporary: Path, wanted: str) -> Path:
    final = _free_name(inbox, wanted)
    try:
        os.link(temporary, final)  # fails rather than overwrite a file dropped meanwhile
    except FileExistsError:
        final = _free_name(inbox, f"{final.stem}-{secrets.token_hex(3)}{final.suffix}")
        os.link(temporary, final)
    return final


def _remove_stale_parts(inbox: Path) -> None:
    """The ``.part`` files an upload killed half-way left (a day old: no upload takes that long)."""
    limit = time.time() - STALE_PART
    for part in inbox.glob(".upload-*.part"):
        try:
            if part.lstat().st_mtime < limit:
                part.unlink()
        except OSError:
            continue  # another upload's, or already gone
