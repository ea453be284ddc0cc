"""The Telegram transport: rate limits, send and edit, the one reader of Telegram errors."""
