"""Detractor alerts in the staff chat, end to end: post, comment, take, talk, resolve, recheck."""

from __future__ import annotations

from .. import backends
from .harness import STAFF_CHAT, wait_until
from .test_survey_loop import CUSTOMER, answer_question, event, next_message

# The acceptance scenarios: the same on SQLite and on PostgreSQL.
pytestmark = backends.BOTH

ANNA, BORIS = 800001, 800002
FAST = '[alerts]\nescalate_after = "1h"\nrecheck_after = "0s"\n'


def card(emulator, message_id: int) -> dict:
    """The alert card as the staff chat shows it now (edits applied)."""
    return next(m for m in emulator.messages(STAFF_CHAT) if m["message_id"] == message_id)


def staff_sends(emulator) -> list:
    return [c for c in emulator.calls_of("sendMessage", chat_id=STAFF_CHAT) if c.ok]


async def detractor(emulator, bot, name: str = "Ann", comment: str = "Kettle arrived broken"):
    # The staff introduce themselves in their group (not a command: the bot does not see it).
    emulator.group_message(STAFF_CHAT, ANNA, "hi", first_name="Anna")
    emulator.group_message(STAFF_CHAT, BORIS, "hello", first_name="Boris")
    body = event("order-bad")
    body["customer"]["name"] = name
    body["context"]["agent"] = "anna"
    await bot.post_event(body)
    question = await next_message(emulator, CUSTOMER, 0)
    mark = len(emulator.calls)
    await answer_question(emulator, CUSTOMER, question, 1)
    alert = await next_message(emulator, STAFF_CHAT, mark)
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, comment)
    await next_message(emulator, CUSTOMER, mark)  # the thank-you
    edit = await emulator.wait_for_call(
        "editMessageText",
        chat_id=STAFF_CHAT,
        after=mark,
        predicate=lambda c: c.params["message_id"] == alert["message_id"],
    )
    return alert, edit


async def test_alert_lifecycle_in_the_staff_chat(emulator, start_bot):
    bot = await start_bot(FAST)
    alert, edit = await detractor(emulator, bot)

    text = alert["text"]
    assert "CSAT 1 of 5" in text and "Ann" in text, text
    for key, value in {
        "order_id": "A-17",
        "product": "Kettle",
        "agent": "anna",
        "channel": "web",
    }.items():
        assert f"{key}: {value}" in text, f"context {key} missing from the alert"
    labels = [b["text"] for row in alert["reply_markup"]["inline_keyboard"] for b in row]
    assert "Take" in labels and "Resolved" in labels
    assert "Kettle arrived broken" in edit.params["text"], "the comment never reached the alert"
    assert len(staff_sends(emulator)) == 1, "one detractor answer gave more than one alert"

    # Take: Anna owns it; Boris is told who does.
    mark = len(emulator.calls)
    emulator.press_button(
        ANNA,
        card(emulator, alert["message_id"]),
        button_for_label(alert, "Take"),
        chat_id=STAFF_CHAT,
    )
    await wait_until(
        lambda: "Taken by Anna" in card(emulator, alert["message_id"])["text"],
        what="Taken by on the card",
    )

    # Staff reply reaches the customer, the customer's answer comes back into the thread.
    mark = len(emulator.calls)
    emulator.group_message(
        STAFF_CHAT,
        ANNA,
        "Sorry! A new kettle ships today <3 & more",
        first_name="Anna",
        reply_to=alert["message_id"],
    )
    to_customer = await next_message(emulator, CUSTOMER, mark)
    assert "Message from the support team" in to_customer["text"]
    assert "Sorry! A new kettle ships today <3 & more" in to_customer["text"]
    assert "Anna" not in to_customer["text"], "the customer saw a staff member's name"
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "Thanks, got it")
    relayed = await next_message(emulator, STAFF_CHAT, mark)
    assert "Thanks, got it" in relayed["text"]
    assert relayed["reply_to_message"]["message_id"] == alert["message_id"]

    # Resolved: who and how long; then the customer is asked whether it was solved.
    mark = len(emulator.calls)
    current = card(emulator, alert["message_id"])
    emulator.press_button(BORIS, current, button_for_label(current, "Resolved"), chat_id=STAFF_CHAT)
    # Resolved asks why: the card's buttons become the reasons; one tap resolves.
    await wait_until(
        lambda: "Delivery" in str(card(emulator, alert["message_id"]).get("reply_markup")),
        what="the reasons on the card",
    )
    current = card(emulator, alert["message_id"])
    emulator.press_button(BORIS, current, button_for_label(current, "Delivery"), chat_id=STAFF_CHAT)
    await wait_until(
        lambda: "Resolved by Boris" in card(emulator, alert["message_id"])["text"],
        what="Resolved by on the card",
    )
    assert "Reason: Delivery" in card(emulator, alert["message_id"])["text"]
    recheck = await next_message(
        emulator, CUSTOMER, mark, predicate=lambda c: "solved" in c.params["text"]
    )
    emulator.press_button(CUSTOMER, recheck, button_for_label(recheck, "Yes, solved"))
    await wait_until(
        lambda: "Customer says: solved" in card(emulator, alert["message_id"])["text"],
        what="recheck answer on the card",
    )

    actions = bot.query("SELECT action, actor_id FROM alert_actions ORDER BY id")
    assert ("taken", ANNA) in [tuple(a) for a in actions]
    assert ("resolved", BORIS) in [tuple(a) for a in actions]
    (row,) = bot.query("SELECT status, owner_id, recheck_solved FROM alerts")
    assert tuple(row) == ("resolved", ANNA, 1)


