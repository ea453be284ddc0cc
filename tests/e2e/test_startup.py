"""Wrong settings stop `survey-bot run` at once, with one line naming them; the real CLI, as a
subprocess, against the emulator."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from .harness import API_TOKEN, BOT_TOKEN, ROOT, STAFF_CHAT, BotProcess, free_port

# Longer than any check may take (the bot gives Telegram 15 s), shorter than "it hangs".
EXIT_WITHIN = 40.0


async def survey_bot(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the CLI; (exit code, stdout, stderr). A process still running after EXIT_WITHIN
    seconds is killed and the test fails: the operator would have seen it hang."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_BOT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env={**clean, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), EXIT_WITHIN)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(
            f"survey-bot {' '.join(args)} still ran after {EXIT_WITHIN}s: the operator saw it "
            f"hang; its stderr ended with:\n{err.decode(errors='replace')[-2000:]}"
        ) from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def config_file(bot: BotProcess, **replace: str) -> Path:
    """The e2e config with `old=new` text replacements (keys named by their old text)."""
    path = bot.write_config()
    text = path.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line(code: int, err: str, *names: str) -> str:
    assert code == 2, f"exit code {code}, expected 2; stderr:\n{err}"
    assert "Traceback" not in err, f"the operator saw a traceback:\n{err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, the operator saw {len(lines)}:\n{err}"
    for name in names:
        assert name in lines[0], f"the line does not name {name!r}: {lines[0]}"
    return lines[0]


async def test_wrong_token_stops_with_one_line_before_the_api_starts(emulator, tmp_path):
    bot = BotProcess(emulator, tmp_path)
    path = config_file(bot, **{BOT_TOKEN: "123456:WRONG-token"})
    code, _out, err = await survey_bot("run", "--config", str(path))
    assert_one_line(code, err, "telegram.token")
    assert not bot.db_path.exists(), "the database was opened although the token was wrong"
    assert not emulator.calls_of("getUpdates"), "the bot started polling with a wrong token"


async def test_staff_chat_the_bot_is_not_in_stops_start_up(emulator, tmp_path):
    emulator.set_member_status(STAFF_CHAT, emulator.bot_user["id"], "left")
    bot = BotProcess(emulator, tmp_path)
    code, _out, err = await survey_bot("run", "--config", str(bot.write_config()))
    line = assert_one_line(code, err, "telegram.staff_chat_id", str(STAFF_CHAT))
    assert "not a member" in line, line


async def test_staff_chat_the_bot_was_kicked_from_stops_start_up(emulator, tmp_path):
    emulator.set_member_status(STAFF_CHAT, emulator.bot_user["id"], "kicked")
    bot = BotProcess(emulator, tmp_path)
    code, _out, err = await survey_bot("run", "--config", str(bot.write_config()))
    assert_one_line(code, err, "telegram.staff_chat_id", str(STAFF_CHAT))


async def test_telegram_unreachable_is_one_line_naming_api_base(emulator, tmp_path):
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    bot = BotProcess(emulator, tmp_path)
    path = config_file(bot, **{emulator.base_url: nowhere})
    code, _out, err = await survey_bot("run", "--config", str(path))
    line = assert_one_line(code, err, "Telegram could not be reached", nowhere)
    assert "telegram.api_base" in line, line


async def test_port_in_use_is_one_line_naming_api_port_and_no_hang(emulator, tmp_path):
    bot = BotProcess(emulator, tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bot.api_port = taken.getsockname()[1]
        code, _out, err = await survey_bot("run", "--config", str(bot.write_config()))
    assert_one_line(code, err, "api.port", str(bot.api_port))


async def test_empty_config_names_the_first_missing_key(tmp_path):
    empty = tmp_path / "config.toml"
    empty.write_text("", encoding="utf-8")
    secrets = {"SURVEY_BOT_TOKEN": BOT_TOKEN, "SURVEY_BOT_API_TOKEN": API_TOKEN}
    for command in ("check-config", "run"):
        code, out, err = await survey_bot(command, "--config", str(empty), env=secrets)
        assert "ok" not in out, f"{command} called an empty config ok: {out}"
        assert_one_line(code, err, "telegram.staff_chat_id")


async def test_positive_staff_chat_id_is_refused_by_check_config(emulator, tmp_path):
    bot = BotProcess(emulator, tmp_path)
    path = config_file(bot, **{f"staff_chat_id = {STAFF_CHAT}": "staff_chat_id = 777"})
    code, out, err = await survey_bot("check-config", "--config", str(path))
    assert out == "", f"check-config printed {out!r} for a positive staff_chat_id"
    assert_one_line(code, err, "telegram.staff_chat_id", "negative")


async def test_check_config_says_what_it_checked_and_asks_telegram_when_online(emulator, tmp_path):
    bot = BotProcess(emulator, tmp_path)
    path = bot.write_config()
    code, out, err = await survey_bot("check-config", "--config", str(path))
    assert code == 0, err
    assert "--online" in out, f"check-config did not say what it left unchecked: {out}"
    assert not emulator.calls, "check-config without --online talked to Telegram"

    code, out, err = await survey_bot("check-config", "--config", str(path), "--online")
    assert code == 0, err
    assert "@survey_test_bot" in out and str(STAFF_CHAT) in out, out
    assert {c.method for c in emulator.calls} == {"getMe", "getChat", "getChatMember"}

    emulator.set_member_status(STAFF_CHAT, emulator.bot_user["id"], "left")
    code, out, err = await survey_bot("check-config", "--config", str(path), "--online")
    assert_one_line(code, err, "telegram.staff_chat_id", "not a member")


async def test_unusable_storage_path_is_one_line_naming_storage_path(emulator, tmp_path):
    bot = BotProcess(emulator, tmp_path)
    # A folder where a file is: the database cannot be created there.
    path = config_file(bot, **{'path = "data/bot.sqlite3"': 'path = "config.toml/bot.sqlite3"'})
    code, _out, err = await survey_bot("run", "--config", str(path))
    assert_one_line(code, err, "storage.path", "config.toml/bot.sqlite3")
