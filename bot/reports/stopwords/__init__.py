"""Stop words per language (en, ru, uk, zh), one per line: words /themes leaves out."""
