"""`pybabel extract`'s method for our sources (babel.cfg): Python's extractor, plus each key's
English text as the comment above its entry.

The msgids are keys ("mgr.title"), so the English a translator translates lives in the English
catalogue; this puts it where Poedit shows the source, in the template, and `pybabel update`
carries it into every language's catalogue.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from babel.messages.extract import extract_python
from babel.messages.pofile import read_po

from locales.catalogues import forms, msgid


@functools.cache
def english_texts(path: str) -> dict[str, tuple[str, ...]]:
    """key -> its English text (each form of a plural), from the English catalogue at `path`."""
    with Path(path).open("rb") as fp:
        return {msgid(m): forms(m) for m in read_po(fp) if m.id}


def comment_lines(texts: tuple[str, ...]) -> list[str]:
    """The English as extracted-comment lines: each line of text once, blank lines left out
    (Babel keeps a message's comment lines distinct)."""
    return list(dict.fromkeys(line for text in texts for line in text.splitlines() if line.strip()))


def extract_keys(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, Any, list[str]]]:
    """What `extract_python` finds, each key with its English (option `english`: the English
    .po file, relative to where pybabel runs)."""
    english = english_texts(options["english"])
    # Babel annotates this generator with extract()'s result; it yields what extract() reads:
    # (lineno, function name, its string arguments, comments).
    python_options: Any = dict(options)
    found: Iterator[Any] = extract_python(fileobj, keywords, comment_tags, python_options)
    for lineno, funcname, messages, comments in found:
        strings = messages if isinstance(messages, tuple) else (messages,)
        texts = next((english[s] for s in strings if s in english), ())
        yield lineno, funcname, messages, [*comments, *comment_lines(texts)]
