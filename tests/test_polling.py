"""Polling confirms an update only after its handler finished, so a crash cannot lose it."""

from __future__ import annotations

import asyncio
import contextlib

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message, Update

from bot.telegram.polling import poll
from telegram_emulator import BotAPIEmulator

TIMEOUT = 10.0


def recording_dispatcher(
    emulator: BotAPIEmulator, seen: list[str], confirmed_while_running: list[bool]
) -> Dispatcher:
    """A handler that, while running, gives the poller the chance to ask Telegram for more (and
    so confirm what it holds), then notes whether its own update was confirmed meanwhile."""
    router = Router()
    done = asyncio.Event()

    @router.message()
    async def on_message(message: Message, event_update: Update) -> None:
        mark = len(emulator.calls)
        # A poller that confirms early sends its next getUpdates at once; a correct one sends
        # none while this handler runs, so this wait ends by its short timeout instead.
        with contextlib.suppress(TimeoutError):
            await emulator.wait_for_call("getUpdates", after=mark, timeout=0.5)
        pending = {u["update_id"] for u in emulator.pending_updates}
        confirmed_while_running.append(event_update.update_id not in pending)
        seen.append(message.text or "")
        done.set()

    dp = Dispatcher(done=done)
    dp.include_router(router)
    return dp


async def handled(dp: Dispatcher) -> None:
    await asyncio.wait_for(dp["done"].wait(), TIMEOUT)


async def test_an_update_stays_unconfirmed_until_its_handler_finished(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    stop = asyncio.Event()
    seen: list[str] = []
    confirmed: list[bool] = []
    dp = recording_dispatcher(emulator, seen, confirmed)
    polling = asyncio.create_task(poll(dp, bot, stop))
    try:
        emulator.user_message(42, "it was awful, took 3 days")
        await handled(dp)
        assert confirmed == [False], (
            "the comment was confirmed to Telegram while its handler still ran: a crash then"
            " would have lost it"
        )
        assert seen == ["it was awful, took 3 days"]
    finally:
        stop.set()
        await asyncio.wait_for(polling, TIMEOUT)


async def test_stop_ends_polling_at_once_and_confirms_what_was_handled(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    stop = asyncio.Event()
    seen: list[str] = []
    dp = recording_dispatcher(emulator, seen, [])
    polling = asyncio.create_task(poll(dp, bot, stop))
    emulator.user_message(42, "hello")
    await handled(dp)
    stop.set()
    await asyncio.wait_for(polling, TIMEOUT)  # not held by a 25 s long poll
    assert seen == ["hello"]
    assert emulator.pending_updates == [], "a clean stop left a handled update to be repeated"


async def test_a_slow_handler_holds_back_confirmation_not_other_customers(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    release, fast_done, stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    seen: list[str] = []
    router = Router()

    @router.message()
    async def on_message(message: Message) -> None:
        if message.text == "slow":
            await release.wait()
        seen.append(message.text or "")
        if message.text == "fast":
            fast_done.set()

    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(poll(dp, bot, stop))
    try:
        slow = emulator.user_message(42, "slow")
        emulator.user_message(43, "fast")
        await asyncio.wait_for(fast_done.wait(), TIMEOUT)
        assert seen == ["fast"], "one customer's slow handler kept another waiting"
        pending = [u["update_id"] for u in emulator.pending_updates]
        assert slow["update_id"] in pending, "an update still being handled was confirmed"
        release.set()
        await emulator.wait_for_poll(timeout=TIMEOUT)  # listening again: the offset was sent
        assert emulator.pending_updates == [], "handled updates were left unconfirmed"
        assert sorted(seen) == ["fast", "slow"], "an update was handled twice or not at all"
    finally:
        stop.set()
        await asyncio.wait_for(polling, TIMEOUT)
