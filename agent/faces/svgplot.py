"""The study's plots as self-contained SVG: history, importance, parallel coordinates, learning curves.

One renderer for both faces: the web page inlines these, the terminal chat writes them to
``DIR/plots/*.svg`` (the slice, contour, EDF and timeline plots are in svgplot_params.py and
svgplot_time.py, a PBT study's population in svgplot_population.py; plots.py picks one by name). Every
mark that stands for a trial carries ``data-trial="N"`` and a ``<title>`` tooltip, so the page can open that
trial on click. All text is XML-escaped (parameter names and choices come from the spec); see svg.py for the
shared contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from agent.faces.insights import Importance
from agent.faces.svg import (
    ACCENT,
    BAD,
    INK,
    MUTED,
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
    legend,
    ramp,
    ramp_legend,
    shorten,
)

LOG_NEEDS_POSITIVE = "log scale needs positive values: shown linear"


def _y_scale(values: Sequence[float], log: bool) -> tuple[Scale, str | None]:
    """The objective's scale; a note when a log scale was asked for and cannot be drawn."""
    ok = log and Scale.log_ok(values)
    scale = Scale(min(values), max(values), H - PAD_B - 6, PAD_T + 6, log=ok)
    return scale, (LOG_NEEDS_POSITIVE if log and not ok else None)


def history_svg(rows: Sequence[dict[str, Any]], metric: str, *, log: bool = False, width: float = W) -> str:
    """Optimization history: each trial's value (dots), trials without one (crosses in their state's
    colour, at the bottom) and the best so far (line)."""
    title = f"optimization history ({metric})"
    values = [r["value"] for r in rows if r["value"] is not None]
    if not values:
        return empty(title, "no complete trial yet", width)
    x = Scale(min(r["trial"] for r in rows), max(r["trial"] for r in rows), PAD_L + 8, width - PAD_R - 8)
    y, why = _y_scale(values, log)
    body = axes(x, y, "trial", metric + (" (log)" if y.log else ""), width=width)
    steps: list[str] = []
    last: float | None = None
    for r in rows:
        if r["best"] is None:
            continue
        px, py = x(r["trial"]), y(r["best"])
        if last is not None:
            steps.append(f"L{px:.1f},{last:.1f}")
        steps.append(("M" if not steps else "L") + f"{px:.1f},{py:.1f}")
        last = py
    body.append(f'<path d="{" ".join(steps)}" fill="none" stroke="{ACCENT}" stroke-width="2" class="best"/>')
    for r in rows:
        tip = f"#{r['trial']} {r['state']} ({r['proposer']})"
        if r["value"] is None:
            color = STATE_COLORS.get(r["state"], BAD)
            body.append(
                f'<g data-trial="{r["trial"]}" class="failed"><title>{escape(tip)}</title>'
                f'<text x="{x(r["trial"]):.1f}" y="{H - PAD_B - 2}" text-anchor="middle" fill="{color}">×</text>'
                "</g>"
            )
        else:
            body.append(
                f'<circle data-trial="{r["trial"]}" class="trial" cx="{x(r["trial"]):.1f}" '
                f'cy="{y(r["value"]):.1f}" r="4" fill="{INK}" fill-opacity="0.55">'
                f"<title>{escape(tip)}: {fmt(r['value'])}</title></circle>"
            )
    states = sorted({r["state"] for r in rows if r["value"] is None})
    key = legend([("best so far", ACCENT), *((f"× {s}", STATE_COLORS.get(s, BAD)) for s in states)], width=width)
    return doc(body, title, H, width, key, [why] if why else [])


def importance_svg(imp: Importance, *, width: float = W) -> str:
    """Horizontal bars, largest first; the title names the method, its seed and the trials used."""
    seed = f", seed {imp.seed}" if imp.seed is not None else ""
    title = f"parameter importance ({imp.label}{seed}, {imp.trials} complete trials)"
    if not imp.scores:
        return empty(title, imp.note or "no importance yet", width)
    rows = list(imp.scores.items())
    height = PAD_T + 26 * len(rows) + 8
    top = max(imp.scores.values()) or 1.0
    bar = width - PAD_R - 200
    body = []
    for i, (name, score) in enumerate(rows):
        yy = PAD_T + 8 + 26 * i
        body.append(
            f'<text x="150" y="{yy + 13}" text-anchor="end" fill="{INK}">{escape(shorten(name, 22))}'
            f"<title>{escape(name)}</title></text>"
            f'<rect class="bar" x="158" y="{yy}" width="{max(1.0, bar * score / top):.1f}" height="18" '
            f'fill="{ACCENT}"><title>{escape(name)}: {score:.3f}</title></rect>'
            f'<text x="{162 + bar * score / top:.1f}" y="{yy + 13}" fill="{INK}">{score:.2f}</text>'
        )
    return doc(body, title, height, width, notes=[imp.meaning, *([imp.note] if imp.note else [])])


