"""The emulator's control API over real HTTP: what a person acting as a user would do and see."""

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update

from telegram_emulator import BotAPIEmulator

USER = 42
GROUP = -100123
TIMEOUT = 5.0


class Control:
    """A person's side of the control API: JSON requests, status and body back."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http = http
        self.base_url = base_url

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        async with self.http.post(f"{self.base_url}{path}", json=body) as response:
            return response.status, await response.json()

    async def post_raw(self, path: str, data: bytes) -> tuple[int, Any]:
        async with self.http.post(f"{self.base_url}{path}", data=data) as response:
            return response.status, await response.json()

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(f"{self.base_url}{path}") as response:
            return response.status, await response.json()

    async def ok(self, path: str, body: Any = None) -> Any:
        """POST (or GET without a body) that must succeed; returns the JSON answer."""
        status, answer = await (self.get(path) if body is None else self.post(path, body))
        assert status == 200, f"{path} refused {body}: {status} {answer}"
        return answer


@pytest.fixture
async def control(emulator: BotAPIEmulator) -> AsyncIterator[Control]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
        yield Control(http, emulator.base_url)


async def next_update(bot: Bot, offset: int = 0) -> Update:
    """The next update the bot receives by long polling, or fail after TIMEOUT."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            updates = await bot.get_updates(offset=offset, timeout=1)
            if updates:
                return updates[0]


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(text=text, callback_data=data) for text, data in pairs]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


async def test_index_lists_the_endpoints(control: Control) -> None:
    answer = await control.ok("/control")
    assert "POST /control/messages" in answer["endpoints"], (
        f"GET /control does not tell a newcomer where to send messages: {answer}"
    )


async def test_message_from_the_control_api_reaches_the_bot(control: Control, bot: Bot) -> None:
    answer = await control.ok(
        "/control/messages",
        {"user_id": USER, "text": "hi there", "first_name": "Ann", "language_code": "ru"},
    )
    assert answer["queued"] and answer["update"]["update_id"] > 0, (
        f"a private message typed through the control API was not queued for the bot: {answer}"
    )
    assert answer["message"]["text"] == "hi there" and answer["message"]["sender"] == "user"

    update = await next_update(bot)
    assert update.message is not None, f"the bot got no message, but {update}"
    assert update.message.text == "hi there", "the bot read different words than the user typed"
    assert update.message.from_user is not None
    assert (update.message.from_user.id, update.message.from_user.first_name) == (USER, "Ann")
    assert update.message.from_user.language_code == "ru", "the user's language got lost"
    assert update.message.chat.id == USER and update.message.chat.type == "private"


async def test_group_message_respects_privacy_mode(control: Control, bot: Bot) -> None:
    await control.ok("/control/groups", {"chat_id": GROUP, "title": "Support"})

    chatter = await control.ok("/control/messages", {"user_id": 7, "chat_id": GROUP, "text": "lol"})
    assert not chatter["queued"] and chatter["update"] is None, (
        f"with privacy mode on, the bot would read plain group chatter: {chatter}"
    )
    command = await control.ok(
        "/control/messages", {"user_id": 7, "chat_id": GROUP, "text": "/stats"}
    )
    assert command["queued"], f"a command in the group did not reach the bot: {command}"

    update = await next_update(bot)
    assert update.message is not None and update.message.text == "/stats"
    assert update.message.chat.title == "Support", "the group's title did not reach the bot"


