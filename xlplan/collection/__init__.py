"""Collect: take in returned files, read them safely, identify and check them, accept the good ones.

- :mod:`~xlplan.collection.imap`: the office's IMAP mailbox into the inbox, each mail once;
- :mod:`~xlplan.collection.intake`: the inbox into the write-once archive, with ledger receipts;
- :mod:`~xlplan.collection.read`: untrusted files into bounded :class:`~xlplan.collection.snapshot.Snapshot` records;
- :mod:`~xlplan.collection.identify`: whose return it is, by its signed manifest, and where its rows are;
- :mod:`~xlplan.collection.check`: the return schema and the semantic rules, as findings on cells;
- :mod:`~xlplan.collection.run`: one collection run, and ``validate`` (the same checks, nothing taken in).
"""

from xlplan.collection.results import CollectResult, FileOutcome, Validation, ValidationResult
from xlplan.collection.run import collect, validate

__all__ = ["CollectResult", "FileOutcome", "Validation", "ValidationResult", "collect", "validate"]
