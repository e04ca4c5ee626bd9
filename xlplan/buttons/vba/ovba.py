"""Write a source-only VBA project (``vbaProject.bin``) as MS-OVBA tells writers to.

Why our own writer: the PyPI candidates did not fit: ``ms-ovba`` 0.0.1 writes scratch files into the working folder and has an open
report that its macros do not run in Excel; ``pyOpenVBA`` edits a project that Excel saved, p-code
cache included, rather than writing the interoperable form. MS-OVBA is short enough to follow.

What "source-only" means here (MS-OVBA §1.6, §2.3.4.1): ``_VBA_PROJECT`` carries version 0xFFFF
and no performance cache, and every module stream holds only compressed source (its text offset
is 0), so Office ignores any compiled state and compiles the project from source when it opens it.

The project written holds:

* ``PROJECT``: the text properties (§2.3.1) with CMG, DPB and GC obfuscated per §2.4.3,
* ``PROJECTwm``: module names in MBCS and UTF-16 (§2.3.3),
* ``VBA/_VBA_PROJECT`` (§2.3.4.1), ``VBA/dir`` (§2.3.4.2, compressed) and one compressed stream per
  module (§2.3.4.3).

Module text is stored as the VBA editor keeps it: ``Attribute VB_...`` lines first, CRLF line ends,
encoded in the project code page.
"""

from __future__ import annotations

import random
import re
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from xlplan.buttons.vba.cfb import write_compound_file

__all__ = [
    "CLASS_BASE",
    "WORKBOOK_BASE",
    "WORKSHEET_BASE",
    "IncompressibleChunkError",
    "Module",
    "ModuleKind",
    "Reference",
    "VbaProjectError",
    "build_vba_project",
    "class_module",
    "compress",
    "decrypt",
    "document_module",
    "encrypt",
    "standard_module",
]

CHUNK_SIZE = 4096
"""Bytes of decompressed data per compressed chunk (MS-OVBA §2.4.1.1.3)."""

WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
"""``VB_Base`` of the workbook's document module, as Excel writes it."""
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
"""``VB_Base`` of a worksheet's document module, as Excel writes it."""
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"
"""``VB_Base`` of a class module, as Excel writes it."""

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")


class VbaProjectError(ValueError):
    """The modules or names handed to the writer cannot form a valid VBA project."""


class IncompressibleChunkError(VbaProjectError):
    """A final, partial chunk does not compress into 4096 bytes.

    MS-OVBA can store such a chunk only raw, and a raw chunk always decompresses to 4096 bytes
    (the spec pads it with zeros), which would change the data. It needs about 3,600 trailing
    bytes without a single 3-byte repeat: binary noise, never VBA source.
    """


# --------------------------------------------------------------------------------------------
# Compression (MS-OVBA §2.4.1): an LZ77 variant in chunks of 4096 decompressed bytes.
# --------------------------------------------------------------------------------------------


def _copy_token_layout(position: int) -> tuple[int, int]:
    """(bit count of the offset, maximum match length) at ``position`` bytes into a chunk.

    The split between offset and length bits in a copy token grows with the position so that the
    offset can reach back to the chunk start (§2.4.1.3.19.1 CopyToken Help).
    """
    bit_count = max((position - 1).bit_length(), 4)
    return bit_count, (0xFFFF >> bit_count) + 3


