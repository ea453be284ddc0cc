"""The customers' outbox, as in storage/sqlite/outbox.py, shared by several processes.

What differs: a look at the outbox (`due_batch`) claims the rows it returns for this process
(`claimed_by` = the holder id of storage/postgres/database.py) with `FOR UPDATE SKIP LOCKED`, so
two processes never get the same prompt and neither waits for the other. A claim is a
reservation while the prompt is due, and the send's lease once `claim_prompt` made it SENDING;
the calls that finish or give back a prompt or reminder clear it. A reservation is free again
after `_RESERVATION_SECONDS`, a send when its holder's session is gone (`cluster.DEAD_HOLDER`)
or after `cluster.LEASE_SECONDS` (`settle_uncertain_prompts`). Claims are timed on the database
server's clock, the one every process shares (a process's clock is injected, and may be a
test's), which is why no method here needs a `now` for them.

One customer's messages go one at a time across processes: a customer with a prompt or reminder
being sent by anyone, or due rows held by another live process, is left out of everyone else's
batch, and a claim refuses while another process sends to the same customer (claims of one
customer take that customer's advisory lock, so two cannot both pass that check).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import asyncpg

from survey_flows.models import Category, Invitation, InvitationStatus

from ..records import DueBatch
from ..row_records import INVITATION_COLUMNS, invitation_of
from ..states import Prompt, Reminder
from ..timestamps import from_db, to_db
from .cluster import DEAD_HOLDER, LEASE_SECONDS
from .database import Database, changed

# A due row reserved by a live process that has not started sending it for this long is
# anyone's again (that process may be stuck before its claim, or have reserved more than it
# sends): the reservation is a hint against duplicate work, never a hold for ever.
_RESERVATION_SECONDS = 60


def _server_time(seconds_ago: int = 0) -> str:
    """SQL for the server's clock, `seconds_ago` back, in the text form to_db writes."""
    at = f"now() - interval '{seconds_ago} seconds'" if seconds_ago else "now()"
    return f"""to_char(({at}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


def _dead(row: str) -> str:
    return f"({DEAD_HOLDER.format(column=f'{row}.claimed_by')})"


# In every statement below, $1 is this process's holder id.
_NOW = _server_time()
_CLAIM = f"claimed_by = $1, claimed_at = {_NOW}"
_UNCLAIM = "claimed_by = NULL, claimed_at = NULL"


def _claimable(row: str) -> str:
    """This process may take `row`: unclaimed, its own, its holder dead, or a reservation gone
    stale. Checked on the row itself, so a claim another process committed since this
    statement's snapshot is seen when the row is locked (PostgreSQL re-reads a locked row)."""
    return (
        f"({row}.claimed_by = $1 OR {_dead(row)}"
        f" OR {row}.claimed_at < {_server_time(_RESERVATION_SECONDS)})"
    )


def _customer_free(row: str) -> str:
    """Nothing of `row`'s customer is being sent (by anyone, a dead process's send included
    until it is settled), nor held by another live process: their messages stay in order."""
    return (
        f"NOT EXISTS (SELECT 1 FROM invitations s WHERE s.customer_id = {row}.customer_id"
        f" AND (s.prompt_sent = {Prompt.SENDING} OR s.reminder_sent = {Reminder.SENDING}"
        f" OR (s.claimed_by <> $1 AND s.claimed_at >= {_server_time(_RESERVATION_SECONDS)}"
        f" AND NOT {_dead('s')})))"
    )


def _sent_elsewhere(row: str) -> str:
    """Another of `row`'s customer's invitations is being sent by someone else."""
    return (
        f"EXISTS (SELECT 1 FROM invitations s WHERE s.customer_id = {row}.customer_id"
        f" AND s.id <> {row}.id AND s.claimed_by IS DISTINCT FROM $1"
        f" AND (s.prompt_sent = {Prompt.SENDING} OR s.reminder_sent = {Reminder.SENDING}))"
    )


# As on SQLite; both the batch and next_due_at must agree on it (columns of the row at hand).
_REMINDER_DUE = (
    f"remind_at IS NOT NULL AND reminder_sent = {Reminder.WAITING} AND status = 'active'"
    f" AND step = 0 AND phase = 'score' AND prompt_sent = {Prompt.SHOWN}"
    " AND message_id IS NOT NULL"
)
_PROMPT_DUE = f"prompt_sent = {Prompt.DUE} AND status IN ('scheduled', 'active', 'completed')"
# An earlier pending prompt of the same customer that another live process holds ($1: the
# invitation, $2: this process). Two processes picking at once each skip the rows the other has
# locked (SKIP LOCKED), so one may be handed a customer's second survey while the other holds
# the first: claim_prompt then leaves it until the first is shown.
_EARLIER_HELD = (
    "SELECT o.id FROM invitations o, invitations c WHERE c.id = $1"
    " AND o.customer_id = c.customer_id AND o.id <> c.id"
    f" AND o.prompt_sent IN ({Prompt.DUE}, {Prompt.SENDING})"
    " AND o.status IN ('scheduled', 'active', 'completed') AND (o.due_at, o.id) < (c.due_at, c.id)"
    f" AND o.claimed_by IS NOT NULL AND o.claimed_by <> $2 AND NOT {_dead('o')}"
    " FOR SHARE OF o"
)
# Due to a customer not in `busy` ($2) and takeable by this process now ($1).
_OURS = f"customer_id <> ALL($2::bigint[]) AND {_claimable('c')} AND {_customer_free('c')}"


