"""Free-text chat: the LLM answers and steers through tools; nothing it asks for happens unapproved.

``LLMAssistant.reply`` runs a bounded tool loop on an ``LLMClient``. The model sees the agent's own tools
(agent_tools.py: the ones the hybrid loop uses) and the chat's (chat_tools.py), plus, in the terminal,
``draft_study`` (a request in plain words becomes a spec through the agent's structured output).

Contract (the person stays in charge, whatever the model or a prompt injection in a trial's output says):

* No tool has a side effect the person has not approved: starting, stopping, pausing or resuming a study
  and budget or search-space changes are only *proposed* (approvals.py, ``Conversation.propose_start``);
  nothing changes before the person sends /approve.
* Every call the model makes is shown as it happens, and every proposal in full (shown.py), not only its
  prose. Model text is cleaned of control sequences.
* The model's mistakes (unknown tool, bad arguments) go back to it as observations. When the turn breaks
  (the endpoint fails, the answer is empty, no final answer after ``MAX_STEPS`` rounds), the reply says so
  in one line and the prose the model left behind is not shown. Text is shown once the model's step is
  complete, so a step that turns out broken leaves nothing misleading on screen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import LLMError, TunesmithError
from agent.faces.chat import shown
from agent.faces.chat.agent_tools import agent_toolbox
from agent.faces.chat.chat_tools import ChatTool, chat_tools
from agent.llm.base import Completion, LLMClient, Message, ToolCall, ToolSpec
from agent.llm.usage import UsageMeter
from tools.toolbox import Toolbox

if TYPE_CHECKING:
    from agent.faces.chat.conversation import Conversation

MAX_STEPS = 8  # tool rounds per message, so a confused model cannot loop forever
MAX_HISTORY = 24  # messages kept between turns (bounded prompt)


class DraftArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request: str = Field(min_length=5, max_length=2000, description="the person's request, in their words")


def system_prompt() -> str:
    return resources.files("prompts").joinpath("chat_system.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Outcome:
    """One tool call, done: what the model reads back, and the mistake it made (None when fine)."""

    observation: str
    mistake: str | None = None


class LLMAssistant:
    """The chat's model. ``endpoint``: the base URL it talks to (None: OpenAI itself, or a script)."""

    def __init__(
        self,
        client: LLMClient,
        *,
        endpoint: str | None = None,
        scripted: bool = False,
        meter: UsageMeter | None = None,
        temperature: float | None = 0.0,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.scripted = scripted
        self.meter = meter  # the chat's own calls; added to the open study's usage (meta ``chat_usage``)
        self.temperature = temperature  # as tuning: 0 unless the settings say otherwise
        self.history: list[Message] = []

    @property
    def label(self) -> str:
        """Which model answers, and where: for banners."""
        if self.scripted:
            return "scripted replies (--llm-script)"
        return f"{self.client.model or 'the default model'} at {self.endpoint or 'api.openai.com'}"

    def check(self) -> str | None:
        """None when the endpoint answers a cheap request (probe.py); else one line saying why not."""
        if self.scripted:
            return None
        from agent.faces.chat.probe import unreachable

        return unreachable(self.endpoint)

    def _context(self, conv: Conversation) -> str:
        """The open study as the model needs it: the task context (as the tuning agent sees it), the current
        search space and a status line; bounded (agent/hybrid/context.py)."""
        if conv.handle is None:
            return "No study is open. The person can /start SPEC or /open STUDY."
        from agent.hybrid.context import task_context

        info = conv.handle.status()
        spec = conv.handle.spec
        metrics = {m for t in conv.handle.trials()[-50:] for m in t.metrics}
        status = {
            k: info.get(k) for k in ("name", "status", "metric", "direction", "budget", "done", "best", "running")
        }
        return "\n\n".join(
            [
                task_context(spec, metrics=metrics),
                "Search space now: " + json.dumps(conv.handle.space.describe(), default=str),
                "Open study: " + json.dumps(status, default=str),
            ]
        )

    def _count(self, conv: Conversation, before: dict[str, Any]) -> None:
        """Add this answer's tokens and cost to the open study's chat usage (shown with the study's usage)."""
        if self.meter is None or conv.handle is None or not conv.handle.writable:
            return
        after = self.meter.snapshot()
        delta = {
            k: after.get(k, 0) - before.get(k, 0)
            for k in ("prompt_tokens", "completion_tokens", "total_tokens", "cost", "calls")
        }
        if not delta["calls"]:
            return
        stored = dict(conv.handle.store.get_meta("chat_usage") or {})
        for key, value in delta.items():
            stored[key] = stored.get(key, 0) + value
        stored["cost_known"] = bool(stored.get("cost_known", True)) and bool(after.get("cost_known", True))
        try:
            conv.handle.store.set_meta("chat_usage", stored)
        except Exception:  # a read-only or busy database: the answer still stands, the count is lost
            return

    def _draft(self, conv: Conversation, args: DraftArgs) -> str:
        from agent.hybrid.request import draft_spec

        drafted = draft_spec(args.request, self.client, cwd=Path.cwd(), llm={"model": self.client.model or None})
        return conv.propose_start(drafted.spec, notes=drafted.warnings)

    def _tools(self, conv: Conversation) -> tuple[dict[str, ChatTool], Toolbox | None, list[ToolSpec]]:
        mine = {t.name: t for t in chat_tools(conv)}
        if conv.allow_paths:  # the terminal only: the web app never starts scripts named in a message
            mine["draft_study"] = ChatTool(
                "draft_study",
                "Draft a new study from the person's request in plain "
                "words (script, metric, parameters, budget); it starts only after "
                "the person approves.",
                DraftArgs,
                lambda a: self._draft(conv, a),
            )
        box = agent_toolbox(conv.handle, model=self.client.model) if conv.handle is not None else None
        specs = [ToolSpec(**spec) for spec in (box.specs() if box else [])]
        specs += [
            ToolSpec(name=t.name, description=t.description, parameters=t.args.model_json_schema())
            for t in mine.values()
            if box is None or t.name not in box.names
        ]
        return mine, box, specs

    def _messages(self, conv: Conversation) -> list[Message]:
        window = self.history[-MAX_HISTORY:]
        while window and window[0].role == "tool":  # a cut between a call and its result confuses endpoints
            window = window[1:]
        return [Message(role="system", content=system_prompt() + "\n\n" + self._context(conv)), *window]

    def reply(self, conv: Conversation, text: str) -> Iterator[str]:
        """The answer to one message: a line per tool call as it happens, then the model's prose, or one
        line saying why there is no answer (module docstring)."""
        mine, box, specs = self._tools(conv)
        self.history.append(Message(role="user", content=text))
        prose: list[str] = []
        for _ in range(MAX_STEPS):
            before = self.meter.snapshot() if self.meter else {}
            try:
                completion = self.client.complete(self._messages(conv), specs, temperature=self.temperature)
            except LLMError as exc:
                yield shown.failure(f"the LLM endpoint failed ({exc})")
                return
            finally:
                self._count(conv, before)
            self.history.append(Message(role="assistant", content=completion.text, tool_calls=completion.tool_calls))
            said = shown.clean(completion.text)
            if not completion.tool_calls:
                if not said:
                    yield shown.failure("the model sent an empty answer")
                    return
                yield "\n\n".join([*prose, said])
                return
            if said:
                prose.append(said)
            for call in completion.tool_calls:
                outcome = self._run(box, mine, call)
                self.history.append(
                    Message(role="tool", tool_call_id=call.id, name=call.name, content=outcome.observation)
                )
                lines = [shown.call_line(call, outcome.mistake)]
                proposed = None if outcome.mistake else shown.proposal(call, outcome.observation)
                if proposed:
                    lines.append(proposed)
                yield "\n".join(lines) + "\n"
        yield shown.failure(f"the model did not finish after {MAX_STEPS} rounds of tool calls")

    def _run(self, box: Toolbox | None, tools: dict[str, ChatTool], call: ToolCall) -> Outcome:
        if box is not None and call.name in box.names:
            result = box.call(call.name, call.arguments, call.error)
            problem = result.data.get("error") if result.mistake and isinstance(result.data, dict) else None
            return Outcome(result.content, str(problem or result.mistake) if result.mistake else None)
        tool = tools.get(call.name)
        if tool is None:
            return _mistake(f"unknown tool {call.name!r}; available: {', '.join(tools)}")
        if call.arguments is None:
            return _mistake(f"arguments are not a JSON object ({call.error}); send valid JSON")
        try:
            args = tool.args.model_validate(call.arguments)
        except ValueError as exc:
            first = str(exc).splitlines()
            return _mistake(f"bad arguments for {call.name}: {' '.join(first[:3])}")
        try:
            return Outcome(tool(args))
        except TunesmithError as exc:  # the person's or the model's mistake, not a bug: tell the model
            return _mistake(str(exc))


def _mistake(message: str) -> Outcome:
    return Outcome(f"error: {message}", mistake=message)


def load_script(path: Path) -> LLMClient:
    """A ``ScriptedClient`` replaying completions from a JSON list (for tests and demos)."""
    from agent.llm.scripted import ScriptedClient

    steps: Sequence[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    completions = []
    for step in steps:
        calls = [
            ToolCall(
                id=c.get("id", f"call{i}"),
                name=c["name"],
                arguments=c.get("arguments", {}),
                raw_arguments=json.dumps(c.get("arguments", {})),
            )
            for i, c in enumerate(step.get("tool_calls", []))
        ]
        completions.append(Completion(text=step.get("text"), tool_calls=calls))
    return ScriptedClient(completions, exhausted=Completion(text="(the scripted model has nothing more to say)"))


def connect(*, model: str | None = None, script: Path | None = None) -> LLMAssistant | None:
    """The assistant for this chat, or None when no LLM is configured (slash-commands still work).

    Settings come from ``--model``, ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` or the config file (see
    agent/llm/settings.py); the client stack retries, meters usage and keeps secrets out of prompts."""
    if script is not None:
        return LLMAssistant(load_script(script), scripted=True)
    from agent.llm.factory import build_stack
    from agent.llm.settings import resolve_settings

    settings = resolve_settings(model=model)
    if not settings.configured:
        return None
    meter = UsageMeter(prices=settings.prices)
    return LLMAssistant(
        build_stack(settings, meter=meter).client,
        endpoint=settings.base_url,
        meter=meter,
        temperature=settings.temperature,
    )
