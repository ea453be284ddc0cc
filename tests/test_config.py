"""Config loading: the example file, env secrets, and one clear line for every bad key."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ENV_API_TOKEN, ENV_TOKEN, ENV_WEBHOOK_SECRET, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
ENV = {ENV_TOKEN: "123456:env-token", ENV_API_TOKEN: "env-api-token-0123456789"}

BASE: dict[str, dict[str, str]] = {
    "telegram": {
        "token": '"111:file-token"',
        "api_base": '"http://127.0.0.1:8081/"',
        "staff_chat_id": "-100123",
        "manager_ids": "[1, 2]",
    },
    "storage": {"path": '"db/bot.sqlite3"'},
    "api": {"host": '"127.0.0.1"', "port": "8080", "token": '"file-api-token-0123456789"'},
}


def render(overrides: dict[tuple[str, str], str | None] | None = None, extra: str = "") -> str:
    """BASE as TOML text, with (section, key) -> literal overrides (None removes the key)."""
    lines = []
    for section, keys in BASE.items():
        merged = dict(keys)
        for (sec, key), value in (overrides or {}).items():
            if sec == section:
                merged[key] = value
        lines.append(f"[{section}]")
        lines += [f"{k} = {v}" for k, v in merged.items() if v is not None]
    return "\n".join(lines) + "\n" + extra


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_file_loads_with_tokens_from_env() -> None:
    config = load_config(ROOT / "config.example.toml", ENV)
    assert config.telegram.token == ENV[ENV_TOKEN]
    assert config.api.token == ENV[ENV_API_TOKEN]
    assert config.telegram.api_base == "https://api.telegram.org"
    assert config.storage.path == ROOT / "data" / "survey-bot.sqlite3"
    assert config.triggers["purchase"].survey == "csat"
    assert config.triggers["purchase"].delay == timedelta(hours=1)
    assert config.triggers["ticket_closed"].survey == "support"
    assert config.triggers["ticket_closed"].delay == timedelta(minutes=10)
    assert set(config.surveys) >= {"csat", "nps", "ces", "support"}


def test_example_file_without_tokens_names_the_token(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^telegram\.token: "):
        load_config(ROOT / "config.example.toml", {})


def test_file_values_and_env_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, render())
    from_file = load_config(path, {})
    assert from_file.telegram.token == "111:file-token"
    assert from_file.api.token == "file-api-token-0123456789"
    assert from_file.telegram.api_base == "http://127.0.0.1:8081", "trailing slash kept"
    assert from_file.telegram.manager_ids == (1, 2)
    assert from_file.telegram.staff_chat_id == -100123
    from_env = load_config(path, ENV)
    assert from_env.telegram.token == ENV[ENV_TOKEN], f"{ENV_TOKEN} did not override the file"
    assert from_env.api.token == ENV[ENV_API_TOKEN], f"{ENV_API_TOKEN} did not override the file"


def test_storage_path_is_relative_to_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    relative = load_config(write(folder, render()), {})
    assert relative.storage.path == folder.resolve() / "db" / "bot.sqlite3", (
        "a relative storage.path would depend on the directory the bot was started from"
    )
    absolute = tmp_path / "abs.sqlite3"
    config = load_config(write(folder, render({("storage", "path"): f'"{absolute}"'})), {})
    assert config.storage.path == absolute


def test_defaults_for_optional_keys(tmp_path: Path) -> None:
    text = '[telegram]\ntoken = "1:a"\nstaff_chat_id = -1\n[api]\ntoken = "0123456789abcdef"\n'
    config = load_config(write(tmp_path, text), {})
    assert config.telegram.api_base == "https://api.telegram.org"
    assert config.telegram.manager_ids == ()
    assert (config.api.host, config.api.port) == ("127.0.0.1", 8080)
    assert config.storage.path.name == "survey-bot.sqlite3"
    assert config.delivery.expire_after == timedelta(days=3), "surveys would never expire"
    assert config.delivery.remind_after == timedelta(hours=24), "no reminder by default"
    assert config.throttle.recontact == timedelta(days=30), "customers surveyed every event"
    assert config.throttle.quiet_hours is None
    assert config.delivery.default_language == "en"


TX = '[triggers.x]\nsurvey = "csat"\n'


@pytest.mark.parametrize(
    ("overrides", "extra", "key"),
    [
        ({("telegram", "token"): None}, "", "telegram.token"),
        ({("telegram", "token"): '""'}, "", "telegram.token"),
        ({("telegram", "token"): '"no-colon"'}, "", "telegram.token"),
        ({("telegram", "token"): "123"}, "", "telegram.token"),
        ({("telegram", "tokn"): '"1:a"'}, "", "telegram.tokn"),
        ({("telegram", "api_base"): '"api.telegram.org"'}, "", "telegram.api_base"),
        ({("telegram", "api_base"): '""'}, "", "telegram.api_base"),
        ({("telegram", "api_base"): "8081"}, "", "telegram.api_base"),
        ({("telegram", "staff_chat_id"): '"-100"'}, "", "telegram.staff_chat_id"),
        ({("telegram", "staff_chat_id"): "100123"}, "", "telegram.staff_chat_id"),
        ({("telegram", "staff_chat_id"): "0"}, "", "telegram.staff_chat_id"),
        ({("telegram", "staff_chat_id"): None}, "", "telegram.staff_chat_id"),
        ({("telegram", "mode"): '"hook"'}, "", "telegram.mode"),
        ({("telegram", "mode"): '"webhook"'}, "", "telegram.webhook_url"),
        (
            {("telegram", "mode"): '"webhook"', ("telegram", "webhook_url"): '"https://x.org/tg"'},
            "",
            "telegram.webhook_secret",
        ),
        ({("telegram", "webhook_url"): '"http://bot.example.org/tg"'}, "", "telegram.webhook_url"),
        ({("telegram", "webhook_url"): '"ftp://localhost/tg"'}, "", "telegram.webhook_url"),
        ({("telegram", "webhook_url"): '"https:///tg"'}, "", "telegram.webhook_url"),
        ({("telegram", "webhook_url"): '"https://x.org/api/v1/x"'}, "", "telegram.webhook_url"),
        ({("telegram", "webhook_secret"): '"has space"'}, "", "telegram.webhook_secret"),
        ({("telegram", "webhook_secret"): '""'}, "", "telegram.webhook_secret"),
        ({("telegram", "webhook_secret"): f'"{"a" * 257}"'}, "", "telegram.webhook_secret"),
        ({("telegram", "manager_ids"): '"1,2"'}, "", "telegram.manager_ids"),
        ({("telegram", "manager_ids"): '[1, "2"]'}, "", "telegram.manager_ids"),
        ({("telegram", "manager_ids"): "[true]"}, "", "telegram.manager_ids"),
        ({("api", "port"): '"8080"'}, "", "api.port"),
        ({("api", "port"): "70000"}, "", "api.port"),
        ({("api", "port"): "-1"}, "", "api.port"),
        ({("api", "port"): "true"}, "", "api.port"),
        ({("api", "port"): "80.5"}, "", "api.port"),
        ({("api", "host"): "5"}, "", "api.host"),
        ({("api", "token"): None}, "", "api.token"),
        ({("api", "token"): '"short"'}, "", "api.token"),
        ({("storage", "path"): "5"}, "", "storage.path"),
        ({("storage", "path"): '""'}, "", "storage.path"),
        ({}, TX + 'delay = "soon"\n', "triggers.x.delay"),
        ({}, TX + "delay = 30\n", "triggers.x.delay"),
        ({}, TX + 'delay = "99999999999d"\n', "triggers.x.delay"),
        ({}, '[triggers.x]\nsurvey = "nope"\n', "triggers.x.survey"),
        ({}, '[triggers.purchase]\nsurvey = "nope"\n', "triggers.purchase.survey"),
        ({}, "[surveys.y]\nquestions = []\n", "surveys.y.questions"),
        ({}, '[surveys.y]\nquestions = [{ metric = "stars" }]\n', "surveys.y.questions[0].metric"),
        ({}, '[delivery]\nexpire_after = "3 days"\n', "delivery.expire_after"),
        ({}, '[delivery]\ndefault_language = "fr"\n', "delivery.default_language"),
        ({}, '[database]\npath = "x"\n', "database"),
        ({}, '[reports]\ncron = "61 9 * * *"\n', "reports.cron"),
        ({}, '[reports]\ncron = "not a cron"\n', "reports.cron"),
        ({}, '[reports]\ncron = "0 9 * * 8"\n', "reports.cron"),
        ({}, '[reports]\ncron = "0 9 * * fri-mon"\n', "reports.cron"),
        ({}, '[reports]\ncron = "0 9 * * 1-5/0"\n', "reports.cron"),
        ({}, '[reports]\ncron = "0 9 32 * *"\n', "reports.cron"),
        ({}, '[alerts]\nstaff_ids = "801, 802"\n', "alerts.staff_ids"),
        ({}, '[alerts]\nstaff_ids = [801, "802"]\n', "alerts.staff_ids"),
        ({}, "[alerts]\nstaff_ids = 801\n", "alerts.staff_ids"),
    ],
)
def test_bad_key_gives_one_line_naming_it(
    tmp_path: Path, overrides: dict[tuple[str, str], str | None], extra: str, key: str
) -> None:
    path = write(tmp_path, render(overrides, extra))
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    message = str(info.value)
    assert message.startswith(f"{key}:"), (
        f"the bot would stop with {message!r}, which does not name the bad key {key}"
    )
    assert "\n" not in message, f"the start-up error spans several lines: {message!r}"


@pytest.mark.parametrize("text", ["[telegram\ntoken = 1", 'token = "a" "b"', "[api]\nport = "])
def test_invalid_toml_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_config(path, ENV)
    assert "\n" not in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", ENV)


def test_cli_check_config_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path, render(extra='[triggers.purchase]\ndelay = "99999999999d"\n'))
    env = {k: v for k, v in os.environ.items() if k not in (ENV_TOKEN, ENV_API_TOKEN)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, f"exit code {result.returncode}; stderr: {result.stderr}"
    assert "Traceback" not in result.stderr, f"the operator saw a traceback:\n{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line, the operator saw:\n{result.stderr}"
    assert "triggers.purchase.delay" in lines[0], f"the bad key is not named: {lines[0]}"


def test_alert_staff_ids_limit_who_acts_on_alerts(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, render(extra="[alerts]\nstaff_ids = [801, 802]\n")), {})
    assert config.staff_ids == (801, 802)
    everyone = load_config(write(tmp_path, render()), {})
    assert everyone.staff_ids == (), "without staff_ids every member of the staff chat acts"


def test_webhook_settings_and_the_secret_from_the_environment(tmp_path: Path) -> None:
    webhook = {
        ("telegram", "mode"): '"webhook"',
        ("telegram", "webhook_url"): '"https://bot.example.org/telegram/webhook"',
        ("telegram", "webhook_secret"): '"file_secret-1"',
    }
    path = write(tmp_path, render(webhook))
    tg = load_config(path, {}).telegram
    assert (tg.mode, tg.webhook_secret) == ("webhook", "file_secret-1")
    assert tg.webhook_path == "/telegram/webhook", "the bot would serve the webhook elsewhere"
    from_env = load_config(path, {ENV_WEBHOOK_SECRET: "env_secret"}).telegram
    assert from_env.webhook_secret == "env_secret", f"{ENV_WEBHOOK_SECRET} did not override"
    local = {**webhook, ("telegram", "webhook_url"): '"http://localhost:8080/hook"'}
    assert load_config(write(tmp_path, render(local)), {}).telegram.webhook_path == "/hook"
    assert load_config(write(tmp_path, render()), {}).telegram.mode == "polling"
    with pytest.raises(ConfigError, match=r"^telegram\.webhook_secret: "):
        load_config(path, {ENV_WEBHOOK_SECRET: "not/allowed"})


def test_alerts_off_needs_no_staff_chat(tmp_path: Path) -> None:
    text = render({("telegram", "staff_chat_id"): None}, "[alerts]\nenabled = false\n")
    config = load_config(write(tmp_path, text), {})
    assert config.telegram.staff_chat_id is None and not config.alerts_enabled


def test_links_ttl_defaults_to_30_days_and_reads_durations(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, render()), {}).links.ttl == timedelta(days=30)
    example = load_config(ROOT / "config.example.toml", ENV)
    assert example.links.ttl == timedelta(days=30)
    config = load_config(write(tmp_path, render(extra='[links]\nttl = "12h"\n')), {})
    assert config.links.ttl == timedelta(hours=12)


@pytest.mark.parametrize(
    "section",
    [
        '[links]\nttl = "0s"\n',
        '[links]\nttl = "400d"\n',
        '[links]\nttl = "soon"\n',
        "[links]\nx = 1\n",
    ],
)
def test_bad_links_settings_name_the_key(tmp_path: Path, section: str) -> None:
    with pytest.raises(ConfigError, match=r"^links\.(ttl|x): "):
        load_config(write(tmp_path, render(extra=section)), {})


def test_throttle_and_remind_after(tmp_path: Path) -> None:
    from datetime import time

    extra = (
        '[delivery]\nremind_after = "6h"\n'
        '[throttle]\nrecontact = "14d"\nrecontact_per_metric = true\n'
        'quiet_hours = "21:30-08:00"\ntimezone = "Europe/Kyiv"\n'
    )
    config = load_config(write(tmp_path, render(extra=extra)), {})
    assert config.delivery.remind_after == timedelta(hours=6)
    th = config.throttle
    assert (th.recontact, th.recontact_per_metric) == (timedelta(days=14), True)
    assert th.quiet_hours is not None
    assert (th.quiet_hours.start, th.quiet_hours.end) == (time(21, 30), time(8, 0))
    assert th.timezone == "Europe/Kyiv"
    off = load_config(write(tmp_path, render(extra='[throttle]\nrecontact = "0s"\n')), {})
    assert off.throttle.recontact == timedelta(0)
    example = load_config(ROOT / "config.example.toml", ENV)
    assert example.throttle.recontact == timedelta(days=30)


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ('[throttle]\nrecontact = "soon"\n', r"^throttle\.recontact: "),
        ("[throttle]\nrecontact_per_metric = 1\n", r"^throttle\.recontact_per_metric: must be"),
        ('[throttle]\nquiet_hours = "9pm-9am"\n', r'^throttle\.quiet_hours: must look like "21'),
        ('[throttle]\nquiet_hours = "25:00-09:00"\n', r"^throttle\.quiet_hours: .*time of day"),
        ('[throttle]\ntimezone = "Europe/Atlantis"\n', r"^throttle\.timezone: unknown time zone"),
        ('[throttle]\nquiet = "21:00-09:00"\n', r"^throttle\.quiet: unknown key"),
        ('[delivery]\nremind_after = "often"\n', r"^delivery\.remind_after: "),
    ],
)
def test_bad_throttle_settings_name_the_key(tmp_path: Path, extra: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        load_config(write(tmp_path, render(extra=extra)), {})


CAMPAIGN = """
[campaigns.quarterly_nps]
survey = "nps"
cron = "0 10 1 */3 *"
[campaigns.quarterly_nps.audience]
active_within = "180d"
language = "RU"
"context.segment" = "b2b"
"""


def test_a_campaign_with_its_audience(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, render(extra="[reports]\ntimezone = 'Europe/Kyiv'\n" + CAMPAIGN)), {}
    )
    cfg = config.campaigns["quarterly_nps"]
    assert (cfg.survey, cfg.cron, cfg.timezone) == ("nps", "0 10 1 */3 *", "Europe/Kyiv")
    assert cfg.audience.active_within == timedelta(days=180)
    assert cfg.audience.language == "ru" and cfg.audience.context == (("segment", "b2b"),)
    assert (cfg.grace, cfg.per_second) == (timedelta(days=1), 20)
    assert load_config(write(tmp_path, render()), {}).campaigns == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('"context.segment" = "b2b"', 'segment = "b2b"'),
            "campaigns.quarterly_nps.audience.segment: unknown filter",
        ),
        (
            ('survey = "nps"', 'survey = "loyalty"'),
            "campaigns.quarterly_nps.survey: unknown survey 'loyalty'",
        ),
        (
            ('cron = "0 10 1 */3 *"', 'cron = "every quarter"'),
            "campaigns.quarterly_nps.cron: expected 5 fields",
        ),
        (('cron = "0 10 1 */3 *"', 'cron = "0 25 1 * *"'), "campaigns.quarterly_nps.cron: "),
        (
            ('active_within = "180d"', 'active_within = "half a year"'),
            "campaigns.quarterly_nps.audience.active_within: ",
        ),
        (('language = "RU"', "language = 7"), "campaigns.quarterly_nps.audience.language: "),
        (
            ('survey = "nps"', 'survey = "nps"\nsend = "now"'),
            "campaigns.quarterly_nps.send: unknown key",
        ),
        (
            ('survey = "nps"', 'survey = "nps"\nper_second = 100'),
            "campaigns.quarterly_nps.per_second: must be between 1 and 30",
        ),
    ],
)
def test_a_wrong_campaign_setting_is_named(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = render(extra=CAMPAIGN.replace(*change))
    with pytest.raises(ConfigError, match="^" + message.replace("*", r"\*").replace("(", r"\(")):
        load_config(write(tmp_path, text), {})


def test_the_config_remembers_its_file_so_claim_can_write_it(tmp_path: Path) -> None:
    path = write(tmp_path, render())
    assert load_config(path, {}).source == path.resolve(), "/claim would not know which file"


def test_a_claim_edit_that_would_break_the_config_is_not_written(tmp_path: Path) -> None:
    from bot.setup import config_file

    path = write(tmp_path, render())
    before = path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^telegram\.staff_chat_id: must be a group's id"):
        config_file.write(path, config_file.set_staff_chat(before, 12345), {})
    assert path.read_text(encoding="utf-8") == before, "a refused edit still changed the file"


def test_rates_default_to_telegrams_free_limit(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, render()), {})
    assert (config.telegram.rate_limit, config.telegram.paid_broadcast) == (30.0, False)
    changed = render({("telegram", "rate_limit"): "200", ("telegram", "paid_broadcast"): "true"})
    config = load_config(write(tmp_path, changed), {})
    assert (config.telegram.rate_limit, config.telegram.paid_broadcast) == (200.0, True)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("rate_limit", "0", "telegram.rate_limit: must be a number of messages a second"),
        ("rate_limit", '"fast"', "telegram.rate_limit: must be a number of messages a second"),
        ("rate_limit", "true", "telegram.rate_limit: must be a number of messages a second"),
        ("paid_broadcast", '"yes"', "telegram.paid_broadcast: must be true or false"),
    ],
)
def test_a_wrong_rate_setting_is_named(tmp_path: Path, key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message):
        load_config(write(tmp_path, render({("telegram", key): value})), {})


def test_alert_reasons_default_and_may_be_our_own_with_labels(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, render()), {})
    assert config.alerts.reasons == ("delivery", "quality", "price", "support", "other")
    own = '[alerts]\nreasons = ["courier", "other"]\nreason_labels.courier = { en = "Courier" }\n'
    config = load_config(write(tmp_path, render(extra=own)), {})
    assert config.alerts.reasons == ("courier", "other")
    assert config.alerts.reason_labels == {"courier": {"en": "Courier"}}
    off = load_config(write(tmp_path, render(extra="[alerts]\nreasons = []\n")), {})
    assert off.alerts.reasons == ()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('reasons = "delivery"', "alerts.reasons: must be a list of ids"),
        ('reasons = ["Delivery!"]', "alerts.reasons: 'Delivery!' is not an id"),
        ('reasons = ["a", "a"]', "alerts.reasons: an id is listed twice"),
        ("reasons = [" + ", ".join(f'"r{i}"' for i in range(9)) + "]", "alerts.reasons: at most 8"),
        (
            'reason_labels.price = { en = "Cost" }\nreasons = ["other"]',
            "alerts.reason_labels.price",
        ),
        ('reason_labels.other = { en = "" }', "alerts.reason_labels.other: must be a table"),
    ],
)
def test_a_wrong_reason_setting_is_named(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(")):
        load_config(write(tmp_path, render(extra=f"[alerts]\n{extra}\n")), {})


def test_min_comments_defaults_to_30_and_must_be_positive(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, render()), {}).reports.min_comments == 30
    config = load_config(write(tmp_path, render(extra="[reports]\nmin_comments = 5\n")), {})
    assert config.reports.min_comments == 5
    with pytest.raises(ConfigError, match=r"^reports\.min_comments"):
        load_config(write(tmp_path, render(extra="[reports]\nmin_comments = 0\n")), {})


GAP, RECONTACT = 'min_gap = "7d"\n', "(replaced by throttle.recontact: use that)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (render({("telegram", "token"): None, ("telegram", "tokn"): '"1"'}), "telegram.tokn:"),
        (render({("api", "port"): '"x"'}, "[database]\n"), "database: unknown section"),
        # min_gap, once the name of recontact, is refused with the name to use instead.
        (render(extra=f"[delivery]\n{GAP}"), f"delivery.min_gap: unknown key {RECONTACT}"),
        (render(extra=f'[delivery]\n{GAP}[throttle]\nrecontact = "30d"\n'), "delivery.min_gap"),
        ("telegram = 5\n", "telegram: must be a table [telegram]"),
        (render(extra="[alerts]\nnps = 11\n"), "alerts.nps: must be between -1 and 10"),
        (render(extra="[alerts]\nenabled = 0\n"), "alerts.enabled: must be true or false"),
        (render(extra='[campaigns.q]\nsurvey = "nps"\nname = "x"\n'), "campaigns.q.name: unknown"),
        (render(extra='[campaigns."q 1"]\nsurvey = "nps"\n'), "campaigns.q 1: a campaign's name"),
        (render(extra="[campaigns.q]\nper_second = 5\n"), "campaigns.q.survey: missing"),
        (render(extra=f'[reports]\ntimezone = "{"a" * 300}"\n'), "reports.timezone: unknown time"),
        (
            render(extra=f'[throttle]\ntimezone = "{"a" * 300}"\n'),
            "throttle.timezone: unknown time",
        ),
    ],
)
def test_the_line_names_the_key_to_fix_first(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), {ENV_API_TOKEN: ENV[ENV_API_TOKEN]})
    assert str(info.value).startswith(message), f"the operator would read {info.value}"
    assert "\n" not in str(info.value)


def test_a_secret_from_the_environment_stands_for_the_files_value(tmp_path: Path) -> None:
    text = render({("telegram", "token"): "123", ("api", "token"): "[1]"})
    config = load_config(write(tmp_path, text), ENV)
    assert (config.telegram.token, config.api.token) == (ENV[ENV_TOKEN], ENV[ENV_API_TOKEN]), (
        "a value the environment replaces would still stop start-up"
    )
    empty = {ENV_TOKEN: "", ENV_API_TOKEN: ""}
    assert load_config(write(tmp_path, render()), empty).telegram.token == "111:file-token", (
        "an empty variable hid the file's token"
    )


def test_the_log_level_default_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import ENV_LOG_LEVEL, log_level

    monkeypatch.delenv(ENV_LOG_LEVEL, raising=False)
    assert log_level("WARNING") == "WARNING"
    monkeypatch.setenv(ENV_LOG_LEVEL, "DEBUG")
    assert log_level("INFO") == "DEBUG", f"{ENV_LOG_LEVEL} did not set the log level"
