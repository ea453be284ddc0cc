"""Answers imported from another tool, as in storage/sqlite/imports.py (`imported` invitations,
never sent, event id `import:<key>`).

What differs: one answer is one statement, one round trip. A 100,000-row file comes through
`import_answer` row by row inside `batch()`, where SQLite's five or six statements per row
would be as many round trips, and a savepoint two more. So every write hangs off the
invitation's insert in data-modifying CTEs: a duplicate, a conflict or a row another process
is inserting (`ON CONFLICT DO NOTHING` waits for its commit) writes nothing at all, not even
the customer. Being atomic by itself, the statement runs on `reading()`'s connection (the
batch's, or the pool's in autocommit) without a savepoint: an error it raises (a lost
connection; a NUL byte in a text, which PostgreSQL refuses and SQLite stores) passes through
the importer and rolls the whole batch back, with a savepoint or without.
"""

from __future__ import annotations

import json
from datetime import datetime

from survey_flows.errors import EventConflict

from ..records import ImportedAnswer
from ..timestamps import to_db
from .database import Database

# As in SQLite: answers with no known Telegram chat belong to this unreachable placeholder.
ANONYMOUS_CUSTOMER = 0
IMPORTED_SURVEY = "imported"

# $1 event_id, $2 fingerprint, $3 telegram id (or NULL), $4 external id (or NULL), $5 name,
# $6 username, $7 language, $8 context (JSON), $9 context keys, $10 their values, $11 now,
# $12 answered_at, $13 metric, $14 score, $15 category, $16 comment, $17 its kind, $18 its time.
_IMPORT = f"""
WITH existing AS (
    SELECT id, fingerprint FROM invitations WHERE event_id = $1
), known AS (
    SELECT coalesce($3::bigint, (SELECT telegram_id FROM external_customers
                                 WHERE external_id = $4::text)) AS telegram_id
    WHERE NOT EXISTS (SELECT 1 FROM existing)
), invitation AS (
    INSERT INTO invitations (event_id, event_type, survey, customer_id, context, created_at,
        send_at, due_at, status, phase, prompt_sent, finished_at, fingerprint, note)
    SELECT $1, 'import', '{IMPORTED_SURVEY}', coalesce(telegram_id, {ANONYMOUS_CUSTOMER}), $8,
        $11, $12, $12, 'imported', 'done', 1, $12, $2, 'imported'
    FROM known
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id, customer_id
), placeholder AS (
    INSERT INTO customers (telegram_id, unreachable_at, created_at)
    SELECT customer_id, $11, $11 FROM invitation WHERE customer_id = {ANONYMOUS_CUSTOMER}
    ON CONFLICT (telegram_id) DO NOTHING
), customer AS (
    INSERT INTO customers (telegram_id, name, username, language, created_at)
    SELECT customer_id, $5, $6, $7, $11 FROM invitation WHERE customer_id <> {ANONYMOUS_CUSTOMER}
    ON CONFLICT (telegram_id) DO UPDATE SET
        name = coalesce(customers.name, excluded.name),
        username = coalesce(customers.username, excluded.username),
        language = coalesce(customers.language, excluded.language)
), context AS (
    INSERT INTO invitation_context (invitation_id, key, value)
    SELECT invitation.id, kv.key, kv.value
    FROM invitation, unnest($9::text[], $10::text[]) AS kv (key, value)
), answer AS (
    INSERT INTO answers (invitation_id, question_index, survey, metric, score, category,
        customer_id, answered_at, comment, comment_kind, commented_at, imported_at)
    SELECT id, 0, '{IMPORTED_SURVEY}', $13, $14, $15, customer_id, $12, $16, $17, $18, $11
    FROM invitation
)
SELECT (SELECT id FROM invitation) AS created,
    (SELECT id FROM existing) AS existing_id,
    (SELECT fingerprint FROM existing) AS fingerprint
"""


class Imports:
    """History from another tool, one answer (and its invitation) per statement."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def import_answer(self, answer: ImportedAnswer, now: datetime) -> bool:
        """Store one imported answer; False when this row was imported before (nothing
        changes). Raises EventConflict when its key was imported with other content."""
        event_id = f"import:{answer.key}"
        context = dict(answer.context)
        if answer.external_id is not None:
            context.setdefault("external_id", answer.external_id)
        at = to_db(answer.answered_at)
        async with self._db.reading() as conn:  # one statement: atomic, no savepoint
            row = await conn.fetchrow(
                _IMPORT,
                event_id,
                answer.fingerprint,
                answer.customer_id,
                answer.external_id,
                answer.customer_name,
                answer.customer_username,
                answer.customer_language,
                json.dumps(context, ensure_ascii=False, sort_keys=True),
                list(context),
                list(context.values()),
                to_db(now),
                at,
                answer.metric.value,
                answer.score,
                answer.category.value,
                answer.comment,
                "text" if answer.comment else None,
                at if answer.comment else None,
            )
            if row is None:
                raise LookupError("the import's final SELECT returned no row")
            if row["created"] is not None:
                return True
            existing_id, fingerprint = row["existing_id"], row["fingerprint"]
            if existing_id is None:  # another process inserted it meanwhile: read it now
                found = await conn.fetchrow(
                    "SELECT id, fingerprint FROM invitations WHERE event_id = $1", event_id
                )
                if found is None:  # the insert that stopped ours was committed, so it is there
                    raise LookupError(f"{event_id} conflicted, yet is not there")
                existing_id, fingerprint = found["id"], found["fingerprint"]
            if fingerprint != answer.fingerprint:
                raise EventConflict(event_id, existing_id)
            return False
