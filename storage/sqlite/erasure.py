"""Erasure: a customer's personal data deleted in one transaction, their scores kept anonymous.

What counts as personal here: the Telegram name, @username and language; every comment (answers'
comments, words typed before a score) and the file ids of voice notes, photos and videos; the
shop's id for the customer (`external_customers`, which may be an e-mail), its deep-link tokens
and events still waiting for the link; the customer's own words in alert threads (blanked in the
staff chat by the alert worker). Scores stay, with their metric, category, time and the event's
context (the shop's order data), and without the customer's id (`answers.customer_id = 0`).

The Telegram id stays in `customers` and on invitation rows, with no name: it is the record that
this person is erased and opted out, so the shop's next event for them is not sent.
Run inside the customers' `erase_customer` transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from ..records import Erased
from ..states import Prompt
from ..timestamps import to_db
from .rows import one_row


async def _count(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> int:
    return int((await one_row(await db.execute(sql, params)))[0])


async def erase(
    db: aiosqlite.Connection,
    now: datetime,
    *,
    telegram_id: int | None = None,
    external_id: str | None = None,
) -> Erased | None:
    """Erase the customer known by a Telegram id or by the shop's id; None when unknown."""
    externals: list[str] = []
    if external_id is not None:
        cursor = await db.execute(
            "SELECT telegram_id FROM external_customers WHERE external_id = ?",
            (external_id,),
        )
        row = await cursor.fetchone()
        if row is None:
            return None
        externals.append(external_id)
        telegram_id = row["telegram_id"]
    elif telegram_id is not None:
        cursor = await db.execute(
            "SELECT external_id FROM external_customers WHERE telegram_id = ?",
            (telegram_id,),
        )
        externals += [r["external_id"] for r in await cursor.fetchall()]
        known = await _count(
            db, "SELECT count(*) FROM customers WHERE telegram_id = ?", (telegram_id,)
        )
        if not known and not externals:
            return None
    removed: dict[str, int] = {}
    scores = 0
    if telegram_id is not None:
        scores = await _count(
            db,
            "SELECT count(*) FROM answers a JOIN invitations i ON i.id = a.invitation_id"
            " WHERE i.customer_id = ?",
            (telegram_id,),
        )
        removed |= await _erase_telegram(db, telegram_id, now)
    removed |= await _erase_external(db, externals, telegram_id)
    return Erased(telegram_id, removed, scores)


async def _erase_telegram(
    db: aiosqlite.Connection, telegram_id: int, now: datetime
) -> dict[str, int]:
    at, tid = to_db(now), telegram_id
    removed = {
        "name": await _count(
            db,
            "SELECT count(*) FROM customers WHERE telegram_id = ? AND name IS NOT NULL",
            (tid,),
        ),
        "username": await _count(
            db,
            "SELECT count(*) FROM customers WHERE telegram_id = ? AND username IS NOT NULL",
            (tid,),
        ),
    }
    # The row stays as the record that this person is erased and opted out.
    await db.execute(
        "INSERT INTO customers (telegram_id, created_at, opted_out_at, erased_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET name = NULL,"
        " username = NULL, language = NULL, erased_at = excluded.erased_at,"
        " opted_out_at = coalesce(opted_out_at, excluded.opted_out_at)",
        (tid, at, at, at),
    )
    # Nothing more is asked: open surveys close, their buttons come off the last message.
    await db.execute(
        "UPDATE invitations SET status = 'cancelled', note = 'erased',"
        f" prompt_sent = {Prompt.SHOWN}, finished_at = ?,"
        " keyboard_stale = CASE WHEN message_id IS NULL THEN 0 ELSE 1 END"
        " WHERE customer_id = ? AND status IN ('scheduled', 'active')",
        (at, tid),
    )
    await db.execute(
        f"UPDATE invitations SET prompt_sent = {Prompt.SHOWN} WHERE customer_id = ?"
        f" AND status = 'completed' AND prompt_sent = {Prompt.DUE}",
        (tid,),
    )
    cursor = await db.execute(
        "UPDATE invitations SET early_comment = NULL, early_comment_kind = NULL,"
        " early_comment_file_id = NULL, early_comment_step = NULL"
        " WHERE customer_id = ? AND early_comment_kind IS NOT NULL",
        (tid,),
    )
    removed["early_comment"] = cursor.rowcount
    of_customer = "invitation_id IN (SELECT id FROM invitations WHERE customer_id = ?)"
    removed["comment"] = await _count(
        db, f"SELECT count(*) FROM answers WHERE {of_customer} AND comment IS NOT NULL", (tid,)
    )
    removed["media_file_id"] = await _count(
        db,
        f"SELECT count(*) FROM answers WHERE {of_customer} AND comment_file_id IS NOT NULL",
        (tid,),
    )
    await db.execute(
        "UPDATE answers SET comment = NULL, comment_kind = NULL, comment_file_id = NULL,"
        f" commented_at = NULL, customer_id = 0 WHERE {of_customer}",
        (tid,),
    )
    # Alert cards are re-rendered as erased; the customer's words in their threads blanked.
    cursor = await db.execute(
        "UPDATE alerts SET erased_at = ?, dirty = 1 WHERE customer_id = ? AND erased_at IS NULL"
        " RETURNING message_id",
        (at, tid),
    )
    removed["alert_card"] = sum(1 for r in await cursor.fetchall() if r["message_id"])
    cursor = await db.execute(
        "UPDATE alert_messages SET redact = 1 WHERE customer_words > 0 AND redact = 0"
        " AND alert_id IN (SELECT id FROM alerts WHERE customer_id = ?)",
        (tid,),
    )
    removed["thread_message"] = cursor.rowcount
    return removed


async def _erase_external(
    db: aiosqlite.Connection, externals: list[str], telegram_id: int | None
) -> dict[str, int]:
    """The shop's ids for the customer, their deep-link tokens and events awaiting a link."""
    tokens = waiting = rows = 0
    if telegram_id is not None:
        cursor = await db.execute("DELETE FROM link_tokens WHERE used_by = ?", (telegram_id,))
        tokens += cursor.rowcount
    for ext in externals:
        cursor = await db.execute("DELETE FROM link_tokens WHERE external_id = ?", (ext,))
        tokens += cursor.rowcount
        cursor = await db.execute("DELETE FROM awaiting_link WHERE external_id = ?", (ext,))
        waiting += cursor.rowcount
        cursor = await db.execute("DELETE FROM external_customers WHERE external_id = ?", (ext,))
        rows += cursor.rowcount
    return {"external_id": rows, "link_token": tokens, "awaiting_link_event": waiting}
