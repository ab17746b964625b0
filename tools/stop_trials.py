"""``stop_trials``: stop running trials whose curves look hopeless, with a reason (recorded as pruned)."""

from __future__ import annotations

from pydantic import Field

from tools.base import Args, Tool, ToolResult


class StopTrialsArgs(Args):
    trials: list[int] = Field(min_length=1, max_length=8, description="numbers of running trials to stop")
    reason: str = Field(min_length=1, max_length=300, description="the evidence, e.g. 'val_loss diverged at step 3'")


class StopTrials(Tool):
    name = "stop_trials"
    description = "Stop running trials early (they end as pruned, their curves kept); give the evidence."
    args = StopTrialsArgs

    def run(self, args: StopTrialsArgs) -> ToolResult:
        lines = self.actions.stop_trials(sorted(set(args.trials)), args.reason.strip())
        stopped = [line for line in lines if line.endswith("stopping")]
        if not stopped:
            return ToolResult.error("not_running", "; ".join(lines) + "; only running trials can be stopped")
        return ToolResult.of({"result": lines})
