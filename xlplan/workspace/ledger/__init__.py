"""The ledger: a SQLite file in the workspace recording what was sent, received, checked and accepted.

The ledger is the memory of a cycle across runs and machines. Rows are only
added or marked, never deleted, so the history of a round can always be
reconstructed. Every SQL statement of xlplan is in this package:

- :mod:`~xlplan.workspace.ledger.schema`: the tables, opening and upgrading;
- :mod:`~xlplan.workspace.ledger.rounds`: rounds and the department registry;
- :mod:`~xlplan.workspace.ledger.dispatches`: requests, reminders and 差し戻し票 sent;
- :mod:`~xlplan.workspace.ledger.receipts`: files received, findings, acceptances, answers;
- :mod:`~xlplan.workspace.ledger.feedback_owed`: 差し戻し owed for returns with errors;
- :mod:`~xlplan.workspace.ledger.imap_messages`: mails taken from the office's IMAP mailbox;
- :mod:`~xlplan.workspace.ledger.rollovers`: closing a fiscal year.
"""

from xlplan.workspace.ledger.dispatches import (
    DispatchRecord,
    count_dispatches,
    dispatches,
    insert_dispatch,
    interrupted_sends,
    latest_request_file,
    mark_dispatch,
    mark_sending,
    record_dispatch,
    reminded_on,
    update_dispatch,
)
from xlplan.workspace.ledger.feedback_owed import (
    begun_feedback,
    drop_feedback,
    link_feedback,
    note_feedback,
    owed_feedback,
    owed_in_other_rounds,
    settle_feedback,
    superseded_feedback,
)
from xlplan.workspace.ledger.imap_messages import (
    ImapMessage,
    imap_messages,
    inbox_path_recorded,
    insert_imap_message,
    mark_imap_message,
)
from xlplan.workspace.ledger.receipts import (
    FirstReceipt,
    ReceiptRecord,
    accepted_answers,
    add_read_attempt,
    answer_count,
    answer_departments,
    awaiting_review,
    cell_errors,
    current_acceptance,
    decide,
    decisions_of,
    finding_counts,
    findings_of,
    first_receipt,
    insert_inbox_file,
    insert_receipt,
    later_verdict,
    latest_inbox_sha256,
    receipt,
    receipts_of,
    record_check,
    round_departments,
    signed_acceptance,
    unchecked_receipts,
    unidentified_since,
)
from xlplan.workspace.ledger.rollovers import (
    abandon_rollovers,
    begin_rollover,
    finish_rollover,
    pending_rollover,
    rolled_into,
    rolled_into_since,
    year_activity,
)
from xlplan.workspace.ledger.rounds import (
    current_round,
    ensure_round,
    find_round,
    first_opened,
    sync_departments,
)
from xlplan.workspace.ledger.schema import SCHEMA_VERSION, guarded, now, open_ledger, schema_version

__all__ = [
    "SCHEMA_VERSION",
    "DispatchRecord",
    "FirstReceipt",
    "ImapMessage",
    "ReceiptRecord",
    "abandon_rollovers",
    "accepted_answers",
    "add_read_attempt",
    "answer_count",
    "answer_departments",
    "awaiting_review",
    "begin_rollover",
    "begun_feedback",
    "cell_errors",
    "count_dispatches",
    "current_acceptance",
    "current_round",
    "decide",
    "decisions_of",
    "dispatches",
    "drop_feedback",
    "ensure_round",
    "find_round",
    "finding_counts",
    "findings_of",
    "finish_rollover",
    "first_opened",
    "first_receipt",
    "guarded",
    "imap_messages",
    "inbox_path_recorded",
    "insert_dispatch",
    "insert_imap_message",
    "insert_inbox_file",
    "insert_receipt",
    "interrupted_sends",
    "later_verdict",
    "latest_inbox_sha256",
    "latest_request_file",
    "link_feedback",
    "mark_dispatch",
    "mark_imap_message",
    "mark_sending",
    "note_feedback",
    "now",
    "open_ledger",
    "owed_feedback",
    "owed_in_other_rounds",
    "pending_rollover",
    "receipt",
    "receipts_of",
    "record_check",
    "record_dispatch",
    "reminded_on",
    "rolled_into",
    "rolled_into_since",
    "round_departments",
    "schema_version",
    "settle_feedback",
    "signed_acceptance",
    "superseded_feedback",
    "sync_departments",
    "unchecked_receipts",
    "unidentified_since",
    "update_dispatch",
    "year_activity",
]
