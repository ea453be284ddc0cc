"""Crashes, Telegram errors and opt-outs: nothing lost, nothing sent twice, no one pestered."""

from __future__ import annotations

from .. import backends
from .harness import STAFF_CHAT, BotProcess, wait_until
from .test_survey_loop import CUSTOMER, answer_question, button_for, event, next_message

# The acceptance scenarios: the same on SQLite and on PostgreSQL.
pytestmark = backends.BOTH


async def first_accepted_question(emulator) -> dict:
    """The first question in the customer's chat that Telegram accepted (after any refusal)."""
    return await next_message(
        emulator, CUSTOMER, 0, predicate=lambda c: c.response.get("ok"), timeout=15
    )


async def recorded_as_shown(bot: BotProcess, question: dict, what: str) -> None:
    """Wait until the database holds `question` as the invitation's shown message."""
    await wait_until(
        lambda: (
            bot.query("SELECT message_id FROM invitations")[0]["message_id"]
            == question["message_id"]
        ),
        what=what,
    )


def sends_to(emulator, chat_id: int, text: str) -> int:
    return sum(
        1 for c in emulator.calls_of("sendMessage", chat_id=chat_id) if text in c.params["text"]
    )


async def test_sigkill_mid_conversation_resumes_where_it_was(emulator, start_bot):
    bot: BotProcess = await start_bot('[triggers.ticket_closed]\ndelay = "0s"\n')
    await bot.post_event(event("t-1", "ticket_closed"))
    ces = await next_message(emulator, CUSTOMER, 0)
    await answer_question(emulator, CUSTOMER, ces, 6)
    # Killed between sends, not during one: a follow-up delivered but not yet recorded would be
    # sent again on restart (at-least-once, tested below), a second "why?" before the CSAT.
    await wait_until(
        lambda: bot.query("SELECT phase, prompt_sent FROM invitations")[0]["prompt_sent"] == 1,
        what="the follow-up question to be recorded as shown",
    )
    await bot.kill()

    await start_bot(reuse=bot)
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "quick and easy")
    csat = await next_message(emulator, CUSTOMER, mark)
    assert next(b["text"].split()[0] for b in csat["reply_markup"]["inline_keyboard"][0]) == "1"
    await answer_question(emulator, CUSTOMER, csat, 5)
    rows = bot.query("SELECT question_index, score, comment FROM answers ORDER BY question_index")
    assert [tuple(r) for r in rows] == [(0, 6, "quick and easy"), (1, 5, None)]
    assert sends_to(emulator, CUSTOMER, "How easy") == 1, "the first question was sent twice"


async def test_scheduled_invitation_survives_a_crash_and_is_sent_once(emulator, start_bot):
    bot: BotProcess = await start_bot()
    status, _ = await bot.post_event(event("o-9", delay_seconds=2))
    assert status == 202
    await bot.kill()  # before it is due
    assert not emulator.calls_of("sendMessage", chat_id=CUSTOMER)

    await start_bot(reuse=bot)
    question = await next_message(emulator, CUSTOMER, 0, timeout=15)
    assert "satisfied" in question["text"]
    await bot.stop()
    await start_bot(reuse=bot)
    # A further restart must not send it again: wait for the new process to settle its outbox.
    await wait_until(
        lambda: bot.query("SELECT prompt_sent FROM invitations")[0]["prompt_sent"] == 1,
        what="the invitation to be marked sent",
    )
    assert sends_to(emulator, CUSTOMER, "satisfied") == 1


async def test_429_is_waited_out_and_the_same_message_retried(emulator, start_bot):
    bot = await start_bot()
    emulator.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=CUSTOMER)
    await bot.post_event(event("o-429"))
    question = await first_accepted_question(emulator)
    assert "satisfied" in question["text"]
    failed = [c for c in emulator.calls_of("sendMessage", chat_id=CUSTOMER) if not c.response["ok"]]
    assert len(failed) == 1 and failed[0].response["error_code"] == 429
    assert sends_to(emulator, CUSTOMER, "satisfied") == 2  # one refused, one delivered
    await recorded_as_shown(bot, question, "the delivered question to be recorded as sent")


async def test_blocked_bot_marks_customer_unreachable_and_stops_sends(emulator, start_bot):
    bot = await start_bot()
    emulator.block_user(CUSTOMER)
    await bot.post_event(event("o-403"))
    await wait_until(
        lambda: bot.query("SELECT status FROM invitations")[0]["status"] == "failed",
        what="the invitation to a customer who blocked the bot to be marked failed",
    )
    (customer,) = bot.query(
        "SELECT unreachable_at FROM customers WHERE telegram_id = ?", (CUSTOMER,)
    )
    assert customer["unreachable_at"] is not None
    await bot.post_event(event("o-403-b"))
    await wait_until(
        lambda: (
            bot.query("SELECT status FROM invitations WHERE event_id = 'o-403-b'")[0]["status"]
            == "failed"
        ),
        what="a later invitation to the unreachable customer to be dropped",
    )
    attempts = [c for c in emulator.calls_of("sendMessage", chat_id=CUSTOMER)]
    assert len(attempts) == 1, "the bot kept sending to a customer who blocked it"


