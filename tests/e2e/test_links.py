"""A customer the shop knows only by its own id, through the real bot process and the emulator:
the event waits, the deep link from the response is opened in Telegram, the survey arrives."""

from __future__ import annotations

import re

from .test_survey_loop import buttons, next_message

CUSTOMER, STRANGER = 5560001, 5560002


async def test_deep_link_brings_the_waiting_survey_to_the_chat(emulator, start_bot):
    bot = await start_bot('[links]\nttl = "7d"\n')
    status, body = await bot.post_event(
        {
            "event_id": "order-B-1",
            "type": "purchase",
            "customer": {"external_id": "crm-0042"},
            "context": {"product": "Kettle"},
            "delay_seconds": 0,
        }
    )
    assert status == 202 and body["status"] == "awaiting_link", body
    # The bot's username comes from getMe: the emulator's bot is @survey_test_bot.
    match = re.fullmatch(
        r"https://t\.me/survey_test_bot\?start=([A-Za-z0-9_-]{1,64})", body["deep_link"]
    )
    assert match, f"the shop got no usable deep link: {body}"
    token = match.group(1)

    # Someone else guessing a token gets a polite refusal and nothing is linked.
    mark = len(emulator.calls)
    emulator.user_message(STRANGER, f"/start {token[::-1]}", first_name="Eve")
    refusal = await next_message(emulator, STRANGER, mark)
    assert "not valid" in refusal["text"]

    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, f"/start {token}", first_name="Ann", username="ann_b")
    welcome = await next_message(emulator, CUSTOMER, mark)
    assert "linked" in welcome["text"], welcome
    question = await next_message(
        emulator, CUSTOMER, mark, predicate=lambda call: bool(buttons(call.response["result"]))
    )
    assert "satisfied" in question["text"], question
    rows = bot.query("SELECT name, username FROM customers WHERE telegram_id = ?", (CUSTOMER,))
    assert [tuple(r) for r in rows] == [("Ann", "ann_b")], "the customer's name was not captured"
    (link,) = bot.query("SELECT telegram_id FROM external_customers")
    assert link["telegram_id"] == CUSTOMER

    # The stranger re-using Ann's link cannot take her over.
    mark = len(emulator.calls)
    emulator.user_message(STRANGER, f"/start {token}", first_name="Eve")
    refusal = await next_message(emulator, STRANGER, mark)
    assert "not valid" in refusal["text"]
    (link,) = bot.query("SELECT telegram_id FROM external_customers")
    assert link["telegram_id"] == CUSTOMER
