"""Built-in surveys and triggers, config tables that change them, and malformed definitions."""

from datetime import timedelta
from typing import Any

import pytest

from survey_flows.definitions import (
    BUILTIN_SURVEYS,
    BUILTIN_TRIGGERS,
    build_surveys,
    build_triggers,
)
from survey_flows.errors import InvalidDefinition
from survey_flows.models import Category, Metric, Trigger


@pytest.mark.parametrize(
    ("name", "metrics"),
    [
        ("csat", [Metric.CSAT]),
        ("nps", [Metric.NPS]),
        ("ces", [Metric.CES]),
        ("support", [Metric.CES, Metric.CSAT]),
    ],
)
def test_builtin_surveys_exist_without_config(name: str, metrics: list[Metric]) -> None:
    surveys = build_surveys(None)
    assert name in surveys, f"survey {name!r} would be unknown without a [surveys] table"
    assert [q.metric for q in surveys[name].questions] == metrics


@pytest.mark.parametrize(
    ("event_type", "survey", "delay"),
    [
        ("purchase", "csat", timedelta(hours=1)),
        ("ticket_closed", "support", timedelta(minutes=10)),
    ],
)
def test_default_triggers(event_type: str, survey: str, delay: timedelta) -> None:
    triggers = build_triggers(None, build_surveys(None))
    assert triggers[event_type] == Trigger(event_type, survey, delay), (
        f"a {event_type} event would start {triggers[event_type]} instead of {survey} after {delay}"
    )


def test_config_overrides_and_adds_surveys() -> None:
    surveys = build_surveys(
        {
            "csat": {"questions": [{"metric": "csat", "text": "Happy?"}]},
            "onboarding": {
                "questions": [
                    {"metric": "nps", "text": {"en": "Recommend us?", "ru": "Порекомендуете?"}},
                    {
                        "metric": "ces",
                        "followup": {"detractor": "What was hard?", "promoter": "Great!"},
                    },
                    {"metric": "csat", "followup": "Why?"},
                ]
            },
        }
    )
    assert surveys["csat"].questions[0].text == "Happy?", "the configured CSAT wording was ignored"
    assert surveys["nps"] == BUILTIN_SURVEYS["nps"], "untouched built-ins must stay"
    q0, q1, q2 = surveys["onboarding"].questions
    assert q0.metric is Metric.NPS and q0.text == {"en": "Recommend us?", "ru": "Порекомендуете?"}
    assert q1.text is None
    assert q1.followup == {Category.DETRACTOR: "What was hard?", Category.PROMOTER: "Great!"}
    assert q2.followup == dict.fromkeys(Category, "Why?")


def test_config_overrides_and_adds_triggers() -> None:
    surveys = build_surveys({"onboarding": {"questions": [{"metric": "nps"}]}})
    triggers = build_triggers(
        {
            "purchase": {"delay": "2h"},
            "ticket_closed": {"survey": "ces"},
            "signup": {"survey": "onboarding", "delay": "1d"},
            "refund": {"survey": "csat"},
        },
        surveys,
    )
    assert triggers["purchase"] == Trigger("purchase", "csat", timedelta(hours=2))
    assert triggers["ticket_closed"] == Trigger("ticket_closed", "ces", timedelta(minutes=10))
    assert triggers["signup"] == Trigger("signup", "onboarding", timedelta(days=1))
    assert triggers["refund"] == Trigger("refund", "csat", timedelta(0))


def test_builtin_tables_are_not_changed_by_config() -> None:
    build_surveys({"csat": {"questions": [{"metric": "nps"}]}})
    build_triggers({"purchase": {"delay": "5m"}}, BUILTIN_SURVEYS)
    assert BUILTIN_SURVEYS["csat"].questions[0].metric is Metric.CSAT
    assert BUILTIN_TRIGGERS["purchase"].delay == timedelta(hours=1)


def q(**kw: Any) -> dict[str, Any]:
    return {"metric": "csat", **kw}


