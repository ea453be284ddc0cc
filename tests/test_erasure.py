"""Erasure: /forget (after its confirmation) and DELETE /api/v1/customers/<key> leave the scores
and nothing personal, in the database, the /export CSV and the staff chat.

The real dispatcher, workers and intake API, a recording session, on both storage backends.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import PhotoSize
from aiohttp.test_utils import TestClient, TestServer

from bot.intake.api import IntakeApi
from storage.base import SurveyRepo
from storage.records import Comment, NewEvent
from storage.sqlite import SqliteRepo
from survey_flows.models import Answer, Category, Metric, Phase, Position

from . import backends, test_opt_out, updates
from .conftest import OpenBackend
from .test_customer_messages import ANN, STAFF, Chats
from .test_manager import MANAGER, NOW, make_config
from .test_opt_out import keyboard_data, press_as
from .updates import person

pytestmark = backends.BOTH
room = test_opt_out.room  # the fixture of customers' chats on the test's backend, shared
_ids = itertools.count(95_000)
TOKEN = "x" * 16
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def every_text(repo: SurveyRepo) -> str:
    """Every value of every table, as one text to search for what must be gone."""
    if isinstance(repo, SqliteRepo):
        tables = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        tables = (
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    found = []
    for table in await backends.fetch(repo, tables):
        rows = await backends.fetch(repo, f"SELECT * FROM {table['name']}")
        found += [str(value) for row in rows for value in row.values()]
    return "\n".join(found)


async def say_as(room: Chats, user_id: int, text: str | None = None, **media: Any) -> list:
    before = len(room.session.calls)
    ann = person(user_id, "Ann", username="ann_k")
    await room.dp.feed_update(room.bot, updates.message(ann, text, room.clock(), **media))
    return room.session.calls[before:]


PERSONAL = ("Ann", "ann_k", "took 3 days", "PHOTO-1", "Any news", "hello there")


async def test_forget_asks_then_erases_everything_personal_and_keeps_the_score(room: Chats):
    # Ann's story: words before the score, a detractor score, a photo as follow-up...
    first = await room.survey()
    await say_as(room, ANN, "took 3 days")
    await room.press(f"s:{first}:0:1")
    await room.work()
    photo = PhotoSize(file_id="PHOTO-1", file_unique_id="p1", width=90, height=90)
    await say_as(room, ANN, photo=[photo])
    await room.work()
    # ...a second survey with words typed at its question, then a talk with the staff.
    second = await room.survey()
    await say_as(room, ANN, "hello there")
    (alert,) = await room.repo.alerts.open_alerts()
    assert alert.message_id is not None and alert.comment_file_id == "PHOTO-1"
    await room.staff_reply(alert.message_id, "Sorry! A refund is on its way")
    await say_as(room, ANN, "Any news about my refund?")
    assert "Any news" in room.to(STAFF)[-1]["text"], "Ann's words never reached the thread"
    assert "Ann" in await every_text(room.repo)

    calls = await say_as(room, ANN, "/forget")
    (asked,) = room.to(ANN, calls)
    assert keyboard_data(asked) == ["f"] and "Erase your data?" in asked["text"]
    assert "took 3 days" in await every_text(room.repo), "/forget erased before confirmation"

    calls = await press_as(room, ANN, "f")
    (done,) = room.to(ANN, calls)
    assert "your personal data is erased" in done["text"]
    before = len(room.session.calls)
    room.clock.now += timedelta(seconds=2)  # the delivery worker's sweep runs once a second
    await room.work()
    await room.work()
    calls = room.session.calls[before:]

    text = await every_text(room.repo)
    for word in PERSONAL:
        assert word not in text, f"{word!r} is still in the database after /forget"
    rows = await backends.fetch(room.repo, "SELECT score, metric, customer_id FROM answers")
    assert [tuple(r.values()) for r in rows] == [(1, "csat", 0)], "the score was not kept anonymous"
    (customer,) = await backends.fetch(
        room.repo, "SELECT * FROM customers WHERE telegram_id = ?", (ANN,)
    )
    assert customer["name"] is None and customer["username"] is None
    assert customer["erased_at"] and customer["opted_out_at"], "erased, and asked no more"
    inv = await room.repo.invitations.get_invitation(second)
    assert inv is not None and inv.status.value == "cancelled"

    # The staff chat: the card says so, Ann's words are blanked, her photo deleted.
    edits = {p["message_id"]: p for name, p, _ in calls if name == "editMessageText"}
    card = edits[alert.message_id]["text"]
    assert "Customer data erased" in card and "Ann" not in card and "took 3 days" not in card
    assert "CSAT <b>1</b> of 5" in card, "the card lost the score"
    assert any(p["text"] == "[customer data erased]" for p in edits.values()), "words stayed"
    assert [n for n, _, _ in calls].count("deleteMessage") == 1, "the photo stayed"
    assert any(
        n == "editMessageReplyMarkup" and p["message_id"] == inv.message_id for n, p, _ in calls
    ), "the open survey kept its buttons"

    # Replies no longer reach anyone: the reply gets 👎 and the card says why.
    before = len(room.session.calls)
    await room.staff_reply(alert.message_id, "Hello?")
    await room.alerts.run_once()
    calls = room.session.calls[before:]
    assert room.to(ANN, calls) == []
    assert [p["reaction"][0]["emoji"] for n, p, _ in calls if n == "setMessageReaction"] == ["👎"]
    assert not [n for n, p, _ in calls if n == "sendMessage" and p["chat_id"] == STAFF]
    card = [p for n, p, _ in calls if n == "editMessageText" and p["chat_id"] == STAFF][-1]
    assert "replies no longer reach anyone" in card["text"]

    # Writing again does not bring her name back: nothing of hers is captured any more.
    await say_as(room, ANN, "one more thing")
    (customer,) = await backends.fetch(
        room.repo, "SELECT name, username FROM customers WHERE telegram_id = ?", (ANN,)
    )
    assert tuple(customer.values()) == (None, None), "her next message stored her name again"

    # Managers: the export has no person in it, the score still counts.
    (export,) = await say_as(room, MANAGER, "/export 30d")
    table = list(csv.DictReader(io.StringIO(export[2]["document"].decode("utf-8-sig"))))
    assert [(r["score"], r["comment"], r["customer_id"]) for r in table] == [("1", "", "0")]
    (figures,) = await say_as(room, MANAGER, "/csat 30d")
    assert "n=1" in figures[1]["caption"], "the erased customer's score left the statistics"


async def test_forget_by_a_stranger_erases_nothing(room: Chats):
    await room.survey()
    calls = await press_as(room, 4242, "f")
    (said,) = room.to(4242, calls)
    assert "Nothing to erase" in said["text"]
    assert "Ann" in await every_text(room.repo), "someone else's press erased Ann"


@pytest.fixture
async def api(
    tmp_path: Path, open_backend: OpenBackend
) -> AsyncIterator[tuple[TestClient, SurveyRepo, list[None]]]:
    config = make_config(tmp_path)
    repo = await open_backend()
    erased: list[None] = []
    app = IntakeApi(config, repo, lambda: NOW, lambda: None, on_erased=lambda: erased.append(None))
    async with TestClient(TestServer(app.app())) as client:
        yield client, repo, erased
    await repo.close()


async def seed(repo: SurveyRepo) -> None:
    """Ann (Telegram 424242, also the shop's crm-77) answered with a comment; Bob is known to
    the shop only by e-mail and has a deep link and an event waiting for it."""
    inv, _ = await repo.invitations.create_invitation(
        NewEvent("e1", "purchase", "csat", 424242, "Ann", "en", {"order_id": "A-1"}, NOW), NOW
    )
    assert await repo.outbox.claim_prompt(inv, NOW)
    await repo.outbox.mark_prompt_sent(inv, 1)
    inv = await repo.invitations.get_invitation(inv.id)
    assert inv is not None
    answer = Answer(inv.id, 0, Metric.CSAT, 2, Category.DETRACTOR, NOW)
    assert await repo.conversation.record_score(inv, Position(0, Phase.FOLLOWUP), answer)
    inv = await repo.invitations.get_invitation(inv.id)
    assert inv is not None
    assert await repo.conversation.record_followup(
        inv, Position(0, Phase.DONE), Comment("took 3 days"), NOW
    )
    at, later = NOW.isoformat(), (NOW + timedelta(days=30)).isoformat()
    for external in [
        ("crm-77", 424242, "Ann", "ann_k", at),
        ("bob@example.org", None, "Bob", None, at),
    ]:
        await backends.execute(
            repo,
            "INSERT INTO external_customers (external_id, telegram_id, name, username, language,"
            " created_at) VALUES (?, ?, ?, ?, 'en', ?)",
            external,
        )
    for token in [("h1", "crm-77", at, later), ("h2", "bob@example.org", at, later)]:
        await backends.execute(
            repo,
            "INSERT INTO link_tokens (token_hash, external_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            token,
        )
    await backends.execute(
        repo,
        "INSERT INTO awaiting_link (event_id, external_id, event_type, survey, created_at)"
        " VALUES ('e2', 'bob@example.org', 'purchase', 'csat', ?)",
        (at,),
    )


async def test_delete_endpoint_erases_by_telegram_id_or_the_shops_id(api):
    client, repo, erased = api
    await seed(repo)

    resp = await client.delete("/api/v1/customers/424242", headers=AUTH)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["scores_kept"] == 1 and body["erased"] is True
    removed = body["removed"]
    assert removed["name"] == 1 and removed["comment"] == 1
    assert removed["external_id"] == 1 and removed["link_token"] == 1
    assert erased, "the workers were not woken to re-render the alert cards"
    text = await every_text(repo)
    for word in ("Ann", "ann_k", "took 3 days", "crm-77"):
        assert word not in text, f"{word!r} is still stored after DELETE"
    assert "A-1" in text, "the order's context (the shop's data) was deleted"
    rows = await backends.fetch(repo, "SELECT score FROM answers")
    assert [r["score"] for r in rows] == [2]

    resp = await client.delete("/api/v1/customers/bob%40example.org", headers=AUTH)
    assert resp.status == 200
    removed = (await resp.json())["removed"]
    assert (removed["external_id"], removed["link_token"], removed["awaiting_link_event"]) == (
        1,
        1,
        1,
    )
    assert "bob@example.org" not in await every_text(repo)


@pytest.mark.parametrize(
    "key, headers, status",
    [
        ("999", AUTH, 404),
        ("nobody", AUTH, 404),
        ("9" * 30, AUTH, 404),
        ("x" * 129, AUTH, 400),
        ("424242", {}, 401),
        ("424242", {"Authorization": "Bearer wrong"}, 401),
    ],
)
async def test_delete_endpoint_refuses_clearly(api, key, headers, status):
    client, repo, _ = api
    await seed(repo)
    resp = await client.delete(f"/api/v1/customers/{key}", headers=headers)
    assert resp.status == status
    assert "error" in json.loads(await resp.text())
    assert "took 3 days" in await every_text(repo), "a refused request erased something"
