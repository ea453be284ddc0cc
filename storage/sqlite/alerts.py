"""Alerts as staff and customers meet them: the cards, their threads, taking, resolving, and
the customer's answer to "was it solved?"."""

from __future__ import annotations

from datetime import datetime

from ..records import AlertView, ReopenReason, Words
from ..states import Post
from ..timestamps import from_db, to_db
from .alert_cases import reopen
from .alert_rows import first_view, log_action, views
from .database import Database
from .rows import fetch_all, fetch_first


class Alerts:
    """One alert per unhappy customer's survey, and what staff did with it."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get_alert(self, alert_id: int) -> AlertView | None:
        async with self._db.reading() as db:
            return await first_view(db, "a.id = ?", (alert_id,))

    async def open_alerts(self, limit: int = 50) -> list[AlertView]:
        async with self._db.reading() as db:
            return await views(
                db, "a.status != 'resolved' ORDER BY a.created_at, a.id LIMIT ?", (limit,)
            )

    async def alert_of_message(self, chat_id: int, message_id: int) -> AlertView | None:
        """The alert a message of the staff chat belongs to (its card or its thread)."""
        async with self._db.reading() as db:
            row = await fetch_first(
                db,
                "SELECT alert_id FROM alert_messages WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            )
            if row is None:
                return None
            return await first_view(db, "a.id = ?", (row["alert_id"],))

    async def open_alert_of_customer(self, customer_id: int) -> AlertView | None:
        """The customer's most recent unresolved alert that staff have written about."""
        async with self._db.reading() as db:
            return await first_view(
                db,
                "a.customer_id = ? AND a.status != 'resolved' AND a.message_id IS NOT NULL"
                " AND a.erased_at IS NULL"
                " AND EXISTS (SELECT 1 FROM alert_actions x WHERE x.alert_id = a.id"
                " AND x.action = 'replied') ORDER BY a.id DESC LIMIT 1",
                (customer_id,),
            )

    # --- staff actions -------------------------------------------------------------------

    async def take_alert(
        self, alert_id: int, actor_id: int, actor_name: str, now: datetime
    ) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE alerts SET status = 'taken', owner_id = ?, owner_name = ?, taken_at = ?,"
                " dirty = 1 WHERE id = ? AND status = 'open'",
                (actor_id, actor_name, to_db(now), alert_id),
            )
            if cursor.rowcount != 1:
                return False
            await log_action(db, alert_id, actor_id, actor_name, "taken", now)
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
        async with self._db.transaction() as db:
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
            await log_action(db, alert_id, actor_id, actor_name, "resolved", now, reason)
            return True

    async def record_recheck(
        self, alert_id: int, customer_id: int, solved: bool, now: datetime
    ) -> bool:
        """The customer's answer to "was it solved?"; "not solved" opens the case again."""
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE alerts SET recheck_solved = ?, recheck_answered_at = ?, dirty = 1"
                " WHERE id = ? AND customer_id = ? AND recheck_sent_at IS NOT NULL"
                " AND recheck_solved IS NULL",
                (int(solved), to_db(now), alert_id, customer_id),
            )
            if cursor.rowcount != 1:
                return False
            await log_action(db, alert_id, customer_id, None, "rechecked", now)
            if not solved:  # "not solved" must reach someone: the case is open again
                await reopen(db, alert_id, ReopenReason.NOT_SOLVED, now)
            return True

    async def request_alert_card(self, alert_id: int) -> bool:
        """An alert announced only in a digest gets its own card (a staff member asked)."""
        changed = await self._db.write(
            f"UPDATE alerts SET post_state = {Post.WAITING} WHERE id = ?"
            f" AND message_id IS NULL AND post_state = {Post.POSTED}",
            (alert_id,),
        )
        return changed == 1

    async def mark_dirty(self, alert_id: int, note: str | None = None) -> None:
        """The card must be drawn again (with `note` on it, when given)."""
        await self._db.write(
            "UPDATE alerts SET dirty = 1, delivery_note = coalesce(?, delivery_note) WHERE id = ?",
            (note, alert_id),
        )

    # --- the thread ----------------------------------------------------------------------

    async def add_alert_message(
        self, chat_id: int, message_id: int, alert_id: int, words: Words = Words.STAFF
    ) -> None:
        """A message of the alert's thread; `words` say whether it carries the customer's own
        words, which an erasure blanks out."""
        await self._db.write(
            "INSERT OR IGNORE INTO alert_messages (chat_id, message_id, alert_id,"
            " customer_words) VALUES (?, ?, ?, ?)",
            (chat_id, message_id, alert_id, int(words)),
        )

    async def log_alert_action(
        self,
        alert_id: int,
        actor_id: int | None,
        actor_name: str | None,
        action: str,
        now: datetime,
    ) -> None:
        async with self._db.transaction() as db:
            await log_action(db, alert_id, actor_id, actor_name, action, now)

    async def actions_of(self, alert_id: int) -> list[tuple[str, int | None, datetime]]:
        async with self._db.reading() as db:
            rows = await fetch_all(
                db,
                "SELECT action, actor_id, at FROM alert_actions WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            )
            return [(r["action"], r["actor_id"], from_db(r["at"])) for r in rows]
