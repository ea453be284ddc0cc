"""Gettext catalogues, one .po per language; a package only so they install with the bot."""
