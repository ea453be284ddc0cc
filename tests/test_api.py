"""The intake API over real HTTP against a real SQLite file: accepted events and every bad input."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import parse_config
from bot.intake.api import MAX_BODY, IntakeApi
from storage.sqlite import SqliteRepo, open_sqlite
from survey_flows.models import Answer, Category, Metric, Phase, Position

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TOKEN = "intake-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
URL = "/api/v1/events"


@dataclass
class Api:
    client: TestClient
    repo: SqliteRepo
    scheduled: list[None]

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        resp = await self.client.post(URL, data=data, headers=AUTH if headers is None else headers)
        return resp.status, await resp.json()

    async def rows(self) -> dict[str, int]:
        counts = {}
        for table in ("invitations", "customers", "invitation_context", "answers"):
            cursor = await self.repo.database.connection.execute(f"SELECT count(*) FROM {table}")
            (counts[table],) = await cursor.fetchone()
        return counts


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    raw = {
        "telegram": {"token": "1:abc"},
        "api": {"token": TOKEN},
        "storage": {"path": "bot.sqlite3"},
        "triggers": {"signup": {"survey": "nps", "delay": "0s"}},
        "alerts": {"enabled": False},
    }
    config = parse_config(raw, {}, tmp_path)
    repo = await open_sqlite(config.storage.path)
    scheduled: list[None] = []
    app = IntakeApi(config, repo, lambda: NOW, lambda: scheduled.append(None)).app()
    async with TestClient(TestServer(app)) as client:
        yield Api(client, repo, scheduled)
    await repo.close()


def event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": "order-1001",
        "type": "purchase",
        "customer": {"telegram_id": 424242, "name": "Ann", "language": "en"},
        "context": {"order_id": "1001", "product": "Tea"},
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "delay"),
    [
        (event(), timedelta(hours=1)),
        (event(type="ticket_closed", context=None), timedelta(minutes=10)),
        (event(type="signup"), timedelta(0)),
        (event(delay_seconds=90), timedelta(seconds=90)),
        (event(delay_seconds=0), timedelta(0)),
    ],
)
async def test_event_is_scheduled(api: Api, body: dict[str, Any], delay: timedelta) -> None:
    status, data = await api.post(body)
    assert status == 202, f"the caller got {status} {data} for a good event"
    assert data["status"] == "scheduled"
    assert isinstance(data["invitation_id"], int)
    send_at = datetime.fromisoformat(data["send_at"])
    assert send_at == NOW + delay, f"the survey would go out at {send_at}, not {NOW + delay}"
    assert send_at.tzinfo is not None, "send_at without a timezone is ambiguous to callers"
    inv = await api.repo.invitations.get_invitation(data["invitation_id"])
    assert inv is not None and inv.event_id == body["event_id"]
    assert inv.context == body.get("context", {})
    assert len(api.scheduled) == 1, "the delivery worker was not woken for the new invitation"


async def test_same_event_id_returns_same_invitation(api: Api) -> None:
    status, first = await api.post(event())
    assert status == 202
    before = await api.rows()
    status, again = await api.post(event())
    assert status == 200, f"a retried webhook got {status}, not 200"
    assert again == first, "a retried webhook got a different invitation"
    assert await api.rows() == before, "a retried webhook stored something new"
    assert len(api.scheduled) == 1


@pytest.mark.parametrize(
    "changed",
    [
        {"delay_seconds": 5},
        {"context": {"x": "y"}},
        {"type": "ticket_closed"},
        {"customer": {"telegram_id": 777, "name": "Bob"}},
    ],
)
async def test_reused_event_id_with_another_body_is_409(api: Api, changed: dict) -> None:
    status, first = await api.post(event())
    assert status == 202
    before = await api.rows()
    status, data = await api.post(event(**changed))
    assert status == 409, f"a reused event_id with another body ({changed}) was answered {status}"
    assert data["event_id"] == "order-1001", data
    assert data["invitation_id"] == first["invitation_id"]
    assert "different body" in data["error"]
    assert await api.rows() == before, "a conflicting repeat changed what was stored"


async def test_replay_answers_the_current_status(api: Api) -> None:
    """A shop replaying a webhook days later learns where the survey stands, not "scheduled"."""
    status, first = await api.post(event())
    await api.repo.customers.opt_out(424242, NOW)
    status, again = await api.post(event())
    assert status == 200
    assert again["status"] == "cancelled", f"the replay still said {again['status']!r}"
    assert again["reason"] == "opted_out"
    resp = await api.client.get(f"/api/v1/invitations/{first['invitation_id']}", headers=AUTH)
    shown = await resp.json()
    assert (shown["status"], shown["reason"]) == ("cancelled", "opted_out"), shown


async def test_context_values_may_be_numbers_and_booleans(api: Api) -> None:
    body = event(context={"order_id": 1001, "amount": 12.5, "gift": True, "product": "Tea"})
    status, data = await api.post(body)
    assert status == 202, f"a context with numbers was refused: {data}"
    inv = await api.repo.invitations.get_invitation(data["invitation_id"])
    assert inv is not None
    assert inv.context == {"order_id": "1001", "amount": "12.5", "gift": "true", "product": "Tea"}


async def test_concurrent_posts_of_one_event_make_one_invitation(api: Api) -> None:
    results = await asyncio.gather(*(api.post(event()) for _ in range(50)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 49 + [202], statuses
    assert len({data["invitation_id"] for _, data in results}) == 1
    assert (await api.rows())["invitations"] == 1, "one webhook burst made several surveys"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer "},
    ],
)
async def test_missing_or_wrong_token_is_401(api: Api, headers: dict[str, str]) -> None:
    status, data = await api.post(event(), headers=headers)
    assert status == 401, f"an unauthenticated caller got {status}"
    assert "error" in data
    assert (await api.rows())["invitations"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "JSON"),
        (b"", "JSON"),
        (b"\xff\xfe", "JSON"),
        ([event()], "object"),
        ("just a string", "object"),
        (42, "object"),
        (None, "object"),
        (event(type="refund"), "type"),
        (event(type=1), "type"),
        (event(event_id=None), "event_id"),
        (event(event_id=""), "event_id"),
        (event(event_id=7), "event_id"),
        (event(type=None), "type"),
        (event(customer=None), "customer"),
        (event(customer="424242"), "customer"),
        (event(customer={"name": "Ann"}), "customer.telegram_id"),
        (event(customer={"telegram_id": "424242"}), "customer.telegram_id"),
        (event(customer={"telegram_id": True}), "customer.telegram_id"),
        (event(customer={"telegram_id": 4.0}), "customer.telegram_id"),
        (event(customer={"telegram_id": -5}), "customer.telegram_id"),
        (event(customer={"telegram_id": 1, "name": 5}), "customer.name"),
        (event(context={"order_id": None}), "context.order_id"),
        (event(context={"order": {"id": "1"}}), "context.order"),
        (event(context={"tags": ["a"]}), "context.tags"),
        (event(context=["order_id"]), "context"),
        (event(delay_seconds=-1), "delay_seconds"),
        (event(delay_seconds=1.5), "delay_seconds"),
        (event(delay_seconds=60.0), "delay_seconds"),
        (event(delay_seconds="60"), "delay_seconds"),
        (event(delay_seconds=True), "delay_seconds"),
        (event(colour="red"), "colour"),
        # PostgreSQL refuses NUL in text: bad input on either backend, named, never a 500.
        (event(event_id="ord\x001"), "event_id"),
        (event(context={"note": "a\x00b"}), "context.note"),
        (event(customer={"telegram_id": 1, "name": "A\x00nn"}), "customer.name"),
    ],
)
async def test_bad_input_is_400_naming_the_field_and_stores_nothing(
    api: Api, body: Any, field: str
) -> None:
    status, data = await api.post(body)
    assert status == 400, f"the caller got {status} {data} for a bad event ({field})"
    assert set(data) == {"error"}
    assert field in data["error"], f"the caller was told {data['error']!r}, not about {field}"
    assert await api.rows() == {
        "invitations": 0,
        "customers": 0,
        "invitation_context": 0,
        "answers": 0,
    }, "a rejected event left rows behind"
    assert api.scheduled == []


async def test_body_over_64_kib_is_413(api: Api) -> None:
    big = json.dumps(event(context={"note": "x" * 1000, "pad": "y" * MAX_BODY})).encode()
    assert len(big) > MAX_BODY
    status, data = await api.post(big)
    assert status == 413, f"a {len(big)}-byte body got {status}"
    assert "error" in data
    assert (await api.rows())["invitations"] == 0


async def test_body_just_under_the_limit_is_read(api: Api) -> None:
    body = json.dumps(event())
    body = body[:-1] + " " * (MAX_BODY - len(body)) + "}"
    assert len(body) == MAX_BODY
    status, _ = await api.post(body.encode())
    assert status == 202, "a body of exactly 64 KiB was refused"


async def test_chunked_body_over_the_limit_is_413(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"event_id": "big", "pad": "'
        for _ in range(20):
            yield b"z" * 8192
        yield b'"}'

    resp = await api.client.post(URL, data=chunks(), headers=AUTH)
    assert resp.status == 413, "a streamed body without Content-Length bypassed the size limit"


async def test_health(api: Api) -> None:
    resp = await api.client.get("/api/v1/health")
    assert resp.status == 200
    # No staff chat configured here: alerts are off (the field is new; staff chat states are
    # tested in tests/test_alert_delivery.py).
    assert await resp.json() == {"status": "ok", "staff_chat": "disabled"}


# --- POST /api/v1/events:batch and occurred_at ----------------------------------------------

BATCH_URL = "/api/v1/events:batch"


async def post_batch(api: Api, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    resp = await api.client.post(BATCH_URL, data=data, headers=AUTH)
    return resp.status, await resp.json()


async def test_batch_answers_each_event_as_a_single_post_would(api: Api) -> None:
    await api.post(event(event_id="old", context={"order_id": "1"}))
    events = [
        event(event_id="b-1"),
        event(event_id="old", context={"order_id": "1"}),  # a retry: 200
        event(event_id="old", context={"order_id": "2"}),  # reused id, other body: 409
        event(event_id="b-2", type="refund"),  # unknown type: 400
        "not an event",  # 400
        event(event_id="b-1"),  # the first item again, within the same batch: 200
        event(event_id="b-3", customer={"telegram_id": 5150}),
    ]
    status, data = await post_batch(api, {"events": events})
    assert status == 200, data
    statuses = [(r["index"], r["status"]) for r in data["results"]]
    assert statuses == [(0, 202), (1, 200), (2, 409), (3, 400), (4, 400), (5, 200), (6, 202)]
    assert (data["accepted"], data["duplicates"], data["rejected"]) == (2, 2, 3)
    assert "type" in data["results"][3]["error"]
    assert data["results"][2]["event_id"] == "old"
    assert data["results"][5]["invitation_id"] == data["results"][0]["invitation_id"]
    for item in (data["results"][0], data["results"][6]):
        inv = await api.repo.invitations.get_invitation(item["invitation_id"])
        assert inv is not None and inv.status.value == "scheduled", "an accepted event is missing"
        assert item["invitation_status"] == "scheduled"
    assert (await api.rows())["invitations"] == 3
    assert len(api.scheduled) == 2, "the delivery worker was not woken for the batch"


async def test_batch_of_1000_is_accepted_and_1001_refused(api: Api) -> None:
    events = [event(event_id=f"e-{i}", customer={"telegram_id": 10 + i}) for i in range(1001)]
    status, data = await post_batch(api, {"events": events})
    assert status == 400 and "at most 1000" in data["error"], data
    assert (await api.rows())["invitations"] == 0, "a refused batch stored events"
    status, data = await post_batch(api, {"events": events[:1000]})
    assert status == 200, data
    assert data["accepted"] == 1000 and len(data["results"]) == 1000
    assert (await api.rows())["invitations"] == 1000
    status, data = await post_batch(api, {"events": events[:1000]})
    assert data["duplicates"] == 1000, "the same batch again was not recognised as retries"
    assert (await api.rows())["invitations"] == 1000


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{nope", "JSON"),
        ([event()], "object"),
        ({"event": [event()]}, "object"),
        ({"events": [event()], "extra": 1}, "object"),
        ({"events": event()}, "events: must be a list"),
    ],
)
async def test_malformed_batch_envelope_is_400(api: Api, body: Any, message: str) -> None:
    status, data = await post_batch(api, body)
    assert status == 400 and message in data["error"], data
    assert (await api.rows())["invitations"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", URL),
        ("POST", "/api/v1/events:batch"),
        ("GET", "/api/v1/invitations/1"),
        ("GET", "/api/v1/customers/shop-7/link"),
        ("DELETE", "/api/v1/customers/424242"),
    ],
)
async def test_every_route_but_health_needs_the_token(api: Api, method: str, path: str) -> None:
    resp = await api.client.request(method, path, data=b"{not json")
    assert resp.status == 401, f"{method} {path} answered {resp.status} without a token"
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert await resp.read() == b'{"error": "missing or wrong bearer token"}'
    health = await api.client.get("/api/v1/health")
    assert health.status == 200, "the health probe needs no token"
    unknown = await api.client.get("/api/v1/nothing-here", headers=AUTH)
    assert unknown.status == 404


@pytest.mark.parametrize("path", [URL, "/api/v1/events:batch"])
async def test_a_body_that_is_not_json_is_named_so(api: Api, path: str) -> None:
    resp = await api.client.post(path, data=b"{not json", headers=AUTH)
    assert resp.status == 400
    assert await resp.read() == (
        b'{"error": "body is not valid JSON: Expecting property name enclosed in double quotes:'
        b' line 1 column 2 (char 1)"}'
    )


async def test_batch_needs_the_token(api: Api) -> None:
    resp = await api.client.post(BATCH_URL, json={"events": [event()]})
    assert resp.status == 401
    assert (await api.rows())["invitations"] == 0


async def test_occurred_at_sets_when_the_survey_is_due(api: Api) -> None:
    happened = NOW - timedelta(hours=5)
    status, data = await api.post(event(occurred_at=happened.isoformat()))
    assert status == 202, data
    # purchase waits 1 h after the event: due 4 h ago, so the worker sends it at once.
    assert datetime.fromisoformat(data["send_at"]) == happened + timedelta(hours=1)
    status, data = await api.post(event(event_id="naive", occurred_at="2024-05-01T10:00:00"))
    assert datetime.fromisoformat(data["send_at"]) == datetime(2024, 5, 1, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "message"),
    [("yesterday-ish", "ISO 8601"), ((NOW + timedelta(days=1)).isoformat(), "future")],
)
async def test_bad_occurred_at_is_400(api: Api, when: str, message: str) -> None:
    status, data = await api.post(event(occurred_at=when))
    assert status == 400 and "occurred_at" in data["error"] and message in data["error"], data
    assert (await api.rows())["invitations"] == 0


async def test_an_invitations_answers_name_the_metrics_own_category(api: Api) -> None:
    """The shop reading a CSAT 2 sees "unsatisfied", not the NPS word "detractor"."""
    status, data = await api.post(event())
    assert status == 202
    inv = await api.repo.invitations.get_invitation(data["invitation_id"])
    assert inv is not None and await api.repo.outbox.claim_prompt(inv, inv.send_at)
    await api.repo.outbox.mark_prompt_sent(inv, 1)
    inv = await api.repo.invitations.get_invitation(inv.id)
    assert inv is not None
    answer = Answer(inv.id, 0, Metric.CSAT, 2, Category.DETRACTOR, inv.send_at)
    assert await api.repo.conversation.record_score(inv, Position(0, Phase.FOLLOWUP), answer)
    resp = await api.client.get(f"/api/v1/invitations/{inv.id}", headers=AUTH)
    (shown,) = (await resp.json())["answers"]
    assert (shown["metric"], shown["score"], shown["category_name"]) == ("csat", 2, "unsatisfied")
