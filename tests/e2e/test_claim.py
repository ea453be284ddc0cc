"""The real bot process: menus set at start-up, and `/claim` making someone a manager at once."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import load_config
from bot.setup import claims

from .harness import MANAGER, STAFF_CHAT
from .test_survey_loop import next_message

NEWCOMER = 900777


async def test_menus_are_set_at_start_up(emulator, start_bot) -> None:
    await start_bot()
    private = emulator.my_commands({"type": "all_private_chats"}, "ru")
    assert [c["command"] for c in private] == ["start", "help", "stop", "forget"]
    staff = emulator.my_commands({"type": "chat", "chat_id": STAFF_CHAT}, None)
    assert [c["command"] for c in staff] == ["alerts", "help"]
    manager = emulator.my_commands({"type": "chat", "chat_id": MANAGER}, "zh")
    assert [c["command"] for c in manager][:3] == ["nps", "csat", "ces"]


async def test_a_claim_in_private_makes_a_manager_without_a_restart(emulator, start_bot) -> None:
    bot = await start_bot()
    path = bot.workdir / "config.toml"
    code = claims.issue(path, datetime.now(UTC))
    mark = len(emulator.calls)
    emulator.user_message(NEWCOMER, f"/claim {code}")
    answer = await next_message(emulator, NEWCOMER, mark)
    assert "are now a manager" in answer["text"], answer
    assert load_config(path, {}).telegram.manager_ids == (MANAGER, NEWCOMER)
    mark = len(emulator.calls)
    emulator.user_message(NEWCOMER, "/help")
    help_text = await next_message(emulator, NEWCOMER, mark)
    assert "Manager commands" in help_text["text"], help_text
    assert emulator.my_commands({"type": "chat", "chat_id": NEWCOMER}, "en"), "no manager menu"
