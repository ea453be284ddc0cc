"""Setting a bot up: `survey-bot init`, one-time claim codes, config.toml edits, command menus."""
