"""Campaigns: the audience's matching reachable customers are invited once per run, runs are
recorded (scheduled, caught up, resumed after a crash), and the sending keeps Telegram's pace.

On both backends, but the command line's (a config file names a SQLite path). Two processes
sharing one PostgreSQL database: tests/test_postgres_bulk.py."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer

from bot.cli import main
from bot.config.campaigns import Audience, CampaignConfig
from bot.telegram.ratelimit import RateLimiter
from bot.workers.campaigns import Campaigns, CampaignScheduler
from bot.workers.delivery import DeliveryWorker
from storage.base import SurveyRepo
from storage.records import ImportedAnswer, Skip
from storage.sqlite import open_sqlite
from storage.timestamps import to_db
from survey_flows.definitions import BUILTIN_SURVEYS
from survey_flows.models import Category, Metric
from telegram_emulator import BotAPIEmulator

from . import backends
from .clocks import MovableClock
from .conftest import LocalSession, OpenBackend
from .e2e.harness import wait_until

NOW = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)  # a Wednesday
FIRST = 10_000
AUDIENCE = Audience(active_within=timedelta(days=180), language="ru", context=(("segment", "b2b"),))
CAMPAIGN = CampaignConfig(
    name="quarterly_nps", survey="nps", cron="0 10 1 */3 *", audience=AUDIENCE, per_second=30
)


def profile(i: int, now: datetime = NOW) -> dict[str, object]:
    """Customer i of the test shop: every filter and rule is true for some and false for others."""
    age = {0: 400, 1: 10, 2: 10, 3: 60, 4: 60}[i % 5]  # days since their last survey
    return {
        "language": "ru-RU" if i % 6 == 0 else "ru" if i % 3 == 0 else "en",
        "segment": "B2B" if i % 8 == 0 else "b2b" if i % 4 == 0 else "retail",
        "seen": now - timedelta(days=age),
        "opted_out": i % 7 == 0,
        "blocked": i % 11 == 0,
    }


def expected(n: int, recontact: timedelta, now: datetime = NOW) -> tuple[set[int], Counter[Skip]]:
    """Who of customers 1..n must be invited, and why the others of the audience are not."""
    invite: set[int] = set()
    skipped: Counter[Skip] = Counter()
    for i in range(1, n + 1):
        p = profile(i, now)
        seen = p["seen"]
        assert isinstance(seen, datetime)
        in_audience = (
            str(p["language"]).startswith("ru")
            and str(p["segment"]).lower() == "b2b"
            and now - seen <= timedelta(days=180)
        )
        if not in_audience:
            continue
        if p["opted_out"]:
            skipped[Skip.OPTED_OUT] += 1
        elif p["blocked"]:
            skipped[Skip.UNREACHABLE] += 1
        elif now - seen < recontact:
            skipped[Skip.SURVEYED_RECENTLY] += 1
        else:
            invite.add(FIRST + i)
    return invite, skipped


async def execute_many(repo: SurveyRepo, sql: str, rows: Sequence[Sequence[object]]) -> None:
    """One raw statement (`?` placeholders) for each of many rows, in one transaction."""
    database = repo.database  # type: ignore[attr-defined]
    async with database.transaction() as db:
        if hasattr(db, "fetch"):  # asyncpg
            numbers = iter(range(1, sql.count("?") + 1))
            await db.executemany(re.sub(r"\?", lambda _: f"${next(numbers)}", sql), rows)
        else:
            await db.executemany(sql, rows)


async def seed(repo: SurveyRepo, n: int, now: datetime = NOW) -> None:
    """n customers, each with one finished survey carrying a segment, plus two customers known
    only by the shop's id (one in the audience)."""
    profiles = [(FIRST + i, profile(i, now)) for i in range(1, n + 1)]
    customers, invitations, contexts = [], [], []
    for i, (tid, p) in enumerate(profiles, start=1):
        seen = to_db(p["seen"])  # type: ignore[arg-type]
        customers.append(
            (
                tid,
                p["language"],
                seen if p["opted_out"] else None,
                seen if p["blocked"] else None,
                seen,
                seen,
            )
        )
        invitations.append((f"order-{i}", tid, json.dumps({"segment": p["segment"]}), *[seen] * 5))
        contexts.append((p["segment"], f"order-{i}"))
    await execute_many(
        repo,
        "INSERT INTO customers (telegram_id, language, opted_out_at, unreachable_at,"
        " last_invited_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        customers,
    )
    await execute_many(
        repo,
        "INSERT INTO invitations (event_id, event_type, survey, customer_id, context,"
        " created_at, send_at, due_at, sent_at, status, prompt_sent, finished_at)"
        " VALUES (?, 'purchase', 'csat', ?, ?, ?, ?, ?, ?, 'completed', 1, ?)",
        invitations,
    )
    await execute_many(
        repo,
        "INSERT INTO invitation_context (invitation_id, key, value)"
        " SELECT id, 'segment', ? FROM invitations WHERE event_id = ?",
        contexts,
    )
    shop_only = [("crm-1", "ru"), ("crm-2", "en")]
    await execute_many(
        repo,
        "INSERT INTO external_customers (external_id, language, created_at) VALUES (?, ?, ?)",
        [(external_id, language, to_db(now)) for external_id, language in shop_only],
    )
    await execute_many(
        repo,
        "INSERT INTO awaiting_link (event_id, external_id, event_type, survey, context,"
        " created_at) VALUES (?, ?, 'purchase', 'csat', ?, ?)",
        [(f"e-{e}", e, '{"segment": "b2b"}', to_db(now)) for e, _ in shop_only],
    )


