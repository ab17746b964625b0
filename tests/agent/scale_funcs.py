"""Objectives for the scale tests (pruning, agent stops, GPUs), run by the in-process fake executor."""

from __future__ import annotations

import os
import time
from typing import Any

from sandbox import fake


def curve(params: dict[str, Any]) -> float:
    """``y`` rises towards ``x`` over ``steps`` steps (better x, better curve); stops when asked."""
    x = float(params["x"])
    steps = int(params.get("steps", 9))
    y = 0.0
    for step in range(1, steps + 1):
        y = x * (1 - 0.5**step)
        fake.fake_report(step=step, y=y)
        time.sleep(float(params.get("pause", 0.002)))
        if fake.fake_should_stop():
            break
    return y


def slow(params: dict[str, Any]) -> float:
    """Reports once, then runs ``seconds`` unless stopped."""
    fake.fake_report(step=0, y=0.0)
    end = time.monotonic() + float(params.get("seconds", 30))
    while time.monotonic() < end and not fake.fake_should_stop():
        time.sleep(0.01)
    return 1.0


def gpu_echo(params: dict[str, Any]) -> dict[str, float]:
    """Holds its slot ``seconds`` and reports when it ran."""
    start = time.time()
    time.sleep(float(params.get("seconds", 0.3)))
    return {"y": float(params["x"]), "start": start, "end": time.time(), "pid": float(os.getpid())}
