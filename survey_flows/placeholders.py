"""Survey texts that name the purchase: `{product}`, `{order_id}` filled from the event's context.

A placeholder the context lacks (or holds empty) is left out cleanly: no braces stay behind, the
spaces around it close up, and no space is left before punctuation ("How was your {product}?"
without a product reads "How was your?" rather than "How was your {product}?"). `{{` and `}}`
stand for literal braces; braces around anything but a name (`{ :) }`) are kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
_GAP = "\x00"  # marks where a missing value was, until the spaces around it are tidied
# One or more gaps with the blanks between and around them; an empty pair of brackets too.
_GAPS = re.compile(r"[ \t]*(?:[(\[]\x00(?:[ \t]*\x00)*[)\]]|\x00(?:[ \t]*\x00)*)[ \t]*")
_CLOSES = frozenset(".,!?;:…)]»\"'")


def _same(text: str) -> str:
    return text


def placeholders(template: str) -> list[str]:
    """The names a template refers to, in order."""
    return [m.group(1) for m in _TOKEN.finditer(template) if m.group(1)]


def fill_placeholders(
    template: str, values: Mapping[str, str], escape: Callable[[str], str] = _same
) -> str:
    """`template` with each `{name}` replaced by `values[name]`; `escape` is applied to the
    template's own text and to every value (html.escape for Telegram's HTML)."""
    parts: list[str] = []
    at = 0
    gaps = False
    for match in _TOKEN.finditer(template):
        parts.append(escape(template[at : match.start()].replace(_GAP, "")))
        token, name = match.group(0), match.group(1)
        if name is None:
            parts.append(escape(token[0]))  # {{ or }}
        else:
            value = (values.get(name) or "").strip()
            if value:
                parts.append(escape(value.replace(_GAP, "")))
            else:
                parts.append(_GAP)
                gaps = True
        at = match.end()
    parts.append(escape(template[at:].replace(_GAP, "")))
    text = "".join(parts)
    return _GAPS.sub(_close_up, text) if gaps else text


def _close_up(match: re.Match[str]) -> str:
    """What replaces a run of missing values: one space between words, nothing at a line's
    edge or before punctuation."""
    text = match.string
    before = text[match.start() - 1] if match.start() > 0 else "\n"
    after = text[match.end()] if match.end() < len(text) else "\n"
    if before == "\n" or after == "\n" or after in _CLOSES or before in "([«":
        return ""
    spaced = match.group(0)[:1] in " \t" or match.group(0)[-1:] in " \t"
    return " " if spaced else ""
