"""Fault bench: surveys answered by simulated customers while the bot crashes and Telegram fails.

Run by hand from the repository root (the project installed, see README.md):

    python bench/faults.py --quick      # about a minute: 40 surveys, 2 kills, 3 s storm, 5 s outage
    python bench/faults.py              # 200 surveys, 5 kills, 10 s 429 storm, 30 s outage
    python bench/faults.py --surveys 300 --kills 8 --seed 7

The Bot API emulator runs in this process; the real bot runs as a subprocess (`python -m bot run`,
the end-to-end tests' harness) against it, with a temporary SQLite file. Three scenarios, each on
a fresh bot and emulator:

- kill -9: surveys posted to the intake API over a window while the bot process is SIGKILLed at
  random moments and restarted at once;
- 429 storm: every Bot API call but getUpdates refused with 429 and retry_after for a while;
- outage: the Bot API answers 502 to every call for the first half, then refuses connections
  (its listening socket closed) for the second half, and comes back on the same port.

Customers are asyncio tasks: each waits for its question in its chat, presses a score (by the
button's callback data), then types a comment or presses Skip, for every question of its survey.
A press or comment the bot does not acknowledge within a few seconds is repeated, as a person
would. What is measured (see `measure`): answers lost, invitations whose first question never
arrived, questions shown twice, and the longest time a customer waited because of a fault.
Exit status 1 when a figure misses its target; the last line holds every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram_emulator import BotAPIEmulator
from tests.e2e.crowd import (
    QUESTIONS,
    Comment,
    Customer,
    Run,
    Watcher,
    customer,
    is_thanks,
    prompt_key,
)
from tests.e2e.harness import BOT_TOKEN, BotProcess

TRIGGERS = """
[triggers.purchase]
survey = "csat"
delay = "0s"

