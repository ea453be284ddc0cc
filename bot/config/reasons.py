"""[alerts] reasons and reason_labels: what staff pick when they resolve an alert."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config.section import ConfigError
from survey_flows.alerts import DEFAULT_REASONS, REASON_ID

LANGUAGE = r"[a-z]{2}(-[A-Za-z]{2,4})?"
MAX_REASONS = 8  # one or two rows of buttons on the card


def parse_reasons(
    raw: Any, raw_labels: Any
) -> tuple[tuple[str, ...], Mapping[str, Mapping[str, str]]]:
    """Reason ids (default: delivery, quality, price, support, other; [] turns the question
    off) and labels per id and language, e.g. reason_labels.delivery = {en = "Courier"}."""
    if raw is None:
        reasons = DEFAULT_REASONS
    else:
        if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
            raise ConfigError('alerts.reasons: must be a list of ids, e.g. ["delivery", "other"]')
        bad = [r for r in raw if not REASON_ID.fullmatch(r)]
        if bad:
            raise ConfigError(f"alerts.reasons: {bad[0]!r} is not an id (1-24 of a-z, 0-9 and _)")
        if len(set(raw)) != len(raw):
            raise ConfigError("alerts.reasons: an id is listed twice")
        if len(raw) > MAX_REASONS:
            raise ConfigError(f"alerts.reasons: at most {MAX_REASONS} (buttons on the card)")
        reasons = tuple(raw)
    labels: dict[str, dict[str, str]] = {}
    if raw_labels is not None:
        if not isinstance(raw_labels, Mapping):
            raise ConfigError("alerts.reason_labels: must be a table of reason = {lang = label}")
        for reason, by_lang in raw_labels.items():
            where = f"alerts.reason_labels.{reason}"
            if reason not in reasons:
                raise ConfigError(f"{where}: not one of alerts.reasons")
            if not isinstance(by_lang, Mapping) or not all(
                isinstance(v, str) and 0 < len(v.strip()) <= 40 for v in by_lang.values()
            ):
                raise ConfigError(f'{where}: must be a table like {{en = "Courier"}} (1-40 chars)')
            labels[reason] = {str(k): v.strip() for k, v in by_lang.items()}
    return reasons, labels
