"""Shared fixtures."""

from __future__ import annotations

import pytest
from aiogram import Dispatcher

from bot.app import build_dispatcher

from .test_manager import NOW, make_config


@pytest.fixture(scope="session")
def dispatcher(tmp_path_factory) -> Dispatcher:
    """The one dispatcher of the test process: aiogram attaches a module-level router to a
    single dispatcher, so handler tests share it and swap in their own dependencies."""
    config = make_config(tmp_path_factory.mktemp("dp"))
    return build_dispatcher(config, None, lambda: NOW, worker=None)  # type: ignore[arg-type]
