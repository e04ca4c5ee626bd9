"""Uploaded returns into a workspace's inbox, exactly as the drop folder receives them.

An upload is read to its end before anything is written, so a client that drops half-way leaves
nothing. Each file is then written beside its final name as a dotfile (which intake ignores),
flushed to disk and renamed into place in one step: a collect running at the same moment sees the
whole file or none of it. Names are kept as the department gave them, made safe for the folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from xlplan.xlsx.atomic import sync_folder

CHUNK = 1 << 20
NAME_MAX = 150  # characters of a saved name: Windows paths stay well under 260 on a share
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
    if len(text) > NAME_MAX:
        stem, dot, suffix = text.rpartition(".")
        text = (
            (stem[: NAME_MAX - len(suffix) - 1] + dot + suffix)
            if dot and len(suffix) <= 8
            else text[:NAME_MAX]
        )
    return text


def _free_name(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or ``name (2)``, ``(3)`` … when taken."""
    candidate = folder / name
    stem, suffix = candidate.stem, candidate.suffix
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({number}){suffix}"
        number += 1
    return candidate


def save_upload(inbox: Path, name: str | None, source: IO[bytes]) -> Receipt:
    """Copy ``source`` (read from its start) into ``inbox`` under a safe, free name; returns its receipt."""
    inbox.mkdir(parents=True, exist_ok=True)
    wanted = safe_name(name)
    temporary = inbox / f".upload-{secrets.token_hex(8)}.part"
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
        with _NAME_LOCK:
            final = _free_name(inbox, wanted)
            try:
                os.link(temporary, final)  # fails rather than overwrite a file dropped meanwhile
            except FileExistsError:
                final = _free_name(inbox, f"{final.stem}-{secrets.token_hex(3)}{final.suffix}")
                os.link(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    sync_folder(inbox)
    return Receipt(name or "", final.name, size, digest.hexdigest())
