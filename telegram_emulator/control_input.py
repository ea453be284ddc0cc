"""Strict reading of control API input: typed fields, one clear error naming the bad field."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from aiohttp import web

from .errors import Json


class ControlError(Exception):
    """An answer other than 200: ``{"error": ..., "field": ...}`` with an HTTP status."""

    status = 400

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field

    def body(self) -> Json:
        return {"error": str(self), "field": self.field}


class BadInput(ControlError):
    status = 400


class NotFound(ControlError):
    status = 404


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}.get(
        type(value), "object"
    )


class Fields:
    """The fields of one JSON object (a request body or a query string), read one by one.

    Each reader checks the type and bounds and remembers the name; ``done()`` then rejects any
    field nobody read, so a typo ("userid") is an error rather than silently ignored.
    """

    def __init__(self, data: Json, *, prefix: str = "") -> None:
        self._data = data
        self._prefix = prefix
        self._read: set[str] = set()

    @classmethod
    async def of_body(cls, request: web.Request) -> Fields:
        raw = await request.read()
        if not raw.strip():
            return cls({})
        try:
            data = json.loads(raw)
        except ValueError as error:
            raise BadInput("body", f"not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise BadInput("body", f"expected a JSON object, got {_type_name(data)}")
        return cls(data)

    @classmethod
    def of_query(cls, request: web.Request) -> Fields:
        return cls(dict(request.query))

    def _name(self, name: str) -> str:
        return f"{self._prefix}{name}"

    def _get(self, name: str, required: bool) -> Any:
        self._read.add(name)
        value = self._data.get(name)
        if value is None and required:
            raise BadInput(self._name(name), "required")
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        from_text: bool = False,
    ) -> int | None:
        """An integer; ``from_text`` also accepts its decimal spelling (query strings)."""
        value = self._get(name, required)
        if value is None:
            return default
        if from_text and isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise BadInput(self._name(name), f"expected an integer, got {value!r}") from None
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadInput(self._name(name), f"expected an integer, got {_type_name(value)}")
        if minimum is not None and value < minimum:
            raise BadInput(self._name(name), f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise BadInput(self._name(name), f"must be at most {maximum}, got {value}")
        return value

    def required_integer(
        self, name: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.integer(name, required=True, minimum=minimum, maximum=maximum)
        assert value is not None  # required: a missing value raised BadInput
        return value

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int = 4096,
        choices: Collection[str] | None = None,
    ) -> str | None:
        """A non-empty string of at most ``max_length`` characters (one of ``choices``)."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise BadInput(self._name(name), f"expected a string, got {_type_name(value)}")
        if not value:
            raise BadInput(self._name(name), "must not be empty")
        if len(value) > max_length:
            raise BadInput(self._name(name), f"longer than {max_length} characters")
        if choices is not None and value not in choices:
            raise BadInput(self._name(name), f"expected one of {sorted(choices)}, got {value!r}")
        return value

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self._get(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise BadInput(self._name(name), f"expected true or false, got {_type_name(value)}")
        return value

    def nested(self, name: str) -> Fields | None:
        """A JSON object field, read with the same rules; errors name it as ``name.field``."""
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise BadInput(self._name(name), f"expected an object, got {_type_name(value)}")
        return Fields(value, prefix=f"{self._name(name)}.")

    def done(self) -> None:
        """Reject fields that no reader asked for."""
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            expected = ", ".join(sorted(self._read))
            raise BadInput(self._name(unknown[0]), f"unknown field; this endpoint reads {expected}")
