"""How long to wait before trying again after a failure: exponential backoff. Pure time maths.

One policy for every retry loop (the rate limiter's network retries, getUpdates, a prompt that
could not be sent, a staff chat that refuses alerts), each with its own numbers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidDefinition


@dataclass(frozen=True, slots=True)
class Backoff:
    """`first` seconds after the first failure, `factor` times longer after each next one, never
    more than `cap` seconds.

    `jitter` is the share of each delay drawn at random, so that many clients failing together
    do not retry together: the delay is uniform in [d * (1 - jitter), d], d being the delay
    without jitter. 0 (the default) is none; 1 is "full jitter" (anywhere in [0, d]); 0.2 is a
    proportional spread (between 80% and 100% of d). The cap holds with jitter too. An outbound
    webhook would use Backoff(first=10, cap=6 * 3600, jitter=1).
    """

    first: float
    cap: float = math.inf
    factor: float = 2.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        # `not x > y` rather than `x <= y`, so that NaN is refused too.
        if not self.first > 0:
            raise InvalidDefinition(f"backoff: the first delay must be positive, got {self.first}")
        if not self.factor >= 1:
            raise InvalidDefinition(f"backoff: the factor must be at least 1, got {self.factor}")
        if not self.cap >= self.first:
            raise InvalidDefinition(
                f"backoff: the cap ({self.cap}) is below the first delay ({self.first})"
            )
        if not 0 <= self.jitter <= 1:
            raise InvalidDefinition(f"backoff: jitter must be within 0..1, got {self.jitter}")

    def delay(self, attempt: int, rand: Callable[[], float] | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (1 for the first failure).

        `rand` returns a float in [0, 1) (default: random.random); it is called only with jitter.
        """
        if attempt < 1:
            raise ValueError(f"attempt counts failures from 1, got {attempt}")
        try:
            base = min(self.first * self.factor ** (attempt - 1), self.cap)
        except OverflowError:  # a loop that failed for days: long past the cap
            base = self.cap
        if self.jitter == 0 or math.isinf(base):
            return base
        return base * (1 - self.jitter * (rand or random.random)())
