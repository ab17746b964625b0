"""The study's plots as self-contained SVG (no JavaScript, no fonts or files from anywhere).

One renderer for both faces: the web page inlines these, the terminal chat writes them to
``DIR/plots/*.svg``. Every mark that stands for a trial carries ``data-trial="N"`` and a ``<title>``
tooltip, so the page can open that trial on click. All text is XML-escaped (parameter names and
choices come from the spec).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from agent.faces.insights import Importance

W, H = 640, 300
PAD_L, PAD_R, PAD_T, PAD_B = 64, 18, 26, 40
INK, MUTED, ACCENT, BAD = "#1f2937", "#9ca3af", "#2563eb", "#dc2626"
KINDS = ("history", "importance", "parallel", "curves")


def _doc(body: list[str], title: str, height: int = H) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" width="100%" '
        f'role="img" aria-label={quoteattr(title)} font-family="sans-serif" font-size="11">'
        f'<text x="{PAD_L}" y="16" font-size="13" font-weight="bold" fill="{INK}">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _empty(title: str, why: str) -> str:
    return _doc([f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" fill="{MUTED}">{escape(why)}</text>'], title)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


class _Scale:
    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        if not math.isfinite(lo) or not math.isfinite(hi):
            lo, hi = 0.0, 1.0
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, v: float) -> float:
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ticks(self, n: int = 4) -> list[float]:
        return [self.lo + i * (self.hi - self.lo) / n for i in range(n + 1)]


def _axes(x: _Scale, y: _Scale, xlabel: str, ylabel: str, *, int_x: bool = True) -> list[str]:
    out = [
        f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" stroke="{MUTED}"/>',
        f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="{MUTED}"/>',
    ]
    for v in y.ticks():
        yy = y(v)
        out.append(
            f'<text x="{PAD_L - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="{INK}">{_fmt(v)}</text>'
            f'<line x1="{PAD_L}" y1="{yy:.1f}" x2="{W - PAD_R}" y2="{yy:.1f}" stroke="#eef0f3"/>'
        )
    xticks = x.ticks()
    if int_x:  # whole numbers only, each once
        first, last = math.ceil(x.lo), math.floor(x.hi)
        step = max(1, math.ceil((last - first) / 6)) if last >= first else 1
        xticks = [float(v) for v in range(first, last + 1, step)]
    for v in xticks:
        label = str(round(v)) if int_x else _fmt(v)
        out.append(f'<text x="{x(v):.1f}" y="{H - PAD_B + 15}" text-anchor="middle" fill="{INK}">{label}</text>')
    out.append(
        f'<text x="{(PAD_L + W - PAD_R) / 2}" y="{H - 6}" text-anchor="middle" fill="{INK}">{escape(xlabel)}</text>'
    )
    out.append(
        f'<text x="12" y="{(PAD_T + H - PAD_B) / 2}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 12 {(PAD_T + H - PAD_B) / 2})">{escape(ylabel)}</text>'
    )
    return out


def history_svg(rows: Sequence[dict[str, Any]], metric: str) -> str:
    """Optimization history: each trial's value (dots; failed ones as red marks) and the best so far."""
    title = f"optimization history ({metric})"
    values = [r["value"] for r in rows if r["value"] is not None]
    if not values:
        return _empty(title, "no complete trial yet")
    x = _Scale(min(r["trial"] for r in rows), max(r["trial"] for r in rows), PAD_L + 8, W - PAD_R - 8)
    y = _Scale(min(values), max(values), H - PAD_B - 6, PAD_T + 6)
    body = _axes(x, y, "trial", metric)
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
            body.append(
                f'<g data-trial="{r["trial"]}" class="failed"><title>{escape(tip)}</title>'
                f'<text x="{x(r["trial"]):.1f}" y="{H - PAD_B - 2}" text-anchor="middle" fill="{BAD}">×</text>'
                "</g>"
            )
        else:
            body.append(
                f'<circle data-trial="{r["trial"]}" class="trial" cx="{x(r["trial"]):.1f}" '
                f'cy="{y(r["value"]):.1f}" r="4" fill="{INK}" fill-opacity="0.55">'
                f"<title>{escape(tip)}: {_fmt(r['value'])}</title></circle>"
            )
    return _doc(body, title)


