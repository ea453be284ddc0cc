"""Digests that say who and what, and stay current: what staff read when alerts come in a
burst, with the real dispatcher and alert worker, a recording session and a moved clock."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from storage.records import NewAlert, NewEvent
from survey_flows.models import Answer, Metric, Phase, Position
from survey_flows.scoring import category

from . import backends
from .test_alerts import ANNA, STAFF, press
from .test_alerts import env as env  # the fixture, shared

pytestmark = backends.BOTH


async def low_answer(repo, clock, customer: int, name: str | None, context: dict) -> None:
    event = NewEvent(f"e{customer}", "purchase", "csat", customer, name, "en", context, clock())
    inv, _ = await repo.invitations.create_invitation(event, clock())
    assert await repo.outbox.claim_prompt(inv, clock())
    await repo.outbox.mark_prompt_sent(inv, 1)
    inv = await repo.invitations.get_invitation(inv.id)
    answer = Answer(inv.id, 0, Metric.CSAT, 1, category(Metric.CSAT, 1), clock())
    alert = NewAlert(STAFF, clock() + timedelta(minutes=30))
    assert await repo.conversation.record_score(
        inv, Position(0, Phase.FOLLOWUP), answer, alert=alert
    )


def staff_calls(session, method: str) -> list[dict]:
    return [p for name, p, _ in session.calls if name == method and p["chat_id"] == STAFF]


def visible(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def test_a_digest_says_who_and_which_order_and_ticks_what_is_taken(env):
    dp, repo, bot, session, worker, clock = env
    await low_answer(repo, clock, 1, "Olga <b>Big</b>", {"order_id": "A-17", "product": "Kettle"})
    await low_answer(repo, clock, 2, None, {"order_id": "A-18"})
    for customer in range(3, 7):
        await low_answer(repo, clock, customer, f"C{customer}", {"order_id": f"B-{customer}"})
    await worker.run_once()
    (posted,) = staff_calls(session, "sendMessage")
    lines = posted["text"].splitlines()
    assert "Olga &lt;b&gt;Big&lt;/b&gt; · A-17 · Kettle" in lines[1], lines[1]
    assert "id 2 · A-18" in lines[2], "a customer without a name is shown by id"
    alert_one = (await repo.alerts.open_alerts())[0]
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:t:{alert_one.id}"))
    await dp.feed_update(bot, press(ANNA, "Anna", f"a:r:{(await repo.alerts.open_alerts())[1].id}"))
    await dp.feed_update(bot, press(ANNA, "Anna", f"w:{(await repo.alerts.open_alerts())[1].id}:0"))
    await worker.run_once()
    digest_id = alert_one.digest_message_id
    assert digest_id is not None
    edit = [e for e in staff_calls(session, "editMessageText") if e["message_id"] == digest_id][-1]
    lines = edit["text"].splitlines()
    assert lines[1].endswith("✓ taken by Anna"), lines[1]
    assert lines[2].endswith("✓ resolved"), lines[2]
    buttons = [b["text"] for row in edit["reply_markup"]["inline_keyboard"] for b in row]
    assert "#2" not in buttons and "#1" in buttons, "a resolved alert still offered to open"


async def test_twenty_long_alerts_still_fit_one_message(env):
    _dp, repo, _bot, session, worker, clock = env
    for customer in range(1, 31):
        await low_answer(
            repo, clock, customer, "N" * 300, {"order_id": "O" * 300, "product": "P" * 300}
        )
    await worker.run_once()
    (posted,) = staff_calls(session, "sendMessage")
    assert len(visible(posted["text"])) <= 4096
    assert posted["text"].count("…") >= 20 * 3, "long values were not clipped"
