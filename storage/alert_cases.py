"""One case per unhappy customer: low answers joining an invitation's alert, and reopening.

A mixin of SqliteRepo beside `alerts.py`: the first low answer of an invitation raises its
alert; later ones join it (`alert_answers`) and the card is drawn again. A resolved alert comes
back, owner kept, when the customer says "not solved" at the re-check or answers low again; one
line in its thread says so (`reopen_post`, posted by the alert worker after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite

from .timestamps import to_db

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from .alerts import AlertView


@dataclass(frozen=True, slots=True)
class LowAnswer:
    """Another low answer of the same survey, shown on the alert's card."""

    question_index: int
    metric: str
    score: int
    comment: str | None
    comment_kind: str | None


@dataclass(frozen=True, slots=True)
class StaleDigest:
    chat_id: int
    message_id: int
    waiting: int
    alerts: list[AlertView]


@dataclass(frozen=True, slots=True)
class ReopenPost:
    alert: AlertView
    reason: str  # not_solved, low_again


class AlertCaseStorage:
    if TYPE_CHECKING:

        def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
        def reading(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
        async def _views(
            self, db: aiosqlite.Connection, where: str, params: tuple
        ) -> list[AlertView]: ...
        @staticmethod
        async def _log(
            db: aiosqlite.Connection,
            alert_id: int,
            actor_id: int | None,
            actor_name: str | None,
            action: str,
            now: datetime,
            detail: str | None = None,
        ) -> None: ...

    async def _case_of(self, db: aiosqlite.Connection, invitation_id: int) -> int | None:
        cursor = await db.execute(
            "SELECT id FROM alerts WHERE invitation_id = ? ORDER BY id LIMIT 1", (invitation_id,)
        )
        row = await cursor.fetchone()
        return None if row is None else int(row[0])

    async def _join_case(
        self, db: aiosqlite.Connection, alert_id: int, answer_id: int, now: datetime
    ) -> None:
        """Another low answer of the invitation: on the same card; a resolved case reopens."""
        await db.execute(
            "INSERT OR IGNORE INTO alert_answers (alert_id, answer_id) VALUES (?, ?)",
            (alert_id, answer_id),
        )
        await db.execute("UPDATE alerts SET dirty = 1 WHERE id = ?", (alert_id,))
        await self._reopen(db, alert_id, "low_again", now)

    async def _reopen(
        self, db: aiosqlite.Connection, alert_id: int, reason: str, now: datetime
    ) -> bool:
        """Back to taken (its owner kept) or open; asked again after the next Resolved."""
        cursor = await db.execute(
            "UPDATE alerts SET status = CASE WHEN owner_id IS NULL THEN 'open' ELSE 'taken' END,"
            " reopened_at = ?, reopen_reason = ?, reopen_post = 1, dirty = 1,"
            " recheck_at = NULL, recheck_sent_at = NULL, recheck_solved = NULL,"
            " recheck_answered_at = NULL"
            " WHERE id = ? AND status = 'resolved' AND erased_at IS NULL",
            (to_db(now), reason, alert_id),
        )
        if cursor.rowcount != 1:
            return False
        await self._log(db, alert_id, None, None, "reopened", now)
        return True

    async def _more_answers(
        self, db: aiosqlite.Connection, alert_ids: list[int]
    ) -> dict[int, tuple[LowAnswer, ...]]:
        if not alert_ids:
            return {}
        marks = ",".join("?" * len(alert_ids))
        cursor = await db.execute(
            "SELECT x.alert_id, an.question_index, an.metric, an.score, an.comment,"
            " an.comment_kind FROM alert_answers x JOIN answers an ON an.id = x.answer_id"
            f" WHERE x.alert_id IN ({marks}) ORDER BY an.question_index, an.id",
            alert_ids,
        )
        found: dict[int, list[LowAnswer]] = {}
        for row in await cursor.fetchall():
            found.setdefault(row[0], []).append(LowAnswer(*row[1:]))
        return {k: tuple(v) for k, v in found.items()}

    async def due_reopen_posts(self, limit: int = 20) -> list[ReopenPost]:
        async with self.reading() as db:
            views = await self._views(
                db,
                "a.reopen_post = 1 AND a.post_state = 1 AND a.message_id IS NOT NULL"
                " ORDER BY a.id LIMIT ?",
                (limit,),
            )
            cursor = await db.execute("SELECT id, reopen_reason FROM alerts WHERE reopen_post = 1")
            reasons = {row[0]: row[1] for row in await cursor.fetchall()}
        return [ReopenPost(v, reasons.get(v.id) or "not_solved") for v in views]

    async def mark_reopen_posted(self, alert_id: int) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE alerts SET reopen_post = 0 WHERE id = ?", (alert_id,))

    async def stale_digests(self, limit: int = 10) -> list[StaleDigest]:
        """Digests whose alerts changed since they were drawn, with those alerts."""
        async with self.reading() as db:
            cursor = await db.execute(
                "SELECT message_id, chat_id, waiting FROM alert_digests WHERE dirty = 1 LIMIT ?",
                (limit,),
            )
            found = []
            for message_id, chat_id, waiting in await cursor.fetchall():
                alerts = await self._views(
                    db, "a.digest_message_id = ? ORDER BY a.id", (message_id,)
                )
                found.append(StaleDigest(chat_id, message_id, waiting, alerts))
        return found

    async def digest_drawn(self, message_id: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE alert_digests SET dirty = 0 WHERE message_id = ?", (message_id,)
            )
