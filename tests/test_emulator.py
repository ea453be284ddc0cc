"""The Bot API emulator, exercised through a real aiogram Bot over HTTP."""

import asyncio
import time

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReactionTypeEmoji,
)

from telegram_emulator import BotAPIEmulator, Call, format_text

from .conftest import LocalSession

USER = 42
STAFF_CHAT = -1001


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(text=text, callback_data=data) for text, data in pairs]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "survey_test_bot", True)


async def test_html_message_is_stored_as_the_user_sees_it(
    bot: Bot, emulator: BotAPIEmulator
) -> None:
    sent = await bot.send_message(USER, "<b>Rate</b> us &amp; win", parse_mode="HTML")
    assert sent.text == "Rate us & win"
    assert sent.chat.type == "private"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert emulator.messages(USER)[-1]["text"] == "Rate us & win"
    assert emulator.calls_of("sendmessage", chat_id=USER)[0].params["parse_mode"] == "HTML"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<b>unclosed", "Can't find end tag corresponding to start tag b"),
        ("<blink>x</blink>", 'Unsupported start tag "blink"'),
        ("score < 5", 'Unsupported start tag ""'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_bad_html_is_rejected_like_telegram(bot: Bot, text: str, why: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as raised:
        await bot.send_message(USER, text, parse_mode="HTML")
    assert why in raised.value.message


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("a & b &lt;3 &#128512; &#x41;", "a & b <3 😀 A"),
        ('<a href="https://example.com?a=1&amp;b=2">site</a>', "site"),
        ('<span class="tg-spoiler">x</span> <tg-spoiler>y</tg-spoiler>', "x y"),
        ('<pre><code class="language-py">x = 1</code></pre>', "x = 1"),
        ("<blockquote expandable>quote</blockquote>", "quote"),
        ("<B>loud</B>", "loud"),
    ],
)
def test_valid_html_is_parsed_to_plain_text(text: str, plain: str) -> None:
    assert format_text(text, "HTML")[0] == plain


def test_markdown_v2_is_parsed_to_entities() -> None:
    text, entities = format_text("*b* __u__ ||s|| ```py\nx = 1```", "MarkdownV2")
    assert text == "b u s x = 1"
    kinds = [(e["type"], e.get("language")) for e in entities]
    assert kinds == [("bold", None), ("underline", None), ("spoiler", None), ("pre", "py")]


def test_entities_use_utf16_offsets() -> None:
    _, entities = format_text("😀 <b>hi</b>", "HTML")
    assert entities == [{"type": "bold", "offset": 3, "length": 2}]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("*bold* _it_ __u__ ~s~ ||sp|| `c` [l](https://x.y) 1\\.0", True),
        ("Thanks.", False),
        ("*never closed", False),
    ],
)
async def test_markdown_v2_needs_escaping(bot: Bot, text: str, ok: bool) -> None:
    if ok:
        await bot.send_message(USER, text, parse_mode="MarkdownV2")
    else:
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(USER, text, parse_mode="MarkdownV2")


async def test_length_is_checked_after_parsing(bot: Bot) -> None:
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")


async def test_bad_buttons_are_rejected(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "Rate", reply_markup=keyboard(("5", "x" * 65)))
    bare = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="5")]])
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(USER, "Rate", reply_markup=bare)


async def test_photo_upload_arrives_as_a_multipart_file(bot: Bot, emulator: BotAPIEmulator) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4) + (480).to_bytes(4)
    sent = await bot.send_photo(USER, BufferedInputFile(png, "chart.png"), caption="Weekly NPS")
    call = emulator.calls_of("sendPhoto")[0]
    assert call.params["photo"].size == len(png)
    assert call.params["photo"].filename == "chart.png"
    assert sent.photo is not None and sent.photo[-1].file_size == len(png)
    assert (sent.photo[-1].width, sent.photo[-1].height) == (640, 480)
    assert sent.caption == "Weekly NPS"
    assert emulator.file_bytes(sent.photo[-1].file_id) == png
    document = await bot.send_document(USER, BufferedInputFile(b"a,b\n", "report.csv"))
    assert document.document is not None and document.document.file_name == "report.csv"


