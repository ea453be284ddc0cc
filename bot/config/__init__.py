"""TOML -> typed config. Secrets may come from the environment. One clear error per bad key.

Each section other than the core ones has its own module here (a dataclass and its parser).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from bot.config.campaigns import CampaignConfig as CampaignConfig
from bot.config.campaigns import parse_campaigns
from bot.config.links import LinksConfig as LinksConfig
from bot.config.links import parse_links
from bot.config.reasons import parse_reasons
from bot.config.reports import ReportsConfig as ReportsConfig
from bot.config.reports import parse_reports
from bot.config.section import ConfigError as ConfigError
from bot.config.section import Section
from bot.config.throttle import ThrottleConfig as ThrottleConfig
from bot.config.throttle import parse_throttle
from locales.catalogues import languages
from survey_flows.alerts import DEFAULT_ALERT_MAX, AlertRules
from survey_flows.definitions import build_surveys, build_triggers
from survey_flows.errors import InvalidDefinition
from survey_flows.models import Metric, Survey, Trigger
from survey_flows.scoring import SCALES

ENV_TOKEN = "SURVEY_BOT_TOKEN"
ENV_API_TOKEN = "SURVEY_BOT_API_TOKEN"
ENV_WEBHOOK_SECRET = "SURVEY_BOT_WEBHOOK_SECRET"
# Telegram's rule for setWebhook's secret_token.
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    api_base: str = "https://api.telegram.org"
    staff_chat_id: int | None = None
    manager_ids: tuple[int, ...] = ()
    # How updates arrive: "polling" (getUpdates) or "webhook" (Telegram POSTs them to
    # webhook_url, served on the intake API's port; webhook_secret authenticates Telegram).
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # Messages a second across all chats: Telegram's 30, or a local Bot API server's own figure.
    rate_limit: float = 30.0
    # Telegram's paid tier: sends above the free rate carry allow_paid_broadcast (up to 1,000/s;
    # Telegram charges the bot's Stars balance for each of those messages).
    paid_broadcast: bool = False

    @property
    def webhook_path(self) -> str:
        """The path the bot serves the webhook on: webhook_url's path."""
        return urlsplit(self.webhook_url or "").path or "/"


@dataclass(frozen=True, slots=True)
class StorageConfig:
    path: Path


@dataclass(frozen=True, slots=True)
class ApiConfig:
    token: str
    host: str = "127.0.0.1"
    port: int = 8080


DEFAULT_EXPIRE_AFTER = timedelta(days=3)
DEFAULT_REMIND_AFTER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    # An invitation not answered within this time no longer accepts answers; one due longer ago
    # than this (the bot was down) is not sent at all.
    expire_after: timedelta = DEFAULT_EXPIRE_AFTER
    # One reminder when the first question is still unanswered this long after it was sent
    # (and the customer has not written meanwhile); zero = no reminder.
    remind_after: timedelta = DEFAULT_REMIND_AFTER
    default_language: str = "en"


@dataclass(frozen=True, slots=True)
class Config:
    telegram: TelegramConfig
    storage: StorageConfig
    api: ApiConfig
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    surveys: dict[str, Survey] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)  # for sections other modules parse
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    alerts: AlertRules = field(default_factory=lambda: AlertRules(dict(DEFAULT_ALERT_MAX)))
    alerts_enabled: bool = False  # alerts need a staff chat
    # [alerts] staff_ids: who may act on alerts (buttons, replies); empty = the staff chat's members
    staff_ids: tuple[int, ...] = ()
    links: LinksConfig = field(default_factory=LinksConfig)
    throttle: ThrottleConfig = field(default_factory=ThrottleConfig)

    campaigns: dict[str, CampaignConfig] = field(default_factory=dict)
    # The file this was read from: `/claim` writes the staff chat and managers into it.
    source: Path | None = None


KNOWN_SECTIONS = {
    "telegram",
    "storage",
    "api",
    "delivery",
    "surveys",
    "triggers",
    "alerts",
    "reports",
    "links",
    "throttle",
    "campaigns",
}


