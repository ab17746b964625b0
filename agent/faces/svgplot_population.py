"""A Population Based Training study's family tree as SVG: the population plot.

x is the training step (the reports); each member of the population has a lane, and each of its segments
(trials) is a line from the step it began at to its last reported step, coloured by its value (orange is
better). A dashed arrow at a step joins the segment whose checkpoint was loaded there to the segment that
loaded it (an exploit, when another member's). The training behind the best result is outlined in dark,
its arrows solid, and the best result ringed. Data: population.py's ``population_data``.

Same contract as svgplot.py (svg.py): self-contained, escaped, every segment has ``data-trial`` and a
``<title>`` that says it in words (trial, member, steps, params, value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from agent.faces.lineage import fmt_value, params_text
from agent.faces.svg import INK, MUTED, PAD_L, PAD_R, PAD_T, Scale, W, doc, empty, fmt, ramp, ramp_legend

LANE_H, ROW_GAP = 28, 8  # a lane's height with one row; each further row of overlapping segments adds ROW_GAP
OUTLINE = "#111827"


def _color(value: float | None, lo: float, hi: float, direction: str) -> str:
    if value is None:
        return MUTED
    t = 0.5 if hi - lo < 1e-12 else (value - lo) / (hi - lo)
    return ramp(t if direction == "maximize" else 1 - t)


def _segment_tip(s: Mapping[str, Any], metric: str) -> str:
    value = fmt_value(s["value"]) if s["value"] is not None else "-"
    params = params_text(s["params"], list(s["params"]))
    return (
        f"trial #{s['trial']}, member {s['member']}, steps {s['start']}–{s['end']}, {params}, "
        f"{metric}={value} ({s['began']}; {s['ended']})"
    )


def _link_tip(ln: Mapping[str, Any]) -> str:
    ops = ", ".join(f"{k} {v}" for k, v in ln["explore"].items())
    whose = f"member {ln['parent_member']}'s" if ln["parent_member"] != ln["member"] else "its own"
    return (
        f"{ln['kind']}: trial #{ln['trial']} (member {ln['member']}) continues from {whose} checkpoint of "
        f"trial #{ln['parent']} at step {ln['step']}" + (f"; explored: {ops}" if ops else "")
    )


def population_svg(data: Mapping[str, Any], metric: str, direction: str, *, width: float = W) -> str:
    """The population plot (module docstring) of ``data``, laid out ``width`` wide."""
    title = f"population: {metric} by member and training step"
    segments, links, best = data["segments"], data["links"], data["best"]
    if not segments:
        return empty(title, "no member of the population has started yet", width)
    members: list[int] = data["members"]
    rows: Mapping[int, int] = data["rows"]
    top = PAD_T + 6
    lane_top: dict[int, float] = {}
    y = float(top)
    for m in members:
        lane_top[m] = y
        y += LANE_H + ROW_GAP * (rows[m] - 1)
    bottom = y
    x = Scale(min(0.0, *(s["start"] for s in segments)), float(data["last_step"]), PAD_L + 8, width - PAD_R - 8)

    def at(member: int, row: int) -> float:
        middle = lane_top[member] + (LANE_H + ROW_GAP * (rows[member] - 1)) / 2
        return middle + (row - (rows[member] - 1) / 2) * ROW_GAP

    body: list[str] = []
    for i, m in enumerate(members):
        h = LANE_H + ROW_GAP * (rows[m] - 1)
        if i % 2:
            body.append(
                f'<rect x="{PAD_L}" y="{lane_top[m]:.1f}" width="{width - PAD_R - PAD_L}" height="{h}" fill="#f8fafc"/>'
            )
        body.append(
            f'<text x="{PAD_L - 6}" y="{lane_top[m] + h / 2 + 4:.1f}" text-anchor="end" fill="{INK}">member {m}</text>'
        )
    ticks = sorted({round(v) for v in x.ticks()})
    for v in ticks:
        body.append(
            f'<line x1="{x(v):.1f}" y1="{top}" x2="{x(v):.1f}" y2="{bottom:.1f}" stroke="#eef0f3"/>'
            f'<text x="{x(v):.1f}" y="{bottom + 15:.1f}" text-anchor="middle" fill="{INK}">{v}</text>'
        )
    body.append(
        f'<text x="{(PAD_L + width - PAD_R) / 2}" y="{bottom + 32:.1f}" text-anchor="middle" fill="{INK}">'
        "training step (reports)</text>"
    )
    for s in segments:  # the best result's training, outlined under the segments
        if s["path"] is not None:
            yy = at(s["member"], s["row"])
            body.append(
                f'<line class="ancestry" x1="{x(s["path"][0]):.1f}" y1="{yy:.1f}" x2="{x(s["path"][1]):.1f}" '
                f'y2="{yy:.1f}" stroke="{OUTLINE}" stroke-width="9" stroke-linecap="round"/>'
            )
    values = [s["value"] for s in segments if s["value"] is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    for s in segments:
        yy, x0, x1 = at(s["member"], s["row"]), x(s["start"]), x(s["end"])
        color = _color(s["value"], lo, hi, direction)
        tip = escape(_segment_tip(s, metric))
        if x1 - x0 < 1:
            body.append(
                f'<circle data-trial="{s["trial"]}" class="trial segment" cx="{x0:.1f}" cy="{yy:.1f}" r="3.5" '
                f'fill="{color}"><title>{tip}</title></circle>'
            )
            continue
        gap = 1.0 if x1 - x0 > 6 else 0.0  # segments of one lane that meet at a step stay apart
        body.append(
            f'<line data-trial="{s["trial"]}" class="trial segment" x1="{x0 + gap:.1f}" y1="{yy:.1f}" '
            f'x2="{x1 - gap:.1f}" y2="{yy:.1f}" stroke="{color}" stroke-width="6"><title>{tip}</title></line>'
        )
    for ln in links:
        y0, y1 = at(ln["parent_member"], ln["parent_row"]), at(ln["member"], ln["row"])
        if abs(y1 - y0) < 1:
            continue  # a member continuing its own training on the same row: the lane shows it
        xx, head = x(ln["step"]), y1 - (5 if y1 > y0 else -5)
        color, dash = (OUTLINE, "") if ln["ancestry"] else (MUTED, ' stroke-dasharray="3 2"')
        cls = "link ancestry" if ln["ancestry"] else "link"
        body.append(
            f'<g class="{cls}" data-trial="{ln["trial"]}"><title>{escape(_link_tip(ln))}</title>'
            f'<line x1="{xx:.1f}" y1="{y0:.1f}" x2="{xx:.1f}" y2="{head:.1f}" stroke="{color}" '
            f'stroke-width="{2 if ln["ancestry"] else 1.3}"{dash}/>'
            f'<circle cx="{xx:.1f}" cy="{y0:.1f}" r="2.5" fill="{color}"/>'
            f'<path d="M{xx - 4:.1f},{head:.1f}L{xx + 4:.1f},{head:.1f}L{xx:.1f},{y1:.1f}Z" fill="{color}"/></g>'
        )
    notes = [
        f"{len(members)} members, {len(segments)} segments, "
        f"{sum(1 for ln in links if ln['kind'] == 'exploit')} exploits; a dashed arrow: a segment continues "
        "from the checkpoint another wrote at that step"
    ]
    if best is not None:
        bx, by = x(best["end"]), at(best["member"], best["row"])
        words = f"best result: trial #{best['trial']}, member {best['member']}, {metric}={fmt_value(best['value'])}"
        body.append(
            f'<circle class="best" data-trial="{best["trial"]}" cx="{bx:.1f}" cy="{by:.1f}" r="7" fill="none" '
            f'stroke="{OUTLINE}" stroke-width="2"><title>{escape(words)}</title></circle>'
        )
        notes.append(f"outlined in dark: the training behind the {words}")
    worse, better = (fmt(lo), fmt(hi)) if direction == "maximize" else (fmt(hi), fmt(lo))
    key = ramp_legend(worse, better, width=width) if values else None
    return doc(body, title, bottom + 40, width, key, notes)
