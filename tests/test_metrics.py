"""Metric maths: NPS, CSAT, CES values, sample sizes and margins of error against hand sums."""

import math

import pytest

from survey_flows.errors import InvalidAnswer
from survey_flows.metrics import ces, compute, csat, distribution, nps
from survey_flows.models import Metric

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


def test_nps_margin_matches_hand_computation() -> None:
    result = nps({10: 50, 7: 30, 0: 20})
    expected = Z * math.sqrt((0.5 + 0.2 - 0.09) / 100) * 100
    assert result.value == pytest.approx(30.0)
    assert result.margin == pytest.approx(expected, rel=1e-4), (
        f"NPS 30 from 100 answers would be reported ± {result.margin}, not ± {expected:.2f}"
    )
    assert result.breakdown == pytest.approx({"promoter": 50.0, "passive": 30.0, "detractor": 20.0})


def test_nps_all_promoters_has_zero_margin() -> None:
    result = nps({9: 4, 10: 6})
    assert (result.value, result.n) == (pytest.approx(100.0), 10)
    assert result.margin == pytest.approx(0.0)


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


def test_csat_margin_matches_hand_computation() -> None:
    result = csat({5: 60, 4: 20, 3: 10, 1: 10})
    expected = Z * math.sqrt(0.8 * 0.2 / 100) * 100
    assert result.value == pytest.approx(80.0)
    assert result.margin == pytest.approx(expected, rel=1e-4)
    assert result.breakdown == {"1": 10.0, "2": 0.0, "3": 10.0, "4": 20.0, "5": 60.0}


@pytest.mark.parametrize(
    ("counts", "value"),
    [({7: 1}, 7.0), ({1: 1, 7: 1}, 4.0), ({5: 2, 6: 1}, 16 / 3), ({1: 3}, 1.0)],
)
def test_ces_is_mean_score(counts: dict[int, int], value: float) -> None:
    result = ces(counts)
    assert result.value == pytest.approx(value), f"CES of {counts} shown as {result.value}"
    assert result.n == sum(counts.values())


def test_ces_margin_uses_sample_sd_and_single_answer_has_none() -> None:
    assert ces({6: 1}).margin is None, "a single CES answer would be shown with a margin of error"
    scores = [2, 4, 4, 6, 7]
    result = ces(distribution(scores))
    mean = sum(scores) / 5
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / 4)
    assert result.value == pytest.approx(mean)
    assert result.margin == pytest.approx(Z * sd / math.sqrt(5), rel=1e-4)


def test_compute_dispatches_and_out_of_scale_scores_are_rejected() -> None:
    assert compute(Metric.CSAT, {5: 1}).value == pytest.approx(100.0)
    with pytest.raises(InvalidAnswer):
        nps({11: 1})


@pytest.mark.parametrize("compute, counts", [(csat, {9: 1}), (ces, {100: 1}), (ces, {0: 2})])
def test_scores_outside_the_scale_are_refused(compute, counts):
    with pytest.raises(InvalidAnswer):
        compute(counts)
