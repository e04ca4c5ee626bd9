"""An Office Open XML package opened under the limits: zip checks before inflating, parts, relationships.

The entry count, the total uncompressed size and each entry's compression ratio are
checked from the zip's central directory (:class:`~xlplan.collection.read.limits.Limits`),
so a zip bomb is refused before any of it is inflated. Small parts (workbook, relationships,
content types) are parsed with defusedxml, which refuses DTDs and entities outright.
"""

from __future__ import annotations

import functools
import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import IO, Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from xlplan.collection.read.limits import Limits, Refused, mb
from xlplan.collection.read.sheets import SheetData, SheetReader, prolog_is_safe, tag_name
from xlplan.collection.snapshot import Snapshot
from xlplan.findings import Finding, Phrase
from xlplan.form import layout, manifest

REL_ID = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
)


class Package:
    """An OOXML package opened under the limits: its zip, parts and sheets."""

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.data = data
        self.limits = limits
        self._check_directory()
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, EOFError, struct.error) as exc:
            raise Refused("file-damaged", detail=str(exc)[:200]) from exc
        infos = self.zip.infolist()
        self._check_entries(infos)
        self.parts = {info.filename.lower(): info.filename for info in infos}
        self.workbook = "xl/workbook.xml"  # the workbook part, lower case: set from the relationships
        self._relations: dict[str, dict[str, tuple[str, str, str]]] = {}  # parsed once per part
        self._check_kind()

    # -- limits and kind -------------------------------------------------------------

    def _check_directory(self) -> None:
        """The entry count from the end-of-central-directory record, before zipfile parses it all."""
        data = self.data
        end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
        if end < 0 or end + 22 > len(data):
            raise Refused("file-damaged", detail="no zip central directory (truncated?)")
        (entries,) = struct.unpack_from("<H", data, end + 10)
        # 0xFFFF means a ZIP64 count: no workbook needs that many parts.
        if entries > self.limits.max_entries:
            raise Refused("file-zip-bomb", detail=f"{entries} entries > {self.limits.max_entries}")

    def _check_entries(self, infos: Sequence[zipfile.ZipInfo]) -> None:
        limits = self.limits
        if len(infos) > limits.max_entries:
            raise Refused("file-zip-bomb", detail=f"{len(infos)} entries > {limits.max_entries}")
        total = sum(info.file_size for info in infos)
        if total > limits.max_uncompressed_bytes:
            raise Refused(
                "file-zip-bomb",
                detail=f"uncompressed {mb(total)} MB > {mb(limits.max_uncompressed_bytes)} MB",
            )
        for info in infos:
            if info.file_size >= limits.ratio_min_bytes and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                ratio = info.file_size / max(info.compress_size, 1)
                raise Refused("file-zip-bomb", detail=f"{info.filename}: ratio {ratio:.0f}:1")
            if info.flag_bits & 0x1:
                raise Refused("file-damaged", detail=f"{info.filename}: zip encryption")
        names = [info.filename.lower() for info in infos]
        if len(set(names)) != len(names):
            # Two parts of one name: readers would disagree on which one counts.
            raise Refused("file-damaged", detail="duplicate zip entry names")

    def _check_kind(self) -> None:
        parts = self.parts
        if "mimetype" in parts:
            mimetype = self._part("mimetype", cap=200)
            if mimetype.startswith(b"application/vnd.oasis.opendocument"):
                raise Refused("file-ods")
        main = self._main_part()
        if (main is not None and main.endswith(".bin")) or "xl/workbook.bin" in parts:
            raise Refused("file-xlsb")
        if "[content_types].xml" not in parts or main is None:
            if "word/document.xml" in parts:
                raise Refused("file-not-workbook", kind=Phrase("kind-word"))
            if "ppt/presentation.xml" in parts:
                raise Refused("file-not-workbook", kind=Phrase("kind-powerpoint"))
            raise Refused("file-not-workbook", kind=Phrase("kind-zip"))
        self.workbook = main

    def _main_part(self) -> str | None:
        """The workbook part (lower case): the package's officeDocument relationship names it.

        Excel and LibreOffice put it at ``xl/workbook.xml``, but the package's relationships,
        not the name, are what says where it is; other writers put it elsewhere
        (``wtf/workbook.xml`` in SheetJS's test files).
        """
        for kind, target, mode in self._relationships("").values():
            if kind.endswith("/officeDocument") and mode != "External":
                resolved = self._resolve("", target)
                if resolved in self.parts:
                    return resolved
        return "xl/workbook.xml" if "xl/workbook.xml" in self.parts else None

    def related(self, kind: str, default: str) -> str:
        """The part the workbook relates to by ``kind`` (``styles``, ``sharedStrings``), else ``default``."""
        for relation, target, mode in self._relationships(self.parts[self.workbook]).values():
            if relation.endswith("/" + kind) and mode != "External":
                return self._resolve(self.workbook, target)
        return default

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
            raise Refused("file-damaged", detail=f"{name}: {exc}"[:200]) from exc

    def _open(self, lowered: str) -> IO[bytes]:
        return self.zip.open(self.parts[lowered])

    def _xml(self, lowered: str) -> Element:
        """A small part parsed with defusedxml (DTDs and entities refused); the tree is only read."""
        data = self._part(lowered)
        try:
            root = _parsed(data) if len(data) <= _CACHED_PART_BYTES else _parse(data)
        except DefusedXmlException as exc:
            raise Refused("file-xml-unsafe", part=self.parts[lowered]) from exc
        except ParseError as exc:
            raise Refused("file-workbook-unreadable", detail=f"{self.parts[lowered]}: {exc}"[:200]) from exc
        return root

    def _relationships(self, source: str) -> dict[str, tuple[str, str, str]]:
        """The relationships of part ``source`` (``""`` for the package's): id → (type, target, target mode)."""
        # The workbook's are asked for five times per file (styles, strings, sheets, links): parsed once.
        cached = self._relations.get(source)
        if cached is None:
            cached = self._relations[source] = self._parse_relationships(source)
        return cached

    def _parse_relationships(self, source: str) -> dict[str, tuple[str, str, str]]:
        folder, _, base = source.rpartition("/")
        rels = f"{folder}/_rels/{base}.rels".lower() if folder else f"_rels/{base}.rels".lower()
        if rels not in self.parts:
            return {}
        found = {}
        for element in self._xml(rels):
            if tag_name(element.tag) == "Relationship":
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

    def snapshot(self, name: str) -> Wire:
        """The workbook reduced to what a :class:`Snapshot` holds (calamine opened only when needed)."""
        sheets = self._sheets()
        if not sheets:
            raise Refused("file-no-sheets")
        has_vba = any(part.endswith("vbaproject.bin") for part in self.parts)
        content_types = self._part("[content_types].xml")
        if not prolog_is_safe(content_types[:4096]):
            raise Refused("file-xml-unsafe", part=self.parts["[content_types].xml"])
        kind: Literal["xlsx", "xlsm"] = "xlsm" if has_vba or b"macroEnabled" in content_types else "xlsx"
        # Parts python-calamine parses with its own XML reader must carry no DTD either.
        for part in (
            self.related("sharedStrings", "xl/sharedstrings.xml"),
            self.related("styles", "xl/styles.xml"),
        ):
            if part in self.parts and not prolog_is_safe(self._part(part, cap=4096)):
                raise Refused("file-xml-unsafe", part=self.parts[part])
        findings: list[Finding] = []
        reader = SheetReader(self, name, findings)

        manifest_chunks: tuple[str, ...] | None = None
        manifest_part = next((part for sheet, part, _ in sheets if sheet == layout.MANIFEST_SHEET), None)
        if manifest_part is not None:
            manifest_chunks = reader.manifest(layout.MANIFEST_SHEET, manifest_part)
        rows, columns = self._bounds(manifest_chunks)

        response: SheetData | None = None
        worksheets = [(sheet, part) for sheet, part, is_worksheet in sheets if is_worksheet and part]
        chosen = next(((s, p) for s, p in worksheets if s == layout.RESPONSE_SHEET), None)
        if chosen is None and worksheets:
            chosen = next(((s, p) for s, p in worksheets if s != layout.MANIFEST_SHEET), None)
        if chosen is not None:
            response = reader.sheet(chosen[0], chosen[1], rows, columns)
        return Wire(
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
        root = self._xml(self.workbook)
        if tag_name(root.tag) != "workbook":
            raise Refused("file-workbook-unreadable", detail=f"{self.parts[self.workbook]} is not a workbook")
        relationships = self._relationships(self.parts[self.workbook])
        found: list[tuple[str, str | None, bool]] = []
        for element in root.iter():
            if tag_name(element.tag) != "sheet":
                continue
            rel_id = next((element.get(key) for key in REL_ID if element.get(key)), None)
            relation = relationships.get(rel_id or "")
            part = None
            is_worksheet = False
            if relation is not None and relation[2] != "External":
                resolved = self._resolve(self.workbook, relation[1])
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
                data = manifest.parse_json("".join(chunks))
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
        related = {
            self._resolve(self.workbook, target)
            for kind, target, mode in self._relationships(self.parts[self.workbook]).values()
            if kind.endswith("/externalLink") and mode != "External"
        }
        for lowered in sorted(self.parts):
            if lowered not in related and not ("externallinks/" in lowered and lowered.endswith(".xml")):
                continue
            if "/_rels/" in lowered:
                continue
            source = self.parts[lowered]
            relationships = self._relationships(source)
            root = self._xml(lowered)
            for element in root:
                local = tag_name(element.tag)
                if local == "ddeLink":
                    links.append(f"DDE:{element.get('ddeService', '')}|{element.get('ddeTopic', '')}")
                elif local in ("externalBook", "oleLink"):
                    rel_id = next((element.get(key) for key in REL_ID if element.get(key)), "")
                    target = relationships.get(rel_id or "", ("", source, ""))[1]
                    prefix = "OLE:" + element.get("progId", "") + "|" if local == "oleLink" else ""
                    links.append(prefix + target)
            if not any(tag_name(element.tag) in ("ddeLink", "externalBook", "oleLink") for element in root):
                links.append(source)
        return tuple(links)


_CACHED_PART_BYTES = 64 * 1024


def _parse(data: bytes) -> Element:
    root: Element = SafeET.fromstring(data, forbid_dtd=True)
    return root


# The returns of one distribution carry the same workbook, relationship and content-type parts, byte
# for byte: each distinct part is parsed once per worker. A tree depends on nothing but its bytes, and
# callers only read it; a part that fails to parse raises again each time (failures are not kept).
_parsed = functools.lru_cache(maxsize=32)(_parse)


@dataclass(frozen=True)
class Wire:
    """What a worker sends back for a readable file: the snapshot without its cells, and the cells."""

    snapshot: Snapshot
    response: SheetData | None

    def assemble(self) -> Snapshot:
        """The complete :class:`Snapshot`."""
        if self.response is None:
            return self.snapshot
        return replace(self.snapshot, response=self.response.sheet_read())
