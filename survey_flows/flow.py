"""The conversation as a state machine: what a customer's action moves the survey to.

A position is (question index, phase). The table below is the whole machine:

    phase     event           next
    SCORE     score pressed   FOLLOWUP (same question)
    SCORE     text typed      a number on the scale: as if pressed; any other text: stays SCORE
                              (kept as the question's comment, or a number off the scale)
    FOLLOWUP  comment / skip  SCORE of the next question, or DONE after the last one
    DONE      anything        (stale: the survey is over)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import StaleAnswer, Staleness
from .models import (
    Category,
    Customer,
    Invitation,
    InvitationStatus,
    Metric,
    Phase,
    Position,
    Survey,
)
from .scoring import SCALES, Thresholds, category, check_score

START = Position(0, Phase.SCORE)

# Statuses in which the customer may still act on the invitation.
OPEN_STATUSES = frozenset({InvitationStatus.ACTIVE})


@dataclass(frozen=True, slots=True)
class ScoreOutcome:
    position: Position
    category: Category


def _check_open(inv: Invitation, now: datetime, expire_after: timedelta) -> None:
    if inv.status not in OPEN_STATUSES:
        raise StaleAnswer(Staleness.CLOSED, f"invitation {inv.id} is {inv.status}")
    if inv.sent_at is not None and now - inv.sent_at > expire_after:
        raise StaleAnswer(Staleness.EXPIRED, f"invitation {inv.id} expired")


def _awaited(inv: Invitation, asked: Position, now: datetime, expire_after: timedelta) -> Position:
    """The invitation's position, when it is still open and waiting at `asked`."""
    _check_open(inv, now, expire_after)
    if inv.position != asked:
        what = "question" if asked.phase is Phase.SCORE else "follow-up of question"
        raise StaleAnswer(Staleness.MOVED_ON, f"{what} {asked.step} of {inv.id} is not asked")
    return inv.position


def on_score(
    survey: Survey,
    inv: Invitation,
    question_index: int,
    score: int,
    now: datetime,
    expire_after: timedelta,
    thresholds: dict[Metric, Thresholds] | None = None,
) -> ScoreOutcome:
    """A score button was pressed for question `question_index`."""
    pos = _awaited(inv, Position(question_index, Phase.SCORE), now, expire_after)
    metric = survey.questions[question_index].metric
    check_score(metric, score)
    return ScoreOutcome(Position(pos.step, Phase.FOLLOWUP), category(metric, score, thresholds))


def on_followup(
    survey: Survey, inv: Invitation, question_index: int, now: datetime, expire_after: timedelta
) -> Position:
    """The follow-up for `question_index` was answered (text, media) or skipped."""
    pos = _awaited(inv, Position(question_index, Phase.FOLLOWUP), now, expire_after)
    if pos.step + 1 < len(survey.questions):
        return Position(pos.step + 1, Phase.SCORE)
    return Position(pos.step, Phase.DONE)


class Typed(StrEnum):
    """What a text typed at a score question is taken for."""

    SCORE = "score"  # a number on the question's scale: the same as pressing that button
    OFF_SCALE = "off_scale"  # a number outside the scale: ask again, naming the range
    COMMENT = "comment"  # anything else: kept as the question's comment, ask for the score


@dataclass(frozen=True, slots=True)
class TypedReading:
    typed: Typed
    score: int | None = None  # the number, for SCORE and OFF_SCALE


_NUMBER = re.compile(r"\s*([+-]?\d{1,6})\s*[.!]?\s*")


def on_typed(
    survey: Survey, inv: Invitation, text: str | None, now: datetime, expire_after: timedelta
) -> TypedReading:
    """Something was typed (or sent) while the score question of `inv` waits for a press."""
    _check_open(inv, now, expire_after)
    pos = inv.position
    if pos.phase is not Phase.SCORE:
        raise StaleAnswer(Staleness.MOVED_ON, f"no score question is asked in invitation {inv.id}")
    match = _NUMBER.fullmatch(text or "")
    if match is None:
        return TypedReading(Typed.COMMENT)
    number = int(match.group(1))
    if number in SCALES[survey.questions[pos.step].metric]:
        return TypedReading(Typed.SCORE, number)
    return TypedReading(Typed.OFF_SCALE, number)


class SendDecision(StrEnum):
    SEND = "send"
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"
    TOO_LATE = "too_late"  # due so long ago (bot was down) that asking now would confuse


def decide_send(
    inv: Invitation,
    customer: Customer | None,
    now: datetime,
    *,
    expire_after: timedelta,
) -> SendDecision:
    """Whether a due invitation's first question should go out now. (Recontact is decided
    when the invitation is created: storage suppresses it there, for every intake path.)"""
    if customer is not None and customer.opted_out_at is not None:
        return SendDecision.OPTED_OUT
    if customer is not None and customer.unreachable_at is not None:
        return SendDecision.UNREACHABLE
    if now - inv.send_at > expire_after:
        return SendDecision.TOO_LATE
    return SendDecision.SEND


__all__ = [
    "START",
    "ScoreOutcome",
    "SendDecision",
    "Thresholds",
    "Typed",
    "TypedReading",
    "decide_send",
    "on_followup",
    "on_score",
    "on_typed",
]


# Why an invitation stopped, as the intake API reports it: the reason a shop can act on.
_STOP_REASONS = {
    (InvitationStatus.FAILED, SendDecision.UNREACHABLE.value): "unreachable",
    (InvitationStatus.CANCELLED, SendDecision.OPTED_OUT.value): "opted_out",
}


def stop_reason(inv: Invitation) -> str | None:
    """`unreachable`, `opted_out`, `expired`, `suppressed` or `failed: <why>`; None while alive."""
    if inv.status in (InvitationStatus.SCHEDULED, InvitationStatus.ACTIVE):
        return None
    if inv.status in (InvitationStatus.COMPLETED, InvitationStatus.IMPORTED):
        return None
    if inv.status is InvitationStatus.EXPIRED:
        return "expired"
    if inv.status is InvitationStatus.SUPPRESSED:
        return inv.note or "suppressed"
    known = _STOP_REASONS.get((inv.status, inv.note or ""))
    if known:
        return known
    if inv.status is InvitationStatus.CANCELLED:
        return "suppressed"
    return f"failed: {inv.note or 'unknown'}"
