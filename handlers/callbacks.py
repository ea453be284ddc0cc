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
