"""The LLM's explore step in Population Based Training: new values for a member's mutable params.

PBT replaces a weak member by a copy of a strong one (exploit) and then changes some of its mutable params
(explore). The model may propose that change, with a rationale, from what it knows of the task and of the
population so far; the engine validates it (inside the space, only mutable params changed) and perturbation
takes the step when the model declines, fails or proposes something invalid (agent/study/pbt.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.core.records import ProposerKind, TrialDraft
from agent.core.space import SearchSpace, same_value
from agent.hybrid.prompting import render
from agent.llm.base import Completion, ToolSpec

TOOL = "explore"


class ExploreArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    params: dict[str, Any] = Field(description="new values for some of the mutable parameters (the others are kept)")
    rationale: str = Field(min_length=1, max_length=500, description="why these values, from the population so far")


def explore_tool() -> ToolSpec:
    return ToolSpec(
        name=TOOL,
        description="Propose the explore step: new values for some of the member's mutable parameters.",
        parameters=ExploreArgs.model_json_schema(),
    )


def explore_prompt(
    *,
    member: int,
    donor: int,
    step: int,
    donor_params: Mapping[str, Any],
    mutable: list[dict[str, Any]],
    population: list[dict[str, Any]],
    metric: str,
    direction: str,
) -> str:
    return render(
        "hybrid_explore",
        member=member,
        donor=donor,
        step=step,
        donor_params=dict(donor_params),
        mutable=mutable,
        population=population,
        metric=metric,
        direction=direction,
    )


def read_explore(
    completion: Completion, *, donor_params: Mapping[str, Any], mutable: list[str], space: SearchSpace, model: str
) -> tuple[TrialDraft | None, str | None]:
    """The draft the model proposed, or (None, why not): no call, bad arguments, a non-mutable param changed, or
    a configuration outside the space."""
    call = next((c for c in completion.tool_calls if c.name == TOOL), None)
    if call is None or call.arguments is None:
        return None, "the model did not call explore"
    try:
        args = ExploreArgs.model_validate(call.arguments)
    except ValidationError as exc:
        return None, f"bad explore arguments ({exc.errors(include_url=False)[0]['msg']})"
    frozen = [k for k in args.params if k not in mutable]
    if frozen:
        return None, f"the model changed {', '.join(frozen)}, which may not change mid-training"
    params = {**dict(donor_params), **args.params}
    problems = space.validate_config(params)
    if problems:
        return None, problems[0]
    params = space.normalise(params)
    if all(same_value(params.get(k), donor_params.get(k)) for k in mutable):
        return None, "the model kept every mutable value: nothing explored"
    return TrialDraft(params=params, proposer=ProposerKind.LLM, rationale=args.rationale.strip(), model=model), None
