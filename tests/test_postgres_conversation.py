"""One customer's updates received by two processes at once (webhooks behind a load balancer):
applied one after the other on PostgreSQL, a repeated press still a no-op."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from storage.postgres import PostgresRepo, open_postgres
from storage.records import Comment, NewEvent
from survey_flows.models import Answer, Category, Invitation, Metric, Phase, Position

from . import backends
from .e2e.harness import wait_until

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CUSTOMER = 7600


async def shown(repo: PostgresRepo, event_id: str = "e1") -> Invitation:
    """Ann's first question, on her screen."""
    inv, _ = await repo.invitations.create_invitation(
        NewEvent(event_id, "purchase", "csat", CUSTOMER, "Ann", "en", {}, NOW), NOW
    )
    assert await repo.outbox.claim_prompt(inv, NOW)
    await repo.outbox.mark_prompt_sent(inv, 42)
    found = await repo.invitations.get_invitation(inv.id)
    assert found is not None
    return found


async def blocked(repo: PostgresRepo) -> bool:
    """Some session of this database waits for a row lock (the other process's update)."""
    sql = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    return bool(await backends.scalar(repo, sql))


async def test_one_press_delivered_to_two_processes_is_recorded_once(postgres_url: str) -> None:
    a, b = await open_postgres(postgres_url), await open_postgres(postgres_url)
    try:
        inv = await shown(a)
        press = Answer(inv.id, 0, Metric.CSAT, 2, Category.DETRACTOR, NOW)
        moved = Position(0, Phase.FOLLOWUP)
        async with a.batch():  # A records the press; its commit comes at the block's end
            assert await a.conversation.record_score(inv, moved, press)
            again = asyncio.create_task(b.conversation.record_score(inv, moved, press))
            await wait_until(lambda: blocked(a), what="B to wait for A's row")
        assert not await again, "a press seen by two processes counted twice"
        assert len(await b.conversation.answers_for(inv.id)) == 1
        # And at the same moment, with neither held back.
        other = await shown(a, "e2")
        recorded = await asyncio.gather(
            *(r.conversation.record_score(other, moved, press) for r in (a, b))
        )
        assert sorted(recorded) == [False, True], "a press seen by two processes counted twice"
    finally:
        await a.close()
        await b.close()


async def test_two_messages_at_a_score_question_in_two_processes_are_both_kept(
    postgres_url: str,
) -> None:
    a, b = await open_postgres(postgres_url), await open_postgres(postgres_url)
    try:
        inv = await shown(a)
        async with a.batch():
            assert await a.conversation.record_early_comment(inv, Comment("too slow"))
            second = asyncio.create_task(
                b.conversation.record_early_comment(inv, Comment("and rude"))
            )
            await wait_until(lambda: blocked(a), what="B to wait for A's row")
        assert await second
        words = await backends.scalar(
            a, "SELECT early_comment FROM invitations WHERE id = ?", (inv.id,)
        )
        assert words == "too slow\nand rude", f"one of the customer's messages was lost: {words!r}"
    finally:
        await a.close()
        await b.close()
