"""Opting out and erasure, end to end: the real bot process, the emulator, HTTP and SQLite."""

from __future__ import annotations

import aiohttp

from .. import backends
from .harness import API_TOKEN, wait_until
from .test_alerts import FAST, card, detractor
from .test_survey_loop import CUSTOMER, buttons, event, next_message

# The acceptance scenarios: the same on SQLite and on PostgreSQL.
pytestmark = backends.BOTH


async def test_forget_erases_the_customer_and_the_opt_out_button_stops_surveys(emulator, start_bot):
    # Recontact off: the test surveys the same customer twice within minutes.
    bot = await start_bot(FAST + '[throttle]\nrecontact = "0s"\n')
    alert, _ = await detractor(emulator, bot, name="Ann", comment="Kettle arrived broken")
    assert "Ann" in alert["text"]

    # /forget asks first; the button erases.
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "/forget")
    asked = await next_message(emulator, CUSTOMER, mark)
    assert [b["text"] for b in buttons(asked)] == ["Yes, erase my data"]
    assert bot.query("SELECT name FROM customers")[0]["name"] == "Ann", "erased unasked"
    mark = len(emulator.calls)
    emulator.tap(CUSTOMER, "Yes, erase my data")
    done = await next_message(emulator, CUSTOMER, mark)
    assert "your personal data is erased" in done["text"]

    await wait_until(
        lambda: "Customer data erased" in card(emulator, alert["message_id"])["text"],
        what="the old alert card to say the customer's data is erased",
    )
    shown = card(emulator, alert["message_id"])["text"]
    assert "Ann" not in shown and "Kettle arrived broken" not in shown
    (customer,) = bot.query("SELECT name, username, erased_at FROM customers")
    assert customer["name"] is None and customer["erased_at"] is not None
    rows = bot.query("SELECT score, comment, comment_file_id, customer_id FROM answers")
    assert [tuple(r) for r in rows] == [(1, None, None, 0)], "the score must stay, anonymous"

    # The shop's DELETE for a customer nobody knows.
    async with (
        aiohttp.ClientSession() as s,
        s.delete(
            f"{bot.api_url}/api/v1/customers/nobody-here",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        ) as r,
    ):
        assert r.status == 404

    # Erased means asked no more; /start asks first, the button opts back in.
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "/start")
    ask = await next_message(emulator, CUSTOMER, mark)
    assert "Shall I ask you for feedback again?" in ask["text"]
    mark = len(emulator.calls)
    emulator.tap(CUSTOMER, "Yes, you may ask me again")
    welcome = await next_message(emulator, CUSTOMER, mark)
    assert "Welcome back" in welcome["text"]

    # The next survey's first question offers "Don't ask me again"; pressing it ends it.
    mark = len(emulator.calls)
    status, body = await bot.post_event(event("order-2"))
    assert status == 202, body
    question = await next_message(emulator, CUSTOMER, mark)
    assert buttons(question)[-1]["text"] == "Don't ask me again"
    mark = len(emulator.calls)
    emulator.tap(CUSTOMER, "Don't ask me again")
    bye = await next_message(emulator, CUSTOMER, mark)
    assert "/start" in bye["text"]
    shown = next(
        m for m in emulator.messages(CUSTOMER) if m["message_id"] == question["message_id"]
    )
    assert not buttons(shown), "the question kept its buttons after opting out"
    (inv,) = bot.query(
        "SELECT status, note FROM invitations WHERE id = ?", (body["invitation_id"],)
    )
    assert (inv["status"], inv["note"]) == ("cancelled", "opted_out")
