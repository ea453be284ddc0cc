"""Campaign runs: invite a configured audience, on a cron schedule or by hand, exactly once.

- A run is a row in `campaign_runs` (campaign, fire time). It is claimed before anything is
  invited and finished after the last chunk, so a restart neither skips nor repeats it: a run
  missed while the bot was down is run on start-up within `grace`, and one interrupted halfway
  is resumed on start-up (or by the next `survey-bot campaign run`), inviting only those its
  event ids show as not yet invited.
- Invitations go into the same outbox as events' and the delivery worker sends them through the
  same rate limiter. Their send times are spread at `per_second`, so 50,000 first questions do
  not stand in one queue ahead of the follow-ups of customers who are answering meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import CampaignConfig, Config
from bot.config.campaigns import Audience
from bot.config.crontab import cron_trigger
from bot.reports.periods import latest_fire
from storage.base import CampaignRepo
from storage.records import AudienceQuery, CampaignRun, Selection
from survey_flows.clock import Clock

logger = logging.getLogger(__name__)

CHUNK = 1000  # invitations per transaction: short enough not to hold up answers being stored


def recontact_window(config: Config) -> timedelta:
    """How long after a survey a customer is left alone: `[throttle] recontact`. Customers inside
    it are left out of the run (the bulk path stores no suppressed rows for them)."""
    return config.throttle.recontact


def audience_query(audience: Audience, now: datetime) -> AudienceQuery:
    since = now - audience.active_within if audience.active_within is not None else None
    return AudienceQuery(since=since, language=audience.language, context=audience.context)


@dataclass(frozen=True, slots=True)
class RunResult:
    run: CampaignRun
    invited: int  # invited by this call (a resumed run counts only the rest)
    selection: Selection | None  # None: the run had finished before
    resumed: bool = False


class Campaigns:
    """Runs campaigns against their repository; one run at a time in this process."""

    def __init__(
        self,
        store: CampaignRepo,
        campaigns: dict[str, CampaignConfig],
        clock: Clock,
        *,
        recontact: timedelta,
        wake: Callable[[], None] | None = None,
        chunk: int = CHUNK,
    ) -> None:
        self._store = store
        self._campaigns, self._clock, self._recontact = campaigns, clock, recontact
        self._wake, self._chunk = wake, chunk
        self._lock = asyncio.Lock()

    @property
    def store(self) -> CampaignRepo:
        return self._store

    async def run_scheduled(self, name: str, fire_time: datetime) -> RunResult:
        """The run of `name` at `fire_time`: done now unless it was done before."""
        cfg = self._campaigns[name]
        async with self._lock:
            run = await self._store.claim_run(name, fire_time, self._clock())
            if run.finished_at is not None:
                return RunResult(run, 0, None)
            return await self._complete(run, cfg, resumed=run.invited > 0)

    async def run_by_hand(self, name: str) -> RunResult:
        """`survey-bot campaign run <name>`: resume an unfinished run, else start one now."""
        cfg = self._campaigns[name]
        async with self._lock:
            unfinished = await self._store.unfinished_runs(name)
            if unfinished:
                return await self._complete(unfinished[0], cfg, resumed=True)
            now = self._clock()
            run = await self._store.claim_run(name, now, now, manual=True)
            return await self._complete(run, cfg)

    async def dry_run(self, name: str) -> tuple[Selection, CampaignRun | None]:
        """Who a run by hand would invite now, and why the others would not be."""
        cfg = self._campaigns[name]
        unfinished = await self._store.unfinished_runs(name)
        run = unfinished[0] if unfinished else None
        now = self._clock()
        selection = await self._store.select(
            audience_query(cfg.audience, now),
            now,
            recontact=self._recontact,
            campaign=name,
            run_id=run.id if run else None,
        )
        return selection, run

    async def resume_unfinished(self) -> list[RunResult]:
        """At start-up: finish runs an earlier process left halfway."""
        results = []
        for run in await self._store.unfinished_runs():
            cfg = self._campaigns.get(run.campaign)
            if cfg is None:
                logger.warning(
                    "campaign %s is no longer configured: its run %s stays unfinished",
                    run.campaign,
                    run.id,
                )
                continue
            async with self._lock:
                results.append(await self._complete(run, cfg, resumed=True))
        return results

    async def _complete(
        self, run: CampaignRun, cfg: CampaignConfig, *, resumed: bool = False
    ) -> RunResult:
        now = self._clock()
        selection = await self._store.select(
            audience_query(cfg.audience, now),
            now,
            recontact=self._recontact,
            campaign=cfg.name,
            run_id=run.id,
        )
        step = timedelta(seconds=1 / cfg.per_second)
        invited = 0
        ids = selection.invite
        for start in range(0, len(ids), self._chunk):
            rows = [
                (c, now + step * (start + i))
                for i, c in enumerate(ids[start : start + self._chunk])
            ]
            invited += await self._store.invite(
                run, cfg.survey, rows, now, recontact=self._recontact
            )
            if self._wake is not None:
                self._wake()
        await self._store.finish_run(run.id, self._clock())
        logger.info(
            "campaign %s run %s (%s): %d invited%s; not invited: %s",
            cfg.name,
            run.id,
            run.fire_time.isoformat(),
            invited,
            " (resumed)" if resumed else "",
            dict(selection.skipped) or "none",
        )
        return RunResult(run, invited, selection, resumed)


class CampaignScheduler:
    """Cron jobs for `[campaigns.*]`; `start()` first resumes and catches up, then schedules."""

    def __init__(self, campaigns: Campaigns, configs: dict[str, CampaignConfig], clock: Clock):
        self._campaigns, self._configs, self._clock = campaigns, configs, clock
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    async def fire(self, name: str, lookback: timedelta | None = None) -> int:
        """The latest run of `name` due within `lookback` (default: its grace), if not done;
        returns how many it invited now."""
        cfg = self._configs[name]
        if cfg.cron is None:
            return 0
        trigger = cron_trigger(cfg.cron, cfg.timezone)
        fire = latest_fire(trigger, self._clock(), lookback or max(cfg.grace, timedelta(minutes=5)))
        if fire is None:
            return 0
        try:
            return (await self._campaigns.run_scheduled(name, fire)).invited
        except Exception:
            logger.exception("campaign %s run of %s failed", name, fire.isoformat())
            return 0

    async def start(self) -> None:
        try:
            await self._campaigns.resume_unfinished()
        except Exception:
            logger.exception("resuming unfinished campaign runs failed")
        for name, cfg in self._configs.items():
            if cfg.cron is None:
                continue
            await self.fire(name, cfg.grace)  # missed while the bot was down
            self.scheduler.add_job(
                self.fire,
                cron_trigger(cfg.cron, cfg.timezone),
                args=[name],
                id=f"campaign:{name}",
                misfire_grace_time=int(cfg.grace.total_seconds()) or None,
                coalesce=True,
                max_instances=1,
            )
            logger.info("campaign %s scheduled: %s (%s)", name, cfg.cron, cfg.timezone)
        if self.scheduler.get_jobs():
            self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
