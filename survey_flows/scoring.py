"""Scales and categories (detractor / passive / promoter) of each metric, and their names."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidAnswer
from .models import Category, Metric, Scale

SCALES: dict[Metric, Scale] = {
    Metric.CSAT: Scale(1, 5),
    Metric.NPS: Scale(0, 10),
    Metric.CES: Scale(1, 7),  # 7 = easiest
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Highest detractor score and highest passive score; anything above is a promoter."""

    detractor_max: int
    passive_max: int


DEFAULT_THRESHOLDS: dict[Metric, Thresholds] = {
    Metric.NPS: Thresholds(detractor_max=6, passive_max=8),
    Metric.CSAT: Thresholds(detractor_max=2, passive_max=3),
    Metric.CES: Thresholds(detractor_max=3, passive_max=5),
}


def check_score(metric: Metric, score: int) -> None:
    scale = SCALES[metric]
    if score not in scale:
        raise InvalidAnswer(f"{metric} score must be {scale.low}..{scale.high}, got {score!r}")


def category(
    metric: Metric, score: int, thresholds: dict[Metric, Thresholds] | None = None
) -> Category:
    check_score(metric, score)
    t = (thresholds or DEFAULT_THRESHOLDS)[metric]
    if score <= t.detractor_max:
        return Category.DETRACTOR
    if score <= t.passive_max:
        return Category.PASSIVE
    return Category.PROMOTER


# What each metric calls its three groups; the stored category stays detractor/passive/promoter,
# these names are what people read (CSV, legends, texts: catalogue keys "category.<metric>.<id>").
CATEGORY_NAMES: dict[Metric, dict[Category, str]] = {
    Metric.NPS: {
        Category.DETRACTOR: "detractor",
        Category.PASSIVE: "passive",
        Category.PROMOTER: "promoter",
    },
    Metric.CSAT: {
        Category.DETRACTOR: "unsatisfied",
        Category.PASSIVE: "neutral",
        Category.PROMOTER: "satisfied",
    },
    Metric.CES: {
        Category.DETRACTOR: "difficult",
        Category.PASSIVE: "neutral",
        Category.PROMOTER: "easy",
    },
}


def category_name(metric: Metric, cat: Category) -> str:
    """The metric's own word for a category: CSAT 1 is "unsatisfied", not "detractor"."""
    return CATEGORY_NAMES[metric][cat]
