"""Building blocks of the study's SVG plots: the document, scales (linear or log), axes, colours, legends.

Contract shared by every plot (svgplot*.py): a plot is one self-contained ``<svg>`` with a ``viewBox`` and
``width="100%"`` (it scales to its box, keeping its aspect), ``role="img"`` and an ``aria-label`` that
names it; all text is XML-escaped; no script, font or file from anywhere. A plot is drawn for a width in
user units (``W`` unless asked; the page asks for about its box's width, so text stays readable on a phone)
and lays itself out for it: its legend moves below the title where both do not fit.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

W, H = 640, 300  # the default size; every plot takes a width (MIN_W to MAX_W) and keeps its height
MIN_W, MAX_W = 360, 1200
PAD_L, PAD_R, PAD_T, PAD_B = 64, 18, 30, 40
TITLE_CHAR, LABEL_CHAR = 7.4, 6.2  # rough advance per character of the title (13px bold) and labels (11px)
LEGEND_ROW, TITLE_ROW, NOTE_ROW = 18, 16, 15
INK, MUTED, GRID, ACCENT, BAD = "#1f2937", "#6b7280", "#eef0f3", "#2563eb", "#dc2626"
#: one colour per trial state, the same in every plot and on the page
STATE_COLORS = {
    "complete": "#2563eb",
    "pruned": "#d97706",
    "failed": "#dc2626",
    "timeout": "#7c3aed",
    "cancelled": "#9ca3af",
    "running": "#0891b2",
}


class Legend(NamedTuple):
    """A legend's SVG (drawn right-aligned on the title's row) and its width."""

    svg: str
    width: float


def doc(
    body: Sequence[str],
    title: str,
    height: float = H,
    width: float = W,
    legend: Legend | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The ``<svg>`` around ``body``: ``title`` at the top left (wrapped where it does not fit) and as its
    accessible name, ``legend`` beside the title or, where both do not fit, on a row of its own below it,
    and ``notes`` (sentences, wrapped) in rows under the body. The body is drawn as if the title took one
    row and nothing came below it; the extra rows make the plot taller."""
    rows = [line for n in notes for line in textwrap.wrap(n, max(20, int((width - 24) / LABEL_CHAR)))]
    body = [*body, *(note(line, height + NOTE_ROW * i + 4, 12) for i, line in enumerate(rows))]
    height += NOTE_ROW * len(rows) + (4 if rows else 0)
    lines = textwrap.wrap(title, max(12, int((width - 24) / TITLE_CHAR))) or [title]
    shift = TITLE_ROW * (len(lines) - 1)
    legend_at = shift
    if legend is not None and 12 + TITLE_CHAR * len(lines[-1]) + 16 + legend.width > width - PAD_R:
        legend_at = shift = shift + LEGEND_ROW
    spans = "".join(f'<tspan x="12" dy="{0 if i == 0 else TITLE_ROW}">{escape(t)}</tspan>' for i, t in enumerate(lines))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height + shift:g}" width="100%" '
        f'role="img" aria-label={quoteattr(title)} font-family="sans-serif" font-size="11">',
        f'<rect width="{width:g}" height="{height + shift:g}" fill="#fff"/>',
        f'<text x="12" y="16" font-size="13" font-weight="bold" fill="{INK}">{spans}</text>',
    ]
    if legend is not None:
        parts.append(_moved(legend.svg, legend_at))
    parts.append(_moved("".join(body), shift))
    return "".join(parts) + "</svg>"


def _moved(svg: str, dy: float) -> str:
    return f'<g transform="translate(0 {dy:g})">{svg}</g>' if dy else svg


def empty(title: str, why: str, width: float = W) -> str:
    """A plot with nothing to draw: ``why`` in its middle, in words (wrapped to the width)."""
    return doc([centered(why, width / 2, H / 2, width - 24)], title, H, width)


