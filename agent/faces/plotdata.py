"""The data behind the slice, contour, EDF and timeline plots, computed from stored trials.

* ``slice_data``: per parameter, every complete trial's position on that parameter's axis (log axes in log
  space, categorical ones by choice index, as in parallel coordinates) with its value.
* ``contour_data``: two parameters' plane, the complete trials on it, and the objective interpolated on a
  grid by inverse-distance weighting (in axis space), so a handful of trials already gives a surface.
* ``edf_data``: the complete trials' values, sorted (the empirical distribution function's steps).
* ``timeline_data``: every started trial as a bar from its start to its end (now, while it runs), laid on
  lanes the way the worker slots ran them: a trial takes the first lane free at its start, so at most
  ``workers`` lanes (more after a resume with more workers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from agent.core.records import Trial
from agent.core.space import CategoricalParam, SearchSpace
from agent.faces.insights import axis_position, axis_value

GRID = 24
IDW_POWER = 2.0


def axis_labels(space: SearchSpace, name: str) -> list[tuple[float, str]]:
    """Tick labels along a parameter's axis in [0, 1]: every choice, or three values (log-aware)."""
    p = space.params[name]
    if isinstance(p, CategoricalParam):
        n = max(1, len(p.choices) - 1)
        return [(i / n, str(c)) for i, c in enumerate(p.choices)]
    out = []
    for pos in (0.0, 0.5, 1.0):
        v = axis_value(space, name, pos)
        out.append((pos, f"{v:.3g}" if isinstance(v, float) and not float(v).is_integer() else str(int(v))))
    return out


def _is_log(space: SearchSpace, name: str) -> bool:
    p = space.params[name]
    return not isinstance(p, CategoricalParam) and bool(p.log)


def slice_data(trials: Sequence[Trial], space: SearchSpace) -> dict[str, Any]:
    """``params``: name, log, ticks; ``points``: trial, value, and each parameter's axis position."""
    points = []
    for t in trials:
        if t.ok:
            pos = {n: axis_position(space, n, t.params.get(n)) for n in space.names}
            points.append({"trial": t.number, "value": t.value, "pos": pos, "params": t.params})
    params = [{"name": n, "log": _is_log(space, n), "ticks": axis_labels(space, n)} for n in space.names]
    return {"params": params, "points": points}


def contour_data(trials: Sequence[Trial], space: SearchSpace, x: str, y: str, *, size: int = GRID) -> dict[str, Any]:
    """The (x, y) plane: trials on it and a ``size`` x ``size`` grid of interpolated values (rows bottom
    to top). Raises KeyError for a parameter not in ``space``."""
    for name in (x, y):
        if name not in space.params:
            raise KeyError(name)
    pts = []
    for t in trials:
        if not t.ok:
            continue
        px, py = axis_position(space, x, t.params.get(x)), axis_position(space, y, t.params.get(y))
        if px is not None and py is not None:
            pts.append({"trial": t.number, "value": t.value, "x": px, "y": py})
    grid: list[list[float]] = []
    if pts:
        for j in range(size):
            gy = (j + 0.5) / size
            grid.append([_idw((i + 0.5) / size, gy, pts) for i in range(size)])
    return {
        "x": {"name": x, "log": _is_log(space, x), "ticks": axis_labels(space, x)},
        "y": {"name": y, "log": _is_log(space, y), "ticks": axis_labels(space, y)},
        "points": pts,
        "grid": grid,
    }


def _idw(gx: float, gy: float, pts: Sequence[dict[str, Any]]) -> float:
    num = den = 0.0
    for p in pts:
        d2 = (p["x"] - gx) ** 2 + (p["y"] - gy) ** 2
        if d2 < 1e-12:
            return float(p["value"])
        w = 1.0 / d2 ** (IDW_POWER / 2)
        num += w * p["value"]
        den += w
    return num / den


def edf_data(trials: Sequence[Trial]) -> list[float]:
    """The complete trials' values, sorted ascending."""
    return sorted(float(t.value) for t in trials if t.ok and t.value is not None)


def timeline_data(trials: Sequence[Trial], now: float) -> dict[str, Any]:
    """``t0`` (the first start, epoch seconds), ``lanes`` and ``bars`` (trial, lane, start and end in
    seconds after ``t0``, state). Trials that never started (cancelled while queued) are left out."""
    started = sorted((t for t in trials if t.started_at is not None), key=lambda t: (t.started_at, t.number))
    if not started:
        return {"t0": None, "lanes": 0, "bars": [], "span": 0.0}
    t0 = started[0].started_at or 0.0
    lane_ends: list[float] = []
    bars: list[dict[str, Any]] = []
    for t in started:
        began = t.started_at or t0
        start = began - t0
        end = (t.finished_at if t.finished_at is not None else max(now, began)) - t0
        lane = next((i for i, e in enumerate(lane_ends) if e <= start + 1e-3), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(end)
        else:
            lane_ends[lane] = end
        bars.append({"trial": t.number, "lane": lane, "start": start, "end": max(end, start), "state": t.state.value})
    span = max((float(b["end"]) for b in bars), default=0.0)
    return {"t0": t0, "lanes": len(lane_ends), "bars": bars, "span": span if math.isfinite(span) else 0.0}
