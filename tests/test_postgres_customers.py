"""Erasure and opt-out on one PostgreSQL database with another process recording the same
customer's answer at that moment: the two are applied one after the other, never interleaved.

Each "process" is a repository of its own. One of them keeps its call's transaction open in a
`batch()` until the other is seen waiting for a lock, so the two calls really meet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from storage.postgres import PostgresRepo, open_postgres
from storage.records import Comment, NewEvent
from storage.states import Prompt
from survey_flows.models import Answer, Category, Invitation, Metric, Phase, Position

from . import backends
from .test_manager import NOW
from .test_postgres_invitations import waiting_on_locks

ANN = 424242
DONE = Position(0, Phase.DONE)


@pytest.fixture
async def processes(postgres_url: str) -> AsyncIterator[tuple[PostgresRepo, PostgresRepo]]:
    first, second = await open_postgres(postgres_url), await open_postgres(postgres_url)
    yield first, second
    await first.close()
    await second.close()


@pytest.fixture
async def watcher(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A session of its own that sees who waits for a lock."""
    conn = await asyncpg.connect(postgres_url)
    yield conn
    await conn.close()


async def asked(repo: PostgresRepo, *, scored: bool) -> Invitation:
    """Ann's CSAT question on screen; `scored`: she answered 2 and is asked why."""
    inv, _ = await repo.invitations.create_invitation(
        NewEvent("e1", "purchase", "csat", ANN, "Ann", "en", {"order_id": "A-1"}, NOW), NOW
    )
    assert await repo.outbox.claim_prompt(inv, NOW)
    await repo.outbox.mark_prompt_sent(inv, 1)
    shown = await repo.invitations.get_invitation(inv.id)
    assert shown is not None
    if not scored:
        return shown
    answer = Answer(inv.id, 0, Metric.CSAT, 2, Category.DETRACTOR, NOW)
    assert await repo.conversation.record_score(shown, Position(0, Phase.FOLLOWUP), answer)
    followup = await repo.invitations.get_invitation(inv.id)
    assert followup is not None
    return followup


async def answers(repo: PostgresRepo) -> list[tuple[int, str | None, int]]:
    rows = await backends.fetch(repo, "SELECT score, comment, customer_id FROM answers")
    return [(r["score"], r["comment"], r["customer_id"]) for r in rows]


async def test_words_being_recorded_when_the_erasure_starts_are_erased_too(
    processes: tuple[PostgresRepo, PostgresRepo], watcher: asyncpg.Connection
) -> None:
    first, second = processes
    inv = await asked(first, scored=True)
    async with second.batch():  # the follow-up is written, not yet committed
        assert await second.conversation.record_followup(inv, DONE, Comment("took 3 days"), NOW)
        erasing = asyncio.ensure_future(first.customers.erase_customer(NOW, telegram_id=ANN))
        await waiting_on_locks(watcher, 1)
    erased = await erasing
    assert erased is not None and erased.removed["comment"] == 1
    assert await answers(first) == [(2, None, 0)], "the words committed under the erasure stayed"


async def test_words_sent_while_the_erasure_runs_are_refused(
    processes: tuple[PostgresRepo, PostgresRepo], watcher: asyncpg.Connection
) -> None:
    first, second = processes
    inv = await asked(first, scored=True)
    async with first.batch():  # erased, not yet committed
        assert await first.customers.erase_customer(NOW, telegram_id=ANN)
        recording = asyncio.ensure_future(
            second.conversation.record_followup(inv, DONE, Comment("took 3 days"), NOW)
        )
        await waiting_on_locks(watcher, 1)
    assert not await recording, "an erased customer's survey took her words"
    assert await answers(first) == [(2, None, 0)], "her words came back after the erasure"


async def test_opting_out_while_the_last_answer_is_recorded_sends_no_thanks(
    processes: tuple[PostgresRepo, PostgresRepo], watcher: asyncpg.Connection
) -> None:
    first, second = processes
    inv = await asked(first, scored=True)
    async with second.batch():  # the survey completes, its thank-you due
        assert await second.conversation.record_followup(inv, DONE, Comment("took 3 days"), NOW)
        opting_out = asyncio.ensure_future(first.customers.opt_out(ANN, NOW))
        await waiting_on_locks(watcher, 1)
    assert await opting_out == 0, "a completed survey was counted as cancelled"
    (row,) = await backends.fetch(
        first, "SELECT status, prompt_sent FROM invitations WHERE id = ?", (inv.id,)
    )
    assert (row["status"], row["prompt_sent"]) == ("completed", Prompt.SHOWN), (
        "the thank-you would still go to a customer who opted out"
    )
    assert await answers(first) == [(2, "took 3 days", ANN)]


async def test_an_erasure_by_the_shops_id_and_a_score_at_once(
    processes: tuple[PostgresRepo, PostgresRepo], watcher: asyncpg.Connection
) -> None:
    first, second = processes
    inv = await asked(first, scored=False)
    await backends.execute(
        first,
        "INSERT INTO external_customers (external_id, telegram_id, name, created_at)"
        " VALUES ('crm-77', ?, 'Ann', ?)",
        (ANN, NOW.isoformat()),
    )
    answer = Answer(inv.id, 0, Metric.CSAT, 2, Category.DETRACTOR, NOW)
    async with second.batch():  # the score is recorded, not yet committed
        assert await second.conversation.record_score(inv, Position(0, Phase.FOLLOWUP), answer)
        erasing = asyncio.ensure_future(first.customers.erase_customer(NOW, external_id="crm-77"))
        await waiting_on_locks(watcher, 1)
    erased = await erasing
    assert erased is not None and erased.telegram_id == ANN and erased.scores_kept == 1
    assert await answers(first) == [(2, None, 0)], "the score was not made anonymous"
    assert await backends.scalar(first, "SELECT count(*) FROM external_customers") == 0
