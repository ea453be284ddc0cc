"""[links]: deep links that tie a customer the shop knows by its own id to their Telegram chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.config.section import ConfigError, Section

DEFAULT_LINK_TTL = timedelta(days=30)
MAX_LINK_TTL = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class LinksConfig:
    """[links]: how long a deep link stays valid after it was made."""

    ttl: timedelta = DEFAULT_LINK_TTL


def parse_links(raw: Any) -> LinksConfig:
    section = Section(raw, "links", {"ttl"})
    ttl = section.duration("ttl", DEFAULT_LINK_TTL)
    if ttl <= timedelta(0):
        raise ConfigError('links.ttl: must be longer than 0s (e.g. "30d")')
    if ttl > MAX_LINK_TTL:
        raise ConfigError("links.ttl: must be at most 366d (a link is a key to a chat: renew it)")
    return LinksConfig(ttl=ttl)
