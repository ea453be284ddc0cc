"""What handlers and workers rely on: a narrow Protocol per aggregate, and the facade of them.

Records in, records out (`storage.records`); every method is one transaction. A backend
(`storage.sqlite`, `storage.postgres`) implements them; callers type against these.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from survey_flows.models import (
    Answer,
    Customer,
    Invitation,
    InvitationStatus,
    Metric,
    Phase,
    Position,
)

from .cluster import ClusterRepo
from .records import (
    Activity,
    AlertView,
    AudienceQuery,
    AwaitingLink,
    CampaignRun,
    Comment,
    Counts,
    DueBatch,
    Erased,
    ExportRow,
    ExternalCustomer,
    Filters,
    ImportedAnswer,
    NewAlert,
    NewEvent,
    RecentComment,
    Redeemed,
    ReopenPost,
    Selection,
    StaleDigest,
    Words,
)


class InvitationRepo(Protocol):
    """Intake: an event's invitation, stored once; the same event_id with another body raises
    EventConflict. Every creation obeys `[throttle] recontact` (suppressed if it breaks it)."""

    async def create_invitation(
        self, event: NewEvent, now: datetime
    ) -> tuple[Invitation, bool]: ...

    async def create_for_external(
        self, event: NewEvent, now: datetime
    ) -> tuple[Invitation | AwaitingLink, bool]:
        """For the shop's id alone: the linked chat's invitation, else a row awaiting a link."""
        ...

    async def get_invitation(self, invitation_id: int) -> Invitation | None: ...


class LinkRepo(Protocol):
    """Customers known by the shop's id, and the deep links that tie them to a chat."""

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


class ConversationRepo(Protocol):
    """Scores, follow-ups and comments; each moves on only from where the caller read it."""

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

    async def awaiting(self, customer_id: int, phase: Phase) -> Invitation | None:
        """The newest active survey at `phase` (SCORE: its question is on screen)."""
        ...

    async def answers_for(self, invitation_id: int) -> list[Answer]: ...

    async def record_early_comment(self, inv: Invitation, comment: Comment) -> bool: ...

    async def record_late_comment(
        self, customer_id: int, typed_message_id: int, comment: Comment, now: datetime
    ) -> tuple[int, int] | None: ...

    async def move_prompt(self, inv: Invitation, message_id: int) -> None: ...


class OutboxRepo(Protocol):
    """The delivery worker's outbox: each prompt and reminder claimed, then shown or released."""

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

    async def release_prompt(self, inv: Invitation, due_at: datetime, error: str) -> None: ...

    async def settle_uncertain_prompts(self) -> list[int]: ...

    async def attempts(self, invitation_id: int) -> int: ...

    async def close_invitation(
        self, invitation_id: int, status: InvitationStatus, note: str, now: datetime
    ) -> None: ...

    async def claim_reminder(self, invitation_id: int) -> bool: ...

    async def finish_reminder(self, invitation_id: int, sent: bool) -> None: ...

    async def reschedule_reminder(self, invitation_id: int, remind_at: datetime | None) -> None: ...

    async def customer_wrote(self, telegram_id: int) -> None:
        """No reminder for a customer who wrote to the bot since their question was shown."""
        ...


class ExpiryRepo(Protocol):
    """Surveys not answered in time: closed, then their buttons taken off."""

    async def expire_invitations(self, sent_before: datetime, now: datetime, limit: int) -> int: ...

    async def stale_keyboards(self, limit: int) -> list[tuple[int, int, int]]: ...

    async def clear_stale_keyboard(self, invitation_id: int) -> None: ...


class CustomerRepo(Protocol):
    """The people surveyed: profiles, opt-out, reachability, erasure."""

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

    async def last_invited_at(self, customer_id: int) -> datetime | None: ...

    async def opt_out(self, telegram_id: int, now: datetime) -> int: ...

    async def opt_in(self, telegram_id: int) -> bool: ...

    async def mark_unreachable(self, telegram_id: int, now: datetime) -> None: ...

    async def erase_customer(
        self, now: datetime, *, telegram_id: int | None = None, external_id: str | None = None
    ) -> Erased | None: ...


