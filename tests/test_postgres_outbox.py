"""The customers' outbox shared by several processes on one PostgreSQL database: each prompt
claimed by one process, a dead process's claims given back, one customer's messages in order.

Each "process" is a repository of its own (its pool and presence session), as two bot
processes would have.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiogram import Bot

from bot.workers.delivery import DeliveryWorker
from storage.base import SurveyRepo
from storage.postgres import PostgresRepo, open_postgres
from storage.records import NewEvent
from survey_flows.models import Invitation
from telegram_emulator import BotAPIEmulator

from . import backends
from .clocks import MovableClock as Clock
from .e2e.harness import wait_until
from .test_manager import make_config

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LONG_AGO = "2000-01-01T00:00:00.000000+00:00"  # a claim made long before any lease ends


async def invite(repo: SurveyRepo, customer: int, event_id: str, due: datetime) -> Invitation:
    inv, _ = await repo.invitations.create_invitation(
        NewEvent(event_id, "purchase", "csat", customer, "Ann", "en", {}, due), NOW
    )
    return inv


async def ids(repo: SurveyRepo, limit: int = 100) -> list[int]:
    """What one look at the outbox gives this process (and claims for it)."""
    return [inv.id for inv in (await repo.outbox.due_batch(NOW, limit)).prompts]


async def two_processes(url: str) -> tuple[PostgresRepo, PostgresRepo]:
    return await open_postgres(url), await open_postgres(url)


async def test_a_claim_held_open_is_skipped_not_waited_for(postgres_url: str) -> None:
    a, b = await two_processes(postgres_url)
    try:
        made = [(await invite(a, 7000 + n, f"e{n}", NOW)).id for n in range(20)]
        async with a.batch():  # A's claims stay uncommitted, its rows locked, until the exit
            first = await ids(a, 8)
            second = await asyncio.wait_for(ids(b), 10)
        assert len(first) == 8 and not set(first) & set(second), (
            "two processes were handed the same prompt: the customer would get it twice"
        )
        assert sorted(first + second) == made, "a due prompt was handed to neither process"
        # Committed now: each process keeps its own rows, and gets none of the other's.
        assert await ids(b) == second and await ids(a) == first
    finally:
        await a.close()
        await b.close()


async def test_two_processes_racing_send_each_prompt_once(postgres_url: str) -> None:
    a, b = await two_processes(postgres_url)
    try:
        made = [(await invite(a, 7100 + n, f"e{n}", NOW)).id for n in range(60)]
        sent: dict[str, list[int]] = {"a": [], "b": []}

        async def work(name: str, repo: PostgresRepo) -> None:
            # A delivery worker's passes, with the send itself left out: until nothing is due
            # for this process (what remains, if anything, is the other's).
            while batch := (await repo.outbox.due_batch(NOW, 5)).prompts:
                for inv in batch:
                    assert await repo.outbox.claim_prompt(inv, NOW), "a prompt handed over failed"
                    sent[name].append(inv.id)
                    await repo.outbox.mark_prompt_sent(inv, 100_000 + inv.id)

        await asyncio.gather(work("a", a), work("b", b))
        assert not set(sent["a"]) & set(sent["b"]), "one prompt was sent by both processes"
        assert sorted(sent["a"] + sent["b"]) == made, "a due prompt was never sent"
    finally:
        await a.close()
        await b.close()


async def test_a_dead_process_claims_come_back_a_live_ones_never(postgres_url: str) -> None:
    a, b = await two_processes(postgres_url)
    try:
        sending, reserved, other = [
            await invite(a, 7200 + n, f"e{n}", NOW - timedelta(seconds=3 - n)) for n in range(3)
        ]
        assert await ids(a, 2) == [sending.id, reserved.id]
        assert await a.outbox.claim_prompt(sending, NOW)  # A is sending it; `reserved` waits
        assert await b.outbox.settle_uncertain_prompts() == [], (
            "a live process's send in flight was made due again: the customer gets it twice"
        )
        assert await b.outbox.next_due_at() == other.send_at, "B would wake for A's rows"
        assert await ids(b) == [other.id]
        assert not await b.outbox.claim_prompt(reserved, NOW), "B took a row A reserved"

        await a.close()  # A dies mid-send; PostgreSQL ends its session

        async def alone() -> bool:
            return await b.cluster.processes() == 1

        await wait_until(alone, what="the dead process's session to end")
        assert await b.outbox.settle_uncertain_prompts() == [sending.id], (
            "the question in flight when its process died would never be sent"
        )
        assert await ids(b) == [sending.id, reserved.id, other.id]
        assert await b.outbox.claim_prompt(reserved, NOW)
    finally:
        await b.close()


async def test_a_live_process_stalled_past_the_lease_is_relieved(postgres_url: str) -> None:
    a, b = await two_processes(postgres_url)
    try:
        stalled = await invite(a, 7300, "e1", NOW)
        reserved = await invite(a, 7301, "e2", NOW)
        assert await ids(a) == [stalled.id, reserved.id]
        assert await a.outbox.claim_prompt(stalled, NOW)
        # A lives on, but both claims were made long ago: its send hung, its pass stopped.
        await backends.execute(b, "UPDATE invitations SET claimed_at = ?", (LONG_AGO,))
        assert await b.outbox.settle_uncertain_prompts() == [stalled.id]
        assert await ids(b) == [stalled.id, reserved.id], "stale claims stayed A's for ever"
    finally:
        await a.close()
        await b.close()


async def test_one_customer_is_sent_to_by_one_process_at_a_time(postgres_url: str) -> None:
    a, b = await two_processes(postgres_url)
    try:
        first = await invite(a, 7400, "x1", NOW - timedelta(seconds=2))
        second = await invite(a, 7400, "x2", NOW - timedelta(seconds=1))
        elsewhere = await invite(a, 7401, "y1", NOW)
        assert await a.outbox.claim_prompt(first, NOW)  # A sends the customer's first survey
        assert await b.outbox.next_due_at() == elsewhere.send_at
        assert await ids(b) == [elsewhere.id], "B would send to a customer A is sending to"
        assert not await b.outbox.claim_prompt(second, NOW), (
            "the customer's second survey could overtake the first"
        )
        await a.outbox.mark_prompt_sent(first, 1)
        assert await ids(b) == [second.id, elsewhere.id]
        assert await b.outbox.claim_prompt(second, NOW)
        assert await ids(a) == [], "A would send to a customer B is sending to"
    finally:
        await a.close()
        await b.close()


async def test_two_delivery_workers_keep_each_customers_surveys_in_order(
    postgres_url: str, tmp_path: Path, emulator: BotAPIEmulator, bot: Bot
) -> None:
    a, b = await two_processes(postgres_url)
    customers, rounds = range(7500, 7508), 3
    try:
        for n in range(rounds):  # each customer's surveys due one after the other
            for customer in customers:
                due = NOW - timedelta(seconds=rounds - n)
                await invite(a, customer, f"e{customer}-{n}", due)
        surveys, clock = make_config(tmp_path).surveys, Clock(NOW)
        workers = [
            DeliveryWorker(
                bot, repo, surveys, clock, expire_after=timedelta(days=3), max_idle=0.05, batch=3
            )
            for repo in (a, b)
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            await wait_until(
                lambda: (
                    len([c for c in emulator.calls_of("sendMessage") if c.ok])
                    >= len(customers) * rounds
                ),
                what="every survey to reach its customer",
            )
        finally:
            for worker in workers:
                await worker.stop()
            await asyncio.gather(*tasks)
        assert len(emulator.calls_of("sendMessage")) == len(customers) * rounds, (
            "a survey was sent twice"
        )
        rows = await backends.fetch(
            a, "SELECT customer_id, message_id FROM invitations ORDER BY due_at, id"
        )
        shown: dict[int, list[int]] = defaultdict(list)
        for row in rows:
            shown[row["customer_id"]].append(row["message_id"])
        for customer, messages in shown.items():
            assert messages == sorted(messages), (
                f"customer {customer} got their surveys out of order: {messages}"
            )
    finally:
        await a.close()
        await b.close()


async def test_a_look_claims_at_most_its_limit(postgres_url: str) -> None:
    repo = await open_postgres(postgres_url)
    try:
        for n in range(12):
            await invite(repo, 7300 + n, f"e{n}", NOW)
        assert len(await ids(repo, 5)) == 5
        held = await backends.scalar(
            repo, "SELECT count(*) FROM invitations WHERE claimed_by IS NOT NULL"
        )
        assert held == 5, f"one look of 5 claimed {held} prompts: the rest waits for nothing"
    finally:
        await repo.close()
