"""Scheduled reports: once per run and chat, across restarts; missed runs within grace only.

On both backends; on PostgreSQL also with two processes firing the same run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError

from bot.charts.worker import ChartWorker
from bot.config import ReportsConfig
from bot.config.crontab import cron_trigger
from bot.reports.periods import latest_fire, nominal_span, on_demand_period
from bot.workers.scheduler import ReportScheduler, run_report
from storage.base import SurveyRepo
from storage.postgres import open_postgres
from storage.postgres.cluster import LEASE_SECONDS
from storage.timestamps import to_db
from survey_flows.models import Metric

from . import backends
from .clocks import MovableClock as Clock
from .conftest import OpenBackend
from .test_analytics import add_answers
from .test_manager import RecordingSession

MONDAY_9 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
CFG = ReportsConfig(cron="0 9 * * mon", timezone="UTC", chat_ids=(10, 20))
pytestmark = backends.BOTH


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
    repo: SurveyRepo, open_backend: OpenBackend, charts: ChartWorker
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
    reopened = await open_backend()  # the bot restarted
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
    repo: SurveyRepo, charts: ChartWorker
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
    repo: SurveyRepo, charts: ChartWorker
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
    rows = await backends.fetch(
        repo, "SELECT period_start FROM report_runs WHERE fire_time = ?", (to_db(week3),)
    )
    starts = {row["period_start"] for row in rows}
    assert starts == {to_db(MONDAY_9)}, "answers of the missed week would be lost"
    assert await runs.last_report_end("0 9 * * mon @ UTC", week3) == week3


async def test_a_period_without_answers_is_one_line(repo: SurveyRepo, charts: ChartWorker) -> None:
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
    repo: SurveyRepo, caplog, charts: ChartWorker
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


async def test_scheduler_registers_the_cron_job(repo: SurveyRepo, charts: ChartWorker) -> None:
    scheduler = ReportScheduler(bot_with(RecordingSession()), repo, CFG, Clock(MONDAY_9), charts)
    await scheduler.start()
    try:
        job = scheduler.scheduler.get_job("report")
        assert job is not None
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("mon", "9", "0")
    finally:
        await scheduler.stop()


async def test_no_cron_no_job(repo: SurveyRepo, charts: ChartWorker) -> None:
    scheduler = ReportScheduler(
        bot_with(RecordingSession()), repo, ReportsConfig(), Clock(MONDAY_9), charts
    )
    await scheduler.start()
    assert scheduler.scheduler.get_jobs() == [] and not scheduler.scheduler.running


async def test_report_on_demand_starts_where_the_last_report_ended(
    repo: SurveyRepo, charts: ChartWorker
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


async def test_two_processes_send_a_run_once_and_a_dead_ones_claim_is_taken_over(
    postgres_url: str,
) -> None:
    first, second = await open_postgres(postgres_url), await open_postgres(postgres_url)
    running = [first, second]
    run = ("job", MONDAY_9, 10, MONDAY_9 - timedelta(days=7), MONDAY_9)
    try:
        claims = await asyncio.gather(
            first.report_runs.claim_report(*run, MONDAY_9),
            second.report_runs.claim_report(*run, MONDAY_9),
        )
        assert sorted(claims) == [False, True], "both processes fired the run: sent twice"
        holder, other = (first, second) if claims[0] else (second, first)
        assert await holder.report_runs.claim_report(*run, MONDAY_9), "its own retry refused"
        assert not await other.report_runs.claim_report(*run, MONDAY_9)
        running.remove(holder)
        await holder.close()  # the process died mid-send
        assert await other.report_runs.claim_report(*run, MONDAY_9), "the crashed send is lost"
        third = await open_postgres(postgres_url)
        running.append(third)
        assert not await third.report_runs.claim_report(*run, MONDAY_9)
        wedged = MONDAY_9 + timedelta(seconds=LEASE_SECONDS + 1)  # `other` hangs mid-send
        assert await third.report_runs.claim_report(*run, wedged), "the lease never ends"
        await third.report_runs.mark_report_sent("job", MONDAY_9, 10, wedged)
        assert not await other.report_runs.claim_report(*run, wedged)
        assert await other.report_runs.report_sent("job", MONDAY_9)
    finally:
        for repo in running:
            await repo.close()
