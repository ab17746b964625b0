"""Plain-text formatting of values, params and durations, shared by the terminal, the chat and the CLI.

One precision everywhere a person reads numbers: an objective value with 6 significant digits
(``fmt_value``), a parameter with 4 (``fmt_param``) in the compact one-line lists (trial lines, tables,
the running trials); the one-trial views (``best``, ``show DIR N``) print params exactly, for copying.
A list that does not fit drops whole parameters (``+2 more``), never the middle of a number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.core.durations import duration_text

__all__ = ["clock_time", "cost_text", "fmt_duration", "fmt_param", "fmt_params", "fmt_value"]


def fmt_value(v: float | None) -> str:
    return "-" if v is None else f"{v:.6g}"


def fmt_param(v: Any) -> str:
    """One parameter value: floats with 4 significant digits, the rest as written."""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def fmt_params(params: dict[str, Any], width: int = 70) -> str:
    """``k=v`` pairs within ``width`` characters. What does not fit is dropped whole, named by a count
    (``lr=0.001 depth=4 +2 more``); the first pair is always shown whole, except a long string value."""
    parts = [f"{k}={fmt_param(v)}" for k, v in params.items()]
    if not parts:
        return ""
    first = next(iter(params.values()))
    if len(parts[0]) > width and isinstance(first, str):  # a long choice is cut; a number never
        parts[0] = parts[0][: max(1, width - 1)] + "…"
    shown = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        rest = len(parts) - i - 1
        suffix = f" +{rest} more" if rest else ""
        if len(" ".join([*shown, part])) + len(suffix) > width:
            break
        shown.append(part)
    left = len(parts) - len(shown)
    return " ".join(shown) + (f" +{left} more" if left else "")


def fmt_duration(seconds: float | None) -> str:
    """A duration as people write it: ``0.4s``, ``12.3s``, ``2m``, ``2m05s``, ``1h30m`` ("" for None)."""
    return "" if seconds is None else duration_text(seconds)


def clock_time(timestamp: float | None) -> str:
    """A wall-clock time in the local zone, to the second (``2026-11-26 12:00:03``); "-" for None."""
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def cost_text(usage: dict[str, Any]) -> str:
    """An LLM cost as people read it: dollars when every call had a price, ``unknown`` when none had."""
    cost = float(usage.get("cost", 0.0) or 0.0)
    if usage.get("cost_known", True):
        return f"${cost:.4f}"
    if cost > 0:
        return f"at least ${cost:.4f} (some calls have no price; add one under llm.prices)"
    return "cost unknown (no price for this model; add one under llm.prices)"
