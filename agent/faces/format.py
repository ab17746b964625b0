"""Plain-text formatting of values and params, shared by the terminal, the chat and the CLI."""

from __future__ import annotations

from typing import Any


def fmt_value(v: float | None) -> str:
    return "-" if v is None else f"{v:.6g}"


def fmt_params(params: dict[str, Any], width: int = 70) -> str:
    parts = []
    for k, v in params.items():
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    text = " ".join(parts)
    return text if len(text) <= width else text[: width - 3] + "..."
