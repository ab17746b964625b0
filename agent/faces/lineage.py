"""Population Based Training as text: each member's segments (the family tree: which checkpoint each began
from) and the hyperparameter schedule behind the best result (``tunesmith show DIR --lineage``).

The schedule of a segment is its ancestry: follow ``lineage.parent`` back to a segment that started from
scratch; each ancestor contributes the steps from where it began to where its child took the checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.core.records import MetricPoint, Trial, TrialState, best_trial

Curves = Callable[[int], Sequence[MetricPoint]]


@dataclass(frozen=True)
class Stretch:
    """Steps ``first``..``last`` of a training, run by trial ``trial`` (member ``member``) with ``params``."""

    first: int
    last: int
    trial: int
    member: int
    params: dict[str, Any]


def reported_steps(curve: Sequence[MetricPoint], metric: str) -> list[int]:
    """The steps at which ``curve`` reported ``metric`` (a ``final`` report is no step)."""
    return [p.step for p in curve if p.step is not None and metric in p.values and not p.final]


def ancestry(trial: Trial, trials: Sequence[Trial]) -> list[Trial]:
    """``trial`` and the segments whose checkpoints it descends from, following ``lineage.parent``: the
    trial first, the segment that started from scratch last. Empty when ``trial`` has no lineage."""
    by_number = {t.number: t for t in trials}
    chain: list[Trial] = []
    seen: set[int] = set()
    current: Trial | None = trial
    while current is not None and current.lineage is not None and current.number not in seen:
        chain.append(current)
        seen.add(current.number)
        parent = current.lineage.parent
        current = by_number.get(parent) if parent is not None else None
    return chain


def schedule(trial: Trial, trials: Sequence[Trial], curves: Curves, metric: str) -> list[Stretch]:
    """The stretches of training behind ``trial``'s result, first step first."""
    out: list[Stretch] = []
    until: int | None = None  # the step the child took its checkpoint at
    for seg in ancestry(trial, trials):
        lin = seg.lineage
        assert lin is not None  # ancestry only keeps segments
        steps = [s for s in reported_steps(curves(seg.number), metric) if until is None or s <= until]
        first = (lin.start_step or 0) + 1
        last = max(steps) if steps else (until if until is not None else first - 1)
        if last >= first:
            out.append(Stretch(first, last, seg.number, lin.member, dict(seg.params)))
        until = lin.start_step
    return list(reversed(out))


def fmt_value(value: Any) -> str:
    """A param or metric value as the lineage text shows it (floats to four significant digits)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def params_text(params: dict[str, Any], names: Sequence[str]) -> str:
    """``name=value`` for each of ``names`` that ``params`` holds, space-separated."""
    return " ".join(f"{k}={fmt_value(params[k])}" for k in names if k in params)


def how_began(t: Trial) -> str:
    """How segment ``t`` began: ``start``, ``continue #P@S``, ``exploit #P@S (member M): lr * 0.8`` ..."""
    lin = t.lineage
    assert lin is not None
    if lin.kind == "start":
        return "start"
    src = f"#{lin.parent}" if lin.parent is not None else "scratch"
    at = f"@{lin.start_step}" if lin.start_step is not None else ""
    if lin.kind == "exploit":
        ops = ", ".join(f"{k} {v}" for k, v in lin.explore.items())
        return f"exploit {src}{at} (member {lin.parent_member})" + (f": {ops}" if ops else "")
    return f"{lin.kind} {src}{at}"


def how_ended(t: Trial) -> str:
    """How segment ``t`` ended: its PBT decision (pause, exploit), ``interrupted``, or its state."""
    if t.state is TrialState.PRUNED and "pbt" in t.info:
        return str(t.info["pbt"].get("action", "stopped"))
    if t.state is TrialState.CANCELLED:
        return "interrupted"
    if "pbt_ended_at_checkpoint" in t.info:
        return "complete (its checkpoint was the end of training)"
    return t.state.value


def lineage_lines(
    trials: Sequence[Trial], curves: Curves, *, metric: str, direction: str, mutable: Sequence[str]
) -> list[str]:
    """The text of ``show --lineage`` (module docstring); one line when the study has no population."""
    segments = [t for t in trials if t.lineage is not None]
    if not segments:
        return ["this study has no population (scheduler: pbt); nothing to draw"]
    members: dict[int, list[Trial]] = {}
    for t in sorted(segments, key=lambda t: t.number):
        assert t.lineage is not None
        members.setdefault(t.lineage.member, []).append(t)
    lines = [f"population: {len(members)} members, {len(segments)} segments ({metric}, {direction})"]
    for member, segs in sorted(members.items()):
        lines.append(f"member {member}")
        for t in segs:
            steps = reported_steps(curves(t.number), metric)
            span = f"steps {min(steps)}-{max(steps)}" if steps else "no steps"
            value = f"{metric}={fmt_value(t.value)}" if t.value is not None else f"{metric}=-"
            lines.append(
                f"  #{t.number:<4} {how_began(t):<40} {span:<12} {params_text(t.params, mutable):<28} {value} "
                f"{how_ended(t)}"
            )
    best = best_trial(segments, direction)
    if best is not None and best.lineage is not None:
        lines.append(
            f"schedule of the best result, #{best.number} (member {best.lineage.member}) "
            f"{metric}={fmt_value(best.value)}:"
        )
        for s in schedule(best, trials, curves, metric):
            lines.append(
                f"  steps {s.first}-{s.last}: {params_text(s.params, mutable)}  (#{s.trial}, member {s.member})"
            )
    return lines