def importance_svg(imp: Importance) -> str:
    """Horizontal bars, largest first."""
    title = f"parameter importance (fANOVA, {imp.trials} trials)"
    if not imp.scores:
        return _empty(title, imp.note or "no importance yet")
    rows = list(imp.scores.items())
    height = PAD_T + 26 * len(rows) + 30
    top = max(imp.scores.values()) or 1.0
    bar = W - PAD_R - 170
    body = []
    for i, (name, score) in enumerate(rows):
        yy = PAD_T + 8 + 26 * i
        body.append(
            f'<text x="150" y="{yy + 13}" text-anchor="end" fill="{INK}">{escape(name)}</text>'
            f'<rect class="bar" x="158" y="{yy}" width="{max(1.0, bar * score / top):.1f}" height="18" '
            f'fill="{ACCENT}"><title>{escape(name)}: {score:.3f}</title></rect>'
            f'<text x="{162 + bar * score / top:.1f}" y="{yy + 13}" fill="{INK}">{score:.2f}</text>'
        )
    if imp.note:
        body.append(f'<text x="{PAD_L}" y="{height - 8}" fill="{MUTED}">{escape(imp.note)}</text>')
    return _doc(body, title, height)


def _color(t: float) -> str:
    """A blue (worst) to orange (best) ramp."""
    a, b = (37, 99, 235), (234, 88, 12)
    r, g, bl = (round(a[i] + (b[i] - a[i]) * t) for i in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def parallel_svg(data: dict[str, Any], metric: str, direction: str) -> str:
    """Parallel coordinates: one axis per parameter, one line per complete trial, colored by value."""
    title = f"parallel coordinates ({metric}: orange is better, by rank)"
    axes, lines = data["axes"], data["lines"]
    if not lines:
        return _empty(title, "no complete trial yet")
    n = len(axes)
    xs = [PAD_L + 40 + i * (W - PAD_L - PAD_R - 80) / max(1, n - 1) for i in range(n)] if n > 1 else [W / 2]
    y = _Scale(0.0, 1.0, H - PAD_B, PAD_T + 10)
    body = []
    # colour by rank, not by value: one outlier must not paint every other line the same
    ordered = sorted(lines, key=lambda ln: ln["value"] if direction == "maximize" else -ln["value"])
    for rank, ln in enumerate(ordered):  # best drawn last, on top
        t = rank / max(1, len(ordered) - 1)
        pts = [
            f"{xs[i]:.1f},{y(pos):.1f}" for i, a in enumerate(axes) if (pos := ln["points"].get(a["name"])) is not None
        ]
        body.append(
            f'<polyline data-trial="{ln["trial"]}" class="trial" points="{" ".join(pts)}" fill="none" '
            f'stroke="{_color(t)}" stroke-width="1.6" stroke-opacity="0.8">'
            f"<title>#{ln['trial']}: {_fmt(ln['value'])}</title></polyline>"
        )
    for i, a in enumerate(axes):
        body.append(
            f'<line x1="{xs[i]:.1f}" y1="{y(0):.1f}" x2="{xs[i]:.1f}" y2="{y(1):.1f}" stroke="{INK}"/>'
            f'<text x="{xs[i]:.1f}" y="{H - 12}" text-anchor="middle" font-weight="bold" fill="{INK}">'
            f"{escape(a['name'])}</text>"
        )
        for pos, label in a["ticks"]:
            body.append(f'<text x="{xs[i] + 4:.1f}" y="{y(pos) + 4:.1f}" fill="{MUTED}">{escape(label)}</text>')
    return _doc(body, title)


def curves_svg(curves: dict[int, list[tuple[float, float]]], metric: str, *, highlight: int | None = None) -> str:
    """Learning curves: the objective by step, one line per trial (``highlight`` drawn bold)."""
    title = f"learning curves ({metric})" if highlight is None else f"trial #{highlight}: {metric} by step"
    pts = [p for c in curves.values() for p in c]
    if not pts:
        return _empty(title, "no intermediate reports yet")
    x = _Scale(min(p[0] for p in pts), max(p[0] for p in pts), PAD_L + 8, W - PAD_R - 8)
    y = _Scale(min(p[1] for p in pts), max(p[1] for p in pts), H - PAD_B - 6, PAD_T + 6)
    body = _axes(x, y, "step", metric)
    for number, c in sorted(curves.items(), key=lambda kv: kv[0] == highlight):
        bold = number == highlight
        d = " ".join(("M" if i == 0 else "L") + f"{x(s):.1f},{y(v):.1f}" for i, (s, v) in enumerate(c))
        color, width = (ACCENT, 2.5) if bold or highlight is None else (MUTED, 1.2)
        body.append(
            f'<path data-trial="{number}" class="trial" d="{d}" fill="none" stroke="{color}" '
            f'stroke-width="{width}" stroke-opacity="0.85"><title>#{number}</title></path>'
        )
        if len(c) == 1:
            body.append(
                f'<circle data-trial="{number}" cx="{x(c[0][0]):.1f}" cy="{y(c[0][1]):.1f}" r="3" '
                f'fill="{color}"><title>#{number}</title></circle>'
            )
    return _doc(body, title)
