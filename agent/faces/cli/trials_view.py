"""What ``tunesmith show`` prints: the table of trials (sorted, the top N) and one trial in detail, as text
or JSON.

One trial's detail reads its resources from the record's ``info`` (``max_rss_kb``) and from the folder's
``status.json`` the supervisor wrote (exit code, CPU time, start and end), read only where it lies inside
the study folder (agent/faces/chat/files.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from agent.core.records import MetricPoint, Trial, TrialState
from agent.errors import TunesmithError
from agent.faces.chat.files import inside
from agent.faces.chat.text import sparkline
from agent.faces.format import clock_time, fmt_duration, fmt_params, fmt_value
from agent.study.folder import trial_dir
from agent.study.session import Session

SORTS = ("number", "value", "duration", "state")


def _state(session: Session, trial: Trial) -> str:
    """A trial's state as ``status`` tells it: RUNNING in a study whose process is gone reads interrupted."""
    if trial.state is TrialState.RUNNING and session.runner_gone():
        return "interrupted"
    return trial.state.value


def who(t: Trial) -> str:
    return t.proposer.value if t.proposer.value != "strategy" else (t.strategy or "strategy")


def ordered(trials: Sequence[Trial], sort: str | None, top: int | None, direction: str) -> list[Trial]:
    """``trials`` sorted by ``sort`` (value: best first, trials without a value last; duration: longest
    first), then the first ``top``. ``--top`` alone means the best ``top``."""
    key = sort or ("value" if top is not None else "number")
    if key not in SORTS:
        raise TunesmithError(f"cannot sort by {key!r}; choose one of {', '.join(SORTS)}")
    if top is not None and top < 1:
        raise TunesmithError(f"--top must be 1 or more, got {top}")
    rows = list(trials)
    if key == "value":
        sign = -1.0 if direction == "maximize" else 1.0
        rows.sort(key=lambda t: (not t.ok, sign * (t.value or 0.0) if t.ok else 0.0, t.number))
    elif key == "duration":
        rows.sort(key=lambda t: (t.duration is None, -(t.duration or 0.0), t.number))
    elif key == "state":
        rows.sort(key=lambda t: (t.state.value, t.number))
    return rows[:top] if top is not None else rows


def row(session: Session, t: Trial) -> dict[str, Any]:
    """One trial as a JSON row of ``show --json``."""
    return {
        "trial": t.number,
        "state": _state(session, t),
        "value": t.value,
        "proposer": t.proposer.value,
        "strategy": t.strategy,
        "params": t.params,
        "reason": t.reason,
        "started_at": t.started_at,
        "finished_at": t.finished_at,
        "duration_s": t.duration,
    }


def table(session: Session, trials: Sequence[Trial], *, title: str | None = None) -> Table:
    grid = Table(title=title or str(session.dir))
    for col in ("#", "state", session.spec.metric, "proposer", "time", "params / reason"):
        grid.add_column(col, no_wrap=col != "params / reason", overflow="fold")  # wrapped, never cut
    for t in trials:
        detail = fmt_params(t.params, 80) if t.state is TrialState.COMPLETE else (t.reason or fmt_params(t.params, 80))
        grid.add_row(
            str(t.number), _state(session, t), fmt_value(t.value), who(t), fmt_duration(t.duration), escape(detail)
        )
    return grid


def resources(session: Session, t: Trial) -> dict[str, Any]:
    """What the trial used: exit code, max RSS, CPU time, start and end (record first, ``status.json`` next)."""
    parts = trial_dir(session.dir, t.number).relative_to(session.dir).parts
    path = inside(session.dir, *parts, "status.json")
    status: dict[str, Any] = {}
    if path is not None and path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            status = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            status = {}
    user, system = status.get("user_time"), status.get("system_time")
    cpu = (user or 0.0) + (system or 0.0) if isinstance(user, int | float) or isinstance(system, int | float) else None
    return {
        "started_at": t.started_at if t.started_at is not None else status.get("started_at"),
        "finished_at": t.finished_at if t.finished_at is not None else status.get("finished_at"),
        "exit_code": t.exit_code if t.exit_code is not None else status.get("returncode"),
        "signal": status.get("signal"),
        "max_rss_kb": t.info.get("max_rss_kb", status.get("max_rss_kb")),
        "cpu_s": cpu,
        "user_s": user,
        "system_s": system,
    }


def curve_line(index: int, point: MetricPoint) -> str:
    values = ", ".join(f"{k}={fmt_value(v)}" for k, v in point.values.items())
    if point.step is None:
        return f"report {index + 1} (no step given): {values}"
    return f"step {point.step}: {values}"


def detail_json(session: Session, t: Trial, curve: Sequence[MetricPoint]) -> dict[str, Any]:
    return {
        **t.model_dump(mode="json"),
        "state": _state(session, t),
        "duration_s": t.duration,
        "resources": resources(session, t),
        "curve": [p.model_dump(mode="json") for p in curve],
    }


def detail_lines(session: Session, t: Trial, curve: Sequence[MetricPoint]) -> list[str]:
    """One trial for people (rich markup, user text escaped): record, resources, params exactly, the whole curve."""
    metric = session.spec.metric
    used = resources(session, t)
    rss = used["max_rss_kb"]
    cpu = used["cpu_s"]
    exit_code = used["exit_code"]
    if used["signal"]:
        exit_code = f"{exit_code} (killed by signal {used['signal']})"
    lines = [f"[bold]trial #{t.number}[/] {_state(session, t)}  {escape(metric)}={fmt_value(t.value)}"]
    for label, value in (
        ("proposer", who(t)),
        ("model", t.model),
        ("rationale", t.rationale),
        ("retry of", t.retry_of),
        ("reason", t.reason),
        ("started", clock_time(used["started_at"]) if used["started_at"] else None),
        ("finished", clock_time(used["finished_at"]) if used["finished_at"] else None),
        ("duration", fmt_duration(t.duration) or None),
        ("exit code", exit_code),
        ("max RSS", f"{rss / 1024:.1f} MB" if isinstance(rss, int | float) else None),
        (
            "CPU time",
            f"{fmt_duration(cpu)} (user {fmt_duration(used['user_s'] or 0.0)}, "
            f"system {fmt_duration(used['system_s'] or 0.0)})"
            if cpu is not None
            else None,
        ),
        ("folder", t.info.get("trial_dir")),
    ):
        if value is not None:
            lines.append(f"{label:>10}: {escape(str(value))}")
    lines.append(f"{'params':>10}: " + escape(json.dumps(t.params)))
    if curve:
        values = [p.values[metric] for p in curve if metric in p.values]
        lines.append(f"{'curve':>10}: {len(curve)} reports  {sparkline(values)}")
        lines += [" " * 12 + escape(curve_line(i, p)) for i, p in enumerate(curve)]
    else:
        lines.append(f"{'curve':>10}: no reports")
    return lines
