"""Alerts in the staff chat: their outbox, what staff did, and the figures managers see.

A mixin of SqliteRepo: the same connection, lock and one-transaction-per-method rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite

from survey_flows.models import Invitation

from .alert_cases import LowAnswer
from .rows import inserted_id, one_row
from .timestamps import from_db, to_db

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager


@dataclass(frozen=True, slots=True)
class NewAlert:
    chat_id: int
    escalate_at: datetime


@dataclass(frozen=True, slots=True)
class AlertView:
    """Everything an alert card shows."""

    id: int
    status: str
    chat_id: int
    message_id: int | None
    digest_message_id: int | None
    invitation_id: int
    customer_id: int
    customer_name: str | None
    customer_username: str | None
    customer_language: str | None
    survey: str
    event_type: str
    question_index: int
    metric: str
    score: int
    comment: str | None
    comment_kind: str | None
    comment_file_id: str | None
    context: dict[str, str]
    created_at: datetime
    owner_id: int | None
    owner_name: str | None
    taken_at: datetime | None
    resolved_by_name: str | None
    resolved_at: datetime | None
    escalated_at: datetime | None
    recheck_sent_at: datetime | None
    recheck_solved: bool | None
    delivery_note: str | None
    erased: bool = False  # the customer's data was erased: the card shows no one
    customer_opted_out: bool = False
    customer_unreachable: bool = False
    reopened_at: datetime | None = None
    reopen_reason: str | None = None  # not_solved, low_again
    reason: str | None = None  # what staff picked when they resolved it
    more: tuple[LowAnswer, ...] = ()  # the survey's other low answers, on the same card

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"


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


def _view(row: aiosqlite.Row) -> AlertView:
    return AlertView(
        id=row["id"],
        status=row["status"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        digest_message_id=row["digest_message_id"],
        invitation_id=row["invitation_id"],
        customer_id=row["customer_id"],
        customer_name=row["customer_name"],
        customer_username=row["customer_username"],
        customer_language=row["customer_language"],
        survey=row["survey"],
        event_type=row["event_type"],
        question_index=row["question_index"],
        metric=row["metric"],
        score=row["score"],
        comment=row["comment"],
        comment_kind=row["comment_kind"],
        comment_file_id=row["comment_file_id"],
        context=json.loads(row["context"]),
        created_at=from_db(row["created_at"]),
        owner_id=row["owner_id"],
        owner_name=row["owner_name"],
        taken_at=from_db(row["taken_at"]),
        resolved_by_name=row["resolved_by_name"],
        resolved_at=from_db(row["resolved_at"]),
        escalated_at=from_db(row["escalated_at"]),
        recheck_sent_at=from_db(row["recheck_sent_at"]),
        recheck_solved=None if row["recheck_solved"] is None else bool(row["recheck_solved"]),
        delivery_note=row["delivery_note"],
        erased=row["erased_at"] is not None,
        customer_opted_out=row["customer_opted_out_at"] is not None,
        customer_unreachable=row["customer_unreachable_at"] is not None,
        reopened_at=from_db(row["reopened_at"]),
        reopen_reason=row["reopen_reason"],
        reason=row["reason"],
    )


class AlertStorage:
    if TYPE_CHECKING:

        def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
        def reading(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...
        async def _case_of(self, db: aiosqlite.Connection, invitation_id: int) -> int | None: ...
        async def _join_case(
            self, db: aiosqlite.Connection, alert_id: int, answer_id: int, now: datetime
        ) -> None: ...
        async def _reopen(
            self, db: aiosqlite.Connection, alert_id: int, reason: str, now: datetime
        ) -> bool: ...
        async def _more_answers(
            self, db: aiosqlite.Connection, alert_ids: list[int]
        ) -> dict[int, tuple[LowAnswer, ...]]: ...

    async def _insert_alert(
        self,
        db: aiosqlite.Connection,
        answer_id: int,
        inv: Invitation,
        alert: NewAlert,
        now: datetime,
    ) -> None:
        case = await self._case_of(db, inv.id)
        if case is not None:  # one alert per invitation: this answer joins its card
            await self._join_case(db, case, answer_id, now)
            return
        cursor = await db.execute(
            "INSERT INTO alerts (answer_id, invitation_id, customer_id, chat_id, created_at,"
            " escalate_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                answer_id,
                inv.id,
                inv.customer_id,
                alert.chat_id,
                to_db(now),
                to_db(alert.escalate_at),
            ),
        )
        await self._log(db, inserted_id(cursor), None, None, "created", now)

    @staticmethod
    async def _log(
        db: aiosqlite.Connection,
        alert_id: int,
        actor_id: int | None,
        actor_name: str | None,
        action: str,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        await db.execute(
            "INSERT INTO alert_actions (alert_id, actor_id, actor_name, action, at, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (alert_id, actor_id, actor_name, action, to_db(now), detail),
        )

    async def _views(self, db: aiosqlite.Connection, where: str, params: tuple) -> list[AlertView]:
        cursor = await db.execute(f"{_VIEW_SQL} WHERE {where}", params)
        views = [_view(r) for r in await cursor.fetchall()]
        more = await self._more_answers(db, [v.id for v in views])
        return [replace(v, more=more[v.id]) if v.id in more else v for v in views]

    async def get_alert(self, alert_id: int) -> AlertView | None:
        async with self.reading() as db:
            found = await self._views(db, "a.id = ?", (alert_id,))
            return found[0] if found else None

    # --- posting outbox ----------------------------------------------------------------

    async def claim_alerts_to_post(self, limit: int) -> list[AlertView]:
        """Alerts not yet in the staff chat, oldest first, marked as being posted."""
        async with self.transaction() as db:
            views = await self._views(db, "a.post_state = 0 ORDER BY a.id LIMIT ?", (limit,))
            await db.executemany(
                "UPDATE alerts SET post_state = 2 WHERE id = ?", [(v.id,) for v in views]
            )
            return views

    async def count_alerts_to_post(self) -> int:
        async with self.reading() as db:
            cursor = await db.execute("SELECT count(*) FROM alerts WHERE post_state = 0")
            return (await one_row(cursor))[0]

    async def mark_alert_posted(self, alert_id: int, chat_id: int, message_id: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE alerts SET post_state = 1, message_id = ?, dirty = 0 WHERE id = ?",
                (message_id, alert_id),
            )
            await db.execute(
                "INSERT OR IGNORE INTO alert_messages (chat_id, message_id, alert_id)"
                " VALUES (?, ?, ?)",
                (chat_id, message_id, alert_id),
            )

    async def mark_alerts_digested(
        self, alert_ids: list[int], message_id: int, chat_id: int = 0, waiting: int = 0
    ) -> None:
        async with self.transaction() as db:
            await db.executemany(
                "UPDATE alerts SET post_state = 1, digest_message_id = ?, dirty = 0 WHERE id = ?",
                [(message_id, i) for i in alert_ids],
            )
            await db.execute(
                "INSERT OR REPLACE INTO alert_digests (message_id, chat_id, waiting)"
                " VALUES (?, ?, ?)",
                (message_id, chat_id, waiting or len(alert_ids)),
            )

    async def release_alert_posts(self, alert_ids: list[int]) -> None:
        async with self.transaction() as db:
            await db.executemany(
                "UPDATE alerts SET post_state = 0 WHERE id = ? AND post_state = 2",
                [(i,) for i in alert_ids],
            )

    async def request_alert_card(self, alert_id: int) -> bool:
        """An alert announced only in a digest gets its own card (a staff member asked)."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE alerts SET post_state = 0 WHERE id = ? AND message_id IS NULL"
                " AND post_state = 1",
                (alert_id,),
            )
            return cursor.rowcount == 1

    async def settle_uncertain_alert_posts(self) -> int:
        """At start-up: posts claimed by a process that died mid-send are posted again
        (at-least-once: at most that one card may appear twice)."""
        async with self.transaction() as db:
            cursor = await db.execute("UPDATE alerts SET post_state = 0 WHERE post_state = 2")
            return cursor.rowcount

    async def dirty_alerts(self, limit: int) -> list[AlertView]:
        async with self.reading() as db:
            return await self._views(
                db,
                "a.dirty = 1 AND a.post_state = 1 AND a.message_id IS NOT NULL"
                " ORDER BY a.id LIMIT ?",
                (limit,),
            )

    async def clear_dirty(self, alert_id: int) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE alerts SET dirty = 0 WHERE id = ?", (alert_id,))

    async def mark_dirty(self, alert_id: int, note: str | None = None) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE alerts SET dirty = 1, delivery_note = coalesce(?, delivery_note)"
                " WHERE id = ?",
                (note, alert_id),
            )

    # --- the thread ----------------------------------------------------------------------

    async def add_alert_message(
        self, chat_id: int, message_id: int, alert_id: int, customer_words: int = 0
    ) -> None:
        """A message of the alert's thread; `customer_words` 1 (text) or 2 (media) when it
        carries the customer's own words, which an erasure blanks out."""
        async with self.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO alert_messages (chat_id, message_id, alert_id,"
                " customer_words) VALUES (?, ?, ?, ?)",
                (chat_id, message_id, alert_id, customer_words),
            )

    async def alert_of_message(self, chat_id: int, message_id: int) -> AlertView | None:
        async with self.reading() as db:
            cursor = await db.execute(
                "SELECT alert_id FROM alert_messages WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            found = await self._views(db, "a.id = ?", (row["alert_id"],))
            return found[0] if found else None

    async def open_alert_of_customer(self, customer_id: int) -> AlertView | None:
        """The customer's most recent unresolved alert that staff have written about."""
        async with self.reading() as db:
            found = await self._views(
                db,
                "a.customer_id = ? AND a.status != 'resolved' AND a.message_id IS NOT NULL"
                " AND a.erased_at IS NULL"
                " AND EXISTS (SELECT 1 FROM alert_actions x WHERE x.alert_id = a.id"
                " AND x.action = 'replied') ORDER BY a.id DESC LIMIT 1",
                (customer_id,),
            )
            return found[0] if found else None

    async def log_alert_action(
        self,
        alert_id: int,
        actor_id: int | None,
        actor_name: str | None,
        action: str,
        now: datetime,
    ) -> None:
        async with self.transaction() as db:
            await self._log(db, alert_id, actor_id, actor_name, action, now)

    async def actions_of(self, alert_id: int) -> list[tuple[str, int | None, datetime]]:
        async with self.reading() as db:
            cursor = await db.execute(
                "SELECT action, actor_id, at FROM alert_actions WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            )
            return [(r["action"], r["actor_id"], from_db(r["at"])) for r in await cursor.fetchall()]

    # --- staff actions -------------------------------------------------------------------

    async def take_alert(
        self, alert_id: int, actor_id: int, actor_name: str, now: datetime
    ) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE alerts SET status = 'taken', owner_id = ?, owner_name = ?, taken_at = ?,"
                " dirty = 1 WHERE id = ? AND status = 'open'",
                (actor_id, actor_name, to_db(now), alert_id),
            )
            if cursor.rowcount != 1:
                return False
            await self._log(db, alert_id, actor_id, actor_name, "taken", now)
            return True

    async def resolve_alert(
        self,
        alert_id: int,
        actor_id: int,
        actor_name: str,
        now: datetime,
        recheck_at: datetime,
        reason: str | None = None,
    ) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE alerts SET status = 'resolved', resolved_by_id = ?, resolved_by_name = ?,"
                " resolved_at = ?, recheck_at = ?, reason = ?, dirty = 1,"
                " owner_id = coalesce(owner_id, ?), owner_name = coalesce(owner_name, ?),"
                " taken_at = coalesce(taken_at, ?)"
                " WHERE id = ? AND status != 'resolved'",
                (
                    actor_id,
                    actor_name,
                    to_db(now),
                    to_db(recheck_at),
                    reason,
                    actor_id,
                    actor_name,
                    to_db(now),
                    alert_id,
                ),
            )
            if cursor.rowcount != 1:
                return False
            await self._log(db, alert_id, actor_id, actor_name, "resolved", now, reason)
            return True

    async def open_alerts(self, limit: int = 50) -> list[AlertView]:
        async with self.reading() as db:
            return await self._views(
                db, "a.status != 'resolved' ORDER BY a.created_at, a.id LIMIT ?", (limit,)
            )

    # --- timed work: escalation and the recheck question ---------------------------------

    async def due_escalations(self, now: datetime) -> list[AlertView]:
        async with self.reading() as db:
            return await self._views(
                db,
                "a.status = 'open' AND a.escalated_at IS NULL AND a.escalate_at <= ?"
                " AND a.post_state = 1 ORDER BY a.id",
                (to_db(now),),
            )

    async def mark_escalated(self, alert_id: int, now: datetime) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE alerts SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL",
                (to_db(now), alert_id),
            )
            if cursor.rowcount == 1:
                await self._log(db, alert_id, None, None, "escalated", now)
            return cursor.rowcount == 1

    async def unmark_escalated(self, alert_id: int) -> None:
        """The escalation could not be sent: it is due again."""
        async with self.transaction() as db:
            await db.execute("UPDATE alerts SET escalated_at = NULL WHERE id = ?", (alert_id,))

    async def due_rechecks(self, now: datetime) -> list[AlertView]:
        async with self.reading() as db:
            return await self._views(
                db,
                "a.status = 'resolved' AND a.recheck_sent_at IS NULL AND a.recheck_at <= ?"
                " ORDER BY a.id",
                (to_db(now),),
            )

    async def mark_recheck_sent(self, alert_id: int, now: datetime) -> bool:
        """Claimed before sending: the question is asked at most once, even across restarts."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE alerts SET recheck_sent_at = ? WHERE id = ? AND recheck_sent_at IS NULL",
                (to_db(now), alert_id),
            )
            return cursor.rowcount == 1

    async def record_recheck(
        self, alert_id: int, customer_id: int, solved: bool, now: datetime
    ) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE alerts SET recheck_solved = ?, recheck_answered_at = ?, dirty = 1"
                " WHERE id = ? AND customer_id = ? AND recheck_sent_at IS NOT NULL"
                " AND recheck_solved IS NULL",
                (int(solved), to_db(now), alert_id, customer_id),
            )
            if cursor.rowcount != 1:
                return False
            await self._log(db, alert_id, customer_id, None, "rechecked", now)
            if not solved:  # "not solved" must reach someone: the case is open again
                await self._reopen(db, alert_id, "not_solved", now)
            return True

    async def next_alert_due(self) -> datetime | None:
        async with self.reading() as db:
            cursor = await db.execute(
                "SELECT min(t) FROM ("
                " SELECT min(escalate_at) AS t FROM alerts"
                "  WHERE status = 'open' AND escalated_at IS NULL"
                " UNION ALL SELECT min(recheck_at) FROM alerts"
                "  WHERE status = 'resolved' AND recheck_sent_at IS NULL)"
            )
            return from_db((await one_row(cursor))[0])
