"""The alert worker's outbox and timed work: as in storage/sqlite/alert_posts.py, for an alert
worker on every process.

What SQLite's one writer made safe is claimed here: the cards and digests to post
(post_state POSTING) and the lines about reopened cases (reopen_post CLAIMED) are taken with
`FOR UPDATE SKIP LOCKED` and marked with this process's holder id, so two processes never send
the same one. A claim comes back when its holder's session is gone or its lease ran out
(storage/postgres/cluster.py). Escalations and re-checks need no more than SQLite's conditional
updates: the second process's UPDATE waits for the first's row lock and then changes nothing.
Cards and digests drawn again may be edited twice at once, which shows nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from ..records import AlertView, ReopenPost, ReopenReason, StaleDigest
from ..states import Post
from ..timestamps import from_db, to_db
from .alert_rows import log_action, views
from .cluster import DEAD_HOLDER, LEASE_SECONDS
from .database import Database, changed

# The server's clock in storage.timestamps' text form, so that one clock dates every process's
# claims and the lease compares them as text, like every other timestamp.
_TEXT = "to_char(({}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
_NOW = _TEXT.format("now()")
_LEASE_START = _TEXT.format(f"now() - interval '{LEASE_SECONDS} seconds'")
# A claim nobody holds any more: its process is gone, or it is older than the lease.
_ABANDONED = (
    f"(({DEAD_HOLDER.format(column='claimed_by')})"
    f" OR claimed_at IS NULL OR claimed_at < {_LEASE_START})"
)
# The rows a claim takes, locked once: not `WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP
# LOCKED)`, which the planner may run again for each row it updates (a nested-loop semi-join),
# every run skipping the rows already updated and so claiming more than `n`.
_PICK = "WITH picked AS MATERIALIZED ("
# alerts.reopen_post: 1 = its line is due (storage/postgres/alert_cases.py), 0 = posted; the
# value this module adds while a process sends the line.
_REOPEN_CLAIMED = 2


class AlertPosts:
    """What the staff chat must show of the alerts, and what it showed."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim_alerts_to_post(self, limit: int) -> list[AlertView]:
        """Alerts not yet in the staff chat, oldest first, claimed by this process: rows
        another process is claiming at this moment are skipped, not waited for."""
        async with self._db.transaction() as conn:
            rows = await conn.fetch(
                f"{_PICK} SELECT id FROM alerts WHERE post_state = {Post.WAITING}"
                "  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)"
                f" UPDATE alerts a SET post_state = {Post.POSTING}, claimed_by = $1,"
                f" claimed_at = {_NOW} FROM picked WHERE a.id = picked.id RETURNING a.id",
                self._db.holder,
                limit,
            )
            return await views(
                conn, "a.id = ANY($1::bigint[]) ORDER BY a.id", [r["id"] for r in rows]
            )

    async def count_alerts_to_post(self) -> int:
        async with self._db.reading() as conn:
            found = await conn.fetchval(
                f"SELECT count(*) FROM alerts WHERE post_state = {Post.WAITING}"
            )
            return int(found)

    async def mark_alert_posted(self, alert_id: int, chat_id: int, message_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                f"UPDATE alerts SET post_state = {Post.POSTED}, message_id = $1, dirty = 0,"
                " claimed_by = NULL, claimed_at = NULL WHERE id = $2",
                message_id,
                alert_id,
            )
            await conn.execute(
                "INSERT INTO alert_messages (chat_id, message_id, alert_id)"
                " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                chat_id,
                message_id,
                alert_id,
            )

    async def mark_alerts_digested(
        self, alert_ids: list[int], message_id: int, chat_id: int = 0, waiting: int = 0
    ) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                f"UPDATE alerts SET post_state = {Post.POSTED}, digest_message_id = $1,"
                " dirty = 0, claimed_by = NULL, claimed_at = NULL WHERE id = ANY($2::bigint[])",
                message_id,
                alert_ids,
            )
            await conn.execute(
                "INSERT INTO alert_digests (message_id, chat_id, waiting) VALUES ($1, $2, $3)"
                " ON CONFLICT (message_id) DO UPDATE SET chat_id = excluded.chat_id,"
                " waiting = excluded.waiting, dirty = 0",
                message_id,
                chat_id,
                waiting or len(alert_ids),
            )

    async def release_alert_posts(self, alert_ids: list[int]) -> None:
        """Our claims given back unsent; one that lapsed and another process took stays its."""
        await self._db.write(
            f"UPDATE alerts SET post_state = {Post.WAITING}, claimed_by = NULL, claimed_at = NULL"
            f" WHERE id = ANY($1::bigint[]) AND post_state = {Post.POSTING} AND claimed_by = $2",
            alert_ids,
            self._db.holder,
        )

    async def settle_uncertain_alert_posts(self) -> int:
        """Posts claimed by a process that died mid-send (or wedged past the lease) are posted
        again (at-least-once: at most those cards may appear twice); a live process's stay its."""
        return await self._db.write(
            f"UPDATE alerts SET post_state = {Post.WAITING}, claimed_by = NULL, claimed_at = NULL"
            f" WHERE post_state = {Post.POSTING} AND {_ABANDONED}"
        )

    async def dirty_alerts(self, limit: int) -> list[AlertView]:
        """Posted cards that changed since they were drawn."""
        async with self._db.reading() as conn:
            return await views(
                conn,
                f"a.dirty = 1 AND a.post_state = {Post.POSTED} AND a.message_id IS NOT NULL"
                " ORDER BY a.id LIMIT $1",
                limit,
            )

    async def clear_dirty(self, alert_id: int) -> None:
        await self._db.write("UPDATE alerts SET dirty = 0 WHERE id = $1", alert_id)

    async def stale_digests(self, limit: int = 10) -> list[StaleDigest]:
        """Digests whose alerts changed since they were drawn, with those alerts."""
        async with self._db.reading() as conn:
            rows = await conn.fetch(
                "SELECT message_id, chat_id, waiting FROM alert_digests WHERE dirty = 1"
                " ORDER BY message_id LIMIT $1",
                limit,
            )
            found = []
            for message_id, chat_id, waiting in rows:
                alerts = await views(conn, "a.digest_message_id = $1 ORDER BY a.id", message_id)
                found.append(StaleDigest(chat_id, message_id, waiting, alerts))
        return found

    async def digest_drawn(self, message_id: int) -> None:
        await self._db.write("UPDATE alert_digests SET dirty = 0 WHERE message_id = $1", message_id)

    async def due_reopen_posts(self, limit: int = 20) -> list[ReopenPost]:
        """Reopened cases whose thread has not been told yet, claimed by this process until
        mark_reopen_posted. Our own claims are due again (a send that failed is retried on the
        next pass, as on SQLite); another process's only once abandoned."""
        async with self._db.transaction() as conn:
            rows = await conn.fetch(
                f"{_PICK} SELECT id FROM alerts WHERE"
                f"  (reopen_post = 1 OR (reopen_post = {_REOPEN_CLAIMED}"
                f"   AND (claimed_by = $1 OR {_ABANDONED})))"
                f"  AND post_state = {Post.POSTED} AND message_id IS NOT NULL"
                "  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)"
                f" UPDATE alerts a SET reopen_post = {_REOPEN_CLAIMED}, claimed_by = $1,"
                f" claimed_at = {_NOW} FROM picked WHERE a.id = picked.id RETURNING a.id",
                self._db.holder,
                limit,
            )
            found = await views(
                conn, "a.id = ANY($1::bigint[]) ORDER BY a.id", [r["id"] for r in rows]
            )
        return [ReopenPost(v, v.reopen_reason or ReopenReason.NOT_SOLVED) for v in found]

    async def mark_reopen_posted(self, alert_id: int) -> None:
        await self._db.write(
            "UPDATE alerts SET reopen_post = 0, claimed_by = NULL, claimed_at = NULL WHERE id = $1",
            alert_id,
        )

    # --- the staff chat's copies of an erased customer's words ---------------------------

    async def messages_to_redact(self, limit: int) -> list[tuple[int, int, int]]:
        """(chat, message, customer_words) of thread messages to blank out, oldest first."""
        async with self._db.reading() as conn:
            rows = await conn.fetch(
                "SELECT chat_id, message_id, customer_words FROM alert_messages"
                " WHERE redact = 1 ORDER BY alert_id, message_id LIMIT $1",
                limit,
            )
            return [(r[0], r[1], r[2]) for r in rows]

    async def mark_redacted(self, chat_id: int, message_id: int) -> None:
        await self._db.write(
            "UPDATE alert_messages SET redact = 0, customer_words = 0"
            " WHERE chat_id = $1 AND message_id = $2",
            chat_id,
            message_id,
        )


