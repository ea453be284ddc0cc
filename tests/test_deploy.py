"""deploy/: what an operator relies on when starting it, checked without Docker or systemd (none
runs here). compose.yaml parsed with PyYAML, the unit with configparser, the bots' config file
with the project's own loader given the environment compose.yaml gives the bots."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.config import ENV_STORAGE_URL, SECRETS, Config, load_config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BOTS = ("bot1", "bot2")
CONFIG_IN_CONTAINER = "/etc/survey-bot/config.toml"
# ${NAME}, ${NAME:?message}, ${NAME:-default}: compose's interpolation
INTERPOLATED = re.compile(r"\$\{(\w+)(?::?[-?+][^}]*)?\}")
# What each variable of .env stands for in a test: values the config's checks accept.
TEST_VALUES = {
    "SURVEY_BOT_TOKEN": "123456:TEST-token",
    "SURVEY_BOT_API_TOKEN": "test-api-token-0123456789",
    "SURVEY_BOT_WEBHOOK_SECRET": "test_webhook-secret",
    "POSTGRES_PASSWORD": "testpassword0123",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def interpolated(value: str) -> str:
    """`value` as compose would run it with TEST_VALUES in .env."""
    return INTERPOLATED.sub(lambda match: TEST_VALUES[match[1]], value)


def bot_env(compose: dict[str, Any], bot: str) -> dict[str, str]:
    return {
        key: interpolated(str(value))
        for key, value in compose["services"][bot]["environment"].items()
    }


def bot_config(compose: dict[str, Any], bot: str) -> Config:
    """The config `bot` starts with: the file it mounts, read with its environment."""
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in compose["services"][bot]["volumes"])
    source = {target: source for source, target in mounts.items()}[CONFIG_IN_CONTAINER]
    return load_config(DEPLOY / source, bot_env(compose, bot))


def test_the_services_and_the_database(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", *BOTS, "proxy"}, f"compose would start {sorted(services)}"
    db = services["db"]
    assert db["image"].startswith("postgres:15"), db["image"]
    assert "pg_isready" in str(db["healthcheck"]["test"]), "the bots would not wait for the db"
    volume = next(v for v in db["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert volume.split(":")[0] in compose["volumes"], "the database would live in the container"
    assert "ports" not in db, "the database would be reachable from outside the host"


@pytest.mark.parametrize("bot", BOTS)
def test_both_bots_share_one_image_and_wait_for_a_healthy_database(
    compose: dict[str, Any], bot: str
) -> None:
    service = compose["services"][bot]
    assert service["depends_on"]["db"]["condition"] == "service_healthy"
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert service["image"] == compose["services"]["bot1"]["image"], "two images, two versions"
    assert service["restart"] in ("always", "unless-stopped")


@pytest.mark.parametrize("bot", BOTS)
def test_each_bot_starts_in_webhook_mode_on_the_shared_database(
    compose: dict[str, Any], bot: str
) -> None:
    config = bot_config(compose, bot)
    assert config.telegram.mode == "webhook", "two polling bots: only one would get updates"
    assert config.storage.url == bot_env(compose, "bot1")[ENV_STORAGE_URL], "two databases"
    url = urlsplit(config.storage.url)
    db = compose["services"]["db"]["environment"]
    assert (url.hostname, url.port, url.path) == ("db", 5432, "/" + db["POSTGRES_DB"])
    assert url.username == db["POSTGRES_USER"]
    assert url.password == interpolated(db["POSTGRES_PASSWORD"]), "the bot's password is wrong"
    assert (config.telegram.token, config.api.token) == (
        TEST_VALUES["SURVEY_BOT_TOKEN"],
        TEST_VALUES["SURVEY_BOT_API_TOKEN"],
    ), "a secret does not come from the environment"
    assert config.telegram.webhook_secret == TEST_VALUES["SURVEY_BOT_WEBHOOK_SECRET"]
    assert config.api.host == "0.0.0.0", "the proxy could not reach the bot in its container"


def _caddy_site() -> tuple[str, str]:
    """The Caddyfile's site address and the text of its block (comments dropped)."""
    lines = [
        line.split("#", 1)[0].rstrip() for line in (DEPLOY / "Caddyfile").read_text().splitlines()
    ]
    text = "\n".join(line for line in lines if line.strip())
    address, _, block = text.partition("{")
    return address.strip(), block


def test_the_proxy_balances_the_webhook_and_the_intake_api_over_both_bots(
    compose: dict[str, Any],
) -> None:
    proxy = compose["services"]["proxy"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert {"80:80", "443:443"} <= set(proxy["ports"]), "Let's Encrypt and Telegram need these"
    config = bot_config(compose, "bot1")
    address, block = _caddy_site()
    assert address == urlsplit(config.telegram.webhook_url).hostname, (
        "Telegram would post to a domain the proxy has no certificate for"
    )
    matcher = re.search(r"@bots path (.+)", block)
    assert matcher is not None and matcher[1].split() == [config.telegram.webhook_path, "/api/v1/*"]
    upstreams = re.findall(r"reverse_proxy (.+) \{", block)
    assert upstreams == [f"bot1:{config.api.port} bot2:{config.api.port}"], upstreams
    assert "health_uri /api/v1/health" in block, "a stopped bot would still get requests"


def test_no_secret_value_is_committed(compose: dict[str, Any]) -> None:
    listed = set(re.findall(r"^(\w+)=$", (DEPLOY / "env.example").read_text(), re.MULTILINE))
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("TOKEN", "SECRET", "PASSWORD", "URL")):
                names = INTERPOLATED.findall(str(value))
                assert names, f"{name}: {key} is written in compose.yaml, not taken from .env"
                assert set(names) <= listed, f"{name}: {key} needs {names}; env.example lacks it"
    raw = tomllib.loads((DEPLOY / "config.toml").read_text(encoding="utf-8"))
    for section, key in SECRETS:
        assert not raw.get(section, {}).get(key), f"deploy/config.toml holds {section}.{key}"
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/deploy/.env" in ignored, "the filled-in .env could be committed"


def test_the_image_installs_the_project_and_runs_the_bot_with_the_mounted_config() -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    assert "FROM python:3.11-slim" in lines
    assert any(line.startswith("RUN pip install . ") for line in lines)
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert cmd == f'CMD ["survey-bot", "run", "--config", "{CONFIG_IN_CONTAINER}"]', cmd
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {line.split()[1].rstrip("/") for line in lines if line.startswith("COPY ")}
    missing = {package.rstrip("*") for package in packages} - copied
    assert not missing, f"pip install . in the image would leave out {missing}"


def test_the_systemd_unit_runs_the_bot_and_restarts_it() -> None:
    unit = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    unit.optionxform = str  # systemd's keys keep their case
    unit.read(DEPLOY / "survey-bot.service", encoding="utf-8")
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "survey-bot" and argv[1:3] == ["run", "--config"], argv
    assert service["Restart"] == "always"
    assert service["User"] not in ("", "root"), "the bot would run as root"
    assert service["EnvironmentFile"].startswith("/etc/"), "where the secrets are"
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    assert unit["Install"]["WantedBy"] == "multi-user.target", "it would not start at boot"
