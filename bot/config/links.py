"""[links]: deep links that tie a customer the shop knows by its own id to their Telegram chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from bot.config.values import Duration, check

MAX_LINK_TTL = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class LinksConfig:
    """[links]: how long a deep link stays valid after it was made."""

    ttl: Annotated[
        Duration,
        check(lambda ttl: ttl > timedelta(0), 'must be longer than 0s (e.g. "30d")'),
        check(
            lambda ttl: ttl <= MAX_LINK_TTL,
            "must be at most 366d (a link is a key to a chat: renew it)",
        ),
    ] = timedelta(days=30)
