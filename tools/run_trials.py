"""``run_trials``: run a batch of configurations, each with a rationale."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tools.base import Args, Tool, ToolResult
from tools.protocol import Proposal


class Config(Args):
    params: dict[str, Any] = Field(description="a value for every active parameter of the search space")
    rationale: str = Field(min_length=1, max_length=500, description="one sentence: why this configuration")


class RunTrialsArgs(Args):
    configs: list[Config] = Field(min_length=1, max_length=32, description="the configurations to run")


def param_schema(p: dict[str, Any]) -> dict[str, Any]:
    """JSON schema of one parameter from ``SearchSpace.describe()`` (helps models stay in range)."""
    kind = p.get("type")
    out: dict[str, Any]
    if kind == "categorical":
        out = {"enum": list(p["choices"])}
    else:
        out = {"type": "integer" if kind == "int" else "number", "minimum": p["low"], "maximum": p["high"]}
    notes = []
    if p.get("log"):
        notes.append("log scale")
    if p.get("step") not in (None, 1):
        notes.append(f"multiple of {p['step']} from {p['low']}")
    if p.get("when"):
        notes.append("only when " + " and ".join(f"{k} in {v}" for k, v in p["when"].items()))
    if p.get("description"):
        notes.append(str(p["description"]))
    if notes:
        out["description"] = "; ".join(notes)
    return out


class RunTrials(Tool):
    name = "run_trials"
    description = (
        "Run configurations as new trials. Each gives every active parameter (inside its range or "
        "choices) and a one-sentence rationale. Invalid or repeated configurations are refused."
    )
    args = RunTrialsArgs

    def parameters(self) -> dict[str, Any]:
        schema = super().parameters()
        space = self.actions.info().space
        params = {
            "type": "object",
            "additionalProperties": False,
            "properties": {p["name"]: param_schema(p) for p in space},
            "required": [p["name"] for p in space if not p.get("when")],
            "description": "a value for every active parameter of the search space",
        }
        schema["$defs"]["Config"]["properties"]["params"] = params
        return schema

    def run(self, args: RunTrialsArgs) -> ToolResult:
        result = self.actions.submit([Proposal(params=c.params, rationale=c.rationale) for c in args.configs])
        data: dict[str, Any] = {"accepted": result.accepted}
        if result.rejected:
            data["rejected"] = [{"config": r.index, "problems": r.problems} for r in result.rejected]
        if result.note:
            data["note"] = result.note
        kind = None
        if result.rejected:
            only_duplicates = not result.accepted and all(r.kind == "duplicate" for r in result.rejected)
            kind = "duplicate_config" if only_duplicates else "invalid_config"
        return ToolResult.of(data, mistake=kind)
