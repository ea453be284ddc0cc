"""Opening the configured database with the rules storage enforces on every write path."""

from __future__ import annotations

import logging
import sqlite3

from bot.config import Config
from bot.config.throttle import recontact_rule
from bot.process.startup import StartupError
from storage.base import SurveyRepo
from storage.migrations import SchemaTooNew, latest_version
from storage.open import open_storage

logger = logging.getLogger(__name__)


async def open_repo(config: Config) -> SurveyRepo:
    """The repository of `config` (its SQLite file or PostgreSQL database), set up alike for the
    bot, the imports and campaigns: an invitation made through any of them obeys `[throttle]
    recontact`."""
    return await open_storage(
        config.storage.target, recontact=recontact_rule(config.throttle, config.surveys)
    )


async def open_checked(config: Config) -> SurveyRepo:
    """`open_repo`, with what the database's side gets wrong as one StartupError line."""
    storage = config.storage
    key = "storage.path" if storage.url is None else "storage.url"
    try:
        repo = await open_repo(config)
    except _open_failures(postgres=storage.url is not None) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise StartupError(f"{key}: cannot open the database {storage.shown} ({reason})") from None
    logger.info("database: %s", storage.shown)
    return repo


def _open_failures(*, postgres: bool) -> tuple[type[Exception], ...]:
    """What opening the database raises when the database, not the code, is at fault: its file
    or server unreachable, refused, or migrated by a newer survey-bot."""
    if not postgres:
        return (OSError, sqlite3.Error, SchemaTooNew)
    import asyncpg  # here only: a SQLite set-up never loads it

    # InterfaceError: the client side of a failed connection (the server hung up, SSL refused).
    return (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, SchemaTooNew)


async def migrate(config: Config) -> None:
    """`survey-bot migrate`: bring the database to this version's schema and say so."""
    repo = await open_checked(config)
    await repo.close()
    print(f"{config.storage.shown}: schema at version {latest_version()}")
