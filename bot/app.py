"""The one place where things are put together: bot, dispatcher, storage, API, workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import ErrorEvent
from aiohttp import web

from bot.charts.worker import ChartWorker
from bot.config import Config
from bot.conversation import Conversation, Signals
from bot.intake.api import IntakeApi
from bot.process.database import open_checked
from bot.process.heap import settle_after_startup
from bot.process.leadership import Leadership
from bot.process.profiles import CustomerProfileMiddleware
from bot.process.startup import StartupError, bind_port, check_telegram
from bot.setup.menus import set_menus
from bot.telegram.polling import poll
from bot.telegram.ratelimit import PAID_PER_SECOND, RateLimiter
from bot.telegram.response_types import KeepResponseTypes
from bot.telegram.webhook import mount_webhook, set_webhook
from bot.views.i18n import AudienceLanguageMiddleware
from bot.views.texts import language_of, t
from bot.workers.alerts import AlertWorker
from bot.workers.campaigns import Campaigns, CampaignScheduler, recontact_window
from bot.workers.delivery import DeliveryWorker
from bot.workers.scheduler import ReportScheduler
from handlers import get_routers, links
from storage.base import SurveyRepo
from survey_flows.clock import Clock, system_clock

logger = logging.getLogger(__name__)


def build_bot(config: Config) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(config.telegram.api_base))
    tg = config.telegram
    session.middleware(KeepResponseTypes())
    session.middleware(
        RateLimiter(
            per_second=tg.rate_limit, paid_per_second=PAID_PER_SECOND if tg.paid_broadcast else None
        )
    )
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
    repo: SurveyRepo,
    clock: Clock,
    conversation: Conversation,
    *,
    charts: ChartWorker,
) -> Dispatcher:
    dp = Dispatcher(
        events_isolation=SimpleEventIsolation(),
        repo=repo,
        config=config,
        clock=clock,
        conversation=conversation,
        signals=conversation.signals,
        charts=charts,
    )
    # Each update's language by audience, given to handlers as `lang` for t(lang, key).
    AudienceLanguageMiddleware().setup(dp)
    profiles = CustomerProfileMiddleware()
    dp.message.outer_middleware(profiles)
    dp.callback_query.outer_middleware(profiles)
    # Deep links (`/start <token>`) before the customer router, which answers a plain /start.
    dp.include_router(links.router)
    dp.include_routers(*get_routers())
    dp.errors.register(on_error)
    return dp


async def run(
    config: Config, clock: Clock = system_clock, stop: asyncio.Event | None = None
) -> None:
    """Check the settings against Telegram, then serve until SIGTERM/SIGINT (or `stop` is set:
    the demo runs the bot in-process and ends it itself).

    Raises ``StartupError`` (one line naming the setting) before anything has started.
    """
    listening = bind_port(config.api.host, config.api.port)
    stop = stop or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(listening.close)
        # From the first moment anything may be sent: a SIGTERM while the workers start is a
        # clean stop too (the prompt in flight is recorded), not the default sudden death.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
            stack.callback(loop.remove_signal_handler, sig)
        checked = await check_telegram(config)
        repo = await open_checked(config)
        stack.push_async_callback(repo.close)
        # Only now: up to here a wrong setting is the one line the operator sees on stderr.
        logger.info("token ok: %s; staff chat: %s", checked.username, checked.staff_chat or "none")
        bot = build_bot(config)
        stack.push_async_callback(bot.session.close)
        await _serve(
            config,
            clock,
            repo,
            bot,
            listening,
            stack,
            stop,
            bot_username=checked.bot_username,
        )
    logger.info("stopped")


async def _serve(
    config: Config,
    clock: Clock,
    repo: SurveyRepo,
    bot: Bot,
    listening: socket.socket,
    stack: contextlib.AsyncExitStack,
    stop: asyncio.Event,
    bot_username: str | None = None,
) -> None:
    if config.telegram.mode != "webhook" and not await repo.cluster.try_poll(bot.id):
        raise StartupError(
            "telegram.mode: another survey-bot process already polls Telegram for this bot on"
            ' this database; run the others with mode = "webhook" behind one address'
        )
    worker = DeliveryWorker(
        bot,
        repo,
        config.surveys,
        clock,
        expire_after=config.delivery.expire_after,
        remind_after=config.delivery.remind_after,
        quiet_hours=config.throttle.quiet_hours,
        timezone=config.throttle.timezone,
        default_language=config.delivery.default_language,
    )
    worker.sweeps = False  # until this process leads
    alerts = _alert_worker(config, bot, repo, clock)
    charts = ChartWorker()  # its process starts with the first chart
    stack.callback(charts.close)  # after the scheduler has stopped (the stack unwinds in reverse)
    signals = Signals(worker.wake, alerts.wake if alerts is not None else Signals().alerts)
    conversation = Conversation(bot, repo, config, clock, signals)
    dp = build_dispatcher(config, repo, clock, conversation, charts=charts)

    def erased() -> None:  # open surveys lose their buttons, alert cards are re-rendered
        signals.prompts()
        signals.alerts()

    api = IntakeApi(config, repo, clock, worker.wake, on_erased=erased, bot_username=bot_username)
    app = api.app()
    webhook = config.telegram.mode == "webhook"
    if webhook:
        mount_webhook(app, dp, bot, config.telegram)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    await web.SockSite(runner, listening).start()
    logger.info("intake API on http://%s:%s/api/v1/events", config.api.host, config.api.port)
    worker_task = asyncio.create_task(worker.run(), name="delivery")
    stack.push_async_callback(_stop_delivery, worker, worker_task)
    reports = ReportScheduler(bot, repo, config.reports, clock, charts)
    stack.push_async_callback(reports.stop)
    campaigns = Campaigns(
        repo.campaigns,
        config.campaigns,
        clock,
        recontact=recontact_window(config),
        wake=worker.wake,
    )
    campaign_jobs = CampaignScheduler(campaigns, config.campaigns, clock)
    stack.push_async_callback(campaign_jobs.stop)

    work = _LeaderWork(repo, worker, alerts, reports, campaign_jobs, stack)
    limiter = next((m for m in bot.session.middleware if isinstance(m, RateLimiter)), None)
    leadership = Leadership(repo, work.lead, settle=work.settle, limiter=limiter)
    await leadership.start()
    elections = asyncio.create_task(leadership.run(stop), name="leadership")
    stack.push_async_callback(_cancelled, elections)
    await set_menus(bot, config)  # per role and language; a refusal is logged, never fatal
    if webhook:

        async def serve(stop: asyncio.Event) -> None:
            await set_webhook(bot, dp, config.telegram)
            await stop.wait()  # updates arrive over HTTP meanwhile
    else:

        async def serve(stop: asyncio.Event) -> None:
            # Back from webhook mode: Telegram refuses getUpdates while a webhook is set.
            await bot.delete_webhook(drop_pending_updates=False)
            await poll(dp, bot, stop)

    settle_after_startup()
    await _until_signalled(dp, bot, serve, stop)


def _alert_worker(config: Config, bot: Bot, repo: SurveyRepo, clock: Clock) -> AlertWorker | None:
    if config.alerts_enabled and config.telegram.staff_chat_id is not None:
        return AlertWorker(
            bot,
            repo,
            config.alerts,
            config.telegram.staff_chat_id,
            clock,
            language=config.delivery.default_language,
        )
    logger.info("alerts disabled: no alerts")
    return None


@dataclass(frozen=True, slots=True)
class _LeaderWork:
    """The work one process does for all (on SQLite: this one, from the start)."""

    repo: SurveyRepo
    worker: DeliveryWorker
    alerts: AlertWorker | None
    reports: ReportScheduler
    campaign_jobs: CampaignScheduler
    stack: contextlib.AsyncExitStack

    async def lead(self) -> None:
        self.worker.sweeps = True
        if self.alerts is not None:
            task = asyncio.create_task(self.alerts.run(), name="alerts")
            self.stack.push_async_callback(_stop_alerts, self.alerts, task)
        await self.reports.start()  # sends a report missed while down (within grace) first
        await self.campaign_jobs.start()  # resumes a run cut short, runs one missed while down

    async def settle(self) -> None:
        """What dead processes had claimed is due again at once (PostgreSQL)."""
        if await self.repo.outbox.settle_uncertain_prompts():
            self.worker.wake()
        if self.alerts is not None and await self.repo.alert_posts.settle_uncertain_alert_posts():
            self.alerts.wake()


async def _until_signalled(
    dp: Dispatcher,
    bot: Bot,
    serve: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    """Run `serve` until SIGTERM or SIGINT sets its stop event (the handlers are set by `run`
    before anything starts, so a stop is always clean)."""
    data = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    try:
        await dp.emit_startup(bot=bot, **data)
        await serve(stop)
    finally:
        await dp.emit_shutdown(bot=bot, **data)


async def _stop_delivery(worker: DeliveryWorker, task: asyncio.Task[None]) -> None:
    await worker.stop()
    await task


async def _stop_alerts(alerts: AlertWorker, task: asyncio.Task[None]) -> None:
    alerts.stop()
    await task


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
