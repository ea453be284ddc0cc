"""Domain types of the survey core: plain frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Metric(StrEnum):
    CSAT = "csat"
    NPS = "nps"
    CES = "ces"


class Category(StrEnum):
    DETRACTOR = "detractor"
    PASSIVE = "passive"
    PROMOTER = "promoter"


@dataclass(frozen=True, slots=True)
class Scale:
    low: int
    high: int

    def __contains__(self, score: object) -> bool:
        return (
            isinstance(score, int)
            and not isinstance(score, bool)
            and self.low <= score <= self.high
        )

    @property
    def points(self) -> range:
        return range(self.low, self.high + 1)


# Localised text: one string for every language, or a language -> text map ("en" is the fallback).
Text = str | dict[str, str] | None


@dataclass(frozen=True, slots=True)
class Question:
    metric: Metric
    # None means "use the built-in, translated wording for this metric".
    text: Text = None
    # Follow-up ("why?") wording per category; missing categories use the built-in wording.
    followup: dict[Category, Text] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Survey:
    name: str
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Trigger:
    event_type: str
    survey: str
    delay: timedelta


class Phase(StrEnum):
    """Where a customer stands within the current question of an invitation."""

    SCORE = "score"  # the question with score buttons is (to be) shown
    FOLLOWUP = "followup"  # a score was given; the open "why?" question is (to be) shown
    DONE = "done"  # every question answered; the thank-you is (to be) shown


@dataclass(frozen=True, slots=True)
class Position:
    step: int
    phase: Phase


class InvitationStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its send time
    ACTIVE = "active"  # delivered; the conversation is going on
    COMPLETED = "completed"  # every question answered
    EXPIRED = "expired"  # not answered in time, or due long ago while the bot was down
    CANCELLED = "cancelled"  # the customer opted out
    SUPPRESSED = "suppressed"  # never sent: kept for statistics (note says why: "recontact")
    FAILED = "failed"  # Telegram refused it for good (blocked bot, bad chat)
    IMPORTED = "imported"  # holds an answer imported from another tool; never sent


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    event_id: str
    event_type: str
    survey: str
    customer_id: int
    context: dict[str, str]
    created_at: datetime
    send_at: datetime
    status: InvitationStatus
    position: Position
    prompt_sent: bool
    message_id: int | None = None
    sent_at: datetime | None = None
    finished_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    invitation_id: int
    question_index: int
    metric: Metric
    score: int
    category: Category
    answered_at: datetime
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    telegram_id: int
    name: str | None = None
    username: str | None = None
    language: str | None = None
    opted_out_at: datetime | None = None
    unreachable_at: datetime | None = None
    timezone: str | None = None  # IANA name from the shop; quiet hours are kept in it
