"""What a customer types goes where it belongs: the survey, the staff thread, or a polite answer.

The real dispatcher, delivery worker and alert worker, a recording session and a moved clock.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Bot

from bot.workers.alerts import AlertWorker
from bot.workers.delivery import DeliveryWorker
from storage.records import NewEvent
from storage.sqlite import open_sqlite
from survey_flows.alerts import AlertRules
from survey_flows.models import InvitationStatus, Phase, Position

from . import updates
from .clocks import MovableClock as Clock
from .test_manager import NOW, RecordingSession, make_config
from .updates import person
from .wiring import wire

STAFF = -100777
ANN = 6001
_ids = itertools.count(70_000)


class Chats:
    def __init__(self, dp, repo, bot, session, delivery, alerts, clock) -> None:
        self.dp, self.repo, self.bot, self.session = dp, repo, bot, session
        self.delivery, self.alerts, self.clock = delivery, alerts, clock

    async def survey(self, survey: str = "csat") -> int:
        """An event for Ann; the question is shown to her. Returns the invitation id."""
        inv, _ = await self.repo.invitations.create_invitation(
            NewEvent(f"e{next(_ids)}", "purchase", survey, ANN, "Ann", "en", {}, self.clock()),
            self.clock(),
        )
        await self.work()
        return inv.id

    async def work(self) -> None:
        await self.delivery.run_once()
        await self.delivery.drain()
        await self.alerts.run_once()

    async def say(self, text: str, message_id: int | None = None) -> list:
        before = len(self.session.calls)
        ann = person(ANN, "Ann", language_code="en")
        update = updates.message(ann, text, self.clock(), message_id=message_id)
        await self.dp.feed_update(self.bot, update)
        return self.session.calls[before:]

    async def staff_reply(self, reply_to: int, text: str) -> None:
        staff = person(901, "Staff")
        update = updates.message(staff, text, self.clock(), chat_id=STAFF, reply_to=reply_to)
        await self.dp.feed_update(self.bot, update)

    async def press(self, data: str, message_id: int = 1) -> None:
        update = updates.press(person(ANN, "Ann"), data, self.clock(), message_id=message_id)
        await self.dp.feed_update(self.bot, update)

    def to(self, chat_id: int, calls: list | None = None) -> list[dict]:
        return [
            p
            for name, p, _ in (self.session.calls if calls is None else calls)
            if name == "sendMessage" and p["chat_id"] == chat_id
        ]


@pytest.fixture
async def chats(tmp_path: Path, dispatcher):
    config = make_config(tmp_path)
    config = replace(
        config,
        telegram=replace(config.telegram, staff_chat_id=STAFF),
        alerts_enabled=True,
    )
    repo = await open_sqlite(config.storage.path)
    session = RecordingSession()
    bot = Bot("123:abc", session=session)
    clock = Clock(NOW)
    delivery = DeliveryWorker(bot, repo, config.surveys, clock, expire_after=timedelta(days=3))
    alerts = AlertWorker(bot, repo, AlertRules(dict(config.alerts.max_score)), STAFF, clock)
    wire(dispatcher, bot, repo, config, clock, delivery=delivery, alerts=alerts)
    yield Chats(dispatcher, repo, bot, session, delivery, alerts, clock)
    await repo.close()


async def test_a_message_after_an_abandoned_followup_reaches_the_staff_thread(chats: Chats):
    inv_id = await chats.survey()
    await chats.press(f"s:{inv_id}:0:1")  # a detractor: the alert card goes to staff
    await chats.work()
    (card,) = chats.to(STAFF)
    assert "Alert #" in card["text"]
    (alert,) = await chats.repo.alerts.open_alerts()
    assert alert.message_id is not None
    await chats.staff_reply(alert.message_id, "We are sorry, a refund is on its way")
    assert "refund is on its way" in chats.to(ANN)[-1]["text"]

    # Four days later, while staff talk with her, Ann writes; the follow-up was never answered.
    chats.clock.now = NOW + timedelta(days=4)
    calls = await chats.say("Any news about my refund?")

    to_staff = chats.to(STAFF, calls)
    assert len(to_staff) == 1, "Ann's message never reached the staff chat"
    assert "Any news about my refund?" in to_staff[0]["text"]
    assert to_staff[0]["reply_parameters"]["message_id"] == alert.message_id, "not in the thread"
    assert chats.to(ANN, calls) == [], "Ann got the stock reply instead of reaching staff"
    inv = await chats.repo.invitations.get_invitation(inv_id)
    assert inv is not None and inv.status is InvitationStatus.EXPIRED
    answers = await chats.repo.conversation.answers_for(inv_id)
    assert answers[0].comment is None, "a message four days late was taken as the follow-up"


async def test_a_message_after_an_abandoned_followup_without_alert_gets_a_polite_answer(
    chats: Chats,
):
    inv_id = await chats.survey()
    await chats.press(f"s:{inv_id}:0:4")
    await chats.work()
    chats.clock.now = NOW + timedelta(days=4)
    calls = await chats.say("hello?")
    (reply,) = chats.to(ANN, calls)
    assert "I only collect feedback here" in reply["text"]
    assert (await chats.repo.conversation.answers_for(inv_id))[0].comment is None


async def test_a_typed_number_on_the_scale_counts_as_that_score(chats: Chats):
    inv_id = await chats.survey()
    question = (await chats.repo.invitations.get_invitation(inv_id)).message_id
    calls = await chats.say("2")
    answers = await chats.repo.conversation.answers_for(inv_id)
    assert [(a.score, a.category.value) for a in answers] == [(2, "detractor")], (
        "a typed 2 was not taken as the score"
    )
    edits = [p for name, p, _ in calls if name == "editMessageText"]
    assert len(edits) == 1 and edits[0]["message_id"] == question
    assert "2" in edits[0]["text"] and "reply_markup" not in edits[0], "question not closed"
    assert chats.to(ANN, calls) == [], "a stock reply was sent for a typed score"
    before = len(chats.session.calls)
    await chats.work()
    followups = chats.to(ANN, chats.session.calls[before:])
    assert len(followups) == 1 and "Skip" in str(followups[0]["reply_markup"])
    (card,) = chats.to(STAFF)
    assert "CSAT <b>2</b> of 5" in card["text"], "no alert for a typed detractor score"


async def test_typed_words_are_kept_as_the_comment_and_the_buttons_shown_again(chats: Chats):
    inv_id = await chats.survey()
    first = (await chats.repo.invitations.get_invitation(inv_id)).message_id
    calls = await chats.say("it was awful, took 3 days")

    (reply,) = chats.to(ANN, calls)
    assert reply["text"].startswith("Thanks, noted. Please also tap a score:")
    buttons = [b["callback_data"] for row in reply["reply_markup"]["inline_keyboard"] for b in row]
    expected = [f"s:{inv_id}:0:{v}" for v in range(1, 6)] + [f"x:{inv_id}"]  # + opt-out
    assert buttons == expected, "the buttons were not shown"
    cleared = [p for name, p, _ in calls if name == "editMessageReplyMarkup"]
    assert [p["message_id"] for p in cleared] == [first], "the old keyboard stayed"
    assert await chats.repo.conversation.answers_for(inv_id) == []

    # The score comes later, from the new keyboard: the words are that answer's comment.
    await chats.press(
        buttons[0], message_id=(await chats.repo.invitations.get_invitation(inv_id)).message_id
    )
    (answer,) = await chats.repo.conversation.answers_for(inv_id)
    assert (answer.score, answer.comment) == (1, "it was awful, took 3 days")
    await chats.work()
    (card,) = chats.to(STAFF)
    assert "it was awful, took 3 days" in card["text"], "the alert card lacks the comment"

    # The follow-up answer is added to it, not put in its place.
    await chats.say("and the courier was rude")
    (answer,) = await chats.repo.conversation.answers_for(inv_id)
    assert answer.comment == "it was awful, took 3 days\nand the courier was rude"


async def test_a_comment_repeated_before_the_next_question_stays_with_its_followup(
    chats: Chats,
):
    """Ann answers the follow-up, and writes again before the next question appears (the bot was
    slow, she thought it had not heard her): her second message is more of that answer."""
    inv_id = await chats.survey("support")
    await chats.press(f"s:{inv_id}:0:3")
    await chats.work()  # the follow-up
    first, again = chats.session.next_message_id(), chats.session.next_message_id()
    await chats.say("the form kept timing out", message_id=first)
    await chats.work()  # the second question is shown
    calls = await chats.say("the form kept timing out!", message_id=again)

    assert chats.to(ANN, calls) == [], (
        "Ann's repeated comment was taken as words at the next question: she saw it asked again"
    )
    answers = await chats.repo.conversation.answers_for(inv_id)
    assert [a.comment for a in answers] == ["the form kept timing out\nthe form kept timing out!"]
    inv = await chats.repo.invitations.get_invitation(inv_id)
    assert inv is not None and inv.position == Position(1, Phase.SCORE) and inv.prompt_sent

    # Words typed at the question on screen are still that question's.
    calls = await chats.say("slow", message_id=chats.session.next_message_id())
    (reply,) = chats.to(ANN, calls)
    assert reply["text"].startswith("Thanks, noted. Please also tap a score:")


async def test_a_comment_repeated_before_the_thank_you_gets_no_stock_reply(chats: Chats):
    inv_id = await chats.survey()
    await chats.press(f"s:{inv_id}:0:4")
    await chats.work()  # the follow-up
    first, again = chats.session.next_message_id(), chats.session.next_message_id()
    await chats.say("fine", message_id=first)
    await chats.work()  # the thank-you
    calls = await chats.say("fine, really", message_id=again)

    assert chats.to(ANN, calls) == [], "Ann's second message got 'I only collect feedback here'"
    (answer,) = await chats.repo.conversation.answers_for(inv_id)
    assert answer.comment == "fine\nfine, really"
    # Once the thank-you is on screen, a new message gets the polite answer as before.
    calls = await chats.say("bye", message_id=chats.session.next_message_id())
    (reply,) = chats.to(ANN, calls)
    assert "I only collect feedback here" in reply["text"]


async def test_a_typed_number_off_the_scale_names_the_range(chats: Chats):
    inv_id = await chats.survey()
    calls = await chats.say("9")
    (reply,) = chats.to(ANN, calls)
    assert reply["text"].startswith("Please choose a score from 1 to 5:")
    assert "inline_keyboard" in reply["reply_markup"]
    assert await chats.repo.conversation.answers_for(inv_id) == []
    # Nothing was kept as a comment: a later press stores a bare score.
    await chats.say("5")
    (answer,) = await chats.repo.conversation.answers_for(inv_id)
    assert (answer.score, answer.comment) == (5, None)


async def test_words_at_an_expired_question_are_not_kept(chats: Chats):
    inv_id = await chats.survey()
    chats.clock.now = NOW + timedelta(days=4)
    calls = await chats.say("3")
    (reply,) = chats.to(ANN, calls)
    assert "I only collect feedback here" in reply["text"]
    assert await chats.repo.conversation.answers_for(inv_id) == [], (
        "a score was taken four days late"
    )
    inv = await chats.repo.invitations.get_invitation(inv_id)
    assert inv is not None and inv.status is InvitationStatus.EXPIRED