def parse_config(raw: Mapping[str, Any], env: Mapping[str, str], base_dir: Path) -> Config:
    unknown = set(raw) - KNOWN_SECTIONS
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown section")
    tg = Section(
        raw.get("telegram"),
        "telegram",
        {
            "token",
            "api_base",
            "staff_chat_id",
            "manager_ids",
            "mode",
            "webhook_url",
            "webhook_secret",
            "rate_limit",
            "paid_broadcast",
        },
    )
    token = env.get(ENV_TOKEN) or tg.str("token")
    if not token or not token.strip():
        raise ConfigError(f"telegram.token: missing (set it in the config or in {ENV_TOKEN})")
    if ":" not in token:
        raise ConfigError("telegram.token: must look like 123456:ABC..., as BotFather gives it")
    api_base = tg.str("api_base", "https://api.telegram.org").rstrip("/")
    if not api_base.startswith(("http://", "https://")):
        raise ConfigError("telegram.api_base: must be an http:// or https:// URL")
    staff_chat_id = tg.int("staff_chat_id")
    if staff_chat_id is not None and staff_chat_id >= 0:
        raise ConfigError(
            "telegram.staff_chat_id: must be a group's id, which is negative (e.g. -1001234567890)"
        )
    alerts_raw = raw.get("alerts")
    alerts_on = not (isinstance(alerts_raw, Mapping) and alerts_raw.get("enabled") is False)
    if staff_chat_id is None and alerts_on:
        raise ConfigError(
            "telegram.staff_chat_id: missing (the staff group's negative id, where detractor "
            "alerts go; or set [alerts] enabled = false)"
        )
    telegram = TelegramConfig(
        token.strip(),
        api_base,
        staff_chat_id,
        tg.int_list("manager_ids"),
        *_parse_webhook(tg, env),
        *_parse_rates(tg),
    )

    st = Section(raw.get("storage"), "storage", {"path"})
    path = Path(st.str("path", "data/survey-bot.sqlite3", required=True))
    storage = StorageConfig(path if path.is_absolute() else base_dir / path)

    api_section = Section(raw.get("api"), "api", {"host", "port", "token"})
    api_token = env.get(ENV_API_TOKEN) or api_section.str("token")
    if not api_token or len(api_token.strip()) < 16:
        raise ConfigError(
            f"api.token: missing or shorter than 16 characters (set it or {ENV_API_TOKEN})"
        )
    api = ApiConfig(
        api_token.strip(),
        api_section.str("host", "127.0.0.1"),
        api_section.int("port", 8080, low=0, high=65535),
    )

    dl = Section(
        raw.get("delivery"),
        "delivery",
        {"expire_after", "min_gap", "remind_after", "default_language"},
    )
    language = dl.str("default_language", "en")
    if language not in languages():
        raise ConfigError(f"delivery.default_language: must be one of {', '.join(languages())}")
    delivery = DeliveryConfig(
        expire_after=dl.duration("expire_after", DEFAULT_EXPIRE_AFTER),
        remind_after=dl.duration("remind_after", DEFAULT_REMIND_AFTER),
        default_language=language,
    )
    # [delivery] min_gap is the deprecated name of [throttle] recontact.
    min_gap = dl.duration("min_gap", timedelta(0)) if "min_gap" in dl.raw else None
    throttle = parse_throttle(raw.get("throttle"), min_gap)

    try:
        surveys = build_surveys(raw.get("surveys"))
        triggers = build_triggers(raw.get("triggers"), surveys)
    except InvalidDefinition as exc:
        raise ConfigError(str(exc)) from None
    reports = parse_reports(raw.get("reports"), telegram.manager_ids)
    alerts = _parse_alerts(raw.get("alerts"))
    enabled = telegram.staff_chat_id is not None and bool(
        (raw.get("alerts") or {}).get("enabled", True)
    )
    return Config(
        telegram,
        storage,
        api,
        delivery,
        surveys,
        triggers,
        raw,
        reports=reports,
        alerts=alerts,
        alerts_enabled=enabled,
        staff_ids=Section(raw.get("alerts"), "alerts", ALERT_KEYS).int_list("staff_ids"),
        links=parse_links(raw.get("links")),
        throttle=throttle,
        campaigns=parse_campaigns(raw.get("campaigns"), surveys, reports.timezone),
    )


