"""The yardstick for bench/answers.py and bench/memory.py: a bare aiogram bot doing what the
survey bot does when a customer presses a score, and nothing else: answer the callback query,
edit the question to show the choice, send the follow-up question. No storage, no workers.

    python bench/bare_bot.py http://127.0.0.1:8081 123456:TOKEN
"""

from __future__ import annotations

import asyncio
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

SKIP = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Skip", callback_data="k")]]
)


async def on_press(query: CallbackQuery, bot: Bot) -> None:
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    await message.edit_text(f"{message.text}\n\nYour answer: {query.data}")
    await bot.send_message(
        message.chat.id, "Thank you! What was the main reason?", reply_markup=SKIP
    )


async def main(base_url: str, token: str) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    dp = Dispatcher()
    dp.callback_query.register(on_press)
    await dp.start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
