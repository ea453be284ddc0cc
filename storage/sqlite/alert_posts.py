"""The alert worker's outbox: cards and digests posted to the staff chat and drawn again, lines
about reopened cases, customers' words blanked after an erasure, and the timed work (escalation,
the re-check question).

Each send is claimed in a row before it happens (post_state, recheck_sent_at), so a restart
neither loses one nor, beyond the one card that was in flight, repeats one.
"""

from __future__ import annotations

from datetime import datetime

from ..records import AlertView, ReopenPost, ReopenReason, StaleDigest
from ..states import Post
from ..timestamps import from_db, to_db
from .alert_rows import log_action, views
from .database import Database
from .rows import fetch_all, fetch_first, one_row


class AlertPosts:
    """What the staff chat must show of the alerts, and what it showed."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim_alerts_to_post(self, limit: int) -> list[AlertView]:
        """Alerts not yet in the staff chat, oldest first, marked as being posted."""
        async with self._db.transaction() as db:
            found = await views(
                db, f"a.post_state = {Post.WAITING} ORDER BY a.id LIMIT ?", (limit,)
            )
            await db.executemany(
                f"UPDATE alerts SET post_state = {Post.POSTING} WHERE id = ?",
                [(v.id,) for v in found],
            )
            return found

    async def count_alerts_to_post(self) -> int:
        async with self._db.reading() as db:
            cursor = await db.execute(
                f"SELECT count(*) FROM alerts WHERE post_state = {Post.WAITING}"
            )
            return int((await one_row(cursor))[0])

    async def mark_alert_posted(self, alert_id: int, chat_id: int, message_id: int) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                f"UPDATE alerts SET post_state = {Post.POSTED}, message_id = ?, dirty = 0"
                " WHERE id = ?",
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
        async with self._db.transaction() as db:
            await db.executemany(
                f"UPDATE alerts SET post_state = {Post.POSTED}, digest_message_id = ?, dirty = 0"
                " WHERE id = ?",
                [(message_id, i) for i in alert_ids],
            )
            await db.execute(
                "INSERT OR REPLACE INTO alert_digests (message_id, chat_id, waiting)"
                " VALUES (?, ?, ?)",
                (message_id, chat_id, waiting or len(alert_ids)),
            )

    async def release_alert_posts(self, alert_ids: list[int]) -> None:
        async with self._db.transaction() as db:
            await db.executemany(
                f"UPDATE alerts SET post_state = {Post.WAITING}"
                f" WHERE id = ? AND post_state = {Post.POSTING}",
                [(i,) for i in alert_ids],
            )

    async def settle_uncertain_alert_posts(self) -> int:
        """At start-up: posts claimed by a process that died mid-send are posted again
        (at-least-once: at most that one card may appear twice)."""
        return await self._db.write(
            f"UPDATE alerts SET post_state = {Post.WAITING} WHERE post_state = {Post.POSTING}"
        )

    async def dirty_alerts(self, limit: int) -> list[AlertView]:
        """Posted cards that changed since they were drawn."""
        async with self._db.reading() as db:
            return await views(
                db,
                f"a.dirty = 1 AND a.post_state = {Post.POSTED} AND a.message_id IS NOT NULL"
                " ORDER BY a.id LIMIT ?",
                (limit,),
            )

    async def clear_dirty(self, alert_id: int) -> None:
        await self._db.write("UPDATE alerts SET dirty = 0 WHERE id = ?", (alert_id,))

    async def stale_digests(self, limit: int = 10) -> list[StaleDigest]:
        """Digests whose alerts changed since they were drawn, with those alerts."""
        async with self._db.reading() as db:
            rows = await fetch_all(
                db,
                "SELECT message_id, chat_id, waiting FROM alert_digests WHERE dirty = 1 LIMIT ?",
                (limit,),
            )
            found = []
            for message_id, chat_id, waiting in rows:
                alerts = await views(db, "a.digest_message_id = ? ORDER BY a.id", (message_id,))
                found.append(StaleDigest(chat_id, message_id, waiting, alerts))
        return found

    async def digest_drawn(self, message_id: int) -> None:
        await self._db.write(
            "UPDATE alert_digests SET dirty = 0 WHERE message_id = ?", (message_id,)
        )

    async def due_reopen_posts(self, limit: int = 20) -> list[ReopenPost]:
        """Reopened cases whose thread has not been told yet."""
        async with self._db.reading() as db:
            found = await views(
                db,
                f"a.reopen_post = 1 AND a.post_state = {Post.POSTED} AND a.message_id IS NOT NULL"
                " ORDER BY a.id LIMIT ?",
                (limit,),
            )
            rows = await fetch_all(db, "SELECT id, reopen_reason FROM alerts WHERE reopen_post = 1")
            reasons = {row[0]: row[1] for row in rows}
        return [ReopenPost(v, ReopenReason(reasons.get(v.id) or "not_solved")) for v in found]

    async def mark_reopen_posted(self, alert_id: int) -> None:
        await self._db.write("UPDATE alerts SET reopen_post = 0 WHERE id = ?", (alert_id,))

    # --- the staff chat's copies of an erased customer's words ---------------------------

    async def messages_to_redact(self, limit: int) -> list[tuple[int, int, int]]:
        """(chat, message, customer_words) of thread messages to blank out, oldest first."""
        async with self._db.transaction() as db:
            rows = await fetch_all(
                db,
                "SELECT chat_id, message_id, customer_words FROM alert_messages"
                " WHERE redact = 1 ORDER BY alert_id, message_id LIMIT ?",
                (limit,),
            )
            return [(r[0], r[1], r[2]) for r in rows]

    async def mark_redacted(self, chat_id: int, message_id: int) -> None:
        await self._db.write(
            "UPDATE alert_messages SET redact = 0, customer_words = 0"
            " WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )


class AlertTimers:
    """Timed work on alerts: escalating one nobody took, asking whether a resolved one was
    solved."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def due_escalations(self, now: datetime) -> list[AlertView]:
        async with self._db.reading() as db:
            return await views(
                db,
                "a.status = 'open' AND a.escalated_at IS NULL AND a.escalate_at <= ?"
                f" AND a.post_state = {Post.POSTED} ORDER BY a.id",
                (to_db(now),),
            )

    async def mark_escalated(self, alert_id: int, now: datetime) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE alerts SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL",
                (to_db(now), alert_id),
            )
            if cursor.rowcount == 1:
                await log_action(db, alert_id, None, None, "escalated", now)
            return cursor.rowcount == 1

    async def unmark_escalated(self, alert_id: int) -> None:
        """The escalation could not be sent: it is due again."""
        await self._db.write("UPDATE alerts SET escalated_at = NULL WHERE id = ?", (alert_id,))

    async def due_rechecks(self, now: datetime) -> list[AlertView]:
        async with self._db.reading() as db:
            return await views(
                db,
                "a.status = 'resolved' AND a.recheck_sent_at IS NULL AND a.recheck_at <= ?"
                " ORDER BY a.id",
                (to_db(now),),
            )

    async def mark_recheck_sent(self, alert_id: int, now: datetime) -> bool:
        """Claimed before sending: the question is asked at most once, even across restarts."""
        changed = await self._db.write(
            "UPDATE alerts SET recheck_sent_at = ? WHERE id = ? AND recheck_sent_at IS NULL",
            (to_db(now), alert_id),
        )
        return changed == 1

    async def next_alert_due(self) -> datetime | None:
        """When the next escalation or re-check falls due (the worker sleeps until then)."""
        async with self._db.reading() as db:
            row = await fetch_first(
                db,
                "SELECT min(t) FROM ("
                " SELECT min(escalate_at) AS t FROM alerts"
                "  WHERE status = 'open' AND escalated_at IS NULL"
                " UNION ALL SELECT min(recheck_at) FROM alerts"
                "  WHERE status = 'resolved' AND recheck_sent_at IS NULL)",
            )
            return from_db(row[0] if row else None)
