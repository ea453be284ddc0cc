"""Putting the demo together: emulator, history, the real bot in-process, the shop, the page."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import socket
import tempfile
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from bot.app import run as run_bot
from bot.config import Config
from bot.process.startup import StartupError
from storage.sqlite import open_sqlite
from survey_flows import metrics
from survey_flows.models import Metric
from telegram_emulator import BotAPIEmulator

from .history import DAYS, backfill
from .people import crowd
from .shop import Shop, ShopFigures
from .web import DemoPage, bound_port, serve
from .world import NAMES, STAFF_CHAT, TOKEN, Chats, FastClock, demo_config

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    data: Path | None = None
    port: int = 8765
    customers: int = 40
    speed: float = 10.0  # real seconds per simulated hour
    duration: float | None = None  # seconds; None runs until Ctrl-C
    browser: bool = True
    seed: int | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_demo(
    options: DemoOptions,
    say: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
) -> str:
    """Run until `duration` passes, Ctrl-C or `stop` is set; returns the summary (also said)."""
    clock = FastClock(3600 / options.speed)
    data_dir = options.data or Path(tempfile.mkdtemp(prefix="survey-bot-demo-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    emulator = BotAPIEmulator(TOKEN, bot_username="demo_shop_bot", bot_name="Demo Shop Bot")
    api_base = await emulator.start()
    try:
        emulator.add_group(STAFF_CHAT, title="Support team")
        emulator.set_member_status(STAFF_CHAT, emulator.bot_user["id"], "administrator")
        for user_id, (first, last) in NAMES.items():
            # No public call names a user before they write; without it a first press (Take)
            # would show "User 3000" on the card.
            emulator._register_user(user_id, first, last or None, None, "en")
        config = demo_config(data_dir, api_base, free_port())
        rng = random.Random(options.seed)
        people = crowd(options.customers, rng)
        started = clock()
        repo = await open_sqlite(config.storage.path)
        try:
            history = await backfill(repo, config.surveys, people, started, rng)
        finally:
            await repo.close()
        figures = await _serve(
            options, config, clock, emulator, people, rng, say, stop or asyncio.Event()
        )
        summary = await summarise(config, started, clock(), history, figures)
    finally:
        await emulator.stop()
        if options.data is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    say(summary)
    return summary


async def _serve(
    options: DemoOptions,
    config: Config,
    clock: FastClock,
    emulator: BotAPIEmulator,
    people: list,
    rng: random.Random,
    say: Callable[[str], None],
    finish: asyncio.Event,
) -> ShopFigures:
    api_url = f"http://{config.api.host}:{config.api.port}"
    shop = Shop(emulator, people, clock, api_url, config.api.token, rng)
    page = DemoPage(emulator, Chats(), lambda: shop.post_event("purchase", None, 0))
    try:  # the page's port first: a port in use stops the demo before anything started
        runner = await serve(page.app(), options.port)
    except OSError as exc:
        await shop.close()
        raise StartupError(
            f"--port: cannot serve the page on 127.0.0.1:{options.port} ({exc.strerror}); "
            "choose another port"
        ) from None
    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(config, clock, stop), name="bot")
    shop_task: asyncio.Task[None] | None = None
    begun = time.monotonic()
    try:
        polling = asyncio.create_task(emulator.wait_for_poll(60))
        await asyncio.wait({bot_task, polling}, return_when=asyncio.FIRST_COMPLETED)
        if bot_task.done():  # it could not start (raised below), or Ctrl-C came first
            polling.cancel()
            return shop.figures
        await polling
        shop_task = asyncio.create_task(shop.run(), name="shop")
        url = f"http://127.0.0.1:{bound_port(runner)}/"
        say(f"open {url}")
        say(
            f"{options.customers} simulated customers; one simulated hour every "
            f"{options.speed:g} s. Stop with Ctrl-C."
        )
        if options.browser:
            with contextlib.suppress(Exception):
                webbrowser.open(url)
        # The bot stops itself on Ctrl-C / SIGTERM; a --duration or `finish` stops it from here.
        finished = asyncio.create_task(finish.wait())
        await asyncio.wait(
            {bot_task, finished}, timeout=options.duration, return_when=asyncio.FIRST_COMPLETED
        )
        finished.cancel()
    finally:
        stop.set()
        if shop_task is not None:
            shop_task.cancel()
            try:
                await shop_task
            except asyncio.CancelledError:
                pass
            except aiohttp.ClientConnectionError:
                # After Ctrl-C the bot closes its API first: the shop's last post found it gone.
                if not bot_task.done():
                    raise
        await shop.close()
        await runner.cleanup()
        await bot_task  # raises why the bot stopped, if it failed
    shop.figures.seconds = time.monotonic() - begun
    return shop.figures


async def summarise(
    config: Config, start: datetime, end: datetime, history: int, figures: ShopFigures
) -> str:
    """What happened, from the database: live events and answers, alerts, and the metrics of
    the whole history included."""
    repo = await open_sqlite(config.storage.path)
    try:
        analytics = repo.analytics
        live = await analytics.activity(start, end + timedelta(seconds=1))
        alerts = await analytics.alert_figures(start, end + timedelta(seconds=1))
        since = start - timedelta(days=DAYS + 1)
        counts = await analytics.distributions(since, end + timedelta(seconds=1))
    finally:
        await repo.close()
    parts = []
    for metric in (Metric.NPS, Metric.CSAT, Metric.CES):
        result = metrics.compute(metric, counts[metric])
        if result.value is None:
            parts.append(f"{metric.upper()} – (n=0)")
        elif metric is Metric.NPS:
            parts.append(f"NPS {result.value:+.0f} (n={result.n})")
        elif metric is Metric.CSAT:
            parts.append(f"CSAT {result.value:.0f}% (n={result.n})")
        else:
            parts.append(f"CES {result.value:.1f} (n={result.n})")
    simulated = (end - start).total_seconds() / 3600
    return "\n".join(
        [
            f"demo summary: {figures.seconds:.0f} s run, {simulated:.1f} simulated hours",
            f"events: {figures.events} posted to the intake API"
            f" (+{history} surveys of history written first)",
            f"answers: {live.answers} ({live.comments} with a comment) to"
            f" {live.invitations_sent} surveys sent",
            f"alerts: {alerts['raised']} raised, {figures.alerts_taken} taken and"
            f" {figures.alerts_resolved} resolved by the simulated agent",
            f"last {DAYS} days: " + " · ".join(parts),
        ]
    )
