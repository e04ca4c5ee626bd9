"""A minimal writer of Microsoft Compound File Binary files (MS-CFB), enough for ``vbaProject.bin``.

``olefile`` reads these files but cannot create them, so this module writes them: version 3
(512-byte sectors), one level of storages below the root, streams below 4096 bytes in the mini
stream (64-byte mini sectors) as MS-CFB requires, and the rest in regular sectors.

Layout of the file written, sector by sector::

    header (512 bytes) | FAT sectors | directory | mini FAT | mini stream | large streams

The layout is computed once and never moved, which keeps the writer short; it is not meant for
files larger than 109 FAT sectors (about 7 MB), which a VBA project never approaches.

The directory of each storage is a binary search tree ordered as MS-CFB §2.6.4 prescribes (name
length first, then the upper-cased names). MS-CFB allows writers to colour every node black, "in
which case the tree is simply a binary tree"; the tree built here is balanced, so every path also
holds the same number of black nodes and it is a valid red-black tree as well.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["CfbError", "directory_sort_key", "write_compound_file"]

SECTOR_SIZE = 512
MINI_SECTOR_SIZE = 64
MINI_STREAM_CUTOFF = 4096
ENTRIES_PER_FAT_SECTOR = SECTOR_SIZE // 4
HEADER_DIFAT_ENTRIES = 109

FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF

_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_TYPE_STORAGE = 1
_TYPE_STREAM = 2
_TYPE_ROOT = 5
_BLACK = 1
_MAX_NAME_CHARS = 31  # 32 UTF-16 code units including the terminating null


class CfbError(ValueError):
    """The tree handed to :func:`write_compound_file` cannot be stored (bad name, too large)."""


def _upper(name: str) -> str:
    # MS-CFB compares with simple (one-to-one) upper-casing; str.upper() would turn "ß" into "SS".
    return "".join(ch.upper() if len(ch.upper()) == 1 else ch for ch in name)


def directory_sort_key(name: str) -> tuple[int, str]:
    """The order of sibling directory entries: shorter names first, then by upper-cased name.

    Length is counted in UTF-16 code units, as MS-CFB stores names.
    """
    return (len(name.encode("utf-16-le")) // 2, _upper(name))


@dataclass
class _Entry:
    """One directory entry while the file is being laid out."""

    name: str
    kind: int
    data: bytes = b""
    children: list[_Entry] = field(default_factory=list)
    index: int = -1
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN
    size: int = 0


def _check_name(name: str) -> None:
    if not name or len(name.encode("utf-16-le")) // 2 > _MAX_NAME_CHARS:
        raise CfbError(f"CFB entry name must have 1 to {_MAX_NAME_CHARS} characters: {name!r}")
    if any(ch in name for ch in "/\\:!"):
        raise CfbError(f"CFB entry name must not contain / \\ : or !: {name!r}")


def _build_tree(tree: Mapping[str, bytes | Mapping[str, bytes]]) -> _Entry:
    root = _Entry("Root Entry", _TYPE_ROOT)
    for name, value in tree.items():
        _check_name(name)
        if isinstance(value, Mapping):
            storage = _Entry(name, _TYPE_STORAGE)
            for child_name, child_data in value.items():
                _check_name(child_name)
                storage.children.append(_Entry(child_name, _TYPE_STREAM, bytes(child_data)))
            root.children.append(storage)
        else:
            root.children.append(_Entry(name, _TYPE_STREAM, bytes(value)))
    return root


def _flatten(entry: _Entry, out: list[_Entry]) -> None:
    entry.index = len(out)
    out.append(entry)
    for child in entry.children:
        _flatten(child, out)


def _link_siblings(parent: _Entry) -> None:
    """Give ``parent`` a balanced binary search tree of its children (middle element at the top)."""
    keys = [directory_sort_key(c.name) for c in parent.children]
    if len(set(keys)) != len(keys):
        raise CfbError(f"duplicate names (case-insensitive) under {parent.name!r}")
    ordered = sorted(parent.children, key=lambda c: directory_sort_key(c.name))

    def link(lo: int, hi: int) -> int:
        if lo >= hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        node = ordered[mid]
        node.left = link(lo, mid)
        node.right = link(mid + 1, hi)
        return node.index

    parent.child = link(0, len(ordered))
    for child in parent.children:
        if child.kind == _TYPE_STORAGE:
            _link_siblings(child)


def _sectors(n_bytes: int, size: int) -> int:
    return (n_bytes + size - 1) // size


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\x00" * (-len(data) % size)


def _directory_entry(entry: _Entry | None) -> bytes:
    if entry is None:
        # An unused slot: empty name, type 0, no siblings or child.
        return b"\x00" * 64 + struct.pack("<HBB3I", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) + b"\x00" * 48
    encoded = entry.name.encode("utf-16-le") + b"\x00\x00"
    name_field = encoded.ljust(64, b"\x00")
    return (
        name_field
        + struct.pack("<HBB3I", len(encoded), entry.kind, _BLACK, entry.left, entry.right, entry.child)
        + b"\x00" * 16  # CLSID
        + b"\x00" * 4  # state bits
        + b"\x00" * 16  # creation and modification times: zero is allowed and keeps output stable
        + struct.pack("<IQ", entry.start, entry.size)
    )


def write_compound_file(tree: Mapping[str, bytes | Mapping[str, bytes]]) -> bytes:
    """Return the bytes of a compound file holding ``tree``.

    ``tree`` maps top-level names to stream contents (``bytes``) or to a storage, itself a mapping
    of stream names to contents (one level of storages is all a VBA project needs). Names have 1
    to 31 characters. The output depends only on ``tree``: no timestamps, no random bytes.

    Raises :class:`CfbError` for a bad or duplicate name, or a file beyond this writer's limit.
    """
    root = _build_tree(tree)
    entries: list[_Entry] = []
    _flatten(root, entries)
    _link_siblings(root)
    streams = [e for e in entries if e.kind == _TYPE_STREAM]

    # Small streams go into the mini stream, each starting on a 64-byte mini sector.
    mini_stream = b""
    mini_fat: list[int] = []
    for entry in streams:
        entry.size = len(entry.data)
        if entry.size == 0 or entry.size >= MINI_STREAM_CUTOFF:
            continue
        first = len(mini_fat)
        count = _sectors(entry.size, MINI_SECTOR_SIZE)
        mini_fat.extend(range(first + 1, first + count))
        mini_fat.append(ENDOFCHAIN)
        entry.start = first
        mini_stream += _pad(entry.data, MINI_SECTOR_SIZE)

    large = [e for e in streams if e.size >= MINI_STREAM_CUTOFF]
    n_dir = _sectors(len(entries) * 128, SECTOR_SIZE)
    n_minifat = _sectors(len(mini_fat) * 4, SECTOR_SIZE)
    n_mini = _sectors(len(mini_stream), SECTOR_SIZE)
    n_large = sum(_sectors(e.size, SECTOR_SIZE) for e in large)
    n_other = n_dir + n_minifat + n_mini + n_large
    n_fat = 1
    while n_fat * ENTRIES_PER_FAT_SECTOR < n_other + n_fat:
        n_fat += 1
    if n_fat > HEADER_DIFAT_ENTRIES:
        raise CfbError("compound file too large for this writer (more than 109 FAT sectors)")

    fat: list[int] = [FATSECT] * n_fat
    chains: list[bytes] = []

    def allocate(data: bytes) -> int:
        """Append ``data`` as a chain of sectors; return its first sector (ENDOFCHAIN if empty)."""
        count = _sectors(len(data), SECTOR_SIZE)
        if count == 0:
            return ENDOFCHAIN
        first = len(fat)
        fat.extend(range(first + 1, first + count))
        fat.append(ENDOFCHAIN)
        chains.append(_pad(data, SECTOR_SIZE))
        return first

    # The directory is written last but its sectors are reserved first, right after the FAT.
    dir_start = len(fat)
    fat.extend(range(dir_start + 1, dir_start + n_dir))
    fat.append(ENDOFCHAIN)
    minifat_start = allocate(b"".join(struct.pack("<I", v) for v in mini_fat))
    root.start = allocate(mini_stream)
    root.size = len(mini_stream)
    for entry in large:
        entry.start = allocate(entry.data)
    assert len(fat) == n_fat + n_other, "layout bookkeeping is off"

    slots: list[_Entry | None] = [*entries, *([None] * (n_dir * 4 - len(entries)))]
    directory = b"".join(_directory_entry(e) for e in slots)
    assert len(directory) == n_dir * SECTOR_SIZE, "a directory entry is not 128 bytes"
    # Entries past the last used sector are free, including the unused tail of the last FAT sector.
    fat_bytes = b"".join(
        struct.pack("<I", v) for v in [*fat, *[FREESECT] * (n_fat * ENTRIES_PER_FAT_SECTOR - len(fat))]
    )

    difat = list(range(n_fat)) + [FREESECT] * (HEADER_DIFAT_ENTRIES - n_fat)
    header = (
        _SIGNATURE
        + b"\x00" * 16  # header CLSID
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)  # minor, major v3, byte order, shifts
        + b"\x00" * 6
        + struct.pack("<III", 0, n_fat, dir_start)  # directory sector count is 0 in version 3
        + struct.pack("<II", 0, MINI_STREAM_CUTOFF)  # transaction signature, cutoff
        + struct.pack("<II", minifat_start, n_minifat)
        + struct.pack("<II", ENDOFCHAIN, 0)  # no DIFAT sectors beyond the header's 109 entries
        + b"".join(struct.pack("<I", v) for v in difat)
    )
    assert len(header) == SECTOR_SIZE
    return header + fat_bytes + directory + b"".join(chains)
