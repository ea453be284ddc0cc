"""What crosses the storage boundary: the records callers pass in and get back, and their enums.

The bottom of storage: it imports only the pure core, so the Protocols (`base.py`) and every
backend (`sqlite/`) build on it without importing each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import NamedTuple

from survey_flows.models import Category, Invitation, Metric

# --- intake ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewEvent:
    event_id: str
    event_type: str
    survey: str
    customer_id: int | None  # the Telegram chat; None when only the shop's id is known
    customer_name: str | None
    customer_language: str | None
    context: dict[str, str]
    send_at: datetime
    fingerprint: str | None = None  # digest of the request body; a retry must match it
    external_id: str | None = None  # the shop's own id of the customer
    customer_username: str | None = None
    customer_timezone: str | None = None  # IANA name, for quiet hours


@dataclass(frozen=True, slots=True)
class AwaitingLink:
    """An event stored for a customer whose Telegram chat is not known yet."""

    event_id: str
    external_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ExternalCustomer:
    external_id: str
    telegram_id: int | None
    linked_at: datetime | None
    waiting: int  # events awaiting the link


class LinkOutcome(StrEnum):
    LINKED = "linked"  # the chat is now the customer's; what waited is due now
    ALREADY = "already"  # the same user opened the same link again: nothing changes
    INVALID = "invalid"  # unknown (forged), expired, or already used by someone else


@dataclass(frozen=True, slots=True)
class Redeemed:
    outcome: LinkOutcome
    released: int = 0  # invitations made from the events that waited
    language: str | None = None  # the linked customer's stored language


# --- the conversation and the outbox -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comment:
    text: str | None
    kind: str = "text"  # text, voice, photo, video_note
    file_id: str | None = None


@dataclass(frozen=True, slots=True)
class DueBatch:
    """One look at the outbox: due prompts (with the category of the score a follow-up is
    about, by invitation id) and due reminders."""

    prompts: list[Invitation] = field(default_factory=list)
    categories: dict[int, Category] = field(default_factory=dict)
    reminders: list[Invitation] = field(default_factory=list)


# --- customers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Erased:
    """What one erasure removed, counted per kind, and how many scores it kept."""

    telegram_id: int | None
    removed: dict[str, int] = field(default_factory=dict)
    scores_kept: int = 0


# --- alerts ------------------------------------------------------------------------------


class AlertState(StrEnum):
    """Where an alert stands with staff (the strings stored in `alerts.status`)."""

    OPEN = "open"  # nobody has taken it
    TAKEN = "taken"  # a staff member owns it
    RESOLVED = "resolved"  # closed; the customer may be asked whether it was solved


class Words(IntEnum):
    """Whose words a message of an alert's thread carries: an erasure blanks the customer's."""

    STAFF = 0  # the card, staff's replies, notes
    CUSTOMER_TEXT = 1  # a customer's message relayed as text
    CUSTOMER_MEDIA = 2  # a customer's voice note, photo or video, forwarded by its file id


class ReopenReason(StrEnum):
    """Why a resolved alert came back."""

    NOT_SOLVED = "not_solved"  # the customer said so at the re-check
    LOW_AGAIN = "low_again"  # another low answer of the same survey


@dataclass(frozen=True, slots=True)
class NewAlert:
    chat_id: int
    escalate_at: datetime


@dataclass(frozen=True, slots=True)
class LowAnswer:
    """Another low answer of the same survey, shown on the alert's card."""

    question_index: int
    metric: str
    score: int
    comment: str | None
    comment_kind: str | None


@dataclass(frozen=True, slots=True)
class AlertView:
    """Everything an alert card shows."""

    id: int
    status: AlertState
    chat_id: int
    message_id: int | None
    digest_message_id: int | None
    invitation_id: int
    customer_id: int
    customer_name: str | None
    customer_username: str | None
    customer_language: str | None
    survey: str
    event_type: str
    question_index: int
    metric: str
    score: int
    comment: str | None
    comment_kind: str | None
    comment_file_id: str | None
    context: dict[str, str]
    created_at: datetime
    owner_id: int | None
    owner_name: str | None
    taken_at: datetime | None
    resolved_by_name: str | None
    resolved_at: datetime | None
    escalated_at: datetime | None
    recheck_sent_at: datetime | None
    recheck_solved: bool | None
    delivery_note: str | None
    erased: bool = False  # the customer's data was erased: the card shows no one
    customer_opted_out: bool = False
    customer_unreachable: bool = False
    reopened_at: datetime | None = None
    reopen_reason: ReopenReason | None = None
    reason: str | None = None  # what staff picked when they resolved it
    more: tuple[LowAnswer, ...] = ()  # the survey's other low answers, on the same card

    @property
    def is_open(self) -> bool:
        return self.status is not AlertState.RESOLVED


@dataclass(frozen=True, slots=True)
class StaleDigest:
    chat_id: int
    message_id: int
    waiting: int
    alerts: list[AlertView]


@dataclass(frozen=True, slots=True)
class ReopenPost:
    alert: AlertView
    reason: ReopenReason


# --- analytics ---------------------------------------------------------------------------

Filters = Sequence[tuple[str, str]]  # (context key, value) pairs an answer's invitation has
Counts = dict[int, int]  # score -> how many


@dataclass(frozen=True, slots=True)
class Activity:
    invitations_sent: int  # delivered within the period
    invitations_answered: int  # of those, how many got at least one answer
    answers: int  # answers given within the period
    comments: int  # of those, how many carry a follow-up comment (text, voice, photo...)

    @property
    def response_rate(self) -> float | None:
        return self.invitations_answered / self.invitations_sent if self.invitations_sent else None

    @property
    def comment_rate(self) -> float | None:
        return self.comments / self.answers if self.answers else None


@dataclass(frozen=True, slots=True)
class RecentComment:
    answered_at: datetime
    metric: Metric
    score: int
    comment: str
    context: dict[str, str]


class ExportRow(NamedTuple):
    """One answer as exported. A named tuple: an export builds tens of thousands of them."""

    answered_at: str  # UTC, ISO 8601 to the second: 2026-03-02T09:00:25+00:00
    survey: str
    metric: str
    score: int
    category: str
    comment: str | None
    comment_kind: str | None
    customer_id: int
    invitation_id: int
    context: dict[str, str]


# --- imports and campaigns ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportedAnswer:
    key: str  # stable per row: the file's `id` column, or a digest of the row's content
    fingerprint: str  # digest of the row's content; the same key with another content conflicts
    metric: Metric
    score: int
    category: Category
    answered_at: datetime
    comment: str | None = None
    customer_id: int | None = None
    customer_name: str | None = None
    customer_username: str | None = None
    customer_language: str | None = None
    external_id: str | None = None
    context: dict[str, str] = field(default_factory=dict)


class Skip(StrEnum):
    """Why a customer of the audience is not invited (in the order they are checked)."""

    NO_CHAT = "no_telegram_chat"
    ALREADY_INVITED = "already_invited"
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"
    SURVEYED_RECENTLY = "surveyed_recently"


@dataclass(frozen=True, slots=True)
class AudienceQuery:
    since: datetime | None = None  # active: an invitation (not a campaign's) or answer since
    language: str | None = None
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CampaignRun:
    id: int
    campaign: str
    fire_time: datetime
    manual: bool
    claimed_at: datetime
    finished_at: datetime | None
    invited: int


@dataclass(frozen=True, slots=True)
class Selection:
    invite: list[int]  # telegram ids, ascending
    skipped: Counter[Skip] = field(default_factory=Counter)
