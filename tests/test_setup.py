"""Setup without hunting for ids: `survey-bot init` against the emulator, `/claim` and `/id`.

init runs as a real process (`python -m bot init --yes ...`) against the in-process emulator;
the running bot's `/claim` goes through the real dispatcher. Nothing here needs the network.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from bot.cli import main
from bot.config import load_config
from bot.setup import claims, config_file
from bot.setup.wizard import InitOptions, SetupError, init
from storage.sqlite import open_sqlite
from telegram_emulator import BotAPIEmulator

from .chats import Chats
from .clocks import MovableClock
from .test_manager import NOW
from .wiring import wire

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"
GROUP, OTHER_GROUP, OWNER, STRANGER = -100700, -100800, 501, 502
CODE_LINE = re.compile(r"Your one-time code: ([A-Z0-9]+)")


async def run_init(token: str, api_base: str, path: Path) -> asyncio.subprocess.Process:
    """`survey-bot init --yes` writing `path`, with Telegram's answers from `api_base`."""
    args = ("--token", token, "--api-base", api_base, "--config", str(path))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_BOT_")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "init",
        "--yes",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )


async def read_until(process: asyncio.subprocess.Process, pattern: re.Pattern[str]) -> str:
    """Lines of init's output up to the first that matches (init prints as it goes)."""
    assert process.stdout is not None
    seen = []
    async with asyncio.timeout(60):
        while line := (await process.stdout.readline()).decode():
            seen.append(line)
            if pattern.search(line):
                return "".join(seen)
    raise AssertionError(f"init never printed {pattern.pattern!r}; it printed {''.join(seen)}")


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


async def test_init_writes_the_config_and_both_claims_fill_it(
    tmp_path: Path, emulator: BotAPIEmulator
) -> None:
    path = tmp_path / "config.toml"
    process = await run_init("123456:TEST", emulator.base_url, path)
    try:
        await _init_and_claim(process, path, emulator)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _init_and_claim(
    process: asyncio.subprocess.Process, path: Path, emulator: BotAPIEmulator
) -> None:
    printed = await read_until(process, re.compile("Waiting for both claims"))
    match = CODE_LINE.search(printed)
    assert match is not None
    code = match.group(1)
    assert f"Add @survey_test_bot to your support group and send there:  /claim {code}" in printed
    assert f"Then send /claim {code} to @survey_test_bot in a private chat" in printed
    written = path.read_text(encoding="utf-8")  # noqa: ASYNC240 (a small test file)
    # Every comment of the example is still there, in order (the staff chat's line waits).
    assert [c for c in comments(written) if c in comments(EXAMPLE.read_text())] == comments(
        EXAMPLE.read_text()
    )
    mode = path.stat().st_mode & 0o777  # noqa: ASYNC240 (a small test file)
    assert oct(mode) == "0o600", "the file holds the token"
    assert main(["check-config", "--config", str(path)]) == 0, "run would refuse the new file"

    await emulator.wait_for_poll()
    emulator.add_group(GROUP, title="Support")
    emulator.group_message(GROUP, OWNER, f"/claim {code}")
    group_answer = await emulator.wait_for_call("sendMessage", chat_id=GROUP)
    assert "is now the staff chat" in group_answer.params["text"]
    assert "send the same /claim to me in a private chat" in group_answer.params["text"]
    emulator.user_message(OWNER, f"/claim {code.lower()}", language_code="ru")
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "теперь менеджер" in emulator.last_bot_message(OWNER)["text"]
    assert f"Done: {path} has staff_chat_id = {GROUP} and manager_ids = [{OWNER}]" in out.decode()
    assert emulator.pending_updates == [], "the running bot would see the claims again"

    final = path.read_text(encoding="utf-8")  # noqa: ASYNC240 (a small test file)
    assert comments(final) == [c for c in comments(written) if "not set yet" not in c]
    assert f"staff_chat_id = {GROUP}\n" in final and f"manager_ids = [{OWNER}]\n" in final
    assert main(["check-config", "--config", str(path)]) == 0
    config = load_config(path, {})
    assert config.alerts_enabled and config.telegram.api_base == emulator.base_url
    assert len(config.api.token) >= 32, "no [api] secret was generated"
    assert not claims.claim_file(path).exists(), "a spent code stays on disk"


async def test_init_refuses_a_wrong_token_in_one_line(
    tmp_path: Path, emulator: BotAPIEmulator
) -> None:
    path = tmp_path / "config.toml"
    process = await run_init("999:WRONG", emulator.base_url, path)
    async with asyncio.timeout(60):
        _, err = await process.communicate()
    assert process.returncode == 2
    assert err.decode() == "survey-bot: init: Telegram refused the token (401 Unauthorized)\n"
    assert not path.exists(), "a config with a refused token was written"


# --- the running bot: /claim and /id -----------------------------------------------------------


class Setup:
    def __init__(self, chats: Chats, path: Path, code: str, clock: MovableClock) -> None:
        self.chats, self.path, self.code, self.clock = chats, path, code, clock

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


@pytest.fixture
async def setup(
    tmp_path: Path, emulator: BotAPIEmulator, bot: Bot, dispatcher: Dispatcher, caplog
) -> AsyncIterator[Setup]:
    """What `survey-bot init --no-wait` leaves: a fresh config and a pending code."""
    path = tmp_path / "config.toml"
    text = config_file.initial_config(
        EXAMPLE.read_text(), token="123456:TEST", api_base=emulator.base_url, api_token="s" * 32
    )
    config_file.write(path, text, {})
    clock = MovableClock(NOW)
    code = claims.issue(path, NOW)
    config = load_config(path, {})
    repo = await open_sqlite(config.storage.path)
    wire(dispatcher, bot, repo, config, clock)
    emulator.add_group(GROUP, title="Support")
    emulator.add_group(OTHER_GROUP, title="Elsewhere")
    yield Setup(Chats(emulator, bot, dispatcher), path, code, clock)
    await repo.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"a handler failed: {errors[0].getMessage()}"


