"""The few error types the core raises; edges turn them into polite replies or HTTP errors."""

from enum import StrEnum


class SurveyError(Exception):
    """Base of every error raised by the pure core."""


class InvalidDefinition(SurveyError):
    """A survey, trigger or duration in the configuration is malformed."""


class InvalidAnswer(SurveyError):
    """A score outside the scale or an answer to a question that is not being asked."""


class Staleness(StrEnum):
    """Why an answer came too late: what the customer is told differs for each."""

    CLOSED = "closed"  # the invitation is no longer active (finished, expired, cancelled)
    EXPIRED = "expired"  # still active, but asked longer ago than `expire_after`
    MOVED_ON = "moved_on"  # the survey is at another question or phase


class StaleAnswer(InvalidAnswer):
    """The question was already answered, or the survey has moved on, finished or expired."""

    def __init__(self, reason: Staleness, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class EventConflict(SurveyError):
    """An event_id came again with a different body: the caller reused an id by mistake."""

    def __init__(self, event_id: str, invitation_id: int | None) -> None:
        # invitation_id is None while the first event still waits for its customer's link.
        super().__init__(f"event_id {event_id!r} was already used with a different body")
        self.event_id, self.invitation_id = event_id, invitation_id
