"""Setup without hunting for ids: `/claim <code>` (from `survey-bot init`) and `/id`, any chat.

A claim in a group records it as the staff chat (applied at the next restart, which starts the
alerts there); in a private chat it makes the sender a manager at once (the config the dispatcher
hands to handlers is replaced) and gives them the managers' menu.
"""

from __future__ import annotations

import dataclasses
import logging

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.config import Config
from bot.setup import claims, config_file
from bot.setup.menus import set_manager_menu
from bot.views.texts import t
from survey_flows.clock import Clock

logger = logging.getLogger(__name__)

router = Router(name=__name__)


@router.message(Command("id"))
async def on_id(message: Message, lang: str) -> None:
    user = message.from_user
    if user is None:  # a channel post: only the chat has an id
        await message.answer(t(lang, "id.chat", chat_id=message.chat.id))
        return
    await message.answer(t(lang, "id", chat_id=message.chat.id, user_id=user.id))


@router.message(Command("claim"))
async def on_claim(
    message: Message,
    command: CommandObject,
    bot: Bot,
    config: Config,
    clock: Clock,
    dispatcher: Dispatcher,
    lang: str,
) -> None:
    user = message.from_user
    if user is None:
        return  # a channel post: nobody to make a manager
    code = (command.args or "").strip()
    if not code:
        await message.answer(t(lang, "claim.usage"))
        return
    if config.source is None:
        await message.answer(t(lang, "claim.wrong"))
        return
    claimed = claims.redeem(
        config.source,
        code,
        chat_id=message.chat.id,
        chat_type=message.chat.type,
        user_id=user.id,
        now=clock(),
        env=config_file.secrets_of(config),
    )
    logger.info("user %s: /claim in chat %s: %s", user.id, message.chat.id, claimed.outcome)
    await message.answer(claims.reply(claimed, message.chat.id, user.id, lang, running=True))
    if claimed.outcome is claims.Outcome.MANAGER:
        tg = dataclasses.replace(
            config.telegram, manager_ids=(*config.telegram.manager_ids, user.id)
        )
        dispatcher["config"] = dataclasses.replace(config, telegram=tg)
        await set_manager_menu(bot, user.id, config.delivery.default_language)