def _columns(alias: str) -> str:
    return ", ".join(f"{alias}.{name.strip()}" for name in INVITATION_COLUMNS.split(","))


# The claims of a batch ($3: now, $4: limit), each returned with what the worker needs. The rows
# are picked once, in a MATERIALIZED CTE: as `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR
# UPDATE SKIP LOCKED)` PostgreSQL may run the subquery again per updated row and claim over n.
_PICK_PROMPTS = (
    "picked_prompts AS MATERIALIZED (SELECT c.id FROM invitations c"
    f" WHERE {_PROMPT_DUE} AND due_at <= $3 AND {_OURS}"
    " ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)"
)
_CLAIM_PROMPTS = (
    f"prompts AS (UPDATE invitations i SET {_CLAIM} FROM picked_prompts p WHERE i.id = p.id"
    " RETURNING 0 AS kind, i.due_at AS at, (SELECT x.category FROM answers x"
    " WHERE x.invitation_id = i.id AND x.question_index = i.step AND i.phase = 'followup')"
    f" AS category, {_columns('i')})"
)
_PICK_REMINDERS = (
    "picked_reminders AS MATERIALIZED (SELECT c.id FROM invitations c"
    f" WHERE {_REMINDER_DUE} AND remind_at <= $3 AND {_OURS}"
    " ORDER BY remind_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)"
)
_CLAIM_REMINDERS = (
    f"reminders AS (UPDATE invitations i SET {_CLAIM} FROM picked_reminders p WHERE i.id = p.id"
    f" RETURNING 1 AS kind, i.remind_at AS at, NULL::text AS category, {_columns('i')})"
)


