"""Benchmark of /themes: ranking the themes of 100,000 comments. Run by hand:

    python bench/themes.py                  # 100,000 comments in English, Russian and Chinese
    python bench/themes.py --comments 20000

Generates comments like customers' (60% English, 25% Russian, 15% Chinese; a third from
detractors, who often mention "late delivery", "сломан…" or "客服态度"), then times what /themes
does after the SQL: language detection, tokenizing (jieba for Chinese), stemming and the
weighted log-odds ranking per language. Prints the time and the top themes per language.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine
from bot.reports.themes import rank_by_language

FILLER = {
    "en": "the order came and the box was fine thanks good service app price quality nice ok "
    "courier package arrived today store website support answer call refund size colour",
    "ru": "заказ пришёл вовремя коробка целая спасибо хороший сервис цена качество приложение "
    "курьер посылка магазин сайт поддержка ответ звонок возврат размер цвет",
    "zh": "订单 收到 包装 完好 谢谢 服务 很好 价格 质量 应用 不错 快递 商店 网站 退款 尺寸 颜色",
}
PLANTED = {
    "en": ["late delivery again", "the delivery was late", "late delivery"],
    "ru": ["чайник сломан", "пришёл сломанный", "ручка сломана"],
    "zh": ["客服态度很差", "客服态度不好"],
}
CATEGORY = {"detractor": 0.6, "passive": 0.1, "promoter": 0.04}


def generate(n: int, seed: int = 3) -> list[tuple[str, str, str | None]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        lang = rng.choices(["en", "ru", "zh"], [0.6, 0.25, 0.15])[0]
        category = rng.choices(list(CATEGORY), [0.33, 0.27, 0.4])[0]
        join = "" if lang == "zh" else " "
        words = FILLER[lang].split()
        text = join.join(rng.sample(words, rng.randint(3, 9)))
        if rng.random() < CATEGORY[category]:
            text = f"{rng.choice(PLANTED[lang])}{join}{text}"
        rows.append((text, category, lang if rng.random() < 0.7 else None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    args = parser.parse_args()
    print(machine(), flush=True)
    rows = generate(args.comments)
    rank_by_language(generate(200), 30)  # load jieba's dictionary outside the timing
    started = time.perf_counter()
    ranked = rank_by_language(rows, 30)
    elapsed = time.perf_counter() - started
    for section in ranked:
        top = ", ".join(f"{t.shown} (n={t.count}, z={t.z:.1f})" for t in section.themes[:3])
        print(f"  {section.lang}: {section.comments} comments; top: {top}")
    print(f"themes: {args.comments} comments ranked in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
