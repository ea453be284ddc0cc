"""pybabel on our layout: the README's three commands (extract, update, compile), run in-process.

Extraction finds every key the code uses (babel.cfg, locales/extraction.py), so the catalogues
are checked against the code: every key used is in every catalogue, none is left that the code
no longer asks for, plural messages are the ones the code counts with. And the committed
template and catalogues are what the commands produce: running them changes only the order.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po, write_po

from locales.catalogues import Catalogues, forms, msgid

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
README = ROOT / "README.md"
LANGS = ("en", "ru", "uk", "zh")
TRANSLATIONS = ("ru", "uk", "zh")  # `pybabel update` leaves English, the source, alone


def read(path: Path) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp)


def po_path(root: Path, lang: str) -> Path:
    return root / lang / "LC_MESSAGES" / "messages.po"


def documented(command: str) -> list[str]:
    """The README's `pybabel <command> ...` line (continuations joined), as arguments."""
    text = README.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("pybabel ")]
    (line,) = [line for line in lines if line.split()[1] == command]
    return shlex.split(line)[1:]


def pybabel(args: list[str]) -> None:
    """One pybabel command, in-process, from the project's root (babel.cfg's paths are relative)."""
    with contextlib.chdir(ROOT):
        status = CommandLineInterface().run(["pybabel", "-q", *args])
    assert not status, f"pybabel {' '.join(args)} failed"


def swap(args: list[str], option: str, value: str) -> list[str]:
    """`args` with `option`'s value replaced (the README writes into the tree; tests do not)."""
    i = args.index(option)
    return [*args[: i + 1], value, *args[i + 2 :]]


def entries(catalog: Catalog) -> dict[str, tuple[bool, tuple[str, ...], list[str]]]:
    """key -> (plural?, forms, English comment words): what a translator reads and writes."""
    return {
        msgid(m): (m.pluralizable, forms(m), " ".join(m.auto_comments).split())
        for m in catalog
        if m.id
    }


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The template `pybabel extract` writes from today's code."""
    target = tmp_path_factory.mktemp("extract") / "messages.pot"
    pybabel(swap(documented("extract"), "-o", str(target)))
    return read(target)


@pytest.fixture(scope="module")
def used(extracted: Catalog) -> dict[str, bool]:
    """key -> whether the code counts with it (nt, plural_text), for every key it uses."""
    return {msgid(m): m.pluralizable for m in extracted if m.id}


def test_the_readme_documents_the_three_commands() -> None:
    extract = documented("extract")
    assert "-F" in extract and extract[extract.index("-F") + 1] == "babel.cfg"
    for keyword in ("t:2", "raw_t:2", "nt:2,2", "plural_text:2,2", "N_"):
        assert keyword in extract, f"pybabel would miss the keys given to {keyword}"
    assert "--no-fuzzy-matching" in documented("update"), "a new key would inherit a translation"
    assert documented("compile")
    loops = re.findall(r"^for lang in ([a-z ]+); do$", README.read_text(encoding="utf-8"), re.M)
    assert loops == [" ".join(TRANSLATIONS), " ".join(LANGS)], "a language is left out"


def test_extraction_finds_the_code_s_keys(used: dict[str, bool]) -> None:
    assert len(used) > 200, "extraction found almost nothing: the keywords or babel.cfg are off"
    assert "start.no_name" in used, "a key returned by a handler was missed"
    assert "menu.themes" in used, "a key kept in a table (N_) was missed"
    assert used["chart.answers_count"], "a count's message was extracted without its plural"


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_the_code_uses_is_in_the_catalogue(lang: str, used: dict[str, bool]) -> None:
    catalogue = entries(read(po_path(LOCALES, lang)))
    missing = sorted(key for key in used if key not in catalogue or not all(catalogue[key][1]))
    assert missing == [], f"{lang}: these texts would fail to render (KeyError) or show English"


