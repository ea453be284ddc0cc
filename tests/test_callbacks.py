"""The callback data's wire format: buttons already sent in chats must keep working."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.views.callbacks import (
    AlertAction,
    AlertCb,
    ForgetCb,
    OptInCb,
    OptOutCb,
    ReasonCb,
    RecheckCb,
    ScoreCb,
    SkipCb,
)


@pytest.mark.parametrize(
    ("data", "packed"),
    [
        (ScoreCb(invitation=12, question=0, score=5), "s:12:0:5"),
        (SkipCb(invitation=12, question=1), "k:12:1"),
        (AlertCb(action=AlertAction.TAKE, alert=7), "a:t:7"),
        (AlertCb(action=AlertAction.RESOLVE, alert=7), "a:r:7"),
        (AlertCb(action=AlertAction.CONTACT, alert=7), "a:c:7"),
        (AlertCb(action=AlertAction.OPEN, alert=7), "a:o:7"),
        (AlertCb(action=AlertAction.BACK, alert=7), "a:b:7"),
        (RecheckCb(alert=7, solved=True), "r:7:1"),
        (RecheckCb(alert=7, solved=False), "r:7:0"),
        (ReasonCb(alert=7, reason=2), "w:7:2"),
        (OptOutCb(invitation=12), "x:12"),
        (OptInCb(), "y"),
        (ForgetCb(), "f"),
    ],
)
def test_callback_data_packs_as_buttons_already_sent_expect(
    data: CallbackData, packed: str
) -> None:
    assert data.pack() == packed, "a button sent before this release would stop working"
    assert type(data).unpack(packed) == data


def test_an_unknown_alert_action_does_not_unpack() -> None:
    """Forged or future letters are left to the fallback router's "no longer works"."""
    with pytest.raises(ValueError):
        AlertCb.unpack("a:z:7")
