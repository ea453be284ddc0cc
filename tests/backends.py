"""Both storage backends for the tests: a fresh SQLite file, or a fresh PostgreSQL database
cloned from a migrated template on the throwaway cluster (tests/pgcluster.py).

A test runs on both when it takes the `backend` fixture (or `repo`, `storage_target`,
`open_backend`) and is marked `@pytest.mark.backends("sqlite", "postgres")`; unmarked, it
runs on SQLite only. Raw reads that a test makes to look inside go through `fetch`/`scalar`,
written with SQLite's `?` placeholders, so one query serves both.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from storage.base import SurveyRepo

from . import pgcluster

TEMPLATE = "survey_template"
BOTH = pytest.mark.backends("sqlite", "postgres")
_numbers = itertools.count(1)


def server() -> Iterator[str]:
    """The url of a PostgreSQL server the tests may create databases on (session-wide)."""
    import os

    given = os.environ.get(pgcluster.ENV)
    if given:
        yield given
        return
    if pgcluster.bindir() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="survey-bot-pg-"))
    try:
        yield pgcluster.start(folder)
    finally:
        pgcluster.stop(folder)


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def _admin(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def make_template(url: str) -> None:
    """The template database, migrated once per run: each test's database is a copy of it."""
    from storage.postgres import open_postgres

    async def build() -> None:
        await _admin(url, f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await _admin(url, f"CREATE DATABASE {TEMPLATE}")
        repo = await open_postgres(with_database(url, TEMPLATE))
        await repo.close()

    asyncio.run(build())


def new_database(url: str) -> str:
    """A fresh, migrated database (a copy of the template); its url."""
    import os

    name = f"t{os.getpid()}_{next(_numbers)}"
    asyncio.run(_admin(url, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    return with_database(url, name)


def drop_database(url: str) -> None:
    server_url, name = url.rsplit("/", 1)
    with suppress(Exception):
        asyncio.run(
            _admin(server_url + "/postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        )


def admin(url: str, *statements: str) -> None:
    """Statements run on `url` from synchronous test code (outside any event loop)."""
    asyncio.run(_admin(url, *statements))


def _dollars(sql: str) -> str:
    numbers = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)


async def fetch(repo: SurveyRepo, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of a raw query (`?` placeholders) on either backend, as dicts."""
    database: Any = repo.database  # type: ignore[attr-defined]
    async with database.reading() as db:
        if hasattr(db, "fetch"):  # asyncpg
            return [dict(r) for r in await db.fetch(_dollars(sql), *params)]
        cursor = await db.execute(sql, params)
        return [dict(r) for r in await cursor.fetchall()]


async def scalar(repo: SurveyRepo, sql: str, params: Sequence[Any] = ()) -> Any:
    rows = await fetch(repo, sql, params)
    return next(iter(rows[0].values())) if rows else None


async def execute(repo: SurveyRepo, sql: str, params: Sequence[Any] = ()) -> None:
    """A raw write (`?` placeholders) on either backend, committed: for tests that set up a
    state no repository method makes (an old row, a broken one)."""
    database: Any = repo.database  # type: ignore[attr-defined]
    async with database.transaction() as db:
        if hasattr(db, "fetch"):
            await db.execute(_dollars(sql), *params)
        else:
            await db.execute(sql, params)
