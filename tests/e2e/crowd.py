"""Simulated customers for the fault bench (bench/faults.py): each answers a survey in its chat
on the Bot API emulator, as a person would, and records what it did and when.

`Watcher` indexes the emulator's successful calls per chat as they happen; `customer(run, c, t)`
posts the customer's event at `t`, then waits for each question, presses a score, types a comment
or presses Skip, and repeats a press or comment the bot shows no reaction to within `ACK_WAIT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.views.texts import t
from telegram_emulator import BotAPIEmulator, Call

from .harness import API_TOKEN, BotProcess

QUESTIONS = {"purchase": 1, "ticket_closed": 2}  # csat; support = ces then csat
THANKS = t("en", "thanks")  # the survey's last prompt; other buttonless messages are replies
ACK_WAIT = 5.0  # seconds a customer waits for the bot to react before pressing again


# --- what the emulator saw -------------------------------------------------------------------


class Watcher:
    """Indexes the emulator's successful calls per chat as they happen, and wakes waiters."""

    def __init__(self, emulator: BotAPIEmulator) -> None:
        self.by_chat: dict[int, list[Call]] = {}
        self.answered: dict[str, float] = {}  # callback query id -> when answerCallbackQuery
        self._changed = asyncio.Event()
        emulator.subscribe(self._hear)

    def _hear(self, kind: str, data: Any) -> None:
        if kind != "call" or not data.ok:
            return
        if data.method == "answerCallbackQuery":
            self.answered.setdefault(str(data.params.get("callback_query_id")), data.at)
        elif isinstance(data.chat_id, int):
            self.by_chat.setdefault(data.chat_id, []).append(data)
        self._changed.set()
        self._changed = asyncio.Event()

    def sent(self, chat_id: int) -> list[Call]:
        return [c for c in self.by_chat.get(chat_id, []) if c.method == "sendMessage"]

    def edited_at(self, chat_id: int, message_id: int, after: float) -> float | None:
        for call in self.by_chat.get(chat_id, []):
            if (
                call.method == "editMessageText"
                and call.params.get("message_id") == message_id
                and call.at >= after
            ):
                return call.at
        return None

    async def wait(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """The predicate's first truthy value, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() >= deadline:
                return value or None
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), deadline - time.monotonic())


def button_data(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def prompt_key(call: Call) -> tuple[str, int, int] | None:
    """("score" | "followup", invitation, question) of a sent prompt, from its buttons."""
    for data in button_data(call):
        parts = data.split(":")
        if parts[0] == "s" and len(parts) == 4:
            return ("score", int(parts[1]), int(parts[2]))
        if parts[0] == "k" and len(parts) == 3:
            return ("followup", int(parts[1]), int(parts[2]))
    return None


def is_thanks(call: Call) -> bool:
    """The thank-you prompt, not a reply such as "I only collect feedback here" to a message
    typed after the survey ended (a customer repeating a comment the bot was slow to take)."""
    return not button_data(call) and call.params.get("text") == THANKS


# --- the simulated customers -----------------------------------------------------------------


@dataclass
class Press:
    query_id: str
    question: int
    kind: str  # score or skip
    value: int | None
    message_id: int
    at: float


@dataclass
class Comment:
    question: int
    text: str
    message_id: int
    at: float
    acked_at: float | None = None


@dataclass
class Customer:
    user_id: int
    event_id: str
    event_type: str
    invitation: int | None = None
    posted_at: float | None = None
    post_attempts: int = 0
    presses: list[Press] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    finished: bool = False
    stuck: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.event_type,
            "customer": {"telegram_id": self.user_id, "name": f"C{self.user_id}", "language": "en"},
            "context": {"order_id": self.event_id, "product": "Kettle"},
            "delay_seconds": 0,
        }


@dataclass
class Run:
    """One scenario's moving parts."""

    emulator: BotAPIEmulator
    watcher: Watcher
    bot: BotProcess
    rng: random.Random
    deadline: float  # time.monotonic() by which customers give up
    customers: list[Customer] = field(default_factory=list)
    faults: list[tuple[float, float]] = field(default_factory=list)  # (fault ended, back at)
    comment_share: float = 0.5

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    async def wait(self, predicate: Callable[[], Any], timeout: float = float("inf")) -> Any:
        """The predicate's first truthy value, or None after `timeout` s or at the deadline
        (which moves: it is set once the faults are over)."""
        end = time.monotonic() + timeout
        while True:
            left = min(end - time.monotonic(), self.remaining())
            if left <= 0:
                return predicate() or None
            value = await self.watcher.wait(predicate, min(left, 1.0))
            if value:
                return value


async def post_event(run: Run, c: Customer) -> None:
    """POST the event until the intake API accepts it, as a webhook sender retries."""
    while run.remaining() > 0:
        c.post_attempts += 1
        try:
            async with (
                aiohttp.ClientSession() as s,
                s.post(
                    f"{run.bot.api_url}/api/v1/events",
                    json=c.body(),
                    headers={"Authorization": f"Bearer {API_TOKEN}"},
                    timeout=aiohttp.ClientTimeout(total=5),
                ) as r,
            ):
                if r.status in (200, 202):
                    c.invitation = (await r.json())["invitation_id"]
                    c.posted_at = time.time()
                    return
                if r.status < 500:
                    c.stuck = f"intake answered {r.status}"
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass  # the bot is down: try again shortly
        await asyncio.sleep(0.2)
    c.stuck = "the event was never accepted"


async def press_until_acked(run: Run, c: Customer, prompt: Call, data: str, kind: str) -> bool:
    """Press the button until the bot answers the query or edits the message."""
    message = prompt.result
    parts = data.split(":")
    value = int(parts[3]) if kind == "score" else None
    while run.remaining() > 0:
        try:
            query_id = run.emulator.press_button(c.user_id, message, data)
        except ValueError:  # the button is gone: the bot edited the message after a press
            return True
        press = Press(query_id, int(parts[2]), kind, value, message["message_id"], time.time())
        c.presses.append(press)
        acked = await run.wait(
            lambda p=press: (
                run.watcher.answered.get(p.query_id)
                or run.watcher.edited_at(c.user_id, p.message_id, p.at)
            ),
            ACK_WAIT,
        )
        if acked:
            return True
    return False


async def comment_until_acked(run: Run, c: Customer, prompt: Call, question: int) -> bool:
    """Type a comment until the bot closes the follow-up or sends the next prompt."""
    message_id = prompt.result["message_id"]
    while run.remaining() > 0:
        text = f"comment {c.user_id}/{question}/{len(c.comments)} ✓ «ok»"
        comment = Comment(question, text, message_id, time.time())
        c.comments.append(comment)
        run.emulator.user_message(c.user_id, text)

        def reacted(cm: Comment = comment) -> float | None:
            later = [x.at for x in run.watcher.sent(c.user_id) if x.at >= cm.at]
            edited = run.watcher.edited_at(c.user_id, cm.message_id, cm.at)
            return min([*later, *([edited] if edited else [])], default=None)

        comment.acked_at = await run.wait(reacted, ACK_WAIT)
        if comment.acked_at:
            return True
    return False


async def wait_prompt(run: Run, c: Customer, kind: str, question: int) -> Call | None:
    def newest() -> Call | None:
        found = [
            x
            for x in run.watcher.sent(c.user_id)
            if prompt_key(x) == (kind, c.invitation, question)
        ]
        return found[-1] if found else None

    return await run.wait(newest)


async def think(run: Run) -> None:
    await asyncio.sleep(run.rng.uniform(0.1, 1.0))


async def customer(run: Run, c: Customer, post_at: float) -> None:
    await asyncio.sleep(post_at)
    await post_event(run, c)
    if c.invitation is None:
        return
    for question in range(QUESTIONS[c.event_type]):
        prompt = await wait_prompt(run, c, "score", question)
        if prompt is None:
            c.stuck = f"question {question} never arrived"
            return
        await think(run)
        data = run.rng.choice([d for d in button_data(prompt) if d.startswith("s:")])
        if not await press_until_acked(run, c, prompt, data, "score"):
            c.stuck = f"the press on question {question} was never acknowledged"
            return
        followup = await wait_prompt(run, c, "followup", question)
        if followup is None:
            c.stuck = f"the follow-up of question {question} never arrived"
            return
        await think(run)
        if run.rng.random() < run.comment_share:
            acked = await comment_until_acked(run, c, followup, question)
        else:
            skip = next(d for d in button_data(followup) if d.startswith("k:"))
            acked = await press_until_acked(run, c, followup, skip, "skip")
        if not acked:
            c.stuck = f"the follow-up answer of question {question} was never acknowledged"
            return
    thanks = await run.wait(lambda: [x for x in run.watcher.sent(c.user_id) if is_thanks(x)])
    c.finished = bool(thanks)
    if not thanks:
        c.stuck = "the thank-you never arrived"