[triggers.ticket_closed]
survey = "support"
delay = "0s"
"""
FIRST_USER = 7_000_001
NOT_STORMED = {"getUpdates", "getMe", "deleteWebhook"}  # Telegram does not rate-limit polling


# --- faults ----------------------------------------------------------------------------------


class Refusals:
    """Every call of the given methods fails while active: one failure is armed per method and
    re-armed each time one is used up (the emulator records a refused call synchronously, so no
    call slips through). After `lift()` at most one armed refusal per method remains."""

    def __init__(self, emulator: BotAPIEmulator, methods: list[str], **failure: Any) -> None:
        self.emulator, self.methods, self.failure = emulator, set(methods), failure
        self.active = False
        self.refused = 0
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self.active = True
        for method in self.methods:
            self.emulator.fail_next(method, **self.failure)
        self._unsubscribe = self.emulator.subscribe(self._hear)

    def _hear(self, kind: str, call: Any) -> None:
        if (
            self.active
            and kind == "call"
            and call.method in self.methods
            and call.error_code == self.failure["error_code"]
        ):
            self.refused += 1
            self.emulator.fail_next(call.method, **self.failure)

    def lift(self) -> None:
        self.active = False
        if self._unsubscribe:
            self._unsubscribe()


async def killer(run: Run, kills: int, window: float) -> None:
    """SIGKILL the bot at `kills` random moments within `window` s, restarting it each time."""
    start = time.monotonic()
    moments = sorted(run.rng.uniform(0.5, window) for _ in range(kills))
    for moment in moments:
        await asyncio.sleep(max(run.rng.uniform(0.2, 0.8), moment - (time.monotonic() - start)))
        killed = time.time()
        await run.bot.kill()
        await run.bot.start()
        run.faults.append((killed, time.time()))


async def storm(run: Run, seconds: float) -> None:
    methods = [m for m in run.emulator.method_names if m not in NOT_STORMED]
    retry_after = max(1, round(seconds / 3))
    refusals = Refusals(run.emulator, methods, error_code=429, retry_after=retry_after)
    await asyncio.sleep(1.0)  # let the first conversations start
    refusals.start()
    await asyncio.sleep(seconds)
    refusals.lift()
    run.faults.append((time.time(), time.time()))
    print(f"  429 storm: {refusals.refused} calls refused in {seconds:g} s", flush=True)


async def outage(run: Run, seconds: float) -> None:
    """502 for every call for half the time, then connection refused, then back on the port."""
    refusals = Refusals(run.emulator, run.emulator.method_names, error_code=502)
    await asyncio.sleep(1.0)  # let the first conversations start
    refusals.start()
    await asyncio.sleep(seconds / 2)
    refusals.lift()
    port = int(run.emulator.base_url.rsplit(":", 1)[1])
    await run.emulator.stop()
    await asyncio.sleep(seconds / 2)
    await run.emulator.start(port=port)
    run.faults.append((time.time(), time.time()))
    print(
        f"  outage: {refusals.refused} calls answered 502, then {seconds / 2:g} s refused",
        flush=True,
    )


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Figures:
    scenario: str
    surveys: int
    kills: int = 0
    answers_lost: int = 0
    comments_lost: int = 0
    first_missing: int = 0
    duplicates: int = 0
    reasks: int = 0
    thanks_duplicates: int = 0
    max_recover: float = 0.0
    delivered_presses: int = 0
    stuck: list[str] = field(default_factory=list)


Waits = list[tuple[float, float]]  # (asked at, served at) of what a customer waited for
Answers = dict[tuple[int, int], sqlite3.Row]


def read_db(path: Path) -> tuple[dict[str, int], Answers]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        invitations = {
            r["event_id"]: r["id"] for r in conn.execute("SELECT id, event_id FROM invitations")
        }
        answers = {
            (r["invitation_id"], r["question_index"]): r
            for r in conn.execute(
                "SELECT invitation_id, question_index, score, comment FROM answers"
            )
        }
    finally:
        conn.close()
    return invitations, answers


def measure(run: Run, name: str, kills: int) -> Figures:
    """Figures from the stored SQLite file and the emulator's record of successful calls.

    - answers lost: (invitation, question) pairs where the customer's score press reached the bot
      (its callback query was answered or the question edited after it) but no answer with that
      score is stored; comments lost likewise (the bot edited the follow-up or sent the next
      prompt after the comment was typed, but the comment is not stored, alone or joined with
      others typed at that follow-up, or is stored with words typed at another question).
    - first question missing: an accepted event whose invitation never showed question 0.
    - duplicates: successful sendMessage calls of a prompt (question or follow-up, told apart by
      their buttons' invitation and question) with the same text beyond the first, per customer,
      and thank-yous beyond the first; a question asked again under the bot's answer to a message
      typed at it ("Thanks, noted. Please also tap a score:") is counted apart (re-asked).
    - recover: for each fault, the longest wait, counted from when the fault ended (a kill: the
      SIGKILL; a storm or outage: when lifted), of anything a customer was waiting for at that
      moment: a first question of an accepted event, an answer to a press, a reaction to a
      comment; for a kill at least until the restarted bot polled again.
    """
    invitations, answers = read_db(run.bot.db_path)
    f = Figures(name, len(run.customers), kills)
    waits: Waits = []
    for c in run.customers:
        if c.stuck:
            f.stuck.append(f"{c.user_id}: {c.stuck}")
        if c.invitation is None:
            continue
        if invitations.get(c.event_id) != c.invitation:
            f.stuck.append(
                f"{c.user_id}: the intake API and the database disagree on the invitation"
            )
        waits += _count_prompts(f, c, c.invitation, run.watcher)
        waits += _press_waits(c, run.watcher)
        _count_answers(f, c, c.invitation, run.watcher, answers)
        waits += _count_comments(f, c, c.invitation, answers)
    f.max_recover = _max_recover(run.faults, waits)
    return f


def _count_prompts(f: Figures, c: Customer, invitation: int, w: Watcher) -> Waits:
    """First question missing, duplicates, re-asks and extra thank-yous of one customer; the
    wait for the first question."""
    sent = w.sent(c.user_id)
    firsts = [x.at for x in sent if prompt_key(x) == ("score", invitation, 0)]
    waits = []
    if not firsts:
        f.first_missing += 1
    elif c.posted_at is not None:
        waits.append((c.posted_at, firsts[0]))
    # The same prompt with the same text again is a duplicate; with other words (a question
    # asked again under "Thanks, noted. Please also tap a score:" because the customer typed
    # at it) it is the bot's answer to a message, counted apart.
    shown = [(k, x.params.get("text")) for x in sent if (k := prompt_key(x))]
    ours = [(k, text) for k, text in shown if k[1] == invitation]
    prompts = Counter(k for k, _ in ours)
    f.duplicates += sum(n - 1 for n in Counter(ours).values())
    f.reasks += sum(n - 1 for n in prompts.values()) - sum(n - 1 for n in Counter(ours).values())
    f.thanks_duplicates += max(0, sum(1 for x in sent if is_thanks(x)) - 1)
    return waits


def _press_waits(c: Customer, w: Watcher) -> Waits:
    """Each press that was answered or followed by an edit: from the press to the first of them."""
    waits = []
    for p in c.presses:
        served = [
            t
            for t in (w.answered.get(p.query_id), w.edited_at(c.user_id, p.message_id, p.at))
            if t is not None
        ]
        if served:
            waits.append((p.at, min(served)))
    return waits


def _count_answers(f: Figures, c: Customer, invitation: int, w: Watcher, answers: Answers) -> None:
    """Delivered score presses, and those whose score is not stored (answers lost)."""
    scored = {p.question: p.value for p in c.presses if p.kind == "score"}
    for question, value in scored.items():
        delivered = [
            p
            for p in c.presses
            if p.kind == "score"
            and p.question == question
            and (w.answered.get(p.query_id) or w.edited_at(c.user_id, p.message_id, p.at))
        ]
        if not delivered:
            continue
        f.delivered_presses += 1
        row = answers.get((invitation, question))
        if row is None or row["score"] != value:
            f.answers_lost += 1


def _count_comments(f: Figures, c: Customer, invitation: int, answers: Answers) -> Waits:
    """Comments lost of one customer; the wait for each comment's acknowledgement."""
    typed: dict[int, list[Comment]] = {cm.question: [] for cm in c.comments}
    for cm in c.comments:
        typed[cm.question].append(cm)
    waits = []
    for question, comments in typed.items():
        if any(cm.acked_at for cm in comments):
            # Kept: the stored comment is one or more (joined) of the messages typed at
            # this follow-up, and none typed at another question.
            row = answers.get((invitation, question))
            stored = (row["comment"] or "").split("\n") if row else []
            if not stored or not set(stored) <= {cm.text for cm in comments}:
                f.comments_lost += 1
        waits += [(cm.at, cm.acked_at) for cm in comments if cm.acked_at]
    return waits


def _max_recover(faults: list[tuple[float, float]], waits: Waits) -> float:
    """The longest wait after any fault ended, of what was being waited for at that moment."""
    longest = 0.0
    for ended, back in faults:
        worst = back - ended
        for asked, served in waits:
            if asked <= ended < served:
                worst = max(worst, served - ended)
        longest = max(longest, worst)
    return longest


def recorded(kind: str, data: Any) -> dict[str, Any]:
    """One emulator event as JSON: a Bot API call (with when it was answered) or an update."""
    if kind == "call":
        return {
            "kind": kind,
            "method": data.method,
            "chat_id": data.chat_id,
            "at": data.at,
            "ok": data.ok,
            "params": data.params,
            "result": data.result,
        }
    return {"kind": kind, "at": time.time(), "data": data}


def write_record(folder: Path, record: list[dict[str, Any]], run: Run) -> None:
    """--keep: what the emulator saw, the faults and the customers' actions, to explain a
    figure afterwards (emulator.jsonl, faults.json, customers.jsonl)."""
    with (folder / "emulator.jsonl").open("w", encoding="utf-8") as out:
        for line in record:
            out.write(json.dumps(line, default=str) + "\n")
    (folder / "faults.json").write_text(json.dumps(run.faults), encoding="utf-8")
    with (folder / "customers.jsonl").open("w", encoding="utf-8") as out:
        for c in run.customers:
            out.write(json.dumps(dataclasses.asdict(c), default=str) + "\n")


# --- scenarios -------------------------------------------------------------------------------


async def scenario(
    name: str,
    surveys: int,
    window: float,
    seed: int,
    fault: Callable[[Run], Any],
    kills: int,
    patience: float,
    keep: bool,
) -> Figures:
    """Fresh emulator and bot; `surveys` customers posted over `window` s; `fault(run)` runs
    alongside; customers give up `patience` s after the last fault ended."""
    print(f"{name}: {surveys} surveys", flush=True)
    emulator = BotAPIEmulator(BOT_TOKEN)
    await emulator.start()
    tmp = Path(tempfile.mkdtemp(prefix="faults-"))
    try:
        rng = random.Random(seed)
        record: list[dict[str, Any]] = []
        if keep:
            emulator.subscribe(lambda kind, data: record.append(recorded(kind, data)))
        bot = BotProcess(emulator, tmp, TRIGGERS)
        await bot.start()
        run = Run(emulator, Watcher(emulator), bot, rng, time.monotonic() + 3600)
        types = list(QUESTIONS)
        run.customers = [
            Customer(FIRST_USER + i, f"{name[:5]}-{seed}-{i}", rng.choice(types))
            for i in range(surveys)
        ]
        tasks = [
            asyncio.create_task(customer(run, c, window * i / surveys))
            for i, c in enumerate(run.customers)
        ]
        try:
            await fault(run)
            run.deadline = time.monotonic() + patience
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await bot.stop()
            await emulator.stop()
        figures = measure(run, name, kills)
        if keep:
            write_record(tmp, record, run)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if keep:
        print(f"  kept {tmp} (config, bot.log of every process, the SQLite file)")
    return figures


async def main_async(args: argparse.Namespace) -> int:
    quick = args.quick
    surveys = args.surveys or (40 if quick else 200)
    kills = args.kills if args.kills is not None else (2 if quick else 5)
    storm_s = args.storm or (3.0 if quick else 10.0)
    outage_s = args.outage or (5.0 if quick else 30.0)
    small = max(10, surveys // 10)
    patience = 20.0 if quick else 60.0
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; seed {args.seed}",
        flush=True,
    )
    window = max(5.0, 2.5 * kills)
    results = [
        await scenario(
            f"kill -9 x{kills}",
            surveys,
            window,
            args.seed,
            lambda run: killer(run, kills, window),
            kills,
            patience,
            args.keep,
        ),
        await scenario(
            f"429 storm {storm_s:g} s",
            small,
            storm_s + 2,
            args.seed + 1,
            lambda run: storm(run, storm_s),
            0,
            patience,
            args.keep,
        ),
        await scenario(
            f"outage {outage_s:g} s",
            small,
            outage_s + 2,
            args.seed + 2,
            lambda run: outage(run, outage_s),
            0,
            patience,
            args.keep,
        ),
    ]
    return report(results)


def report(results: list[Figures]) -> int:
    head = (
        "scenario",
        "surveys",
        "kills",
        "answers lost",
        "1st q. missing",
        "duplicates",
        "stuck",
        "max recover",
    )
    rows = [
        (
            r.scenario,
            str(r.surveys),
            str(r.kills),
            f"{r.answers_lost} of {r.delivered_presses}",
            str(r.first_missing),
            str(r.duplicates + r.thanks_duplicates),
            str(len(r.stuck)),
            f"{r.max_recover:.1f} s",
        )
        for r in results
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    print()
    print("| " + " | ".join(h.ljust(n) for h, n in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (n + 2) for n in widths) + "|")
    for row in rows:
        print("| " + " | ".join(x.ljust(n) for x, n in zip(row, widths, strict=True)) + " |")
    failed = False
    for r in results:
        problems = []
        if r.answers_lost or r.comments_lost:
            problems.append(f"{r.answers_lost} answers and {r.comments_lost} comments lost")
        if r.first_missing:
            problems.append(f"{r.first_missing} first questions never shown")
        if r.duplicates + r.thanks_duplicates > r.kills:
            problems.append(
                f"{r.duplicates} duplicate questions and {r.thanks_duplicates} thank-yous"
                f" (allowed: {r.kills} in all)"
            )
        if r.stuck:
            reasons = Counter(line.split(": ", 1)[1] for line in r.stuck)
            problems.append(
                f"{len(r.stuck)} customers could not finish ("
                + ", ".join(f"{n} x {why}" for why, n in reasons.most_common())
                + f"; e.g. customer {r.stuck[0]})"
            )
        failed = failed or bool(problems)
        print(f"{r.scenario}: " + ("; ".join(problems) if problems else "ok"))
        if r.reasks:
            print(
                f"  {r.reasks} questions asked again under the bot's answer to a message typed"
                " at them (a comment repeated while the bot was slow): not duplicates"
            )
    print(
        "figures: "
        + "; ".join(
            f"{r.scenario}: kills={r.kills} lost={r.answers_lost}+{r.comments_lost}c "
            f"missing={r.first_missing} duplicates={r.duplicates}+{r.thanks_duplicates}t "
            f"reasked={r.reasks} stuck={len(r.stuck)} "
            f"recover={r.max_recover:.1f}s"
            for r in results
        )
    )
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--surveys", type=int, default=0, help="surveys in the kill scenario")
    parser.add_argument("--kills", type=int, default=None, help="SIGKILLs (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--storm", type=float, default=0.0, help="429 storm seconds (10)")
    parser.add_argument("--outage", type=float, default=0.0, help="outage seconds (30)")
    parser.add_argument("--quick", action="store_true", help="40 surveys, 2 kills, 3 s, 5 s")
    parser.add_argument("--keep", action="store_true", help="keep the bots' folders and logs")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
