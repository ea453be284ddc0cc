"""Invitations made at once by two processes on one PostgreSQL database: recontact still holds,
one event_id still makes one invitation (or one waiting row), one link is taken by one user.

Each "process" is a repository of its own (its own pool and presence session). To make the two
calls really meet, a third session first locks a row both must write; both are seen waiting
on a lock in pg_stat_activity before it lets go.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import pytest

from storage.postgres import PostgresRepo, open_postgres
from storage.records import AwaitingLink, LinkOutcome, NewEvent
from survey_flows.errors import EventConflict
from survey_flows.models import Invitation, InvitationStatus
from survey_flows.pacing import Recontact

from . import backends

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ANN, BOB = 4242, 4343
T = TypeVar("T")


def event(event_id: str, customer: int | None = ANN, **kw: Any) -> NewEvent:
    fields: dict[str, Any] = {
        "customer_name": "Ann",
        "customer_language": "en",
        "context": {"order_id": event_id},
        "send_at": NOW,
        "fingerprint": "digest-1",
        **kw,
    }
    return NewEvent(event_id, "purchase", "csat", customer, **fields)


@pytest.fixture
async def processes(postgres_url: str) -> AsyncIterator[tuple[PostgresRepo, PostgresRepo]]:
    rule = Recontact(timedelta(days=30))
    first = await open_postgres(postgres_url, recontact=rule)
    second = await open_postgres(postgres_url, recontact=rule)
    yield first, second
    await first.close()
    await second.close()


@asynccontextmanager
async def holding(url: str, sql: str, *args: Any) -> AsyncIterator[asyncpg.Connection]:
    """A session that holds the row locks of `sql` (a SELECT ... FOR UPDATE) until the block
    ends."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            assert await conn.fetch(sql, *args), "the row to hold is not there"
            yield conn
    finally:
        await conn.close()


