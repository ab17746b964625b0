"""Objective functions for the executor contract suite; each runs under both executors.

They report through ``_emit``, which picks the fake's in-process channel or the real helper, so one
function serves both ``InProcessExecutor`` and ``LocalExecutor`` (through ``run_function.py``).
"""

from __future__ import annotations

import time
from typing import Any

from sandbox import fake
from sandbox.report import report, should_stop


def _emit(step: int, **metrics: Any) -> None:
    if fake.current_trial_id() is not None:
        fake.fake_report(step=step, **metrics)
    else:
        report(step=step, **metrics)


def _stopping() -> bool:
    return fake.fake_should_stop() if fake.current_trial_id() is not None else should_stop()


def steps(params: dict[str, Any]) -> float:
    """Reports ``score`` = step/10 for ``n`` steps, then returns the last one."""
    n = int(params.get("n", 3))
    for i in range(n):
        _emit(i, score=i / 10)
    return (n - 1) / 10


def boom(params: dict[str, Any]) -> float:
    raise ValueError("boom from the trial")


def sleeper(params: dict[str, Any]) -> dict[str, float]:
    """Runs ``seconds`` unless asked to stop; reports once so a test knows it is running."""
    _emit(0, score=0.0)
    end = time.monotonic() + float(params.get("seconds", 60))
    while time.monotonic() < end and not _stopping():
        time.sleep(0.01)
    return {"score": 1.0}
