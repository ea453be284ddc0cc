"""Callback data of every inline button: short prefixes and integer fields, far under 64 bytes.

Forgery is harmless by design: a handler loads the invitation named in the data and refuses the
press unless the pressing user is that invitation's customer and the question is the one asked.
"""

from aiogram.filters.callback_data import CallbackData


class ScoreCb(CallbackData, prefix="s"):
    i: int  # invitation id
    q: int  # question index within the survey
    v: int  # the score


class SkipCb(CallbackData, prefix="k"):
    i: int
    q: int


class AlertCb(CallbackData, prefix="a"):
    a: str  # t = take, r = resolved, c = contact, o = open (from a digest)
    i: int  # alert id


class RecheckCb(CallbackData, prefix="r"):
    i: int  # alert id
    v: int  # 1 = solved, 0 = not solved


class OptOutCb(CallbackData, prefix="x"):
    """ "Don't ask me again" under a survey's first question: it opts out the presser only, and
    only when the invitation named is theirs."""

    i: int  # invitation id


class OptInCb(CallbackData, prefix="y"):
    """ "Yes, you may ask me again" after /start: opts the presser in; it names nobody."""


class ForgetCb(CallbackData, prefix="f"):
    """The confirmation of /forget: erases the presser's own data; it names nobody."""


class ReasonCb(CallbackData, prefix="w"):
    """A reason picked on an alert's card after Resolved: an index into [alerts] reasons."""

    i: int  # alert id
    r: int  # the reason's position in the configured list
