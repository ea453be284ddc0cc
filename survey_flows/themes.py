"""What unhappy customers say more than happy ones: weighted log-odds with an informative
Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words", section 3.5). Pure: the
comments arrive already split into terms (bot/reports/text_terms.py does the language work).

For each term w, with y_d and y_p its counts in detractor and promoter comments, n_d and n_p
the groups' totals, and a prior α_w from all comments of the period (passives included):

    δ_w = log((y_d + α_w) / (n_d + α_0 − y_d − α_w)) − log((y_p + α_w) / (n_p + α_0 − y_p − α_w))
    σ²_w ≈ 1 / (y_d + α_w) + 1 / (y_p + α_w)          z_w = δ_w / σ_w

A term counts once per comment (a customer repeating "late late late" is one voice). The prior
is the period's own term counts scaled to PRIOR_SHARE of their total: informative about which
words are common, weak enough that a real difference still shows. Terms with z above Z_MIN are
ranked; a set with no real difference ranks nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .models import Category

Z_MIN = 1.96  # two-sided 95%: below this a "theme" is noise
PRIOR_SHARE = 0.1  # α_0 as a share of all term occurrences in the period
MIN_COUNT = 3  # a term must come from at least this many detractor comments
ABSORB = 0.9  # a phrase scoring this share of its word's z stands for that word
PHRASE_SHARE = 0.5  # ... as does a phrase holding this share of the word's uses


@dataclass(frozen=True, slots=True)
class Doc:
    """One comment: its group, its terms (stems and two-stem phrases), how each looked."""

    group: Category
    terms: frozenset[str]
    surface: dict[str, str] = field(default_factory=dict)  # term -> its words as written
    text: str = ""


@dataclass(frozen=True, slots=True)
class Theme:
    term: str
    shown: str  # the most frequent surface form
    count: int  # detractor comments using it
    z: float
    quotes: tuple[str, ...]


def rank(docs: Sequence[Doc], top: int = 10, quotes: int = 2) -> list[Theme]:
    """The terms that most distinguish detractor from promoter comments, best first."""
    detractors = [d for d in docs if d.group is Category.DETRACTOR]
    promoters = [d for d in docs if d.group is Category.PROMOTER]
    if not detractors or not promoters:
        return []
    y_d = _counts(detractors)
    y_p = _counts(promoters)
    alpha = {w: n * PRIOR_SHARE for w, n in _counts(docs).items()}
    a0 = sum(alpha.values())
    n_d, n_p = sum(y_d.values()), sum(y_p.values())
    scored = []
    for w, yd in y_d.items():
        if yd < MIN_COUNT:
            continue
        a, yp = alpha[w], y_p.get(w, 0)
        delta = _log_odds(yd, a, n_d, a0) - _log_odds(yp, a, n_p, a0)
        z = delta / math.sqrt(1 / (yd + a) + 1 / (yp + a))
        if z > Z_MIN:
            scored.append((z, w))
    z_of = {w: z for z, w in scored}
    chosen = sorted(_absorb_parts(z_of, y_d), key=lambda w: (-round(z_of[w], 6), -w.count(" "), w))
    chosen = chosen[:top]
    return [
        Theme(w, _shown(w, detractors), y_d[w], z_of[w], _quotes(w, detractors, quotes))
        for w in chosen
    ]


def _counts(docs: Iterable[Doc]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for doc in docs:
        counts.update(doc.terms)
    return counts


def _log_odds(y: float, a: float, n: float, a0: float) -> float:
    return math.log((y + a) / max(n + a0 - y - a, 1e-9))


def _absorb_parts(z_of: dict[str, float], counts: Counter[str]) -> list[str]:
    """A phrase stands for its words when it says nearly as much ("late delivery", not also
    "late" and "delivery"): its z is close to the word's, or it holds half the word's uses."""
    absorbed: set[str] = set()
    for term, z in z_of.items():
        if " " not in term:
            continue
        for word in term.split(" "):
            if word in z_of and (
                z >= ABSORB * z_of[word] or counts[term] >= PHRASE_SHARE * counts[word]
            ):
                absorbed.add(word)
    return [w for w in z_of if w not in absorbed]


def _shown(term: str, docs: Sequence[Doc]) -> str:
    forms = Counter(d.surface[term] for d in docs if term in d.terms and term in d.surface)
    return forms.most_common(1)[0][0] if forms else term


def _quotes(term: str, docs: Sequence[Doc], limit: int) -> tuple[str, ...]:
    """Short comments first: a quote should read at a glance."""
    using = sorted({d.text for d in docs if term in d.terms and d.text}, key=lambda t: (len(t), t))
    return tuple(using[:limit])
