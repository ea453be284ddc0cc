"""Not pestering, with the real bot process: recontact suppression and the one reminder."""

from __future__ import annotations

from .harness import wait_until
from .test_survey_loop import button_for, next_message

ANN, BOB, CID = 5560001, 5560002, 5560003
REMINDER = "A gentle reminder"


def event(event_id: str, customer: int) -> dict:
    return {
        "event_id": event_id,
        "type": "purchase",
        "customer": {"telegram_id": customer, "language": "en"},
        "delay_seconds": 0,
    }


async def test_a_second_event_within_recontact_is_suppressed(emulator, start_bot):
    bot = await start_bot()  # the default: one survey per customer per 30 days
    status, first = await bot.post_event(event("order-1", ANN))
    assert (status, first["status"]) == (202, "scheduled")
    await next_message(emulator, ANN, 0)

    status, second = await bot.post_event(event("order-2", ANN))
    assert status == 202, second
    assert (second["status"], second["reason"]) == ("suppressed", "recontact")
    # Another customer's survey goes out after it: the worker has passed the suppressed one.
    await bot.post_event(event("order-3", BOB))
    await next_message(emulator, BOB, 0)
    assert len(emulator.calls_of("sendMessage", chat_id=ANN)) == 1, "Ann was asked twice"
    rows = bot.query("SELECT event_id, status, note, sent_at FROM invitations ORDER BY id")
    assert [tuple(r)[:3] for r in rows] == [
        ("order-1", "active", None),
        ("order-2", "suppressed", "recontact"),
        ("order-3", "active", None),
    ]
    assert rows[1]["sent_at"] is None


async def test_one_reminder_replies_to_the_unanswered_question_only(emulator, start_bot):
    bot = await start_bot('[delivery]\nremind_after = "4s"\n')
    # Bob answers at once: no reminder for him.
    await bot.post_event(event("bob-1", BOB))
    bob_question = await next_message(emulator, BOB, 0)
    mark = len(emulator.calls)
    emulator.press_button(BOB, bob_question, button_for(bob_question, 5)["callback_data"])
    await next_message(emulator, BOB, mark)  # the follow-up
    # Cid writes instead of pressing: no reminder for him either.
    await bot.post_event(event("cid-1", CID))
    await next_message(emulator, CID, 0)
    mark = len(emulator.calls)
    emulator.user_message(CID, "What is this about?")
    await next_message(emulator, CID, mark)  # "Thanks, noted" and the question again
    # Ann does neither: four seconds after her question, one reminder pointing at it.
    await bot.post_event(event("ann-1", ANN))
    question = await next_message(emulator, ANN, 0)
    call = await emulator.wait_for_call(
        "sendMessage",
        chat_id=ANN,
        predicate=lambda c: REMINDER in c.params.get("text", ""),
        timeout=20,
    )
    reminder = call.response["result"]
    assert reminder["reply_to_message"]["message_id"] == question["message_id"]
    assert "reply_markup" not in reminder, "the reminder copied the question's buttons"
    sql = "SELECT event_id, reminder_sent FROM invitations ORDER BY id"
    # Recorded as sent just after Telegram accepted it: wait for the commit.
    await wait_until(lambda: bot.query(sql)[2]["reminder_sent"] == 1, what="reminder recorded")
    rows = bot.query(sql)
    assert [tuple(r) for r in rows] == [("bob-1", 0), ("cid-1", 0), ("ann-1", 1)]
    for who in (BOB, CID):
        texts = [c.params.get("text", "") for c in emulator.calls_of("sendMessage", chat_id=who)]
        assert not any(REMINDER in t for t in texts), f"{who} was reminded after replying"
