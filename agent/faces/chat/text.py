"""Plain-text renderings shared by the terminal chat and the web chat pane (no markup, no colors)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agent.core.events import (
    BudgetChanged,
    ChangeProposed,
    ChatTurn,
    CommandPosted,
    SpaceEdited,
    StudyFinished,
    TrialFinished,
    payload,
)
from agent.core.records import Event, EventKind, MetricPoint, Trial, TrialState
from agent.faces.format import fmt_duration, fmt_params, fmt_value
from agent.faces.insights import Importance

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi - lo < 1e-300:
        return SPARK[3] * len(values)
    return "".join(SPARK[min(7, int((v - lo) / (hi - lo) * 8))] for v in values)


def who(t: Trial) -> str:
    return t.strategy or "strategy" if t.proposer.value == "strategy" else t.proposer.value


def status_text(info: dict[str, Any]) -> str:
    states = ", ".join(f"{k} {v}" for k, v in info["states"].items() if v) or "none yet"
    where = (
        "paused"
        if info.get("paused")
        else ("running here" if info.get("here") else "running" if info.get("running") else info["status"])
    )
    lines = [
        f"{info['name'] or info['id']}: {where} — trials {info['done']}/{info['budget'] or '∞'} ({states})",
        f"objective: {info['direction']} {info['metric']}; proposed by "
        + (", ".join(f"{k} {v}" for k, v in info["proposers"].items()) or "-")
        + f"; fallbacks {info['fallbacks']}",
    ]
    best = info.get("best")
    if best:
        lines.append(
            f"best: #{best['trial']} {info['metric']}={fmt_value(best['value'])}  {fmt_params(best['params'], 200)}"
        )
    if info.get("error"):
        lines.append(f"last run ended with an error: {info['error']}")
    return "\n".join(lines)


def best_text(t: Trial | None, metric: str) -> str:
    if t is None:
        return "no trial has completed successfully yet"
    lines = [f"best: trial #{t.number} {metric}={fmt_value(t.value)} (proposed by {who(t)})"]
    lines += [f"  {k}: {v}" for k, v in t.params.items()]
    return "\n".join(lines)


def trials_text(trials: Sequence[Trial], metric: str, limit: int) -> str:
    if not trials:
        return "no trials yet"
    shown = list(trials)[-limit:]
    rows = [f"{'#':>4}  {'state':<9} {metric[:12]:>12}  {'proposer':<10} {'time':>7}  params / reason"]
    for t in shown:
        detail = fmt_params(t.params, 70) if t.state is TrialState.COMPLETE else (t.reason or fmt_params(t.params, 70))
        dur = fmt_duration(t.duration)
        rows.append(f"{t.number:>4}  {t.state.value:<9} {fmt_value(t.value):>12}  {who(t)[:10]:<10} {dur:>7}  {detail}")
    if len(trials) > len(shown):
        rows.append(f"({len(trials) - len(shown)} earlier trials not shown; /trials {len(trials)} shows all)")
    return "\n".join(rows)


def trial_text(t: Trial, points: Sequence[MetricPoint], metric: str, log_tail: str | None) -> str:
    lines = [f"trial #{t.number}: {t.state.value}  {metric}={fmt_value(t.value)}"]
    for label, value in (
        ("proposer", who(t)),
        ("model", t.model),
        ("rationale", t.rationale),
        ("retry of", t.retry_of),
        ("reason", t.reason),
        ("duration", fmt_duration(t.duration) or None),
        ("folder", t.info.get("trial_dir")),
    ):
        if value is not None:
            lines.append(f"{label:>10}: {value}")
    lines.append(f"{'params':>10}: {json.dumps(t.params)}")
    values = [p.values[metric] for p in points if metric in p.values]
    if values:
        lines.append(f"{'curve':>10}: {sparkline(values)}  ({len(values)} reports, last {fmt_value(values[-1])})")
    if t.stderr_tail:
        lines.append("stderr tail:\n" + "\n".join(t.stderr_tail.strip().splitlines()[-15:]))
    elif log_tail:
        lines.append("stdout tail:\n" + log_tail)
    return "\n".join(lines)


def importance_text(imp: Importance) -> str:
    if not imp.scores:
        return imp.note or "no importance yet"
    width = max(len(n) for n in imp.scores)
    lines = [f"parameter importance (fANOVA over {imp.trials} complete trials):"]
    for name, score in imp.scores.items():
        lines.append(f"  {name:<{width}} {'█' * max(1, round(score * 30)):<30} {score:.2f}")
    if imp.note:
        lines.append(imp.note)
    return "\n".join(lines)


def space_text(space: Any) -> str:
    lines = []
    for p in space.describe():
        name, kind = p.pop("name"), p.pop("type")
        when = p.pop("when", None)
        p.pop("description", None)
        extra = f"  when {when}" if when else ""
        if kind == "categorical":
            lines.append(f"  {name}: one of {p['choices']}{extra}")
        else:
            scale = " log" if p.get("log") else ""
            step = f" step {p['step']}" if p.get("step") not in (None, 1) else ""
            lines.append(f"  {name}: {kind} [{p['low']}, {p['high']}]{scale}{step}{extra}")
    return "search space:\n" + "\n".join(lines)


def start_text(spec: Any) -> str:
    """What starting ``spec`` would do, for a proposal the person approves: above all, what it runs."""
    space = ", ".join(f"{p['name']} ({p['type']})" for p in spec.space.describe())
    runs = " ".join(spec.command) if spec.command else f"the function {spec.function}"
    where = f" in {spec.workdir}" if spec.workdir else ""
    return (
        f"start a study '{spec.name or 'study'}': {spec.direction} {spec.metric} of {runs}{where}, "
        f"{spec.budget.max_trials or 'unlimited'} trials, strategy {spec.strategy}, {spec.workers} worker(s); "
        f"space: {space}"
    )


def event_line(event: Event, metric: str, source: str) -> str | None:
    """One line for a live event worth telling a person in chat, or None. ``source`` is this face's own
    name: its own commands and chat messages are not echoed back to it."""
    kind, trial = event.kind, event.trial
    if kind == EventKind.TRIAL_FINISHED and trial is not None:
        done = payload(event, TrialFinished)
        detail = f"{metric}={fmt_value(done.value)}" if done.state == "complete" else (done.reason or "")
        dur = f" ({fmt_duration(done.duration)})" if done.duration is not None else ""
        return f"#{trial} {done.state or '?'} {detail}{dur}"
    if kind == EventKind.STUDY_FINISHED:
        end = payload(event, StudyFinished)
        return f"study finished ({end.reason}): {end.counted} trials, best #{end.best}"
    if kind in (EventKind.STUDY_STARTED, EventKind.STUDY_RESUMED):
        return kind.replace("_", " ")
    if kind == EventKind.COMMAND:
        command = payload(event, CommandPosted)
        return f"{command.source} asked: {command.op}" if command.source != source else None
    if kind == EventKind.CHANGE_PROPOSED:
        change = payload(event, ChangeProposed)
        if change.source == source:
            return None
        who = f"{change.source}'s chat model" if change.by == "model" else change.source
        return f"{who} proposed: {change.summary} (/approve applies it)"
    if kind == EventKind.SPACE_EDITED:
        edited = payload(event, SpaceEdited)
        return f"space edited by {edited.source}: {edited.rationale}"
    if kind == EventKind.BUDGET_CHANGED:
        changed = payload(event, BudgetChanged)
        return f"budget changed by {changed.source}: {changed.rationale}"
    if kind == EventKind.CHAT:
        turn = payload(event, ChatTurn)
        return f"[{turn.source}] {turn.text}" if turn.source != source else None
    return None
