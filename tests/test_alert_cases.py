"""One case per unhappy customer, and "not solved" reaching someone: what staff see in their
group, with the real dispatcher and alert worker, a recording session and a moved clock."""

from __future__ import annotations

from datetime import timedelta

from aiogram.types import Update

from bot.views.alert_card import list_text
from storage.records import Comment, NewAlert, NewEvent
from survey_flows.models import Answer, Metric, Phase, Position
from survey_flows.scoring import category

from . import backends, updates
from .test_alerts import ANNA, NOW, STAFF, press, staff_texts
from .test_alerts import env as env  # the fixture, shared
from .updates import person

pytestmark = backends.BOTH

CUSTOMER = 4711


async def support_answered_low_twice(repo, clock) -> int:
    """A support survey (CES, then CSAT) answered CES 2 "took ages", then CSAT 1 "<b>rude</b>"."""
    event = NewEvent("t-9", "ticket_closed", "support", CUSTOMER, "Olga", "en", {}, clock())
    inv, _ = await repo.invitations.create_invitation(event, clock())
    assert await repo.outbox.claim_prompt(inv, clock())
    await repo.outbox.mark_prompt_sent(inv, 1)
    answers = ((0, Metric.CES, 2, "took ages"), (1, Metric.CSAT, 1, "<b>rude</b>"))
    for step, metric, score, words in answers:
        inv = await repo.invitations.get_invitation(inv.id)
        answer = Answer(inv.id, step, metric, score, category(metric, score), clock())
        alert = NewAlert(STAFF, clock() + timedelta(minutes=30))
        assert await repo.conversation.record_score(
            inv, Position(step, Phase.FOLLOWUP), answer, alert=alert
        )
        inv = await repo.invitations.get_invitation(inv.id)
        after = Position(1, Phase.SCORE) if step == 0 else Position(1, Phase.DONE)
        assert await repo.conversation.record_followup(inv, after, Comment(words), clock())
    return inv.id


def cards(session) -> list[dict]:
    return [
        p
        for name, p, _ in session.calls
        if name in ("sendMessage", "editMessageText") and p["chat_id"] == STAFF
    ]


async def test_a_survey_answered_low_twice_is_one_case_showing_both(env):
    dp, repo, bot, session, worker, clock = env
    await support_answered_low_twice(repo, clock)
    await worker.run_once()
    posted = [t for t in staff_texts(session) if "Alert #" in t]
    assert len(posted) == 1, f"one survey raised {len(posted)} alerts"
    (alert,) = await repo.alerts.open_alerts()
    card = cards(session)[-1]["text"]
    assert "CES <b>2</b>" in card and "took ages" in card
    assert "Also low in this survey: CSAT 1/5" in card and "&lt;b&gt;rude&lt;/b&gt;" in card
    assert list_text(await repo.alerts.open_alerts(), "en", clock()).count("#") == 1
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:r:{alert.id}"))
    await dp.feed_update(bot, press(ANNA, "Anna", f"w:{alert.id}:0"))
    assert await repo.alerts.open_alerts() == [], "resolving the case left part of it open"


def customer_press(data: str) -> Update:
    return updates.press(person(CUSTOMER, "Olga"), data, NOW, message_id=9)


async def test_not_solved_at_the_recheck_reopens_the_case_for_its_owner(env):
    dp, repo, bot, session, worker, clock = env
    await support_answered_low_twice(repo, clock)
    await worker.run_once()
    (alert,) = await repo.alerts.open_alerts()
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:t:{alert.id}"))
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:r:{alert.id}"))
    await dp.feed_update(bot, press(ANNA, "Anna", f"w:{alert.id}:0"))
    clock.now = NOW + timedelta(days=2)
    await worker.run_once()  # the re-check question goes to the customer
    await dp.feed_update(bot, customer_press(f"r:{alert.id}:0"))  # "No, not solved"
    await worker.run_once()

    (again,) = await repo.alerts.open_alerts()
    assert again.id == alert.id and again.status == "taken" and again.owner_id == ANNA
    card = [c for c in cards(session) if "reply_markup" in c][-1]
    assert "the customer says it is not solved" in card["text"]
    buttons = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert any("Resolved" in b for b in buttons), buttons
    (line,) = [t for t in staff_texts(session) if "is open again" in t]
    assert f'<a href="tg://user?id={ANNA}">Anna</a>' in line
    assert "reopened" in list_text([again], "en", clock())
    figures = await repo.analytics.alert_figures(NOW - timedelta(days=1), NOW + timedelta(days=3))
    assert figures["reopened"] == 1 and figures["reopened_share"] == 1.0
    # Resolved again, the customer is asked again later.
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:r:{alert.id}"))
    await dp.feed_update(bot, press(ANNA, "Anna", f"w:{alert.id}:0"))
    assert await repo.alerts.open_alerts() == []
