"""A Population Based Training study's population as data: what the population plot draws
(svgplot_population.py) and the schedule table under it on the page. lineage.py says the same in text
(``tunesmith show DIR --lineage``); the family tree and the schedule are its ``ancestry`` and ``schedule``.

* ``population_data``: one lane per member; each segment (a trial with a ``Lineage``) spans from the step it
  began at (its checkpoint's step; 0 from scratch) to its last reported step, with its value (the trial's,
  else its last report's). Segments of one member that overlap (a segment reports past the step its
  successor took the checkpoint at) go on separate rows of the lane. ``links``: every segment that loaded a
  checkpoint, from the segment that wrote it, at that step. ``best``: the best result; the segments on its
  ancestry carry ``path``, the steps of theirs that its training went through.
* ``schedule_rows``: the hyperparameter schedule behind the best result, one row per stretch of training,
  naming the params that changed at its first step.

A study with no population (no scheduler: pbt) gives no members, segments, links or rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from agent.core.records import MetricPoint, Trial, best_trial
from agent.core.space import same_value
from agent.faces.lineage import Curves, ancestry, how_began, how_ended, reported_steps, schedule


def _once(curves: Curves) -> Curves:
    """``curves`` that reads each trial's reports (from the store) once."""
    read: dict[int, Sequence[MetricPoint]] = {}

    def once(number: int) -> Sequence[MetricPoint]:
        if number not in read:
            read[number] = curves(number)
        return read[number]

    return once


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _value(t: Trial, curves: Curves, metric: str) -> float | None:
    """The segment's value: the trial's, else the last value of ``metric`` it reported."""
    if _finite(t.value) is not None:
        return t.value
    reported = [p.values[metric] for p in curves(t.number) if metric in p.values and not p.final]
    return _finite(reported[-1]) if reported else None


def _span(t: Trial, curves: Curves, metric: str) -> tuple[int, int]:
    """(start, end): the step the segment began at and its last reported step (its start when none)."""
    lin = t.lineage
    assert lin is not None
    start = lin.start_step if lin.start_step is not None else 0
    steps = reported_steps(curves(t.number), metric)
    return start, max([start, *steps])


def population_data(trials: Sequence[Trial], curves: Curves, *, metric: str, direction: str) -> dict[str, Any]:
    """``members`` (sorted), ``rows`` (member -> rows of its lane), ``segments`` (trial, member, row, kind,
    start, end, value, state, began, ended, params, path), ``links`` (parent, parent_member, parent_row,
    trial, member, row, step, kind, explore, ancestry), ``best`` (trial, member, row, value, end) or None,
    and ``last_step`` (the furthest step reached)."""
    curves = _once(curves)
    segs = sorted((t for t in trials if t.lineage is not None), key=lambda t: t.number)
    best = best_trial(segs, direction)
    line = ancestry(best, trials) if best is not None else []
    path = {s.trial: (s.first - 1, s.last) for s in schedule(best, trials, curves, metric)} if best else {}
    row_ends: dict[int, list[int]] = {}  # member -> the end of the last segment on each row of its lane
    placed: dict[int, dict[str, Any]] = {}
    for t in segs:
        lin = t.lineage
        assert lin is not None
        start, end = _span(t, curves, metric)
        ends = row_ends.setdefault(lin.member, [])
        row = next((i for i, e in enumerate(ends) if e <= start), len(ends))
        if row == len(ends):
            ends.append(end)
        else:
            ends[row] = end
        placed[t.number] = {
            "trial": t.number,
            "member": lin.member,
            "row": row,
            "kind": lin.kind,
            "start": start,
            "end": end,
            "value": _value(t, curves, metric),
            "state": t.state.value,
            "began": how_began(t),
            "ended": how_ended(t),
            "params": dict(t.params),
            "path": path.get(t.number),
        }
    on_line = {t.number for t in line}
    links = []
    for t in segs:
        lin = t.lineage
        assert lin is not None
        parent = placed.get(lin.parent) if lin.parent is not None else None
        if parent is None or lin.start_step is None:
            continue
        seg = placed[t.number]
        links.append(
            {
                "parent": parent["trial"],
                "parent_member": parent["member"],
                "parent_row": parent["row"],
                "trial": t.number,
                "member": lin.member,
                "row": seg["row"],
                "step": lin.start_step,
                "kind": lin.kind,
                "explore": dict(lin.explore),
                "ancestry": t.number in on_line and parent["trial"] in on_line,
            }
        )
    top = placed[best.number] if best is not None else None
    return {
        "members": sorted(row_ends),
        "rows": {m: len(ends) for m, ends in row_ends.items()},
        "segments": list(placed.values()),
        "links": links,
        "best": None if top is None else {k: top[k] for k in ("trial", "member", "row", "value", "end")},
        "last_step": max((s["end"] for s in placed.values()), default=0),
    }


def schedule_rows(
    trials: Sequence[Trial], curves: Curves, *, metric: str, direction: str, mutable: Sequence[str] = ()
) -> dict[str, Any]:
    """The schedule behind the best result: ``best`` (trial, member, value) or None; ``params``: the names
    shown (the ``mutable`` ones, then any other that changed along the way, in the trials' order);
    ``rows``: first, last (steps), trial, member, how (the segment's beginning), params, changed (names
    whose value differs from the row before; none on the first row)."""
    segs = [t for t in trials if t.lineage is not None]
    best = best_trial(segs, direction)
    if best is None or best.lineage is None:
        return {"best": None, "params": [], "rows": []}
    by_number = {t.number: t for t in trials}
    rows: list[dict[str, Any]] = []
    before: dict[str, Any] | None = None
    for s in schedule(best, trials, curves, metric):
        changed = [] if before is None else [k for k, v in s.params.items() if not same_value(v, before.get(k))]
        seg = by_number[s.trial]
        rows.append(
            {
                "first": s.first,
                "last": s.last,
                "trial": s.trial,
                "member": s.member,
                "how": how_began(seg),
                "params": s.params,
                "changed": changed,
            }
        )
        before = s.params
    order = list(dict.fromkeys(k for r in rows for k in r["params"]))
    moved = {k for r in rows for k in r["changed"]}
    names = [k for k in order if k in mutable] + [k for k in order if k not in mutable and k in moved]
    return {
        "best": {"trial": best.number, "member": best.lineage.member, "value": _finite(best.value)},
        "params": names,
        "rows": rows,
    }
