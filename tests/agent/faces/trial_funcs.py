"""Objectives for the steering, chat and web tests (run by the in-process fake executor or a subprocess)."""

from __future__ import annotations

import time
from typing import Any


def slow_quadratic(params: dict[str, Any]) -> dict[str, float]:
    """A few reported steps, 0.03 s apart, so tests can steer while trials run."""
    from sandbox.fake import fake_report, fake_should_stop

    value = 0.0
    for step in range(3):
        time.sleep(0.03)
        if fake_should_stop():
            break
        value = -((params["x"] - 0.3) ** 2) - 0.01 * (2 - step)
        fake_report(step=step, y=value)
    return {"y": value}
