"""The SQLite connection: WAL, foreign keys, numbered migrations, serialised transactions.

One connection per process. Every repository method is one transaction, serialised by a lock so
that coroutines sharing the connection never interleave inside each other's transactions.

Group commit: with synchronous=FULL a commit is an fsync (about 1.5 ms), which capped the bot at
about 300 writes a second however many customers were waiting. So a transaction runs as a
savepoint inside a shared write transaction, and a flusher that queues on the lock behind it
commits once for every transaction that got the lock before it. Each caller still returns only
after its own writes are committed; a reader first commits what is pending, so nothing acts on
writes that are not yet durable. Alone, a transaction commits at once: no added wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

import aiosqlite

from ..migrations import numbered, pending
from .rows import one_row

logger = logging.getLogger(__name__)


class Database:
    """The one writer connection and its lock, the reader, and the migrations; the repositories
    (one per aggregate) take it and run their statements through `transaction`, `reading` and
    `snapshot`."""

    def __init__(self, conn: aiosqlite.Connection, path: Path | None = None) -> None:
        self._conn = conn
        self._path = path
        # A second, read-only connection for managers' figures (see `snapshot`), opened lazily.
        self._reader: aiosqlite.Connection | None = None
        self._reader_lock = asyncio.Lock()
        self._lock = asyncio.Lock()
        # The task running a batch() owns the connection: its transactions become savepoints.
        self._batch_owner: asyncio.Task[object] | None = None
        # The open group: futures of the transactions done but not yet committed, or None.
        self._group: list[asyncio.Future[None]] | None = None
        self._flusher: asyncio.Task[None] | None = None  # kept: asyncio holds tasks weakly

    @classmethod
    async def open(cls, path: str | Path) -> Self:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=FULL")  # an acknowledged answer survives power loss
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        database = cls(conn, path)
        try:
            await database._migrate()
        except BaseException:  # a database newer than the code: nothing is left open
            await conn.close()
            raise
        return database

    async def close(self) -> None:
        async with self._lock:
            await self._commit_group()
        if self._reader is not None:
            await self._reader.close()
        await self._conn.close()

    @property
    def connection(self) -> aiosqlite.Connection:
        return self._conn

    async def _migrate(self) -> None:
        async with self._lock:
            (version,) = await one_row(await self._conn.execute("PRAGMA user_version"))
            for number, sql in pending(numbered("storage.sqlite"), version):
                logger.info("applying migration %03d", number)
                # executescript commits on its own; user_version moves inside the same script.
                await self._conn.executescript(
                    f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;"
                )

    def _in_batch(self) -> bool:
        return self._batch_owner is not None and self._batch_owner is asyncio.current_task()

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Many repository calls in one transaction, committed (one fsync) on exit.

        Inside it each call's transaction is a savepoint, so a call that fails (an event
        conflict) undoes only its own writes and the others still commit. Used by imports and
        batch posts: one commit per row with synchronous=FULL made 100,000 rows take minutes.
        """
        async with self._lock:
            await self._commit_group()
            await self._conn.execute("BEGIN IMMEDIATE")
            self._batch_owner = asyncio.current_task()
            try:
                yield
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")
            finally:
                self._batch_owner = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One serialised write transaction; committed on exit, rolled back on error."""
        if self._in_batch():
            await self._conn.execute("SAVEPOINT call")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK TO call")
                await self._conn.execute("RELEASE call")
                raise
            await self._conn.execute("RELEASE call")
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        async with self._lock:
            # The first of a group needs no savepoint: if it fails, nothing else is in the
            # transaction yet and a plain ROLLBACK undoes just it. Two round trips saved on
            # every transaction that does not queue behind another (most of them).
            first = self._group is None
            if first:
                await self._conn.execute("BEGIN IMMEDIATE")
                self._group = []
                # Queued behind every transaction already waiting: they join this commit.
                self._flusher = asyncio.get_running_loop().create_task(self._flush())
            else:
                await self._conn.execute("SAVEPOINT call")
            try:
                yield self._conn
            except BaseException:
                if first:
                    self._group = None
                    await self._conn.execute("ROLLBACK")
                else:
                    await self._conn.execute("ROLLBACK TO call")
                    await self._conn.execute("RELEASE call")
                raise
            if not first:
                await self._conn.execute("RELEASE call")
            assert self._group is not None
            self._group.append(done)
        await done  # committed (or the commit failed, raised here)

    async def write(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> int:
        """One statement as a transaction of its own (most repository writes); returns how many
        rows it changed."""
        async with self.transaction() as db:
            cursor = await db.execute(sql, params)
            return cursor.rowcount

    async def _flush(self) -> None:
        async with self._lock:
            try:
                await self._commit_group()
            except Exception:  # each transaction of the group raises it to its caller
                logger.exception("group commit failed")

    async def _commit_group(self) -> None:
        """Commit the open group, if any, and tell its transactions (the lock is held)."""
        group, self._group = self._group, None
        if group is None:
            return
        try:
            await self._conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await self._conn.execute("ROLLBACK")
            for fut in group:
                if not fut.done():
                    fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
            raise
        for fut in group:
            if not fut.done():
                fut.set_result(None)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read-only connection of its own, for heavy reads (a manager's 90-day figures).

        WAL lets it read the last committed state while the writer goes on: a manager's query
        never queues a customer's press behind it, and it never sees uncommitted writes.
        """
        if self._path is None:  # no file to open twice: share the writer
            async with self.reading() as db:
                yield db
            return
        async with self._reader_lock:
            if self._reader is None:
                uri = f"{self._path.resolve().as_uri()}?mode=ro"
                self._reader = await aiosqlite.connect(uri, uri=True, isolation_level=None)
                self._reader.row_factory = aiosqlite.Row
                await self._reader.execute("PRAGMA busy_timeout=5000")
            yield self._reader

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._in_batch():
            yield self._conn
            return
        async with self._lock:
            await self._commit_group()  # never read (and act on) writes not yet durable
            yield self._conn
