"""The text tables: translations match English keys, placeholders and HTML structure."""

from __future__ import annotations

import re
import string

import pytest

from bot.views.texts import FALLBACK, TEXTS, t

EN = TEXTS[FALLBACK]
LANGS = sorted(TEXTS)
TAG = re.compile(r"<(/?)(b|i|code|a)(?:\s[^>]*)?>")
# Chart labels are drawn with a font without CJK glyphs: Chinese keeps the English ones.
MAY_MISS = {"zh": ("chart.",)}


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def balanced(text: str) -> bool:
    stack: list[str] = []
    for match in TAG.finditer(text):
        closing, name = match.group(1), match.group(2)
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def all_texts() -> list[tuple[str, str]]:
    return [(lang, key) for lang in LANGS for key in TEXTS[lang]]


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_exists_in_english(lang: str) -> None:
    assert set(TEXTS[lang]) - set(EN) == set()


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_match_english(lang: str) -> None:
    mismatched = {
        key: (placeholders(text), placeholders(EN[key]))
        for key, text in TEXTS[lang].items()
        if key in EN and placeholders(text) != placeholders(EN[key])
    }
    assert mismatched == {}


@pytest.mark.parametrize(("lang", "key"), all_texts())
def test_renders_with_balanced_tags(lang: str, key: str) -> None:
    values = {name: "x" for name in placeholders(TEXTS[lang][key])}
    rendered = t(lang, key, **values)
    assert balanced(rendered), rendered
    assert balanced(TEXTS[lang][key])


@pytest.mark.parametrize("lang", LANGS)
def test_translation_is_complete(lang: str) -> None:
    allowed = MAY_MISS.get(lang, ())
    missing = [key for key in EN if key not in TEXTS[lang] and not key.startswith(allowed)]
    assert missing == []


def test_chinese_keeps_english_chart_labels() -> None:
    assert not [key for key in TEXTS["zh"] if key.startswith("chart.")]


def test_balanced_catches_mistakes() -> None:
    assert balanced('<b>a</b> <i>b <code>c</code></i> <a href="u">d</a>')
    assert not balanced("<b>a")
    assert not balanced("<b><i>a</b></i>")
    assert not balanced("a</i>")
