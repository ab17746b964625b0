"""The same tools as LangChain ``StructuredTool``s, so a LangChain or LangGraph agent can drive tunesmith.

    from agent.hybrid.actions import session_toolbox
    from tools.langchain import to_langchain
    tools = to_langchain(session_toolbox(session))
    agent = create_react_agent(chat_model, tools)        # LangGraph, or any tool-calling loop

Each tool returns the same compact JSON text the built-in loop shows the model; mistakes come back as
``{"error": ...}`` text rather than exceptions, so the agent can correct itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from tools.base import ToolResult, validation_problems
from tools.toolbox import Toolbox


def to_langchain(toolbox: Toolbox) -> list[Any]:
    """One ``langchain_core.tools.StructuredTool`` per tool of ``toolbox``."""
    from langchain_core.tools import StructuredTool

    out = []
    for name, tool in toolbox.tools.items():

        def call(_name: str = name, **kwargs: Any) -> str:
            return toolbox.call(_name, kwargs).content

        # LangChain validates the arguments before ``call``: its errors become the same observation too
        out.append(
            StructuredTool.from_function(
                func=call,
                name=name,
                description=tool.description,
                args_schema=tool.args,
                handle_validation_error=_bad_arguments(name),
            )
        )
    return out


def _bad_arguments(name: str) -> Callable[[Any], str]:
    def handle(exc: Any) -> str:
        problems = validation_problems(exc) if isinstance(exc, ValidationError) else str(exc).splitlines()[0]
        return ToolResult.error("bad_arguments", f"{name}: {problems}; see the tool's schema").content

    return handle
