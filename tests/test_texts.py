"""The catalogues in locales/: translations match English keys, plural forms, placeholders and
HTML structure. (tests/test_catalogues.py: the keys are those the code uses, and pybabel's
extract, update and compile work on them.)

The .po files are read here with Babel directly, as a translator's tool would, not through the
bot's loader: what is checked is what a translator hands in.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot import config
from bot.views.texts import FALLBACK, LANGUAGES, catalogues, keys, language_of, nt, plural_text, t
from locales.catalogues import forms, msgid, translated
from locales.extraction import comment_lines

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
TAG = re.compile(r"<(/?)(b|i|code|a)(?:\s[^>]*)?>")
# How many plural forms each language has (gettext's Plural-Forms), and Russian's and
# Ukrainian's rule: one (1, 21, 101), few (2-4, 22-24), many (0, 5-20, 11-14, 25).
NPLURALS = {"en": 2, "ru": 3, "uk": 3, "zh": 1}
SLAVIC = "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)"
PLURAL_RULES = {"en": "(n != 1)", "ru": SLAVIC, "uk": SLAVIC, "zh": "0"}
# Counts that reach every form of every language above.
COUNTS = (0, 1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111)


def read(path: Path) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp)


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


CATALOGS = {
    lang.name: read(po_path(lang.name))
    for lang in sorted(LOCALES.iterdir())
    if po_path(lang.name).is_file()
}
# key -> its forms (one text, or each plural form), translated entries only (an empty msgstr is
# a gap, filled from English).
FORMS = {
    lang: {msgid(m): forms(m) for m in cat if m.id and translated(m)}
    for lang, cat in CATALOGS.items()
}
EN_FORMS = FORMS[FALLBACK]
PLURALS = {msgid(m) for m in CATALOGS[FALLBACK] if m.id and m.pluralizable}
EN = {key: texts[0] for key, texts in EN_FORMS.items() if key not in PLURALS}  # key -> text
LANGS = sorted(FORMS)


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def tags(text: str) -> list[str]:
    return sorted(m.group(0) for m in TAG.finditer(text))


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
    return [(lang, key) for lang in LANGS for key in FORMS[lang]]


def test_the_bot_finds_every_catalogue() -> None:
    assert set(LANGS) == {"en", "ru", "uk", "zh"}, "a language's catalogue was not found"
    assert tuple(LANGS) == LANGUAGES, "the bot would not offer every language in locales/"
    assert keys() == tuple(EN_FORMS), "the bot's keys are not the English catalogue's msgids"
    assert catalogues().plurals == PLURALS, "the bot would not count the plural messages"
    for lang in LANGUAGES:
        raw = {
            "telegram": {"token": "1:abc"},
            "api": {"token": "x" * 16},
            "delivery": {"default_language": lang},
            "alerts": {"enabled": False},
        }
        parsed = config.parse_config(raw, {}, Path("."))
        assert parsed.delivery.default_language == lang, f"config refused {lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_headers(lang: str) -> None:
    catalog = CATALOGS[lang]
    assert str(catalog.locale) == lang, "Poedit would show the wrong language for this file"
    assert catalog.charset.upper() == "UTF-8"
    assert "Plural-Forms" in dict(catalog.mime_headers)
    assert catalog.num_plurals == NPLURALS[lang], "counts would pick the wrong form"
    assert catalog.plural_expr.replace(" ", "") == PLURAL_RULES[lang].replace(" ", "")


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_exists_in_english(lang: str) -> None:
    every_msgid = {msgid(m) for m in CATALOGS[lang] if m.id}
    assert every_msgid - set(EN_FORMS) == set()


@pytest.mark.parametrize("lang", LANGS)
def test_plural_messages_have_every_form_of_the_language(lang: str) -> None:
    catalog = CATALOGS[lang]
    plural = {msgid(m) for m in catalog if m.id and m.pluralizable}
    assert plural == PLURALS, "a count would be shown in one form only, or a text needs none"
    wrong = {
        msgid(m): len(forms(m))
        for m in catalog
        if m.pluralizable and len(forms(m)) != NPLURALS[lang]
    }
    assert wrong == {}, f"{lang} has {NPLURALS[lang]} plural forms; these entries have not"
    assert not [m.id for m in catalog if m.pluralizable and m.id[0] != m.id[1]], (
        "msgid_plural is the key again, as nt() asks for it"
    )


@pytest.mark.parametrize(
    ("marks", "lost"),
    [
        (placeholders, "a value would be missing, or KeyError on rendering"),
        (tags, "a translation would lose or add bold, italics or code marks"),
    ],
    ids=["placeholders", "html_tags"],
)
@pytest.mark.parametrize("lang", LANGS)
def test_marks_match_english(lang: str, marks: Callable[[str], object], lost: str) -> None:
    english = {key: marks(texts[-1]) for key, texts in EN_FORMS.items()}
    mismatched = {
        (key, i): (marks(text), english[key])
        for key, texts in FORMS[lang].items()
        for i, text in enumerate(texts)
        if key in english and marks(text) != english[key]
    }
    assert mismatched == {}, lost


@pytest.mark.parametrize(("lang", "key"), all_texts())
def test_renders_with_balanced_tags(lang: str, key: str) -> None:
    values = {name: "x" for text in FORMS[lang][key] for name in placeholders(text)}
    if key in PLURALS:
        rendered = [nt(lang, key, n, **values) for n in COUNTS]
    else:
        rendered = [t(lang, key, **values)]
    assert all(balanced(text) for text in rendered), rendered
    assert all(balanced(text) for text in FORMS[lang][key])


@pytest.mark.parametrize("lang", LANGS)
def test_translation_is_complete(lang: str) -> None:
    missing = [key for key in EN_FORMS if key not in FORMS[lang]]
    assert missing == [], "these would be shown in English"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", sorted(PLURALS))
def test_each_count_gets_its_own_form(lang: str, key: str) -> None:
    """nt() (gettext's ngettext) and the forms a chart gets pick the same form for a count."""
    forms_of = FORMS[lang][key]
    plural = plural_text(lang, key)
    assert plural.forms == forms_of
    for n in range(0, 125):
        assert catalogues().ngettext(key, n, lang) == plural.pick(n), (lang, key, n)
    used = {plural.pick(n) for n in COUNTS}
    assert used == set(forms_of), "a form is never shown: the rule and the forms disagree"


@pytest.mark.parametrize(
    ("lang", "counts", "expected"),
    [
        ("en", (1, 2, 134), ("1 answer", "2 answers", "134 answers")),
        (
            "ru",
            (1, 3, 5, 11, 21, 22),
            ("1 ответ", "3 ответа", "5 ответов", "11 ответов", "21 ответ", "22 ответа"),
        ),
        ("uk", (1, 4, 12, 101), ("1 відповідь", "4 відповіді", "12 відповідей", "101 відповідь")),
        ("zh", (1, 7), ("1 条回答", "7 条回答")),
    ],
)
def test_counts_read_right(lang: str, counts: tuple[int, ...], expected: tuple[str, ...]) -> None:
    shown = tuple(nt(lang, "chart.answers_count", n, count=n) for n in counts)
    assert shown == expected


def test_chinese_charts_have_chinese_words() -> None:
    assert t("zh", "chart.answers") != EN["chart.answers"]
    assert t("zh", "chart.so_far") != EN["chart.so_far"]


def english_comment(key: str) -> list[str]:
    """The English source as translators see it above an entry: its words, whitespace aside."""
    return " ".join(comment_lines(EN_FORMS.get(key, ()))).split()


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != FALLBACK])
def test_translators_see_the_current_english(lang: str) -> None:
    stale = [
        msgid(m)
        for m in CATALOGS[lang]
        if m.id and " ".join(m.auto_comments).split() != english_comment(msgid(m))
    ]
    assert stale == [], "the English shown above these entries is not the English the bot sends"


