"""The PostgreSQL connections (asyncpg): a pool for the repositories, one session of presence.

Every repository method is one transaction on a connection of the pool, so several processes
share the database the way PostgreSQL means it to be shared: row locks order what touches one
row, `FOR UPDATE SKIP LOCKED` hands each process other rows of the outbox, and every commit is
durable before the call returns (synchronous_commit stays the server's, `on` by default).

The presence session (`Presence`) is this process's own connection outside the pool: its
backend pid names the process in the claims it makes, and it holds the advisory locks of
leadership and polling (storage/postgres/cluster.py), which PostgreSQL releases when the
session ends, however the process died.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

import asyncpg

from ..errors import Contention
from ..migrations import numbered, pending

logger = logging.getLogger(__name__)

Connection = asyncpg.Connection
# What survey-bot's sessions name themselves in pg_stat_activity: the presence session of each
# process, by which the claims of a dead process are told from a live one's (cluster.py).
APPLICATION = "survey-bot"
PRESENCE = "survey-bot presence"
# The advisory lock that serialises migrations when several processes start at once.
_MIGRATION_LOCK = 0x5375_7276_6579_0001


# A deadlock, or a serialisation failure: the transaction was rolled back whole.
_CONTENTION = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


def changed(status: str) -> int:
    """The row count of a command's status ("UPDATE 3", "INSERT 0 1", "DELETE 0")."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class Database:
    """The pool, the batch in progress (if any) and the presence session."""

    def __init__(self, pool: asyncpg.Pool, presence: asyncpg.Connection) -> None:
        self._pool = pool
        self.presence = presence
        # The pid of the presence session: what this process writes in the claims it makes.
        self.holder = presence.get_server_pid()
        # The task running a batch() and its connection: its transactions become savepoints.
        self._batch: tuple[asyncio.Task[object], asyncpg.Connection] | None = None

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 10) -> Self:
        presence = await asyncpg.connect(
            url,
            server_settings={
                "application_name": PRESENCE,
                # A process that vanished without closing its socket (a host gone) is noticed
                # in about 11 s, and its locks and claims come back.
                "tcp_keepalives_idle": "5",
                "tcp_keepalives_interval": "2",
                "tcp_keepalives_count": "3",
            },
        )
        try:
            await _migrate(presence)
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=pool_size,
                server_settings={"application_name": APPLICATION},
            )
        except BaseException:
            await presence.close()
            raise
        assert pool is not None
        return cls(pool, presence)

    async def close(self) -> None:
        await self._pool.close()
        await self.presence.close()

    def _batch_connection(self) -> asyncpg.Connection | None:
        if self._batch is not None and self._batch[0] is asyncio.current_task():
            return self._batch[1]
        return None

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Many repository calls in one transaction, committed on exit; each call inside it is
        a savepoint, so one that fails (an event conflict) undoes only its own writes."""
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                task = asyncio.current_task()
                assert task is not None
                self._batch = (task, conn)
                try:
                    yield
                finally:
                    self._batch = None
        except _CONTENTION as exc:
            # Two bulk posts taking the same customers' rows in other orders: PostgreSQL stops
            # one. Its savepoints cannot be retried inside it (it holds its earlier locks).
            raise Contention(str(exc)) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """One transaction (a savepoint inside a batch); committed on exit, rolled back on
        error."""
        conn = self._batch_connection()
        if conn is not None:
            async with conn.transaction():
                yield conn
            return
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                yield conn
        except _CONTENTION as exc:
            raise Contention(str(exc)) from exc

    async def write(self, sql: str, *args: Any) -> int:
        """One statement as a transaction of its own; returns how many rows it changed."""
        conn = self._batch_connection()
        if conn is not None:
            async with conn.transaction():
                return changed(await conn.execute(sql, *args))
        async with self._pool.acquire() as conn:
            return changed(await conn.execute(sql, *args))  # autocommit: one statement

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for reads of committed rows (or of the batch in progress)."""
        conn = self._batch_connection()
        if conn is not None:
            yield conn
            return
        async with self._pool.acquire() as conn:
            yield conn

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[asyncpg.Connection]:
        """Heavy reads (a manager's 90-day figures) in one read-only snapshot: every query of
        a report sees the same committed state, and nobody's writes wait for it."""
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield conn


async def _migrate(conn: asyncpg.Connection) -> None:
    """Apply the pending migrations, one process at a time, all in one transaction: a step
    that fails leaves the database as it was (PostgreSQL's DDL is transactional)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        version = await conn.fetchval("SELECT max(version) FROM schema_version") or 0
        steps = pending(numbered("storage.postgres"), version)
        for number, sql in steps:
            logger.info("applying migration %03d", number)
            if _statements(sql):  # a step folded into another has only its comment
                await conn.execute(sql)
        if steps:
            await conn.execute("DELETE FROM schema_version")
            await conn.execute("INSERT INTO schema_version VALUES ($1)", steps[-1][0])


def _statements(sql: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("--") for line in sql.splitlines())