def parallel_svg(data: Mapping[str, Any], metric: str, direction: str, *, log: bool = False, width: float = W) -> str:
    """Parallel coordinates: one axis per parameter and a last one for the objective, one line per complete
    trial coloured by its rank (orange is better), with a legend."""
    title = f"parallel coordinates ({metric})"
    axes_, lines = data["axes"], data["lines"]
    if not lines:
        return empty(title, "no complete trial yet", width)
    values = [ln["value"] for ln in lines]
    ok_log = log and Scale.log_ok(values)
    obj = Scale(min(values), max(values), 0.0, 1.0, log=ok_log)
    n = len(axes_) + 1
    left, right = 30, width - PAD_R - 56
    xs = [left + i * (right - left) / max(1, n - 1) for i in range(n)]
    y = Scale(0.0, 1.0, H - PAD_B, PAD_T + 16)
    body = []
    # colour by rank, not by value: one outlier must not paint every other line the same
    ordered = sorted(lines, key=lambda ln: ln["value"] if direction == "maximize" else -ln["value"])
    for rank, ln in enumerate(ordered):  # best drawn last, on top
        t = rank / max(1, len(ordered) - 1)
        pts = [
            f"{xs[i]:.1f},{y(pos):.1f}" for i, a in enumerate(axes_) if (pos := ln["points"].get(a["name"])) is not None
        ]
        pts.append(f"{xs[-1]:.1f},{y(obj(ln['value'])):.1f}")
        body.append(
            f'<polyline data-trial="{ln["trial"]}" class="trial" points="{" ".join(pts)}" fill="none" '
            f'stroke="{ramp(t)}" stroke-width="1.6" stroke-opacity="0.8">'
            f"<title>#{ln['trial']}: {fmt(ln['value'])}</title></polyline>"
        )
    span = (right - left) / max(1, n - 1)
    chars = max(4, int(span / 6.6))
    lo, hi = (10**obj.lo, 10**obj.hi) if obj.log else (obj.lo, obj.hi)
    named = [(a["name"], a["ticks"]) for a in axes_]
    named.append((metric + (" (log)" if obj.log else ""), [(0.0, fmt(lo)), (1.0, fmt(hi))]))
    for i, (name, ticks) in enumerate(named):
        body.append(
            f'<line x1="{xs[i]:.1f}" y1="{y(0):.1f}" x2="{xs[i]:.1f}" y2="{y(1):.1f}" stroke="{INK}" '
            f'stroke-width="{1 if i < n - 1 else 2}"/>'
            f'<text x="{xs[i]:.1f}" y="{H - 14}" text-anchor="middle" font-weight="bold" fill="{INK}">'
            f"{escape(shorten(name, chars))}<title>{escape(name)}</title></text>"
        )
        for pos, label in ticks:
            body.append(f'<text x="{xs[i] + 4:.1f}" y="{y(pos) + 4:.1f}" fill="{MUTED}">{escape(label)}</text>')
    notes = [LOG_NEEDS_POSITIVE] if log and not ok_log else []
    return doc(body, title, H, width, ramp_legend("worse", "better (by rank)", width=width), notes)


def curves_svg(
    curves: Mapping[int, Sequence[tuple[float, float]]],
    metric: str,
    *,
    highlight: int | None = None,
    states: Mapping[int, str] | None = None,
    log: bool = False,
    width: float = W,
) -> str:
    """Learning curves: the objective by step, one line per trial, coloured by the trial's state
    (``highlight`` drawn bold, the others grey). Trials that report no steps get a sentence, not a dot."""
    title = f"learning curves ({metric})" if highlight is None else f"trial #{highlight}: {metric} by step"
    pts = [p for c in curves.values() for p in c]
    if not pts:
        return empty(title, "no intermediate reports yet", width)
    if all(len(c) <= 1 for c in curves.values()):
        why = (
            "this study's trials report no steps (one value each): the history plot shows them"
            if highlight is None
            else f"trial #{highlight} reported one value ({fmt(pts[0][1])}) and no steps"
        )
        return empty(title, why, width)
    states = states or {}
    x = Scale(min(p[0] for p in pts), max(p[0] for p in pts), PAD_L + 8, width - PAD_R - 8)
    y, log_note = _y_scale([p[1] for p in pts], log)
    body = axes(x, y, "step", metric + (" (log)" if y.log else ""), width=width)
    for number, c in sorted(curves.items(), key=lambda kv: kv[0] == highlight):
        bold = number == highlight
        d = " ".join(("M" if i == 0 else "L") + f"{x(s):.1f},{y(v):.1f}" for i, (s, v) in enumerate(c))
        state = states.get(number, "complete")
        color = STATE_COLORS.get(state, ACCENT) if bold or highlight is None else MUTED
        stroke = 2.5 if bold else 1.2
        tip = f"#{number} {state}" + (f": {fmt(c[-1][1])}" if c else "")
        body.append(
            f'<path data-trial="{number}" class="trial" d="{d}" fill="none" stroke="{color}" '
            f'stroke-width="{stroke}" stroke-opacity="0.85"><title>{escape(tip)}</title></path>'
        )
        if len(c) == 1:
            body.append(
                f'<circle data-trial="{number}" cx="{x(c[0][0]):.1f}" cy="{y(c[0][1]):.1f}" r="3" '
                f'fill="{color}"><title>{escape(tip)}</title></circle>'
            )
    key = None
    if highlight is None:
        shown = sorted({states.get(n, "complete") for n in curves})
        key = legend([(s, STATE_COLORS.get(s, ACCENT)) for s in shown], width=width, line=True)
    return doc(body, title, H, width, key, [log_note] if log_note else [])
