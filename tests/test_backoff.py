"""The one backoff policy: first delay, growth, cap, jitter bounds, and what it refuses."""

from __future__ import annotations

import math

import pytest

from bot.telegram.polling import BACKOFF as POLLING
from bot.telegram.ratelimit import NETWORK_BACKOFF as RATE_LIMITER
from bot.workers.alerts import BACKOFF as STAFF_CHAT
from bot.workers.delivery import PROMPT_BACKOFF as PROMPTS
from survey_flows.backoff import Backoff
from survey_flows.errors import InvalidDefinition

# The table starts with the policies of the bot's retry loops, so a change to their numbers
# shows here as a change of behaviour.


@pytest.mark.parametrize(
    ("policy", "attempt", "expected"),
    [
        (RATE_LIMITER, 1, 0.5),
        (RATE_LIMITER, 2, 1.0),
        (RATE_LIMITER, 4, 4.0),
        (RATE_LIMITER, 40, 0.5 * 2**39),  # no cap: the limiter's retry count bounds it
        (POLLING, 1, 1.0),
        (POLLING, 5, 16.0),
        (POLLING, 6, 30.0),  # 32 capped
        (POLLING, 1000, 30.0),
        (PROMPTS, 1, 30.0),
        (PROMPTS, 2, 60.0),
        (PROMPTS, 7, 1920.0),
        (PROMPTS, 8, 3600.0),  # 3840 capped
        (STAFF_CHAT, 1, 60.0),
        (STAFF_CHAT, 6, 1920.0),
        (STAFF_CHAT, 7, 3600.0),
        (Backoff(first=1.0, factor=3.0, cap=100.0), 3, 9.0),
        (Backoff(first=5.0, factor=1.0), 50, 5.0),  # factor 1: a constant delay
    ],
)
def test_delay_doubles_from_the_first_up_to_the_cap(
    policy: Backoff, attempt: int, expected: float
) -> None:
    assert policy.delay(attempt) == expected, f"after failure {attempt}, the wrong wait"


@pytest.mark.parametrize("attempt", [2_000, 10**6])
def test_a_loop_failing_for_days_waits_the_cap_instead_of_overflowing(attempt: int) -> None:
    assert STAFF_CHAT.delay(attempt) == 3600.0
    assert RATE_LIMITER.delay(attempt) == math.inf


@pytest.mark.parametrize(
    ("jitter", "draw", "expected"),
    [
        (0.0, 0.9, 40.0),  # no jitter: the draw is ignored
        (1.0, 0.0, 40.0),  # full jitter: anywhere in [0, d]
        (1.0, 0.5, 20.0),
        (1.0, 0.999, 40.0 * 0.001),
        (0.25, 0.0, 40.0),  # proportional: within [75%, 100%] of d
        (0.25, 0.5, 35.0),
        (0.25, 0.999, 40.0 * (1 - 0.25 * 0.999)),
    ],
)
def test_jitter_takes_its_share_of_the_delay(jitter: float, draw: float, expected: float) -> None:
    policy = Backoff(first=10.0, cap=100.0, jitter=jitter)
    assert policy.delay(3, rand=lambda: draw) == pytest.approx(expected)


@pytest.mark.parametrize("jitter", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("attempt", [1, 5, 20])
def test_random_jitter_stays_within_its_bounds_and_under_the_cap(
    jitter: float, attempt: int
) -> None:
    policy = Backoff(first=10.0, cap=6 * 3600.0, jitter=jitter)
    full = min(10.0 * 2 ** (attempt - 1), 6 * 3600.0)
    delays = [policy.delay(attempt) for _ in range(200)]
    assert all(full * (1 - jitter) <= d <= full for d in delays), (full, min(delays), max(delays))
    assert len(set(delays)) > 1, "jitter drew the same delay every time"


def test_without_jitter_no_random_number_is_drawn() -> None:
    def never() -> float:
        raise AssertionError("a delay without jitter drew a random number")

    assert PROMPTS.delay(3, rand=never) == 120.0


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_count_from_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="from 1"):
        POLLING.delay(attempt)


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"first": 0.0}, "first delay must be positive"),
        ({"first": -1.0}, "first delay must be positive"),
        ({"first": math.nan}, "first delay must be positive"),
        ({"first": 1.0, "factor": 0.5}, "factor must be at least 1"),
        ({"first": 10.0, "cap": 5.0}, "cap"),
        ({"first": 1.0, "jitter": -0.1}, "jitter"),
        ({"first": 1.0, "jitter": 1.5}, "jitter"),
    ],
)
def test_a_policy_that_cannot_work_is_refused(kwargs: dict[str, float], complaint: str) -> None:
    with pytest.raises(InvalidDefinition, match=complaint):
        Backoff(**kwargs)
