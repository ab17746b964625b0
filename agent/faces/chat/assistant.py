"""Free-text chat: the LLM answers and steers through tools, with a person's approval for changes.

``LLMAssistant.reply`` runs a bounded tool loop on an ``LLMClient`` (streamed text is yielded as it
comes). The model sees the agent's own tools (agent_tools.py: the ones the hybrid loop uses) and the
chat's (chat_tools.py), plus, in the terminal, ``draft_study`` (a request in plain words becomes a spec
through the agent's structured output). The model's mistakes (unknown tool, bad arguments) go back to it
as observations; endpoint failures raise ``LLMError``, which the conversation turns into one line. Tools
that would change the budget or the search space, or start a study, only *propose* it (approvals.py):
nothing changes before the person sends /approve.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import TunesmithError
from agent.faces.chat.agent_tools import agent_toolbox
from agent.faces.chat.chat_tools import ChatTool, chat_tools
from agent.llm.base import Completion, LLMClient, Message, ToolCall, ToolSpec

if TYPE_CHECKING:
    from agent.faces.chat.conversation import Conversation

MAX_STEPS = 8  # tool rounds per message, so a confused model cannot loop forever
MAX_HISTORY = 24  # messages kept between turns (bounded prompt)


class DraftArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request: str = Field(min_length=5, max_length=2000, description="the person's request, in their words")


def system_prompt() -> str:
    return resources.files("prompts").joinpath("chat_system.md").read_text(encoding="utf-8")


class LLMAssistant:
    def __init__(self, client: LLMClient) -> None:
        self.client = client
        self.history: list[Message] = []

    def _context(self, conv: Conversation) -> str:
        if conv.handle is None:
            return "No study is open. The person can /start SPEC or /open STUDY."
        info = conv.handle.status()
        return "Open study: " + json.dumps(
            {k: info[k] for k in ("name", "status", "metric", "direction", "budget", "done", "best", "running")},
            default=str,
        )

    def _draft(self, conv: Conversation, args: DraftArgs) -> str:
        from agent.hybrid.request import draft_spec

        drafted = draft_spec(args.request, self.client, cwd=Path.cwd(), llm={"model": self.client.model or None})
        conv.pending_start = drafted.spec
        spec = drafted.spec
        space = ", ".join(f"{p['name']} ({p['type']})" for p in spec.space.describe())
        lines = [
            f"proposed: start a study '{spec.name}': {spec.direction} {spec.metric} of "
            f"{' '.join(spec.command or [spec.function or ''])}, {spec.budget.max_trials} trials, "
            f"strategy {spec.strategy}; space: {space}"
        ]
        lines += [f"note: {w}" for w in drafted.warnings]
        lines.append("send /approve to start it or /reject to drop it")
        return "\n".join(lines)

    def reply(self, conv: Conversation, text: str) -> Iterator[str]:
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
        self.history.append(Message(role="user", content=text))
        for _ in range(MAX_STEPS):
            messages = [
                Message(role="system", content=system_prompt() + "\n\n" + self._context(conv)),
                *self.history[-MAX_HISTORY:],
            ]
            completion: Completion | None = None
            for piece in self.client.stream(messages, specs):
                if isinstance(piece, Completion):
                    completion = piece
                else:
                    yield piece
            if completion is None:
                return
            self.history.append(Message(role="assistant", content=completion.text, tool_calls=completion.tool_calls))
            if not completion.tool_calls:
                return
            for call in completion.tool_calls:
                if box is not None and call.name in box.names:
                    observation = box.call(call.name, call.arguments, call.error).content
                else:
                    observation = self._call(mine, call)
                self.history.append(Message(role="tool", tool_call_id=call.id, name=call.name, content=observation))
                shown = _for_the_person(call, observation)
                if shown:
                    yield "\n" + shown + "\n"
        yield "\n(stopped after several tool calls; ask again or use slash-commands)"

    @staticmethod
    def _call(tools: dict[str, ChatTool], call: ToolCall) -> str:
        tool = tools.get(call.name)
        if tool is None:
            return f"error: unknown tool {call.name!r}; available: {', '.join(tools)}"
        if call.arguments is None:
            return f"error: arguments are not a JSON object ({call.error}); send valid JSON"
        try:
            args = tool.args.model_validate(call.arguments)
        except ValueError as exc:
            first = str(exc).splitlines()
            return f"error: bad arguments for {call.name}: {' '.join(first[:3])}"
        try:
            return tool(args)
        except TunesmithError as exc:  # the person's or the model's mistake, not a bug: tell the model
            return f"error: {exc}"


def _for_the_person(call: ToolCall, observation: str) -> str | None:
    """What a tool result must show the person directly: proposals that wait for their /approve."""
    if observation.startswith("proposed:"):
        return observation
    if call.name == "edit_space":
        try:
            data = json.loads(observation)
        except ValueError:
            return None
        if data.get("status") == "pending":
            args = call.arguments or {}
            what = " ".join(
                f"{k}={v}" for k, v in args.items() if k not in ("action", "param", "rationale") and v is not None
            )
            return (
                f"proposed: search space {args.get('action')} {args.get('param')} {what} — "
                f"{args.get('rationale')}\nsend /approve to apply it or /reject to drop it"
            )
        if data.get("status") == "rejected":
            return f"the model's space edit was refused: {data.get('message')}"
    return None


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
        return LLMAssistant(load_script(script))
    from agent.llm.factory import build_stack
    from agent.llm.settings import resolve_settings

    settings = resolve_settings(model=model)
    if not settings.configured:
        return None
    return LLMAssistant(build_stack(settings).client)
