"""A customer taken through whole surveys by the real bot process, over HTTP, via the emulator."""

from __future__ import annotations

import pytest

from .. import backends

# The acceptance scenarios: the same on SQLite and on PostgreSQL.
pytestmark = backends.BOTH

CUSTOMER = 5550001


def buttons(message: dict) -> list[dict]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def score_buttons(message: dict) -> list[dict]:
    """The scale's buttons, without "Don't ask me again" under a first question."""
    return [b for b in buttons(message) if b.get("callback_data", "").startswith("s:")]


def button_for(message: dict, number: int) -> dict:
    """The score button whose label holds `number` (labels may carry an emoji too)."""
    for b in buttons(message):
        if b["text"].split()[0] == str(number):
            return b
    raise AssertionError(f"no button {number} among {[b['text'] for b in buttons(message)]}")


def skip_button(message: dict) -> dict:
    found = [b for b in buttons(message) if b["text"] == "Skip"]
    assert found, f"the follow-up question has no Skip button: {message}"
    return found[0]


async def next_message(emulator, chat_id: int, after: int, predicate=None, timeout=10.0) -> dict:
    """The next message the bot sends to `chat_id` after call index `after`."""
    call = await emulator.wait_for_call(
        "sendMessage", chat_id=chat_id, after=after, predicate=predicate, timeout=timeout
    )
    return call.response["result"]


def event(event_id: str, type_: str = "purchase", **extra) -> dict:
    body = {
        "event_id": event_id,
        "type": type_,
        "customer": {"telegram_id": CUSTOMER, "name": "Ann", "language": "en"},
        "context": {"order_id": "A-17", "product": "Kettle", "channel": "web"},
        "delay_seconds": 0,
    }
    body.update(extra)
    return body


async def answer_question(emulator, chat: int, question: dict, score: int) -> dict:
    """Press `score` on `question`; returns the follow-up question that comes next."""
    mark = len(emulator.calls)
    emulator.press_button(CUSTOMER, question, button_for(question, score)["callback_data"])
    followup = await next_message(emulator, chat, mark)
    edit = await emulator.wait_for_call("editMessageText", chat_id=chat, after=mark)
    assert str(score) in edit.params["text"], "the question does not show the chosen score"
    assert not buttons(edit.response["result"]), "score buttons still shown after the answer"
    return followup


async def test_purchase_csat_survey_end_to_end(emulator, start_bot):
    bot = await start_bot()
    status, body = await bot.post_event(event("order-A-17"))
    assert status == 202, body
    assert body["status"] == "scheduled" and isinstance(body["invitation_id"], int)

    question = await next_message(emulator, CUSTOMER, 0)
    assert "satisfied" in question["text"]
    labels = [b["text"] for b in score_buttons(question)]
    assert [int(label.split()[0]) for label in labels] == [1, 2, 3, 4, 5], labels

    mark = len(emulator.calls)
    followup = await answer_question(emulator, CUSTOMER, question, 4)
    assert "What did you like most" in followup["text"], "promoter wording expected"
    ack = await emulator.wait_for_call("answerCallbackQuery", after=mark)
    assert ack.response["ok"]

    # The score is committed before the press is acknowledged.
    rows = bot.query("SELECT metric, score, category, comment FROM answers")
    assert [tuple(r) for r in rows] == [("csat", 4, "promoter", None)]

    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "Fast delivery & <friendly> staff")
    thanks = await next_message(emulator, CUSTOMER, mark)
    assert "Thank you for your feedback" in thanks["text"]
    rows = bot.query("SELECT comment, comment_kind FROM answers")
    assert [tuple(r) for r in rows] == [("Fast delivery & <friendly> staff", "text")]
    (inv,) = bot.query("SELECT status, context FROM invitations")
    assert inv["status"] == "completed"
    ctx = bot.query("SELECT key, value FROM invitation_context ORDER BY key")
    assert [tuple(r) for r in ctx] == [
        ("channel", "web"),
        ("order_id", "A-17"),
        ("product", "Kettle"),
    ]


