"""`survey-bot import events|answers FILE.csv` on real files and a real SQLite database.

The command line's tests name a SQLite file in their config, so they run on SQLite; what the
repository does with the rows (`import_answers` over a parsed file) runs on both backends, at
the end. (tests/test_imports.py is about Python imports: the layer rules.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from bot.cli import main
from bot.config import load_config
from bot.intake.csv_table import open_table
from bot.intake.imports import Summary, import_answers
from bot.workers.delivery import DeliveryWorker
from storage.base import SurveyRepo
from storage.sqlite import open_sqlite
from storage.timestamps import to_db
from survey_flows.clock import system_clock
from survey_flows.models import Metric
from telegram_emulator import BotAPIEmulator

from . import backends
from .e2e.harness import wait_until
from .test_manager import MANAGER, Harness, RecordingSession

CONFIG = """\
[telegram]
token = "123:abc"
manager_ids = [{manager}]
[storage]
path = "db.sqlite3"
[api]
token = "import-token-0123456789"
[alerts]
enabled = false
[triggers.signup]
survey = "nps"
delay = "0s"
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(manager=MANAGER), encoding="utf-8")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["import", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(config_path: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(config_path.parent / "db.sqlite3")) as db:
        return db.execute(sql).fetchall()


EVENTS = """\
event_id,type,telegram_id,customer_name,language,product,channel
ord-1,purchase,1001,Ann,en,Kettle,web
ord-2,purchase,1002,Борис,ru,"Tea, green",shop
ord-1,purchase,1001,Ann,en,Kettle,web
ord-3,refund,1003,Cy,en,Mug,web
ord-4,purchase,not-a-number,Di,en,Mug,web
ord-5,purchase,1005,Ed,en
ord-2,purchase,1002,Борис,ru,"Tea, black",shop
,purchase,1006,Fay,en,Cup,web
ord-7,purchase,1007,G\x00il,en,Cup,web
"""


def test_events_file_good_duplicate_and_broken_rows_then_the_same_file_again(
    tmp_path: Path, config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "events.csv"
    file.write_text(EVENTS, encoding="utf-8")
    code, out, err = run_cli(capsys, "events", str(file), "--config", str(config_path))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[-1] == "2 accepted, 1 duplicates (imported before), 6 rejected", out
    # Each rejection names its line in the file (the header is line 1) and what is wrong.
    assert "line 5: type: unknown event type 'refund'" in out
    assert any(x.startswith("line 6: customer.telegram_id:") for x in lines), out
    assert "line 7: has 5 cells, the header has 7" in out
    assert any(x.startswith("line 8: ") and "different body" in x for x in lines), out
    assert any(x.startswith("line 9: event_id:") for x in lines), out
    assert "line 10: a cell holds a NUL character" in out
    stored = rows(config_path, "SELECT event_id, customer_id, context FROM invitations ORDER BY id")
    assert [r[:2] for r in stored] == [("ord-1", 1001), ("ord-2", 1002)]
    assert '"product": "Tea, green"' in stored[1][2], "a quoted cell with a comma was split"
    assert rows(config_path, "SELECT name, language FROM customers WHERE telegram_id = 1002") == [
        ("Борис", "ru")
    ]

    before = rows(config_path, "SELECT * FROM invitations ORDER BY id")
    code, out, _ = run_cli(capsys, "events", str(file), "--config", str(config_path))
    assert code == 0
    assert out.splitlines()[-1] == "0 accepted, 3 duplicates (imported before), 6 rejected"
    assert rows(config_path, "SELECT * FROM invitations ORDER BY id") == before, (
        "importing the same file twice changed what was stored"
    )


def test_semicolons_bom_and_customer_prefixes(
    tmp_path: Path, config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "excel.csv"
    text = (
        "event_id;type;customer_telegram_id;customer_username;order_id\r\nA-1;signup;77;ann;1,5\r\n"
    )
    file.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    code, out, _ = run_cli(capsys, "events", str(file), "--config", str(config_path))
    assert code == 0
    assert out.strip() == "1 accepted, 0 duplicates (imported before), 0 rejected", out
    ((event_id, context),) = rows(config_path, "SELECT event_id, context FROM invitations")
    assert event_id == "A-1", "the byte-order mark stuck to the first column's name"
    assert context == '{"order_id": "1,5"}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "no header"),
        (b"event_id,type\n\xff\xfe broken\n", "not UTF-8"),
        (b"id,kind,telegram_id\n1,purchase,5\n", "no event_id, type column"),
        (b"event_id,type,Type\n", "appears twice"),
    ],
)
def test_a_file_that_cannot_be_read_exits_1_and_stores_nothing(
    tmp_path: Path,
    config_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    message: str,
) -> None:
    file = tmp_path / "bad.csv"
    if content is not None:
        file.write_bytes(content)
    code, out, err = run_cli(capsys, "events", str(file), "--config", str(config_path))
    assert code == 1, f"exit code {code} for an unreadable file"
    assert message in err, err
    assert out == ""


async def test_an_old_event_is_recorded_but_never_sent(
    tmp_path: Path, config_path: Path, emulator: BotAPIEmulator, bot: Bot
) -> None:
    """occurred_at + delay past [delivery] expire_after: the worker closes it as expired."""
    old = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    recent = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    file = tmp_path / "history.csv"
    file.write_text(
        f"event_id,type,telegram_id,occurred_at\nold,purchase,301,{old}\n"
        f"recent,purchase,302,{recent}\n",
        encoding="utf-8",
    )
    code = await asyncio.to_thread(
        main, ["import", "events", str(file), "--config", str(config_path)]
    )
    assert code == 0
    config = load_config(config_path, {})
    repo = await open_sqlite(config.storage.path)
    try:
        worker = DeliveryWorker(
            bot,
            repo,
            config.surveys,
            system_clock,
            expire_after=config.delivery.expire_after,
        )
        await worker.run_once()
        await worker.drain()
    finally:
        await repo.close()
    assert emulator.last_bot_message(301) is None, "a 10-day-old purchase was surveyed"
    assert emulator.last_bot_message(302) is not None, "a purchase 2 h ago (due 1 h ago) was not"
    assert rows(config_path, "SELECT event_id, status FROM invitations ORDER BY id") == [
        ("old", "expired"),
        ("recent", "active"),
    ]


async def test_a_running_bot_sends_what_another_process_imported(
    tmp_path: Path, config_path: Path, emulator: BotAPIEmulator, bot: Bot
) -> None:
    """The delivery worker sleeps at most a second, so rows written by `survey-bot import` in
    another process (the same SQLite file, WAL) are noticed without a wake-up call."""
    config = load_config(config_path, {})
    repo = await open_sqlite(config.storage.path)
    worker = DeliveryWorker(
        bot, repo, config.surveys, system_clock, expire_after=timedelta(days=3),
    )  # fmt: skip
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0)  # the worker is idle now, with nothing due that it knows of
        file = tmp_path / "signups.csv"
        file.write_text("event_id,type,telegram_id\ns-1,signup,4040\n", encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "import", "events", str(file), "--config",
            str(config_path), stdout=subprocess.PIPE, env={**os.environ},
        )  # fmt: skip
        out, _ = await proc.communicate()
        assert proc.returncode == 0 and b"1 accepted" in out, out
        await wait_until(
            lambda: emulator.last_bot_message(4040),
            timeout=5,
            what="the running bot to send the survey another process imported",
        )
    finally:
        await worker.stop()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await repo.close()


