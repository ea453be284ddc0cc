"""The few error types the core raises; edges turn them into polite replies or HTTP errors."""


class SurveyError(Exception):
    """Base of every error raised by the pure core."""


class InvalidDefinition(SurveyError):
    """A survey, trigger or duration in the configuration is malformed."""


class InvalidAnswer(SurveyError):
    """A score outside the scale or an answer to a question that is not being asked."""


class StaleAnswer(InvalidAnswer):
    """The question was already answered, or the survey has moved on, finished or expired."""
