"""/themes' ranking on generated comments: phrases planted in detractors' comments rank first in
their language; a set with no difference ranks nothing above z = 2."""

from __future__ import annotations

import random

import pytest

from bot.reports.text_terms import doc, language_of, words
from survey_flows.models import Category
from survey_flows.themes import rank

from .test_manager import harness as harness  # the fixture, shared

FILLER = {
    "en": "the order came and the box was fine thanks good service app price quality nice ok",
    "ru": "заказ пришёл вовремя коробка целая спасибо хороший сервис цена качество приложение",
    "zh": "订单 收到 包装 完好 谢谢 服务 很好 价格 质量 应用 不错",
}
PLANTED = {
    "en": ["Late delivery again", "late delivery, nobody called", "the late delivery ruined it"],
    "ru": ["Чайник сломан", "пришёл сломанный чайник", "ручка сломана", "всё сломано"],
    "zh": ["客服态度很差", "客服态度不好", "不满意客服态度"],
}


def comments(lang: str, rng: random.Random, planted: bool, n: int = 200) -> list:
    filler = FILLER[lang].split()
    join = "" if lang == "zh" else " "
    out = []
    for _ in range(n):
        for group in (Category.DETRACTOR, Category.PROMOTER, Category.PASSIVE):
            text = join.join(rng.sample(filler, 4))
            chance = {Category.DETRACTOR: 0.5, Category.PROMOTER: 0.04, Category.PASSIVE: 0.1}
            if planted and rng.random() < chance[group]:
                text = f"{rng.choice(PLANTED[lang])}{join}{text}"
            out.append(doc(text, group, lang))
    return out


@pytest.mark.parametrize(
    ("lang", "first"), [("en", "late delivery"), ("ru", "слома"), ("zh", "客服态度")]
)
def test_a_planted_phrase_ranks_first_in_its_language(lang: str, first: str) -> None:
    themes = rank(comments(lang, random.Random(7), planted=True))
    assert themes, "nothing ranked"
    top = themes[0]
    assert first in top.shown or first in top.term, [(t.shown, round(t.z, 1)) for t in themes[:3]]
    assert top.z > 4 and top.count >= 60
    assert len(top.quotes) == 2 and all(first[:3] in q.lower() or first in q for q in top.quotes)


def test_no_difference_ranks_nothing_above_two() -> None:
    rng = random.Random(11)
    docs = comments("en", rng, planted=False)
    assert [t for t in rank(docs) if t.z > 2] == []


def test_stems_group_inflected_forms_and_stop_words_go() -> None:
    assert words("The deliveries were LATE", "en") == ["deliveries", "late"]
    grouped = {
        t for t in doc("сломан сломанный сломана", Category.DETRACTOR, "ru").terms if " " not in t
    }
    assert len(grouped) == 1, grouped


def test_a_comments_language_is_its_customers_or_its_scripts() -> None:
    assert language_of("anything", "ru-RU") == "ru"
    assert language_of("电水壶坏了", None) == "zh"
    assert language_of("Чайник зламаний, ї", None) == "uk"
    assert language_of("Чайник сломан", None) == "ru"
    assert language_of("late", "de") == "en"


async def seed_comments(repo, planted: bool) -> None:
    """Sixty detractor and sixty promoter CSAT comments; detractors often say "late delivery"."""
    from datetime import timedelta

    from survey_flows.models import Metric

    from .test_analytics import add_answers
    from .test_manager import NOW

    rng = random.Random(5)
    filler = FILLER["en"].split()
    for i in range(60):
        at = NOW - timedelta(hours=i + 1)
        bad = " ".join(rng.sample(filler, 4))
        if planted and i % 2 == 0:
            bad = f"Late delivery <b>again</b> {bad}"
        await add_answers(repo, at, Metric.CSAT, [1], comment=bad)
        await add_answers(repo, at, Metric.CSAT, [5], comment=" ".join(rng.sample(filler, 4)))


async def test_themes_as_a_manager_sees_them(harness) -> None:
    from .test_manager import MANAGER, STRANGER

    await seed_comments(harness.repo, planted=True)
    (reply,) = await harness.say(MANAGER, "/themes 30d")
    text = reply[1]["text"]
    assert "Themes in unhappy comments" in text
    assert "120 comments: 60 from unhappy customers, 60 from happy ones" in text
    assert "1. <b>late delivery</b> · 30 comments · z " in text, text
    assert "&lt;b&gt;again&lt;/b&gt;" in text and "<b>again</b>" not in text, "quotes unescaped"
    (refused,) = await harness.say(STRANGER, "/themes 30d")
    assert "Themes in unhappy comments" not in refused[1]["text"]


async def test_too_few_comments_are_not_ranked(harness) -> None:
    from datetime import timedelta

    from survey_flows.models import Metric

    from .test_analytics import add_answers
    from .test_manager import MANAGER, NOW

    await add_answers(harness.repo, NOW - timedelta(hours=1), Metric.CSAT, [1], comment="late")
    (reply,) = await harness.say(MANAGER, "/themes 30d")
    assert "Too few comments to find themes: 1, at least 30 are needed" in reply[1]["text"]
