"""Managers' commands: /nps /csat /ces /stats /export /report, for configured managers only.

`router` holds three routers in order: `managers` (filtered to `[telegram] manager_ids` by
`IsManager`, which gets the config by injection, and to a private chat or `[reports] chat_ids` by
`InAnalyticsChat`), `elsewhere`, which tells a manager in any other chat to ask in private, and
`refusal`, which answers anyone else's manager command with one polite line and no data. It must
come before the customer router, which answers every private text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.charts.worker import ChartWorker
from bot.config import Config
from bot.reports import compose, reasons, sender
from bot.reports.compose import Outgoing
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


def _user_id(message: Message) -> int:
    return message.from_user.id if message.from_user else 0


@dataclass(frozen=True, slots=True)
class _Ask:
    """One manager command and what answering it needs, so that each answer says only its own."""

    message: Message
    command: CommandObject
    bot: Bot
    repo: SurveyRepo
    config: Config
    clock: Clock
    charts: ChartWorker
    lang: str

    async def selection(self, usage: str, **kw: Any) -> Selection | None:
        """The parsed arguments, or None after a one-line usage reply naming what was wrong."""
        command, tz = self.command, compose.tz_of(self.config.reports)
        try:
            return parse_selection(command.args, self.clock(), tz, **kw)
        except BadArguments as exc:
            logger.info("manager %s: bad arguments to /%s", _user_id(self.message), command.command)
            await self.message.answer(t(self.lang, usage, error=str(exc), command=command.command))
            return None

    async def send(self, replies: Sequence[Outgoing]) -> None:
        await sender.send(self.bot, self.message.chat.id, replies)


async def _metric(ask: _Ask) -> None:
    selection = await ask.selection(N_("mgr.usage.metric"))
    if selection is None:
        return
    metric = Metric(ask.command.command.lower())
    cfg = ask.config.reports
    analytics = ask.repo.analytics
    await ask.send(
        await compose.metric_reply(
            analytics, metric, selection, cfg, ask.lang, charts=ask.charts, now=ask.clock()
        )
    )


async def _stats(ask: _Ask) -> None:
    selection = await ask.selection(N_("mgr.usage.stats"))
    if selection is None:
        return
    analytics, cfg, labels = ask.repo.analytics, ask.config.reports, ask.config.alerts.reason_labels
    if selection.by == "reason":
        reasons_seen = ask.config.alerts.reasons
        await ask.send(
            await reasons.reasons_reply(
                analytics, selection, cfg, ask.lang, reasons_seen, labels, charts=ask.charts
            )
        )
        return
    if selection.by is not None:
        error = t(ask.lang, "mgr.stats_by", field=selection.by)
        await ask.message.answer(t(ask.lang, "mgr.usage.stats", error=error, command="stats"))
        return
    await ask.send(
        await compose.stats_reply(
            analytics,
            selection,
            cfg,
            ask.lang,
            charts=ask.charts,
            now=ask.clock(),
            reason_labels=labels,
        )
    )


async def _themes(ask: _Ask) -> None:
    selection = await ask.selection(N_("mgr.usage.themes"), allow_by=False)
    if selection is None:
        return
    await ask.send(await themes_reply(ask.repo.analytics, selection, ask.config.reports, ask.lang))


async def _export(ask: _Ask) -> None:
    selection = await ask.selection(N_("mgr.usage.export"), allow_by=False)
    if selection is None:
        return
    logger.info("manager %s exports %s", _user_id(ask.message), selection.period.label)
    await sender.send_export(
        ask.bot, ask.message.chat.id, ask.repo.analytics, selection, ask.config.reports, ask.lang
    )


async def _report(ask: _Ask) -> None:
    """Without arguments, the period the scheduled report would cover now."""
    cfg = ask.config.reports
    if ask.command.args:
        selection = await ask.selection(N_("mgr.usage.report"), allow_by=False, allow_filters=False)
        if selection is None:
            return
        period = selection.period
    else:
        period = await on_demand_period(ask.repo.report_runs, cfg, ask.clock())
    await ask.send(
        await compose.report_reply(
            ask.repo.analytics, period, cfg, ask.lang, charts=ask.charts, now=ask.clock()
        )
    )


# By command name, in the order of COMMANDS.
_ANSWERS: dict[str, Callable[[_Ask], Awaitable[None]]] = {
    "nps": _metric,
    "csat": _metric,
    "ces": _metric,
    "stats": _stats,
    "themes": _themes,
    "export": _export,
    "report": _report,
}


@managers.message(Command(*COMMANDS))
async def on_figures(
    message: Message,
    command: CommandObject,
    bot: Bot,
    repo: SurveyRepo,
    config: Config,
    clock: Clock,
    charts: ChartWorker,
    lang: str,
) -> None:
    answer = _ANSWERS[command.command]
    await answer(_Ask(message, command, bot, repo, config, clock, charts, lang))


@refusal.message(Command(*COMMANDS))
async def on_refused(message: Message, lang: str) -> None:
    logger.info("user %s tried a manager command", _user_id(message))
    await message.answer(t(lang, "mgr.refused"))


@elsewhere.message(Command(*COMMANDS))
async def on_elsewhere(message: Message, lang: str) -> None:
    """A manager in a chat that is not for figures (a group): no data, ask in private."""
    logger.info("manager %s asked for figures in chat %s", _user_id(message), message.chat.id)
    await message.answer(t(lang, "mgr.ask_private"))
