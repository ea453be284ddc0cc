"""One data set, built alike on SQLite and on PostgreSQL through the repositories with a fixed
clock, shows managers the same figures on both: every analytics read over many periods and
filters, the daily totals themselves, and what erasure, an import and a campaign run returned.

Sixty days of a shop: a few hundred invitations to 150 customers (never sent, refused, ignored,
answered once or twice, with comments typed or spoken, low scores raising alerts that staff
take and resolve), an import of history, a campaign run, some customers erased at the end.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.base import SurveyRepo
from storage.open import open_storage
from storage.records import AudienceQuery, Comment, ImportedAnswer, NewAlert, NewEvent
from survey_flows.models import Answer, InvitationStatus, Metric, Phase, Position
from survey_flows.periods import Bucket, Period, bucket_edges
from survey_flows.scoring import category

from . import backends

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=60)
STAFF = -100_500
CUSTOMERS = range(7000, 7150)
# Survey name -> its questions' metrics (the second one asked after the first's follow-up).
SURVEYS = {"nps": [Metric.NPS], "csat": [Metric.CSAT], "ces": [Metric.CES],
           "support": [Metric.CSAT, Metric.NPS]}  # fmt: skip
SCALES = {Metric.NPS: range(0, 11), Metric.CSAT: range(1, 6), Metric.CES: range(1, 8)}
PRODUCTS = ["Kettle", "kettle", "KETTLE", "Toaster", "Чайник", "чайник"]
AGENTS = ["anna", "Bob", "bob", "carl", None]
CHANNELS = ["web", "app", "shop"]
WORDS = ["slow delivery", "rude agent", "great kettle", "broken lid", "fast", "Медленно", "ok"]


@dataclass
class Outcomes:
    """What the writes themselves returned, compared too."""

    erased: list[Any] = field(default_factory=list)
    imported: list[bool] = field(default_factory=list)
    selection: Any = None
    invited: int = 0


def is_low(metric: Metric, score: int) -> bool:
    return score <= {Metric.NPS: 4, Metric.CSAT: 2, Metric.CES: 2}[metric]


async def answer(
    repo: SurveyRepo, rng: random.Random, invitation_id: int, survey: str, at: datetime
) -> None:
    """The customer answers one or every question, with or without a comment."""
    metrics = SURVEYS[survey]
    asked = metrics if rng.random() < 0.7 else metrics[:1]
    for step, metric in enumerate(asked):
        inv = await repo.invitations.get_invitation(invitation_id)
        assert inv is not None
        score = rng.choice(SCALES[metric])
        at += timedelta(minutes=rng.randint(1, 90), seconds=rng.randint(0, 59))
        alert = NewAlert(STAFF, at + timedelta(minutes=30)) if is_low(metric, score) else None
        given = Answer(inv.id, step, metric, score, category(metric, score), at)
        assert await repo.conversation.record_score(
            inv, Position(step, Phase.FOLLOWUP), given, alert=alert
        )
        inv = await repo.invitations.get_invitation(invitation_id)
        assert inv is not None
        roll = rng.random()
        comment = (
            Comment(rng.choice(WORDS))
            if roll < 0.45
            else Comment(None, "voice", f"voice-{invitation_id}-{step}")
            if roll < 0.55
            else None
        )
        last = step == len(asked) - 1
        after = Position(step, Phase.DONE) if last else Position(step + 1, Phase.SCORE)
        at += timedelta(seconds=rng.randint(5, 300))
        assert await repo.conversation.record_followup(inv, after, comment, at)


async def build(repo: SurveyRepo) -> Outcomes:
    """The shop's sixty days, the same on every backend (a seeded generator, a fixed clock)."""
    rng = random.Random(2026)
    languages = {c: rng.choice(["en", "ru", "ru", "de", None]) for c in CUSTOMERS}
    for k in range(330):
        sent = START + timedelta(minutes=k * 261 + rng.randint(0, 200))
        survey = rng.choice(list(SURVEYS))
        customer = rng.choice(CUSTOMERS)
        context = {"product": rng.choice(PRODUCTS), "channel": rng.choice(CHANNELS)}
        agent = rng.choice(AGENTS)
        if agent is not None:
            context["agent"] = agent
        event = NewEvent(
            f"order-{k}", "purchase", survey, customer, f"C{customer}", languages[customer],
            context, sent,
        )  # fmt: skip
        inv, created = await repo.invitations.create_invitation(event, sent - timedelta(hours=1))
        assert created
        roll = rng.random()
        if roll < 0.06 or sent > NOW:  # never sent
            continue
        assert await repo.outbox.claim_prompt(inv, sent)
        if roll < 0.11:  # refused for good before any message existed (blocked the bot)
            await repo.outbox.close_invitation(inv.id, InvitationStatus.FAILED, "403", sent)
            continue
        await repo.outbox.mark_prompt_sent(inv, 10_000 + k)
        if roll < 0.35:  # ignored
            continue
        await answer(repo, rng, inv.id, survey, sent)
    await handle_alerts(repo, rng)
    outcomes = Outcomes()
    for i in range(25):  # history from another tool, some of it from known customers
        metric = rng.choice(list(SCALES))
        score = rng.choice(SCALES[metric])
        imported = ImportedAnswer(
            key=f"id:h-{i}",
            fingerprint=f"h-{i}-{score}",
            metric=metric,
            score=score,
            category=category(metric, score),
            answered_at=START + timedelta(days=rng.randint(0, 59), hours=rng.randint(0, 23)),
            comment=rng.choice([None, "imported: " + rng.choice(WORDS)]),
            customer_id=rng.choice([None, rng.choice(CUSTOMERS)]),
            context={"product": rng.choice(PRODUCTS), "channel": "import"},
        )
        outcomes.imported.append(await repo.imports.import_answer(imported, NOW))
    run = await repo.campaigns.claim_run("winback", NOW - timedelta(days=1), NOW)
    outcomes.selection = await repo.campaigns.select(
        AudienceQuery(since=NOW - timedelta(days=45), language="ru", context=(("channel", "app"),)),
        NOW,
        recontact=timedelta(days=5),
        campaign="winback",
        run_id=run.id,
    )
    outcomes.invited = await repo.campaigns.invite(
        run,
        "nps",
        [(c, NOW + timedelta(hours=1)) for c in outcomes.selection.invite],
        NOW,
        recontact=timedelta(days=5),
    )
    await repo.campaigns.finish_run(run.id, NOW)
    for customer in rng.sample(CUSTOMERS, 6):
        outcomes.erased.append(await repo.customers.erase_customer(NOW, telegram_id=customer))
    return outcomes


