"""Opening the configured database with the rules storage enforces on every write path."""

from __future__ import annotations

from bot.config import Config
from bot.config.throttle import recontact_rule
from storage.sqlite import SqliteRepo


async def open_repo(config: Config) -> SqliteRepo:
    """The repository of `config`, set up alike for the bot, the imports and campaigns: an
    invitation made through any of them obeys `[throttle] recontact`."""
    repo = await SqliteRepo.open(config.storage.path)
    repo.set_recontact(recontact_rule(config.throttle, config.surveys))
    return repo
