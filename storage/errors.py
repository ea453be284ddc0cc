"""What a backend raises that callers may act on, whichever backend it is."""


class Contention(Exception):
    """Two processes' transactions waited on each other (PostgreSQL found a deadlock) and this
    one was rolled back whole: nothing of it is stored, and running it again is safe."""
