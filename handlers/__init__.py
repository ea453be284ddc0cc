"""aiogram routers, one per audience."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the package alone must not load aiogram (150 MB of models)
    from aiogram import Router


def get_routers() -> list[Router]:
    """Every router, in the order updates should reach them."""
    from . import customer, manager, staff

    # Managers first: the customer router answers any private text.
    return [staff.router, manager.router, customer.router]
