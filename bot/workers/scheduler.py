"""Scheduled reports: APScheduler cron jobs from `[reports]`, recorded in SQLite.

- Each run has an identity: the job (cron expression and timezone) and its scheduled fire time.
  A run is sent to each chat at most once: `report_runs` remembers which chats got it, across
  restarts, and a start-up catch-up and a cron firing cannot race (one lock).
- A run missed while the bot was down is sent once on start-up if its fire time lies within
  `[reports] grace`; older runs are not sent (no flood), but nothing is lost: the next report
  covers everything since the last report that was sent (up to MAX_REPORT_SPAN).
- Jobs are plain async functions taking explicit arguments; time comes from the injected clock.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.charts.worker import ChartWorker
from bot.config import ReportsConfig
from bot.config.crontab import cron_trigger
from bot.reports import compose, sender
from bot.reports.periods import job_id, latest_fire, nominal_span, report_period
from storage.base import SurveyRepo
from survey_flows.clock import Clock

logger = logging.getLogger(__name__)


async def run_report(
    bot: Bot,
    repo: SurveyRepo,
    cfg: ReportsConfig,
    clock: Clock,
    *,
    charts: ChartWorker,
    lookback: timedelta,
) -> int:
    """Send the latest run due within `lookback` to every chat that has not had it; returns how
    many chats it reached now. Safe to call any number of times."""
    if not cfg.cron or not cfg.chat_ids:
        return 0
    trigger = cron_trigger(cfg.cron, cfg.timezone)
    now = clock()
    fire = latest_fire(trigger, now, lookback)
    if fire is None:
        return 0
    job = job_id(cfg)
    runs = repo.report_runs
    period = await report_period(runs, job, fire, nominal_span(trigger, fire))
    messages: list[compose.Outgoing] | None = None
    sent = 0
    for chat_id in cfg.chat_ids:
        if not await runs.claim_report(job, fire, chat_id, period.start, period.end, now):
            continue
        if messages is None:  # built once, and only when some chat still needs it
            messages = await compose.report_reply(
                repo.analytics, period, cfg, cfg.language, charts=charts, now=now
            )
        try:
            await sender.send(bot, chat_id, messages)
        except Exception:
            # Left unsent: the next start-up within the grace time tries this chat again.
            logger.exception("report %s of %s to chat %s failed", job, fire.isoformat(), chat_id)
            continue
        await runs.mark_report_sent(job, fire, chat_id, clock())
        sent += 1
        logger.info("report %s of %s sent to chat %s", job, fire.isoformat(), chat_id)
    return sent


class ReportScheduler:
    """Owns the AsyncIOScheduler; `start()` first catches up a missed run, then schedules."""

    def __init__(
        self, bot: Bot, repo: SurveyRepo, cfg: ReportsConfig, clock: Clock, charts: ChartWorker
    ) -> None:
        self._bot, self._repo, self._cfg, self._clock = bot, repo, cfg, clock
        self._charts = charts
        self._lock = asyncio.Lock()
        self.scheduler = AsyncIOScheduler(timezone=cfg.timezone)

    async def fire(self, lookback: timedelta | None = None) -> int:
        """One run (the cron job, or the start-up catch-up with lookback = grace)."""
        async with self._lock:
            try:
                return await run_report(
                    self._bot,
                    self._repo,
                    self._cfg,
                    self._clock,
                    charts=self._charts,
                    lookback=lookback or max(self._cfg.grace, timedelta(minutes=5)),
                )
            except Exception:
                logger.exception("scheduled report failed")
                return 0

    async def start(self) -> None:
        if not self._cfg.cron:
            logger.info("no [reports] cron: scheduled reports are off")
            return
        if not self._cfg.chat_ids:
            logger.warning("[reports] cron set but no chat_ids or manager_ids: reports are off")
            return
        caught_up = await self.fire(self._cfg.grace)
        if caught_up:
            logger.info("sent a report missed while the bot was down to %d chats", caught_up)
        self.scheduler.add_job(
            self.fire,
            cron_trigger(self._cfg.cron, self._cfg.timezone),
            id="report",
            misfire_grace_time=int(self._cfg.grace.total_seconds()) or None,
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.start()
        logger.info("scheduled reports: %s (%s)", self._cfg.cron, self._cfg.timezone)

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
