"""Menus and /help for every role: what each person sees in Telegram's command menu and in /help,
and that a command sent where it does not work is answered with one line, not silence."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from bot.config import Config, parse_config
from bot.setup.menus import set_menus
from storage.sqlite import open_sqlite
from telegram_emulator import BotAPIEmulator

from .chats import Chats
from .test_manager import NOW
from .wiring import wire

STAFF_CHAT, OTHER_GROUP = -100500, -100600
MANAGER, CUSTOMER, AGENT = 42, 4242, 77


def help_config(tmp_path: Path) -> Config:
    raw = {
        "telegram": {"token": "123456:TEST", "staff_chat_id": STAFF_CHAT, "manager_ids": [MANAGER]},
        "api": {"token": "x" * 16},
        "storage": {"path": str(tmp_path / "db.sqlite3")},
    }
    return parse_config(raw, {}, tmp_path)


@pytest.fixture
async def chats(
    tmp_path: Path, emulator: BotAPIEmulator, bot: Bot, dispatcher: Dispatcher, caplog
) -> AsyncIterator[Chats]:
    config = help_config(tmp_path)
    repo = await open_sqlite(config.storage.path)
    wire(dispatcher, bot, repo, config, lambda: NOW)
    emulator.add_group(STAFF_CHAT, title="Support")
    emulator.add_group(OTHER_GROUP, title="Friends")
    yield Chats(emulator, bot, dispatcher)
    await repo.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"a handler failed: {errors[0].getMessage()}"


# --- menus ------------------------------------------------------------------------------------


def names(commands: list[dict]) -> list[str]:
    return [c["command"] for c in commands]


async def test_each_role_gets_its_menu_in_each_language(
    tmp_path: Path, emulator: BotAPIEmulator, bot: Bot
) -> None:
    assert await set_menus(bot, help_config(tmp_path)) == 0, "Telegram refused a menu"
    private = {"type": "all_private_chats"}
    staff = {"type": "chat", "chat_id": STAFF_CHAT}
    manager = {"type": "chat", "chat_id": MANAGER}
    for lang in (None, "en", "ru", "uk", "zh"):
        assert names(emulator.my_commands(private, lang)) == ["start", "help", "stop", "forget"]
        assert names(emulator.my_commands(staff, lang)) == ["alerts", "help"]
        assert names(emulator.my_commands(manager, lang)) == [
            *("nps", "csat", "ces", "stats", "themes", "report", "export", "help"),
            *("start", "stop", "forget"),
        ]
    descriptions = {
        lang: {c["command"]: c["description"] for c in emulator.my_commands(private, lang)}
        for lang in (None, "en", "ru", "uk", "zh")
    }
    assert descriptions[None]["stop"] == "No more surveys", "others see the English menu"
    assert descriptions["ru"]["stop"] == "Больше не присылать опросы"
    assert descriptions["uk"]["stop"] == "Більше не надсилати опитування"
    assert descriptions["zh"]["stop"] == "不再接收调查"
    mgr_ru = {c["command"]: c["description"] for c in emulator.my_commands(manager, "ru")}
    assert "by agent" in mgr_ru["nps"], "a manager's menu shows how to use the command"
    # Groups other than the staff chat get no menu: nothing there is for them.
    assert emulator.my_commands({"type": "default"}) == []


async def test_a_refused_menu_is_logged_and_the_others_are_still_set(
    tmp_path: Path, emulator: BotAPIEmulator, bot: Bot, caplog
) -> None:
    emulator.fail_next("setMyCommands", error_code=400, description="Bad Request: chat not found")
    failed = await set_menus(bot, help_config(tmp_path))
    assert failed == 1
    assert (
        "menu for all private chats not set: Telegram server says - Bad Request: chat not found"
        in caplog.text
    )
    assert names(emulator.my_commands({"type": "chat", "chat_id": STAFF_CHAT}, "en")) == [
        "alerts",
        "help",
    ]


# --- /help --------------------------------------------------------------------------------------


async def test_help_in_the_staff_chat_explains_alerts(chats: Chats) -> None:
    (text,) = await chats.say(AGENT, "/help", chat_id=STAFF_CHAT)
    for part in ("<b>Take</b>", "<b>Resolved</b>", "<b>Reply</b> to the alert", "escalation"):
        assert part in text, f"the staff help does not explain {part}"
    assert "/alerts" in text


async def test_a_managers_help_lists_commands_with_examples(chats: Chats) -> None:
    (text,) = await chats.say(MANAGER, "/help")
    for command in ("/nps", "/csat", "/ces", "/stats", "/report", "/export"):
        assert command in text
    assert "<code>/nps 30d by agent</code>" in text, "no example of `by`"
    assert "<code>product=Kettle</code>" in text, "no example of a filter"
    assert "2026-01-01..2026-03-31" in text and "quarter" in text, "no examples of periods"


async def test_a_managers_help_in_their_language(chats: Chats) -> None:
    (text,) = await chats.say(MANAGER, "/help", language_code="uk")
    assert "Команди менеджера" in text


async def test_a_customers_help_explains_stop(chats: Chats) -> None:
    (text,) = await chats.say(CUSTOMER, "/help")
    assert "/stop: no more questions" in text
    assert "/nps" not in text, "a customer is shown managers' commands"


async def test_help_in_another_group_points_to_a_private_chat(chats: Chats) -> None:
    assert await chats.say(CUSTOMER, "/help", chat_id=OTHER_GROUP) == [
        "I work in the support team's group and in private chats. Write to me in private: /help"
    ]


# --- commands sent where they do not work -------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "text", "chat", "answer"),
    [
        (CUSTOMER, "/alerts", None, "/alerts works only in the support team's group."),
        (MANAGER, "/alerts", None, "/alerts works only in the support team's group."),
        (AGENT, "/alerts", OTHER_GROUP, "/alerts works only in the support team's group."),
        (AGENT, "/start", STAFF_CHAT, "/start works only in a private chat with me."),
        (CUSTOMER, "/stop", OTHER_GROUP, "/stop works only in a private chat with me."),
        (CUSTOMER, "/nps", None, "Sorry, these commands are for the team's managers only."),
        (AGENT, "/nps 7d", STAFF_CHAT, "Sorry, these commands are for the team's managers only."),
        (
            MANAGER,
            "/stats",
            STAFF_CHAT,
            "Figures are not shown in this chat. Please ask me in a private chat.",
        ),
    ],
)
async def test_a_misplaced_command_gets_one_line(
    chats: Chats, user: int, text: str, chat: int | None, answer: str
) -> None:
    assert await chats.say(user, text, chat_id=chat) == [answer]


async def test_alerts_still_work_in_the_staff_chat(chats: Chats) -> None:
    (text,) = await chats.say(AGENT, "/alerts", chat_id=STAFF_CHAT)
    assert "works only" not in text
    assert "alert" in text.lower()
