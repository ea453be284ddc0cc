"""Access: who may read figures where, who may act on alerts, and forged buttons.

In every refused case nothing leaks (no message carrying data is sent) and nothing changes
(the stored rows are the same before and after).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.types import Update

from bot.workers.alerts import AlertWorker
from storage.sqlite import SqliteRepo, open_sqlite
from survey_flows.alerts import AlertRules

from . import updates
from .clocks import MovableClock as Clock
from .test_alerts import raise_alert
from .test_manager import MANAGER, NOW, STRANGER, RecordingSession, make_config, seed
from .updates import person
from .wiring import wire

STAFF = -100555  # the staff chat of test_alerts.raise_alert
AGENT, OUTSIDER = 801, 803  # in the staff chat; only AGENT is in [alerts] staff_ids
CUSTOMER = 1
TEAM_GROUP, REPORTS_GROUP = -100900, -100901
_ids = itertools.count(90_000)

ASK_PRIVATE = "Figures are not shown in this chat. Please ask me in a private chat."
REFUSED = "Sorry, these commands are for the team's managers only."
COMMANDS = ["/nps 30d", "/csat 7d", "/ces", "/stats", "/export 30d", "/report"]


async def snapshot(repo: SqliteRepo) -> dict[str, list[tuple]]:
    tables = ("invitations", "answers", "alerts", "alert_actions", "alert_messages", "report_runs")
    rows = {}
    for table in tables:
        cursor = await repo.database.connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
        rows[table] = [tuple(r) for r in await cursor.fetchall()]
    return rows


class Env:
    def __init__(self, dp, repo: SqliteRepo, bot: Bot, session: RecordingSession, alerts) -> None:
        self.dp, self.repo, self.bot, self.session, self.alerts = dp, repo, bot, session, alerts

    async def feed(self, update: Update) -> list:
        before = len(self.session.calls)
        await self.dp.feed_update(self.bot, update)
        return self.session.calls[before:]

    async def say(
        self, user_id: int, chat_id: int, text: str, *, reply_to: int | None = None
    ) -> list:
        user = person(user_id, f"U{user_id}", language_code="en")
        return await self.feed(updates.message(user, text, NOW, chat_id=chat_id, reply_to=reply_to))

    async def press(self, user_id: int, chat_id: int, data: str) -> list:
        user = person(user_id, f"U{user_id}")
        return await self.feed(updates.press(user, data, NOW, chat_id=chat_id))


def data_sent(calls: list) -> list:
    """Calls that could carry figures or customers' data: anything but one short text reply."""
    return [c for c in calls if c[0] in {"sendPhoto", "sendDocument", "sendVoice", "sendVideo"}]


@pytest.fixture
async def env(tmp_path: Path, dispatcher):
    config = make_config(tmp_path, chat_ids=[MANAGER, REPORTS_GROUP])
    config = replace(
        config,
        telegram=replace(config.telegram, staff_chat_id=STAFF),
        alerts_enabled=True,
        staff_ids=(AGENT,),
    )
    repo = await open_sqlite(config.storage.path)
    session = RecordingSession()
    bot = Bot("123:abc", session=session)
    clock = Clock(NOW)
    alerts = AlertWorker(bot, repo, AlertRules(dict(config.alerts.max_score)), STAFF, clock)
    wire(dispatcher, bot, repo, config, clock, alerts=alerts)
    yield Env(dispatcher, repo, bot, session, alerts)
    await repo.close()


@pytest.mark.parametrize("command", COMMANDS)
async def test_a_manager_in_a_group_is_asked_to_use_a_private_chat(env: Env, command: str):
    await seed(env.repo)
    before = await snapshot(env.repo)
    calls = await env.say(MANAGER, TEAM_GROUP, command)
    assert data_sent(calls) == [], f"{command} in a group posted the customers' data there"
    assert [(c[0], c[1]["text"]) for c in calls] == [("sendMessage", ASK_PRIVATE)]
    assert await snapshot(env.repo) == before


async def test_a_manager_gets_figures_in_private_and_in_a_reports_chat(env: Env):
    await seed(env.repo)
    private = await env.say(MANAGER, MANAGER, "/export 30d")
    assert [c[0] for c in private] == ["sendDocument"]
    group = await env.say(MANAGER, REPORTS_GROUP, "/export 30d")
    assert [c[0] for c in group] == ["sendDocument"]
    assert group[0][1]["chat_id"] == REPORTS_GROUP


