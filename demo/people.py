"""The simulated shop's customers: names, languages, how they tend to answer, what they write."""

from __future__ import annotations

import random
from dataclasses import dataclass

from survey_flows.models import Metric
from survey_flows.scoring import SCALES

from .world import FIRST_SIM_CUSTOMER

NAMES = {
    "en": ["Ann", "Ben", "Chloe", "Dan", "Emma", "Finn", "Grace", "Harry", "Isla", "Jack", "Kate"],
    "ru": ["Анна", "Борис", "Ольга", "Дмитрий"],
    "uk": ["Оксана", "Тарас", "Ірина"],
    "zh": ["王芳", "李伟", "张敏"],
}
COMMENTS = {
    "en": {
        "low": ["The parcel arrived a week late", "Nobody answered my emails", "Wrong size again"],
        "mid": ["Fine, but delivery could be faster", "OK overall", "The app is a bit confusing"],
        "high": ["Great service, thank you!", "Fast delivery, lovely kettle", "Support was superb"],
    },
    "ru": {
        "low": ["Посылка пришла с опозданием", "Никто не ответил"],
        "mid": ["В целом нормально"],
        "high": ["Отличный сервис, спасибо!"],
    },
    "uk": {
        "low": ["Замовлення прийшло пошкодженим"],
        "mid": ["Загалом непогано"],
        "high": ["Дуже дякую, все чудово!"],
    },
    "zh": {"low": ["送货太慢了"], "mid": ["还可以"], "high": ["服务很好，谢谢！"]},
}
PRODUCTS = ["Kettle", "Toaster", "Blender", "Coffee grinder", "Desk lamp", "Backpack"]
CHANNELS = ["web", "app", "store"]


@dataclass(frozen=True, slots=True)
class Persona:
    telegram_id: int
    name: str
    language: str
    mood: float  # 0 (always unhappy) .. 1 (always delighted)
    responds: bool  # some customers never answer surveys
    comments: float  # how likely they write a "why?"


def crowd(n: int, rng: random.Random) -> list[Persona]:
    """`n` customers: mostly English, a few in ru/uk/zh; a fifth never answer; about one in
    eight is hard to please (the first one always, so an alert comes early)."""
    people = []
    for i in range(n):
        language = rng.choices(["en", "ru", "uk", "zh"], weights=[80, 8, 6, 6])[0]
        grumpy = i == 0 or rng.random() < 0.12
        people.append(
            Persona(
                telegram_id=FIRST_SIM_CUSTOMER + i,
                name=rng.choice(NAMES[language]),
                language=language,
                mood=0.1 if i == 0 else min(max(rng.gauss(0.3 if grumpy else 0.9, 0.12), 0.0), 1.0),
                responds=i == 0 or rng.random() > 0.2,
                comments=rng.choice([0.0, 0.2, 0.5, 0.8]),
            )
        )
    return people


def score_for(persona: Persona, metric: Metric, rng: random.Random, lift: float = 0.0) -> int:
    """A score on the metric's scale from the persona's mood, a trend `lift` and some noise."""
    low, high = SCALES[metric].low, SCALES[metric].high
    u = min(max(persona.mood + lift + rng.gauss(0, 0.15), 0.0), 1.0)
    if metric is Metric.NPS:
        u = u**0.6  # people who are merely content still give 8s and 9s
    return low + round(u * (high - low))


def comment_for(persona: Persona, metric: Metric, score: int, rng: random.Random) -> str:
    low, high = SCALES[metric].low, SCALES[metric].high
    share = (score - low) / (high - low)
    tone = "low" if share < 0.45 else "mid" if share < 0.75 else "high"
    return rng.choice(COMMENTS[persona.language][tone])
