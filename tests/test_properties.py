"""Property-based tests (hypothesis): whatever a caller posts or a user's button carries.

- Intake API: any body, from random JSON to near-valid events with a field missing, extra or of
  the wrong type, huge or odd strings, answers 2xx or 4xx, never 5xx, and a 4xx stores nothing.
- Callback data: random strings and forged but well-formed data, pressed by the owner, another
  customer or a stranger, go through the real dispatcher: nothing raises out of it, the presser
  always gets an answerCallbackQuery (no endless spinner), and no other customer's invitation
  changes.

Each example builds its own app, database and session inside `asyncio.run` (hypothesis runs
examples one after another; function-scoped fixtures would be shared between them).
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import parse_config
from bot.intake.api import IntakeApi
from bot.workers.delivery import DeliveryWorker
from storage.records import NewEvent
from storage.sqlite import open_sqlite

from .test_customer_handlers import press
from .test_manager import NOW, RecordingSession, make_config
from .wiring import wire

TOKEN = "intake-token-0123456789"
OWNER, OTHER, STRANGER = 6001, 6002, 6003
TABLES = ("invitations", "customers", "invitation_context", "answers")

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- the intake API ----------------------------------------------------------------------------


class Huge:
    """A long string that prints short: hypothesis shows failing examples, and a 70 kB repr
    would bury the report (and warn)."""

    def __init__(self, char: str, times: int) -> None:
        self.char, self.times = char, times

    def __repr__(self) -> str:
        return f"{self.char!r} * {self.times}"

    def expand(self) -> str:
        return self.char * self.times


huge = st.builds(Huge, st.characters(), st.integers(250, 70_000))
key = st.one_of(st.text(max_size=20), st.sampled_from(["", "event_id", "type", "\x00", "🙂"]))
text = st.one_of(st.text(max_size=40), huge, st.sampled_from(["", " ", "\x00", "é", "🙂" * 300]))
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**70),
    st.floats(),
    text,
)
any_json = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(key, inner, max_size=4)),
    max_leaves=12,
)


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right shape, sometimes any JSON value at all."""
    return st.one_of(good, good, any_json)