def test_template_lists_exactly_the_english_keys() -> None:
    template = read(POT)
    entries = [m for m in template if m.id]
    ids = [msgid(m) for m in entries]
    missing = [key for key in EN_FORMS if key not in ids]
    assert missing == [], "a new language copied from the .pot would miss these keys"
    assert sorted(ids) == sorted(EN_FORMS), "the template lists keys English lacks, or twice"
    assert {msgid(m) for m in entries if m.pluralizable} == PLURALS, "plurals would be lost"
    assert not [m.id for m in entries if any(forms(m))], "the template carries no translations"
    stale = [
        msgid(m) for m in entries if " ".join(m.auto_comments).split() != english_comment(msgid(m))
    ]
    assert stale == [], "the template shows translators an outdated English source"


TEXT_CALLS = {"t": 1, "raw_t": 1, "nt": 1, "plural_text": 1, "N_": 0}  # name -> index of the key


def key_arguments() -> list[tuple[str, ast.expr]]:
    """(where, key argument) of every text call in the product's code."""
    found = []
    for path in sorted(
        p for pkg in ("bot", "handlers", "demo") for p in (ROOT / pkg).rglob("*.py")
    ):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in TEXT_CALLS
                and len(node.args) > TEXT_CALLS[node.func.id]
            ):
                arg = node.args[TEXT_CALLS[node.func.id]]
                found.append((f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}", arg))
    return found


def test_no_key_is_built_from_data() -> None:
    """A key is a literal where it is called, or a table's value (tables hold N_("literal")):
    pybabel extract cannot see f"alert.kind.{kind}", nor "a" if x else "b"."""
    found = key_arguments()
    assert len(found) > 100, "the scan found almost no text calls: it would prove nothing"
    built = [
        (where, ast.unparse(arg))
        for where, arg in found
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str))
        and not (isinstance(arg, ast.Name | ast.Subscript) and not where.endswith(" N_"))
    ]
    assert built == [], "these keys are computed: translators would never see them"


