"""An alert's cards with their other low answers, and its log of actions (the card's row and
mapper are storage/row_records.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import aiosqlite

from ..records import AlertView, LowAnswer
from ..row_records import ALERT_VIEW_SQL, alert_view_of
from ..timestamps import to_db
from .rows import fetch_all


async def views(db: aiosqlite.Connection, where: str, params: tuple[Any, ...]) -> list[AlertView]:
    """The cards of the alerts `where` selects (SQL over `alerts a`), with their other answers."""
    found = [
        alert_view_of(r) for r in await fetch_all(db, f"{ALERT_VIEW_SQL} WHERE {where}", params)
    ]
    more = await _more_answers(db, [v.id for v in found])
    return [replace(v, more=more[v.id]) if v.id in more else v for v in found]


async def first_view(
    db: aiosqlite.Connection, where: str, params: tuple[Any, ...]
) -> AlertView | None:
    found = await views(db, where, params)
    return found[0] if found else None


async def _more_answers(
    db: aiosqlite.Connection, alert_ids: list[int]
) -> dict[int, tuple[LowAnswer, ...]]:
    if not alert_ids:
        return {}
    marks = ",".join("?" * len(alert_ids))
    rows = await fetch_all(
        db,
        "SELECT x.alert_id, an.question_index, an.metric, an.score, an.comment,"
        " an.comment_kind FROM alert_answers x JOIN answers an ON an.id = x.answer_id"
        f" WHERE x.alert_id IN ({marks}) ORDER BY an.question_index, an.id",
        alert_ids,
    )
    found: dict[int, list[LowAnswer]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(LowAnswer(*row[1:]))
    return {k: tuple(v) for k, v in found.items()}


async def log_action(
    db: aiosqlite.Connection,
    alert_id: int,
    actor_id: int | None,
    actor_name: str | None,
    action: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    """A line of the alert's history (`alert_actions`): who did what, when."""
    await db.execute(
        "INSERT INTO alert_actions (alert_id, actor_id, actor_name, action, at, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (alert_id, actor_id, actor_name, action, to_db(now), detail),
    )