class AlertTimers:
    """Timed work on alerts: escalating one nobody took, asking whether a resolved one was
    solved."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def due_escalations(self, now: datetime) -> list[AlertView]:
        async with self._db.reading() as conn:
            return await views(
                conn,
                "a.status = 'open' AND a.escalated_at IS NULL AND a.escalate_at <= $1"
                f" AND a.post_state = {Post.POSTED} ORDER BY a.id",
                to_db(now),
            )

    async def mark_escalated(self, alert_id: int, now: datetime) -> bool:
        async with self._db.transaction() as conn:
            status = await conn.execute(
                "UPDATE alerts SET escalated_at = $1 WHERE id = $2 AND escalated_at IS NULL",
                to_db(now),
                alert_id,
            )
            if changed(status) != 1:
                return False
            await log_action(conn, alert_id, None, None, "escalated", now)
            return True

    async def unmark_escalated(self, alert_id: int) -> None:
        """The escalation could not be sent: it is due again."""
        await self._db.write("UPDATE alerts SET escalated_at = NULL WHERE id = $1", alert_id)

    async def due_rechecks(self, now: datetime) -> list[AlertView]:
        async with self._db.reading() as conn:
            return await views(
                conn,
                "a.status = 'resolved' AND a.recheck_sent_at IS NULL AND a.recheck_at <= $1"
                " ORDER BY a.id",
                to_db(now),
            )

    async def mark_recheck_sent(self, alert_id: int, now: datetime) -> bool:
        """Claimed before sending: the question is asked at most once, even across restarts
        and processes."""
        found = await self._db.write(
            "UPDATE alerts SET recheck_sent_at = $1 WHERE id = $2 AND recheck_sent_at IS NULL",
            to_db(now),
            alert_id,
        )
        return found == 1

    async def next_alert_due(self) -> datetime | None:
        """When the next escalation or re-check falls due (the worker sleeps until then)."""
        async with self._db.reading() as conn:
            found: str | None = await conn.fetchval(
                "SELECT min(t) FROM ("
                " SELECT min(escalate_at) AS t FROM alerts"
                "  WHERE status = 'open' AND escalated_at IS NULL"
                " UNION ALL SELECT min(recheck_at) FROM alerts"
                "  WHERE status = 'resolved' AND recheck_sent_at IS NULL) AS due"
            )
            return from_db(found)
