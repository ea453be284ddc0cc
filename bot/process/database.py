"""Opening the configured database with the rules storage enforces on every write path."""

from __future__ import annotations

from bot.config import Config
from bot.config.throttle import recontact_rule
from storage.base import SurveyRepo
from storage.open import open_storage


async def open_repo(config: Config) -> SurveyRepo:
    """The repository of `config` (its SQLite file or PostgreSQL database), set up alike for the
    bot, the imports and campaigns: an invitation made through any of them obeys `[throttle]
    recontact`."""
    return await open_storage(
        config.storage.target, recontact=recontact_rule(config.throttle, config.surveys)
    )
