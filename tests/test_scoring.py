"""Category rules of each metric at every score, and scores that must never be accepted."""

import pytest

from survey_flows.errors import InvalidAnswer
from survey_flows.models import Category, Metric
from survey_flows.scoring import SCALES, Thresholds, category, check_score

D, P, X = Category.DETRACTOR, Category.PASSIVE, Category.PROMOTER

EXPECTED = {
    Metric.NPS: {0: D, 1: D, 2: D, 3: D, 4: D, 5: D, 6: D, 7: P, 8: P, 9: X, 10: X},
    Metric.CSAT: {1: D, 2: D, 3: P, 4: X, 5: X},
    Metric.CES: {1: D, 2: D, 3: D, 4: P, 5: P, 6: X, 7: X},
}


@pytest.mark.parametrize(
    ("metric", "score", "expected"),
    [(m, s, c) for m, table in EXPECTED.items() for s, c in table.items()],
)
def test_category_at_every_score(metric: Metric, score: int, expected: Category) -> None:
    got = category(metric, score)
    assert got is expected, (
        f"a {metric} score of {score} would be filed as {got}, not {expected}:"
        " the follow-up question and the metric would be wrong"
    )


@pytest.mark.parametrize("metric", list(Metric))
def test_scale_covers_exactly_the_buttons(metric: Metric) -> None:
    assert list(SCALES[metric].points) == sorted(EXPECTED[metric]), (
        f"the {metric} keyboard would show the wrong set of score buttons"
    )


@pytest.mark.parametrize(
    ("metric", "score"),
    [
        (Metric.NPS, -1),
        (Metric.NPS, 11),
        (Metric.CSAT, 0),
        (Metric.CSAT, 6),
        (Metric.CES, 0),
        (Metric.CES, 8),
        (Metric.CSAT, True),
        (Metric.NPS, False),
        (Metric.CSAT, 4.0),
        (Metric.NPS, "9"),
        (Metric.CES, None),
    ],
)
def test_out_of_scale_or_wrong_type_is_rejected(metric: Metric, score: object) -> None:
    with pytest.raises(InvalidAnswer):
        check_score(metric, score)  # type: ignore[arg-type]
    with pytest.raises(InvalidAnswer):
        category(metric, score)  # type: ignore[arg-type]


def test_custom_thresholds_move_the_boundaries() -> None:
    strict = {Metric.CSAT: Thresholds(detractor_max=3, passive_max=4)}
    got = [category(Metric.CSAT, s, strict) for s in range(1, 6)]
    assert got == [D, D, D, P, X], f"custom CSAT thresholds were ignored: {got}"
