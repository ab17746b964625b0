"""``RetryingClient``: retries an ``LLMClient`` on transient endpoint failures, with exponential backoff.

Retried: timeouts, rate limits (waiting at least what the server's ``Retry-After`` asked) and
unavailability (connection refused, HTTP 5xx). Not retried: bad responses (a 4xx will not change) and
an exhausted budget. After the last attempt the last error is raised unchanged; the caller (the hybrid
loop) then falls back to the classical strategy.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from agent.errors import LLMBudgetExhausted, LLMError, LLMRateLimited, LLMTimeout, LLMUnavailable
from agent.llm.base import Completion, LLMClient, Message, ToolSpec

RETRIED = (LLMTimeout, LLMRateLimited, LLMUnavailable)


class RetryingClient(LLMClient):
    def __init__(
        self,
        inner: LLMClient,
        *,
        retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[int, LLMError, float], None] | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.inner = inner
        self.model = inner.model
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.on_retry = on_retry

    def delay(self, attempt: int, error: LLMError) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        wait = float(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
        if isinstance(error, LLMRateLimited) and error.retry_after is not None:
            wait = max(wait, min(error.retry_after, self.max_backoff))
        return wait

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = (), **kw: Any) -> Completion:
        attempt = 0
        while True:
            try:
                return self.inner.complete(messages, tools, **kw)
            except LLMBudgetExhausted:
                raise
            except RETRIED as exc:
                attempt += 1
                if attempt > self.retries:
                    raise
                wait = self.delay(attempt, exc)
                if self.on_retry is not None:
                    self.on_retry(attempt, exc, wait)
                self.sleep(wait)

    def close(self) -> None:
        self.inner.close()
