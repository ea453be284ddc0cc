"""Managers' commands: /nps /csat /ces /stats /export /report, for configured managers only.

`router` holds three routers in order: `managers` (filtered to `[telegram] manager_ids` by
`IsManager`, which gets the config by injection, and to a private chat or `[reports] chat_ids` by
`InAnalyticsChat`), `elsewhere`, which tells a manager in any other chat to ask in private, and
`refusal`, which answers anyone else's manager command with one polite line and no data. It must
come before the customer router, which answers every private text.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.charts.worker import ChartWorker
from bot.config import Config
from bot.reports import compose, reasons, sender
from bot.reports.periods import on_demand_period
from bot.reports.themes_reply import themes_reply
from bot.views.texts import N_, t
from storage.base import SurveyRepo
from survey_flows.clock import Clock
from survey_flows.models import Metric
from survey_flows.periods import BadArguments, Selection, parse_selection

from .filters import InAnalyticsChat, IsManager

logger = logging.getLogger(__name__)

COMMANDS = ("nps", "csat", "ces", "stats", "themes", "export", "report")


router = Router(name=__name__)
managers = Router(name=f"{__name__}.managers")
managers.message.filter(IsManager(), InAnalyticsChat())
elsewhere = Router(name=f"{__name__}.elsewhere")
elsewhere.message.filter(IsManager())
refusal = Router(name=f"{__name__}.refusal")
router.include_routers(managers, elsewhere, refusal)


async def _selection(
    message: Message,
    command: CommandObject,
    config: Config,
    clock: Clock,
    lang: str,
    usage: str,
    **kw: Any,
) -> Selection | None:
    """The parsed arguments, or None after a one-line usage reply naming what was wrong."""
    try:
        return parse_selection(command.args, clock(), compose.tz_of(config.reports), **kw)
    except BadArguments as exc:
        manager_id = message.from_user.id if message.from_user else 0
        logger.info("manager %s: bad arguments to /%s", manager_id, command.command)
        await message.answer(t(lang, usage, error=str(exc), command=command.command))
        return None


@managers.message(Command("nps", "csat", "ces"))
async def on_metric(
    message: Message,
    command: CommandObject,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    charts: ChartWorker,
    lang: str,
) -> None:
    selection = await _selection(message, command, config, clock, lang, N_("mgr.usage.metric"))
    if selection is None:
        return
    metric = Metric(command.command.lower())
    replies = await compose.metric_reply(
        repo.analytics, metric, selection, config.reports, lang, charts=charts, now=clock()
    )
    await sender.send(bot, message.chat.id, replies)


@managers.message(Command("stats"))
async def on_stats(
    message: Message,
    command: CommandObject,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    charts: ChartWorker,
    lang: str,
) -> None:
    selection = await _selection(message, command, config, clock, lang, N_("mgr.usage.stats"))
    if selection is None:
        return
    if selection.by == "reason":
        rules = config.alerts
        replies = await reasons.reasons_reply(
            repo.analytics,
            selection,
            config.reports,
            lang,
            rules.reasons,
            rules.reason_labels,
            charts=charts,
        )
        await sender.send(bot, message.chat.id, replies)
        return
    if selection.by is not None:
        error = t(lang, "mgr.stats_by", field=selection.by)
        await message.answer(t(lang, "mgr.usage.stats", error=error, command="stats"))
        return
    replies = await compose.stats_reply(
        repo.analytics,
        selection,
        config.reports,
        lang,
        charts=charts,
        now=clock(),
        reason_labels=config.alerts.reason_labels,
    )
    await sender.send(bot, message.chat.id, replies)


@managers.message(Command("themes"))
async def on_themes(
    message: Message,
    command: CommandObject,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    lang: str,
) -> None:
    selection = await _selection(
        message, command, config, clock, lang, N_("mgr.usage.themes"), allow_by=False
    )
    if selection is None:
        return
    replies = await themes_reply(repo.analytics, selection, config.reports, lang)
    await sender.send(bot, message.chat.id, replies)


@managers.message(Command("export"))
async def on_export(
    message: Message,
    command: CommandObject,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    lang: str,
) -> None:
    selection = await _selection(
        message, command, config, clock, lang, N_("mgr.usage.export"), allow_by=False
    )
    if selection is None:
        return
    manager_id = message.from_user.id if message.from_user else 0
    logger.info("manager %s exports %s", manager_id, selection.period.label)
    await sender.send_export(bot, message.chat.id, repo.analytics, selection, config.reports, lang)


@managers.message(Command("report"))
async def on_report(
    message: Message,
    command: CommandObject,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    charts: ChartWorker,
    lang: str,
) -> None:
    analytics = repo.analytics
    if command.args:
        selection = await _selection(
            message,
            command,
            config,
            clock,
            lang,
            N_("mgr.usage.report"),
            allow_by=False,
            allow_filters=False,
        )
        if selection is None:
            return
        period = selection.period
    else:
        period = await on_demand_period(repo.report_runs, config.reports, clock())
    replies = await compose.report_reply(
        analytics, period, config.reports, lang, charts=charts, now=clock()
    )
    await sender.send(bot, message.chat.id, replies)


@refusal.message(Command(*COMMANDS))
async def on_refused(message: Message, lang: str) -> None:
    logger.info("user %s tried a manager command", message.from_user.id if message.from_user else 0)
    await message.answer(t(lang, "mgr.refused"))


@elsewhere.message(Command(*COMMANDS))
async def on_elsewhere(message: Message, lang: str) -> None:
    """A manager in a chat that is not for figures (a group): no data, ask in private."""
    manager_id = message.from_user.id if message.from_user else 0
    logger.info("manager %s asked for figures in chat %s", manager_id, message.chat.id)
    await message.answer(t(lang, "mgr.ask_private"))
