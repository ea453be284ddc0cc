"""Long polling that confirms an update to Telegram only after its handler has finished.

aiogram's `start_polling` moves the offset past an update as soon as it has started handling it
in a task, so the next getUpdates confirms it while the handler may still be running: a kill -9
at that moment loses a customer's press or comment. Here each batch is handled concurrently (one
user's updates still one after the other, by the dispatcher's event isolation) and the offset
moves past the batch only when all of it is done. A crash repeats at most that batch, which the
double-press rules make harmless: at-least-once, like webhook mode answering 200 after commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update

logger = logging.getLogger(__name__)

POLL_SECONDS = 25  # Telegram holds an empty getUpdates this long; under the session's timeout
MAX_BACKOFF = 30.0


async def _until(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _fetch(
    bot: Bot, offset: int | None, allowed: list[str], stop: asyncio.Event
) -> list[Update] | None:
    """The next batch, or None when `stop` was set first (the request is then abandoned)."""
    fetch = asyncio.ensure_future(
        bot.get_updates(offset=offset, timeout=POLL_SECONDS, allowed_updates=allowed)
    )
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not fetch.done():
        fetch.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await fetch
        return None
    return fetch.result()


async def handle_batch(dp: Dispatcher, bot: Bot, updates: list[Update]) -> None:
    """Feed every update of a batch and wait for all of them; a failure is logged, not raised."""
    results = await asyncio.gather(
        *(dp.feed_update(bot, update) for update in updates), return_exceptions=True
    )
    for update, result in zip(updates, results, strict=True):
        if isinstance(result, BaseException):
            logger.error("update %s failed", update.update_id, exc_info=result)


async def poll(dp: Dispatcher, bot: Bot, stop: asyncio.Event) -> None:
    """Receive and handle updates until `stop` is set; each confirmed only once handled."""
    me = await bot.me()
    logger.info("Run polling for bot @%s id=%d - %r", me.username, me.id, me.full_name)
    allowed = dp.resolve_used_update_types()
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        try:
            updates = await _fetch(bot, offset, allowed, stop)
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
            failures += 1
            delay = min(MAX_BACKOFF, 0.5 * 2**failures)
            logger.warning("getUpdates failed (%s); retry in %.1fs", exc, delay)
            await _until(stop, delay)
            continue
        if updates is None:
            break
        failures = 0
        if updates:
            await handle_batch(dp, bot, updates)
            offset = updates[-1].update_id + 1
    if offset is not None:
        # Confirm the last batch, so a clean restart does not see it again.
        with contextlib.suppress(Exception):
            await bot.get_updates(offset=offset, timeout=0, limit=1, allowed_updates=allowed)
    logger.info("Polling stopped for bot @%s", me.username)
