"""Alerts as staff and customers meet them: as in storage/sqlite/alerts.py.

Two staff pressing Take (or Resolved) on one alert from two processes: each UPDATE is
conditional on the status it changes, so the second waits for the first's row lock, re-checks
the condition on the committed row and changes nothing: one wins, as on SQLite.
"""

from __future__ import annotations

from datetime import datetime

from ..records import AlertView, ReopenReason, Words
from ..states import Post
from ..timestamps import from_db, to_db
from .alert_cases import reopen
from .alert_rows import first_view, log_action, views
from .database import Database, changed


class Alerts:
    """One alert per unhappy customer's survey, and what staff did with it."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get_alert(self, alert_id: int) -> AlertView | None:
        async with self._db.reading() as conn:
            return await first_view(conn, "a.id = $1", alert_id)

    async def open_alerts(self, limit: int = 50) -> list[AlertView]:
        async with self._db.reading() as conn:
            return await views(
                conn, "a.status != 'resolved' ORDER BY a.created_at, a.id LIMIT $1", limit
            )

    async def alert_of_message(self, chat_id: int, message_id: int) -> AlertView | None:
        """The alert a message of the staff chat belongs to (its card or its thread)."""
        async with self._db.reading() as conn:
            alert_id = await conn.fetchval(
                "SELECT alert_id FROM alert_messages WHERE chat_id = $1 AND message_id = $2",
                chat_id,
                message_id,
            )
            if alert_id is None:
                return None
            return await first_view(conn, "a.id = $1", alert_id)

    async def open_alert_of_customer(self, customer_id: int) -> AlertView | None:
        """The customer's most recent unresolved alert that staff have written about."""
        async with self._db.reading() as conn:
            return await first_view(
                conn,
                "a.customer_id = $1 AND a.status != 'resolved' AND a.message_id IS NOT NULL"
                " AND a.erased_at IS NULL"
                " AND EXISTS (SELECT 1 FROM alert_actions x WHERE x.alert_id = a.id"
                " AND x.action = 'replied') ORDER BY a.id DESC LIMIT 1",
                customer_id,
            )

    # --- staff actions -------------------------------------------------------------------

    async def take_alert(
        self, alert_id: int, actor_id: int, actor_name: str, now: datetime
    ) -> bool:
        async with self._db.transaction() as conn:
            status = await conn.execute(
                "UPDATE alerts SET status = 'taken', owner_id = $1, owner_name = $2,"
                " taken_at = $3, dirty = 1 WHERE id = $4 AND status = 'open'",
                actor_id,
                actor_name,
                to_db(now),
                alert_id,
            )
            if changed(status) != 1:
                return False
            await log_action(conn, alert_id, actor_id, actor_name, "taken", now)
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
        async with self._db.transaction() as conn:
            status = await conn.execute(
                "UPDATE alerts SET status = 'resolved', resolved_by_id = $1,"
                " resolved_by_name = $2, resolved_at = $3, recheck_at = $4, reason = $5,"
                " dirty = 1, owner_id = coalesce(owner_id, $1),"
                " owner_name = coalesce(owner_name, $2), taken_at = coalesce(taken_at, $3)"
                " WHERE id = $6 AND status != 'resolved'",
                actor_id,
                actor_name,
                to_db(now),
                to_db(recheck_at),
                reason,
                alert_id,
            )
            if changed(status) != 1:
                return False
            await log_action(conn, alert_id, actor_id, actor_name, "resolved", now, reason)
            return True

    async def record_recheck(
        self, alert_id: int, customer_id: int, solved: bool, now: datetime
    ) -> bool:
        """The customer's answer to "was it solved?"; "not solved" opens the case again."""
        async with self._db.transaction() as conn:
            status = await conn.execute(
                "UPDATE alerts SET recheck_solved = $1, recheck_answered_at = $2, dirty = 1"
                " WHERE id = $3 AND customer_id = $4 AND recheck_sent_at IS NOT NULL"
                " AND recheck_solved IS NULL",
                int(solved),
                to_db(now),
                alert_id,
                customer_id,
            )
            if changed(status) != 1:
                return False
            await log_action(conn, alert_id, customer_id, None, "rechecked", now)
            if not solved:  # "not solved" must reach someone: the case is open again
                await reopen(conn, alert_id, ReopenReason.NOT_SOLVED, now)
            return True

    async def request_alert_card(self, alert_id: int) -> bool:
        """An alert announced only in a digest gets its own card (a staff member asked)."""
        found = await self._db.write(
            f"UPDATE alerts SET post_state = {Post.WAITING} WHERE id = $1"
            f" AND message_id IS NULL AND post_state = {Post.POSTED}",
            alert_id,
        )
        return found == 1

    async def mark_dirty(self, alert_id: int, note: str | None = None) -> None:
        """The card must be drawn again (with `note` on it, when given)."""
        await self._db.write(
            "UPDATE alerts SET dirty = 1, delivery_note = coalesce($1, delivery_note)"
            " WHERE id = $2",
            note,
            alert_id,
        )

    # --- the thread ----------------------------------------------------------------------

    async def add_alert_message(
        self, chat_id: int, message_id: int, alert_id: int, words: Words = Words.STAFF
    ) -> None:
        """A message of the alert's thread; `words` say whether it carries the customer's own
        words, which an erasure blanks out."""
        await self._db.write(
            "INSERT INTO alert_messages (chat_id, message_id, alert_id, customer_words)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            chat_id,
            message_id,
            alert_id,
            int(words),
        )

    async def log_alert_action(
        self,
        alert_id: int,
        actor_id: int | None,
        actor_name: str | None,
        action: str,
        now: datetime,
    ) -> None:
        async with self._db.transaction() as conn:
            await log_action(conn, alert_id, actor_id, actor_name, action, now)

    async def actions_of(self, alert_id: int) -> list[tuple[str, int | None, datetime]]:
        async with self._db.reading() as conn:
            rows = await conn.fetch(
                "SELECT action, actor_id, at FROM alert_actions WHERE alert_id = $1 ORDER BY id",
                alert_id,
            )
            return [(r["action"], r["actor_id"], from_db(r["at"])) for r in rows]
