"""Metric maths: NPS, CSAT, CES values, sample sizes and margins of error against hand sums."""

import math

import pytest

from survey_flows.errors import InvalidAnswer
from survey_flows.metrics import ces, change, compute, csat, distribution, nps, t95
from survey_flows.models import Category, Metric
from survey_flows.scoring import Thresholds, category

Z = 1.96


@pytest.mark.parametrize("fn", [nps, csat, ces])
def test_no_answers_gives_no_value(fn) -> None:
    result = fn({})
    assert result.value is None, f"a report with no answers would show {result.value}, not '—'"
    assert result.n == 0
    assert result.margin is None


@pytest.mark.parametrize(
    ("counts", "value"),
    [
        ({10: 1}, 100.0),
        ({9: 3, 10: 7}, 100.0),
        ({0: 5}, -100.0),
        ({7: 4, 8: 1}, 0.0),
        ({6: 1, 9: 1}, 0.0),  # a tie
        ({9: 2, 7: 1, 3: 1}, 25.0),
        ({10: 50, 8: 30, 2: 20}, 30.0),
        ({9: 1, 6: 2}, 100 * (1 / 3 - 2 / 3)),
    ],
)
def test_nps_is_promoters_minus_detractors(counts: dict[int, int], value: float) -> None:
    result = nps(counts)
    assert result.value == pytest.approx(value), f"NPS of {counts} shown as {result.value}"
    assert result.n == sum(counts.values())


def test_nps_interval_is_the_adjusted_wald_by_hand() -> None:
    """Rocks (2016): 3/4 answer more to promoters and to detractors, 3 more to n."""
    result = nps({10: 50, 7: 30, 0: 20})
    p, d, n = 50.75 / 103, 20.75 / 103, 103
    half = Z * math.sqrt((p + d - (p - d) ** 2) / n)
    low, high = 100 * (p - d - half), 100 * (p - d + half)
    assert result.value == pytest.approx(30.0)
    assert result.interval == pytest.approx((low, high), rel=1e-3)
    assert result.margin == pytest.approx(max(30 - low, high - 30), rel=1e-3), (
        f"NPS 30 from 100 answers would be reported ± {result.margin}"
    )
    assert result.breakdown == pytest.approx({"promoter": 50.0, "passive": 30.0, "detractor": 20.0})


@pytest.mark.parametrize(
    ("fn", "counts"),
    [
        (nps, {10: 1}),
        (nps, {9: 4, 10: 6}),
        (nps, {0: 3}),
        (csat, {5: 1}),
        (csat, {1: 10}),
        (csat, {4: 3, 5: 2}),
    ],
)
def test_unanimous_answers_do_not_look_certain(fn, counts: dict[int, int]) -> None:
    """Every answer the same is not proof: the margin must stay wide at small n."""
    result = fn(counts)
    assert result.margin is not None and result.margin > 10, (
        f"{sum(counts.values())} identical answers would be shown as ±{result.margin}"
    )
    low, high = result.interval
    assert low <= result.value <= high
    assert low >= -100 and high <= 100


def test_one_unanimous_answer_is_not_a_significant_change() -> None:
    assert change(csat({5: 1}), csat({1: 1})).significant is False, (
        "one happy answer after one unhappy one would be called a significant rise"
    )
    assert change(nps({10: 40}), nps({0: 40})).significant is True


@pytest.mark.parametrize(
    ("counts", "value"),
    [
        ({5: 1}, 100.0),
        ({3: 1}, 0.0),
        ({1: 1, 2: 1, 3: 1, 4: 1, 5: 1}, 40.0),
        ({4: 3, 2: 1}, 75.0),
        ({1: 10}, 0.0),
    ],
)
def test_csat_is_share_of_four_and_five(counts: dict[int, int], value: float) -> None:
    result = csat(counts)
    assert result.value == pytest.approx(value), f"CSAT of {counts} shown as {result.value}%"
    assert result.n == sum(counts.values())


@pytest.mark.parametrize(
    ("score", "default", "strict"),
    [(1, 0.0, 0.0), (2, 0.0, 0.0), (3, 0.0, 0.0), (4, 100.0, 0.0), (5, 100.0, 100.0)],
)
def test_csat_counts_as_satisfied_what_the_thresholds_call_satisfied(
    score: int, default: float, strict: float
) -> None:
    strict_bounds = {Metric.CSAT: Thresholds(detractor_max=3, passive_max=4)}
    assert csat({score: 1}).value == default, f"a CSAT {score} counted wrongly as satisfied"
    assert csat({score: 1}, strict_bounds).value == strict, "CSAT ignored its thresholds"
    satisfied = category(Metric.CSAT, score) is Category.PROMOTER
    assert (default == 100.0) is satisfied, "CSAT and the answer's category disagree"


def test_csat_interval_is_wilson_by_hand() -> None:
    result = csat({5: 60, 4: 20, 3: 10, 1: 10})
    p, n = 0.8, 100
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    assert result.value == pytest.approx(80.0)
    assert result.interval == pytest.approx(
        (100 * (centre - half), 100 * (centre + half)), rel=1e-3
    )
    assert result.margin == pytest.approx(80 - 100 * (centre - half), rel=1e-3)
    assert result.breakdown == {"1": 10.0, "2": 0.0, "3": 10.0, "4": 20.0, "5": 60.0}


@pytest.mark.parametrize(
    ("counts", "value"),
    [({7: 1}, 7.0), ({1: 1, 7: 1}, 4.0), ({5: 2, 6: 1}, 16 / 3), ({1: 3}, 1.0)],
)
def test_ces_is_mean_score(counts: dict[int, int], value: float) -> None:
    result = ces(counts)
    assert result.value == pytest.approx(value), f"CES of {counts} shown as {result.value}"
    assert result.n == sum(counts.values())


def test_ces_margin_uses_t_and_unknown_spread_has_none() -> None:
    assert ces({6: 1}).margin is None, "a single CES answer would be shown with a margin of error"
    assert ces({5: 4}).margin is None, "four identical CES answers would be shown as ±0"
    scores = [2, 4, 4, 6, 7]
    result = ces(distribution(scores))
    mean = sum(scores) / 5
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / 4)
    assert result.value == pytest.approx(mean)
    assert result.margin == pytest.approx(2.776 * sd / math.sqrt(5), rel=1e-4), (
        "5 CES answers need Student's t (4 df), not the normal 1.96"
    )


@pytest.mark.parametrize(
    ("df", "t"), [(1, 12.706), (4, 2.776), (30, 2.042), (60, 2.000), (120, 1.980), (10_000, 1.960)]
)
def test_t_quantiles(df: int, t: float) -> None:
    assert t95(df) == pytest.approx(t, abs=2e-3)


def test_compute_dispatches_and_out_of_scale_scores_are_rejected() -> None:
    assert compute(Metric.CSAT, {5: 1}).value == pytest.approx(100.0)
    with pytest.raises(InvalidAnswer):
        nps({11: 1})


@pytest.mark.parametrize("compute, counts", [(csat, {9: 1}), (ces, {100: 1}), (ces, {0: 2})])
def test_scores_outside_the_scale_are_refused(compute, counts):
    with pytest.raises(InvalidAnswer):
        compute(counts)
