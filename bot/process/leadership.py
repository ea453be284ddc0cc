"""Which process runs the work that must run once: the scheduler, campaigns, sweepers, alerts.

On SQLite the one process leads from the start. On PostgreSQL every process asks for the leader's
advisory lock every few seconds (storage's `ClusterRepo.try_lead`); PostgreSQL gives it to one
and frees it when that process's session ends, so another takes over within one period of the
holder's death (plus, for a host that vanished, the session's keepalive: about 11 s). The leader
also gives back the claims of dead processes (their sends in flight are due again) and every
process keeps its share of Telegram's flood limits as processes come and go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.telegram.ratelimit import RateLimiter
from storage.base import SurveyRepo

logger = logging.getLogger(__name__)

EVERY = 3.0  # seconds between asks: a dead leader's work resumes within this (+ keepalive)


class Leadership:
    def __init__(
        self,
        repo: SurveyRepo,
        lead: Callable[[], Awaitable[None]],
        *,
        settle: Callable[[], Awaitable[None]],
        limiter: RateLimiter | None = None,
        every: float = EVERY,
    ) -> None:
        self._repo, self._lead, self._settle = repo, lead, settle
        self._limiter, self._every = limiter, every
        self.leading = False

    async def start(self) -> None:
        """Lead at once if this process may (always on SQLite): the leader's work then starts
        in the order it always did, before the bot takes updates."""
        await self._try()

    async def run(self, stop: asyncio.Event) -> None:
        """Ask again every few seconds until `stop`; losing the database session stops the
        process (its locks are gone with it: another process may already lead)."""
        if not self._repo.cluster.shared:
            return
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)
            if stop.is_set():
                return
            try:
                await self._try()
                if self.leading:
                    await self._settle()
            except Exception as exc:  # the database session is gone, or the database
                logger.error("lost the database session (%s): stopping this process", exc)
                stop.set()
                return

    async def _try(self) -> None:
        cluster = self._repo.cluster
        if self._limiter is not None:
            self._limiter.share(await cluster.processes())
        if self.leading or not await cluster.try_lead():
            return
        self.leading = True
        if cluster.shared:
            logger.info("this process leads: it runs the scheduler, campaigns and sweepers")
        await self._lead()
