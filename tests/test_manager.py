"""Manager commands through the real dispatcher, with a session that records what was sent."""

from __future__ import annotations

import csv
import io
import itertools
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import BufferedInputFile, Chat, FSInputFile, Message

from bot.charts.models import ChartJob, OverviewChart, TrendChart
from bot.charts.worker import ChartWorker
from bot.config import parse_config
from bot.reports.compose import chart_labels
from storage.sqlite import SqliteRepo, open_sqlite
from survey_flows.models import Metric

from . import updates
from .test_analytics import add_answers, add_unanswered
from .updates import person

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
MANAGER, STRANGER = 42, 777
_update_ids = itertools.count(1)


class RecordingSession(BaseSession):
    """Answers every Bot API call with a plausible result and keeps (method, params, files).

    Telegram's own limits are checked here so a too-long text fails the test, as it would fail
    in production."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any], dict[str, bytes]]] = []
        self._ids = itertools.count(100)

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any):
        yield b""

    async def make_request(self, bot: Bot, method: TelegramMethod, timeout=None):
        name = method.__api_method__
        params = method.model_dump(exclude_none=True)
        files: dict[str, bytes] = {}
        for key in params:
            raw = getattr(method, key, None)
            if isinstance(raw, BufferedInputFile):
                files[key] = raw.data
            elif isinstance(raw, FSInputFile):
                files[key] = Path(raw.path).read_bytes()  # noqa: ASYNC240 (a small test file)
        if "text" in params:
            assert len(params["text"]) <= 4096, "Telegram rejects messages over 4096 characters"
        if "caption" in params:
            assert len(params["caption"]) <= 1024, "Telegram rejects captions over 1024 characters"
        self.calls.append((name, params, files))
        if name in {"sendMessage", "sendPhoto", "sendDocument"}:
            return Message(
                message_id=next(self._ids),
                date=NOW,
                chat=Chat(id=params["chat_id"], type="private"),
                text=params.get("text"),
            )
        return True

    def next_message_id(self) -> int:
        """An id for a message a person sends now: Telegram numbers a private chat's messages
        from both sides in one sequence, so it comes after the bot's messages so far."""
        return next(self._ids)

    def sent(self, chat_id: int | None = None) -> list[tuple[str, dict[str, Any], dict]]:
        return [c for c in self.calls if chat_id is None or c[1].get("chat_id") == chat_id]

    def texts(self, chat_id: int) -> str:
        return "\n".join(p.get("text") or p.get("caption") or "" for _, p, _ in self.sent(chat_id))


def make_config(tmp_path: Path, **reports: Any):
    raw = {
        "telegram": {"token": "123:abc", "manager_ids": [MANAGER]},
        "api": {"token": "x" * 16},
        "storage": {"path": str(tmp_path / "db.sqlite3")},
        "reports": reports,
        "alerts": {"enabled": False},
    }
    return parse_config(raw, {}, tmp_path)


class Harness:
    def __init__(self, dp: Dispatcher, repo: SqliteRepo, config, session: RecordingSession) -> None:
        self.repo, self.session = repo, session
        self.bot = Bot("123:abc", session=session)
        self.dp = dp
        # The routers are module-level and attach to one dispatcher per process: reuse it and
        # give it this test's dependencies.
        dp["repo"], dp["config"], dp["clock"] = repo, config, lambda: NOW

    async def say(self, user_id: int, text: str, lang: str = "en") -> list:
        before = len(self.session.calls)
        manager = person(user_id, "M", language_code=lang)
        await self.dp.feed_update(self.bot, updates.message(manager, text, NOW))
        return self.session.calls[before:]


@pytest.fixture
async def harness(tmp_path: Path, caplog, dispatcher: Dispatcher):
    config = make_config(tmp_path)
    repo = await open_sqlite(config.storage.path)
    yield Harness(dispatcher, repo, config, RecordingSession())
    await repo.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"a handler failed: {errors[0].getMessage()}"


async def seed(repo: SqliteRepo) -> None:
    day = timedelta(days=1)
    for i in range(12):
        await add_answers(repo, NOW - i * day - timedelta(hours=1), Metric.NPS, [10, 9, 3],
                          {"agent": "anna" if i % 2 else "bob", "product": "Kettle"})  # fmt: skip
    await add_answers(repo, NOW - 40 * day, Metric.NPS, [0, 0, 10], {"agent": "anna"})
    await add_answers(repo, NOW - 2 * day, Metric.CSAT, [5, 4, 4, 2], {"agent": "anna"})
    await add_answers(repo, NOW - 2 * day, Metric.CSAT, [1], {"agent": "carl"}, comment="=rude")
    await add_answers(repo, NOW - 3 * day, Metric.CES, [6, 7, 2])
    await add_unanswered(repo, NOW - day, 10)


