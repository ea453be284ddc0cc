"""Config values as pydantic types that refuse in our own words; a ValidationError as one line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, PlainValidator, Strict, ValidationError, WrapValidator
from pydantic_core import ErrorDetails

from bot.config.crontab import cron_trigger
from locales.catalogues import languages
from survey_flows.durations import parse_duration
from survey_flows.errors import InvalidDefinition

T = TypeVar("T")
TEXT = "must be a non-empty string"
# pydantic's own refusals, in our words.
SAYS = {
    "missing": "missing",
    "string_type": TEXT,
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "dataclass_type": "must be a table [{where}]",
}
UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")  # a model's, a dataclass's
REPLACED = {"delivery.min_gap": "throttle.recontact"}  # keys dropped, and what replaced them


class ConfigError(Exception):
    """A missing or malformed key; the message names it."""


class Invalid(ValueError):
    """Our message for a bad value; `key`: the bad key under the one checked (a table's check)."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


def one_line(exc: ValidationError) -> str:
    """The first problem as `section.key: what is wrong`."""
    error = _first(exc.errors())
    path = [str(part) for part in error["loc"]]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, Invalid):
        return ".".join([*path, cause.key] if cause.key else path) + f": {cause}"
    where = ".".join(path)
    if error["type"] in UNKNOWN and where in REPLACED:
        return f"{where}: unknown key (replaced by {REPLACED[where]}: use that)"
    if error["type"] in UNKNOWN:
        return f"{where}: unknown {'section' if len(path) == 1 else 'key'}"
    return f"{where}: " + SAYS.get(error["type"], error["msg"]).format(where=where)


def _first(errors: list[ErrorDetails]) -> ErrorDetails:
    """pydantic lists a table's unknown keys after its values: an unknown key of the first error's
    table (or an unknown section) goes first, as its typo is the likely reason a key is missing."""
    for error in errors:
        table = error["loc"][:-1]
        if error["type"] in UNKNOWN and errors[0]["loc"][: len(table)] == table:
            return error
    return errors[0]


def check(test: Callable[[Any], object], message: str) -> AfterValidator:
    """A value `test` refuses is reported as `message`."""

    def validate(value: T) -> T:
        if not test(value):
            raise Invalid(message)
        return value

    return AfterValidator(validate)


def says(message: str) -> WrapValidator:
    """Whatever the annotated type's own checks refuse is reported as `message`."""

    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise Invalid(message) from None

    return WrapValidator(validate)


def between(low: int, high: int) -> AfterValidator:
    return check(lambda value: low <= value <= high, f"must be between {low} and {high}")


def core(parse: Callable[[Any], T], *, text: bool = True) -> PlainValidator:
    """A string (any value if not `text`) read by the core's parser; its InvalidDefinition says
    what is wrong."""

    def validate(value: Any) -> T:
        if text and not isinstance(value, str):
            raise Invalid(TEXT)
        try:
            return parse(value)
        except InvalidDefinition as exc:
            raise Invalid(str(exc)) from None

    return PlainValidator(validate)


def cron_line(example: str) -> AfterValidator:
    """A crontab line (as `cron_trigger` reads it); `example` is shown with a bad one."""

    def validate(line: str) -> str:
        try:
            cron_trigger(line, ZoneInfo("UTC"))  # the zone does not change what is valid
        except ValueError as exc:
            raise Invalid(f'{exc} (write it like "{example}")') from None
        return line

    return AfterValidator(validate)


def _catalogued(language: str) -> str:
    if language not in languages():
        raise Invalid(f"must be one of {', '.join(languages())}")
    return language


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise Invalid(f"unknown time zone {name!r}") from None
    return name


# TOML's own types, never converted ("8080" is not a port, true is not 1).
Text = Annotated[str, Strict()]
Int = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
NonBlank = Annotated[Text, check(str.strip, TEXT)]
# "30m", "1h30m", "0s"; parse_duration also says what is wrong with a value that is no string
Duration = Annotated[timedelta, core(parse_duration, text=False)]
Language = Annotated[Text, AfterValidator(_catalogued)]  # one with a catalogue in locales/
TimeZone = Annotated[Text, AfterValidator(_time_zone)]  # an IANA name
UserIds = Annotated[tuple[Int, ...], Strict(False), says("must be a list of integer user ids")]
ChatIds = Annotated[tuple[Int, ...], Strict(False), says("must be a list of integer chat ids")]
