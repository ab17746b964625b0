"""One LLM decision: a short tool-calling conversation that ends with ``k`` valid proposals, or not.

The conversation starts from the prompt the hybrid built (system + study summary) and runs at most
``max_steps`` model calls. Each tool call is answered with the tool's observation. Model mistakes (bad
JSON, unknown tool, invalid or repeated configuration, an answer without a tool call) go back to the
model as observations; ``max_mistakes`` of them in a row end the decision. An endpoint failure ends
it at once. Whatever valid proposals were accepted before the end are kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.core.events import EventData, LlmMistake, ToolCall
from agent.core.records import TrialDraft
from agent.errors import LLMBudgetExhausted, LLMError
from agent.hybrid.prompting import render
from agent.llm.base import LLMClient, Message, ToolSpec
from tools.toolbox import Toolbox

ARGS_IN_EVENTS = 600


@dataclass(frozen=True)
class Limits:
    max_steps: int = 6
    max_mistakes: int = 3
    temperature: float | None = 0.0


@dataclass
class BatchSink:
    """Collects the accepted proposals of one decision, up to ``k``."""

    k: int
    drafts: list[TrialDraft] = field(default_factory=list)
    full_note = "all requested configurations are already accepted; stop proposing"

    def capacity(self) -> int | None:
        return self.k - len(self.drafts)

    def put(self, drafts: list[TrialDraft]) -> list[str]:
        start = len(self.drafts)
        self.drafts.extend(drafts)
        return [f"config {start + i}: accepted, runs as a new trial" for i in range(len(drafts))]


@dataclass
class Outcome:
    drafts: list[TrialDraft]
    steps: int = 0
    mistakes: int = 0
    consecutive: int = 0
    finished: str | None = None  # the model's recommendation when it called finish
    failure: str | None = None  # why the LLM did not fill its slots
    failure_kind: str | None = None  # mistakes | endpoint | budget | steps


def _clip(text: str, limit: int = ARGS_IN_EVENTS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_decision(
    client: LLMClient,
    toolbox: Toolbox,
    sink: BatchSink,
    messages: list[Message],
    *,
    emit: Callable[[EventData], Any],
    limits: Limits = Limits(),
    consecutive: int = 0,
) -> Outcome:
    """Talk to the model until ``sink`` holds ``sink.k`` drafts, it finishes, or it fails (module docstring)."""
    out = Outcome(drafts=sink.drafts, consecutive=consecutive)
    msgs = list(messages)

    def mistake(kind: str, detail: str) -> None:
        out.mistakes += 1
        out.consecutive += 1
        emit(LlmMistake(kind=kind, detail=_clip(detail, 300), consecutive=out.consecutive, model=client.model))

    while len(sink.drafts) < sink.k:
        if out.steps >= limits.max_steps:
            out.failure, out.failure_kind = (f"no complete proposal after {limits.max_steps} model calls", "steps")
            return out
        out.steps += 1
        # Rebuilt every step: an edit approved a step ago changes run_trials' ranges in the schema too.
        specs = [ToolSpec(**s) for s in toolbox.specs()]
        try:
            completion = client.complete(msgs, specs, temperature=limits.temperature)
        except LLMBudgetExhausted as exc:
            out.failure, out.failure_kind = str(exc), "budget"
            return out
        except LLMError as exc:
            out.failure, out.failure_kind = str(exc), "endpoint"
            return out
        msgs.append(Message(role="assistant", content=completion.text, tool_calls=completion.tool_calls))
        if not completion.tool_calls:
            mistake("no_tool_call", completion.text or "(empty answer)")
            msgs.append(
                Message(role="user", content=render("hybrid_nudge", reason="no_tool_call", k=sink.k - len(sink.drafts)))
            )
        had = len(sink.drafts)
        for call in completion.tool_calls:
            result = toolbox.call(call.name, call.arguments, call.error)
            emit(
                ToolCall(
                    tool=call.name,
                    arguments=_clip(call.raw_arguments or json.dumps(call.arguments)),
                    mistake=result.mistake,
                    result=_clip(result.content, 300),
                    model=client.model,
                )
            )
            msgs.append(Message(role="tool", tool_call_id=call.id, name=call.name, content=result.content))
            if result.mistake:
                mistake(result.mistake, result.content)
            else:
                out.consecutive = 0
            if result.done:
                out.finished = str((call.arguments or {}).get("recommendation", ""))
        if out.finished is not None:
            return out
        if out.consecutive >= limits.max_mistakes:
            out.failure, out.failure_kind = f"{out.consecutive} mistakes in a row", "mistakes"
            return out
        if had < len(sink.drafts) < sink.k:  # some accepted, more wanted: say how many
            msgs.append(
                Message(role="user", content=render("hybrid_nudge", reason="still_need", k=sink.k - len(sink.drafts)))
            )
    return out