async def invited(repo: SurveyRepo, run_id: int | None = None) -> Counter[int]:
    """How many campaign invitations each customer has (of one run, or of all)."""
    sql = "SELECT customer_id FROM invitations WHERE event_type = 'campaign'"
    params = []
    if run_id is not None:
        sql += " AND event_id LIKE ?"
        params.append(f"campaign:quarterly_nps:{run_id}:%")
    return Counter(row["customer_id"] for row in await backends.fetch(repo, sql, params))


@pytest.fixture
async def repo(open_backend: OpenBackend) -> AsyncIterator[SurveyRepo]:
    """The test shop on the test's backend (tests/conftest.py's database, seeded)."""
    repo = await open_backend()
    await seed(repo, 1000)
    yield repo
    await repo.close()


def campaigns_for(repo: SurveyRepo, clock: MovableClock, **kw: object) -> Campaigns:
    recontact = kw.pop("recontact", timedelta(days=30))
    assert isinstance(recontact, timedelta)
    return Campaigns(repo.campaigns, {CAMPAIGN.name: CAMPAIGN}, clock, recontact=recontact, **kw)  # type: ignore[arg-type]


@backends.BOTH
async def test_exactly_the_matching_reachable_customers_are_invited_once(repo: SurveyRepo) -> None:
    want, why_not = expected(1000, timedelta(days=30))
    assert 20 < len(want) < 100 and all(why_not.values()), "the shop must mix every case"
    clock = MovableClock(NOW)
    result = await campaigns_for(repo, clock).run_scheduled(CAMPAIGN.name, NOW)
    got = await invited(repo)
    assert set(got) == want, "invited someone outside the audience, or missed someone in it"
    assert result.invited == len(want) and set(got.values()) == {1}
    assert result.selection is not None
    assert result.selection.skipped == why_not + Counter({Skip.NO_CHAT: 1})
    # The same run again (a repeated cron firing, a catch-up racing it): nobody twice.
    again = await campaigns_for(repo, clock).run_scheduled(CAMPAIGN.name, NOW)
    assert again.invited == 0 and (await invited(repo)) == got
    runs = await campaigns_for(repo, clock).store.runs(CAMPAIGN.name)
    assert [(r.invited, r.finished_at is not None) for r in runs] == [(len(want), True)]
    # They are ordinary invitations in the outbox, due at once or spread at 30 a second.
    inv = await repo.outbox.due_prompts(NOW + timedelta(seconds=10), 1000)
    assert len(inv) == min(len(want), 301) and {i.survey for i in inv} == {"nps"}


