"""A study's own time to result (AlgoPerf's measure, applied to one study): when the best was found, and when
the study first came within 1 % of the gap between its first result and its best.

Times are seconds of wall clock from the start of the first trial; "trials" counts finished trials in the
order they finished. A study whose later trials only polish the best shows it here: most of the gain came
early, and more budget buys little.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.core.durations import duration_text
from agent.core.records import Trial, better

WITHIN = 0.01


def time_to_result(trials: Sequence[Trial], direction: str, within: float = WITHIN) -> dict[str, Any] | None:
    """``{"best": {trial, after_trials, after_s}, "within": {...}, "fraction": within}`` or None (no result yet)."""
    done = sorted((t for t in trials if t.state.counts and t.finished_at is not None), key=lambda t: t.finished_at or 0)
    ok = [t for t in done if t.ok]
    if not ok:
        return None
    start = min(t.started_at if t.started_at is not None else t.created_at for t in done)
    best = ok[0]
    for t in ok[1:]:
        if better(t.value, best.value, direction):  # type: ignore[arg-type]
            best = t
    first = ok[0].value or 0.0
    gap = abs((best.value or 0.0) - first)

    def close(t: Trial) -> bool:
        return abs((t.value or 0.0) - (best.value or 0.0)) <= within * gap

    near = next(t for t in ok if close(t))

    def when(t: Trial) -> dict[str, Any]:
        return {"trial": t.number, "after_trials": done.index(t) + 1, "after_s": (t.finished_at or start) - start}

    return {"best": when(best), "within": when(near), "fraction": within, "trials": len(done)}


def ttr_line(info: dict[str, Any] | None) -> str | None:
    """One line for people: ``best found at trial 14 (after 14 of 20 trials, 3m12s); within 1 % of it at ...``."""
    if not info:
        return None

    def clock(seconds: float) -> str:  # whole seconds, as every face writes durations (``duration_text``)
        return duration_text(float(round(seconds)))

    b, w = info["best"], info["within"]
    line = (
        f"best found at trial #{b['trial']} (after {b['after_trials']} of {info['trials']} trials, "
        f"{clock(b['after_s'])})"
    )
    if w["trial"] != b["trial"]:
        line += (
            f"; within {info['fraction']:.0%} of it from trial #{w['trial']} "
            f"(after {w['after_trials']} trials, {clock(w['after_s'])})"
        )
    return line
