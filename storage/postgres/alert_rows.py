"""An alert's cards with their other low answers, and its log of actions (the card's row and
mapper are storage/row_records.py).

`where` clauses are written with asyncpg's `$n` placeholders, numbered from 1 in `params`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg

from ..records import AlertView, LowAnswer
from ..row_records import ALERT_VIEW_SQL, alert_view_of
from ..timestamps import to_db


async def views(conn: asyncpg.Connection, where: str, *params: Any) -> list[AlertView]:
    """The cards of the alerts `where` selects (SQL over `alerts a`), with their other answers."""
    found = [alert_view_of(r) for r in await conn.fetch(f"{ALERT_VIEW_SQL} WHERE {where}", *params)]
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