async def handle_alerts(repo: SurveyRepo, rng: random.Random) -> None:
    """Staff take most alerts, resolve many with a reason; some customers answer the re-check."""
    for alert in sorted(await repo.alerts.open_alerts(limit=1000), key=lambda a: a.id):
        roll = rng.random()
        if roll < 0.2:
            continue
        taken = alert.created_at + timedelta(minutes=rng.randint(1, 600))
        assert await repo.alerts.take_alert(alert.id, 1, "Stan", taken)
        if roll < 0.35:
            continue
        resolved = taken + timedelta(minutes=rng.randint(5, 3000))
        reason = rng.choice(["delivery", "product", "staff", None])
        assert await repo.alerts.resolve_alert(
            alert.id, 1, "Stan", resolved, resolved + timedelta(days=2), reason
        )
        if roll < 0.7:
            asked = resolved + timedelta(days=2)
            assert await repo.alert_timers.mark_recheck_sent(alert.id, asked)
            solved = rng.random() < 0.6
            assert await repo.alerts.record_recheck(
                alert.id, alert.customer_id, solved, asked + timedelta(hours=1)
            )


PERIODS = [
    (START - timedelta(days=1), NOW + timedelta(days=1)),  # everything
    (NOW - timedelta(days=30), NOW),
    (NOW - timedelta(days=7), NOW),
    (NOW - timedelta(days=10, hours=5), NOW - timedelta(days=3, hours=7)),
    (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),  # whole days only
    (datetime(2026, 2, 9, 20, tzinfo=UTC), datetime(2026, 2, 10, 9, tzinfo=UTC)),  # no whole day
    (NOW - timedelta(days=400), NOW - timedelta(days=300)),  # nothing
]
BUCKETS = [
    (Bucket.DAY, "UTC"),
    (Bucket.DAY, "Asia/Kolkata"),
    (Bucket.WEEK, "America/New_York"),
    (Bucket.HOUR, "UTC"),  # periods of up to 8 days
]
FILTERS: list[tuple[tuple[str, str], ...]] = [
    (),
    (("product", "kettle"),),  # Kettle, kettle and KETTLE, as NOCASE matches
    (("product", "ЧАЙНИК"),),  # NOCASE folds ASCII only: neither Чайник nor чайник
    (("product", "Чайник"),),
    (("agent", "BOB"), ("channel", "web")),
    (("channel", "import"),),
    (("channel", "nowhere"),),
]


def multiset(rows: list[Any]) -> list[Any]:
    return sorted(rows, key=repr)