async def test_the_running_bot_records_both_claims(setup: Setup) -> None:
    chats = setup.chats
    (answer,) = await chats.say(OWNER, f"/claim {setup.code}", chat_id=GROUP)
    assert "is now the staff chat" in answer and "Restart the bot" in answer
    assert load_config(setup.path, {}).telegram.staff_chat_id == GROUP
    assert await chats.say(OWNER, "/nps") == [
        "Sorry, these commands are for the team's managers only."
    ]
    (answer,) = await chats.say(OWNER, f"/claim {setup.code}")
    assert f"You (<code>{OWNER}</code>) are now a manager" in answer
    assert load_config(setup.path, {}).telegram.manager_ids == (OWNER,)
    # At once, without a restart: the new manager's commands answer, and their menu is set.
    (figures,) = await chats.say(OWNER, "/nps")
    assert "No answers in this period" in figures
    menu = chats.emulator.my_commands({"type": "chat", "chat_id": OWNER}, "en")
    assert [c["command"] for c in menu][:2] == ["nps", "csat"]


async def test_a_wrong_code_changes_nothing(setup: Setup) -> None:
    before = setup.text()
    assert await setup.chats.say(STRANGER, "/claim ABCD2345", chat_id=OTHER_GROUP) == [
        "That code is not valid (wrong, or already used up). Nothing was changed."
    ]
    assert await setup.chats.say(STRANGER, "/claim") == [
        "Send the code that survey-bot init printed: /claim CODE"
    ]
    assert setup.text() == before


async def test_an_expired_code_changes_nothing(setup: Setup) -> None:
    before = setup.text()
    setup.clock.now = NOW + timedelta(minutes=15)
    (answer,) = await setup.chats.say(OWNER, f"/claim {setup.code}", chat_id=GROUP)
    assert answer.startswith("That code has expired (codes last 15 minutes). Nothing was changed")
    assert setup.text() == before


async def test_a_used_code_changes_nothing(setup: Setup) -> None:
    chats = setup.chats
    await chats.say(OWNER, f"/claim {setup.code}", chat_id=GROUP)
    claimed = setup.text()
    # Someone who saw the code cannot move the staff chat to their own group...
    assert await chats.say(STRANGER, f"/claim {setup.code}", chat_id=OTHER_GROUP) == [
        "This code was already used for that here. Nothing was changed."
    ]
    assert setup.text() == claimed
    await chats.say(OWNER, f"/claim {setup.code}")
    both = setup.text()
    # ...nor, once both uses are spent, make themselves a manager.
    assert await chats.say(STRANGER, f"/claim {setup.code}") == [
        "That code is not valid (wrong, or already used up). Nothing was changed."
    ]
    assert setup.text() == both
    assert load_config(setup.path, {}).telegram.manager_ids == (OWNER,)


async def test_id_answers_the_chat_and_the_user(setup: Setup) -> None:
    assert await setup.chats.say(STRANGER, "/id", chat_id=OTHER_GROUP) == [
        f"This chat's id: <code>{OTHER_GROUP}</code>\nYour user id: <code>{STRANGER}</code>"
    ]
    (answer,) = await setup.chats.say(STRANGER, "/id")
    assert f"<code>{STRANGER}</code>" in answer


# --- init in-process: asking for the token, and running it again on an existing config ---------


async def test_init_asks_again_for_a_refused_token(
    tmp_path: Path, emulator: BotAPIEmulator
) -> None:
    path, out = tmp_path / "config.toml", io.StringIO()
    answers = iter(["999:WRONG", " 123456:TEST "])
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return next(answers)

    options = InitOptions(path, api_base=emulator.base_url, wait=False)
    assert await init(options, {}, out, ask=ask, clock=lambda: NOW) == 0
    assert len(asked) == 2 and "token" in asked[0]
    printed = out.getvalue()
    assert "Telegram refused the token (401 Unauthorized)" in printed
    assert "Token ok: @survey_test_bot" in printed
    assert "valid until 12:15 UTC" in printed, "the code's expiry is not said"
    assert "the running bot (survey-bot run) accepts the code too" in printed
    assert load_config(path, {}).telegram.token == "123456:TEST"


async def test_init_again_keeps_the_config_and_gives_a_new_code(
    tmp_path: Path, emulator: BotAPIEmulator
) -> None:
    path = tmp_path / "config.toml"
    options = InitOptions(path, token="123456:TEST", api_base=emulator.base_url, wait=False)
    await init(options, {}, io.StringIO(), clock=lambda: NOW)
    edited = path.read_text(encoding="utf-8") + "# my own note\n"
    path.write_text(edited, encoding="utf-8")
    old_code = claims.claim_file(path).read_text(encoding="utf-8")
    out = io.StringIO()
    again = InitOptions(path, interactive=False, wait=False)
    assert await init(again, {}, out, clock=lambda: NOW) == 0
    assert "exists: keeping it" in out.getvalue()
    assert path.read_text(encoding="utf-8") == edited
    assert claims.claim_file(path).read_text(encoding="utf-8") != old_code
    with pytest.raises(SetupError, match="exists and has its own token"):
        await init(options, {}, io.StringIO(), clock=lambda: NOW)
