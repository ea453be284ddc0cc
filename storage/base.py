"""The repository interface the handlers and workers rely on: dataclasses in, dataclasses out."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

from storage.alerts import AlertView, NewAlert
from storage.erasure import Erased
from storage.outbox import DueBatch
from survey_flows.models import Answer, Customer, Invitation, InvitationStatus, Position


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
    external_id: str | None = None  # the shop's own id of the customer (storage/links.py)
    customer_username: str | None = None
    customer_timezone: str | None = None  # IANA name, for quiet hours


@dataclass(frozen=True, slots=True)
class Comment:
    text: str | None
    kind: str = "text"  # text, voice, photo, video_note
    file_id: str | None = None


# Customers known by the shop's id (storage/links.py).


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


class SurveyRepo(Protocol):
    def batch(self) -> AbstractAsyncContextManager[None]:
        """The calls made inside it share one transaction (each its own savepoint)."""
        ...

    async def is_staff_chat(self, chat_id: int, configured: int | None) -> bool:
        """The configured staff chat, or the supergroup it was upgraded to."""
        ...

    async def record_chat_migration(
        self, old_chat_id: int, new_chat_id: int, now: datetime
    ) -> None: ...

    async def create_invitation(self, event: NewEvent, now: datetime) -> tuple[Invitation, bool]:
        """The invitation and whether it is new; raises EventConflict on a reused event_id."""
        ...

    async def get_invitation(self, invitation_id: int) -> Invitation | None: ...

    async def due_prompts(
        self, now: datetime, limit: int, busy: Collection[int] = ()
    ) -> list[Invitation]: ...

    async def due_batch(
        self, now: datetime, limit: int, busy: Collection[int] = ()
    ) -> DueBatch: ...

    async def next_due_at(self, busy: Collection[int] = ()) -> datetime | None: ...

    async def claim_prompt(self, inv: Invitation, now: datetime) -> bool: ...

    async def mark_prompt_sent(
        self, inv: Invitation, message_id: int, remind_at: datetime | None = None
    ) -> None: ...

    async def postpone_prompt(self, inv: Invitation, due_at: datetime, note: str) -> None: ...

    # The one reminder (storage/outbox.py; due ones come with due_batch), sent by the delivery
    # worker.
    async def claim_reminder(self, invitation_id: int) -> bool: ...

    async def finish_reminder(self, invitation_id: int, sent: bool) -> None: ...

    async def reschedule_reminder(self, invitation_id: int, remind_at: datetime | None) -> None: ...

    async def customer_wrote(self, telegram_id: int) -> None:
        """No reminder for a customer who wrote to the bot since their question was shown."""
        ...

    async def release_prompt(self, inv: Invitation, due_at: datetime, error: str) -> None: ...

    async def settle_uncertain_prompts(self) -> list[int]: ...

    async def attempts(self, invitation_id: int) -> int: ...

    async def expire_invitations(self, sent_before: datetime, now: datetime, limit: int) -> int: ...

    async def stale_keyboards(self, limit: int) -> list[tuple[int, int, int]]: ...

    async def clear_stale_keyboard(self, invitation_id: int) -> None: ...

    async def close_invitation(
        self, invitation_id: int, status: InvitationStatus, note: str, now: datetime
    ) -> None: ...

    async def record_score(
        self,
        inv: Invitation,
        new_position: Position,
        answer: Answer,
        *,
        alert: NewAlert | None = None,
    ) -> bool: ...

    async def record_followup(
        self, inv: Invitation, new_position: Position, comment: Comment | None, now: datetime
    ) -> bool: ...

    async def awaiting_followup(self, customer_id: int) -> Invitation | None: ...

    async def answers_for(self, invitation_id: int) -> list[Answer]: ...

    async def get_customer(self, telegram_id: int) -> Customer | None: ...
    async def get_customers(self, telegram_ids: Collection[int]) -> dict[int, Customer]: ...

    async def touch_customer(
        self,
        telegram_id: int,
        now: datetime,
        *,
        name: str | None,
        username: str | None,
        language: str | None,
    ) -> Customer: ...

    async def last_invited_at(self, customer_id: int) -> datetime | None: ...

    async def opt_out(self, telegram_id: int, now: datetime) -> int: ...

    async def opt_in(self, telegram_id: int) -> bool: ...

    async def mark_unreachable(self, telegram_id: int, now: datetime) -> None: ...

    # Alerts (storage/alerts.py) used by the customer and staff handlers.
    async def get_alert(self, alert_id: int) -> AlertView | None: ...

    async def open_alerts(self, limit: int = 50) -> list[AlertView]: ...

    async def alert_of_message(self, chat_id: int, message_id: int) -> AlertView | None: ...

    async def take_alert(
        self, alert_id: int, actor_id: int, actor_name: str, now: datetime
    ) -> bool: ...

    async def resolve_alert(
        self,
        alert_id: int,
        actor_id: int,
        actor_name: str,
        now: datetime,
        recheck_at: datetime,
        reason: str | None = None,
    ) -> bool: ...

    async def request_alert_card(self, alert_id: int) -> bool: ...

    async def mark_dirty(self, alert_id: int, note: str | None = None) -> None: ...

    async def open_alert_of_customer(self, customer_id: int) -> AlertView | None: ...

    async def add_alert_message(
        self, chat_id: int, message_id: int, alert_id: int, customer_words: int = 0
    ) -> None: ...

    async def log_alert_action(
        self,
        alert_id: int,
        actor_id: int | None,
        actor_name: str | None,
        action: str,
        now: datetime,
    ) -> None: ...

    async def actions_of(self, alert_id: int) -> list[tuple[str, int | None, datetime]]: ...

    async def staff_chat_status(self) -> str:
        """`ok` or `unreachable: <reason>` (storage/staff_chat.py), for the health check."""
        ...

    async def record_recheck(
        self, alert_id: int, customer_id: int, solved: bool, now: datetime
    ) -> bool: ...

    # What a customer typed at a score question (handlers/customer.py on_message).
    async def awaiting_score(self, customer_id: int) -> Invitation | None: ...

    async def record_early_comment(self, inv: Invitation, comment: Comment) -> bool: ...

    async def record_late_comment(
        self, customer_id: int, typed_message_id: int, comment: Comment, now: datetime
    ) -> tuple[int, int] | None: ...

    async def move_prompt(self, inv: Invitation, message_id: int) -> None: ...

    # Erasure (storage/erasure.py): /forget and DELETE /api/v1/customers/<key>.
    async def erase_customer(
        self, now: datetime, *, telegram_id: int | None = None, external_id: str | None = None
    ) -> Erased | None: ...

    # Customers known by the shop's id (storage/links.py): intake, the API and handlers/links.py.
    async def create_for_external(
        self, event: NewEvent, now: datetime
    ) -> tuple[Invitation | AwaitingLink, bool]: ...

    async def external_customer(self, external_id: str) -> ExternalCustomer | None: ...

    async def add_link_token(
        self, external_id: str, token_hash: str, now: datetime, expires_at: datetime
    ) -> bool: ...

    async def redeem_link_token(
        self,
        token_hash: str,
        telegram_id: int,
        now: datetime,
        *,
        name: str | None,
        username: str | None,
        language: str | None,
    ) -> Redeemed: ...

    async def remember_profile(
        self,
        telegram_id: int,
        *,
        name: str | None,
        username: str | None,
        stored: Customer | Literal[False] | None = False,
    ) -> bool:
        """Fill in a known customer's Telegram name (where none is stored) and @username;
        `stored`: their row as just read, if the caller has it."""
        ...
