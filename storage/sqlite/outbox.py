"""The customers' outbox: which prompt is due, claimed, shown or released; reminders; expiry.

Each invitation's current prompt (question, follow-up or thank-you) is a row state here, so the
delivery worker alone turns it into a message and a restart loses nothing (at-least-once).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

from survey_flows.models import Category, Invitation, InvitationStatus

from ..records import DueBatch
from ..row_records import INVITATION_COLUMNS, invitation_of
from ..states import Prompt, Reminder
from ..timestamps import from_db, to_db
from .database import Database
from .rows import fetch_all, fetch_first

# The one reminder of an invitation is due: its first question is on screen, unanswered, and the
# customer has not written since (writing clears remind_at). Both queries below must agree, or
# the worker would wake for a reminder it then does not find.
_REMINDER_DUE = (
    f"remind_at IS NOT NULL AND reminder_sent = {Reminder.WAITING} AND status = 'active'"
    f" AND step = 0 AND phase = 'score' AND prompt_sent = {Prompt.SHOWN}"
    " AND message_id IS NOT NULL"
)


class Outbox:
    """What the delivery worker sends each customer next: prompts and the one reminder."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def due_prompts(
        self, now: datetime, limit: int, busy: Collection[int] = ()
    ) -> list[Invitation]:
        """Invitations whose current prompt (question, follow-up or thank-you) must be shown,
        leaving out the `busy` customers (a prompt of theirs is being sent)."""
        return (await self.due_batch(now, limit, busy)).prompts

    async def due_batch(self, now: datetime, limit: int, busy: Collection[int] = ()) -> DueBatch:
        """Due prompts and due reminders (those of the `busy` customers left out) in one
        statement, each follow-up with its score's category: the delivery worker's pass costs
        one read."""
        cols = INVITATION_COLUMNS
        async with self._db.reading() as db:
            rows = await fetch_all(
                db,
                "WITH busy(customer) AS (SELECT value FROM json_each(?))"
                " SELECT * FROM (SELECT 0 AS kind, (SELECT x.category FROM answers x"
                " WHERE x.invitation_id = i.id AND x.question_index = i.step"
                f" AND i.phase = 'followup') AS category, {cols} FROM invitations i"
                f" WHERE prompt_sent = {Prompt.DUE} AND due_at <= ?"
                " AND status IN ('scheduled', 'active', 'completed')"
                " AND customer_id NOT IN busy ORDER BY due_at, id LIMIT ?)"
                f" UNION ALL SELECT * FROM (SELECT 1, NULL, {cols} FROM invitations"
                f" WHERE {_REMINDER_DUE} AND remind_at <= ? AND customer_id NOT IN busy"
                " ORDER BY remind_at, id LIMIT ?)",
                (json.dumps(sorted(busy)), to_db(now), limit, to_db(now), limit),
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
        """The earliest due time of a prompt to a customer not in `busy`: those are due once
        their send in flight finishes, which wakes the worker."""
        async with self._db.reading() as db:
            busy_json = json.dumps(sorted(busy))
            row = await fetch_first(
                db,
                "SELECT min(at) FROM (SELECT min(due_at) AS at FROM invitations"
                f" WHERE prompt_sent = {Prompt.DUE}"
                " AND status IN ('scheduled', 'active', 'completed')"
                " AND customer_id NOT IN (SELECT value FROM json_each(?))"
                f" UNION ALL SELECT min(remind_at) FROM invitations WHERE {_REMINDER_DUE}"
                " AND customer_id NOT IN (SELECT value FROM json_each(?)))",
                (busy_json, busy_json),
            )
        return from_db(row[0]) if row is not None else None

    async def claim_prompt(self, inv: Invitation, now: datetime) -> bool:
        """Mark the current prompt as being sent; the first one makes the invitation active.

        Active before the message exists, so that a press arriving before the send is recorded
        finds the invitation open.
        """
        async with self._db.transaction() as db:
            cursor = await db.execute(
                f"UPDATE invitations SET prompt_sent = {Prompt.SENDING},"
                " status = CASE status WHEN 'scheduled' THEN 'active' ELSE status END,"
                " sent_at = coalesce(sent_at, ?)"
                f" WHERE id = ? AND prompt_sent = {Prompt.DUE} AND step = ? AND phase = ?"
                " AND status IN ('scheduled', 'active', 'completed')",
                (to_db(now), inv.id, inv.position.step, inv.position.phase.value),
            )
            if cursor.rowcount != 1:
                return False
            await db.execute(
                "UPDATE customers SET last_invited_at = ? WHERE telegram_id = ?"
                " AND (last_invited_at IS NULL OR last_invited_at < ?)",
                (to_db(now), inv.customer_id, to_db(now)),
            )
            return True

    async def mark_prompt_sent(
        self, inv: Invitation, message_id: int, remind_at: datetime | None = None
    ) -> None:
        """The prompt for `inv.position` is shown. If the customer already moved on (a fast
        press), the newer prompt stays due. `remind_at`: when the one reminder is due, for a
        first question (none if one was already sent)."""
        await self._db.write(
            f"UPDATE invitations SET prompt_sent = {Prompt.SHOWN}, message_id = ?,"
            f" attempts = 0, remind_at = CASE WHEN reminder_sent = {Reminder.WAITING} THEN ?"
            f" ELSE remind_at END WHERE id = ? AND prompt_sent = {Prompt.SENDING}"
            " AND step = ? AND phase = ?",
            (message_id, to_db(remind_at), inv.id, inv.position.step, inv.position.phase.value),
        )

    async def postpone_prompt(self, inv: Invitation, due_at: datetime, note: str) -> None:
        """Not now (quiet hours): the prompt is due again at `due_at`; not an attempt."""
        await self._db.write(
            "UPDATE invitations SET due_at = ?, note = ?"
            f" WHERE id = ? AND prompt_sent = {Prompt.DUE}",
            (to_db(due_at), note, inv.id),
        )

    # --- the one reminder -----------------------------------------------------------------

    async def claim_reminder(self, invitation_id: int) -> bool:
        """Mark the reminder as being sent, if it is still wanted."""
        changed = await self._db.write(
            f"UPDATE invitations SET reminder_sent = {Reminder.SENDING}"
            f" WHERE id = ? AND {_REMINDER_DUE}",
            (invitation_id,),
        )
        return changed == 1

    async def finish_reminder(self, invitation_id: int, sent: bool) -> None:
        """The reminder went out (sent), or was refused for good: either way, never again."""
        await self._db.write(
            "UPDATE invitations SET reminder_sent = ?, remind_at = NULL WHERE id = ?",
            (int(Reminder.SENT if sent else Reminder.REFUSED), invitation_id),
        )

    async def reschedule_reminder(self, invitation_id: int, remind_at: datetime | None) -> None:
        """Due again at `remind_at` (quiet hours, a network error), or dropped with None."""
        await self._db.write(
            f"UPDATE invitations SET reminder_sent = {Reminder.WAITING}, remind_at = ?"
            f" WHERE id = ? AND reminder_sent IN ({Reminder.WAITING}, {Reminder.SENDING})",
            (to_db(remind_at), invitation_id),
        )

    async def customer_wrote(self, telegram_id: int) -> None:
        """The customer wrote to the bot: no reminder of a question they have seen is wanted."""
        await self._db.write(
            "UPDATE invitations SET remind_at = NULL WHERE customer_id = ?"
            f" AND remind_at IS NOT NULL AND reminder_sent = {Reminder.WAITING}",
            (telegram_id,),
        )

    async def release_prompt(self, inv: Invitation, due_at: datetime, error: str) -> None:
        """The send failed for now: try again at `due_at`."""
        await self._db.write(
            f"UPDATE invitations SET prompt_sent = {Prompt.DUE}, due_at = ?,"
            " attempts = attempts + 1, note = ?,"
            " status = CASE WHEN message_id IS NULL AND step = 0 AND phase = 'score'"
            " THEN 'scheduled' ELSE status END,"
            " sent_at = CASE WHEN message_id IS NULL AND step = 0 AND phase = 'score'"
            " THEN NULL ELSE sent_at END"
            f" WHERE id = ? AND prompt_sent IN ({Prompt.DUE}, {Prompt.SENDING})",
            (to_db(due_at), error[:500], inv.id),
        )

    async def settle_uncertain_prompts(self) -> list[int]:
        """At start-up: prompts claimed by a process that died mid-send are due again now.

        The send may or may not have reached Telegram. At-least-once: sending again risks one
        duplicate message the customer sees; not sending risks a question that never arrives.
        """
        async with self._db.transaction() as db:
            cursor = await db.execute(
                f"UPDATE invitations SET prompt_sent = {Prompt.DUE}, note = 'resent after restart'"
                f" WHERE prompt_sent = {Prompt.SENDING} RETURNING id"
            )
            settled = [row["id"] for row in await cursor.fetchall()]
            cursor = await db.execute(
                f"UPDATE invitations SET reminder_sent = {Reminder.WAITING}"
                f" WHERE reminder_sent = {Reminder.SENDING} RETURNING id"
            )
            return settled + [row["id"] for row in await cursor.fetchall()]

    async def attempts(self, invitation_id: int) -> int:
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT attempts FROM invitations WHERE id = ?", (invitation_id,)
            )
            row = await cursor.fetchone()
            return row["attempts"] if row else 0

    async def close_invitation(
        self, invitation_id: int, status: InvitationStatus, note: str, now: datetime
    ) -> None:
        await self._db.write(
            f"UPDATE invitations SET status = ?, note = ?, prompt_sent = {Prompt.SHOWN},"
            " finished_at = coalesce(finished_at, ?) WHERE id = ?",
            (status.value, note, to_db(now), invitation_id),
        )


