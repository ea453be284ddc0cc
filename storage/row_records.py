"""The rows every query of both backends selects, as the records they hold: an invitation, and
an alert's card. Plain SQL (no placeholders) and pure mapping, so one copy serves both."""

from __future__ import annotations

import json

from survey_flows.models import Invitation, InvitationStatus, Phase, Position

from .records import AlertState, AlertView, ReopenReason
from .rows import ColumnTypes, Row, from_row, or_none
from .timestamps import from_db

INVITATION_COLUMNS = (
    "id, event_id, event_type, survey, customer_id, context, created_at, send_at, status, step,"
    " phase, prompt_sent, message_id, sent_at, finished_at, note"
)


_INVITATION_TYPES: ColumnTypes = {
    "context": json.loads,
    "created_at": from_db,
    "send_at": from_db,
    "status": InvitationStatus,
    "prompt_sent": bool,
    "sent_at": from_db,
    "finished_at": from_db,
}


def invitation_of(row: Row) -> Invitation:
    position = Position(row["step"], Phase(row["phase"]))
    return from_row(Invitation, row, _INVITATION_TYPES, position=position)


# An alert's card; callers add `WHERE ...` over `alerts a`.
ALERT_VIEW_SQL = """
SELECT a.id, a.status, a.chat_id, a.message_id, a.digest_message_id, a.invitation_id,
       a.customer_id, c.name AS customer_name, c.username AS customer_username,
       c.language AS customer_language, i.survey, i.event_type, an.question_index, an.metric,
       an.score, an.comment, an.comment_kind, an.comment_file_id, i.context, a.created_at,
       a.owner_id, a.owner_name, a.taken_at, a.resolved_by_name, a.resolved_at, a.escalated_at,
       a.recheck_sent_at, a.recheck_solved, a.delivery_note, a.erased_at, a.reopened_at,
       a.reopen_reason, a.reason, c.opted_out_at AS customer_opted_out_at,
       c.unreachable_at AS customer_unreachable_at
FROM alerts a
JOIN answers an ON an.id = a.answer_id
JOIN invitations i ON i.id = a.invitation_id
LEFT JOIN customers c ON c.telegram_id = a.customer_id
"""


_VIEW_TYPES: ColumnTypes = {
    "status": AlertState,
    "context": json.loads,
    "created_at": from_db,
    "taken_at": from_db,
    "resolved_at": from_db,
    "escalated_at": from_db,
    "recheck_sent_at": from_db,
    "recheck_solved": or_none(bool),
    "reopened_at": from_db,
    "reopen_reason": or_none(ReopenReason),
}


def alert_view_of(row: Row) -> AlertView:
    return from_row(
        AlertView,
        row,
        _VIEW_TYPES,
        erased=row["erased_at"] is not None,
        customer_opted_out=row["customer_opted_out_at"] is not None,
        customer_unreachable=row["customer_unreachable_at"] is not None,
    )