@pytest.mark.parametrize(
    ("surveys", "key"),
    [
        ("not a table", "surveys"),
        ({"x": {}}, "surveys.x.questions"),
        ({"x": "csat"}, "surveys.x.questions"),
        ({"x": {"questions": []}}, "surveys.x.questions"),
        ({"x": {"questions": [q()] * 21}}, "surveys.x.questions"),
        ({"x": {"questions": {"metric": "csat"}}}, "surveys.x.questions"),
        ({"x": {"questions": ["csat"]}}, "surveys.x.questions[0]"),
        ({"x": {"questions": [{"text": "Hi"}]}}, "surveys.x.questions[0].metric"),
        ({"x": {"questions": [q(metric="stars")]}}, "surveys.x.questions[0].metric"),
        ({"x": {"questions": [q(), q(metric=5)]}}, "surveys.x.questions[1].metric"),
        ({"x": {"questions": [q(text="")]}}, "surveys.x.questions[0].text"),
        ({"x": {"questions": [q(text="  ")]}}, "surveys.x.questions[0].text"),
        ({"x": {"questions": [q(text=3)]}}, "surveys.x.questions[0].text"),
        ({"x": {"questions": [q(text={})]}}, "surveys.x.questions[0].text"),
        ({"x": {"questions": [q(text={"en": 1})]}}, "surveys.x.questions[0].text"),
        ({"x": {"questions": [q(followup=1)]}}, "surveys.x.questions[0].followup"),
        ({"x": {"questions": [q(followup={"angry": "?"})]}}, "surveys.x.questions[0].followup"),
        (
            {"x": {"questions": [q(followup={"passive": ""})]}},
            "surveys.x.questions[0].followup.passive",
        ),
        ({"x": {"questions": [q(wording="Hi")]}}, "surveys.x.questions[0].wording"),
        ({"x": {"questions": [q()], "titel": "Hi"}}, "surveys.x.titel"),
    ],
)
def test_malformed_survey_names_the_key(surveys: Any, key: str) -> None:
    with pytest.raises(InvalidDefinition) as info:
        build_surveys(surveys)
    message = str(info.value)
    assert message.startswith(f"{key}:"), (
        f"the operator would be told {message!r}, which does not point at {key}"
    )
    assert "\n" not in message


@pytest.mark.parametrize(
    ("triggers", "key"),
    [
        (["purchase"], "triggers"),
        ({"x": "csat"}, "triggers.x"),
        ({"x": {"delay": "1h"}}, "triggers.x.survey"),
        ({"x": {"survey": ""}}, "triggers.x.survey"),
        ({"x": {"survey": 1}}, "triggers.x.survey"),
        ({"x": {"survey": "nope"}}, "triggers.x.survey"),
        ({"purchase": {"survey": "nope"}}, "triggers.purchase.survey"),
        ({"x": {"survey": "csat", "delay": 30}}, "triggers.x.delay"),
        ({"x": {"survey": "csat", "delay": "soon"}}, "triggers.x.delay"),
        ({"x": {"survey": "csat", "delay": "-5m"}}, "triggers.x.delay"),
        ({"x": {"survey": "csat", "wait": "5m"}}, "triggers.x.wait"),
    ],
)
def test_malformed_trigger_names_the_key(triggers: Any, key: str) -> None:
    with pytest.raises(InvalidDefinition) as info:
        build_triggers(triggers, BUILTIN_SURVEYS)
    message = str(info.value)
    assert message.startswith(f"{key}:"), (
        f"the operator would be told {message!r}, which does not point at {key}"
    )


def test_builtin_trigger_pointing_at_a_removed_survey_is_caught() -> None:
    surveys = {k: v for k, v in BUILTIN_SURVEYS.items() if k != "support"}
    with pytest.raises(InvalidDefinition, match=r"^triggers\.ticket_closed\.survey: unknown"):
        build_triggers(None, surveys)