async def test_nps_shows_value_margin_n_breakdown_change_and_a_chart(harness: Harness) -> None:
    await seed(harness.repo)
    calls = await harness.say(MANAGER, "/nps 30d")
    assert [c[0] for c in calls] == ["sendPhoto"], "one chart with the figures as its caption"
    text = calls[0][1]["caption"]
    # 36 answers: 24 promoters, 12 detractors -> NPS +33.
    assert "NPS <b>+33</b> ±" in text
    assert "n=36" in text
    assert "Promoters 67% · Passives 0% · Detractors 33%" in text
    assert "previous period" in text and "n=3" in text  # the 40-days-ago answers
    png = calls[0][2]["photo"]
    assert png.startswith(b"\x89PNG")


async def test_csat_and_ces_name_their_own_categories(harness: Harness) -> None:
    await seed(harness.repo)
    (csat,) = await harness.say(MANAGER, "/csat 30d")
    # CSAT 5, 4, 4, 2, 1: three satisfied, no neutral, two unsatisfied; NPS words stay out.
    assert "Satisfied 60% · Neutral 0% · Unsatisfied 40%" in csat[1]["caption"]
    assert "5: 20% · 4: 40%" in csat[1]["caption"], "the scores are still listed"
    (ces,) = await harness.say(MANAGER, "/ces 30d", lang="ru")
    assert "Легко 67% · Нейтрально 0% · Сложно 33%" in ces[1]["caption"]
    assert "ромоутер" not in csat[1]["caption"] + ces[1]["caption"]


