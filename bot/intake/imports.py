"""`survey-bot import events|answers FILE.csv`: a shop's history into the bot, row by row.

Events go through `Intake.accept` like the API's (same validation, idempotency and conflicts);
answers from another tool are stored as imported history (`storage/sqlite/imports.py`). Both commit
BATCH_SIZE rows per transaction, and report every row: accepted, duplicate or rejected with its
line and reason. Running the same file again changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from bot.intake.csv_table import Row, Table, UnreadableFile, open_table
from bot.intake.events import BATCH_SIZE, CLOCK_SKEW, Intake, parse_time
from storage.base import SurveyRepo
from storage.records import ImportedAnswer
from survey_flows.clock import Clock
from survey_flows.errors import EventConflict
from survey_flows.models import Metric
from survey_flows.scoring import SCALES, category

CUSTOMER_FIELDS = ("telegram_id", "external_id", "name", "username", "language")
EVENT_FIELDS = ("event_id", "type", "occurred_at", "delay_seconds")
ANSWER_FIELDS = ("id", "date", "metric", "score", "comment")
REQUIRED = {"events": ("event_id", "type"), "answers": ("date", "metric", "score")}
# A progress bar only where someone watches, and only when the wait is noticeable.
PROGRESS_FROM = 1000
_INTEGER = re.compile(r"[+-]?\d{1,18}")


@dataclass
class Summary:
    accepted: int = 0
    duplicates: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    def count(self, line: int, status: int, reason: str | None = None) -> None:
        if status == 202:
            self.accepted += 1
        elif status == 200:
            self.duplicates += 1
        else:
            self.rejections.append((line, reason or f"status {status}"))

    def report(self) -> str:
        lines = [f"line {line}: {reason}" for line, reason in self.rejections]
        lines.append(
            f"{self.accepted} accepted, {self.duplicates} duplicates (imported before),"
            f" {len(self.rejections)} rejected"
        )
        return "\n".join(lines)


def column_role(header: str) -> tuple[str, str]:
    """("customer" | "field" | "context", name) for a header cell; `customer_name`,
    `customer.name` and `name` all name the customer's name."""
    name = header.strip().lower()
    for prefix in ("customer_", "customer."):
        if name.startswith(prefix) and name[len(prefix) :] in CUSTOMER_FIELDS:
            return "customer", name[len(prefix) :]
    if name in CUSTOMER_FIELDS:
        return "customer", name
    if name in EVENT_FIELDS or name in ANSWER_FIELDS:
        return "field", name
    return "context", header.strip()


def _integer(cell: str) -> int | str:
    """A whole number as int; anything else stays text, so validation names the field."""
    return int(cell) if _INTEGER.fullmatch(cell) else cell


