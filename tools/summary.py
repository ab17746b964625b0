"""A bounded, compact summary of a study's history: what the model reads instead of the whole history.

Its size depends on ``top_k``, ``recent``, ``failures`` and the number of parameters, never on the
number of trials: the prompt of a decision at trial 500 is as large as at trial 50.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from tools.protocol import TrialView
from tools.untrusted import short, words

#: The longest rationale a proposal may carry (run_trials' schema); shown whole in later prompts.
RATIONALE_CHARS = 500
#: Points of a learning curve shown per trial (first and last always among them).
CURVE_POINTS = 8

Curve = Callable[[int], Sequence[float] | None]

FINISHED = ("complete", "failed", "timeout", "pruned")


def num(v: Any, digits: int = 6) -> Any:
    """Floats to ``digits`` significant digits (tokens are money); everything else unchanged."""
    if isinstance(v, float) and math.isfinite(v) and v != 0:
        return float(f"{v:.{digits}g}")
    return v


def downsample(values: Sequence[float], points: int = CURVE_POINTS) -> list[Any]:
    """At most ``points`` evenly spaced values of a curve, the first and the last included, 4 digits each."""
    if len(values) <= points:
        picked = list(values)
    else:
        picked = [values[round(i * (len(values) - 1) / (points - 1))] for i in range(points)]
    return [num(float(v), 4) for v in picked]


def compact(t: TrialView, *, rationale: bool = False, curve: Sequence[float] | None = None) -> dict[str, Any]:
    """One trial in few tokens; failure reasons are cleaned and truncated (they may quote stderr); the
    rationale (the model's own words) is kept whole up to ``RATIONALE_CHARS``; ``curve``: the objective's
    values over the trial's reports, downsampled."""
    out: dict[str, Any] = {"trial": t.number, "state": t.state, "params": {k: num(v) for k, v in t.params.items()}}
    if t.value is not None:
        out["value"] = num(t.value)
    out["by"] = t.proposer
    if t.state not in ("complete", "running") and t.reason:
        out["reason_untrusted" if t.failure == "crash" else "reason"] = short(t.reason, 160)
    if t.last_step is not None:
        out["steps"] = t.last_step
    if rationale and t.rationale:
        out["rationale"] = words(t.rationale, RATIONALE_CHARS)
    if curve and len(curve) > 1:
        out["curve"] = downsample(curve)
    return out


def _ok(t: TrialView) -> bool:
    return t.state == "complete" and t.value is not None and math.isfinite(t.value)


def ranked(trials: Sequence[TrialView], direction: str) -> list[TrialView]:
    """Complete trials, best first (ties: earliest first)."""
    sign = -1.0 if direction == "maximize" else 1.0
    return sorted((t for t in trials if _ok(t)), key=lambda t: (sign * float(t.value or 0.0), t.number))


def param_ranges(best: Sequence[TrialView], space: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """For the given (best) trials: [min, max] of each numeric parameter, the values seen of categoricals."""
    out: dict[str, Any] = {}
    for p in space:
        values = [t.params[p["name"]] for t in best if p["name"] in t.params]
        if not values:
            continue
        if p.get("type") == "categorical":
            out[p["name"]] = sorted(set(values), key=repr)
        else:
            out[p["name"]] = [num(min(values)), num(max(values))]
    return out


def summarize(
    trials: Sequence[TrialView],
    *,
    direction: str,
    space: Sequence[dict[str, Any]] = (),
    top_k: int = 5,
    recent: int = 5,
    failures: int = 3,
    curve: Curve | None = None,
) -> dict[str, Any]:
    """Counts, best, per-proposer record, top-k, the most recent not among the top-k, latest failures, ranges of
    the top quartile.

    ``curve(number)`` gives a trial's objective curve; only the trials shown are asked (the summary's size and
    cost stay bounded), and each shows at most ``CURVE_POINTS`` points."""

    def show(t: TrialView) -> dict[str, Any]:
        return compact(t, curve=curve(t.number) if curve else None)

    counts: dict[str, int] = {}
    for t in trials:
        counts[t.state] = counts.get(t.state, 0) + 1
    best = ranked(trials, direction)
    by: dict[str, dict[str, Any]] = {}
    incumbent: float | None = None
    for t in sorted(trials, key=lambda t: t.number):
        if t.state not in FINISHED:
            continue
        rec = by.setdefault(t.proposer, {"trials": 0, "improved_best": 0})
        rec["trials"] += 1
        if _ok(t):
            v = float(t.value or 0.0)
            if incumbent is not None and (v > incumbent if direction == "maximize" else v < incumbent):
                rec["improved_best"] += 1
            if incumbent is None or (v > incumbent if direction == "maximize" else v < incumbent):
                incumbent = v
    failed = [t for t in trials if t.state in ("failed", "timeout")]
    kinds: dict[str, int] = {}
    for t in failed:
        kinds[t.failure or t.state] = kinds.get(t.failure or t.state, 0) + 1
    quartile = best[: max(3, math.ceil(len(best) / 4))]
    out: dict[str, Any] = {
        "trials": len(trials),
        "states": counts,
        "best": compact(best[0]) if best else None,
        "by_proposer": by,
        "top": [show(t) for t in best[:top_k]],
        # the latest trials not already in "top": a small study would otherwise show the same trials twice
        "recent": [show(t) for t in _latest(trials, recent, skip={t.number for t in best[:top_k]})],
    }
    if failed:
        out["failure_kinds"] = kinds
        out["latest_failures"] = [show(t) for t in failed[-failures:]]
    if space and len(best) >= 3:
        out["top_quartile_ranges"] = param_ranges(quartile, space)
    return out


def _latest(trials: Sequence[TrialView], n: int, *, skip: set[int]) -> list[TrialView]:
    """The ``n`` highest-numbered trials whose number is not in ``skip``, oldest first."""
    rest = [t for t in sorted(trials, key=lambda t: t.number) if t.number not in skip]
    return rest[-n:] if n > 0 else []
