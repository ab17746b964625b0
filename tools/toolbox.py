"""``Toolbox``: the tools of one study, looked up by name; model mistakes come back as observations.

box = build_toolbox(actions)                 # every tool, acting on a StudyActions
box.specs()                                  # [{"name", "description", "parameters"}, ...]
result = box.call("run_trials", {...})       # ToolResult; never raises for the model's mistakes
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tools.base import Tool, ToolResult
from tools.edit_space import EditSpace
from tools.finish import Finish
from tools.history import InspectTrial, QueryHistory
from tools.optimizer import AskOptimizer
from tools.protocol import StudyActions
from tools.run_trials import RunTrials
from tools.stop_trials import StopTrials

ALL_TOOLS: tuple[type[Tool], ...] = (
    RunTrials,
    QueryHistory,
    InspectTrial,
    AskOptimizer,
    StopTrials,
    EditSpace,
    Finish,
)
#: the tools that only read: safe to offer to anyone watching a study
READ_ONLY = ("query_history", "inspect_trial", "ask_optimizer")


class Toolbox:
    def __init__(self, tools: Sequence[Tool]) -> None:
        self.tools = {t.name: t for t in tools}

    @property
    def names(self) -> list[str]:
        return list(self.tools)

    def specs(self) -> list[dict[str, Any]]:
        return [t.schema() for t in self.tools.values()]

    def call(self, name: str, arguments: dict[str, Any] | None, error: str | None = None) -> ToolResult:
        """Run tool ``name``. ``arguments`` None (with ``error``) means the model's JSON could not be read."""
        tool = self.tools.get(name)
        if tool is None:
            return ToolResult.error("unknown_tool", f"there is no tool '{name}'; available: {', '.join(self.names)}")
        if arguments is None:
            return ToolResult.error(
                "malformed_arguments",
                f"{name}: {error or 'arguments are not a JSON object'}; send the arguments as one JSON object",
            )
        return tool.invoke(arguments)


def build_toolbox(actions: StudyActions, *, only: Iterable[str] | None = None) -> Toolbox:
    """A toolbox over ``actions`` with every tool, or only the ones named in ``only``."""
    wanted = set(only) if only is not None else None
    unknown = (wanted or set()) - {t.name for t in ALL_TOOLS}
    if unknown:
        raise ValueError(f"unknown tools {sorted(unknown)}; choose from {[t.name for t in ALL_TOOLS]}")
    return Toolbox([cls(actions) for cls in ALL_TOOLS if wanted is None or cls.name in wanted])
