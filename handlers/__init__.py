"""aiogram routers, one per audience."""

from aiogram import Router


def get_routers() -> list[Router]:
    """Every router, in the order updates should reach them."""
    from . import customer

    return [customer.router]
