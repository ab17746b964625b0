"""What the person sees of a chat model's turn: every call it made, its proposals, and honest failures.

Contract: each tool call the model makes is shown as one line (``[model called NAME(ARGS)]``, with
``— refused: WHY`` when it was a mistake), a proposal is shown in full with how to approve it, and model
text is cleaned before it reaches a terminal or the page (no escape or control sequences, bounded length).
When a turn breaks (the endpoint failed, an empty answer, no final answer), ``failure`` says so in one
line instead of the prose the model left behind.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent.llm.base import ToolCall

ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_TEXT = 8000
MAX_ARGS = 160
MAX_PROBLEM = 200


def clean(text: str | None, limit: int = MAX_TEXT) -> str:
    """``text`` without terminal escape sequences or control characters (newlines and tabs stay), stripped
    and cut to ``limit`` characters."""
    out = CONTROLS.sub("", ESCAPES.sub("", text or "")).strip()
    return out if len(out) <= limit else out[:limit] + " … (cut)"


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, default=str)


def call_line(call: ToolCall, problem: str | None = None) -> str:
    """One line naming a call and its arguments (the raw text when they were not JSON)."""
    if call.arguments is not None:
        args = ", ".join(f"{k}={_value(v)}" for k, v in call.arguments.items())
    else:
        args = call.raw_arguments
    args = clean(args, MAX_ARGS).replace("\n", " ")
    head = f"[model called {clean(call.name, 60)}({args})"
    return f"{head} — refused: {clean(problem, MAX_PROBLEM)}]" if problem else f"{head}]"


def proposal(call: ToolCall, observation: str) -> str | None:
    """The proposal a call made, in full, for the person to approve; or the reason a space edit was refused."""
    if observation.startswith("proposed:"):
        return observation
    if call.name != "edit_space":
        return None
    try:
        data = json.loads(observation)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if data.get("status") == "pending":
        args = call.arguments or {}
        what = " ".join(
            f"{k}={v}" for k, v in args.items() if k not in ("action", "param", "rationale") and v is not None
        )
        return clean(
            f"proposed: search space {args.get('action')} {args.get('param')} {what} — "
            f"{args.get('rationale')}\nsend /approve to apply it or /reject to drop it"
        )
    if data.get("status") == "rejected":
        return clean(f"the model's space edit was refused: {data.get('message')}")
    return None


def failure(why: str) -> str:
    """The one line a broken turn ends with (its leftover prose is not shown)."""
    return f"no answer: {clean(why, MAX_PROBLEM)}. Ask again, or use slash-commands (/help)"