class Outbox:
    """What the delivery workers of every process send each customer next."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def due_prompts(
        self, now: datetime, limit: int, busy: Collection[int] = ()
    ) -> list[Invitation]:
        """Due prompts, claimed for this process (as due_batch, reminders left alone)."""
        return (await self._claim(now, limit, busy, reminders=False)).prompts

    async def due_batch(self, now: datetime, limit: int, busy: Collection[int] = ()) -> DueBatch:
        """As on SQLite, in one statement; every row returned is claimed for this process."""
        return await self._claim(now, limit, busy, reminders=True)

    async def _claim(
        self, now: datetime, limit: int, busy: Collection[int], *, reminders: bool
    ) -> DueBatch:
        sql = f"WITH {_PICK_PROMPTS}, {_CLAIM_PROMPTS} SELECT * FROM prompts"
        if reminders:
            sql = (
                f"WITH {_PICK_PROMPTS}, {_CLAIM_PROMPTS}, {_PICK_REMINDERS}, {_CLAIM_REMINDERS}"
                " SELECT * FROM prompts UNION ALL SELECT * FROM reminders"
            )
        async with self._db.transaction() as conn:
            rows = await conn.fetch(
                f"{sql} ORDER BY kind, at, id", self._db.holder, sorted(busy), to_db(now), limit
            )
        batch = DueBatch()
        for row in rows:
            inv = invitation_of(row)
            if row["kind"]:
                batch.reminders.append(inv)
                continue
            batch.prompts.append(inv)
            if row["category"] is not None:
                batch.categories[inv.id] = Category(row["category"])
        return batch

    async def next_due_at(self, busy: Collection[int] = ()) -> datetime | None:
        """As on SQLite, counting only what this process could claim now: rows another live
        process holds are its work (else this worker would wake again and again for them)."""
        async with self._db.reading() as conn:
            found: str | None = await conn.fetchval(
                "SELECT least("
                f"(SELECT due_at FROM invitations c WHERE {_PROMPT_DUE} AND {_OURS}"
                " ORDER BY due_at LIMIT 1),"
                f" (SELECT remind_at FROM invitations c WHERE {_REMINDER_DUE} AND {_OURS}"
                " ORDER BY remind_at LIMIT 1))",
                self._db.holder,
                sorted(busy),
            )
        return from_db(found)

    async def claim_prompt(self, inv: Invitation, now: datetime) -> bool:
        """As on SQLite (DUE -> SENDING, active before the message exists), if the row is
        unclaimed or this process's, no other process is sending to the customer, and it is the
        customer's oldest pending prompt."""
        async with self._db.transaction() as conn:
            await _lock_customer_claims(conn, inv.customer_id)
            # FOR SHARE waits for another process's pick still holding them, then sees its
            # reservation (PostgreSQL re-reads a row it waited for).
            if await conn.fetch(_EARLIER_HELD, inv.id, self._db.holder):
                return False
            status = await conn.execute(
                f"UPDATE invitations c SET prompt_sent = {Prompt.SENDING}, {_CLAIM},"
                " status = CASE status WHEN 'scheduled' THEN 'active' ELSE status END,"
                " sent_at = coalesce(sent_at, $2)"
                f" WHERE id = $3 AND prompt_sent = {Prompt.DUE} AND step = $4 AND phase = $5"
                " AND status IN ('scheduled', 'active', 'completed')"
                f" AND (claimed_by IS NULL OR claimed_by = $1) AND NOT {_sent_elsewhere('c')}",
                self._db.holder,
                to_db(now),
                inv.id,
                inv.position.step,
                inv.position.phase.value,
            )
            if changed(status) != 1:
                return False
            await conn.execute(
                "UPDATE customers SET last_invited_at = $1 WHERE telegram_id = $2"
                " AND (last_invited_at IS NULL OR last_invited_at < $1)",
                to_db(now),
                inv.customer_id,
            )
            return True

    async def mark_prompt_sent(
        self, inv: Invitation, message_id: int, remind_at: datetime | None = None
    ) -> None:
        """As on SQLite; the claim ends with the send."""
        await self._db.write(
            f"UPDATE invitations SET prompt_sent = {Prompt.SHOWN}, message_id = $1,"
            f" attempts = 0, remind_at = CASE WHEN reminder_sent = {Reminder.WAITING} THEN $2"
            f" ELSE remind_at END, {_UNCLAIM} WHERE id = $3 AND prompt_sent = {Prompt.SENDING}"
            " AND step = $4 AND phase = $5",
            message_id,
            to_db(remind_at),
            inv.id,
            inv.position.step,
            inv.position.phase.value,
        )

    async def postpone_prompt(self, inv: Invitation, due_at: datetime, note: str) -> None:
        """Not now (quiet hours): due again at `due_at`, for any process; not an attempt."""
        await self._db.write(
            f"UPDATE invitations SET due_at = $1, note = $2, {_UNCLAIM}"
            f" WHERE id = $3 AND prompt_sent = {Prompt.DUE}",
            to_db(due_at),
            note,
            inv.id,
        )

    # --- the one reminder -----------------------------------------------------------------

    async def claim_reminder(self, invitation_id: int) -> bool:
        """Mark the reminder as being sent, if it is still wanted and the row is unclaimed or
        this process's, and no other process is sending to the customer."""
        async with self._db.transaction() as conn:
            customer = await conn.fetchval(
                "SELECT customer_id FROM invitations WHERE id = $1", invitation_id
            )
            if customer is None:
                return False
            await _lock_customer_claims(conn, int(customer))
            status = await conn.execute(
                f"UPDATE invitations c SET reminder_sent = {Reminder.SENDING}, {_CLAIM}"
                f" WHERE id = $2 AND {_REMINDER_DUE}"
                f" AND (claimed_by IS NULL OR claimed_by = $1) AND NOT {_sent_elsewhere('c')}",
                self._db.holder,
                invitation_id,
            )
            return changed(status) == 1

    async def finish_reminder(self, invitation_id: int, sent: bool) -> None:
        """The reminder went out (sent), or was refused for good: either way, never again."""
        await self._db.write(
            f"UPDATE invitations SET reminder_sent = $1, remind_at = NULL, {_UNCLAIM}"
            " WHERE id = $2",
            int(Reminder.SENT if sent else Reminder.REFUSED),
            invitation_id,
        )

    async def reschedule_reminder(self, invitation_id: int, remind_at: datetime | None) -> None:
        """Due again at `remind_at` (quiet hours, a network error), or dropped with None."""
        await self._db.write(
            f"UPDATE invitations SET reminder_sent = {Reminder.WAITING}, remind_at = $1,"
            f" {_UNCLAIM} WHERE id = $2"
            f" AND reminder_sent IN ({Reminder.WAITING}, {Reminder.SENDING})",
            to_db(remind_at),
            invitation_id,
        )

    async def customer_wrote(self, telegram_id: int) -> None:
        """The customer wrote to the bot: no reminder of a question they have seen is wanted."""
        await self._db.write(
            "UPDATE invitations SET remind_at = NULL WHERE customer_id = $1"
            f" AND remind_at IS NOT NULL AND reminder_sent = {Reminder.WAITING}",
            telegram_id,
        )

    async def release_prompt(self, inv: Invitation, due_at: datetime, error: str) -> None:
        """The send failed for now: try again at `due_at` (any process may)."""
        await self._db.write(
            f"UPDATE invitations SET prompt_sent = {Prompt.DUE}, due_at = $1,"
            " attempts = attempts + 1, note = $2,"
            " status = CASE WHEN message_id IS NULL AND step = 0 AND phase = 'score'"
            " THEN 'scheduled' ELSE status END,"
            " sent_at = CASE WHEN message_id IS NULL AND step = 0 AND phase = 'score'"
            f" THEN NULL ELSE sent_at END, {_UNCLAIM}"
            f" WHERE id = $3 AND prompt_sent IN ({Prompt.DUE}, {Prompt.SENDING})",
            to_db(due_at),
            error[:500],
            inv.id,
        )

    async def settle_uncertain_prompts(self) -> list[int]:
        """Prompts and reminders whose sender is gone (its session ended: a process that died
        mid-send) or stalled past the lease are due again now; a live process's send in flight
        is never touched. At-least-once, as on SQLite: one may reach the customer twice.

        Run at start-up and every few seconds by each process; two at once settle a row once
        (the second UPDATE waits for the row, then finds it due already)."""
        gone = f"({_dead('invitations')} OR claimed_at < {_server_time(LEASE_SECONDS)})"
        async with self._db.transaction() as conn:
            settled = await conn.fetch(
                f"UPDATE invitations SET prompt_sent = {Prompt.DUE},"
                f" note = 'resent after restart', {_UNCLAIM}"
                f" WHERE prompt_sent = {Prompt.SENDING} AND {gone} RETURNING id"
            )
            reminders = await conn.fetch(
                f"UPDATE invitations SET reminder_sent = {Reminder.WAITING}, {_UNCLAIM}"
                f" WHERE reminder_sent = {Reminder.SENDING} AND {gone} RETURNING id"
            )
        return [row["id"] for row in settled] + [row["id"] for row in reminders]

    async def attempts(self, invitation_id: int) -> int:
        async with self._db.reading() as conn:
            found = await conn.fetchval(
                "SELECT attempts FROM invitations WHERE id = $1", invitation_id
            )
        return int(found or 0)

    async def close_invitation(
        self, invitation_id: int, status: InvitationStatus, note: str, now: datetime
    ) -> None:
        await self._db.write(
            f"UPDATE invitations SET status = $1, note = $2, prompt_sent = {Prompt.SHOWN},"
            f" finished_at = coalesce(finished_at, $3), {_UNCLAIM} WHERE id = $4",
            status.value,
            note,
            to_db(now),
            invitation_id,
        )


