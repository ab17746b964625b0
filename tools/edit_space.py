"""``edit_space``: propose a change to the search space (widen, narrow, add, freeze), with a rationale."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from tools.base import Args, Tool, ToolResult
from tools.protocol import SpaceEdit


class EditArgs(Args):
    action: Literal["widen", "narrow", "add", "freeze"] = Field(
        description="widen/narrow a range or choice list, add a parameter, or freeze one to a single value"
    )
    param: str = Field(min_length=1, max_length=64, description="the parameter")
    rationale: str = Field(min_length=1, max_length=500, description="the evidence for this edit")
    low: float | None = Field(None, description="new lower bound (widen, narrow, add)")
    high: float | None = Field(None, description="new upper bound (widen, narrow, add)")
    log: bool | None = Field(None, description="log scale (add)")
    choices: list[Any] | None = Field(None, description="new choice list (categorical widen, narrow, add)")
    value: Any = Field(None, description="the value to freeze to (freeze)")
    type: Literal["float", "int", "categorical"] | None = Field(None, description="type of a new parameter (add)")

    @model_validator(mode="after")
    def _needs(self) -> EditArgs:
        if self.action == "freeze" and self.value is None:
            raise ValueError("freeze needs value")
        if self.action in ("widen", "narrow") and self.low is None and self.high is None and self.choices is None:
            raise ValueError(f"{self.action} needs low and/or high, or choices")
        if self.action == "add" and self.type is None:
            raise ValueError("add needs type (float, int or categorical)")
        return self


class EditSpace(Tool):
    name = "edit_space"
    description = (
        "Propose a search-space edit backed by evidence. It needs approval; until approved the current "
        "space stays in force."
    )
    args = EditArgs

    def run(self, args: EditArgs) -> ToolResult:
        result = self.actions.edit_space(SpaceEdit(**args.model_dump()))
        data: dict[str, Any] = {"status": result.status, "message": result.message}
        if result.space is not None:
            data["space"] = result.space
        return ToolResult.of(data, mistake="invalid_edit" if result.status == "rejected" else None)
