"""Comments as terms for /themes: words split with a real tokenizer, stemmed, stop words out.

Chinese is split with jieba (loaded once, lazily: its dictionary takes about a second); other
languages on word boundaries, lower-cased. English and Russian words are stemmed with Snowball
("deliveries" and "delivery", "сломан" and "сломанный" become one term); Ukrainian has no
Snowball stemmer and is kept as written. A term is a stem or two adjacent stems (a phrase).
A comment's language is its customer's, or guessed from its script when unknown.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from importlib import resources
from typing import Any

import snowballstemmer

from survey_flows.models import Category
from survey_flows.themes import Doc

WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
CJK = re.compile(r"[\u4e00-\u9fff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
STEMMERS = {"en": "english", "ru": "russian"}
LANGUAGES = ("en", "ru", "uk", "zh")


def language_of(text: str, known: str | None) -> str:
    """The customer's language when it is one we split; else a guess from the script."""
    base = (known or "").split("-")[0].lower()
    if base in LANGUAGES:
        return base
    if CJK.search(text):
        return "zh"
    if CYRILLIC.search(text):
        return "uk" if UKRAINIAN.search(text) else "ru"
    return "en"


@functools.cache
def stop_words(lang: str) -> frozenset[str]:
    text = (
        resources.files("bot.reports.stopwords").joinpath(f"{lang}.txt").read_text(encoding="utf-8")
    )
    return frozenset(w.strip().lower() for w in text.splitlines() if w.strip())


@functools.cache
def _stemmer(lang: str) -> snowballstemmer.stemmer | None:
    name = STEMMERS.get(lang)
    return snowballstemmer.stemmer(name) if name else None


@functools.lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    """A word's stem, remembered: comments repeat words, and Snowball in Python is slow
    (stemming was nine tenths of /themes' time on 100,000 comments)."""
    stemmer = _stemmer(lang)
    return stemmer.stemWord(word) if stemmer else word


@functools.cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _tokens(text: str, lang: str) -> list[str]:
    """The comment's words in order, lower-cased; None where a stop word or a lone letter was,
    so that phrases are only made of words that really stood side by side."""
    if lang == "zh":
        raw = [t.strip() for t in _jieba().lcut(text)]
        raw = [t for t in raw if t and (CJK.search(t) or WORD.fullmatch(t))]
    else:
        raw = WORD.findall(text)
    stops = stop_words(lang)
    # One letter is not a word worth a theme (nor the "b" of a "<b>" someone typed).
    return [
        t.lower() if t.lower() not in stops and (lang == "zh" or len(t) > 1) else "" for t in raw
    ]


def words(text: str, lang: str) -> list[str]:
    """The comment's words as written (lower-cased), stop words left out."""
    return [t for t in _tokens(text, lang) if t]


def doc(text: str, group: Category, lang: str) -> Doc:
    """A comment as /themes counts it: its stems and two-stem phrases (of words side by side
    in the comment), and how they looked."""
    tokens = _tokens(text, lang)
    stems = [stem(t, lang) if t else "" for t in tokens]
    join = "" if lang == "zh" else " "
    surface: dict[str, str] = {}
    for term, word in zip(stems, tokens, strict=True):
        if term:
            surface.setdefault(term, word)
    pairs = list(zip(stems, tokens, strict=True))
    for (s1, w1), (s2, w2) in itertools.pairwise(pairs):
        if s1 and s2:
            surface.setdefault(f"{s1} {s2}", f"{w1}{join}{w2}")
    return Doc(group, frozenset(surface), surface, text)
