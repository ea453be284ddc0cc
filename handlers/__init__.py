"""aiogram routers, one per audience, and a fallback that answers any leftover button."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the package alone must not load aiogram (150 MB of models)
    from aiogram import Router


def get_routers() -> list[Router]:
    """Every router, in the order updates should reach them."""
    from . import customer, fallback, manager, privacy, staff

    # Managers first: the customer router answers any private text. The fallback answers any
    # button press left over, so no button keeps spinning. Privacy before the customer router,
    # which answers any other command with the help text.
    return [staff.router, manager.router, privacy.router, customer.router, fallback.router]
