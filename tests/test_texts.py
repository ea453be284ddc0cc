"""The catalogues in locales/: translations match English keys, placeholders and HTML structure.

The .po files are read here with Babel directly, as a translator's tool would, not through the
bot's loader: what is checked is what a translator hands in.
"""

from __future__ import annotations

import ast
import re
import shutil
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot import config
from bot.views.texts import FALLBACK, LANGUAGES, keys, language_of, t
from locales.catalogues import Catalogues

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
TAG = re.compile(r"<(/?)(b|i|code|a)(?:\s[^>]*)?>")
# Chart labels are drawn with a font without CJK glyphs: Chinese keeps the English ones.
MAY_MISS: dict[str, tuple[str, ...]] = {}


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
# key -> text, translated entries only (an empty msgstr is a gap, filled from English).
TEXTS = {
    lang: {str(m.id): str(m.string) for m in cat if m.id and m.string}
    for lang, cat in CATALOGS.items()
}
EN = TEXTS[FALLBACK]
LANGS = sorted(TEXTS)


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
    return [(lang, key) for lang in LANGS for key in TEXTS[lang]]


def test_the_bot_finds_every_catalogue() -> None:
    assert set(LANGS) == {"en", "ru", "uk", "zh"}, "a language's catalogue was not found"
    assert tuple(LANGS) == LANGUAGES, "the bot would not offer every language in locales/"
    assert keys() == tuple(EN), "the bot's keys are not the English catalogue's msgids"
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


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_exists_in_english(lang: str) -> None:
    every_msgid = {str(m.id) for m in CATALOGS[lang] if m.id}
    assert every_msgid - set(EN) == set()


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_match_english(lang: str) -> None:
    mismatched = {
        key: (placeholders(text), placeholders(EN[key]))
        for key, text in TEXTS[lang].items()
        if key in EN and placeholders(text) != placeholders(EN[key])
    }
    assert mismatched == {}


@pytest.mark.parametrize("lang", LANGS)
def test_html_tags_match_english(lang: str) -> None:
    mismatched = {
        key: (tags(text), tags(EN[key]))
        for key, text in TEXTS[lang].items()
        if key in EN and tags(text) != tags(EN[key])
    }
    assert mismatched == {}, "a translation would lose or add bold, italics or code marks"


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


def test_chinese_charts_have_chinese_words() -> None:
    assert t("zh", "chart.answers") != EN["chart.answers"]
    assert t("zh", "chart.so_far") != EN["chart.so_far"]


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != FALLBACK])
def test_translators_see_the_current_english(lang: str) -> None:
    stale = [
        str(m.id)
        for m in CATALOGS[lang]
        if m.id and " ".join(m.auto_comments).split() != EN.get(str(m.id), "").split()
    ]
    assert stale == [], "the English shown above these entries is not the English the bot sends"


def test_template_lists_exactly_the_english_keys() -> None:
    template = read(POT)
    entries = [m for m in template if m.id]
    missing = [key for key in EN if key not in {str(m.id) for m in entries}]
    assert missing == [], "a new language copied from the .pot would miss these keys"
    assert [str(m.id) for m in entries] == list(EN), "the template lists keys English lacks"
    assert not [m.id for m in entries if m.string], "the template should carry no translations"
    stale = [m.id for m in entries if " ".join(m.auto_comments).split() != EN[str(m.id)].split()]
    assert stale == [], "the template shows translators an outdated English source"


def keys_in_code() -> list[tuple[str, str]]:
    """(where, key or key prefix) for each t()/raw_t() call whose key is written in the code."""
    found = []
    for path in sorted(p for pkg in ("bot", "handlers") for p in (ROOT / pkg).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"t", "raw_t"}
                and len(node.args) >= 2
            ):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            arg = node.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((where, arg.value))
            elif (  # f"alert.kind.{kind}": at least one key must start with the fixed part
                isinstance(arg, ast.JoinedStr)
                and arg.values
                and isinstance(arg.values[0], ast.Constant)
            ):
                found.append((where, f"{arg.values[0].value}*"))
    return found


def test_the_code_asks_only_for_keys_english_has() -> None:
    used = keys_in_code()
    assert len(used) > 50, "the scan found almost no t() calls: it would prove nothing"
    unknown = [
        (where, key)
        for where, key in used
        if not (any(k.startswith(key[:-1]) for k in EN) if key.endswith("*") else key in EN)
    ]
    assert unknown == [], "these texts would fail to render (KeyError) when a user reaches them"


def test_unknown_key_fails_loudly() -> None:
    with pytest.raises(KeyError):
        t("en", "no.such.key")


def test_adding_a_language_is_adding_a_po_file(tmp_path: Path) -> None:
    locales = shutil.copytree(LOCALES, tmp_path / "locales")
    template = read(POT)
    template.locale = "xx"
    for message in template:
        if message.id == "thanks":
            message.string = "Xank xou!"
    target = locales / "xx" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True)
    with target.open("wb") as fp:
        write_po(fp, template)

    loaded = Catalogues.load(locales)
    assert "xx" in loaded.languages, "a new catalogue in locales/ was not picked up"
    assert loaded.gettext("thanks", "xx") == "Xank xou!"
    assert loaded.gettext("stop", "xx") == EN["stop"], "an untranslated key must show English"
    assert loaded.gettext("thanks", "qq") == EN["thanks"], "an unknown language must show English"


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
async def test_routers_get_aiogram_i18n_in_their_audiences_language(
    dispatcher, tmp_path, chat: str, telegram_lang: str, stored: str | None, expected: str
) -> None:
    from datetime import UTC, datetime

    from aiogram.types import Chat, User
    from aiogram.utils.i18n import gettext

    from bot.config import parse_config
    from bot.views.i18n import AudienceLanguageMiddleware, CatalogueI18n
    from storage.sqlite import open_sqlite

    (middleware,) = [
        m for m in dispatcher.message.outer_middleware if isinstance(m, AudienceLanguageMiddleware)
    ]
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
        seen.update(i18n=data["i18n"], lang=data["lang"], text=gettext("alert.gone"))
        seen["chart"] = gettext("chart.answers")

    user = User(id=7, is_bot=False, first_name="X", language_code=telegram_lang)
    where = Chat(id=-100, type="supergroup") if chat == "staff" else Chat(id=7, type="private")
    data = {"event_from_user": user, "event_chat": where, "config": config, "repo": repo}
    try:
        await middleware(handler, object(), data)
    finally:
        await repo.close()
    assert isinstance(seen["i18n"], CatalogueI18n)
    assert seen["lang"] == expected, f"a handler would write in {seen['lang']}, not {expected}"
    assert seen["text"] == t(expected, "alert.gone"), "routers and workers would disagree"
    assert seen["chart"] == t(expected, "chart.answers"), "aiogram's gettext and ours disagree"


def test_balanced_catches_mistakes() -> None:
    assert balanced('<b>a</b> <i>b <code>c</code></i> <a href="u">d</a>')
    assert not balanced("<b>a")
    assert not balanced("<b><i>a</b></i>")
    assert not balanced("a</i>")
