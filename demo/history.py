"""Four weeks of past answers, written through the repository as the bot itself would, so the
manager's charts have a shape the moment the demo starts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.base import SurveyRepo
from storage.records import Comment, NewEvent
from survey_flows import flow
from survey_flows.models import Answer, Invitation, InvitationStatus, Phase, Survey

from .people import CHANNELS, PRODUCTS, Persona, comment_for, score_for

DAYS = 28
SURVEY_OF = {"purchase": "csat", "delivered": "nps", "ticket_closed": "support"}


@dataclass(frozen=True, slots=True)
class _Respondent:
    """Who answers one past invitation and how: `lift` shifts their scores (a month ago worse);
    without `answers` the invitation expires unanswered."""

    persona: Persona
    lift: float
    answers: bool


async def backfill(
    repo: SurveyRepo,
    surveys: dict[str, Survey],
    people: list[Persona],
    now: datetime,
    rng: random.Random,
    per_day: int = 12,
) -> int:
    """Write `per_day` finished surveys for each of the last DAYS days; returns how many.

    Satisfaction improves over the month (the shop fixed its courier), so trends show.
    """
    if await repo.invitations.get_invitation(1) is not None:
        return 0  # a kept --data folder already has its history
    written = 0
    expire = timedelta(days=3)
    for day in range(DAYS, 0, -1):
        lift = -0.3 * day / DAYS  # a month ago clearly worse
        for n in range(per_day):
            persona = rng.choice(people)
            kind = rng.choice(list(SURVEY_OF))
            at = now - timedelta(days=day, hours=rng.uniform(0, 20))
            event = NewEvent(
                event_id=f"history-{day}-{n}",
                event_type=kind,
                survey=SURVEY_OF[kind],
                customer_id=persona.telegram_id,
                customer_name=persona.name,
                customer_language=persona.language,
                context={"product": rng.choice(PRODUCTS), "channel": rng.choice(CHANNELS)},
                send_at=at,
            )
            inv, _created = await repo.invitations.create_invitation(event, at)
            survey = surveys[SURVEY_OF[kind]]
            who = _Respondent(persona, lift, answers=persona.responds and rng.random() > 0.15)
            await _play(repo, survey, inv, who, at, expire, rng)
            written += 1
    return written


async def _play(
    repo: SurveyRepo,
    survey: Survey,
    inv: Invitation,
    who: _Respondent,
    at: datetime,
    expire: timedelta,
    rng: random.Random,
) -> None:
    """Walk one invitation through the conversation's steps, as the worker and handlers do."""
    message_id = 1
    last_score = 0
    while True:
        current = await repo.invitations.get_invitation(inv.id)
        assert current is not None
        inv = current
        # Each prompt claimed and recorded as shown, with a made-up message id.
        if inv.prompt_sent is False and await repo.outbox.claim_prompt(inv, at):
            await repo.outbox.mark_prompt_sent(inv, message_id)
            message_id += 1
            current = await repo.invitations.get_invitation(inv.id)
            assert current is not None
            inv = current
        at += timedelta(minutes=rng.uniform(1, 30))
        if inv.position.phase is Phase.DONE or inv.status is not InvitationStatus.ACTIVE:
            return
        if not who.answers:
            await repo.outbox.close_invitation(
                inv.id, InvitationStatus.EXPIRED, "expired: no answer in time", at + expire
            )
            return
        step = inv.position.step
        question = survey.questions[step]
        if inv.position.phase is Phase.SCORE:
            score = score_for(who.persona, question.metric, rng, who.lift)
            outcome = flow.on_score(survey, inv, step, score, at, expire)
            answer = Answer(inv.id, step, question.metric, score, outcome.category, at)
            await repo.conversation.record_score(inv, outcome.position, answer)
            last_score = score
        else:
            position = flow.on_followup(survey, inv, step, at, expire)
            comment = None
            if rng.random() < who.persona.comments:
                text = comment_for(who.persona, question.metric, last_score, rng)
                comment = Comment(text)
            await repo.conversation.record_followup(inv, position, comment, at)