async def test_support_survey_ces_then_csat_with_skip(emulator, start_bot):
    bot = await start_bot()
    status, _ = await bot.post_event(event("ticket-T-9", "ticket_closed"))
    assert status == 202

    ces = await next_message(emulator, CUSTOMER, 0)
    assert [int(b["text"].split()[0]) for b in score_buttons(ces)] == list(range(1, 8))
    followup = await answer_question(emulator, CUSTOMER, ces, 2)
    assert "What went wrong" in followup["text"], "detractor wording expected for CES 2"

    mark = len(emulator.calls)
    emulator.press_button(CUSTOMER, followup, skip_button(followup)["callback_data"])
    csat = await next_message(emulator, CUSTOMER, mark)
    assert [int(b["text"].split()[0]) for b in score_buttons(csat)] == [1, 2, 3, 4, 5]

    followup = await answer_question(emulator, CUSTOMER, csat, 3)
    assert "What would have made it better" in followup["text"], "passive wording expected"
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "ok")
    thanks = await next_message(emulator, CUSTOMER, mark)
    assert "Thank you" in thanks["text"]

    rows = bot.query("SELECT question_index, metric, score, category, comment FROM answers")
    assert [tuple(r) for r in rows] == [
        (0, "ces", 2, "detractor", None),
        (1, "csat", 3, "passive", "ok"),
    ]


@pytest.mark.parametrize("score, wording", [(0, "What went wrong"), (10, "What did you like")])
async def test_nps_survey_from_a_configured_trigger(emulator, start_bot, score, wording):
    bot = await start_bot('[triggers.review]\nsurvey = "nps"\ndelay = "0s"\n')
    status, _ = await bot.post_event(event("rev-1", "review"))
    assert status == 202
    question = await next_message(emulator, CUSTOMER, 0)
    assert [int(b["text"].split()[0]) for b in score_buttons(question)] == list(range(11))
    followup = await answer_question(emulator, CUSTOMER, question, score)
    assert wording in followup["text"]
    mark = len(emulator.calls)
    emulator.press_button(CUSTOMER, followup, skip_button(followup)["callback_data"])
    await next_message(
        emulator, CUSTOMER, mark, predicate=lambda c: "Thank you" in c.params["text"]
    )
    (row,) = bot.query("SELECT metric, score FROM answers")
    assert tuple(row) == ("nps", score)


async def test_a_double_tap_stores_one_answer(emulator, start_bot):
    bot = await start_bot()
    await bot.post_event(event("order-1"))
    question = await next_message(emulator, CUSTOMER, 0)
    mark = len(emulator.calls)
    # Two taps before the keyboard disappears: the second must change nothing.
    first = emulator.press_button(CUSTOMER, question, button_for(question, 5)["callback_data"])
    second = emulator.press_button(CUSTOMER, question, button_for(question, 1)["callback_data"])
    acks = {}
    for query_id in (first, second):
        call = await emulator.wait_for_call(
            "answerCallbackQuery",
            after=mark,
            predicate=lambda c, q=query_id: c.params["callback_query_id"] == q,
        )
        acks[query_id] = call.params.get("text", "")
    assert "saved" in acks[first].lower()
    assert "already answered" in acks[second], acks[second]
    rows = bot.query("SELECT score FROM answers")
    assert [r["score"] for r in rows] == [5], "a second tap changed the stored answer"
    followup = await next_message(emulator, CUSTOMER, mark)
    assert "What did you like most" in followup["text"]
    await emulator.wait_for_call("editMessageText", chat_id=CUSTOMER, after=mark)
    followups = [
        c for c in emulator.calls_of("sendMessage", chat_id=CUSTOMER) if "Skip" in str(c.params)
    ]
    assert len(followups) == 1, "the follow-up question was asked twice"


async def test_builtin_ces_survey_from_a_configured_trigger(emulator, start_bot):
    bot = await start_bot('[triggers.delivery]\nsurvey = "ces"\ndelay = "0s"\n')
    status, _ = await bot.post_event(event("dlv-1", "delivery"))
    assert status == 202
    question = await next_message(emulator, CUSTOMER, 0)
    assert "How easy" in question["text"]
    followup = await answer_question(emulator, CUSTOMER, question, 7)
    assert "What did you like most" in followup["text"], "promoter wording expected for CES 7"
    mark = len(emulator.calls)
    emulator.user_message(CUSTOMER, "smooth")
    await next_message(
        emulator, CUSTOMER, mark, predicate=lambda c: "Thank you" in c.params["text"]
    )
    (row,) = bot.query("SELECT metric, score, category, comment FROM answers")
    assert tuple(row) == ("ces", 7, "promoter", "smooth")
