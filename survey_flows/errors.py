"""The few error types the core raises; edges turn them into polite replies or HTTP errors."""


class SurveyError(Exception):
    """Base of every error raised by the pure core."""


class InvalidDefinition(SurveyError):
    """A survey, trigger or duration in the configuration is malformed."""


class InvalidAnswer(SurveyError):
    """A score outside the scale or an answer to a question that is not being asked."""


class StaleAnswer(InvalidAnswer):
    """The question was already answered, or the survey has moved on, finished or expired."""


class EventConflict(SurveyError):
    """An event_id came again with a different body: the caller reused an id by mistake."""

    def __init__(self, event_id: str, invitation_id: int | None) -> None:
        # invitation_id is None while the first event still waits for its customer's link.
        super().__init__(f"event_id {event_id!r} was already used with a different body")
        self.event_id, self.invitation_id = event_id, invitation_id