class AlertRepo(Protocol):
    """Alerts as staff and customers meet them: cards, threads, taking, resolving, re-check."""

    async def get_alert(self, alert_id: int) -> AlertView | None: ...

    async def open_alerts(self, limit: int = 50) -> list[AlertView]: ...

    async def alert_of_message(self, chat_id: int, message_id: int) -> AlertView | None: ...

    async def open_alert_of_customer(self, customer_id: int) -> AlertView | None: ...

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

    async def record_recheck(
        self, alert_id: int, customer_id: int, solved: bool, now: datetime
    ) -> bool: ...

    async def request_alert_card(self, alert_id: int) -> bool: ...

    async def mark_dirty(self, alert_id: int, note: str | None = None) -> None: ...

    async def add_alert_message(
        self, chat_id: int, message_id: int, alert_id: int, words: Words = Words.STAFF
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


class AlertPostRepo(Protocol):
    """The alert worker's outbox: cards and digests to post or draw again, reopen lines, and
    erased customers' words to blank out."""

    async def claim_alerts_to_post(self, limit: int) -> list[AlertView]: ...

    async def count_alerts_to_post(self) -> int: ...

    async def mark_alert_posted(self, alert_id: int, chat_id: int, message_id: int) -> None: ...

    async def mark_alerts_digested(
        self, alert_ids: list[int], message_id: int, chat_id: int = 0, waiting: int = 0
    ) -> None: ...

    async def release_alert_posts(self, alert_ids: list[int]) -> None: ...

    async def settle_uncertain_alert_posts(self) -> int: ...

    async def dirty_alerts(self, limit: int) -> list[AlertView]: ...

    async def clear_dirty(self, alert_id: int) -> None: ...

    async def stale_digests(self, limit: int = 10) -> list[StaleDigest]: ...

    async def digest_drawn(self, message_id: int) -> None: ...

    async def due_reopen_posts(self, limit: int = 20) -> list[ReopenPost]: ...

    async def mark_reopen_posted(self, alert_id: int) -> None: ...

    async def messages_to_redact(self, limit: int) -> list[tuple[int, int, int]]: ...

    async def mark_redacted(self, chat_id: int, message_id: int) -> None: ...


class AlertTimerRepo(Protocol):
    """Escalations of alerts nobody took, and the re-check question after Resolved."""

    async def due_escalations(self, now: datetime) -> list[AlertView]: ...

    async def mark_escalated(self, alert_id: int, now: datetime) -> bool: ...

    async def unmark_escalated(self, alert_id: int) -> None: ...

    async def due_rechecks(self, now: datetime) -> list[AlertView]: ...

    async def mark_recheck_sent(self, alert_id: int, now: datetime) -> bool: ...

    async def next_alert_due(self) -> datetime | None: ...


class StaffChatRepo(Protocol):
    """The staff chat's id after an upgrade to a supergroup, and whether it was reachable."""

    async def effective_chat(self, chat_id: int) -> int: ...

    async def is_staff_chat(self, chat_id: int, configured: int | None) -> bool:
        """The configured staff chat, or the supergroup it was upgraded to."""
        ...

    async def record_chat_migration(
        self, old_chat_id: int, new_chat_id: int, now: datetime
    ) -> None: ...

    async def set_staff_chat_status(self, status: str) -> None: ...

    async def staff_chat_status(self) -> str:
        """`ok` or `unreachable: <reason>`, for the health check."""
        ...


class AnalyticsRepo(Protocol):
    """The read side: score distributions, activity, comments, the export, alert figures."""

    async def distributions(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> dict[Metric, Counts]: ...

    async def distribution(
        self, metric: Metric, start: datetime, end: datetime, filters: Filters = ()
    ) -> Counts: ...

    async def first_answer(
        self,
        start: datetime,
        end: datetime,
        filters: Filters = (),
        metrics: Sequence[Metric] = tuple(Metric),
    ) -> datetime | None: ...

    async def bucketed(
        self, metrics: Sequence[Metric], edges: Sequence[datetime], filters: Filters = ()
    ) -> dict[Metric, list[Counts]]: ...

    async def by_segment(
        self, metric: Metric, field: str, start: datetime, end: datetime, filters: Filters = ()
    ) -> dict[str | None, Counts]: ...

    async def activity(self, start: datetime, end: datetime, filters: Filters = ()) -> Activity: ...

    async def comments(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> list[tuple[str, str, str | None]]: ...

    async def recent_comments(
        self, start: datetime, end: datetime, filters: Filters = (), limit: int = 5
    ) -> list[RecentComment]: ...

    async def context_keys(
        self, start: datetime, end: datetime, filters: Filters = ()
    ) -> list[str]: ...

    async def context_values(
        self, key: str, start: datetime, end: datetime, limit: int = 10
    ) -> list[str]: ...

    def export_pages(
        self, start: datetime, end: datetime, filters: Filters = (), page: int = ...
    ) -> AsyncIterator[list[ExportRow]]: ...

    async def alert_figures(self, since: datetime, until: datetime) -> dict[str, Any]: ...

    async def reason_counts(self, since: datetime, until: datetime) -> dict[str, int]: ...

    async def reasons_bucketed(self, edges: list[datetime]) -> list[dict[str, int]]: ...


class ReportRunRepo(Protocol):
    """Which scheduled report run reached which chat: each is sent once."""

    async def last_report_end(self, job: str, before: datetime) -> datetime | None: ...

    async def claim_report(
        self,
        job: str,
        fire_time: datetime,
        chat_id: int,
        start: datetime,
        end: datetime,
        now: datetime,
    ) -> bool: ...

    async def mark_report_sent(
        self, job: str, fire_time: datetime, chat_id: int, now: datetime
    ) -> None: ...

    async def report_sent(self, job: str, fire_time: datetime) -> bool: ...


class CampaignRepo(Protocol):
    """Campaign runs, who of an audience to invite, and the invitations of a run."""

    async def claim_run(
        self, campaign: str, fire_time: datetime, now: datetime, *, manual: bool = False
    ) -> CampaignRun: ...

    async def unfinished_runs(self, campaign: str | None = None) -> list[CampaignRun]: ...

    async def runs(self, campaign: str) -> list[CampaignRun]: ...

    async def finish_run(self, run_id: int, now: datetime) -> None: ...

    async def select(
        self,
        query: AudienceQuery,
        now: datetime,
        *,
        recontact: timedelta,
        campaign: str,
        run_id: int | None,
    ) -> Selection: ...

    async def invite(
        self,
        run: CampaignRun,
        survey: str,
        customers: Sequence[tuple[int, datetime]],
        now: datetime,
        *,
        recontact: timedelta,
    ) -> int: ...


class ImportRepo(Protocol):
    """Answers imported from another tool: history that counts but never alerts."""

    async def import_answer(self, answer: ImportedAnswer, now: datetime) -> bool: ...


class SurveyRepo(Protocol):
    """The storage the app opens once and hands around as `repo`: one repository per aggregate.

    `batch()`: the calls made inside it share one transaction (each its own savepoint)."""

    @property
    def invitations(self) -> InvitationRepo: ...
    @property
    def links(self) -> LinkRepo: ...
    @property
    def conversation(self) -> ConversationRepo: ...
    @property
    def outbox(self) -> OutboxRepo: ...
    @property
    def expiry(self) -> ExpiryRepo: ...
    @property
    def customers(self) -> CustomerRepo: ...
    @property
    def alerts(self) -> AlertRepo: ...
    @property
    def alert_posts(self) -> AlertPostRepo: ...
    @property
    def alert_timers(self) -> AlertTimerRepo: ...
    @property
    def staff_chat(self) -> StaffChatRepo: ...
    @property
    def analytics(self) -> AnalyticsRepo: ...
    @property
    def report_runs(self) -> ReportRunRepo: ...
    @property
    def campaigns(self) -> CampaignRepo: ...
    @property
    def imports(self) -> ImportRepo: ...
    @property
    def cluster(self) -> ClusterRepo: ...

    def batch(self) -> AbstractAsyncContextManager[None]: ...

    async def close(self) -> None: ...
