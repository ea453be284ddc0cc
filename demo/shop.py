"""The simulated shop: its systems post events to the real intake API, its customers answer the
bot's questions in the emulator, and one support agent takes and resolves some alerts."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import re
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp

from survey_flows.models import Metric
from telegram_emulator import BotAPIEmulator, Call

from .people import CHANNELS, PRODUCTS, Persona, comment_for, score_for
from .world import SIM_STAFF, STAFF_CHAT, YOU_CUSTOMER, FastClock

logger = logging.getLogger(__name__)

# Events per customer per simulated day, and the kinds a shop's systems report.
EVENTS_PER_DAY = 1.5
KINDS = {"purchase": 45, "delivered": 30, "ticket_closed": 25}
METRIC_BY_BUTTONS = {5: Metric.CSAT, 11: Metric.NPS, 7: Metric.CES}
# The reasons Olga picks when she resolves (the default [alerts] reasons, in English).
REASONS = ("Delivery", "Delivery", "Quality", "Price", "Support", "Other")
STAFF_REPLIES = [
    "Hi, this is Olga from support. Sorry about this! We are sending a replacement today.",
    "Hello! I have refunded the delivery fee. Thank you for telling us.",
]


@dataclass(slots=True)
class ShopFigures:
    events: int = 0
    scores: int = 0
    comments: int = 0
    alerts_taken: int = 0
    alerts_resolved: int = 0
    seconds: float = 0.0


class Shop:
    def __init__(
        self,
        emulator: BotAPIEmulator,
        people: list[Persona],
        clock: FastClock,
        api_url: str,
        api_token: str,
        rng: random.Random,
    ) -> None:
        self._emulator, self._people, self._clock = emulator, people, clock
        self._by_id = {p.telegram_id: p for p in people}
        self._api_url, self._api_token, self._rng = api_url, api_token, rng
        self._tasks: set[asyncio.Task[None]] = set()
        self._run = f"{int(time.time())}"
        self._numbers = itertools.count(1)
        self.figures = ShopFigures()
        self._last_score: dict[int, tuple[Metric, int]] = {}  # what each customer last gave
        self._session: aiohttp.ClientSession | None = None
        self._unsubscribe = emulator.subscribe(self._on_event)

    async def post_event(self, kind: str, persona: Persona | None, delay: int | None) -> int:
        """Post one event to the intake API as the shop's systems would; returns the status."""
        n = next(self._numbers)
        if persona is None:  # you, from the page's button
            customer: dict[str, Any] = {
                "telegram_id": YOU_CUSTOMER,
                "name": "You",
                "language": "en",
            }
        else:
            customer = {
                "telegram_id": persona.telegram_id,
                "name": persona.name,
                "language": persona.language,
            }
        context: dict[str, Any] = {"channel": self._rng.choice(CHANNELS)}
        if kind == "ticket_closed":
            context["ticket_id"] = f"T-{n}"
        else:
            context |= {"order_id": f"A-{n}", "product": self._rng.choice(PRODUCTS)}
        body: dict[str, Any] = {
            "event_id": f"demo-{self._run}-{n}",
            "type": kind,
            "customer": customer,
            "context": context,
        }
        if delay is not None:
            body["delay_seconds"] = delay
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            f"{self._api_url}/api/v1/events",
            json=body,
            headers={"Authorization": f"Bearer {self._api_token}"},
        ) as response:
            if response.status == 202:
                self.figures.events += 1
            else:
                logger.warning("event refused: %s %s", response.status, await response.text())
            return response.status

    async def run(self) -> None:
        """Post events at the shop's pace: a first handful at once, then about
        EVENTS_PER_DAY per customer per simulated day."""
        responders = [p for p in self._people[1:] if p.responds]
        first = [self._people[0], *self._rng.sample(responders, min(5, len(responders)))]
        for persona in first:
            await self.post_event(self._kind(), persona, 0)
        per_real_second = len(self._people) * EVENTS_PER_DAY / 86400 * self._clock.factor
        while True:
            await asyncio.sleep(self._rng.expovariate(per_real_second))
            await self.post_event(self._kind(), self._rng.choice(self._people), None)

    async def close(self) -> None:
        self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def _kind(self) -> str:
        return self._rng.choices(list(KINDS), weights=list(KINDS.values()))[0]

    # --- people reacting to what the bot sent ------------------------------------------------

    def _on_event(self, kind: str, data: Any) -> None:
        if kind != "call" or not isinstance(data, Call) or not data.ok:
            return
        if data.method != "sendMessage" or not isinstance(data.chat_id, int):
            return
        message = data.result
        if not isinstance(message, dict):
            return
        buttons = [
            b
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]
        if not buttons:
            return
        persona = self._by_id.get(data.chat_id)
        if persona is not None:
            self._later(self._customer_reacts(persona, message, buttons))
        elif data.chat_id == STAFF_CHAT and any(b["text"] == "Take" for b in buttons):
            self._later(self._agent_works(message))

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pause(self, low_minutes: float, high_minutes: float) -> None:
        minutes = self._rng.uniform(low_minutes, high_minutes)
        await asyncio.sleep(self._clock.real_seconds(timedelta(minutes=minutes)))

    def _press(self, user_id: int, chat_id: int, message_id: int, data: str) -> bool:
        try:
            self._emulator.press_button(user_id, message_id, data, chat_id=chat_id)
        except ValueError:
            return False  # the button is gone (answered, expired): a person would shrug
        return True

    async def _customer_reacts(self, persona: Persona, message: dict, buttons: list) -> None:
        if not persona.responds:
            return
        chat, message_id = persona.telegram_id, message["message_id"]
        # Buttons by their callback prefix (bot/views/callbacks.py): s = score, k = skip,
        # r = "did it help?"; "Don't ask me again" (x) under a first question is left alone.
        numeric = [b for b in buttons if b["callback_data"].startswith("s:")]
        buttons = [b for b in buttons if not b["callback_data"].startswith("x:")]
        await self._pause(3, 45)
        if numeric and len(numeric) == len(buttons) and len(buttons) in METRIC_BY_BUTTONS:
            if self._rng.random() < 0.1:
                return  # saw it, never answered
            metric = METRIC_BY_BUTTONS[len(buttons)]
            score = score_for(persona, metric, self._rng)
            wanted = next(b for b in numeric if int(b["text"].split()[0]) == score)
            if self._press(chat, chat, message_id, wanted["callback_data"]):
                self.figures.scores += 1
                self._last_score[chat] = (metric, score)
        elif len(buttons) == 1:  # the "why?" follow-up with its Skip button
            metric_score = self._last_score.get(chat)
            if metric_score is not None and self._rng.random() < persona.comments:
                text = comment_for(persona, *metric_score, self._rng)
                self._emulator.user_message(
                    chat, text, first_name=persona.name, language_code=persona.language
                )
                self.figures.comments += 1
            else:
                self._press(chat, chat, message_id, buttons[0]["callback_data"])
        elif len(buttons) == 2 and self._rng.random() < 0.8:  # "did it help?"
            pick = buttons[0] if self._rng.random() < 0.75 else buttons[1]
            self._press(chat, chat, message_id, pick["callback_data"])

    async def _agent_works(self, card: dict) -> None:
        """Olga takes most alerts within the hour, writes to the customer, resolves them.

        Alerts about you are left for you to handle in the Support team chat."""
        about_you = re.search(rf"\bid {YOU_CUSTOMER}\b", card.get("text") or "")
        if about_you or self._rng.random() < 0.25:
            return
        message_id = card["message_id"]
        await self._pause(5, 50)
        if not self._press_labelled(message_id, "Take"):
            return
        self.figures.alerts_taken += 1
        await self._pause(5, 40)
        if self._rng.random() < 0.6:
            with contextlib.suppress(ValueError):
                self._emulator.group_message(
                    STAFF_CHAT,
                    SIM_STAFF,
                    self._rng.choice(STAFF_REPLIES),
                    reply_to=message_id,
                )
        await self._pause(20, 120)
        if not self._press_labelled(message_id, "Resolved"):
            return
        # The card now asks why: she picks the reason (the bot edits the buttons first).
        for _ in range(50):  # up to 5 s of real time
            await asyncio.sleep(0.1)
            reason = self._rng.choice(REASONS)
            if self._press_labelled(message_id, reason):
                self.figures.alerts_resolved += 1
                return

    def _press_labelled(self, message_id: int, label: str) -> bool:
        now = next(
            (m for m in self._emulator.messages(STAFF_CHAT) if m["message_id"] == message_id), None
        )
        if now is None:
            return False
        markup = (now.get("reply_markup") or {}).get("inline_keyboard", [])
        button = next((b for row in markup for b in row if b.get("text") == label), None)
        if button is None:
            return False
        return self._press(SIM_STAFF, STAFF_CHAT, message_id, button["callback_data"])
