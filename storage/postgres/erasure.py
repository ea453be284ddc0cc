"""Erasure on PostgreSQL: what goes and what stays as in storage/sqlite/erasure.py (its docstring
lists it), inside the customers' `erase_customer` transaction.

What differs with several processes: before it reads or writes anything of the customer, the
erasure locks the shop's ids of the customer, then (`lock_customer`) every invitation of theirs,
then the customer's row. An answer or comment another process is recording holds its
invitation's row, so the erasure waits for it to commit and then erases its words too (each
statement after the locks reads afresh); one that comes later waits for the erasure and then
finds its survey cancelled. Invitation rows before the customer's row is the order the outbox
takes them in (a prompt claimed, then the customer's last_invited_at), so neither deadlocks.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from ..records import Erased
from ..states import Prompt
from ..timestamps import to_db
from .database import changed


async def lock_customer(conn: asyncpg.Connection, telegram_id: int) -> asyncpg.Record | None:
    """Hold every invitation of the customer, then their row, until the transaction ends;
    the customer's row (None if there is none yet)."""
    await conn.execute(
        "SELECT 1 FROM invitations WHERE customer_id = $1 ORDER BY id FOR UPDATE", telegram_id
    )
    return await conn.fetchrow(
        "SELECT * FROM customers WHERE telegram_id = $1 FOR UPDATE", telegram_id
    )


async def erase(
    conn: asyncpg.Connection,
    now: datetime,
    *,
    telegram_id: int | None = None,
    external_id: str | None = None,
) -> Erased | None:
    """Erase the customer known by a Telegram id or by the shop's id; None when unknown."""
    externals: list[str] = []
    if external_id is not None:
        found = await conn.fetchrow(
            "SELECT telegram_id FROM external_customers WHERE external_id = $1 FOR UPDATE",
            external_id,
        )
        if found is None:
            return None
        externals.append(external_id)
        telegram_id = found["telegram_id"]
    elif telegram_id is not None:
        rows = await conn.fetch(
            "SELECT external_id FROM external_customers WHERE telegram_id = $1"
            " ORDER BY external_id FOR UPDATE",
            telegram_id,
        )
        externals += [r["external_id"] for r in rows]
    removed: dict[str, int] = {}
    scores = 0
    if telegram_id is not None:
        profile = await lock_customer(conn, telegram_id)
        if profile is None and external_id is None and not externals:
            return None
        removed = {
            "name": int(profile is not None and profile["name"] is not None),
            "username": int(profile is not None and profile["username"] is not None),
        }
        scores = await conn.fetchval(
            "SELECT count(*) FROM answers a JOIN invitations i ON i.id = a.invitation_id"
            " WHERE i.customer_id = $1",
            telegram_id,
        )
        removed |= await _erase_telegram(conn, telegram_id, now)
    removed |= await _erase_external(conn, externals, telegram_id)
    return Erased(telegram_id, removed, scores)


async def _erase_telegram(
    conn: asyncpg.Connection, telegram_id: int, now: datetime
) -> dict[str, int]:
    """Everything keyed by the Telegram id; the customer's row and invitations are locked."""
    at, tid = to_db(now), telegram_id
    # The row stays as the record that this person is erased and opted out.
    await conn.execute(
        "INSERT INTO customers (telegram_id, created_at, opted_out_at, erased_at)"
        " VALUES ($1, $2, $2, $2) ON CONFLICT (telegram_id) DO UPDATE SET name = NULL,"
        " username = NULL, language = NULL, erased_at = excluded.erased_at,"
        " opted_out_at = coalesce(customers.opted_out_at, excluded.opted_out_at)",
        tid,
        at,
    )
    # Nothing more is asked: open surveys close, their buttons come off the last message.
    await conn.execute(
        "UPDATE invitations SET status = 'cancelled', note = 'erased',"
        f" prompt_sent = {Prompt.SHOWN}, finished_at = $1,"
        " keyboard_stale = CASE WHEN message_id IS NULL THEN 0 ELSE 1 END"
        " WHERE customer_id = $2 AND status IN ('scheduled', 'active')",
        at,
        tid,
    )
    await conn.execute(
        f"UPDATE invitations SET prompt_sent = {Prompt.SHOWN} WHERE customer_id = $1"
        f" AND status = 'completed' AND prompt_sent = {Prompt.DUE}",
        tid,
    )
    removed = {
        "early_comment": changed(
            await conn.execute(
                "UPDATE invitations SET early_comment = NULL, early_comment_kind = NULL,"
                " early_comment_file_id = NULL, early_comment_step = NULL"
                " WHERE customer_id = $1 AND early_comment_kind IS NOT NULL",
                tid,
            )
        )
    }
    of_customer = "invitation_id IN (SELECT id FROM invitations WHERE customer_id = $1)"
    words = await conn.fetchrow(
        "SELECT count(comment) AS comment, count(comment_file_id) AS media_file_id"
        f" FROM answers WHERE {of_customer}",
        tid,
    )
    removed |= {"comment": words["comment"], "media_file_id": words["media_file_id"]}
    await conn.execute(
        "UPDATE answers SET comment = NULL, comment_kind = NULL, comment_file_id = NULL,"
        f" commented_at = NULL, customer_id = 0 WHERE {of_customer}",
        tid,
    )
    # Alert cards are re-rendered as erased; the customer's words in their threads blanked.
    cards = await conn.fetch(
        "UPDATE alerts SET erased_at = $1, dirty = 1"
        " WHERE customer_id = $2 AND erased_at IS NULL RETURNING message_id",
        at,
        tid,
    )
    removed["alert_card"] = sum(1 for r in cards if r["message_id"])
    removed["thread_message"] = changed(
        await conn.execute(
            "UPDATE alert_messages SET redact = 1 WHERE customer_words > 0 AND redact = 0"
            " AND alert_id IN (SELECT id FROM alerts WHERE customer_id = $1)",
            tid,
        )
    )
    return removed


async def _erase_external(
    conn: asyncpg.Connection, externals: list[str], telegram_id: int | None
) -> dict[str, int]:
    """The shop's ids for the customer, their deep-link tokens and events awaiting a link."""
    tokens = await conn.execute(
        "DELETE FROM link_tokens WHERE used_by = $1 OR external_id = ANY($2::text[])",
        telegram_id,
        externals,
    )
    waiting = await conn.execute(
        "DELETE FROM awaiting_link WHERE external_id = ANY($1::text[])", externals
    )
    rows = await conn.execute(
        "DELETE FROM external_customers WHERE external_id = ANY($1::text[])", externals
    )
    return {
        "external_id": changed(rows),
        "link_token": changed(tokens),
        "awaiting_link_event": changed(waiting),
    }