async def test_json_form_and_query_string_are_all_accepted(emulator: BotAPIEmulator) -> None:
    url = f"{emulator.base_url}/bot{emulator.token}"
    markup = {"inline_keyboard": [[{"text": "5", "callback_data": "s:5"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/sendMessage", json={"chat_id": USER, "text": "json", "reply_markup": markup}) as r:  # fmt: skip # noqa: E501
            assert (await r.json())["result"]["reply_markup"] == markup
        form = {"chat_id": str(USER), "text": "form", "reply_markup": '{"remove_keyboard":true}'}
        async with http.post(f"{url}/SENDMESSAGE", data=form) as r:
            assert (await r.json())["ok"]
        async with http.get(f"{url}/sendMessage", params={"chat_id": USER, "text": "q"}) as r:
            assert (await r.json())["result"]["text"] == "q"
        async with http.get(f"{url}/noSuchMethod") as r:
            assert r.status == 404
            assert await r.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
    assert [m["text"] for m in emulator.messages(USER)] == ["json", "form", "q"]
    assert emulator.calls_of("sendMessage")[1].params["reply_markup"] == {"remove_keyboard": True}


async def test_wrong_token_is_unauthorized(emulator: BotAPIEmulator) -> None:
    session = LocalSession(api=TelegramAPIServer.from_base(emulator.base_url))
    intruder = Bot("999:WRONG", session=session)
    with pytest.raises(TelegramUnauthorizedError):
        await intruder.get_me()
    await intruder.session.close()


async def test_long_polling_wakes_on_an_injected_update(bot: Bot, emulator: BotAPIEmulator) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await emulator.wait_for_poll()  # the poll is waiting on the server before the update exists
    update = emulator.user_message(USER, "/start", first_name="Ann", language_code="uk")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.update_id for u in updates] == [update["update_id"]]
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.from_user is not None and message.from_user.language_code == "uk"
    assert message.entities is not None and message.entities[0].type == "bot_command"
    # Updates stay until confirmed with a higher offset, as in Telegram.
    assert len(await bot.get_updates()) == 1
    assert await bot.get_updates(offset=update["update_id"] + 1) == []
    assert emulator.pending_updates == []


async def test_long_polling_returns_nothing_after_its_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2


async def test_injected_429_becomes_retry_after(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.fail_next("sendMessage", error_code=429, retry_after=3, chat_id=USER)
    await bot.send_message(USER + 1, "another chat is not affected")
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(USER, "hi")
    assert raised.value.retry_after == 3
    await bot.send_message(USER, "the retry goes through")
    assert [c.error_code for c in emulator.calls_of("sendMessage", chat_id=USER)] == [429, None]


async def test_dropped_connection_is_a_network_error(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.fail_next("sendMessage", disconnect=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "hi")
    await bot.send_message(USER, "next one works")


async def test_blocked_user_gives_forbidden(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.block_user(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    updates = await bot.get_updates()
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "kicked"
    emulator.user_message(USER, "/start")  # writing again unblocks, like "Restart"
    await bot.send_message(USER, "welcome back")


async def test_editing_without_a_change_is_not_modified(bot: Bot, emulator: BotAPIEmulator) -> None:
    sent = await bot.send_message(USER, "Rate us", reply_markup=keyboard(("5", "s:5")))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Rate us",
            chat_id=USER,
            message_id=sent.message_id,
            reply_markup=keyboard(("5", "s:5")),
        )
    await bot.edit_message_text(text="Thanks!", chat_id=USER, message_id=sent.message_id)
    shown = emulator.messages(USER)[-1]
    assert shown["text"] == "Thanks!" and "reply_markup" not in shown  # the keyboard went away
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=USER, message_id=999)


async def test_pressed_button_is_a_callback_query(bot: Bot, emulator: BotAPIEmulator) -> None:
    sent = await bot.send_message(USER, "Rate us", reply_markup=keyboard(("5", "s:5")))
    with pytest.raises(ValueError, match="no button"):
        emulator.press_button(USER, sent.message_id, "s:9")
    query_id = emulator.tap(USER, "5")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and (query.id, query.data) == (query_id, "s:5")
    assert query.message is not None and query.message.message_id == sent.message_id
    await bot.answer_callback_query(query_id, text="Thanks")
    answered = await emulator.wait_for_call(
        "answerCallbackQuery", predicate=lambda c: c.params["callback_query_id"] == query_id
    )
    assert answered.ok and answered.params["text"] == "Thanks"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)


async def test_staff_reply_in_group_refers_to_the_alert(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.add_group(STAFF_CHAT, title="Support staff")
    alert = await bot.send_message(STAFF_CHAT, "Customer 42 rated 1/5")
    assert (alert.chat.type, alert.chat.title) == ("supergroup", "Support staff")
    hidden = emulator.group_message(STAFF_CHAT, 7, "chatting among ourselves")
    assert "update_id" not in hidden  # privacy mode: the bot does not see it
    emulator.group_message(STAFF_CHAT, 7, "We'll call them", reply_to=alert.message_id)
    [update] = await bot.get_updates()
    reply = update.message
    assert reply is not None and reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == alert.message_id
    assert reply.chat.id == STAFF_CHAT


async def test_wait_for_call_says_what_the_bot_did_instead(
    bot: Bot, emulator: BotAPIEmulator
) -> None:
    await bot.send_message(USER, "hello")
    with pytest.raises(TimeoutError, match=r"sendMessage\(42\)"):
        await emulator.wait_for_call("sendPhoto", timeout=0.05)
    mark = len(emulator.calls)
    waiter = asyncio.create_task(emulator.wait_for_call("sendMessage", chat_id=USER, after=mark))
    await bot.send_message(USER, "second")
    call: Call = await waiter
    assert call.result["text"] == "second"


async def test_a_polling_dispatcher_round_trip(bot: Bot, emulator: BotAPIEmulator) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def on_message(message: Message) -> None:
        await message.answer(f"echo: {message.text}", reply_markup=keyboard(("OK", "ok")))

    @dispatcher.callback_query()
    async def on_ok(query: CallbackQuery) -> None:
        await query.answer("noted")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    emulator.user_message(USER, "hi")
    echo = await emulator.wait_for_call("sendMessage", chat_id=USER, timeout=3)
    assert echo.result["text"] == "echo: hi"
    query_id = emulator.tap(USER, "OK")
    answer = await emulator.wait_for_call(
        "answerCallbackQuery", predicate=lambda c: c.params["callback_query_id"] == query_id
    )
    assert answer.ok and answer.params["text"] == "noted"
    allowed = emulator.calls_of("getUpdates")[0].params["allowed_updates"]
    assert sorted(allowed) == ["callback_query", "message"]
    await dispatcher.stop_polling()
    await polling


async def test_the_other_methods_answer_what_aiogram_expects(
    bot: Bot, emulator: BotAPIEmulator
) -> None:
    emulator.add_group(STAFF_CHAT, title="Support staff", is_forum=True)
    asked = emulator.user_message(USER, "my order is late")["message"]
    topic = await bot.create_forum_topic(STAFF_CHAT, "Customer 42")
    forwarded = await bot.forward_message(
        STAFF_CHAT, USER, asked["message_id"], message_thread_id=topic.message_thread_id
    )
    assert forwarded.forward_origin is not None and forwarded.is_topic_message
    copied = await bot.copy_message(STAFF_CHAT, USER, asked["message_id"])
    assert emulator.messages(STAFF_CHAT)[-1]["message_id"] == copied.message_id
    assert await bot.pin_chat_message(STAFF_CHAT, forwarded.message_id)
    assert emulator.pinned_message_id(STAFF_CHAT) == forwarded.message_id
    voice = await bot.send_voice(USER, BufferedInputFile(b"OggS", "v.ogg"))
    assert voice.voice is not None
    file = await bot.get_file(voice.voice.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"OggS"
    reply = await bot.send_message(USER, "Sorry!", reply_to_message_id=asked["message_id"])
    assert reply.reply_to_message is not None
    edited = await bot.edit_message_reply_markup(
        chat_id=USER, message_id=reply.message_id, reply_markup=keyboard(("OK", "ok"))
    )
    assert isinstance(edited, Message) and edited.reply_markup is not None
    assert await bot.delete_message(USER, reply.message_id)
    assert reply.message_id not in [m["message_id"] for m in emulator.messages(USER)]
    assert await bot.set_my_commands([BotCommand(command="start", description="Begin")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert (await bot.get_chat(STAFF_CHAT)).title == "Support staff"
    assert (await bot.get_chat_member(STAFF_CHAT, 7)).status == "member"
    emulator.set_member_status(STAFF_CHAT, 7, "administrator")
    assert (await bot.get_chat_member(STAFF_CHAT, 7)).status == "administrator"
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_a_reaction_is_set_like_telegram_and_a_wrong_one_refused(
    bot: Bot, emulator: BotAPIEmulator
) -> None:
    emulator.add_group(-100321)
    sent = await bot.send_message(-100321, "a reply from staff")
    ok = await bot.set_message_reaction(
        -100321, sent.message_id, reaction=[ReactionTypeEmoji(emoji="👍")]
    )
    assert ok and emulator.reactions(-100321, sent.message_id) == ["👍"]
    with pytest.raises(TelegramBadRequest, match="REACTION_INVALID"):
        await bot.set_message_reaction(
            -100321, sent.message_id, reaction=[ReactionTypeEmoji(emoji="✅")]
        )
    with pytest.raises(TelegramBadRequest, match="not found"):
        await bot.set_message_reaction(-100321, 999, reaction=[ReactionTypeEmoji(emoji="👎")])
    assert emulator.reactions(-100321, sent.message_id) == ["👍"], "a refused reaction replaced it"
