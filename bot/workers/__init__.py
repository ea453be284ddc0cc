"""Plain async loops over storage: the delivery outbox, the alert outbox, the report scheduler."""
