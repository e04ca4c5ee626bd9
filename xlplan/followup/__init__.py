"""Follow-up: 差し戻し票 for returns with errors, the status of every department, reminders (督促)."""

from xlplan.followup.feedback import FeedbackResult, write_feedback
from xlplan.followup.remind import RemindResult, remind
from xlplan.followup.status import StatusReport, status
from xlplan.followup.status_sheet import STATUS_WORKBOOK, save_status

__all__ = [
    "STATUS_WORKBOOK",
    "FeedbackResult",
    "RemindResult",
    "StatusReport",
    "remind",
    "save_status",
    "status",
    "write_feedback",
]
