"""The integer states of rows that only storage reads, named; written as literals in the SQL.

IntEnum members format as their numbers, so `f"prompt_sent = {Prompt.DUE}"` stays a literal in
the statement: SQLite uses a partial index (`... WHERE prompt_sent = 0`) only for a literal.
"""

from __future__ import annotations

from enum import IntEnum


class Prompt(IntEnum):
    """invitations.prompt_sent: the current prompt (question, follow-up or thank-you)."""

    DUE = 0  # to be shown when due_at comes
    SHOWN = 1  # shown, or never to be (the invitation closed)
    SENDING = 2  # claimed by the delivery worker; the send may or may not have happened


class Reminder(IntEnum):
    """invitations.reminder_sent: the one reminder of a first question."""

    WAITING = 0  # due at remind_at, if that is set
    SENT = 1
    SENDING = 2  # claimed by the delivery worker
    REFUSED = 3  # refused for good: never again


class Post(IntEnum):
    """alerts.post_state: the alert in the staff chat."""

    WAITING = 0  # not posted yet (or to be posted again)
    POSTED = 1  # its card, or a line of a digest, is in the chat
    POSTING = 2  # claimed by the alert worker; the send may or may not have happened