def _compress_chunk(chunk: bytes) -> bytes:
    """Token sequences for one chunk: a flag byte, then up to 8 literals or copy tokens."""
    out = bytearray()
    # Where each 3-byte prefix occurred, most recent last. Matches never cross a chunk boundary.
    seen: dict[bytes, list[int]] = {}
    pos = 0
    end = len(chunk)
    while pos < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            best_len, best_off = 0, 0
            if pos > 0 and pos + 3 <= end:
                bit_count, max_len = _copy_token_layout(pos)
                limit = min(max_len, end - pos)
                # The newest candidates first; 64 is plenty for source text and bounds the work.
                for cand in reversed(seen.get(chunk[pos : pos + 3], [])[-64:]):
                    length = 3
                    # Overlapping copies are allowed: the decoder copies byte by byte.
                    while length < limit and chunk[cand + length] == chunk[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == limit:
                            break
            if best_len >= 3:
                bit_count, _ = _copy_token_layout(pos)
                token = ((best_off - 1) << (16 - bit_count)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_len
            else:
                out.append(chunk[pos])
                step = 1
            for p in range(pos, min(pos + step, end - 2)):
                seen.setdefault(chunk[p : p + 3], []).append(p)
            pos += step
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """MS-OVBA-compress ``data`` into a CompressedContainer (§2.4.1.1.1).

    Each chunk of 4096 input bytes becomes a compressed chunk when its tokens fit in 4096 bytes,
    else a raw chunk of exactly 4096 bytes (§2.4.1.3.7). Raises :class:`IncompressibleChunkError`
    when the last, shorter chunk needs a raw chunk, which cannot be stored without padding.
    """
    out = bytearray(b"\x01")  # SignatureByte
    for start in range(0, len(data), CHUNK_SIZE):
        chunk = data[start : start + CHUNK_SIZE]
        tokens = _compress_chunk(chunk)
        if len(tokens) <= CHUNK_SIZE:
            # Header: size - 3 in 12 bits, signature 0b011, flag 1 (compressed).
            out += struct.pack("<H", (len(tokens) + 2 - 3) | 0x3000 | 0x8000)
            out += tokens
        elif len(chunk) == CHUNK_SIZE:
            out += struct.pack("<H", (CHUNK_SIZE + 2 - 3) | 0x3000)
            out += chunk
        else:
            raise IncompressibleChunkError(
                f"the last {len(chunk)} bytes do not compress into one chunk; "
                "MS-OVBA could only store them padded with zeros"
            )
    return bytes(out)


# --------------------------------------------------------------------------------------------
# Data encryption (MS-OVBA §2.4.3): the obfuscation of CMG, DPB and GC in the PROJECT stream.
# --------------------------------------------------------------------------------------------


def _project_key(project_id: str) -> int:
    """ProjKey: the byte sum of the project's CLSID text, braces included (§2.4.3.2)."""
    return sum(project_id.encode("ascii")) & 0xFF


def encrypt(data: bytes, project_id: str, rng: random.Random) -> str:
    """Obfuscate ``data`` per §2.4.3.2 and return it as upper-case hex, as PROJECT stores it.

    ``rng`` supplies the seed and the ignored bytes, so a seeded generator gives stable output.
    """
    seed = rng.randrange(256)
    version = 2
    proj_key = _project_key(project_id)
    version_enc = seed ^ version
    proj_key_enc = seed ^ proj_key
    out = bytearray([seed, version_enc, proj_key_enc])
    unencrypted1, encrypted1, encrypted2 = proj_key, proj_key_enc, version_enc

    def put(byte: int) -> None:
        nonlocal unencrypted1, encrypted1, encrypted2
        enc = byte ^ ((encrypted2 + unencrypted1) & 0xFF)
        out.append(enc)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte

    for _ in range((seed & 6) // 2):  # IgnoredEnc: 0 to 3 arbitrary bytes
        put(rng.randrange(256))
    for byte in struct.pack("<I", len(data)) + data:
        put(byte)
    return out.hex().upper()


def decrypt(text: str) -> bytes:
    """Undo :func:`encrypt` (§2.4.3.3): the Data bytes from an obfuscated hex string.

    Raises :class:`VbaProjectError` when the text is not a well-formed encrypted structure.
    """
    raw = bytes.fromhex(text)
    if len(raw) < 7:
        raise VbaProjectError(f"encrypted data too short: {text!r}")
    seed, version_enc, proj_key_enc = raw[0], raw[1], raw[2]
    if seed ^ version_enc != 2:
        raise VbaProjectError(f"encrypted data has version {seed ^ version_enc}, expected 2")
    proj_key = seed ^ proj_key_enc
    unencrypted1, encrypted1, encrypted2 = proj_key, proj_key_enc, version_enc
    plain = bytearray()
    for enc in raw[3:]:
        byte = enc ^ ((encrypted2 + unencrypted1) & 0xFF)
        plain.append(byte)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte
    ignored = (seed & 6) // 2
    (length,) = struct.unpack("<I", plain[ignored : ignored + 4])
    data = bytes(plain[ignored + 4 :])
    if len(data) != length:
        raise VbaProjectError(f"encrypted data declares {length} bytes but holds {len(data)}")
    return data


# --------------------------------------------------------------------------------------------
# Modules and the project.
# --------------------------------------------------------------------------------------------


class ModuleKind(Enum):
    """The three kinds of module a VBA project for Excel holds."""

    DOCUMENT = "Document"  # ThisWorkbook and one per sheet; names are the codeNames
    STANDARD = "Module"
    CLASS = "Class"


@dataclass(frozen=True)
class Module:
    """One module: its name, kind and complete source (attribute lines included, CRLF)."""

    name: str
    kind: ModuleKind
    source: str


@dataclass(frozen=True)
class Reference:
    """A registered type-library reference (REFERENCEREGISTERED, §2.3.4.2.2.5).

    ``libid`` is the full LibidReference text, e.g.
    ``*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\\Windows\\System32\\stdole2.tlb#OLE Automation``.
    """

    name: str
    libid: str


STDOLE = Reference(
    "stdole",
    "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\\Windows\\System32\\stdole2.tlb#OLE Automation",
)
"""The OLE Automation library that Excel references in every new project (optional)."""


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _check_identifier(name: str, what: str) -> None:
    if not _IDENTIFIER.match(name):
        raise VbaProjectError(
            f"{what} {name!r} must start with a letter and have at most 31 letters, digits or underscores"
        )


def document_module(name: str, base: str = WORKSHEET_BASE, code: str = "") -> Module:
    """A document module (``ThisWorkbook`` with :data:`WORKBOOK_BASE`, or a sheet's codeName).

    The attribute lines are those Excel writes for an empty workbook or sheet module.
    """
    _check_identifier(name, "document module name")
    header = (
        f'Attribute VB_Name = "{name}"\r\n'
        f'Attribute VB_Base = "{base}"\r\n'
        "Attribute VB_GlobalNameSpace = False\r\n"
        "Attribute VB_Creatable = False\r\n"
        "Attribute VB_PredeclaredId = True\r\n"
        "Attribute VB_Exposed = True\r\n"
        "Attribute VB_TemplateDerived = False\r\n"
        "Attribute VB_Customizable = True\r\n"
    )
    return Module(name, ModuleKind.DOCUMENT, header + _crlf(code))


def standard_module(name: str, code: str) -> Module:
    """A standard module from its body, or from an exported ``.bas`` that starts with ``Attribute VB_Name``.

    An exported file's own ``Attribute VB_Name`` line is kept only when it names ``name``.
    """
    _check_identifier(name, "module name")
    code = _crlf(code)
    first, _, rest = code.partition("\r\n")
    if first.startswith("Attribute VB_Name"):
        if first != f'Attribute VB_Name = "{name}"':
            raise VbaProjectError(f"exported module names itself {first!r}, expected {name!r}")
        code = rest
    return Module(name, ModuleKind.STANDARD, f'Attribute VB_Name = "{name}"\r\n' + code)


def class_module(name: str, exported: str) -> Module:
    """A class module from an exported ``.cls`` file, stored as the VBA editor would import it.

    An exported class starts with ``VERSION 1.0 CLASS`` and a ``BEGIN … END`` block; those lines
    exist only in export files and are dropped. The editor stores ``VB_Base`` right after
    ``VB_Name`` and ``VB_TemplateDerived``/``VB_Customizable`` after ``VB_Exposed``, so they are
    added where missing (this matches a class module saved by Excel).
    """
    _check_identifier(name, "class name")
    lines = _crlf(exported).split("\r\n")
    if lines and lines[0].startswith("VERSION "):
        end = lines.index("END")
        lines = lines[end + 1 :]
    if not lines or lines[0] != f'Attribute VB_Name = "{name}"':
        raise VbaProjectError(f'class source must start with Attribute VB_Name = "{name}"')
    attributes = [line for line in lines if line.startswith("Attribute VB_")]
    if not any(a.startswith("Attribute VB_Base") for a in attributes):
        lines.insert(1, f'Attribute VB_Base = "{CLASS_BASE}"')
    exposed = next((i for i, line in enumerate(lines) if line.startswith("Attribute VB_Exposed")), None)
    if exposed is not None and not any(a.startswith("Attribute VB_TemplateDerived") for a in attributes):
        lines[exposed + 1 : exposed + 1] = [
            "Attribute VB_TemplateDerived = False",
            "Attribute VB_Customizable = False",
        ]
    return Module(name, ModuleKind.CLASS, "\r\n".join(lines))


def _record(record_id: int, payload: bytes) -> bytes:
    """A dir-stream record: Id (2 bytes), Size (4 bytes), payload."""
    return struct.pack("<HI", record_id, len(payload)) + payload


def _text_record(record_id: int, unicode_id: int, text: str, codec: str) -> bytes:
    """A record in MBCS followed by its UTF-16 twin, as most dir-stream strings are stored."""
    return _record(record_id, text.encode(codec)) + _record(unicode_id, text.encode("utf-16-le"))


def _dir_stream(
    project_name: str, modules: Sequence[Module], references: Sequence[Reference], code_page: int, codec: str
) -> bytes:
    """The decompressed ``dir`` stream (§2.3.4.2): information, references, modules, terminator."""
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 1))  # PROJECTSYSKIND: Win32; compiled state is ignored
    out += _record(0x0002, struct.pack("<I", 0x409))  # PROJECTLCID: MUST be 0x409
    out += _record(0x0014, struct.pack("<I", 0x409))  # PROJECTLCIDINVOKE: MUST be 0x409
    out += _record(0x0003, struct.pack("<H", code_page))  # PROJECTCODEPAGE
    out += _record(0x0004, project_name.encode(codec))  # PROJECTNAME
    out += _text_record(0x0005, 0x0040, "", codec)  # PROJECTDOCSTRING
    out += _record(0x0006, b"") + _record(0x003D, b"")  # PROJECTHELPFILEPATH (twice, both empty)
    out += _record(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    # PROJECTVERSION: its Size field says 4 but 6 bytes follow (major u32, minor u16).
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)
    out += _text_record(0x000C, 0x003C, "", codec)  # PROJECTCONSTANTS

    for ref in references:
        out += _text_record(0x0016, 0x003E, ref.name, codec)  # REFERENCENAME
        libid = ref.libid.encode(codec)
        body = struct.pack("<I", len(libid)) + libid + struct.pack("<IH", 0, 0)
        out += _record(0x000D, body)  # REFERENCEREGISTERED

    out += struct.pack("<HIH", 0x000F, 2, len(modules))  # PROJECTMODULES: count
    out += struct.pack("<HIH", 0x0013, 2, 0xFFFF)  # PROJECTCOOKIE: ignored on read
    for module in modules:
        out += _record(0x0019, module.name.encode(codec))  # MODULENAME
        out += _record(0x0047, module.name.encode("utf-16-le"))  # MODULENAMEUNICODE
        out += _text_record(0x001A, 0x0032, module.name, codec)  # MODULESTREAMNAME: stream = name
        out += _text_record(0x001C, 0x0048, "", codec)  # MODULEDOCSTRING
        out += _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: 0, no p-code before the source
        out += _record(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += struct.pack("<HIH", 0x002C, 2, 0xFFFF)  # MODULECOOKIE: ignored on read
        # MODULETYPE: 0x0021 procedural (standard), 0x0022 document, class or designer.
        out += struct.pack("<HI", 0x0021 if module.kind is ModuleKind.STANDARD else 0x0022, 0)
        out += struct.pack("<HI", 0x002B, 0)  # module terminator
    out += struct.pack("<HI", 0x0010, 0)  # dir stream terminator
    return bytes(out)


def _project_stream(
    project_id: str, project_name: str, modules: Sequence[Module], codec: str, rng: random.Random
) -> bytes:
    """The ``PROJECT`` stream text (§2.3.1), CRLF line ends, in the project code page."""
    # Protection state none (4 zero bytes); no password (one 0x00 byte); visible (0xFF).
    cmg = encrypt(struct.pack("<I", 0), project_id, rng)
    dpb = encrypt(bytes([0x00]), project_id, rng)
    gc = encrypt(bytes([0xFF]), project_id, rng)
    lines = [f'ID="{project_id}"']
    for module in modules:
        if module.kind is ModuleKind.DOCUMENT:
            lines.append(f"Document={module.name}/&H00000000")
        else:
            lines.append(f"{module.kind.value}={module.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{cmg}"',
        f'DPB="{dpb}"',
        f'GC="{gc}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
        *(f"{module.name}=0, 0, 0, 0, C" for module in modules),
    ]
    return ("\r\n".join(lines) + "\r\n").encode(codec)


def _projectwm_stream(modules: Sequence[Module], codec: str) -> bytes:
    """``PROJECTwm`` (§2.3.3): each module name in MBCS and UTF-16, null-terminated, then 0x0000."""
    out = bytearray()
    for module in modules:
        out += module.name.encode(codec) + b"\x00" + module.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


def build_vba_project(
    modules: Sequence[Module],
    *,
    project_name: str = "VBAProject",
    code_page: int = 932,
    references: Sequence[Reference] = (),
    project_id: str | None = None,
) -> bytes:
    """Return the bytes of a source-only ``vbaProject.bin`` holding ``modules``.

    ``modules`` must hold the document module ``ThisWorkbook`` (or whatever the workbook's
    ``codeName`` is) and one document module per sheet, named like the sheet's ``codeName``.
    ``code_page`` is the project code page (932 is what a Japanese Excel writes; 1252 a western
    one); all names and sources must be encodable in it. ``references`` lists type libraries
    beyond the implicit VBA and Excel ones; none are needed for late-bound code.
    ``project_id`` is the ``{GUID}`` of the PROJECT stream; by default it is derived from the
    module names and sources, so the same input gives the same bytes.

    Raises :class:`VbaProjectError` for a bad or duplicate module name, text that the code page
    cannot encode, or source that cannot be compressed.
    """
    codec = f"cp{code_page}"
    _check_identifier(project_name, "project name")
    names = [m.name.upper() for m in modules]
    if len(set(names)) != len(names):
        raise VbaProjectError(f"module names must be unique (case-insensitive): {[m.name for m in modules]}")
    if not any(m.kind is ModuleKind.DOCUMENT for m in modules):
        raise VbaProjectError("an Excel project needs the workbook's document module (ThisWorkbook)")
    for module in modules:
        _check_identifier(module.name, "module name")
        if not module.source.startswith(f'Attribute VB_Name = "{module.name}"'):
            raise VbaProjectError(f"module {module.name!r} must start with its Attribute VB_Name line")
    if project_id is None:
        digest_input = "\n".join(f"{m.kind.value}:{m.name}:{m.source}" for m in modules)
        project_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "xlplan-vba:" + digest_input)).upper() + "}"
    rng = random.Random(project_id)  # obfuscation bytes: arbitrary, but stable for stable output

    try:
        module_streams = {m.name: compress(m.source.encode(codec)) for m in modules}
        dir_stream = compress(_dir_stream(project_name, modules, references, code_page, codec))
        project = _project_stream(project_id, project_name, modules, codec, rng)
        projectwm = _projectwm_stream(modules, codec)
    except UnicodeEncodeError as exc:
        raise VbaProjectError(f"text cannot be encoded in code page {code_page}: {exc}") from exc

    # _VBA_PROJECT: Reserved1 0x61CC, Version 0xFFFF (source only), Reserved2 0x00, Reserved3
    # 0x0001 as in the spec's example (§3.1.1), and no PerformanceCache.
    vba_project = struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0001)
    return write_compound_file(
        {
            "PROJECT": project,
            "PROJECTwm": projectwm,
            "VBA": {"_VBA_PROJECT": vba_project, "dir": dir_stream, **module_streams},
        }
    )
