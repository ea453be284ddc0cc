"""One case per unhappy customer: an answer's alert raised, joined or reopened, in a transaction.

The first low answer of an invitation raises its alert; later ones join it (`alert_answers`) and
the card is drawn again. A resolved alert comes back, owner kept, when the customer says "not
solved" at the re-check or answers low again; one line in its thread says so (`reopen_post`,
posted by the alert worker after the commit). Shared by the conversation (a score raises an
alert in the transaction that records it) and the alerts (the re-check's answer).
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from survey_flows.models import Invitation

from ..records import NewAlert, ReopenReason
from ..timestamps import to_db
from .alert_rows import log_action
from .rows import fetch_first, inserted_id


async def insert_alert(
    db: aiosqlite.Connection, answer_id: int, inv: Invitation, alert: NewAlert, now: datetime
) -> None:
    """The alert of a low answer, or the answer joins its invitation's alert (one per case)."""
    case = await _case_of(db, inv.id)
    if case is not None:
        await _join_case(db, case, answer_id, now)
        return
    cursor = await db.execute(
        "INSERT INTO alerts (answer_id, invitation_id, customer_id, chat_id, created_at,"
        " escalate_at) VALUES (?, ?, ?, ?, ?, ?)",
        (answer_id, inv.id, inv.customer_id, alert.chat_id, to_db(now), to_db(alert.escalate_at)),
    )
    await log_action(db, inserted_id(cursor), None, None, "created", now)


async def redraw_case(db: aiosqlite.Connection, invitation_id: int) -> None:
    """The invitation's alert card, if it has one, must be drawn again (a comment came)."""
    await db.execute("UPDATE alerts SET dirty = 1 WHERE invitation_id = ?", (invitation_id,))


async def reopen(
    db: aiosqlite.Connection, alert_id: int, reason: ReopenReason, now: datetime
) -> bool:
    """Back to taken (its owner kept) or open; asked again after the next Resolved."""
    cursor = await db.execute(
        "UPDATE alerts SET status = CASE WHEN owner_id IS NULL THEN 'open' ELSE 'taken' END,"
        " reopened_at = ?, reopen_reason = ?, reopen_post = 1, dirty = 1,"
        " recheck_at = NULL, recheck_sent_at = NULL, recheck_solved = NULL,"
        " recheck_answered_at = NULL"
        " WHERE id = ? AND status = 'resolved' AND erased_at IS NULL",
        (to_db(now), reason.value, alert_id),
    )
    if cursor.rowcount != 1:
        return False
    await log_action(db, alert_id, None, None, "reopened", now)
    return True


async def _case_of(db: aiosqlite.Connection, invitation_id: int) -> int | None:
    row = await fetch_first(
        db, "SELECT id FROM alerts WHERE invitation_id = ? ORDER BY id LIMIT 1", (invitation_id,)
    )
    return None if row is None else int(row[0])


async def _join_case(
    db: aiosqlite.Connection, alert_id: int, answer_id: int, now: datetime
) -> None:
    """Another low answer of the invitation: on the same card; a resolved case reopens."""
    await db.execute(
        "INSERT OR IGNORE INTO alert_answers (alert_id, answer_id) VALUES (?, ?)",
        (alert_id, answer_id),
    )
    await db.execute("UPDATE alerts SET dirty = 1 WHERE id = ?", (alert_id,))
    await reopen(db, alert_id, ReopenReason.LOW_AGAIN, now)
