"""Free-text chat: the LLM answers and steers through tools, with a person's approval for changes.

``LLMAssistant.reply`` runs a bounded tool loop on an ``LLMClient`` (streamed text is yielded as it
comes). The model's mistakes (unknown tool, bad arguments) go back to it as observations; endpoint failures
raise ``LLMError``, which the conversation turns into one line. Tools that would change the budget or the
search space only *propose* the change (approvals.py): nothing changes before the person sends /approve.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.chat.chat_tools import ChatTool, chat_tools
from agent.errors import TunesmithError
from agent.llm.base import Completion, LLMClient, Message, ToolCall, ToolSpec

if TYPE_CHECKING:
    from agent.chat.conversation import Conversation

MAX_STEPS = 8          # tool rounds per message, so a confused model cannot loop forever
MAX_HISTORY = 24       # messages kept between turns (bounded prompt)


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
        return ("Open study: " + json.dumps({k: info[k] for k in ("name", "status", "metric", "direction",
                                                                  "budget", "done", "best", "running")},
                                            default=str))

    def reply(self, conv: Conversation, text: str) -> Iterator[str]:
        tools = {t.name: t for t in chat_tools(conv)}
        specs = [ToolSpec(name=t.name, description=t.description, parameters=t.args.model_json_schema())
                 for t in tools.values()]
        self.history.append(Message(role="user", content=text))
        for _ in range(MAX_STEPS):
            messages = [Message(role="system", content=system_prompt() + "\n\n" + self._context(conv)),
                        *self.history[-MAX_HISTORY:]]
            completion: Completion | None = None
            for piece in self.client.stream(messages, specs):
                if isinstance(piece, Completion):
                    completion = piece
                else:
                    yield piece
            if completion is None:
                return
            self.history.append(Message(role="assistant", content=completion.text,
                                        tool_calls=completion.tool_calls))
            if not completion.tool_calls:
                return
            for call in completion.tool_calls:
                observation = self._call(tools, call)
                self.history.append(Message(role="tool", tool_call_id=call.id, name=call.name, content=observation))
                if observation.startswith("proposed:"):
                    yield "\n" + observation + "\n"
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


def load_script(path: Path) -> LLMClient:
    """A ``ScriptedClient`` replaying completions from a JSON list (for tests and demos)."""
    from agent.llm.scripted import ScriptedClient

    steps: Sequence[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    completions = []
    for step in steps:
        calls = [ToolCall(id=c.get("id", f"call{i}"), name=c["name"], arguments=c.get("arguments", {}),
                          raw_arguments=json.dumps(c.get("arguments", {})))
                 for i, c in enumerate(step.get("tool_calls", []))]
        completions.append(Completion(text=step.get("text"), tool_calls=calls))
    return ScriptedClient(completions, exhausted=Completion(text="(the scripted model has nothing more to say)"))


def connect(*, model: str | None = None, script: Path | None = None) -> LLMAssistant | None:
    """The assistant for this chat, or None when no LLM is configured (slash-commands still work)."""
    if script is not None:
        return LLMAssistant(load_script(script))
    return None
