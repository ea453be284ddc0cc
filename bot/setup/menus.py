"""The command menus Telegram shows beside the text box, one per role and language.

Set at start-up with `setMyCommands`: customers in every private chat, the staff group, and each
manager's private chat (a chat scope wins over the all-private-chats one), in every language of
locales/ plus the default (no language_code, English), which Telegram shows to everyone else.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeUnion,
)

from bot.config import Config
from bot.views.texts import LANGUAGES, N_, t

logger = logging.getLogger(__name__)

CUSTOMER = ("start", "help", "stop", "forget")
STAFF = ("alerts", "help")
MANAGER = (
    "nps",
    "csat",
    "ces",
    "stats",
    "themes",
    "report",
    "export",
    "help",
    "start",
    "stop",
    "forget",
)
# Each command's line in the menu.
DESCRIPTIONS = {
    "start": N_("menu.start"),
    "help": N_("menu.help"),
    "stop": N_("menu.stop"),
    "forget": N_("menu.forget"),
    "alerts": N_("menu.alerts"),
    "nps": N_("menu.nps"),
    "csat": N_("menu.csat"),
    "ces": N_("menu.ces"),
    "stats": N_("menu.stats"),
    "themes": N_("menu.themes"),
    "report": N_("menu.report"),
    "export": N_("menu.export"),
}


def commands(names: tuple[str, ...], lang: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=t(lang, DESCRIPTIONS[name])) for name in names]


def menus(config: Config) -> list[tuple[BotCommandScopeUnion, tuple[str, ...]]]:
    """(scope, commands) for every audience this config has."""
    found: list[tuple[BotCommandScopeUnion, tuple[str, ...]]] = [
        (BotCommandScopeAllPrivateChats(), CUSTOMER)
    ]
    if config.telegram.staff_chat_id is not None:
        found.append((BotCommandScopeChat(chat_id=config.telegram.staff_chat_id), STAFF))
    found += [(BotCommandScopeChat(chat_id=m), MANAGER) for m in config.telegram.manager_ids]
    return found


async def set_menus(bot: Bot, config: Config) -> int:
    """Set every menu; returns how many were refused (logged, never fatal: menus are a help)."""
    failed = 0
    for scope, names in menus(config):
        failed += await set_menu(bot, scope, names, config.delivery.default_language)
    return failed


async def set_manager_menu(bot: Bot, manager_id: int, default_language: str) -> int:
    """A new manager's menu, at once (after /claim)."""
    return await set_menu(bot, BotCommandScopeChat(chat_id=manager_id), MANAGER, default_language)


async def set_menu(
    bot: Bot, scope: BotCommandScopeUnion, names: tuple[str, ...], default_language: str
) -> int:
    # None: the menu for users whose language has no menu of its own.
    for lang in (None, *LANGUAGES):
        try:
            await bot.set_my_commands(
                commands(names, lang or default_language), scope=scope, language_code=lang
            )
        except TelegramAPIError as exc:
            # A manager who never wrote to the bot has no chat yet: "chat not found".
            where = getattr(scope, "chat_id", None) or "all private chats"
            logger.warning("menu for %s not set: %s", where, exc)
            return 1  # the same reason holds for every language
    return 0