async def test_reply_to_a_message_carries_the_replied_message(control: Control, bot: Bot) -> None:
    sent = await bot.send_message(USER, "What went wrong?")
    answer = await control.ok(
        "/control/messages",
        {"user_id": USER, "text": "the courier", "reply_to_message_id": sent.message_id},
    )
    assert answer["message"]["reply_to_message_id"] == sent.message_id
    update = await next_update(bot)
    assert update.message is not None and update.message.reply_to_message is not None, (
        "the bot cannot tell which question the user answered"
    )
    assert update.message.reply_to_message.text == "What went wrong?"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/control/voice", {"user_id": USER, "duration": 3}),
        ("/control/messages", {"user_id": USER, "voice": {"duration": 3}}),
    ],
)
async def test_voice_note_can_be_downloaded_by_the_bot(
    control: Control, bot: Bot, path: str, body: dict[str, Any]
) -> None:
    answer = await control.ok(path, body)
    assert answer["message"]["media"]["kind"] == "voice", f"no voice note was stored: {answer}"

    update = await next_update(bot)
    assert update.message is not None and update.message.voice is not None, (
        f"the bot got no voice note: {update}"
    )
    assert update.message.voice.duration == 3, "the voice note's length is not what was asked"
    file = await bot.get_file(update.message.voice.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None
    data = downloaded.read()
    assert data.startswith(b"OggS") and b"OpusHead" in data, (
        "the bot downloaded something that is not an OGG/Opus voice note"
    )


async def test_press_by_label_sends_the_buttons_callback_data(
    control: Control, bot: Bot, emulator: BotAPIEmulator
) -> None:
    old = await bot.send_message(USER, "Old question", reply_markup=keyboard(("5", "old:5")))
    sent = await bot.send_message(
        USER, "How did we do?", reply_markup=keyboard(("1", "s:1"), ("5", "s:5"))
    )
    answer = await control.ok("/control/press", {"user_id": USER, "label": "5"})
    assert answer["message_id"] == sent.message_id != old.message_id, (
        "pressing 5 pressed it on an older message, not the latest one showing it"
    )

    update = await next_update(bot)
    query = update.callback_query
    assert query is not None, f"pressing a button gave the bot no callback query: {update}"
    assert query.id == answer["callback_query_id"], "the returned query id is not the bot's"
    assert query.data == "s:5", f"the bot saw data {query.data!r} for the button labelled 5"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id), "the bot could not answer the press"


async def test_press_by_callback_data_or_on_a_given_message(control: Control, bot: Bot) -> None:
    first = await bot.send_message(USER, "Q1", reply_markup=keyboard(("Yes", "q1:y")))
    await bot.send_message(USER, "Q2", reply_markup=keyboard(("Yes", "q2:y")))

    by_data = await control.ok("/control/press", {"user_id": USER, "callback_data": "q1:y"})
    assert by_data["message_id"] == first.message_id
    on_first = await control.ok(
        "/control/press", {"user_id": USER, "label": "Yes", "message_id": first.message_id}
    )
    assert on_first["callback_data"] == "q1:y", "message_id was ignored when pressing by label"