async def reads(repo: SurveyRepo) -> dict[str, Any]:
    """Every figure a manager can see, by a name that says which."""
    a = repo.analytics
    event_ids = {
        row["id"]: row["event_id"]
        for row in await backends.fetch(repo, "SELECT id, event_id FROM invitations")
    }
    out: dict[str, Any] = {}

    async def put(name: str, value: Any, tidy: Callable[[Any], Any] = lambda v: v) -> None:
        out[name] = tidy(await value)

    for p, (start, end) in enumerate(PERIODS):
        for f, filters in enumerate(FILTERS):
            key = f"period {p} filter {f}"
            await put(f"distributions {key}", a.distributions(start, end, filters))
            for metric in Metric:
                await put(
                    f"distribution {metric} {key}", a.distribution(metric, start, end, filters)
                )
                for field_ in ("product", "agent", "channel"):
                    await put(
                        f"by_segment {metric} {field_} {key}",
                        a.by_segment(metric, field_, start, end, filters),
                    )
            await put(f"first_answer {key}", a.first_answer(start, end, filters))
            await put(
                f"first_answer nps+ces {key}",
                a.first_answer(start, end, filters, [Metric.NPS, Metric.CES]),
            )
            await put(f"activity {key}", a.activity(start, end, filters))
            # SQLite returns them in whatever order its plan reads them: compared as a multiset.
            await put(f"comments {key}", a.comments(start, end, filters), multiset)
            await put(f"recent_comments {key}", a.recent_comments(start, end, filters, limit=50))
            await put(f"recent_comments 5 {key}", a.recent_comments(start, end, filters))
            await put(f"context_keys {key}", a.context_keys(start, end, filters))
            out[f"export {key}"] = [
                row._replace(invitation_id=event_ids[row.invitation_id])
                async for page in a.export_pages(start, end, filters, page=37)
                for row in page
            ]
            for bucket, tz in BUCKETS:
                if bucket is Bucket.HOUR and end - start > timedelta(days=8):
                    continue
                edges = bucket_edges(Period(start, end, "x"), bucket, ZoneInfo(tz))
                await put(f"bucketed {bucket} {tz} {key}", a.bucketed(list(Metric), edges, filters))
        for field_ in ("product", "agent", "channel", "nothing"):
            await put(f"context_values {field_} period {p}", a.context_values(field_, start, end))
            await put(
                f"context_values {field_} 2 period {p}", a.context_values(field_, start, end, 2)
            )
        await put(f"alert_figures period {p}", a.alert_figures(start, end))
        await put(f"reason_counts period {p}", a.reason_counts(start, end))
        edges = bucket_edges(Period(start, end, "x"), Bucket.WEEK)
        await put(f"reasons_bucketed period {p}", a.reasons_bucketed(edges))
    await put(
        "answer_days",
        backends.fetch(
            repo, "SELECT day, metric, score, n, comments FROM answer_days ORDER BY 1, 2, 3"
        ),
    )
    await put(
        "invitation_days",
        backends.fetch(repo, "SELECT day, sent, answered FROM invitation_days ORDER BY day"),
    )
    return out


async def test_sqlite_and_postgres_show_the_same_figures_for_the_same_shop(
    tmp_path: Path, postgres_url: str
) -> None:
    figures: list[dict[str, Any]] = []
    outcomes: list[Outcomes] = []
    for target in (tmp_path / "shop.sqlite3", postgres_url):
        repo = await open_storage(target)
        try:
            outcomes.append(await build(repo))
            figures.append(await reads(repo))
        finally:
            await repo.close()
    sqlite, postgres = figures
    assert sqlite.keys() == postgres.keys()
    differ = [name for name in sqlite if sqlite[name] != postgres[name]]
    assert not differ, (
        f"{len(differ)} of {len(sqlite)} figures differ between SQLite and PostgreSQL, first"
        f" {differ[0]}:\nSQLite     {sqlite[differ[0]]}\nPostgreSQL {postgres[differ[0]]}"
    )
    assert outcomes[0] == outcomes[1], "erasure, the import or the campaign ran otherwise"
    # The data set is what it says it is: every kind of figure has something in it.
    everything = sqlite["activity period 0 filter 0"]
    assert everything.invitations_sent > 200 and everything.comments > 50, everything
    assert all(sqlite[f"distribution {m} period 0 filter 0"] for m in Metric)
    assert sqlite["distributions period 0 filter 1"] != sqlite["distributions period 0 filter 0"]
    alerts = sqlite["alert_figures period 0"]
    assert alerts["raised"] > 20 and alerts["reopened"] and alerts["rechecked_solved_share"]
    assert sqlite["reason_counts period 0"] and sqlite["recent_comments period 0 filter 0"]
    assert any(e is not None and e.removed for e in outcomes[0].erased), outcomes[0].erased
    assert outcomes[0].invited > 0 and all(outcomes[0].imported)