class DrawnJobs(ChartWorker):
    """Keeps the chart jobs asked for and answers each with a bare PNG signature."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[ChartJob] = []

    async def draw(self, job: ChartJob) -> bytes:
        self.jobs.append(job)
        return b"\x89PNG\r\n\x1a\n"

    async def cjk_family(self) -> str | None:
        return None


@pytest.mark.parametrize("command", ["/nps 30d", "/stats 30d", "/report 30d"])
async def test_the_bucket_still_filling_is_the_one_holding_the_clocks_now(
    harness: Harness, monkeypatch, command: str
) -> None:
    await seed(harness.repo)
    drawn = DrawnJobs()
    monkeypatch.setitem(harness.dp.workflow_data, "charts", drawn)
    calls = await harness.say(MANAGER, command)
    assert [c[0] for c in calls] == ["sendPhoto"]
    (job,) = drawn.jobs
    assert isinstance(job, TrendChart | OverviewChart) and job.frame is not None
    assert job.frame.now == NOW, "the chart's 'so far' bucket was read off another clock"


def test_chart_legends_use_the_metrics_own_words() -> None:
    assert chart_labels("en", Metric.CSAT).categories == ("unsatisfied", "neutral", "satisfied")
    assert chart_labels("en", Metric.CES).categories == ("difficult", "neutral", "easy")
    assert chart_labels("ru", Metric.NPS).categories == ("критики", "нейтралы", "промоутеры")


async def test_figures_on_few_answers_are_marked(harness: Harness) -> None:
    await seed(harness.repo)
    (call,) = await harness.say(MANAGER, "/ces 30d")
    assert "n=3" in call[1]["caption"] and "too few to trust" in call[1]["caption"]


async def test_filters_narrow_the_figures(harness: Harness) -> None:
    await seed(harness.repo)
    (call,) = await harness.say(MANAGER, "/nps 30d agent=anna")
    assert "n=18" in call[1]["caption"] and "agent=anna" in call[1]["caption"]


async def test_breakdown_by_agent_lists_groups_biggest_first(harness: Harness) -> None:
    await seed(harness.repo)
    (call,) = await harness.say(MANAGER, "/csat 30d by agent")
    caption = call[1]["caption"]
    assert caption.index("anna") < caption.index("carl")
    assert "n=4" in caption and "n=1" in caption and "too few to trust" in caption
    assert call[2]["photo"].startswith(b"\x89PNG")


async def test_no_answers_is_said_in_words(harness: Harness) -> None:
    calls = await harness.say(MANAGER, "/nps today")
    assert [c[0] for c in calls] == ["sendMessage"]
    assert "No answers in this period" in calls[0][1]["text"]


async def test_stats_has_every_metric_and_the_response_rate(harness: Harness) -> None:
    await seed(harness.repo)
    (call,) = await harness.say(MANAGER, "/stats 7d")
    text = call[1]["caption"] if call[0] == "sendPhoto" else call[1]["text"]
    for metric in ("NPS", "CSAT", "CES"):
        assert metric in text
    assert "response rate" in text
    assert "Answers: " in text


async def test_bad_arguments_get_one_usage_line(harness: Harness) -> None:
    calls = await harness.say(MANAGER, "/nps 30d banana")
    assert len(calls) == 1
    text = calls[0][1]["text"]
    assert "'banana'" in text and "Usage: /nps" in text and "\n" not in text


async def test_export_sends_a_safe_csv_document(harness: Harness) -> None:
    await seed(harness.repo)
    (call,) = await harness.say(MANAGER, "/export 30d agent=carl")
    assert call[0] == "sendDocument"
    table = list(csv.DictReader(io.StringIO(call[2]["document"].decode("utf-8-sig"))))
    assert len(table) == 1
    assert table[0]["comment"] == "'=rude" and table[0]["agent"] == "carl"


@pytest.mark.parametrize("command", ["/nps", "/csat 7d", "/stats", "/export", "/report"])
async def test_others_get_one_polite_refusal_and_no_data(harness: Harness, command: str) -> None:
    await seed(harness.repo)
    calls = await harness.say(STRANGER, command)
    assert [c[0] for c in calls] == ["sendMessage"], "exactly one reply, no chart, no file"
    assert calls[0][1]["text"] == "Sorry, these commands are for the team's managers only."


async def test_report_on_demand_includes_detractor_comments(harness: Harness) -> None:
    await seed(harness.repo)
    calls = await harness.say(MANAGER, "/report")
    text = "\n".join((c[1].get("caption") or c[1].get("text") or "") for c in calls)
    assert "Recent comments with low scores" in text and "=rude" in text


async def test_long_output_is_split_within_telegram_limits(harness: Harness) -> None:
    for i in range(60):
        await add_answers(harness.repo, NOW - timedelta(hours=2), Metric.CSAT, [5],
                          {"agent": f"agent-with-a-rather-long-name-{i:03d}"})  # fmt: skip
    calls = await harness.say(MANAGER, "/csat 7d by agent")
    kinds = [c[0] for c in calls]
    assert kinds[-1] == "sendPhoto" and "sendMessage" in kinds
    assert "20 smaller groups" in harness.session.texts(MANAGER)


async def test_by_a_field_no_answer_has_names_the_known_fields(harness: Harness) -> None:
    await seed(harness.repo)
    calls = await harness.say(MANAGER, "/nps 30d by shop")
    assert [c[0] for c in calls] == ["sendMessage"], "one line, no chart of '(not set)'"
    text = calls[0][1]["text"]
    assert "No answers have 'shop'; known fields: agent, product" in text
    assert "(not set)" not in text


async def test_filter_values_match_whatever_their_case(harness: Harness) -> None:
    await seed(harness.repo)
    (call,) = await harness.say(MANAGER, "/nps 30d product=kettle")
    assert "n=36" in call[1]["caption"], "product=kettle must find the answers about 'Kettle'"


async def test_a_filter_matching_nothing_lists_the_values_there_are(harness: Harness) -> None:
    await seed(harness.repo)
    calls = await harness.say(MANAGER, "/nps 30d agent=zed")
    assert [c[0] for c in calls] == ["sendMessage"]
    text = calls[0][1]["text"]
    assert "No answers in this period." in text
    assert "Nothing matches agent=zed; values of agent in this period: anna, bob, carl" in text
    calls = await harness.say(MANAGER, "/csat 30d shop=north")
    assert "No answers in this period have the field 'shop'." in calls[0][1]["text"]


async def test_a_filter_value_is_escaped_in_the_hint(harness: Harness) -> None:
    await seed(harness.repo)
    (call,) = await harness.say(MANAGER, "/nps 30d agent=<b>x</b>")
    assert "agent=&lt;b&gt;x&lt;/b&gt;" in call[1]["text"] and "<b>x" not in call[1]["text"]


@pytest.mark.parametrize("period", ["100000d", "99999999999w", "5000m", "1099d"])
async def test_a_period_too_long_gets_the_usage_line_and_the_longest(
    harness: Harness, period: str
) -> None:
    calls = await harness.say(MANAGER, f"/nps {period}")
    assert len(calls) == 1
    text = calls[0][1]["text"]
    assert f"'{period}' is longer than 3 years" in text and "Usage: /nps" in text
    assert "the longest allowed is 1098d, 156w or 36m" in text and "\n" not in text


async def test_a_small_segment_says_too_few_without_a_margin(harness: Harness) -> None:
    await seed(harness.repo)
    (call,) = await harness.say(MANAGER, "/csat 30d by agent")
    carl = next(line for line in call[1]["caption"].splitlines() if "carl" in line)
    assert "n=1" in carl and "too few to trust" in carl
    assert "±" not in carl, "one answer must not be shown with a ±0 margin"


@pytest.mark.parametrize("command", ["/stats 30d agent=zed", "/export 30d agent=zed"])
async def test_stats_and_export_say_which_values_a_field_has(
    harness: Harness, command: str
) -> None:
    await seed(harness.repo)
    calls = await harness.say(MANAGER, command)
    assert [c[0] for c in calls] == ["sendMessage"], "no chart, no empty file"
    assert "values of agent in this period: anna, bob, carl" in calls[0][1]["text"]


async def test_export_filter_ignores_case(harness: Harness) -> None:
    await seed(harness.repo)
    (call,) = await harness.say(MANAGER, "/export 30d agent=CARL")
    assert call[0] == "sendDocument", "agent=CARL must export carl's answer"
