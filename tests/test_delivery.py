"""The delivery worker against the emulator: an error send() does not interpret loses nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer

from bot.telegram.ratelimit import RateLimiter
from bot.workers.delivery import DeliveryWorker
from storage.base import SurveyRepo
from storage.records import NewEvent
from survey_flows.models import Invitation, InvitationStatus
from telegram_emulator import BotAPIEmulator

from . import backends
from .clocks import MovableClock as Clock
from .conftest import LocalSession
from .e2e.harness import wait_until
from .test_manager import NOW, make_config

pytestmark = backends.BOTH

CUSTOMER = 5101


def make_worker(tmp_path: Path, bot: Bot, repo: SurveyRepo, clock: Clock) -> DeliveryWorker:
    surveys = make_config(tmp_path).surveys
    return DeliveryWorker(bot, repo, surveys, clock, expire_after=timedelta(days=3))


async def ann_bought(repo: SurveyRepo) -> Invitation:
    """Ann's purchase at NOW: the CSAT invitation it made, due at once."""
    inv, _ = await repo.invitations.create_invitation(
        NewEvent("e1", "purchase", "csat", CUSTOMER, "Ann", "en", {}, NOW), NOW
    )
    return inv


async def deliver(worker: DeliveryWorker) -> None:
    """One pass of the worker and the sends it started."""
    await worker.run_once()
    await worker.drain()


# 401 and 404 were the examples here until send() learnt to interpret them (tests below); a 409
# is still an error send() lets through.
@pytest.mark.parametrize(("error_code", "raised"), [(409, "TelegramConflictError")])
async def test_an_unexpected_send_error_reschedules_the_prompt(
    tmp_path: Path,
    emulator: BotAPIEmulator,
    bot: Bot,
    repo: SurveyRepo,
    error_code: int,
    raised: str,
) -> None:
    clock = Clock(NOW)
    worker = make_worker(tmp_path, bot, repo, clock)
    inv = await ann_bought(repo)
    # An answer send() turns into no result: aiogram raises, the worker's guard catches it.
    emulator.fail_next("sendMessage", error_code=error_code, chat_id=CUSTOMER)
    await deliver(worker)

    assert emulator.last_bot_message(CUSTOMER) is None
    after = await repo.invitations.get_invitation(inv.id)
    assert after is not None
    assert not after.prompt_sent, "the prompt stayed claimed: the customer would never be asked"
    assert after.status is InvitationStatus.SCHEDULED
    assert after.note == f"internal error: {raised}"
    assert await repo.outbox.next_due_at() == NOW + timedelta(minutes=1)
    assert await repo.outbox.due_prompts(NOW + timedelta(seconds=59), 10) == []

    clock.now = NOW + timedelta(minutes=1)
    assert await worker.run_once() == 1
    await worker.drain()
    shown = emulator.last_bot_message(CUSTOMER)
    assert shown is not None, "the failure is gone but the customer never got the question"
    assert "reply_markup" in shown, "the question came without its score buttons"
    after = await repo.invitations.get_invitation(inv.id)
    assert after is not None and after.prompt_sent and after.status is InvitationStatus.ACTIVE
    assert after.message_id == shown["message_id"]


class CountingRepo:
    """The real repository, counting how often each method of its repositories is called."""

    def __init__(self, repo: object, calls: Counter[str] | None = None) -> None:
        self._repo = repo
        self.calls: Counter[str] = Counter() if calls is None else calls

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._repo, name)
        if not callable(method):  # one of the facade's repositories: count its methods too
            return CountingRepo(method, self.calls)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return await method(*args, **kwargs)

        return counted


async def test_a_customer_with_two_due_prompts_does_not_spin_the_worker(
    tmp_path: Path, emulator: BotAPIEmulator, repo: SurveyRepo
) -> None:
    assert emulator.token is not None
    session = LocalSession(api=TelegramAPIServer.from_base(emulator.base_url))
    session.middleware(RateLimiter())  # waits out the 429 below, holding the first send
    bot = Bot(emulator.token, session=session)
    clock = Clock(NOW)
    counting = CountingRepo(repo)
    worker = DeliveryWorker(
        bot,
        counting,  # type: ignore[arg-type]
        make_config(tmp_path).surveys,
        clock,
        expire_after=timedelta(days=3),
    )
    for event_id in ("e1", "e2"):
        await repo.invitations.create_invitation(
            NewEvent(event_id, "purchase", "csat", CUSTOMER, "Ann", "en", {}, NOW), NOW
        )
    emulator.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=CUSTOMER)
    task = asyncio.create_task(worker.run())
    try:
        await wait_until(
            lambda: (
                len([c for c in emulator.calls_of("sendMessage", chat_id=CUSTOMER) if c.ok]) == 2
            ),
            what="both questions to reach the customer",
        )
    finally:
        await worker.stop()
        await task
        await bot.session.close()
    # One send held for a second by a 429: the worker should look at the outbox a few times
    # (woken by the send finishing, or once a second), not thousands of times.
    assert counting.calls["due_batch"] <= 10, (
        f"the delivery worker spun while a send was in flight: {counting.calls}"
    )


