"""The alert worker on two processes sharing one PostgreSQL database: each card is claimed by
one process, a dead process's claims come back to the living, two staff pressing Take at once
make one owner.

Each "process" is a repository of its own (its own pool and presence session).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from storage.postgres import PostgresRepo, open_postgres
from storage.states import Post

from . import backends
from .clocks import MovableClock
from .test_alerts import ANNA, BORIS, raise_alert
from .test_manager import NOW

ALERTS = 30


@pytest.fixture
async def processes(postgres_url: str) -> AsyncIterator[tuple[PostgresRepo, PostgresRepo]]:
    first, second = await open_postgres(postgres_url), await open_postgres(postgres_url)
    yield first, second
    await first.close()
    await second.close()


async def raise_alerts(repo: PostgresRepo, count: int) -> list[int]:
    """`count` customers scored CSAT 1: the ids of their alerts, waiting to be posted."""
    clock = MovableClock(NOW)
    for customer in range(1, count + 1):
        await raise_alert(repo, customer, 1, clock)
    rows = await backends.fetch(repo, "SELECT id FROM alerts ORDER BY id")
    return [r["id"] for r in rows]


async def holders(repo: PostgresRepo) -> dict[int, int]:
    """alert id -> the holder of its claim, for the alerts being posted."""
    rows = await backends.fetch(
        repo, f"SELECT id, claimed_by FROM alerts WHERE post_state = {Post.POSTING}"
    )
    return {r["id"]: r["claimed_by"] for r in rows}


@asynccontextmanager
async def holding(url: str, sql: str, *args: Any) -> AsyncIterator[asyncpg.Connection]:
    """A third session holding the row locks of `sql` (SELECT ... FOR UPDATE) in the block."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            assert await conn.fetch(sql, *args), "the rows to hold are not there"
            yield conn
    finally:
        await conn.close()


async def together(url: str, lock_sql: str, *calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """The calls started while a row they all need is locked, let go once all wait on it: as in
    tests/test_postgres_invitations.py, they really meet."""
    async with holding(url, lock_sql) as blocker:
        tasks = [asyncio.ensure_future(call()) for call in calls]
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        await until(lambda: blocker.fetchval(waiting), len(calls), "the calls to wait")
    return list(await asyncio.gather(*tasks))


async def until(read: Callable[[], Awaitable[Any]], value: Any, what: str) -> None:
    """Return once `read()` gives `value` (within 10 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (found := await read()) != value:
        assert loop.time() < deadline, f"timed out waiting for {what}: {found}"
        await asyncio.sleep(0.01)


async def ended(repo: PostgresRepo, pid: int) -> None:
    """Return once the session `pid` has left pg_stat_activity."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE pid = ?"
    await until(lambda: backends.scalar(repo, sql, (pid,)), 0, f"session {pid} to end")


async def test_two_processes_claiming_at_once_never_post_one_alert_twice(processes, postgres_url):
    first, second = processes
    ids = await raise_alerts(first, ALERTS)
    got: dict[int, list[int]] = {first.database.holder: [], second.database.holder: []}

    async def claim(repo: PostgresRepo) -> None:
        for alert in await repo.alert_posts.claim_alerts_to_post(3):
            got[repo.database.holder].append(alert.id)

    # A third session holds the two oldest: the claims pass them by instead of waiting.
    async with holding(postgres_url, "SELECT 1 FROM alerts WHERE id <= $1 FOR UPDATE", ids[1]):
        await asyncio.wait_for(asyncio.gather(*(claim(r) for r in [first, second] * 2)), 10)
        early = [i for claimed in got.values() for i in claimed]
        assert ids[0] not in early and ids[1] not in early, "a claim took a row being claimed"
    await asyncio.gather(*(claim(r) for r in [first, second] * 4))
    for repo in itertools.islice(itertools.cycle([first, second]), 30):
        await claim(repo)

    counts = Counter(i for claimed in got.values() for i in claimed)
    twice = [i for i, n in counts.items() if n > 1]
    assert not twice, f"alerts {twice} would have been posted by both processes"
    assert sorted(counts) == ids, "an alert was never claimed"
    assert all(got.values()), "one process claimed everything: the claims never met"
    claimed_by = await holders(first)
    assert all(claimed_by[i] == holder for holder, mine in got.items() for i in mine)
    assert await first.alert_posts.count_alerts_to_post() == 0


async def test_a_dead_processs_posts_come_back_a_living_ones_do_not(processes, postgres_url):
    first, second = processes
    ids = await raise_alerts(first, 3)
    (mine,) = await first.alert_posts.claim_alerts_to_post(1)
    (theirs,) = await second.alert_posts.claim_alerts_to_post(1)
    assert await first.alert_posts.settle_uncertain_alert_posts() == 0, (
        "a live process's card, perhaps being sent right now, was made due again"
    )
    await first.alert_posts.release_alert_posts([theirs.id])  # not first's to give back
    assert (await holders(second))[theirs.id] == second.database.holder

    dead = first.database.holder
    await first.close()  # the process dies mid-send: its session ends
    await ended(second, dead)
    restarted = await open_postgres(postgres_url)
    try:
        assert await restarted.alert_posts.settle_uncertain_alert_posts() == 1
        assert await holders(restarted) == {theirs.id: second.database.holder}
        again = await restarted.alert_posts.claim_alerts_to_post(10)
        assert [a.id for a in again] == [mine.id, ids[2]], "the dead process's card was lost"
    finally:
        await restarted.close()


async def test_a_claim_older_than_the_lease_comes_back_though_its_process_lives(processes):
    first, second = processes
    await raise_alerts(first, 1)
    (wedged,) = await first.alert_posts.claim_alerts_to_post(1)
    assert await second.alert_posts.settle_uncertain_alert_posts() == 0
    # Claimed by the server's clock: a claim dated a day before it has outlived any lease.
    await backends.execute(
        first,
        "UPDATE alerts SET claimed_at = to_char((now() - interval '1 day') AT TIME ZONE 'UTC',"
        ' \'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')',
    )
    assert await second.alert_posts.settle_uncertain_alert_posts() == 1
    assert [a.id for a in await second.alert_posts.claim_alerts_to_post(1)] == [wedged.id]


