"""``OpenAIClient``: the ``LLMClient`` adapter for any OpenAI-compatible chat-completions endpoint.

OpenAI itself, vLLM, Ollama, llama.cpp's server, LM Studio ...: anything that speaks ``/v1/chat/completions``
with tools. The SDK's own retries are off (``max_retries=0``): ``RetryingClient`` (agent/llm/retry.py)
retries for every adapter the same way. SDK exceptions never leave this module (``translate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.errors import LLMBadResponse, LLMUnavailable
from agent.llm.base import Completion, LLMClient, Message, ToolSpec, Usage
from agent.llm.translate import translate
from agent.llm.wire import message_dict, parse_tool_call, tool_choice_value, tool_dict


class OpenAIClient(LLMClient):
    """One model on one endpoint. ``api_key`` is handed to the SDK only; it is never stored elsewhere."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_tokens: int | None = None,
    ) -> None:
        import openai

        if not model:
            raise LLMUnavailable(
                "no model named; pass --model NAME (e.g. gpt-4o-mini, or the name your server lists at /v1/models)"
            )
        self.model = model
        self.base_url = base_url
        self.max_tokens = max_tokens
        # Local servers (Ollama, llama.cpp, vLLM) accept any key; the SDK insists on one.
        self._sdk = openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=0)
        self._endpoint = f"the LLM endpoint {base_url or 'api.openai.com'}"

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        tool_choice: str | None = None,
        temperature: float | None = None,
    ) -> Completion:
        kwargs: dict[str, Any] = {"model": self.model, "messages": [message_dict(m) for m in messages]}
        if tools:
            kwargs["tools"] = [tool_dict(t) for t in tools]
            if tool_choice is not None:
                kwargs["tool_choice"] = tool_choice_value(tool_choice)
        if temperature is not None:
            kwargs["temperature"] = temperature
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        try:
            response = self._sdk.chat.completions.create(**kwargs)
        except Exception as exc:
            mapped = translate(exc, endpoint=self._endpoint)
            if mapped is None:
                raise
            raise mapped from exc
        return self._completion(response)

    def _completion(self, response: Any) -> Completion:
        choices = getattr(response, "choices", None)
        if not choices:
            raise LLMBadResponse(f"{self._endpoint} answered without any choice; check that it serves chat completions")
        msg = choices[0].message
        calls = []
        for i, c in enumerate(getattr(msg, "tool_calls", None) or []):
            fn = getattr(c, "function", None)
            if fn is None:
                continue
            calls.append(parse_tool_call(c.id or f"call_{i}", fn.name or "", fn.arguments))
        usage = getattr(response, "usage", None)
        return Completion(
            text=msg.content or None,
            tool_calls=calls,
            usage=Usage(
                prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            ),
            model=getattr(response, "model", None) or self.model,
            finish_reason=choices[0].finish_reason,
        )

    def close(self) -> None:
        self._sdk.close()
