"""Benchmark of `survey-bot import`: how long 100,000 events (and answers) take. Run by hand:

    python bench/imports.py                 # 100,000 events and 100,000 answers
    python bench/imports.py --rows 10000    # quicker

Writes CSV files to a temporary folder, runs the real command line (`python -m bot import ...`)
as a subprocess against a fresh SQLite file, then runs the same file again (all duplicates).
For comparison it also times one commit per event (Intake.accept without a batch) on a sample:
that is what a loop over POST /api/v1/events costs per event with synchronous=FULL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_config
from bot.intake.events import Intake
from storage.sqlite import open_sqlite

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """\
[telegram]
token = "123:abc"
[storage]
path = "bench.sqlite3"
[api]
token = "bench-token-0123456789"
[alerts]
enabled = false
"""


def write_events(path: Path, rows: int) -> None:
    start = datetime.now(UTC) - timedelta(days=60)
    with path.open("w", encoding="utf-8") as f:
        f.write("event_id,type,telegram_id,name,language,occurred_at,order_id,product,channel\n")
        for i in range(rows):
            at = (start + timedelta(seconds=50 * i)).isoformat(timespec="seconds")
            f.write(
                f"ord-{i},purchase,{100000 + i % 40000},Customer {i % 40000},en,{at},"
                f"{i},product-{i % 20:02d},{('web', 'app', 'shop')[i % 3]}\n"
            )


def write_answers(path: Path, rows: int) -> None:
    start = datetime.now(UTC) - timedelta(days=700)
    with path.open("w", encoding="utf-8") as f:
        f.write("id;date;metric;score;comment;product\n")
        for i in range(rows):
            at = (start + timedelta(minutes=10 * i)).date().isoformat()
            comment = "fine" if i % 5 == 0 else ""
            f.write(f"h-{i};{at};nps;{i % 11};{comment};product-{i % 20:02d}\n")


def cli(config: Path, kind: str, file: Path) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "import", kind, str(file), "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return time.perf_counter() - began, done.stdout.strip().splitlines()[-1]


async def one_commit_each(config_path: Path, rows: int) -> float:
    config = load_config(config_path, {})
    repo = await open_sqlite(config.storage.path.with_name("single.sqlite3"))
    intake = Intake(config, repo, lambda: datetime.now(UTC))
    began = time.perf_counter()
    for i in range(rows):
        body = {"event_id": f"s-{i}", "type": "purchase", "customer": {"telegram_id": 5 + i}}
        result = await intake.accept(body)
        assert result.status == 202, result
    elapsed = time.perf_counter() - began
    await repo.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000, help="rows for one commit each")
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        config = tmp / "config.toml"
        config.write_text(CONFIG, encoding="utf-8")
        events, answers = tmp / "events.csv", tmp / "answers.csv"
        write_events(events, args.rows)
        write_answers(answers, args.rows)
        for kind, file in (("events", events), ("answers", answers)):
            first, summary = cli(config, kind, file)
            print(f"import {kind}, {args.rows:,} rows: {first:.1f} s ({summary})")
            again, summary = cli(config, kind, file)
            print(f"  same file again: {again:.1f} s ({summary})")
        single = asyncio.run(one_commit_each(config, args.sample))
        print(
            f"one commit per event (no batch), {args.sample:,} events: {single:.1f} s"
            f" = {single / args.sample * 1000:.2f} ms each"
            f" (~{single / args.sample * args.rows:.0f} s for {args.rows:,})"
        )


if __name__ == "__main__":
    main()
