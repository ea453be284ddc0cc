"""Callback data of every inline button: short prefixes and integer fields, far under 64 bytes.

aiogram packs the values only, in field order (`s:12:0:5`): renaming a field keeps the wire
format, reordering or retyping one breaks every button already sent (tests/test_callbacks.py).

Forgery is harmless by design: a handler loads the invitation named in the data and refuses the
press unless the pressing user is that invitation's customer and the question is the one asked.
"""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class AlertAction(StrEnum):
    """What a button on an alert's card (or the digest) asks for."""

    TAKE = "t"
    RESOLVE = "r"  # resolve now, or first ask why when [alerts] reasons are set
    CONTACT = "c"  # how to reach the customer: reply to the card
    OPEN = "o"  # from the digest: post this alert's own card
    BACK = "b"  # from the reasons' buttons: back to the card's usual buttons, not resolved


class ScoreCb(CallbackData, prefix="s"):
    invitation: int
    question: int  # index within the survey
    score: int


class SkipCb(CallbackData, prefix="k"):
    invitation: int
    question: int


class AlertCb(CallbackData, prefix="a"):
    action: AlertAction  # an unknown letter does not unpack: the fallback router answers it
    alert: int


class RecheckCb(CallbackData, prefix="r"):
    alert: int
    solved: bool  # packed as 1 or 0


class OptOutCb(CallbackData, prefix="x"):
    """ "Don't ask me again" under a survey's first question: it opts out the presser only, and
    only when the invitation named is theirs."""

    invitation: int


class OptInCb(CallbackData, prefix="y"):
    """ "Yes, you may ask me again" after /start: opts the presser in; it names nobody."""


class ForgetCb(CallbackData, prefix="f"):
    """The confirmation of /forget: erases the presser's own data; it names nobody."""


class ReasonCb(CallbackData, prefix="w"):
    """A reason picked on an alert's card after Resolved: an index into [alerts] reasons."""

    alert: int
    reason: int  # the reason's position in the configured list
