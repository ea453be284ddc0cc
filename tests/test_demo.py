"""`survey-bot demo` headless: it starts with no token and no network, runs the simulated shop,
stops by itself and prints what happened (CI's check that the README's first command works)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_headless_demo_runs_and_summarises(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--duration", "15", "--no-browser", "--port", "0"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=90,
    )
    out = done.stdout
    assert done.returncode == 0, f"the demo failed instead of summarising:\n{out}\n{done.stderr}"
    assert re.search(r"^open http://127\.0\.0\.1:\d+/$", out, re.M), out
    answers = re.search(r"^answers: (\d+) ", out, re.M)
    assert answers and int(answers.group(1)) > 0, f"no simulated customer answered:\n{out}"
    events = re.search(r"^events: (\d+) posted", out, re.M)
    assert events and int(events.group(1)) > 0, out
    assert re.search(r"NPS [+-]?\d+ \(n=\d+\) · CSAT \d+% \(n=\d+\) · CES [\d.]+", out), out
    assert "Traceback" not in done.stderr, done.stderr


def test_demo_data_folder_is_kept(tmp_path: Path) -> None:
    """--data keeps the database, so a second run continues the same shop."""
    data = tmp_path / "shop"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "demo",
            "--duration",
            "3",
            "--no-browser",
            "--port",
            "0",
            "--data",
            str(data),
            "--customers",
            "5",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert (data / "survey-bot.sqlite3").is_file()
