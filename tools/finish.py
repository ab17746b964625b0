"""``finish``: the model is done; it leaves a recommendation."""

from __future__ import annotations

from pydantic import Field

from tools.base import Args, Tool, ToolResult


class FinishArgs(Args):
    recommendation: str = Field(
        min_length=1, max_length=2000, description="the configuration you recommend and why, in a few sentences"
    )
    best_trial: int | None = Field(None, ge=0, description="the trial you recommend")


class Finish(Tool):
    name = "finish"
    description = "Declare that further proposals from you are pointless and leave a recommendation."
    args = FinishArgs

    def run(self, args: FinishArgs) -> ToolResult:
        outcome = self.actions.finish(args.recommendation, args.best_trial)
        return ToolResult.of({"status": outcome}, done=True)
