"""Trial functions for the Ray executor tests (they run on Ray nodes through run_function.py)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from sandbox.report import report, should_stop


def waiter(params: dict[str, Any]) -> float:
    """Reports, then waits for ``params['release']`` to exist; writes artifacts and logs; reports again."""
    report(step=0, score=0.0, pid=os.getpid())
    release = Path(params["release"])
    end = time.monotonic() + 60
    while not release.exists() and time.monotonic() < end and not should_stop():
        time.sleep(0.05)
    trial_dir = Path(os.environ["TUNESMITH_TRIAL_DIR"])
    (trial_dir / "model.txt").write_text(f"weights of {params['name']}\n")
    (trial_dir / "plots").mkdir(exist_ok=True)
    (trial_dir / "plots" / "curve.csv").write_text("step,score\n0,0\n1,1\n")
    print(f"hello from {params['name']}")
    print("a warning on stderr", file=sys.stderr)
    report(step=1, score=1.0)
    return 1.0


def sleeper(params: dict[str, Any]) -> float:
    """Reports its pid, then runs ``seconds`` unless asked to stop (ignores nothing)."""
    report(step=0, score=0.0, pid=os.getpid())
    end = time.monotonic() + float(params.get("seconds", 60))
    while time.monotonic() < end and not should_stop():
        time.sleep(0.02)
    return 0.5


def curve(params: dict[str, Any]) -> float:
    """``score`` rises towards ``x`` over ``steps`` steps; stops when asked."""
    x = float(params["x"])
    score = 0.0
    for step in range(1, int(params.get("steps", 6)) + 1):
        score = x * (1 - 0.5**step)
        report(step=step, score=score)
        time.sleep(float(params.get("pause", 0.05)))
        if should_stop():
            break
    return score
