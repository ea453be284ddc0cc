"""Several processes on one database: who leads, who polls, whose claims are dead.

All of it is PostgreSQL's own machinery on each process's presence session: session-level
advisory locks (held until the session ends, however the process ended) and pg_stat_activity
(which sessions are alive). No heartbeats of our own, no table of nodes.
"""

from __future__ import annotations

import hashlib

from .database import PRESENCE, Database

# Advisory lock keys (64-bit): one namespace per purpose, so they never collide.
_LEADER = 0x5375_7276_6579_0002


def _key(purpose: str, name: str) -> int:
    digest = hashlib.blake2b(f"{purpose}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# The claims of a session that is gone are due again; a claim older than this is due again
# even if its session lives (a process wedged mid-send): the lease's upper bound.
LEASE_SECONDS = 600

# A claim is dead when no live survey-bot session has its holder's pid. Shared by every claim
# the outbox and the alert worker make (invitations, alerts): `{column}` is the holder column.
DEAD_HOLDER = (
    "{column} IS NULL OR {column} NOT IN (SELECT pid FROM pg_stat_activity"
    f" WHERE application_name = '{PRESENCE}')"
)


class Cluster:
    """`storage.base.ClusterRepo` on PostgreSQL."""

    shared = True

    def __init__(self, database: Database) -> None:
        self._db = database

    async def try_lead(self) -> bool:
        """Become, or stay, the one process that runs the scheduler, campaigns and sweepers.

        Re-entrant on our own session: asking again while leading is true at once. PostgreSQL
        frees the lock when the leader's session ends, and the next caller gets it."""
        return bool(await self._db.presence.fetchval("SELECT pg_try_advisory_lock($1)", _LEADER))

    async def try_poll(self, bot_id: int) -> bool:
        """Become the one process polling Telegram for this bot (Telegram answers 409 to a
        second getUpdates): false if another live process already polls."""
        key = _key("polling", str(bot_id))
        return bool(await self._db.presence.fetchval("SELECT pg_try_advisory_lock($1)", key))

    async def processes(self) -> int:
        """How many survey-bot processes have a session on this database (at least this one)."""
        found = await self._db.presence.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", PRESENCE
        )
        return max(1, int(found or 0))
