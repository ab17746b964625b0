"""JSON shapes the page reads: trials, one trial in detail, a study's summary, a population's schedule.

Times are epoch seconds (the page shows them in the browser's time zone); numbers that JSON cannot hold
(NaN, inf) are null.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from agent.core.records import EventKind, Trial
from agent.faces import insights, plots, population
from agent.faces.chat import approvals, files
from agent.faces.handle import StudyHandle
from agent.study.progress import ttr_line


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
        "failure": t.failure.value if t.failure else None,
        "created_at": t.created_at,
        "started_at": t.started_at,
        "finished_at": t.finished_at,
    }


def where(folder: Path) -> str:
    """A folder as the page shows it: relative to the working folder when below it, ``~/...`` below home."""
    for base, prefix in ((Path.cwd(), "."), (Path.home(), "~")):
        if folder.is_relative_to(base):
            rest = folder.relative_to(base)
            return prefix if rest == Path() else f"{prefix}/{rest}"
    return str(folder)


def started(h: StudyHandle) -> float | None:
    """When the study first started (its first ``study_started`` event), else when its first trial was made."""
    first = h.events(EventKind.STUDY_STARTED)[:1]
    if first:
        return first[0].time
    trials = h.trials()
    return trials[0].created_at if trials else None


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
        "stdout_tail": files.log_tail(h.dir, number, "stdout", 40),
    }


def study_summary(h: StudyHandle) -> dict[str, Any]:
    info = h.status()
    proposal = approvals.pending(h) if h.writable else None
    info["space"] = h.space.describe()
    info["budget_detail"] = h.spec.budget.model_dump(mode="json")
    info["strategy"] = h.spec.strategy
    info["pending"] = None if proposal is None else proposal.as_dict()
    info["started"] = started(h)
    info["params"] = list(h.space.names)
    info["plots"] = list(plots.kinds_for(h.spec))  # the population only for scheduler: pbt
    budget = info.get("budget")
    spent = budget is not None and info["done"] >= budget
    # Resume continues a paused study, or runs a stopped one here; a spent budget must be raised first
    info["budget_spent"] = spent
    info["can_resume"] = bool(info["paused"] or (not info["running"] and h.writable and not spent))
    if info.get("best"):
        info["best"]["value"] = _num(info["best"]["value"])
    info["ttr_line"] = ttr_line(info.get("time_to_result"))  # when the best was found, as status says it
    finish = (info.get("model") or {}).get("finish") or {}
    info["setup_broken"] = finish.get("recommendation") if finish.get("kind") == "setup_broken" else None
    return info


def population_schedule(h: StudyHandle) -> dict[str, Any]:
    """The schedule behind the best result of a Population Based Training study (population.py's
    ``schedule_rows``), for the table under the population plot; the metric and direction beside it."""
    spec = h.spec
    mutable = spec.scheduler.mutable if spec.scheduler is not None else []
    out = population.schedule_rows(h.trials(), h.metrics, metric=spec.metric, direction=spec.direction, mutable=mutable)
    return {"metric": spec.metric, "direction": spec.direction, **out}