@pytest.mark.parametrize("lang", LANGS)
def test_no_catalogue_keeps_keys_the_code_no_longer_uses(lang: str, used: dict[str, bool]) -> None:
    catalog = read(po_path(LOCALES, lang))
    unused = sorted(key for key in entries(catalog) if key not in used)
    assert unused == [], f"{lang}: translators would keep translating texts nobody sees"
    assert not catalog.obsolete, f"{lang}: obsolete (#~) entries left behind"


@pytest.mark.parametrize("lang", LANGS)
def test_the_code_counts_with_exactly_the_plural_messages(lang: str, used: dict[str, bool]) -> None:
    catalogue = entries(read(po_path(LOCALES, lang)))
    wrong = sorted(key for key, plural in used.items() if catalogue[key][0] != plural)
    assert wrong == [], "nt() on a singular message, or t() on a plural one: KeyError"


def test_the_template_is_what_extraction_writes(extracted: Catalog) -> None:
    committed = entries(read(LOCALES / "messages.pot"))
    assert committed == entries(extracted), "locales/messages.pot is stale: run pybabel extract"


@pytest.fixture(scope="module")
def updated(tmp_path_factory: pytest.TempPathFactory, extracted: Catalog) -> Path:
    """A copy of locales/ after the README's `pybabel update`, from a fresh template."""
    root = tmp_path_factory.mktemp("update") / "locales"
    shutil.copytree(LOCALES, root)
    template = root / "messages.pot"
    with template.open("wb") as fp:
        write_po(fp, extracted)
    args = swap(swap(documented("update"), "-i", str(template)), "-d", str(root))
    for lang in TRANSLATIONS:
        pybabel(swap(args, "-l", lang))
    return root


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_update_changes_nothing_but_the_order(lang: str, updated: Path) -> None:
    before = read(po_path(LOCALES, lang))
    after = read(po_path(updated, lang))
    assert entries(after) == entries(before), "pybabel update would change these catalogues"
    assert not [m.id for m in after if m.id and m.fuzzy], "update guessed (fuzzy) translations"
    assert (after.num_plurals, after.plural_expr) == (before.num_plurals, before.plural_expr)


@pytest.mark.parametrize("lang", LANGS)
def test_each_catalogue_compiles(lang: str, tmp_path: Path) -> None:
    args = documented("compile")
    target = tmp_path / "messages.mo"
    po = po_path(LOCALES, lang)
    pybabel(swap(swap(swap(args, "-i", str(po)), "-o", str(target)), "-l", lang))
    with target.open("rb") as fp:
        compiled = read_mo(fp)
    assert {msgid(m) for m in compiled if m.id} == set(entries(read(po)))


@contextlib.contextmanager
def new_language(lang: str, tmp_path: Path) -> Iterator[Path]:
    """A copy of locales/ with `lang` added by the README's `pybabel init`; yields its .po."""
    root = tmp_path / "locales"
    shutil.copytree(LOCALES, root)
    pybabel(["init", "-i", str(root / "messages.pot"), "-d", str(root), "-l", lang, "-w", "100"])
    yield po_path(root, lang)


def test_adding_a_language_is_adding_a_po_file(tmp_path: Path) -> None:
    readme = README.read_text(encoding="utf-8")
    assert "pybabel init -i locales/messages.pot -d locales -l de -w 100" in readme
    with new_language("de", tmp_path) as po:
        catalog = read(po)
        assert catalog.num_plurals == 2, "German's plural forms were not set"
        catalog["thanks"].string = "Danke für Ihr Feedback!"
        with po.open("wb") as fp:
            write_po(fp, catalog)
        loaded = Catalogues.load(po.parents[2])
    english = Catalogues.load()
    assert "de" in loaded.languages, "a new catalogue in locales/ was not picked up"
    assert loaded.gettext("thanks", "de") == "Danke für Ihr Feedback!"
    assert loaded.gettext("stop", "de") == english.gettext("stop", "en"), "untranslated: English"
    assert loaded.ngettext("mgr.export.rows", 1, "de") == "{rows} answer, one per row."
    assert loaded.gettext("thanks", "qq") == english.gettext("thanks", "en"), "unknown: English"