@backends.BOTH
async def test_a_customer_never_surveyed_before_is_invited(repo: SurveyRepo) -> None:
    """Known from imported history only: no survey was ever sent, so no last_invited_at."""
    newcomer = FIRST + 5000
    await repo.imports.import_answer(
        ImportedAnswer(
            key="id:h-1",
            fingerprint="h-1",
            metric=Metric.NPS,
            score=9,
            category=Category.PROMOTER,
            answered_at=NOW - timedelta(days=20),
            customer_id=newcomer,
            customer_language="ru",
            context={"segment": "b2b"},
        ),
        NOW,
    )
    result = await campaigns_for(repo, MovableClock(NOW)).run_scheduled(CAMPAIGN.name, NOW)
    assert result.selection is not None and newcomer in result.selection.invite
    assert newcomer in await invited(repo), "counted as invited, but no invitation was made"
    assert result.invited == len(result.selection.invite)


@backends.BOTH
async def test_a_run_cut_short_resumes_on_restart_without_duplicates(
    repo: SurveyRepo, open_backend: OpenBackend
) -> None:
    want, _ = expected(1000, timedelta(0))
    chunks = 0

    def crash_after_two_chunks() -> None:
        nonlocal chunks
        chunks += 1
        if chunks == 2:
            raise SystemExit("killed")  # the process dies between two chunks

    clock = MovableClock(NOW)
    cut = campaigns_for(repo, clock, recontact=timedelta(0), chunk=10, wake=crash_after_two_chunks)
    with pytest.raises(SystemExit):
        await cut.run_scheduled(CAMPAIGN.name, NOW)
    assert sum((await invited(repo)).values()) == 20 < len(want)
    await repo.close()
    reopened = await open_backend()  # the bot restarted
    try:
        clock.now = NOW + timedelta(minutes=3)
        scheduler = CampaignScheduler(
            campaigns_for(reopened, clock, recontact=timedelta(0)), {CAMPAIGN.name: CAMPAIGN}, clock
        )
        await scheduler.start()
        await scheduler.stop()
        got = await invited(reopened)
        assert set(got) == want and set(got.values()) == {1}, "the resumed run duplicated"
        runs = await campaigns_for(reopened, clock).store.runs(CAMPAIGN.name)
        assert len(runs) == 1 and runs[0].finished_at is not None
        assert runs[0].invited == len(want)
    finally:
        await reopened.close()


@backends.BOTH
async def test_the_cron_job_runs_once_and_a_missed_run_is_caught_up_within_grace(
    repo: SurveyRepo,
) -> None:
    clock = MovableClock(NOW - timedelta(days=2))
    scheduler = CampaignScheduler(campaigns_for(repo, clock), {CAMPAIGN.name: CAMPAIGN}, clock)
    await scheduler.start()
    try:
        assert await invited(repo) == Counter(), "nothing is due before the first of the month"
        job = scheduler.scheduler.get_job("campaign:quarterly_nps")
        assert job is not None
        assert job.next_run_time.astimezone(UTC).replace(year=2026, month=4) == NOW
        clock.now = NOW + timedelta(seconds=1)  # APScheduler calls the job at its time
        assert await job.func(*job.args) == len(expected(1000, timedelta(days=30))[0])
        assert await job.func(*job.args) == 0
    finally:
        await scheduler.stop()
    runs = await campaigns_for(repo, clock).store.runs(CAMPAIGN.name)
    assert [r.fire_time for r in runs] == [NOW] and not runs[0].manual
    # Down over the next fire time (1 July): started 5 h late, within a day's grace: caught up.
    july = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    clock.now = july + timedelta(hours=5)
    restarted = CampaignScheduler(campaigns_for(repo, clock), {CAMPAIGN.name: CAMPAIGN}, clock)
    await restarted.start()
    await restarted.stop()
    assert [r.fire_time for r in await campaigns_for(repo, clock).store.runs(CAMPAIGN.name)] == [
        NOW,
        july,
    ]
    # Started two days late: too late for that run, so no quarter's survey goes out late.
    late = CampaignScheduler(campaigns_for(repo, clock), {CAMPAIGN.name: CAMPAIGN}, clock)
    clock.now = july + timedelta(days=2)
    await late.start()
    await late.stop()
    assert len(await campaigns_for(repo, clock).store.runs(CAMPAIGN.name)) == 2


