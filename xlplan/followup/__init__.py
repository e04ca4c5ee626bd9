"""Follow-up: 差し戻し票 for returns with errors, the status of every department, reminders (督促),
and the office's decision on returns that came without proof of their department (review)."""

from xlplan.followup.feedback import FeedbackResult, write_feedback
from xlplan.followup.remind import RemindResult, remind
from xlplan.followup.review import ReviewResult, decide, review
from xlplan.followup.status import StatusReport, status
from xlplan.followup.status_sheet import STATUS_WORKBOOK, save_status

__all__ = [
    "STATUS_WORKBOOK",
    "FeedbackResult",
    "RemindResult",
    "ReviewResult",
    "StatusReport",
    "decide",
    "remind",
    "review",
    "save_status",
    "status",
    "write_feedback",
]
