"""The one place where things are put together: bot, dispatcher, storage, API, workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand, ErrorEvent
from aiohttp import web

from bot.views.i18n import AudienceLanguageMiddleware, CatalogueI18n
from bot.views.texts import language_of, t
from handlers import get_routers
from storage.sqlite import SqliteRepo
from survey_flows.clock import Clock, system_clock

from .api import IntakeApi
from .config import Config
from .telegram.ratelimit import RateLimiter
from .workers.alerts import AlertWorker
from .workers.delivery import DeliveryWorker
from .workers.scheduler import ReportScheduler

logger = logging.getLogger(__name__)


def build_bot(config: Config) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(config.telegram.api_base))
    session.middleware(RateLimiter())
    return Bot(
        config.telegram.token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


async def on_error(event: ErrorEvent, config: Config) -> bool:
    """Last resort: log with ids only, and never leave a customer's button spinning."""
    update = event.update
    logger.error("update %s failed", update.update_id, exc_info=event.exception)
    query = update.callback_query
    if query is not None:
        lang = language_of(query.from_user.language_code, config.delivery.default_language)
        with contextlib.suppress(Exception):
            await query.answer(t(lang, "error"))
    return True


def build_dispatcher(
    config: Config,
    repo: SqliteRepo,
    clock: Clock,
    worker: DeliveryWorker,
    alerts: AlertWorker | None = None,
) -> Dispatcher:
    dp = Dispatcher(
        events_isolation=SimpleEventIsolation(),
        repo=repo,
        config=config,
        clock=clock,
        worker=worker,
        alerts=alerts,
    )
    # aiogram's i18n: each update's language by audience, given to handlers as `lang` and
    # current for aiogram's gettext; workers name theirs explicitly: t(lang, key).
    i18n = CatalogueI18n(default_locale=config.delivery.default_language)
    AudienceLanguageMiddleware(i18n).setup(dp)
    dp.include_routers(*get_routers())
    dp.errors.register(on_error)
    return dp


async def run(config: Config, clock: Clock = system_clock) -> None:
    repo = await SqliteRepo.open(config.storage.path)
    bot = build_bot(config)
    worker = DeliveryWorker(
        bot,
        repo,
        config.surveys,
        clock,
        expire_after=config.delivery.expire_after,
        min_gap=config.delivery.min_gap,
        default_language=config.delivery.default_language,
    )
    alerts = None
    if config.alerts_enabled and config.telegram.staff_chat_id is not None:
        alerts = AlertWorker(
            bot,
            repo,
            config.alerts,
            config.telegram.staff_chat_id,
            clock,
            language=config.delivery.default_language,
        )
    else:
        logger.info("no [telegram] staff_chat_id or alerts disabled: no alerts")
    dp = build_dispatcher(config, repo, clock, worker, alerts)
    api = IntakeApi(config, repo, clock, worker.wake)
    runner = web.AppRunner(api.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.api.host, config.api.port)
    await site.start()
    logger.info("intake API on http://%s:%s/api/v1/events", config.api.host, config.api.port)
    worker_task = asyncio.create_task(worker.run(), name="delivery")
    alerts_task = asyncio.create_task(alerts.run(), name="alerts") if alerts else None
    reports = ReportScheduler(bot, repo, config.reports, clock)
    try:
        await reports.start()  # sends a report missed while down (within the grace time) first
        with contextlib.suppress(Exception):
            await bot.set_my_commands(
                [
                    BotCommand(command="start", description="Start"),
                    BotCommand(command="help", description="What this bot does"),
                    BotCommand(command="stop", description="No more surveys"),
                ]
            )
        await dp.start_polling(bot, handle_signals=True, close_bot_session=False)
    finally:
        await reports.stop()
        await worker.stop()
        await worker_task
        if alerts is not None and alerts_task is not None:
            alerts.stop()
            await alerts_task
        await runner.cleanup()
        await bot.session.close()
        await repo.close()
        logger.info("stopped")