async def test_two_staff_taking_one_alert_at_once_make_one_owner(processes, postgres_url):
    first, second = processes
    (alert_id,) = await raise_alerts(first, 1)
    results = await together(
        postgres_url,
        f"SELECT 1 FROM alerts WHERE id = {alert_id} FOR UPDATE",
        lambda: first.alerts.take_alert(alert_id, ANNA, "Anna", NOW),
        lambda: second.alerts.take_alert(alert_id, BORIS, "Boris", NOW),
    )
    assert sorted(results) == [False, True], results
    alert = await first.alerts.get_alert(alert_id)
    assert alert is not None
    owner = ANNA if results[0] is True else BORIS
    assert alert.owner_id == owner, "the card names someone other than who won"
    taken = [a for a in await first.alerts.actions_of(alert_id) if a[0] == "taken"]
    assert [actor for _, actor, _ in taken] == [owner], "both takes were logged"


async def test_a_reopened_case_is_told_in_its_thread_by_one_process(processes):
    first, second = processes
    (alert_id,) = await raise_alerts(first, 1)
    await first.alert_posts.claim_alerts_to_post(1)
    await first.alert_posts.mark_alert_posted(alert_id, -100555, 77)
    assert await first.alerts.resolve_alert(alert_id, ANNA, "Anna", NOW, NOW)
    assert await first.alert_timers.mark_recheck_sent(alert_id, NOW)
    assert await first.alerts.record_recheck(alert_id, 1, False, NOW)  # "not solved"

    due = await asyncio.gather(
        first.alert_posts.due_reopen_posts(), second.alert_posts.due_reopen_posts()
    )
    assert sorted(len(d) for d in due) == [0, 1], "both processes would post the line"
    teller = first if due[0] else second
    other = second if teller is first else first
    # The send failed: the same process tries again on its next pass; the other still not.
    assert await other.alert_posts.due_reopen_posts() == []
    (post,) = await teller.alert_posts.due_reopen_posts()
    assert post.alert.id == alert_id and post.reason == "not_solved"
    await teller.alert_posts.mark_reopen_posted(alert_id)
    assert await teller.alert_posts.due_reopen_posts() == []
    assert await other.alert_posts.due_reopen_posts() == []