def split_row(cells: dict[str, str]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(fields, customer, context) of a row; empty cells are left out (not given)."""
    parts: dict[str, dict[str, str]] = {"field": {}, "customer": {}, "context": {}}
    for header, cell in cells.items():
        if cell:
            role, name = column_role(header)
            parts[role][name] = cell
    return parts["field"], parts["customer"], parts["context"]


def event_of(cells: dict[str, str]) -> dict[str, Any]:
    """The API's JSON body for one CSV row of events."""
    fields, customer_cells, context = split_row(cells)
    customer: dict[str, Any] = dict(customer_cells)
    if "telegram_id" in customer:
        customer["telegram_id"] = _integer(customer["telegram_id"])
    event: dict[str, Any] = {"customer": customer, "context": context}
    for name in ("event_id", "type", "occurred_at"):
        if name in fields:
            event[name] = fields[name]
    if "delay_seconds" in fields:
        event["delay_seconds"] = _integer(fields["delay_seconds"])
    for name in ("id", "date", "metric", "score", "comment"):
        if name in fields:  # answer columns in an events file: context, as any other column
            event["context"][name] = fields[name]
    return event


class BadRow(ValueError):
    """One row of answers cannot be imported; the message says which cell and why."""


def _limited(value: str, name: str, low: int, high: int) -> str:
    if not low <= len(value) <= high:
        raise BadRow(f"{name}: must be {low} to {high} characters")
    return value


# A customer's cell -> its (shortest, longest) length, checked in this order.
_CUSTOMER_LENGTHS = (
    ("name", 1, 256),
    ("username", 1, 256),
    ("external_id", 1, 128),
    ("language", 2, 16),
)


def _metric_score(fields: dict[str, str]) -> tuple[Metric, int]:
    try:
        metric = Metric(fields["metric"].lower())
    except ValueError:
        raise BadRow(f"metric: {fields['metric']!r} is not nps, csat or ces") from None
    score = _integer(fields["score"])
    scale = SCALES[metric]
    if not isinstance(score, int) or score not in scale:
        raise BadRow(
            f"score: {fields['score']!r} is off the {metric.value.upper()} scale"
            f" ({scale.low} to {scale.high})"
        )
    return metric, score


def _telegram_id(customer: dict[str, str]) -> int | None:
    if "telegram_id" not in customer:
        return None
    given = _integer(customer["telegram_id"])
    if not isinstance(given, int) or not 0 < given < 2**52:
        raise BadRow("telegram_id: must be a positive whole number (a Telegram user id)")
    return given


def _check_customer_and_context(customer: dict[str, str], context: dict[str, str]) -> None:
    for name, low, high in _CUSTOMER_LENGTHS:
        if name in customer:
            _limited(customer[name], name, low, high)
    if len(context) > 50:
        raise BadRow("context: at most 50 context columns")
    for key, value in context.items():
        _limited(key, f"column {key!r}", 1, 64)
        _limited(value, key, 1, 1024)


def _answer_key(fields: dict[str, str], digest: str, seen: Counter[str]) -> str:
    """The file's own answer id, else the row's content and how many identical rows came first."""
    if "id" in fields:
        return "id:" + _limited(fields["id"], "id", 1, 200)
    seen[digest] += 1
    return f"row:{digest[:40]}#{seen[digest]}"


def answer_of(cells: dict[str, str], clock: Clock, seen: Counter[str]) -> ImportedAnswer:
    """An imported answer from one CSV row; raises BadRow. `seen` counts identical rows so far,
    so two identical rows of one file stay two answers (and a re-run still finds both)."""
    fields, customer, context = split_row(cells)
    for name in ("date", "metric", "score"):
        if name not in fields:
            raise BadRow(f"{name}: required, the cell is empty")
    try:
        answered_at = parse_time(fields["date"])
    except ValueError:
        raise BadRow(f"date: {fields['date']!r} is not an ISO 8601 date (2024-05-31)") from None
    if answered_at > clock() + CLOCK_SKEW:
        raise BadRow("date: lies in the future")
    metric, score = _metric_score(fields)
    comment = _limited(fields["comment"], "comment", 1, 4000) if "comment" in fields else None
    telegram_id = _telegram_id(customer)
    _check_customer_and_context(customer, context)
    content = {
        "date": answered_at.isoformat(),
        "metric": metric.value,
        "score": score,
        "comment": comment,
        "customer": {**customer, "telegram_id": telegram_id},
        "context": context,
    }
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return ImportedAnswer(
        key=_answer_key(fields, digest, seen),
        fingerprint=digest,
        metric=metric,
        score=score,
        category=category(metric, score),
        answered_at=answered_at,
        comment=comment,
        customer_id=telegram_id,
        customer_name=customer.get("name"),
        customer_username=customer.get("username"),
        customer_language=customer.get("language"),
        external_id=customer.get("external_id"),
        context=context,
    )


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _progress(table: Table) -> tqdm:
    shown = table.rows >= PROGRESS_FROM and sys.stderr.isatty()
    return tqdm(total=table.rows, unit="row", disable=not shown, file=sys.stderr)


async def import_events(table: Table, intake: Intake) -> Summary:
    summary = Summary()
    with _progress(table) as bar:
        for chunk in _chunks(table, BATCH_SIZE):
            good = [row for row in chunk if row.problem is None]
            results = await intake.accept_many([event_of(row.cells) for row in good])
            for row in chunk:
                if row.problem is not None:
                    summary.count(row.line, 400, row.problem)
            for row, result in zip(good, results, strict=True):
                summary.count(row.line, result.status, result.body.get("error"))
            bar.update(len(chunk))
    summary.rejections.sort()
    return summary


async def import_answers(table: Table, repo: SurveyRepo, clock: Clock) -> Summary:
    summary, seen = Summary(), Counter[str]()
    with _progress(table) as bar:
        for chunk in _chunks(table, BATCH_SIZE):
            async with repo.batch():
                for row in chunk:
                    try:
                        if row.problem is not None:
                            raise BadRow(row.problem)
                        answer = answer_of(row.cells, clock, seen)
                        created = await repo.imports.import_answer(answer, clock())
                    except BadRow as exc:
                        summary.count(row.line, 400, str(exc))
                    except EventConflict:
                        summary.count(row.line, 409, "id: imported before with other content")
                    else:
                        summary.count(row.line, 202 if created else 200)
            bar.update(len(chunk))
    return summary


async def run_import(kind: str, path: str, repo: SurveyRepo, intake: Intake, clock: Clock) -> int:
    """Import one file and print what became of each row. Exit code: 0 when the file was read
    (whatever became of its rows), 1 when it could not be read at all."""
    try:
        table = open_table(path)
    except UnreadableFile as exc:
        print(f"survey-bot: cannot import: {exc}", file=sys.stderr)
        return 1
    present = {column_role(h)[1] for h in table.header}
    missing = [name for name in REQUIRED[kind] if name not in present]
    if missing:
        print(
            f"survey-bot: cannot import: {path}: no {', '.join(missing)} column in the header"
            f" (found: {', '.join(table.header)})",
            file=sys.stderr,
        )
        return 1
    if kind == "events":
        summary = await import_events(table, intake)
    else:
        summary = await import_answers(table, repo, clock)
    print(summary.report())
    return 0
