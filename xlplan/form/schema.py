"""The JSON Schema of a department return: the form's contract for what collection reads back.

The schema (``schemas/return.schema.json``, versioned by its ``$id``) describes a return
as plain JSON — which plan, year, round and department it answers, and one record per
row read. Checking applies it to every returned file, so it is applied twice here:

- :func:`is_valid`: the whole document at once with a validator *compiled* from the
  schema by fastjsonschema when first used (about 0.15 ms for 69 rows, some twenty times
  faster than walking the schema), which is the answer for almost every file;
- :func:`schema_problems`: only for a document that is not valid, every error with
  jsonschema's ``iter_errors``, which names each failing field and keyword.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

SCHEMA_FILE = "return.schema.json"


@functools.cache
def return_schema() -> dict[str, Any]:
    """The JSON Schema of a department return, as shipped in the package."""
    text = resources.files("xlplan.form").joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_id() -> str:
    """The schema's ``$id``, which carries its version (``xlplan/return/1``)."""
    return str(return_schema()["$id"])


@functools.cache
def _compiled() -> Callable[[Any], Any]:
    # Without its relative $id, the schema's $refs resolve inside the document: fastjsonschema would
    # otherwise try to fetch "xlplan/return/1" as a URL. The $id names the version; it validates nothing.
    schema = {key: value for key, value in return_schema().items() if key != "$id"}
    validate: Callable[[Any], Any] = fastjsonschema.compile(schema)
    return validate


def is_valid(document: Mapping[str, Any]) -> bool:
    """True when ``document`` satisfies the return schema (the compiled fast path)."""
    try:
        _compiled()(document)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def prepare() -> None:
    """Compile the validators now (before worker processes are forked, so that each has them)."""
    _compiled()
    _validator()
    _row_validator()


@functools.cache
def _validator() -> Draft202012Validator:
    schema = return_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@dataclass(frozen=True)
class SchemaProblem:
    """One schema error, reduced to what a finding needs."""

    path: tuple[str | int, ...]  # ("rows", 3, "narrative") or ("plan",)
    keyword: str  # the schema keyword that failed: type, maxLength, pattern …
    limit: Any  # the keyword's value in the schema (2000, ["string", "null"], a pattern …)
    instance: Any  # the value that failed


def schema_problems(document: Mapping[str, Any]) -> list[SchemaProblem]:
    """Every error of ``document`` against the return schema, in document order; empty when valid.

    A valid document costs one call of the compiled validator. Otherwise each row is
    tested on its own with the schema's row definition, and only the invalid rows, and
    the document without its rows, are walked for their errors.
    """
    if is_valid(document):
        return []
    data = dict(document)
    rows = data.get("rows")
    row_validator = _row_validator()
    if isinstance(rows, list) and row_validator is not None:
        errors = list(_validator().iter_errors({**data, "rows": []}))
        for index, row in enumerate(rows):
            if not row_validator.is_valid(row):
                errors += [_prefixed(error, index) for error in row_validator.iter_errors(row)]
    else:
        errors = list(_validator().iter_errors(data))
    problems = [
        SchemaProblem(tuple(error.absolute_path), str(error.validator), error.validator_value, error.instance)
        for error in errors
    ]
    return sorted(problems, key=lambda problem: [str(part).zfill(8) for part in problem.path])


@functools.cache
def _row_validator() -> Draft202012Validator | None:
    """A validator of one row: the schema's ``rows.items`` with the schema's ``$defs``; None if not local."""
    schema = return_schema()
    items = schema.get("properties", {}).get("rows", {}).get("items")
    if not isinstance(items, dict):
        return None
    return Draft202012Validator({**items, "$defs": schema.get("$defs", {})})


def _prefixed(error: Any, index: int) -> Any:
    """A row validator's error as if it came from validating the whole document."""
    error.path.extendleft(reversed(["rows", index]))
    return error
