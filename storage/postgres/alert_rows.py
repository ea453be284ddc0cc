"""An alert's rows as the card's record, and its log of actions: as in storage/sqlite/alert_rows.py.

`where` clauses are written with asyncpg's `$n` placeholders, numbered from 1 in `params`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg

from ..records import AlertState, AlertView, LowAnswer, ReopenReason
from ..rows import ColumnTypes, from_row, or_none
from ..timestamps import from_db, to_db

_VIEW_SQL = """
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


def _view(row: asyncpg.Record) -> AlertView:
    return from_row(
        AlertView,
        row,
        _VIEW_TYPES,
        erased=row["erased_at"] is not None,
        customer_opted_out=row["customer_opted_out_at"] is not None,
        customer_unreachable=row["customer_unreachable_at"] is not None,
    )


async def views(conn: asyncpg.Connection, where: str, *params: Any) -> list[AlertView]:
    """The cards of the alerts `where` selects (SQL over `alerts a`), with their other answers."""
    found = [_view(r) for r in await conn.fetch(f"{_VIEW_SQL} WHERE {where}", *params)]
    more = await _more_answers(conn, [v.id for v in found])
    return [replace(v, more=more[v.id]) if v.id in more else v for v in found]


async def first_view(conn: asyncpg.Connection, where: str, *params: Any) -> AlertView | None:
    found = await views(conn, where, *params)
    return found[0] if found else None


async def _more_answers(
    conn: asyncpg.Connection, alert_ids: list[int]
) -> dict[int, tuple[LowAnswer, ...]]:
    if not alert_ids:
        return {}
    rows = await conn.fetch(
        "SELECT x.alert_id, an.question_index, an.metric, an.score, an.comment,"
        " an.comment_kind FROM alert_answers x JOIN answers an ON an.id = x.answer_id"
        " WHERE x.alert_id = ANY($1::bigint[]) ORDER BY an.question_index, an.id",
        alert_ids,
    )
    found: dict[int, list[LowAnswer]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(LowAnswer(*row[1:]))
    return {k: tuple(v) for k, v in found.items()}


async def log_action(
    conn: asyncpg.Connection,
    alert_id: int,
    actor_id: int | None,
    actor_name: str | None,
    action: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    """A line of the alert's history (`alert_actions`): who did what, when."""
    await conn.execute(
        "INSERT INTO alert_actions (alert_id, actor_id, actor_name, action, at, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        alert_id,
        actor_id,
        actor_name,
        action,
        to_db(now),
        detail,
    )