def button_for_label(message: dict, label: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if b["text"] == label:
                return b["callback_data"]
    raise AssertionError(f"no button {label!r} on {message.get('text')!r}")


async def test_names_and_comments_full_of_markup_arrive_intact(emulator, start_bot):
    bot = await start_bot(FAST)
    name = "<b>Eve</b> & <script>"
    comment = "Broken <i>twice</i> & refund </b> please"
    alert, _ = await detractor(emulator, bot, name=name, comment=comment)
    shown = card(emulator, alert["message_id"])["text"]
    assert name in shown and comment in shown, shown


async def test_customer_who_blocked_the_bot_is_shown_on_the_alert(emulator, start_bot):
    bot = await start_bot(FAST)
    alert, _ = await detractor(emulator, bot)
    emulator.block_user(CUSTOMER)
    mark = len(emulator.calls)
    reply = emulator.group_message(
        STAFF_CHAT, ANNA, "Can we call you?", first_name="Anna", reply_to=alert["message_id"]
    )
    await wait_until(
        lambda: (
            "Last reply not delivered" in card(emulator, alert["message_id"])["text"]
            and "blocked the bot" in card(emulator, alert["message_id"])["text"]
        ),
        what="the reason on the card",
    )
    assert emulator.reactions(STAFF_CHAT, reply["message"]["message_id"]) == ["👎"]
    later = emulator.calls[mark:]
    assert not [c for c in later if c.method == "sendMessage" and c.params["chat_id"] == STAFF_CHAT]


async def test_replying_to_an_untaken_alert_takes_it_and_a_thumb_says_delivered(
    emulator, start_bot
):
    bot = await start_bot(FAST)
    alert, _ = await detractor(emulator, bot)
    mark = len(emulator.calls)
    reply = emulator.group_message(
        STAFF_CHAT, ANNA, "We are on it", first_name="Anna", reply_to=alert["message_id"]
    )
    to_customer = await next_message(emulator, CUSTOMER, mark)
    assert "We are on it" in to_customer["text"]
    await wait_until(
        lambda: "Taken by Anna" in card(emulator, alert["message_id"])["text"],
        what="the replier as the owner on the card",
    )
    await wait_until(
        lambda: emulator.reactions(STAFF_CHAT, reply["message"]["message_id"]) == ["👍"],
        what="👍 on the reply",
    )
    later = [c for c in emulator.calls[mark:] if c.method == "sendMessage"]
    assert [c.params["chat_id"] for c in later] == [CUSTOMER], "extra messages in the group"


async def test_a_voice_note_comment_is_kept_and_sent_to_the_alert_thread(emulator, start_bot):
    bot = await start_bot(FAST)
    await bot.post_event(event("order-voice"))
    question = await next_message(emulator, CUSTOMER, 0)
    mark = len(emulator.calls)
    await answer_question(emulator, CUSTOMER, question, 2)
    alert = await next_message(emulator, STAFF_CHAT, mark)
    emulator.user_message(CUSTOMER, voice=b"OggS-fake-voice-bytes")
    voice = await emulator.wait_for_call("sendVoice", chat_id=STAFF_CHAT, after=mark)
    assert voice.ok, voice.response
    assert voice.result["reply_to_message"]["message_id"] == alert["message_id"]
    await wait_until(
        lambda: "voice note" in card(emulator, alert["message_id"])["text"],
        what="the card to show the voice comment",
    )
    (row,) = bot.query("SELECT comment_kind, comment_file_id FROM answers")
    assert row["comment_kind"] == "voice" and row["comment_file_id"]
