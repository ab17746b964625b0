"""Turn what the executor saw (``TrialOutcome``) into a trial record's final state.

Contract: ``classify`` is total — every outcome maps to exactly one of COMPLETE, FAILED (crash, signal,
oom, nan, no_metric, launch, lost), TIMEOUT, PRUNED or CANCELLED, always with a one-line ``reason`` for
anything but COMPLETE and with the stderr tail kept. The objective is the last reported value of the
metric, unless some report says ``final``, in which case the last final one wins.

A trial asked to stop early (status ``stopped``) is PRUNED, unless the stop came too late to matter: it
exited by itself with status 0 (no signal), reported a finite objective, and did not act on the stop
(the executor says ``info['stop_seen'] is False``: ``should_stop()`` never returned True to it). It had
then finished its run (its last report is at or after the step the stop was asked at) and is COMPLETE,
with ``info['late_stop']`` keeping the stop's reason. An executor that cannot tell (no ``stop_seen``)
leaves every stopped trial PRUNED.
"""

from __future__ import annotations

import math
import re
import signal as _signal
from typing import Any

from agent.core.records import FailureKind, MetricPoint, TrialState
from sandbox.base import Report, TrialOutcome

_OOM_MARKERS = (
    "MemoryError",
    "Cannot allocate memory",
    "std::bad_alloc",
    "out of memory",
    "OutOfMemoryError",
    "failed to allocate",
)
STDERR_TAIL_CHARS = 2000


def objective_value(reports: tuple[Report, ...] | list[Report], metric: str) -> tuple[float | None, int | None]:
    """(value, step) of the objective from a trial's reports; (None, None) when never reported."""
    value: float | None = None
    step: int | None = None
    final_seen = False
    for r in reports:
        if metric not in r.metrics:
            continue
        if r.final:
            final_seen = True
            value, step = r.metrics[metric], r.step
        elif not final_seen:
            value, step = r.metrics[metric], r.step
    return value, step


def to_points(reports: tuple[Report, ...] | list[Report]) -> list[MetricPoint]:
    return [MetricPoint(step=r.step, values=dict(r.metrics), time=r.time, final=r.final) for r in reports]


def last_metrics(reports: tuple[Report, ...] | list[Report]) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in reports:
        out.update(r.metrics)
    return out


def _signal_name(sig: int) -> str:
    try:
        return _signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


#: lines some launchers print after the error itself, skipped when the reason is read from the tail
_TRAILERS = ("Set the environment variable HYDRA_FULL_ERROR=1",)


# a blank line, or a rich panel's frame (typer's and click's errors): frame characters, at most the word Error
_BOX = re.compile(r"\s*|(?=.*[╭╮╰╯─━┏┓┗┛│┃])[╭╮╰╯─━┏┓┗┛│┃\s]*(?:Error)?[╭╮╰╯─━┏┓┗┛│┃\s]*")


def _last_line(text: str) -> str:
    """The line of ``text`` (stderr's tail) that says why the trial failed: the last one, after launchers'
    trailers and outside rich panels' frames; for a Hydra override the config lacks, its ``Could not override
    'KEY'.`` line."""
    lines = [ln.strip().strip("│┃").strip() for ln in text.strip().splitlines() if not _BOX.fullmatch(ln)]
    while lines and lines[-1].startswith(_TRAILERS):
        lines.pop()
    hydra = [ln for ln in lines if ln.startswith("Could not override '")]
    line = hydra[-1] if hydra else (lines[-1] if lines else "")
    return line if len(line) <= 200 else line[:197] + "..."


def _finished_before_the_stop(outcome: TrialOutcome) -> bool:
    """A stopped trial that ended on its own, successfully, without acting on the stop (module docstring)."""
    return outcome.returncode == 0 and outcome.signal is None and outcome.info.get("stop_seen") is False


def classify(outcome: TrialOutcome, metric: str, *, timeout: float | None = None) -> dict[str, Any]:
    """Fields to update on the trial record (state, value, reason, failure, ...)."""
    value, step = objective_value(outcome.reports, metric)
    tail = outcome.stderr_tail[-STDERR_TAIL_CHARS:] if outcome.stderr_tail else None
    fields: dict[str, Any] = {
        "started_at": outcome.started_at or None,
        "finished_at": outcome.finished_at or None,
        "exit_code": outcome.returncode,
        "stderr_tail": tail,
        "metrics": last_metrics(outcome.reports),
        "last_step": step,
        "info": dict(outcome.info),
    }
    if outcome.max_rss_kb is not None:
        fields["info"]["max_rss_kb"] = outcome.max_rss_kb
    finite = value is not None and math.isfinite(value)

    limit = outcome.info.get("process_limit")
    limit_note = f"; it hit its limit of {limit} processes and threads (budget.max_processes)" if limit else ""

    def fail(kind: FailureKind, reason: str, state: TrialState = TrialState.FAILED) -> dict[str, Any]:
        return {**fields, "state": state, "failure": kind, "reason": reason + limit_note, "value": None}

    status = outcome.status
    if status == "launch_error":
        return fail(FailureKind.LAUNCH, outcome.reason or "the trial command could not start")
    if status == "lost":
        return fail(FailureKind.LOST, outcome.reason or "the worker running this trial was lost")
    if status == "timeout":
        limit = f"the {timeout:g} s trial timeout" if timeout else "its time limit"
        return fail(
            FailureKind.TIMEOUT,
            f"ran past {limit} and was killed; raise budget.trial_timeout or make the trial faster",
            TrialState.TIMEOUT,
        )
    if status == "cancelled":
        return {
            **fields,
            "state": TrialState.CANCELLED,
            "reason": outcome.reason or "cancelled",
            "value": value if finite else None,
        }
    if status == "stopped" and _finished_before_the_stop(outcome) and finite and value is not None:
        fields["info"]["late_stop"] = outcome.reason or "stopped early"
        return {**fields, "state": TrialState.COMPLETE, "value": float(value), "reason": None, "failure": None}
    if status == "stopped":
        return {
            **fields,
            "state": TrialState.PRUNED,
            "reason": outcome.reason or "stopped early",
            "value": value if finite else None,
        }

    stderr = outcome.stderr_tail or ""
    oom = any(m in stderr for m in _OOM_MARKERS)
    if outcome.signal is not None or (outcome.returncode or 0) != 0:
        if oom or (outcome.memory_limited and outcome.signal == _signal.SIGKILL):
            return fail(
                FailureKind.OOM,
                "ran out of memory"
                + (
                    " under budget.memory_mb; raise it or use a smaller configuration"
                    if outcome.memory_limited
                    else "; use a smaller configuration"
                ),
            )
        if outcome.signal is not None:
            return fail(FailureKind.SIGNAL, f"killed by {_signal_name(outcome.signal)}")
        last = _last_line(stderr)
        return fail(FailureKind.CRASH, f"exited with code {outcome.returncode}" + (f": {last}" if last else ""))
    if outcome.info.get("self_pruned"):  # Optuna's TrialPruned, raised by the objective itself
        return {
            **fields,
            "state": TrialState.PRUNED,
            "reason": "the objective pruned itself (TrialPruned)",
            "value": value if finite else None,
        }
    if value is None:
        return fail(
            FailureKind.NO_METRIC,
            f"finished without reporting '{metric}'; call "
            f"tunesmith.report({metric}=...) or print 'TUNESMITH_REPORT {{\"{metric}\": ...}}'",
        )
    if not finite:
        return fail(FailureKind.NAN, f"objective '{metric}' was {value} (not a finite number)")
    return {**fields, "state": TrialState.COMPLETE, "value": float(value), "reason": None, "failure": None}
