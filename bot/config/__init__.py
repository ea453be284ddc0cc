"""TOML -> typed config. Secrets may come from the environment. One clear error per bad key.

pydantic reads each section into the dataclass the bot uses, whose field types (values.py) say
what a value may be; surveys and triggers are the core's definitions, read by survey_flows.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.config.alerts import AlertsTable
from bot.config.campaigns import CampaignConfig as CampaignConfig
from bot.config.campaigns import named
from bot.config.links import LinksConfig as LinksConfig
from bot.config.reports import ReportsConfig as ReportsConfig
from bot.config.throttle import ThrottleConfig as ThrottleConfig
from bot.config.values import (
    TEXT,
    Duration,
    Flag,
    Int,
    Invalid,
    Language,
    Text,
    UserIds,
    between,
    check,
    one_line,
    says,
)
from bot.config.values import ConfigError as ConfigError
from survey_flows.alerts import DEFAULT_ALERT_MAX, AlertRules
from survey_flows.definitions import build_surveys, build_triggers
from survey_flows.errors import InvalidDefinition
from survey_flows.models import Survey, Trigger

ENV_TOKEN = "SURVEY_BOT_TOKEN"
ENV_API_TOKEN = "SURVEY_BOT_API_TOKEN"
ENV_WEBHOOK_SECRET = "SURVEY_BOT_WEBHOOK_SECRET"
ENV_LOG_LEVEL = "SURVEY_BOT_LOG_LEVEL"
ENV_STORAGE_URL = "SURVEY_BOT_STORAGE_URL"
# Keys the environment may set, so that secrets need not be in the file.
SECRETS = {
    ("telegram", "token"): ENV_TOKEN,
    ("api", "token"): ENV_API_TOKEN,
    ("telegram", "webhook_secret"): ENV_WEBHOOK_SECRET,
    ("storage", "url"): ENV_STORAGE_URL,  # the whole url, as its password is in it
}
# Telegram's rule for setWebhook's secret_token.
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _token(token: str) -> str:
    if not token.strip():
        raise Invalid(f"missing (set it in the config or in {ENV_TOKEN})")
    if ":" not in token:
        raise Invalid("must look like 123456:ABC..., as BotFather gives it")
    return token.strip()


def _api_base(url: str) -> str:
    if not url.rstrip("/").startswith(("http://", "https://")):
        raise Invalid("must be an http:// or https:// URL")
    return url.rstrip("/")


def _mode(mode: Any) -> Literal["polling", "webhook"]:
    if not isinstance(mode, str):
        raise Invalid(TEXT)
    if mode not in ("polling", "webhook"):
        raise Invalid('must be "polling" or "webhook"')
    return "webhook" if mode == "webhook" else "polling"


def _webhook_url(url: str) -> str:
    """Checked as Telegram's setWebhook would, and kept off the intake API's paths."""
    parts = urlsplit(url)
    local = (parts.hostname or "") in LOCAL_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise Invalid(
            "must be an https:// URL (Telegram only calls https; http:// only for localhost)"
        )
    if not parts.hostname:
        raise Invalid("has no host name")
    if (parts.path or "/").startswith("/api/"):
        raise Invalid("its path must not be under /api/ (intake)")
    return url


GROUP_ID = "must be a group's id, which is negative (e.g. -1001234567890)"
GroupId = Annotated[Int, check(lambda chat: chat < 0, GROUP_ID)]
SECRET = "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
Secret = Annotated[Text, check(WEBHOOK_SECRET_RE.fullmatch, SECRET)]
RATE = "must be a number of messages a second, 1-100000"
Rate = Annotated[float, Strict(), Field(ge=1, le=100_000), says(RATE)]


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: Annotated[Text, AfterValidator(_token)]
    api_base: Annotated[Text, AfterValidator(_api_base)] = "https://api.telegram.org"
    staff_chat_id: GroupId | None = None
    manager_ids: UserIds = ()
    # How updates arrive: "polling" (getUpdates) or "webhook" (Telegram POSTs them to
    # webhook_url, served on the intake API's port; webhook_secret authenticates Telegram).
    mode: Annotated[Literal["polling", "webhook"], PlainValidator(_mode)] = "polling"
    webhook_url: Annotated[Text, AfterValidator(_webhook_url)] | None = None
    webhook_secret: Secret | None = None
    # Messages a second across all chats: Telegram's 30, or a local Bot API server's own figure.
    rate_limit: Rate = 30.0
    # Telegram's paid tier: sends above the free rate carry allow_paid_broadcast (up to 1,000/s;
    # Telegram charges the bot's Stars balance for each of those messages).
    paid_broadcast: Flag = False

    @property
    def webhook_path(self) -> str:
        """The path the bot serves the webhook on: webhook_url's path."""
        return urlsplit(self.webhook_url or "").path or "/"

    @model_validator(mode="after")
    def _webhook_needs(self) -> TelegramConfig:
        if self.mode == "webhook" and self.webhook_url is None:
            raise Invalid('missing (mode = "webhook" needs it)', "webhook_url")
        if self.mode == "webhook" and self.webhook_secret is None:
            raise Invalid(
                f'missing (mode = "webhook" needs it; or set {ENV_WEBHOOK_SECRET})',
                "webhook_secret",
            )
        return self


