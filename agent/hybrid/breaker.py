"""A circuit breaker for the LLM: after a failure, skip it for a while, then try again.

Time is counted in hybrid *slots* (trials proposed), not seconds, so a replayed or resumed study
makes the same choices. After the ``k``-th failure in a row the LLM sits out ``cooldown * 2**(k-1)``
slots (at most ``max_cooldown``); one success closes the breaker again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CircuitBreaker:
    cooldown: int = 2
    max_cooldown: int = 16
    failures: int = 0
    opened_at: int | None = None

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    def wait(self) -> int:
        return int(min(self.max_cooldown, self.cooldown * 2 ** max(0, self.failures - 1)))

    def allows(self, slot: int) -> bool:
        """Whether the LLM may be asked at hybrid slot ``slot``."""
        return self.opened_at is None or slot >= self.opened_at + self.wait()

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def failure(self, slot: int) -> None:
        self.failures += 1
        self.opened_at = slot