# --- past answers ---------------------------------------------------------------------------

NOW = datetime.now(UTC).replace(microsecond=0)


def day(n: int) -> str:
    return (NOW - timedelta(days=n)).date().isoformat()


def answers_file(tmp_path: Path) -> Path:
    lines = ["date;metric;score;comment;telegram_id;channel"]
    # Two weeks ago: 4 detractors, 1 promoter; last week: 4 promoters, 1 detractor.
    lines += [f"{day(10)};NPS;{s};;;web" for s in (2, 3, 3, 5)] + [f"{day(10)};nps;10;;;web"]
    lines += [f"{day(3)};nps;{s};great;;shop" for s in (9, 10, 10, 9)]
    lines += [f"{day(3)};nps;0;awful;555;shop"]
    lines += [f"{day(3)};csat;5;;;web"]
    lines += [
        f"{day(3)};nps;11;;;web",  # off the scale
        f"{day(3)};csat;0;;;web",  # off the scale
        f"{day(3)};happiness;5;;;web",
        "31/12/2024;nps;5;;;web",
        f"{day(3)};nps;;;;web",
        f"{(NOW + timedelta(days=2)).date()};nps;9;;;web",
    ]
    file = tmp_path / "history.csv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file


async def test_imported_answers_count_in_the_figures_never_alert_and_import_once(
    tmp_path: Path, config_path: Path, capsys: pytest.CaptureFixture[str], dispatcher: Dispatcher
) -> None:
    file = answers_file(tmp_path)
    code = await asyncio.to_thread(
        main, ["import", "answers", str(file), "--config", str(config_path)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[-1] == "11 accepted, 0 duplicates (imported before), 6 rejected", out
    assert "line 13: score: '11' is off the NPS scale (0 to 10)" in out
    assert "line 14: score: '0' is off the CSAT scale (1 to 5)" in out
    assert "line 15: metric: 'happiness' is not nps, csat or ces" in out
    assert "line 16: date: '31/12/2024' is not an ISO 8601 date" in out
    assert "line 17: score: required" in out
    assert "line 18: date: lies in the future" in out

    code = await asyncio.to_thread(
        main, ["import", "answers", str(file), "--config", str(config_path)]
    )
    assert capsys.readouterr().out.splitlines()[-1] == (
        "0 accepted, 11 duplicates (imported before), 6 rejected"
    ), "the same history imported twice would count twice"
    # Identical rows (the two 3s, the two 9s, the two 10s) stayed separate answers.
    assert rows(config_path, "SELECT count(*) FROM answers WHERE imported_at IS NOT NULL") == [
        (11,)
    ]
    assert rows(config_path, "SELECT count(*) FROM alerts") == [(0,)], "history raised alerts"

    config = load_config(config_path, {})
    repo = await open_sqlite(config.storage.path)
    try:
        analytics = repo.analytics
        nps = await analytics.distribution(Metric.NPS, NOW - timedelta(days=30), NOW)
        assert nps == {0: 1, 2: 1, 3: 2, 5: 1, 9: 2, 10: 3}
        shop = await analytics.distribution(
            Metric.NPS, NOW - timedelta(days=30), NOW, [("channel", "shop")]
        )
        assert sum(shop.values()) == 5, "imported context columns do not segment the figures"
        activity = await analytics.activity(NOW - timedelta(days=30), NOW)
        assert activity.answers == 11 and activity.invitations_sent == 0, (
            "imported history was counted as invitations sent (response rate)"
        )
        harness = Harness(dispatcher, repo, config, RecordingSession())
        dispatcher["clock"] = lambda: NOW  # the history above is relative to today
        (call,) = await harness.say(MANAGER, "/nps 7d")
        caption = call[1]["caption"]
        # Last week: 4 promoters, 1 detractor -> +60; the week before: 1 and 4 -> -60.
        assert "NPS <b>+60</b>" in caption and "n=5" in caption, caption
        assert "previous period" in caption, "the manager sees no comparison with history"
    finally:
        await repo.close()


def test_answers_known_by_id_import_once_and_a_changed_row_is_refused(
    tmp_path: Path, config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "tool.csv"
    file.write_text(f"id,date,metric,score\nx-1,{day(2)},csat,5\nx-2,{day(2)},ces,7\n", "utf-8")
    code, out, _ = run_cli(capsys, "answers", str(file), "--config", str(config_path))
    assert code == 0 and out.endswith("2 accepted, 0 duplicates (imported before), 0 rejected\n")
    # The other tool's export again, with one answer edited since.
    file.write_text(f"id,date,metric,score\nx-1,{day(2)},csat,5\nx-2,{day(2)},ces,6\n", "utf-8")
    code, out, _ = run_cli(capsys, "answers", str(file), "--config", str(config_path))
    assert "line 3: id: imported before with other content" in out, out
    assert out.endswith("0 accepted, 1 duplicates (imported before), 1 rejected\n")
    assert rows(config_path, "SELECT metric, score FROM answers ORDER BY id") == [
        ("csat", 5),
        ("ces", 7),
    ], "a re-import changed or added history"
    assert rows(config_path, "SELECT DISTINCT status, sent_at FROM invitations") == [
        ("imported", None)
    ]


def test_imported_events_obey_recontact_and_may_name_the_shops_id(
    tmp_path: Path, config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The import is the intake: a customer surveyed within [throttle] recontact (30 days by
    default) is not surveyed again, and a customer known only by the shop's id waits for the
    link."""
    file = tmp_path / "events.csv"
    file.write_text(
        "event_id,type,telegram_id,external_id\n"
        "s-1,signup,501,\n"
        "s-2,signup,501,\n"
        "s-3,signup,,crm-9\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(capsys, "events", str(file), "--config", str(config_path))
    assert code == 0, err
    assert out.splitlines()[-1] == "3 accepted, 0 duplicates (imported before), 0 rejected", out
    stored = rows(config_path, "SELECT event_id, status, note FROM invitations ORDER BY id")
    assert stored == [("s-1", "scheduled", None), ("s-2", "suppressed", "recontact")], (
        "the import surveyed a customer twice within the recontact window"
    )
    assert rows(config_path, "SELECT event_id, external_id FROM awaiting_link") == [
        ("s-3", "crm-9")
    ], "the event for a customer known by the shop's id does not wait for the link"


# --- the repository's part, on both backends -----------------------------------------------


async def imported(repo: SurveyRepo, file: Path) -> Summary:
    return await import_answers(open_table(file), repo, lambda: NOW)


@backends.BOTH
async def test_imported_history_is_stored_once_as_answers_never_sent_and_never_alerts(
    tmp_path: Path, repo: SurveyRepo
) -> None:
    file = answers_file(tmp_path)
    first = await imported(repo, file)
    assert (first.accepted, first.duplicates, len(first.rejections)) == (11, 0, 6), first
    again = await imported(repo, file)
    assert (again.accepted, again.duplicates, len(again.rejections)) == (0, 11, 6), (
        "the same history imported twice would count twice"
    )
    answers = await backends.fetch(
        repo,
        "SELECT a.metric, a.score, a.comment, a.comment_kind, a.customer_id, i.status,"
        " i.sent_at, i.survey, i.phase FROM answers a JOIN invitations i ON i.id = a.invitation_id"
        " WHERE a.imported_at IS NOT NULL ORDER BY a.id",
    )
    assert len(answers) == 11, "identical rows of one file must stay separate answers"
    assert {(a["status"], a["sent_at"], a["survey"], a["phase"]) for a in answers} == {
        ("imported", None, "imported", "done")
    }, "an imported answer's invitation looks sent or open"
    assert [a["comment"] for a in answers if a["comment_kind"] == "text"] == ["great"] * 4 + [
        "awful"
    ]
    # The row naming a Telegram id is that customer's; the others are the placeholder's.
    assert [a["customer_id"] for a in answers].count(555) == 1
    assert {a["customer_id"] for a in answers} == {0, 555}
    placeholder = await backends.fetch(
        repo, "SELECT unreachable_at FROM customers WHERE telegram_id = 0"
    )
    assert placeholder[0]["unreachable_at"] is not None, "the placeholder could be surveyed"
    assert await backends.scalar(repo, "SELECT count(*) FROM alerts") == 0, "history alerted"
    shop = await repo.analytics.distribution(
        Metric.NPS, NOW - timedelta(days=30), NOW, [("channel", "shop")]
    )
    assert shop == {0: 1, 9: 2, 10: 2}, "imported context columns do not segment the figures"
    activity = await repo.analytics.activity(NOW - timedelta(days=30), NOW)
    assert activity.answers == 11 and activity.invitations_sent == 0


@backends.BOTH
async def test_an_answer_imported_again_with_other_content_is_refused(
    tmp_path: Path, repo: SurveyRepo
) -> None:
    file = tmp_path / "tool.csv"
    file.write_text(f"id,date,metric,score\nx-1,{day(2)},csat,5\nx-2,{day(2)},ces,7\n", "utf-8")
    assert (await imported(repo, file)).accepted == 2
    file.write_text(f"id,date,metric,score\nx-1,{day(2)},csat,5\nx-2,{day(2)},ces,6\n", "utf-8")
    again = await imported(repo, file)
    assert again.rejections == [(3, "id: imported before with other content")]
    assert (again.accepted, again.duplicates) == (0, 1)
    rows = await backends.fetch(repo, "SELECT metric, score FROM answers ORDER BY id")
    assert [(r["metric"], r["score"]) for r in rows] == [("csat", 5), ("ces", 7)], (
        "a re-import changed or added history"
    )


@backends.BOTH
async def test_an_imported_answer_finds_its_customer_by_telegram_id_or_the_shops_id(
    tmp_path: Path, repo: SurveyRepo
) -> None:
    """A known customer keeps the name they have; a new one gets the row's; the shop's id
    finds the Telegram customer it is linked to, and an unlinked one the placeholder."""
    await backends.execute(
        repo,
        "INSERT INTO customers (telegram_id, name, created_at) VALUES (701, 'Ann', ?)",
        [to_db(NOW)],
    )
    await backends.execute(
        repo,
        "INSERT INTO external_customers (external_id, telegram_id, created_at)"
        " VALUES ('crm-7', 702, ?), ('crm-8', NULL, ?)",
        [to_db(NOW), to_db(NOW)],
    )
    file = tmp_path / "people.csv"
    file.write_text(
        "date,metric,score,telegram_id,external_id,name,language,shop\n"
        f"{day(1)},csat,4,701,,Anna,de,north\n"
        f"{day(1)},csat,3,,crm-7,Bo,sv,south\n"
        f"{day(1)},csat,2,,crm-8,Cy,en,west\n"
        f"{day(1)},csat,1,,crm-9,Di,,east\n",
        encoding="utf-8",
    )
    summary = await imported(repo, file)
    assert (summary.accepted, summary.rejections) == (4, []), summary
    rows = await backends.fetch(
        repo,
        "SELECT a.customer_id, i.context FROM answers a"
        " JOIN invitations i ON i.id = a.invitation_id ORDER BY a.id",
    )
    assert [r["customer_id"] for r in rows] == [701, 702, 0, 0]
    assert [json.loads(r["context"]) for r in rows] == [
        {"shop": "north"},
        {"shop": "south", "external_id": "crm-7"},
        {"shop": "west", "external_id": "crm-8"},
        {"shop": "east", "external_id": "crm-9"},
    ]
    people = await backends.fetch(
        repo, "SELECT telegram_id, name, language FROM customers ORDER BY telegram_id"
    )
    assert [(p["telegram_id"], p["name"], p["language"]) for p in people] == [
        (0, None, None),
        (701, "Ann", "de"),
        (702, "Bo", "sv"),
    ], "an import overwrote a known name, or named the placeholder"
    kv = await backends.fetch(
        repo,
        "SELECT count(*) AS n FROM invitation_context WHERE key = 'external_id'",
    )
    assert kv[0]["n"] == 3, "the shop's id is not a context the figures can filter on"