def centered(text: str, x: float, y: float, room: float) -> str:
    """``text`` centred at (x, y), wrapped into lines that fit ``room`` user units."""
    chars = max(12, int(room / LABEL_CHAR))
    lines = textwrap.wrap(text, chars) or [""]
    spans = "".join(
        f'<tspan x="{x:g}" dy="{0 if i == 0 else 15}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f'<text x="{x:g}" y="{y - 7 * (len(lines) - 1):.1f}" text-anchor="middle" fill="{MUTED}">{spans}</text>'


def note(text: str, y: float, x: float = PAD_L) -> str:
    return f'<text x="{x:g}" y="{y:.1f}" fill="{MUTED}">{escape(text)}</text>'


def fmt(v: float) -> str:
    return f"{v:.4g}"


def clamp_width(width: float) -> float:
    """A plot width the layouts are made for (``MIN_W`` to ``MAX_W``)."""
    return min(MAX_W, max(MIN_W, width))


def fmt_seconds(s: float) -> str:
    """Elapsed time for an axis: ``45s``, ``12.5m``, ``3.2h``."""
    if abs(s) < 120:
        return f"{s:.0f}s"
    if abs(s) < 7200:
        return f"{s / 60:.3g}m"
    return f"{s / 3600:.3g}h"


class Scale:
    """Maps [lo, hi] onto pixels [a, b]; with ``log`` in log10 space (needs lo > 0; ``log_ok`` says)."""

    def __init__(self, lo: float, hi: float, a: float, b: float, *, log: bool = False) -> None:
        if not math.isfinite(lo) or not math.isfinite(hi):
            lo, hi = 0.0, 1.0
        self.log = log and lo > 0
        if self.log:
            lo, hi = math.log10(lo), math.log10(hi)
        if hi - lo < 1e-12:  # one value: a narrow band around it, not an axis from 0 to 1.5 times it
            pad = 0.05 * abs(lo) or 0.5
            lo, hi = lo - pad, hi + pad
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    @staticmethod
    def log_ok(values: Sequence[float]) -> bool:
        return bool(values) and min(values) > 0

    def __call__(self, v: float) -> float:
        if self.log:
            v = math.log10(v) if v > 0 else self.lo
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ticks(self, n: int = 4) -> list[float]:
        """Tick values (in data units): ``n + 1`` evenly spaced, or on a log scale the powers of ten
        inside the range when there are at least two."""
        if self.log:
            decades = [10.0**e for e in range(math.ceil(self.lo - 1e-9), math.floor(self.hi + 1e-9) + 1)]
            if len(decades) >= 2:
                return decades
            return [10 ** (self.lo + i * (self.hi - self.lo) / n) for i in range(n + 1)]
        return [self.lo + i * (self.hi - self.lo) / n for i in range(n + 1)]


def axes(
    x: Scale,
    y: Scale,
    xlabel: str,
    ylabel: str,
    *,
    int_x: bool = True,
    width: float = W,
) -> list[str]:
    """Axis lines, grid, tick labels and axis names of the plotting area of a plot ``width`` wide."""
    left, top, right, bottom = PAD_L, PAD_T, width - PAD_R, H - PAD_B
    out = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{MUTED}"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{MUTED}"/>',
    ]
    for v in y.ticks():
        yy = y(v)
        out.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="{INK}">{fmt(v)}</text>'
            f'<line x1="{left}" y1="{yy:.1f}" x2="{right}" y2="{yy:.1f}" stroke="{GRID}"/>'
        )
    xticks = x.ticks()
    if int_x and not x.log:  # whole numbers only, each once
        first, last = math.ceil(x.lo), math.floor(x.hi)
        step = max(1, math.ceil((last - first) / 6)) if last >= first else 1
        xticks = [float(v) for v in range(first, last + 1, step)]
    for v in xticks:
        label = str(round(v)) if int_x and not x.log else fmt(v)
        out.append(f'<text x="{x(v):.1f}" y="{bottom + 15}" text-anchor="middle" fill="{INK}">{label}</text>')
    out.append(
        f'<text x="{(left + right) / 2}" y="{bottom + 32}" text-anchor="middle" fill="{INK}">{escape(xlabel)}</text>'
    )
    mid = (top + bottom) / 2
    out.append(
        f'<text x="{left - 50}" y="{mid}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 {left - 50} {mid})">{escape(ylabel)}</text>'
    )
    return out


def legend(items: Sequence[tuple[str, str]], *, width: float = W, line: bool = False) -> Legend:
    """Swatches with labels on one row, right-aligned in a plot ``width`` wide (a line swatch with ``line``)."""
    widths = [16 + LABEL_CHAR * len(label) + 10 for label, _ in items]
    x = max(12.0, width - PAD_R - sum(widths))  # never starts left of the drawing
    y = 12
    out = []
    for (label, color), w in zip(items, widths, strict=True):
        swatch = (
            f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 12:.1f}" y2="{y:.1f}" stroke="{color}" stroke-width="2.5"/>'
            if line
            else f'<rect x="{x:.1f}" y="{y - 5:.1f}" width="10" height="10" rx="2" fill="{color}"/>'
        )
        out.append(f'{swatch}<text x="{x + 16:.1f}" y="{y + 4:.1f}" fill="{INK}">{escape(label)}</text>')
        x += w
    return Legend(f'<g class="legend">{"".join(out)}</g>', sum(widths))


def ramp(t: float) -> str:
    """A blue (t=0, worse) to orange (t=1, better) colour."""
    a, b = (37, 99, 235), (234, 88, 12)
    t = min(1.0, max(0.0, t))
    r, g, bl = (round(a[i] + (b[i] - a[i]) * t) for i in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def ramp_legend(worse: str, better: str, *, width: float = W) -> Legend:
    """A small colour bar from ``worse`` (blue) to ``better`` (orange), right-aligned like ``legend``."""
    bar, y = 90, 12
    label_w = LABEL_CHAR * len(better) + 6
    x0 = width - PAD_R - label_w - bar
    cells = "".join(
        f'<rect x="{x0 + i * bar / 12:.1f}" y="{y - 5:.1f}" width="{bar / 12 + 0.4:.1f}" height="10" '
        f'fill="{ramp(i / 11)}"/>'
        for i in range(12)
    )
    svg = (
        f'<g class="legend"><text x="{x0 - 4:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">{escape(worse)}'
        f'</text>{cells}<text x="{x0 + bar + 4:.1f}" y="{y + 4:.1f}" fill="{INK}">{escape(better)}</text></g>'
    )
    return Legend(svg, bar + label_w + LABEL_CHAR * len(worse) + 6)


def shorten(text: str, chars: int) -> str:
    """``text`` cut to ``chars`` characters with an ellipsis (the full text goes in a ``<title>``)."""
    return text if len(text) <= chars else text[: max(1, chars - 1)] + "…"