def _path(path: Any) -> Path:
    if not isinstance(path, str) or not path.strip():
        raise Invalid(TEXT)
    return Path(path)


POSTGRES_URL = "must look like postgresql://user:password@host:5432/database"


def _postgres_url(url: str) -> str:
    """Checked before any connection is tried; what is wrong is said without the url itself,
    whose password must not reach a log."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("postgresql", "postgres") or "://" not in url:
        # Only what precedes :// is surely no password ("user:secret@host" parses as a scheme).
        scheme = f'its scheme is "{parts.scheme}"; ' if "://" in url else ""
        raise Invalid(f"{scheme}{POSTGRES_URL}")
    # libpq's form for a Unix socket names the host in the query: ...?host=/run/postgresql
    if not parts.hostname and not dict(parse_qsl(parts.query)).get("host"):
        raise Invalid(f"has no host ({POSTGRES_URL})")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.rpartition("@")[2].endswith(":"):
        # Also what a password with an unencoded / ? or # looks like: "user:pa/ss@..."
        raise Invalid("has a bad port (a number 1-65535; in a password write / ? # as %2F %3F %23)")
    if not parts.path.strip("/"):
        raise Invalid(f"has no database name ({POSTGRES_URL})")
    return url.strip()


def masked(url: str) -> str:
    """`url` with its password (in the user part or a password= parameter) shown as ***."""
    parts = urlsplit(url)
    user, at, host = parts.netloc.rpartition("@")
    netloc = f"{user.partition(':')[0]}:***@{host}" if at and ":" in user else parts.netloc
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = parts.query
    if any(key == "password" for key, _ in pairs):
        hidden = [(key, "***" if key == "password" else value) for key, value in pairs]
        query = urlencode(hidden, safe="*/")
    # By hand, not urlunsplit, which drops the // of a url with no host (a Unix socket's).
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """A SQLite file (`path`, the default) or a PostgreSQL database (`url`), never both."""

    # Relative: to the config file's folder.
    path: Annotated[Path, PlainValidator(_path)] = Path("data/survey-bot.sqlite3")
    # Several processes share one PostgreSQL database; SURVEY_BOT_STORAGE_URL may give it.
    url: Annotated[Text, AfterValidator(_postgres_url)] | None = None

    @property
    def target(self) -> str | Path:
        """What storage.open.open_storage opens: the url, else the SQLite file."""
        return self.url if self.url is not None else self.path

    @property
    def shown(self) -> str:
        """The database for log lines and errors: the url without its password, or the path."""
        return masked(self.url) if self.url is not None else str(self.path)

    @model_validator(mode="before")
    @classmethod
    def _one_of_the_two(cls, table: Any, info: ValidationInfo) -> Any:
        if not (isinstance(table, Mapping) and "path" in table and "url" in table):
            return table
        if (info.context or {}).get("storage_url_from_env"):
            raise Invalid(
                f"set here while {ENV_STORAGE_URL} sets storage.url; keep one (path: a SQLite "
                "file, the variable: a PostgreSQL database)",
                "path",
            )
        raise Invalid(
            "given with storage.path too; keep one (url: a PostgreSQL database, path: a "
            "SQLite file)",
            "url",
        )


def _api_token(token: str) -> str:
    if len(token.strip()) < 16:
        raise Invalid(f"missing or shorter than 16 characters (set it or {ENV_API_TOKEN})")
    return token.strip()


@dataclass(frozen=True, slots=True)
class ApiConfig:
    token: Annotated[Text, AfterValidator(_api_token)]
    host: Text = "127.0.0.1"
    port: Annotated[Int, between(0, 65535)] = 8080


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    # An invitation not answered within this time no longer accepts answers; one due longer ago
    # than this (the bot was down) is not sent at all.
    expire_after: Duration = timedelta(days=3)
    # One reminder when the first question is still unanswered this long after it was sent
    # (and the customer has not written meanwhile); zero = no reminder.
    remind_after: Duration = timedelta(hours=24)
    default_language: Language = "en"


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


class ConfigFile(BaseModel):
    """The file's sections but the core's definitions (surveys, triggers), checked in this order
    (the first error is the one reported)."""

    model_config = ConfigDict(extra="forbid")  # which the sections' dataclasses inherit

    telegram: TelegramConfig
    storage: StorageConfig = StorageConfig()
    api: ApiConfig
    delivery: DeliveryConfig = DeliveryConfig()
    throttle: ThrottleConfig = ThrottleConfig()
    reports: ReportsConfig = ReportsConfig()
    alerts: AlertsTable = AlertsTable()
    links: LinksConfig = LinksConfig()
    campaigns: dict[str, CampaignConfig] = {}

    @field_validator("telegram")
    @classmethod
    def _staff_chat_for_alerts(cls, telegram: TelegramConfig, info: ValidationInfo) -> Any:
        if telegram.staff_chat_id is None and (info.context or {})["alerts"]:
            raise Invalid(
                "missing (the staff group's negative id, where detractor alerts go; or set "
                "[alerts] enabled = false)",
                "staff_chat_id",
            )
        return telegram

    @field_validator("campaigns", mode="before")
    @classmethod
    def _named(cls, tables: Any, info: ValidationInfo) -> Any:
        reports = info.data.get("reports")
        return named(tables, reports.timezone if reports is not None else "UTC")


def parse_config(raw: Mapping[str, Any], env: Mapping[str, str], base_dir: Path) -> Config:
    try:
        surveys = build_surveys(raw.get("surveys"))
        triggers = build_triggers(raw.get("triggers"), surveys)
    except InvalidDefinition as exc:
        raise ConfigError(str(exc)) from None
    tables = {key: value for key, value in raw.items() if key not in ("surveys", "triggers")}
    alerts = raw.get("alerts")
    # The staff chat is checked with [telegram], before [alerts] is: whether alerts are on.
    alerts_on = not (isinstance(alerts, Mapping) and alerts.get("enabled") is False)
    try:
        file = ConfigFile.model_validate(
            _with_secrets(tables, env),
            context={
                "surveys": surveys,
                "alerts": alerts_on,
                "storage_url_from_env": bool(env.get(ENV_STORAGE_URL)),
            },
        )
    except ValidationError as exc:
        raise ConfigError(one_line(exc)) from None
    reports = file.reports  # which go to the managers unless chat_ids says otherwise
    if "chat_ids" not in tables.get("reports", {}):
        reports = replace(reports, chat_ids=file.telegram.manager_ids)
    return Config(
        file.telegram,
        # An absolute path stays as it is.
        StorageConfig(base_dir / file.storage.path, file.storage.url),
        file.api,
        file.delivery,
        surveys,
        triggers,
        raw,
        reports=reports,
        alerts=file.alerts.rules(),
        alerts_enabled=file.telegram.staff_chat_id is not None and file.alerts.enabled,
        staff_ids=file.alerts.staff_ids,
        links=file.links,
        throttle=file.throttle,
        campaigns=file.campaigns,
    )


def _with_secrets(tables: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The tables with the environment's secrets in place of the file's (an empty variable counts
    as unset); a token given by neither reads as "", which its check calls missing."""
    result = {"telegram": {}, "api": {}, "storage": {}, **tables}
    for (section, key), variable in SECRETS.items():
        table, secret = result[section], env.get(variable)
        if isinstance(table, Mapping) and (secret or key == "token"):
            result[section] = {**table, key: secret or table.get(key, "")}
    return result


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


def environment() -> Mapping[str, str]:
    """The process's environment, where secrets may come from: read here, nowhere else."""
    return os.environ


def log_level(default: str) -> str:
    """The log level when --log-level is not given: SURVEY_BOT_LOG_LEVEL, else `default`."""
    return os.environ.get(ENV_LOG_LEVEL, default)