customer = st.fixed_dictionaries(
    {"telegram_id": maybe(st.integers(min_value=-5, max_value=2**64))},
    optional={"name": maybe(text), "language": maybe(st.sampled_from(["en", "ru", "xx", ""]))},
)
near_valid = st.fixed_dictionaries(
    {
        "event_id": maybe(text),
        "type": maybe(st.sampled_from(["purchase", "ticket_closed", "signup", "refund"])),
        "customer": maybe(customer),
    },
    optional={
        "context": maybe(
            st.dictionaries(
                key, st.one_of(text, st.integers(), st.floats(), st.booleans()), max_size=5
            )
        ),
        "delay_seconds": maybe(st.integers(min_value=-10, max_value=10**9)),
    },
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes | Any:
    """Raw bytes, or a JSON value (with `Huge` strings) to encode."""
    kind = draw(st.sampled_from(["near_valid", "extra", "missing", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return draw(any_json)
    body = draw(near_valid)
    if kind == "extra":
        body[draw(key)] = draw(any_json)
    if kind == "missing" and body:
        body.pop(draw(st.sampled_from(sorted(body))))
    return body


def encode(body: bytes | Any) -> bytes:
    if isinstance(body, bytes):
        return body
    return json.dumps(body, default=lambda value: value.expand()).encode()


async def post_once(body: bytes) -> tuple[int, Any, dict[str, int], int]:
    """Post `body` to a fresh intake API; (status, answer, rows stored, wake-ups)."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = {
            "telegram": {"token": "1:abc", "staff_chat_id": -100},
            "api": {"token": TOKEN},
            "storage": {"path": "bot.sqlite3"},
            "triggers": {"signup": {"survey": "nps", "delay": "0s"}},
        }
        config = parse_config(raw, {}, Path(tmp))
        repo = await open_sqlite(config.storage.path)
        woken: list[None] = []
        try:
            app = IntakeApi(config, repo, lambda: NOW, lambda: woken.append(None)).app()
            async with TestClient(TestServer(app)) as client:
                resp = await client.post(
                    "/api/v1/events",
                    data=io.BytesIO(body),
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
                answer = await resp.text()
                status = resp.status
        finally:
            await repo.close()
        conn = sqlite3.connect(config.storage.path)
        try:
            rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        finally:
            conn.close()
        return status, answer, rows, len(woken)


@SETTINGS
@given(body=bodies())
def test_any_body_is_answered_2xx_or_4xx_and_a_4xx_stores_nothing(body: bytes | Any) -> None:
    body = encode(body)
    status, answer, rows, woken = asyncio.run(post_once(body))
    assert status < 500, f"the caller got a server error {status} {answer[:300]} for {body[:300]!r}"
    assert status in (200, 202) or 400 <= status < 500, (status, answer[:300])
    if status >= 400:
        assert rows == dict.fromkeys(TABLES, 0), f"a {status} answer left rows behind: {rows}"
        assert woken == 0, "a refused event woke the delivery worker"
        assert "error" in json.loads(answer), f"a {status} without an error message: {answer}"
    else:
        assert rows["invitations"] == 1, f"an accepted event stored {rows['invitations']} surveys"


# --- callback data -----------------------------------------------------------------------------

small = st.one_of(st.integers(min_value=-2, max_value=4), st.integers())
forged = st.one_of(
    st.builds("s:{}:{}:{}".format, small, small, small),
    st.builds("k:{}:{}".format, small, small),
    st.builds("r:{}:{}".format, small, small),
    st.builds("a:{}:{}".format, st.sampled_from(["t", "r", "c", "o", "x", ""]), small),
    st.builds("{}:{}".format, st.sampled_from(["s", "k", "r", "a"]), st.text(max_size=20)),
    st.builds("s:{}:0:{}:{}".format, small, small, small),
)
callback_data = st.one_of(st.text(max_size=64), forged)
presses = st.lists(
    st.tuples(st.sampled_from([OWNER, OTHER, STRANGER]), callback_data), min_size=1, max_size=4
)


def snapshot(path: Path, customer_id: int) -> list[tuple]:
    """The customer's invitations and answers, as stored."""
    conn = sqlite3.connect(path)
    try:
        invitations = conn.execute(
            "SELECT * FROM invitations WHERE customer_id = ? ORDER BY id", (customer_id,)
        ).fetchall()
        answers = conn.execute(
            "SELECT * FROM answers WHERE customer_id = ? ORDER BY id", (customer_id,)
        ).fetchall()
    finally:
        conn.close()
    return invitations + answers


async def press_all(dp: Dispatcher, taps: list[tuple[int, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(Path(tmp))
        repo = await open_sqlite(config.storage.path)
        try:
            session = RecordingSession()
            bot = Bot("123:abc", session=session)
            worker = DeliveryWorker(
                bot,
                repo,
                config.surveys,
                lambda: NOW,
                expire_after=config.delivery.expire_after,
            )
            wire(dp, bot, repo, config, lambda: NOW, delivery=worker)
            for n, (customer_id, survey) in enumerate([(OWNER, "csat"), (OTHER, "support")]):
                event = NewEvent(f"e{n}", "purchase", survey, customer_id, "C", "en", {}, NOW)
                await repo.invitations.create_invitation(event, NOW)
            await worker.run_once()
            await worker.drain()
            for user_id, data in taps:
                others = {
                    c: snapshot(config.storage.path, c) for c in (OWNER, OTHER) if c != user_id
                }
                update = press(user_id, user_id, data)
                try:
                    await dp.feed_update(bot, update)
                except Exception as exc:
                    raise AssertionError(
                        f"a press of {data!r} by {user_id} raised out of the dispatcher: {exc!r}"
                    ) from exc
                await worker.drain()
                answered = [
                    p
                    for name, p, _ in session.calls
                    if name == "answerCallbackQuery"
                    and p["callback_query_id"] == update.callback_query.id
                ]
                assert answered, (
                    f"user {user_id} pressed a button with {data!r} and got no answer: "
                    "Telegram keeps a spinner on the button"
                )
                for customer_id, before in others.items():
                    assert snapshot(config.storage.path, customer_id) == before, (
                        f"user {user_id} pressing {data!r} changed customer {customer_id}'s survey"
                    )
        finally:
            await repo.close()


@SETTINGS
@given(taps=presses)
def test_any_callback_is_answered_and_never_touches_another_customer(
    dispatcher: Dispatcher, taps: list[tuple[int, str]]
) -> None:
    asyncio.run(press_all(dispatcher, taps))
