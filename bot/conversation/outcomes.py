"""What the conversation service did with a customer's action, as data the handlers match on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from survey_flows.errors import Staleness
from survey_flows.models import Category, Invitation, InvitationStatus, Survey


class Notice(StrEnum):
    """Why a press changed nothing: each is one line the customer sees under the button."""

    ALREADY = "already"  # answered before (a second tap, or a press and a typed number)
    FINISHED = "finished"  # the survey is complete
    EXPIRED = "expired"  # asked too long ago
    INVALID = "invalid"  # a button that names nothing (forged or from a removed survey)
    NOT_YOURS = "not_yours"  # another customer's button (a forwarded message)


def stale_notice(inv: Invitation, reason: Staleness) -> Notice:
    """The notice for an answer the core called stale, from the invitation as it was read."""
    if inv.status is InvitationStatus.COMPLETED:
        return Notice.FINISHED
    if inv.status is InvitationStatus.EXPIRED or reason is Staleness.EXPIRED:
        return Notice.EXPIRED
    if inv.status is not InvitationStatus.ACTIVE:
        return Notice.INVALID
    return Notice.ALREADY


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing stored: the customer is told why."""

    notice: Notice


@dataclass(frozen=True, slots=True)
class ScoreSaved:
    """A score was committed (its alert too, when it raised one)."""

    invitation: Invitation
    survey: Survey
    question: int
    score: int


@dataclass(frozen=True, slots=True)
class FollowupSaved:
    """A follow-up answer (or its skip) was committed and its prompt closed."""

    invitation: Invitation
    question: int
    category: Category
    skipped: bool


@dataclass(frozen=True, slots=True)
class LateComment:
    """Words typed just after a follow-up closed: added to that answer's comment."""

    invitation_id: int
    question: int


@dataclass(frozen=True, slots=True)
class AskedAgain:
    """Words at a score question (kept as its comment) or a number off the scale: the question
    was shown again under a line saying why."""

    invitation: Invitation
    off_scale: bool


@dataclass(frozen=True, slots=True)
class Relayed:
    """The message went to the thread of the customer's open alert in the staff chat."""

    alert_id: int


@dataclass(frozen=True, slots=True)
class Unrouted:
    """Nothing is asked and no alert is open: the customer gets the polite 'no survey' line."""


Outcome: TypeAlias = (
    Refused | ScoreSaved | FollowupSaved | LateComment | AskedAgain | Relayed | Unrouted
)
