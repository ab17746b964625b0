"""Token and cost accounting for a study's LLM calls, and the optional token/cost budget.

``MeteredClient`` wraps a client: every completion adds its tokens (as the endpoint reported them, or
estimated as characters / 4 when it reported none) and its cost (from a price table in USD per million
tokens, matched on the longest model-name prefix) to a ``UsageMeter``. Once a budget is spent, the next
call raises ``LLMBudgetExhausted`` and the hybrid loop lets the strategy continue alone.

The meter's totals are what ``tunesmith status`` shows (store meta ``usage``)::

    {"prompt_tokens": ..., "completion_tokens": ..., "total_tokens": ..., "cost": ..., "calls": ...,
     "estimated_calls": ..., "cost_known": true}
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent.core.spec import Price
from agent.errors import LLMBudgetExhausted
from agent.llm.base import Completion, LLMClient, Message, ToolSpec, Usage
from agent.llm.wire import estimate_tokens

#: List prices (USD per 1M tokens) of a few common hosted models; override or extend with ``llm.prices``.
#: Local servers (Ollama, vLLM, llama.cpp) cost nothing per token: give them ``{prompt: 0, completion: 0}``.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(prompt=0.15, completion=0.60),
    "gpt-4o": Price(prompt=2.50, completion=10.00),
    "gpt-4.1-mini": Price(prompt=0.40, completion=1.60),
    "gpt-4.1-nano": Price(prompt=0.10, completion=0.40),
    "gpt-4.1": Price(prompt=2.00, completion=8.00),
}


def find_price(model: str, prices: Mapping[str, Price]) -> Price | None:
    """The price of ``model``: exact name first, then the longest table entry it starts with."""
    if model in prices:
        return prices[model]
    best = max((name for name in prices if model.startswith(name)), key=len, default=None)
    return prices[best] if best is not None else None


class UsageMeter:
    """Running totals; ``on_change`` receives them after every call (to persist them)."""

    def __init__(
        self,
        *,
        prices: Mapping[str, Price] | None = None,
        max_tokens: int | None = None,
        max_cost: float | None = None,
        initial: Mapping[str, Any] | None = None,
        on_change: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.prices = {**DEFAULT_PRICES, **(prices or {})}
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.on_change = on_change
        self._lock = threading.Lock()
        base = dict(initial or {})
        self.totals: dict[str, Any] = {
            "prompt_tokens": int(base.get("prompt_tokens", 0)),
            "completion_tokens": int(base.get("completion_tokens", 0)),
            "total_tokens": int(base.get("total_tokens", 0)),
            "cost": float(base.get("cost", 0.0)),
            "calls": int(base.get("calls", 0)),
            "estimated_calls": int(base.get("estimated_calls", 0)),
            "cost_known": bool(base.get("cost_known", True)),
        }

    def add(self, usage: Usage, model: str, *, estimated: bool = False) -> None:
        price = find_price(model, self.prices)
        cost = (
            0.0
            if price is None
            else (usage.prompt_tokens * price.prompt + usage.completion_tokens * price.completion) / 1e6
        )
        with self._lock:
            t = self.totals
            t["prompt_tokens"] += usage.prompt_tokens
            t["completion_tokens"] += usage.completion_tokens
            t["total_tokens"] += usage.total_tokens
            t["cost"] = round(t["cost"] + cost, 8)
            t["calls"] += 1
            t["estimated_calls"] += int(estimated)
            t["cost_known"] = t["cost_known"] and price is not None
            snapshot = dict(t)
        if self.on_change is not None:
            self.on_change(snapshot)

    def exhausted(self) -> str | None:
        """Why the LLM budget is spent, or None while it is not."""
        t = self.totals
        if self.max_tokens is not None and t["total_tokens"] >= self.max_tokens:
            return f"the LLM token budget ({self.max_tokens} tokens) is spent ({t['total_tokens']} used)"
        if self.max_cost is not None and t["cost"] >= self.max_cost:
            return f"the LLM cost budget (${self.max_cost:g}) is spent (${t['cost']:.4f} used)"
        return None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self.totals)


def _completion_tokens(c: Completion) -> int:
    chars = len(c.text or "") + sum(
        len(tc.raw_arguments or json.dumps(tc.arguments)) + len(tc.name) for tc in c.tool_calls
    )
    return math.ceil(chars / 4)


class MeteredClient(LLMClient):
    def __init__(self, inner: LLMClient, meter: UsageMeter) -> None:
        self.inner = inner
        self.meter = meter
        self.model = inner.model

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = (), **kw: Any) -> Completion:
        reason = self.meter.exhausted()
        if reason:
            raise LLMBudgetExhausted(
                f"{reason}; the classical strategy continues alone (raise llm.max_tokens or llm.max_cost to allow more)"
            )
        completion = self.inner.complete(messages, tools, **kw)
        usage, estimated = completion.usage, False
        if usage.prompt_tokens == 0 and usage.completion_tokens == 0:
            usage = Usage(
                prompt_tokens=estimate_tokens(messages, tools), completion_tokens=_completion_tokens(completion)
            )
            estimated = True
        self.meter.add(usage, completion.model or self.model, estimated=estimated)
        return completion

    def close(self) -> None:
        self.inner.close()
