"""Long polling that confirms an update to Telegram only after its handler has finished.

aiogram's `start_polling` moves the offset past an update as soon as it has started handling it
in a task, so the next getUpdates confirms it while the handler may still be running: a kill -9
at that moment loses a customer's press or comment. Here updates are still handled concurrently
(one user's one after the other, by the dispatcher's event isolation) and fetched continuously,
but the offset only moves up to the oldest update still being handled. Telegram then repeats
the ones above it that are running or done; they are skipped by id. A crash repeats at most the
updates that were not confirmed, which the double-press rules make harmless: at-least-once, like
webhook mode answering 200 after commit. One slow handler holds back confirmation, not handling.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from asyncio import FIRST_COMPLETED

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Update

from survey_flows.backoff import Backoff

logger = logging.getLogger(__name__)

POLL_SECONDS = 25  # Telegram holds an empty getUpdates this long; under the session's timeout
BACKOFF = Backoff(first=1.0, cap=30.0)  # after a failed getUpdates: 1 s, 2 s, ... 30 s
# After a batch with repeats, wait this long at most for the older half of the running updates.
# Fetching again after every finished handler parsed each update of a burst 15 times, a third
# of the bot's CPU; waiting for the older half moves the offset past most of them first.
REPEAT_WAIT = 0.2
# A poller that has polled this long (or got an answer) is the one already running when a 409
# says another process polls too: it stays and retries after CONFLICT_RETRY; the other leaves.
INCUMBENT_AFTER = 3.0
CONFLICT_RETRY = 0.5


class PollingConflict(Exception):
    """Another process polls Telegram with this bot's token."""


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
        await asyncio.wait({fetch, stopped}, return_when=FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not fetch.done():
        fetch.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await fetch
        return None
    return fetch.result()


class _Window:
    """The updates being handled and those done but not yet confirmed, by update id."""

    def __init__(self) -> None:
        self.running: dict[int, asyncio.Task[None]] = {}
        self.done: set[int] = set()
        self.offset: int | None = None

    def seen(self, update_id: int) -> bool:
        return update_id in self.running or update_id in self.done

    def start(self, dp: Dispatcher, bot: Bot, update: Update) -> None:
        task = asyncio.create_task(_handle(dp, bot, update), name=f"update-{update.update_id}")
        self.running[update.update_id] = task
        task.add_done_callback(functools.partial(self._finish, update.update_id))

    def _finish(self, update_id: int, _task: asyncio.Task[None]) -> None:
        self.running.pop(update_id, None)
        self.done.add(update_id)

    def confirmable(self) -> int | None:
        """The offset for the next getUpdates: below the oldest update still being handled."""
        if self.running:
            candidate = min(self.running)
        elif self.done:
            candidate = max(self.done) + 1
        else:
            return self.offset
        if self.offset is None or candidate > self.offset:
            self.offset = candidate
        self.done = {i for i in self.done if i >= self.offset}
        return self.offset

    async def older_half_done(self, stop: asyncio.Event, timeout: float) -> None:
        """Wait until the older half of the running updates finished (or stop, or `timeout`
        seconds), so the offset moves past them and the next batch is mostly new updates."""
        stopped = asyncio.ensure_future(stop.wait())
        try:
            ids = sorted(self.running)
            older = {self.running[i] for i in ids[: max(1, len(ids) // 2)]}
            all_older = asyncio.ensure_future(asyncio.wait(older))  # never cancels the handlers
            await asyncio.wait({all_older, stopped}, timeout=timeout, return_when=FIRST_COMPLETED)
            all_older.cancel()
        finally:
            stopped.cancel()


async def _handle(dp: Dispatcher, bot: Bot, update: Update) -> None:
    try:
        await dp.feed_update(bot, update)
    except Exception:  # the dispatcher's error handler already answered the user
        logger.exception("update %s failed", update.update_id)


async def poll(dp: Dispatcher, bot: Bot, stop: asyncio.Event, drain: float = 10.0) -> None:
    """Receive and handle updates until `stop` is set; each confirmed only once handled."""
    me = await bot.me()
    logger.info("Run polling for bot @%s id=%d - %r", me.username, me.id, me.full_name)
    allowed = dp.resolve_used_update_types()
    window = _Window()
    failures = 0
    polled = False  # a getUpdates of ours has come back
    loop = asyncio.get_running_loop()
    since = loop.time()
    while not stop.is_set():
        try:
            updates = await _fetch(bot, window.confirmable(), allowed, stop)
        except TelegramConflictError:
            # Telegram ends the older of two getUpdates with 409, so both pollers see them.
            # The newcomer (nothing came back yet, started just now) says so and ends; the
            # one that was polling tries again, which ends the newcomer's first request.
            if not polled and loop.time() - since < INCUMBENT_AFTER:
                raise PollingConflict(
                    "telegram.mode: another process already polls Telegram with this bot token"
                    ' (409 Conflict); run one poller, or the others with mode = "webhook"'
                ) from None
            logger.warning("getUpdates: another process polls this bot too (409); retrying")
            await _until(stop, CONFLICT_RETRY)
            continue
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
            failures += 1
            delay = BACKOFF.delay(failures)
            logger.warning("getUpdates failed (%s); retry in %.1fs", exc, delay)
            await _until(stop, delay)
            continue
        if updates is None:
            break
        failures, polled = 0, True
        fresh = [u for u in updates if not window.seen(u.update_id)]
        for update in fresh:
            window.start(dp, bot, update)
        if window.running and len(fresh) < len(updates):
            # Telegram repeats everything above the oldest running update: fetching again at
            # once would mostly parse those again.
            await window.older_half_done(stop, REPEAT_WAIT)
    if window.running:  # let handlers finish their commit, so the stop confirms them
        await asyncio.wait(window.running.values(), timeout=drain)
    offset = window.confirmable()
    if offset is not None:
        # Confirm what was handled, so a clean restart does not see it again.
        with contextlib.suppress(Exception):
            await bot.get_updates(offset=offset, timeout=0, limit=1, allowed_updates=allowed)
    logger.info("Polling stopped for bot @%s", me.username)
