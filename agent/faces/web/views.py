"""JSON shapes the page reads: trials, one trial in detail, a study's summary."""

from __future__ import annotations

import math
from typing import Any

from agent.core.records import Trial
from agent.faces import insights
from agent.faces.chat import approvals, slash
from agent.faces.handle import StudyHandle


def _num(v: float | None) -> float | None:
    return v if v is None or math.isfinite(v) else None  # JSON has no NaN/inf


def trial_row(t: Trial) -> dict[str, Any]:
    return {
        "number": t.number,
        "state": t.state.value,
        "value": _num(t.value),
        "proposer": t.proposer.value,
        "strategy": t.strategy,
        "params": t.params,
        "duration": t.duration,
        "reason": t.reason,
        "started_at": t.started_at,
    }


def trial_detail(h: StudyHandle, number: int) -> dict[str, Any]:
    t = h.trial(number)
    points = h.metrics(number)
    return {
        **trial_row(t),
        "rationale": t.rationale,
        "model": t.model,
        "retry_of": t.retry_of,
        "failure": t.failure.value if t.failure else None,
        "metrics": {k: _num(v) for k, v in t.metrics.items()},
        "curve": insights.curve(points, h.spec.metric),
        "reports": len(points),
        "stderr_tail": t.stderr_tail,
        "stdout_tail": slash.log_tail(h.dir, number, "stdout", 40),
    }


def study_summary(h: StudyHandle) -> dict[str, Any]:
    info = h.status()
    proposal = approvals.pending(h) if h.writable else None
    info["space"] = h.space.describe()
    info["budget_detail"] = h.spec.budget.model_dump(mode="json")
    info["strategy"] = h.spec.strategy
    info["pending"] = None if proposal is None else proposal.as_dict()
    if info.get("best"):
        info["best"]["value"] = _num(info["best"]["value"])
    return info
