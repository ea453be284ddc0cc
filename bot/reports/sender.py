"""Sending managers' replies to Telegram within its limits: text 4096 characters (split at line
breaks), captions 1024 (a longer text goes before the chart), documents 50 MB."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from aiogram import Bot
from aiogram.types import BufferedInputFile, FSInputFile

from bot.config import ReportsConfig
from bot.reports.compose import (
    CAPTION_LIMIT,
    DOCUMENT_LIMIT,
    TEXT_LIMIT,
    Outgoing,
    title_block,
    unmatched_filters,
)
from bot.reports.export import export_csv, export_name
from bot.views.texts import nt, t
from storage.base import AnalyticsRepo
from survey_flows.periods import Selection


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at line breaks into chunks of at most `limit` characters (a longer line is cut)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


async def send(bot: Bot, chat_id: int, messages: Sequence[Outgoing]) -> None:
    """Send replies: a chart with the text as its caption when it fits, else text then chart."""
    for msg in messages:
        if msg.photo is None:
            for chunk in split_text(msg.text):
                await bot.send_message(chat_id, chunk)
            continue
        photo = BufferedInputFile(msg.photo, filename="chart.png")
        if len(msg.text) <= CAPTION_LIMIT:
            await bot.send_photo(chat_id, photo, caption=msg.text)
            continue
        for chunk in split_text(msg.text):
            await bot.send_message(chat_id, chunk)
        caption = msg.photo_caption
        if caption is not None and len(caption) > CAPTION_LIMIT:
            caption = None
        await bot.send_photo(chat_id, photo, caption=caption)


async def send_export(
    bot: Bot,
    chat_id: int,
    analytics: AnalyticsRepo,
    selection: Selection,
    cfg: ReportsConfig,
    lang: str,
) -> None:
    p = selection.period
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="survey-export-")
    os.close(fd)
    path = Path(name)
    try:
        rows = await export_csv(analytics, p.start, p.end, selection.filters, path)
        head = title_block(lang, t(lang, "mgr.export.title"), selection, cfg)
        if rows == 0:
            hints = await unmatched_filters(analytics, selection, lang)
            text = "\n".join([head, "", t(lang, "mgr.no_answers"), *hints])
            await send(bot, chat_id, [Outgoing(text)])
            return
        if path.stat().st_size > DOCUMENT_LIMIT:  # noqa: ASYNC240 (a stat, not I/O to wait on)
            await send(bot, chat_id, [Outgoing(nt(lang, "mgr.export.too_big", rows, rows=rows))])
            return
        caption = head + "\n" + nt(lang, "mgr.export.rows", rows, rows=rows)
        await bot.send_document(
            chat_id,
            FSInputFile(path, filename=export_name(selection, cfg)),
            caption=caption if len(caption) <= CAPTION_LIMIT else None,
        )
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # noqa: ASYNC240
