"""The demo page's server against a real emulator (no bot): what you do in a chat shows in that
chat, live over server-sent events, and bad input gets a clear 400 and changes nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from demo.web import DemoPage
from demo.world import STAFF_CHAT, YOU_CUSTOMER, Chats
from telegram_emulator import BotAPIEmulator


@pytest.fixture
async def page() -> AsyncIterator[tuple[TestClient, BotAPIEmulator, list[int]]]:
    emulator = BotAPIEmulator()
    await emulator.start()
    emulator.add_group(STAFF_CHAT, title="Support team")
    asked: list[int] = []

    async def survey_me() -> int:
        asked.append(1)
        return 202

    client = TestClient(TestServer(DemoPage(emulator, Chats(), survey_me).app()))
    await client.start_server()
    yield client, emulator, asked
    await client.close()
    await emulator.stop()


async def test_the_page_and_its_script_are_served(page) -> None:
    client, _emulator, _asked = page
    html = await (await client.get("/")).text()
    assert 'data-chat="customer"' in html and "Send me a survey" in html
    script = await client.get("/static/app.js")
    assert script.status == 200 and "textContent" in await script.text()
    assert (await client.get("/static/../world.py")).status == 404
    assert (await client.get("/static/nothing.js")).status == 404


async def test_a_message_you_write_appears_live_in_that_chat_as_text(page) -> None:
    client, emulator, _asked = page
    events = await client.get("/api/events")
    hostile = '<img src=x onerror="alert(1)">'
    sent = await client.post("/api/send", json={"chat": "customer", "text": hostile})
    assert sent.status == 200
    # The live stream carries the chat's new view; the page puts text in with textContent.
    async with asyncio.timeout(5):
        while True:
            line = (await events.content.readline()).decode()
            if line.startswith("data:") and "messages" in line:
                view = json.loads(line[5:])
                break
    assert view["key"] == "customer"
    assert view["messages"][-1]["text"] == hostile
    assert emulator.messages(YOU_CUSTOMER)[-1]["from"]["first_name"] == "You"
    events.close()


async def test_you_write_in_the_staff_group_as_a_member(page) -> None:
    client, emulator, _asked = page
    assert (await client.post("/api/send", json={"chat": "staff", "text": "hi team"})).status == 200
    chats = await (await client.get("/api/chats")).json()
    assert chats["staff"]["messages"][-1]["text"] == "hi team"
    assert emulator.messages(STAFF_CHAT)[-1]["from"]["last_name"] == "(support)"


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/api/send", {"chat": "boss", "text": "x"}, "chat: one of customer, staff, manager"),
        ("/api/send", {"chat": "customer", "text": "  "}, "text: 1 to 4096 characters"),
        ("/api/send", {"chat": "customer", "text": "x" * 4097}, "text: 1 to 4096 characters"),
        ("/api/send", {"chat": "customer", "text": "x", "reply_to": "1"}, "reply_to: a message id"),
        ("/api/send", ["chat"], "body must be a JSON object"),
        ("/api/press", {"chat": "customer", "message_id": 1}, "message_id (a number) and"),
        (
            "/api/press",
            {"chat": "customer", "message_id": 99, "callback_data": "s:1:0:5"},
            "that button is no longer there",
        ),
    ],
)
async def test_bad_input_is_refused_clearly(page, path: str, body: object, error: str) -> None:
    client, emulator, _asked = page
    response = await client.post(path, json=body)
    assert response.status == 400
    assert (await response.json())["error"].startswith(error)
    assert emulator.messages(YOU_CUSTOMER) == [], "a refused request changed a chat"


async def test_send_me_a_survey_asks_the_shop(page) -> None:
    client, _emulator, asked = page
    response = await client.post("/api/survey-me")
    assert response.status == 200 and (await response.json())["status"] == 202
    assert asked == [1]


async def test_an_unknown_file_is_404(page) -> None:
    client, _emulator, _asked = page
    assert (await client.get("/api/files/nope")).status == 404
