"""One case per unhappy customer, as in storage/sqlite/alert_cases.py, on asyncpg.

Called inside the caller's transaction, which has already locked the invitation row (the
conversation's conditional UPDATE): two answers of one invitation are never joined to its case
at the same time, so "is there a case yet?" and the INSERT that follows cannot race.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from survey_flows.models import Invitation

from ..records import NewAlert, ReopenReason
from ..timestamps import to_db
from .alert_rows import log_action
from .database import changed


async def insert_alert(
    conn: asyncpg.Connection, answer_id: int, inv: Invitation, alert: NewAlert, now: datetime
) -> None:
    """The alert of a low answer, or the answer joins its invitation's alert (one per case)."""
    case = await _case_of(conn, inv.id)
    if case is not None:
        await _join_case(conn, case, answer_id, now)
        return
    alert_id = await conn.fetchval(
        "INSERT INTO alerts (answer_id, invitation_id, customer_id, chat_id, created_at,"
        " escalate_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        answer_id,
        inv.id,
        inv.customer_id,
        alert.chat_id,
        to_db(now),
        to_db(alert.escalate_at),
    )
    await log_action(conn, int(alert_id), None, None, "created", now)


async def redraw_case(conn: asyncpg.Connection, invitation_id: int) -> None:
    """The invitation's alert card, if it has one, must be drawn again (a comment came)."""
    await conn.execute("UPDATE alerts SET dirty = 1 WHERE invitation_id = $1", invitation_id)


async def reopen(
    conn: asyncpg.Connection, alert_id: int, reason: ReopenReason, now: datetime
) -> bool:
    """Back to taken (its owner kept) or open; asked again after the next Resolved."""
    status = await conn.execute(
        "UPDATE alerts SET status = CASE WHEN owner_id IS NULL THEN 'open' ELSE 'taken' END,"
        " reopened_at = $1, reopen_reason = $2, reopen_post = 1, dirty = 1,"
        " recheck_at = NULL, recheck_sent_at = NULL, recheck_solved = NULL,"
        " recheck_answered_at = NULL"
        " WHERE id = $3 AND status = 'resolved' AND erased_at IS NULL",
        to_db(now),
        reason.value,
        alert_id,
    )
    if changed(status) != 1:
        return False
    await log_action(conn, alert_id, None, None, "reopened", now)
    return True


async def _case_of(conn: asyncpg.Connection, invitation_id: int) -> int | None:
    found = await conn.fetchval(
        "SELECT id FROM alerts WHERE invitation_id = $1 ORDER BY id LIMIT 1", invitation_id
    )
    return None if found is None else int(found)


async def _join_case(
    conn: asyncpg.Connection, alert_id: int, answer_id: int, now: datetime
) -> None:
    """Another low answer of the invitation: on the same card; a resolved case reopens."""
    await conn.execute(
        "INSERT INTO alert_answers (alert_id, answer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        alert_id,
        answer_id,
    )
    await conn.execute("UPDATE alerts SET dirty = 1 WHERE id = $1", alert_id)
    await reopen(conn, alert_id, ReopenReason.LOW_AGAIN, now)
