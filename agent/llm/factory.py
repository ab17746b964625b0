"""Build the client stack for a study from ``LLMSettings`` (the one place that picks LLM implementations).

Outermost first: ``RedactingClient`` (no secret leaves) → ``MeteredClient`` (tokens, cost, budget) →
``CachingClient`` (records every answer; or replays a recording with no network) → ``RetryingClient``
(backoff on 429/5xx/timeouts) → the adapter (``OpenAIClient``, or any ``LLMClient`` handed in, e.g. a
``LangChainClient``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.errors import LLMError, LLMUnavailable
from agent.llm.base import LLMClient
from agent.llm.cache import CachingClient
from agent.llm.redact import RedactingClient, Redactor, secret_values
from agent.llm.retry import RetryingClient
from agent.llm.settings import HOW_TO_CONNECT, LLMSettings
from agent.llm.usage import MeteredClient, UsageMeter


@dataclass
class ClientStack:
    client: LLMClient  # what the loop calls
    cache: CachingClient  # record_to(study_dir) once the folder exists
    meter: UsageMeter

    @property
    def model(self) -> str:
        return self.client.model

    def close(self) -> None:
        self.client.close()


def build_stack(
    settings: LLMSettings,
    *,
    meter: UsageMeter | None = None,
    adapter: LLMClient | None = None,
    replay: list[dict[str, Any]] | None = None,
    on_retry: Callable[[int, LLMError, float], None] | None = None,
) -> ClientStack:
    """The full stack. ``adapter`` replaces the OpenAI adapter; ``replay`` replaces the network entirely."""
    meter = meter or UsageMeter(prices=settings.prices)
    if replay is not None:
        cache = CachingClient(replay=replay, model=settings.model)
    else:
        if adapter is None:
            if not settings.configured:
                raise LLMUnavailable(f"no LLM is configured; {HOW_TO_CONNECT}")
            from agent.llm.openai_client import OpenAIClient

            adapter = OpenAIClient(
                model=settings.model or "",
                base_url=settings.base_url,
                api_key=settings.api_key.get_secret_value() if settings.api_key else None,
                timeout=settings.timeout,
            )
        retrying = RetryingClient(adapter, retries=settings.retries, backoff=settings.backoff, on_retry=on_retry)
        cache = CachingClient(retrying)
    key = settings.api_key.get_secret_value() if settings.api_key else None
    client = RedactingClient(MeteredClient(cache, meter), Redactor(secret_values(extra=[key])))
    return ClientStack(client=client, cache=cache, meter=meter)