async def test_pressing_a_button_that_is_not_shown_says_what_is(control: Control, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Rate", reply_markup=keyboard(("1", "s:1"), ("2", "s:2")))

    status, answer = await control.post("/control/press", {"user_id": USER, "label": "9"})
    assert status == 404 and answer["field"] == "label", f"pressing a missing 9: {answer}"
    assert "'1'" in answer["error"] and "'2'" in answer["error"], (
        f"the error does not say which buttons are shown: {answer['error']}"
    )
    status, answer = await control.post(
        "/control/press", {"user_id": USER, "label": "1", "message_id": sent.message_id + 5}
    )
    assert (status, answer["field"]) == (404, "message_id"), answer
    status, answer = await control.post("/control/press", {"user_id": 77, "label": "1"})
    assert status == 404, f"a user with no chat pressed a button: {answer}"


async def test_groups_and_members(control: Control, bot: Bot) -> None:
    created = await control.ok("/control/groups", {"chat_id": GROUP, "title": "Support"})
    assert created["chat"]["title"] == "Support" and created["chat"]["type"] == "supergroup"

    member = await control.ok(
        f"/control/groups/{GROUP}/members", {"user_id": 7, "status": "administrator"}
    )
    assert member == {"chat_id": GROUP, "user_id": 7, "status": "administrator"}
    seen = await bot.get_chat_member(GROUP, 7)
    assert seen.status == "administrator", f"the bot sees user 7 as {seen.status}"

    chats = (await control.ok("/control/chats"))["chats"]
    group = next(c for c in chats if c["id"] == GROUP)
    assert group["members"] == {"7": "administrator"}, f"the chat list hides members: {group}"

    status, answer = await control.post(
        "/control/groups/-100999/members", {"user_id": 7, "status": "member"}
    )
    assert (status, answer["field"]) == (404, "chat_id"), answer


async def test_block_and_unblock(control: Control, bot: Bot) -> None:
    blocked = await control.ok("/control/block", {"user_id": USER})
    assert blocked == {"user_id": USER, "blocked": True}
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(USER, "Still there?")

    unblocked = await control.ok("/control/unblock", {"user_id": USER})
    assert unblocked == {"user_id": USER, "blocked": False}
    sent = await bot.send_message(USER, "Welcome back")
    assert sent.text == "Welcome back", "after unblocking, the bot still cannot write"


async def test_failures_are_injected_and_used_up(control: Control, bot: Bot) -> None:
    answer = await control.ok(
        "/control/failures",
        {"method": "sendMessage", "error_code": 429, "retry_after": 3, "chat_id": USER},
    )
    assert answer["failure"]["retry_after"] == 3 and answer["failure"]["times"] == 1
    pending = (await control.ok("/control/failures"))["failures"]
    assert len(pending) == 1, f"the injected failure is not listed: {pending}"

    sent_elsewhere = await bot.send_message(USER + 1, "other chat")
    assert sent_elsewhere.text == "other chat", "a failure for one chat hit another"
    with pytest.raises(TelegramRetryAfter) as error:
        await bot.send_message(USER, "hello")
    assert error.value.retry_after == 3, "the bot was told a different time to wait"
    sent = await bot.send_message(USER, "hello")
    assert sent.text == "hello", "a failure meant for one call kept failing"
    assert (await control.ok("/control/failures"))["failures"] == []


async def test_chat_messages_show_text_buttons_and_edits(control: Control, bot: Bot) -> None:
    await control.ok("/control/messages", {"user_id": USER, "text": "/start"})
    sent = await bot.send_message(
        USER,
        "<b>How</b> did we do?",
        parse_mode="HTML",
        reply_markup=keyboard(("1", "s:1"), ("2", "s:2")),
    )
    await bot.edit_message_text("Thanks!", chat_id=USER, message_id=sent.message_id)

    answer = await control.ok(f"/control/chats/{USER}/messages")
    user_message, bot_message = answer["messages"]
    assert user_message["sender"] == "user" and user_message["text"] == "/start"
    assert bot_message["sender"] == "bot"
    assert bot_message["text"] == "Thanks!" and bot_message["edited"], (
        f"the chat does not show the edited text: {bot_message}"
    )
    assert bot_message["inline_keyboard"] == [], "an edit without markup left the buttons shown"
    assert answer["chat"]["message_count"] == 2

    await bot.send_message(
        USER, "<b>Rate</b> us", parse_mode="HTML", reply_markup=keyboard(("5", "s:5"))
    )
    latest = (await control.ok(f"/control/chats/{USER}/messages"))["messages"][-1]
    assert latest["text"] == "Rate us", "markup shows as tags instead of rendered text"
    assert latest["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    assert latest["inline_keyboard"] == [[{"label": "5", "callback_data": "s:5"}]]
    assert not latest["edited"]


async def test_calls_are_listed_and_filtered(control: Control, bot: Bot) -> None:
    await bot.get_me()
    await bot.send_message(USER, "one")
    await bot.send_message(USER + 1, "two")

    calls = (await control.ok("/control/calls?method=sendMessage"))["calls"]
    assert [c["params"]["text"] for c in calls] == ["one", "two"], calls
    for_user = (await control.ok(f"/control/calls?method=sendmessage&chat_id={USER}"))["calls"]
    assert [c["params"]["text"] for c in for_user] == ["one"], "chat_id did not filter calls"
    later = (await control.ok(f"/control/calls?after={calls[-1]['index']}"))["calls"]
    assert [c["method"] for c in later] == ["sendMessage"] and later[0]["params"]["text"] == "two"


async def test_unknown_chat_is_404(control: Control) -> None:
    status, answer = await control.get("/control/chats/-5/messages")
    assert (status, answer["field"]) == (404, "chat_id"), answer
    status, answer = await control.post(
        "/control/messages", {"user_id": 7, "chat_id": -5, "text": "hi"}
    )
    assert (status, answer["field"]) == (404, "chat_id"), (
        f"writing in a group nobody created should say so: {answer}"
    )
    status, answer = await control.post(
        "/control/messages", {"user_id": USER, "text": "hi", "reply_to_message_id": 99}
    )
    assert (status, answer["field"]) == (404, "reply_to_message_id"), answer


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/control/messages", {"text": "hi"}, "user_id"),
        ("/control/messages", {"user_id": "42", "text": "hi"}, "user_id"),
        ("/control/messages", {"user_id": True, "text": "hi"}, "user_id"),
        ("/control/messages", {"user_id": -3, "text": "hi"}, "user_id"),
        ("/control/messages", {"user_id": USER}, "text"),
        ("/control/messages", {"user_id": USER, "text": ""}, "text"),
        ("/control/messages", {"user_id": USER, "text": 5}, "text"),
        ("/control/messages", {"user_id": USER, "text": "x" * 4097}, "text"),
        ("/control/messages", {"user_id": USER, "txt": "hi"}, "txt"),
        ("/control/messages", {"user_id": USER, "text": "hi", "chat_id": 43}, "chat_id"),
        ("/control/messages", {"user_id": USER, "text": "hi", "chat_id": "g"}, "chat_id"),
        ("/control/messages", {"user_id": USER, "voice": {"duration": 0}}, "voice.duration"),
        ("/control/messages", {"user_id": USER, "voice": {"secs": 2}}, "voice.secs"),
        ("/control/messages", {"user_id": USER, "voice": 3}, "voice"),
        ("/control/messages", [1, 2], "body"),
        ("/control/voice", {"user_id": USER, "duration": "3"}, "duration"),
        ("/control/voice", {"user_id": USER, "text": "hi"}, "text"),
        ("/control/press", {"user_id": USER}, "label"),
        ("/control/press", {"user_id": USER, "label": "1", "callback_data": "s:1"}, "label"),
        ("/control/press", {"user_id": USER, "label": "1", "message_id": "1"}, "message_id"),
        ("/control/groups", {"title": "x"}, "chat_id"),
        ("/control/groups", {"chat_id": 5}, "chat_id"),
        ("/control/groups", {"chat_id": -5, "title": 1}, "title"),
        ("/control/groups", {"chat_id": -5, "is_forum": "yes"}, "is_forum"),
        ("/control/block", {}, "user_id"),
        ("/control/unblock", {"user_id": 1.5}, "user_id"),
        ("/control/failures", {"error_code": 500}, "method"),
        ("/control/failures", {"method": "sendMassage"}, "method"),
        ("/control/failures", {"method": "sendMessage", "error_code": 200}, "error_code"),
        ("/control/failures", {"method": "sendMessage", "times": 0}, "times"),
        ("/control/failures", {"method": "sendMessage", "disconnect": 1}, "disconnect"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    control: Control, path: str, body: Any, field: str
) -> None:
    status, answer = await control.post(path, body)
    assert status == 400, f"{path} accepted bad input {body}: {status} {answer}"
    assert answer["field"] == field and answer["error"].startswith(f"{field}:"), (
        f"the error for {body} does not name {field!r}: {answer}"
    )
    assert (await control.ok("/control/chats"))["chats"] is not None, "the server went down"


async def test_bad_member_input_and_bad_json(control: Control) -> None:
    await control.ok("/control/groups", {"chat_id": GROUP})
    status, answer = await control.post(
        f"/control/groups/{GROUP}/members", {"user_id": 7, "status": "owner"}
    )
    assert (status, answer["field"]) == (400, "status"), answer
    status, answer = await control.post("/control/groups/abc/members", {"user_id": 7})
    assert (status, answer["field"]) == (400, "chat_id"), answer
    status, answer = await control.post_raw("/control/messages", b"{not json")
    assert (status, answer["field"]) == (400, "body"), answer
    status, answer = await control.get("/control/calls?chat_id=abc")
    assert (status, answer["field"]) == (400, "chat_id"), answer
    status, answer = await control.get("/control/calls?metod=getMe")
    assert (status, answer["field"]) == (400, "metod"), "a misspelt filter was silently ignored"
    status, answer = await control.get("/control/nothing")
    assert status == 404 and "POST /control/messages" in answer["error"], answer


async def test_label_may_be_the_first_word_of_the_button(control: Control, bot: Bot) -> None:
    await bot.send_message(
        USER, "Rate", reply_markup=keyboard(("1 😡", "s:1"), ("10 😀", "s:10"), ("1 more", "x"))
    )
    pressed = await control.ok("/control/press", {"user_id": USER, "label": "10"})
    assert pressed["callback_data"] == "s:10", "typing 10 did not press the button '10 😀'"
    exact = await control.ok("/control/press", {"user_id": USER, "label": "1 😡"})
    assert exact["callback_data"] == "s:1"
    status, answer = await control.post("/control/press", {"user_id": USER, "label": "1"})
    assert status == 404, f"'1' is ambiguous (two buttons start with it) but pressed: {answer}"


async def test_command_line_serves_the_bot_api_and_control() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "telegram_emulator",
        "--port",
        str(port),
        "--token",
        "1:T",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(TIMEOUT):
            first = (await proc.stdout.readline()).decode()
            hint = (await proc.stdout.readline()).decode()
        base_url = f"http://127.0.0.1:{port}"
        assert base_url in first, f"the command line did not print where it serves: {first!r}"
        assert f"{base_url}/control" in hint, f"no hint about the control API: {hint!r}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
            async with asyncio.timeout(TIMEOUT):
                while True:  # printed just before it binds: retry until it listens
                    try:
                        async with http.get(f"{base_url}/bot1:T/getMe") as response:
                            me = await response.json()
                        break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.05)
            assert me["ok"] and me["result"]["id"] == 1, f"getMe over the command line: {me}"
            async with http.get(f"{base_url}/control") as response:
                assert response.status == 200, "the command line does not serve /control"
    finally:
        proc.terminate()
        await proc.wait()