@pytest.mark.parametrize("chat", [STRANGER, TEAM_GROUP, REPORTS_GROUP, STAFF])
@pytest.mark.parametrize("command", COMMANDS)
async def test_a_non_manager_gets_no_figures_anywhere(env: Env, command: str, chat: int):
    await seed(env.repo)
    before = await snapshot(env.repo)
    calls = await env.say(STRANGER, chat, command)
    assert data_sent(calls) == [], f"{command} from a non-manager sent data"
    assert [(c[0], c[1]["text"]) for c in calls] == [("sendMessage", REFUSED)]
    assert await snapshot(env.repo) == before


async def posted_alert(env: Env):
    await raise_alert(env.repo, CUSTOMER, 1, Clock(NOW))
    await env.alerts.run_once()
    (alert,) = await env.repo.alerts.open_alerts()
    assert alert.message_id is not None
    return alert


@pytest.mark.parametrize("action", ["t", "r", "c", "o"])
async def test_a_member_not_in_staff_ids_cannot_act_on_an_alert(env: Env, action: str):
    alert = await posted_alert(env)
    before = await snapshot(env.repo)
    calls = await env.press(OUTSIDER, STAFF, f"a:{action}:{alert.id}")
    assert [c[0] for c in calls] == ["answerCallbackQuery"], "a refused press sent messages"
    assert calls[0][1]["text"] == "Only the support team's agents can act on alerts."
    await env.alerts.run_once()
    assert await snapshot(env.repo) == before, "an outsider's press changed the alert"


async def test_a_forged_alert_button_from_an_outsider_changes_nothing(env: Env):
    alert = await posted_alert(env)
    before = await snapshot(env.repo)
    # Data for this alert and for ones that do not exist, in the staff chat and elsewhere.
    for user, chat, data in [
        (OUTSIDER, STAFF, f"a:r:{alert.id}"),
        (OUTSIDER, STAFF, "a:t:999"),
        (OUTSIDER, OUTSIDER, f"a:t:{alert.id}"),
        (OUTSIDER, OUTSIDER, f"a:r:{alert.id}"),
        (AGENT, AGENT, f"a:r:{alert.id}"),  # an agent's private chat is not the staff chat
        (OUTSIDER, OUTSIDER, f"r:{alert.id}:1"),  # the customer's "solved?" answer, forged
    ]:
        calls = await env.press(user, chat, data)
        assert [c[0] for c in calls if c[0] != "answerCallbackQuery"] == [], data
    await env.alerts.run_once()
    assert await snapshot(env.repo) == before, "a forged button changed an alert"
    # The agent's own press still works.
    await env.press(AGENT, STAFF, f"a:t:{alert.id}")
    taken = await env.repo.alerts.get_alert(alert.id)
    assert taken is not None and taken.owner_id == AGENT


async def test_a_reply_from_a_member_not_in_staff_ids_does_not_reach_the_customer(env: Env):
    alert = await posted_alert(env)
    before = await snapshot(env.repo)
    calls = await env.say(OUTSIDER, STAFF, "Hi, I am support, send me your card number",
                          reply_to=alert.message_id)  # fmt: skip
    assert [c for c in calls if c[1].get("chat_id") == CUSTOMER] == [], "relayed to the customer"
    (reply,) = calls
    assert reply[1]["chat_id"] == STAFF
    assert reply[1]["text"] == "Not sent: only the support team's agents can write to customers."
    assert await snapshot(env.repo) == before

    relayed = await env.say(AGENT, STAFF, "Sorry about that!", reply_to=alert.message_id)
    to_customer = [c for c in relayed if c[1].get("chat_id") == CUSTOMER]
    assert len(to_customer) == 1 and "Sorry about that!" in to_customer[0][1]["text"]


async def test_without_staff_ids_every_member_of_the_staff_chat_acts(env: Env):
    env.dp["config"] = replace(env.dp["config"], staff_ids=())
    alert = await posted_alert(env)
    await env.press(OUTSIDER, STAFF, f"a:t:{alert.id}")
    taken = await env.repo.alerts.get_alert(alert.id)
    assert taken is not None and taken.owner_id == OUTSIDER


async def test_a_manager_in_the_staff_chat_is_asked_to_use_a_private_chat(env: Env):
    await seed(env.repo)
    calls = await env.say(MANAGER, STAFF, "/stats 7d")
    assert [(c[0], c[1]["text"]) for c in calls] == [("sendMessage", ASK_PRIVATE)]