def test_unknown_key_fails_loudly() -> None:
    with pytest.raises(KeyError):
        t("en", "no.such.key")
    with pytest.raises(KeyError):  # a count decides the form: t() cannot choose one
        t("en", "mgr.export.rows", rows=3)
    with pytest.raises(KeyError):
        nt("en", "thanks", 3)


def test_english_says_one_for_one() -> None:
    assert nt("en", "mgr.export.rows", 1, rows=1) == "1 answer, one per row."
    assert nt("en", "mgr.export.rows", 134, rows=134) == "134 answers, one per row."
    assert nt("en", "mgr.more_groups", 1, count=1) == "… and 1 smaller group (see /export)"
    assert "<b>1 new alert</b>" in nt("en", "alert.digest", 1, count=1)


def test_a_customer_without_a_first_name_is_greeted_in_their_language() -> None:
    assert t("en", "start", name=t("en", "start.no_name")).startswith("Hi there!")
    assert "there" not in t("ru", "start", name=t("ru", "start.no_name"))


def test_telegram_language_codes_map_to_ours() -> None:
    assert language_of("ru") == "ru"
    assert language_of("uk-UA") == "uk"
    assert language_of("zh-hans") == "zh"
    assert language_of("pt-br", "ru") == "ru"
    assert language_of(None) == FALLBACK


@pytest.mark.parametrize(
    ("chat", "telegram_lang", "stored", "expected"),
    [
        ("private", "zh-hans", None, "zh"),  # a new customer: their Telegram language
        ("private", "en", "uk", "uk"),  # the shop said Ukrainian: that wins over Telegram's
        ("private", "pt-br", None, "ru"),  # a language we lack: the configured default
        ("staff", "zh", None, "ru"),  # the staff chat: the team's language, whoever writes
    ],
)
async def test_routers_get_their_audiences_language(
    dispatcher, tmp_path, chat: str, telegram_lang: str, stored: str | None, expected: str
) -> None:
    from datetime import UTC, datetime

    from aiogram.types import Chat, User

    from bot.config import parse_config
    from bot.views.i18n import AudienceLanguageMiddleware
    from storage.sqlite import open_sqlite

    (middleware,) = [
        m for m in dispatcher.message.outer_middleware if isinstance(m, AudienceLanguageMiddleware)
    ]
    assert middleware in dispatcher.callback_query.outer_middleware, "button presses get no lang"
    config = parse_config(
        {
            "telegram": {"token": "1:abc", "staff_chat_id": -100},
            "api": {"token": "x" * 16},
            "storage": {"path": "db.sqlite3"},
            "delivery": {"default_language": "ru"},
        },
        {},
        tmp_path,
    )
    repo = await open_sqlite(config.storage.path)
    if stored:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        await repo.customers.touch_customer(7, now, name=None, username=None, language=stored)
    seen: dict[str, object] = {}

    async def handler(event: object, data: dict[str, object]) -> None:
        seen.update(lang=data["lang"])

    user = User(id=7, is_bot=False, first_name="X", language_code=telegram_lang)
    where = Chat(id=-100, type="supergroup") if chat == "staff" else Chat(id=7, type="private")
    data = {"event_from_user": user, "event_chat": where, "config": config, "repo": repo}
    try:
        await middleware(handler, object(), data)
    finally:
        await repo.close()
    assert seen["lang"] == expected, f"a handler would write in {seen['lang']}, not {expected}"


def test_balanced_catches_mistakes() -> None:
    assert balanced('<b>a</b> <i>b <code>c</code></i> <a href="u">d</a>')
    assert not balanced("<b>a")
    assert not balanced("<b><i>a</b></i>")
    assert not balanced("a</i>")
