"""Answers imported from another tool: history that counts in every metric but never alerts.

Each imported answer gets an invitation of its own with status `imported` (answers belong to an
invitation and a customer). It is never sent: `sent_at` stays NULL, so the response rate counts
only invitations that really reached someone. Its event_id `import:<key>` makes a second import
of the same row a no-op.
"""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from survey_flows.errors import EventConflict

from ..records import ImportedAnswer
from ..timestamps import to_db
from .database import Database
from .rows import inserted_id

# Imported answers whose customer has no known Telegram chat belong to this placeholder customer.
# It is created unreachable, so no survey is ever sent to it (Telegram ids are positive).
ANONYMOUS_CUSTOMER = 0
IMPORTED_SURVEY = "imported"


class Imports:
    """History from another tool, one answer (and its invitation) at a time."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def import_answer(self, answer: ImportedAnswer, now: datetime) -> bool:
        """Store one imported answer; False when this row was imported before (nothing
        changes). Raises EventConflict when its key was imported with other content."""
        event_id = f"import:{answer.key}"
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "SELECT id, fingerprint FROM invitations WHERE event_id = ?", (event_id,)
            )
            existing = await cursor.fetchone()
            if existing is not None:
                if existing["fingerprint"] != answer.fingerprint:
                    raise EventConflict(event_id, existing["id"])
                return False
            customer = await _imported_customer(db, answer, now)
            context = dict(answer.context)
            if answer.external_id is not None:
                context.setdefault("external_id", answer.external_id)
            at = to_db(answer.answered_at)
            cursor = await db.execute(
                "INSERT INTO invitations (event_id, event_type, survey, customer_id, context,"
                " created_at, send_at, due_at, status, phase, prompt_sent, finished_at,"
                " fingerprint, note)"
                " VALUES (?, 'import', ?, ?, ?, ?, ?, ?, 'imported', 'done', 1, ?, ?, 'imported')",
                (
                    event_id,
                    IMPORTED_SURVEY,
                    customer,
                    json.dumps(context, ensure_ascii=False, sort_keys=True),
                    to_db(now),
                    at,
                    at,
                    at,
                    answer.fingerprint,
                ),
            )
            invitation_id = inserted_id(cursor)
            await db.executemany(
                "INSERT INTO invitation_context (invitation_id, key, value) VALUES (?, ?, ?)",
                [(invitation_id, k, v) for k, v in context.items()],
            )
            await db.execute(
                "INSERT INTO answers (invitation_id, question_index, survey, metric, score,"
                " category, customer_id, answered_at, comment, comment_kind, commented_at,"
                " imported_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    invitation_id,
                    IMPORTED_SURVEY,
                    answer.metric.value,
                    answer.score,
                    answer.category.value,
                    customer,
                    at,
                    answer.comment,
                    "text" if answer.comment else None,
                    at if answer.comment else None,
                    to_db(now),
                ),
            )
            return True


async def _imported_customer(
    db: aiosqlite.Connection, answer: ImportedAnswer, now: datetime
) -> int:
    """The row's Telegram customer (created if new), the one linked to its external id, or
    the unreachable placeholder."""
    customer = answer.customer_id
    if customer is None and answer.external_id is not None:
        cursor = await db.execute(
            "SELECT telegram_id FROM external_customers WHERE external_id = ?",
            (answer.external_id,),
        )
        row = await cursor.fetchone()
        customer = row["telegram_id"] if row else None
    if customer is None:
        await db.execute(
            "INSERT INTO customers (telegram_id, unreachable_at, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (telegram_id) DO NOTHING",
            (ANONYMOUS_CUSTOMER, to_db(now), to_db(now)),
        )
        return ANONYMOUS_CUSTOMER
    await db.execute(
        "INSERT INTO customers (telegram_id, name, username, language, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET"
        " name = coalesce(name, excluded.name),"
        " username = coalesce(username, excluded.username),"
        " language = coalesce(language, excluded.language)",
        (
            customer,
            answer.customer_name,
            answer.customer_username,
            answer.customer_language,
            to_db(now),
        ),
    )
    return customer
