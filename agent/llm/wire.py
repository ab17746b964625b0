"""Our messages and tools in the OpenAI chat-completions wire format, and tool-call argument parsing.

Used by the OpenAI adapter (request bodies), the response cache (request keys) and the token estimate,
so all three see a request the same way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from agent.llm.base import Message, ToolCall, ToolSpec


def message_dict(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.role == "assistant" and m.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.raw_arguments or json.dumps(c.arguments or {})},
            }
            for c in m.tool_calls
        ]
    if m.role == "tool":
        out["tool_call_id"] = m.tool_call_id or ""
    if m.name and m.role != "tool":
        out["name"] = m.name
    return out


def tool_dict(t: ToolSpec) -> dict[str, Any]:
    return {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}


def tool_choice_value(tool_choice: str | None) -> Any:
    """``None``/"auto"/"none"/"required" pass through; anything else names the one tool to call."""
    if tool_choice is None or tool_choice in ("auto", "none", "required"):
        return tool_choice
    return {"type": "function", "function": {"name": tool_choice}}


def parse_tool_call(call_id: str, name: str, raw: str | None) -> ToolCall:
    """A ``ToolCall``; arguments that are not a JSON object give ``arguments=None`` and ``error``."""
    raw = raw or ""
    if not raw.strip():
        return ToolCall(id=call_id, name=name, arguments={}, raw_arguments=raw)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return ToolCall(
            id=call_id,
            name=name,
            raw_arguments=raw,
            error=f"arguments are not valid JSON ({exc.msg} at position {exc.pos})",
        )
    if not isinstance(value, dict):
        return ToolCall(
            id=call_id,
            name=name,
            raw_arguments=raw,
            error=f"arguments must be a JSON object, got {type(value).__name__}",
        )
    return ToolCall(id=call_id, name=name, arguments=value, raw_arguments=raw)


def request_json(messages: Sequence[Message], tools: Sequence[ToolSpec], **options: Any) -> str:
    """A canonical JSON text of a request (sorted keys): what the cache hashes."""
    body = {"messages": [message_dict(m) for m in messages], "tools": [tool_dict(t) for t in tools], **options}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)


def estimate_tokens(messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> int:
    """Prompt tokens, estimated as characters / 4 of the wire format (no tokenizer download needed).

    Used where the endpoint reports no usage (the scripted client) and by the benchmark; real
    endpoints' own counts are recorded when they give them.
    """
    chars = sum(len(json.dumps(message_dict(m))) for m in messages) + sum(len(json.dumps(tool_dict(t))) for t in tools)
    return math.ceil(chars / 4)