async def test_stop_opts_out_and_start_opts_back_in(emulator, start_bot):
    bot = await start_bot()
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "/stop")
    reply = await next_message(emulator, CUSTOMER, mark)
    assert "will not send you any more surveys" in reply["text"]
    await bot.post_event(event("o-stop"))
    await wait_until(
        lambda: bot.query("SELECT status FROM invitations")[0]["status"] == "cancelled",
        what="an invitation to an opted-out customer to be cancelled",
    )
    assert all("satisfied" not in c.params["text"] for c in emulator.calls_of("sendMessage"))

    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "/start")
    reply = await next_message(emulator, CUSTOMER, mark)
    assert "Shall I ask you for feedback again?" in reply["text"], "/start after /stop must ask"
    mark = len(emulator.calls)
    emulator.tap(CUSTOMER, "Yes, you may ask me again")
    reply = await next_message(emulator, CUSTOMER, mark)
    assert "Welcome back" in reply["text"]
    await bot.post_event(event("o-start"))
    question = await next_message(
        emulator, CUSTOMER, mark, predicate=lambda c: "satisfied" in c.params["text"]
    )
    assert button_for(question, 5)


async def test_names_and_comments_with_markup_arrive_intact(emulator, start_bot):
    await start_bot()
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "/start", first_name="<b>Bob</b> & <i>Co")
    reply = await next_message(emulator, CUSTOMER, mark)
    assert reply["text"].startswith("Hi <b>Bob</b> & <i>Co!"), reply["text"]


async def test_followup_in_russian_for_a_russian_customer(emulator, start_bot):
    bot = await start_bot()
    body = event("o-ru")
    body["customer"]["language"] = "ru"
    await bot.post_event(body)
    question = await next_message(emulator, CUSTOMER, 0)
    assert "Насколько вы довольны" in question["text"]
    followup = await answer_question(emulator, CUSTOMER, question, 1)
    assert "Что пошло не так" in followup["text"]


async def test_a_dropped_connection_is_retried_and_delivered_once(emulator, start_bot):
    bot = await start_bot()
    emulator.fail_next("sendMessage", disconnect=True, chat_id=CUSTOMER)
    await bot.post_event(event("o-net"))
    question = await first_accepted_question(emulator)
    assert "satisfied" in question["text"]
    delivered = [c for c in emulator.calls_of("sendMessage", chat_id=CUSTOMER) if c.ok]
    assert len(delivered) == 1, "the question was delivered twice after a network error"


async def test_a_question_in_flight_at_a_crash_is_sent_again_on_restart(emulator, start_bot):
    bot: BotProcess = await start_bot()
    # Telegram answers 429: the bot waits a minute holding the claimed prompt, and dies meanwhile.
    emulator.fail_next("sendMessage", error_code=429, retry_after=60, chat_id=CUSTOMER)
    await bot.post_event(event("o-crash"))
    await emulator.wait_for_call("sendMessage", chat_id=CUSTOMER)
    await wait_until(
        lambda: bot.query("SELECT prompt_sent FROM invitations")[0]["prompt_sent"] == 2,
        what="the question to be claimed as being sent",
    )
    await bot.kill()

    await start_bot(reuse=bot)
    question = await first_accepted_question(emulator)
    assert "satisfied" in question["text"], "the question in flight at the crash was lost"
    assert button_for(question, 5), "the question came back without its score buttons"
    await recorded_as_shown(bot, question, "the resent question to be recorded as shown")


async def test_an_alert_in_flight_at_a_crash_is_posted_again_on_restart(emulator, start_bot):
    bot: BotProcess = await start_bot()
    await bot.post_event(event("o-alert-crash"))
    question = await next_message(emulator, CUSTOMER, 0)
    emulator.fail_next("sendMessage", error_code=429, retry_after=60, chat_id=STAFF_CHAT)
    mark = len(emulator.calls)
    await answer_question(emulator, CUSTOMER, question, 1)
    await emulator.wait_for_call("sendMessage", chat_id=STAFF_CHAT, after=mark)
    await wait_until(
        lambda: bot.query("SELECT post_state FROM alerts")[0]["post_state"] == 2,
        what="the alert to be claimed as being posted",
    )
    await bot.kill()

    mark = len(emulator.calls)
    await start_bot(reuse=bot)
    card = await next_message(
        emulator, STAFF_CHAT, mark, predicate=lambda c: c.response.get("ok"), timeout=15
    )
    assert "CSAT 1 of 5" in card["text"], "the alert in flight at the crash was lost"
    await wait_until(
        lambda: bot.query("SELECT message_id FROM alerts")[0]["message_id"] == card["message_id"],
        what="the reposted alert to be recorded as posted",
    )
