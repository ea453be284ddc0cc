"""Around the app: start-up checks, the database opened, the heap tuned, profiles, CLI runs."""
