"""``ask_optimizer``: candidates from the classical optimizer (the model may run, adapt or ignore them)."""

from __future__ import annotations

from pydantic import Field

from tools.base import Args, Tool, ToolResult
from tools.summary import num


class AskArgs(Args):
    n: int = Field(3, ge=1, le=10, description="how many candidates")


class AskOptimizer(Tool):
    name = "ask_optimizer"
    description = (
        "Ask the classical optimizer (Optuna) for candidate configurations; they are not run unless you "
        "pass them to run_trials."
    )
    args = AskArgs

    def run(self, args: AskArgs) -> ToolResult:
        candidates = self.actions.suggest(args.n)
        return ToolResult.of({"candidates": [{k: num(v) for k, v in c.items()} for c in candidates]})
