"""The ``LLMClient`` seam: ``complete(messages, tools) -> Completion``.

Adapters (OpenAI SDK, LangChain) translate their SDK's types and exceptions here: above this seam
nothing imports ``openai`` or ``langchain``, and every endpoint failure is an ``agent.errors.LLMError``.
A tool call whose arguments are not valid JSON is still returned, with ``arguments=None`` and
``error`` set, so the loop can hand the mistake back to the model as an observation.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ToolCall(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    name: str
    arguments: dict[str, Any] | None = None  # None when raw_arguments is not a JSON object
    raw_arguments: str = ""
    error: str | None = None  # why arguments could not be read


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None  # for role == "tool"
    name: str | None = None


class ToolSpec(BaseModel):
    """A tool as the model sees it: name, description, JSON schema of the arguments."""

    model_config = ConfigDict(frozen=True)
    name: str
    description: str
    parameters: dict[str, Any]


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Completion(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None


class LLMClient(abc.ABC):
    """One chat-completion endpoint. Implementations: openai_client, langchain_client, scripted, cache."""

    model: str = ""

    @abc.abstractmethod
    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        tool_choice: str | None = None,
        temperature: float | None = None,
    ) -> Completion:
        """One completion. ``tool_choice``: None (model decides), "required", or a tool name.
        Raises ``agent.errors.LLMError`` subclasses for endpoint failures, never SDK exceptions."""

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = (), **kw: Any
    ) -> Iterator[str | Completion]:
        """Text chunks as they arrive, then the full ``Completion`` last. Default: no streaming."""
        completion = self.complete(messages, tools, **kw)
        if completion.text:
            yield completion.text
        yield completion

    def close(self) -> None:
        """Release network resources. Default: nothing."""
