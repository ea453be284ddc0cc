"""Deep links for customers the shop knows by its own id: tokens, their hashes, the t.me link.

A token is 32 characters of `A-Za-z0-9_-` (192 random bits), which fits Telegram's start
parameter (at most 64 such characters). Only its SHA-256 digest is stored, so a copy of the
database cannot be turned into working links.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from aiogram.utils.deep_linking import create_deep_link

from bot.config import LinksConfig
from storage.base import LinkRepo
from survey_flows.clock import Clock

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
EXTERNAL_ID_MAX = 128  # the shop's customer id, as the intake API accepts it (issue 9)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(text: str) -> bool:
    """Could be one of ours (Telegram's start parameter alphabet and length)."""
    return TOKEN_RE.fullmatch(text) is not None


def external_id_problem(value: str) -> str | None:
    """Why `value` cannot be a shop's customer id, or None when it can."""
    if not 1 <= len(value) <= EXTERNAL_ID_MAX:
        return f"must be 1-{EXTERNAL_ID_MAX} characters"
    if not value.isprintable():
        return "must be printable characters only (no control characters or line breaks)"
    return None


@dataclass(frozen=True, slots=True)
class Link:
    url: str | None  # None when the bot's username is unknown (offline imports)
    expires_at: datetime


class LinkMaker:
    """Mints a fresh deep link for a customer the repository knows by the shop's id."""

    def __init__(
        self, config: LinksConfig, links: LinkRepo, clock: Clock, bot_username: str | None
    ) -> None:
        self._config, self._links, self._clock = config, links, clock
        self._bot_username = bot_username

    async def mint(self, external_id: str) -> Link | None:
        """A new link (its token's hash committed first); None for an unknown shop's id."""
        token, now = new_token(), self._clock()
        expires_at = now + self._config.ttl
        if not await self._links.add_link_token(external_id, token_hash(token), now, expires_at):
            return None
        url = None
        if self._bot_username:
            url = create_deep_link(self._bot_username, "start", token)
        return Link(url, expires_at)
