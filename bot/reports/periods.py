"""Which span a report covers: since the last one sent (nothing lost to a skipped run), within
bounds; the scheduler (bot/workers/scheduler.py) and /report (handlers/manager.py) share it."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from bot.config import ReportsConfig
from storage.base import ReportRunRepo
from survey_flows.periods import Period

MAX_REPORT_SPAN = timedelta(days=92)
DEFAULT_ON_DEMAND = timedelta(days=7)


def job_id(cfg: ReportsConfig) -> str:
    return f"{cfg.cron} @ {cfg.timezone}"


def latest_fire(trigger: BaseTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest scheduled time in (now - lookback, now], if any."""
    found = None
    fire = trigger.get_next_fire_time(None, now - lookback + timedelta(microseconds=1))
    while fire is not None and fire <= now:
        found = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return found


def nominal_span(trigger: BaseTrigger, fire: datetime) -> timedelta:
    """The usual time between two runs, measured from `fire` to the next one."""
    following = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return following - fire if following is not None else timedelta(days=7)


async def report_period(
    runs: ReportRunRepo, job: str, fire: datetime, nominal: timedelta
) -> Period:
    """Since the end of the last sent report (so a skipped run loses nothing), else one nominal
    span back; never longer than MAX_REPORT_SPAN."""
    last_end = await runs.last_report_end(job, fire)
    start = last_end if last_end is not None and last_end < fire else fire - nominal
    start = max(start, fire - MAX_REPORT_SPAN)
    return Period(start, fire, "since the last report")


async def on_demand_period(runs: ReportRunRepo, cfg: ReportsConfig, now: datetime) -> Period:
    """/report without arguments: everything since the last scheduled report (else 7 days)."""
    if cfg.cron:
        last_end = await runs.last_report_end(job_id(cfg), now)
        if last_end is not None and now - last_end <= MAX_REPORT_SPAN:
            return Period(last_end, now, "since the last report")
    return Period(now - DEFAULT_ON_DEMAND, now, "7d")
