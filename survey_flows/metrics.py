"""Metric maths on score distributions: NPS, CSAT, CES, with sample size and margin of error.

Inputs are distributions (score -> number of answers) so that storage can aggregate in SQL and
hand over a dozen numbers instead of a million rows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .models import Category, Metric
from .scoring import SCALES, category, check_score

Z95 = 1.959964  # two-sided 95% normal quantile


@dataclass(frozen=True, slots=True)
class MetricResult:
    metric: Metric
    value: float | None  # None when there are no answers
    n: int
    # NPS: share (%) per category; CSAT/CES: count per score point.
    breakdown: dict[str, float] = field(default_factory=dict)
    margin: float | None = None  # 95% margin of error, in the metric's units; None for CES/empty


def distribution(scores: Iterable[int]) -> dict[int, int]:
    return dict(Counter(scores))


def _pct(part: int, n: int) -> float:
    return 100.0 * part / n if n else 0.0


def nps(counts: Mapping[int, int]) -> MetricResult:
    """NPS = % promoters - % detractors, in -100..100; margin from the trinomial variance."""
    n = sum(counts.values())
    by_cat = Counter[Category]()
    for score, c in counts.items():
        by_cat[category(Metric.NPS, score)] += c
    breakdown = {cat.value: _pct(by_cat[cat], n) for cat in Category}
    if n == 0:
        return MetricResult(Metric.NPS, None, 0, breakdown)
    p, d = by_cat[Category.PROMOTER] / n, by_cat[Category.DETRACTOR] / n
    value = 100.0 * (p - d)
    variance = p + d - (p - d) ** 2
    return MetricResult(Metric.NPS, value, n, breakdown, 100.0 * Z95 * math.sqrt(variance / n))


def csat(counts: Mapping[int, int]) -> MetricResult:
    """CSAT = % of answers scoring 4 or 5; margin from the binomial variance."""
    for score in counts:
        check_score(Metric.CSAT, score)
    n = sum(counts.values())
    breakdown = {str(s): float(counts.get(s, 0)) for s in SCALES[Metric.CSAT].points}
    if n == 0:
        return MetricResult(Metric.CSAT, None, 0, breakdown)
    p = sum(c for s, c in counts.items() if s >= 4) / n
    return MetricResult(
        Metric.CSAT, 100.0 * p, n, breakdown, 100.0 * Z95 * math.sqrt(p * (1 - p) / n)
    )


def ces(counts: Mapping[int, int]) -> MetricResult:
    """CES = mean score on 1..7 (7 = easiest); margin from the sample standard deviation."""
    for score in counts:
        check_score(Metric.CES, score)
    n = sum(counts.values())
    breakdown = {str(s): float(counts.get(s, 0)) for s in SCALES[Metric.CES].points}
    if n == 0:
        return MetricResult(Metric.CES, None, 0, breakdown)
    mean = sum(s * c for s, c in counts.items()) / n
    margin = None
    if n > 1:
        var = sum(c * (s - mean) ** 2 for s, c in counts.items()) / (n - 1)
        margin = Z95 * math.sqrt(var / n)
    return MetricResult(Metric.CES, mean, n, breakdown, margin)


COMPUTE = {Metric.NPS: nps, Metric.CSAT: csat, Metric.CES: ces}


def compute(metric: Metric, counts: Mapping[int, int]) -> MetricResult:
    return COMPUTE[metric](counts)


# --- comparing and trusting results (used by managers' reports) ----------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """Current minus previous value, and whether it stands out from sampling noise."""

    delta: float
    margin: float | None  # 95% margin of the difference; None when either side has none
    significant: bool  # False when the change is within the margin (or cannot be judged)


def change(current: MetricResult, previous: MetricResult) -> Change | None:
    """The change against an earlier period; None when either period has no answers.

    Independent samples: the margin of the difference is sqrt(m1^2 + m2^2).
    """
    if current.value is None or previous.value is None:
        return None
    delta = current.value - previous.value
    if current.margin is None or previous.margin is None:
        return Change(delta, None, False)
    margin = math.sqrt(current.margin**2 + previous.margin**2)
    return Change(delta, margin, abs(delta) > margin)


def too_few(result: MetricResult, min_answers: int) -> bool:
    """A result resting on fewer answers than `min_answers` is not to be trusted."""
    return result.n < min_answers


def category_counts(metric: Metric, counts: Mapping[int, int]) -> dict[Category, int]:
    """Number of detractors / passives / promoters in a score distribution."""
    out = dict.fromkeys(Category, 0)
    for score, c in counts.items():
        out[category(metric, score)] += c
    return out
