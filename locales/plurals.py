"""A plural message's forms in one language and the rule that picks one for a count.

Standard library only and plain data, so the chart worker (another process, which draws a count
it computes itself) gets the forms with the chart's other words and imports no Babel.
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable
from dataclasses import dataclass


@functools.cache
def _rule(expression: str) -> Callable[[int], int]:
    return gettext.c2py(expression)


@dataclass(frozen=True, slots=True)
class PluralText:
    forms: tuple[str, ...]
    rule: str = "(n != 1)"  # the catalogue's Plural-Forms `plural=` expression, in C syntax

    def pick(self, n: int) -> str:
        """The form for the count `n`."""
        return self.forms[_rule(self.rule)(n)]

    def format(self, n: int, /, **values: object) -> str:
        """The form for `n`, its placeholders filled from `values` (`n` only picks the form)."""
        return self.pick(n).format(**values)
