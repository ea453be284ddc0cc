"""The staff chat's real id after an upgrade to a supergroup, and whether it was reachable: as in
storage/sqlite/staff_chat.py."""

from __future__ import annotations

from datetime import datetime

from ..timestamps import to_db
from .database import Database

STAFF_CHAT_STATUS = "staff_chat_status"


class StaffChat:
    """Where the staff chat lives now, and what the alert worker last found of it."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def effective_chat(self, chat_id: int) -> int:
        """Where `chat_id` lives now, following recorded migrations (a chain, loops ignored)."""
        seen = {chat_id}
        async with self._db.reading() as conn:
            while True:
                new_chat_id = await conn.fetchval(
                    "SELECT new_chat_id FROM chat_migrations WHERE old_chat_id = $1", chat_id
                )
                if new_chat_id is None or new_chat_id in seen:
                    return chat_id
                chat_id = new_chat_id
                seen.add(chat_id)

    async def is_staff_chat(self, chat_id: int, configured: int | None) -> bool:
        """Whether `chat_id` is the configured staff chat, or what it became after an upgrade."""
        if configured is None or chat_id > 0:  # private chats are never the staff group
            return False
        return chat_id == configured or chat_id == await self.effective_chat(configured)

    async def record_chat_migration(
        self, old_chat_id: int, new_chat_id: int, now: datetime
    ) -> None:
        """The group became a supergroup: remember it, and move its alerts' messages along.

        SQLite's UPDATE OR IGNORE is the NOT EXISTS: a message whose id is already known under
        the new chat's id keeps its old chat id, as there."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO chat_migrations (old_chat_id, new_chat_id, migrated_at)"
                " VALUES ($1, $2, $3) ON CONFLICT (old_chat_id) DO UPDATE SET"
                " new_chat_id = excluded.new_chat_id, migrated_at = excluded.migrated_at",
                old_chat_id,
                new_chat_id,
                to_db(now),
            )
            await conn.execute(
                "UPDATE alerts SET chat_id = $1 WHERE chat_id = $2", new_chat_id, old_chat_id
            )
            await conn.execute(
                "UPDATE alert_messages m SET chat_id = $1 WHERE m.chat_id = $2 AND NOT EXISTS"
                " (SELECT 1 FROM alert_messages o WHERE o.chat_id = $1"
                " AND o.message_id = m.message_id)",
                new_chat_id,
                old_chat_id,
            )

    async def set_staff_chat_status(self, status: str) -> None:
        """`ok`, or `unreachable: <reason>`, as last found by the alert worker."""
        await self._db.write(
            "INSERT INTO settings (key, value) VALUES ($1, $2)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            STAFF_CHAT_STATUS,
            status,
        )

    async def staff_chat_status(self) -> str:
        async with self._db.reading() as conn:
            value = await conn.fetchval(
                "SELECT value FROM settings WHERE key = $1", STAFF_CHAT_STATUS
            )
        return value if value is not None else "ok"
