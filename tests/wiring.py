"""Handler tests' dependencies put into the shared dispatcher, as bot/app.py puts them."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher

from bot.config import Config
from bot.conversation import Conversation, Signals
from survey_flows.clock import Clock


def wire(
    dp: Dispatcher,
    bot: Bot,
    repo: Any,
    config: Config,
    clock: Clock,
    *,
    delivery: Any = None,
    alerts: Any = None,
) -> None:
    """`delivery` and `alerts` are the workers the handlers' commits wake (None: nobody)."""
    quiet = Signals()
    signals = Signals(
        delivery.wake if delivery is not None else quiet.prompts,
        alerts.wake if alerts is not None else quiet.alerts,
    )
    dp["repo"], dp["config"], dp["clock"] = repo, config, clock
    dp["signals"] = signals
    dp["conversation"] = Conversation(bot, repo, config, clock, signals)