class Expiry:
    """Surveys nobody answered in time: closed, and their buttons taken off."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def expire_invitations(self, sent_before: datetime, now: datetime, limit: int) -> int:
        """Close as expired the open invitations first sent before `sent_before` (no answer in
        time); their last message's buttons are then due for removal (`stale_keyboards`).

        A prompt being sent right now is left for the next sweep, so its message is known.
        """
        return await self._db.write(
            "UPDATE invitations SET status = 'expired', note = 'expired: no answer in time',"
            f" prompt_sent = {Prompt.SHOWN}, finished_at = coalesce(finished_at, ?),"
            " keyboard_stale = CASE WHEN message_id IS NULL THEN 0 ELSE 1 END"
            " WHERE id IN (SELECT id FROM invitations WHERE status = 'active'"
            f" AND prompt_sent != {Prompt.SENDING} AND sent_at <= ? ORDER BY sent_at LIMIT ?)",
            (to_db(now), to_db(sent_before), limit),
        )

    async def stale_keyboards(self, limit: int) -> list[tuple[int, int, int]]:
        """(invitation id, customer chat, message id) of expired prompts still showing buttons."""
        async with self._db.reading() as db:
            cursor = await db.execute(
                "SELECT id, customer_id, message_id FROM invitations WHERE keyboard_stale = 1"
                " ORDER BY id LIMIT ?",
                (limit,),
            )
            return [(r["id"], r["customer_id"], r["message_id"]) for r in await cursor.fetchall()]

    async def clear_stale_keyboard(self, invitation_id: int) -> None:
        await self._db.write(
            "UPDATE invitations SET keyboard_stale = 0 WHERE id = ?", (invitation_id,)
        )
