"""Pure composition of managers' figures: distributions in, results ready to print or draw out.

Storage hands over score distributions; this module turns them into metric results, trend
points, segments (biggest first) and changes against the previous period. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .metrics import Change, MetricResult, category_counts, change, compute, too_few
from .models import Category, Metric


@dataclass(frozen=True, slots=True)
class Figure:
    """One metric over one period, compared with the period before."""

    result: MetricResult
    categories: dict[Category, int]
    previous: MetricResult
    change: Change | None
    trusted: bool  # False when resting on fewer than min_answers answers


@dataclass(frozen=True, slots=True)
class TrendPoint:
    start: datetime
    end: datetime
    result: MetricResult
    categories: dict[Category, int]
    trusted: bool


@dataclass(frozen=True, slots=True)
class Segment:
    value: str | None  # None: answers whose event had no such context field
    result: MetricResult
    categories: dict[Category, int]
    trusted: bool


def figure(
    metric: Metric,
    counts: Mapping[int, int],
    previous_counts: Mapping[int, int],
    min_answers: int,
) -> Figure:
    result = compute(metric, counts)
    previous = compute(metric, previous_counts)
    return Figure(
        result,
        category_counts(metric, counts),
        previous,
        change(result, previous),
        not too_few(result, min_answers),
    )


def trend(
    metric: Metric,
    edges: Sequence[datetime],
    bucket_counts: Sequence[Mapping[int, int]],
    min_answers: int,
) -> list[TrendPoint]:
    """One point per bucket [edges[i], edges[i+1]); empty buckets have value None."""
    if len(bucket_counts) != len(edges) - 1:
        raise ValueError("one distribution per bucket expected")
    points = []
    for lo, hi, counts in zip(edges, edges[1:], bucket_counts, strict=False):
        result = compute(metric, counts)
        points.append(
            TrendPoint(
                lo, hi, result, category_counts(metric, counts), not too_few(result, min_answers)
            )
        )
    return points


def segments(
    metric: Metric, by_value: Mapping[str | None, Mapping[int, int]], min_answers: int
) -> list[Segment]:
    """Segments, biggest groups first (ties by name, the group without a value last)."""
    out = []
    for value, counts in by_value.items():
        result = compute(metric, counts)
        out.append(
            Segment(
                value, result, category_counts(metric, counts), not too_few(result, min_answers)
            )
        )
    out.sort(key=lambda s: (s.value is None, -s.result.n, s.value or ""))
    return out


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


_FORMULA_FIRST = frozenset(_FORMULA_STARTS)


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula: text starting with = + - @ (or a tab
    or carriage return) gets a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def safe_cells(values: Iterable[str]) -> list[str]:
    """`safe_cell` of each value, in one call (an export makes hundreds of thousands)."""
    return ["'" + v if v[:1] in _FORMULA_FIRST else v for v in values]
