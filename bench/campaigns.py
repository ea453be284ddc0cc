"""Benchmark of a campaign's selection on a big shop. Run by hand:

    python bench/campaigns.py                     # 60,000 customers with two years of history
    python bench/campaigns.py --customers 10000   # smaller, quicker

Fills a temporary SQLite file (the real schema and migrations) with customers who each had one
to five surveys over two years (with segment and product context, answers for about 40 %),
some opted out or blocked, plus customers known only by the shop's id. Then times the SQL
selection of a campaign (what `--dry-run` does: no sending), for the whole shop and for an
audience with every filter, and the bulk insert of the whole shop's invitations.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, run_sized
from bot.config.campaigns import Audience, CampaignConfig
from bot.workers.campaigns import Campaigns
from storage.records import Selection
from storage.sqlite import open_sqlite

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
SEGMENTS = ["b2b", "retail", "wholesale", "vip", "staff"]
PRODUCTS = [f"product-{i:02d}" for i in range(20)]
LANGUAGES = ["en", "en", "en", "ru", "ru-RU", "uk", "zh"]
FIRST_ID = 100_000_000


def ts(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds")


def fill(path: Path, customers: int, seed: int = 11) -> tuple[int, int]:
    """Plain sqlite3, one transaction; returns (invitations, answers)."""
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    invitations = answers = 0
    next_id = 1
    with db:
        for n in range(customers):
            tid = FIRST_ID + n
            history = sorted(NOW - SPAN * rng.random() for _ in range(rng.randint(1, 5)))
            segment = rng.choice(SEGMENTS)
            db.execute(
                "INSERT INTO customers (telegram_id, language, opted_out_at, unreachable_at,"
                " last_invited_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    tid,
                    rng.choice(LANGUAGES),
                    ts(history[-1]) if rng.random() < 0.03 else None,
                    ts(history[-1]) if rng.random() < 0.02 else None,
                    ts(history[-1]),
                    ts(history[0]),
                ),
            )
            for at in history:
                context = {"segment": segment, "product": rng.choice(PRODUCTS)}
                db.execute(
                    "INSERT INTO invitations (id, event_id, event_type, survey, customer_id,"
                    " context, created_at, send_at, due_at, sent_at, status, prompt_sent,"
                    " finished_at) VALUES (?, ?, 'purchase', 'nps', ?, ?, ?, ?, ?, ?,"
                    " 'completed', 1, ?)",
                    (next_id, f"e-{next_id}", tid, json.dumps(context), *[ts(at)] * 5),
                )
                db.executemany(
                    "INSERT INTO invitation_context VALUES (?, ?, ?)",
                    [(next_id, k, v) for k, v in context.items()],
                )
                if rng.random() < 0.4:
                    db.execute(
                        "INSERT INTO answers (invitation_id, question_index, survey, metric,"
                        " score, category, customer_id, answered_at)"
                        " VALUES (?, 0, 'nps', 'nps', 9, 'promoter', ?, ?)",
                        (next_id, tid, ts(at + timedelta(minutes=5))),
                    )
                    answers += 1
                next_id += 1
                invitations += 1
        for n in range(customers // 30):  # known only by the shop's id
            db.execute(
                "INSERT INTO external_customers (external_id, language, created_at)"
                " VALUES (?, 'en', ?)",
                (f"crm-{n}", ts(NOW)),
            )
            db.execute(
                "INSERT INTO awaiting_link (event_id, external_id, event_type, survey, context,"
                " created_at) VALUES (?, ?, 'purchase', 'nps', ?, ?)",
                (f"w-{n}", f"crm-{n}", json.dumps({"segment": rng.choice(SEGMENTS)}), ts(NOW)),
            )
    db.close()
    return invitations, answers


def why_not(selection: Selection) -> str:
    return ", ".join(f"{reason.value} {count:,}" for reason, count in selection.skipped.items())


async def timed(label: str, job, repeat: int = 3) -> object:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await job()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<58} {best * 1000:8.0f} ms")
    return result


async def bench(customers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        repo = await open_sqlite(path)
        await repo.close()
        start = time.perf_counter()
        invitations, answers = fill(path, customers)
        print(
            f"filled {customers:,} customers, {invitations:,} invitations, {answers:,} answers"
            f" in {time.perf_counter() - start:.0f} s ({path.stat().st_size / 1e6:.0f} MB)"
        )
        repo = await open_sqlite(path)
        everyone = CampaignConfig(name="everyone", survey="nps")
        filtered = CampaignConfig(
            name="filtered",
            survey="nps",
            audience=Audience(
                active_within=timedelta(days=180), language="ru", context=(("segment", "B2B"),)
            ),
        )
        configs = {c.name: c for c in (everyone, filtered)}
        campaigns = Campaigns(repo.campaigns, configs, lambda: NOW, recontact=timedelta(days=30))
        print("selection (the SQL of a dry run; nothing sent), best of 3:")
        whole = await timed("whole shop, no filters", lambda: campaigns.dry_run("everyone"))
        selection, _ = whole  # type: ignore[misc]
        print(f"    -> {len(selection.invite):,} to invite; not: {why_not(selection)}")
        part = await timed(
            "active_within 180d + language ru + context.segment b2b",
            lambda: campaigns.dry_run("filtered"),
        )
        selection, _ = part  # type: ignore[misc]
        print(f"    -> {len(selection.invite):,} to invite; not: {why_not(selection)}")
        start = time.perf_counter()
        result = await campaigns.run_by_hand("everyone")
        print(
            f"  {'run: selection + ' + format(result.invited, ',') + ' invitations in chunks':<58}"
            f" {(time.perf_counter() - start) * 1000:8.0f} ms"
        )
        start = time.perf_counter()
        store = campaigns.store
        run = (await store.runs("everyone"))[0]
        again = 0
        ids = result.selection.invite if result.selection else []
        for i in range(0, len(ids), 1000):
            again += await store.invite(
                run, "nps", [(c, NOW) for c in ids[i : i + 1000]], NOW, recontact=timedelta(0)
            )
        print(
            f"  {'the same run again (resumed): ' + str(again) + ' inserted':<58}"
            f" {(time.perf_counter() - start) * 1000:8.0f} ms"
        )
        await repo.close()
    print(machine(f"SQLite {sqlite3.sqlite_version}"))


if __name__ == "__main__":
    run_sized(bench, __doc__, "--customers", 60_000)
