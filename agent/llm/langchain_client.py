"""``LangChainClient``: the ``LLMClient`` adapter for any LangChain chat model that supports ``bind_tools``.

ChatOpenAI, ChatAnthropic, ChatOllama ...: whatever the user already configured in LangChain. Tool calls
LangChain could not parse (``invalid_tool_calls``) come back as ``ToolCall(arguments=None, error=...)``
so the loop can hand the mistake to the model. Provider exceptions are translated (``translate``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agent.errors import DependencyError, LLMBadResponse
from agent.llm.base import Completion, LLMClient, Message, ToolCall, ToolSpec, Usage
from agent.llm.translate import translate
from agent.llm.wire import parse_tool_call, tool_dict


def _lc_messages(messages: Sequence[Message]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    out: list[Any] = []
    for m in messages:
        if m.role == "system":
            out.append(SystemMessage(content=m.content or ""))
        elif m.role == "user":
            out.append(HumanMessage(content=m.content or ""))
        elif m.role == "tool":
            out.append(ToolMessage(content=m.content or "", tool_call_id=m.tool_call_id or ""))
        else:
            good = [
                {"name": c.name, "args": c.arguments, "id": c.id, "type": "tool_call"}
                for c in m.tool_calls
                if c.arguments is not None
            ]
            bad = [
                {"name": c.name, "args": c.raw_arguments, "id": c.id, "error": c.error, "type": "invalid_tool_call"}
                for c in m.tool_calls
                if c.arguments is None
            ]
            out.append(AIMessage(content=m.content or "", tool_calls=good, invalid_tool_calls=bad))
    return out


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content or None
    if isinstance(content, list):  # content blocks
        parts = [
            b if isinstance(b, str) else str(b.get("text", ""))
            for b in content
            if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
        ]
        return "".join(parts) or None
    return None


class LangChainClient(LLMClient):
    """Wraps a LangChain ``BaseChatModel``; ``model`` is its model name when it tells one."""

    def __init__(self, chat_model: Any, *, model: str | None = None) -> None:
        try:
            import langchain_core  # noqa: F401
        except ImportError:  # pragma: no cover - a core dependency
            raise DependencyError("the LangChain adapter needs langchain-core: pip install langchain-core") from None
        if not hasattr(chat_model, "bind_tools"):
            raise TypeError(
                f"{type(chat_model).__name__} has no bind_tools(); use a chat model that supports tool calling"
            )
        self.chat_model = chat_model
        self.model = model or str(
            getattr(chat_model, "model_name", None) or getattr(chat_model, "model", "") or type(chat_model).__name__
        )

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        tool_choice: str | None = None,
        temperature: float | None = None,
    ) -> Completion:
        runnable: Any = self.chat_model
        if tools:
            kwargs: dict[str, Any] = {}
            if tool_choice is not None:
                kwargs["tool_choice"] = tool_choice
            runnable = runnable.bind_tools([tool_dict(t) for t in tools], **kwargs)
        invoke_kw: dict[str, Any] = {}
        if temperature is not None:
            invoke_kw["temperature"] = temperature
        try:
            reply = runnable.invoke(_lc_messages(messages), **invoke_kw)
        except Exception as exc:
            mapped = translate(exc, endpoint=f"the LangChain model {self.model}")
            if mapped is None:
                raise
            raise mapped from exc
        return self._completion(reply)

    def _completion(self, reply: Any) -> Completion:
        if not hasattr(reply, "tool_calls"):
            raise LLMBadResponse(
                f"the LangChain model {self.model} returned {type(reply).__name__}, not a chat message"
            )
        calls: list[ToolCall] = []
        for i, c in enumerate(reply.tool_calls or []):
            args = c.get("args")
            calls.append(
                ToolCall(
                    id=c.get("id") or f"call_{i}",
                    name=c.get("name") or "",
                    arguments=args if isinstance(args, dict) else None,
                    raw_arguments=json.dumps(args),
                    error=None if isinstance(args, dict) else "arguments must be a JSON object",
                )
            )
        for i, c in enumerate(getattr(reply, "invalid_tool_calls", None) or []):
            parsed = parse_tool_call(c.get("id") or f"invalid_{i}", c.get("name") or "", c.get("args"))
            if parsed.error is None:  # LangChain rejected it for another reason
                parsed = parsed.model_copy(update={"arguments": None, "error": str(c.get("error") or "invalid")})
            calls.append(parsed)
        meta = getattr(reply, "usage_metadata", None) or {}
        info = getattr(reply, "response_metadata", None) or {}
        return Completion(
            text=_text(reply.content),
            tool_calls=calls,
            usage=Usage(
                prompt_tokens=int(meta.get("input_tokens", 0) or 0),
                completion_tokens=int(meta.get("output_tokens", 0) or 0),
            ),
            model=str(info.get("model_name") or info.get("model") or self.model),
            finish_reason=info.get("finish_reason"),
        )