async def waiting_on_locks(conn: asyncpg.Connection, count: int) -> None:
    """Return once `count` other sessions of this database wait for a lock (within 10 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        found = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        if found >= count:
            return
        assert loop.time() < deadline, f"only {found} of {count} calls reached the lock"
        await asyncio.sleep(0.01)


async def together(
    url: str, lock_sql: str, lock_args: tuple[Any, ...], *calls: Callable[[], Awaitable[T]]
) -> list[T | BaseException]:
    """Start every call while a row they all need is locked, let go once all wait."""
    async with holding(url, lock_sql, *lock_args) as blocker:
        tasks = [asyncio.ensure_future(call()) for call in calls]
        await waiting_on_locks(blocker, len(calls))
    return list(await asyncio.gather(*tasks, return_exceptions=True))


async def test_two_events_for_one_customer_at_once_make_one_survey(processes, postgres_url):
    first, second = processes
    await first.invitations.create_invitation(
        event("earlier", send_at=NOW - timedelta(days=40)), NOW
    )
    results = await together(
        postgres_url,
        "SELECT 1 FROM customers WHERE telegram_id = $1 FOR UPDATE",
        (ANN,),
        lambda: first.invitations.create_invitation(event("order-1"), NOW),
        lambda: second.invitations.create_invitation(event("delivery-1"), NOW),
    )
    statuses = sorted(_created(r).status for r in results)
    assert statuses == [InvitationStatus.SCHEDULED, InvitationStatus.SUPPRESSED], (
        "two processes both surveyed the customer within recontact"
    )


async def test_a_new_customer_two_events_at_once_make_one_survey(processes):
    first, second = processes
    results = await asyncio.gather(
        first.invitations.create_invitation(event("order-1", customer=BOB), NOW),
        second.invitations.create_invitation(event("delivery-1", customer=BOB), NOW),
    )
    assert sorted(inv.status for inv, _ in results) == ["scheduled", "suppressed"]


async def test_one_event_posted_twice_at_once_makes_one_invitation(processes, postgres_url):
    first, second = processes
    await first.invitations.create_invitation(
        event("earlier", send_at=NOW - timedelta(days=40)), NOW
    )
    results = await together(
        postgres_url,
        "SELECT 1 FROM customers WHERE telegram_id = $1 FOR UPDATE",
        (ANN,),
        lambda: first.invitations.create_invitation(event("order-1"), NOW),
        lambda: second.invitations.create_invitation(event("order-1"), NOW),
    )
    made = [_pair(r) for r in results]
    assert sorted(created for _, created in made) == [False, True], made
    assert made[0][0] == made[1][0], "the replay did not return the stored invitation"
    count = await backends.scalar(
        first, "SELECT count(*) FROM invitations WHERE event_id = ?", ("order-1",)
    )
    assert count == 1


async def test_one_event_id_with_two_bodies_at_once_is_one_conflict(processes, postgres_url):
    first, second = processes
    await first.invitations.create_invitation(
        event("earlier", send_at=NOW - timedelta(days=40)), NOW
    )
    results = await together(
        postgres_url,
        "SELECT 1 FROM customers WHERE telegram_id = $1 FOR UPDATE",
        (ANN,),
        lambda: first.invitations.create_invitation(event("order-1"), NOW),
        lambda: second.invitations.create_invitation(event("order-1", fingerprint="other"), NOW),
    )
    conflicts = [r for r in results if isinstance(r, EventConflict)]
    stored = [r for r in results if not isinstance(r, BaseException)]
    assert len(conflicts) == 1 and len(stored) == 1, results


async def test_one_event_for_a_shop_id_twice_at_once_waits_once(processes, postgres_url):
    first, second = processes
    await first.invitations.create_for_external(event("earlier", None, external_id="crm-1"), NOW)
    results = await together(
        postgres_url,
        "SELECT 1 FROM external_customers WHERE external_id = $1 FOR UPDATE",
        ("crm-1",),
        lambda: first.invitations.create_for_external(event("o-1", None, external_id="crm-1"), NOW),
        lambda: second.invitations.create_for_external(
            event("o-1", None, external_id="crm-1"), NOW
        ),
    )
    made = [_pair(r) for r in results]
    assert all(isinstance(stored, AwaitingLink) for stored, _ in made), made
    assert sorted(created for _, created in made) == [False, True], made
    assert await backends.scalar(first, "SELECT count(*) FROM awaiting_link") == 2


async def test_one_link_opened_by_two_users_at_once_links_one(processes, postgres_url):
    first, second = processes
    await first.invitations.create_for_external(event("o-1", None, external_id="crm-1"), NOW)
    assert await first.links.add_link_token("crm-1", "hash-1", NOW, NOW + timedelta(days=1))

    def redeem(repo: PostgresRepo, user: int) -> Callable[[], Awaitable[Any]]:
        return lambda: repo.links.redeem_link_token(
            "hash-1", user, NOW, name=None, username=None, language="en"
        )

    results = await together(
        postgres_url,
        "SELECT 1 FROM link_tokens WHERE token_hash = $1 FOR UPDATE",
        ("hash-1",),
        redeem(first, ANN),
        redeem(second, BOB),
    )
    outcomes = sorted(_ok(r).outcome for r in results)
    assert outcomes == [LinkOutcome.INVALID, LinkOutcome.LINKED], results
    linked = await first.links.external_customer("crm-1")
    assert linked is not None and linked.waiting == 0
    count = await backends.scalar(
        first, "SELECT count(*) FROM invitations WHERE customer_id = ?", (linked.telegram_id,)
    )
    assert count == 1, "the waiting event was released twice, or to the wrong user"


def _ok(result: T | BaseException) -> T:
    if isinstance(result, BaseException):
        raise result
    return result


def _pair(result: tuple[Any, bool] | BaseException) -> tuple[Any, bool]:
    return _ok(result)


def _created(result: tuple[Invitation, bool] | BaseException) -> Invitation:
    return _ok(result)[0]