def _parse_rates(tg: Section) -> tuple[float, bool]:
    """[telegram] rate_limit (messages a second, 1-100000) and paid_broadcast (true/false)."""
    rate = tg.raw.get("rate_limit", 30.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 1 <= rate <= 100_000:
        raise ConfigError("telegram.rate_limit: must be a number of messages a second, 1-100000")
    paid = tg.raw.get("paid_broadcast", False)
    if not isinstance(paid, bool):
        raise ConfigError("telegram.paid_broadcast: must be true or false")
    return float(rate), paid


def _parse_webhook(
    tg: Section, env: Mapping[str, str]
) -> tuple[Literal["polling", "webhook"], str | None, str | None]:
    """[telegram] mode, webhook_url, webhook_secret: checked as Telegram's setWebhook would."""
    mode = tg.str("mode", "polling")
    if mode not in ("polling", "webhook"):
        raise ConfigError('telegram.mode: must be "polling" or "webhook"')
    url = tg.str("webhook_url")
    secret = env.get(ENV_WEBHOOK_SECRET) or tg.str("webhook_secret")
    if url is not None:
        parts = urlsplit(url)
        local = (parts.hostname or "") in LOCAL_HOSTS
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise ConfigError(
                "telegram.webhook_url: must be an https:// URL (Telegram only calls https; "
                "http:// only for localhost)"
            )
        if not parts.hostname:
            raise ConfigError("telegram.webhook_url: has no host name")
        if (parts.path or "/").startswith("/api/"):
            raise ConfigError("telegram.webhook_url: its path must not be under /api/ (intake)")
    if secret is not None and not WEBHOOK_SECRET_RE.fullmatch(secret):
        raise ConfigError(
            "telegram.webhook_secret: must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
            "(Telegram's rule)"
        )
    if mode == "webhook":
        if url is None:
            raise ConfigError('telegram.webhook_url: missing (mode = "webhook" needs it)')
        if secret is None:
            raise ConfigError(
                'telegram.webhook_secret: missing (mode = "webhook" needs it; or set '
                f"{ENV_WEBHOOK_SECRET})"
            )
    return ("webhook" if mode == "webhook" else "polling"), url, secret


ALERT_KEYS = {
    "enabled",
    "nps",
    "csat",
    "ces",
    "escalate_after",
    "recheck_after",
    "staff_ids",
    "reasons",
    "reason_labels",
}


def _parse_alerts(raw: Any) -> AlertRules:
    """[alerts]: which scores alert (at or below, per metric), escalation and recheck times."""
    section = Section(raw, "alerts", ALERT_KEYS)
    if not isinstance(section.raw.get("enabled", True), bool):
        raise ConfigError("alerts.enabled: must be true or false")
    max_score = {}
    for metric in Metric:
        scale = SCALES[metric]
        value = section.int(
            metric.value, DEFAULT_ALERT_MAX[metric], low=scale.low - 1, high=scale.high
        )
        max_score[metric] = value
    reasons, labels = parse_reasons(section.raw.get("reasons"), section.raw.get("reason_labels"))
    return AlertRules(
        max_score=max_score,
        escalate_after=section.duration("escalate_after", timedelta(minutes=30)),
        recheck_after=section.duration("recheck_after", timedelta(days=1)),
        reasons=reasons,
        reason_labels=labels,
    )


def load_config(path: str | Path, env: Mapping[str, str]) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (copy config.example.toml)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return replace(parse_config(raw, env, path.parent.resolve()), source=path.resolve())
