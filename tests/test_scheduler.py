"""Scheduled reports: once per run and chat, across restarts; missed runs within grace only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError

from bot.charts.worker import ChartWorker
from bot.config import ReportsConfig
from bot.config.crontab import cron_trigger
from bot.reports.periods import latest_fire, nominal_span, on_demand_period
from bot.workers.scheduler import ReportScheduler, run_report
from storage.sqlite import SqliteRepo, open_sqlite
from storage.timestamps import to_db
from survey_flows.models import Metric

from .clocks import MovableClock as Clock
from .test_analytics import add_answers
from .test_manager import RecordingSession

MONDAY_9 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
CFG = ReportsConfig(cron="0 9 * * mon", timezone="UTC", chat_ids=(10, 20))


@pytest.fixture
async def repo(tmp_path: Path):
    repo = await open_sqlite(tmp_path / "r.sqlite3")
    yield repo
    await repo.close()


def bot_with(session: RecordingSession) -> Bot:
    return Bot("123:abc", session=session)


def test_latest_fire_within_lookback() -> None:
    trigger = cron_trigger("0 9 * * mon", "UTC")
    assert latest_fire(trigger, MONDAY_9, timedelta(minutes=5)) == MONDAY_9
    assert latest_fire(trigger, MONDAY_9 + timedelta(hours=5), timedelta(hours=6)) == MONDAY_9
    assert latest_fire(trigger, MONDAY_9 + timedelta(hours=7), timedelta(hours=6)) is None
    assert latest_fire(trigger, MONDAY_9 - timedelta(seconds=1), timedelta(hours=6)) is None
    assert nominal_span(trigger, MONDAY_9) == timedelta(days=7)


def test_numeric_weekday_means_what_cron_means() -> None:
    trigger = cron_trigger("0 9 * * 1", "Europe/Berlin")
    fire = trigger.get_next_fire_time(None, datetime(2026, 3, 14, tzinfo=UTC))
    assert fire.weekday() == 0, "'1' is Monday in cron; APScheduler alone would read Tuesday"


async def test_a_run_is_sent_once_per_chat_even_after_a_restart(
    repo: SqliteRepo, tmp_path: Path, charts: ChartWorker
) -> None:
    await add_answers(repo, MONDAY_9 - timedelta(days=2), Metric.NPS, [10] * 12)
    session = RecordingSession()
    clock = Clock(MONDAY_9 + timedelta(seconds=1))
    assert (
        await run_report(
            bot_with(session), repo, CFG, clock, charts=charts, lookback=timedelta(hours=6)
        )
        == 2
    )
    for chat in (10, 20):
        text = session.texts(chat)
        assert "<b>Report</b>" in text and "NPS <b>+100</b>" in text and "n=12" in text
    assert (
        await run_report(
            bot_with(session), repo, CFG, clock, charts=charts, lookback=timedelta(hours=6)
        )
        == 0
    )
    reopened = await open_sqlite(tmp_path / "r.sqlite3")  # the bot restarted
    try:
        clock.now = MONDAY_9 + timedelta(hours=1)
        sent = await run_report(
            bot_with(session), reopened, CFG, clock, charts=charts, lookback=CFG.grace
        )
        assert sent == 0, "a restart must not send the same week's report again"
    finally:
        await reopened.close()
    assert len([c for c in session.calls if c[0] == "sendPhoto"]) == 2


async def test_missed_run_is_caught_up_within_grace_only(
    repo: SqliteRepo, charts: ChartWorker
) -> None:
    await add_answers(repo, MONDAY_9 - timedelta(days=3), Metric.CSAT, [5, 4, 1])
    session = RecordingSession()
    late = Clock(MONDAY_9 + timedelta(hours=7))  # the bot was down at 9:00, grace is 6 h
    scheduler = ReportScheduler(bot_with(session), repo, CFG, late, charts)
    assert await scheduler.fire(CFG.grace) == 0
    assert session.calls == []
    in_time = Clock(MONDAY_9 + timedelta(hours=5))
    scheduler = ReportScheduler(bot_with(session), repo, CFG, in_time, charts)
    assert await scheduler.fire(CFG.grace) == 2
    assert await scheduler.fire(CFG.grace) == 0


async def test_next_report_covers_everything_since_the_last_one_sent(
    repo: SqliteRepo, charts: ChartWorker
) -> None:
    runs = repo.report_runs
    session = RecordingSession()
    await run_report(
        bot_with(session), repo, CFG, Clock(MONDAY_9), charts=charts, lookback=timedelta(minutes=5)
    )
    week3 = MONDAY_9 + timedelta(days=14)  # the run of week 2 was missed beyond grace
    await run_report(
        bot_with(session), repo, CFG, Clock(week3), charts=charts, lookback=timedelta(minutes=5)
    )
    async with repo.database.reading() as db:
        cursor = await db.execute(
            "SELECT period_start FROM report_runs WHERE fire_time = ?", (to_db(week3),)
        )
        starts = {row[0] for row in await cursor.fetchall()}
    assert starts == {to_db(MONDAY_9)}, "answers of the missed week would be lost"
    assert await runs.last_report_end("0 9 * * mon @ UTC", week3) == week3


async def test_a_period_without_answers_is_one_line(repo: SqliteRepo, charts: ChartWorker) -> None:
    session = RecordingSession()
    await run_report(
        bot_with(session), repo, CFG, Clock(MONDAY_9), charts=charts, lookback=timedelta(minutes=5)
    )
    assert [c[0] for c in session.sent(10)] == ["sendMessage"]
    assert session.texts(10) == "No answers between 2026-03-09 09:00 and 2026-03-16 09:00."


class FailingFor(RecordingSession):
    def __init__(self, chat_id: int) -> None:
        super().__init__()
        self.failing = chat_id

    async def make_request(self, bot, method, timeout=None):
        if getattr(method, "chat_id", None) == self.failing:
            raise TelegramForbiddenError(method=method, message="Forbidden: bot was blocked")
        return await super().make_request(bot, method, timeout)


async def test_a_failed_chat_is_retried_later_and_the_others_not_repeated(
    repo: SqliteRepo, caplog, charts: ChartWorker
) -> None:
    first = FailingFor(20)
    clock = Clock(MONDAY_9)
    assert (
        await run_report(
            bot_with(first), repo, CFG, clock, charts=charts, lookback=timedelta(hours=1)
        )
        == 1
    )
    again = RecordingSession()
    assert (
        await run_report(
            bot_with(again), repo, CFG, clock, charts=charts, lookback=timedelta(hours=1)
        )
        == 1
    )
    assert {c[1]["chat_id"] for c in again.calls} == {20}
    caplog.clear()


async def test_scheduler_registers_the_cron_job(repo: SqliteRepo, charts: ChartWorker) -> None:
    scheduler = ReportScheduler(bot_with(RecordingSession()), repo, CFG, Clock(MONDAY_9), charts)
    await scheduler.start()
    try:
        job = scheduler.scheduler.get_job("report")
        assert job is not None
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("mon", "9", "0")
    finally:
        await scheduler.stop()


async def test_no_cron_no_job(repo: SqliteRepo, charts: ChartWorker) -> None:
    scheduler = ReportScheduler(
        bot_with(RecordingSession()), repo, ReportsConfig(), Clock(MONDAY_9), charts
    )
    await scheduler.start()
    assert scheduler.scheduler.get_jobs() == [] and not scheduler.scheduler.running


async def test_report_on_demand_starts_where_the_last_report_ended(
    repo: SqliteRepo, charts: ChartWorker
) -> None:
    runs = repo.report_runs
    later = MONDAY_9 + timedelta(days=2)
    assert (await on_demand_period(runs, CFG, later)).start == later - timedelta(days=7)
    await run_report(
        bot_with(RecordingSession()),
        repo,
        CFG,
        Clock(MONDAY_9),
        charts=charts,
        lookback=timedelta(minutes=1),
    )
    assert (await on_demand_period(runs, CFG, later)).start == MONDAY_9
