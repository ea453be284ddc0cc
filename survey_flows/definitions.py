"""Built-in surveys and triggers, and how the config's tables turn into them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .durations import parse_duration
from .errors import InvalidDefinition
from .models import Category, Metric, Question, Survey, Text, Trigger

BUILTIN_SURVEYS: dict[str, Survey] = {
    "csat": Survey("csat", (Question(Metric.CSAT),)),
    "nps": Survey("nps", (Question(Metric.NPS),)),
    "ces": Survey("ces", (Question(Metric.CES),)),
    "support": Survey("support", (Question(Metric.CES), Question(Metric.CSAT))),
}

BUILTIN_TRIGGERS: dict[str, Trigger] = {
    "purchase": Trigger("purchase", "csat", timedelta(hours=1)),
    "ticket_closed": Trigger("ticket_closed", "support", timedelta(minutes=10)),
}


def _text(value: Any, where: str) -> Text:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if (
        isinstance(value, Mapping)
        and value
        and all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items())
    ):
        return dict(value)
    raise InvalidDefinition(f"{where}: must be a non-empty string or a table of language = text")


def _question(raw: Any, where: str) -> Question:
    if not isinstance(raw, Mapping):
        raise InvalidDefinition(f"{where}: must be a table with metric, text and followup")
    unknown = set(raw) - {"metric", "text", "followup"}
    if unknown:
        raise InvalidDefinition(f"{where}.{sorted(unknown)[0]}: unknown key")
    try:
        metric = Metric(raw.get("metric", ""))
    except ValueError:
        raise InvalidDefinition(f"{where}.metric: must be one of csat, nps, ces") from None
    followup_raw = raw.get("followup")
    followup: dict[Category, Text] = {}
    if isinstance(followup_raw, str):
        followup = {c: _text(followup_raw, f"{where}.followup") for c in Category}
    elif isinstance(followup_raw, Mapping) and set(followup_raw) <= {c.value for c in Category}:
        followup = {Category(k): _text(v, f"{where}.followup.{k}") for k, v in followup_raw.items()}
    elif followup_raw is not None:
        raise InvalidDefinition(
            f"{where}.followup: must be a string or a table with detractor, passive, promoter"
        )
    return Question(metric, _text(raw.get("text"), f"{where}.text"), followup)


def build_surveys(raw: Any) -> dict[str, Survey]:
    """Built-in surveys, overridden or extended by the `[surveys.<name>]` tables."""
    surveys = dict(BUILTIN_SURVEYS)
    if raw is None:
        return surveys
    if not isinstance(raw, Mapping):
        raise InvalidDefinition("surveys: must be a table of [surveys.<name>] tables")
    for name, table in raw.items():
        where = f"surveys.{name}"
        if not isinstance(table, Mapping) or not isinstance(table.get("questions"), list):
            raise InvalidDefinition(f"{where}.questions: must be a list of question tables")
        unknown = set(table) - {"questions"}
        if unknown:
            raise InvalidDefinition(f"{where}.{sorted(unknown)[0]}: unknown key")
        if not table["questions"]:
            raise InvalidDefinition(f"{where}.questions: needs at least one question")
        if len(table["questions"]) > 20:
            raise InvalidDefinition(f"{where}.questions: at most 20 questions")
        questions = tuple(
            _question(q, f"{where}.questions[{i}]") for i, q in enumerate(table["questions"])
        )
        surveys[name] = Survey(name, questions)
    return surveys


def build_triggers(raw: Any, surveys: Mapping[str, Survey]) -> dict[str, Trigger]:
    """Built-in triggers, overridden or extended by the `[triggers.<event type>]` tables."""
    triggers = dict(BUILTIN_TRIGGERS)
    if raw is not None and not isinstance(raw, Mapping):
        raise InvalidDefinition("triggers: must be a table of [triggers.<event type>] tables")
    for event_type, table in (raw or {}).items():
        where = f"triggers.{event_type}"
        if not isinstance(table, Mapping):
            raise InvalidDefinition(f"{where}: must be a table with survey and delay")
        unknown = set(table) - {"survey", "delay"}
        if unknown:
            raise InvalidDefinition(f"{where}.{sorted(unknown)[0]}: unknown key")
        base = triggers.get(event_type)
        survey = table.get("survey", base.survey if base else None)
        if not isinstance(survey, str) or not survey:
            raise InvalidDefinition(f"{where}.survey: must name a survey")
        if "delay" in table:
            if not isinstance(table["delay"], str):
                raise InvalidDefinition(f"{where}.delay: must be a string like 30m")
            try:
                delay = parse_duration(table["delay"])
            except InvalidDefinition as exc:
                raise InvalidDefinition(f"{where}.delay: {exc}") from None
        else:
            delay = base.delay if base else timedelta(0)
        triggers[event_type] = Trigger(event_type, survey, delay)
    for trigger in triggers.values():
        if trigger.survey not in surveys:
            raise InvalidDefinition(
                f"triggers.{trigger.event_type}.survey: unknown survey {trigger.survey!r}"
                f" (known: {', '.join(sorted(surveys))})"
            )
    return triggers
