"""The signed manifest of a department workbook: what was sent, to whom, for which year and round.

The manifest travels inside the workbook (a very hidden sheet), so a returned
file is identified whatever its name. It is signed with HMAC-SHA256 under the
workspace's key, which never leaves the workspace: a department cannot forge
or edit it, and a manifest from another workspace does not verify.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

FORMAT = 1
CELL_LIMIT = 32_000
"""Characters per cell when the JSON is spread over column A (Excel's limit is 32,767)."""


@dataclass(frozen=True)
class ManifestRow:
    """One row sent: where it is, what it is, and a hash of the prefilled (locked) cells."""

    row_id: str
    row: int  # the sheet row it was written to
    project_no: int
    entry: str
    department: str  # the member as printed in the plan
    prefill_sha256: str


# A manifest has a row per project share: fields() on each row cost more than copying it.
_ROW_FIELDS = tuple(item.name for item in fields(ManifestRow))


@dataclass(frozen=True)
class Manifest:
    """What a department workbook was issued as."""

    plan: str
    fiscal_year: int  # western year the fiscal year starts in
    department: str  # registry name
    round: int
    template_version: str
    issued_at: str
    columns: tuple[str, ...]  # column keys in sheet order
    rows: tuple[ManifestRow, ...]
    workspace_id: str = ""  # distinguishes workspaces of the same plan
    format: int = FORMAT
    signature: str = field(default="", compare=False)

    def payload(self) -> dict[str, Any]:
        """Everything but the signature, as JSON data."""
        # Shallow copies: asdict() deep-copies recursively and dominated the cost of writing a workbook.
        data = {item.name: getattr(self, item.name) for item in fields(self) if item.name != "signature"}
        data["columns"] = list(self.columns)
        data["rows"] = [{name: getattr(row, name) for name in _ROW_FIELDS} for row in self.rows]
        return data


def workspace_id(key: bytes) -> str:
    """A public id of the workspace derived from its signing key (the key itself cannot be recovered)."""
    return hashlib.sha256(b"xlplan-workspace-id:" + key).hexdigest()[:16]


# The JSON text of a list of strings and nulls as json.dumps(..., ensure_ascii=False) writes it
# ("[", items joined by ", ", "]"), each string by the json module's own string encoder: the
# encoder's machinery around it cost more than the strings, for every row of every return.
_STRING = json.encoder.encode_basestring


def prefill_hash(values: Sequence[object]) -> str:
    """SHA-256 of the prefilled cells of a row, as their JSON text (``None`` for empty)."""
    text = "[" + ", ".join("null" if value is None else _STRING(str(value)) for value in values) + "]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _signed(manifest: Manifest, key: bytes) -> tuple[Manifest, bytes]:
    """The manifest with its HMAC-SHA256 signature set, and the canonical JSON that was signed."""
    canonical = _canonical(manifest.payload())
    signature = hmac.new(key, canonical, hashlib.sha256).hexdigest()
    return Manifest(**{**manifest.__dict__, "signature": signature}), canonical


def sign(manifest: Manifest, key: bytes) -> Manifest:
    """The manifest with its HMAC-SHA256 signature set."""
    return _signed(manifest, key)[0]


def verify(manifest: Manifest, key: bytes) -> bool:
    """True when the signature matches the content under ``key`` (constant-time comparison)."""
    return hmac.compare_digest(sign(manifest, key).signature, manifest.signature)


_SIGNED_TAIL = re.compile(r',"signature":"([0-9a-f]{64})"\}\Z')


def verify_text(chunks: Sequence[str], key: bytes) -> bool:
    """True when the manifest's text is what :func:`sign_and_dump` wrote under ``key``.

    The signed canonical JSON is the text itself, less the signature member added at its end:
    its HMAC is checked as it stands, without encoding the manifest again. The text of
    :func:`dumps` (an older workbook), or any text not in that form, gives False: check such
    a manifest with :func:`verify`. True proves the text was signed, and :func:`loads` of
    the same chunks is what was signed.
    """
    text = "".join(chunks)
    tail = _SIGNED_TAIL.search(text)
    if tail is None:
        return False
    signed = text[: tail.start()] + "}"
    expected = hmac.new(key, signed.encode("utf-8"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, tail.group(1))


def dumps(manifest: Manifest) -> list[str]:
    """The signed manifest as JSON, cut into chunks that fit one cell each (column A, from A1)."""
    return _chunks(json.dumps({**manifest.payload(), "signature": manifest.signature}, ensure_ascii=False))


def sign_and_dump(manifest: Manifest, key: bytes) -> tuple[Manifest, list[str]]:
    """:func:`sign` and :func:`dumps` in one: the signed manifest and its chunks.

    The payload is made and encoded once (a department workbook's rows are most of it): the
    text is the signed canonical JSON with the signature added as its last member, which
    :func:`loads` reads as it reads the text of :func:`dumps`.
    """
    signed, canonical = _signed(manifest, key)
    text = canonical.decode("utf-8")[:-1] + f',"signature":"{signed.signature}"}}'
    return signed, _chunks(text)


def _chunks(text: str) -> list[str]:
    # Excel limits a cell to 32,767 UTF-16 units, and a character beyond the BMP (𠮷) takes two:
    # a chunk of such text holds half as many characters, so that no cell is cut short.
    size = CELL_LIMIT if not text or max(text) <= "\uffff" else CELL_LIMIT // 2
    return [text[start : start + size] for start in range(0, len(text), size)] or [""]


# Reading a return parses its manifest's JSON for the sheet's bounds, then identification loads it:
# the same text, parsed once. The data is only read; text that is not JSON raises each time.
parse_json = functools.lru_cache(maxsize=2)(json.loads)
"""``json.loads`` of a manifest's text, remembered for the last two texts (do not modify the result)."""


class ManifestError(ValueError):
    """The manifest text is not a manifest of this format."""


def loads(chunks: Sequence[str]) -> Manifest:
    """Rebuild a manifest from the chunks :func:`sign_and_dump` or :func:`dumps` wrote. Does not verify the signature.

    Raises:
        ManifestError: not JSON, or not a manifest of a known format.
    """
    try:
        data = parse_json("".join(chunks))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ManifestError("unknown manifest format")
        rows = tuple(ManifestRow(**row) for row in data["rows"])
        return Manifest(
            plan=str(data["plan"]),
            fiscal_year=int(data["fiscal_year"]),
            department=str(data["department"]),
            round=int(data["round"]),
            template_version=str(data["template_version"]),
            issued_at=str(data["issued_at"]),
            columns=tuple(str(key) for key in data["columns"]),
            rows=rows,
            workspace_id=str(data.get("workspace_id", "")),
            format=FORMAT,
            signature=str(data.get("signature", "")),
        )
    except ManifestError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ManifestError(str(exc)) from exc
