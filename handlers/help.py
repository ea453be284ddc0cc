"""`/help` for whoever asks where they ask, and one line for a command sent where it does not work.

- the staff chat: how alerts work (Take, Resolved, replying to a customer, escalation);
- a manager in private: the manager commands with examples of periods, filters and `by`;
- a customer in private: what the bot does, /stop and /start;
- any other group: that the bot works in the staff chat and in private.

`/alerts` outside the staff chat, and the customers' commands in a group, get one line saying
where they work instead of silence. (Managers' commands elsewhere are answered by the manager
router: a polite refusal, or "ask me in private".) Mounted before the audience routers.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.config import Config
from bot.views.texts import t
from storage.base import SurveyRepo

from .filters import InStaffChat

router = Router(name=__name__)

# Customers' commands: they only mean something in a private chat with the bot.
PRIVATE_COMMANDS = ("start", "stop", "forget")


@router.message(Command("help"))
async def on_help(message: Message, config: Config, repo: SurveyRepo, lang: str) -> None:
    user = message.from_user
    if user is None:
        return  # a channel post: there is nobody to answer
    if await repo.staff_chat.is_staff_chat(message.chat.id, config.telegram.staff_chat_id):
        await message.answer(t(lang, "help.staff"))
    elif message.chat.type != ChatType.PRIVATE:
        await message.answer(t(lang, "help.group"))
    elif user.id in config.telegram.manager_ids:
        await message.answer(t(lang, "help.manager"))
    else:
        await message.answer(t(lang, "help"))


@router.message(Command("alerts"), ~InStaffChat())
async def on_alerts_elsewhere(message: Message, lang: str) -> None:
    await message.answer(t(lang, "misplaced.alerts"))


@router.message(Command(*PRIVATE_COMMANDS), F.chat.type != ChatType.PRIVATE)
async def on_private_command_in_group(message: Message, command: CommandObject, lang: str) -> None:
    await message.answer(t(lang, "misplaced.private", command=command.command))
