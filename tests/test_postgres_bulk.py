"""Campaign runs and imports shared by processes on one PostgreSQL database: one slot run by
two processes invites each customer once, a chunk waits for an opt-out or another survey of a
customer and then leaves them out, and two imports of one file store every answer once.

Each "process" is a repository of its own (its own pool and presence session). Where two
writes must meet, a third session holds the row both need, and lets go only once the call is
seen waiting on a lock in pg_stat_activity.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.intake.csv_table import open_table
from bot.intake.imports import import_answers
from storage.postgres import PostgresRepo, open_postgres
from storage.records import ImportedAnswer
from storage.timestamps import to_db
from survey_flows.errors import EventConflict
from survey_flows.models import Category, Metric

from . import backends
from .clocks import MovableClock
from .test_campaigns import CAMPAIGN, NOW, campaigns_for, expected, invited, seed


@pytest.fixture
async def processes(postgres_url: str) -> AsyncIterator[tuple[PostgresRepo, PostgresRepo]]:
    first, second = await open_postgres(postgres_url), await open_postgres(postgres_url)
    yield first, second
    await first.close()
    await second.close()


async def waiting_on_a_lock(conn: asyncpg.Connection) -> None:
    """Return once another session of this database waits for a lock (within 10 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock'"
    )
    while not await conn.fetchval(sql):
        assert loop.time() < deadline, "the call never reached the lock"
        await asyncio.sleep(0.01)


async def test_two_processes_running_one_slot_invite_each_customer_once(processes) -> None:
    """A leader's cron firing and someone's `campaign run` catching up the same slot."""
    first, second = processes
    await seed(first, 1000)
    want, _ = expected(1000, timedelta(days=30))
    clock = MovableClock(NOW)
    results = await asyncio.gather(
        campaigns_for(first, clock, chunk=7).run_scheduled(CAMPAIGN.name, NOW),
        campaigns_for(second, clock, chunk=5).run_scheduled(CAMPAIGN.name, NOW),
    )
    got = await invited(first)
    assert set(got) == want and set(got.values()) == {1}, "a customer was invited twice"
    assert sum(r.invited for r in results) == len(want)
    (run,) = await first.campaigns.runs(CAMPAIGN.name)
    assert run.invited == len(want) and run.finished_at is not None, run


@pytest.mark.parametrize(
    "meanwhile",
    [
        pytest.param("UPDATE customers SET opted_out_at = $2 WHERE telegram_id = $1", id="opt-out"),
        pytest.param(
            "INSERT INTO invitations (event_id, event_type, survey, customer_id, created_at,"
            " send_at, due_at, status) VALUES ('order-x', 'purchase', 'csat', $1, $2, $2, $2,"
            " 'scheduled')",
            id="another-survey",
        ),
    ],
)
async def test_a_chunk_waits_for_a_customers_opt_out_or_survey_and_leaves_them_out(
    processes, postgres_url: str, meanwhile: str
) -> None:
    """The selection said invite; by the chunk's commit the customer opted out, or an event
    of theirs was stored (its creation holds the customer row, as opting out does)."""
    first, _ = processes
    await seed(first, 40)
    want, _ = expected(40, timedelta(days=30))
    target = min(want)
    run = await first.campaigns.claim_run(CAMPAIGN.name, NOW, NOW)
    blocker = await asyncpg.connect(postgres_url)
    try:
        async with blocker.transaction():
            await blocker.execute(
                "SELECT 1 FROM customers WHERE telegram_id = $1 FOR UPDATE", target
            )
            await blocker.execute(meanwhile, target, to_db(NOW))
            chunk = asyncio.ensure_future(
                first.campaigns.invite(
                    run, "nps", [(c, NOW) for c in sorted(want)], NOW,
                    recontact=timedelta(days=30),
                )
            )  # fmt: skip
            await waiting_on_a_lock(blocker)
        inserted = await chunk
    finally:
        await blocker.close()
    got = await invited(first)
    assert target not in got, "a customer was invited after they opted out or were surveyed"
    assert set(got) == want - {target} and inserted == len(want) - 1


def history(tmp_path: Path, rows: int) -> Path:
    file = tmp_path / "history.csv"
    lines = ["id;date;metric;score;telegram_id;channel"]
    lines += [f"h-{i};2025-0{1 + i % 9}-15;nps;{i % 11};{'' if i % 3 else 900 + i % 7};web"
              for i in range(rows)]  # fmt: skip
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file


async def test_two_processes_importing_one_file_store_every_answer_once(
    processes, tmp_path: Path
) -> None:
    """Each commits 500 rows at a time; a row the other holds uncommitted is waited for and
    then counted as a duplicate."""
    first, second = processes
    file = history(tmp_path, 1200)
    summaries = await asyncio.gather(
        import_answers(open_table(file), first, lambda: NOW),
        import_answers(open_table(file), second, lambda: NOW),
    )
    assert [s.rejections for s in summaries] == [[], []]
    assert sum(s.accepted for s in summaries) == 1200
    assert sum(s.duplicates for s in summaries) == 1200
    assert await backends.scalar(first, "SELECT count(*) FROM answers") == 1200
    owners = await backends.fetch(first, "SELECT customer_id FROM answers")
    assert Counter(r["customer_id"] for r in owners)[0] == 800, "the placeholder's answers"


def answer(fingerprint: str, **kw: Any) -> ImportedAnswer:
    return ImportedAnswer(
        key="id:x-1",
        fingerprint=fingerprint,
        metric=Metric.CSAT,
        score=5,
        category=Category.PROMOTER,
        answered_at=NOW - timedelta(days=1),
        **kw,
    )


@pytest.mark.parametrize(("theirs", "ours"), [("same", "same"), ("same", "edited")])
async def test_an_answer_another_process_is_importing_is_waited_for_then_told(
    processes, postgres_url: str, theirs: str, ours: str
) -> None:
    """Its invitation is uncommitted when ours looks: the insert waits for theirs, writes
    nothing (not even the customer), and reads what they committed."""
    first, _ = processes
    blocker = await asyncpg.connect(postgres_url)
    try:
        async with blocker.transaction():
            await blocker.execute(
                "INSERT INTO customers (telegram_id, created_at) VALUES (0, $1)", to_db(NOW)
            )
            await blocker.execute(
                "INSERT INTO invitations (event_id, event_type, survey, customer_id, created_at,"
                " send_at, due_at, status, fingerprint) VALUES ('import:id:x-1', 'import',"
                " 'imported', 0, $1, $1, $1, 'imported', $2)",
                to_db(NOW),
                theirs,
            )
            call = asyncio.ensure_future(
                first.imports.import_answer(answer(ours, customer_id=77, customer_name="Ed"), NOW)
            )
            await waiting_on_a_lock(blocker)
        outcome = await asyncio.gather(call, return_exceptions=True)
    finally:
        await blocker.close()
    if ours == theirs:
        assert outcome == [False], "the row the other process imported was not a duplicate"
    else:
        assert isinstance(outcome[0], EventConflict), outcome
    assert not await backends.scalar(first, "SELECT count(*) FROM answers")
    assert not await backends.scalar(
        first, "SELECT count(*) FROM customers WHERE telegram_id = 77"
    ), "a row that was not imported still wrote its customer"
