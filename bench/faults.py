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
would. What is measured (see `fault_figures.measure`): answers lost, invitations whose first
question never arrived, questions shown twice, and the longest time a customer waited because of
a fault.
Exit status 1 when a figure misses its target; the last line holds every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine
from bench.fault_figures import Figures, measure
from telegram_emulator import BotAPIEmulator
from tests.e2e.crowd import QUESTIONS, Customer, Run, Watcher, customer
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
    print(f"{machine()}; seed {args.seed}", flush=True)
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
