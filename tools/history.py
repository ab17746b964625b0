"""``query_history`` (top-k, filters, compact summary) and ``inspect_trial`` (one trial in depth)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tools.base import Args, Tool, ToolResult
from tools.summary import compact, num, ranked, summarize
from tools.untrusted import quote


class Range(Args):
    low: float | None = None
    high: float | None = None
    equals: Any = None


class QueryArgs(Args):
    order: Literal["best", "recent"] = Field("best", description="best first, or most recent first")
    limit: int = Field(10, ge=1, le=25, description="how many trials to list")
    state: Literal["complete", "failed", "timeout", "pruned", "running", "cancelled"] | None = None
    proposer: Literal["default", "strategy", "llm", "user"] | None = None
    where: dict[str, Range] = Field(default_factory=dict, description='parameter filters, e.g. {"lr": {"high": 0.001}}')
    summary: bool = Field(True, description="include counts, best, per-proposer record and failure kinds")


def _matches(params: dict[str, Any], where: dict[str, Range]) -> bool:
    for name, r in where.items():
        if name not in params:
            return False
        v = params[name]
        if r.equals is not None and v != r.equals:
            return False
        if isinstance(v, int | float) and not isinstance(v, bool):
            if r.low is not None and v < r.low:
                return False
            if r.high is not None and v > r.high:
                return False
    return True


class QueryHistory(Tool):
    name = "query_history"
    description = (
        "List past trials (best or most recent first, filtered by state, proposer or parameter range) "
        "with an optional compact summary of the study."
    )
    args = QueryArgs

    def run(self, args: QueryArgs) -> ToolResult:
        info = self.actions.info()
        trials = list(self.actions.trials())
        chosen = [
            t
            for t in trials
            if (args.state is None or t.state == args.state)
            and (args.proposer is None or t.proposer == args.proposer)
            and _matches(t.params, args.where)
        ]
        if args.order == "best":
            best = ranked(chosen, info.direction)
            rest = [t for t in chosen if t not in best]
            chosen = best + sorted(rest, key=lambda t: -t.number)
        else:
            chosen = sorted(chosen, key=lambda t: -t.number)
        data: dict[str, Any] = {
            "matching": len(chosen),
            "trials": [compact(t, rationale=True) for t in chosen[: args.limit]],
        }
        if args.summary:
            data["summary"] = summarize(trials, direction=info.direction, space=info.space, top_k=0, recent=0)
            data["summary"].pop("top", None)
            data["summary"].pop("recent", None)
        return ToolResult.of(data)


class InspectArgs(Args):
    trial: int = Field(ge=0, description="the trial number")


def downsample(curve: list[dict[str, Any]], limit: int = 20) -> list[dict[str, Any]]:
    """At most ``limit`` points: evenly spaced, always keeping the first and the last."""
    if len(curve) <= limit:
        return curve
    idx = sorted({round(i * (len(curve) - 1) / (limit - 1)) for i in range(limit)})
    return [curve[i] for i in idx]


class InspectTrial(Tool):
    name = "inspect_trial"
    description = (
        "One trial in depth: parameters, state, metrics, learning curve, failure reason and the tails "
        "of its stderr and stdout (untrusted text)."
    )
    args = InspectArgs

    def run(self, args: InspectArgs) -> ToolResult:
        detail = self.actions.detail(args.trial)
        if detail is None:
            count = len(self.actions.trials())
            return ToolResult.error(
                "unknown_trial",
                f"there is no trial {args.trial}; trials are numbered 0 to {count - 1}"
                if count
                else "there are no trials yet",
            )
        t = detail.trial
        data: dict[str, Any] = compact(t, rationale=True)
        data["metrics"] = {k: num(v) for k, v in t.metrics.items()}
        if t.duration is not None:
            data["duration_s"] = round(t.duration, 1)
        if t.failure:
            data["failure"] = t.failure
        if detail.curve:
            data["curve"] = [{k: num(v) for k, v in p.items()} for p in downsample(detail.curve)]
            data["curve_points"] = len(detail.curve)
        for label, text in (("stderr", detail.stderr_tail), ("stdout", detail.stdout_tail)):
            block = quote(text, label=label, limit=1200)
            if block:
                data[f"{label}_tail"] = block
        return ToolResult.of(data)
