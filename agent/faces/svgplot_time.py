"""The objective's distribution and the study's course in time, as SVG: the empirical distribution (EDF) and
a timeline of the trials per worker.

Same contract as svgplot.py (svg.py): self-contained, escaped, every trial mark has ``data-trial``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from agent.faces.svg import (
    ACCENT,
    INK,
    PAD_B,
    PAD_L,
    PAD_R,
    PAD_T,
    STATE_COLORS,
    H,
    Scale,
    W,
    axes,
    doc,
    empty,
    fmt,
    fmt_seconds,
    legend,
)

LANE_H = 24
LOG_NOTE = "log scale needs positive values: shown linear"


def edf_svg(values: Sequence[float], metric: str, direction: str, *, log: bool = False, width: float = W) -> str:
    """The share of complete trials whose value is at most x, as a step line over x."""
    title = f"empirical distribution of {metric} ({len(values)} complete trials)"
    if not values:
        return empty(title, "no complete trial yet", width)
    ok_log = log and Scale.log_ok(values)
    x = Scale(min(values), max(values), PAD_L + 8, width - PAD_R - 8, log=ok_log)
    y = Scale(0.0, 1.0, H - PAD_B, PAD_T + 6)
    better = "right" if direction == "maximize" else "left"
    xlabel = f"{metric}{' (log)' if x.log else ''} ({direction}: better to the {better})"
    body = axes(x, y, xlabel, "share of trials ≤ x", int_x=False, width=width)
    n = len(values)
    d = [f"M{x(values[0]):.1f},{y(0):.1f}"]
    for i, v in enumerate(values):
        d.append(f"L{x(v):.1f},{y(i / n):.1f}L{x(v):.1f},{y((i + 1) / n):.1f}")
    body.append(f'<path class="edf" d="{"".join(d)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    return doc(body, title, H, width, notes=[LOG_NOTE] if log and not ok_log else [])


def timeline_svg(data: Mapping[str, Any], *, width: float = W) -> str:
    """One lane per worker slot, each trial a bar from its start to its end, coloured by its state."""
    title = "timeline: trials per worker"
    bars = data["bars"]
    if not bars:
        return empty(title, "no trial has started yet", width)
    lanes = int(data["lanes"])
    top, bottom = PAD_T + 6, PAD_T + 6 + lanes * LANE_H
    height = bottom + 40
    x = Scale(0.0, max(float(data["span"]), 1.0), PAD_L + 8, width - PAD_R - 8)
    body = []
    for v in x.ticks():
        body.append(
            f'<line x1="{x(v):.1f}" y1="{top}" x2="{x(v):.1f}" y2="{bottom}" stroke="#eef0f3"/>'
            f'<text x="{x(v):.1f}" y="{bottom + 15}" text-anchor="middle" fill="{INK}">{fmt_seconds(v)}</text>'
        )
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(data["t0"])))
    body.append(
        f'<text x="{(PAD_L + width - PAD_R) / 2}" y="{bottom + 32}" text-anchor="middle" fill="{INK}">'
        f"time since the first trial started ({escape(started)})</text>"
    )
    for lane in range(lanes):
        yy = top + lane * LANE_H
        body.append(f'<text x="{PAD_L - 6}" y="{yy + 16}" text-anchor="end" fill="{INK}">worker {lane + 1}</text>')
    for b in bars:
        x0, x1 = x(b["start"]), x(b["end"])
        yy = top + b["lane"] * LANE_H + 3
        color = STATE_COLORS.get(b["state"], INK)
        tip = f"#{b['trial']} {b['state']}, {b['end'] - b['start']:.1f} s, from {fmt_seconds(b['start'])}"
        body.append(
            f'<rect data-trial="{b["trial"]}" class="trial" x="{x0:.1f}" y="{yy}" width="{max(1.5, x1 - x0):.1f}" '
            f'height="{LANE_H - 6}" rx="2" fill="{color}" stroke="#fff" stroke-width="0.5">'
            f"<title>{escape(tip)}</title></rect>"
        )
    shown = [s for s in STATE_COLORS if any(b["state"] == s for b in bars)]
    key = legend([(s, STATE_COLORS[s]) for s in shown], width=width)
    notes = [f"{len(bars)} trials on {lanes} worker slot(s); the longest took {fmt(_longest(bars))} s"]
    return doc(body, title, height, width, key, notes)


def _longest(bars: Sequence[Mapping[str, Any]]) -> float:
    return max(float(b["end"]) - float(b["start"]) for b in bars)
