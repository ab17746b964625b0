"""``ScriptedClient``: the fake ``LLMClient`` for tests — replies from a script, records every request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agent.errors import LLMError
from agent.llm.base import Completion, LLMClient, Message, ToolSpec

Step = Completion | LLMError | Callable[[Sequence[Message], Sequence[ToolSpec]], Completion]


class ScriptedClient(LLMClient):
    """Returns (or raises) the scripted steps in order; when the script runs out, ``exhausted`` decides:
    a final Completion to repeat, or an LLMError to raise."""

    def __init__(
        self, steps: Sequence[Step], *, model: str = "scripted", exhausted: Completion | LLMError | None = None
    ) -> None:
        self.steps = list(steps)
        self.model = model
        self.exhausted = exhausted
        self.requests: list[tuple[list[Message], list[ToolSpec]]] = []

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        tool_choice: str | None = None,
        temperature: float | None = None,
    ) -> Completion:
        self.requests.append((list(messages), list(tools)))
        step: Any = self.steps.pop(0) if self.steps else self.exhausted
        if step is None:
            raise LLMError("the scripted client ran out of steps")
        if isinstance(step, LLMError):
            raise step
        if callable(step) and not isinstance(step, Completion):
            step = step(messages, tools)
        result: Completion = step.model_copy(update={"model": step.model or self.model})
        return result
