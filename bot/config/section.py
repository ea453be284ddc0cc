"""One TOML table read with types; every error names `section.key`."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, overload

from survey_flows.durations import parse_duration
from survey_flows.errors import InvalidDefinition


class ConfigError(Exception):
    """A missing or malformed key; the message names it."""


class Section:
    """Typed access to one TOML table that reports errors as `section.key: problem`."""

    def __init__(self, raw: Any, name: str, allowed: set[str]) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{name}: must be a table [{name}]")
        unknown = set(raw) - allowed
        if unknown:
            raise ConfigError(f"{name}.{sorted(unknown)[0]}: unknown key")
        self.raw, self.name = raw, name

    def _where(self, key: str) -> str:
        return f"{self.name}.{key}"

    # The methods are named after the types they return, so inside the class `builtins.` says
    # which is meant; with a default the value is never None.
    @overload
    def str(
        self, key: builtins.str, default: builtins.str, *, required: bool = ...
    ) -> builtins.str: ...
    @overload
    def str(
        self, key: builtins.str, default: None = ..., *, required: bool = ...
    ) -> builtins.str | None: ...
    def str(
        self, key: builtins.str, default: builtins.str | None = None, *, required: bool = False
    ) -> builtins.str | None:
        value = self.raw.get(key, default)
        if value is None:
            if required:
                raise ConfigError(f"{self._where(key)}: missing")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise ConfigError(f"{self._where(key)}: must be a non-empty string")
        return value

    @overload
    def int(
        self,
        key: builtins.str,
        default: builtins.int,
        *,
        low: builtins.int | None = ...,
        high: builtins.int | None = ...,
    ) -> builtins.int: ...
    @overload
    def int(
        self,
        key: builtins.str,
        default: None = ...,
        *,
        low: builtins.int | None = ...,
        high: builtins.int | None = ...,
    ) -> builtins.int | None: ...
    def int(
        self,
        key: builtins.str,
        default: builtins.int | None = None,
        *,
        low: builtins.int | None = None,
        high: builtins.int | None = None,
    ) -> builtins.int | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{self._where(key)}: must be an integer")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"{self._where(key)}: must be between {low} and {high}")
        return value

    def int_list(self, key: builtins.str) -> tuple[builtins.int, ...]:
        value = self.raw.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise ConfigError(f"{self._where(key)}: must be a list of integer user ids")
        return tuple(value)

    def duration(self, key: builtins.str, default: timedelta) -> timedelta:
        value = self.raw.get(key)
        if value is None:
            return default
        try:
            return parse_duration(value)
        except InvalidDefinition as exc:
            raise ConfigError(f"{self._where(key)}: {exc}") from None

    def schedule(
        self, default_timezone: builtins.str, example: builtins.str
    ) -> tuple[builtins.str, builtins.str | None]:
        """`timezone` and the optional `cron` line of a scheduled job, the line checked in that
        zone; `example` is shown with a bad line."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from bot.config.crontab import cron_trigger

        timezone = self.str("timezone", default_timezone)
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{self._where('timezone')}: unknown time zone {timezone!r}"
            ) from None
        cron = self.str("cron")
        if cron is not None:
            try:
                cron_trigger(cron, tz)
            except ValueError as exc:
                raise ConfigError(
                    f'{self._where("cron")}: {exc} (write it like "{example}")'
                ) from None
        return timezone, cron