async def test_a_chat_that_no_longer_exists_marks_the_customer_unreachable(
    tmp_path: Path, emulator: BotAPIEmulator, bot: Bot, repo: SurveyRepo
) -> None:
    clock = Clock(NOW)
    worker = make_worker(tmp_path, bot, repo, clock)
    inv = await ann_bought(repo)
    emulator.fail_next("sendMessage", error_code=404, description="Not Found", chat_id=CUSTOMER)
    await deliver(worker)
    after = await repo.invitations.get_invitation(inv.id)
    assert after is not None and after.status is InvitationStatus.FAILED, after
    customer = await repo.customers.get_customer(CUSTOMER)
    assert customer is not None and customer.unreachable_at is not None, (
        "a customer whose chat is gone would be asked again and again"
    )
    clock.now = NOW + timedelta(hours=2)
    assert await worker.run_once() == 0


async def test_a_revoked_token_backs_off_instead_of_failing_or_spinning(
    tmp_path: Path, emulator: BotAPIEmulator, bot: Bot, repo: SurveyRepo
) -> None:
    clock = Clock(NOW)
    worker = make_worker(tmp_path, bot, repo, clock)
    inv = await ann_bought(repo)
    emulator.fail_next("sendMessage", error_code=401, times=2, chat_id=CUSTOMER)
    await deliver(worker)
    after = await repo.invitations.get_invitation(inv.id)
    assert after is not None and after.status is InvitationStatus.SCHEDULED, after
    assert after.note is not None and after.note.startswith("unauthorized")
    assert await repo.outbox.next_due_at() == NOW + timedelta(seconds=30)
    clock.now = NOW + timedelta(seconds=30)
    await deliver(worker)
    assert await repo.outbox.next_due_at() == clock.now + timedelta(seconds=60), "no backoff"
    # The token works again: the question goes out at the next try.
    clock.now += timedelta(seconds=60)
    await deliver(worker)
    shown = emulator.last_bot_message(CUSTOMER)
    assert shown is not None, "the customer never got the question once the token worked"


async def test_an_unanswered_invitation_expires_on_its_own_and_loses_its_buttons(
    tmp_path: Path, emulator: BotAPIEmulator, bot: Bot, repo: SurveyRepo
) -> None:
    clock = Clock(NOW)
    worker = make_worker(tmp_path, bot, repo, clock)
    inv = await ann_bought(repo)
    await deliver(worker)

    def question() -> dict[str, Any]:
        (shown,) = [m for m in emulator.messages(CUSTOMER) if m["from"]["is_bot"]]
        return shown

    assert question().get("reply_markup"), "the question came without its score buttons"

    clock.now = NOW + timedelta(days=3) - timedelta(seconds=1)
    await worker.run_once()
    still = await repo.invitations.get_invitation(inv.id)
    assert still is not None and still.status is InvitationStatus.ACTIVE, "expired too early"
    assert question().get("reply_markup"), "buttons removed before the invitation expired"

    clock.now = NOW + timedelta(days=3, seconds=1)
    await worker.run_once()  # nobody pressed anything: the worker alone closes it
    expired = await repo.invitations.get_invitation(inv.id)
    assert expired is not None and expired.status is InvitationStatus.EXPIRED, expired
    assert expired.note is not None and "expired" in expired.note
    assert expired.finished_at == clock.now
    assert not question().get("reply_markup"), "the expired question still offers its buttons"
    edits = emulator.calls_of("editMessageReplyMarkup", chat_id=CUSTOMER)
    clock.now += timedelta(hours=1)
    await worker.run_once()
    assert emulator.calls_of("editMessageReplyMarkup", chat_id=CUSTOMER) == edits, "edited twice"


async def test_buttons_of_an_expired_invitation_are_removed_after_a_restart(
    tmp_path: Path, emulator: BotAPIEmulator, bot: Bot, repo: SurveyRepo
) -> None:
    clock = Clock(NOW)
    config = make_config(tmp_path)

    def worker() -> DeliveryWorker:
        return DeliveryWorker(bot, repo, config.surveys, clock, expire_after=timedelta(days=3))

    await ann_bought(repo)
    first = worker()
    await first.run_once()
    await first.drain()
    # The sweep closed the invitation and the process died before the edit.
    clock.now = NOW + timedelta(days=4)
    assert await repo.expiry.expire_invitations(NOW + timedelta(days=1), clock.now, 10) == 1
    await worker().run_once()
    (shown,) = [m for m in emulator.messages(CUSTOMER) if m["from"]["is_bot"]]
    assert not shown.get("reply_markup"), "after a restart the expired question kept its buttons"
