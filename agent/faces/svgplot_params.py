"""The objective against the parameters, as SVG: slice plots (one panel per parameter) and a contour of two.

Same contract as svgplot.py (svg.py): self-contained, escaped, every trial mark has ``data-trial``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from agent.faces.svg import (
    INK,
    MUTED,
    PAD_B,
    PAD_L,
    PAD_R,
    PAD_T,
    H,
    Scale,
    W,
    doc,
    empty,
    fmt,
    legend,
    ramp,
    ramp_legend,
    shorten,
)

PANEL_H = 190
TWO_COLUMNS = 560  # the narrowest plot that shows two slice panels side by side
LOG_NOTE = "log scale needs positive values: shown linear"


def _age(i: int, n: int) -> str:
    """Light (early trials) to dark blue (late ones)."""
    t = i / max(1, n - 1)
    a, b = (191, 219, 254), (30, 64, 175)
    r, g, bl = (round(a[k] + (b[k] - a[k]) * t) for k in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def _ticks_x(ticks: Sequence[tuple[float, str]], x: Scale, bottom: float, chars: int) -> list[str]:
    return [
        f'<text x="{x(pos):.1f}" y="{bottom + 14:.1f}" text-anchor="middle" fill="{INK}">'
        f"{escape(shorten(label, chars))}<title>{escape(label)}</title></text>"
        for pos, label in ticks
    ]


def slice_svg(data: Mapping[str, Any], metric: str, *, log: bool = False, width: float = W) -> str:
    """One panel per parameter: the objective (y, shared) against that parameter's value (x), one dot per
    complete trial, coloured from light (early) to dark (late)."""
    title = f"slice: {metric} by each parameter"
    params, points = data["params"], data["points"]
    if not points or not params:
        return empty(title, "no complete trial yet", width)
    values = [p["value"] for p in points]
    ok_log = log and Scale.log_ok(values)
    cols = 2 if len(params) > 1 and width >= TWO_COLUMNS else 1
    pw = (width - 8) / cols
    rows = -(-len(params) // cols)
    height = PAD_T + rows * PANEL_H + 8
    order = {p["trial"]: i for i, p in enumerate(sorted(points, key=lambda p: p["trial"]))}
    body: list[str] = []
    for k, prm in enumerate(params):
        ox, oy = 4 + (k % cols) * pw, PAD_T + (k // cols) * PANEL_H
        left, right, top, bottom = ox + 56, ox + pw - 14, oy + 22, oy + PANEL_H - 36
        x = Scale(0.0, 1.0, left + 6, right - 6)
        y = Scale(min(values), max(values), bottom - 4, top + 4, log=ok_log)
        name = prm["name"] + (" (log)" if prm["log"] else "")
        body.append(
            f'<text x="{(left + right) / 2:.1f}" y="{oy + 14:.1f}" text-anchor="middle" font-weight="bold" '
            f'fill="{INK}">{escape(shorten(name, int(pw / 7)))}<title>{escape(prm["name"])}</title></text>'
            f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{MUTED}"/>'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{MUTED}"/>'
        )
        for v in y.ticks(2):
            body.append(
                f'<text x="{left - 5}" y="{y(v) + 4:.1f}" text-anchor="end" fill="{INK}">{fmt(v)}</text>'
                f'<line x1="{left}" y1="{y(v):.1f}" x2="{right}" y2="{y(v):.1f}" stroke="#eef0f3"/>'
            )
        chars = max(3, int((right - left) / max(1, len(prm["ticks"])) / 6.5))
        body += _ticks_x(prm["ticks"], x, bottom, chars)
        for p in points:
            pos = p["pos"].get(prm["name"])
            if pos is None:
                continue
            body.append(
                f'<circle data-trial="{p["trial"]}" class="trial" cx="{x(pos):.1f}" cy="{y(p["value"]):.1f}" r="3.5" '
                f'fill="{_age(order[p["trial"]], len(points))}" stroke="#1e3a8a" stroke-width="0.4">'
                f"<title>#{p['trial']}: {escape(prm['name'])}={escape(str(p['params'].get(prm['name'])))}, "
                f"{escape(metric)}={fmt(p['value'])}</title></circle>"
            )
    key = legend([("early trials", _age(0, 2)), ("late trials", _age(1, 2))], width=width)
    return doc(body, title, height, width, key, [LOG_NOTE] if log and not ok_log else [])


def contour_svg(data: Mapping[str, Any], metric: str, direction: str, *, width: float = W) -> str:
    """The objective over two parameters: interpolated cells (orange is better) and the trials as dots."""
    xa, ya = data["x"], data["y"]
    title = f"contour: {metric} over {xa['name']} and {ya['name']}"
    points, grid = data["points"], data["grid"]
    if len(points) < 2:
        return empty(title, f"a contour needs two complete trials that set {xa['name']} and {ya['name']}", width)
    values = [p["value"] for p in points]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    left, right, top, bottom = PAD_L + 40, width - PAD_R - 10, PAD_T + 6, H - PAD_B
    x, y = Scale(0.0, 1.0, left, right), Scale(0.0, 1.0, bottom, top)
    n = len(grid)
    cw, ch = (right - left) / n, (bottom - top) / n
    body = []
    for j, row in enumerate(grid):
        for i, v in enumerate(row):
            t = (v - lo) / span
            color = ramp(t if direction == "maximize" else 1 - t)
            body.append(
                f'<rect x="{left + i * cw:.1f}" y="{bottom - (j + 1) * ch:.1f}" width="{cw + 0.3:.1f}" '
                f'height="{ch + 0.3:.1f}" fill="{color}" fill-opacity="0.75"/>'
            )
    for p in points:
        body.append(
            f'<circle data-trial="{p["trial"]}" class="trial" cx="{x(p["x"]):.1f}" cy="{y(p["y"]):.1f}" r="3.5" '
            f'fill="{INK}" stroke="#fff" stroke-width="1"><title>#{p["trial"]}: {fmt(p["value"])}</title></circle>'
        )
    body.append(
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="{MUTED}"/>'
    )
    body += _ticks_x(xa["ticks"], x, bottom, 10)
    for pos, label in ya["ticks"]:
        body.append(
            f'<text x="{left - 5}" y="{y(pos) + 4:.1f}" text-anchor="end" fill="{INK}">'
            f"{escape(shorten(label, 10))}<title>{escape(label)}</title></text>"
        )
    xname = xa["name"] + (" (log)" if xa["log"] else "")
    yname = ya["name"] + (" (log)" if ya["log"] else "")
    mid = (top + bottom) / 2
    body.append(
        f'<text x="{(left + right) / 2}" y="{bottom + 30}" text-anchor="middle" fill="{INK}">{escape(xname)}</text>'
        f'<text x="{left - 88}" y="{mid}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 {left - 88} {mid})">{escape(yname)}</text>'
    )
    worse, better = (fmt(lo), fmt(hi)) if direction == "maximize" else (fmt(hi), fmt(lo))
    notes = [f"interpolated (inverse distance) from {len(points)} complete trials"]
    return doc(body, title, H, width, ramp_legend(worse, better, width=width), notes)