async def _lock_customer_claims(conn: asyncpg.Connection, customer_id: int) -> None:
    """Claims for one customer one at a time, until the transaction ends: an advisory lock of
    its own key space, so it orders nothing else (the customer's row stays free for opt-out,
    which locks invitations first and the customer second)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('survey-bot claims ' || $1::bigint, 0))",
        customer_id,
    )


class Expiry:
    """Surveys nobody answered in time, as on SQLite; each sweep takes rows no other
    process's sweep holds (`SKIP LOCKED`), and never a prompt being sent."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def expire_invitations(self, sent_before: datetime, now: datetime, limit: int) -> int:
        """As on SQLite: close as expired the open invitations first sent before `sent_before`;
        their buttons are then due for removal (`stale_keyboards`)."""
        return await self._db.write(
            "WITH picked AS MATERIALIZED (SELECT id FROM invitations WHERE status = 'active'"
            f" AND prompt_sent <> {Prompt.SENDING} AND sent_at <= $2 ORDER BY sent_at LIMIT $3"
            " FOR UPDATE SKIP LOCKED)"  # picked once: see _PICK_PROMPTS
            " UPDATE invitations i SET status = 'expired', note = 'expired: no answer in time',"
            f" prompt_sent = {Prompt.SHOWN}, finished_at = coalesce(i.finished_at, $1),"
            " keyboard_stale = CASE WHEN i.message_id IS NULL THEN 0 ELSE 1 END"
            " FROM picked WHERE i.id = picked.id",
            to_db(now),
            to_db(sent_before),
            limit,
        )

    async def stale_keyboards(self, limit: int) -> list[tuple[int, int, int]]:
        """(invitation id, customer chat, message id) of expired prompts still showing buttons."""
        async with self._db.reading() as conn:
            rows = await conn.fetch(
                "SELECT id, customer_id, message_id FROM invitations WHERE keyboard_stale = 1"
                " ORDER BY id LIMIT $1",
                limit,
            )
        return [(r["id"], r["customer_id"], r["message_id"]) for r in rows]

    async def clear_stale_keyboard(self, invitation_id: int) -> None:
        await self._db.write(
            "UPDATE invitations SET keyboard_stale = 0 WHERE id = $1", invitation_id
        )
