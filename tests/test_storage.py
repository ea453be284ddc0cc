"""The repositories on both backends: migrations, the outbox, answers, opt-out, reopen; and the
SQLite file itself (PRAGMAs, group commit)."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from storage.base import SurveyRepo
from storage.migrations import numbered
from storage.records import Comment, NewEvent
from storage.sqlite import SqliteRepo, open_sqlite
from survey_flows.errors import EventConflict
from survey_flows.models import (
    Answer,
    Category,
    Invitation,
    InvitationStatus,
    Metric,
    Phase,
    Position,
)
from survey_flows.scoring import category

from . import backends
from .conftest import OpenBackend

pytestmark = backends.BOTH

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CUSTOMER = 5001


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "bot.sqlite3"


@pytest.fixture
async def sqlite_repo(db_path: Path) -> AsyncIterator[SqliteRepo]:
    """For the tests about SQLite itself: a file in a folder that does not exist yet."""
    repo = await open_sqlite(db_path)
    yield repo
    await repo.close()


def event(
    event_id: str = "ev-1",
    *,
    customer: int = CUSTOMER,
    send_at: datetime = NOW + timedelta(hours=1),
    survey: str = "support",
    context: dict[str, str] | None = None,
) -> NewEvent:
    return NewEvent(
        event_id=event_id,
        event_type="ticket_closed",
        survey=survey,
        customer_id=customer,
        customer_name="Ann",
        customer_language="en",
        context={"order_id": "A-1", "agent": "bob"} if context is None else context,
        send_at=send_at,
    )


async def count(repo: SurveyRepo, table: str) -> int:
    return int(await backends.scalar(repo, f"SELECT count(*) FROM {table}"))


async def sent(repo: SurveyRepo, ev: NewEvent | None = None) -> Invitation:
    """An invitation whose first question has been delivered."""
    ev = ev or event()
    inv, _ = await repo.invitations.create_invitation(ev, NOW)
    assert await repo.outbox.claim_prompt(inv, ev.send_at)
    await repo.outbox.mark_prompt_sent(inv, 42)
    active = await repo.invitations.get_invitation(inv.id)
    assert active is not None
    return active


def score(inv: Invitation, value: int, metric: Metric = Metric.CES, at: datetime = NOW) -> Answer:
    return Answer(inv.id, inv.position.step, metric, value, Category.PROMOTER, at)


async def test_migrations_and_pragmas(sqlite_repo: SqliteRepo, db_path: Path) -> None:
    repo = sqlite_repo
    assert await asyncio.to_thread(db_path.exists), "db file not created on first start"
    latest = max(n for n, _ in numbered("storage.sqlite"))
    (version,) = await (await repo.database.connection.execute("PRAGMA user_version")).fetchone()
    assert version == latest, f"schema at version {version}, migrations go to {latest}"
    (mode,) = await (await repo.database.connection.execute("PRAGMA journal_mode")).fetchone()
    assert mode.lower() == "wal"
    (fk,) = await (await repo.database.connection.execute("PRAGMA foreign_keys")).fetchone()
    assert fk == 1


def test_migration_numbers_are_unique_and_consecutive() -> None:
    """Two files with one number: the second would be skipped on every new database."""
    numbers = [n for n, _ in numbered("storage.sqlite")]
    assert numbers == list(range(1, len(numbers) + 1)), numbers


async def test_reopen_keeps_data_and_does_not_rerun_migrations(open_backend: OpenBackend) -> None:
    repo = await open_backend()
    inv = await sent(repo)
    assert await repo.conversation.record_score(inv, Position(0, Phase.FOLLOWUP), score(inv, 6))
    await repo.close()

    reopened = await open_backend()
    try:
        again = await reopened.invitations.get_invitation(inv.id)
        assert again is not None, "a restart lost the invitation"
        assert again.position == Position(0, Phase.FOLLOWUP), (
            "after a restart the customer's place in the survey was lost"
        )
        assert [a.score for a in await reopened.conversation.answers_for(inv.id)] == [6]
        assert again.send_at == inv.send_at and again.send_at.tzinfo is not None
    finally:
        await reopened.close()


async def test_create_invitation_is_idempotent_on_event_id(repo: SurveyRepo) -> None:
    first, created = await repo.invitations.create_invitation(event(), NOW)
    assert created
    assert first.status is InvitationStatus.SCHEDULED
    assert first.position == Position(0, Phase.SCORE)
    assert first.send_at == NOW + timedelta(hours=1)
    assert first.context == {"order_id": "A-1", "agent": "bob"}
    again, created_again = await repo.invitations.create_invitation(
        event(send_at=NOW + timedelta(days=5)), NOW + timedelta(minutes=1)
    )
    assert not created_again, "a retried webhook would schedule a second survey"
    assert again == first
    assert await count(repo, "invitations") == 1
    assert await count(repo, "invitation_context") == 2


async def test_a_reused_event_id_is_a_replay_only_with_the_same_digest(repo: SurveyRepo) -> None:
    signed = replace(event(), fingerprint="digest-1")
    first, _ = await repo.invitations.create_invitation(signed, NOW)
    again, created = await repo.invitations.create_invitation(signed, NOW + timedelta(minutes=1))
    assert not created and again == first, "a retried webhook was not taken for a retry"
    with pytest.raises(EventConflict):
        await repo.invitations.create_invitation(replace(event(), fingerprint="digest-2"), NOW)
    # A stored row without a digest matches none: the same type and customer are not enough.
    plain, _ = await repo.invitations.create_invitation(event("ev-2"), NOW)
    with pytest.raises(EventConflict) as raised:
        await repo.invitations.create_invitation(replace(event("ev-2"), fingerprint="d-3"), NOW)
    assert raised.value.invitation_id == plain.id
    assert await count(repo, "invitations") == 2


async def test_context_rows_and_customer_are_stored(repo: SurveyRepo) -> None:
    inv, _ = await repo.invitations.create_invitation(
        event(context={"order_id": "A-9", "product": "Чай 🍵"}), NOW
    )
    rows = await backends.fetch(
        repo,
        "SELECT key, value FROM invitation_context WHERE invitation_id = ? ORDER BY key",
        (inv.id,),
    )
    assert [tuple(r.values()) for r in rows] == [("order_id", "A-9"), ("product", "Чай 🍵")]
    customer = await repo.customers.get_customer(CUSTOMER)
    assert customer is not None and (customer.name, customer.language) == ("Ann", "en")


async def test_due_prompts_and_next_due_at_honour_due_time(repo: SurveyRepo) -> None:
    assert await repo.outbox.next_due_at() is None
    assert await repo.outbox.due_prompts(NOW, 10) == []
    later, _ = await repo.invitations.create_invitation(
        event("late", send_at=NOW + timedelta(hours=2)), NOW
    )
    soon, _ = await repo.invitations.create_invitation(
        event("soon", send_at=NOW + timedelta(minutes=5)), NOW
    )
    assert await repo.outbox.next_due_at() == NOW + timedelta(minutes=5)
    assert await repo.outbox.due_prompts(NOW + timedelta(minutes=4), 10) == [], (
        "a survey went out early"
    )
    due = await repo.outbox.due_prompts(NOW + timedelta(minutes=5), 10)
    assert [i.id for i in due] == [soon.id]
    both = await repo.outbox.due_prompts(NOW + timedelta(hours=3), 10)
    assert [i.id for i in both] == [soon.id, later.id]
    assert len(await repo.outbox.due_prompts(NOW + timedelta(hours=3), 1)) == 1

    assert await repo.outbox.claim_prompt(soon, NOW + timedelta(minutes=5))
    await repo.outbox.release_prompt(soon, NOW + timedelta(hours=5), "network: boom")
    assert await repo.outbox.attempts(soon.id) == 1
    assert await repo.outbox.next_due_at() == NOW + timedelta(hours=2)


async def test_mark_prompt_sent_activates_and_records_last_invited(repo: SurveyRepo) -> None:
    inv, _ = await repo.invitations.create_invitation(event(), NOW)
    assert await repo.customers.last_invited_at(CUSTOMER) is None
    at = NOW + timedelta(hours=1, seconds=1)
    assert await repo.outbox.claim_prompt(inv, at)
    assert not await repo.outbox.claim_prompt(inv, at), (
        "one prompt claimed twice: it would be sent twice"
    )
    await repo.outbox.mark_prompt_sent(inv, 77)
    active = await repo.invitations.get_invitation(inv.id)
    assert active is not None
    assert active.status is InvitationStatus.ACTIVE
    assert active.prompt_sent and active.message_id == 77 and active.sent_at == at
    assert await repo.customers.last_invited_at(CUSTOMER) == at
    assert await repo.outbox.due_prompts(at + timedelta(days=1), 10) == [], (
        "the question would be resent"
    )
    assert await repo.outbox.next_due_at() is None


async def test_record_score_is_conditional(repo: SurveyRepo) -> None:
    inv = await sent(repo)
    at = NOW + timedelta(hours=1, minutes=1)
    assert await repo.conversation.record_score(
        inv, Position(0, Phase.FOLLOWUP), score(inv, 7, at=at)
    )
    stale_again = await repo.conversation.record_score(
        inv, Position(0, Phase.FOLLOWUP), score(inv, 1, at=at)
    )
    assert not stale_again, "a second press of the same keyboard was accepted"
    answers = await repo.conversation.answers_for(inv.id)
    assert [(a.score, a.metric) for a in answers] == [(7, Metric.CES)], (
        f"a double press stored {len(answers)} answers"
    )
    after = await repo.invitations.get_invitation(inv.id)
    assert after is not None and after.position == Position(0, Phase.FOLLOWUP)
    assert [i.id for i in await repo.outbox.due_prompts(at, 10)] == [inv.id], "follow-up not queued"
    assert (await repo.conversation.awaiting(CUSTOMER, Phase.FOLLOWUP)).id == inv.id
    batch = await repo.outbox.due_batch(
        at, 10
    )  # the worker's one read: the same, with the category
    assert [i.id for i in batch.prompts] == [inv.id] and batch.reminders == []
    assert batch.categories == {inv.id: category(Metric.CES, 7)}, "follow-up for the wrong mood"
    assert (await repo.outbox.due_batch(at, 10, busy={CUSTOMER})).prompts == []


async def test_record_score_refused_when_not_active(repo: SurveyRepo) -> None:
    inv, _ = await repo.invitations.create_invitation(event(), NOW)  # scheduled, never sent
    assert not await repo.conversation.record_score(inv, Position(0, Phase.FOLLOWUP), score(inv, 5))
    assert await count(repo, "answers") == 0


async def test_followup_moves_to_next_question_then_completes(repo: SurveyRepo) -> None:
    inv = await sent(repo)
    assert await repo.conversation.record_score(inv, Position(0, Phase.FOLLOWUP), score(inv, 3))
    inv = await repo.invitations.get_invitation(inv.id)
    assert await repo.conversation.record_followup(
        inv, Position(1, Phase.SCORE), Comment("slow reply"), NOW
    )
    assert not await repo.conversation.record_followup(
        inv, Position(1, Phase.SCORE), Comment("again"), NOW
    ), "the same follow-up was accepted twice"
    inv = await repo.invitations.get_invitation(inv.id)
    assert inv.status is InvitationStatus.ACTIVE and inv.position == Position(1, Phase.SCORE)
    assert await repo.conversation.awaiting(CUSTOMER, Phase.FOLLOWUP) is None

    assert await repo.conversation.record_score(
        inv, Position(1, Phase.FOLLOWUP), score(inv, 5, Metric.CSAT)
    )
    inv = await repo.invitations.get_invitation(inv.id)
    done_at = NOW + timedelta(minutes=3)
    assert await repo.conversation.record_followup(
        inv, Position(1, Phase.DONE), None, done_at
    )  # skipped
    inv = await repo.invitations.get_invitation(inv.id)
    assert inv.status is InvitationStatus.COMPLETED and inv.finished_at == done_at
    answers = await repo.conversation.answers_for(inv.id)
    assert [(a.question_index, a.score, a.comment) for a in answers] == [
        (0, 3, "slow reply"),
        (1, 5, None),
    ], "the customer's comment was lost or attached to the wrong question"
    assert [i.id for i in await repo.outbox.due_prompts(done_at, 10)] == [inv.id], (
        "no thank-you queued"
    )


async def test_opt_out_cancels_scheduled_and_active(repo: SurveyRepo) -> None:
    active = await sent(repo, event("a"))
    scheduled, _ = await repo.invitations.create_invitation(event("s"), NOW)
    other, _ = await repo.invitations.create_invitation(event("o", customer=CUSTOMER + 1), NOW)
    assert await repo.customers.opt_out(CUSTOMER, NOW) == 2
    for inv in (active, scheduled):
        after = await repo.invitations.get_invitation(inv.id)
        assert after.status is InvitationStatus.CANCELLED, "/stop left a survey going"
    assert (await repo.invitations.get_invitation(other.id)).status is InvitationStatus.SCHEDULED
    assert (await repo.customers.get_customer(CUSTOMER)).opted_out_at == NOW
    assert [i.id for i in await repo.outbox.due_prompts(NOW + timedelta(days=1), 10)] == [other.id]
    assert not await repo.conversation.record_score(
        active, Position(0, Phase.FOLLOWUP), score(active, 5)
    )
    assert await repo.customers.opt_in(CUSTOMER)
    assert (await repo.customers.get_customer(CUSTOMER)).opted_out_at is None


async def test_opt_out_of_unknown_customer_is_remembered(repo: SurveyRepo) -> None:
    assert await repo.customers.opt_out(999, NOW) == 0
    assert (await repo.customers.get_customer(999)).opted_out_at == NOW


async def test_mark_unreachable_fails_pending(repo: SurveyRepo) -> None:
    active = await sent(repo, event("a"))
    scheduled, _ = await repo.invitations.create_invitation(event("s"), NOW)
    await repo.customers.mark_unreachable(CUSTOMER, NOW)
    for inv in (active, scheduled):
        assert (await repo.invitations.get_invitation(inv.id)).status is InvitationStatus.FAILED
    assert (await repo.customers.get_customer(CUSTOMER)).unreachable_at == NOW
    assert await repo.outbox.due_prompts(NOW + timedelta(days=1), 10) == [], (
        "sends to a blocked customer"
    )
    customer = await repo.customers.touch_customer(
        CUSTOMER, NOW, name=None, username="ann", language="ru"
    )
    assert customer.unreachable_at is None, "a customer who wrote again stays unreachable"
    assert customer.language == "en" and customer.username == "ann"


async def test_close_invitation(repo: SurveyRepo) -> None:
    inv, _ = await repo.invitations.create_invitation(event(), NOW)
    await repo.outbox.close_invitation(inv.id, InvitationStatus.EXPIRED, "too_late", NOW)
    closed = await repo.invitations.get_invitation(inv.id)
    assert closed.status is InvitationStatus.EXPIRED and closed.note == "too_late"
    assert await repo.outbox.due_prompts(NOW + timedelta(days=1), 10) == []


async def test_answers_survive_a_second_connection(
    repo: SurveyRepo, open_backend: OpenBackend
) -> None:
    inv = await sent(repo)
    assert await repo.conversation.record_score(inv, Position(0, Phase.FOLLOWUP), score(inv, 4))
    other = await open_backend()  # another process on the same database
    try:
        rows = await backends.fetch(other, "SELECT score, survey, customer_id FROM answers")
    finally:
        await other.close()
    assert [tuple(r.values()) for r in rows] == [(4, "support", CUSTOMER)], (
        "an acknowledged answer was not committed"
    )


async def test_prompt_interrupted_by_a_crash_is_sent_again(open_backend: OpenBackend) -> None:
    # At-least-once (was: counted as shown and never resent, which could lose the question).
    repo = await open_backend()
    inv, _ = await repo.invitations.create_invitation(event(), NOW)
    assert await repo.outbox.claim_prompt(inv, NOW + timedelta(hours=1))
    await repo.close()  # the process dies here, mid-send
    restarted = await open_backend()
    try:
        assert await restarted.outbox.settle_uncertain_prompts() == [inv.id]
        due = await restarted.outbox.due_prompts(NOW + timedelta(hours=1), 10)
        assert [i.id for i in due] == [inv.id], "the question in flight at the crash would be lost"
        assert await restarted.outbox.settle_uncertain_prompts() == []
    finally:
        await restarted.close()


async def test_a_press_faster_than_the_send_record_keeps_the_followup_due(repo: SurveyRepo) -> None:
    inv, _ = await repo.invitations.create_invitation(event(), NOW)
    at = NOW + timedelta(hours=1)
    assert await repo.outbox.claim_prompt(inv, at)
    claimed = await repo.invitations.get_invitation(inv.id)
    assert claimed is not None and claimed.status is InvitationStatus.ACTIVE
    assert await repo.conversation.record_score(
        claimed, Position(0, Phase.FOLLOWUP), score(claimed, 7, at=at)
    )
    await repo.outbox.mark_prompt_sent(claimed, 42)  # the send of the question is recorded late
    due = await repo.outbox.due_prompts(at, 10)
    assert [(i.id, i.position.phase) for i in due] == [(inv.id, Phase.FOLLOWUP)], (
        "the follow-up question would never be shown"
    )


async def test_words_before_a_score_become_that_answers_comment(repo: SurveyRepo) -> None:
    inv = await sent(repo)
    assert await repo.conversation.awaiting(CUSTOMER, Phase.SCORE) == inv
    assert await repo.conversation.record_early_comment(inv, Comment("took 3 days"))
    assert await repo.conversation.record_early_comment(
        inv, Comment("see photo", "photo", "file-1")
    )
    await repo.conversation.move_prompt(inv, 43)
    moved = await repo.invitations.get_invitation(inv.id)
    assert moved is not None and moved.message_id == 43
    assert await repo.conversation.record_score(moved, Position(0, Phase.FOLLOWUP), score(moved, 2))
    (answer,) = await repo.conversation.answers_for(inv.id)
    assert answer.comment == "took 3 days\nsee photo", "a message typed before the score was lost"
    (kinds,) = await backends.fetch(repo, "SELECT comment_kind, comment_file_id FROM answers")
    assert tuple(kinds.values()) == ("photo", "file-1")
    # The next question starts with no comment; a stale question takes none.
    assert not await repo.conversation.record_early_comment(moved, Comment("late"))
    after = await repo.invitations.get_invitation(inv.id)
    assert after is not None
    assert await repo.conversation.record_followup(
        after, Position(1, Phase.SCORE), Comment("rude"), NOW
    )
    (answer,) = await repo.conversation.answers_for(inv.id)
    assert answer.comment == "took 3 days\nsee photo\nrude"


async def test_concurrent_writes_are_each_committed_before_they_return(
    sqlite_repo: SqliteRepo, db_path: Path
) -> None:
    """Group commit: many events at once share commits, yet every one that was acknowledged is
    already in the file for another process to read, and a failing one undoes only itself."""
    seen_by_others: list[str] = []

    async def post(i: int) -> None:
        ev = event(f"ev-{i}", customer=5000 + i)
        await repo.invitations.create_invitation(ev, NOW)
        # Acknowledged: another connection (another process) must see it now.
        async with aiosqlite.connect(db_path) as other:
            cursor = await other.execute(
                "SELECT event_id FROM invitations WHERE event_id = ?", (ev.event_id,)
            )
            row = await cursor.fetchone()
        if row is not None:
            seen_by_others.append(row[0])

    async def broken() -> None:
        async with repo.database.transaction() as db:
            await db.execute(
                "INSERT INTO customers (telegram_id, created_at) VALUES (777, '2024-05-01')"
            )
            raise RuntimeError("a conflict halfway through")

    repo = sqlite_repo
    results = await asyncio.gather(
        *(post(i) for i in range(40)), broken(), *(post(i) for i in range(40, 60)),
        return_exceptions=True,
    )  # fmt: skip
    assert [r for r in results if r is not None] and all(
        isinstance(r, RuntimeError) for r in results if r is not None
    )
    assert sorted(seen_by_others) == sorted(f"ev-{i}" for i in range(60))
    assert await count(repo, "invitations") == 60
    cursor = await repo.database.connection.execute(
        "SELECT count(*) FROM customers WHERE telegram_id = 777"
    )
    assert (await cursor.fetchone())[0] == 0, "the failed transaction's write was kept"


async def test_a_failing_transaction_alone_in_its_commit_undoes_only_itself(
    sqlite_repo: SqliteRepo,
) -> None:
    """The first transaction of a commit group has no savepoint of its own: its failure must
    still undo its writes, and the next one starts a clean group."""

    async def broken() -> None:
        async with repo.database.transaction() as db:
            await db.execute(
                "INSERT INTO customers (telegram_id, created_at) VALUES (778, '2024-05-01')"
            )
            raise RuntimeError("a conflict halfway through")

    repo = sqlite_repo
    with pytest.raises(RuntimeError):
        await broken()
    await repo.invitations.create_invitation(event("ev-after", customer=779), NOW)
    assert await count(repo, "invitations") == 1
    cursor = await repo.database.connection.execute(
        "SELECT count(*) FROM customers WHERE telegram_id IN (778, 779)"
    )
    assert (await cursor.fetchone())[0] == 1, "the failed transaction's write was kept"