# SQLite only: it measures Telegram's pace (35 s), the same on either backend; the campaign's
# claims on PostgreSQL are covered above and in tests/test_postgres_bulk.py.
async def test_a_thousand_customers_get_their_question_at_telegrams_pace(
    open_backend: OpenBackend, emulator: BotAPIEmulator
) -> None:
    repo = await open_backend()
    await seed(repo, 1000)
    # Everyone reachable: the whole shop is the audience.
    await backends.execute(repo, "UPDATE customers SET opted_out_at = NULL, unreachable_at = NULL")
    session = LocalSession(api=TelegramAPIServer.from_base(emulator.base_url))
    session.middleware(RateLimiter())
    assert emulator.token is not None
    bot = Bot(emulator.token, session=session)
    worker = DeliveryWorker(
        bot,
        repo,
        dict(BUILTIN_SURVEYS),
        lambda: datetime.now(UTC),
        expire_after=timedelta(days=3),
    )
    everyone = CampaignConfig(name="quarterly_nps", survey="nps", per_second=30)
    campaigns = Campaigns(
        repo.campaigns,
        {"quarterly_nps": everyone},
        lambda: datetime.now(UTC),
        recontact=timedelta(0),
        wake=worker.wake,
    )

    task = asyncio.create_task(worker.run())
    try:
        result = await campaigns.run_by_hand("quarterly_nps")
        assert result.invited == 1000
        await wait_until(
            lambda: len(emulator.calls_of("sendMessage")) >= 1000, 60, "1,000 first questions"
        )
    finally:
        await worker.stop()
        await task
        await bot.session.close()
        await repo.close()
    # What the emulator saw, from its control API.
    url = f"{emulator.base_url}/control/calls?method=sendMessage"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        calls = (await response.json())["calls"]
    assert len(calls) == 1000
    assert not [c for c in calls if c["error_code"] == 429], "Telegram answered 429"
    assert all(c["ok"] for c in calls)
    times = sorted(c["at"] for c in calls)
    # Telegram asks for no more than about 30 a second overall; the bot spaces its sends at
    # 98% of that (tests/test_flood_limits.py has the emulator refuse anything over it). The
    # bound here is loose: a loaded test machine may bunch sends the bot spaced.
    assert times[-1] - times[0] >= 999 / 30 - 1, "sent faster than 30 messages a second"
    busiest = max(
        sum(1 for t in times[i : i + 80] if t < start + 1) for i, start in enumerate(times)
    )
    assert busiest <= 40, f"{busiest} messages within one second: a burst, not a pace"
    chats = Counter(c["chat_id"] for c in calls)
    assert len(chats) == 1000 and set(chats.values()) == {1}


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[telegram]
token = "123:abc"
[api]
token = "{"x" * 16}"
[storage]
path = "c.sqlite3"
[alerts]
enabled = false
[throttle]
recontact = "30d"
[campaigns.quarterly_nps]
survey = "nps"
cron = "0 10 1 */3 *"
per_second = 30
[campaigns.quarterly_nps.audience]
active_within = "180d"
language = "ru"
"context.segment" = "b2b"
""",
        encoding="utf-8",
    )
    return path


async def test_dry_run_says_how_many_and_why_not_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)  # the command line runs on the system clock
    repo = await open_sqlite(tmp_path / "c.sqlite3")
    await seed(repo, 1000, now)
    await repo.close()
    want, why_not = expected(1000, timedelta(days=30), now)
    config = write_config(tmp_path)

    code = await asyncio.to_thread(
        main, ["campaign", "run", "quarterly_nps", "--dry-run", "--config", str(config)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"campaign quarterly_nps: {len(want)} would be invited" in out
    for label, count in (
        ("opted out:", why_not[Skip.OPTED_OUT]),
        ("unreachable (blocked the bot):", why_not[Skip.UNREACHABLE]),
        ("surveyed recently:", why_not[Skip.SURVEYED_RECENTLY]),
        ("no Telegram chat:", 1),
        ("already invited in this run:", 0),
    ):
        line = next(line for line in out.splitlines() if line.strip().startswith(label))
        assert line.split()[-1] == str(count), f"dry run said {line!r}, expected {count}"
    check = await open_sqlite(tmp_path / "c.sqlite3")
    try:
        assert await invited(check) == Counter(), "a dry run invited someone"
    finally:
        await check.close()


def test_an_unknown_campaign_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["campaign", "run", "summer", "--config", str(write_config(tmp_path))])
    err = capsys.readouterr().err
    assert code == 2
    assert err == "survey-bot: unknown campaign 'summer' (configured: quarterly_nps)\n"
