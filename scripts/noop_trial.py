"""The trivial objective of the throughput benchmark (kept alone so a trial imports almost nothing)."""

from __future__ import annotations

from typing import Any


def noop(params: dict[str, Any]) -> float:
    return 1.0
