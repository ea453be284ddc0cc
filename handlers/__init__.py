"""aiogram routers, one per audience, and a fallback that answers any leftover button."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the package alone must not load aiogram (150 MB of models)
    from aiogram import Router


def get_routers() -> list[Router]:
    """Every router, in the order updates should reach them."""
    from . import customer, fallback, help, manager, privacy, setup, staff

    # /claim and /id work in any chat; /help answers by role, and commands sent where they do
    # not work get one line. Managers before customers: the customer router answers any private
    # text. Privacy (/forget, /start after an opt-out) before the customer router. The fallback
    # answers any button press left over, so no button keeps spinning.
    return [
        setup.router,
        help.router,
        staff.router,
        manager.router,
        privacy.router,
        customer.router,
        fallback.router,
    ]
