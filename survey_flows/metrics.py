"""Metric maths on score distributions: NPS, CSAT, CES, with sample size and 95% intervals.

Inputs are distributions (score -> number of answers) so that storage can aggregate in SQL and
hand over a dozen numbers instead of a million rows.

Intervals are chosen to stay honest at the edges, where the textbook Wald interval collapses to
±0 (every answer the same) and small samples look certain:
- CSAT: Wilson score interval on the share of 4-5 answers.
- NPS: adjusted Wald (Rocks 2016, "Interval Estimation for the Net Promoter Score"): add 3/4 of
  an answer to promoters and to detractors and 3 to n, then the trinomial variance.
- CES: Student's t on the mean; no interval from one answer or when every answer is the same.
`margin` is the larger distance from the value to either end, so "±" never overstates certainty.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .models import Category, Metric
from .scoring import SCALES, Thresholds, category, check_score

Z95 = 1.959964  # two-sided 95% normal quantile


@dataclass(frozen=True, slots=True)
class MetricResult:
    metric: Metric
    value: float | None  # None when there are no answers
    n: int
    # NPS: share (%) per category; CSAT/CES: count per score point.
    breakdown: dict[str, float] = field(default_factory=dict)
    margin: float | None = None  # 95% margin of error, in the metric's units; None if unknown
    interval: tuple[float, float] | None = None  # the 95% interval itself (may be asymmetric)


def distribution(scores: Iterable[int]) -> dict[int, int]:
    return dict(Counter(scores))


def _pct(part: int, n: int) -> float:
    return 100.0 * part / n if n else 0.0


# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t95(df: int) -> float:
    """The two-sided 95% t quantile; past 30 degrees of freedom, its Cornish-Fisher expansion."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T95):
        return _T95[df - 1]
    z = Z95
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion, as fractions in 0..1."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def adjusted_wald_nps(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """Adjusted Wald interval for NPS (Rocks 2016), as fractions in -1..1."""
    n_adj = n + 3
    p, d = (promoters + 0.75) / n_adj, (detractors + 0.75) / n_adj
    centre = p - d
    half = Z95 * math.sqrt((p + d - centre**2) / n_adj)
    return max(-1.0, centre - half), min(1.0, centre + half)


def _widened(value: float, low: float, high: float) -> tuple[float, tuple[float, float]]:
    """(margin, interval) with the interval stretched to hold the observed value.

    The adjusted Wald centre is pulled towards 0, so at tiny n it may leave out what was seen.
    """
    interval = (min(low, value), max(high, value))
    return max(value - interval[0], interval[1] - value), interval


def _per_point(metric: Metric, counts: Mapping[int, int]) -> tuple[int, dict[str, float]]:
    """The number of answers and the count at each point of the scale, every score checked."""
    for score in counts:
        check_score(metric, score)
    return sum(counts.values()), {str(s): float(counts.get(s, 0)) for s in SCALES[metric].points}


def nps(counts: Mapping[int, int]) -> MetricResult:
    """NPS = % promoters - % detractors, in -100..100; adjusted Wald interval."""
    n = sum(counts.values())
    by_cat = Counter[Category]()
    for score, c in counts.items():
        by_cat[category(Metric.NPS, score)] += c
    breakdown = {cat.value: _pct(by_cat[cat], n) for cat in Category}
    if n == 0:
        return MetricResult(Metric.NPS, None, 0, breakdown)
    promoters, detractors = by_cat[Category.PROMOTER], by_cat[Category.DETRACTOR]
    value = 100.0 * (promoters - detractors) / n
    low, high = adjusted_wald_nps(promoters, detractors, n)
    margin, interval = _widened(value, 100.0 * low, 100.0 * high)
    return MetricResult(Metric.NPS, value, n, breakdown, margin, interval)


def csat(
    counts: Mapping[int, int], thresholds: dict[Metric, Thresholds] | None = None
) -> MetricResult:
    """CSAT = % of satisfied answers (above the CSAT thresholds' passive band: 4 or 5 by
    default); Wilson score interval."""
    n, breakdown = _per_point(Metric.CSAT, counts)
    if n == 0:
        return MetricResult(Metric.CSAT, None, 0, breakdown)
    satisfied = sum(
        c
        for s, c in counts.items()
        if category(Metric.CSAT, s, thresholds) is Category.PROMOTER  # "satisfied"
    )
    value = 100.0 * satisfied / n
    low, high = wilson(satisfied, n)
    margin, interval = _widened(value, 100.0 * low, 100.0 * high)
    return MetricResult(Metric.CSAT, value, n, breakdown, margin, interval)


def ces(counts: Mapping[int, int]) -> MetricResult:
    """CES = mean score on 1..7 (7 = easiest); Student's t interval on the mean."""
    n, breakdown = _per_point(Metric.CES, counts)
    if n == 0:
        return MetricResult(Metric.CES, None, 0, breakdown)
    mean = sum(s * c for s, c in counts.items()) / n
    if n < 2 or len([c for c in counts.values() if c]) < 2:
        # One answer, or all alike: the spread is unknown, not zero.
        return MetricResult(Metric.CES, mean, n, breakdown)
    var = sum(c * (s - mean) ** 2 for s, c in counts.items()) / (n - 1)
    margin = t95(n - 1) * math.sqrt(var / n)
    return MetricResult(Metric.CES, mean, n, breakdown, margin, (mean - margin, mean + margin))


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
