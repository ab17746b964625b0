"""``finish``: the model is done (``done``), or the setup is broken (``setup_broken``); it leaves a recommendation."""

from __future__ import annotations

from pydantic import Field

from tools.base import Args, Tool, ToolResult
from tools.protocol import FinishKind


class FinishArgs(Args):
    kind: FinishKind = Field(
        "done",
        description="done: the optimizer completes the budget; setup_broken: the trials cannot measure anything "
        "useful, the study pauses for the person",
    )
    recommendation: str = Field(
        min_length=1,
        max_length=2000,
        description="the configuration you recommend and why, or (setup_broken) exactly what the person must fix",
    )
    best_trial: int | None = Field(None, ge=0, description="the trial you recommend")


class Finish(Tool):
    name = "finish"
    description = "Declare that further proposals from you are pointless, or that the setup is broken."
    args = FinishArgs

    def run(self, args: FinishArgs) -> ToolResult:
        outcome = self.actions.finish(args.recommendation, args.best_trial, args.kind)
        return ToolResult.of({"status": outcome}, done=True)
